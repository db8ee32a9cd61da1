package web

import (
	"errors"
	"fmt"

	"chancery/internal/errs"
)

// codedError is an error with a stable machine-readable code for clients.
type codedError struct {
	err  error
	code string
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// Code returns the error's machine-readable code.
func (e *codedError) Code() string { return e.code }

// WithCode attaches a machine-readable code (shown as "code" in the
// problem document) to err.
func WithCode(err error, code string) error { return &codedError{err: err, code: code} }

var (
	errUnauthenticated       = WithCode(fmt.Errorf("%w: sign in, or send Authorization: Bearer <token> from POST /api/v1/auth/login", errs.ErrUnauthenticated), "unauthenticated")
	errClientUnauthenticated = WithCode(fmt.Errorf("%w: send Authorization: Bearer <client token> with the token issued for your information system on this node", errs.ErrUnauthenticated), "unauthenticated")
	errWrongPrincipal        = WithCode(fmt.Errorf("%w: this route is not for your kind of account", errs.ErrForbidden), "wrong_account_kind")
	errSignInIncomplete      = WithCode(fmt.Errorf("%w: finish signing in first (enrol a second factor or change your password)", errs.ErrForbidden), "sign_in_incomplete")
	errNoRole                = WithCode(fmt.Errorf("%w: none of your roles allows this", errs.ErrForbidden), "no_role")
	errCSRF                  = WithCode(fmt.Errorf("%w: the form's security token is missing or wrong; reload the page and try again", errs.ErrForbidden), "csrf")
)

var (
	errTooLarge = errs.ErrTooLarge
	errNoRoute  = fmt.Errorf("%w: no such page or API route", errs.ErrNotFound)
	// errMethod is a 405; it wraps ErrInvalid for its message but Status
	// maps it specially.
	errMethod = errors.New("method not allowed")
)
