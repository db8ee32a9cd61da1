package procedures

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// publicCSRF is the double-submit token the test browser holds.
const publicCSRF = "test-csrf-token-0123456789abcdefghijklmnop"

// publicSite is the public site as a browser meets it: the procedures' routes
// behind the middleware the app puts in front of them (language, the
// signed-in principal, the audit origin, CSRF), with a payment gateway
// that records the checkouts it is asked for.
type publicSite struct {
	*fixture
	h http.Handler

	mu        sync.Mutex
	checkouts []string // the return URLs the gateway was given
}

func newPublicSite(t testing.TB, db *store.DB) *publicSite {
	t.Helper()
	s := &publicSite{fixture: newFixture(t, db)}
	shell := webtest.Shell(t, Texts(), identity.Texts())
	h, err := NewHandler(shell, HandlerOptions{Service: s.svc, Checkout: func(_ context.Context, o PaymentOrder, returnURL string) (string, error) {
		s.mu.Lock()
		s.checkouts = append(s.checkouts, returnURL)
		s.mu.Unlock()
		return "https://pay.example/checkout/" + url.PathEscape(o.ID), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	s.h = web.Chain(rt, shell.Language, s.signIn, audit.RequestOrigin, web.CSRF("chancery_session"))
	return s
}

// signIn puts the subject named by the test's X-Test-As header on the
// request, as the app's session middleware would.
func (s *publicSite) signIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sub authz.Subject
		switch r.Header.Get("X-Test-As") {
		case "citizen":
			sub = s.citizen
		case "other":
			sub = s.other
		case "clerk":
			sub = s.clerk
		case "admin":
			// An administrator of the node, who reads the catalogue's notes.
			sub = authz.Subject{Kind: authz.Staff, ID: 9000, Unit: s.units["000.00.00.G12"], Roles: authz.RolesOf(authz.Administrator)}
		}
		if sub.Authenticated() {
			r = r.WithContext(web.WithPrincipal(r.Context(), web.Principal{Subject: sub, Stage: "full", Name: "test"}))
		}
		next.ServeHTTP(w, r)
	})
}

// do sends a request as who ("" for nobody) from a page of the site.
func (s *publicSite) do(t testing.TB, who, method, target, contentType string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("X-Test-As", who)
	req.AddCookie(&http.Cookie{Name: web.CSRFCookie, Value: publicCSRF})
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		if key := rawKey.FindString(rec.Body.String()); key != "" {
			t.Errorf("%s %s shows the catalogue key %s instead of its text", method, target, key)
		}
	}
	return rec
}

// rawKey matches a catalogue key shown as it is: a text the catalogue
// lacks.
var rawKey = regexp.MustCompile(`\bprocedures\.[a-z_]+\.[a-z0-9_.]+`)

func (s *publicSite) get(t testing.TB, who, target string) *httptest.ResponseRecorder {
	return s.do(t, who, http.MethodGet, target, "", nil)
}

