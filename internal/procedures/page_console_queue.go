package procedures

import (
	"net/http"
	"net/url"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// consoleTabs are the work queue's tabs: every open dossier, then each
// step's work, as the one-stop shop divides it.
var consoleTabs = []struct {
	key      string // the tab= value; "" is the first tab
	label    string
	statuses []Status
}{
	{"", "procedures.console.tab.open", nil},
	{"new", "procedures.console.tab.new", []Status{StatusRegistered}},
	{"received", "procedures.console.tab.received", []Status{StatusReceived}},
	{"processing", "procedures.console.tab.processing", []Status{StatusProcessing}},
	{"waiting", "procedures.console.tab.waiting", []Status{StatusDocumentsRequested, StatusPaymentRequested}},
	{"completed", "procedures.console.tab.completed", []Status{StatusCompleted}},
}

// consoleTab is a tab of the queue as the page links it.
type consoleTab struct {
	Label   string
	Href    string
	Current bool
}

// consoleQueueRow is a dossier of the queue.
type consoleQueueRow struct {
	Code      string
	Href      string
	Procedure string
	Applicant string
	Channel   string
	StatusKey string
	Due       when
	Deadline  consoleDeadline
	Mine      bool
}

// consoleQueueData is the work queue page.
type consoleQueueData struct {
	Tabs          []consoleTab
	Mine          bool
	MineHref      string
	AllHref       string
	Search        []web.Field
	SearchProblem web.Refusal
	Rows          []consoleQueueRow
	NextHref      string
	FirstHref     string
	NearingDays   int
	// CanEnter reports whether the staff member enters dossiers: a clerk.
	CanEnter bool
}

// queueHref is the queue's address with its filters.
func queueHref(tab string, mine bool, after string) string {
	q := url.Values{}
	if tab != "" {
		q.Set("tab", tab)
	}
	if mine {
		q.Set("mine", "1")
	}
	if after != "" {
		q.Set("after", after)
	}
	if len(q) == 0 {
		return consoleQueuePath
	}
	return consoleQueuePath + "?" + q.Encode()
}

func (h *Handler) consoleQueue(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "procedures.console.queue.title")
	sub := web.SubjectFrom(r.Context())
	q := r.URL.Query()
	tab := q.Get("tab")
	data := consoleQueueData{Mine: q.Get("mine") == "1", NearingDays: NearingDays,
		CanEnter: p.Can(authz.KindIntake.String(), authz.Create.String())}
	status := http.StatusOK

	// The search box jumps to a dossier by its code; a malformed code is
	// shown beside the box, an unknown one gets the dossier page's 404.
	if code := strings.TrimSpace(q.Get("code")); code != "" {
		_, err := ParseDossierCode(code)
		if err == nil {
			http.Redirect(w, r, consoleDossierPath(code), http.StatusSeeOther)
			return
		}
		data.SearchProblem, _ = consoleExplain(p.Localizer(), err)
		status = data.SearchProblem.Status
	}
	var statuses []Status
	found := false
	for _, t := range consoleTabs {
		if t.key == tab {
			statuses, found = t.statuses, true
		}
		data.Tabs = append(data.Tabs, consoleTab{Label: p.T(t.label), Href: queueHref(t.key, data.Mine, ""), Current: t.key == tab})
	}
	if !found {
		web.Error(w, r, errs.Invalid("tab", "is not a tab of the work queue"))
		return
	}
	data.MineHref, data.AllHref = queueHref(tab, true, ""), queueHref(tab, false, "")
	if q.Get("after") != "" {
		data.FirstHref = queueHref(tab, data.Mine, "")
	}
	items, next, err := h.svc.Queue(r.Context(), sub, Queue{Statuses: statuses, Mine: data.Mine, After: q.Get("after")})
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if next != "" {
		data.NextHref = queueHref(tab, data.Mine, next)
	}
	z, err := h.zoneOf(r.Context(), sub.Unit)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	for _, it := range items {
		row := consoleQueueRow{Code: it.Code, Href: consoleDossierPath(it.Code), Procedure: h.procedureName(p.Lang, it.Procedure),
			Applicant: it.ApplicantName, Channel: p.T(it.Channel.Key()), StatusKey: it.Status.Key(),
			Due: z.day(it.DueAt), Mine: it.AssigneeID == sub.ID,
			Deadline: newDeadline(p, it.Status, it.DueAt, it.Overdue, it.DaysLeft)}
		data.Rows = append(data.Rows, row)
	}
	fm := web.NewForm(p, "search-", url.Values{"code": {q.Get("code")}}, data.SearchProblem)
	data.Search = []web.Field{fm.Field("code", "search", "procedures.console.search", false)}
	data.SearchProblem = fm.Message()
	h.pages.Render(w, r, status, "console_queue", web.View[consoleQueueData]{Page: p, Data: data})
}
