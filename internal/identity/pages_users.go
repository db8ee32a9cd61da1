package identity

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/web"
)

// userRow is a staff member as lists show them.
type userRow struct {
	ID             int64
	Username       string
	FullName       string
	Email          string
	Unit           *unitRow
	RolesLabel     string
	ClearanceLabel string
	Disabled       bool
}

func newUserRow(p web.Page, m StaffMember, units map[int64]Unit) userRow {
	row := userRow{ID: m.ID, Username: m.Username, FullName: m.FullName, Email: m.Email,
		ClearanceLabel: p.T("identity.level." + m.Clearance.String()), Disabled: m.Disabled}
	var roles []string
	for _, role := range m.Roles.List() {
		roles = append(roles, p.T("identity.role."+role.String()))
	}
	row.RolesLabel = strings.Join(roles, ", ")
	if u, ok := units[m.UnitID]; ok {
		ur := newUnitRow(p, u)
		row.Unit = &ur
	}
	return row
}

// unitsByID loads every unit, for showing staff members' units by code.
func (h *Handler) unitsByID(r *http.Request) ([]Unit, map[int64]Unit, error) {
	units, err := h.svc.AllUnits(r.Context())
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[int64]Unit, len(units))
	for _, u := range units {
		byID[u.ID] = u
	}
	return units, byID, nil
}

// userListData is the view of /console/users.
type userListData struct {
	Filter  []web.Field
	Problem web.Refusal
	Rows    []userRow
	Pager   web.Pager
}

func (h *Handler) pageUsers(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "identity.users.title")
	units, byID, err := h.unitsByID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var data userListData
	var staff []StaffMember
	var next int64
	f, err := staffFilterFrom(r)
	if err == nil {
		staff, next, err = h.svc.ListStaff(r.Context(), f)
	}
	prob, status, ok := web.ListError(w, r, err, func(err error) (web.Refusal, bool) { return explain(p, err) })
	if !ok {
		return
	}
	data.Problem = prob
	q := r.URL.Query()
	if q.Get("include_disabled") != "" {
		q.Set("include_disabled", "true")
	}
	fm := web.NewForm(p, "filter-", q, data.Problem)
	roles := append([]web.Option{{Value: "", Label: p.T("identity.any")}}, roleOptions(p)...)
	data.Filter = []web.Field{
		fm.Field("q", "search", "identity.search", false),
		fm.Choice("unit", "select", "identity.user.unit", false, unitOptions(p, units, 0, true)),
		fm.Choice("role", "select", "identity.user.role", false, roles),
		fm.Checkbox("include_disabled", "identity.user.include_disabled"),
	}
	data.Problem = fm.Message()
	for _, m := range staff {
		data.Rows = append(data.Rows, newUserRow(p, m, byID))
	}
	data.Pager = web.NewPager(p, r, web.NextID(next), len(data.Rows), web.PagerOffset(r))
	h.pages.Render(w, r, status, "user_list", web.View[userListData]{Page: p, Data: data})
}

func (h *Handler) pageNewUser(w http.ResponseWriter, r *http.Request) {
	h.showNewUser(w, r, http.StatusOK, url.Values{"clearance": {authz.Unclassified.String()}}, web.Refusal{})
}

func (h *Handler) showNewUser(w http.ResponseWriter, r *http.Request, status int, values url.Values, prob web.Refusal) {
	h.showNewForm(w, r, status, "identity.users.new", "user_new", values, prob, func(p web.Page, fm *web.Form, units []Unit) []web.Field {
		return []web.Field{
			fm.Field("username", "text", "identity.user.username", true),
			fm.Field("full_name", "text", "identity.user.full_name", true),
			fm.Field("email", "email", "identity.user.email", false),
			fm.Choice("unit_id", "select", "identity.user.unit", true, unitOptions(p, units, 0, false)),
			fm.Choice("roles", "checkboxes", "identity.user.roles", false, roleOptions(p)),
			fm.Choice("clearance", "select", "identity.user.clearance", true, levelOptions(p)),
		}
	})
}

// passwordData is the view that hands over a one-time password, once.
type passwordData struct {
	ID       int64
	Username string
	FullName string
	Password string
	Created  bool // a new account, rather than a reset
	// Proposal is the grant filed for a security officer's approval when
	// the new account asked for a clearance or a guarded role.
	Proposal *proposalRow
}

func (h *Handler) postNewUser(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "identity.users.new")
	out, err := func() (createdUser, error) {
		if err := parseForm(r); err != nil {
			return createdUser{}, err
		}
		unit, err := formID(r, "unit_id")
		if err != nil {
			return createdUser{}, err
		}
		return h.createUser(r.Context(), actor(r), userRequest{
			Username: r.PostFormValue("username"), FullName: r.PostFormValue("full_name"), Email: r.PostFormValue("email"),
			UnitID: unit, Roles: r.PostForm["roles"], Clearance: r.PostFormValue("clearance"),
		})
	}()
	if err != nil {
		formError(w, r, p, err, func(prob web.Refusal) { h.showNewUser(w, r, prob.Status, r.PostForm, prob) })
		return
	}
	// The password cannot travel in a redirect; it is shown on this
	// answer and never again.
	p.Title = p.T("identity.users.created")
	h.pages.Render(w, r, http.StatusCreated, "user_password", web.View[passwordData]{Page: p, Data: passwordData{
		ID: out.User.ID, Username: out.User.Username, FullName: out.User.FullName, Password: out.OneTimePassword, Created: true,
		Proposal: newProposalRowPtr(p, out.Proposal)}})
}

