package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/store"
)

// Recorder records sign-ins and credential changes in the audit ledger;
// *audit.Ledger implements it. AppendTx records inside the transaction of
// the change it records, so both commit or neither; Append records what
// changes nothing else, such as a refused sign-in, and returns once the
// event is durable.
type Recorder interface {
	Append(ctx context.Context, e audit.Event) (audit.Receipt, error)
	AppendTx(ctx context.Context, tx *store.Tx, e audit.Event) error
}

// The actions auth records.
const (
	actLogin         = "login"          // a sign-in or sign-in step, succeeded or refused
	actSlowdown      = "login.slowdown" // an address made to wait at one account after repeated failures
	actThrottle      = "login.throttle" // a client address blocked after repeated failures
	actAlert         = "login.alert"    // an account failing to sign in from many addresses
	actLogout        = "logout"
	actTOTPEnroll    = "totp.enroll"     // a second-factor secret issued, not yet in use
	actTOTPConfirm   = "totp.confirm"    // the second factor enabled
	actTOTPEnrolCode = "totp.enrol_code" // a one-time enrolment code issued
	actTOTPProvision = "totp.provision"  // a second factor seeded enabled (demo data)
	actPasswordSet   = "password.set"
	actPasswordReset = "password.reset" // a one-time password issued
	actPasswordChg   = "password.change"
	actRevoke        = "session.revoke"
)

// methodTOTP is the "method" attribute of the login event of the code
// step of a sign-in through the identity provider; other login events
// carry the session's method (methodPassword, methodOIDC, methodOIDCMFA).
const methodTOTP = "totp"

// sysAuth is the actor of what no one person is known to have done: a
// sign-in refused, an account locked, an address blocked. A refused
// attempt is not put on the account it tried, whose holder may not be the
// one who tried it; the account is the event's resource.
var sysAuth = audit.System("auth")

// actor returns the ledger's actor for p.
func (p principal) actor() audit.Actor {
	a, _ := audit.ActorOf(p.subject, p.username)
	return a
}

// unit returns the unit p acts for: a staff member's; none for a citizen.
func (p principal) unit() int64 { return p.subject.Unit }

// accountEvent returns an event of action on the account kind/id (no
// resource when id is zero), by actor on behalf of unit, carrying the
// request id of ctx's origin if it has one.
func accountEvent(ctx context.Context, actor audit.Actor, unit int64, action, kind string, id int64) audit.Event {
	o, _ := audit.OriginFrom(ctx)
	e := audit.Origin{Actor: actor, UnitID: unit, RequestID: o.RequestID}.Event(action)
	if id != 0 {
		e.ResourceType, e.ResourceID = kind, strconv.FormatInt(id, 10)
	}
	return e
}

// byAccount returns an event of action on p's account by p, as when p
// signs in.
func byAccount(ctx context.Context, action string, p principal) audit.Event {
	kind, _ := kindName(p.kind)
	return accountEvent(ctx, p.actor(), p.unit(), action, kind, p.id)
}

// byOrigin returns an event of action on the account kind/id by the actor
// ctx's origin names, as when an administrator sets a password. It
// refuses by audit.Writer's one rule: no recorder or no origin is the
// program's fault, nobody signed in the caller's.
func (s *Service) byOrigin(ctx context.Context, action, kind string, id int64) (audit.Event, error) {
	o, err := s.w.Origin(ctx)
	if err != nil {
		return audit.Event{}, err
	}
	return accountEvent(ctx, o.Actor, o.UnitID, action, kind, id), nil
}

// record appends e durably, outside any change.
func (s *Service) record(ctx context.Context, e audit.Event) error {
	if s.rec == nil {
		return fmt.Errorf("auth: %w", audit.ErrNoRecorder)
	}
	if _, err := s.rec.Append(ctx, e); err != nil {
		return recordError(e, err)
	}
	return nil
}

// recordTx appends e in tx, the transaction of the change it records.
func (s *Service) recordTx(ctx context.Context, tx *store.Tx, e audit.Event) error {
	return s.w.Record(ctx, tx, e)
}

// recordError reports that e could not be recorded (audit.RecordFailed).
func recordError(e audit.Event, err error) error {
	return audit.RecordFailed(fmt.Sprintf("auth: record %s in the audit ledger", e.Action), err)
}

// refused records the refusal cause of what e describes (outcome failed,
// cause's code as the reason) and returns cause. An error that is no
// refusal, a server fault, passes through unrecorded. When the refusal
// cannot be recorded the caller gets that internal error instead: a
// refusal that leaves no trace would let guessing go unseen.
func (s *Service) refused(ctx context.Context, e audit.Event, cause error) error {
	var ae *authError
	if !errors.As(cause, &ae) {
		return cause
	}
	e.Outcome, e.Reason = audit.Failed, ae.code
	if e.Reason == "" {
		e.Reason = ae.Error()
	}
	if err := s.record(ctx, e); err != nil {
		return err
	}
	return cause
}

// attempt is a refused sign-in attempt as its event describes it.
type attempt struct {
	// account is who the attempt signs in as; the zero principal when no
	// account answers to the name given.
	account principal
	// username is the name given. The event carries it only for an
	// attempt on no account, where nothing else says what was tried, as
	// intrusion detection needs; an account is named by its resource.
	username string
	address  string
	method   string // methodPassword, methodOIDC or methodTOTP
}

// event returns the login event of a, by sysAuth: no one is known to have
// acted.
func (a attempt) event(ctx context.Context) audit.Event {
	kind, _ := kindName(a.account.kind)
	e := accountEvent(ctx, sysAuth, 0, actLogin, kind, a.account.id)
	e.Attrs = map[string]string{"method": a.method}
	if a.account.id == 0 && a.username != "" {
		e.Attrs["username"] = audit.AttrValue(a.username)
	}
	if a.address != "" {
		e.Attrs["address"] = audit.AttrValue(a.address)
	}
	return e
}

// principalKind returns the principal kind of a storage kind name.
func principalKind(kind string) authz.PrincipalKind {
	if kind == "citizen" {
		return authz.Citizen
	}
	return authz.Staff
}

// signedIn returns the event of p signing in, or taking a sign-in step,
// by method from address, leaving the session at stage.
func signedIn(ctx context.Context, p principal, method, stage, address string) audit.Event {
	e := byAccount(ctx, actLogin, p)
	e.Attrs = map[string]string{"method": method, "stage": stage}
	if address != "" {
		e.Attrs["address"] = audit.AttrValue(address)
	}
	return e
}
