// Package errs defines the application error kinds that every capability
// returns and that the web layer maps to HTTP status codes in one place.
//
// Domain code wraps a kind with context and a message meant for the user:
//
//	return fmt.Errorf("%w: agency code %q is already used by unit %d", errs.ErrConflict, code, id)
//
// The message of an error of a known kind is shown to the caller; any other
// error is an internal error, logged once and shown as a neutral message.
package errs

import (
	"errors"
	"strings"
	"syscall"
)

// The error kinds. Wrap them; compare with errors.Is.
var (
	// ErrInvalid reports input that breaks a rule; the message says which.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound reports an item that does not exist, or that the caller
	// may not learn exists (see DESIGN.md §6).
	ErrNotFound = errors.New("not found")
	// ErrConflict reports a clash with stored state (a duplicate code, a
	// stale version, an illegal state transition).
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated reports a missing, wrong or expired credential.
	ErrUnauthenticated = errors.New("authentication required")
	// ErrForbidden reports an authenticated caller who may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrRateLimited reports too many attempts; retry later.
	ErrRateLimited = errors.New("too many attempts")
	// ErrUnavailable reports a dependency (database, NATS) that is down.
	ErrUnavailable = errors.New("service unavailable")
	// ErrStorageFull reports a write refused because the server's storage
	// (the database, the blob store or the message store) is full; nothing
	// was written, and the same request may succeed once space is freed.
	ErrStorageFull = errors.New("storage full")
)

// FieldError is an ErrInvalid that names the offending input field, so a
// form can show the message beside it.
type FieldError struct {
	Field   string
	Message string
}

// Error returns "field: message".
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Invalid returns a *FieldError for field.
func Invalid(field, message string) error { return &FieldError{Field: field, Message: message} }

// ErrTooLarge reports a request body or upload over its size limit.
var ErrTooLarge = errors.New("too large")

// IsStorageFull reports whether err is ErrStorageFull, or a write that a
// layer below refused for want of space, each in its own words: the
// operating system's ENOSPC or EDQUOT (a blob or message store's file),
// SQLite's SQLITE_FULL ("database or disk is full") and PostgreSQL's
// SQLSTATE 53100 (disk_full). The web layer answers all of them alike.
func IsStorageFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrStorageFull) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return pg.SQLState() == "53100"
	}
	// modernc.org/sqlite's error text for SQLITE_FULL (13), the code
	// SQLite also gives when the disk under its file or WAL is full.
	return strings.Contains(err.Error(), "database or disk is full")
}

// The kinds of what outlived its use or lies beyond this node.
var (
	// ErrGone reports something that existed and never will again (an
	// expired one-time token): asking again cannot help.
	ErrGone = errors.New("gone")
	// ErrTimeout reports an outside system that did not answer in time.
	ErrTimeout = errors.New("timed out")
	// ErrBadGateway reports an outside system that failed, or answered
	// what cannot be passed on.
	ErrBadGateway = errors.New("bad gateway")
)
