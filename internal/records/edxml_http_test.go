package records

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// apiOn serves the records' routes over f's service.
func apiOn(t testing.TB, f *fixture) *apiFixture {
	t.Helper()
	h, err := NewHandler(webtest.Shell(t, Texts()), HandlerOptions{Service: f.svc})
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return &apiFixture{fixture: f, h: web.Chain(rt, web.RecordDenials(audit.NewDenials(f.ledger).Record))}
}

// TestPackagesThroughTheAPIAndTheExchangePage pins the routes: the
// embassy's queue (its records office's only), registration and return
// with hostile input refused, the sender's deliveries, and the console
// page listing packages in and out.
func TestPackagesThroughTheAPIAndTheExchangePage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		first := n.issueTo(t, authz.Unclassified, parisCode)
		n.issueTo(t, authz.Confidential, parisCode)
		n.settle(t)
		hq, paris := apiOn(t, n.hq), apiOn(t, n.paris)
		clerk := n.paris.office

		type list struct{ Items []PackageRow }
		if rec := paris.call(t, clerk, http.MethodGet, "/api/v1/packages?direction=in&waiting=true", nil); rec.Code != http.StatusOK ||
			len(decode[list](t, rec).Items) != 2 {
			t.Fatalf("Paris's queue = %d %s", rec.Code, rec.Body)
		}
		// Another unit's staff, and someone cleared below the second
		// package, see less, and learn nothing of what they do not see.
		if got := decode[list](t, paris.call(t, n.paris.clerk, http.MethodGet, "/api/v1/packages?direction=in", nil)).Items; len(got) != 0 {
			t.Fatalf("another unit sees Paris's packages: %+v", got)
		}
		for _, q := range []string{"direction=sideways", "direction=in&limit=100000", "direction=in&waiting=maybe"} {
			if rec := paris.call(t, clerk, http.MethodGet, "/api/v1/packages?"+q, nil); rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnprocessableEntity {
				t.Errorf("GET /api/v1/packages?%s = %d", q, rec.Code)
			}
		}
		queue := decode[list](t, paris.call(t, clerk, http.MethodGet, "/api/v1/packages?direction=in&waiting=true", nil)).Items
		var plain, secret PackageRow
		for _, p := range queue {
			if p.Level == authz.Unclassified {
				plain = p
			} else {
				secret = p
			}
		}
		path := func(p PackageRow, action string) string { return fmt.Sprintf("/api/v1/packages/%d/%s", p.ID, action) }
		// Another unit's clerk: the same answer as for no package at all.
		hidden := paris.call(t, n.paris.clerk, http.MethodPost, path(plain, "register"), "")
		missing := paris.call(t, n.paris.clerk, http.MethodPost, "/api/v1/packages/999999/register", "")
		if hidden.Code != http.StatusNotFound || missing.Code != http.StatusNotFound ||
			strings.Replace(hidden.Body.String(), path(plain, ""), "/api/v1/packages/N/", 1) != strings.Replace(missing.Body.String(), "/api/v1/packages/999999/", "/api/v1/packages/N/", 1) {
			t.Fatalf("another unit's clerk registering: %d %s; a missing package: %d %s", hidden.Code, hidden.Body, missing.Code, missing.Body)
		}
		for _, reason := range []string{"", "Gửi nhầm\u202e", strings.Repeat("x", 5000)} {
			if rec := paris.call(t, clerk, http.MethodPost, path(secret, "return"), map[string]string{"reason": reason}); rec.Code/100 != 4 {
				t.Errorf("return with reason %.20q = %d", reason, rec.Code)
			}
		}
		if rec := paris.call(t, clerk, http.MethodPost, path(secret, "return"), map[string]string{"reason": "Gửi nhầm cơ quan"}); rec.Code != http.StatusOK {
			t.Fatalf("return = %d %s", rec.Code, rec.Body)
		}
		rec := paris.call(t, clerk, http.MethodPost, path(plain, "register"), "")
		if rec.Code != http.StatusCreated || !strings.HasPrefix(rec.Header().Get("Location"), "/api/v1/documents/") {
			t.Fatalf("register = %d %s", rec.Code, rec.Body)
		}
		if again := paris.call(t, clerk, http.MethodPost, path(plain, "register"), ""); again.Code != http.StatusConflict {
			t.Fatalf("register again = %d %s", again.Code, again.Body)
		}
		n.settle(t)

		rec = hq.call(t, n.hq.clerk, http.MethodGet, fmt.Sprintf("/api/v1/documents/%d/deliveries", first.ID), nil)
		if got := decode[list](t, rec).Items; rec.Code != http.StatusOK || len(got) != 1 || got[0].Status != DeliveryAccepted || got[0].To != parisOrgan {
			t.Fatalf("deliveries = %d %s", rec.Code, rec.Body)
		}
		if rec := hq.call(t, n.hq.auditor, http.MethodGet, fmt.Sprintf("/api/v1/documents/%d/deliveries", first.ID), nil); rec.Code != http.StatusNotFound &&
			rec.Code != http.StatusForbidden {
			t.Fatalf("deliveries to an auditor = %d", rec.Code)
		}

		page := paris.call(t, clerk, http.MethodGet, consoleExchangePath, nil)
		body := html.UnescapeString(page.Body.String())
		if page.Code != http.StatusOK || !strings.Contains(body, first.Subject) || !strings.Contains(body, "Gửi nhầm cơ quan") {
			t.Fatalf("the exchange page = %d %s", page.Code, body)
		}
		sent := html.UnescapeString(hq.call(t, n.hq.clerk, http.MethodGet, consoleExchangePath, nil).Body.String())
		if !strings.Contains(sent, "Đại sứ quán Việt Nam tại Pháp") || !strings.Contains(sent, first.Number) {
			t.Fatalf("headquarters' exchange page does not list what it sent: %s", sent)
		}
	})
}
