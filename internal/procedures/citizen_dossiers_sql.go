package procedures

import (
	"context"
	"fmt"
	"strings"

	"chancery/internal/store"
)

// citizenWhere is the condition and arguments of a citizen's dossiers
// that f selects. Every query starts at the index on (citizen_id,
// submitted_us), so it reads only that citizen's entries.
func citizenWhere(citizen int64, f citizenFilter) (string, []any) {
	where, args := []string{"d.citizen_id = ?"}, []any{citizen}
	if f.codeLike != "" {
		text := `UPPER(d.code) LIKE ? ESCAPE '\'`
		args = append(args, f.codeLike)
		if len(f.textProcedures) > 0 {
			text = "(" + text + " OR d.procedure_code IN (" + marks(len(f.textProcedures)) + "))"
			for _, p := range f.textProcedures {
				args = append(args, p)
			}
		}
		where = append(where, text)
	}
	if f.status != 0 {
		where, args = append(where, "d.status = ?"), append(args, int(f.status))
	}
	if f.procedure != "" {
		where, args = append(where, "d.procedure_code = ?"), append(args, f.procedure)
	}
	if f.from != 0 {
		where, args = append(where, "d.submitted_us >= ?"), append(args, f.from)
	}
	if f.to != 0 {
		where, args = append(where, "d.submitted_us < ?"), append(args, f.to)
	}
	return strings.Join(where, " AND "), args
}

// marks returns n comma-separated placeholders.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// countCitizenRows counts the citizen's dossiers f selects, stopping at
// limit.
func countCitizenRows(ctx context.Context, q store.Queryer, citizen int64, f citizenFilter, limit int) (int, error) {
	where, args := citizenWhere(citizen, f)
	var n int
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM dossiers d WHERE `+where+` LIMIT ?) AS selected`),
		append(args, limit)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("procedures: count your dossiers: %w", err)
	}
	return n, nil
}

// citizenPageRows reads a page of the citizen's dossiers f selects,
// newest first; the id breaks ties so the order is total and pages never
// overlap.
func citizenPageRows(ctx context.Context, q store.Queryer, citizen int64, f citizenFilter, offset, limit int) ([]QueueItem, error) {
	where, args := citizenWhere(citizen, f)
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT `+queueColumns+` FROM dossiers d WHERE `+where+
		` ORDER BY d.submitted_us DESC, d.id DESC LIMIT ? OFFSET ?`), append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("procedures: list your dossiers: %w", err)
	}
	rs, err := scanQueue(rows)
	out := make([]QueueItem, len(rs))
	for i, r := range rs {
		out[i] = r.item
	}
	return out, err
}
