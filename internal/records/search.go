package records

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// SearchCap is how many matches a search counts at most. Counting every
// match of a common pair of words among a million documents means
// reading and checking thousands of rows for a number nobody reads past
// "more than 1,000" (BenchmarkSearch); so a search counts up to the cap,
// and Page.More says there are more. The facets likewise count among the
// newest SearchCap matches.
const SearchCap = 1000

// Query is a search of documents. Every field is optional.
type Query struct {
	// Text is matched, with or without diacritics, against the type,
	// number, subject, sender and (unclassified) file text.
	Text      string
	Direction Direction
	Type      string
	Status    Status
	Year      int
	// Overdue keeps the documents past their due date and not yet
	// handled (done), issued or recalled: the ones to chase.
	Overdue bool
	// Urgency and Level, when not nil, keep the documents of that
	// urgency or classification level; Unit, when not 0, those the unit
	// owns.
	Urgency *Urgency
	Level   *authz.Level
	Unit    int64
	// After is the cursor: the id of the last document of the previous
	// page.
	After int64
	// Limit is the page size; if zero, DefaultLimit; at most MaxLimit.
	Limit int

	// countCap replaces SearchCap when not zero (tests, with a few
	// documents).
	countCap int
	// window replaces the first id window of a search by words when not
	// zero, on either database (tests of the widening, with a few
	// documents).
	window int64
}

// cap returns how many matches q counts at most.
func (q Query) cap() int {
	if q.countCap > 0 {
		return q.countCap
	}
	return SearchCap
}

// Page is a page of search results.
type Page struct {
	Items []*Document `json:"items"`
	// Total counts the matches the caller may see, up to SearchCap.
	Total int `json:"total"`
	// More reports more matches than Total (which is then SearchCap).
	More bool `json:"total_is_lower_bound"`
	// Next is the cursor of the next page; 0 on the last.
	Next int64 `json:"next,omitempty"`
}

