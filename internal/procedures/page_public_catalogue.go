package procedures

import (
	"net/http"
	"strings"

	"chancery/internal/i18n"
	"chancery/internal/web"
)

// publicCatalogueRow is a procedure as the catalogue lists it.
type publicCatalogueRow struct {
	Code        string
	Name        string
	Field       string
	OnlineKey   string
	WorkingDays int
	// TimeAssumed marks a time limit that is an assumption.
	TimeAssumed bool
	Fees        []publicFeeView
}

// publicCatalogueData is the view of the catalogue: the search and filters as
// submitted, their choices, and the procedures that match.
type publicCatalogueData struct {
	Query   string
	Fields  []web.Option
	Wheres  []web.Option
	Levels  []web.Option
	Rows    []publicCatalogueRow
	Total   int
	Filters bool
}

// publicWhereFilters are the places a citizen may filter by.
var publicWhereFilters = []Where{AtHome, AtMission}

// publicLevelFilters are the online levels a citizen may filter by.
var publicLevelFilters = []OnlineLevel{OnlineFull, OnlinePartial}

func (h *Handler) pageCatalogue(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.PublicSite, "procedures.public.catalogue.title")
	q := r.URL.Query()
	query, field, where, level := strings.TrimSpace(q.Get("q")), q.Get("field"), Where(q.Get("where")), OnlineLevel(q.Get("level"))
	cat := h.svc.Catalogue()
	data := publicCatalogueData{Query: query, Total: len(cat.Procedures()), Filters: query != "" || field != "" || where != "" || level != ""}
	data.Fields = append(data.Fields, web.Option{Value: "", Label: p.T("procedures.public.any_field")})
	for _, f := range cat.Fields() {
		data.Fields = append(data.Fields, web.Option{Value: f.Code, Label: pick(p.Lang, f.NameVI, f.NameEN), Selected: f.Code == field})
	}
	data.Wheres = append(data.Wheres, web.Option{Value: "", Label: p.T("procedures.public.any_where")})
	for _, wh := range publicWhereFilters {
		data.Wheres = append(data.Wheres, web.Option{Value: string(wh), Label: p.T(wh.Key()), Selected: wh == where})
	}
	data.Levels = append(data.Levels, web.Option{Value: "", Label: p.T("procedures.public.any_level")})
	for _, l := range publicLevelFilters {
		data.Levels = append(data.Levels, web.Option{Value: string(l), Label: p.T(l.Key()), Selected: l == level})
	}
	notes := h.catalogueNotes(r, p.Localizer())
	for _, pr := range cat.Search(query) {
		if field != "" && pr.Field.Code != field || level != "" && pr.Online.Level != level || !publicImplementedAt(pr, where) {
			continue
		}
		data.Rows = append(data.Rows, publicCatalogueRow{Code: pr.Code, Name: pick(p.Lang, pr.NameVI, pr.NameEN),
			Field: pick(p.Lang, pr.Field.NameVI, pr.Field.NameEN), OnlineKey: pr.Online.Level.Key(),
			WorkingDays: pr.TimeLimit.WorkingDays, TimeAssumed: notes.admin && pr.TimeLimit.Assumption, Fees: publicViewFees(notes, pr.Fees)})
	}
	h.pages.Render(w, r, http.StatusOK, "public_catalogue", web.View[publicCatalogueData]{Page: p, Data: data})
}

// publicImplementedAt reports whether p is done at where ("" is anywhere; an
// unknown place matches nothing).
func publicImplementedAt(p *Procedure, where Where) bool {
	switch where {
	case "":
		return true
	case AtHome:
		return len(p.Units) > 0
	case AtMission:
		return p.AtMissions
	}
	return false
}

// publicUnitView is a unit in Viet Nam that implements a procedure.
type publicUnitView struct {
	Code  string
	Name  string
	Basis publicBasisView
}

// publicDocumentView is a paper a dossier holds.
type publicDocumentView struct {
	Key       string
	Name      string
	Originals int
	Copies    int
	Required  bool
}

func publicViewDocuments(lang i18n.Lang, docs []Document) []publicDocumentView {
	out := make([]publicDocumentView, len(docs))
	for i, d := range docs {
		out[i] = publicDocumentView{Key: d.Key, Name: pick(lang, d.NameVI, d.NameEN), Originals: d.Originals, Copies: d.Copies, Required: d.Required}
	}
	return out
}

// publicStepView is a processing step.
type publicStepView struct {
	Name    string
	RoleKey string
	Days    string // in the page's language: "0,25"
}

// publicProcedureData is the view of a procedure's page.
type publicProcedureData struct {
	Code        string
	Name        string
	OtherName   string
	Field       string
	CodeBasis   publicBasisView
	Basis       publicBasisView
	Units       []publicUnitView
	AtMissions  bool
	OnlineKey   string
	Online      publicBasisView
	Fees        []publicFeeView
	WorkingDays int
	TimeBasis   publicBasisView
	Documents   []publicDocumentView
	ResultKey   string
	Result      string
	Steps       []publicStepView
	// Notes reports whether the page shows the administrators' notes.
	Notes bool
}

func (h *Handler) pageProcedure(w http.ResponseWriter, r *http.Request) {
	pr, err := h.procedureOf(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.PublicSite, "procedures.public.procedure.title")
	p.Title = pick(p.Lang, pr.NameVI, pr.NameEN)
	notes := h.catalogueNotes(r, p.Localizer())
	data := publicProcedureData{Code: pr.Code, Name: p.Title, OtherName: pick(publicOtherLang(p.Lang), pr.NameVI, pr.NameEN),
		Field: pick(p.Lang, pr.Field.NameVI, pr.Field.NameEN), CodeBasis: notes.basis(pr.CodeBasis), Basis: notes.basis(pr.Basis),
		AtMissions: pr.AtMissions, OnlineKey: pr.Online.Level.Key(), Online: notes.basis(pr.Online.Basis), Fees: publicViewFees(notes, pr.Fees),
		WorkingDays: pr.TimeLimit.WorkingDays, TimeBasis: notes.basis(pr.TimeLimit.Basis), Documents: publicViewDocuments(p.Lang, pr.Documents),
		ResultKey: pr.Result.Type.Key(), Result: pick(p.Lang, pr.Result.NameVI, pr.Result.NameEN), Notes: notes.admin}
	for _, u := range pr.Units {
		data.Units = append(data.Units, publicUnitView{Code: u.AgencyCode, Name: pick(p.Lang, u.NameVI, u.NameEN), Basis: notes.basis(u.Basis)})
	}
	for _, s := range pr.Steps {
		data.Steps = append(data.Steps, publicStepView{Name: pick(p.Lang, s.NameVI, s.NameEN), RoleKey: s.Role.Key(), Days: p.Lang.FormatNumber(s.WorkingDays, 2)})
	}
	h.pages.Render(w, r, http.StatusOK, "public_procedure", web.View[publicProcedureData]{Page: p, Data: data})
}

// publicOtherLang is the language a page does not show, for a procedure's name
// in both.
func publicOtherLang(l i18n.Lang) i18n.Lang {
	if l == i18n.EN {
		return i18n.VI
	}
	return i18n.EN
}
