package identity

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// Credentials is what the directory's handlers need from internal/auth,
// which owns passwords and sessions.
type Credentials interface {
	// IssueOneTimePassword sets a new random password that must be changed
	// at the next sign-in, and returns it to be handed over once.
	IssueOneTimePassword(ctx context.Context, kind authz.PrincipalKind, id int64) (string, error)
	// IssueEnrolmentCode issues a one-time code, valid until the time
	// returned, with which the principal enrols a second factor; it is
	// handed over out of band, once.
	IssueEnrolmentCode(ctx context.Context, kind authz.PrincipalKind, id int64) (string, time.Time, error)
	// RevokeSessions ends every session and API token of the principal.
	RevokeSessions(ctx context.Context, kind authz.PrincipalKind, id int64) error
}

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves the directory's JSON API and console pages.
type Handler struct {
	svc   *Service
	creds Credentials
	shell *web.Shell
	pages *web.Templates
}

// NewHandler returns the directory's handlers, with the page templates
// parsed once; a broken template fails here, at start.
func NewHandler(svc *Service, creds Credentials, shell *web.Shell) (*Handler, error) {
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("identity: parse page templates: %w", err)
	}
	return &Handler{svc: svc, creds: creds, shell: shell, pages: pages}, nil
}

// Register adds the directory's API routes and pages to rt, and the
// console's "Units" and "Staff" navigation items.
func (h *Handler) Register(rt *web.Router) {
	var (
		unitRead   = web.Staff(authz.KindUnit, authz.Read)
		unitCreate = web.Staff(authz.KindUnit, authz.Create)
		unitUpdate = web.Staff(authz.KindUnit, authz.Update)
		unitAdmin  = web.Staff(authz.KindUnit, authz.Administer)
		userRead   = web.Staff(authz.KindStaff, authz.Read)
		userCreate = web.Staff(authz.KindStaff, authz.Create)
		userUpdate = web.Staff(authz.KindStaff, authz.Update)
		userAdmin  = web.Staff(authz.KindStaff, authz.Administer)
		// Handlers also refuse a caller's own account (mayVouch).
		credIssue = web.Staff(authz.KindCredential, authz.Create)
		credLink  = web.Staff(authz.KindCredential, authz.Update)
	)
	rt.HandleFunc("GET /api/v1/units", unitRead, h.apiListUnits)
	rt.HandleFunc("POST /api/v1/units", unitCreate, h.apiCreateUnit)
	rt.HandleFunc("GET /api/v1/units/{id}", unitRead, h.apiUnit)
	rt.HandleFunc("PATCH /api/v1/units/{id}", unitUpdate, h.apiUpdateUnit)
	rt.HandleFunc("POST /api/v1/units/{id}/merge", unitAdmin, h.apiMergeUnit)
	rt.HandleFunc("POST /api/v1/units/{id}/move", unitAdmin, h.apiMoveUnit)
	rt.HandleFunc("GET /api/v1/units/{id}/history", unitRead, h.apiUnitHistory)
	rt.HandleFunc("GET /api/v1/users", userRead, h.apiListUsers)
	rt.HandleFunc("POST /api/v1/users", userCreate, h.apiCreateUser)
	rt.HandleFunc("GET /api/v1/users/{id}", userRead, h.apiUser)
	rt.HandleFunc("PATCH /api/v1/users/{id}", userUpdate, h.apiUpdateUser)
	rt.HandleFunc("POST /api/v1/users/{id}/password", userAdmin, h.apiResetPassword)
	rt.HandleFunc("POST /api/v1/users/{id}/enrolment-code", credIssue, h.apiEnrolmentCode)
	rt.HandleFunc("PUT /api/v1/users/{id}/oidc", credLink, h.apiLinkOIDC)
	rt.HandleFunc("DELETE /api/v1/users/{id}/oidc", credLink, h.apiUnlinkOIDC)
	h.registerProposals(rt)

	rt.HandleFunc("GET /console/units", unitRead, h.pageUnits)
	rt.HandleFunc("GET /console/units/new", unitCreate, h.pageNewUnit)
	rt.HandleFunc("POST /console/units", unitCreate, h.postNewUnit)
	rt.HandleFunc("GET /console/units/{id}", unitRead, h.pageUnit)
	rt.HandleFunc("POST /console/units/{id}", unitUpdate, h.postUnit)
	rt.HandleFunc("POST /console/units/{id}/merge", unitAdmin, h.postMergeUnit)
	rt.HandleFunc("POST /console/units/{id}/move", unitAdmin, h.postMoveUnit)
	rt.HandleFunc("GET /console/users", userRead, h.pageUsers)
	rt.HandleFunc("GET /console/users/new", userCreate, h.pageNewUser)
	rt.HandleFunc("POST /console/users", userCreate, h.postNewUser)
	rt.HandleFunc("GET /console/users/{id}", userRead, h.pageUser)
	rt.HandleFunc("POST /console/users/{id}", userUpdate, h.postUser)
	rt.HandleFunc("POST /console/users/{id}/password", userAdmin, h.postResetPassword)
	rt.HandleFunc("POST /console/users/{id}/enrolment-code", credIssue, h.postEnrolmentCode)

	h.shell.AddNav(web.Console, web.NavItem{Key: "nav.units", Href: "/console/units", Access: unitRead})
	h.shell.AddNav(web.Console, web.NavItem{Key: "nav.users", Href: "/console/users", Access: userRead})
}

