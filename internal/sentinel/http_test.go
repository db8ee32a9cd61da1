package sentinel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/sentinel/detect"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// site is the alerts' routes over a database, refusals recorded in the
// ledger as the app's middleware does.
type site struct {
	db      *store.DB
	ledger  *audit.Ledger
	svc     *Service
	shell   *web.Shell
	h       http.Handler
	officer authz.Subject
	auditor authz.Subject
	clerk   authz.Subject
}

func newSite(t testing.TB, db *store.DB) *site {
	t.Helper()
	l := newLedger(t, db)
	t.Cleanup(func() { l.Close() })
	svc, err := NewService(Options{DB: db, Recorder: l})
	if err != nil {
		t.Fatal(err)
	}
	shell := webtest.Shell(t, Texts())
	h, err := NewHandler(svc, shell)
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return &site{db: db, ledger: l, svc: svc, shell: shell, h: web.Chain(rt, web.RecordDenials(audit.NewDenials(l).Record)),
		officer: authz.Subject{Kind: authz.Staff, ID: 7, Unit: 1, Roles: authz.RolesOf(authz.SecurityOfficer)},
		auditor: authz.Subject{Kind: authz.Staff, ID: 8, Unit: 1, Roles: authz.RolesOf(authz.Auditor)},
		clerk:   authz.Subject{Kind: authz.Staff, ID: 9, Unit: 2, Roles: authz.RolesOf(authz.Clerk)}}
}

