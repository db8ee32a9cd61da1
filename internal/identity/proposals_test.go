package identity_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// grants is a directory with an administrator, two security officers
// cleared secret and top secret, and an uncleared clerk to grant things to.
type grants struct {
	s                  *identity.Service
	l                  *audit.Ledger
	tr                 tree
	admin, secret, top identity.StaffMember
	clerk              identity.StaffMember
}

func newGrants(t *testing.T, db *store.DB) *grants {
	t.Helper()
	g := &grants{}
	g.s, g.l = newClock().audited(t, db)
	g.tr = newTree(t, g.s)
	g.admin = mustStaff(t, g.s, "admin", g.tr.root.ID, authz.Administrator)
	g.secret = seedStaff(t, g.s, "secret.officer", g.tr.root.ID, authz.Secret, authz.SecurityOfficer)
	g.top = seedStaff(t, g.s, "top.officer", g.tr.root.ID, authz.TopSecret, authz.SecurityOfficer)
	g.clerk = mustStaff(t, g.s, "clerk", g.tr.consular.ID, authz.Clerk)
	return g
}

// staff reloads a staff member.
func (g *grants) staff(t *testing.T, m identity.StaffMember) identity.StaffMember {
	t.Helper()
	got, err := g.s.Staff(testCtx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// wantRefused checks that err is of kind and says why.
func wantRefused(t *testing.T, err error, kind error, why string) {
	t.Helper()
	if !errors.Is(err, kind) || !strings.Contains(err.Error(), why) {
		t.Fatalf("error = %v; want %v saying %q", err, kind, why)
	}
}

// events returns the ledger's events of action on staff member id.
func (g *grants) events(t *testing.T, action string, id int64) []audit.Event {
	t.Helper()
	if _, err := g.l.Integrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	es, err := g.l.Search(context.Background(), audit.Query{Action: action, ResourceType: "staff", ResourceID: strconv.FormatInt(id, 10)})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestAGrantTakesAnAdministratorAndASecurityOfficerClearedAsHigh(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		g := newGrants(t, db)
		asAdmin := as(g.admin)
		top := authz.TopSecret

		// One person cannot grant, neither to an existing account nor to
		// a new one.
		_, err := g.s.UpdateStaff(asAdmin, "admin", g.clerk.ID, identity.StaffPatch{Clearance: &top, Version: g.clerk.Version})
		wantRefused(t, err, errs.ErrForbidden, string(authz.ReasonNeedsApproval))
		_, err = g.s.CreateStaff(asAdmin, "admin", identity.NewStaff{Username: "spy", FullName: "Spy", UnitID: g.tr.root.ID, Clearance: authz.Secret})
		wantRefused(t, err, errs.ErrForbidden, string(authz.ReasonNeedsApproval))
		if _, err := g.s.StaffByUsername(testCtx, "spy"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("the refused account exists: %v", err)
		}
		// Neither can the host's operator at the command line.
		_, err = g.s.UpdateStaff(testCtx, "cli", g.clerk.ID, identity.StaffPatch{Clearance: &top, Version: g.clerk.Version})
		wantRefused(t, err, errs.ErrForbidden, string(authz.ReasonNeedsApproval))

		// The administrator proposes; nothing changes yet.
		same, p, err := g.s.ChangeStaff(asAdmin, "admin", g.clerk.ID, identity.StaffPatch{Clearance: &top, Version: g.clerk.Version})
		if err != nil || p == nil || p.Status != identity.ProposalPending || p.Clearance != authz.TopSecret || p.ProposedBy != g.admin.ID {
			t.Fatalf("ChangeStaff = %+v, %v", p, err)
		}
		if same != g.clerk || g.staff(t, g.clerk) != g.clerk {
			t.Fatalf("the proposal changed the account: %+v", g.staff(t, g.clerk))
		}
		if es := g.events(t, "staff.propose", g.clerk.ID); len(es) != 1 || es[0].Actor != audit.Staff(g.admin.ID, "admin") ||
			es[0].Attrs["clearance"] != "top_secret" || es[0].Attrs["proposal"] != strconv.FormatInt(p.ID, 10) {
			t.Fatalf("staff.propose events = %+v", es)
		}

		// An administrator cannot grant above the approver's clearance;
		// nor approve at all.
		_, _, err = g.s.ApproveProposal(as(g.secret), p.ID)
		wantRefused(t, err, errs.ErrForbidden, "yours is secret, the proposal grants top_secret")
		_, _, err = g.s.ApproveProposal(asAdmin, p.ID)
		wantRefused(t, err, errs.ErrForbidden, string(authz.ReasonOwnProposal))
		other := mustStaff(t, g.s, "other.admin", g.tr.root.ID, authz.Administrator)
		_, _, err = g.s.ApproveProposal(as(other), p.ID)
		wantRefused(t, err, errs.ErrForbidden, string(authz.ReasonNoRole))
		_, _, err = g.s.ApproveProposal(testCtx, p.ID)
		wantRefused(t, err, errs.ErrForbidden, string(authz.ReasonApproverNotStaff))
		if got := g.staff(t, g.clerk); got != g.clerk {
			t.Fatalf("a refused approval changed the account: %+v", got)
		}

		after, decided, err := g.s.ApproveProposal(as(g.top), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Clearance != authz.TopSecret || after.Version != g.clerk.Version+1 || g.staff(t, g.clerk) != after ||
			decided.Status != identity.ProposalApproved || decided.DecidedBy != g.top.ID {
			t.Fatalf("approved: %+v, %+v", after, decided)
		}
		if es := g.events(t, "staff.approve", g.clerk.ID); len(es) != 1 || es[0].Actor != audit.Staff(g.top.ID, "top.officer") ||
			es[0].Attrs["proposer"] != "admin" || es[0].Attrs["clearance"] != "top_secret" {
			t.Fatalf("staff.approve events = %+v", es)
		}
		if es := g.events(t, "staff.update", g.clerk.ID); len(es) != 1 || es[0].Attrs["clearance"] != "top_secret" || es[0].Attrs["proposal"] == "" {
			t.Fatalf("staff.update events = %+v", es)
		}
		_, _, err = g.s.ApproveProposal(as(g.top), p.ID)
		wantRefused(t, err, errs.ErrConflict, "already approved")
		if _, _, err := g.s.ApproveProposal(as(g.top), 9999); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("approving an unknown proposal = %v, want ErrNotFound", err)
		}
	})
}

func TestNobodyChangesTheirOwnRolesOrClearance(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		g := newGrants(t, db)
		boss := seedStaff(t, g.s, "boss", g.tr.root.ID, authz.Secret, authz.Administrator, authz.SecurityOfficer)
		asBoss := as(boss)
		top, none, roles := authz.TopSecret, authz.Unclassified, authz.RolesOf(authz.Administrator, authz.SecurityOfficer, authz.Clerk)
		for name, p := range map[string]identity.StaffPatch{
			"raise the clearance": {Clearance: &top, Version: boss.Version},
			"lower the clearance": {Clearance: &none, Version: boss.Version},
			"add a role":          {Roles: &roles, Version: boss.Version},
		} {
			_, _, err := g.s.ChangeStaff(asBoss, "boss", boss.ID, p)
			if !errors.Is(err, errs.ErrForbidden) || !strings.Contains(err.Error(), string(authz.ReasonOwnAccount)) {
				t.Errorf("%s of one's own account: %v; want forbidden", name, err)
			}
		}
		if got := g.staff(t, boss); got != boss {
			t.Fatalf("a refused change changed the account: %+v", got)
		}
		// Renaming oneself is no grant.
		name := "Sếp"
		if _, _, err := g.s.ChangeStaff(asBoss, "boss", boss.ID, identity.StaffPatch{FullName: &name, Version: boss.Version}); err != nil {
			t.Fatalf("renaming oneself: %v", err)
		}

		// Nobody approves their own proposal, or a grant to themselves.
		_, p, err := g.s.ChangeStaff(asBoss, "boss", g.clerk.ID, identity.StaffPatch{Clearance: &top, Version: g.clerk.Version})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = g.s.ApproveProposal(asBoss, p.ID)
		wantRefused(t, err, errs.ErrForbidden, string(authz.ReasonOwnProposal))
		_, toSecret, err := g.s.ChangeStaff(as(g.admin), "admin", g.secret.ID, identity.StaffPatch{Clearance: &top, Version: g.secret.Version})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = g.s.ApproveProposal(as(g.secret), toSecret.ID)
		wantRefused(t, err, errs.ErrForbidden, string(authz.ReasonOwnAccount))
		if got := g.staff(t, g.secret); got.Clearance != authz.Secret {
			t.Fatalf("the officer raised their own clearance: %+v", got)
		}
	})
}

