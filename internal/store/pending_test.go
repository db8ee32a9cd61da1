package store_test

import (
	"context"
	"slices"
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestPendingListsTheMigrationsNotApplied pins what chancery doctor
// reports as the schema's state: nothing pending on a migrated database,
// and a migration whose row is gone is pending again, by its number.
func TestPendingListsTheMigrationsNotApplied(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if p, err := db.Pending(ctx); err != nil || len(p) != 0 {
			t.Fatalf("Pending on a migrated database = %v, %v; want none", p, err)
		}
		st, err := db.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, db.Rebind(`DELETE FROM goose_db_version WHERE version_id = ?`), st.Latest); err != nil {
			t.Fatal(err)
		}
		if p, err := db.Pending(ctx); err != nil || !slices.Equal(p, []int64{st.Latest}) {
			t.Fatalf("Pending = %v, %v; want [%d]", p, err, st.Latest)
		}
	})
}
