package registry

import (
	"embed"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// HandlerOptions configure the registry's handlers.
type HandlerOptions struct {
	// Conf returns the node's current global configuration, or nil while
	// it has none. The catalogue, the subsystems and the nodes are read
	// from it, so they show the same on headquarters' node and on a
	// mission's, which holds only its cached copy. Required.
	Conf func() *exchange.GlobalConf
	// Registry is the registry, at headquarters. On a mission's node it is
	// nil: the registry is read-only there, its editing pages say that it
	// is managed at headquarters, and its editing API answers 409.
	Registry *Registry
	// Now is the clock against which the configuration's expiry is
	// shown; if nil, time.Now.
	Now func() time.Time
	// JoinURL is the address of headquarters that a mission's node joins,
	// as the enrolment command shows it. If empty, the scheme and host of
	// the request that issued the token are used.
	JoinURL string
}

// Handler serves the registry's JSON API, the enrolment endpoint and the
// console pages.
type Handler struct {
	opts  HandlerOptions
	reg   *Registry
	shell *web.Shell
	pages *web.Templates
}

// NewHandler returns the registry's handlers, with the page templates
// parsed once; a broken template fails here, at start.
func NewHandler(shell *web.Shell, opts HandlerOptions) (*Handler, error) {
	if opts.Conf == nil {
		return nil, errors.New("registry: HandlerOptions.Conf is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("registry: parse page templates: %w", err)
	}
	return &Handler{opts: opts, reg: opts.Registry, shell: shell, pages: pages}, nil
}

// The access of the registry's routes. Any staff member may read the
// catalogue; the registry's editors are those whose roles grant the
// action on services, and nodes are the system administrators' business.
var (
	serviceRead   = web.Staff(authz.KindService, authz.Read)
	serviceCreate = web.Staff(authz.KindService, authz.Create)
	serviceUpdate = web.Staff(authz.KindService, authz.Update)
	serviceDelete = web.Staff(authz.KindService, authz.Delete)
	serviceAdmin  = web.Staff(authz.KindService, authz.Administer)
	systemRead    = web.Staff(authz.KindSystem, authz.Read)
	systemAdmin   = web.Staff(authz.KindSystem, authz.Administer)
)

// Register adds the registry's routes to rt, the same on every node, and
// the console's "Exchange" navigation item.
func (h *Handler) Register(rt *web.Router) {
	rt.HandleFunc("GET /api/v1/exchange/services", serviceRead, h.apiServices)
	rt.HandleFunc("POST /api/v1/exchange/services", serviceCreate, h.apiCreateService)
	rt.HandleFunc("GET /api/v1/exchange/services/{id...}", serviceRead, h.apiService)
	rt.HandleFunc("PATCH /api/v1/exchange/services/{id...}", serviceUpdate, h.apiUpdateService)
	rt.HandleFunc("DELETE /api/v1/exchange/services/{id...}", serviceDelete, h.apiDeleteService)
	rt.HandleFunc("GET /api/v1/exchange/subsystems", serviceRead, h.apiSubsystems)
	rt.HandleFunc("POST /api/v1/exchange/subsystems", serviceCreate, h.apiCreateSubsystem)
	rt.HandleFunc("GET /api/v1/exchange/rights", serviceRead, h.apiRights)
	rt.HandleFunc("POST /api/v1/exchange/rights", serviceAdmin, h.apiGrant)
	rt.HandleFunc("DELETE /api/v1/exchange/rights", serviceAdmin, h.apiRevoke)
	rt.HandleFunc("GET /api/v1/exchange/nodes", systemRead, h.apiNodes)
	rt.HandleFunc("POST /api/v1/exchange/nodes/{id}/revoke", systemAdmin, h.apiRevokeNode)
	rt.HandleFunc("POST /api/v1/exchange/enrolments", systemAdmin, h.apiIssueEnrolment)
	// The token authenticates an enrolling node, which has no account.
	rt.HandleFunc("POST /exchange/v1/enrol", web.Public, h.apiEnrol)

	rt.HandleFunc("GET /console/exchange/services", serviceRead, h.pageServices)
	rt.HandleFunc("GET /console/exchange/services/new", serviceCreate, h.pageNewService)
	rt.HandleFunc("POST /console/exchange/services", serviceCreate, h.postNewService)
	rt.HandleFunc("GET /console/exchange/services/{id...}", serviceRead, h.pageService)
	rt.HandleFunc("POST /console/exchange/services/update", serviceUpdate, h.postUpdateService)
	rt.HandleFunc("POST /console/exchange/services/delete", serviceDelete, h.postDeleteService)
	rt.HandleFunc("POST /console/exchange/rights", serviceAdmin, h.postGrant)
	rt.HandleFunc("POST /console/exchange/rights/revoke", serviceAdmin, h.postRevoke)
	rt.HandleFunc("GET /console/exchange/subsystems", serviceRead, h.pageSubsystems)
	rt.HandleFunc("POST /console/exchange/subsystems", serviceCreate, h.postSubsystem)
	rt.HandleFunc("GET /console/exchange/nodes", systemRead, h.pageNodes)
	rt.HandleFunc("POST /console/exchange/enrolments", systemAdmin, h.postEnrolment)
	rt.HandleFunc("POST /console/exchange/nodes/{id}/revoke", systemAdmin, h.postRevokeNode)

	h.shell.AddNav(web.Console, web.NavItem{Key: "nav.exchange", Href: "/console/exchange/services", Access: serviceRead})
}

// errManagedAtHQ answers a change asked of a mission's node.
var errManagedAtHQ = web.WithCode(fmt.Errorf("%w: this is a mission's node, which holds a read-only copy of the exchange registry; the registry is managed at headquarters", errs.ErrConflict), "managed_at_headquarters")

// conf returns the node's configuration, or exchange.ErrNoConf.
func (h *Handler) conf() (*exchange.GlobalConf, error) {
	c := h.opts.Conf()
	if c == nil {
		return nil, exchange.ErrNoConf
	}
	return c, nil
}

// provider names who offers a service.
type provider struct {
	Member         string `json:"member"`
	NameVI         string `json:"name_vi"`
	NameEN         string `json:"name_en"`
	Subsystem      string `json:"subsystem"`
	SubsystemTitle string `json:"subsystem_title"`
	Node           string `json:"node"`
}

// entry is a service of the catalogue with who provides it.
type entry struct {
	exchange.Service
	Provider provider `json:"provider"`
}

// detail is one service as asked for: its entry with its OpenAPI
// document, and the clients that may call it.
type detail struct {
	entry
	Clients []exchange.ClientID `json:"clients"`
}

// newEntry describes s as conf has it.
func newEntry(conf *exchange.GlobalConf, s exchange.Service) entry {
	e := entry{Service: s, Provider: provider{Member: s.ID.Member, Subsystem: s.ID.Subsystem}}
	if m, ok := conf.Member(s.ID.MemberKey()); ok {
		e.Provider.NameVI, e.Provider.NameEN, e.Provider.Node = m.NameVI, m.NameEN, m.Node
	}
	if sub, ok := conf.Subsystem(s.ID.Provider()); ok {
		e.Provider.SubsystemTitle = sub.Title
	}
	return e
}

// seesBackends reports whether the request's caller may see services'
// backend URLs: addresses of the providers' systems inside their own
// networks, which only those who administer the exchange's services need
// (authz: administer on services); everyone else sees the catalogue
// without them.
func seesBackends(r *http.Request) bool {
	d, _ := authz.Decide(web.SubjectFrom(r.Context()), authz.Administer, authz.Resource{Kind: authz.KindService})
	return d == authz.Allowed
}

// catalogue returns the services of conf that f selects, without their
// OpenAPI documents, which only the service itself carries, and without
// their backend URLs unless backends.
func catalogue(conf *exchange.GlobalConf, f ServiceFilter, backends bool) []entry {
	var out []entry
	for _, s := range conf.Services {
		if f.Match(s) {
			s.OpenAPI = ""
			if !backends {
				s.Backend = ""
			}
			out = append(out, newEntry(conf, s))
		}
	}
	return out
}

// clientsOf lists who may use service, by id.
func clientsOf(conf *exchange.GlobalConf, service exchange.ServiceID) []exchange.ClientID {
	out := []exchange.ClientID{}
	for _, r := range conf.Rights {
		if r.Service == service {
			out = append(out, r.Client)
		}
	}
	return out
}

// filterFrom reads a ServiceFilter from query parameters q, kind and member.
func filterFrom(r *http.Request) (ServiceFilter, error) {
	q := r.URL.Query()
	f := ServiceFilter{Query: q.Get("q"), Kind: exchange.ServiceKind(q.Get("kind")), Member: q.Get("member")}
	return f, f.Check()
}

func (h *Handler) apiServices(w http.ResponseWriter, r *http.Request) {
	f, err := filterFrom(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	conf, err := h.conf()
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(catalogue(conf, f, seesBackends(r)), ""))
}

// pathService parses the {id...} of the request path.
func pathService(r *http.Request) (exchange.ServiceID, error) {
	return exchange.ParseServiceID(r.PathValue("id"))
}

// lookupService returns the detail of service id as r's caller may see
// it (its backend URL only if seesBackends), or an error wrapping
// ErrNotFound.
func (h *Handler) lookupService(r *http.Request, id exchange.ServiceID) (detail, *exchange.GlobalConf, error) {
	conf, err := h.conf()
	if err != nil {
		return detail{}, nil, err
	}
	s, ok := conf.Service(id)
	if !ok {
		return detail{}, conf, fmt.Errorf("service %s: %w", id, errs.ErrNotFound)
	}
	svc := *s
	if !seesBackends(r) {
		svc.Backend = ""
	}
	return detail{entry: newEntry(conf, svc), Clients: clientsOf(conf, id)}, conf, nil
}

func (h *Handler) apiService(w http.ResponseWriter, r *http.Request) {
	id, err := pathService(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	e, _, err := h.lookupService(r, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, e)
}

// parseLevel parses a level name for field; empty is none.
func parseLevel(field, s string) (authz.Level, error) {
	if s == "" {
		return authz.Unclassified, nil
	}
	l, err := authz.ParseLevel(s)
	if err != nil {
		return 0, errs.Invalid(field, err.Error())
	}
	return l, nil
}

// serviceRequest is the body of POST /api/v1/exchange/services.
type serviceRequest struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Backend     string `json:"backend"`
	OpenAPI     string `json:"openapi"`
	MaxLevel    string `json:"max_level"`
}

// newService converts the request.
func (req serviceRequest) newService() (NewService, error) {
	in := NewService{Kind: exchange.ServiceKind(req.Kind), Title: req.Title, Description: req.Description, Backend: req.Backend, OpenAPI: req.OpenAPI}
	var err error
	if in.ID, err = exchange.ParseServiceID(strings.TrimSpace(req.ID)); err != nil {
		return in, renameField(err, "id")
	}
	in.MaxLevel, err = parseLevel("max_level", req.MaxLevel)
	return in, err
}

// editable reports whether this node keeps the registry, answering the
// request with errManagedAtHQ when it does not.
func (h *Handler) editable(w http.ResponseWriter, r *http.Request) bool {
	if h.reg == nil {
		web.Error(w, r, errManagedAtHQ)
		return false
	}
	return true
}

// decode reads a JSON body into req on a node that keeps the registry,
// answering the request itself and returning false when it cannot.
func decode[T any](h *Handler, w http.ResponseWriter, r *http.Request, req *T) bool {
	if !h.editable(w, r) {
		return false
	}
	if err := web.DecodeJSON(r, req); err != nil {
		web.Error(w, r, err)
		return false
	}
	return true
}

func (h *Handler) apiCreateService(w http.ResponseWriter, r *http.Request) {
	var req serviceRequest
	if !decode(h, w, r, &req) {
		return
	}
	in, err := req.newService()
	var s exchange.Service
	if err == nil {
		s, err = h.reg.CreateService(r.Context(), in)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/exchange/services/"+s.ID.String())
	web.JSON(w, r, http.StatusCreated, s)
}

// servicePatchRequest is the body of PATCH /api/v1/exchange/services/{id}.
type servicePatchRequest struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Backend     *string `json:"backend"`
	OpenAPI     *string `json:"openapi"`
	MaxLevel    *string `json:"max_level"`
}

// patch converts the request.
func (req servicePatchRequest) patch() (ServicePatch, error) {
	p := ServicePatch{Title: req.Title, Description: req.Description, Backend: req.Backend, OpenAPI: req.OpenAPI}
	if req.MaxLevel != nil {
		l, err := parseLevel("max_level", *req.MaxLevel)
		if err != nil {
			return p, err
		}
		p.MaxLevel = &l
	}
	return p, nil
}

func (h *Handler) apiUpdateService(w http.ResponseWriter, r *http.Request) {
	id, err := pathService(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var req servicePatchRequest
	if !decode(h, w, r, &req) {
		return
	}
	p, err := req.patch()
	var s exchange.Service
	if err == nil {
		s, err = h.reg.UpdateService(r.Context(), id, p)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, s)
}

func (h *Handler) apiDeleteService(w http.ResponseWriter, r *http.Request) {
	id, err := pathService(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if !h.editable(w, r) {
		return
	}
	if err := h.reg.DeleteService(r.Context(), id); err != nil {
		web.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) apiSubsystems(w http.ResponseWriter, r *http.Request) {
	conf, err := h.conf()
	if err != nil {
		web.Error(w, r, err)
		return
	}
	member := r.URL.Query().Get("member")
	var out []exchange.Subsystem
	for _, s := range conf.Subsystems {
		if member == "" || s.ID.Member == member {
			out = append(out, s)
		}
	}
	web.JSON(w, r, http.StatusOK, web.NewList(out, ""))
}

// subsystemRequest is the body of POST /api/v1/exchange/subsystems.
type subsystemRequest struct {
	Member    string `json:"member"`
	Code      string `json:"code"`
	Title     string `json:"title"`
	Clearance string `json:"clearance"`
}

// newSubsystem converts the request.
func (req subsystemRequest) newSubsystem() (NewSubsystem, error) {
	l, err := parseLevel("clearance", req.Clearance)
	return NewSubsystem{Member: req.Member, Code: req.Code, Title: req.Title, Clearance: l}, err
}

func (h *Handler) apiCreateSubsystem(w http.ResponseWriter, r *http.Request) {
	var req subsystemRequest
	if !decode(h, w, r, &req) {
		return
	}
	in, err := req.newSubsystem()
	var s exchange.Subsystem
	if err == nil {
		s, err = h.reg.CreateSubsystem(r.Context(), in)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusCreated, s)
}

func (h *Handler) apiRights(w http.ResponseWriter, r *http.Request) {
	if !h.editable(w, r) {
		return
	}
	id, err := exchange.ParseServiceID(r.URL.Query().Get("service"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	grants, err := h.reg.Rights(r.Context(), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(grants, ""))
}

// rightRequest is the body of POST and DELETE /api/v1/exchange/rights.
type rightRequest struct {
	Service string `json:"service"`
	Client  string `json:"client"`
}

// parse converts the request.
func (req rightRequest) parse() (exchange.ServiceID, exchange.ClientID, error) {
	service, err := exchange.ParseServiceID(strings.TrimSpace(req.Service))
	if err != nil {
		return service, exchange.ClientID{}, renameField(err, "service")
	}
	client, err := exchange.ParseClientID(strings.TrimSpace(req.Client))
	return service, client, renameField(err, "client")
}

func (h *Handler) apiGrant(w http.ResponseWriter, r *http.Request) {
	var req rightRequest
	if !decode(h, w, r, &req) {
		return
	}
	service, client, err := req.parse()
	var g Grant
	if err == nil {
		g, err = h.reg.Grant(r.Context(), service, client)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusCreated, g)
}

func (h *Handler) apiRevoke(w http.ResponseWriter, r *http.Request) {
	var req rightRequest
	if !decode(h, w, r, &req) {
		return
	}
	service, client, err := req.parse()
	if err == nil {
		err = h.reg.Revoke(r.Context(), service, client)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// nodeJSON is a node of the configuration with its revocation, if any.
type nodeJSON struct {
	exchange.NodeInfo
	Revoked       time.Time `json:"revoked,omitzero"`
	RevokedReason string    `json:"revoked_reason,omitempty"`
}

// confNodes lists conf's nodes, headquarters first.
func confNodes(conf *exchange.GlobalConf) []nodeJSON {
	out := make([]nodeJSON, 0, len(conf.Nodes))
	for _, n := range conf.Nodes {
		j := nodeJSON{NodeInfo: n}
		if rev, ok := conf.Revocation(n.ID); ok {
			j.Revoked, j.RevokedReason = rev.At, rev.Reason
		}
		out = append(out, j)
	}
	slices.SortStableFunc(out, func(a, b nodeJSON) int {
		return boolRank(b.Role == exchange.RoleHQ) - boolRank(a.Role == exchange.RoleHQ)
	})
	return out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (h *Handler) apiNodes(w http.ResponseWriter, r *http.Request) {
	conf, err := h.conf()
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(confNodes(conf), ""))
}

// revokeRequest is the body of POST /api/v1/exchange/nodes/{id}/revoke.
type revokeRequest struct {
	Reason string `json:"reason"`
}

func (h *Handler) apiRevokeNode(w http.ResponseWriter, r *http.Request) {
	var req revokeRequest
	if !decode(h, w, r, &req) {
		return
	}
	id := r.PathValue("id")
	if err := h.reg.RevokeNode(r.Context(), id, req.Reason); err != nil {
		web.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// enrolmentRequest is the body of POST /api/v1/exchange/enrolments.
type enrolmentRequest struct {
	Member string `json:"member"`
}

// issuedEnrolment is a token as handed out, once, with the command that
// uses it.
type issuedEnrolment struct {
	Member  string    `json:"member"`
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	Command string    `json:"command"`
}

// issue issues a token for member.
func (h *Handler) issue(r *http.Request, member string) (issuedEnrolment, error) {
	token, expires, err := h.reg.IssueEnrolment(r.Context(), member)
	if err != nil {
		return issuedEnrolment{}, err
	}
	join := h.opts.JoinURL
	if join == "" {
		scheme := "http"
		if web.IsHTTPS(r) {
			scheme = "https"
		}
		join = scheme + "://" + r.Host
	}
	return issuedEnrolment{Member: member, Token: token, Expires: expires,
		Command: "chancery serve --role mission --join " + join + " --token " + token}, nil
}

func (h *Handler) apiIssueEnrolment(w http.ResponseWriter, r *http.Request) {
	var req enrolmentRequest
	if !decode(h, w, r, &req) {
		return
	}
	out, err := h.issue(r, req.Member)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusCreated, out)
}

// apiEnrol takes an enrolment in the wire format of exchange.Enrol, the
// mission's side: exchange.EnrolRequest, answered with
// exchange.EnrolResponse, whose conf is the signed configuration as raw
// JSON. Re-encoding it keeps its bytes, which the signature covers: it was
// written by encoding/json, compact and with HTML characters escaped,
// which is what the response encoder makes of it again.
func (h *Handler) apiEnrol(w http.ResponseWriter, r *http.Request) {
	var req exchange.EnrolRequest
	if !decode(h, w, r, &req) {
		return
	}
	res, err := h.reg.Enrol(r.Context(), req.Token, EnrolRequest{SigningKey: req.SigningKey, EncryptionKey: req.EncryptionKey})
	switch {
	case errors.Is(err, ErrEnrolmentExpired):
		web.Error(w, r, web.WithCode(err, "enrolment_expired"))
	case errors.Is(err, ErrEnrolmentUnknown):
		web.Error(w, r, web.WithCode(err, "enrolment_unknown"))
	case errors.Is(err, ErrEnrolmentUsed):
		web.Error(w, r, web.WithCode(err, "enrolment_used"))
	case err != nil:
		web.Error(w, r, err)
	default:
		if res.LeafURLs == nil {
			res.LeafURLs = []string{}
		}
		web.JSON(w, r, http.StatusOK, exchange.EnrolResponse{NodeID: res.NodeID, Conf: res.SignedConf, LeafURLs: res.LeafURLs,
			LeafUser: res.LeafUser, LeafPassword: res.LeafPassword})
	}
}