func TestOnlyTheGrantWaitsForApproval(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		g := newGrants(t, db)
		asAdmin := as(g.admin)
		// The clerk role goes and the officer role comes at once; the
		// auditor role and the clearance wait.
		roles, level := authz.RolesOf(authz.Officer, authz.Auditor), authz.Confidential
		now, p, err := g.s.ChangeStaff(asAdmin, "admin", g.clerk.ID, identity.StaffPatch{Roles: &roles, Clearance: &level, Version: g.clerk.Version})
		if err != nil {
			t.Fatal(err)
		}
		if now.Roles != authz.RolesOf(authz.Officer) || now.Clearance != authz.Unclassified || now.Version != g.clerk.Version+1 {
			t.Fatalf("made at once: %+v", now)
		}
		if p == nil || p.Roles != roles || p.Clearance != level || p.OldRoles != now.Roles || p.BasedVersion != now.Version {
			t.Fatalf("proposed: %+v", p)
		}
		// A new proposal for the account supersedes the pending one.
		secret := authz.Secret
		_, p2, err := g.s.ChangeStaff(asAdmin, "admin", g.clerk.ID, identity.StaffPatch{Clearance: &secret, Version: now.Version})
		if err != nil {
			t.Fatal(err)
		}
		old, _ := g.s.Proposal(testCtx, p.ID)
		pending, _, _ := g.s.ListProposals(testCtx, identity.ProposalFilter{Status: identity.ProposalPending})
		if old.Status != identity.ProposalSuperseded || len(pending) != 1 || pending[0].ID != p2.ID || p2.Roles != now.Roles {
			t.Fatalf("after a second proposal: old %+v, pending %+v", old, pending)
		}
		// A new account gets what one person may give, and a proposal.
		m, p3, err := g.s.AddStaff(asAdmin, "admin", identity.NewStaff{Username: "new.officer", FullName: "Cán bộ mới", UnitID: g.tr.root.ID,
			Roles: authz.RolesOf(authz.SecurityOfficer, authz.Clerk), Clearance: authz.Secret})
		if err != nil {
			t.Fatal(err)
		}
		if m.Roles != authz.RolesOf(authz.Clerk) || m.Clearance != authz.Unclassified || p3 == nil ||
			p3.Roles != authz.RolesOf(authz.SecurityOfficer, authz.Clerk) || p3.Clearance != authz.Secret || p3.StaffID != m.ID {
			t.Fatalf("AddStaff = %+v, %+v", m, p3)
		}
		if _, _, err := g.s.ApproveProposal(as(g.secret), p3.ID); err != nil {
			t.Fatal(err)
		}
		if got := g.staff(t, m); got.Roles != p3.Roles || got.Clearance != authz.Secret {
			t.Fatalf("after approval: %+v", got)
		}
		// Nothing to approve is no proposal.
		m2, none, err := g.s.AddStaff(asAdmin, "admin", identity.NewStaff{Username: "plain", FullName: "Cán bộ", UnitID: g.tr.root.ID})
		if err != nil || none != nil || m2.ID == 0 {
			t.Fatalf("AddStaff without a grant = %+v, %+v, %v", m2, none, err)
		}
	})
}

