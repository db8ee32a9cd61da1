package auth

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/printout"
	"chancery/internal/web"
)

// form is a page's form: where it posts, its controls, and a refusal
// that concerns no one field.
type form struct {
	Action  string
	Next    string // a local path to go on to afterwards
	Fields  []web.Field
	Submit  string
	Problem string
}

// setError shows msg beside the field named name, or above the form when
// no field has that name.
func (f *form) setError(name, msg string) {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			f.Fields[i].Error = msg
			return
		}
	}
	f.Problem = msg
}

// explain returns how a form shows err: the status to answer with, the
// field concerned ("" for the whole form) and the message in tr's
// language. It reports false for a server fault, which gets the error
// page instead.
func explain(tr i18n.Localizer, err error) (status int, fieldName, msg string, ok bool) {
	status = web.Status(err)
	if status >= 500 {
		return status, "", "", false
	}
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		// The directory's own messages are English only: the catalogue
		// says the same for the fields these pages have.
		fieldName, msg = fe.Field, fe.Message
		if key := "auth.invalid." + fe.Field; tr.Has(key) {
			msg = tr.T(key)
		}
	}
	var ae *authError
	if errors.As(err, &ae) {
		fieldName, msg = ae.field, tr.T(ae.key)
		if !ae.retry.IsZero() {
			msg = tr.T(ae.key, ae.retry.In(web.MinistryZone()).Format("15:04 02/01/2006"))
		}
	}
	if msg == "" {
		msg = tr.T("error." + strconv.Itoa(status))
	}
	return status, fieldName, msg, true
}

// refuse shows on f why cause (nil: nothing) refused it, and returns the
// status to render the form with. For a server fault it writes the error
// page instead and reports false.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, tr i18n.Localizer, f *form, cause error) (int, bool) {
	if cause == nil {
		return http.StatusOK, true
	}
	status, fieldName, msg, ok := explain(tr, cause)
	if !ok {
		web.Error(w, r, cause)
		return status, false
	}
	f.setError(fieldName, msg)
	if t, ok := retryAt(cause); ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(t.Sub(h.svc.clock())/time.Second))))
	}
	return status, true
}

// steps are the pages of each sign-in stage, per surface.
var steps = map[string]map[string]string{
	web.Console: {
		StageEnrollTOTP:     "/console/sign-in/enroll-totp",
		StageChangePassword: "/console/sign-in/change-password",
		StageVerifyTOTP:     "/console/sign-in/verify-totp",
	},
	web.PublicSite: {
		StageChangePassword: "/account/password",
	},
}

// stageURL returns where a browser goes after a sign-in step that left
// its session at stage: the next step's page, carrying next along, or
// when signed in fully, next itself (a local path) or the surface's home.
func stageURL(surface, stage, next string) string {
	next = web.SafeNext(next, "")
	step, ok := steps[surface][stage]
	if !ok {
		home := "/console/"
		if surface == web.PublicSite {
			home = "/account/"
		}
		return web.SafeNext(next, home)
	}
	if next != "" {
		step += "?next=" + url.QueryEscape(next)
	}
	return step
}

// surfaceOf returns the surface the signed-in principal of r uses.
func surfaceOf(r *http.Request) string {
	if web.SubjectFrom(r.Context()).Kind == authz.Citizen {
		return web.PublicSite
	}
	return web.Console
}

// nextParam returns the request's ?next= (or form field), if it is a local path.
func nextParam(r *http.Request) string { return web.SafeNext(r.FormValue("next"), "") }

// loginView is the sign-in page's view model.
type loginView struct {
	Form    form
	Citizen bool // the public site's form, signing in by e-mail address
	OIDC    bool // offer the identity provider
}

func (h *Handler) consoleLoginPage(w http.ResponseWriter, r *http.Request) {
	h.loginPage(w, r, web.Console)
}

func (h *Handler) publicLoginPage(w http.ResponseWriter, r *http.Request) {
	h.loginPage(w, r, web.PublicSite)
}

func (h *Handler) consoleLogin(w http.ResponseWriter, r *http.Request) { h.login(w, r, web.Console) }

func (h *Handler) publicLogin(w http.ResponseWriter, r *http.Request) { h.login(w, r, web.PublicSite) }

