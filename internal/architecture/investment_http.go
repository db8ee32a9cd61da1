package architecture

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

func (h *Handler) registerInvestments(rt *web.Router) {
	rt.HandleFunc("GET /api/v1/architecture/proposals", web.Staff(authz.KindInvestment, authz.Read), h.apiProposals)
	rt.HandleFunc("POST /api/v1/architecture/proposals", web.Staff(authz.KindInvestment, authz.Create), h.apiPropose)
	rt.HandleFunc("GET /api/v1/architecture/proposals/{id}", web.Staff(authz.KindInvestment, authz.Read), h.apiReview)
	rt.HandleFunc("POST /api/v1/architecture/proposals/{id}/decision", web.Staff(authz.KindInvestment, authz.Approve), h.apiDecide)
}

func (h *Handler) apiProposals(w http.ResponseWriter, r *http.Request) {
	ps, err := h.svc.Proposals(r.Context(), web.SubjectFrom(r.Context()))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(orEmpty(ps), ""))
}

func (h *Handler) apiPropose(w http.ResponseWriter, r *http.Request) {
	var p Proposal
	if err := web.DecodeJSON(r, &p); err != nil {
		web.Error(w, r, err)
		return
	}
	p, err := h.svc.Propose(r.Context(), web.SubjectFrom(r.Context()), p)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusCreated, p)
}

func (h *Handler) apiReview(w http.ResponseWriter, r *http.Request) {
	rv, err := h.svc.Review(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, rv)
}

// Decision is an approver's decision on a proposal.
type Decision struct {
	Approve bool   `json:"approve"`
	Reasons string `json:"reasons"`
}

func (h *Handler) apiDecide(w http.ResponseWriter, r *http.Request) {
	var d Decision
	if err := web.DecodeJSON(r, &d); err != nil {
		web.Error(w, r, err)
		return
	}
	p, err := h.svc.DecideProposal(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"), d.Approve, d.Reasons)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, p)
}

func (h *Handler) registerInvestmentPages(rt *web.Router) {
	read := web.Staff(authz.KindInvestment, authz.Read)
	create := web.Staff(authz.KindInvestment, authz.Create)
	rt.HandleFunc("GET "+consolePath+"/proposals", read, h.pageProposals)
	rt.HandleFunc("GET "+consolePath+"/proposals/new", create, h.pageNewProposal)
	rt.HandleFunc("POST "+consolePath+"/proposals", create, h.pagePostProposal)
	rt.HandleFunc("GET "+consolePath+"/proposals/{id}", read, h.pageProposal)
	rt.HandleFunc("POST "+consolePath+"/proposals/{id}/decision", web.Staff(authz.KindInvestment, authz.Approve), h.pagePostDecision)
}

// proposalRow is a proposal in the list.
type proposalRow struct {
	ID, Href, Title, Kind, Status, CreatedBy, When string
}

type proposalsData struct {
	Rows      []proposalRow
	CanCreate bool
}

func (h *Handler) pageProposals(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	ps, err := h.svc.Proposals(ctx, sub)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "architecture.proposals.title")
	p.Flash = p.Confirmed(r, "architecture.flash.did.", "")
	d := proposalsData{CanCreate: can(sub, authz.Create, authz.KindInvestment)}
	for _, pr := range ps {
		d.Rows = append(d.Rows, proposalRow{ID: pr.ID, Href: consolePath + "/proposals/" + url.PathEscape(pr.ID), Title: pr.Title,
			Kind: p.T("architecture.proposal.kind." + pr.Kind), Status: p.T("architecture.proposal.status." + pr.Status), CreatedBy: actorName(pr.CreatedBy), When: web.ShowTime(pr.CreatedAt)})
	}
	h.pages.Render(w, r, http.StatusOK, "proposals", web.View[proposalsData]{Page: p, Data: d})
}

// can reports whether sub may do action on kind (the decision is
// authz's; a page only asks, to offer the forms it may use).
func can(sub authz.Subject, action authz.Action, kind authz.Kind) bool {
	dec, _ := authz.Decide(sub, action, authz.Resource{Kind: kind})
	return dec == authz.Allowed
}

// actorName is the name part of a recorded actor ("staff:7:architect").
func actorName(actor string) string {
	if i := strings.LastIndexByte(actor, ':'); i >= 0 {
		return actor[i+1:]
	}
	return actor
}

type proposalData struct {
	R         Review
	Status    string
	Kind      string
	Decided   string
	Elements  []proposalElement
	Rels      []proposalRel
	Provides  []web.Option // href → name
	Reuse     []proposalReuse
	Findings  []findingRow
	New       int
	CanDecide bool
	Form      []web.Field
	Problem   web.Refusal
}

type proposalElement struct {
	ID, Name, Type, Layer, Framework string
	Upgrade                          bool
}

type proposalRel struct{ Type, Source, Target string }

