package procedures

import (
	"net/http"
	"strings"

	"chancery/internal/i18n"
	"chancery/internal/web"
)

// portalCatalogueRow is a procedure as the catalogue lists it.
type portalCatalogueRow struct {
	Code        string
	Name        string
	Field       string
	OnlineKey   string
	WorkingDays int
	// TimeAssumed marks a time limit that is an assumption.
	TimeAssumed bool
	Fees        []portalFeeView
}

// portalCatalogueData is the view of the catalogue: the search and filters as
// submitted, their choices, and the procedures that match.
type portalCatalogueData struct {
	Query   string
	Fields  []web.Option
	Wheres  []web.Option
	Rows    []portalCatalogueRow
	Total   int
	Filters bool
}

// portalWhereFilters are the places a citizen may filter by.
var portalWhereFilters = []Where{AtHome, AtMission}

func (h *Handler) pageCatalogue(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.PublicSite, "procedures.portal.catalogue.title")
	q := r.URL.Query()
	query, field, where := strings.TrimSpace(q.Get("q")), q.Get("field"), Where(q.Get("where"))
	cat := h.svc.Catalogue()
	data := portalCatalogueData{Query: query, Total: len(cat.Procedures()), Filters: query != "" || field != "" || where != ""}
	data.Fields = append(data.Fields, web.Option{Value: "", Label: p.T("procedures.portal.any_field")})
	for _, f := range cat.Fields() {
		data.Fields = append(data.Fields, web.Option{Value: f.Code, Label: pick(p.Lang, f.NameVI, f.NameEN), Selected: f.Code == field})
	}
	data.Wheres = append(data.Wheres, web.Option{Value: "", Label: p.T("procedures.portal.any_where")})
	for _, wh := range portalWhereFilters {
		data.Wheres = append(data.Wheres, web.Option{Value: string(wh), Label: p.T(wh.Key()), Selected: wh == where})
	}
	for _, pr := range cat.Search(query) {
		if field != "" && pr.Field.Code != field || !portalImplementedAt(pr, where) {
			continue
		}
		data.Rows = append(data.Rows, portalCatalogueRow{Code: pr.Code, Name: pick(p.Lang, pr.NameVI, pr.NameEN),
			Field: pick(p.Lang, pr.Field.NameVI, pr.Field.NameEN), OnlineKey: pr.Online.Level.Key(),
			WorkingDays: pr.TimeLimit.WorkingDays, TimeAssumed: pr.TimeLimit.Assumption, Fees: portalViewFees(p.Lang, pr.Fees)})
	}
	h.pages.Render(w, r, http.StatusOK, "portal_catalogue", web.View[portalCatalogueData]{Page: p, Data: data})
}

// portalImplementedAt reports whether p is done at where ("" is anywhere; an
// unknown place matches nothing).
func portalImplementedAt(p *Procedure, where Where) bool {
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

// portalUnitView is a unit in Viet Nam that implements a procedure.
type portalUnitView struct {
	Code  string
	Name  string
	Basis portalBasisView
}

// portalDocumentView is a paper a dossier holds.
type portalDocumentView struct {
	Key       string
	Name      string
	Originals int
	Copies    int
	Required  bool
}

func portalViewDocuments(lang i18n.Lang, docs []Document) []portalDocumentView {
	out := make([]portalDocumentView, len(docs))
	for i, d := range docs {
		out[i] = portalDocumentView{Key: d.Key, Name: pick(lang, d.NameVI, d.NameEN), Originals: d.Originals, Copies: d.Copies, Required: d.Required}
	}
	return out
}

// portalStepView is a processing step.
type portalStepView struct {
	Name    string
	RoleKey string
	Days    float64
}

// portalProcedureData is the view of a procedure's page.
type portalProcedureData struct {
	Code        string
	Name        string
	OtherName   string
	Field       string
	CodeBasis   portalBasisView
	Basis       portalBasisView
	Units       []portalUnitView
	AtMissions  bool
	OnlineKey   string
	Online      portalBasisView
	Fees        []portalFeeView
	WorkingDays int
	TimeBasis   portalBasisView
	Documents   []portalDocumentView
	ResultKey   string
	Result      string
	Steps       []portalStepView
}

func (h *Handler) pageProcedure(w http.ResponseWriter, r *http.Request) {
	pr, err := h.procedureOf(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.PublicSite, "procedures.portal.procedure.title")
	p.Title = pick(p.Lang, pr.NameVI, pr.NameEN)
	data := portalProcedureData{Code: pr.Code, Name: p.Title, OtherName: pick(portalOtherLang(p.Lang), pr.NameVI, pr.NameEN),
		Field: pick(p.Lang, pr.Field.NameVI, pr.Field.NameEN), CodeBasis: portalViewBasis(p.Lang, pr.CodeBasis), Basis: portalViewBasis(p.Lang, pr.Basis),
		AtMissions: pr.AtMissions, OnlineKey: pr.Online.Level.Key(), Online: portalViewBasis(p.Lang, pr.Online.Basis), Fees: portalViewFees(p.Lang, pr.Fees),
		WorkingDays: pr.TimeLimit.WorkingDays, TimeBasis: portalViewBasis(p.Lang, pr.TimeLimit.Basis), Documents: portalViewDocuments(p.Lang, pr.Documents),
		ResultKey: pr.Result.Type.Key(), Result: pick(p.Lang, pr.Result.NameVI, pr.Result.NameEN)}
	for _, u := range pr.Units {
		data.Units = append(data.Units, portalUnitView{Code: u.AgencyCode, Name: pick(p.Lang, u.NameVI, u.NameEN), Basis: portalViewBasis(p.Lang, u.Basis)})
	}
	for _, s := range pr.Steps {
		data.Steps = append(data.Steps, portalStepView{Name: pick(p.Lang, s.NameVI, s.NameEN), RoleKey: s.Role.Key(), Days: s.WorkingDays})
	}
	h.pages.Render(w, r, http.StatusOK, "portal_procedure", web.View[portalProcedureData]{Page: p, Data: data})
}

// portalOtherLang is the language a page does not show, for a procedure's name
// in both.
func portalOtherLang(l i18n.Lang) i18n.Lang {
	if l == i18n.EN {
		return i18n.VI
	}
	return i18n.EN
}