// surfaceKind is who signs in on a surface.
func surfaceKind(surface string) authz.PrincipalKind {
	if surface == web.PublicSite {
		return authz.Citizen
	}
	return authz.Staff
}

// loginPage shows the sign-in form, or sends on a browser already signed
// in on this surface.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, surface string) {
	p := web.PrincipalFrom(r.Context())
	if p.Subject.Kind == surfaceKind(surface) {
		http.Redirect(w, r, stageURL(surface, p.Stage, nextParam(r)), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, surface, "", nil)
}

// login signs in from the form: on success it sets the session cookie and
// sends the browser to the next sign-in step or where it was going; on
// failure it shows the form again with the reason, keeping the username.
func (h *Handler) login(w http.ResponseWriter, r *http.Request, surface string) {
	username, password := r.PostFormValue("username"), r.PostFormValue("password")
	var err error
	switch {
	case username == "":
		err = fieldError("username", "auth.error.required", "is required")
	case password == "":
		err = fieldError("password", "auth.error.required", "is required")
	default:
		var sess Session
		var level *authz.Level
		if level, err = parseLevel(r.PostFormValue("level")); err != nil {
			break
		}
		sess, err = h.svc.Login(r.Context(), LoginRequest{Kind: surfaceKind(surface), Username: username, Password: password,
			TOTP: r.PostFormValue("totp"), Address: web.ClientAddr(r), UserAgent: r.UserAgent(), Level: level})
		if err == nil {
			setSessionCookies(w, r, sess)
			http.Redirect(w, r, stageURL(surface, sess.Stage, nextParam(r)), http.StatusSeeOther)
			return
		}
	}
	h.renderLogin(w, r, surface, username, err)
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, surface, username string, cause error) {
	page := h.shell.Page(r, surface, "auth.login.title")
	citizen := surface == web.PublicSite
	v := loginView{Citizen: citizen, OIDC: !citizen && h.oidc != nil}
	v.Form = form{Action: "/console/login", Next: nextParam(r), Submit: page.T("nav.signin")}
	user := web.Field{ID: "username", Name: "username", Type: "text", Label: page.T("auth.username"), Value: username, Autocomplete: "username", Required: true}
	if citizen {
		v.Form.Action = "/account/login"
		user.Type, user.Label, user.Autocomplete = "email", page.T("auth.email"), "email"
	}
	v.Form.Fields = []web.Field{user, {ID: "password", Name: "password", Type: "password", Label: page.T("auth.password"), Autocomplete: "current-password", Required: true}}
	// Staff may have a second factor, so the console always asks; the
	// public site asks only once the account turns out to need one.
	if !citizen || errors.Is(cause, errTOTPRequired) || errors.Is(cause, errTOTPWrong) {
		code := codeField(page)
		code.Required = false
		if !citizen {
			code.Hint = page.T("auth.totp.hint_login")
		}
		v.Form.Fields = append(v.Form.Fields, code)
	}
	if !citizen {
		v.Form.Fields = append(v.Form.Fields, levelField(page, r.PostFormValue("level")))
	}
	if status, ok := h.refuse(w, r, page.Localizer(), &v.Form, cause); ok {
		h.pages.Render(w, r, status, "login", web.View[loginView]{Page: page, Data: v})
	}
}

// levelField is the control for the session's working level: the
// clearance unless a lower one is chosen, so that what the session
// creates is classified at least at that level.
func levelField(page web.Page, chosen string) web.Field {
	f := web.Field{ID: "level", Name: "level", Type: "select", Label: page.T("auth.level"), Hint: page.T("auth.level.hint"),
		Options: []web.Option{{Value: "", Label: page.T("auth.level.clearance"), Selected: chosen == ""}}}
	for l := authz.Unclassified; l.Valid(); l++ {
		f.Options = append(f.Options, web.Option{Value: l.String(), Label: page.T("identity.level." + l.String()), Selected: chosen == l.String()})
	}
	return f
}

// codeField is the control for an authenticator code.
func codeField(page web.Page) web.Field {
	return web.Field{ID: "totp", Name: "totp", Type: "text", Label: page.T("auth.totp.code"), Autocomplete: "one-time-code", InputMode: "numeric", Required: true}
}

