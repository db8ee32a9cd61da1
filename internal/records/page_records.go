package records

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

// The console's pages of the records' incoming side and of every day:
// my work (the landing page), the search, the incoming form, the
// document's page and the registers. Each route says who may reach it;
// the service decides on each document (clearance, need-to-know, the
// capacity of each action), and a document the viewer may not know of
// answers 404 exactly as a missing one.

// The pages' addresses.
const (
	consoleWorkPath        = "/console/records"
	consoleSearchPath      = "/console/documents"
	consoleIncomingNewPath = "/console/documents/incoming/new"
)

// consoleDocumentPath is the page of document id.
func consoleDocumentPath(id int64) string { return "/console/documents/" + strconv.FormatInt(id, 10) }

// registerPages adds the console's pages of the incoming side, search,
// registers and my work, and the console's navigation item.
func (h *Handler) registerPages(rt *web.Router) {
	read := web.Staff(authz.KindDocument, authz.Read)
	h.shell.AddNav(web.Console, web.NavItem{Key: "records.nav", Href: consoleWorkPath, Access: read})
	rt.HandleFunc("GET "+consoleWorkPath, read, h.pageWork)
	rt.HandleFunc("GET "+consoleSearchPath, read, h.pageSearch)
	// Registering is the records office's (văn thư): KindRegister, Create.
	register := web.Staff(authz.KindRegister, authz.Create)
	rt.HandleFunc("GET "+consoleIncomingNewPath, register, h.pageIncomingNew)
	rt.HandleFunc("POST "+consoleIncomingNewPath, register, h.pagePostIncoming)
	rt.HandleFunc("GET /console/documents/{id}", read, h.pageDocument)
	rt.HandleFunc("GET /console/documents/{id}/content", read, h.pageContent)
	rt.HandleFunc("GET /console/documents/{id}/attachments/{seq}", read, h.sendAttachment)
	// Actions are taken in several capacities (a leader's instruction, an
	// officer's steps): the service asks authz for each one's.
	rt.HandleFunc("POST /console/documents/{id}/actions", read, h.pagePostAction)
	rt.HandleFunc("GET /console/registers/{direction}", web.Staff(authz.KindRegister, authz.Read), h.pageRegister)
}

// pageExplain turns a service's refusal into what a form shows: beside
// the field it names, or above the form; false for what no form shows
// (not found, internal), which web.Error answers.
func pageExplain(tr i18n.Localizer, err error) (web.Refusal, bool) {
	return web.Explain(tr, "records.pages.", err)
}

// formError answers a refused form: draw draws the page again with the
// refusal when a form can show it; anything else is web.Error's.
func (h *Handler) formError(w http.ResponseWriter, r *http.Request, err error, draw func(web.Refusal)) {
	tr := h.shell.Localizer(r)
	web.FormError(w, r, err, func(err error) (web.Refusal, bool) { return pageExplain(tr, err) }, draw)
}

// names resolves the units and staff a page shows, once each.
type names struct {
	lang  i18n.Lang
	units map[int64]unitInfo
	staff map[int64]staffInfo
}

// loadNames reads the units, and the staff with the ids given.
func (h *Handler) loadNames(ctx context.Context, lang i18n.Lang, staffIDs []int64) (*names, error) {
	n := &names{lang: lang, units: map[int64]unitInfo{}, staff: map[int64]staffInfo{}}
	units, err := listUnits(ctx, h.svc.db)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		n.units[u.ID] = u
	}
	staff, err := listStaff(ctx, h.svc.db, staffIDs, false)
	if err != nil {
		return nil, err
	}
	for _, s := range staff {
		n.staff[s.ID] = s
	}
	return n, nil
}

// unit names unit id ("#id" for one the directory no longer lists).
func (n *names) unit(id int64) string {
	if id == 0 {
		return ""
	}
	if u, ok := n.units[id]; ok {
		return u.Name(n.lang)
	}
	return "#" + strconv.FormatInt(id, 10)
}

// person names member of staff id.
func (n *names) person(id int64) string {
	if id == 0 {
		return ""
	}
	if s, ok := n.staff[id]; ok {
		return s.Name
	}
	return "#" + strconv.FormatInt(id, 10)
}

