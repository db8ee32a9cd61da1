package records

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// registerArchivePages adds the archive's console pages: a document's
// copies, the secret-document registers, and retention and disposition.
func (h *Handler) registerArchivePages(rt *web.Router) {
	readDoc := web.Staff(authz.KindDocument, authz.Read)
	h.shell.AddNav(web.Console, web.NavItem{Key: "records.archive.nav.secret", Href: "/console/registers/secret/incoming",
		Access: web.Staff(authz.KindSecretRegister, authz.Read)})
	h.shell.AddNav(web.Console, web.NavItem{Key: "records.archive.nav.retention", Href: consoleRetentionPath,
		Access: web.Staff(authz.KindDisposition, authz.Read)})
	rt.HandleFunc("GET /console/documents/{id}/copies", readDoc, h.pageCopies)
	// Whoever reads documents may ask; the service decides the
	// permission's and the copy's capacities.
	rt.HandleFunc("POST /console/documents/{id}/copies", readDoc, h.postCopies)
	rt.HandleFunc("GET /console/registers/secret/{direction}", web.Staff(authz.KindSecretRegister, authz.Read), h.pageSecretRegister)
	rt.HandleFunc("GET "+consoleRetentionPath, web.Staff(authz.KindDisposition, authz.Read), h.pageRetention)
	// Each form's capacity (create, approve, update) is the service's.
	rt.HandleFunc("POST "+consoleRetentionPath, web.Staff(authz.KindDisposition, authz.Read), h.postRetention)
}

// consoleRetentionPath is the retention and disposition page.
const consoleRetentionPath = "/console/records/retention"

func consoleCopiesPath(id int64) string {
	return "/console/documents/" + strconv.FormatInt(id, 10) + "/copies"
}

// postForm reads a posted form, at most 64 KiB.
func postForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w: the form could not be read: %v", errs.ErrInvalid, err)
	}
	return nil
}

// consoleCopiesData is a document's copies page.
type consoleCopiesData struct {
	Document *Document
	Copies   []Copy
	Permits  []CopyPermit
	// Own lists the copy numbers the viewer holds (they may download).
	Own map[int]bool
	// Expires is the default expiry of a new permission.
	Expires string
	// Names names the permissions' holders (never an id on the page).
	Names *web.Names
}

func (h *Handler) pageCopies(w http.ResponseWriter, r *http.Request) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	id, err := parseDocumentID(r.PathValue("id"))
	var v *View
	var data consoleCopiesData
	if err == nil {
		v, err = h.svc.Get(ctx, sub, id)
	}
	if err == nil {
		data.Copies, data.Permits, err = h.svc.Copies(ctx, sub, id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data.Document, data.Own = v.Document, map[int]bool{}
	for _, c := range data.Copies {
		if c.HolderID == sub.ID {
			data.Own[c.Number] = true
		}
	}
	data.Expires = h.svc.now().Add(7 * 24 * time.Hour).In(registerZone()).Format("2006-01-02")
	data.Names = h.shell.Names(r)
	p := h.shell.Page(r, web.Console, "records.archive.copies.title")
	p.Flash = p.Confirmed(r, "records.archive.flash.did.", docLabel(p, v.Document))
	h.pages.Render(w, r, http.StatusOK, "console_archive_copies", web.View[consoleCopiesData]{Page: p, Data: data})
}

// postCopies takes the copies page's forms: a permission (action
// permit_copy or permit_print, to staff_id, copies, reason, until
// expires) or a copy (action copy or print).
func (h *Handler) postCopies(w http.ResponseWriter, r *http.Request) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	id, err := parseDocumentID(r.PathValue("id"))
	if err == nil {
		err = postForm(w, r)
	}
	action := r.PostFormValue("action")
	if err == nil {
		switch action {
		case "permit_copy", "permit_print":
			var np NewCopyPermit
			np.Kind = strings.TrimPrefix(action, "permit_")
			np.Reason = r.PostFormValue("reason")
			if np.StaffID, err = web.ParseID("staff_id", r.PostFormValue("staff_id")); err == nil {
				np.Copies, err = web.OptionalInt("copies", r.PostFormValue("copies"))
			}
			if err == nil {
				np.ExpiresAt, err = formDay("expires", r.PostFormValue("expires"))
			}
			if err == nil {
				_, err = h.svc.PermitCopy(ctx, sub, id, np)
			}
		case CopyKindCopy, CopyKindPrint:
			_, err = h.svc.MakeCopy(ctx, sub, id, action)
		default:
			err = errs.Invalid("action", "use permit_copy, permit_print, copy or print")
		}
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.RedirectDone(w, r, consoleCopiesPath(id), "records.archive.flash.done", action)
}

// formDay parses a date field (2006-01-02) as the end of that day in
// Viet Nam.
func formDay(field, s string) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", s, registerZone())
	if err != nil {
		return time.Time{}, errs.Invalid(field, "must be a date such as 2026-03-31")
	}
	return d.Add(24*time.Hour - time.Second), nil
}