// logout ends the browser's session, clears its cookie and sends it to
// dest.
func (h *Handler) logout(dest string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(SessionCookie); err == nil {
			if err := h.svc.Logout(r.Context(), c.Value); err != nil {
				web.Error(w, r, err)
				return
			}
		}
		clearSessionCookie(w, r)
		http.Redirect(w, r, dest, http.StatusSeeOther)
	}
}

// advance sends the browser on after a sign-in step succeeded: with a
// fresh session (see Service.reissue) to the next step, or where it was
// going. An API client keeps its token, whose stage has moved on.
func (h *Handler) advance(w http.ResponseWriter, r *http.Request) {
	surface := surfaceOf(r)
	token := requestToken(r)
	if web.PrincipalFrom(r.Context()).Bearer {
		p, err := h.svc.Authenticate(r.Context(), token)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		http.Redirect(w, r, stageURL(surface, p.Stage, nextParam(r)), http.StatusSeeOther)
		return
	}
	sess, err := h.svc.reissue(r.Context(), token, web.ClientAddr(r), r.UserAgent())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	setSessionCookies(w, r, sess)
	http.Redirect(w, r, stageURL(surface, sess.Stage, nextParam(r)), http.StatusSeeOther)
}

// enrollView is the TOTP enrolment page's view model. The page has two
// steps: the enrolment code an administrator or security officer handed
// over, which shows the secret this once; then the first code from the
// app, which confirms it.
type enrollView struct {
	Form form
	// Secret is the base32 secret in groups of four, to type into an app;
	// set only in the answer to a good enrolment code.
	Secret string
	// URI is the otpauth link that apps on the same device open; built
	// here from the secret, so safe for an href despite its scheme.
	URI template.URL
	// QR is the otpauth URI as a QR code, for an app on a phone to scan
	// from the screen; set with Secret.
	QR template.HTML
	// Confirming reports the second step: the app's code is asked for.
	Confirming bool
	// Enrolled reports that a second factor is already enabled.
	Enrolled bool
	Continue string // where to go on when Enrolled
}

func (h *Handler) enrollPage(w http.ResponseWriter, r *http.Request) {
	h.renderEnroll(w, r, "", false, nil)
}

// enroll takes a step of the enrolment: with an enrolment code it starts
// it and shows the secret, once; with the app's code it confirms it.
func (h *Handler) enroll(w http.ResponseWriter, r *http.Request) {
	s := web.SubjectFrom(r.Context())
	r.ParseForm() // a body that does not parse holds neither field: a wrong code
	if _, ok := r.PostForm["enrolment_code"]; ok {
		secret, err := h.svc.StartTOTPEnrolment(r.Context(), s.Kind, s.ID, r.PostFormValue("enrolment_code"))
		h.renderEnroll(w, r, secret, err == nil, err)
		return
	}
	if err := h.svc.ConfirmTOTP(r.Context(), s.Kind, s.ID, r.PostFormValue("totp")); err != nil {
		// The secret is not shown again: the app already holds it, or a
		// new enrolment code starts over.
		h.renderEnroll(w, r, "", !errors.Is(err, errNoEnrolment), err)
		return
	}
	h.advance(w, r)
}

// renderEnroll draws the enrolment page: the code step, or with confirming
// the confirmation step, showing secret when it was just issued.
func (h *Handler) renderEnroll(w http.ResponseWriter, r *http.Request, secret string, confirming bool, cause error) {
	p := web.PrincipalFrom(r.Context())
	page := h.shell.Page(r, web.Console, "auth.enroll.title")
	v := enrollView{Continue: stageURL(web.Console, p.Stage, nextParam(r)), Confirming: confirming}
	enrolled, err := h.svc.totpEnabled(r.Context(), p.Subject.Kind, p.Subject.ID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	v.Enrolled = enrolled
	v.Form = form{Action: "/console/sign-in/enroll-totp", Next: nextParam(r), Submit: page.T("auth.enroll.start"),
		Fields: []web.Field{{ID: "enrolment_code", Name: "enrolment_code", Type: "text", Label: page.T("auth.enroll.code"), Autocomplete: "off",
			Required: true, Hint: page.T("auth.enroll.code_hint")}}}
	if confirming {
		v.Form.Submit, v.Form.Fields = page.T("auth.enroll.submit"), []web.Field{codeField(page)}
		if secret != "" {
			uri := TOTPURI(p.Username, secret)
			v.Secret, v.URI = GroupSecret(secret), template.URL(uri)
			if v.QR, err = printout.QRSVG(uri, page.T("auth.enroll.qr")); err != nil {
				web.Error(w, r, err)
				return
			}
		}
	}
	if status, ok := h.refuse(w, r, page.Localizer(), &v.Form, cause); ok {
		h.pages.Render(w, r, status, "enroll_totp", web.View[enrollView]{Page: page, Data: v})
	}
}

// verifyView is the view model of the page that asks for the code after
// signing in through the identity provider.
type verifyView struct{ Form form }

func (h *Handler) verifyPage(w http.ResponseWriter, r *http.Request) { h.renderVerify(w, r, nil) }

func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.verifySessionTOTP(r.Context(), requestToken(r), r.PostFormValue("totp"), web.ClientAddr(r)); err != nil {
		h.renderVerify(w, r, err)
		return
	}
	h.advance(w, r)
}