type proposalReuse struct {
	Provides, Href, Name, Origin, Relation string
}

func (h *Handler) pageProposal(w http.ResponseWriter, r *http.Request) {
	h.showProposal(w, r, http.StatusOK, web.SentBack{})
}

func (h *Handler) showProposal(w http.ResponseWriter, r *http.Request, status int, back web.SentBack) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	rv, err := h.svc.Review(ctx, sub, r.PathValue("id"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "architecture.proposal.title")
	p.Flash = p.Confirmed(r, "architecture.flash.did.", rv.Proposal.Title)
	lang := string(p.Lang)
	pr := rv.Proposal
	d := proposalData{R: rv, Status: p.T("architecture.proposal.status." + pr.Status), Kind: p.T("architecture.proposal.kind." + pr.Kind)}
	if !pr.DecidedAt.IsZero() {
		d.Decided = actorName(pr.DecidedBy) + " · " + web.ShowTime(pr.DecidedAt)
	}
	name := map[string]string{}
	if snap, err := h.svc.snapshot(ctx, time.Time{}); err == nil {
		for _, e := range snap.Elements {
			name[e.ID] = e.Name.In(lang)
		}
	}
	for _, e := range pr.Elements {
		name[e.ID] = e.Name.In(lang)
	}
	label := func(id string) string {
		if n := name[id]; n != "" {
			return n
		}
		return id
	}
	for _, e := range pr.Elements {
		var fw []string
		for _, m := range ReferenceModels() {
			if v := e.Framework[m]; v != "" {
				fw = append(fw, string(m)+": "+v)
			}
		}
		_, _, existing := h.svc.Element(ctx, sub, e.ID)
		d.Elements = append(d.Elements, proposalElement{ID: e.ID, Name: e.Name.In(lang), Type: e.Type, Layer: p.T("architecture.layer." + string(e.Layer())), Framework: strings.Join(fw, "; "), Upgrade: existing == nil})
	}
	for _, rel := range pr.Relationships {
		d.Rels = append(d.Rels, proposalRel{Type: rel.Type, Source: label(rel.Source), Target: label(rel.Target)})
	}
	for _, id := range pr.Provides {
		d.Provides = append(d.Provides, web.Option{Value: consolePath + "/elements/" + url.PathEscape(id), Label: label(id)})
	}
	for _, u := range rv.Reuse {
		d.Reuse = append(d.Reuse, proposalReuse{Provides: label(u.Provides), Href: consolePath + "/elements/" + url.PathEscape(u.Element), Name: label(u.Element), Origin: p.T("architecture.origin." + string(u.Origin)), Relation: u.Relation})
	}
	for _, f := range rv.Findings {
		row := h.findingRow(p, f.Finding)
		row.New = f.New
		if f.New {
			d.New++
		}
		d.Findings = append(d.Findings, row)
	}
	// New findings first: they are what the proposal would bring.
	slices.SortStableFunc(d.Findings, func(a, b findingRow) int {
		if a.New == b.New {
			return 0
		}
		if a.New {
			return -1
		}
		return 1
	})
	d.CanDecide = pr.Status == "proposed" && can(sub, authz.Approve, authz.KindInvestment)
	if d.CanDecide {
		f := back.NewForm(p, "dec-", url.Values{})
		d.Form = []web.Field{
			f.Choice("decision", "radio", "architecture.proposal.decision", true, []web.Option{{Value: "approve", Label: p.T("architecture.proposal.approve")}, {Value: "reject", Label: p.T("architecture.proposal.reject")}}),
			f.Field("reasons", "textarea", "architecture.proposal.reasons", true),
		}
		d.Problem = f.Message()
	}
	p.Title = pr.Title
	h.pages.Render(w, r, status, "proposal", web.View[proposalData]{Page: p, Data: d})
}

func (h *Handler) pagePostDecision(w http.ResponseWriter, r *http.Request) {
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	id := r.PathValue("id")
	var err error
	switch r.PostForm.Get("decision") {
	case "approve", "reject":
		_, err = h.svc.DecideProposal(r.Context(), web.SubjectFrom(r.Context()), id, r.PostForm.Get("decision") == "approve", r.PostForm.Get("reasons"))
	default:
		err = errs.Invalid("decision", "is approve or reject")
	}
	if err != nil {
		p := h.shell.Page(r, web.Console, "architecture.proposal.title")
		web.FormError(w, r, err, func(err error) (web.Refusal, bool) { return web.Explain(p.Localizer(), "architecture.", err) }, func(ref web.Refusal) {
			h.showProposal(w, r, ref.Status, web.SentBack{Form: "dec-", Values: r.PostForm, Refusal: ref})
		})
		return
	}
	web.RedirectDone(w, r, consolePath+"/proposals/"+url.PathEscape(id), "architecture.flash.saved", "decision")
}

type newProposalData struct {
	Form    []web.Field
	Problem web.Refusal
}

