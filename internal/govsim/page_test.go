package govsim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

var (
	asClerk = web.Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 7, Unit: 3, Roles: authz.RolesOf(authz.Clerk)},
		Username: "consular.clerk", Name: "Đặng Thị Hồng Nhung", Stage: "full"}
	asCitizen = web.Principal{Subject: authz.Subject{Kind: authz.Citizen, ID: 1}, Username: "citizen@example.com", Name: "Nguyễn Thị Lan", Stage: "full"}
	asNobody  = web.Principal{}
)

// console is the page behind Chancery's router, as the app wires it.
type console struct {
	srv *Server
	rt  *web.Router
	// shell is the pages' layout and catalogue.
	shell *web.Shell
}

func newConsole(tb testing.TB) console {
	tb.Helper()
	srv := startServer(tb)
	// The page shows what was received, however it arrived; the test's
	// updates bypass HTTP to carry times of its choosing.
	srv.nationalPortal.now = fixedClock
	shell := webtest.Shell(tb, Texts())
	h, err := NewHandler(srv, shell)
	if err != nil {
		tb.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return console{srv: srv, rt: rt, shell: shell}
}

func (c console) get(p web.Principal, target string) *httptest.ResponseRecorder {
	return webtest.Get(c.shell, c.rt, p, target)
}

const (
	dossierA = "000.00.03.G12-250301-0007"
	dossierB = "000.01.02.G12-250304-0012"
)

func receiveFixtures(p *NationalPortal) {
	p.receive(StatusUpdate{DossierCode: dossierA, ProcedureCode: "1.000487", Status: 2, StatusName: "Được tiếp nhận", Channel: Online,
		UpdatedAt: time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC), AgencyCode: "000.00.03.G12"})
	p.receive(StatusUpdate{DossierCode: dossierB, ProcedureCode: "2.001234", Status: 6, StatusName: "Chờ nộp lệ phí", Channel: Postal,
		UpdatedAt: time.Date(2025, 3, 4, 8, 30, 0, 0, time.UTC), AgencyCode: "000.01.02.G12"})
	p.receive(StatusUpdate{DossierCode: dossierA, ProcedureCode: "1.000487", Status: 4, StatusName: "Đang xử lý", Channel: Online,
		Paid: true, PaidOnline: true, UpdatedAt: time.Date(2025, 3, 5, 3, 15, 0, 0, time.UTC), AgencyCode: "000.00.03.G12"})
}

func TestNationalPortalPageListsTheUpdatesReceived(t *testing.T) {
	c := newConsole(t)
	receiveFixtures(c.srv.NationalPortal())
	w := c.get(asClerk, NationalPortalPagePath)
	webtest.PageHas(t, w, http.StatusOK,
		"<h1>Trình mô phỏng Cổng Dịch vụ công quốc gia</h1>",
		`<span class="badge">Trình mô phỏng</span>`,
		"không phải Cổng Dịch vụ công quốc gia thật",
		"<code>POST "+c.srv.NationalPortalURL()+"/v1/dossier-statuses</code>",
		"3 cập nhật (tối đa 10000;",
		`<label for="govsim-dossier_code">Mã hồ sơ</label>`,
		`<time datetime="2025-03-05T03:15:00Z">05/03/2025 10:15:00</time>`,
		`<time datetime="2025-03-10T09:00:00Z">10/03/2025 16:00:00</time>`,
		`<span class="badge">4 · Đang xử lý</span></td>`,
		"Đã nộp trực tuyến", "Trực tuyến", "Qua dịch vụ bưu chính công ích", "Chưa nộp",
		// The sender's own name of a status is shown where it differs.
		`<span class="badge">6 · Yêu cầu thực hiện nghĩa vụ tài chính</span> <span class="muted">Chờ nộp lệ phí</span>`,
	)
	body := w.Body.String()
	if strings.Index(body, "05/03/2025 10:15:00") > strings.Index(body, "01/03/2025 09:00:00") {
		t.Error("the newest update is not listed first")
	}
	webtest.PageHas(t, c.get(asClerk, NationalPortalPagePath+"?lang=en"), http.StatusOK,
		"<h1>National Public Service Portal simulator</h1>", "not the real National Public Service Portal",
		"4 · In progress", "Paid online", "By public postal service")
}

func TestNationalPortalPageFiltersByDossier(t *testing.T) {
	c := newConsole(t)
	receiveFixtures(c.srv.NationalPortal())
	w := c.get(asClerk, NationalPortalPagePath+"?dossier_code="+dossierB)
	webtest.PageHas(t, w, http.StatusOK, `value="`+dossierB+`"`, "<code>"+dossierB+"</code>", "Bỏ lọc")
	if strings.Contains(w.Body.String(), "<code>"+dossierA+"</code>") {
		t.Errorf("the filter for %s shows %s", dossierB, dossierA)
	}
	webtest.PageHas(t, c.get(asClerk, NationalPortalPagePath+"?dossier_code=000.00.03.G12-250301-0099"), http.StatusOK, "Không có cập nhật nào cho hồ sơ này.")

	w = c.get(asClerk, NationalPortalPagePath+"?dossier_code=HN-250301-7")
	webtest.PageHas(t, w, http.StatusUnprocessableEntity,
		`value="HN-250301-7" aria-describedby="govsim-dossier_code-hint govsim-dossier_code-error" aria-invalid="true"`,
		`<p class="field-error" id="govsim-dossier_code-error">Mã hồ sơ phải có dạng {mã cơ quan}-{yymmdd}-{số thứ tự}.</p>`)
	if strings.Contains(w.Body.String(), "<table") || strings.Contains(w.Body.String(), "Không có cập nhật") {
		t.Error("a refused filter still lists or counts updates")
	}
}