func TestApprovalIsRefusedOnceTheAccountChanged(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		g := newGrants(t, db)
		asAdmin := as(g.admin)
		level := authz.Secret
		_, p, err := g.s.ChangeStaff(asAdmin, "admin", g.clerk.ID, identity.StaffPatch{Clearance: &level, Version: g.clerk.Version})
		if err != nil {
			t.Fatal(err)
		}
		unit := g.tr.press.ID
		moved, err := g.s.UpdateStaff(asAdmin, "admin", g.clerk.ID, identity.StaffPatch{UnitID: &unit, Version: g.clerk.Version})
		if err != nil {
			t.Fatal(err)
		}
		if stale, _ := g.s.Proposal(testCtx, p.ID); !stale.Stale {
			t.Fatalf("the proposal is not stale after the account changed: %+v", stale)
		}
		_, _, err = g.s.ApproveProposal(as(g.top), p.ID)
		wantRefused(t, err, errs.ErrConflict, "changed since proposal")
		if got := g.staff(t, g.clerk); got != moved {
			t.Fatalf("a refused approval changed the account: %+v", got)
		}
		// A clerk may not reject; a security officer of any clearance may,
		// with a note that is checked like any text.
		_, err = g.s.RejectProposal(as(g.clerk), p.ID, "")
		wantRefused(t, err, errs.ErrForbidden, string(authz.ReasonNoRole))
		_, err = g.s.RejectProposal(as(g.secret), p.ID, "bad\x00note")
		wantField(t, err, "note")
		rejected, err := g.s.RejectProposal(as(g.secret), p.ID, "changed unit; propose again")
		if err != nil || rejected.Status != identity.ProposalRejected || rejected.Note != "changed unit; propose again" {
			t.Fatalf("RejectProposal = %+v, %v", rejected, err)
		}
		if es := g.events(t, "staff.reject", g.clerk.ID); len(es) != 1 || es[0].Actor != audit.Staff(g.secret.ID, "secret.officer") {
			t.Fatalf("staff.reject events = %+v", es)
		}
		// The proposer may withdraw their own.
		_, p2, err := g.s.ChangeStaff(asAdmin, "admin", g.clerk.ID, identity.StaffPatch{Clearance: &level, Version: moved.Version})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.s.RejectProposal(asAdmin, p2.ID, ""); err != nil {
			t.Fatalf("withdrawing one's own proposal: %v", err)
		}
	})
}

