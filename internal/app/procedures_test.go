package app

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/config"
	"chancery/internal/demo"
	"chancery/internal/identity"
	"chancery/internal/procedures"
	"chancery/internal/records"
	"chancery/internal/store"
)

// serveDemo starts a demo headquarters with its background work (the
// exchange, the national portal sync, the mail outbox), the demo's history
// of dossiers and its edXML packages left out.
func serveDemo(t testing.TB) (*App, string) {
	t.Helper()
	a, base := startDemo(t, testConfig(t, true))
	a.runBackground(context.Background())
	t.Cleanup(a.stopBackground)
	return a, base
}

// startDemo serves a demo headquarters of cfg without its background
// work, the demo's history of dossiers left out.
func startDemo(t testing.TB, cfg config.Config) (*App, string) {
	t.Helper()
	a, srv := MustStart(t, cfg)
	a.bound.Store(srv.Listener.Addr().String())
	if err := store.SetMeta(context.Background(), a.DB, demo.DossiersKey, "left out by the test"); err != nil {
		t.Fatal(err)
	}
	// So are the demo's edXML packages (edxml_demo.go).
	if err := store.SetMeta(context.Background(), a.DB, records.DemoExchangeKey, "left out by the test"); err != nil {
		t.Fatal(err)
	}
	return a, srv.URL
}

// eventually polls cond until it holds or 20 seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, 20*time.Second, what, cond)
}

// eventuallyWithin is eventually with its own time limit.
func eventuallyWithin(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestDossierReachesOutsideAgenciesThroughTheExchange(t *testing.T) {
	a, _ := serveDemo(t)
	ctx := context.Background()
	citizen, err := a.Identity.CitizenByEmail(ctx, "citizen@example.com")
	if err != nil {
		t.Fatal(err)
	}
	clerk, err := a.Identity.StaffByUsername(ctx, "consular.clerk")
	if err != nil {
		t.Fatal(err)
	}

	// The form is prefilled from the National Population Database,
	// reached through the exchange.
	// The demo verified the citizen's identity number, which is the one
	// their forms are filled from.
	cctx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Citizen(citizen.ID, "")})
	var filled map[string]string
	eventually(t, "the population database through the exchange", func() bool {
		filled, err = a.Procedures.Prefill(cctx, citizen.Subject(), "1.900001")
		return err == nil
	})
	if filled["applicant.full_name"] != "Nguyễn Thị Lan" {
		t.Fatalf("prefilled = %v", filled)
	}

	// The citizen applies and pays the fee at the gateway simulator,
	// whose signed callback reaches this node.
	form := map[string]any{
		"applicant":     map[string]any{"full_name": filled["applicant.full_name"], "id_type": "cccd", "id_number": "001188004215", "email": citizen.Email},
		"document_name": "Giấy khai sinh", "issuing_authority": "UBND phường Kim Liên", "issue_date": "1988-03-20",
		"issuing_country": "VN", "copies": 1, "delivery": "counter", "declaration": true,
	}
	draft, err := a.Procedures.CreateDraft(cctx, citizen.Subject(), procedures.NewDraft{Procedure: "1.900001", UnitCode: "000.00.03.G12", Form: form, Prefilled: true})
	if err != nil {
		t.Fatal(err)
	}
	gw, _, err := a.paymentGateway()
	if err != nil || gw == nil {
		t.Fatalf("the demo has no payment gateway: %v", err)
	}
	page, err := checkout(gw)(ctx, procedures.PaymentOrder{ID: draft.ID, Amount: draft.FeeAmount, Currency: draft.FeeCurrency, Description: "test"},
		a.publicURL()+"/applications/"+draft.ID)
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(page, url.Values{"action": {"pay"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "status=paid") {
		t.Fatalf("paying at the gateway: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	eventually(t, "the gateway's callback", func() bool {
		d, err := a.Procedures.Draft(cctx, citizen.Subject(), draft.ID)
		return err == nil && !d.NeedsPayment()
	})
	if status, err := a.sims.ReplayPaymentCallback(ctx, draft.ID); err != nil || status != http.StatusConflict {
		t.Errorf("a replayed callback was answered %d (%v), want 409", status, err)
	}

	d, err := a.Procedures.SubmitDraft(cctx, citizen.Subject(), draft.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Prefilled || !d.PaidOnline {
		t.Errorf("dossier: prefilled %v, paid online %v", d.Prefilled, d.PaidOnline)
	}
	sctx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(clerk.ID, clerk.Username), UnitID: clerk.UnitID})
	if _, err := a.Procedures.Act(sctx, clerk.Subject(), d.Code, procedures.ActionRequest{Action: procedures.ActReceive}); err != nil {
		t.Fatal(err)
	}

	// Each status reaches the National Public Service Portal simulator
	// through the exchange, and the applicant gets each notice by mail.
	eventually(t, "statuses 1 and 2 at the national portal", func() bool {
		var got []int
		for _, u := range a.sims.NationalPortal().Updates(d.Code) { // newest first
			got = append(got, u.Status)
		}
		return slices.Equal(got, []int{2, 1})
	})
	eventually(t, "the notices in the mailbox", func() bool {
		n := 0
		for _, m := range a.mailbox.Messages() {
			if slices.Contains(m.To, citizen.Email) && strings.Contains(m.Subject, d.Code) {
				n++
			}
		}
		return n == 2
	})
	if lag, err := a.Procedures.Reconciliation(sctx, clerk.Subject(), 0); err != nil || len(lag) != 0 {
		t.Errorf("reconciliation after the sync = %+v, %v", lag, err)
	}
}

