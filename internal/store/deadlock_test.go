package store_test

import (
	"context"
	"sync"
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// Two transactions that take the same two rows in opposite orders
// deadlock on PostgreSQL, which undoes one of them. InTx runs the undone
// one again, so both changes land, each once.
func TestATransactionUndoneByADeadlockIsRunAgain(t *testing.T) {
	db := storetest.MustOpen(t, store.Postgres)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE deadlock_rows (k integer PRIMARY KEY, v integer NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO deadlock_rows (k, v) VALUES (1, 0), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	// Each transaction takes its first row, then waits until the other
	// has taken its own first row, so that their second statements meet.
	var (
		both  sync.WaitGroup
		wg    sync.WaitGroup
		runs  [2]int
		errsC = make(chan error, 2)
	)
	both.Add(2)
	for i, order := range [][2]int{{1, 2}, {2, 1}} {
		wg.Go(func() {
			errsC <- db.InTx(ctx, func(tx *store.Tx) error {
				runs[i]++
				if _, err := tx.ExecContext(ctx, `UPDATE deadlock_rows SET v = v + 1 WHERE k = $1`, order[0]); err != nil {
					return err
				}
				if runs[i] == 1 {
					both.Done()
					both.Wait()
				}
				_, err := tx.ExecContext(ctx, `UPDATE deadlock_rows SET v = v + 1 WHERE k = $1`, order[1])
				return err
			})
		})
	}
	wg.Wait()
	close(errsC)
	for err := range errsC {
		if err != nil {
			t.Fatalf("a transaction failed: %v", err)
		}
	}
	if runs[0]+runs[1] < 3 {
		t.Fatalf("the transactions ran %d and %d times; one should have been a deadlock's victim and run again", runs[0], runs[1])
	}
	for _, k := range []int{1, 2} {
		var v int
		if err := db.QueryRowContext(ctx, `SELECT v FROM deadlock_rows WHERE k = $1`, k).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != 2 {
			t.Errorf("row %d holds %d, want 2: each transaction's change once", k, v)
		}
	}
}
