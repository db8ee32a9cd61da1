package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"chancery/internal/errs"
)

// Text that reaches the application through the boundary — JSON bodies,
// url-encoded forms, paths and query strings — is checked here, once, so
// that every capability refuses the same bytes the same way on both
// databases: PostgreSQL cannot store NUL in text (SQLSTATE 22021) where
// SQLite can, and control, direction and zero-width characters would let a
// name look like another in lists, audit trails and exports.

// maxEcho is how many characters of a client's input an error message
// repeats; longer input is cut with an ellipsis.
const maxEcho = 80

// Clip returns s cut to maxEcho characters with an ellipsis, for error
// messages that repeat what the client sent.
func Clip(s string) string { return clip(s, maxEcho) }

// clip returns s cut to max characters with an ellipsis.
func clip(s string, max int) string {
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// CheckText returns an errs.Invalid error for field when s is not text the
// application accepts: invalid UTF-8, a control character other than tab
// and line breaks (which multi-line text legitimately holds), a
// bidirectional formatting character (U+202E and its kin) or a zero-width
// character.
func CheckText(field, s string) error {
	if msg := textProblem(s); msg != "" {
		return errs.Invalid(field, msg)
	}
	return nil
}

func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case unicode.IsControl(r):
			return "must not contain control characters such as NUL"
		case isBidiControl(r):
			return "must not contain bidirectional formatting characters such as U+202E"
		case isZeroWidth(r):
			return "must not contain zero-width characters such as U+200B"
		}
	}
	return ""
}

// isBidiControl reports the explicit direction marks, embeddings,
// overrides and isolates: they reorder how the text around them is shown.
func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// isZeroWidth reports characters that show nothing yet make two strings
// that look alike differ.
func isZeroWidth(r rune) bool {
	return (r >= 0x200B && r <= 0x200D) || r == 0x2060 || r == 0xFEFF || r == 0x180E
}

// checkRequestText checks the request's path, query and url-encoded form
// values, before any handler sees them.
func checkRequestText(r *http.Request) error {
	if msg := textProblem(r.URL.Path); msg != "" {
		return errs.Invalid("path", msg)
	}
	if strings.ContainsAny(r.URL.Path, "\t\r\n") { // no path is multi-line
		return errs.Invalid("path", "must not contain control characters such as tabs or line breaks")
	}
	for name, vs := range r.URL.Query() {
		if err := checkValues(name, vs); err != nil {
			return err
		}
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: the form is over the limit of %d bytes", errs.ErrTooLarge, mbe.Limit)
		}
		return fmt.Errorf("%w: the form cannot be read: %s", errs.ErrInvalid, Clip(err.Error()))
	}
	for name, vs := range r.PostForm {
		if err := checkValues(name, vs); err != nil {
			return err
		}
	}
	return nil
}

func checkValues(name string, vs []string) error {
	if msg := textProblem(name); msg != "" {
		return errs.Invalid(Clip(printable(name)), msg)
	}
	for _, v := range vs {
		if err := CheckText(name, v); err != nil {
			return err
		}
	}
	return nil
}
