package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// openAt returns an empty database of dialect d migrated only up to the
// last migration before version, so that a test can write rows in the
// old schema and see the migration carry them over.
func openAt(t *testing.T, d store.Dialect, version int64) *store.DB {
	t.Helper()
	ctx := context.Background()
	var dsn, dir string
	if d == store.Postgres {
		dsn = storetest.MustPostgresURL(t)
	} else {
		dir = t.TempDir()
	}
	db, err := store.Open(ctx, dsn, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dialect := goose.DialectSQLite3
	if d == store.Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db.DB, os.DirFS("migrations/"+string(d)), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	before := int64(0)
	for _, s := range p.ListSources() {
		if s.Version < version {
			before = s.Version
		}
	}
	if _, err := p.UpTo(ctx, before); err != nil {
		t.Fatalf("migrate %s up to %d: %v", d, before, err)
	}
	return db
}

// Migration 00018 renames the national portal's outbox and the dossiers'
// last reported status; the reports waiting to be sent and the statuses
// already sent must survive it, and new reports must still be numbered.
func TestNationalPortalRenameKeepsTheOutbox(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := openAt(t, d, 18)
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO units (id, code, name_vi, name_en, kind, country, timezone, created_at, updated_at) VALUES (1, 'G12', 'Bộ', 'Ministry', 'ministry', 'VN', 'Asia/Ho_Chi_Minh', ?, ?)`, []any{now, now}},
				{`INSERT INTO dossiers (id, code, procedure_code, unit_id, channel, status, lifecycle, applicant_name, form, submitted_us, updated_us, portal_status)
				  VALUES (1, 'G12-260102-0001', '1.000001', 1, 2, 4, '{}', 'An', ?, 1, 1, 3)`, []any{[]byte("sealed")}},
				{`INSERT INTO portal_outbox (dossier_id, status, payload, created_us) VALUES (1, 4, ?, 1)`, []any{[]byte(`{"status":4}`)}},
			} {
				if _, err := db.ExecContext(ctx, db.Rebind(q.sql), q.args...); err != nil {
					t.Fatalf("%s: %v", q.sql, err)
				}
			}
			if err := db.Migrate(ctx, nil); err != nil {
				t.Fatal(err)
			}
			var status, sent int
			var payload []byte
			if err := db.QueryRowContext(ctx, `SELECT status, payload, sent_us FROM national_portal_outbox WHERE dossier_id = 1`).Scan(&status, &payload, &sent); err != nil {
				t.Fatalf("the waiting report after the rename: %v", err)
			}
			if status != 4 || string(payload) != `{"status":4}` || sent != 0 {
				t.Errorf("report = %d %s %d; want 4 {\"status\":4} 0", status, payload, sent)
			}
			var reported int
			if err := db.QueryRowContext(ctx, `SELECT national_portal_status FROM dossiers WHERE id = 1`).Scan(&reported); err != nil || reported != 3 {
				t.Errorf("national_portal_status = %d, %v; want 3", reported, err)
			}
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO national_portal_outbox (dossier_id, status, payload, created_us) VALUES (1, 5, ?, 2)`), []byte(`{}`)); err != nil {
				t.Fatalf("a new report after the rename: %v", err)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT id) FROM national_portal_outbox`).Scan(&n); err != nil || n != 2 {
				t.Errorf("%d distinct report ids, %v; want 2", n, err)
			}
		})
	}
}

// A migration numbered below the database's version but never applied to
// it (two branches merged in another order than they were numbered) is
// applied by Migrate, not skipped: here 00033 is taken back down on a
// database at the newest version, and Migrate puts it back.
func TestMigrateAppliesAMigrationNumberedBelowTheDatabasesVersion(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.MustOpen(t, d)
			dialect := goose.DialectSQLite3
			if d == store.Postgres {
				dialect = goose.DialectPostgres
			}
			p, err := goose.NewProvider(dialect, db.DB, os.DirFS("migrations/"+string(d)), goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.ApplyVersion(ctx, 33, false); err != nil {
				t.Fatalf("take 00033 down: %v", err)
			}
			if st, err := db.Status(ctx); err != nil || st.Current != st.Latest {
				t.Fatalf("status after taking 00033 down = %+v, %v; want the newest version still", st, err)
			}
			if err := db.Migrate(ctx, nil); err != nil {
				t.Fatal(err)
			}
			var applied int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM goose_db_version WHERE version_id = 33 AND is_applied").Scan(&applied); err != nil || applied != 1 {
				t.Fatalf("00033 applied %d times after Migrate (%v), want once", applied, err)
			}
			// Its work is there again: the forecasts' history table.
			if _, err := db.ExecContext(ctx, "SELECT unit_id FROM forecast_history WHERE 1 = 0"); err != nil {
				t.Errorf("00033's table after Migrate: %v", err)
			}
		})
	}
}