// consoleSecretRegisterData is a secret-document register's page.
type consoleSecretRegisterData struct {
	Register *SecretRegister
	Incoming bool
	Unit     int64
	Year     int
	// Units is the unit picker, by name, valued by id as the query reads it.
	Units []web.Option
	// Names names the handling units and staff (never an id on the page).
	Names *web.Names
}

func (h *Handler) pageSecretRegister(w http.ResponseWriter, r *http.Request) {
	unit, year, err := h.unitYear(r)
	var reg *SecretRegister
	if err == nil {
		reg, err = h.svc.SecretRegister(r.Context(), web.SubjectFrom(r.Context()), Direction(r.PathValue("direction")), unit, year)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "records.archive.secret."+string(reg.Direction))
	units, err := h.registerUnits(r, unit)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "console_archive_secret", web.View[consoleSecretRegisterData]{Page: p,
		Data: consoleSecretRegisterData{Register: reg, Incoming: reg.Direction == Incoming, Unit: unit, Year: year, Units: units, Names: h.shell.Names(r)}})
}

// registerUnits is the secret register's unit picker: the units by name
// (merged ones too: their registers remain), the shown one selected; a
// unit the directory does not list (none wired) is offered by the name
// the page can give it, so the form keeps asking for the shown register.
func (h *Handler) registerUnits(r *http.Request, unit int64) ([]web.Option, error) {
	opts, err := h.shell.UnitPicker(r, "", nil, web.UnitID)
	if err != nil {
		return nil, err
	}
	shown := strconv.FormatInt(unit, 10)
	for i := range opts {
		if opts[i].Value == shown {
			opts[i].Selected = true
			return opts, nil
		}
	}
	label := h.shell.Names(r).Unit(unit)
	if label == "" {
		label = h.shell.Localizer(r).T("records.archive.secret.unit_shown")
	}
	return append([]web.Option{{Value: shown, Label: label, Selected: true}}, opts...), nil
}

// consoleRetentionData is the retention and disposition page.
type consoleRetentionData struct {
	*RetentionOverview
	Today string
}

func (h *Handler) pageRetention(w http.ResponseWriter, r *http.Request) {
	unit, _, err := h.unitYear(r)
	var o *RetentionOverview
	if err == nil {
		o, err = h.retention(r, unit)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "records.archive.retention.title")
	if named := h.retentionNamed(r, o); named != "" {
		p.Flash = p.Confirmed(r, "records.archive.retention.did.", named)
	}
	h.pages.Render(w, r, http.StatusOK, "console_archive_retention", web.View[consoleRetentionData]{Page: p,
		Data: consoleRetentionData{RetentionOverview: o, Today: h.svc.now().In(registerZone()).Format("2006-01-02")}})
}

