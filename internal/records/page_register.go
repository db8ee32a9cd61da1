package records

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// The registers' pages print the columns of Decree 30/2020/NĐ-CP's
// registers (Appendix IV, "sổ đăng ký văn bản đến / đi"). Checked with
// the search tool on 6 December 2026 (code corpus; Decree 30's own text
// was not found there, nor in the pages and docs corpora): two public
// transcriptions of Appendix IV agree that each register has at least
// ten columns — incoming: date of arrival, arrival number, sender
// (tác giả), number and symbol, date, type and summary, unit or person
// receiving, date passed on (ngày chuyển), signature of receipt, notes;
// outgoing: number and symbol, date, type and summary, signer,
// recipients, unit or person keeping the file copy, number of copies,
// date passed on, signature of receipt, notes (an ND30 document-template
// tool's "Sổ đăng ký văn bản đến/đi", "tối thiểu gồm 10 nội dung", and a
// records system's Appendix IV notes; a third, a test suite, lists nine
// incoming columns without the date passed on and ten outgoing with a
// drafting unit instead of it: the older Circular 07/2012/TT-BNV model).
// The date passed on is, for an incoming document, the day its first
// lead assignment handed it to the unit that handles it; for an outgoing
// one, its issuance, when the records office sends it out. Both print on
// A4 landscape.

// registerData is a register's page (and its printable version).
type registerData struct {
	Incoming bool
	Unit     string
	UnitID   int64
	Year     int
	Secret   bool
	Rows     []registerRow
	Next     string
	Print    bool
	// Links to the other views of the register.
	PrintHref, ScreenHref, OtherHref, SecretHref, OpenHref string
	CanSecret                                              bool
}

// registerRow is a line of a register.
type registerRow struct {
	Href    string
	Number  int
	Arrived time.Time // incoming: the date of arrival (registration)
	Sender  string
	Symbol  string
	Date    time.Time
	Summary string // type and summary
	Handler string // incoming: the unit or person receiving it
	Signer  string // outgoing
	To      string // outgoing: recipients (the distribution)
	Keeper  string // outgoing: the unit keeping the file copy
	// PassedOn is the date passed on (ngày chuyển): an incoming
	// document's first lead assignment, an outgoing one's issuance.
	PassedOn time.Time
	Notes    string
	Level    string
	Urgency  string
	Incoming bool
}

func (h *Handler) pageRegister(w http.ResponseWriter, r *http.Request) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	dir := Direction(r.PathValue("direction"))
	if dir != Incoming && dir != Outgoing {
		web.Error(w, r, errs.ErrNotFound)
		return
	}
	v := r.URL.Query()
	q := RegisterQuery{Direction: dir, UnitID: sub.Unit, Year: h.svc.now().In(registerZone()).Year(), Limit: MaxLimit}
	var err error
	for _, f := range []struct {
		name string
		set  func(int64)
	}{{"unit", func(n int64) { q.UnitID = n }}, {"year", func(n int64) { q.Year = int(min(n, 10000)) }}, {"after", func(n int64) { q.After = int(min(n, 1<<31)) }}} {
		if s := v.Get(f.name); s != "" && err == nil {
			var n int64
			if n, err = parsePositive(f.name, s); err == nil {
				f.set(n)
			}
		}
	}
	if err == nil {
		q.Secret, err = web.ParseBool("secret", v.Get("secret"))
	}
	var print bool
	if err == nil {
		print, err = web.ParseBool("print", v.Get("print"))
	}
	var page *RegisterPage
	if err == nil {
		page, err = h.svc.Register(ctx, sub, q)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "records.pages.register."+string(dir)+".title")
	var ids []int64
	for _, d := range page.Items {
		ids = append(ids, d.SignerID)
	}
	n, err := h.loadNames(ctx, p.Lang, ids)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data := registerData{Incoming: dir == Incoming, Unit: n.unit(q.UnitID), UnitID: q.UnitID, Year: q.Year, Secret: q.Secret, Print: print,
		CanSecret: sub.Clearance > 0}
	href := func(d Direction, secret, print bool, after int) string {
		x := "/console/registers/" + string(d) + "?unit=" + strconv.FormatInt(q.UnitID, 10) + "&year=" + strconv.Itoa(q.Year)
		if secret {
			x += "&secret=true"
		}
		if print {
			x += "&print=true"
		}
		if after > 0 {
			x += "&after=" + strconv.Itoa(after)
		}
		return x
	}
	data.PrintHref, data.ScreenHref = href(dir, q.Secret, true, q.After), href(dir, q.Secret, false, q.After)
	data.SecretHref, data.OpenHref = href(dir, true, print, 0), href(dir, false, print, 0)
	other := Outgoing
	if dir == Outgoing {
		other = Incoming
	}
	data.OtherHref = href(other, q.Secret, false, 0)
	if page.Next != 0 {
		data.Next = href(dir, q.Secret, print, page.Next)
	}
	for _, d := range page.Items {
		row := registerRow{Href: consoleDocumentPath(d.ID), Number: d.RegisterNumber, Arrived: d.CreatedAt, Sender: d.Sender, Symbol: d.Number,
			Date: d.Date, Summary: typeName(d.Type) + ": " + d.Subject, Signer: n.person(d.SignerID), Keeper: n.unit(d.UnitID),
			Level: d.Classification.String(), Incoming: data.Incoming}
		if d.Urgency > Normal {
			row.Urgency = p.T("records.urgency." + d.Urgency.String())
		}
		var to []string
		for _, u := range d.Shared {
			to = append(to, n.unit(u))
		}
		row.To = strings.Join(to, "; ")
		if !data.Incoming && d.Number != "" {
			row.PassedOn = d.Date
		}
		if data.Incoming {
			as, err := listAssignments(ctx, h.svc.db, d.ID)
			if err != nil {
				web.Error(w, r, err)
				return
			}
			var handlers []string
			for _, a := range as {
				if a.Role == "lead" {
					handlers = append(handlers, n.unit(a.UnitID))
					if row.PassedOn.IsZero() || a.At.Before(row.PassedOn) {
						row.PassedOn = a.At
					}
				}
			}
			row.Handler = strings.Join(handlers, "; ")
		}
		data.Rows = append(data.Rows, row)
	}
	h.pages.Render(w, r, http.StatusOK, "console_records_register", web.View[registerData]{Page: p, Data: data})
}
