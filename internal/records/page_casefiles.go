package records

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// The case files' console pages: the unit's yearly list (open, closed,
// due at the archive), one case file with its documents, filing, closing
// and the export package; and the export through the API.

const consoleCaseFilesPath = "/console/case-files"

func consoleCaseFilePath(id int64) string {
	return consoleCaseFilesPath + "/" + strconv.FormatInt(id, 10)
}

// registerCaseFiles adds the case files' pages and the export's API
// route. The service decides on each case file (its unit) and document.
func (h *Handler) registerCaseFiles(rt *web.Router) {
	read := web.Staff(authz.KindCaseFile, authz.Read)
	update := web.Staff(authz.KindCaseFile, authz.Update)
	export := web.Staff(authz.KindCaseFile, authz.Export)
	rt.HandleFunc("GET "+consoleCaseFilesPath, read, h.consoleCaseFiles)
	rt.HandleFunc("POST "+consoleCaseFilesPath, web.Staff(authz.KindCaseFile, authz.Create), h.consolePostCaseFile)
	rt.HandleFunc("GET /console/case-files/{id}", read, h.consoleCaseFile)
	rt.HandleFunc("POST /console/case-files/{id}/file", update, h.consolePostFiling)
	rt.HandleFunc("POST /console/case-files/{id}/close", update, h.consolePostCloseCaseFile)
	rt.HandleFunc("GET /console/case-files/{id}/export", export, h.exportCaseFile)
	rt.HandleFunc("GET /api/v1/case-files", read, h.apiCaseFiles)
	rt.HandleFunc("GET /api/v1/case-files/{id}/export", export, h.exportCaseFile)
}

// caseFileRow is a case file as the list shows it.
type caseFileRow struct {
	Href, Code, Title, Retention, Due string
	Count, Year                       int
	Closed                            string
	DueSoon, Overdue                  bool
}

// caseFilesData is the unit's list of a year.
type caseFilesData struct {
	Year, PrevYear, NextYear int
	Rows                     []caseFileRow
	Warnings                 int
	// Earlier are case files of earlier years due at the archive.
	Earlier   []caseFileRow
	Create    []web.Field
	Problem   web.Refusal
	CanCreate bool
}

func (h *Handler) consoleCaseFiles(w http.ResponseWriter, r *http.Request) {
	year := h.svc.now().In(registerZone()).Year()
	if s := r.URL.Query().Get("year"); s != "" {
		n, err := parsePositive("year", s)
		if err != nil || n < 1945 || n > 9999 {
			web.Error(w, r, errs.Invalid("year", "must be a year such as 2026"))
			return
		}
		year = int(n)
	}
	h.showCaseFiles(w, r, http.StatusOK, year, url.Values{"year": {strconv.Itoa(year)}, "retention_years": {"0"}}, web.Refusal{})
}

func (h *Handler) showCaseFiles(w http.ResponseWriter, r *http.Request, status, year int, values url.Values, ref web.Refusal) {
	sub := web.SubjectFrom(r.Context())
	list, err := h.svc.CaseFiles(r.Context(), sub, year)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	due, err := h.svc.CaseFilesDue(r.Context(), sub, year)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "records.casefiles.title")
	now := h.svc.now()
	data := caseFilesData{Year: year, PrevYear: year - 1, NextYear: year + 1}
	for _, cf := range due {
		data.Earlier = append(data.Earlier, caseFileRow{Href: consoleCaseFilePath(cf.ID), Code: cf.Code, Title: cf.Title, Year: cf.Year,
			Due: showDay(cf.DeliveryDue.Add(-1)), Overdue: now.After(cf.DeliveryDue)})
	}
	for _, cf := range list {
		row := caseFileRow{Href: consoleCaseFilePath(cf.ID), Code: cf.Code, Title: cf.Title, Retention: retentionLabel(p, cf.RetentionYears),
			Count: cf.Count, Due: showDay(cf.DeliveryDue.Add(-1)), DueSoon: cf.DeliverySoon, Overdue: now.After(cf.DeliveryDue)}
		if !cf.ClosedAt.IsZero() {
			row.Closed = showDay(cf.ClosedAt)
		}
		if row.DueSoon {
			data.Warnings++
		}
		data.Rows = append(data.Rows, row)
	}
	if dec, _ := authz.Decide(sub, authz.Create, authz.Resource{Kind: authz.KindCaseFile, Unit: sub.Unit}); dec == authz.Allowed {
		data.CanCreate = true
		fm := web.NewForm(p, "casefile-", values, ref)
		data.Create = []web.Field{
			fm.Field("code", "text", "records.casefiles.code", true),
			fm.Field("title", "textarea", "records.casefiles.name", true),
			fm.Field("year", "number", "records.casefiles.year", true),
			fm.Field("retention_years", "number", "records.casefiles.retention", true),
		}
		data.Problem = fm.Message()
	}
	h.pages.Render(w, r, status, "console_casefiles", web.View[caseFilesData]{Page: p, Data: data})
}

