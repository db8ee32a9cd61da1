package architecture

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// searchName is what the name column holds: every language's name,
// folded (lower case, no diacritics), so a search finds "cong thong tin"
// in "Cổng thông tin".
func searchName(t archimate.Text) string {
	parts := make([]string, 0, len(t))
	for _, s := range t {
		parts = append(parts, identity.Fold(s.Text))
	}
	return strings.Join(parts, " | ")
}

func getElement(ctx context.Context, q store.Queryer, id string) (Element, error) {
	var data string
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT data FROM arch_elements WHERE id = ?`), id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return Element{}, fmt.Errorf("%w: no element %s", errs.ErrNotFound, clip(id))
	}
	if err != nil {
		return Element{}, fmt.Errorf("read element %s: %w", id, err)
	}
	var e Element
	return e, json.Unmarshal([]byte(data), &e)
}

func getRelationship(ctx context.Context, q store.Queryer, id string) (Relationship, error) {
	var data string
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT data FROM arch_relationships WHERE id = ?`), id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return Relationship{}, fmt.Errorf("%w: no relationship %s", errs.ErrNotFound, clip(id))
	}
	if err != nil {
		return Relationship{}, fmt.Errorf("read relationship %s: %w", id, err)
	}
	var r Relationship
	return r, json.Unmarshal([]byte(data), &r)
}

// endpointOf returns what Appendix B needs of a relationship's end.
func endpointOf(ctx context.Context, q store.Queryer, id string) (archimate.Endpoint, error) {
	var typ string
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT type FROM arch_elements WHERE id = ?`), id).Scan(&typ)
	if err == nil {
		return archimate.Endpoint{Type: typ}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return archimate.Endpoint{}, err
	}
	err = q.QueryRowContext(ctx, q.Rebind(`SELECT type FROM arch_relationships WHERE id = ?`), id).Scan(&typ)
	if err == nil {
		return archimate.Endpoint{Type: typ, Relationship: true}, nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return archimate.Endpoint{}, fmt.Errorf("no element or relationship %s", clip(id))
	}
	return archimate.Endpoint{}, err
}

func scanJSON[T any](rows *sql.Rows) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func relationshipsOf(ctx context.Context, q store.Queryer, id string) ([]Relationship, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT data FROM arch_relationships WHERE source = ? OR target = ? ORDER BY id`), id, id)
	if err != nil {
		return nil, fmt.Errorf("relationships of %s: %w", id, err)
	}
	return scanJSON[Relationship](rows)
}

func countRelationshipsOf(ctx context.Context, q store.Queryer, id string) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT COUNT(*) FROM arch_relationships WHERE source = ? OR target = ?`), id, id).Scan(&n)
	return n, err
}

func viewShowing(ctx context.Context, q store.Queryer, id string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT view_id FROM arch_view_elements WHERE element_id = ? ORDER BY view_id LIMIT 1`), id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func listElements(ctx context.Context, q store.Queryer, f Query) ([]Element, error) {
	var where []string
	var args []any
	if f.Text != "" {
		where = append(where, `name LIKE ? ESCAPE '\'`)
		args = append(args, "%"+likeEscape(identity.Fold(f.Text))+"%")
	}
	if f.Type != "" {
		where = append(where, `type = ?`)
		args = append(args, f.Type)
	}
	if f.Layer != "" {
		types := archimate.ElementTypes(f.Layer)
		if len(types) == 0 {
			return nil, errs.Invalid("layer", fmt.Sprintf("%q is not an ArchiMate layer", clip(string(f.Layer))))
		}
		where = append(where, `type IN (?`+strings.Repeat(",?", len(types)-1)+`)`)
		for _, t := range types {
			args = append(args, t)
		}
	}
	if f.Origin != "" {
		where = append(where, `origin = ?`)
		args = append(args, string(f.Origin))
	}
	query := `SELECT data FROM arch_elements`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += fmt.Sprintf(` ORDER BY name, id LIMIT %d`, f.Limit)
	rows, err := q.QueryContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list elements: %w", err)
	}
	return scanJSON[Element](rows)
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func getView(ctx context.Context, q store.Queryer, id string) (archimate.View, error) {
	var data string
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT data FROM arch_views WHERE id = ?`), id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return archimate.View{}, fmt.Errorf("%w: no view %s", errs.ErrNotFound, clip(id))
	}
	if err != nil {
		return archimate.View{}, fmt.Errorf("read view %s: %w", id, err)
	}
	var v archimate.View
	return v, json.Unmarshal([]byte(data), &v)
}

func listViews(ctx context.Context, q store.Queryer) ([]ViewInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name FROM arch_views ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	defer rows.Close()
	var out []ViewInfo
	for rows.Next() {
		var v ViewInfo
		if err := rows.Scan(&v.ID, &v.Name); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func history(ctx context.Context, q store.Queryer, kind, id string, before int64, limit int) ([]Change, error) {
	query := `SELECT seq, at_us, actor, item_kind, item_id, op FROM arch_changes WHERE 1=1`
	var args []any
	if id != "" {
		query += ` AND item_kind = ? AND item_id = ?`
		args = append(args, kind, id)
	}
	if before > 0 {
		query += ` AND seq < ?`
		args = append(args, before)
	}
	query += fmt.Sprintf(` ORDER BY seq DESC LIMIT %d`, limit)
	rows, err := q.QueryContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var at int64
		if err := rows.Scan(&c.Seq, &at, &c.Actor, &c.Kind, &c.ItemID, &c.Op); err != nil {
			return nil, err
		}
		c.At = store.FromMicros(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

func getInfo(ctx context.Context, q store.Queryer) (ModelInfo, error) {
	var data string
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT data FROM arch_meta WHERE key = 'model'`)).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return defaultInfo(), nil
	}
	if err != nil {
		return ModelInfo{}, fmt.Errorf("read the model's information: %w", err)
	}
	var m ModelInfo
	return m, json.Unmarshal([]byte(data), &m)
}