// submitInParis enters a dossier at the Paris embassy's counter as its
// demo clerk, and returns it with the clerk and the embassy.
func submitInParis(t *testing.T, a *App) (*procedures.Dossier, identity.StaffMember, identity.Unit) {
	t.Helper()
	ctx := context.Background()
	clerk, err := a.Identity.StaffByUsername(ctx, "paris.clerk")
	if err != nil {
		t.Fatal(err)
	}
	sctx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(clerk.ID, clerk.Username), UnitID: clerk.UnitID})
	paris, err := a.Identity.Unit(ctx, clerk.UnitID)
	if err != nil {
		t.Fatal(err)
	}
	form := map[string]any{
		"applicant":     map[string]any{"full_name": "Trần Văn Minh", "id_type": "passport", "id_number": "C1234567", "email": "minh@example.com"},
		"document_name": "Acte de naissance", "issuing_authority": "Mairie de Paris", "issue_date": "2020-01-10",
		"issuing_country": "FR", "copies": 1, "delivery": "counter", "declaration": true,
	}
	d, err := a.Procedures.Submit(sctx, clerk.Subject(), procedures.Submission{Procedure: "1.900003", UnitCode: paris.Code, Channel: procedures.ChannelInPerson, Form: form, Receipt: "BL-0001"})
	if err != nil {
		t.Fatal(err)
	}
	return d, clerk, paris
}

func TestMergingAUnitMovesItsOpenDossiers(t *testing.T) {
	a, _ := serveDemo(t)
	ctx := context.Background()
	d, _, paris := submitInParis(t, a)
	into, err := a.Identity.UnitByCode(ctx, "000.00.03.G12")
	if err != nil {
		t.Fatal(err)
	}
	actx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.System("test")})
	if _, err := a.Identity.MergeUnits(actx, "test", paris.ID, into.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	consular, err := a.Identity.StaffByUsername(ctx, "consular.clerk")
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Procedures.Get(audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(consular.ID, consular.Username)}), consular.Subject(), d.Code)
	if err != nil {
		t.Fatalf("the surviving unit cannot open the moved dossier: %v", err)
	}
	if got.UnitCode != into.Code || got.History[len(got.History)-1].Action != "transfer" {
		t.Errorf("moved dossier: unit %s, last entry %+v", got.UnitCode, got.History[len(got.History)-1])
	}
	if u, _ := a.Identity.Unit(ctx, paris.ID); u.Status != identity.UnitMerged {
		t.Errorf("paris = %s", u.Status)
	}
}
