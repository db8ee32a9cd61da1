package audit

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"chancery/internal/authz"
)

// Origin is who a request or a command acts as, carried in its context so
// that capabilities record who acted without knowing whether an HTTP
// request, the command line or Chancery itself asked.
type Origin struct {
	// Actor is who acts. It is the zero Actor for a caller who has not
	// signed in; capabilities then either refuse the change or name the
	// actor themselves (a citizen registering is the actor of their own
	// registration).
	Actor Actor
	// UnitID is the unit on whose behalf the actor acts; 0 for none.
	UnitID int64
	// RequestID is the id of the HTTP request, if any, so that an event
	// can be matched to the server's logs.
	RequestID string
}

type originKey struct{}

// WithOrigin returns ctx carrying o. The HTTP server puts the signed-in
// principal's origin on every request; the command line and Chancery's
// own jobs put an explicit System actor, such as System("cli").
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin ctx carries, and reports whether it
// carries one. A context without one is a caller that never said who acts:
// a capability must refuse to change anything for it rather than record an
// unknown actor.
func OriginFrom(ctx context.Context) (Origin, bool) {
	o, ok := ctx.Value(originKey{}).(Origin)
	return o, ok
}

// Anonymous reports whether o names no actor: a caller who has not signed
// in.
func (o Origin) Anonymous() bool { return o.Actor == Actor{} }

// Event returns an event of action by o's actor, on behalf of its unit,
// with its request id and the outcome OK; the caller adds the resource,
// the attributes and anything else that differs.
func (o Origin) Event(action string) Event {
	return Event{Actor: o.Actor, UnitID: o.UnitID, Action: action, Outcome: OK, RequestID: o.RequestID}
}

// ActorOf returns the actor for an authenticated subject (a staff member,
// a citizen or an information system) and reports whether there is one: an anonymous subject,
// or the node itself, is no person. A staff actor is named by username,
// the account's reference; a citizen's is left unnamed, since their
// sign-in name is their e-mail address, personal data that an append-only
// ledger could never erase, and the citizen id is reference enough.
func ActorOf(s authz.Subject, username string) (Actor, bool) {
	switch s.Kind {
	case authz.Staff:
		return Staff(s.ID, username), true
	case authz.Citizen:
		return Citizen(s.ID, ""), true
	case authz.Client:
		// An information system holding an exchange client token: its
		// subsystem (instance/class/member/subsystem) names it.
		return Member(s.Subsystem, ""), true
	}
	return Actor{}, false
}

// AttrValue returns s made fit to be an attribute value whatever its
// source, such as a username typed at a sign-in form: invalid UTF-8 and
// control characters become U+FFFD, and a value longer than an attribute
// may hold is cut at a character boundary and ends in "…".
func AttrValue(s string) string {
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return utf8.RuneError
			}
			return r
		}, strings.ToValidUTF8(s, string(utf8.RuneError)))
	}
	if len(s) <= maxAttrValue {
		return s
	}
	const ellipsis = "…"
	cut := maxAttrValue - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
