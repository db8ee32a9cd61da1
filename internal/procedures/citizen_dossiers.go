package procedures

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// CitizenQuery selects a page of a citizen's own dossiers ("my
// dossiers"). The zero CitizenQuery is the first page of all of them.
type CitizenQuery struct {
	// Text finds the dossiers whose code holds it, in any case, or whose
	// procedure's code, name or field matches every word of it, with or
	// without Vietnamese diacritics ("ho chieu" finds "Hộ chiếu").
	Text string
	// Status, if set, keeps the dossiers in that status.
	Status Status
	// Procedure, if set, keeps the dossiers of that procedure code.
	Procedure string
	// From and To, if set, keep the dossiers submitted at or after From
	// and before To.
	From, To time.Time
	// Page is the page to read, from 1; 0 means 1.
	Page int
	// Size is the page size; 0 means DefaultCitizenPageSize, and it is at
	// most MaxCitizenPageSize.
	Size int
}

// CitizenPage is a page of a citizen's dossiers, newest first.
type CitizenPage struct {
	Items []QueueItem
	// Page and Size are the page read and its size; Total is how many
	// dossiers the query selects, counted up to CitizenCountCap (Capped
	// then reports that there are more).
	Page, Size, Total int
	Capped            bool
}

// Pages returns the number of pages of Total dossiers, at least 1.
func (p CitizenPage) Pages() int {
	if p.Size <= 0 || p.Total <= p.Size {
		return 1
	}
	return (p.Total + p.Size - 1) / p.Size
}

// Page sizes and bounds of a citizen's list. Counting stops at
// CitizenCountCap, so neither the count nor a page's offset ever reads
// more than that many index entries, whoever asks.
const (
	DefaultCitizenPageSize = 20
	MaxCitizenPageSize     = 100
	CitizenCountCap        = 10_000
	// maxCitizenText bounds the search text, in characters.
	maxCitizenText = 200
)

// CitizenDossiers returns a page of the dossiers the citizen sub
// submitted that q selects, newest first (ties by the order they were
// stored, so a page never shifts between reads). Only citizens have this
// list: anyone else gets errs.ErrForbidden. A malformed query is an
// *errs.FieldError on the query's field: "q", "status", "procedure", "to"
// or "page".
func (s *Service) CitizenDossiers(ctx context.Context, sub authz.Subject, q CitizenQuery) (CitizenPage, error) {
	if sub.Kind != authz.Citizen {
		return CitizenPage{}, fmt.Errorf("%w: sign in as a citizen to see your dossiers", errs.ErrForbidden)
	}
	f, err := s.citizenFilter(q)
	if err != nil {
		return CitizenPage{}, err
	}
	page, size := max(q.Page, 1), q.Size
	if size <= 0 {
		size = DefaultCitizenPageSize
	}
	size = min(size, MaxCitizenPageSize)
	if page > (CitizenCountCap+size-1)/size {
		return CitizenPage{}, errs.Invalid("page", fmt.Sprintf("is past the last page; a list shows at most %d dossiers, so narrow the search", CitizenCountCap))
	}
	out := CitizenPage{Page: page, Size: size}
	out.Total, err = countCitizenRows(ctx, s.db, sub.ID, f, CitizenCountCap+1)
	if err != nil {
		return CitizenPage{}, err
	}
	if out.Total > CitizenCountCap {
		out.Total, out.Capped = CitizenCountCap, true
	}
	offset := (page - 1) * size
	if offset >= out.Total {
		return out, nil // past the end: an empty page, without reading
	}
	out.Items, err = citizenPageRows(ctx, s.db, sub.ID, f, offset, size)
	return out, err
}

// citizenFilter is a checked CitizenQuery as the storage reads it.
type citizenFilter struct {
	// codeLike is a LIKE pattern of the upper-cased code text, "" for none.
	codeLike string
	// textProcedures are the procedures the text names, matched like a
	// code (either selects a dossier).
	textProcedures []string
	status         Status
	procedure      string
	from, to       int64 // microseconds; 0 for none
}

// citizenFilter checks q and turns it into the filter storage reads.
func (s *Service) citizenFilter(q CitizenQuery) (citizenFilter, error) {
	var f citizenFilter
	text := strings.TrimSpace(q.Text)
	if utf8.RuneCountInString(text) > maxCitizenText {
		return f, errs.Invalid("q", fmt.Sprintf("is longer than %d characters; search for part of a code or a procedure's name", maxCitizenText))
	}
	if strings.ContainsFunc(text, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError }) {
		return f, errs.Invalid("q", "holds control or invisible characters; type part of a code or a procedure's name")
	}
	if text != "" {
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
		f.codeLike = "%" + esc.Replace(strings.ToUpper(text)) + "%"
		for _, p := range s.cat.Search(text) {
			f.textProcedures = append(f.textProcedures, p.Code)
		}
	}
	if q.Status != 0 && !q.Status.Valid() {
		return f, errs.Invalid("status", fmt.Sprintf("%d is not a dossier status; use 1 to 10", int(q.Status)))
	}
	f.status = q.Status
	if q.Procedure != "" {
		if _, err := s.cat.Procedure(q.Procedure); err != nil {
			return f, errs.Invalid("procedure", "is not a procedure of the catalogue; choose one from the list")
		}
		f.procedure = q.Procedure
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return f, errs.Invalid("to", "is before the first day; the range ends on or after the day it starts")
	}
	if !q.From.IsZero() {
		f.from = us(q.From)
	}
	if !q.To.IsZero() {
		f.to = us(q.To)
	}
	return f, nil
}
