package audit_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// fixtureDirectory names unit 1 and staff member 100.
type fixtureDirectory struct{}

func (fixtureDirectory) UnitNames(_ context.Context, id int64) (string, string, error) {
	if id != 1 {
		return "", "", fmt.Errorf("unit %d: %w", id, errs.ErrNotFound)
	}
	return "Cục Lãnh sự", "Consular Department", nil
}

func (fixtureDirectory) UnitChoices(context.Context) ([]web.UnitChoice, error) {
	return []web.UnitChoice{{ID: 1, Code: "000.00.03.G12", NameVI: "Cục Lãnh sự", NameEN: "Consular Department", Active: true}}, nil
}

func (fixtureDirectory) StaffName(_ context.Context, id int64) (string, error) {
	if id != 100 {
		return "", fmt.Errorf("staff %d: %w", id, errs.ErrNotFound)
	}
	return "Nguyễn Văn An", nil
}

// TestAuditPagesNamePeopleUnitsAndActions pins that the search and the
// event page show a member of staff by name, a unit by name and an action
// and a kind of item in words, never "#1", "Cán bộ 100" or "staff.create"
// (the codes stay in titles, for the search).
func TestAuditPagesNamePeopleUnitsAndActions(t *testing.T) {
	n := newNode(t, storetest.MustOpen(t, store.SQLite), fixtureRing(t), audit.Options{})
	n.shell.SetDirectory(fixtureDirectory{})
	ctx := context.Background()
	if _, err := n.l.Append(ctx, audit.Event{Time: time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC), Actor: audit.Staff(100, "an.nv"), UnitID: 1,
		Action: "staff.create", ResourceType: "staff", ResourceID: "100", Outcome: audit.OK, Level: authz.Unclassified}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.l.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/console/audit", "/console/audit/events/0"} {
		w := n.get(asAuditor, path)
		webtest.PageHas(t, w, http.StatusOK,
			`<span title="an.nv">Nguyễn Văn An</span>`,
			`<a href="/console/units/1">Cục Lãnh sự</a>`,
			`<span title="staff.create">Tạo tài khoản cán bộ</span>`,
			`<span title="staff">Cán bộ</span> Nguyễn Văn An`,
		)
		if path == "/console/audit" {
			webtest.PageHas(t, w, http.StatusOK, `<option value="1">Cục Lãnh sự</option>`)
		}
		if body := w.Body.String(); strings.Contains(body, "#1<") || strings.Contains(body, "Cán bộ 100") || strings.Contains(body, ">staff.create<") {
			t.Errorf("%s shows a raw value", path)
		}
	}
}
