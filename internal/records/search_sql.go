package records

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
)

// Search at a million documents (BenchmarkSearch). The visibility rule
// (visibleClause: level ≤ clearance, and the owning unit, the
// distribution list or a grant) filters every search inside the query,
// but as a condition checked row by row it made the database read every
// match of the words (a common pair such as "quyết định" is in four
// documents of ten) or every document, to keep the few the caller may
// see. So the index row of each document also carries visibility
// tokens, one per unit that may know it (the owner and the distribution
// list) at its level — "zzu12l1" for unit 12 at confidential — and a
// search asks the full-text engine for the words AND one of the caller's
// unit's tokens at or below the caller's clearance: the engine
// intersects its posting lists, which is what it is fast at. Grants,
// which are few per person and expire, are a second branch checked
// document by document. The exact visibleClause still filters the
// result, so a token left stale (a change that moved a document without
// re-indexing it) can only hide a document, never show one.

// visibilityTokens returns the tokens of r's index row: one per unit
// that may know it, at its level, and the same again for the id buckets
// r falls in (bucketToken), once r has its id.
func visibilityTokens(r *row) []string {
	var out []string
	for _, u := range append([]int64{r.UnitID}, r.Shared...) {
		out = append(out, unitToken(u, r.Classification))
		if r.ID > 0 {
			for _, bits := range bucketBits {
				out = append(out, bucketToken(u, r.Classification, bits, r.ID>>bits))
			}
		}
	}
	return out
}

func unitToken(unit int64, l authz.Level) string { return fmt.Sprintf("zzu%dl%d", unit, int(l)) }

// bucketToken is unitToken limited to the documents whose id is in
// bucket number b of width 2^bits ("zzu12l1b16x3": unit 12's
// confidential documents of ids 196,608 to 262,143).
func bucketToken(unit int64, l authz.Level, bits uint, b int64) string {
	return fmt.Sprintf("zzu%dl%db%dx%d", unit, int(l), bits, b)
}

// callerTokens returns the tokens of the documents sub's unit may know
// of, at every level up to sub's clearance: of every id (w.bits 0), or
// of the id buckets of width 2^w.bits that cover the window w.
func callerTokens(sub authz.Subject, w window) []string {
	var out []string
	for l := authz.Unclassified; l <= sub.Clearance && l <= authz.TopSecret; l++ {
		if w.bits == 0 {
			out = append(out, unitToken(sub.Unit, l))
			continue
		}
		for b := (w.floor + 1) >> w.bits; b <= (w.top-1)>>w.bits; b++ {
			out = append(out, bucketToken(sub.Unit, l, w.bits, b))
		}
	}
	return out
}

// A search runs as a union of arms (searchPlan): each arm draws
// candidates from one index — the full-text engine's words and
// visibility tokens, or a unit's own documents, its distribution list,
// the caller's grants — joins the document, keeps those meeting the
// plan's condition (visibleClause and the filters), and stops at the
// first rows newest first (ORDER BY the id DESC LIMIT n). So a search
// reads about as many rows as it shows, not every match: SQLite's FTS5
// walks its posting lists by rowid, newest first (a CROSS JOIN keeps the
// index row the outer loop), and stops at the limit; PostgreSQL's GIN
// index gives the matches of the words and the caller's tokens, and a
// top-N sort keeps the first. The total is counted the same way, up to
// a cap (Query.cap), and the facets among the newest cap matches:
// concealed documents drop out inside each arm, before its limit, so
// they never take a place under the cap.

