package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"chancery/internal/audit"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/web"
)

// OIDCConfig names the ministry's OpenID Connect identity provider and
// Chancery's registration with it.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is Chancery's /console/oidc/callback as the provider
	// knows it, e.g. "https://chancery.mofa.gov.vn/console/oidc/callback".
	RedirectURL string
}

// OIDC signs staff in through the identity provider: the authorization
// code flow with PKCE, a state and a nonce. It maps the provider's account
// to an existing staff account and never creates one.
type OIDC struct {
	svc      *Service
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	client   *http.Client
}

// oidcTimeout bounds each request to the identity provider, so a provider
// that hangs cannot hold sign-ins open.
const oidcTimeout = 10 * time.Second

// NewOIDC fetches the provider's discovery document and returns the
// sign-in through it for svc. It fails if the configuration is incomplete
// or the provider cannot be reached.
func NewOIDC(ctx context.Context, cfg OIDCConfig, svc *Service) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, fmt.Errorf("auth: OIDC needs an issuer URL, a client id and a redirect URL")
	}
	client := &http.Client{Timeout: oidcTimeout}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: discover the OIDC provider %s (check the issuer URL and that it is reachable): %w", cfg.Issuer, err)
	}
	return &OIDC{
		svc: svc,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}},
		verifier: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		client:   client,
	}, nil
}

// oidcCookie carries a sign-in in flight between /console/oidc/login and
// the callback: only this browser can finish what it started.
const (
	oidcCookie     = "chancery_oidc"
	oidcCookiePath = "/console/oidc/"
	oidcCookieAge  = 10 * time.Minute
)

// oidcFlight is what the browser keeps of a sign-in in flight.
type oidcFlight struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"` // the PKCE code verifier
	Next     string `json:"next,omitempty"`
}

// oidcLogin sends the browser to the identity provider.
func (h *Handler) oidcLogin(w http.ResponseWriter, r *http.Request) {
	f := oidcFlight{State: newToken(), Nonce: newToken(), Verifier: oauth2.GenerateVerifier(), Next: nextParam(r)}
	b, err := json.Marshal(f)
	if err != nil {
		web.Error(w, r, fmt.Errorf("start OIDC sign-in: %w", err))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: oidcCookiePath,
		MaxAge: int(oidcCookieAge / time.Second), HttpOnly: true, Secure: web.CookieSecure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, h.oidc.oauth.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusSeeOther)
}

// oidcCallback finishes the sign-in the provider sends the browser back
// from, and signs the staff member in.
func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: oidcCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: web.CookieSecure(r), SameSite: http.SameSiteLaxMode})
	var f oidcFlight
	c, err := r.Cookie(oidcCookie)
	if err == nil {
		var b []byte
		if b, err = base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			err = json.Unmarshal(b, &f)
		}
	}
	// A sign-in that fails before the provider has said who signed in is
	// recorded on no account.
	failed := func() {
		h.renderLogin(w, r, web.Console, "", h.oidc.svc.oidcRefused(r.Context(), oidcIdentity{}, web.ClientAddr(r), errOIDCFailed))
	}
	if err != nil || f.State == "" || subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("state")), []byte(f.State)) != 1 {
		// No flight, or another one's: a stale tab, or a forged callback.
		failed()
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		web.Logger(r.Context()).Info("identity provider refused sign-in", "error", e, "description", r.URL.Query().Get("error_description"))
		failed()
		return
	}
	id, err := h.oidc.identify(r.Context(), r.URL.Query().Get("code"), f)
	if err != nil {
		web.Logger(r.Context()).Warn("OIDC sign-in failed", "err", err)
		failed()
		return
	}
	sess, err := h.oidc.svc.loginOIDC(r.Context(), id, web.ClientAddr(r), r.UserAgent())
	if err != nil {
		h.renderLogin(w, r, web.Console, "", err)
		return
	}
	setSessionCookies(w, r, sess)
	http.Redirect(w, r, stageURL(web.Console, sess.Stage, f.Next), http.StatusSeeOther)
}

// oidcIdentity is who the identity provider says signed in.
type oidcIdentity struct {
	Subject string
	// Username is the preferred_username claim, else the local part of
	// the e-mail address.
	Username string
	// MFA reports whether the provider says a second factor was used
	// (amr holds "mfa", "otp" or "hwk", RFC 8176).
	MFA bool
}

