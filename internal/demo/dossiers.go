package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/procedures"
	"chancery/internal/store"
)

// DossiersKey marks a database whose demo dossiers are recorded.
const DossiersKey = "procedures.demo_dossiers"

// The demo's dossiers are the Consular Department's (the "consular" unit
// above), filed by the demo citizens and worked by these staff members.
const (
	dossierUnit     = "consular"
	dossierClerk    = "consular.clerk"
	dossierOfficer  = "consular.officer"
	dossierApprover = "consular.approver"
)

// lookupWait bounds how long SeedDossiers waits for the exchange to put a
// population lookup through before it records the dossiers anyway.
const lookupWait = 10 * time.Second

// SeedDossiers verifies the demo citizens' identity numbers (as a clerk
// does at the counter, so their forms may be prefilled) on every serve,
// for an account that has none yet; and, once per database, records half
// a year of the Consular Department's dossiers (procedures.SeedDemo). It
// runs in the background of a demo headquarters' serve, beside the
// exchange's gateway, and first waits (up to lookupWait, or until ctx
// ends) for a population lookup to go through, so that applications are
// prefilled from the population simulator as they would be.
func SeedDossiers(ctx context.Context, db *store.DB, dir *identity.Service, svc *procedures.Service) error {
	sys := audit.WithOrigin(ctx, audit.Origin{Actor: audit.System(actor)})
	people := procedures.DemoPeople{UnitCode: unitCode(dossierUnit)}
	for _, c := range citizens {
		citizen, err := dir.CitizenByEmail(ctx, c.email)
		if err != nil {
			return fmt.Errorf("demo: citizen %s: %w", c.email, err)
		}
		_, err = svc.VerifiedIDNumber(ctx, citizen.ID)
		if errors.Is(err, errs.ErrNotFound) {
			err = svc.VerifyIdentity(sys, authz.Subject{Kind: authz.System}, citizen.ID, c.idNumber)
		}
		if err != nil {
			return fmt.Errorf("demo: verify the citizen %s's identity number: %w", c.email, err)
		}
		people.Citizens = append(people.Citizens, procedures.DemoCitizen{Subject: citizen.Subject(), Name: citizen.FullName,
			Email: citizen.Email, IDNumber: c.idNumber, DOB: c.dob, Sex: c.sex})
	}
	if _, err := db.Meta(ctx, DossiersKey); err == nil {
		return nil
	} else if !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	for username, into := range map[string]*procedures.DemoStaff{dossierClerk: &people.Clerk, dossierOfficer: &people.Officer, dossierApprover: &people.Approver} {
		m, err := dir.StaffByUsername(ctx, username)
		if err != nil {
			return fmt.Errorf("demo: staff member %s: %w", username, err)
		}
		*into = procedures.DemoStaff{Subject: m.Subject(), Username: m.Username}
	}
	waitForLookups(ctx, svc, people.Citizens[0])
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := procedures.SeedDemo(ctx, svc, people, time.Now()); err != nil {
		return fmt.Errorf("demo: dossiers: %w", err)
	}
	return store.SetMeta(ctx, db, DossiersKey, time.Now().UTC().Format(time.RFC3339))
}

// waitForLookups returns once citizen's form can be prefilled through the
// exchange, whose gateway starts beside the seeding, or after lookupWait
// or when ctx ends. A lookup that does not reach the database does not
// count against the citizen's allowance of lookups, so trying again is
// free.
func waitForLookups(ctx context.Context, svc *procedures.Service, c procedures.DemoCitizen) {
	ctx, cancel := context.WithTimeout(ctx, lookupWait)
	defer cancel()
	as := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Citizen(c.Subject.ID, "")})
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := svc.Prefill(as, c.Subject, "1.900001"); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// unitCode returns the agency code of the seeded unit key.
func unitCode(key string) string {
	for _, u := range units {
		if u.key == key {
			return u.code
		}
	}
	panic("demo: no unit " + key) // the demo's own tables
}
