package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/web"
)

// formError answers a refused form post on the page titled titleKey:
// draw draws the form again when the refusal can be shown on it.
func (h *Handler) formError(w http.ResponseWriter, r *http.Request, titleKey string, err error, draw func(web.Refusal)) {
	page := h.shell.Page(r, web.Console, titleKey)
	web.FormError(w, r, err, func(err error) (web.Refusal, bool) { return explain(page, err) }, draw)
}

// explain turns a registry error into what a form shows (see
// web.Explain).
func explain(p web.Page, err error) (web.Refusal, bool) {
	return web.Explain(p.Localizer(), "registry.", err)
}

// parseForm reads the submitted form, refusing a malformed body.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w: the form could not be read: %v", errs.ErrInvalid, err)
	}
	return nil
}

// levelOptions lists the classification levels for a select.
func levelOptions(p web.Page) []web.Option { return web.LevelOptions(p, "registry.level.") }

// kindOptions lists the service kinds for a select, with "any" first
// when withAny.
func kindOptions(p web.Page, withAny bool) []web.Option {
	var opts []web.Option
	if withAny {
		opts = append(opts, web.Option{Value: "", Label: p.T("registry.any")})
	}
	for _, k := range []exchange.ServiceKind{exchange.KindREST, exchange.KindAsync} {
		opts = append(opts, web.Option{Value: string(k), Label: p.T("registry.kind." + string(k))})
	}
	return opts
}

// subsystemOptions lists conf's subsystems for a select.
func subsystemOptions(p web.Page, conf *exchange.GlobalConf) []web.Option {
	opts := []web.Option{{Value: "", Label: p.T("registry.choose")}}
	for _, s := range conf.Subsystems {
		opts = append(opts, web.Option{Value: s.ID.String(), Label: s.ID.String() + " — " + s.Title})
	}
	return opts
}

// confState is what every registry page says about the configuration it
// shows: whether there is one, and whether it has expired.
type confState struct {
	NoConf  bool
	Expired bool
	Serial  uint64
	Expires time.Time
	// Editable is true on headquarters' node, which keeps the registry.
	Editable bool
}

// state describes conf (nil: none) at now.
func (h *Handler) state(conf *exchange.GlobalConf) confState {
	st := confState{NoConf: conf == nil, Editable: h.reg != nil}
	if conf != nil {
		st.Serial, st.Expires, st.Expired = conf.Serial, conf.Expires, conf.Expired(h.opts.Now())
	}
	return st
}

// serviceRow is a service as the catalogue lists it.
type serviceRow struct {
	ID        string
	Title     string
	Kind      string
	KindLabel string
	Level     string
	LevelKey  string
	Provider  string
}

func newServiceRow(p web.Page, conf *exchange.GlobalConf, e entry) serviceRow {
	return serviceRow{ID: e.ID.String(), Title: e.Title, Kind: string(e.Kind), KindLabel: p.T("registry.kind." + string(e.Kind)),
		Level: e.MaxLevel.String(), LevelKey: "registry.level." + e.MaxLevel.String(), Provider: memberName(p, conf, e.ID.Member)}
}

// servicesData is the view of the catalogue.
type servicesData struct {
	confState
	Filter   []web.Field
	Problem  web.Refusal
	Rows     []serviceRow
	Filtered bool
}

func (h *Handler) pageServices(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "registry.services.title")
	q := r.URL.Query()
	conf := h.opts.Conf()
	data := servicesData{confState: h.state(conf), Filtered: q.Get("q") != "" || q.Get("kind") != ""}
	f, err := filterFrom(r)
	prob, status, ok := web.ListError(w, r, err, func(err error) (web.Refusal, bool) { return explain(p, err) })
	if !ok {
		return
	}
	if data.Problem = prob; err == nil && conf != nil {
		for _, e := range catalogue(conf, f, seesBackends(r)) {
			data.Rows = append(data.Rows, newServiceRow(p, conf, e))
		}
	}
	fm := web.NewForm(p, "filter-", q, data.Problem)
	data.Filter = []web.Field{
		fm.Field("q", "search", "registry.search", false),
		fm.Choice("kind", "select", "registry.service.kind", false, kindOptions(p, true)),
	}
	data.Problem = fm.Message()
	h.pages.Render(w, r, status, "services", web.View[servicesData]{Page: p, Data: data})
}

// clientRow is a client allowed to use a service.
type clientRow struct {
	ID     string
	Title  string
	Member string
}