// docRow is a document as the pages' tables list it.
type docRow struct {
	ID        int64
	Href      string
	Direction string // the direction's label
	Type      string
	Number    string
	// Register is the arrival or issued number with its year, "" before.
	Register string
	Subject  string
	Sender   string
	Unit     string
	Date     time.Time
	Due      time.Time
	Overdue  bool
	Urgency  string // the urgency's label, "" for normal
	Urgent   bool   // Khẩn or more: shown as a badge
	Level    string // the level's API name
	Status   string // the status's label
	Role     string // on my work: lead or support's label
}

// docTable is a table of documents as the "records-docs" partial draws
// it.
type docTable struct {
	web.Page
	Rows    []docRow
	Caption string
}

// newDocRow describes d for a table.
func newDocRow(p web.Page, n *names, d *Document, now time.Time) docRow {
	row := docRow{ID: d.ID, Href: consoleDocumentPath(d.ID), Direction: p.T("records.direction." + string(d.Direction)),
		Type: typeName(d.Type), Number: d.Number, Subject: d.Subject, Sender: d.Sender, Date: d.Date, Due: d.DueAt,
		Level: d.Classification.String(), Status: p.T("records.pages.status." + string(d.Status)), Unit: n.unit(d.UnitID),
		Overdue: !d.DueAt.IsZero() && d.DueAt.Before(now) && !finished(d.Status)}
	if d.RegisterNumber > 0 {
		row.Register = strconv.Itoa(d.RegisterNumber) + "/" + strconv.Itoa(d.RegisterYear)
		if d.Series == SeriesIncomingSecret || d.Series == SeriesOutgoingSecret {
			row.Register += " (" + p.T("records.pages.col.secret_series") + ")"
		}
	}
	if d.Urgency > Normal {
		row.Urgency, row.Urgent = p.T("records.urgency."+d.Urgency.String()), true
	}
	return row
}

// finished reports whether a document in status st needs no more work.
func finished(st Status) bool { return st == StatusDone || st == StatusIssued || st == StatusRecalled }

// typeName returns the type's Vietnamese name (the law's), or its key.
func typeName(key string) string {
	if t, err := LookupType(key); err == nil {
		return t.NameVI
	}
	return key
}

// workData is the "my work" page: each list with the count of all.
type workData struct {
	Assigned, ToInstruct, Unread, ToApprove                                 docTable
	AssignedCount, OverdueCount, ToInstructCount, UnreadCount, ApproveCount int
	// Leader reports whether the viewer gives instructions and approvals
	// in the unit (the lists are then shown, empty or not).
	Leader bool
}

func (h *Handler) pageWork(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "records.pages.work.title")
	sub := web.SubjectFrom(r.Context())
	work, err := h.svc.MyWork(r.Context(), sub)
	var n *names
	if err == nil {
		n, err = h.loadNames(r.Context(), p.Lang, nil)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	now := h.svc.now()
	table := func(caption string, docs []*Document) docTable {
		t := docTable{Page: p, Caption: p.T(caption)}
		for _, d := range docs {
			t.Rows = append(t.Rows, newDocRow(p, n, d, now))
		}
		return t
	}
	// Drafts to approve open on their drafting page (outpages').
	approve := table("records.pages.work.to_approve", work.ToApprove)
	for i := range approve.Rows {
		approve.Rows[i].Href += "/drafting"
	}
	data := workData{AssignedCount: work.AssignedCount, OverdueCount: work.OverdueCount, ToInstruct: table("records.pages.work.to_instruct", work.ToInstruct),
		ToInstructCount: work.ToInstructCount, Unread: table("records.pages.work.unread", work.Unread), UnreadCount: work.UnreadCount,
		ToApprove: approve, ApproveCount: work.ToApproveCount, Leader: IsLeader(sub)}
	data.Assigned = docTable{Page: p, Caption: p.T("records.pages.work.assigned")}
	for _, it := range work.Assigned {
		row := newDocRow(p, n, it.Document, now)
		row.Role = p.T("records.pages.role." + it.Role)
		data.Assigned.Rows = append(data.Assigned.Rows, row)
	}
	h.pages.Render(w, r, http.StatusOK, "console_records_work", web.View[workData]{Page: p, Data: data})
}
