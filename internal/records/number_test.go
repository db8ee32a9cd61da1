package records

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// signedDrafts stores n outgoing documents of the officer's unit ready to
// issue (signed), every fifth one confidential, straight into storage: the
// numbering tests and benchmark measure issuance, not drafting.
func (f *fixture) signedDrafts(tb testing.TB, n int) []int64 {
	tb.Helper()
	ctx := context.Background()
	out := make([]int64, 0, n)
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		for i := range n {
			now := f.clock.now()
			r := &row{Document: Document{Direction: Outgoing, UnitID: f.officer.Unit, Type: "quyet_dinh", Subject: fmt.Sprintf("Quyết định %d", i),
				Status: StatusSigned, AuthorID: f.officer.ID, CreatedAt: now, UpdatedAt: now, Version: 1}}
			if i%5 == 4 {
				r.Classification = authz.Confidential
			}
			if err := insertDocument(ctx, tx, r); err != nil {
				return err
			}
			out = append(out, r.ID)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// checkSeries reports the gaps and duplicates among the numbers issued in
// each series of the officer's unit: a series of n documents must hold
// exactly 1..n.
func (f *fixture) checkSeries(tb testing.TB) (issued, gaps, dups int) {
	tb.Helper()
	rows, err := f.db.QueryContext(context.Background(), f.db.Rebind(`SELECT series, register_number FROM record_documents
		WHERE unit_id = ? AND direction = 'outgoing' AND status = 'issued'`), f.officer.Unit)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]map[int]int{}
	for rows.Next() {
		var series string
		var n int
		if err := rows.Scan(&series, &n); err != nil {
			tb.Fatal(err)
		}
		if seen[series] == nil {
			seen[series] = map[int]int{}
		}
		seen[series][n]++
		issued++
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	for _, nums := range seen {
		count := 0
		for _, c := range nums {
			count += c
			dups += c - 1
		}
		for i := 1; i <= count; i++ {
			if nums[i] == 0 {
				gaps++
			}
		}
	}
	return issued, gaps, dups
}

// issueAll issues ids from workers goroutines at once.
func (f *fixture) issueAll(tb testing.TB, ids []int64, workers int) {
	tb.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(len(ids)) {
					return
				}
				if _, err := f.svc.Issue(f.as(f.clerk), f.clerk, ids[i], IssueAs{OrgSymbol: "BNG"}); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		tb.Fatalf("Issue: %v", err)
	}
}

// TestConcurrentIssuanceHasNoGapsOrDuplicates issues documents from many
// goroutines at once and pins that each series holds 1..n exactly.
func TestConcurrentIssuanceHasNoGapsOrDuplicates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ids := f.signedDrafts(t, 100)
		f.issueAll(t, ids, 16)
		issued, gaps, dups := f.checkSeries(t)
		if issued != len(ids) || gaps != 0 || dups != 0 {
			t.Fatalf("%d issued, %d gaps, %d duplicates; want %d, 0, 0", issued, gaps, dups, len(ids))
		}
		// Issuing again is refused and takes nothing.
		if _, err := f.svc.Issue(f.as(f.clerk), f.clerk, ids[0], IssueAs{OrgSymbol: "BNG"}); err == nil {
			t.Fatal("a document was issued twice")
		}
		if issued, gaps, dups := f.checkSeries(t); issued != len(ids) || gaps != 0 || dups != 0 {
			t.Fatalf("after a refused issuance: %d issued, %d gaps, %d duplicates", issued, gaps, dups)
		}
	})
}

// TestRolledBackNumberIsTakenAgain pins that a number taken in a
// transaction that fails is given back with it.
func TestRolledBackNumberIsTakenAgain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		take := func(fail bool) int {
			var n int
			boom := errors.New("boom")
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				if n, err = takeNumber(ctx, tx, f.officer.Unit, 2026, SeriesOutgoing); err != nil {
					return err
				}
				if fail {
					return boom
				}
				return nil
			})
			if err != nil && !errors.Is(err, boom) {
				t.Fatal(err)
			}
			return n
		}
		if a, b, c := take(false), take(true), take(false); a != 1 || b != 2 || c != 2 {
			t.Errorf("numbers %d, %d (rolled back), %d; want 1, 2, 2", a, b, c)
		}
	})
}

// BenchmarkIssueNumber measures concurrent issuance on each database
// (numbers/s), and fails unless every series ends with no gap and no
// duplicate.
func BenchmarkIssueNumber(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			if d == store.Postgres {
				b.Log(storetest.PostgresSettings())
			}
			f := newFixture(b, storetest.MustOpen(b, d))
			ids := f.signedDrafts(b, b.N)
			b.ResetTimer()
			start := time.Now()
			f.issueAll(b, ids, 8)
			elapsed := time.Since(start)
			b.StopTimer()
			issued, gaps, dups := f.checkSeries(b)
			b.ReportMetric(float64(issued)/elapsed.Seconds(), "numbers/s")
			b.ReportMetric(float64(gaps), "gaps")
			b.ReportMetric(float64(dups), "duplicates")
			if issued != b.N || gaps != 0 || dups != 0 {
				b.Fatalf("%d issued of %d, %d gaps, %d duplicates", issued, b.N, gaps, dups)
			}
		})
	}
}