// post sends a form with the page's CSRF token.
func (s *publicSite) post(t testing.TB, who, target string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	form = cloneValues(form)
	form.Set(web.CSRFField, publicCSRF)
	return s.do(t, who, http.MethodPost, target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

// upload posts a file for a document of a draft, as the page's form does.
func (s *publicSite) upload(t testing.TB, who, draftID, document, name, declared string, content []byte) *httptest.ResponseRecorder {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField(web.CSRFField, publicCSRF)
	mw.WriteField("document", document)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	hdr.Set("Content-Type", declared)
	part, err := mw.CreatePart(hdr)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(content)
	mw.Close()
	return s.do(t, who, http.MethodPost, "/applications/"+draftID+"/attachments", mw.FormDataContentType(), &b)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// formValuesOf writes a form document as the HTML form submits it: names
// joined by dots, every value as text.
func formValuesOf(form map[string]any, prefix string, into url.Values) url.Values {
	for k, v := range form {
		if sub, ok := v.(map[string]any); ok {
			formValuesOf(sub, prefix+k+".", into)
			continue
		}
		into.Set(prefix+k, formString(v))
	}
	return into
}

// page returns a response's body with HTML entities decoded, to search
// for text as a reader sees it.
func page(rec *httptest.ResponseRecorder) string { return html.UnescapeString(rec.Body.String()) }

// addCatalogueUnits puts every unit in Viet Nam that the catalogue names
// into the directory, so every procedure can be applied for.
func (s *publicSite) addCatalogueUnits(t testing.TB) {
	t.Helper()
	now := time.Now().UTC()
	for _, p := range s.svc.Catalogue().Procedures() {
		for _, u := range p.Units {
			if _, ok := s.units[u.AgencyCode]; ok {
				continue
			}
			var id int64
			if err := s.db.QueryRowContext(context.Background(), s.db.Rebind(`INSERT INTO units (code, name_vi, name_en, kind, country, timezone, created_at, updated_at)
				VALUES (?, ?, ?, 'department', 'VN', 'Asia/Ho_Chi_Minh', ?, ?) RETURNING id`), u.AgencyCode, u.NameVI, u.NameEN, now, now).Scan(&id); err != nil {
				t.Fatal(err)
			}
			s.units[u.AgencyCode] = id
		}
	}
}

// applyTarget returns the unit a test applies to for p.
func (s *publicSite) applyTarget(p *Procedure) string {
	if len(p.Units) > 0 {
		return p.Units[0].AgencyCode
	}
	return parisCode
}

// location returns the path of a redirect, without its query.
func location(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303; body:\n%s", rec.Code, rec.Body.String())
	}
	u, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

func TestCatalogueSearchAndFilters(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		cat := s.svc.Catalogue()
		tests := []struct {
			name, query string
			want        func(p *Procedure) bool
		}{
			{"without diacritics", "q=ho+chieu", func(p *Procedure) bool {
				return strings.Contains(strings.ToLower(p.NameVI), "hộ chiếu")
			}},
			{"with diacritics", "q=" + url.QueryEscape("hộ chiếu"), func(p *Procedure) bool {
				return strings.Contains(strings.ToLower(p.NameVI), "hộ chiếu")
			}},
			{"at missions", "where=mission", func(p *Procedure) bool { return p.AtMissions }},
			{"in Viet Nam", "where=home", func(p *Procedure) bool { return len(p.Units) > 0 }},
			{"by field", "field=" + cat.Fields()[0].Code, func(p *Procedure) bool { return p.Field.Code == cat.Fields()[0].Code }},
			{"unknown place", "where=moon", func(*Procedure) bool { return false }},
			{"fully online", "level=full", func(p *Procedure) bool { return p.Online.Level == OnlineFull }},
			{"partly online", "level=partial", func(p *Procedure) bool { return p.Online.Level == OnlinePartial }},
			{"unknown level", "level=moon", func(*Procedure) bool { return false }},
			{"words and level", "q=ho+chieu&level=full", func(p *Procedure) bool {
				return p.Online.Level == OnlineFull && strings.Contains(strings.ToLower(p.NameVI), "hộ chiếu")
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rec := s.get(t, "", "/services?"+tt.query)
				if rec.Code != http.StatusOK {
					t.Fatalf("status = %d", rec.Code)
				}
				body := page(rec)
				matched := 0
				for _, p := range cat.Procedures() {
					listed := strings.Contains(body, `href="/services/`+p.Code+`"`)
					if listed != tt.want(p) {
						t.Errorf("%s (%s) listed = %v, want %v", p.Code, p.NameVI, listed, !listed)
					}
					if listed {
						matched++
					}
				}
				if tt.name == "without diacritics" && (matched == 0 || !strings.Contains(strings.ToLower(body), "hộ chiếu")) {
					t.Errorf("searching without diacritics found %d procedures, none named Hộ chiếu", matched)
				}
			})
		}
	})
}

func TestProcedurePageShowsNotesToAdministratorsOnlyAndUnknownCodesAre404(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		assumed := texts.T(i18n.VI, "procedures.public.assumed")
		for _, p := range s.svc.Catalogue().Procedures() {
			rec := s.get(t, "", "/services/"+p.Code)
			body := page(rec)
			if rec.Code != http.StatusOK || !strings.Contains(body, p.NameVI) || !strings.Contains(body, `href="/procedures/`+p.Code+`/apply"`) {
				t.Errorf("%s: status %d, or the page lacks its name or the apply button", p.Code, rec.Code)
			}
			// A citizen reads the legal basis in Vietnamese, and nothing
			// the catalogue's administrators have left to check.
			if !strings.Contains(body, p.Basis.SourceVI) || p.Basis.SourceVI == "" {
				t.Errorf("%s: the Vietnamese page lacks the Vietnamese basis %q", p.Code, p.Basis.SourceVI)
			}
			for _, dev := range []string{assumed, p.Basis.Source, "Placeholder", "Replace it", "assumption"} {
				if strings.Contains(body, dev) {
					t.Errorf("%s: a citizen's page shows %q", p.Code, dev)
				}
			}
			if p.AtMissions && !strings.Contains(body, texts.T(i18n.VI, "procedures.public.all_missions")) {
				t.Errorf("%s: the missions are not listed among its units", p.Code)
			}
			for _, d := range p.Documents {
				if !strings.Contains(body, d.NameVI) {
					t.Errorf("%s: document %s missing", p.Code, d.Key)
				}
			}
			if en := page(s.get(t, "", "/services/"+p.Code+"?lang=en")); !strings.Contains(en, p.Basis.Source) {
				t.Errorf("%s: the English page lacks the English basis %q", p.Code, p.Basis.Source)
			}
			admin := page(s.get(t, "admin", "/services/"+p.Code))
			if p.CodeBasis.Assumption && (!strings.Contains(admin, assumed) || !strings.Contains(admin, p.CodeBasis.Note)) {
				t.Errorf("%s: the administrator's page does not mark the assumed code with its note", p.Code)
			}
		}
		if rec := s.get(t, "", "/services/9.999999"); rec.Code != http.StatusNotFound {
			t.Errorf("unknown procedure: status %d, want 404", rec.Code)
		}
		if body := page(s.get(t, "", "/services")); strings.Contains(body, assumed) {
			t.Error("the catalogue shows citizens assumed-value badges")
		}
	})
}

