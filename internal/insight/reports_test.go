package insight

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestTemplateValidationNamesTheField pins templates' and reports'
// checks: each fault names the field or indicator at fault.
func TestTemplateValidationNamesTheField(t *testing.T) {
	hi := -1.0
	for _, tc := range []struct {
		edit  func(*Template)
		field string
	}{
		{func(t *Template) { t.Code = "Bad Code" }, "code"},
		{func(t *Template) { t.Period = "weekly" }, "period"},
		{func(t *Template) { t.Indicators[1].Code = "passports" }, "indicators[1].code"},
		{func(t *Template) { t.Indicators[0].Type = "date" }, "indicators[0].type"},
		{func(t *Template) { t.Indicators[0].Max = &hi }, "indicators[0].max"},
		{func(t *Template) { t.Indicators[3].NameEN = "a\u2066b" }, "indicators[3].name_en"},
	} {
		tp := quarterly()
		tc.edit(&tp)
		var fe *errs.FieldError
		if _, err := tp.clean(); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("want a fault of %s, got %v", tc.field, err)
		}
	}
	tp, err := quarterly().clean()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		values map[string]string
		field  string
	}{
		{map[string]string{"on_time": "90"}, "values.passports"},
		{map[string]string{"passports": "1.5", "on_time": "90"}, "values.passports"},
		{map[string]string{"passports": "-1", "on_time": "90"}, "values.passports"},
		{map[string]string{"passports": "1", "on_time": "101"}, "values.on_time"},
		{map[string]string{"passports": "1", "on_time": "9", "fees": "NaN"}, "values.fees"},
		{map[string]string{"passports": "1", "on_time": "9", "visas": "3"}, "values.visas"},
		{map[string]string{"passports": "1", "on_time": "9", "notes": "a\x00"}, "values.notes"},
	} {
		var fe *errs.FieldError
		if _, err := tp.Validate(tc.values); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%v: want a fault of %s, got %v", tc.values, tc.field, err)
		}
	}
	got, err := tp.Validate(map[string]string{"passports": " 120 ", "on_time": "97,5", "fees": "1200.50"})
	if err != nil || got["passports"] != "120" || got["on_time"] != "97.5" || got["fees"] != "1200.5" {
		t.Fatalf("valid values: %v, %v", got, err)
	}
}

// TestPeriodsCloseOnTheFourteenth pins the closing dates of Decree
// 09/2019/NĐ-CP, Art. 12.
func TestPeriodsCloseOnTheFourteenth(t *testing.T) {
	d := calendar.Date{Year: 2026, Month: 2, Day: 20}
	for _, tc := range []struct {
		p               Period
		label, from, to string
	}{
		{Monthly, "2026-02", "2026-01-15", "2026-02-14"},
		{Quarterly, "2026-Q1", "2025-12-15", "2026-03-14"},
		{HalfYearly, "2026-H1", "2025-12-15", "2026-06-14"},
		{Yearly, "2026", "2025-12-15", "2026-12-14"},
	} {
		l, f, to := PeriodOf(tc.p, d)
		if l != tc.label || f.String() != tc.from || to.String() != tc.to {
			t.Errorf("%s: %s %s–%s, want %s %s–%s", tc.p, l, f, to, tc.label, tc.from, tc.to)
		}
	}
}