// serviceData is the view of one service: what it is, its description
// and interface, who may call it and, at headquarters, the forms that
// change it.
type serviceData struct {
	confState
	ID        string
	Title     string
	Desc      string
	KindLabel string
	Level     string
	LevelKey  string
	Backend   string
	OpenAPI   string
	Provider  string
	Subsystem string
	Clients   []clientRow
	// Grants is the history of the rights, at headquarters.
	Grants       []Grant
	GrantForm    []web.Field
	GrantProblem web.Refusal
	EditForm     []web.Field
	EditProblem  web.Refusal
}

// prettyJSON indents a JSON document for reading, or returns it as it is
// when it does not parse.
func prettyJSON(doc string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(doc), "", "  "); err != nil {
		return doc
	}
	return b.String()
}

func (h *Handler) pageService(w http.ResponseWriter, r *http.Request) {
	id, err := pathService(r)
	if err != nil {
		web.Error(w, r, fmt.Errorf("%w: %v", errs.ErrNotFound, err))
		return
	}
	h.showService(w, r, http.StatusOK, id, web.SentBack{})
}

// showService draws the page of service id, with a form sent back.
func (h *Handler) showService(w http.ResponseWriter, r *http.Request, status int, id exchange.ServiceID, back web.SentBack) {
	e, conf, err := h.lookupService(r, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "registry.service.title")
	p.Title = e.Title
	data := serviceData{confState: h.state(conf), ID: e.ID.String(), Title: e.Title, Desc: e.Description,
		KindLabel: p.T("registry.kind." + string(e.Kind)), Level: e.MaxLevel.String(), LevelKey: "registry.level." + e.MaxLevel.String(),
		Backend: e.Backend, OpenAPI: prettyJSON(e.OpenAPI), Provider: memberName(p, conf, e.ID.Member), Subsystem: e.Provider.SubsystemTitle}
	for _, c := range e.Clients {
		row := clientRow{ID: c.String(), Member: memberName(p, conf, c.Member)}
		if s, ok := conf.Subsystem(c); ok {
			row.Title = s.Title
		}
		data.Clients = append(data.Clients, row)
	}
	if h.reg != nil {
		if data.Grants, err = h.reg.Rights(r.Context(), id); err != nil && !errors.Is(err, errs.ErrNotFound) {
			web.Error(w, r, err)
			return
		}
		gf := back.NewForm(p, "grant-", nil)
		data.GrantForm = []web.Field{gf.Choice("client", "select", "registry.right.client", true, subsystemOptions(p, conf))}
		data.GrantProblem = gf.Message()
		ef := back.NewForm(p, "edit-", url.Values{"title": {e.Title}, "description": {e.Description}, "backend": {e.Backend},
			"openapi": {e.OpenAPI}, "max_level": {e.MaxLevel.String()}})
		data.EditForm = []web.Field{
			ef.Field("title", "text", "registry.service.title_field", true),
			ef.Field("description", "textarea", "registry.service.description", false),
		}
		if e.Kind == exchange.KindREST {
			data.EditForm = append(data.EditForm,
				ef.Field("backend", "url", "registry.service.backend", true),
				ef.Field("openapi", "textarea", "registry.service.openapi", true))
		}
		data.EditForm = append(data.EditForm, ef.Choice("max_level", "select", "registry.service.max_level", true, levelOptions(p)))
		data.EditProblem = ef.Message()
	}
	h.pages.Render(w, r, status, "service", web.View[serviceData]{Page: p, Data: data})
}

// formService parses the "service" field of a submitted form.
func formService(r *http.Request) (exchange.ServiceID, error) {
	return exchange.ParseServiceID(r.PostFormValue("service"))
}

// postForm reads a form sent to a node that keeps the registry and the
// service it names, answering the request itself and returning false
// when it cannot.
func (h *Handler) postForm(w http.ResponseWriter, r *http.Request) (exchange.ServiceID, bool) {
	if !h.editableForm(w, r) {
		return exchange.ServiceID{}, false
	}
	id, err := formService(r)
	if err != nil {
		web.Error(w, r, err)
		return id, false
	}
	return id, true
}

// editableForm reads a submitted form on a node that keeps the registry,
// answering the request itself and returning false when it cannot.
func (h *Handler) editableForm(w http.ResponseWriter, r *http.Request) bool {
	if h.reg == nil {
		web.Error(w, r, errManagedAtHQ)
		return false
	}
	if err := parseForm(r); err != nil {
		web.Error(w, r, err)
		return false
	}
	return true
}

// serviceHref is the page of service id.
func serviceHref(id exchange.ServiceID) string { return "/console/exchange/services/" + id.String() }

