package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"chancery/internal/authz"
)

// Principal is the signed-in caller of a request, as the layout and the
// handlers need it.
type Principal struct {
	Subject  authz.Subject
	Username string // staff username or citizen email
	Name     string // display name
	// Stage is "full" for a usable session; "enroll_totp" or
	// "change_password" limit the session to that one step.
	Stage string
	// Token authenticates an API client (Authorization: Bearer); false
	// for browser sessions, which need CSRF tokens. An information
	// system's checked client token (an authz.Client subject) is a bearer
	// too, and the router admits it only on routes for clients.
	Bearer bool
	// CSRF is the anti-forgery token bound to a browser's session, which
	// the CSRF middleware then asks for instead of the cookie's; empty for
	// bearer tokens and anonymous callers.
	CSRF string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the request's principal; the zero Principal (an
// anonymous subject) when nobody is signed in.
func PrincipalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

// SubjectFrom returns the request's authz subject.
func SubjectFrom(ctx context.Context) authz.Subject { return PrincipalFrom(ctx).Subject }

// Access is who may reach a route, before the handler decides about
// individual items with authz.Decide.
type Access struct {
	// Who is the kind of principal required; authz.Anonymous means anyone.
	Who authz.PrincipalKind
	// Action on Kind is what the route's role check asks Decide; ignored
	// unless Checked.
	Kind    authz.Kind
	Action  authz.Action
	Checked bool
	// AnyStage lets a session that is part-way through sign-in (TOTP
	// enrolment, a forced password change) reach the route.
	AnyStage bool
	// Citizens admits signed-in citizens too, on a route for staff: a
	// route both use, whose handler decides what each may see or do.
	Citizens bool
}

// Public is the access of a route anyone may reach.
var Public = Access{Who: authz.Anonymous}

// SignedIn is the access of a route any signed-in staff member may reach.
var SignedIn = Access{Who: authz.Staff}

// SignInStep is the access of a route a staff member reaches part-way
// through sign-in (TOTP enrolment, password change).
var SignInStep = Access{Who: authz.Staff, AnyStage: true}

// CitizenOnly is the access of a public-site route for signed-in citizens.
var CitizenOnly = Access{Who: authz.Citizen}

// Account is the access of a route any signed-in staff member or citizen
// may reach, such as an applicant's and a clerk's view of one dossier.
var Account = Access{Who: authz.Staff, Citizens: true}

// Staff is the access of a route for staff whose roles grant action on
// kind, as authz.Decide says for the kind as a whole.
func Staff(kind authz.Kind, action authz.Action) Access {
	return Access{Who: authz.Staff, Kind: kind, Action: action, Checked: true}
}

// Client is the access of a route for information systems holding an
// exchange client token (authz.Client) whose grants allow action on kind.
// These are the only routes a client token opens: the guard refuses it
// everywhere else, public routes included, so a client's exemption from
// the CSRF check and the general body limit holds on these routes only.
func Client(kind authz.Kind, action authz.Action) Access {
	return Access{Who: authz.Client, Kind: kind, Action: action, Checked: true}
}

// String describes the access for route listings and test messages.
func (a Access) String() string {
	switch {
	case a.Who == authz.Anonymous:
		return "public"
	case a.Who == authz.Citizen:
		return "citizen"
	case a.Who == authz.Client:
		return fmt.Sprintf("client:%s:%s", a.Kind, a.Action)
	case a.Citizens:
		return "account"
	case a.Checked:
		return fmt.Sprintf("staff:%s:%s", a.Kind, a.Action)
	case a.AnyStage:
		return "staff:sign-in-step"
	}
	return "staff"
}

// Route is one registered route.
type Route struct {
	Pattern string // as http.ServeMux takes it: "GET /api/v1/units/{id}"
	Access  Access
}

// Router is an http.ServeMux whose every route states its Access, so a
// test can enumerate the routes and prove each is public by intent or
// checked.
type Router struct {
	mux    *http.ServeMux
	routes []Route
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{mux: http.NewServeMux()} }

// Handle registers h for pattern behind a guard that enforces access.
func (rt *Router) Handle(pattern string, access Access, h http.Handler) {
	rt.routes = append(rt.routes, Route{Pattern: pattern, Access: access})
	rt.mux.Handle(pattern, guard(access, h))
}

// HandleFunc registers f for pattern behind a guard that enforces access.
func (rt *Router) HandleFunc(pattern string, access Access, f http.HandlerFunc) {
	rt.Handle(pattern, access, f)
}

// Routes lists the registered routes, sorted by pattern.
func (rt *Router) Routes() []Route {
	out := append([]Route(nil), rt.routes...)
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
	return out
}

// ServeHTTP dispatches to the registered routes. A request no route
// matches gets a problem document or the error page (with Allow for a
// wrong method), not the mux's plain text. A path, query or url-encoded
// form holding text CheckText refuses is answered 400 before dispatch, so
// no handler needs to check its path values for NUL and the like.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := checkRequestText(r); err != nil {
		Error(w, r, err)
		return
	}
	h, pattern := rt.mux.Handler(r)
	if p, ok := r.Context().Value(routeKey{}).(*string); ok {
		*p = pattern
	}
	if pattern != "" {
		rt.mux.ServeHTTP(w, r)
		return
	}
	// The mux's own handler knows whether this is a 404, a 405 (and the
	// Allow header) or a redirect to a cleaned path; keep its headers and
	// status, replace its body.
	h.ServeHTTP(&unmatchedWriter{ResponseWriter: w, r: r}, r)
}

