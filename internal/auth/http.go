package auth

import (
	"embed"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// SessionCookie names the cookie that carries a browser's session token.
const SessionCookie = "chancery_session"

// Principal returns the principal of r's credential, for
// web.Authenticate: a bearer token in "Authorization: Bearer <token>"
// (Principal.Bearer is then true) or else the session cookie. A request
// with neither is anonymous. A malformed Authorization header, or a bearer
// token that opens no session, is an errs.ErrUnauthenticated error; an
// unknown or expired cookie is not, so a browser whose session ended sees
// the public pages and the sign-in form rather than an error.
func (s *Service) Principal(r *http.Request) (web.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := bearerToken(h)
		if !ok {
			return web.Principal{}, errBadAuthorization
		}
		p, err := s.Authenticate(r.Context(), token)
		if err != nil {
			return web.Principal{}, err
		}
		p.Bearer, p.CSRF = true, ""
		return p, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return web.Principal{}, nil
	}
	p, err := s.Authenticate(r.Context(), c.Value)
	if errors.Is(err, errs.ErrUnauthenticated) {
		return web.Principal{}, nil
	}
	return p, err
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header value (the scheme is case-insensitive, RFC 9110 §11.1).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// requestToken returns the session token r was authenticated with.
func requestToken(r *http.Request) string {
	if web.PrincipalFrom(r.Context()).Bearer {
		token, _ := bearerToken(r.Header.Get("Authorization"))
		return token
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// setSessionCookies gives the browser the session's token and its new
// anti-forgery token. The session cookie has no expiry of its own: it
// ends with the browser, and the server ends the session when its time is
// up, whatever the browser's clock says.
func setSessionCookies(w http.ResponseWriter, r *http.Request, sess Session) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: sess.Token, Path: "/",
		HttpOnly: true, Secure: web.CookieSecure(r), SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: web.CSRFCookie, Value: sess.CSRF, Path: "/",
		HttpOnly: true, Secure: web.CookieSecure(r), SameSite: http.SameSiteLaxMode})
}

func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: web.CookieSecure(r), SameSite: http.SameSiteLaxMode})
}

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves sign-in: the API's token routes, the console's and the
// portal's sign-in pages, and the optional identity-provider sign-in.
type Handler struct {
	svc   *Service
	shell *web.Shell
	pages *web.Templates
	oidc  *OIDC // nil when no identity provider is configured
}

// NewHandler returns the sign-in handlers, with the page templates parsed
// once; a broken template fails here, at start. oidc may be nil.
func NewHandler(s *Service, shell *web.Shell, oidc *OIDC) (*Handler, error) {
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("auth: parse page templates: %w", err)
	}
	return &Handler{svc: s, shell: shell, pages: pages, oidc: oidc}, nil
}

// citizenStep is the access of a public-site route a citizen reaches part-way
// through sign-in (a forced password change).
var citizenStep = web.Access{Who: authz.Citizen, AnyStage: true}

// accountStep is the access of an API route for whoever holds a session,
// staff or citizen, also part-way through sign-in: signing out and
// changing one's own password.
var accountStep = web.Access{Who: authz.Staff, Citizens: true, AnyStage: true}

