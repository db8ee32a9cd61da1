package architecture

import (
	"net/http"
	"net/url"
	"strconv"

	"chancery/internal/authz"
	"chancery/internal/web"
)

func (h *Handler) registerRules(rt *web.Router) {
	read := web.Staff(authz.KindArchitectureRule, authz.Read)
	edit := web.Staff(authz.KindArchitectureRule, authz.Update)
	rt.HandleFunc("GET /api/v1/architecture/findings", read, h.apiFindings)
	rt.HandleFunc("GET /api/v1/architecture/rules", read, h.apiRules)
	rt.HandleFunc("PUT /api/v1/architecture/rules/{name}", edit, h.apiSaveRule)
	rt.HandleFunc("GET "+consolePath+"/findings", read, h.pageFindings)
	rt.HandleFunc("GET "+consolePath+"/rules/{name}", read, h.pageRule)
	rt.HandleFunc("POST "+consolePath+"/rules/{name}", edit, h.pagePostRule)
}

// filterFindings keeps the findings of rule and of element (each when set).
func filterFindings(fs []Finding, rule, element string) []Finding {
	out := []Finding{}
	for _, f := range fs {
		if (rule == "" || f.Rule == rule) && (element == "" || f.Element == element) {
			out = append(out, f)
		}
	}
	return out
}

func (h *Handler) apiFindings(w http.ResponseWriter, r *http.Request) {
	at, err := asOf(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	fs, err := h.svc.Findings(r.Context(), web.SubjectFrom(r.Context()), at)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	web.JSON(w, r, http.StatusOK, web.NewList(filterFindings(fs, q.Get("rule"), q.Get("element")), ""))
}

func (h *Handler) apiRules(w http.ResponseWriter, r *http.Request) {
	rules, err := h.svc.Rules(r.Context(), web.SubjectFrom(r.Context()))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(rules, ""))
}

// RuleEdit is a rule's new text at the version it replaces.
type RuleEdit struct {
	Source  string `json:"source"`
	Version int64  `json:"version"`
}

func (h *Handler) apiSaveRule(w http.ResponseWriter, r *http.Request) {
	var e RuleEdit
	if err := web.DecodeJSON(r, &e); err != nil {
		web.Error(w, r, err)
		return
	}
	rule, err := h.svc.SaveRule(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("name"), e.Source, e.Version)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, rule)
}

// findingRow is a finding on the findings page.
type findingRow struct {
	Finding
	Href, RuleHref string
	// Msg is the message in the page's language; New marks, on a
	// proposal's review, a finding the proposal would bring.
	Msg string
	New bool
}

// findingRow is f as a page lists it.
func (h *Handler) findingRow(p web.Page, f Finding) findingRow {
	return findingRow{Finding: f, Href: consolePath + "/elements/" + url.PathEscape(f.Element), RuleHref: consolePath + "/rules/" + f.Rule, Msg: f.In(string(p.Lang))}
}

type findingsData struct {
	Rule, Element string
	Rules         []Rule
	Rows          []findingRow
	Drift         []Drift
	Counts        map[string]int
}

func (h *Handler) pageFindings(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	q := r.URL.Query()
	fs, err := h.svc.Findings(ctx, sub, timeNow())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "architecture.findings.title")
	d := findingsData{Rule: q.Get("rule"), Element: q.Get("element"), Counts: map[string]int{}}
	for _, f := range fs {
		d.Counts[f.Rule]++
	}
	for _, f := range filterFindings(fs, d.Rule, d.Element) {
		d.Rows = append(d.Rows, h.findingRow(p, f))
	}
	if d.Rules, err = h.svc.Rules(ctx, sub); err != nil {
		web.Error(w, r, err)
		return
	}
	if d.Drift, err = h.svc.Drift(ctx, sub); err != nil {
		web.Error(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "findings", web.View[findingsData]{Page: p, Data: d})
}

type ruleData struct {
	Rule     Rule
	Findings []findingRow
	Form     []web.Field
	Problem  web.Refusal
	Editable bool
}

func (h *Handler) pageRule(w http.ResponseWriter, r *http.Request) {
	h.showRule(w, r, http.StatusOK, web.SentBack{})
}

func (h *Handler) showRule(w http.ResponseWriter, r *http.Request, status int, back web.SentBack) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	rules, err := h.svc.Rules(ctx, sub)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	name := r.PathValue("name")
	var d ruleData
	found := false
	for _, x := range rules {
		if x.Name == name {
			d.Rule, found = x, true
		}
	}
	if !found {
		web.Error(w, r, errNotFoundRule(name))
		return
	}
	fs, err := h.svc.Findings(ctx, sub, timeNow())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "architecture.rule.title")
	for _, f := range filterFindings(fs, name, "") {
		d.Findings = append(d.Findings, h.findingRow(p, f))
	}
	dec, _ := authz.Decide(sub, authz.Update, authz.Resource{Kind: authz.KindArchitectureRule})
	if d.Editable = dec == authz.Allowed; d.Editable {
		f := back.NewForm(p, "rule-", url.Values{"source": {d.Rule.Source}, "version": {strconv.FormatInt(d.Rule.Version, 10)}})
		d.Form = []web.Field{f.Field("version", "hidden", "architecture.field.version", true), f.Field("source", "textarea", "architecture.rule.source", true)}
		d.Problem = f.Message()
	}
	p.Title = p.T("architecture.rule.title") + " " + name
	p.Flash = p.Confirmed(r, "architecture.flash.did.", d.Rule.Name)
	h.pages.Render(w, r, status, "rule", web.View[ruleData]{Page: p, Data: d})
}

func (h *Handler) pagePostRule(w http.ResponseWriter, r *http.Request) {
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	name := r.PathValue("name")
	version, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if err == nil {
		_, err = h.svc.SaveRule(r.Context(), web.SubjectFrom(r.Context()), name, r.PostForm.Get("source"), version)
	} else {
		err = errInvalidVersion()
	}
	if err != nil {
		p := h.shell.Page(r, web.Console, "architecture.title")
		web.FormError(w, r, err, func(err error) (web.Refusal, bool) { return web.Explain(p.Localizer(), "architecture.", err) }, func(ref web.Refusal) {
			h.showRule(w, r, ref.Status, web.SentBack{Form: "rule-", Values: r.PostForm, Refusal: ref})
		})
		return
	}
	web.RedirectDone(w, r, consolePath+"/rules/"+name, "architecture.flash.saved", "rule")
}