// identify exchanges code for tokens and verifies the ID token: its
// signature, issuer, audience and expiry, and that its nonce is the
// flight's.
func (o *OIDC) identify(ctx context.Context, code string, f oidcFlight) (oidcIdentity, error) {
	if code == "" {
		return oidcIdentity{}, errors.New("the callback carries no code")
	}
	ctx = context.WithValue(oidc.ClientContext(ctx, o.client), oauth2.HTTPClient, o.client)
	tok, err := o.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return oidcIdentity{}, fmt.Errorf("exchange the code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return oidcIdentity{}, errors.New("the token response carries no id_token")
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return oidcIdentity{}, fmt.Errorf("verify the ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return oidcIdentity{}, errors.New("the ID token's nonce is not this sign-in's")
	}
	var claims struct {
		PreferredUsername string   `json:"preferred_username"`
		Email             string   `json:"email"`
		AMR               []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil {
		return oidcIdentity{}, fmt.Errorf("read the ID token's claims: %w", err)
	}
	id := oidcIdentity{Subject: idt.Subject, Username: claims.PreferredUsername}
	if id.Username == "" {
		id.Username, _, _ = strings.Cut(claims.Email, "@")
	}
	id.MFA = slices.ContainsFunc(claims.AMR, func(m string) bool { return m == "mfa" || m == "otp" || m == "hwk" })
	return id, nil
}

// loginOIDC opens a session for the staff member the identity provider
// vouched for. The provider's subject, once linked to a staff account,
// is what identifies it; the first sign-in links it to the account whose
// username the provider names. No account is ever created. A cleared
// staff member still needs Chancery's second factor unless the provider
// used one: the session then starts at StageVerifyTOTP (or
// StageEnrollTOTP when none is enrolled). The audit ledger records the
// sign-in or its refusal ("login" with the method "oidc" or "oidc_mfa"),
// and a first link as the staff member's own doing ("staff.oidc_link"),
// since the provider vouched for them.
func (s *Service) loginOIDC(ctx context.Context, id oidcIdentity, address, userAgent string) (Session, error) {
	m, err := s.dir.StaffByOIDCSubject(ctx, id.Subject)
	if errors.Is(err, errs.ErrNotFound) {
		if id.Username == "" {
			return Session{}, s.oidcRefused(ctx, id, address, errNoOIDCAccount)
		}
		if m, err = s.dir.StaffByUsername(ctx, id.Username); errors.Is(err, errs.ErrNotFound) {
			return Session{}, s.oidcRefused(ctx, id, address, errNoOIDCAccount)
		}
		if err == nil && !m.Disabled {
			// A disabled account is refused below, unlinked: it does
			// nothing, not even this.
			err = s.dir.LinkOIDCSubject(asStaff(ctx, m), m.ID, id.Subject)
			if errors.Is(err, errs.ErrConflict) {
				return Session{}, s.refused(ctx, attempt{account: staffPrincipal(m), address: address, method: methodOIDC}.event(ctx), errOIDCSubject)
			}
		}
	}
	if err != nil {
		return Session{}, fmt.Errorf("sign in through OIDC: %w", err)
	}
	p := staffPrincipal(m)
	if p.disabled {
		return Session{}, s.refused(ctx, attempt{account: p, address: address, method: methodOIDC}.event(ctx), errDisabled)
	}
	totp, err := s.totpEnabled(ctx, p.kind, p.id)
	if err != nil {
		return Session{}, err
	}
	stage, method := StageFull, methodOIDC
	switch {
	case id.MFA:
		method = methodOIDCMFA
	case totp:
		stage = StageVerifyTOTP
	case p.cleared():
		stage = StageEnrollTOTP
	}
	return s.openSession(ctx, p, stage, method, address, userAgent, s.clock())
}

// oidcRefused records a sign-in through the provider refused before it
// reached an account, with the name the provider gave if any, and returns
// cause (see Service.refused).
func (s *Service) oidcRefused(ctx context.Context, id oidcIdentity, address string, cause error) error {
	return s.refused(ctx, attempt{username: id.Username, address: address, method: methodOIDC}.event(ctx), cause)
}

// asStaff returns ctx acting as staff member m, whom the identity
// provider has just vouched for, keeping the request's id.
func asStaff(ctx context.Context, m identity.StaffMember) context.Context {
	o, _ := audit.OriginFrom(ctx)
	p := staffPrincipal(m)
	o.Actor, o.UnitID = p.actor(), p.unit()
	return audit.WithOrigin(ctx, o)
}
