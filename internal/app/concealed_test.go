package app

import (
	"context"
	"net/http"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
)

// A clerk of another unit who asks for a dossier by its code is answered
// as if there were none, and the concealment is audited with its reason.
func TestAConcealedDossierIsAuditedAsDenied(t *testing.T) {
	a, base := serveDemo(t)
	ctx := context.Background()
	d, _, _ := submitInParis(t, a)
	other, err := a.Identity.StaffByUsername(ctx, "consular.clerk")
	if err != nil {
		t.Fatal(err)
	}
	token := mustLogin(t, base, "consular.clerk", a.cfg.DemoPassword, "")
	if status := callJSON(t, http.MethodGet, base+"/api/v1/dossiers/"+d.Code, token, "", &map[string]any{}); status != http.StatusNotFound {
		t.Fatalf("another unit's clerk GET the dossier = %d, want 404", status)
	}
	if _, err := a.Audit.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	events, err := a.Audit.Search(ctx, audit.Query{Action: audit.DeniedAction, ActorID: audit.Staff(other.ID, "").ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Reason != string(authz.ReasonNeedToKnow) || events[0].ResourceID != d.Code || events[0].Attrs["decision"] != "concealed" {
		t.Errorf("the concealment is recorded as %+v, want one access.denied for need-to-know", events)
	}
}