func (h *Handler) postUpdateService(w http.ResponseWriter, r *http.Request) {
	id, ok := h.postForm(w, r)
	if !ok {
		return
	}
	str := func(name string) *string {
		if _, sent := r.PostForm[name]; !sent {
			return nil
		}
		v := r.PostFormValue(name)
		return &v
	}
	p := ServicePatch{Title: str("title"), Description: str("description"), Backend: str("backend"), OpenAPI: str("openapi")}
	l, err := parseLevel("max_level", r.PostFormValue("max_level"))
	if err == nil {
		p.MaxLevel = &l
		_, err = h.reg.UpdateService(r.Context(), id, p)
	}
	if err != nil {
		h.formError(w, r, "registry.service.title", err, func(prob web.Refusal) {
			h.showService(w, r, prob.Status, id, web.SentBack{Form: "edit-", Values: r.PostForm, Refusal: prob})
		})
		return
	}
	web.RedirectWithFlash(w, r, serviceHref(id), "registry.flash.updated")
}

func (h *Handler) postDeleteService(w http.ResponseWriter, r *http.Request) {
	id, ok := h.postForm(w, r)
	if !ok {
		return
	}
	if err := h.reg.DeleteService(r.Context(), id); err != nil {
		web.Error(w, r, err)
		return
	}
	web.RedirectWithFlash(w, r, "/console/exchange/services", "registry.flash.deleted")
}

func (h *Handler) postGrant(w http.ResponseWriter, r *http.Request) {
	id, ok := h.postForm(w, r)
	if !ok {
		return
	}
	client, err := exchange.ParseClientID(r.PostFormValue("client"))
	if err == nil {
		_, err = h.reg.Grant(r.Context(), id, client)
	} else {
		err = renameField(err, "client")
	}
	if err != nil {
		h.formError(w, r, "registry.service.title", err, func(prob web.Refusal) {
			h.showService(w, r, prob.Status, id, web.SentBack{Form: "grant-", Values: r.PostForm, Refusal: prob})
		})
		return
	}
	web.RedirectWithFlash(w, r, serviceHref(id), "registry.flash.granted")
}

