package insight

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

func (h *Handler) explain(r *http.Request) func(error) (web.Refusal, bool) {
	l := h.shell.Localizer(r)
	return func(err error) (web.Refusal, bool) { return web.Explain(l, "insight.", err) }
}

// taskRow is a task as a list shows it.
type taskRow struct {
	Task
	LeadName string
	Overdue  bool
}

// tallyRow is a unit's line in the leaders' table.
type tallyRow struct {
	UnitTally
	Name string
}

type tasksData struct {
	Rows     []taskRow
	Tally    []tallyRow
	Statuses []web.Option
	Overdue  bool
	Refusal  web.Refusal
}

// pageTasks serves /console/insight/tasks: per unit, tasks open, overdue,
// done on time and late; then the tasks, nearest deadline first.
func (h *Handler) pageTasks(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "insight.tasks.title")
	sub := p.Principal.Subject
	f, err := taskFilterOf(r)
	var tasks []Task
	var tally []UnitTally
	if err == nil {
		tasks, err = h.svc.Tasks(r.Context(), sub, f)
	}
	if err == nil {
		tally, err = h.svc.Tally(r.Context(), sub)
	}
	ref, status, ok := web.ListError(w, r, err, h.explain(r))
	if !ok {
		return
	}
	names := h.shell.Names(r)
	now := h.svc.now()
	data := tasksData{Overdue: f.Overdue, Refusal: ref}
	for _, t := range tasks {
		data.Rows = append(data.Rows, taskRow{Task: t, LeadName: names.Unit(t.LeadUnit), Overdue: t.Overdue(now)})
	}
	for _, t := range tally {
		data.Tally = append(data.Tally, tallyRow{UnitTally: t, Name: names.Unit(t.Unit.ID)})
	}
	data.Statuses = []web.Option{{Value: "", Label: p.T("insight.tasks.any_status"), Selected: f.Status == ""}}
	for _, s := range []TaskStatus{TaskOpen, TaskInProgress, TaskDone} {
		data.Statuses = append(data.Statuses, web.Option{Value: string(s), Label: p.T("insight.task.status." + string(s)), Selected: f.Status == s})
	}
	h.pages.Render(w, r, status, "tasks", web.View[tasksData]{Page: p, Data: data})
}

type newTaskData struct {
	Fields  []web.Field
	Problem web.Refusal
}

func (h *Handler) pageNewTask(w http.ResponseWriter, r *http.Request) {
	h.drawNewTask(w, r, http.StatusOK, url.Values{"source": {string(FromDirect)}, "working_days": {"10"}}, web.Refusal{})
}

func (h *Handler) drawNewTask(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	p := h.shell.Page(r, web.Console, "insight.task.new")
	units, err := h.shell.UnitPicker(r, p.T("insight.field.choose_unit"), func(u web.UnitChoice) bool { return u.Active }, web.UnitID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	f := web.NewForm(p, "task-", values, ref)
	var sources []web.Option
	for _, s := range []Source{FromDirect, FromMeeting, FromDocument} {
		sources = append(sources, web.Option{Value: string(s), Label: p.T("insight.source." + string(s))})
	}
	fields := []web.Field{
		f.Field("title", "text", "insight.field.title", true),
		f.Field("body", "textarea", "insight.field.body", false),
		f.Choice("source", "select", "insight.field.source", true, sources),
		f.Field("source_ref", "text", "insight.field.source_ref", false),
		f.Field("document_id", "number", "insight.field.document_id", false),
		f.Choice("lead_unit", "select", "insight.field.lead_unit", true, units),
		f.Choice("supporting_units", "checkboxes", "insight.field.supporting_units", false, units[1:]),
		f.Field("working_days", "number", "insight.field.working_days", false),
		f.Field("due_date", "date", "insight.field.due_date", false),
	}
	h.pages.Render(w, r, status, "task_new", web.View[newTaskData]{Page: p, Data: newTaskData{Fields: fields, Problem: f.Message()}})
}

// atoi reads an optional whole number of a form; a bad one is 0 (the
// service names the field).
func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return -1
	}
	return n
}

func (h *Handler) postNewTask(w http.ResponseWriter, r *http.Request) {
	n := NewTask{Title: r.PostFormValue("title"), Body: r.PostFormValue("body"), Source: Source(r.PostFormValue("source")),
		SourceRef: r.PostFormValue("source_ref"), DueDate: r.PostFormValue("due_date")}
	n.LeadUnit = int64(atoi(r.PostFormValue("lead_unit")))
	if d := r.PostFormValue("document_id"); d != "" {
		n.DocumentID = int64(atoi(d))
	}
	if wd := r.PostFormValue("working_days"); wd != "" && n.DueDate == "" {
		n.WorkingDays = atoi(wd)
	}
	for _, u := range r.PostForm["supporting_units"] {
		n.Supporting = append(n.Supporting, int64(atoi(u)))
	}
	t, err := h.svc.Assign(r.Context(), web.SubjectFrom(r.Context()), n)
	if err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.drawNewTask(w, r, ref.Status, r.PostForm, ref) })
		return
	}
	web.RedirectWithFlash(w, r, "/console/insight/tasks/"+strconv.FormatInt(t.ID, 10), "insight.flash.assigned")
}