// Register adds the sign-in routes to rt and the console's "Account"
// navigation item.
func (h *Handler) Register(rt *web.Router) {
	rt.HandleFunc("POST /api/v1/auth/login", web.Public, h.apiLogin)
	rt.HandleFunc("POST /api/v1/auth/logout", accountStep, h.apiLogout)
	rt.HandleFunc("POST /api/v1/auth/password", accountStep, h.apiChangePassword)
	rt.HandleFunc("GET /api/v1/auth/me", web.SignInStep, h.apiMe)
	rt.HandleFunc("POST /api/v1/auth/totp/enrolment", web.SignInStep, h.apiStartEnrolment)
	rt.HandleFunc("POST /api/v1/auth/totp/confirm", web.SignInStep, h.apiConfirmTOTP)

	rt.HandleFunc("GET /console/login", web.Public, h.consoleLoginPage)
	rt.HandleFunc("POST /console/login", web.Public, h.consoleLogin)
	// Signing out is public so that a browser whose session already ended
	// still gets its cookie cleared rather than an error.
	rt.HandleFunc("POST /console/logout", web.Public, h.logout("/console/login"))
	rt.HandleFunc("GET /console/sign-in/enroll-totp", web.SignInStep, h.enrollPage)
	rt.HandleFunc("POST /console/sign-in/enroll-totp", web.SignInStep, h.enroll)
	rt.HandleFunc("GET /console/sign-in/verify-totp", web.SignInStep, h.verifyPage)
	rt.HandleFunc("POST /console/sign-in/verify-totp", web.SignInStep, h.verify)
	rt.HandleFunc("GET /console/sign-in/change-password", web.SignInStep, h.passwordPage)
	rt.HandleFunc("POST /console/sign-in/change-password", web.SignInStep, h.changePassword)
	rt.HandleFunc("GET /console/account", web.SignedIn, h.staffAccount)
	if h.oidc != nil {
		rt.HandleFunc("GET /console/oidc/login", web.Public, h.oidcLogin)
		rt.HandleFunc("GET /console/oidc/callback", web.Public, h.oidcCallback)
	}

	rt.HandleFunc("GET /account/register", web.Public, h.registerPage)
	rt.HandleFunc("POST /account/register", web.Public, h.register)
	rt.HandleFunc("GET /account/verify", web.Public, h.confirmEmailPage)
	rt.HandleFunc("POST /account/verify", web.Public, h.confirmEmail)
	rt.HandleFunc("GET /account/reset", web.Public, h.resetPage)
	rt.HandleFunc("POST /account/reset", web.Public, h.requestReset)
	rt.HandleFunc("GET /account/reset/confirm", web.Public, h.resetConfirmPage)
	rt.HandleFunc("POST /account/reset/confirm", web.Public, h.resetPassword)
	rt.HandleFunc("GET /account/login", web.Public, h.publicLoginPage)
	rt.HandleFunc("POST /account/login", web.Public, h.publicLogin)
	rt.HandleFunc("POST /account/logout", web.Public, h.logout("/"))
	rt.HandleFunc("GET /account/{$}", web.CitizenOnly, h.citizenAccount)
	rt.HandleFunc("GET /account/password", citizenStep, h.passwordPage)
	rt.HandleFunc("POST /account/password", citizenStep, h.changePassword)

	h.shell.AddNav(web.Console, web.NavItem{Key: "nav.account", Href: "/console/account", Access: web.SignedIn})
}

// loginBody is the body of POST /api/v1/auth/login.
type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
	TOTP     string `json:"totp"`
	// Level is the session's working level; empty: the clearance.
	Level string `json:"level"`
}

// parseLevel parses the working level asked for at sign-in: empty is nil,
// the clearance.
func parseLevel(s string) (*authz.Level, error) {
	if s == "" {
		return nil, nil
	}
	l, err := authz.ParseLevel(s)
	if err != nil {
		return nil, fieldError("level", "auth.error.level_unknown", err.Error())
	}
	return &l, nil
}

// loginResponse answers a successful POST /api/v1/auth/login.
type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Stage     string    `json:"stage"`
}

// apiLogin signs a staff member in and returns a bearer token.
func (h *Handler) apiLogin(w http.ResponseWriter, r *http.Request) {
	var body loginBody
	if err := web.DecodeJSON(r, &body); err != nil {
		web.Error(w, r, err)
		return
	}
	switch {
	case strings.TrimSpace(body.Username) == "":
		web.Error(w, r, errs.Invalid("username", "is required"))
		return
	case body.Password == "":
		web.Error(w, r, errs.Invalid("password", "is required"))
		return
	}
	level, err := parseLevel(body.Level)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	sess, err := h.svc.Login(r.Context(), LoginRequest{Kind: authz.Staff, Username: body.Username, Password: body.Password,
		TOTP: body.TOTP, Address: web.ClientAddr(r), UserAgent: r.UserAgent(), Level: level})
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, loginResponse{Token: sess.Token, ExpiresAt: sess.ExpiresAt, Stage: sess.Stage})
}