func (h *Handler) postRevoke(w http.ResponseWriter, r *http.Request) {
	id, ok := h.postForm(w, r)
	if !ok {
		return
	}
	client, err := exchange.ParseClientID(r.PostFormValue("client"))
	if err == nil {
		err = h.reg.Revoke(r.Context(), id, client)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.RedirectWithFlash(w, r, serviceHref(id), "registry.flash.revoked")
}

// newServiceData is the view of the registration form.
type newServiceData struct {
	confState
	Fields  []web.Field
	Problem web.Refusal
}

func (h *Handler) pageNewService(w http.ResponseWriter, r *http.Request) {
	h.showNewService(w, r, http.StatusOK, url.Values{"kind": {string(exchange.KindREST)}, "version": {"v1"}}, web.Refusal{})
}

func (h *Handler) showNewService(w http.ResponseWriter, r *http.Request, status int, values url.Values, prob web.Refusal) {
	p := h.shell.Page(r, web.Console, "registry.new.title")
	conf := h.opts.Conf()
	data := newServiceData{confState: h.state(conf)}
	if data.Editable && conf != nil {
		fm := web.NewForm(p, "service-", values, prob)
		data.Fields = []web.Field{
			fm.Choice("provider", "select", "registry.service.provider", true, subsystemOptions(p, conf)),
			fm.Field("service", "text", "registry.service.code", true),
			fm.Field("version", "text", "registry.service.version", false),
			fm.Choice("kind", "select", "registry.service.kind", true, kindOptions(p, false)),
			fm.Field("title", "text", "registry.service.title_field", true),
			fm.Field("description", "textarea", "registry.service.description", false),
			fm.Field("backend", "url", "registry.service.backend", false),
			fm.Field("openapi", "textarea", "registry.service.openapi", false),
			fm.Choice("max_level", "select", "registry.service.max_level", true, levelOptions(p)),
		}
		data.Problem = fm.Message()
	}
	h.pages.Render(w, r, status, "service_new", web.View[newServiceData]{Page: p, Data: data})
}

func (h *Handler) postNewService(w http.ResponseWriter, r *http.Request) {
	if !h.editableForm(w, r) {
		return
	}
	v := r.PostForm
	in := NewService{Kind: exchange.ServiceKind(v.Get("kind")), Title: v.Get("title"), Description: v.Get("description"),
		Backend: v.Get("backend"), OpenAPI: v.Get("openapi")}
	provider, err := exchange.ParseClientID(v.Get("provider"))
	if err != nil {
		err = renameField(err, "provider")
	}
	if err == nil {
		in.ID = exchange.ServiceID{ClientID: provider, Service: strings.TrimSpace(v.Get("service")), Version: strings.TrimSpace(v.Get("version"))}
		if in.MaxLevel, err = parseLevel("max_level", v.Get("max_level")); err == nil {
			_, err = h.reg.CreateService(r.Context(), in)
		}
	}
	if err != nil {
		h.formError(w, r, "registry.new.title", err, func(prob web.Refusal) { h.showNewService(w, r, prob.Status, v, prob) })
		return
	}
	web.RedirectWithFlash(w, r, serviceHref(in.ID), "registry.flash.created")
}

// subsystemRow is a subsystem as the list shows it.
type subsystemRow struct {
	ID       string
	Member   string
	Title    string
	Level    string
	LevelKey string
}

// subsystemsData is the view of the subsystems page.
type subsystemsData struct {
	confState
	Rows    []subsystemRow
	Fields  []web.Field
	Problem web.Refusal
}

func (h *Handler) pageSubsystems(w http.ResponseWriter, r *http.Request) {
	h.showSubsystems(w, r, http.StatusOK, url.Values{"clearance": {authz.Unclassified.String()}}, web.Refusal{})
}

func (h *Handler) showSubsystems(w http.ResponseWriter, r *http.Request, status int, values url.Values, prob web.Refusal) {
	p := h.shell.Page(r, web.Console, "registry.subsystems.title")
	conf := h.opts.Conf()
	data := subsystemsData{confState: h.state(conf)}
	if conf == nil {
		h.pages.Render(w, r, status, "subsystems", web.View[subsystemsData]{Page: p, Data: data})
		return
	}
	for _, s := range conf.Subsystems {
		data.Rows = append(data.Rows, subsystemRow{ID: s.ID.String(), Member: memberName(p, conf, s.ID.Member), Title: s.Title,
			Level: s.Clearance.String(), LevelKey: "registry.level." + s.Clearance.String()})
	}
	if data.Editable && p.Can("service", "create") {
		members := []web.Option{{Value: "", Label: p.T("registry.choose")}}
		for _, m := range conf.Members {
			name := m.NameVI
			if p.Lang == i18n.EN {
				name = m.NameEN
			}
			members = append(members, web.Option{Value: m.Code, Label: m.Code + " — " + name})
		}
		fm := web.NewForm(p, "subsystem-", values, prob)
		data.Fields = []web.Field{
			fm.Choice("member", "select", "registry.subsystem.member", true, members),
			fm.Field("code", "text", "registry.subsystem.code", true),
			fm.Field("title", "text", "registry.subsystem.title_field", true),
			fm.Choice("clearance", "select", "registry.subsystem.clearance", true, levelOptions(p)),
		}
		data.Problem = fm.Message()
	}
	h.pages.Render(w, r, status, "subsystems", web.View[subsystemsData]{Page: p, Data: data})
}

func (h *Handler) postSubsystem(w http.ResponseWriter, r *http.Request) {
	if !h.editableForm(w, r) {
		return
	}
	v := r.PostForm
	in, err := subsystemRequest{Member: v.Get("member"), Code: v.Get("code"), Title: v.Get("title"), Clearance: v.Get("clearance")}.newSubsystem()
	if err == nil {
		_, err = h.reg.CreateSubsystem(r.Context(), in)
	}
	if err != nil {
		h.formError(w, r, "registry.subsystems.title", err, func(prob web.Refusal) { h.showSubsystems(w, r, prob.Status, v, prob) })
		return
	}
	web.RedirectWithFlash(w, r, "/console/exchange/subsystems", "registry.flash.subsystem_created")
}

// nodeRow is a node as the nodes page shows it.
type nodeRow struct {
	ID        string
	RoleLabel string
	Member    string
	KeyID     string
	Certified time.Time
	Revoked   time.Time
	Reason    string
	// Revocable is true for a mission's node in service.
	Revocable bool
	Field     web.Field // the reason of a revocation, on its form
}

// nodesData is the view of the nodes page.
type nodesData struct {
	confState
	Rows []nodeRow
	// CanEnrol is true at headquarters for those who may enrol nodes.
	CanEnrol     bool
	EnrolFields  []web.Field
	EnrolProblem web.Refusal
	RevokeFailed web.Refusal
	// Issued is a token just issued, shown this once, to the mission
	// IssuedTo names.
	Issued   *issuedEnrolment
	IssuedTo string
}

func (h *Handler) pageNodes(w http.ResponseWriter, r *http.Request) {
	h.showNodes(w, r, http.StatusOK, web.SentBack{}, nil)
}

// showNodes draws the nodes page, with a form sent back (the enrolment
// form, or the revocation form of a node), and a token just issued.
func (h *Handler) showNodes(w http.ResponseWriter, r *http.Request, status int, back web.SentBack, issued *issuedEnrolment) {
	p := h.shell.Page(r, web.Console, "registry.nodes.title")
	conf := h.opts.Conf()
	data := nodesData{confState: h.state(conf), Issued: issued, CanEnrol: h.reg != nil && p.Can("system", "administer")}
	if conf != nil && issued != nil {
		data.IssuedTo = memberName(p, conf, issued.Member)
	}
	if conf != nil {
		for _, n := range confNodes(conf) {
			row := nodeRow{ID: n.ID, RoleLabel: p.T("registry.role." + string(n.Role)), Member: memberName(p, conf, n.Member),
				KeyID: n.SigningKeyID, Certified: n.Certified, Revoked: n.Revoked, Reason: n.RevokedReason,
				Revocable: data.CanEnrol && n.Role == exchange.RoleMission && n.Revoked.IsZero()}
			if row.Revocable {
				prefix := "revoke-" + n.ID + "-"
				fm := back.NewForm(p, prefix, nil)
				row.Field = fm.Field("reason", "text", "registry.node.reason", true)
				if prob := back.Refusal; back.Form == prefix && prob.Message != "" && prob.Field != "reason" {
					// A refusal of the revocation as a whole (a conflict) is
					// shown where the administrator acted.
					row.Field.Error, row.Field.ErrorDetail = prob.Message, prob.Detail
				}
			}
			data.Rows = append(data.Rows, row)
		}
	}
	if data.CanEnrol {
		units, err := h.reg.EnrolmentCandidates(r.Context())
		if err != nil {
			web.Error(w, r, err)
			return
		}
		opts := []web.Option{{Value: "", Label: p.T("registry.choose")}}
		for _, u := range units {
			opts = append(opts, web.Option{Value: u.Code, Label: unitLabel(p, u)})
		}
		fm := back.NewForm(p, "enrol-", nil)
		data.EnrolFields = []web.Field{fm.Choice("member", "select", "registry.enrol.member", true, opts)}
		data.EnrolProblem = fm.Message()
	}
	h.pages.Render(w, r, status, "nodes", web.View[nodesData]{Page: p, Data: data})
}

func (h *Handler) postEnrolment(w http.ResponseWriter, r *http.Request) {
	if !h.editableForm(w, r) {
		return
	}
	issued, err := h.issue(r, r.PostFormValue("member"))
	if err != nil {
		h.formError(w, r, "registry.nodes.title", err, func(prob web.Refusal) {
			h.showNodes(w, r, prob.Status, web.SentBack{Form: "enrol-", Values: r.PostForm, Refusal: prob}, nil)
		})
		return
	}
	// The token is shown in this response only, never in a URL or a
	// redirect: the registry keeps nothing that could show it again.
	h.showNodes(w, r, http.StatusCreated, web.SentBack{}, &issued)
}

func (h *Handler) postRevokeNode(w http.ResponseWriter, r *http.Request) {
	if !h.editableForm(w, r) {
		return
	}
	id := r.PathValue("id")
	if err := h.reg.RevokeNode(r.Context(), id, r.PostFormValue("reason")); err != nil {
		h.formError(w, r, "registry.nodes.title", err, func(prob web.Refusal) {
			h.showNodes(w, r, prob.Status, web.SentBack{Form: "revoke-" + id + "-", Values: r.PostForm, Refusal: prob}, nil)
		})
		return
	}
	web.RedirectWithFlash(w, r, "/console/exchange/nodes", "registry.flash.node_revoked")
}

// memberName is a member's name in the page's language, or its code when
// the configuration does not list it.
func memberName(p web.Page, conf *exchange.GlobalConf, code string) string {
	m, ok := conf.Member(conf.Instance + "/" + exchange.ClassGOV + "/" + code)
	switch {
	case !ok:
		return code
	case p.Lang == i18n.EN:
		return m.NameEN
	}
	return m.NameVI
}

// unitLabel is a unit as a select shows it.
func unitLabel(p web.Page, u identity.Unit) string {
	name := u.NameVI
	if p.Lang == i18n.EN {
		name = u.NameEN
	}
	return u.Code + " — " + name
}