type unmatchedWriter struct {
	http.ResponseWriter
	r        *http.Request
	written  bool
	replaced bool // the mux's body is dropped: a problem was written instead
}

func (u *unmatchedWriter) WriteHeader(code int) {
	if u.written {
		return
	}
	u.written = true
	if code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		u.ResponseWriter.WriteHeader(code)
		return
	}
	u.replaced = true
	u.Header().Del("Content-Type")
	if code == http.StatusNotFound {
		Error(u.ResponseWriter, u.r, errNoRoute)
		return
	}
	Error(u.ResponseWriter, u.r, fmt.Errorf("%w: %s is not allowed here; allowed: %s", errMethod, u.r.Method, u.Header().Get("Allow")))
}

func (u *unmatchedWriter) Write(b []byte) (int, error) {
	if !u.written {
		u.WriteHeader(http.StatusOK)
	}
	if u.replaced {
		return len(b), nil
	}
	return u.ResponseWriter.Write(b)
}

// guard enforces a route's Access: anonymous callers are sent to sign in
// (pages) or answered 401 (API); the wrong kind of principal, or a staff
// member no role of whom grants the route's action, is refused. An
// information system's client token opens the routes for clients only.
// wrongPrincipal is the refusal of a caller of the wrong kind: a client
// token on a route for people, staff on a citizen's route, and so on.
var wrongPrincipal = Denial{Decision: authz.Denied, Reason: authz.ReasonWrongPrincipal, Code: "wrong_account_kind"}

func guard(a Access, h http.Handler) http.Handler {
	if a.Who == authz.Anonymous {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if SubjectFrom(r.Context()).Kind == authz.Client {
				noteDenial(r, wrongPrincipal)
				Error(w, r, errWrongPrincipal)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := PrincipalFrom(r.Context())
		s := p.Subject
		switch {
		case !s.Authenticated() && a.Who == authz.Client:
			Error(w, r, errClientUnauthenticated)
			return
		case !s.Authenticated():
			if !IsAPI(r) && r.Method == http.MethodGet {
				login := "/console/login"
				if a.Who == authz.Citizen {
					login = "/account/login"
				}
				http.Redirect(w, r, login+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			Error(w, r, errUnauthenticated)
			return
		case s.Kind != a.Who && !(a.Citizens && s.Kind == authz.Citizen):
			noteDenial(r, wrongPrincipal)
			Error(w, r, errWrongPrincipal)
			return
		case p.Stage != "" && p.Stage != "full" && !a.AnyStage:
			if !IsAPI(r) && r.Method == http.MethodGet {
				http.Redirect(w, r, signInStepPath(p), http.StatusSeeOther)
				return
			}
			noteDenial(r, Denial{Decision: authz.Denied, Reason: authz.ReasonSignInIncomplete, Code: "sign_in_incomplete"})
			Error(w, r, errSignInIncomplete)
			return
		}
		if a.Checked {
			if d, reason := authz.Decide(s, a.Action, KindAsAWhole(s, a.Kind)); d != authz.Allowed {
				noteDenial(r, Denial{Decision: d, Reason: reason, Kind: a.Kind.String(), Action: a.Action.String(), Code: "no_role"})
				Error(w, r, errNoRole)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// KindAsAWhole is the resource a route's check asks about: an item of
// kind at the level the subject's session works at. No item's level is
// known before the handler loads it; at level 0 the no-write-down rule
// would refuse a session working at a clearance every write to a
// classified kind (every draft a cleared officer starts), while at the
// session's own level only the roles decide, and the service then decides
// on the item itself.
func KindAsAWhole(s authz.Subject, kind authz.Kind) authz.Resource {
	return authz.Resource{Kind: kind, Level: s.Session}
}

// signInStepPath is the page where p finishes signing in: citizens have
// only a password change; staff have one page per stage.
func signInStepPath(p Principal) string {
	if p.Subject.Kind == authz.Citizen {
		return "/account/password"
	}
	return "/console/sign-in/" + strings.ReplaceAll(p.Stage, "_", "-")
}