// apiError writes err as a problem, telling a rate-limited client when to
// retry.
func (h *Handler) apiError(w http.ResponseWriter, r *http.Request, err error) {
	if t, ok := retryAt(err); ok {
		secs := int(t.Sub(h.svc.clock()).Round(time.Second) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	web.Error(w, r, err)
}

// apiLogout ends the caller's session or token.
func (h *Handler) apiLogout(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.Logout(r.Context(), requestToken(r)); err != nil {
		web.Error(w, r, err)
		return
	}
	if !web.PrincipalFrom(r.Context()).Bearer {
		clearSessionCookie(w, r)
	}
	w.WriteHeader(http.StatusNoContent)
}

// passwordBody is the body of POST /api/v1/auth/password.
type passwordBody struct {
	CurrentPassword string `json:"current_password"`
	Password        string `json:"password"`
}

// apiChangePassword changes the caller's own password. The caller's token
// or session goes on; every other session and token of the account ends.
func (h *Handler) apiChangePassword(w http.ResponseWriter, r *http.Request) {
	var body passwordBody
	if err := web.DecodeJSON(r, &body); err != nil {
		web.Error(w, r, err)
		return
	}
	if err := h.svc.ChangePassword(r.Context(), requestToken(r), body.CurrentPassword, body.Password); err != nil {
		h.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// meResponse answers GET /api/v1/auth/me.
type meResponse struct {
	ID        int64       `json:"id"`
	Username  string      `json:"username"`
	Name      string      `json:"name"`
	UnitID    int64       `json:"unit_id"`
	Roles     []string    `json:"roles"`
	Clearance authz.Level `json:"clearance"`
	// SessionLevel is the level the session works at (≤ Clearance).
	SessionLevel authz.Level `json:"session_level"`
	Stage        string      `json:"stage"`
}

// apiMe describes the signed-in staff member.
func (h *Handler) apiMe(w http.ResponseWriter, r *http.Request) {
	p := web.PrincipalFrom(r.Context())
	web.JSON(w, r, http.StatusOK, meResponse{ID: p.Subject.ID, Username: p.Username, Name: p.Name, UnitID: p.Subject.Unit,
		Roles: p.Subject.Roles.Names(), Clearance: p.Subject.Clearance, SessionLevel: p.Subject.Session, Stage: p.Stage})
}

// enrolmentBody is the body of POST /api/v1/auth/totp/enrolment.
type enrolmentBody struct {
	EnrolmentCode string `json:"enrolment_code"`
}

// enrolmentResponse answers it: the secret, shown this once.
type enrolmentResponse struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

// apiStartEnrolment starts enrolling the caller's second factor with the
// enrolment code an administrator or security officer handed over.
func (h *Handler) apiStartEnrolment(w http.ResponseWriter, r *http.Request) {
	var body enrolmentBody
	if err := web.DecodeJSON(r, &body); err != nil {
		web.Error(w, r, err)
		return
	}
	p := web.PrincipalFrom(r.Context())
	secret, err := h.svc.StartTOTPEnrolment(r.Context(), p.Subject.Kind, p.Subject.ID, body.EnrolmentCode)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, enrolmentResponse{Secret: secret, URI: TOTPURI(p.Username, secret)})
}

// totpBody is the body of POST /api/v1/auth/totp/confirm.
type totpBody struct {
	TOTP string `json:"totp"`
}

// apiConfirmTOTP confirms the enrolment with the first code from the app;
// the caller's sessions waiting for it move on to the full stage.
func (h *Handler) apiConfirmTOTP(w http.ResponseWriter, r *http.Request) {
	var body totpBody
	if err := web.DecodeJSON(r, &body); err != nil {
		web.Error(w, r, err)
		return
	}
	s := web.SubjectFrom(r.Context())
	if err := h.svc.ConfirmTOTP(r.Context(), s.Kind, s.ID, body.TOTP); err != nil {
		web.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