// TestOldCatalogueAddressesLeadToTheServices pins the redirects of the
// catalogue's first addresses and the home page's old tracking tile.
func TestOldCatalogueAddressesLeadToTheServices(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		for from, to := range map[string]string{
			"/procedures":                "/services",
			"/procedures?q=ho+chieu":     "/services?q=ho+chieu",
			"/procedures/1.900001":       "/services/1.900001",
			"/services/track":            "/track",
			"/procedures/%2F%2Fevil.com": "/services/%2F%2Fevil.com",
		} {
			rec := s.get(t, "", from)
			if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != to {
				t.Errorf("GET %s = %d to %q, want 301 to %q", from, rec.Code, rec.Header().Get("Location"), to)
			}
		}
	})
}

// leafNames lists the input names of every field of fs.
func leafNames(fs []FormField) []string {
	var out []string
	for _, f := range fs {
		if f.Type == TypeObject {
			out = append(out, leafNames(f.Fields)...)
			continue
		}
		out = append(out, f.Name)
	}
	return out
}

func TestEveryProcedureFormRendersAndCreatesADraft(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		s.addCatalogueUnits(t)
		if rec := s.get(t, "", "/procedures/1.900001/apply"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/account/login?next=") {
			t.Errorf("anonymous apply: status %d to %q, want 303 to sign in", rec.Code, rec.Header().Get("Location"))
		}
		procs := s.svc.Catalogue().Procedures()
		if len(procs) < 14 {
			t.Fatalf("the catalogue holds %d procedures, want 14", len(procs))
		}
		for _, p := range procs {
			rec := s.get(t, "citizen", "/procedures/"+p.Code+"/apply")
			body := rec.Body.String()
			if rec.Code != http.StatusOK {
				t.Errorf("%s: status %d", p.Code, rec.Code)
				continue
			}
			for _, name := range append(leafNames(p.Form.Fields()), "unit", web.CSRFField) {
				if !strings.Contains(body, `name="`+name+`"`) {
					t.Errorf("%s: no input named %s", p.Code, name)
				}
			}
			values := formValuesOf(example(p.Form.Fields()), "", url.Values{})
			values.Set("unit", s.applyTarget(p))
			rec = s.post(t, "citizen", "/procedures/"+p.Code+"/apply", values)
			if path := location(t, rec); !strings.HasPrefix(path, "/applications/") {
				t.Errorf("%s: a valid form went to %s", p.Code, path)
			}
		}
		if got := s.count(t, "procedure_drafts"); got != len(procs) {
			t.Errorf("drafts = %d, want one per procedure (%d)", got, len(procs))
		}
	})
}

