package auth

import (
	"errors"
	"fmt"
	"time"

	"chancery/internal/errs"
)

// authError is an error of sign-in that every surface shows in its own
// way: the API by its English message and machine code, the pages by the
// catalogue text under key.
type authError struct {
	err  error  // wraps an errs kind or an *errs.FieldError
	code string // machine-readable code for the problem document; may be empty
	key  string // i18n catalogue key of the message for pages
	// field is the form field pages show the message beside; empty for
	// the form as a whole.
	field string
	// retry is when a rate-limited caller may try again.
	retry time.Time
}

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// Code returns the machine-readable code that web.Error puts in the
// problem document.
func (e *authError) Code() string { return e.code }

func newAuthError(kind error, code, key, field, message string) *authError {
	return &authError{err: fmt.Errorf("%w: %s", kind, message), code: code, key: key, field: field}
}

// The sign-in errors. errWrongCredentials is the one answer to an unknown
// account, a wrong password and an account without a password, so a
// caller cannot tell which.
var (
	errWrongCredentials = newAuthError(errs.ErrUnauthenticated, "wrong_credentials", "auth.error.credentials", "password",
		"wrong username or password")
	errDisabled = newAuthError(errs.ErrForbidden, "account_disabled", "auth.error.disabled", "",
		"this account is disabled; ask an administrator")
	errTOTPRequired = newAuthError(errs.ErrUnauthenticated, "totp_required", "auth.error.totp_required", "totp",
		"enter the 6-digit code from your authenticator app")
	errTOTPWrong = newAuthError(errs.ErrUnauthenticated, "totp_invalid", "auth.error.totp_wrong", "totp",
		"the authentication code is wrong, expired or already used; wait for the next one")
	errSessionEnded = newAuthError(errs.ErrUnauthenticated, "session_ended", "auth.error.session_ended", "",
		"the session has expired or was signed out; sign in again")
	errBadAuthorization = newAuthError(errs.ErrUnauthenticated, "bad_authorization", "auth.error.session_ended", "",
		"the Authorization header must be \"Bearer <token>\" with the token from POST /api/v1/auth/login")
	errTOTPEnrolled = newAuthError(errs.ErrConflict, "totp_enrolled", "auth.error.totp_enrolled", "",
		"a second factor is already enrolled; ask an administrator to reset it")
	errLevelAboveClearance = newAuthError(errs.ErrInvalid, "level_above_clearance", "auth.error.level", "level",
		"the working level asked for is above your clearance; choose your clearance or a lower level")
	errEnrolmentCode = newAuthError(errs.ErrInvalid, "enrolment_code_invalid", "auth.error.enrolment_code", "enrolment_code",
		"the enrolment code is wrong, expired or already used; ask an administrator or a security officer for a new one")
	errNoEnrolment = newAuthError(errs.ErrConflict, "no_enrolment", "auth.error.no_enrolment", "",
		"no second-factor enrolment is in progress; start again with a new enrolment code")
	errNoCodeDue = newAuthError(errs.ErrConflict, "no_code_due", "auth.error.no_code_due", "",
		"this session needs no authentication code")
	errEmailTaken = newAuthError(errs.ErrConflict, "email_taken", "auth.error.email_taken", "email",
		"the e-mail address is already registered; sign in, or use another address")
	errNoOIDCAccount = newAuthError(errs.ErrUnauthenticated, "no_account", "auth.error.oidc_account", "",
		"no staff account is linked to your identity-provider account; ask an administrator to link it")
	errOIDCEmail = newAuthError(errs.ErrForbidden, "email_not_accepted", "auth.error.oidc_email", "",
		"the identity provider did not vouch for a verified e-mail address in the ministry's domains")
	errOIDCFailed = newAuthError(errs.ErrUnauthenticated, "oidc_failed", "auth.error.oidc_failed", "",
		"signing in through the identity provider did not complete; start again")
)

// slowedError reports an address that failed too often at one account,
// which may try that account again at t.
func slowedError(t time.Time) error {
	e := newAuthError(errs.ErrRateLimited, "too_many_attempts", "auth.error.slowed", "",
		fmt.Sprintf("too many failed sign-ins to this account from your address; try again after %s", t.UTC().Format(time.RFC3339)))
	e.retry = t
	return e
}

// throttledError reports an address that failed too often until t.
func throttledError(t time.Time) error {
	e := newAuthError(errs.ErrRateLimited, "too_many_attempts", "auth.error.throttled", "",
		fmt.Sprintf("too many failed sign-ins from your address; try again after %s", t.UTC().Format(time.RFC3339)))
	e.retry = t
	return e
}

// fieldError is an *errs.FieldError whose message pages show from the
// catalogue under key.
func fieldError(field, key, message string) error {
	return &authError{err: errs.Invalid(field, message), key: key, field: field}
}

// retryAt returns when the caller refused by err may try again.
func retryAt(err error) (time.Time, bool) {
	var ae *authError
	if errors.As(err, &ae) && !ae.retry.IsZero() {
		return ae.retry, true
	}
	return time.Time{}, false
}
