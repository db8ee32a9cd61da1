package store_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// The migrations are written once per dialect. These tests keep the two
// alike: the same files, and after migrating, the same schema — tables,
// columns with their type family and nullability, which integer key the
// database numbers itself, primary keys, unique constraints, indexes and
// foreign keys — read back from each engine's own catalogue
// (sqlite_schema and its pragmas; PostgreSQL's information_schema and
// pg_catalog), so what is compared is what the engine built, not what
// the files say.

// schemaExempt are tables the migrations do not own.
var schemaExempt = map[string]string{
	"goose_db_version": "goose creates its version table itself, in each dialect's own way",
	// Records' full-text index is each engine's own: an FTS5 virtual table
	// (with the shadow tables FTS5 makes) in SQLite, a table with a GIN
	// expression index in PostgreSQL. Both hold the same folded words;
	// records' search tests run on both.
	"record_search":         "full-text index: FTS5 in SQLite, tsvector + GIN in PostgreSQL",
	"record_search_config":  "FTS5's shadow table of record_search",
	"record_search_content": "FTS5's shadow table of record_search",
	"record_search_data":    "FTS5's shadow table of record_search",
	"record_search_docsize": "FTS5's shadow table of record_search",
	"record_search_idx":     "FTS5's shadow table of record_search",
	// The portal's news search (migration 00035): an external-content FTS5
	// table over portal_items.search in SQLite, a GIN expression index on
	// it in PostgreSQL (dialectDifferences); portal's tests run on both.
	"portal_search":         "full-text index: FTS5 in SQLite, a GIN index on portal_items in PostgreSQL",
	"portal_search_config":  "FTS5's shadow table of portal_search",
	"portal_search_data":    "FTS5's shadow table of portal_search",
	"portal_search_docsize": "FTS5's shadow table of portal_search",
	"portal_search_idx":     "FTS5's shadow table of portal_search",
}

// dialectDifferences are the lines of the normalized schema (see
// schemaLines) that one dialect has and the other lacks on purpose,
// prefixed with the dialect that has them, each with its reason. Adding
// a line here is a decision: a difference not listed fails the test.
var dialectDifferences = map[string]string{
	// SQLite has no boolean type: its 0/1 INTEGER scans into a Go bool
	// the same as PostgreSQL's BOOLEAN.
	"postgres: column staff.disabled boolean not null":                   "SQLite has no boolean; it stores 0/1 INTEGER",
	"sqlite: column staff.disabled integer not null":                     "SQLite has no boolean; it stores 0/1 INTEGER",
	"postgres: column credentials.must_change_password boolean not null": "SQLite has no boolean; it stores 0/1 INTEGER",
	"sqlite: column credentials.must_change_password integer not null":   "SQLite has no boolean; it stores 0/1 INTEGER",
	"postgres: column credentials.totp_enabled boolean not null":         "SQLite has no boolean; it stores 0/1 INTEGER",
	"sqlite: column credentials.totp_enabled integer not null":           "SQLite has no boolean; it stores 0/1 INTEGER",

	// A lone INTEGER PRIMARY KEY is SQLite's rowid and numbered whether
	// wanted or not; these keys are always written by the code, so
	// PostgreSQL rightly has no sequence for them.
	"sqlite: numbered by the database audit_archives.first_seq":        "the archive's first leaf, written by audit/archive.go",
	"sqlite: numbered by the database audit_checkpoints.size":          "the tree size, written by audit/sql.go",
	"sqlite: numbered by the database audit_nodes.id":                  "the node's position in the tree, written by audit/sql.go",
	"sqlite: numbered by the database audit_tree.id":                   "one row, id 1, written by migration 00003",
	"sqlite: numbered by the database citizen_verified_ids.citizen_id": "the citizen's id, written by procedures/population.go",
	"sqlite: numbered by the database exchange_node.id":                "one row, id 1, written by exchange/node.go",
	"sqlite: numbered by the database keyring.id":                      "one row, id 1, written by store/keyring.go",
	"sqlite: numbered by the database dlp_policies.version":            "the policy's version, the last plus one, written by dlp/policy_store.go",
	"sqlite: numbered by the database registry_confs.serial":           "the configuration's serial from registry_state, written by exchange/registry/sql.go",
	"sqlite: numbered by the database registry_state.id":               "one row, id 1, written by migration 00005",
	"sqlite: numbered by the database record_contents.document_id":     "the document's id, written by records/sql.go",
	"sqlite: numbered by the database record_extract_jobs.document_id": "the document's id, written by records/extract_sql.go",
	"sqlite: numbered by the database record_texts.document_id":        "the document's id, written by records/extract_sql.go",
	"sqlite: numbered by the database record_pending.document_id":      "the document's id, written by records/sql.go",
	"sqlite: numbered by the database record_unit_moves.from_unit":     "the absorbed unit's id, written by records/merge.go",
	"sqlite: numbered by the database record_arrivals.document_id":     "the document's id, written by records/work_sql.go",
	"sqlite: numbered by the database portal_missions.unit_id":         "the mission's unit id, written by portal/sql.go",

	// The portal's full-text index is SQLite's FTS5 table portal_search
	// (schemaExempt), PostgreSQL's GIN index of to_tsvector('simple', search).
	"postgres: index portal_items.portal_items_search (<expression>)": "the portal's full-text index: FTS5 portal_search in SQLite",
}