// parseCount parses a whole number from 0 (digits only: no sign).
func parseCount(field, s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil {
		return 0, errs.Invalid(field, "must be a whole number from 0")
	}
	return int(n), nil
}

// retentionLabel is a retention period as the pages show it.
func retentionLabel(p web.Page, r Retention) string {
	if r == Permanent {
		return p.T("records.casefiles.permanent")
	}
	return p.T("records.casefiles.years", int(r))
}

func (h *Handler) consolePostCaseFile(w http.ResponseWriter, r *http.Request) {
	var cf *CaseFile
	err := r.ParseForm()
	year, _ := strconv.Atoi(r.PostFormValue("year"))
	if err == nil {
		var ret int
		if year, err = web.OptionalInt("year", r.PostFormValue("year")); err == nil {
			if ret, err = parseCount("retention_years", r.PostFormValue("retention_years")); err == nil {
				cf, err = h.svc.CreateCaseFile(r.Context(), web.SubjectFrom(r.Context()), NewCaseFile{Year: year,
					Code: strings.TrimSpace(r.PostFormValue("code")), Title: strings.TrimSpace(r.PostFormValue("title")), RetentionYears: Retention(ret)})
			}
		}
	} else {
		err = errs.Invalid("form", "the form could not be read")
	}
	if err != nil {
		if year < 1945 || year > 9999 {
			year = h.svc.now().In(registerZone()).Year()
		}
		h.pageFormError(w, r, err, func(ref web.Refusal) { h.showCaseFiles(w, r, ref.Status, year, r.PostForm, ref) })
		return
	}
	web.RedirectWithFlash(w, r, consoleCaseFilePath(cf.ID), "records.casefiles.flash.created")
}

// caseFileDoc is a document of a case file as its page lists it.
type caseFileDoc struct {
	Href, Number, Subject, Date, DirectionKey string
	Level                                     levelBadge
}

// caseFileData is a case file's page.
type caseFileData struct {
	ID                                int64
	Code, Title, Retention, Due, List string
	Year                              int
	Closed                            string
	DueSoon                           bool
	Docs                              []caseFileDoc
	File                              []web.Field
	FileProblem                       web.Refusal
	CanUpdate, CanExport              bool
	ExportHref                        string
}

func (h *Handler) consoleCaseFile(w http.ResponseWriter, r *http.Request) {
	h.showCaseFile(w, r, http.StatusOK, nil, web.Refusal{})
}

