package analytics

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// site is the data repository's routes over a world.
type site struct {
	*world
	cat   *Catalogue
	shell *web.Shell
	h     http.Handler
}

func newSite(t testing.TB, db *store.DB) *site {
	t.Helper()
	w := newWorld(t, db)
	cat := NewCatalogue(db, w.ledger, nil)
	if err := cat.RegisterBuiltins(t.Context()); err != nil {
		t.Fatal(err)
	}
	shell := webtest.Shell(t, Texts(), identity.Texts())
	h, err := NewHandler(shell, cat, NewStore(db))
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return &site{world: w, cat: cat, shell: shell, h: rt}
}

func (s *site) api(sub authz.Subject, method, path, body string) *httptest.ResponseRecorder {
	r := webtest.Request(method, path, "application/json", body).WithContext(staffCtx(sub))
	return webtest.Serve(s.shell, s.h, web.Principal{Subject: sub, Stage: "full", Bearer: true}, r)
}

func (s *site) page(sub authz.Subject, lang i18n.Lang, target string) *httptest.ResponseRecorder {
	return webtest.GetIn(s.shell, s.h, web.Principal{Subject: sub, Stage: "full"}, lang, target)
}

// TestRoutesAnswerEachRoleAndConcealWhatTheyMayNotSee pins the pages and
// the API: the catalogue draws in both languages; an officer registers
// their unit's dataset (201) and not another unit's; a dataset above a
// reader's clearance answers 404 on the page and the API; hostile input
// answers 4xx; the totals count only the units whose facts the caller
// may read, and a leader's count every unit's.
func TestRoutesAnswerEachRoleAndConcealWhatTheyMayNotSee(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		at := time.Now().UTC().Add(-time.Hour)
		s.dossier(t, "A-1", 1, "dossier.submit", at, at.Add(240*time.Hour), false)
		s.dossier(t, "A-2", 2, "dossier.submit", at, at.Add(240*time.Hour), false)
		s.dossier(t, "A-3", 2, "dossier.submit", at, at.Add(240*time.Hour), false)
		if err := s.feeder.CatchUp(t.Context()); err != nil {
			t.Fatal(err)
		}
		paris := officer(2, authz.Secret)
		hq := officer(1, authz.Unclassified)
		leader := authz.Subject{Kind: authz.Staff, ID: 99, Unit: 1, Roles: authz.RolesOf(authz.Leader)}

		w := s.api(paris, "POST", "/api/v1/analytics/datasets", `{"code":"paris.press","name_vi":"Điểm báo","name_en":"Press digest","owner_unit":2,
			"classification":"secret","source_system":"spreadsheet","refresh":"weekly","freshness_hours":200}`)
		if w.Code != http.StatusCreated {
			t.Fatalf("register: %d %s", w.Code, w.Body)
		}
		if w := s.api(hq, "POST", "/api/v1/analytics/datasets", `{"code":"x.y","name_vi":"a","name_en":"a","owner_unit":2,"source_system":"s","refresh":"daily"}`); w.Code != http.StatusNotFound && w.Code != http.StatusForbidden {
			t.Errorf("registering for another unit: %d", w.Code)
		}
		for _, lang := range []i18n.Lang{i18n.VI, i18n.EN} {
			for _, p := range []string{"/console/insight/catalogue", "/console/insight/catalogue/new", "/console/insight/catalogue/paris.press",
				"/console/insight/catalogue/chancery.dossiers"} {
				if w := s.page(paris, lang, p); w.Code != http.StatusOK {
					t.Errorf("%s %s: %d %s", lang, p, w.Code, w.Body)
				}
			}
		}
		webtest.PageHas(t, s.page(paris, i18n.EN, "/console/insight/catalogue"), http.StatusOK, "Press digest", "Administrative procedure dossiers", "Dossiers received")
		if w := s.page(hq, i18n.EN, "/console/insight/catalogue/paris.press"); w.Code != http.StatusNotFound {
			t.Errorf("a secret dataset's page for an unclassified reader: %d", w.Code)
		}
		if w := s.api(hq, "GET", "/api/v1/analytics/datasets/paris.press", ""); w.Code != http.StatusNotFound {
			t.Errorf("a secret dataset for an unclassified reader: %d", w.Code)
		}
		if w := s.api(hq, "GET", "/api/v1/analytics/datasets", ""); strings.Contains(w.Body.String(), "paris.press") {
			t.Error("the list shows a secret dataset to an unclassified reader")
		}
		if w := s.api(paris, "POST", "/api/v1/analytics/datasets/paris.press/checks", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"last_ok":false`) {
			t.Errorf("run checks of a never refreshed dataset: %d %s", w.Code, w.Body)
		}
		for name, body := range map[string]string{
			"NUL":     `{"code":"a.b","name_vi":"a\u0000b","name_en":"a","owner_unit":2,"source_system":"s","refresh":"daily"}`,
			"CR LF":   `{"code":"a.b","name_vi":"a\r\nb","name_en":"a","owner_unit":2,"source_system":"s","refresh":"daily"}`,
			"bidi":    `{"code":"a.b","name_vi":"a\u202eb","name_en":"a","owner_unit":2,"source_system":"s","refresh":"daily"}`,
			"unknown": `{"code":"a.b","nope":1}`,
			"50MiB":   `{"code":"a.b","description":"` + strings.Repeat("a", 50<<20) + `"}`,
		} {
			if w := s.api(paris, "POST", "/api/v1/analytics/datasets", body); w.Code < 400 || w.Code >= 500 {
				t.Errorf("%s: %d", name, w.Code)
			}
		}

		received := func(sub authz.Subject) int64 {
			w := s.api(sub, "GET", "/api/v1/analytics/totals?by=unit", "")
			if w.Code != http.StatusOK {
				t.Fatalf("totals: %d %s", w.Code, w.Body)
			}
			var got struct{ Total Totals }
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			return got.Total.DossiersReceived
		}
		if got := received(paris); got != 2 {
			t.Errorf("Paris's officer's totals count %d dossiers, want their unit's 2", got)
		}
		if got := received(leader); got != 3 {
			t.Errorf("a leader's totals count %d dossiers, want every unit's 3", got)
		}
		for _, q := range []string{"from=2026-13-01", "from=2026-12-05&to=2026-12-01", "by=week", "from=1900-01-01&to=2026-01-01"} {
			if w := s.api(leader, "GET", "/api/v1/analytics/totals?"+q, ""); w.Code != http.StatusUnprocessableEntity && w.Code != http.StatusBadRequest {
				t.Errorf("totals?%s: %d", q, w.Code)
			}
		}
		clerk := authz.Subject{Kind: authz.Staff, ID: 98, Unit: 1, Roles: authz.RolesOf(authz.Clerk)}
		if w := s.api(clerk, "GET", "/api/v1/analytics/totals", ""); w.Code != http.StatusForbidden {
			t.Errorf("a clerk's totals: %d", w.Code)
		}
	})
}