// typeFamilies maps each declared or reported column type, upper-cased
// and without a length, to the family both dialects must agree on. A
// type missing here fails the test: add it deliberately.
var typeFamilies = map[string]string{
	// SQLite's declared types (PRAGMA table_info) and PostgreSQL's
	// information_schema.columns.data_type.
	"INTEGER": "integer", "INT": "integer", "BIGINT": "integer", "SMALLINT": "integer",
	"BIGSERIAL": "integer", "SERIAL": "integer",
	"TEXT": "text", "VARCHAR": "text", "CHARACTER VARYING": "text", "CHARACTER": "text", "CHAR": "text",
	"BLOB": "bytes", "BYTEA": "bytes",
	"BOOLEAN":   "boolean",
	"TIMESTAMP": "timestamp", "TIMESTAMPTZ": "timestamp", "DATETIME": "timestamp",
	"TIMESTAMP WITH TIME ZONE": "timestamp", "TIMESTAMP WITHOUT TIME ZONE": "timestamp",
	"REAL": "float", "DOUBLE PRECISION": "float",
	"JSON": "json", "JSONB": "json",
}

func typeFamily(t *testing.T, d store.Dialect, table, column, typ string) string {
	t.Helper()
	key := strings.ToUpper(strings.TrimSpace(typ))
	if i := strings.IndexByte(key, '('); i >= 0 {
		key = strings.TrimSpace(key[:i])
	}
	fam, ok := typeFamilies[key]
	if !ok {
		t.Errorf("%s: column %s.%s has type %q, which has no family in typeFamilies: add it there", d, table, column, typ)
		return "unknown(" + typ + ")"
	}
	return fam
}

// Schema is one dialect's schema in the normalized form both share.
type schema struct {
	tables map[string]*table
}

type table struct {
	columns map[string]column
	pk      []string
	auto    string   // the integer key column the database numbers itself, if any
	uniques []string // unique constraints, as "(a,b)": their names are the engine's own
	indexes []string // created indexes, as "name (a,b)[ unique][ partial]"
	fks     []string // "(a) -> t(b) on delete x"
}

type column struct {
	family  string
	notNull bool
}

// lines renders s as sorted lines, one fact each, so two schemas compare
// as sets and a failure names exactly the facts that differ.
func (s schema) lines() []string {
	var out []string
	for name, tb := range s.tables {
		out = append(out, "table "+name)
		for cn, c := range tb.columns {
			l := fmt.Sprintf("column %s.%s %s", name, cn, c.family)
			if c.notNull {
				l += " not null"
			}
			out = append(out, l)
		}
		if len(tb.pk) > 0 {
			out = append(out, fmt.Sprintf("primary key %s (%s)", name, strings.Join(tb.pk, ",")))
		}
		if tb.auto != "" {
			out = append(out, fmt.Sprintf("numbered by the database %s.%s", name, tb.auto))
		}
		for _, u := range tb.uniques {
			out = append(out, fmt.Sprintf("unique %s %s", name, u))
		}
		for _, ix := range tb.indexes {
			out = append(out, fmt.Sprintf("index %s.%s", name, ix))
		}
		for _, fk := range tb.fks {
			out = append(out, fmt.Sprintf("foreign key %s %s", name, fk))
		}
	}
	slices.Sort(out)
	return out
}

func indexLine(name string, cols []string, unique, partial bool) string {
	l := fmt.Sprintf("%s (%s)", name, strings.Join(cols, ","))
	if unique {
		l += " unique"
	}
	if partial {
		l += " partial"
	}
	return l
}

