package store

import "context"

// Strings runs query (written with '?' placeholders; q rebinds it) and
// returns its one text column, row by row: the read of a list of codes or
// names that capabilities would otherwise each spell out.
func Strings(ctx context.Context, q Queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
