package records

import (
	"fmt"
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
// that may know it, at its level.
func visibilityTokens(r *row) []string {
	out := []string{unitToken(r.UnitID, r.Classification)}
	for _, u := range r.Shared {
		out = append(out, unitToken(u, r.Classification))
	}
	return out
}

func unitToken(unit int64, l authz.Level) string { return fmt.Sprintf("zzu%dl%d", unit, int(l)) }

// callerTokens returns the tokens of the documents sub's unit may know
// of, at every level up to sub's clearance.
func callerTokens(sub authz.Subject) []string {
	var out []string
	for l := authz.Unclassified; l <= sub.Clearance && l <= authz.TopSecret; l++ {
		out = append(out, unitToken(sub.Unit, l))
	}
	return out
}

// visibleMatch returns the condition selecting the documents whose index
// row holds every term and that sub's unit may know of (by the tokens),
// or that sub holds a grant in force for, with its arguments; the caller
// adds visibleClause besides. Terms are folded words of letters and
// digits only, so nothing of the query reaches the engine's syntax.
func visibleMatch(d store.Dialect, terms []string, sub authz.Subject, now time.Time) (string, []any) {
	tokens := callerTokens(sub)
	if d == store.SQLite {
		words := `"` + strings.Join(terms, `" AND "`) + `"`
		visible := words
		if len(tokens) > 0 {
			visible += ` AND ("` + strings.Join(tokens, `" OR "`) + `")`
		}
		return `d.id IN (SELECT rowid FROM record_search WHERE record_search MATCH ?
			UNION SELECT g.document_id FROM record_grants g WHERE g.staff_id = ? AND g.expires_us > ?
				AND EXISTS (SELECT 1 FROM record_search WHERE rowid = g.document_id AND record_search MATCH ?))`,
			[]any{visible, sub.ID, store.Micros(now), words}
	}
	words := strings.Join(terms, " & ")
	visible := words
	if len(tokens) > 0 {
		visible += ` & (` + strings.Join(tokens, " | ") + `)`
	}
	// The grants' branch checks each granted document's row on its own
	// (a scalar subquery), so that the planner does not fetch every
	// document holding the words through the index to join them to the
	// few grants.
	return `d.id IN (SELECT document_id FROM record_search WHERE to_tsvector('simple', body) @@ to_tsquery('simple', ?)
		UNION SELECT g.document_id FROM record_grants g WHERE g.staff_id = ? AND g.expires_us > ?
			AND (SELECT to_tsvector('simple', s.body) FROM record_search s WHERE s.document_id = g.document_id) @@ to_tsquery('simple', ?))`,
		[]any{visible, sub.ID, store.Micros(now), words}
}

// visibleCandidates returns the condition selecting, through indexes,
// the documents sub may know of (those of its unit up to its clearance,
// those distributed to its unit, those it holds a grant in force for),
// for a search without words; visibleClause still applies besides.
func visibleCandidates(sub authz.Subject, now time.Time) (string, []any) {
	return `d.id IN (SELECT id FROM record_documents WHERE unit_id = ? AND level <= ?
		UNION SELECT document_id FROM record_distribution WHERE unit_id = ?
		UNION SELECT document_id FROM record_grants WHERE staff_id = ? AND expires_us > ?)`,
		[]any{sub.Unit, int(sub.Clearance), sub.Unit, sub.ID, store.Micros(now)}
}