// openRound has the Consular Department's head create the quarterly
// template and open a round for the Consular Department itself, Paris
// and Tokyo.
func (f *fixture) openRound(t testing.TB) Round {
	t.Helper()
	tp, err := f.svc.CreateTemplate(as(f.head), f.head, quarterly())
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.OpenRound(as(f.head), f.head, NewRound{TemplateID: tp.ID, Date: "2026-03-02", WorkingDays: 10,
		Units: []int64{f.units[consularCode], f.units[parisCode], f.units[tokyoCode]}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReportRoundFromSubmissionToExport pins a round: units file, the
// collecting head returns one with reasons and approves another, the
// returned one files again; the aggregation sums what was filed and
// names who is missing; the exports read back (XLSX with excelize) and
// the CSV carries no formula.
func TestReportRoundFromSubmissionToExport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		r := f.openRound(t)
		if r.Label != "2026-Q1" || r.From != "2025-12-15" || r.To != "2026-03-14" {
			t.Fatalf("round period %s %s–%s", r.Label, r.From, r.To)
		}
		paris, err := f.svc.Submit(as(f.parisOff), f.parisOff, r.ID, map[string]string{"passports": "120", "fees": "=HYPERLINK(\"x\")", "on_time": "95"})
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != "values.fees" {
			t.Fatalf("a formula for a number: %v", err)
		}
		paris, err = f.svc.Submit(as(f.parisOff), f.parisOff, r.ID, map[string]string{"passports": "120", "fees": "2500", "on_time": "95",
			"notes": "=cmd|' /C calc'!A0"})
		if err != nil {
			t.Fatal(err)
		}
		own, err := f.svc.Submit(as(f.officer), f.officer, r.ID, map[string]string{"passports": "80", "on_time": "99", "fees": "-0.5"})
		if err == nil {
			t.Fatal("a negative fee below the minimum was taken")
		}
		if own, err = f.svc.Submit(as(f.officer), f.officer, r.ID, map[string]string{"passports": "80", "on_time": "99"}); err != nil {
			t.Fatal(err)
		}
		// Tokyo's officer sees only Tokyo's part; Paris's report is hidden.
		if v, err := f.svc.Round(as(f.tokyoOff), f.tokyoOff, r.ID); err != nil || len(v.Submissions) != 0 || v.Collecting {
			t.Fatalf("Tokyo's view: %+v, %v", v, err)
		}
		if _, err := f.svc.Aggregate(as(f.tokyoOff), f.tokyoOff, r.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("Tokyo aggregates: %v", err)
		}
		// Paris's head may not decide the Consular Department's round.
		if _, err := f.svc.DecideSubmission(as(f.parisHead), f.parisHead, r.ID, paris.ID, Decision{Approve: true, Version: 1}); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("another unit's head decides: %v", err)
		}
		if _, err := f.svc.DecideSubmission(as(f.head), f.head, r.ID, paris.ID, Decision{Version: 1}); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a return without reasons: %v", err)
		}
		ret, err := f.svc.DecideSubmission(as(f.head), f.head, r.ID, paris.ID, Decision{Reason: "Số hộ chiếu chưa khớp", Version: 1})
		if err != nil || ret.Status != Returned {
			t.Fatalf("return: %+v, %v", ret, err)
		}
		if _, err := f.svc.DecideSubmission(as(f.head), f.head, r.ID, own.ID, Decision{Approve: true, Version: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Submit(as(f.officer), f.officer, r.ID, map[string]string{"passports": "1", "on_time": "9"}); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("refiling an approved report: %v", err)
		}
		a, err := f.svc.Aggregate(as(f.leader), f.leader, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Counted != 1 || len(a.Returned) != 1 || len(a.Missing) != 1 || a.Missing[0] != f.units[tokyoCode] || a.Stats[0].Sum != 80 {
			t.Fatalf("aggregation with Paris returned: %+v", a)
		}
		if _, err := f.svc.Submit(as(f.parisOff), f.parisOff, r.ID, map[string]string{"passports": "121", "fees": "2500", "on_time": "95",
			"notes": "=cmd|' /C calc'!A0"}); err != nil {
			t.Fatal(err)
		}
		a, _ = f.svc.Aggregate(as(f.head), f.head, r.ID)
		if st := a.Stats[0]; a.Counted != 2 || st.Sum != 201 || st.Min != 80 || st.Max != 121 || st.Avg != 100.5 || a.Stats[2].Avg != 97 {
			t.Fatalf("aggregation: %+v", a)
		}
		var x bytes.Buffer
		if err := f.svc.ExportXLSX(as(f.head), f.head, r.ID, "en", &x); err != nil {
			t.Fatal(err)
		}
		wb, err := excelize.OpenReader(&x)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := wb.GetRows("2026-Q1")
		if err != nil || len(rows) != 7 || rows[0][3] != "Passports issued (cuốn)" || rows[3][1] != "sum" || rows[3][3] != "201" {
			t.Fatalf("the workbook's rows: %q, %v", rows, err)
		}
		if formula, _ := wb.GetCellFormula("2026-Q1", "G3"); formula != "" {
			t.Fatalf("a text cell became the formula %q", formula)
		}
		var c bytes.Buffer
		if err := f.svc.ExportCSV(as(f.head), f.head, r.ID, "vi", &c); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&c).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			for _, cell := range rec {
				if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
					t.Fatalf("the CSV cell %q starts a formula", cell)
				}
			}
		}
		if recs[2][6] != "'=cmd|' /C calc'!A0" {
			t.Fatalf("the note in the CSV: %q", recs[2][6])
		}
		if err := f.svc.ExportCSV(as(f.parisOff), f.parisOff, r.ID, "vi", &c); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("a reporting unit exports the round: %v", err)
		}
	})
}

