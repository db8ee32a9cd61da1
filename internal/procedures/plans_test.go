package procedures

import (
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// plansDossiers is how many dossiers TestQueryPlans loads on each
// database. On PostgreSQL, with their history and files, that is about
// 85,000 rows: enough that its planner, on the tables' statistics, prefers
// an index that serves a query to reading the table, few enough to load
// in CI under -race. SQLite, left unanalysed as Chancery leaves it (no
// sqlite_stat1), plans the same at any size, so it loads a tenth: loading
// 10,000 there took 27-47 s of CI's race step for the same plans.
func plansDossiers(d store.Dialect) int {
	if d == store.SQLite {
		return 1_000
	}
	return 10_000
}

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
			s := loadDossiers(t, storetest.MustOpen(t, d), plansDossiers(d))
			s.checkPlans(t)
		})
	}
}