// On PostgreSQL a GIN index yields its matches in no order: to find the
// newest page the words' arm must fetch every match of the words and the
// caller's tokens (thousands for a common pair at a million documents),
// join each to its document for the exact visibility check and sort
// them — most of a search's time (BenchmarkSearch). So a PostgreSQL
// search by words looks in a window of the newest ids first (id > floor)
// and widens the window, four times each round, until it holds the rows
// asked for or reaches the first id (searchPlan.windows). The rows are
// those of the whole query: the window is cut by id, and every id above
// it is in it, so when the window holds the page's rows no older match
// can belong to the page; when it does not, the next round asks again. A
// concealed document counts in no round (each round's rows are the
// plan's, visibility checked inside the query), so it never changes what
// a search returns.
//
// The window must also narrow the index's own work. ANDing the primary
// key's range into the bitmap did not: the GIN index still intersected
// the words with the caller's tokens over every id (the same hundreds of
// pages in every round, and in the count), and a count's range of 200,000
// ids was itself a bitmap of 200,000 rows. So each index row also carries
// its visibility tokens per id bucket (bucketToken: unit, level, and the
// bucket of 2^12, 2^16 and 2^20 ids the document's id falls in), and a
// window is widened to whole buckets of one width (window) and searched
// for the words AND one of the caller's tokens of those buckets: the
// index walks only the caller's documents of the window (a fiftieth of
// them for an officer of one of sixty units), stepping over the rest of
// the words' posting lists. A window narrower than the smallest bucket
// (tests) is cut by id alone. The tokens only narrow what the index
// returns: the window's id range and visibleClause are still checked row
// by row, so a row whose tokens are stale or missing can be missed, never
// shown.

// firstWindow is the first window's width in ids: at a million
// documents, about two pages of an officer's matches of a common pair of
// words.
const firstWindow = 4096

// bucketBits are the widths of the id buckets of the visibility tokens,
// as powers of two, narrowest first; maxBuckets is how many buckets of
// one width a window takes at most (so a query names at most maxBuckets
// tokens per level).
var bucketBits = []uint{12, 16, 20}

const maxBuckets = 16

// window is one round of a search's id window: the ids in (floor, top),
// floor 0 for every id below top, and when bits is not 0 the window is
// whole buckets of 2^bits ids, searched through their tokens.
type window struct {
	floor, top int64
	bits       uint
}

// span returns the window of the w ids below top, widened to whole
// buckets of the narrowest width of which at most maxBuckets cover it;
// cut by id alone when w is narrower than the narrowest bucket, and
// every id below top when no width fits or the window reaches the first
// id.
func span(top, w int64) window {
	lo := top - w // the window's first id
	if lo <= 1 {
		return window{top: top}
	}
	if w < 1<<bucketBits[0] {
		return window{floor: lo - 1, top: top}
	}
	for _, bits := range bucketBits {
		first := lo &^ (1<<bits - 1)
		if (top-1)>>bits-first>>bits < maxBuckets {
			if first <= 1 {
				return window{top: top}
			}
			return window{floor: first - 1, top: top, bits: bits}
		}
	}
	return window{top: top}
}

// searchPlan is a search as SQL.
type searchPlan struct {
	arms []searchArm
	// where holds for every match (over d, the document), with args.
	where string
	args  []any
	// window, when not zero, is the width of the first id window the
	// plan's rows are looked for in (PostgreSQL's searches by words).
	window int64
}

// searchArm is one source of a search's candidates: SELECT id FROM from
// WHERE cond, where id is the column (the document's id) the arm is
// ordered and cut by, through the expression order when not empty. When
// windowed is not nil, it gives the arguments of cond for a window of
// buckets instead of args.
type searchArm struct {
	from, cond, id, order string
	args                  []any
	windowed              func(window) []any
}

// union returns the union of the plan's arms, each cut after the cursor
// (when after > 0), to the window w (when w.floor > 0) and at limit
// rows, newest first when ordered.
func (p searchPlan) union(after int64, w window, limit int, ordered bool) (string, []any) {
	var parts []string
	var args []any
	for i, a := range p.arms {
		q := `SELECT ` + a.id + ` AS id FROM ` + a.from + ` WHERE ` + a.cond + ` AND ` + p.where
		if a.windowed != nil && w.bits > 0 {
			args = append(args, a.windowed(w)...)
		} else {
			args = append(args, a.args...)
		}
		args = append(args, p.args...)
		// An arm ordered by an expression is cut by it too: PostgreSQL's
		// words' arm, whose window the tokens already narrow in the
		// index, so that the planner does not AND a bitmap of every id of
		// the range from the primary key (200,000 rows for a count's).
		cut := cmp.Or(a.order, a.id)
		if after > 0 {
			q += ` AND ` + cut + ` < ?`
			args = append(args, after)
		}
		if w.floor > 0 {
			q += ` AND ` + cut + ` > ?`
			args = append(args, w.floor)
		}
		if ordered {
			q += ` ORDER BY ` + cut + ` DESC`
		}
		parts = append(parts, `SELECT id FROM (`+q+` LIMIT `+strconv.Itoa(limit)+`) arm`+strconv.Itoa(i))
	}
	return strings.Join(parts, ` UNION `), args
}