// Search returns the documents matching q that sub may know of, newest
// first, and how many there are up to SearchCap. Concealed documents are
// left out inside the query, before any limit, so they count in no total
// or cap and shift no page. It returns an *authz.Refusal for a caller
// whose roles give no reading of documents.
func (s *Service) Search(ctx context.Context, sub authz.Subject, q Query) (*Page, error) {
	if dec, why := authz.Decide(sub, authz.Read, authz.Resource{Kind: authz.KindDocument}); dec != authz.Allowed {
		return nil, authz.Refuse(dec, why, authz.Read, authz.Resource{Kind: authz.KindDocument}, "")
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 0 || q.Limit > MaxLimit:
		return nil, errs.Invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	plan, none, err := s.searchPlan(sub, q)
	if err != nil {
		return nil, err
	}
	if none {
		return &Page{Items: []*Document{}}, nil // only punctuation: nothing can match
	}
	var rows []*row
	var total int
	err = s.reading(ctx, func(db store.Queryer) error {
		var w int64
		var err error
		if rows, w, err = plan.page(ctx, db, q.After, q.Limit); err != nil {
			return err
		}
		// The count looks first in the window that held the page, scaled
		// to the cap: where a window of w ids held a page of matches, one
		// of w×cap/limit ids likely holds the cap's.
		total, err = plan.count(ctx, db, q.cap()+1, w*int64(max((q.cap()+1)/q.Limit, 1)))
		return err
	})
	if err != nil {
		return nil, err
	}
	p := &Page{Items: make([]*Document, len(rows)), Total: min(total, q.cap()), More: total > q.cap()}
	for i, r := range rows {
		p.Items[i] = &r.Document
	}
	if len(rows) == q.Limit {
		p.Next = rows[len(rows)-1].ID
	}
	return p, nil
}

// reading runs fn, the queries of one search. On PostgreSQL they run in
// one read-only transaction, at one snapshot (so a page and its count
// agree), and without parallel workers: the planner cannot know how few
// rows a window's bucket tokens match (they are too many and too rare for
// the statistics; it guessed 1,669 rows for 44), so it planned a page of
// fifty as a parallel scan, and starting the workers and gathering their
// rows cost ten to a hundred times the scan (BenchmarkSearch, a loaded
// machine: 250–550 ms a page against 6 ms of CPU).
func (s *Service) reading(ctx context.Context, fn func(store.Queryer) error) error {
	if s.db.Dialect != store.Postgres {
		return fn(s.db)
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return fmt.Errorf("records: begin the search: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
		return fmt.Errorf("records: begin the search: %w", err)
	}
	if err := fn(&store.Tx{Tx: tx, Dialect: s.db.Dialect}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("records: end the search: %w", err)
	}
	return nil
}

// searchPlan returns the search q of sub as SQL (search_sql.go): the
// arms its candidates come from through the indexes, and the condition
// every candidate must meet — visibleClause, the exact rule of who may
// know of a document, and q's filters; none reports a query that can
// match nothing (only punctuation).
func (s *Service) searchPlan(sub authz.Subject, q Query) (p searchPlan, none bool, err error) {
	if err := checkLine("q", q.Text, maxLine, false); err != nil {
		return p, false, err
	}
	now := s.now()
	where, args := visibleClause(sub, now)
	conds := []string{where}
	add := func(cond string, arg any) { conds = append(conds, cond); args = append(args, arg) }
	ws := terms(q.Text)
	if len(ws) == 0 && strings.TrimSpace(q.Text) != "" {
		return p, true, nil
	}
	p.arms = browseArms(sub, now)
	if len(ws) > 0 {
		p.arms = matchArms(s.db.Dialect, ws, sub, now)
		if s.db.Dialect == store.Postgres {
			p.window = firstWindow
		}
		p.window = cmp.Or(q.window, p.window)
	}
	if q.Direction != "" {
		if q.Direction != Incoming && q.Direction != Outgoing {
			return p, false, errs.Invalid("direction", "use incoming or outgoing")
		}
		add("d.direction = ?", string(q.Direction))
	}
	if q.Type != "" {
		if _, err := LookupType(q.Type); err != nil {
			return p, false, err
		}
		add("d.doc_type = ?", q.Type)
	}
	if q.Urgency != nil {
		add("d.urgency = ?", int(*q.Urgency))
	}
	if q.Level != nil {
		add("d.level = ?", int(*q.Level))
	}
	if q.Unit != 0 {
		add("d.unit_id = ?", q.Unit)
	}
	if q.Status != "" {
		add("d.status = ?", string(q.Status))
	}
	if q.Year != 0 {
		add("d.register_year = ?", q.Year)
	}
	if q.Overdue {
		add("d.due_us > 0 AND d.status NOT IN ('done', 'issued', 'recalled') AND d.due_us < ?", store.Micros(now))
	}
	p.where, p.args = strings.Join(conds, " AND "), args
	return p, false, nil
}

// Facet is one value of a search's facet and how many of the matches
// have it.
type Facet struct {
	Value string
	Count int
}

// Facets are the counts of a search's matches by direction, type,
// urgency, level, status, register year and owning unit.
type Facets map[string][]Facet

// facetColumns are the facets' names and columns.
var facetColumns = []struct{ name, column string }{
	{"direction", "d.direction"}, {"type", "d.doc_type"}, {"urgency", "d.urgency"}, {"level", "d.level"},
	{"status", "d.status"}, {"year", "d.register_year"}, {"unit", "d.unit_id"},
}

// SearchFacets counts the matches of q by each facet, among the newest
// SearchCap matches (all of them when Search's page says no More) of the
// documents sub may know of only (the counts never include a concealed
// document). Values are as the API names them: urgency and level by
// name, units and years as numbers; each facet's values most first.
func (s *Service) SearchFacets(ctx context.Context, sub authz.Subject, q Query) (Facets, error) {
	if err := decide(sub, authz.Read, authz.Resource{Kind: authz.KindDocument}, "", errNotFound); err != nil {
		return nil, err
	}
	plan, none, err := s.searchPlan(sub, q)
	if err != nil || none {
		return Facets{}, err
	}
	var values [][]facetValue
	if err := s.reading(ctx, func(db store.Queryer) error {
		values, err = plan.facetValues(ctx, db, q.cap())
		return err
	}); err != nil {
		return nil, err
	}
	out := Facets{}
	for i, f := range facetColumns {
		counts := map[facetValue]int{}
		for _, v := range values {
			counts[v[i]]++
		}
		list := make([]Facet, 0, len(counts))
		keys := make([]facetValue, 0, len(counts))
		for v := range counts {
			keys = append(keys, v)
		}
		slices.SortFunc(keys, func(a, b facetValue) int {
			return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a.n, b.n), strings.Compare(a.s, b.s))
		})
		for _, v := range keys {
			name := v.String()
			switch f.name {
			case "urgency":
				name = Urgency(v.n).String()
			case "level":
				name = authz.Level(v.n).String()
			}
			list = append(list, Facet{Value: name, Count: counts[v]})
		}
		out[f.name] = list
	}
	return out, nil
}

// facetValue is one column's value of a match: a number (n) or a text
// (s, when text).
type facetValue struct {
	n    int64
	s    string
	text bool
}

func (v facetValue) String() string {
	if v.text {
		return v.s
	}
	return fmt.Sprint(v.n)
}
