package web

import (
	"context"
	"errors"
	"net/http"

	"chancery/internal/authz"
)

// Denial is a refusal of a signed-in caller, as the response that carries
// it is about to be sent: what the audit ledger records of it.
type Denial struct {
	// Route is the pattern of the route refused, such as
	// "POST /api/v1/dossiers/{code}/actions"; never the raw path, which
	// may hold personal data.
	Route    string
	Decision authz.Decision
	Reason   authz.Reason
	// Kind and Action name what was asked ("dossier", "approve"); both
	// empty for a refusal of the route as a whole (the wrong kind of
	// account, a sign-in not finished).
	Kind, Action string
	// Level is the refused item's classification (0 when none was named).
	Level authz.Level
	// ResourceID names the refused item, if the refusal named one.
	ResourceID string
	// Code is the problem's machine-readable code, if any ("no_role").
	Code string
}

// denialSlot is one request's refusal: noted by the guard, Error or
// FormError, written by the writer RecordDenials puts in front of the
// response. Used by the request's goroutine only.
type denialSlot struct {
	noted    bool
	denial   Denial
	recorded bool
}

type denialKey struct{}

// RecordDenials calls record, before the response's status line is sent,
// for every response that refuses a signed-in caller (staff or citizen):
// a 403, and a 404 that concealed an item (an *authz.Refusal with the
// decision Concealed). It is the one place refusals are recorded, so that
// each refused request is recorded once whichever handler refused it. A
// refusal that said why (the router's guard, a service's *authz.Refusal)
// is recorded with its reason; any other 403 with
// authz.ReasonUnexplained. If record fails the refusal is still sent, and
// the failure logged. It goes after Authenticate.
func RecordDenials(record func(ctx context.Context, d Denial) error) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			slot := &denialSlot{}
			ctx := context.WithValue(r.Context(), denialKey{}, slot)
			if _, ok := ctx.Value(routeKey{}).(*string); !ok {
				var pattern string
				ctx = context.WithValue(ctx, routeKey{}, &pattern)
			}
			r = r.WithContext(ctx)
			next.ServeHTTP(&denialWriter{ResponseWriter: w, r: r, slot: slot, record: record}, r)
		})
	}
}

// noteDenial keeps d as the request's refusal, unless one was noted
// already (the first, such as the guard's, says the most).
func noteDenial(r *http.Request, d Denial) {
	slot, ok := r.Context().Value(denialKey{}).(*denialSlot)
	if !ok || slot.noted {
		return
	}
	slot.noted, slot.denial = true, d
}

// noteError notes the refusal err is, if it is one: an *authz.Refusal
// with its reason, any other ErrForbidden without one.
func noteError(r *http.Request, err error) {
	d := Denial{Decision: authz.Denied, Reason: authz.ReasonUnexplained}
	var ref *authz.Refusal
	switch {
	case errors.As(err, &ref):
		d = Denial{Decision: ref.Decision, Reason: ref.Reason, Kind: ref.Kind.String(), Action: ref.Action.String(),
			Level: ref.Level, ResourceID: ref.ResourceID}
	case Status(err) != http.StatusForbidden:
		return
	}
	var coded interface{ Code() string }
	if errors.As(err, &coded) {
		d.Code = coded.Code()
	}
	noteDenial(r, d)
}

// denialWriter records the request's refusal as its status is written.
type denialWriter struct {
	http.ResponseWriter
	r      *http.Request
	slot   *denialSlot
	record func(context.Context, Denial) error
}

func (w *denialWriter) WriteHeader(code int) {
	w.recordIfRefused(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *denialWriter) Write(b []byte) (int, error) {
	w.recordIfRefused(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *denialWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *denialWriter) recordIfRefused(code int) {
	s := w.slot
	if s.recorded {
		return
	}
	s.recorded = true // the status goes out once; so does its record
	p := PrincipalFrom(w.r.Context())
	if k := p.Subject.Kind; k != authz.Staff && k != authz.Citizen {
		return
	}
	switch {
	case code == http.StatusForbidden && !s.noted:
		s.denial = Denial{Decision: authz.Denied, Reason: authz.ReasonUnexplained}
	case code == http.StatusForbidden, code == http.StatusNotFound && s.noted && s.denial.Decision == authz.Concealed:
	default:
		return
	}
	// The Router records the pattern that matched where Observe (or
	// RecordDenials) asked it to.
	if p, _ := w.r.Context().Value(routeKey{}).(*string); p != nil && *p != "" {
		s.denial.Route = *p
	} else {
		s.denial.Route = "unmatched"
	}
	// The refusal is recorded even if the caller hangs up meanwhile.
	if err := w.record(context.WithoutCancel(w.r.Context()), s.denial); err != nil {
		Logger(w.r.Context()).Error("record a refusal in the audit ledger", "route", s.denial.Route, "reason", string(s.denial.Reason), "err", err)
	}
}
