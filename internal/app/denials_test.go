package app

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
)

// A clerk may not approve a dossier: the refusal is answered 403 and
// written to the audit ledger once, with Decide's reason, before the
// answer is sent; the same refusal repeated within the minute adds
// nothing.
func TestAClerksForbiddenApproveIsAuditedOnceWithItsReason(t *testing.T) {
	a, base := serveDemo(t)
	ctx := context.Background()
	d, clerk, _ := submitInParis(t, a)
	token := mustLogin(t, base, "paris.clerk", a.cfg.DemoPassword, "")
	denied := func() []audit.Event {
		t.Helper()
		if _, err := a.Audit.Integrate(ctx); err != nil {
			t.Fatal(err)
		}
		events, err := a.Audit.Search(ctx, audit.Query{Action: audit.DeniedAction, ActorID: audit.Staff(clerk.ID, "").ID})
		if err != nil {
			t.Fatal(err)
		}
		return events
	}
	for i := range 3 {
		if status := callJSON(t, http.MethodPost, base+"/api/v1/dossiers/"+d.Code+"/actions", token, `{"action":"approve"}`, &map[string]any{}); status != http.StatusForbidden {
			t.Fatalf("clerk's approve #%d = %d, want 403", i+1, status)
		}
		// Recorded before the answer: no waiting for the ledger here.
		if events := denied(); len(events) != 1 {
			t.Fatalf("after %d refused approvals the ledger holds %d access.denied events, want exactly 1: %+v", i+1, len(events), events)
		}
	}
	e := denied()[0]
	if e.Outcome != audit.Denied || e.Reason != string(authz.ReasonNoRole) || e.ResourceType != "dossier" || e.ResourceID != d.Code ||
		e.Attrs["action"] != "approve" || e.Attrs["route"] != "POST /api/v1/dossiers/{code}/actions" || e.Actor.Kind != audit.ActorStaff {
		t.Errorf("the refusal is recorded as %+v", e)
	}
	if strings.Contains(e.Attrs["route"], d.Code) {
		t.Errorf("the route attribute holds the raw path: %q", e.Attrs["route"])
	}
}

// The administrator raising their own clearance through the API is
// refused, and the refusal is recorded with the account rule's reason.
func TestAnAdministratorsOwnGrantIsRefusedAndAudited(t *testing.T) {
	a, base := serveDemo(t)
	ctx := context.Background()
	admin, err := a.Identity.StaffByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	token := mustLogin(t, base, "admin", a.cfg.DemoPassword, demoTOTP(t, a, "admin"))
	body := `{"clearance":"top_secret","version":` + strconv.Itoa(admin.Version) + `}`
	if status := callJSON(t, http.MethodPatch, base+"/api/v1/users/"+strconv.FormatInt(admin.ID, 10), token, body, &map[string]any{}); status != http.StatusForbidden {
		t.Fatalf("PATCH own clearance = %d, want 403", status)
	}
	if _, err := a.Audit.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	events, err := a.Audit.Search(ctx, audit.Query{Action: audit.DeniedAction, ActorID: audit.Staff(admin.ID, "").ID})
	if err != nil || len(events) != 1 {
		t.Fatalf("access.denied events = %+v, %v; want 1", events, err)
	}
	if e := events[0]; e.Reason != string(authz.ReasonOwnAccount) || e.ResourceType != "staff" || e.ResourceID != strconv.FormatInt(admin.ID, 10) {
		t.Errorf("the refusal is recorded as %+v", e)
	}
	if got, _ := a.Identity.Staff(ctx, admin.ID); got.Clearance != authz.Unclassified {
		t.Fatalf("the administrator's clearance is now %s", got.Clearance)
	}
}