func TestTheLastAdministratorAndSecurityOfficerStay(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		g := newGrants(t, db)
		none := authz.Roles(0)
		yes := true
		// The host's operator removing the only administrator's role.
		_, err := g.s.UpdateStaff(testCtx, "cli", g.admin.ID, identity.StaffPatch{Roles: &none, Version: g.admin.Version})
		wantRefused(t, err, errs.ErrConflict, "last active administrator")
		// The only administrator disabling themselves.
		_, err = g.s.UpdateStaff(as(g.admin), "admin", g.admin.ID, identity.StaffPatch{Disabled: &yes, Version: g.admin.Version})
		wantRefused(t, err, errs.ErrConflict, "last active administrator")
		// Security officers: one of the two may go, not both.
		if _, err := g.s.UpdateStaff(as(g.admin), "admin", g.secret.ID, identity.StaffPatch{Disabled: &yes, Version: g.secret.Version}); err != nil {
			t.Fatal(err)
		}
		_, err = g.s.UpdateStaff(as(g.admin), "admin", g.top.ID, identity.StaffPatch{Roles: &none, Version: g.top.Version})
		wantRefused(t, err, errs.ErrConflict, "last active security_officer")
		if got := g.staff(t, g.top); got != g.top {
			t.Fatalf("a refused change changed the account: %+v", got)
		}
		// With a second administrator, the first may lose the role.
		second := mustStaff(t, g.s, "second.admin", g.tr.root.ID, authz.Administrator)
		if _, err := g.s.UpdateStaff(as(second), "second", g.admin.ID, identity.StaffPatch{Roles: &none, Version: g.admin.Version}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestConcurrentRemovalsLeaveAnAdministrator removes the administrator
// role of the last two administrators at the same moment: one removal
// wins, the other is refused, on both databases.
func TestConcurrentRemovalsLeaveAnAdministrator(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		g := newGrants(t, db)
		for round := range 4 {
			a := mustStaff(t, g.s, fmt.Sprintf("admin.a%d", round), g.tr.root.ID, authz.Administrator)
			b := mustStaff(t, g.s, fmt.Sprintf("admin.b%d", round), g.tr.root.ID, authz.Administrator)
			// Only a and b hold the role when the round starts.
			none := authz.Roles(0)
			holders, _, err := g.s.ListStaff(testCtx, identity.StaffFilter{Roles: authz.RolesOf(authz.Administrator)})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range holders {
				if m.ID != a.ID && m.ID != b.ID {
					if _, err := g.s.UpdateStaff(testCtx, "t", m.ID, identity.StaffPatch{Roles: &none, Version: m.Version}); err != nil {
						t.Fatal(err)
					}
				}
			}
			start := make(chan struct{})
			errsOf := make([]error, 2)
			var wg sync.WaitGroup
			for i, m := range []identity.StaffMember{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					// Round by round, the removal comes from the host's
					// operator or from the other administrator.
					ctx, other := testCtx, b
					if i == 1 {
						other = a
					}
					if round%2 == 1 {
						ctx = as(other)
					}
					_, errsOf[i] = g.s.UpdateStaff(ctx, "t", m.ID, identity.StaffPatch{Roles: &none, Version: m.Version})
				}()
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errsOf {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, errs.ErrConflict) && !errors.Is(err, errs.ErrForbidden):
					t.Fatalf("round %d: unexpected error %v", round, err)
				}
			}
			admins, _, err := g.s.ListStaff(testCtx, identity.StaffFilter{Roles: authz.RolesOf(authz.Administrator)})
			if err != nil {
				t.Fatal(err)
			}
			if ok != 1 || len(admins) != 1 {
				t.Fatalf("round %d: %d removals succeeded (%v), %d administrators left; want exactly one of each", round, ok, errsOf, len(admins))
			}
		}
	})
}