// seed stores alerts as the watcher would.
func (s *site) seed(t testing.TB, alerts ...detect.Alert) []int64 {
	t.Helper()
	var ids []int64
	err := s.db.InTx(context.Background(), func(tx *store.Tx) error {
		for _, d := range alerts {
			id, err := insertAlert(context.Background(), tx, fromDetect(d, store.Now()), 0)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func alertOf(user, rule string, risk float64) detect.Alert {
	at := time.Date(2026, 12, 1, 22, 40, 0, 0, time.UTC)
	return detect.Alert{Rule: rule, User: user, ActorKind: "staff", ActorID: "3", Score: 60, Risk: risk, Events: []uint64{3, 4, 9},
		First: at, Last: at.Add(20 * time.Minute), Title: detect.Text{VI: "Đọc hàng loạt", EN: "Bulk reading"},
		Explanation: detect.Text{VI: "đọc 46 hồ sơ của đơn vị khác trong 20 phút; thường: 0–2 mỗi ngày", EN: "read 46 dossiers of other units in 20 minutes; usual: 0–2 a day"}}
}

func (s *site) api(t testing.TB, sub authz.Subject, method, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var buf bytes.Buffer
	if raw, ok := body.(string); ok {
		buf.WriteString(raw)
	} else if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			t.Fatal(err)
		}
	}
	r := webtest.Request(method, path, "application/json", buf.String())
	p := web.Principal{Subject: sub, Stage: "full", Bearer: true}
	r = r.WithContext(audit.WithOrigin(r.Context(), audit.Origin{Actor: audit.Staff(sub.ID, fmt.Sprintf("staff%d", sub.ID)), UnitID: sub.Unit}))
	return webtest.Serve(s.shell, s.h, p, r)
}

func decode[T any](t testing.TB, w *httptest.ResponseRecorder, status int) T {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
	return v
}

// events returns the ledger's integrated events of action.
func (s *site) events(t testing.TB, action string) []audit.Event {
	t.Helper()
	if _, err := s.ledger.Integrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs, err := s.ledger.Search(context.Background(), audit.Query{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestAlertsAPIListsFiltersAndPagesForSecurityOfficersOnly(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		ids := s.seed(t, alertOf("lan.nguyen", "bulk_read", 40), alertOf("lan.nguyen", "off_hours", 90), alertOf("minh.tran", "bulk_read", 70))
		closed := StatusFalsePositive
		decode[Alert](t, s.api(t, s.officer, "PATCH", fmt.Sprintf("/api/v1/sentinel/alerts/%d", ids[1]), Patch{Status: &closed, Version: 1}), http.StatusOK)

		all := decode[AlertPage](t, s.api(t, s.officer, "GET", "/api/v1/sentinel/alerts", nil), http.StatusOK)
		if all.Total != 3 || all.Items[0].ID != ids[2] || all.Items[1].ID != ids[0] || all.Items[2].ID != ids[1] {
			t.Fatalf("the queue is not new first by risk: %+v", all.Items)
		}
		raw := s.api(t, s.officer, "GET", "/api/v1/sentinel/alerts?per_page=1", nil).Body.String()
		for _, field := range []string{`"id":`, `"user":"minh.tran"`, `"rule":"bulk_read"`, `"score":60`, `"status":"new"`, `"created_at":`, `"events":[3,4,9]`} {
			if !strings.Contains(raw, field) {
				t.Errorf("the list lacks %s: %s", field, raw)
			}
		}
		for _, tt := range []struct {
			query string
			want  []int64
		}{
			{"status=new", []int64{ids[2], ids[0]}},
			{"status=closed_false_positive", []int64{ids[1]}},
			{"rule=bulk_read&user=lan.nguyen", []int64{ids[0]}},
			{"user=nobody", nil},
			{"per_page=1&page=2", []int64{ids[0]}},
		} {
			page := decode[AlertPage](t, s.api(t, s.officer, "GET", "/api/v1/sentinel/alerts?"+tt.query, nil), http.StatusOK)
			var got []int64
			for _, a := range page.Items {
				got = append(got, a.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("?%s lists %v, want %v", tt.query, got, tt.want)
			}
		}
		for _, q := range []string{"status=open", "page=0", "per_page=1000", "user=%E2%80%AEx"} {
			webtest.Problem(t, s.api(t, s.officer, "GET", "/api/v1/sentinel/alerts?"+q, nil), http.StatusBadRequest)
		}

		// The auditor reads and changes nothing; a clerk reaches nothing;
		// each refusal is in the ledger.
		decode[Alert](t, s.api(t, s.auditor, "GET", fmt.Sprintf("/api/v1/sentinel/alerts/%d", ids[0]), nil), http.StatusOK)
		webtest.Problem(t, s.api(t, s.auditor, "PATCH", fmt.Sprintf("/api/v1/sentinel/alerts/%d", ids[0]), Patch{Status: &closed, Version: 1}), http.StatusForbidden)
		webtest.Problem(t, s.api(t, s.clerk, "GET", "/api/v1/sentinel/alerts", nil), http.StatusForbidden)
		webtest.Problem(t, s.api(t, s.clerk, "GET", fmt.Sprintf("/api/v1/sentinel/alerts/%d", ids[0]), nil), http.StatusForbidden)
		webtest.Problem(t, s.api(t, s.officer, "GET", "/api/v1/sentinel/alerts/999999", nil), http.StatusNotFound)
		if got := len(s.events(t, audit.DeniedAction)); got != 3 {
			t.Errorf("%d refusals recorded, want 3", got)
		}
		if got := s.events(t, "sentinel.update_alert"); len(got) != 1 || got[0].Attrs["to"] != string(StatusFalsePositive) {
			t.Errorf("the triage's events: %+v", got)
		}
	})
}

func TestConcurrentPatchesOneWinsTheOtherConflicts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		id := s.seed(t, alertOf("lan.nguyen", "bulk_read", 40))[0]
		path := fmt.Sprintf("/api/v1/sentinel/alerts/%d", id)
		codes := make([]int, 2)
		var wg sync.WaitGroup
		for i, st := range []Status{StatusInvestigating, StatusTruePositive} {
			wg.Go(func() {
				codes[i] = s.api(t, s.officer, "PATCH", path, Patch{Status: &st, Version: 1}).Code
			})
		}
		wg.Wait()
		if !(codes[0] == http.StatusOK && codes[1] == http.StatusConflict || codes[0] == http.StatusConflict && codes[1] == http.StatusOK) {
			t.Fatalf("two changes from version 1 answered %v; want one 200 and one 409", codes)
		}
		a := decode[Alert](t, s.api(t, s.officer, "GET", path, nil), http.StatusOK)
		if a.Version != 2 || len(a.History) != 1 {
			t.Fatalf("after the race the alert is at version %d with %d changes; want 2 and 1", a.Version, len(a.History))
		}
	})
}

func TestPatchRefusesHostileInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		id := s.seed(t, alertOf("lan.nguyen", "bulk_read", 40))[0]
		path := fmt.Sprintf("/api/v1/sentinel/alerts/%d", id)
		str := func(v string) *string { return &v }
		back := StatusNew
		inv := StatusInvestigating
		for _, tt := range []struct {
			name string
			body any
			want int
		}{
			{"NUL in notes", Patch{Notes: str("a\x00b"), Version: 1}, http.StatusBadRequest},
			{"bidi override in notes", Patch{Notes: str("ok \u202egnp.exe"), Version: 1}, http.StatusBadRequest},
			{"a lone carriage return", Patch{Notes: str("a\rb"), Version: 1}, http.StatusBadRequest},
			{"CR LF in the assignee", Patch{Assignee: str("lan\r\nX-Injected: 1"), Version: 1}, http.StatusBadRequest},
			{"notes too long", Patch{Notes: str(strings.Repeat("x", MaxNotes+1)), Version: 1}, http.StatusBadRequest},
			{"50 MiB", `{"notes":"` + strings.Repeat("x", 50<<20) + `","version":1}`, http.StatusRequestEntityTooLarge},
			{"unknown status", `{"status":"deleted","version":1}`, http.StatusBadRequest},
			{"no version", Patch{Status: &inv}, http.StatusBadRequest},
			{"nothing to change", Patch{Version: 1}, http.StatusBadRequest},
			{"stale version", Patch{Status: &inv, Version: 7}, http.StatusConflict},
			{"not JSON", "status=closed", http.StatusBadRequest},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p := webtest.Problem(t, s.api(t, s.officer, "PATCH", path, tt.body), tt.want)
				if p.Detail == "" && p.Title == "" {
					t.Errorf("the problem says nothing: %+v", p)
				}
			})
		}
		// Notes written in a browser's textarea (CR LF) are kept with LF.
		a := decode[Alert](t, s.api(t, s.officer, "PATCH", path, Patch{Status: &inv, Notes: str("line one\r\nline two"), Version: 1}), http.StatusOK)
		if a.Notes != "line one\nline two" || a.Version != 2 {
			t.Fatalf("notes %q at version %d", a.Notes, a.Version)
		}
		webtest.Problem(t, s.api(t, s.officer, "PATCH", path, Patch{Status: &back, Version: 2}), http.StatusConflict)
	})
}

