package app

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/procedures"
)

// A clerk may not approve a dossier: the refusal is answered 403 and
// written to the audit ledger once, with Decide's reason, before the
// answer is sent; the same refusal repeated within the minute adds
// nothing.
func TestAClerksForbiddenApproveIsAuditedOnceWithItsReason(t *testing.T) {
	a, base := serveDemo(t)
	ctx := context.Background()
	clerk, err := a.Identity.StaffByUsername(ctx, "paris.clerk")
	if err != nil {
		t.Fatal(err)
	}
	paris, err := a.Identity.Unit(ctx, clerk.UnitID)
	if err != nil {
		t.Fatal(err)
	}
	sctx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(clerk.ID, clerk.Username), UnitID: clerk.UnitID})
	form := map[string]any{
		"applicant":     map[string]any{"full_name": "Trần Văn Minh", "id_type": "passport", "id_number": "C1234567", "email": "minh@example.com"},
		"document_name": "Acte de naissance", "issuing_authority": "Mairie de Paris", "issue_date": "2020-01-10",
		"issuing_country": "FR", "copies": 1, "delivery": "counter", "declaration": true,
	}
	d, err := a.Procedures.Submit(sctx, clerk.Subject(), procedures.Submission{Procedure: "1.900003", UnitCode: paris.Code, Channel: procedures.ChannelInPerson, Form: form, Paid: true})
	if err != nil {
		t.Fatal(err)
	}
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
