package procedures

import (
	"testing"

	"chancery/internal/store/storetest"
)

// plansDossiers is how many dossiers TestQueryPlans loads; with their
// history and files that is about 85,000 rows: enough that PostgreSQL's
// planner, on the tables' statistics, prefers an index that serves a
// query to reading the table (SQLite, unanalysed, plans the same at any
// size), few enough to load in CI under -race.
const plansDossiers = 10_000

// TestQueryPlans runs BenchmarkDossiers1M's plan checks (checkPlans) in
// every test run, on the benchmark's data (loadDossiers) at a smaller
// scale: the queue's queries, the lookup by code and the reading of a
// dossier's history and files must seek their indexes on the columns
// they filter, and none may read a whole dossiers table. A schema or
// query change that loses an index fails here, not only in a benchmark
// nobody runs.
func TestQueryPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 10,000 dossiers with their history and files; skipped in -short mode")
	}
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s := loadDossiers(t, storetest.MustOpen(t, d), plansDossiers)
			s.checkPlans(t)
		})
	}
}