// TestConcurrentApprovalsOneWins pins a report decided by two heads at
// once: one decision stands, the other is a conflict.
func TestConcurrentApprovalsOneWins(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		r := f.openRound(t)
		sm, err := f.svc.Submit(as(f.officer), f.officer, r.ID, map[string]string{"passports": "80", "on_time": "99"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errsOf := make([]error, 4)
		for i := range errsOf {
			wg.Go(func() {
				_, errsOf[i] = f.svc.DecideSubmission(as(f.head), f.head, r.ID, sm.ID, Decision{Approve: i%2 == 0, Reason: "Thiếu số liệu", Version: 1})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errsOf {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, errs.ErrConflict) && !strings.Contains(err.Error(), "lock"):
				t.Fatalf("a losing decision: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d decisions won: %v", won, errsOf)
		}
		if got := f.ledgerActions(t, "report.approve"); len(got)+len(f.ledgerActions(t, "report.return")) != 1 {
			t.Fatalf("the ledger has %v", got)
		}
	})
}

// TestMissionSubmissionThroughACutLink pins a mission's report: the
// round reaches Paris, Paris files while its link is cut, headquarters
// sees it missing, then once the link is back; a return reaches Paris
// with its reasons, and Paris files again.
func TestMissionSubmissionThroughACutLink(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		hq, paris := n.hq, n.paris
		r := hq.openRound(t)
		n.settle(t)
		rounds, err := paris.svc.Rounds(as(paris.parisOff), paris.parisOff)
		if err != nil || len(rounds) != 1 || rounds[0].UID != r.UID || len(rounds[0].Template.Indicators) != 4 {
			t.Fatalf("Paris's rounds: %+v, %v", rounds, err)
		}
		n.link.up = false
		if _, err := paris.svc.Submit(as(paris.parisOff), paris.parisOff, rounds[0].ID, map[string]string{"passports": "120", "on_time": "95"}); err != nil {
			t.Fatal(err)
		}
		n.settle(t)
		a, _ := hq.svc.Aggregate(as(hq.head), hq.head, r.ID)
		if len(a.Missing) != 3 {
			t.Fatalf("headquarters has Paris's report across a cut link: %+v", a)
		}
		n.link.up = true
		hq.clock.add(time.Hour)
		n.settle(t)
		v, err := hq.svc.Round(as(hq.head), hq.head, r.ID)
		if err != nil || len(v.Submissions) != 1 || v.Submissions[0].Unit != hq.units[parisCode] || v.Submissions[0].Values["passports"] != "120" {
			t.Fatalf("headquarters' round: %+v, %v", v, err)
		}
		if _, err := hq.svc.DecideSubmission(as(hq.head), hq.head, r.ID, v.Submissions[0].ID, Decision{Reason: "Bổ sung lệ phí", Version: 1}); err != nil {
			t.Fatal(err)
		}
		n.settle(t)
		pv, _ := paris.svc.Round(as(paris.parisOff), paris.parisOff, rounds[0].ID)
		if len(pv.Submissions) != 1 || pv.Submissions[0].Status != Returned || pv.Submissions[0].Reason != "Bổ sung lệ phí" {
			t.Fatalf("Paris sees %+v", pv.Submissions)
		}
		if _, err := paris.svc.Submit(as(paris.parisOff), paris.parisOff, rounds[0].ID, map[string]string{"passports": "120", "fees": "900", "on_time": "95"}); err != nil {
			t.Fatal(err)
		}
		n.settle(t)
		v, _ = hq.svc.Round(as(hq.head), hq.head, r.ID)
		if v.Submissions[0].Status != Submitted || v.Submissions[0].Values["fees"] != "900" || v.Submissions[0].Version != 3 {
			t.Fatalf("the refiling at headquarters: %+v", v.Submissions[0])
		}
	})
}