type updateRow struct {
	TaskUpdate
	UnitName string
}

type taskData struct {
	Task       Task
	LeadName   string
	Supporting []string
	Updates    []updateRow
	Overdue    bool
	CanReport  bool
	IsLead     bool
	Fields     []web.Field
	Problem    web.Refusal
}

func (h *Handler) pageTask(w http.ResponseWriter, r *http.Request) {
	h.drawTask(w, r, http.StatusOK, url.Values{}, web.Refusal{})
}

func (h *Handler) drawTask(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	id, err := pathID(r, "id")
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "insight.tasks.title")
	sub := p.Principal.Subject
	t, err := h.svc.Task(r.Context(), sub, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p.Title = t.Title
	names := h.shell.Names(r)
	data := taskData{Task: t, LeadName: names.Unit(t.LeadUnit), Overdue: t.Overdue(h.svc.now()), IsLead: sub.Unit == t.LeadUnit}
	for _, u := range t.Supporting {
		data.Supporting = append(data.Supporting, names.Unit(u))
	}
	for _, u := range t.Updates {
		data.Updates = append(data.Updates, updateRow{TaskUpdate: u, UnitName: names.Unit(u.Unit)})
	}
	data.CanReport = t.Status != TaskDone && allowed(sub, authz.Update, t.resource()) && (sub.Unit == t.LeadUnit || slices.Contains(t.Supporting, sub.Unit))
	if data.CanReport {
		f := web.NewForm(p, "report-", values, ref)
		data.Fields = []web.Field{f.Field("progress", "number", "insight.field.progress", false), f.Field("note", "textarea", "insight.field.note", false),
			f.Field("evidence", "text", "insight.field.evidence", false)}
		if data.IsLead {
			data.Fields = append(data.Fields, f.Checkbox("complete", "insight.field.complete"))
		}
		data.Problem = f.Message()
	}
	h.pages.Render(w, r, status, "task", web.View[taskData]{Page: p, Data: data})
}

func (h *Handler) postReport(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		web.Error(w, r, err)
		return
	}
	rep := Report{Note: r.PostFormValue("note"), Evidence: r.PostFormValue("evidence"), Complete: r.PostFormValue("complete") != "",
		Version: atoi(r.PostFormValue("version"))}
	if p := r.PostFormValue("progress"); p != "" {
		rep.Progress = atoi(p)
	}
	if _, err := h.svc.Report(r.Context(), web.SubjectFrom(r.Context()), id, rep); err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.drawTask(w, r, ref.Status, r.PostForm, ref) })
		return
	}
	web.RedirectWithFlash(w, r, "/console/insight/tasks/"+strconv.FormatInt(id, 10), "insight.flash.reported")
}

// roundRow is a round as the reports page lists it.
type roundRow struct {
	Round
	Name, OwnerName string
}

type reportsData struct {
	Rounds    []roundRow
	Templates []Template
	// CanCreate is whether the reader makes templates and opens rounds
	// for their unit.
	CanCreate bool
}

// pageReports serves /console/insight/reports: the rounds the reader's
// unit collects or reports in, and the templates of their unit.
func (h *Handler) pageReports(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "insight.reports.title")
	sub := p.Principal.Subject
	rounds, err := h.svc.Rounds(r.Context(), sub)
	var tps []Template
	if err == nil {
		tps, err = h.svc.Templates(r.Context(), sub)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	names := h.shell.Names(r)
	data := reportsData{Templates: tps, CanCreate: allowed(sub, authz.Create, authz.Resource{Kind: authz.KindReport, Unit: sub.Unit})}
	for _, rd := range rounds {
		data.Rounds = append(data.Rounds, roundRow{Round: rd, Name: rd.Template.Name(p.Lang), OwnerName: names.Unit(rd.OwnerUnit)})
	}
	h.pages.Render(w, r, http.StatusOK, "reports", web.View[reportsData]{Page: p, Data: data})
}

// submissionRow is a report as the round's page shows it.
type submissionRow struct {
	Submission
	UnitName string
	Values   []string // in the template's order
}

// statRow is an indicator's aggregation, formatted.
type statRow struct {
	Name, Unit         string
	Count              int
	Sum, Avg, Min, Max string
}

type roundData struct {
	View       RoundView
	Name       string
	OwnerName  string
	Indicators []Indicator
	Rows       []submissionRow
	// Own is the reader's unit's report, if it reports in the round.
	Own       *submissionRow
	CanSubmit bool
	CanDecide bool
	CanExport bool
	Stats     []statRow
	Missing   []string
	Fields    []web.Field
	Problem   web.Refusal
}

