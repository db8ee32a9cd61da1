package procedures

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// lookupEvents returns the end user and purpose of each population lookup
// in the audit ledger, in order.
func (f *fixture) lookupEvents(t testing.TB) [][2]string {
	t.Helper()
	rows, err := f.db.QueryContext(context.Background(), f.db.Rebind(`SELECT attrs FROM audit_events WHERE action = ? ORDER BY id`), "population.lookup")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var attrs map[string]string
		if err := json.Unmarshal([]byte(raw), &attrs); err != nil {
			t.Fatal(err)
		}
		out = append(out, [2]string{attrs["end_user"], attrs["purpose"]})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEveryLookupIsDecidedLimitedAndAudited pins issue 10's item 5 in the
// service: a clerk's lookup at the counter states a purpose, only the
// counter's roles look applicants up, a citizen's form is checked only
// against their own verified number, every lookup is audited with its end
// user and purpose and carries both to the database, and an account's
// lookups are limited.
func TestEveryLookupIsDecidedLimitedAndAudited(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.clerk)
		if _, err := f.svc.CounterLookup(ctx, f.clerk, "1.900001", "036079001187", " \u202e "); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a counter lookup without a purpose = %v, want invalid", err)
		}
		if _, err := f.svc.CounterLookup(f.as(f.officer), f.officer, "1.900001", "036079001187", "dossier X"); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an officer's counter lookup = %v, want forbidden", err)
		}
		if _, err := f.svc.CounterLookup(f.as(f.citizen), f.citizen, "1.900001", "036079001187", "curiosity"); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a citizen's counter lookup = %v, want forbidden", err)
		}
		if len(f.population.queries()) != 0 {
			t.Fatalf("refused lookups reached the database: %+v", f.population.queries())
		}
		values, err := f.svc.CounterLookup(ctx, f.clerk, "1.900001", "036079001187", "applicant at the counter for legalization")
		if err != nil || values["applicant.full_name"] != "Trần Văn Minh" {
			t.Fatalf("the clerk's lookup = %v, %v", values, err)
		}
		clerk := fmt.Sprintf("staff:%d", f.clerk.ID)
		want := PopulationQuery{IDNumber: "036079001187", EndUser: clerk, Purpose: "counter: applicant at the counter for legalization"}
		if q := f.population.queries(); len(q) != 1 || q[0] != want {
			t.Errorf("the database was asked %+v, want %+v", q, want)
		}
		if ev := f.lookupEvents(t); len(ev) != 1 || ev[0] != [2]string{clerk, want.Purpose} {
			t.Errorf("audited lookups = %v, want the clerk's with its purpose", ev)
		}

		// A citizen's form naming another's number is not looked up.
		form := legalizationForm()
		form["applicant"].(map[string]any)["id_number"] = "036079001187"
		form["applicant"].(map[string]any)["full_name"] = "Trần Văn Minh"
		d, err := f.svc.CreateDraft(f.as(f.citizen), f.citizen, NewDraft{Procedure: "1.900001", UnitCode: consularCode, Form: form, Prefilled: true})
		if err != nil {
			t.Fatal(err)
		}
		if d.Prefilled || len(f.population.queries()) != 1 {
			t.Errorf("a form with another's number: prefilled %v after %d lookups, want not prefilled and no lookup", d.Prefilled, len(f.population.queries()))
		}

		// The clerk's allowance runs out; the citizen's is their own.
		var limited error
		for range lookupBurst {
			if _, limited = f.svc.CounterLookup(ctx, f.clerk, "1.900001", "001188004215", "queue of the day"); limited != nil {
				break
			}
		}
		if !errors.Is(limited, errs.ErrRateLimited) {
			t.Errorf("lookup %d in a row = %v, want rate-limited", lookupBurst+1, limited)
		}
		if _, err := f.svc.Prefill(f.as(f.citizen), f.citizen, "1.900001"); err != nil {
			t.Errorf("the citizen's prefill while the clerk is limited = %v", err)
		}
		f.clock.Advance(lookupEvery)
		if _, err := f.svc.CounterLookup(ctx, f.clerk, "1.900001", "001188004215", "next applicant"); err != nil {
			t.Errorf("the clerk's lookup after waiting = %v", err)
		}
	})
}

// TestVerifyingAnIdentityNumberIsTheCountersAndAudited pins who may set
// the number a citizen's forms are filled from.
func TestVerifyingAnIdentityNumberIsTheCountersAndAudited(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		path := fmt.Sprintf("/api/v1/citizens/%d/identity-number", a.other.ID)
		for _, who := range []authz.Subject{a.officer, a.citizen, a.other} {
			if rec := a.callJSON(t, who, "PUT", path, map[string]string{"id_number": "036079001187"}); rec.Code != http.StatusForbidden {
				t.Errorf("%v verifying a number = %d, want 403", who.Roles.List(), rec.Code)
			}
		}
		if rec := a.callJSON(t, a.clerk, "PUT", path, map[string]string{"id_number": "0360790011\x00"}); rec.Code != http.StatusBadRequest {
			t.Errorf("a malformed number = %d, want 400", rec.Code)
		}
		if _, err := a.svc.VerifiedIDNumber(context.Background(), a.other.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("refused verifications left a number: %v", err)
		}
		if rec := a.callJSON(t, a.clerk, "PUT", path, map[string]string{"id_number": "036079001187"}); rec.Code != http.StatusNoContent {
			t.Fatalf("the clerk's verification = %d %s", rec.Code, rec.Body)
		}
		if id, err := a.svc.VerifiedIDNumber(context.Background(), a.other.ID); err != nil || id != "036079001187" {
			t.Errorf("verified number = %q, %v", id, err)
		}
		if values, err := a.svc.Prefill(a.as(a.other), a.other, "1.900001"); err != nil || values["applicant.full_name"] != "Trần Văn Minh" {
			t.Errorf("the newly verified citizen's prefill = %v, %v", values, err)
		}
		rec := a.callJSON(t, a.clerk, "POST", "/api/v1/population/lookups", map[string]string{"procedure_code": "1.900001", "id_number": "001188004215"})
		if rec.Code != http.StatusBadRequest {
			t.Errorf("a counter lookup without a purpose over the API = %d, want 400", rec.Code)
		}
		rec = a.callJSON(t, a.clerk, "POST", "/api/v1/population/lookups", map[string]string{"procedure_code": "1.900001", "id_number": "001188004215", "purpose": "dossier at the counter"})
		if rec.Code != http.StatusOK {
			t.Errorf("a counter lookup over the API = %d %s", rec.Code, rec.Body)
		}
		var n int
		if err := db.QueryRowContext(context.Background(), db.Rebind(`SELECT COUNT(*) FROM audit_events WHERE action = ?`), "citizen.identity_verified").Scan(&n); err != nil || n != 2 {
			t.Errorf("identity verifications audited: %d, %v, want 2 (the fixture's and the clerk's)", n, err)
		}
	})
}
