package store

import "context"

// Column runs query (written with '?' placeholders; q rebinds it) and
// returns its one column, row by row, as T (a string, an int64, …): the
// read of a list of codes or ids that capabilities would otherwise each
// spell out.
func Column[T any](ctx context.Context, q Queryer, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