func TestBadApplicationIsSentBackWithMessagesAndCreatesNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		good := formValuesOf(legalizationForm(), "", url.Values{"unit": {consularCode}})
		tests := []struct {
			name   string
			change func(v url.Values)
			// field is the input beside which a message must show (its
			// id's stem), and message the text.
			field, message string
		}{
			{"missing name", func(v url.Values) { v.Del("applicant.full_name") }, "f-applicant-full_name", texts.T(i18n.VI, "procedures.form.required")},
			{"bad e-mail", func(v url.Values) { v.Set("applicant.email", "lan at example") }, "f-applicant-email", texts.T(i18n.VI, "procedures.form.email")},
			{"bad date", func(v url.Values) { v.Set("issue_date", "30/06/2010") }, "f-issue_date", texts.T(i18n.VI, "procedures.form.date")},
			{"unticked declaration", func(v url.Values) { v.Del("declaration") }, "f-declaration", ""},
			{"unit not implementing it", func(v url.Values) { v.Set("unit", parisCode) }, "apply-unit", texts.T(i18n.VI, "procedures.public.apply.unit_invalid")},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := cloneValues(good)
				tt.change(v)
				rec := s.post(t, "citizen", "/procedures/1.900001/apply", v)
				body := page(rec)
				if rec.Code != http.StatusUnprocessableEntity {
					t.Fatalf("status = %d, want 422", rec.Code)
				}
				m := regexp.MustCompile(`<p class="field-error" id="` + tt.field + `-error">([^<]*)</p>`).FindStringSubmatch(body)
				if m == nil || tt.message != "" && m[1] != tt.message {
					t.Errorf("message beside %s = %v, want %q", tt.field, m, tt.message)
				}
				if !strings.Contains(body, `aria-describedby="`) || !strings.Contains(body, tt.field+`-error"`) {
					t.Errorf("the message is not tied to its field")
				}
				if !strings.Contains(body, ">Bằng tốt nghiệp đại học</textarea>") {
					t.Errorf("the values typed were not kept")
				}
			})
		}
		if got := s.count(t, "procedure_drafts"); got != 0 {
			t.Errorf("refused forms created %d drafts", got)
		}
	})
}

// TestPrefillUsesOnlyTheNumberVerifiedOnTheAccount pins issue 10's item
// 5 on the public site: prefilling looked up whatever number was typed, so any
// citizen could read anyone's record. Now the form is filled from the
// number verified on the citizen's own account whatever is typed, and an
// account without one is told so on the page, with no lookup made.
func TestPrefillUsesOnlyTheNumberVerifiedOnTheAccount(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		form := page(s.get(t, "citizen", "/procedures/1.900001/apply"))
		if !strings.Contains(form, `name="prefill"`) || !strings.Contains(form, "••••••••4215") {
			t.Error("the verified citizen's form lacks the prefill button naming the verified number")
		}
		rec := s.post(t, "citizen", "/procedures/1.900001/apply", url.Values{"prefill": {"1"}, "applicant.id_number": {"036079001187"}, "document_name": {"Bằng kỹ sư số 4711"}})
		body := page(rec)
		if rec.Code != http.StatusOK || !strings.Contains(body, `value="Nguyễn Thị Lan"`) || strings.Contains(body, "Trần Văn Minh") {
			t.Errorf("prefill with another's number typed = %d; must fill the account's own record only", rec.Code)
		}
		if !strings.Contains(body, ">Bằng kỹ sư số 4711</textarea>") {
			t.Errorf("prefilling lost what the citizen typed")
		}
		// Everything the database confirms is filled: the number is a
		// citizen identity card's.
		if !strings.Contains(body, `value="`+IDCard+`" checked`) {
			t.Errorf("prefilling left the identity document's type unchosen")
		}
		if q := s.population.queries(); len(q) != 1 || q[0].IDNumber != "001188004215" || q[0].EndUser != fmt.Sprintf("citizen:%d", s.citizen.ID) || q[0].Purpose == "" {
			t.Errorf("the database was asked %+v, want the verified number once, for the citizen, with a purpose", q)
		}

		unverified := page(s.get(t, "other", "/procedures/1.900001/apply"))
		if strings.Contains(unverified, `name="prefill"`) || !strings.Contains(unverified, texts.T(i18n.VI, "procedures.public.prefill.no_verified_id")) {
			t.Error("an account without a verified number must get no prefill button and a note saying why")
		}
		rec = s.post(t, "other", "/procedures/1.900001/apply", url.Values{"prefill": {"1"}, "applicant.id_number": {"001188004215"}})
		if rec.Code != http.StatusConflict || !strings.Contains(page(rec), texts.T(i18n.VI, "procedures.public.prefill.no_verified_id")) || strings.Contains(page(rec), "Nguyễn Thị Lan") {
			t.Errorf("prefill by an unverified account = %d, want 409 saying why, with nobody's record", rec.Code)
		}
		if q := s.population.queries(); len(q) != 1 {
			t.Errorf("the unverified account's prefill reached the database: %+v", q)
		}
		if got := s.count(t, "procedure_drafts"); got != 0 {
			t.Errorf("prefilling created %d drafts", got)
		}
	})
}

// startDraft applies for consular legalization (a fee procedure) as the
// citizen and returns the draft's id.
func (s *publicSite) startDraft(t testing.TB) string {
	t.Helper()
	rec := s.post(t, "citizen", "/procedures/1.900001/apply", formValuesOf(legalizationForm(), "", url.Values{"unit": {consularCode}}))
	return strings.TrimPrefix(location(t, rec), "/applications/")
}