func (h *Handler) renderVerify(w http.ResponseWriter, r *http.Request, cause error) {
	page := h.shell.Page(r, web.Console, "auth.verify.title")
	v := verifyView{Form: form{Action: "/console/sign-in/verify-totp", Next: nextParam(r), Submit: page.T("auth.verify.submit"),
		Fields: []web.Field{codeField(page)}}}
	if status, ok := h.refuse(w, r, page.Localizer(), &v.Form, cause); ok {
		h.pages.Render(w, r, status, "verify_totp", web.View[verifyView]{Page: page, Data: v})
	}
}

// passwordView is the password change page's view model.
type passwordView struct {
	Form form
	// Forced reports that the session may do nothing else until the
	// one-time password is replaced.
	Forced bool
}

func (h *Handler) passwordPage(w http.ResponseWriter, r *http.Request) { h.renderPassword(w, r, nil) }

// changePassword replaces the signed-in person's password.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) {
	password := r.PostFormValue("password")
	err := fieldError("confirm_password", "auth.error.confirm", "does not match the new password")
	if password == r.PostFormValue("confirm_password") {
		err = h.svc.ChangePassword(r.Context(), requestToken(r), r.PostFormValue("current_password"), password)
	}
	if err != nil {
		h.renderPassword(w, r, err)
		return
	}
	h.advance(w, r)
}

func (h *Handler) renderPassword(w http.ResponseWriter, r *http.Request, cause error) {
	surface := surfaceOf(r)
	page := h.shell.Page(r, surface, "auth.password.title")
	v := passwordView{Forced: page.Principal.Stage == StageChangePassword}
	v.Form = form{Action: "/console/sign-in/change-password", Next: nextParam(r), Submit: page.T("auth.password.submit")}
	if surface == web.PublicSite {
		v.Form.Action = "/account/password"
	}
	v.Form.Fields = newPasswordFields(page, "auth.password.new")
	v.Form.Fields = append([]web.Field{{ID: "current_password", Name: "current_password", Type: "password", Label: page.T("auth.password.current"),
		Autocomplete: "current-password", Required: true}}, v.Form.Fields...)
	if status, ok := h.refuse(w, r, page.Localizer(), &v.Form, cause); ok {
		h.pages.Render(w, r, status, "change_password", web.View[passwordView]{Page: page, Data: v})
	}
}

// newPasswordFields are the controls for choosing a password, the first
// labelled with the catalogue text of labelKey.
func newPasswordFields(page web.Page, labelKey string) []web.Field {
	return []web.Field{
		{ID: "password", Name: "password", Type: "password", Label: page.T(labelKey), Autocomplete: "new-password", Required: true,
			Hint: page.T("auth.password.rules", MinPasswordLen, MaxPasswordLen)},
		{ID: "confirm_password", Name: "confirm_password", Type: "password", Label: page.T("auth.password.confirm"), Autocomplete: "new-password", Required: true},
	}
}

// staffAccountView is the console account page's view model.
type staffAccountView struct {
	Member identity.StaffMember
	// Unit names the member's unit in the page's language; empty when the
	// directory cannot say.
	Unit string
	// RoleKeys and ClearanceKey are catalogue keys of the names.
	RoleKeys     []string
	ClearanceKey string
	TOTP         bool
}