// actor names the signed-in caller in the history.
func actor(r *http.Request) string { return web.PrincipalFrom(r.Context()).Username }

// pathID parses the {id} of the request path.
func pathID(r *http.Request) (int64, error) { return web.ParseID("id", r.PathValue("id")) }

// parseDate parses an effective date, a day in the ministry's zone; empty
// is zero (today).
func parseDate(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, web.MinistryZone())
	if err != nil {
		return time.Time{}, errs.Invalid(field, "must be a date written YYYY-MM-DD")
	}
	return t, nil
}

// unitFilterFrom reads a UnitFilter from query parameters kind, parent,
// status, q, after and limit.
func unitFilterFrom(r *http.Request) (UnitFilter, error) {
	q := r.URL.Query()
	f := UnitFilter{Kind: UnitKind(q.Get("kind")), Status: q.Get("status"), Query: q.Get("q")}
	var err error
	if f.ParentID, err = web.OptionalID("parent", q.Get("parent")); err != nil {
		return f, err
	}
	if f.After, err = web.OptionalID("after", q.Get("after")); err != nil {
		return f, err
	}
	f.Limit, err = web.OptionalInt("limit", q.Get("limit"))
	return f, err
}

func (h *Handler) apiListUnits(w http.ResponseWriter, r *http.Request) {
	f, err := unitFilterFrom(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	units, next, err := h.svc.ListUnits(r.Context(), f)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(units, web.NextID(next)))
}

// unitRequest is the body of POST /api/v1/units.
type unitRequest struct {
	Code     string   `json:"code"`
	NameVI   string   `json:"name_vi"`
	NameEN   string   `json:"name_en"`
	Kind     UnitKind `json:"kind"`
	ParentID int64    `json:"parent_id"`
	Country  string   `json:"country"`
	TimeZone string   `json:"time_zone"`
}

func (h *Handler) apiCreateUnit(w http.ResponseWriter, r *http.Request) {
	var req unitRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	u, err := h.svc.CreateUnit(r.Context(), actor(r), NewUnit(req))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/units/%d", u.ID))
	web.JSON(w, r, http.StatusCreated, u)
}

func (h *Handler) apiUnit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	u, err := h.svc.Unit(r.Context(), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, u)
}

// unitPatchRequest is the body of PATCH /api/v1/units/{id}.
type unitPatchRequest struct {
	NameVI   *string   `json:"name_vi"`
	NameEN   *string   `json:"name_en"`
	Kind     *UnitKind `json:"kind"`
	Country  *string   `json:"country"`
	TimeZone *string   `json:"time_zone"`
	Version  int       `json:"version"`
}

func (h *Handler) apiUpdateUnit(w http.ResponseWriter, r *http.Request) {
	withIDAndBody(w, r, func(id int64, req unitPatchRequest) (Unit, error) {
		return h.svc.UpdateUnit(r.Context(), actor(r), id, UnitPatch(req))
	})
}

