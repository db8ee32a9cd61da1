package audit

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/store"
)

// Thinning old checkpoints. The ledger signs one every ten seconds while
// it grows (about three million a year) and each witness stores each one
// it cosigns. A checkpoint proves nothing the next one does not prove
// too (proofs are computed from the tree's nodes, for any size), so old
// ones are thinned:
//
//   - every checkpoint of the last day is kept;
//   - of older ones, the last of each hour (UTC) for a month;
//   - beyond a month, the last of each day (UTC);
//   - always the latest, and the latest each witness cosigned (the size
//     its next consistency proof starts from: thinning it would turn the
//     next push into a 409 and a proof from elsewhere);
//   - a witness keeps, likewise, the latest checkpoint of each log it
//     witnesses; the evidence of an inconsistency is kept whole in its
//     own tables (audit_witness_conflicts, audit_witness_refusals),
//     never thinned.
//
// The cosignatures of a thinned checkpoint go with it: each cosigned a
// checkpoint that a kept, later one extends.

// Thinning's windows.
const (
	ThinKeepAll    = 24 * time.Hour
	ThinKeepHourly = 30 * 24 * time.Hour
	thinBatch      = 5000 // rows a statement deletes, so no transaction grows huge
	// thinInterval is how often Run thins: the hourly buckets fill at
	// that pace.
	thinInterval = time.Hour
)

// thinTable is one table thinning applies to.
type thinTable struct {
	table, key, at string
	// group partitions the table (a witness's logs): "" or "origin, ".
	group string
	// keep is a condition on key of rows always kept, beyond the buckets.
	keep string
}

var (
	thinCheckpoints = thinTable{table: "audit_checkpoints", key: "size", at: "created_us",
		keep: "size NOT IN (SELECT MAX(size) FROM audit_checkpoints) AND size NOT IN (SELECT MAX(size) FROM audit_cosignatures GROUP BY witness)"}
	thinWitnessed = thinTable{table: "audit_witnessed", key: "(origin, size)", at: "witnessed_us", group: "origin, ",
		keep: "(origin, size) NOT IN (SELECT origin, MAX(size) FROM audit_witnessed GROUP BY origin)"}
)

// deleteBatch deletes up to thinBatch rows of t that thinning drops at
// now, and returns how many it deleted.
func (t thinTable) deleteBatch(ctx context.Context, db *store.DB, now time.Time) (int64, error) {
	day, month := now.Add(-ThinKeepAll).UnixMicro(), now.Add(-ThinKeepHourly).UnixMicro()
	bucket := func(width time.Duration, where string) string {
		return fmt.Sprintf("%s NOT IN (SELECT %sMAX(size) FROM %s WHERE %s GROUP BY %s%s / %d)",
			t.key, t.group, t.table, where, t.group, t.at, width.Microseconds())
	}
	q := fmt.Sprintf("DELETE FROM %[1]s WHERE %[2]s IN (SELECT %[3]s FROM %[1]s WHERE %[4]s < ? AND %[5]s AND %[6]s AND %[7]s LIMIT %[8]d)",
		t.table, t.key, trimParens(t.key), t.at, t.keep,
		bucket(time.Hour, t.at+" >= ? AND "+t.at+" < ?"), bucket(24*time.Hour, t.at+" < ?"), thinBatch)
	res, err := db.ExecContext(ctx, db.Rebind(q), day, month, day, month)
	if err != nil {
		return 0, fmt.Errorf("audit: thin %s: %w", t.table, err)
	}
	return res.RowsAffected()
}

// trimParens returns key without its enclosing parentheses, the column
// list a subquery selects.
func trimParens(key string) string {
	if len(key) > 1 && key[0] == '(' && key[len(key)-1] == ')' {
		return key[1 : len(key)-1]
	}
	return key
}

// thin deletes, batch after batch, what thinning drops from t.
func (t thinTable) thin(ctx context.Context, db *store.DB, now time.Time) (int, error) {
	total := 0
	for {
		n, err := t.deleteBatch(ctx, db, now)
		total += int(n)
		if err != nil || n < thinBatch {
			return total, err
		}
	}
}

// Thin thins the ledger's old checkpoints and the checkpoints this node
// witnessed of other ledgers (see the rules above), with their
// cosignatures, and returns how many checkpoints it removed.
func (l *Ledger) Thin(ctx context.Context) (int, error) {
	now := l.now()
	n, err := thinCheckpoints.thin(ctx, l.db, now)
	if err != nil {
		return n, err
	}
	if _, err := l.db.ExecContext(ctx, "DELETE FROM audit_cosignatures WHERE size NOT IN (SELECT size FROM audit_checkpoints)"); err != nil {
		return n, fmt.Errorf("audit: thin cosignatures: %w", err)
	}
	m, err := thinWitnessed.thin(ctx, l.db, now)
	return n + m, err
}