func (h *Handler) pageRound(w http.ResponseWriter, r *http.Request) {
	h.drawRound(w, r, http.StatusOK, nil, web.Refusal{})
}

func (h *Handler) drawRound(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	id, err := pathID(r, "id")
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "insight.reports.title")
	sub := p.Principal.Subject
	v, err := h.svc.Round(r.Context(), sub, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	names := h.shell.Names(r)
	lang := p.Lang
	rd := v.Round
	p.Title = rd.Template.Name(lang) + " · " + rd.Label
	data := roundData{View: v, Name: rd.Template.Name(lang), OwnerName: names.Unit(rd.OwnerUnit), Indicators: rd.Template.Indicators,
		CanDecide: v.Collecting && allowed(sub, authz.Approve, rd.collecting()), CanExport: allowed(sub, authz.Export, rd.collecting())}
	for _, sm := range v.Submissions {
		row := submissionRow{Submission: sm, UnitName: names.Unit(sm.Unit)}
		for _, in := range rd.Template.Indicators {
			row.Values = append(row.Values, h.formatValue(p.Lang, in, sm.Values[in.Code]))
		}
		data.Rows = append(data.Rows, row)
		if sm.Unit == sub.Unit {
			data.Own = &data.Rows[len(data.Rows)-1]
		}
	}
	data.CanSubmit = slices.Contains(rd.Units, sub.Unit) && allowed(sub, authz.Update, Submission{Unit: sub.Unit}.resource(rd)) &&
		(data.Own == nil || data.Own.Status != Approved)
	if data.CanSubmit {
		if values == nil {
			values = url.Values{}
			if data.Own != nil {
				for k, v := range data.Own.Submission.Values {
					values.Set(k, v)
				}
			}
		}
		f := web.NewForm(p, "v-", values, refField(ref))
		for _, in := range rd.Template.Indicators {
			typ := "text"
			if in.Type == Text {
				typ = "textarea"
			}
			fl := f.Field(in.Code, typ, "insight.field.indicator", in.Required)
			fl.Label = in.Name(lang)
			if in.Unit != "" {
				fl.Label += " (" + in.Unit + ")"
			}
			data.Fields = append(data.Fields, fl)
		}
		data.Problem = f.Message()
	}
	if data.CanExport {
		a, err := h.svc.Aggregate(r.Context(), sub, id)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		for _, st := range a.Stats {
			f := func(x float64) string { return p.Lang.FormatNumber(x, 2) }
			data.Stats = append(data.Stats, statRow{Name: st.Indicator.Name(lang), Unit: st.Indicator.Unit, Count: st.Count,
				Sum: f(st.Sum), Avg: f(st.Avg), Min: f(st.Min), Max: f(st.Max)})
		}
		for _, u := range append(slices.Clone(a.Missing), a.Returned...) {
			data.Missing = append(data.Missing, names.Unit(u))
		}
	}
	h.pages.Render(w, r, status, "round", web.View[roundData]{Page: p, Data: data})
}

// refField maps a refusal of values.code to the form's field code.
func refField(ref web.Refusal) web.Refusal {
	ref.Field = strings.TrimPrefix(ref.Field, "values.")
	return ref
}

// formatValue shows a stored value in the reader's language.
func (h *Handler) formatValue(l i18n.Lang, in Indicator, v string) string {
	if v == "" || !in.Numeric() {
		return v
	}
	n, err := parseNumber(v, in.Type)
	if err != nil {
		return v
	}
	d := 2
	if in.Type == Integer {
		d = 0
	}
	return l.FormatNumber(n, d)
}

func (h *Handler) postSubmit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		web.Error(w, r, err)
		return
	}
	values := map[string]string{}
	for k, v := range r.PostForm {
		if k != "csrf_token" && len(v) > 0 && strings.TrimSpace(v[0]) != "" {
			values[k] = v[0]
		}
	}
	if _, err := h.svc.Submit(r.Context(), web.SubjectFrom(r.Context()), id, values); err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.drawRound(w, r, ref.Status, r.PostForm, ref) })
		return
	}
	web.RedirectWithFlash(w, r, "/console/insight/reports/rounds/"+strconv.FormatInt(id, 10), "insight.flash.submitted")
}

func (h *Handler) postDecision(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var sid int64
	if err == nil {
		sid, err = pathID(r, "sid")
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	d := Decision{Approve: r.PostFormValue("decision") == "approve", Reason: r.PostFormValue("reason"), Version: atoi(r.PostFormValue("version"))}
	if _, err := h.svc.DecideSubmission(r.Context(), web.SubjectFrom(r.Context()), id, sid, d); err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.drawRound(w, r, ref.Status, nil, ref) })
		return
	}
	web.RedirectWithFlash(w, r, "/console/insight/reports/rounds/"+strconv.FormatInt(id, 10), "insight.flash.decided")
}