func (h *Handler) showCaseFile(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	id, err := parsePositive("id", r.PathValue("id"))
	var cf *CaseFile
	var docs []*Document
	if err == nil {
		cf, docs, err = h.svc.CaseFileDocuments(ctx, sub, id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "records.casefiles.one")
	p.Title = p.T("records.casefiles.one") + " " + cf.Code
	due := DeliveryDue(cf)
	data := caseFileData{ID: cf.ID, Code: cf.Code, Title: cf.Title, Year: cf.Year, Retention: retentionLabel(p, cf.RetentionYears),
		Due: showDay(due.Add(-1)), DueSoon: h.svc.now().Add(DeliveryWarning).After(due),
		List: consoleCaseFilesPath + "?year=" + strconv.Itoa(cf.Year), ExportHref: consoleCaseFilePath(cf.ID) + "/export"}
	if !cf.ClosedAt.IsZero() {
		data.Closed = showDay(cf.ClosedAt)
	}
	res := authz.Resource{Kind: authz.KindCaseFile, Unit: cf.UnitID}
	dec, _ := authz.Decide(sub, authz.Update, res)
	data.CanUpdate = dec == authz.Allowed && cf.ClosedAt.IsZero()
	dec, _ = authz.Decide(sub, authz.Export, res)
	data.CanExport = dec == authz.Allowed
	in := map[int64]bool{}
	for _, d := range docs {
		in[d.ID] = true
		data.Docs = append(data.Docs, caseFileDoc{Href: documentHref(d), Number: d.Number, Subject: d.Subject, Date: showDay(d.Date),
			DirectionKey: "records.direction." + string(d.Direction), Level: badgeOf(p, d.Classification)})
	}
	if data.CanUpdate {
		// The documents the member of staff may file: the latest they
		// may see, not already in the case file.
		page, err := h.svc.Search(ctx, sub, Query{Limit: MaxLimit})
		if err != nil {
			web.Error(w, r, err)
			return
		}
		var opts []web.Option
		for _, d := range page.Items {
			if !in[d.ID] {
				label := ellipsis(d.Subject, 90)
				if d.Number != "" {
					label = d.Number + " — " + label
				}
				opts = append(opts, web.Option{Value: strconv.FormatInt(d.ID, 10), Label: label})
			}
		}
		fm := web.NewForm(p, "file-", values, ref)
		data.File = []web.Field{fm.Choice("document", "select", "records.casefiles.document", true, opts)}
		data.FileProblem = fm.Message()
	} else if ref.Message != "" {
		data.FileProblem = ref
	}
	h.pages.Render(w, r, status, "console_casefile", web.View[caseFileData]{Page: p, Data: data})
}

// documentHref is where a document's page is: an outgoing one's drafting
// page, an incoming one's document page.
func documentHref(d *Document) string {
	if d.Direction == Outgoing {
		return consoleDraftingPath(d.ID)
	}
	return "/console/documents/" + strconv.FormatInt(d.ID, 10)
}

func (h *Handler) consolePostFiling(w http.ResponseWriter, r *http.Request) {
	id, err := parsePositive("id", r.PathValue("id"))
	if err == nil {
		if perr := r.ParseForm(); perr != nil {
			err = errs.Invalid("document", "the form could not be read")
		}
	}
	if err == nil {
		var doc int64
		if doc, err = web.ParseID("document", r.PostFormValue("document")); err == nil {
			err = h.svc.File(r.Context(), web.SubjectFrom(r.Context()), id, doc)
		}
	}
	if err != nil {
		h.pageFormError(w, r, err, func(ref web.Refusal) { h.showCaseFile(w, r, ref.Status, r.PostForm, ref) })
		return
	}
	web.RedirectWithFlash(w, r, consoleCaseFilePath(id), "records.casefiles.flash.filed")
}

func (h *Handler) consolePostCloseCaseFile(w http.ResponseWriter, r *http.Request) {
	id, err := parsePositive("id", r.PathValue("id"))
	if err == nil {
		err = h.svc.CloseCaseFile(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	if err != nil {
		h.pageFormError(w, r, err, func(ref web.Refusal) { h.showCaseFile(w, r, ref.Status, nil, ref) })
		return
	}
	web.RedirectWithFlash(w, r, consoleCaseFilePath(id), "records.casefiles.flash.closed")
}

// exportCaseFile sends a case file's export package (page and API).
func (h *Handler) exportCaseFile(w http.ResponseWriter, r *http.Request) {
	id, err := parsePositive("id", r.PathValue("id"))
	var name string
	var pkg []byte
	if err == nil {
		name, pkg, err = h.svc.ExportCaseFile(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.attachment(w, r, h.opts.Export, name, "application/zip", pkg)
}

// apiCaseFiles lists the caller's unit's case files of a year (this year
// unless year says otherwise).
func (h *Handler) apiCaseFiles(w http.ResponseWriter, r *http.Request) {
	year := int64(h.svc.now().In(registerZone()).Year())
	var err error
	if s := r.URL.Query().Get("year"); s != "" {
		year, err = parsePositive("year", s)
	}
	var list []CaseFileSummary
	if err == nil {
		list, err = h.svc.CaseFiles(r.Context(), web.SubjectFrom(r.Context()), int(min(year, 10000)))
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(list, ""))
}
