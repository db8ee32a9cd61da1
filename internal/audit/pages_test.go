package audit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/console"
	"chancery/internal/i18n"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

func TestSearchPageListsEventsInVietnamTime(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newNode(t, db, fixtureRing(t), audit.Options{})
		fixtureAppend(t, n.l, 0, 60)
		w := n.get(asAuditor, "/console/audit")
		webtest.PageHas(t, w, http.StatusOK,
			"<h1>Nhật ký kiểm toán</h1>",
			`<a href="/console/audit/events/59">59</a>`,
			// event 59 is at 2025-03-01 01:00 UTC + 59 h: 2025-03-03 19:00 in Hà Nội
			`<time datetime="2025-03-03T12:00:00Z">03/03/2025 19:00:00</time>`,
			`<span class="badge level-top_secret">Tuyệt mật</span>`,
			`<span class="badge outcome-failed">Thất bại</span>`,
			`<label for="audit-outcome">Kết quả</label>`,
			`rel="next"`,
		)
		if strings.Contains(w.Body.String(), `/console/audit/events/9"`) {
			t.Error("the first page shows event 9; it holds the newest 50")
		}
		next := regexp.MustCompile(`href="(/console/audit\?[^"]+)" rel="next"`).FindStringSubmatch(w.Body.String())
		if next == nil {
			t.Fatal("no next page link")
		}
		webtest.PageHas(t, n.get(asAuditor, strings.ReplaceAll(next[1], "&amp;", "&")), http.StatusOK, `<a href="/console/audit/events/9">9</a>`)

		filtered := n.get(asAuditor, "/console/audit?outcome=denied&actor=101&lang=en")
		webtest.PageHas(t, filtered, http.StatusOK, `<a href="/console/audit/events/49">49</a>`, `<option value="denied" selected>Denied</option>`)
		if strings.Contains(filtered.Body.String(), `/console/audit/events/50"`) {
			t.Error("the filter let through an event of another outcome")
		}
	})
}

func TestSearchPageShowsBadFiltersBesideTheirField(t *testing.T) {
	n := newNode(t, storetest.MustOpen(t, store.SQLite), fixtureRing(t), audit.Options{})
	fixtureAppend(t, n.l, 0, 3)
	w := n.get(asAuditor, "/console/audit?from=01/03/2025")
	webtest.PageHas(t, w, http.StatusUnprocessableEntity,
		`id="audit-from" name="from" value="01/03/2025" aria-describedby="audit-from-error" aria-invalid="true"`,
		`<p class="field-error" id="audit-from-error">Ngày bắt đầu phải có dạng NNNN-TT-NN.`,
		`role="alert"`,
	)
}

func TestEventPageVerifiesTheProofOnTheServer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n := newNode(t, db, fixtureRing(t), audit.Options{})
		fixtureAppend(t, n.l, 0, 9)
		cp, err := n.l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		webtest.PageHas(t, n.get(asAuditor, "/console/audit/events/4"), http.StatusOK,
			"<h1>Sự kiện kiểm toán số 4</h1>",
			`<span class="badge verified">Đã xác minh</span>`,
			"Đã đối chiếu với điểm kiểm tra có 9 sự kiện, gốc",
			`<code class="audit-hash">`+b64(cp.Root)+"</code>",
			"Trần Thị 1",
			"<code>ip</code></td><td>10.0.0.4</td>",
		)
		webtest.PageHas(t, n.get(asAuditor, "/console/audit/events/4?lang=en"), http.StatusOK, "Verified", "against the checkpoint of size 9, root")

		// An administrator edits the stored event: the page must say so.
		if _, err := db.ExecContext(ctx, db.Rebind("UPDATE audit_events SET outcome = ? WHERE seq = ?"), "allowed", 5); err != nil {
			t.Fatal(err)
		}
		w := n.get(asAuditor, "/console/audit/events/5")
		webtest.PageHas(t, w, http.StatusOK, "Không xác minh được", "does not lead to the root signed in the checkpoint of size 9")
		if strings.Contains(w.Body.String(), "Đã xác minh") {
			t.Error("the edited event is shown as verified")
		}
		webtest.PageHas(t, n.get(asAuditor, "/console/audit/events/99"), http.StatusNotFound)
	})
}

func TestCheckpointsPageListsSignedCheckpoints(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, storetest.MustOpen(t, store.SQLite), fixtureRing(t), audit.Options{})
	webtest.PageHas(t, n.get(asAuditor, "/console/audit/checkpoints"), http.StatusOK, "Chưa có điểm kiểm tra nào.")
	var roots []string
	for _, upTo := range []int{3, 7} {
		fixtureAppend(t, n.l, int(fixtureSize(t, n.l)), upTo)
		cp, err := n.l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, b64(cp.Root))
	}
	vkey, _ := n.l.VerifierKey()
	webtest.PageHas(t, n.get(asAuditor, "/console/audit/checkpoints"), http.StatusOK,
		"<code>"+fixtureOrigin+"</code>", "<code>"+strings.ReplaceAll(vkey, "+", "&#43;")+"</code>",
		"<td>3</td>", "<td>7</td>", "<code>"+roots[0]+"</code>", "<code>"+roots[1]+"</code>",
		"Chưa có chữ ký xác nhận",
	)
}

