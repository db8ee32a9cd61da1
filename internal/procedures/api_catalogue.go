package procedures

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// ProcedureSummary is a procedure as the catalogue's list shows it.
type ProcedureSummary struct {
	Code   string      `json:"code"`
	NameVI string      `json:"name_vi"`
	NameEN string      `json:"name_en"`
	Field  Field       `json:"field"`
	Online OnlineLevel `json:"online"`
	// TimeLimit is in working days.
	TimeLimit int   `json:"time_limit"`
	Fees      []Fee `json:"fees"`
}

// Summary returns the procedure as the catalogue's list shows it.
func (p *Procedure) Summary() ProcedureSummary {
	fees := p.Fees
	if fees == nil {
		fees = []Fee{}
	}
	return ProcedureSummary{Code: p.Code, NameVI: p.NameVI, NameEN: p.NameEN, Field: p.Field, Online: p.Online.Level,
		TimeLimit: p.TimeLimit.WorkingDays, Fees: fees}
}

// apiMaxQuery bounds a search's text, in characters.
const apiMaxQuery = 200

// apiProcedures lists the catalogue: every procedure matching the words
// of q (diacritics optional), of the field, implemented by the unit.
func (h *Handler) apiProcedures(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query, field, unit := q.Get("q"), q.Get("field"), q.Get("unit")
	if utf8.RuneCountInString(query) > apiMaxQuery || !utf8.ValidString(query) || strings.IndexFunc(query, unicode.IsControl) >= 0 {
		web.Error(w, r, errs.Invalid("q", fmt.Sprintf("must be text of at most %d characters, without control characters", apiMaxQuery)))
		return
	}
	cat := h.svc.Catalogue()
	if field != "" && !slices.ContainsFunc(cat.Fields(), func(f Field) bool { return f.Code == field }) {
		var codes []string
		for _, f := range cat.Fields() {
			codes = append(codes, f.Code)
		}
		web.Error(w, r, errs.Invalid("field", fmt.Sprintf("%q is not a field of the catalogue; use one of %s", field, strings.Join(codes, ", "))))
		return
	}
	list := cat.Search(query)
	if unit != "" {
		u, err := h.svc.opts.Directory.UnitByCode(r.Context(), unit)
		if errors.Is(err, errs.ErrNotFound) {
			err = errs.Invalid("unit", fmt.Sprintf("no unit has the agency code %q", unit))
		}
		if err != nil {
			web.Error(w, r, err)
			return
		}
		list = slices.DeleteFunc(list, func(p *Procedure) bool { return !p.ImplementedBy(u.Code, u.Kind.Mission()) })
	}
	items := make([]ProcedureSummary, 0, len(list))
	for _, p := range list {
		if field == "" || p.Field.Code == field {
			items = append(items, p.Summary())
		}
	}
	web.JSON(w, r, http.StatusOK, web.NewList(items, ""))
}

// apiProcedure returns one procedure as its catalogue file has it, the
// application form's schema included.
func (h *Handler) apiProcedure(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.Catalogue().Procedure(r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, p)
}