func TestCitizenAppliesUploadsPaysSubmitsAndTracks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		id := s.startDraft(t)
		rec := s.get(t, "citizen", "/applications/"+id)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `href="/applications/`+id+`/pay"`) {
			t.Fatalf("draft page: status %d, or no payment link", rec.Code)
		}
		for _, key := range []string{"identity_copy", "paper", "paper_copy"} {
			if path := location(t, s.upload(t, "citizen", id, key, key+".pdf", "application/pdf", pdfFile)); path != "/applications/"+id {
				t.Fatalf("upload of %s went to %s", key, path)
			}
		}
		rec = s.post(t, "citizen", "/applications/"+id+"/submit", nil)
		if rec.Code != http.StatusConflict || !strings.Contains(page(rec), texts.T(i18n.VI, "procedures.public.submit.unpaid")) {
			t.Fatalf("submitting unpaid: status %d, want 409 with the message", rec.Code)
		}

		rec = s.get(t, "citizen", "/applications/"+id+"/pay")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "https://pay.example/checkout/"+id {
			t.Fatalf("pay: status %d to %q", rec.Code, rec.Header().Get("Location"))
		}
		if len(s.checkouts) != 1 || !strings.HasSuffix(s.checkouts[0], "/applications/"+id+"?paid=1") || !strings.HasPrefix(s.checkouts[0], "http") {
			t.Fatalf("return URLs given to the gateway = %v", s.checkouts)
		}
		d, err := s.svc.Draft(s.as(s.citizen), s.citizen, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Attachments) != 3 {
			t.Fatalf("the draft holds %d files, want 3", len(d.Attachments))
		}
		if err := s.svc.RecordPayment(context.Background(), PaymentReport{TransactionID: "tx-1", OrderID: id, Amount: d.FeeAmount, Currency: d.FeeCurrency, PaidAt: s.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		rec = s.get(t, "citizen", "/applications/"+id+"?paid=1")
		if strings.Contains(rec.Body.String(), `/pay"`) || !strings.Contains(page(rec), texts.T(i18n.VI, "procedures.public.pay.paid")) {
			t.Errorf("after payment the page still offers to pay, or does not say it is paid")
		}

		path := location(t, s.post(t, "citizen", "/applications/"+id+"/submit", nil))
		code := strings.TrimSuffix(strings.TrimPrefix(path, "/dossiers/"), "/receipt")
		ds, err := s.svc.Get(s.as(s.citizen), s.citizen, code)
		if err != nil {
			t.Fatalf("the receipt names %q, which is no dossier: %v", code, err)
		}
		cal, err := s.svc.Calendar(context.Background(), ds.UnitID)
		if err != nil {
			t.Fatal(err)
		}
		due := cal.Date(ds.AppointmentAt)
		appointment := fmt.Sprintf("%02d/%02d/%04d", due.Day, int(due.Month), due.Year)
		rec = s.get(t, "citizen", path)
		body := page(rec)
		for _, want := range []string{code, appointment, `datetime="` + due.String() + `"`, "Nguyễn Thị Lan", "identity_copy.pdf",
			texts.T(i18n.VI, "procedures.public.receipt.heading"), texts.T(i18n.VI, "procedures.public.receipt.paid_online")} {
			if !strings.Contains(body, want) {
				t.Errorf("the receipt lacks %q", want)
			}
		}
		if rec := s.get(t, "clerk", path); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), code) {
			t.Errorf("the unit's clerk gets the receipt with status %d", rec.Code)
		}
		if rec := s.get(t, "", path); rec.Code != http.StatusSeeOther {
			t.Errorf("an anonymous reader of the receipt: status %d, want 303 to sign in", rec.Code)
		}

		pin := pinOnReceipt(t, body)
		rec = s.post(t, "", "/track", url.Values{"code": {code}, "pin": {pin}})
		if rec.Code != http.StatusOK || !strings.Contains(page(rec), texts.T(i18n.VI, StatusRegistered.Key())) || !strings.Contains(page(rec), appointment) {
			t.Errorf("tracking: status %d, or the status or appointment is missing", rec.Code)
		}
		if rec := s.get(t, "citizen", "/my/dossiers"); !strings.Contains(rec.Body.String(), `href="/my/dossiers/`+code+`"`) {
			t.Errorf("the citizen's list lacks %s", code)
		}
		rec = s.get(t, "citizen", "/my/dossiers/"+code)
		if body := page(rec); rec.Code != http.StatusOK || !strings.Contains(body, texts.T(i18n.VI, "procedures.public.entry.submit")) ||
			!strings.Contains(body, `value="`+string(ActRequestWithdrawal)+`"`) {
			t.Errorf("dossier page: status %d, or no history or withdrawal button", rec.Code)
		}
		for _, target := range []string{"/services", "/services/1.900001", "/procedures/1.900001/apply", path, "/track?code=" + code,
			"/my/dossiers", "/my/dossiers/" + code} {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			if rec := s.get(t, "citizen", target+sep+"lang=en"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<html lang="en">`) {
				t.Errorf("GET %s in English: status %d", target, rec.Code)
			}
		}
		att := ds.Attachments[0]
		rec = s.get(t, "citizen", fmt.Sprintf("/my/dossiers/%s/attachments/%d", code, att.ID))
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), pdfFile) || rec.Header().Get("Content-Type") != MediaPDF ||
			rec.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment;") {
			t.Errorf("download: status %d, type %q, disposition %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"))
		}
		// The one id rule (web.ParseID): an id with a sign names no
		// attachment, where strconv.ParseInt took "+5" for 5.
		if rec := s.get(t, "citizen", fmt.Sprintf("/my/dossiers/%s/attachments/+%d", code, att.ID)); rec.Code != http.StatusNotFound {
			t.Errorf("download of attachment +%d: status %d, want 404", att.ID, rec.Code)
		}
	})
}

func TestForgedAndDisallowedUploadsAreRefusedBesideTheInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		id := s.startDraft(t)
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), bytes.Repeat([]byte{0}, 64)...)
		tests := []struct {
			name, file, declared string
			content              []byte
			status               int
		}{
			{"PNG named .pdf", "scan.pdf", "application/pdf", pngFile, http.StatusUnsupportedMediaType},
			{"executable", "setup.exe", "application/x-msdownload", exe, http.StatusUnsupportedMediaType},
			{"empty file", "empty.pdf", "application/pdf", nil, http.StatusBadRequest},
			{"truncated PDF", "cut.pdf", "application/pdf", pdfFile[:20], http.StatusBadRequest},
			{"over the size limit", "big.pdf", "application/pdf", append(append([]byte("%PDF-1.7\n"), make([]byte, MaxAttachmentBytes)...), "\n%%EOF\n"...),
				http.StatusRequestEntityTooLarge},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rec := s.upload(t, "citizen", id, "paper", tt.file, tt.declared, tt.content)
				body := page(rec)
				if rec.Code != tt.status {
					t.Errorf("status = %d, want %d", rec.Code, tt.status)
				}
				if !regexp.MustCompile(`<p class="field-error" id="file-paper-error">[^<]+</p>`).MatchString(body) {
					t.Errorf("no message beside the file input:\n%s", body)
				}
			})
		}
		if rec := s.upload(t, "citizen", id, "no_such_document", "a.pdf", "application/pdf", pdfFile); rec.Code != http.StatusBadRequest {
			t.Errorf("a file for a document the procedure lacks: status %d, want 400", rec.Code)
		}
		d, err := s.svc.Draft(s.as(s.citizen), s.citizen, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Attachments) != 0 {
			t.Errorf("refused uploads left %d files in the draft", len(d.Attachments))
		}
	})
}

func TestAnotherCitizenSeesNeitherDraftNorDossier(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		id := s.startDraft(t)
		ds := s.submitOnline(t)
		att := ds.Attachments[0].ID
		for _, target := range []string{"/applications/" + id, "/applications/" + id + "/pay", "/my/dossiers/" + ds.Code,
			"/dossiers/" + ds.Code + "/receipt", fmt.Sprintf("/my/dossiers/%s/attachments/%d", ds.Code, att), "/my/dossiers/" + ds.Code + "/result"} {
			if rec := s.get(t, "other", target); rec.Code != http.StatusNotFound {
				t.Errorf("GET %s by another citizen: status %d, want 404", target, rec.Code)
			}
		}
		if rec := s.upload(t, "other", id, "paper", "a.pdf", "application/pdf", pdfFile); rec.Code != http.StatusNotFound {
			t.Errorf("upload to another's draft: status %d, want 404", rec.Code)
		}
		for _, target := range []string{"/applications/" + id + "/submit", "/my/dossiers/" + ds.Code + "/actions"} {
			if rec := s.post(t, "other", target, url.Values{"action": {string(ActRequestWithdrawal)}}); rec.Code != http.StatusNotFound {
				t.Errorf("POST %s by another citizen: status %d, want 404", target, rec.Code)
			}
		}
		if got, err := s.svc.Get(s.as(s.citizen), s.citizen, ds.Code); err != nil || got.Status != StatusRegistered {
			t.Errorf("after the other citizen's requests the dossier is %v, %v", got, err)
		}
	})
}

func TestApplicantWithdrawsAndRatesFromTheDossierPage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		ds := s.submitOnline(t)
		if rec := s.post(t, "citizen", "/my/dossiers/"+ds.Code+"/rating", url.Values{"stars": {"5"}}); rec.Code != http.StatusConflict {
			t.Errorf("rating before the result: status %d, want 409", rec.Code)
		}
		rec := s.post(t, "citizen", "/my/dossiers/"+ds.Code+"/actions", url.Values{"action": {string(ActPay)}})
		if rec.Code != http.StatusBadRequest {
			t.Errorf("the applicant's pay action: status %d, want 400", rec.Code)
		}
		location(t, s.post(t, "citizen", "/my/dossiers/"+ds.Code+"/actions", url.Values{"action": {string(ActRequestWithdrawal)}, "note": {"Không cần nữa"}}))
		if got, err := s.svc.Get(s.as(s.citizen), s.citizen, ds.Code); err != nil || got.Status != StatusWithdrawalRequested {
			t.Fatalf("after the withdrawal request: %v, %v", got.Status, err)
		}
		rec = s.post(t, "citizen", "/my/dossiers/"+ds.Code+"/actions", url.Values{"action": {string(ActRequestWithdrawal)}})
		if rec.Code != http.StatusConflict {
			t.Errorf("a second withdrawal request: status %d, want 409", rec.Code)
		}

		done, res := s.returnedDossier(t)
		rec = s.get(t, "citizen", "/my/dossiers/"+done.Code)
		if body := rec.Body.String(); !strings.Contains(body, `name="stars"`) || !strings.Contains(body, `href="/my/dossiers/`+done.Code+`/result"`) {
			t.Errorf("the returned dossier offers no rating or no result download")
		}
		rec = s.get(t, "citizen", "/my/dossiers/"+done.Code+"/result")
		// One shape of a signed result: the file the page downloads is
		// what the API answers, and the API's verification takes it back
		// whole (it once refused the file's fields and object document).
		var file, api ResultFile
		if err := json.Unmarshal(rec.Body.Bytes(), &file); rec.Code != http.StatusOK || err != nil {
			t.Fatalf("result download = %d %s (%v)", rec.Code, rec.Body, err)
		}
		if file.Document != string(res.Raw) || file.Signature != res.Signature || file.Algorithm != "Ed25519" {
			t.Errorf("the downloaded result %+v is not the signed bytes with their signature", file)
		}
		if err := json.Unmarshal(s.get(t, "citizen", "/api/v1/dossiers/"+done.Code+"/result").Body.Bytes(), &api); err != nil || api != file {
			t.Errorf("the API's result %+v (%v) differs from the downloaded file %+v", api, err, file)
		}
		if v := s.do(t, "", http.MethodPost, "/api/v1/results/verify", "application/json", bytes.NewReader(rec.Body.Bytes())); v.Code != http.StatusOK || !strings.Contains(v.Body.String(), `"valid":true`) {
			t.Errorf("verifying the downloaded file = %d %s, want valid", v.Code, v.Body)
		}
		file.Algorithm = "RSA"
		forged, _ := json.Marshal(file)
		if v := s.do(t, "", http.MethodPost, "/api/v1/results/verify", "application/json", bytes.NewReader(forged)); v.Code != http.StatusUnprocessableEntity || !strings.Contains(v.Body.String(), `"algorithm"`) {
			t.Errorf("verifying a result claiming RSA = %d %s, want 422 naming the algorithm", v.Code, v.Body)
		}
		if rec := s.post(t, "citizen", "/my/dossiers/"+done.Code+"/rating", url.Values{"stars": {"9"}}); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("9 stars: status %d, want 422", rec.Code)
		}
		location(t, s.post(t, "citizen", "/my/dossiers/"+done.Code+"/rating", url.Values{"stars": {"4"}}))
		if got, _ := s.svc.Get(s.as(s.citizen), s.citizen, done.Code); got.Rating != 4 {
			t.Errorf("rating = %d, want 4", got.Rating)
		}
	})
}

func TestPublicSitePaysAFeeTheUnitRequested(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		d := s.submitOnline(t)
		s.act(t, s.clerk, d.Code, ActionRequest{Action: ActReceive})
		s.act(t, s.officer, d.Code, ActionRequest{Action: ActAssign})
		if rec := s.get(t, "citizen", "/my/dossiers/"+d.Code+"/pay"); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/my/dossiers/"+d.Code {
			t.Errorf("paying with no fee requested = %d → %s, want back to the dossier", rec.Code, rec.Header().Get("Location"))
		}
		s.act(t, s.officer, d.Code, ActionRequest{Action: ActRequestPayment})
		page := s.get(t, "citizen", "/my/dossiers/"+d.Code).Body.String()
		if !strings.Contains(page, `href="/my/dossiers/`+d.Code+`/pay"`) {
			t.Fatal("the dossier awaiting payment offers no online payment")
		}
		if rec := s.get(t, "other", "/my/dossiers/"+d.Code+"/pay"); rec.Code != http.StatusNotFound {
			t.Errorf("another citizen paying = %d, want 404", rec.Code)
		}
		rec := s.get(t, "citizen", "/my/dossiers/"+d.Code+"/pay")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "https://pay.example/checkout/"+d.Code {
			t.Fatalf("pay = %d → %s", rec.Code, rec.Header().Get("Location"))
		}
		if last := s.checkouts[len(s.checkouts)-1]; !strings.HasSuffix(last, "/my/dossiers/"+d.Code+"?paid=1") {
			t.Errorf("the gateway sends the citizen back to %s", last)
		}
		// The gateway reports the payment under the dossier's code.
		if err := s.svc.RecordPayment(context.Background(), PaymentReport{TransactionID: "T-6", OrderID: d.Code, Amount: d.FeeAmount,
			Currency: d.FeeCurrency, PaidAt: s.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		got, err := s.svc.Get(s.as(s.officer), s.officer, d.Code)
		if err != nil || got.Status != StatusProcessing || !got.PaidOnline {
			t.Errorf("after the payment: status %d, paid online %v, %v", got.Status, got.PaidOnline, err)
		}
	})
}

// supplement posts the supplement form with files for documents.
func (s *publicSite) supplement(t testing.TB, who, code string, files map[string][]byte) *httptest.ResponseRecorder {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField(web.CSRFField, publicCSRF)
	mw.WriteField("note", "Bản dịch công chứng")
	i := 0
	for doc, content := range files {
		i++
		mw.WriteField(fmt.Sprintf("document_%d", i), doc)
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file_%d"; filename="%s.pdf"`, i, doc))
		hdr.Set("Content-Type", MediaPDF)
		part, err := mw.CreatePart(hdr)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(content)
	}
	mw.Close()
	return s.do(t, who, http.MethodPost, "/my/dossiers/"+code+"/supplement", mw.FormDataContentType(), &b)
}