func TestTriagePagesInBothLanguages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		id := s.seed(t, alertOf("lan.nguyen", "bulk_read", 40))[0]
		p := web.Principal{Subject: s.officer, Stage: "full"}
		webtest.PageHas(t, webtest.GetIn(s.shell, s.h, p, i18n.VI, "/console/sentinel/"), http.StatusOK, "Đọc hàng loạt", "lan.nguyen", "Mới")
		webtest.PageHas(t, webtest.GetIn(s.shell, s.h, p, i18n.EN, fmt.Sprintf("/console/sentinel/alerts/%d", id)), http.StatusOK,
			"read 46 dossiers", `href="/console/audit/events/9"`, "lan.nguyen&#39;s risk over time", `name="notes"`)
		aud := web.Principal{Subject: s.auditor, Stage: "full"}
		w := webtest.GetIn(s.shell, s.h, aud, i18n.EN, fmt.Sprintf("/console/sentinel/alerts/%d", id))
		if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `name="notes"`) {
			t.Fatalf("the auditor's page: %d, with a form: %v", w.Code, strings.Contains(w.Body.String(), `name="notes"`))
		}
		webtest.PageHas(t, webtest.GetIn(s.shell, s.h, web.Principal{Subject: s.clerk, Stage: "full"}, i18n.EN, "/console/sentinel/"), http.StatusForbidden)
	})
}