// postRetention takes the retention page's forms, by action: schedule,
// hold, lift, appraise, decide, execute, transfer.
func (h *Handler) postRetention(w http.ResponseWriter, r *http.Request) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	err := postForm(w, r)
	id := func(field string) int64 {
		if err != nil {
			return 0
		}
		var n int64
		n, err = web.ParseID(field, r.PostFormValue(field))
		return n
	}
	ids := func() []int64 {
		var out []int64
		for _, s := range r.PostForm["case_file"] {
			if n, e := web.ParseID("case_file", s); e != nil {
				err = e
			} else {
				out = append(out, n)
			}
		}
		return out
	}
	if err == nil {
		switch r.PostFormValue("action") {
		case "schedule":
			var years int
			if years, err = web.OptionalInt("retention_years", r.PostFormValue("retention_years")); err == nil {
				_, err = h.svc.SetSchedule(ctx, sub, NewSchedule{Series: r.PostFormValue("series"), Title: r.PostFormValue("title"),
					RetentionYears: Retention(years), Source: r.PostFormValue("source")})
			}
		case "hold":
			if cf := id("case_file"); err == nil {
				_, err = h.svc.PlaceHold(ctx, sub, cf, r.PostFormValue("reason"))
			}
		case "lift":
			if cf, hold := id("case_file"), id("hold"); err == nil {
				err = h.svc.LiftHold(ctx, sub, cf, hold, r.PostFormValue("reason"))
			}
		case "appraise":
			if list := ids(); err == nil {
				_, err = h.svc.Appraise(ctx, sub, list)
			}
		case "decide":
			var day time.Time
			if d := id("disposal"); err == nil {
				if day, err = formDay("decision_date", r.PostFormValue("decision_date")); err == nil {
					_, err = h.svc.DecideDisposal(ctx, sub, d, r.PostFormValue("decision_number"), day.Add(-24*time.Hour+time.Second))
				}
			}
		case "execute":
			if d := id("disposal"); err == nil {
				_, err = h.svc.ExecuteDisposal(ctx, sub, d)
			}
		case "transfer":
			if list := ids(); err == nil {
				_, err = h.svc.TransferCaseFiles(ctx, sub, list)
			}
		default:
			err = errs.Invalid("action", "unknown form")
		}
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	// The page names what was acted on (retentionNamed), looked up again
	// as the caller may see it: the case files, the disposal or the series.
	back := url.Values{"unit": {strconv.FormatInt(sub.Unit, 10)}}
	for _, k := range []string{"case_file", "disposal", "series"} {
		if v := r.PostForm[k]; len(v) > 0 && len(v) <= maxNamed {
			back[k] = v
		}
	}
	web.RedirectDone(w, r, consoleRetentionPath+"?"+back.Encode(), "records.archive.flash.done", r.PostFormValue("action"))
}

// maxNamed is how many case files a confirmation names.
const maxNamed = 20

// retentionNamed names, for the confirmation of a retention form, what
// the form acted on, as the link after it lists it (case_file, disposal,
// series): each case file by its number and title, a disposal by its
// case files, a series by its code and name. Only what the caller may
// see now is named (a case file it may not read is left out), never text
// from the link; "" when nothing is.
func (h *Handler) retentionNamed(r *http.Request, o *RetentionOverview) string {
	q := r.URL.Query()
	if series := q.Get("series"); series != "" {
		for _, sc := range o.Schedules {
			if sc.Series == series {
				return sc.Series + " «" + sc.Title + "»"
			}
		}
		return ""
	}
	var ids []int64
	for _, v := range q["case_file"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	if d, err := strconv.ParseInt(q.Get("disposal"), 10, 64); err == nil {
		for _, ds := range o.Disposals {
			if ds.ID == d {
				ids = append(ids, ds.CaseFiles...)
			}
		}
	}
	// The appraisal lists the case files the disposition reader sees (a
	// leader deciding reads them there, not in the case files' list);
	// others (destroyed, transferred) as the reader may read case files.
	listed := map[int64]*CaseFile{}
	for _, it := range o.Appraisal {
		listed[it.CaseFile.ID] = it.CaseFile
	}
	var names []string
	for _, id := range ids[:min(len(ids), maxNamed)] {
		cf, ok := listed[id]
		if !ok {
			var err error
			if cf, err = h.svc.CaseFile(r.Context(), web.SubjectFrom(r.Context()), id); err != nil {
				continue
			}
		}
		names = append(names, cf.Code+" «"+cf.Title+"»")
	}
	return strings.Join(names, ", ")
}