// membershipRow is one line of a staff member's unit history.
type membershipRow struct {
	Unit   *unitRow
	From   time.Time
	To     time.Time
	Reason string
}

// userDetailData is the view of /console/users/{id}.
type userDetailData struct {
	Member      StaffMember
	Row         userRow
	Memberships []membershipRow
	Edit        []web.Field
	EditProblem web.Refusal
	// Pending is the grant waiting for a security officer, if any.
	Pending *proposalRow
}

// staffValues are a staff member's stored fields as form values.
func staffValues(m StaffMember) url.Values {
	v := url.Values{"full_name": {m.FullName}, "email": {m.Email}, "unit_id": {idString(m.UnitID)},
		"roles": m.Roles.Names(), "clearance": {m.Clearance.String()}, "version": {strconv.Itoa(m.Version)}}
	if m.Disabled {
		v.Set("disabled", "true")
	}
	return v
}

func (h *Handler) pageUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.showUser(w, r, id, http.StatusOK, nil, web.Refusal{})
}

// showUser draws the staff member's page; values and prob, when given,
// are a refused edit to show again.
func (h *Handler) showUser(w http.ResponseWriter, r *http.Request, id int64, status int, values url.Values, prob web.Refusal) {
	ctx := r.Context()
	m, err := h.svc.Staff(ctx, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	ms, err := h.svc.Memberships(ctx, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	units, byID, err := h.unitsByID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "identity.users.title")
	p.Title = m.FullName + " (" + m.Username + ")"
	data := userDetailData{Member: m, Row: newUserRow(p, m, byID)}
	pending, _, err := h.svc.ListProposals(ctx, ProposalFilter{Status: ProposalPending, StaffID: id, Limit: 1})
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if len(pending) > 0 {
		row := newProposalRow(p, pending[0])
		data.Pending = &row
	}
	for _, x := range ms {
		row := membershipRow{From: x.ValidFrom, To: x.ValidTo, Reason: x.Reason}
		if u, ok := byID[x.UnitID]; ok {
			ur := newUnitRow(p, u)
			row.Unit = &ur
		}
		data.Memberships = append(data.Memberships, row)
	}
	if values == nil {
		values = staffValues(m)
	} else if values.Get("disabled") != "" {
		values.Set("disabled", "true")
	}
	fm := web.NewForm(p, "edit-", values, prob)
	data.Edit = []web.Field{
		fm.Field("full_name", "text", "identity.user.full_name", true),
		fm.Field("email", "email", "identity.user.email", false),
		fm.Choice("unit_id", "select", "identity.user.unit", true, unitOptions(p, units, 0, false)),
		fm.Choice("roles", "checkboxes", "identity.user.roles", false, roleOptions(p)),
		fm.Choice("clearance", "select", "identity.user.clearance", true, levelOptions(p)),
		fm.Checkbox("disabled", "identity.user.disabled"),
		fm.Field("version", "hidden", "identity.version", false),
	}
	data.EditProblem = fm.Message()
	h.pages.Render(w, r, status, "user_detail", web.View[userDetailData]{Page: p, Data: data})
}

func (h *Handler) postUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "identity.users.title")
	proposal, err := func() (*Proposal, error) {
		if err := parseForm(r); err != nil {
			return nil, err
		}
		version, err := formVersion(r)
		if err != nil {
			return nil, err
		}
		unit, err := formID(r, "unit_id")
		if err != nil {
			return nil, err
		}
		roles := r.PostForm["roles"]
		clearance := r.PostFormValue("clearance")
		disabled := r.PostFormValue("disabled") != ""
		patch, err := userPatchRequest{FullName: formString(r, "full_name"), Email: formString(r, "email"),
			UnitID: &unit, Roles: &roles, Clearance: &clearance, Disabled: &disabled, Version: version}.patch()
		if err != nil {
			return nil, err
		}
		_, proposal, err := updateAccount(r.Context(), h.svc, h.creds, actor(r), id, patch)
		return proposal, err
	}()
	if err != nil {
		formError(w, r, p, err, func(prob web.Refusal) { h.showUser(w, r, id, prob.Status, r.PostForm, prob) })
		return
	}
	flash := "identity.flash.user_saved"
	if proposal != nil {
		flash = "identity.flash.user_saved_proposed"
	}
	web.RedirectWithFlash(w, r, fmt.Sprintf("/console/users/%d", id), flash)
}

func (h *Handler) postResetPassword(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	m, otp, err := resetPassword(r.Context(), h.svc, h.creds, web.SubjectFrom(r.Context()), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "identity.users.password_reset")
	h.pages.Render(w, r, http.StatusOK, "user_password", web.View[passwordData]{Page: p, Data: passwordData{
		ID: m.ID, Username: m.Username, FullName: m.FullName, Password: otp}})
}