// windows calls fetch with each id window below top (ids below top; 0:
// every id) in turn, from width w, until fetch finds want rows or the
// window reaches the first id; without a plan's window, once with every
// id. It returns the last window's width.
func (p searchPlan) windows(ctx context.Context, q store.Queryer, top, w int64, want int, fetch func(window) (int, error)) (int64, error) {
	if p.window == 0 || w <= 0 {
		_, err := fetch(window{})
		return 0, err
	}
	if top <= 0 {
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM record_documents`).Scan(&top); err != nil {
			return 0, fmt.Errorf("records: the search's newest document: %w", err)
		}
	}
	for {
		win := span(top, w)
		n, err := fetch(win)
		if err != nil || n >= want || win.floor == 0 {
			return w, err
		}
		w *= 4
	}
}

// count counts the plan's matches, up to limit, looking first in a
// window of width w (when the plan has windows).
func (p searchPlan) count(ctx context.Context, q store.Queryer, limit int, w int64) (int, error) {
	var n int
	_, err := p.windows(ctx, q, 0, w, limit, func(win window) (int, error) {
		u, args := p.union(0, win, limit, false)
		if err := q.QueryRowContext(ctx, q.Rebind(`SELECT COUNT(*) FROM (`+u+`) m`), args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("records: count the search's matches: %w", err)
		}
		return n, nil
	})
	return min(n, limit), err
}

// page returns the plan's first limit matches after the cursor, newest
// first, and the width of the id window they were found in (0: the
// plan has none).
func (p searchPlan) page(ctx context.Context, q store.Queryer, after int64, limit int) ([]*row, int64, error) {
	var rows []*row
	w, err := p.windows(ctx, q, after, p.window, limit, func(win window) (int, error) {
		u, args := p.union(after, win, limit, true)
		var err error
		rows, err = queryDocuments(ctx, q, `SELECT `+prefixed(documentColumns, "d.")+` FROM (`+u+`) m JOIN record_documents d ON d.id = m.id
			ORDER BY m.id DESC LIMIT `+strconv.Itoa(limit), args)
		return len(rows), err
	})
	return rows, w, err
}

// facetValues returns the facetColumns of the plan's newest limit
// matches, one slice per match in facetColumns' order.
func (p searchPlan) facetValues(ctx context.Context, q store.Queryer, limit int) ([][]facetValue, error) {
	cols := make([]string, len(facetColumns))
	for i, f := range facetColumns {
		cols[i] = f.column
	}
	var out [][]facetValue
	_, err := p.windows(ctx, q, 0, p.window*int64(max(limit/DefaultLimit, 1)), limit, func(win window) (int, error) {
		u, args := p.union(0, win, limit, true)
		var err error
		out, err = p.facetRows(ctx, q, `SELECT `+strings.Join(cols, ", ")+` FROM (SELECT id FROM (`+u+`) u ORDER BY id DESC LIMIT `+
			strconv.Itoa(limit)+`) m JOIN record_documents d ON d.id = m.id`, args, len(cols))
		return len(out), err
	})
	return out, err
}

// facetRows returns the facet values of query's rows, of n columns.
func (p searchPlan) facetRows(ctx context.Context, q store.Queryer, query string, args []any, n int) ([][]facetValue, error) {
	rs, err := q.QueryContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("records: the search's facets: %w", err)
	}
	defer rs.Close()
	var out [][]facetValue
	for rs.Next() {
		raw := make([]any, n)
		ptrs := make([]any, n)
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("records: the search's facets: %w", err)
		}
		vs := make([]facetValue, n)
		for i, v := range raw {
			switch v := v.(type) {
			case int64:
				vs[i] = facetValue{n: v}
			case []byte:
				vs[i] = facetValue{s: string(v), text: true}
			case string:
				vs[i] = facetValue{s: v, text: true}
			default:
				return nil, fmt.Errorf("records: the search's facet %s is a %T", facetColumns[i].name, v)
			}
		}
		out = append(out, vs)
	}
	return out, rs.Err()
}

// matchArms returns the arms of a search for terms: the documents whose
// index row holds every term and one of the caller's unit's tokens at or
// below its clearance, and those sub holds a grant in force for whose
// row holds every term (grants are few per person and expire, so they
// are no tokens). Terms are folded words of letters and digits only, so
// nothing of the query reaches the engine's syntax.
func matchArms(d store.Dialect, terms []string, sub authz.Subject, now time.Time) []searchArm {
	tokens := callerTokens(sub, window{})
	if d == store.SQLite {
		words := `"` + strings.Join(terms, `" AND "`) + `"`
		visible := words
		if len(tokens) > 0 {
			visible += ` AND ("` + strings.Join(tokens, `" OR "`) + `")`
		}
		return []searchArm{
			{from: `record_search CROSS JOIN record_documents d`, id: `record_search.rowid`,
				cond: `d.id = record_search.rowid AND record_search MATCH ?`, args: []any{visible}},
			{from: `record_grants g CROSS JOIN record_documents d`, id: `d.id`,
				cond: `d.id = g.document_id AND g.staff_id = ? AND g.expires_us > ?
					AND EXISTS (SELECT 1 FROM record_search WHERE rowid = g.document_id AND record_search MATCH ?)`,
				args: []any{sub.ID, store.Micros(now), words}},
		}
	}
	words := strings.Join(terms, " & ")
	visible := func(tokens []string) []any {
		if len(tokens) == 0 {
			return []any{words}
		}
		return []any{words + ` & (` + strings.Join(tokens, " | ") + `)`}
	}
	// The grants' arm checks each granted document's row on its own (a
	// scalar subquery), so that the planner does not fetch every
	// document holding the words through the index to join them to the
	// few grants.
	//
	// The words' arm is ordered by an expression of the id rather than
	// the id: ordered by the id, the planner walks the primary key
	// backwards, parsing each row's text into a tsvector, until it has
	// the page (seconds for rare words); by the expression, it takes the
	// matches from the GIN index and sorts the newest out of them. In a
	// window of buckets it asks for the caller's tokens of the window's
	// buckets instead of those of every id.
	return []searchArm{
		{from: `record_search s JOIN record_documents d ON d.id = s.document_id`, id: `s.document_id`, order: `s.document_id + 0`,
			cond: `to_tsvector('simple', s.body) @@ to_tsquery('simple', ?)`, args: visible(tokens),
			windowed: func(w window) []any { return visible(callerTokens(sub, w)) }},
		{from: `record_grants g JOIN record_documents d ON d.id = g.document_id`, id: `d.id`,
			cond: `g.staff_id = ? AND g.expires_us > ?
				AND (SELECT to_tsvector('simple', s.body) FROM record_search s WHERE s.document_id = g.document_id) @@ to_tsquery('simple', ?)`,
			args: []any{sub.ID, store.Micros(now), words}},
	}
}

// browseArms returns the arms of a search without words: the documents
// sub may know of through indexes — those of its unit up to its
// clearance, those distributed to its unit, those it holds a grant in
// force for.
func browseArms(sub authz.Subject, now time.Time) []searchArm {
	return []searchArm{
		{from: `record_documents d`, id: `d.id`, cond: `d.unit_id = ? AND d.level <= ?`, args: []any{sub.Unit, int(sub.Clearance)}},
		{from: `record_distribution x JOIN record_documents d ON d.id = x.document_id`, id: `d.id`, cond: `x.unit_id = ?`, args: []any{sub.Unit}},
		{from: `record_grants g JOIN record_documents d ON d.id = g.document_id`, id: `d.id`,
			cond: `g.staff_id = ? AND g.expires_us > ?`, args: []any{sub.ID, store.Micros(now)}},
	}
}