// mergeRequest is the body of POST /api/v1/units/{id}/merge.
type mergeRequest struct {
	Into      int64  `json:"into"`
	Effective string `json:"effective"`
}

func (h *Handler) apiMergeUnit(w http.ResponseWriter, r *http.Request) {
	withIDAndBody(w, r, func(id int64, req mergeRequest) (Unit, error) {
		effective, err := parseDate("effective", req.Effective)
		if err != nil {
			return Unit{}, err
		}
		return h.svc.MergeUnits(r.Context(), actor(r), id, req.Into, effective)
	})
}

// moveRequest is the body of POST /api/v1/units/{id}/move.
type moveRequest struct {
	Parent    int64  `json:"parent"`
	Effective string `json:"effective"`
}

func (h *Handler) apiMoveUnit(w http.ResponseWriter, r *http.Request) {
	withIDAndBody(w, r, func(id int64, req moveRequest) (Unit, error) {
		effective, err := parseDate("effective", req.Effective)
		if err != nil {
			return Unit{}, err
		}
		return h.svc.MoveUnit(r.Context(), actor(r), id, req.Parent, effective)
	})
}

// withIDAndBody serves an API route on one item with a JSON body: it
// parses the path id and the body strictly, runs do, and answers 200 with
// its result or the error as a problem.
func withIDAndBody[Req, Res any](w http.ResponseWriter, r *http.Request, do func(id int64, req Req) (Res, error)) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var req Req
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	res, err := do(id, req)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, res)
}

func (h *Handler) apiUnitHistory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	events, err := h.svc.UnitHistory(r.Context(), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(events, ""))
}

// userJSON is a staff member as the API shows it: roles as a list of
// names, and memberships when one user is asked for.
type userJSON struct {
	StaffMember
	Roles       []string     `json:"roles"`
	Memberships []Membership `json:"memberships,omitempty"`
	// Proposal is the grant a change filed for approval, in the answer to
	// that change.
	Proposal *proposalJSON `json:"proposal,omitempty"`
}

func toUserJSON(m StaffMember) userJSON { return userJSON{StaffMember: m, Roles: m.Roles.Names()} }

// parseRoles parses role names for the field "roles".
func parseRoles(names []string) (authz.Roles, error) {
	roles, err := authz.ParseRoles(names)
	if err != nil {
		return 0, errs.Invalid("roles", err.Error())
	}
	return roles, nil
}

// parseLevel parses a clearance name for the field "clearance"; empty is
// none.
func parseLevel(s string) (authz.Level, error) {
	if s == "" {
		return authz.Unclassified, nil
	}
	l, err := authz.ParseLevel(s)
	if err != nil {
		return 0, errs.Invalid("clearance", err.Error())
	}
	return l, nil
}

// staffFilterFrom reads a StaffFilter from query parameters unit, role,
// q, include_disabled, after and limit.
func staffFilterFrom(r *http.Request) (StaffFilter, error) {
	q := r.URL.Query()
	f := StaffFilter{Query: q.Get("q")}
	var err error
	if f.UnitID, err = web.OptionalID("unit", q.Get("unit")); err != nil {
		return f, err
	}
	if f.Roles, err = parseRoles(q["role"]); err != nil {
		return f, err
	}
	if f.IncludeDisabled, err = web.ParseBool("include_disabled", q.Get("include_disabled")); err != nil {
		return f, err
	}
	if f.After, err = web.OptionalID("after", q.Get("after")); err != nil {
		return f, err
	}
	f.Limit, err = web.OptionalInt("limit", q.Get("limit"))
	return f, err
}

func (h *Handler) apiListUsers(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, staffFilterFrom, h.svc.ListStaff, toUserJSON)
}