// defaultInfo names the model before any import has named it.
func defaultInfo() ModelInfo {
	return ModelInfo{ID: "id-mofa-architecture", Name: archimate.Text{{Lang: "vi", Text: "Kiến trúc số Bộ Ngoại giao"}, {Lang: "en", Text: "Ministry of Foreign Affairs digital architecture"}}}
}

func currentSnapshot(ctx context.Context, q store.Queryer) (*Snapshot, error) {
	info, err := getInfo(ctx, q)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Info: info}
	rows, err := q.QueryContext(ctx, `SELECT data FROM arch_elements ORDER BY id`)
	if err != nil {
		return nil, err
	}
	if snap.Elements, err = scanJSON[Element](rows); err != nil {
		return nil, fmt.Errorf("read elements: %w", err)
	}
	if rows, err = q.QueryContext(ctx, `SELECT data FROM arch_relationships ORDER BY id`); err != nil {
		return nil, err
	}
	if snap.Relationships, err = scanJSON[Relationship](rows); err != nil {
		return nil, fmt.Errorf("read relationships: %w", err)
	}
	if rows, err = q.QueryContext(ctx, `SELECT data FROM arch_views ORDER BY id`); err != nil {
		return nil, err
	}
	if snap.Views, err = scanJSON[archimate.View](rows); err != nil {
		return nil, fmt.Errorf("read views: %w", err)
	}
	return snap, nil
}

// snapshotAsOf rebuilds the repository from its history: each concept's
// last state written at or before asOf, unless that was its deletion.
func snapshotAsOf(ctx context.Context, q store.Queryer, asOf time.Time) (*Snapshot, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT c.item_kind, c.data FROM arch_changes c
		JOIN (SELECT item_kind, item_id, MAX(seq) AS seq FROM arch_changes WHERE at_us <= ? GROUP BY item_kind, item_id) l ON c.seq = l.seq
		WHERE c.op <> 'delete' ORDER BY c.item_kind, c.item_id`), store.Micros(asOf))
	if err != nil {
		return nil, fmt.Errorf("read the history: %w", err)
	}
	defer rows.Close()
	snap := &Snapshot{Info: defaultInfo()}
	for rows.Next() {
		var kind, data string
		if err := rows.Scan(&kind, &data); err != nil {
			return nil, err
		}
		var err error
		switch kind {
		case "element":
			var e Element
			err = json.Unmarshal([]byte(data), &e)
			snap.Elements = append(snap.Elements, e)
		case "relationship":
			var r Relationship
			err = json.Unmarshal([]byte(data), &r)
			snap.Relationships = append(snap.Relationships, r)
		case "view":
			var v archimate.View
			err = json.Unmarshal([]byte(data), &v)
			snap.Views = append(snap.Views, v)
		case "model":
			err = json.Unmarshal([]byte(data), &snap.Info)
		}
		if err != nil {
			return nil, fmt.Errorf("read the history's %s: %w", kind, err)
		}
	}
	return snap, rows.Err()
}

// log writes one history row.
func (c *change) log(ctx context.Context, kind, id, op string, data []byte) error {
	var d any
	if data != nil {
		d = string(data)
	}
	_, err := c.tx.ExecContext(ctx, c.tx.Rebind(`INSERT INTO arch_changes (at_us, actor, item_kind, item_id, op, data) VALUES (?, ?, ?, ?, ?, ?)`),
		store.Micros(c.at), c.actor, kind, id, op, d)
	if err == nil {
		c.counts[kind+"."+op]++
	}
	return err
}

// putElement writes e (exists: an update) with its next version.
func (c *change) putElement(ctx context.Context, e *Element, exists bool) error {
	e.Version++
	e.UpdatedAt = c.at
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	owner := store.NullID(e.OwnerUnit)
	op := "update"
	if exists {
		_, err = c.tx.ExecContext(ctx, c.tx.Rebind(`UPDATE arch_elements SET type = ?, name = ?, origin = ?, owner_unit = ?, data = ?, version = ?, updated_us = ? WHERE id = ?`),
			e.Type, searchName(e.Name), string(e.Origin), owner, string(data), e.Version, store.Micros(c.at), e.ID)
	} else {
		op = "create"
		_, err = c.tx.ExecContext(ctx, c.tx.Rebind(`INSERT INTO arch_elements (id, type, name, origin, owner_unit, data, version, updated_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			e.ID, e.Type, searchName(e.Name), string(e.Origin), owner, string(data), e.Version, store.Micros(c.at))
	}
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("%w: element %s was created meanwhile; reload", errs.ErrConflict, e.ID)
	}
	if err != nil {
		return fmt.Errorf("write element %s: %w", e.ID, err)
	}
	return c.log(ctx, "element", e.ID, op, data)
}