func TestPublicSiteApplicantBringsRequestedDocumentsOnline(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		online := s.submitOnline(t)
		s.act(t, s.clerk, online.Code, ActionRequest{Action: ActReceive})
		if rec := s.supplement(t, "citizen", online.Code, map[string][]byte{"paper": pdf}); rec.Code != http.StatusConflict {
			t.Errorf("supplementing unasked = %d, want 409", rec.Code)
		}
		s.act(t, s.officer, online.Code, ActionRequest{Action: ActRequestDocuments, Reason: "Thiếu bản dịch"})
		if !strings.Contains(s.get(t, "citizen", "/my/dossiers/"+online.Code).Body.String(), `action="/my/dossiers/`+online.Code+`/supplement"`) {
			t.Fatal("the dossier awaiting documents offers no form to bring them")
		}
		for name, files := range map[string]map[string][]byte{
			"no file":           {},
			"a forged file":     {"paper": []byte("MZ\x90\x00 not a pdf")},
			"an unlisted paper": {"selfie": pdf},
		} {
			if rec := s.supplement(t, "citizen", online.Code, files); rec.Code < 400 || rec.Code >= 500 {
				t.Errorf("%s = %d, want a 4xx", name, rec.Code)
			}
		}
		if rec := s.supplement(t, "other", online.Code, map[string][]byte{"paper": pdf}); rec.Code != http.StatusNotFound {
			t.Errorf("another citizen supplementing = %d, want 404", rec.Code)
		}
		// The refused supplements, whose files streamed into storage
		// before the refusal, left none there.
		before, _ := s.svc.Get(s.as(s.officer), s.officer, online.Code)
		if n := s.blobCount(t); n != len(before.Attachments) {
			t.Errorf("after refused supplements, %d files stored for a dossier of %d", n, len(before.Attachments))
		}
		rec := s.supplement(t, "citizen", online.Code, map[string][]byte{"paper": pdf})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("supplement = %d %s", rec.Code, rec.Body)
		}
		after, err := s.svc.Get(s.as(s.officer), s.officer, online.Code)
		if err != nil {
			t.Fatal(err)
		}
		if after.Status != StatusProcessing || len(after.Attachments) != len(before.Attachments)+1 || after.History[len(after.History)-1].Reason != "Bản dịch công chứng" {
			t.Errorf("after the supplement: status %d, files %d → %d, last entry %+v", after.Status, len(before.Attachments), len(after.Attachments), after.History[len(after.History)-1])
		}
	})
}