// unitDirectory is implemented by directories that can name a unit, as
// identity.Service does; the account page then shows the unit's name
// rather than its number.
type unitDirectory interface {
	Unit(ctx context.Context, id int64) (identity.Unit, error)
}

// staffAccount shows the signed-in staff member's own account.
func (h *Handler) staffAccount(w http.ResponseWriter, r *http.Request) {
	s := web.SubjectFrom(r.Context())
	m, err := h.svc.dir.Staff(r.Context(), s.ID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	totp, err := h.svc.totpEnabled(r.Context(), authz.Staff, s.ID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	page := h.shell.Page(r, web.Console, "auth.account.title")
	v := staffAccountView{Member: m, ClearanceKey: "identity.level." + m.Clearance.String(), TOTP: totp}
	for _, name := range m.Roles.Names() {
		v.RoleKeys = append(v.RoleKeys, "identity.role."+name)
	}
	if units, ok := h.svc.dir.(unitDirectory); ok {
		u, err := units.Unit(r.Context(), m.UnitID)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		v.Unit = u.NameVI
		if page.Lang == i18n.EN {
			v.Unit = u.NameEN
		}
	}
	h.pages.Render(w, r, http.StatusOK, "staff_account", web.View[staffAccountView]{Page: page, Data: v})
}

// citizenAccount shows the signed-in citizen's own account.
func (h *Handler) citizenAccount(w http.ResponseWriter, r *http.Request) {
	c, err := h.svc.dir.Citizen(r.Context(), web.SubjectFrom(r.Context()).ID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	page := h.shell.Page(r, web.PublicSite, "auth.account.title")
	h.pages.Render(w, r, http.StatusOK, "citizen_account", web.View[identity.Citizen]{Page: page, Data: c})
}

// registerView is the public site registration page's view model.
type registerView struct{ Form form }

func (h *Handler) registerPage(w http.ResponseWriter, r *http.Request) {
	if web.SubjectFrom(r.Context()).Kind == authz.Citizen {
		http.Redirect(w, r, "/account/", http.StatusSeeOther)
		return
	}
	h.renderRegister(w, r, nil)
}

// register checks the form and mails the address a link to confirm it
// (or, when it has an account, a notice saying so), then says so in
// words that are the same either way.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	password := r.PostFormValue("password")
	if password != r.PostFormValue("confirm_password") {
		h.renderRegister(w, r, fieldError("confirm_password", "auth.error.confirm", "does not match the password"))
		return
	}
	tr := h.shell.Localizer(r)
	err := h.svc.RegisterCitizen(r.Context(), Registration{Email: r.PostFormValue("email"), FullName: r.PostFormValue("full_name"),
		Phone: r.PostFormValue("phone"), Password: password, Lang: tr.Lang, Address: web.ClientAddr(r)})
	if err != nil {
		h.renderRegister(w, r, err)
		return
	}
	h.notice(w, r, "auth.register.sent_title", noticeView{Text: tr.T("auth.register.sent", r.PostFormValue("email"))})
}

func (h *Handler) renderRegister(w http.ResponseWriter, r *http.Request, cause error) {
	page := h.shell.Page(r, web.PublicSite, "auth.register.title")
	v := registerView{Form: form{Action: "/account/register", Submit: page.T("auth.register.submit")}}
	v.Form.Fields = append([]web.Field{
		{ID: "email", Name: "email", Type: "email", Label: page.T("auth.email"), Value: r.PostFormValue("email"), Autocomplete: "email", Required: true},
		{ID: "full_name", Name: "full_name", Type: "text", Label: page.T("auth.full_name"), Value: r.PostFormValue("full_name"), Autocomplete: "name", Required: true},
		{ID: "phone", Name: "phone", Type: "tel", Label: page.T("auth.phone"), Value: r.PostFormValue("phone"), Autocomplete: "tel",
			Hint: page.T("auth.phone.hint")},
	}, newPasswordFields(page, "auth.password")...)
	if status, ok := h.refuse(w, r, page.Localizer(), &v.Form, cause); ok {
		h.pages.Render(w, r, status, "register", web.View[registerView]{Page: page, Data: v})
	}
}
