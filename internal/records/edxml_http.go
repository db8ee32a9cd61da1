package records

import (
	"fmt"
	"net/http"
	"strconv"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// consoleExchangePath is the records office's page of packages exchanged
// with other agencies and missions.
const consoleExchangePath = "/console/records/exchange"

// registerEdXML adds the routes of the edXML packages: the sender's view
// of each recipient's status, the packages received and sent, their
// registration and return, and the console page. The service decides on
// each package and document (unit, level); the grants below only keep out
// whom no document concerns.
func (h *Handler) registerEdXML(rt *web.Router) {
	rt.HandleFunc("GET /api/v1/documents/{id}/deliveries", web.Staff(authz.KindDocument, authz.Read), h.apiDeliveries)
	rt.HandleFunc("GET /api/v1/packages", web.Staff(authz.KindDocument, authz.Read), h.apiPackages)
	// Registering and returning are the records office's.
	rt.HandleFunc("POST /api/v1/packages/{id}/register", web.Staff(authz.KindRegister, authz.Create), h.apiRegisterPackage)
	rt.HandleFunc("POST /api/v1/packages/{id}/return", web.Staff(authz.KindRegister, authz.Update), h.apiReturnPackage)

	rt.HandleFunc("GET "+consoleExchangePath, web.Staff(authz.KindDocument, authz.Read), h.consoleExchange)
	rt.HandleFunc("POST "+consoleExchangePath+"/{id}/register", web.Staff(authz.KindRegister, authz.Create), h.consoleRegisterPackage)
	rt.HandleFunc("POST "+consoleExchangePath+"/{id}/return", web.Staff(authz.KindRegister, authz.Update), h.consoleReturnPackage)
}

func (h *Handler) apiDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := parseDocumentID(r.PathValue("id"))
	var rows []*PackageRow
	if err == nil {
		rows, err = h.svc.Deliveries(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, map[string]any{"items": rows})
}

func (h *Handler) apiPackages(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := PackageQuery{Direction: v.Get("direction")}
	waiting, err := web.ParseBool("waiting", v.Get("waiting"))
	if err == nil && v.Get("limit") != "" {
		var n int64
		if n, err = parsePositive("limit", v.Get("limit")); err == nil && n > MaxLimit {
			err = errs.Invalid("limit", fmt.Sprintf("must be at most %d", MaxLimit))
		}
		q.Limit = int(min(n, MaxLimit))
	}
	var rows []*PackageRow
	if err == nil {
		q.Waiting = waiting
		rows, err = h.svc.Packages(r.Context(), web.SubjectFrom(r.Context()), q)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, map[string]any{"items": rows})
}

func (h *Handler) apiRegisterPackage(w http.ResponseWriter, r *http.Request) {
	id, err := parsePositive("id", r.PathValue("id"))
	var d *Document
	if err == nil {
		d, err = h.svc.RegisterPackage(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/documents/"+strconv.FormatInt(d.ID, 10))
	web.JSON(w, r, http.StatusCreated, d)
}

func (h *Handler) apiReturnPackage(w http.ResponseWriter, r *http.Request) {
	id, err := parsePositive("id", r.PathValue("id"))
	var req struct {
		Reason string `json:"reason"`
	}
	if err == nil {
		err = web.DecodeJSON(r, &req)
	}
	var p *PackageRow
	if err == nil {
		p, err = h.svc.ReturnPackage(r.Context(), web.SubjectFrom(r.Context()), id, req.Reason)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, p)
}

// consoleExchangeData is the exchange page: the packages waiting to be
// registered, and the unit's packages received and sent with their
// statuses.
type consoleExchangeData struct {
	Waiting        []*PackageRow
	Received, Sent consolePackageTable
	Problem        web.Refusal
}

// consolePackageTable is a table of packages received or sent, with the
// page's texts.
type consolePackageTable struct {
	Rows []*PackageRow
	Out  bool
	T    func(key string, args ...any) string
}

func (h *Handler) consoleExchange(w http.ResponseWriter, r *http.Request) {
	h.showConsoleExchange(w, r, http.StatusOK, web.Refusal{})
}

func (h *Handler) showConsoleExchange(w http.ResponseWriter, r *http.Request, status int, ref web.Refusal) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	p := h.shell.Page(r, web.Console, "records.edxml.title")
	data := consoleExchangeData{Problem: ref, Received: consolePackageTable{T: p.T}, Sent: consolePackageTable{Out: true, T: p.T}}
	var err error
	for _, q := range []struct {
		q    PackageQuery
		into *[]*PackageRow
	}{
		{PackageQuery{Direction: packageIn, Waiting: true}, &data.Waiting},
		{PackageQuery{Direction: packageIn}, &data.Received.Rows},
		{PackageQuery{Direction: packageOut}, &data.Sent.Rows},
	} {
		if *q.into, err = h.svc.Packages(ctx, sub, q.q); err != nil {
			web.Error(w, r, err)
			return
		}
	}
	h.pages.Render(w, r, status, "console_edxml", web.View[consoleExchangeData]{Page: p, Data: data})
}

func (h *Handler) consoleRegisterPackage(w http.ResponseWriter, r *http.Request) {
	id, err := parsePositive("id", r.PathValue("id"))
	var d *Document
	if err == nil {
		d, err = h.svc.RegisterPackage(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	if err != nil {
		h.edxmlFormError(w, r, err)
		return
	}
	web.RedirectWithFlash(w, r, "/console/documents/"+strconv.FormatInt(d.ID, 10), "records.edxml.flash.registered")
}

func (h *Handler) consoleReturnPackage(w http.ResponseWriter, r *http.Request) {
	id, err := parsePositive("id", r.PathValue("id"))
	if err == nil {
		if err = r.ParseForm(); err != nil {
			err = fmt.Errorf("%w: the form could not be read: %v", errs.ErrInvalid, err)
		}
	}
	if err == nil {
		_, err = h.svc.ReturnPackage(r.Context(), web.SubjectFrom(r.Context()), id, r.PostFormValue("reason"))
	}
	if err != nil {
		h.edxmlFormError(w, r, err)
		return
	}
	web.RedirectWithFlash(w, r, consoleExchangePath, "records.edxml.flash.returned")
}

// edxmlFormError draws the page again with a refusal it can explain;
// anything else (a hidden package: not found) is answered as an error.
func (h *Handler) edxmlFormError(w http.ResponseWriter, r *http.Request, err error) {
	tr := h.shell.Localizer(r)
	web.FormError(w, r, err, func(err error) (web.Refusal, bool) { return web.Explain(tr, "records.edxml.", err) },
		func(ref web.Refusal) { h.showConsoleExchange(w, r, ref.Status, ref) })
}
