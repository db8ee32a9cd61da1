package compliance

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// The checks find what is wrong and link each finding to its evidence: a
// cleared officer without a second factor, clearances granted by one
// person (but not one approved by a second), privileged accounts never or
// long ago signed in (but not one signed in last week), the ledger never
// verified until a security officer verifies it, and no record of
// backups. Auditors read; only security officers verify; clerks read
// nothing.
func TestChecksFindAndLinkEvidence(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
		ring := audittest.MustRing(t)
		l := audittest.MustLedgerWith(t, db, ring, audit.Options{})
		dir := identity.NewService(db, l, nil)
		root, err := dir.CreateUnit(ctx, "test", identity.NewUnit{Code: "000.00.00.G12", NameVI: "Bộ", NameEN: "Ministry",
			Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
		if err != nil {
			t.Fatal(err)
		}
		staff := func(username string, level authz.Level, roles ...authz.Role) authz.Subject {
			m, err := dir.SeedStaff(ctx, "test", identity.NewStaff{Username: username, FullName: username, UnitID: root.ID, Roles: authz.RolesOf(roles...), Clearance: level})
			if err != nil {
				t.Fatal(err)
			}
			return m.Subject()
		}
		officer := staff("security.officer", authz.Secret, authz.SecurityOfficer)
		auditor := staff("auditor", authz.Unclassified, authz.Auditor)
		admin := staff("admin", authz.Unclassified, authz.Administrator)
		clerk := staff("clerk", authz.Confidential, authz.Clerk)
		approved := staff("approved", authz.Secret, authz.Officer)
		now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
		if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO staff_proposals (staff_id, based_version, roles, clearance, old_roles, old_clearance,
			proposed_by, proposer, proposed_at, status, decided_by, decider, decided_at) VALUES (?, 1, 'officer', 2, 'officer', 0, ?, 'admin', ?, 'approved', ?, 'security.officer', ?)`),
			approved.ID, admin.ID, now, officer.ID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO credentials (principal_kind, principal_id, totp_enabled, updated_at) VALUES ('staff', ?, ?, ?)`), auditor.ID, true, now); err != nil {
			t.Fatal(err)
		}
		login := func(sub authz.Subject, at time.Time) {
			e := audit.Event{Time: at, Actor: audit.Staff(sub.ID, "x"), Action: "login", Outcome: audit.OK}
			if _, err := l.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		login(auditor, now.Add(-7*24*time.Hour))
		login(admin, now.Add(-200*24*time.Hour))
		if _, err := l.Integrate(ctx); err != nil {
			t.Fatal(err)
		}
		svc, err := NewService(Options{DB: db, Ledger: l, Keys: ring, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Report(ctx, clerk); err == nil {
			t.Error("a clerk read the compliance report")
		}
		rep, err := svc.Report(ctx, auditor)
		if err != nil {
			t.Fatal(err)
		}
		checks := map[string]Check{}
		for _, c := range rep.Checks {
			checks[c.ID] = c
		}
		subjects := func(id string) map[string]string {
			out := map[string]string{}
			for _, f := range checks[id].Findings {
				out[f.Subject] = f.Evidence
			}
			return out
		}
		if m := subjects("mfa"); checks["mfa"].Status != Fail || m["security.officer"] != "/console/users/"+strconv.FormatInt(officer.ID, 10) ||
			m["auditor"] != "" || m["admin"] == "" || m["clerk"] == "" {
			t.Errorf("mfa: %+v", checks["mfa"])
		}
		if m := subjects("two_person"); m["security.officer"] == "" || m["clerk"] == "" || m["approved"] != "" || m["admin"] != "" {
			t.Errorf("two_person: %+v", checks["two_person"])
		}
		if m := subjects("dormant"); m["security.officer"] == "" || m["admin"] == "" || m["auditor"] != "" || len(m) != 2 {
			t.Errorf("dormant: %+v", checks["dormant"])
		}
		if checks["verification"].Status != NoRecord || checks["backups"].Status != NoRecord || checks["signing_key"].Status != Pass {
			t.Errorf("verification %+v, backups %+v, signing key %+v", checks["verification"], checks["backups"], checks["signing_key"])
		}
		if _, err := svc.Verify(audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(auditor.ID, "auditor")}), auditor); err == nil {
			t.Error("an auditor ran a verification")
		}
		if _, err := svc.Verify(audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(officer.ID, "security.officer")}), officer); err != nil {
			t.Fatal(err)
		}
		rep, err = svc.Report(ctx, officer)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rep.Checks {
			if c.ID == "verification" && (c.Status != Pass || c.At.IsZero()) {
				t.Errorf("after a verification: %+v", c)
			}
		}
		var ref *authz.Refusal
		if _, err := svc.Report(ctx, authz.Subject{}); !errors.As(err, &ref) {
			t.Errorf("anonymous: %v", err)
		}
	})
}
