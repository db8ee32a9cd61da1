// Package web holds what every page and API route shares: the router with
// its access policies, middleware, the layout and its templates, i18n
// lookup, and the helpers that write JSON, problem+json and HTML. It
// imports no capability.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"chancery/internal/errs"
)

// JSON writes v as a JSON response with the given status.
func JSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		Logger(r.Context()).Warn("write JSON response", "err", err)
	}
}

// ProblemDetails is an RFC 9457 problem document.
type ProblemDetails struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Instance  string            `json:"instance,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Errors    map[string]string `json:"errors,omitempty"` // field → message
	// Code is a stable machine-readable reason, such as "totp_required".
	Code string `json:"code,omitempty"`
	// Checks, on a readiness problem, gives each dependency's state.
	Checks map[string]string `json:"checks,omitempty"`
}

// Problem writes an application/problem+json response.
func Problem(w http.ResponseWriter, r *http.Request, p ProblemDetails) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	p.Instance = r.URL.Path
	p.RequestID = RequestID(r.Context())
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p) //nolint:errcheck // the client went away
}

// Status maps an error to its HTTP status: the one place where error kinds
// meet status codes.
func Status(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, errs.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, errs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errs.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errs.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, errs.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, errs.ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, errs.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errs.IsStorageFull(err):
		return http.StatusInsufficientStorage
	case errors.Is(err, errs.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, errs.ErrGone):
		return http.StatusGone
	case errors.Is(err, errs.ErrTimeout):
		return http.StatusGatewayTimeout
	case errors.Is(err, errs.ErrBadGateway):
		return http.StatusBadGateway
	case errs.IsUnavailable(err):
		// A dependency down or restarting, in its own words (a lost
		// database connection, NATS without a server, the object store
		// refusing connections): the truth is "try again shortly".
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled):
		// The client went away (or the node is stopping): nobody reads
		// the answer, and it is no fault of ours to log as one.
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		// A wait for a dependency ran out of time: NATS gives nothing
		// else while it reconnects to another server or a stream elects
		// its leader. Like net/http's TimeoutHandler, say 503: the same
		// request may succeed in a moment. (The log keeps it, at warning
		// level, should it be a slow query.)
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Error writes err as a problem+json (API paths) or an HTML error page.
// Errors of a known kind show their message; anything else is logged once
// here with the request id and shown as a neutral message.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	noteError(r, err)
	status := Status(err)
	p := ProblemDetails{Status: status, Detail: userDetail(err)}
	switch {
	case status == http.StatusInsufficientStorage:
		// The operator must act; the client may retry once they have.
		// Nothing was written: a write that fails for want of space
		// fails its whole transaction.
		Logger(r.Context()).Error("storage full: a write was refused; free space on the server's disk or database", "err", err)
		p.Detail = "The server's storage is full, so nothing was saved. Try again later; if it persists, tell the operator and quote the request id."
		p.Code = "storage_full"
		w.Header().Set("Retry-After", "60")
	case status == http.StatusServiceUnavailable:
		// Not a bug: a dependency is down or restarting (errs.IsUnavailable),
		// or the client went away. The same request may succeed shortly.
		Logger(r.Context()).Warn("dependency unavailable", "err", err)
		p.Detail = "A service this server depends on is unavailable for the moment. Try again in a few seconds; if it persists, tell the operator and quote the request id."
		p.Code = "unavailable"
		w.Header().Set("Retry-After", retryAfterUnavailable)
	case status >= 500:
		if status == http.StatusInternalServerError {
			Logger(r.Context()).Error("internal error", "err", err)
		} else {
			Logger(r.Context()).Warn("dependency unavailable", "err", err)
		}
		p.Detail = "Something went wrong on our side. Quote the request id when you report it."
	}
	if status == http.StatusNotFound {
		// Never echo what was looked for: the message could confirm that a
		// concealed item exists.
		p.Detail = "No such item, or you may not see it."
	}
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		p.Errors = map[string]string{fe.Field: clip(fe.Message, maxDetail)}
	}
	var coded interface{ Code() string }
	if errors.As(err, &coded) {
		p.Code = coded.Code()
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chancery"`)
	}
	if wantsHTML(r) {
		renderErrorPage(w, r, p)
		return
	}
	Problem(w, r, p)
}

// retryAfterUnavailable is the Retry-After of a 503, in seconds: a
// replica, NATS server or database restart is over in seconds, and
// readyz's answer is cached for two.
const retryAfterUnavailable = "5"

// maxDetail is the longest problem detail shown, in characters: a
// message that repeats a client's long input is cut there.
const maxDetail = 400

// userDetail is err's message from its kind on: the context wrapped around
// it ("procedures: receive dossier …: ") names Go packages and operations,
// which the client cannot act on.
func userDetail(err error) string {
	msg := err.Error()
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		msg = fe.Error()
	} else {
		for _, kind := range []error{errs.ErrInvalid, errs.ErrConflict, errs.ErrUnauthenticated, errs.ErrForbidden, errs.ErrRateLimited, errs.ErrTooLarge, errs.ErrGone} {
			if errors.Is(err, kind) {
				if i := strings.Index(msg, kind.Error()); i > 0 {
					msg = msg[i:]
				}
				break
			}
		}
	}
	return clip(msg, maxDetail)
}

// wantsHTML reports whether the response to r should be a page: anything
// outside the API whose client accepts HTML.
func wantsHTML(r *http.Request) bool {
	if IsAPI(r) {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html") || r.Header.Get("HX-Request") != ""
}

// IsAPI reports whether r is for the JSON API.
func IsAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/exchange/") || strings.HasPrefix(r.URL.Path, "/payments/")
}

type loggerKey struct{}

// Logger returns the request's logger (with its request id), or the
// default logger outside a request.
func Logger(ctx interface{ Value(any) any }) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
