package forecast

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// The page shows the reader's own mission's forecast (chart, backtest,
// workload) and lists no other mission; asking for another mission by
// number answers 404 as for one that does not exist, and a bad number
// 400.
func TestPageHidesOtherUnitsMissions(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	ctx := context.Background()
	now := time.Date(2025, 12, 3, 12, 0, 0, 0, ict)
	w := newWorldForm(t, db, now, Additive)
	g := DefaultSynthetic(5)
	g.Weeks, g.Level = MinWeeks+Holdout, 30 // just enough for the backtest
	last := w.svc.lastWeek()
	g.Start = last.AddDays(-7 * (g.Weeks - 1))
	for _, unit := range []int64{2, 3} {
		if err := SaveHistory(ctx, db, unit, "1.900009", g.Generate(), "test"); err != nil {
			t.Fatal(err)
		}
	}
	texts, err := i18n.New(web.Texts(), Texts())
	if err != nil {
		t.Fatal(err)
	}
	shell := web.NewShell(texts)
	h, err := NewHandler(shell, w.svc)
	if err != nil {
		t.Fatal(err)
	}
	get := func(sub authz.Subject, query string) (int, string) {
		r := httptest.NewRequest(http.MethodGet, PagePath+query, nil)
		r = r.WithContext(web.WithPrincipal(r.Context(), web.Principal{Subject: sub, Stage: "full"}))
		rec := httptest.NewRecorder()
		h.page(rec, r)
		return rec.Code, rec.Body.String()
	}
	paris := authz.Subject{Kind: authz.Staff, ID: 10, Unit: 2, Roles: authz.RolesOf(authz.Approver)}
	code, body := get(paris, "")
	if code != http.StatusOK {
		t.Fatalf("Paris's head: %d %s", code, body)
	}
	for _, want := range []string{"ĐSQ Pháp", "<svg class=\"forecast-chart\"", "fc-band80", "fc-band95", "fc-tet", "1.900009"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "ĐSQ Nhật") || strings.Contains(body, "unit=3") {
		t.Error("the page names Tokyo's mission to Paris's head")
	}
	if code, _ := get(paris, "?unit=3"); code != http.StatusNotFound {
		t.Errorf("Paris's head asking for Tokyo: %d; want 404", code)
	}
	if code, _ := get(paris, "?unit=999"); code != http.StatusNotFound {
		t.Errorf("asking for a unit that does not exist: %d; want 404", code)
	}
	if code, _ := get(paris, "?unit=%E2%80%AE1"); code != http.StatusBadRequest {
		t.Errorf("asking for a unit by a bidi-laden word: %d; want 400", code)
	}
	leader := authz.Subject{Kind: authz.Staff, ID: 11, Unit: 1, Roles: authz.RolesOf(authz.Approver)}
	if code, body := get(leader, "?unit=3"); code != http.StatusOK || !strings.Contains(body, "ĐSQ Nhật") || !strings.Contains(body, "unit=2") {
		t.Errorf("the ministry's head asking for Tokyo: %d; want Tokyo's page listing Paris too", code)
	}
}