func TestNationalPortalPageShowsTheNewestAndSaysHowManyMore(t *testing.T) {
	c := newConsole(t)
	webtest.PageHas(t, c.get(asClerk, NationalPortalPagePath), http.StatusOK, "Trình mô phỏng chưa nhận được cập nhật nào.")
	for i := range pageRows + 5 {
		c.srv.NationalPortal().receive(StatusUpdate{DossierCode: fmt.Sprintf("000.00.03.G12-250301-%d", i), ProcedureCode: "1.000487",
			Status: 1, StatusName: "Mới đăng ký", Channel: InPerson, UpdatedAt: testNow, AgencyCode: "000.00.03.G12"})
	}
	w := c.get(asClerk, NationalPortalPagePath)
	webtest.PageHas(t, w, http.StatusOK, fmt.Sprintf("Hiển thị %d cập nhật mới nhất trong số %d.", pageRows, pageRows+5),
		fmt.Sprintf("<code>000.00.03.G12-250301-%d</code>", pageRows+4))
	if n := strings.Count(w.Body.String(), "<tr>") - 1; n != pageRows {
		t.Errorf("%d rows, want %d", n, pageRows)
	}
	if strings.Contains(w.Body.String(), "<code>000.00.03.G12-250301-4</code>") {
		t.Error("the page shows an update older than the newest 200")
	}
}

func TestNationalPortalPageIsForStaff(t *testing.T) {
	c := newConsole(t)
	access := map[string]string{}
	for _, r := range c.rt.Routes() {
		access[r.Pattern] = r.Access.String()
	}
	if len(access) != 2 || access["GET "+NationalPortalPagePath] != "staff:service:read" || access["GET "+PopulationPagePath] != "staff:audit_event:read" {
		t.Fatalf("routes %v, want the portal's page for staff:service:read and the population's access log for staff:audit_event:read", access)
	}
	if w := c.get(asNobody, NationalPortalPagePath); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/console/login") {
		t.Errorf("anonymous: %d to %q, want 303 to sign in", w.Code, w.Header().Get("Location"))
	}
	if w := c.get(asCitizen, NationalPortalPagePath); w.Code != http.StatusForbidden {
		t.Errorf("citizen: %d, want 403", w.Code)
	}
}

// TestEveryStatusChannelAndFeeHasACatalogueText covers the keys the page
// builds from codes, which TestEveryTemplateKeyIsInTheCatalogue cannot see.
func TestEveryStatusChannelAndFeeHasACatalogueText(t *testing.T) {
	for status := 1; status <= 10; status++ {
		for _, ch := range []Channel{InPerson, Online, Postal} {
			for _, paid := range [][2]bool{{false, false}, {true, false}, {true, true}} {
				row := newUpdateRow(StatusUpdate{Status: status, Channel: ch, Paid: paid[0], PaidOnline: paid[1]})
				for _, key := range []string{row.StatusKey, row.ChannelKey, row.PaidKey} {
					if !texts.Has(key) {
						t.Errorf("no catalogue text %q", key)
					}
				}
			}
		}
	}
}

// TestPopulationPageShowsTheAccessLogToAuditorsOnly pins the console's
// view of the population database's access log: who asked, for whom and
// why, shown to those who read the audit ledger and to nobody else.
func TestPopulationPageShowsTheAccessLogToAuditorsOnly(t *testing.T) {
	c := newConsole(t)
	c.srv.population.record(Lookup{At: fixedClock(), Client: "VN/GOV/000.00.00.G12/procedures", EndUser: "citizen:7",
		Purpose: "prefill of the citizen's own application for procedure 1.900001", IDNumber: "001188004215", Found: true})
	auditor := web.Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 9, Unit: 3, Roles: authz.RolesOf(authz.Auditor)}, Username: "auditor", Stage: "full"}
	rec := c.get(auditor, PopulationPagePath)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "citizen:7") || !strings.Contains(body, "procedure 1.900001") || !strings.Contains(body, "001188004215") {
		t.Errorf("the auditor's view = %d, lacking the end user, purpose or number", rec.Code)
	}
	if rec := c.get(asClerk, PopulationPagePath); rec.Code != http.StatusForbidden {
		t.Errorf("a clerk's view of the access log = %d, want 403", rec.Code)
	}
}