func (c *change) putRelationship(ctx context.Context, r *Relationship, exists bool) error {
	r.Version++
	r.UpdatedAt = c.at
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	op := "update"
	if exists {
		_, err = c.tx.ExecContext(ctx, c.tx.Rebind(`UPDATE arch_relationships SET type = ?, source = ?, target = ?, origin = ?, data = ?, version = ?, updated_us = ? WHERE id = ?`),
			r.Type, r.Source, r.Target, string(r.Origin), string(data), r.Version, store.Micros(c.at), r.ID)
	} else {
		op = "create"
		_, err = c.tx.ExecContext(ctx, c.tx.Rebind(`INSERT INTO arch_relationships (id, type, source, target, origin, data, version, updated_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			r.ID, r.Type, r.Source, r.Target, string(r.Origin), string(data), r.Version, store.Micros(c.at))
	}
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("%w: relationship %s was created meanwhile; reload", errs.ErrConflict, r.ID)
	}
	if err != nil {
		return fmt.Errorf("write relationship %s: %w", r.ID, err)
	}
	return c.log(ctx, "relationship", r.ID, op, data)
}

// putView writes v and which elements it shows.
func (c *change) putView(ctx context.Context, v *archimate.View, exists bool) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	op := "update"
	if exists {
		_, err = c.tx.ExecContext(ctx, c.tx.Rebind(`UPDATE arch_views SET name = ?, data = ?, version = version + 1, updated_us = ? WHERE id = ?`), v.Name.In("vi"), string(data), store.Micros(c.at), v.ID)
		if err == nil {
			_, err = c.tx.ExecContext(ctx, c.tx.Rebind(`DELETE FROM arch_view_elements WHERE view_id = ?`), v.ID)
		}
	} else {
		op = "create"
		_, err = c.tx.ExecContext(ctx, c.tx.Rebind(`INSERT INTO arch_views (id, name, data, version, updated_us) VALUES (?, ?, ?, 1, ?)`), v.ID, v.Name.In("vi"), string(data), store.Micros(c.at))
	}
	if err != nil {
		return fmt.Errorf("write view %s: %w", v.ID, err)
	}
	seen := map[string]bool{}
	var walk func([]archimate.Node) error
	walk = func(ns []archimate.Node) error {
		for _, n := range ns {
			if n.ElementRef != "" && !seen[n.ElementRef] {
				seen[n.ElementRef] = true
				if _, err := c.tx.ExecContext(ctx, c.tx.Rebind(`INSERT INTO arch_view_elements (view_id, element_id) VALUES (?, ?)`), v.ID, n.ElementRef); err != nil {
					return fmt.Errorf("write view %s's elements: %w", v.ID, err)
				}
			}
			if err := walk(n.Nodes); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(v.Nodes); err != nil {
		return err
	}
	return c.log(ctx, "view", v.ID, op, data)
}

func (c *change) putInfo(ctx context.Context, m ModelInfo) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	res, err := c.tx.ExecContext(ctx, c.tx.Rebind(`UPDATE arch_meta SET data = ? WHERE key = 'model'`), string(data))
	if err != nil {
		return err
	}
	op := "update"
	if n, _ := res.RowsAffected(); n == 0 {
		op = "create"
		if _, err := c.tx.ExecContext(ctx, c.tx.Rebind(`INSERT INTO arch_meta (key, data) VALUES ('model', ?)`), string(data)); err != nil {
			return err
		}
	}
	return c.log(ctx, "model", "model", op, data)
}

func (c *change) delete(ctx context.Context, kind, id string) error {
	table := map[string]string{"element": "arch_elements", "relationship": "arch_relationships", "view": "arch_views"}[kind]
	if _, err := c.tx.ExecContext(ctx, c.tx.Rebind(`DELETE FROM `+table+` WHERE id = ?`), id); err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, id, err)
	}
	return c.log(ctx, kind, id, "delete", nil)
}