// serveList serves a list route: it reads the filter from the query,
// lists a page, and answers with the items as the API shows them.
func serveList[F, T, J any](w http.ResponseWriter, r *http.Request, filter func(*http.Request) (F, error),
	list func(context.Context, F) ([]T, int64, error), show func(T) J) {
	f, err := filter(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	items, next, err := list(r.Context(), f)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	out := make([]J, len(items))
	for i, x := range items {
		out[i] = show(x)
	}
	web.JSON(w, r, http.StatusOK, web.NewList(out, web.NextID(next)))
}

// userRequest is the body of POST /api/v1/users.
type userRequest struct {
	Username  string   `json:"username"`
	FullName  string   `json:"full_name"`
	Email     string   `json:"email"`
	UnitID    int64    `json:"unit_id"`
	Roles     []string `json:"roles"`
	Clearance string   `json:"clearance"`
}

// createdUser is the answer to POST /api/v1/users: the one-time password
// is shown this once and never again.
type createdUser struct {
	User            userJSON `json:"user"`
	OneTimePassword string   `json:"one_time_password"`
	// Proposal holds the clearance and guarded roles asked for, which wait
	// for a security officer's approval; absent when none were asked for.
	Proposal *proposalJSON `json:"proposal,omitempty"`
}

// createUser parses req and creates the account with its first password.
func (h *Handler) createUser(ctx context.Context, actor string, req userRequest) (createdUser, error) {
	in := NewStaff{Username: req.Username, FullName: req.FullName, Email: req.Email, UnitID: req.UnitID}
	var err error
	if in.Roles, err = parseRoles(req.Roles); err != nil {
		return createdUser{}, err
	}
	if in.Clearance, err = parseLevel(req.Clearance); err != nil {
		return createdUser{}, err
	}
	m, proposal, otp, err := createAccount(ctx, h.svc, h.creds, actor, in)
	if err != nil {
		return createdUser{}, err
	}
	return createdUser{User: toUserJSON(m), OneTimePassword: otp, Proposal: toProposalJSONPtr(proposal)}, nil
}

func (h *Handler) apiCreateUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	out, err := h.createUser(r.Context(), actor(r), req)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/users/%d", out.User.ID))
	web.JSON(w, r, http.StatusCreated, out)
}

func (h *Handler) apiUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	m, err := h.svc.Staff(r.Context(), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	ms, err := h.svc.Memberships(r.Context(), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	out := toUserJSON(m)
	out.Memberships = ms
	web.JSON(w, r, http.StatusOK, out)
}

// userPatchRequest is the body of PATCH /api/v1/users/{id}.
type userPatchRequest struct {
	FullName  *string   `json:"full_name"`
	Email     *string   `json:"email"`
	UnitID    *int64    `json:"unit_id"`
	Roles     *[]string `json:"roles"`
	Clearance *string   `json:"clearance"`
	Disabled  *bool     `json:"disabled"`
	Version   int       `json:"version"`
}

// patch converts the request into a StaffPatch.
func (req userPatchRequest) patch() (StaffPatch, error) {
	p := StaffPatch{FullName: req.FullName, Email: req.Email, UnitID: req.UnitID, Disabled: req.Disabled, Version: req.Version}
	if req.Roles != nil {
		roles, err := parseRoles(*req.Roles)
		if err != nil {
			return p, err
		}
		p.Roles = &roles
	}
	if req.Clearance != nil {
		l, err := authz.ParseLevel(*req.Clearance)
		if err != nil {
			return p, errs.Invalid("clearance", err.Error())
		}
		p.Clearance = &l
	}
	return p, nil
}

func (h *Handler) apiUpdateUser(w http.ResponseWriter, r *http.Request) {
	withIDAndBody(w, r, func(id int64, req userPatchRequest) (userJSON, error) {
		p, err := req.patch()
		if err != nil {
			return userJSON{}, err
		}
		m, proposal, err := updateAccount(r.Context(), h.svc, h.creds, actor(r), id, p)
		out := toUserJSON(m)
		out.Proposal = toProposalJSONPtr(proposal)
		return out, err
	})
}

// passwordReset is the answer to POST /api/v1/users/{id}/password.
type passwordReset struct {
	OneTimePassword string `json:"one_time_password"`
}

func (h *Handler) apiResetPassword(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	_, otp, err := resetPassword(r.Context(), h.svc, h.creds, web.SubjectFrom(r.Context()), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, passwordReset{OneTimePassword: otp})
}
