package auth

import (
	"errors"
	"net/http"
	"net/url"

	"chancery/internal/i18n"
	"chancery/internal/web"
)

// The public site's pages of the mailed links: confirming a registration's
// address and resetting a forgotten password (see links.go).

// noticeView is the view model of a page that only tells something.
type noticeView struct {
	Text    string
	Problem string
	Link    *noticeLink
}

type noticeLink struct{ Href, Text string }

// notice shows v on a public-site page titled by the catalogue text of titleKey.
func (h *Handler) notice(w http.ResponseWriter, r *http.Request, titleKey string, v noticeView) {
	h.noticeStatus(w, r, http.StatusOK, titleKey, v)
}

func (h *Handler) noticeStatus(w http.ResponseWriter, r *http.Request, status int, titleKey string, v noticeView) {
	page := h.shell.Page(r, web.PublicSite, titleKey)
	h.pages.Render(w, r, status, "notice", web.View[noticeView]{Page: page, Data: v})
}

// accountFormView is the view model of a public-site page that is one form.
type accountFormView struct {
	Lead string
	Form form
}

// renderAccountForm shows f on a public-site page titled by titleKey, with
// the refusal cause (nil: none) on it.
func (h *Handler) renderAccountForm(w http.ResponseWriter, r *http.Request, titleKey, leadKey string, f form, cause error) {
	page := h.shell.Page(r, web.PublicSite, titleKey)
	f.Submit = page.T(f.Submit)
	if status, ok := h.refuse(w, r, page.Localizer(), &f, cause); ok {
		h.pages.Render(w, r, status, "account_form", web.View[accountFormView]{Page: page, Data: accountFormView{Lead: page.T(leadKey), Form: f}})
	}
}

// withToken returns path carrying the link's token, so a form posts it
// back.
func withToken(path, token string) string { return path + "?token=" + url.QueryEscape(token) }

// signInLink points to the public site's sign-in page.
func signInLink(tr i18n.Localizer) *noticeLink {
	return &noticeLink{Href: "/account/login", Text: tr.T("nav.signin")}
}

// confirmEmailPage asks to confirm the address. Following the mailed link only
// shows this page: mail scanners that open links must not use them up.
func (h *Handler) confirmEmailPage(w http.ResponseWriter, r *http.Request) {
	h.renderAccountForm(w, r, "auth.verify_email.title", "auth.verify_email.lead",
		form{Action: withToken("/account/verify", r.FormValue("token")), Submit: "auth.verify_email.submit"}, nil)
}

// confirmEmail creates the account of the confirmed registration.
func (h *Handler) confirmEmail(w http.ResponseWriter, r *http.Request) {
	tr := h.shell.Localizer(r)
	_, err := h.svc.ConfirmRegistration(r.Context(), r.FormValue("token"))
	if err != nil {
		h.refusedLink(w, r, err, "auth.verify_email.title", "/account/register", "auth.register.title")
		return
	}
	h.notice(w, r, "auth.verify_email.title", noticeView{Text: tr.T("auth.verify_email.done"), Link: signInLink(tr)})
}

// resetForm is the form that asks for the address to send a reset link to.
func resetForm(action, email string, tr i18n.Localizer) form {
	return form{Action: action, Submit: "auth.reset.submit", Fields: []web.Field{{ID: "email", Name: "email", Type: "email", Label: tr.T("auth.email"),
		Value: email, Autocomplete: "email", Required: true}}}
}

func (h *Handler) resetPage(w http.ResponseWriter, r *http.Request) {
	h.renderAccountForm(w, r, "auth.reset.title", "auth.reset.lead", resetForm("/account/reset", "", h.shell.Localizer(r)), nil)
}

// requestReset mails a reset link if the address has an account, and
// says the same whether or not it has.
func (h *Handler) requestReset(w http.ResponseWriter, r *http.Request) {
	tr := h.shell.Localizer(r)
	email := r.PostFormValue("email")
	if err := h.svc.RequestPasswordReset(r.Context(), email, tr.Lang, web.ClientAddr(r)); err != nil {
		h.renderAccountForm(w, r, "auth.reset.title", "auth.reset.lead", resetForm("/account/reset", email, tr), err)
		return
	}
	h.notice(w, r, "auth.reset.title", noticeView{Text: tr.T("auth.reset.sent", email)})
}

// newPasswordForm asks for the new password of a reset link.
func (h *Handler) newPasswordForm(r *http.Request) form {
	page := h.shell.Page(r, web.PublicSite, "auth.reset.title")
	return form{Action: withToken("/account/reset/confirm", r.FormValue("token")), Submit: "auth.password.submit",
		Fields: newPasswordFields(page, "auth.password.new")}
}

// resetConfirmPage asks for the new password, when the link works.
func (h *Handler) resetConfirmPage(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.CheckResetLink(r.Context(), r.FormValue("token")); err != nil {
		h.badResetLink(w, r, err)
		return
	}
	h.renderAccountForm(w, r, "auth.reset.title", "auth.reset.new_lead", h.newPasswordForm(r), nil)
}

// resetPassword sets the new password of a reset link.
func (h *Handler) resetPassword(w http.ResponseWriter, r *http.Request) {
	password := r.PostFormValue("password")
	var err error = fieldError("confirm_password", "auth.error.confirm", "does not match the new password")
	if password == r.PostFormValue("confirm_password") {
		err = h.svc.ResetPassword(r.Context(), r.FormValue("token"), password, web.ClientAddr(r))
	}
	switch {
	case errors.Is(err, errBadLink):
		h.badResetLink(w, r, err)
	case err != nil:
		h.renderAccountForm(w, r, "auth.reset.title", "auth.reset.new_lead", h.newPasswordForm(r), err)
	default:
		tr := h.shell.Localizer(r)
		h.notice(w, r, "auth.reset.title", noticeView{Text: tr.T("auth.reset.done"), Link: signInLink(tr)})
	}
}

// badResetLink says the reset link does not work and offers a new one.
func (h *Handler) badResetLink(w http.ResponseWriter, r *http.Request, err error) {
	h.refusedLink(w, r, err, "auth.reset.title", "/account/reset", "auth.reset.again")
}

// refusedLink says on a page titled by titleKey why a mailed link was
// refused (err), offering the way to start again: againHref, with the
// catalogue text of againKey. A server fault gets the error page.
func (h *Handler) refusedLink(w http.ResponseWriter, r *http.Request, err error, titleKey, againHref, againKey string) {
	tr := h.shell.Localizer(r)
	status, _, msg, ok := explain(tr, err)
	if !ok {
		web.Error(w, r, err)
		return
	}
	h.noticeStatus(w, r, status, titleKey, noticeView{Problem: msg, Link: &noticeLink{Href: againHref, Text: tr.T(againKey)}})
}