func TestExportFormDownloadsOrShowsTheProblem(t *testing.T) {
	n := newNode(t, storetest.MustOpen(t, store.SQLite), fixtureRing(t), audit.Options{})
	fixtureAppend(t, n.l, 0, 6)
	vkey, _ := n.l.VerifierKey()
	webtest.PageHas(t, n.get(asAuditor, "/console/audit/export"), http.StatusOK, `name="csrf_token"`, `<label for="audit-from_seq">Từ sự kiện số</label>`)

	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	post := func(v url.Values) *httptest.ResponseRecorder {
		return n.do(asAuditor, http.MethodPost, "/console/audit/export", form, v.Encode())
	}
	w := post(url.Values{"from_seq": {"2"}, "to_seq": {"8"}})
	webtest.PageHas(t, w, http.StatusUnprocessableEntity, `value="8" min="0" step="1" inputmode="numeric" aria-describedby="audit-to_seq-hint audit-to_seq-error" aria-invalid="true"`,
		"Số thứ tự sự kiện kết thúc không có trong sổ cái", "there is no event 8")
	if got := len(exportEvents(t, n.l)); got != 0 {
		t.Fatalf("a refused export was recorded %d times", got)
	}
	w = post(url.Values{"from_seq": {"2"}, "to_seq": {"4"}})
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export form = %d %s", w.Code, w.Body)
	}
	if events := exportLines(t, w.Body.Bytes(), vkey); len(events) != 3 {
		t.Errorf("the form exported %d events, want 3", len(events))
	}
	if got := len(exportEvents(t, n.l)); got != 1 {
		t.Errorf("the export was recorded %d times, want once", got)
	}
}

func TestAuditNavigationIsForThoseWhoMayRead(t *testing.T) {
	n := newNode(t, storetest.MustOpen(t, store.SQLite), fixtureRing(t), audit.Options{})
	tests := []struct {
		who  string
		p    web.Principal
		want bool
	}{
		{"auditor", asAuditor, true},
		{"security officer", asSecOff, true},
		{"clerk", asClerk, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/console/", nil)
		r = r.WithContext(web.WithPrincipal(r.Context(), tt.p))
		shown := false
		for _, item := range n.shell.Page(r, web.Console, "nav.home").Nav {
			shown = shown || item.Key == "nav.audit"
		}
		if shown != tt.want {
			t.Errorf("%s sees the audit navigation item: %v, want %v", tt.who, shown, tt.want)
		}
	}
	if w := n.get(asClerk, "/console/audit"); w.Code != http.StatusForbidden {
		t.Errorf("clerk GET /console/audit = %d, want 403", w.Code)
	}
	if w := n.get(asNobody, "/console/audit"); w.Code != http.StatusSeeOther {
		t.Errorf("anonymous GET /console/audit = %d, want a redirect to sign in", w.Code)
	}
}

// TestEveryBadgeHasItsText covers the catalogue keys the pages build
// from values, which the catalogue's own template scan cannot see.
func TestEveryBadgeHasItsText(t *testing.T) {
	var keys []string
	for _, o := range []audit.Outcome{audit.Allowed, audit.Denied, audit.OK, audit.Failed} {
		keys = append(keys, "audit.outcome."+string(o))
	}
	for _, k := range []audit.ActorKind{audit.ActorStaff, audit.ActorCitizen, audit.ActorSystem, audit.ActorMember} {
		keys = append(keys, "audit.actor."+string(k))
	}
	for l := authz.Unclassified; l.Valid(); l++ {
		keys = append(keys, "console.level."+l.String())
	}
	for _, f := range []string{"actor_kind", "actor", "unit", "action", "resource_type", "resource_id", "outcome", "from", "to", "after", "limit", "from_seq", "to_seq"} {
		keys = append(keys, "audit.invalid."+f)
	}
	// The pages show a level by the console's name for it.
	texts, err := i18n.New(audit.Texts(), console.Texts())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !texts.Has(k) {
			t.Errorf("the catalogue lacks %s", k)
		}
	}
}

// TestSearchPageOffersActionsByTheirWords pins issue 11's action filter:
// a select of the actions in words, valued by the code the search reads;
// a code without words (a link from elsewhere) is still accepted and
// offered by its code.
func TestSearchPageOffersActionsByTheirWords(t *testing.T) {
	n := newNode(t, storetest.MustOpen(t, store.SQLite), fixtureRing(t), audit.Options{})
	fixtureAppend(t, n.l, 0, 6)
	w := n.get(asAuditor, "/console/audit?action=login")
	webtest.PageHas(t, w, http.StatusOK,
		`<select id="audit-action" name="action"`,
		`<option value="login" selected>Đăng nhập</option>`,
		`<option value="logout">Đăng xuất</option>`,
		`<a href="/console/audit/events/5">5</a>`,
	)
	if strings.Contains(w.Body.String(), `<input type="text" id="audit-action"`) {
		t.Error("the action filter is still a typed code")
	}
	if strings.Contains(w.Body.String(), `/console/audit/events/4"`) {
		t.Error("the action filter let through an event of another action")
	}
	webtest.PageHas(t, n.get(asAuditor, "/console/audit?action=record.update&lang=en"), http.StatusOK,
		`<option value="record.update" selected>record.update</option>`, `<option value="logout">Sign-out</option>`,
		`<a href="/console/audit/events/4">4</a>`)
}
