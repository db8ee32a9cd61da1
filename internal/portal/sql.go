package portal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
)

const itemColumns = `id, kind, slug, status, title_vi, title_en, summary_vi, summary_en, body_vi, body_en, country, level,
	author_id, decided_by, note, version, created_us, updated_us, published_us`

func scanItem(row interface{ Scan(...any) error }) (Item, error) {
	var it Item
	var decided sql.NullInt64
	var created, updated, published int64
	err := row.Scan(&it.ID, &it.Kind, &it.Slug, &it.Status, &it.TitleVI, &it.TitleEN, &it.SummaryVI, &it.SummaryEN, &it.BodyVI, &it.BodyEN,
		&it.Country, &it.Level, &it.AuthorID, &decided, &it.Note, &it.Version, &created, &updated, &published)
	it.DecidedBy = decided.Int64
	it.CreatedAt, it.UpdatedAt = store.FromMicros(created), store.FromMicros(updated)
	if published != 0 {
		it.PublishedAt = store.FromMicros(published)
	}
	return it, err
}

func insertItem(ctx context.Context, tx *store.Tx, it Item, search string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO portal_items (kind, slug, status, title_vi, title_en, summary_vi, summary_en,
		body_vi, body_en, country, level, search, author_id, version, created_us, updated_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		it.Kind, it.Slug, it.Status, it.TitleVI, it.TitleEN, it.SummaryVI, it.SummaryEN, it.BodyVI, it.BodyEN, it.Country, it.Level,
		search, it.AuthorID, it.Version, store.Micros(it.CreatedAt), store.Micros(it.UpdatedAt)).Scan(&id)
	return id, err
}

func updateContent(ctx context.Context, tx *store.Tx, it Item, search string) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE portal_items SET slug = ?, status = ?, title_vi = ?, title_en = ?, summary_vi = ?,
		summary_en = ?, body_vi = ?, body_en = ?, country = ?, level = ?, search = ?, version = ?, updated_us = ? WHERE id = ?`),
		it.Slug, it.Status, it.TitleVI, it.TitleEN, it.SummaryVI, it.SummaryEN, it.BodyVI, it.BodyEN, it.Country, it.Level, search,
		it.Version, store.Micros(it.UpdatedAt), it.ID)
	return err
}

func updateStatus(ctx context.Context, tx *store.Tx, it Item) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE portal_items SET status = ?, decided_by = ?, note = ?, version = ?, updated_us = ?,
		published_us = ? WHERE id = ?`),
		it.Status, store.NullID(it.DecidedBy), it.Note, it.Version, store.Micros(it.UpdatedAt), micros0(it), it.ID)
	return err
}

func micros0(it Item) int64 {
	if it.PublishedAt.IsZero() {
		return 0
	}
	return store.Micros(it.PublishedAt)
}

func setTags(ctx context.Context, tx *store.Tx, id int64, tags []string) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM portal_item_tags WHERE item_id = ?`), id); err != nil {
		return err
	}
	for _, t := range tags {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO portal_item_tags (item_id, tag, label) VALUES (?, ?, ?)`), id, Slugify(t), t); err != nil {
			return err
		}
	}
	return nil
}

