package sentinel

import (
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves the alerts' JSON API and the triage console.
type Handler struct {
	svc   *Service
	shell *web.Shell
	pages *web.Templates
}

// NewHandler returns the handlers with their templates parsed once.
func NewHandler(svc *Service, shell *web.Shell) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("sentinel: NewHandler needs the service")
	}
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("sentinel: parse page templates: %w", err)
	}
	return &Handler{svc: svc, shell: shell, pages: pages}, nil
}

// Register adds the routes: security officers read and triage, auditors
// read (authz's grants on sentinel_alert); everyone else is refused by
// the route's check, and the refusal recorded.
func (h *Handler) Register(rt *web.Router) {
	read := web.Staff(authz.KindSentinelAlert, authz.Read)
	update := web.Staff(authz.KindSentinelAlert, authz.Update)
	h.shell.AddNav(web.Console, web.NavItem{Key: "sentinel.nav", Href: "/console/sentinel/", Access: read})
	rt.HandleFunc("GET /api/v1/sentinel/alerts", read, h.apiList)
	rt.HandleFunc("GET /api/v1/sentinel/alerts/{id}", read, h.apiAlert)
	rt.HandleFunc("PATCH /api/v1/sentinel/alerts/{id}", update, h.apiPatch)
	rt.HandleFunc("GET /console/sentinel/{$}", read, h.pageQueue)
	rt.HandleFunc("GET /console/sentinel/alerts/{id}", read, h.pageAlert)
	rt.HandleFunc("POST /console/sentinel/alerts/{id}", update, h.postAlert)
}

func alertID(r *http.Request) (int64, error) { return web.ParseID("id", r.PathValue("id")) }

// filterOf reads a list's filter from the query: status, rule, user,
// page, per_page.
func filterOf(q url.Values) (Filter, error) {
	f := Filter{Status: Status(q.Get("status")), Rule: q.Get("rule"), User: q.Get("user")}
	for _, p := range []struct {
		name string
		into *int
	}{{"page", &f.Page}, {"per_page", &f.PerPage}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1_000_000 {
				return f, errs.Invalid(p.name, "must be a whole number from 1")
			}
			*p.into = n
		}
	}
	return f, nil
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r.URL.Query())
	var page AlertPage
	if err == nil {
		page, err = h.svc.List(r.Context(), web.SubjectFrom(r.Context()), f)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, page)
}

func (h *Handler) apiAlert(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	var a Alert
	if err == nil {
		a, err = h.svc.Alert(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, a)
}

func (h *Handler) apiPatch(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	var p Patch
	if err == nil {
		err = web.DecodeJSON(r, &p)
	}
	var a Alert
	if err == nil {
		a, err = h.svc.Update(r.Context(), web.SubjectFrom(r.Context()), id, p)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, a)
}

// queueData is the triage queue.
type queueData struct {
	Fields  []web.Field
	Refusal web.Refusal
	Page    AlertPage
	Prev    string
	Next    string
}

// pageQueue serves /console/sentinel/: new alerts first, by risk.
func (h *Handler) pageQueue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := h.shell.Page(r, web.Console, "sentinel.queue.title")
	f, err := filterOf(q)
	var page AlertPage
	if err == nil {
		page, err = h.svc.List(r.Context(), p.Principal.Subject, f)
	}
	ref, status, ok := web.ListError(w, r, err, h.explain(r))
	if !ok {
		return
	}
	form := web.NewForm(p, "flt-", q, ref)
	statuses := []web.Option{{Value: "", Label: p.T("sentinel.status.all")}}
	for _, s := range Statuses {
		statuses = append(statuses, web.Option{Value: string(s), Label: p.T("sentinel.status." + string(s))})
	}
	data := queueData{Page: page, Fields: []web.Field{
		form.Choice("status", "select", "sentinel.field.status", false, statuses),
		form.Field("rule", "text", "sentinel.field.rule", false),
		form.Field("user", "text", "sentinel.field.user", false),
	}}
	data.Refusal = form.Message()
	link := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(n))
		return "/console/sentinel/?" + v.Encode()
	}
	if page.Page > 1 {
		data.Prev = link(page.Page - 1)
	}
	if page.Page < page.Pages {
		data.Next = link(page.Page + 1)
	}
	h.pages.Render(w, r, status, "queue", web.View[queueData]{Page: p, Data: data})
}

// alertData is an alert's page.
type alertData struct {
	Alert   Alert
	Risk    []RiskPoint
	MaxRisk float64
	Form    []web.Field
	Problem web.Refusal
	CanEdit bool
}

func (h *Handler) pageAlert(w http.ResponseWriter, r *http.Request) {
	h.drawAlert(w, r, http.StatusOK, nil, web.Refusal{})
}

func (h *Handler) drawAlert(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	id, err := alertID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "sentinel.alert.title")
	sub := p.Principal.Subject
	a, err := h.svc.Alert(r.Context(), sub, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data := alertData{Alert: a}
	if a.User != "" {
		if data.Risk, err = h.svc.Risk(r.Context(), sub, a.User); err != nil {
			web.Error(w, r, err)
			return
		}
		for _, pt := range data.Risk {
			data.MaxRisk = max(data.MaxRisk, pt.Risk)
		}
	}
	if d, _ := authz.Decide(sub, authz.Update, alertResource); d == authz.Allowed {
		data.CanEdit = true
		if values == nil {
			values = url.Values{"status": {string(a.Status)}, "assignee": {a.Assignee}, "notes": {a.Notes}}
		}
		form := web.NewForm(p, "tri-", values, ref)
		var statuses []web.Option
		for _, s := range Statuses {
			statuses = append(statuses, web.Option{Value: string(s), Label: p.T("sentinel.status." + string(s))})
		}
		data.Form = []web.Field{
			form.Choice("status", "select", "sentinel.field.status", true, statuses),
			form.Field("assignee", "text", "sentinel.field.assignee", false),
			form.Field("notes", "textarea", "sentinel.field.notes", false),
		}
		data.Problem = form.Message()
	}
	h.pages.Render(w, r, status, "alert", web.View[alertData]{Page: p, Data: data})
}

// postAlert changes an alert's triage from its page's form.
func (h *Handler) postAlert(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	st, notes, assignee := Status(r.PostFormValue("status")), r.PostFormValue("notes"), r.PostFormValue("assignee")
	p := Patch{Status: &st, Notes: &notes, Assignee: &assignee}
	if p.Version, err = strconv.Atoi(r.PostFormValue("version")); err != nil {
		err = errs.Invalid("version", "the form lacks the version it was opened at; reload the page and try again")
	}
	if err == nil {
		_, err = h.svc.Update(r.Context(), web.SubjectFrom(r.Context()), id, p)
	}
	if err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.drawAlert(w, r, ref.Status, r.PostForm, ref) })
		return
	}
	web.RedirectWithFlash(w, r, r.URL.Path, "sentinel.flash.updated")
}

func (h *Handler) explain(r *http.Request) func(error) (web.Refusal, bool) {
	l := h.shell.Localizer(r)
	return func(err error) (web.Refusal, bool) { return web.Explain(l, "sentinel.", err) }
}