func (h *Handler) pageNewProposal(w http.ResponseWriter, r *http.Request) {
	h.showNewProposal(w, r, http.StatusOK, web.SentBack{})
}

func (h *Handler) showNewProposal(w http.ResponseWriter, r *http.Request, status int, back web.SentBack) {
	p := h.shell.Page(r, web.Console, "architecture.proposal.new")
	f := back.NewForm(p, "prop-", url.Values{"kind": {"new"}, "type": {"ApplicationComponent"}, "data": {""}})
	var types []web.Option
	for _, l := range []archimate.Layer{archimate.Business, archimate.Application, archimate.Technology} {
		for _, t := range archimate.ElementTypes(l) {
			types = append(types, web.Option{Value: t, Label: p.T("architecture.layer."+string(l)) + " — " + t})
		}
	}
	d := newProposalData{Form: []web.Field{
		f.Field("id", "text", "architecture.proposal.id", true),
		f.Field("title", "text", "architecture.proposal.field.title", true),
		f.Choice("kind", "select", "architecture.proposal.kind", true, []web.Option{{Value: "new", Label: p.T("architecture.proposal.kind.new")}, {Value: "upgrade", Label: p.T("architecture.proposal.kind.upgrade")}}),
		f.Field("element", "text", "architecture.proposal.element", true),
		f.Choice("type", "select", "architecture.field.type", true, types),
		f.Field("name_vi", "text", "architecture.field.name_vi", true),
		f.Field("name_en", "text", "architecture.field.name_en", false),
		f.Field("arm", "text", "architecture.rm.arm", false),
		f.Choice("data", "select", "architecture.proposal.data", false, []web.Option{{Value: "", Label: p.T("architecture.proposal.data.none")}, {Value: "personal", Label: p.T("architecture.proposal.data.personal")}, {Value: "classified", Label: p.T("architecture.proposal.data.classified")}}),
		f.Field("relationships", "textarea", "architecture.proposal.relationships", false),
		f.Field("provides", "text", "architecture.proposal.provides", true),
	}}
	d.Problem = f.Message()
	h.pages.Render(w, r, status, "proposal_new", web.View[newProposalData]{Page: p, Data: d})
}

// proposalFromForm reads the architect's form: one element the proposal
// adds (or, for an upgrade, replaces), its relationships one a line as
// "Type target-id" (from the element), and what it provides.
func proposalFromForm(f url.Values) (Proposal, error) {
	pid := strings.TrimSpace(f.Get("id"))
	e := Element{ID: strings.TrimSpace(f.Get("element")), Type: f.Get("type")}
	if s := strings.TrimSpace(f.Get("name_vi")); s != "" {
		e.Name = append(e.Name, archimate.LangString{Lang: "vi", Text: s})
	}
	if s := strings.TrimSpace(f.Get("name_en")); s != "" {
		e.Name = append(e.Name, archimate.LangString{Lang: "en", Text: s})
	}
	if s := strings.TrimSpace(f.Get("arm")); s != "" {
		e.Framework = Classification{ARM: s}
	}
	switch d := f.Get("data"); d {
	case "":
	case "personal", "classified":
		e.Properties = []Property{{Name: "data", Value: archimate.Text{{Text: d}}}}
	default:
		return Proposal{}, errs.Invalid("data", "is personal, classified or empty")
	}
	p := Proposal{ID: pid, Title: strings.TrimSpace(f.Get("title")), Kind: f.Get("kind"), Elements: []Element{e}}
	for i, line := range strings.Split(f.Get("relationships"), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return Proposal{}, errs.Invalid("relationships", fmt.Sprintf("line %d is not \"Type target-id\"", i+1))
		}
		p.Relationships = append(p.Relationships, Relationship{ID: fmt.Sprintf("%s-r%d", pid, len(p.Relationships)+1), Type: fields[0], Source: e.ID, Target: fields[1]})
	}
	p.Provides = strings.FieldsFunc(f.Get("provides"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	return p, nil
}

func (h *Handler) pagePostProposal(w http.ResponseWriter, r *http.Request) {
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	pr, err := proposalFromForm(r.PostForm)
	if err == nil {
		pr, err = h.svc.Propose(r.Context(), web.SubjectFrom(r.Context()), pr)
	}
	if err != nil {
		p := h.shell.Page(r, web.Console, "architecture.proposal.new")
		web.FormError(w, r, err, func(err error) (web.Refusal, bool) { return web.Explain(p.Localizer(), "architecture.", err) }, func(ref web.Refusal) {
			h.showNewProposal(w, r, ref.Status, web.SentBack{Form: "prop-", Values: r.PostForm, Refusal: ref})
		})
		return
	}
	web.RedirectDone(w, r, consolePath+"/proposals/"+url.PathEscape(pr.ID), "architecture.flash.saved", "proposal")
}