// loadItemTx loads publication id inside tx for a change, having locked
// its row on PostgreSQL (SQLite's write transactions are serial), so
// that of two concurrent steps the second sees the first's version.
func loadItemTx(ctx context.Context, tx *store.Tx, id int64) (Item, error) {
	q := `SELECT ` + itemColumns + ` FROM portal_items WHERE id = ?`
	if tx.Dialect == store.Postgres {
		q += ` FOR UPDATE`
	}
	it, err := scanItem(tx.QueryRowContext(ctx, tx.Rebind(q), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Item{}, errItemNotFound
	}
	if err != nil {
		return Item{}, fmt.Errorf("load publication %d: %w", id, err)
	}
	return it, withTags(ctx, tx, []*Item{&it})
}

// loadItem loads the publication whose column (id or slug) is v.
func loadItem(ctx context.Context, q store.Queryer, column string, v any) (Item, error) {
	it, err := scanItem(q.QueryRowContext(ctx, q.Rebind(`SELECT `+itemColumns+` FROM portal_items WHERE `+column+` = ?`), v))
	if errors.Is(err, sql.ErrNoRows) {
		return Item{}, errItemNotFound
	}
	if err != nil {
		return Item{}, fmt.Errorf("portal: load publication: %w", err)
	}
	return it, withTags(ctx, q, []*Item{&it})
}

// withTags fills the items' tags.
func withTags(ctx context.Context, q store.Queryer, items []*Item) error {
	if len(items) == 0 {
		return nil
	}
	byID := map[int64]*Item{}
	marks := make([]string, len(items))
	args := make([]any, len(items))
	for i, it := range items {
		it.Tags = []string{}
		byID[it.ID] = it
		marks[i], args[i] = "?", it.ID
	}
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT item_id, label FROM portal_item_tags WHERE item_id IN (`+strings.Join(marks, ", ")+`) ORDER BY tag`), args...)
	if err != nil {
		return fmt.Errorf("portal: load tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return err
		}
		byID[id].Tags = append(byID[id].Tags, tag)
	}
	return rows.Err()
}

// searchCondition is the condition on portal_items that finds the
// publications whose folded text (searchText) holds every word of query,
// each word as a prefix (so that a word being typed finds its
// publications), through the database's full-text index (migration
// 00028: SQLite's FTS5 table portal_search, PostgreSQL's GIN index of
// the 'simple' text vector). Words are folded and split as the records'
// search does (identity.Fold; letters and digits), so only letters and
// digits reach the engine's query syntax. ok is false when query has no
// word.
func searchCondition(dialect store.Dialect, query string) (cond string, arg any, ok bool) {
	terms := strings.FieldsFunc(identity.Fold(query), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(terms) == 0 {
		return "", nil, false
	}
	if len(terms) > maxSearchTerms {
		terms = terms[:maxSearchTerms]
	}
	if dialect == store.Postgres {
		return `to_tsvector('simple', search) @@ to_tsquery('simple', ?)`, strings.Join(terms, ":* & ") + ":*", true
	}
	return `id IN (SELECT rowid FROM portal_search WHERE portal_search MATCH ?)`, `"` + strings.Join(terms, `"* AND "`) + `"*`, true
}

// maxSearchTerms bounds the words of a search.
const maxSearchTerms = 16

// listItems returns the page of publications f selects: published ones
// newest publication first when published, else newest change first.
func listItems(ctx context.Context, q store.Queryer, dialect store.Dialect, f Filter, published bool) (ItemPage, error) {
	var where []string
	var args []any
	kinds := make([]string, len(f.Kinds))
	for i, k := range f.Kinds {
		kinds[i] = "?"
		args = append(args, string(k))
	}
	where = append(where, "kind IN ("+strings.Join(kinds, ", ")+")")
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.Tag != "" {
		where, args = append(where, "id IN (SELECT item_id FROM portal_item_tags WHERE tag = ?)"), append(args, f.Tag)
	}
	if f.Country != "" {
		where, args = append(where, "country = ?"), append(args, strings.ToUpper(f.Country))
	}
	if cond, arg, ok := searchCondition(dialect, f.Query); ok {
		where, args = append(where, cond), append(args, arg)
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	var total int
	if err := q.QueryRowContext(ctx, q.Rebind(`SELECT COUNT(*) FROM portal_items`+cond), args...).Scan(&total); err != nil {
		return ItemPage{}, fmt.Errorf("portal: count publications: %w", err)
	}
	order := " ORDER BY updated_us DESC, id DESC"
	if published {
		order = " ORDER BY published_us DESC, id DESC"
	}
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT `+itemColumns+` FROM portal_items`+cond+order+` LIMIT ? OFFSET ?`),
		append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return ItemPage{}, fmt.Errorf("portal: list publications: %w", err)
	}
	defer rows.Close()
	out := ItemPage{Items: []Item{}, Total: total, Page: f.Page, Pages: max(1, (total+f.PerPage-1)/f.PerPage)}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return ItemPage{}, err
		}
		out.Items = append(out.Items, it)
	}
	if err := rows.Err(); err != nil {
		return ItemPage{}, err
	}
	rows.Close()
	ptrs := make([]*Item, len(out.Items))
	for i := range out.Items {
		ptrs[i] = &out.Items[i]
	}
	return out, withTags(ctx, q, ptrs)
}

func publishedTags(ctx context.Context, q store.Queryer) ([]TagCount, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT t.tag, MIN(t.label), COUNT(*) FROM portal_item_tags t JOIN portal_items i ON i.id = t.item_id
		WHERE i.status = ? AND i.kind <> ? GROUP BY t.tag ORDER BY COUNT(*) DESC, t.tag`), string(Published), string(Advisory))
	if err != nil {
		return nil, fmt.Errorf("portal: list tags: %w", err)
	}
	defer rows.Close()
	out := []TagCount{}
	for rows.Next() {
		var t TagCount
		if err := rows.Scan(&t.Tag, &t.Label, &t.Count); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

const missionColumns = `unit_id, ambassador_vi, ambassador_en, address, phone, email, hours_vi, hours_en, hotline, version, updated_us`

// loadMissionDetails returns the public details of the missions ids that
// have any, by unit id.
func loadMissionDetails(ctx context.Context, q store.Queryer, ids []int64) (map[int64]MissionDetails, error) {
	out := map[int64]MissionDetails{}
	if len(ids) == 0 {
		return out, nil
	}
	marks := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		marks[i], args[i] = "?", id
	}
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT `+missionColumns+` FROM portal_missions WHERE unit_id IN (`+strings.Join(marks, ", ")+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("portal: load missions' details: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, updated int64
		var d MissionDetails
		if err := rows.Scan(&id, &d.AmbassadorVI, &d.AmbassadorEN, &d.Address, &d.Phone, &d.Email, &d.HoursVI, &d.HoursEN, &d.Hotline,
			&d.Version, &updated); err != nil {
			return nil, err
		}
		d.UpdatedAt = store.FromMicros(updated)
		out[id] = d
	}
	return out, rows.Err()
}

// saveMissionDetails writes d as the details of mission unitID if d's
// version is the stored one (0: none stored yet), and sets d's version
// to the new one; else errs.ErrConflict.
func saveMissionDetails(ctx context.Context, tx *store.Tx, unitID int64, d *MissionDetails) error {
	var res sql.Result
	var err error
	if d.Version == 0 {
		res, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO portal_missions (`+missionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
			ON CONFLICT (unit_id) DO NOTHING`),
			unitID, d.AmbassadorVI, d.AmbassadorEN, d.Address, d.Phone, d.Email, d.HoursVI, d.HoursEN, d.Hotline, store.Micros(d.UpdatedAt))
	} else {
		res, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE portal_missions SET ambassador_vi = ?, ambassador_en = ?, address = ?, phone = ?,
			email = ?, hours_vi = ?, hours_en = ?, hotline = ?, version = version + 1, updated_us = ? WHERE unit_id = ? AND version = ?`),
			d.AmbassadorVI, d.AmbassadorEN, d.Address, d.Phone, d.Email, d.HoursVI, d.HoursEN, d.Hotline, store.Micros(d.UpdatedAt), unitID, d.Version)
	}
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("%w: the mission's details changed since you opened them (not version %d); reload them and edit again", errs.ErrConflict, d.Version)
	}
	d.Version++
	return nil
}
