package records

import (
	"context"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// demoPeople adds the demo's records staff to f, with the demo's roles
// and clearances (internal/demo), and returns them.
func demoPeople(t testing.TB, f *fixture) DemoPeople {
	t.Helper()
	const office, consular, cipher = "000.00.01.G12", "000.00.03.G12", "000.00.09.G12"
	m := func(name, unit string, l authz.Level, r authz.Role) DemoStaff {
		return DemoStaff{Subject: f.addStaff(t, "demo."+name, unit, l, r), Username: "demo." + name}
	}
	return DemoPeople{
		OfficeClerk: m("office.clerk", office, authz.Confidential, authz.Clerk), OfficeApprover: m("office.approver", office, authz.Secret, authz.Approver),
		OfficeSecretClerk: m("office.secretclerk", office, authz.Secret, authz.Clerk),
		ConsularClerk:     m("consular.clerk", consular, authz.Unclassified, authz.Clerk), ConsularOfficer: m("consular.officer", consular, authz.Confidential, authz.Officer),
		ConsularApprover: m("consular.approver", consular, authz.Confidential, authz.Approver), ConsularSecretClerk: m("consular.secretclerk", consular, authz.Confidential, authz.Clerk),
		CipherOfficer: m("cipher.officer", cipher, authz.TopSecret, authz.Officer), CipherClerk: m("cipher.clerk", cipher, authz.TopSecret, authz.Clerk),
		CipherApprover: m("cipher.approver", cipher, authz.TopSecret, authz.Approver),
	}
}

// TestSeedDemo pins the demo's records: a year of the three units'
// documents, dozens classified at each level their cleared staff hold,
// scanned paper, overdue handling, case files, registers numbered in
// date order, a history the assistant learns from better than the
// baseline, and each demo member seeing only what clearance and unit
// allow.
func TestSeedDemo(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := demoPeople(t, f)
		ctx := context.Background()
		// The demo starts now; the fixture's clock stays for the service's
		// own steps.
		start := time.Now()
		if err := SeedDemo(ctx, f.svc, p, f.clock.now()); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: seeded in %v", db.Dialect, time.Since(start).Round(time.Millisecond))
		count := func(query string, args ...any) int {
			t.Helper()
			var n int
			if err := db.QueryRowContext(ctx, db.Rebind(query), args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(`SELECT COUNT(*) FROM record_documents`); n < 550 {
			t.Errorf("%d documents, want a year's (≥ 550)", n)
		}
		for _, c := range []struct {
			unit  int64
			level authz.Level
		}{
			{p.OfficeClerk.Subject.Unit, authz.Confidential}, {p.OfficeClerk.Subject.Unit, authz.Secret},
			{p.ConsularClerk.Subject.Unit, authz.Confidential},
			{p.CipherClerk.Subject.Unit, authz.Confidential}, {p.CipherClerk.Subject.Unit, authz.Secret}, {p.CipherClerk.Subject.Unit, authz.TopSecret},
		} {
			if n := count(`SELECT COUNT(*) FROM record_documents WHERE unit_id = ? AND level = ?`, c.unit, int(c.level)); n < 24 {
				t.Errorf("unit %d has %d %s documents, want dozens", c.unit, n, c.level)
			}
		}
		if n := count(`SELECT COUNT(*) FROM record_contents WHERE media_type = 'image/png'`); n < 20 {
			t.Errorf("%d scanned documents, want some", n)
		}
		if n := count(`SELECT COUNT(*) FROM record_case_files WHERE closed_us > 0`); n == 0 {
			t.Error("last year's case files are not closed")
		}
		if n := count(`SELECT COUNT(*) FROM record_filings`); n < 200 {
			t.Errorf("%d documents filed, want most", n)
		}
		if n := count(`SELECT COUNT(*) FROM record_steps WHERE action = 'comment'`); n < 100 {
			t.Errorf("%d handling steps, want many", n)
		}
		// Registers run in date order, each series from 1 without gaps.
		if n := count(`SELECT COUNT(*) FROM record_documents a JOIN record_documents b ON a.unit_id = b.unit_id AND a.series = b.series
			AND a.register_year = b.register_year AND a.register_number < b.register_number
			WHERE a.register_number > 0 AND a.doc_date_us > b.doc_date_us AND a.direction = 'outgoing'`); n != 0 {
			t.Errorf("%d pairs of issued documents numbered out of date order", n)
		}
		if n := count(`SELECT COUNT(*) FROM record_documents a JOIN record_documents b ON a.unit_id = b.unit_id AND a.series = b.series
			AND a.register_year = b.register_year AND a.register_number < b.register_number
			WHERE a.direction = 'incoming' AND a.created_us > b.created_us`); n != 0 {
			t.Errorf("%d pairs of incoming documents numbered out of order of arrival", n)
		}
		if n := count(`SELECT COUNT(*) FROM (SELECT unit_id, series, register_year FROM record_documents WHERE register_number > 0
			GROUP BY unit_id, series, register_year HAVING MAX(register_number) != COUNT(*)) g`); n != 0 {
			t.Errorf("%d registers with gaps or duplicates", n)
		}
		// Overdue items for the Office's leader to chase.
		if over := f.search(t, p.OfficeApprover.Subject, Query{Overdue: true}); over.Total == 0 {
			t.Error("nothing overdue")
		}
		// The assistant learns the Office's types better than always
		// guessing the most frequent one.
		evs, err := EvaluateSuggestions(ctx, db, p.OfficeClerk.Subject.Unit)
		if err != nil {
			t.Fatal(err)
		}
		for _, fs := range evs[0].Fields {
			t.Logf("%s: %.2f (baseline %.2f) on %d", fs.Field, fs.Accuracy, fs.Baseline, fs.Tested)
			if fs.Field != "urgency" && fs.Accuracy <= fs.Baseline {
				t.Errorf("%s: accuracy %.2f is no better than the baseline %.2f", fs.Field, fs.Accuracy, fs.Baseline)
			}
		}
		// The unclassified clerk sees no classified document (what else
		// each sees, TestSearchAgreesWithDecide pins).
		low := f.search(t, p.ConsularClerk.Subject, Query{Limit: MaxLimit})
		for _, d := range low.Items {
			if d.Classification > authz.Unclassified {
				t.Errorf("the unclassified clerk sees %s document %d of unit %d", d.Classification, d.ID, d.UnitID)
			}
		}
		if low.Total < 50 {
			t.Errorf("the unclassified clerk sees %d documents, want its unit's open ones", low.Total)
		}
	})
}
