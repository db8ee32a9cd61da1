package authz

import (
	"fmt"

	"chancery/internal/errs"
)

// Refusal is an error that records why an access decision refused a
// caller: the decision, its reason and what was asked. Services return it
// (wrapped as they like) instead of a bare errs.ErrForbidden, so that the
// one place that answers errors, the web layer, can both answer and write
// the refusal to the audit ledger with its reason.
//
// A Denied refusal unwraps to errs.ErrForbidden (403); a Concealed one to
// errs.ErrNotFound (404), so the caller cannot tell it from absence.
type Refusal struct {
	Decision Decision
	Reason   Reason
	Kind     Kind
	Action   Action
	// Level is the refused item's classification, so that the record of
	// the refusal is itself hidden from those who may not know the item.
	Level Level
	// ResourceID names the refused item, if one was asked for.
	ResourceID string
	// Message, if set, is what the caller is told; else a neutral
	// sentence built from the action and kind.
	Message string
}

// Refuse returns the *Refusal for a decision d with reason on action a of
// resource r, identified by id. It is built only on refusal, so Decide
// itself stays free of allocations.
func Refuse(d Decision, reason Reason, a Action, r Resource, id string) *Refusal {
	return &Refusal{Decision: d, Reason: reason, Kind: r.Kind, Action: a, Level: r.Level, ResourceID: id}
}

// Error returns the message shown to the caller.
func (r *Refusal) Error() string {
	if r.Message != "" {
		return r.Message
	}
	if r.Decision == Concealed {
		return errs.ErrNotFound.Error()
	}
	return fmt.Sprintf("%s: you may not %s this %s", errs.ErrForbidden, r.Action, r.Kind)
}

// Unwrap makes errors.Is(err, errs.ErrForbidden) true of a Denied
// refusal and errors.Is(err, errs.ErrNotFound) of a Concealed one.
func (r *Refusal) Unwrap() error {
	if r.Decision == Concealed {
		return errs.ErrNotFound
	}
	return errs.ErrForbidden
}

// Reasons of refusals made before or beside Decide: by the router's guard,
// which checks the kind of principal and the sign-in stage before it asks
// Decide about roles, and by a service that refused without saying why in
// a Refusal.
const (
	ReasonWrongPrincipal   Reason = "the route is for another kind of account"
	ReasonSignInIncomplete Reason = "the session has not finished signing in"
	ReasonUnexplained      Reason = "refused by the service without an access reason"
)