func TestMigrationFilesPairUp(t *testing.T) {
	names := func(d store.Dialect) []string {
		entries, err := os.ReadDir("migrations/" + string(d))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	lite, pg := names(store.SQLite), names(store.Postgres)
	if !slices.Equal(lite, pg) {
		t.Fatalf("the dialects' migration files differ:\nsqlite:   %v\npostgres: %v\nevery migration needs a file of the same name in both directories", lite, pg)
	}
}

func TestSchemaParityBetweenDialects(t *testing.T) {
	ctx := context.Background()
	pgDB := storetest.MustOpen(t, store.Postgres) // skips, saying why, where PostgreSQL is missing
	liteDB := storetest.MustOpen(t, store.SQLite)
	lite := sqliteSchema(ctx, t, liteDB)
	pg := postgresSchema(ctx, t, pgDB)
	if len(lite.tables) == 0 || len(pg.tables) == 0 {
		t.Fatalf("read %d SQLite and %d PostgreSQL tables; the catalogue queries found nothing", len(lite.tables), len(pg.tables))
	}

	liteLines, pgLines := lite.lines(), pg.lines()
	var drift []string
	used := map[string]bool{}
	check := func(d store.Dialect, have, other []string) {
		for _, l := range have {
			if slices.Contains(other, l) {
				continue
			}
			key := string(d) + ": " + l
			if _, ok := dialectDifferences[key]; ok {
				used[key] = true
				continue
			}
			drift = append(drift, key)
		}
	}
	check(store.SQLite, liteLines, pgLines)
	check(store.Postgres, pgLines, liteLines)
	if len(drift) > 0 {
		t.Errorf("the dialects' schemas differ; each line is only in the named dialect (fix it with a migration in both directories, or list it in dialectDifferences with a reason):\n  %s",
			strings.Join(drift, "\n  "))
	}
	for key := range dialectDifferences {
		if !used[key] {
			t.Errorf("dialectDifferences lists %q, which no longer differs: remove it", key)
		}
	}
}

func sqliteSchema(ctx context.Context, t *testing.T, db *store.DB) schema {
	t.Helper()
	s := schema{tables: map[string]*table{}}
	type pendingFK struct {
		table, ref, onDelete string
		from, to             []string
	}
	var pending []pendingFK
	names := queryStrings(ctx, t, db, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	for _, name := range names {
		if _, ok := schemaExempt[name]; ok {
			continue
		}
		tb := &table{columns: map[string]column{}}
		s.tables[name] = tb

		rows, err := db.QueryContext(ctx, `SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY pk`, name)
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]string{}
		for rows.Next() {
			var cn, typ string
			var notNull bool
			var pk int
			if err := rows.Scan(&cn, &typ, &notNull, &pk); err != nil {
				t.Fatal(err)
			}
			types[cn] = strings.ToUpper(typ)
			if pk > 0 {
				tb.pk = append(tb.pk, cn)
				// SQLite lets a non-INTEGER primary key hold NULL (a
				// historical quirk); every key column here is written
				// non-null, and PostgreSQL enforces it, so compare as such.
				notNull = true
			}
			tb.columns[cn] = column{family: typeFamily(t, store.SQLite, name, cn, typ), notNull: notNull}
		}
		closeRows(t, rows)
		// A lone INTEGER PRIMARY KEY is SQLite's rowid, numbered by the
		// database when an insert leaves it out.
		if len(tb.pk) == 1 && types[tb.pk[0]] == "INTEGER" {
			tb.auto = tb.pk[0]
		}

		rows, err = db.QueryContext(ctx, `SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, name)
		if err != nil {
			t.Fatal(err)
		}
		type idx struct {
			name, origin    string
			unique, partial bool
		}
		var idxs []idx
		for rows.Next() {
			var ix idx
			if err := rows.Scan(&ix.name, &ix.unique, &ix.origin, &ix.partial); err != nil {
				t.Fatal(err)
			}
			idxs = append(idxs, ix)
		}
		closeRows(t, rows)
		for _, ix := range idxs {
			cols := queryStrings(ctx, t, db, `SELECT coalesce(name, '<expression>') FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno`, ix.name)
			switch ix.origin {
			case "pk":
				// The primary key is compared as such.
			case "u":
				tb.uniques = append(tb.uniques, "("+strings.Join(cols, ",")+")")
			default:
				tb.indexes = append(tb.indexes, indexLine(ix.name, cols, ix.unique, ix.partial))
			}
		}

		rows, err = db.QueryContext(ctx, `SELECT id, "table", "from", coalesce("to", ''), on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq`, name)
		if err != nil {
			t.Fatal(err)
		}
		type fk struct {
			ref, onDelete string
			from, to      []string
		}
		fks := map[int]*fk{}
		var order []int
		for rows.Next() {
			var id int
			var ref, from, to, onDelete string
			if err := rows.Scan(&id, &ref, &from, &to, &onDelete); err != nil {
				t.Fatal(err)
			}
			f := fks[id]
			if f == nil {
				f = &fk{ref: ref, onDelete: onDelete}
				fks[id] = f
				order = append(order, id)
			}
			f.from = append(f.from, from)
			if to != "" {
				f.to = append(f.to, to)
			}
		}
		closeRows(t, rows)
		for _, id := range order {
			f := fks[id]
			pending = append(pending, pendingFK{table: name, from: f.from, ref: f.ref, to: f.to, onDelete: f.onDelete})
		}
	}
	// A reference that names no column means the referenced table's
	// primary key: resolve it once every table is read.
	for _, p := range pending {
		to := p.to
		if len(to) == 0 {
			if ref, ok := s.tables[p.ref]; ok {
				to = ref.pk
			}
		}
		s.tables[p.table].fks = append(s.tables[p.table].fks, fkLine(p.from, p.ref, to, p.onDelete))
	}
	return s
}

func postgresSchema(ctx context.Context, t *testing.T, db *store.DB) schema {
	t.Helper()
	s := schema{tables: map[string]*table{}}
	names := queryStrings(ctx, t, db, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	for _, name := range names {
		if _, ok := schemaExempt[name]; ok {
			continue
		}
		tb := &table{columns: map[string]column{}}
		s.tables[name] = tb

		rows, err := db.QueryContext(ctx, `SELECT column_name, data_type, is_nullable = 'NO',
				is_identity = 'YES' OR coalesce(column_default, '') LIKE 'nextval(%'
			FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1`, name)
		if err != nil {
			t.Fatal(err)
		}
		numbered := map[string]bool{}
		for rows.Next() {
			var cn, typ string
			var notNull, auto bool
			if err := rows.Scan(&cn, &typ, &notNull, &auto); err != nil {
				t.Fatal(err)
			}
			numbered[cn] = auto
			tb.columns[cn] = column{family: typeFamily(t, store.Postgres, name, cn, typ), notNull: notNull}
		}
		closeRows(t, rows)

		tb.pk = queryStrings(ctx, t, db, `SELECT k.column_name
			FROM information_schema.table_constraints c
			JOIN information_schema.key_column_usage k
			  ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name
			WHERE c.table_schema = current_schema() AND c.table_name = $1 AND c.constraint_type = 'PRIMARY KEY'
			ORDER BY k.ordinal_position`, name)
		if len(tb.pk) == 1 && numbered[tb.pk[0]] {
			tb.auto = tb.pk[0]
		}
		for cn, auto := range numbered {
			if auto && tb.auto != cn {
				t.Errorf("postgres: %s.%s is numbered by the database but is not the table's lone primary key; the parity test has no SQLite counterpart for that", name, cn)
			}
		}

		// Indexes, with whether a constraint owns them (a UNIQUE in the
		// table's definition, named by the engine) and each key column's
		// name or expression, in order.
		rows, err = db.QueryContext(ctx, `SELECT i.relname, x.indisunique, x.indisprimary, x.indpred IS NOT NULL,
				EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype = 'u'),
				(SELECT string_agg(CASE WHEN a.attname IS NULL THEN '<expression>' ELSE a.attname::text END, ',' ORDER BY k.ord)
				   FROM unnest(x.indkey[0:x.indnkeyatts-1]) WITH ORDINALITY AS k(attnum, ord)
				   LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum AND k.attnum <> 0)
			FROM pg_index x
			JOIN pg_class t ON t.oid = x.indrelid
			JOIN pg_class i ON i.oid = x.indexrelid
			WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = $1`, name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var iname, cols string
			var unique, primary, partial, constraint bool
			if err := rows.Scan(&iname, &unique, &primary, &partial, &constraint, &cols); err != nil {
				t.Fatal(err)
			}
			switch {
			case primary:
			case constraint:
				tb.uniques = append(tb.uniques, "("+cols+")")
			default:
				tb.indexes = append(tb.indexes, indexLine(iname, strings.Split(cols, ","), unique, partial))
			}
		}
		closeRows(t, rows)

		rows, err = db.QueryContext(ctx, `SELECT c.confrelid::regclass::text, c.confdeltype,
				(SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
				   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),
				(SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
				   JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum)
			FROM pg_constraint c
			WHERE c.contype = 'f' AND c.conrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass`, name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var ref, delType, from, to string
			if err := rows.Scan(&ref, &delType, &from, &to); err != nil {
				t.Fatal(err)
			}
			tb.fks = append(tb.fks, fkLine(strings.Split(from, ","), ref, strings.Split(to, ","), pgDeleteAction[delType]))
		}
		closeRows(t, rows)
	}
	return s
}

// pgDeleteAction spells pg_constraint.confdeltype as SQLite's
// foreign_key_list does.
var pgDeleteAction = map[string]string{
	"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT",
}

func fkLine(from []string, ref string, to []string, onDelete string) string {
	return fmt.Sprintf("(%s) -> %s(%s) on delete %s", strings.Join(from, ","), ref, strings.Join(to, ","), strings.ToLower(onDelete))
}

func queryStrings(ctx context.Context, t *testing.T, db *store.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	closeRows(t, rows)
	return out
}

type rowsCloser interface {
	Err() error
	Close() error
}

func closeRows(t *testing.T, rows rowsCloser) {
	t.Helper()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
}
