package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// SessionTTL limits how long a session lasts.
type SessionTTL struct {
	// Absolute is how long after sign-in the session ends, used or not.
	Absolute time.Duration
	// Idle is how long the session survives unused. An Idle at least as
	// long as Absolute never ends a session early.
	Idle time.Duration
}

// The defaults of Options.
var (
	DefaultStaffSession   = SessionTTL{Absolute: 12 * time.Hour, Idle: 2 * time.Hour}
	DefaultCitizenSession = SessionTTL{Absolute: 24 * time.Hour, Idle: 24 * time.Hour}
)

// Default limits on guessing (see Options).
const (
	DefaultSlowAfter = 5
	DefaultSlowDelay = time.Minute
	// MaxSlowDelay caps the doubling wait of one account at one address.
	MaxSlowDelay          = 15 * time.Minute
	DefaultAddressLimit   = 30
	DefaultAddressWindow  = 15 * time.Minute
	DefaultAlertAddresses = 10
	DefaultAlertWindow    = time.Hour
	// touchInterval is how stale a session's last use may be recorded, so
	// that an active session costs at most one write a minute.
	touchInterval = time.Minute
)

// Options configure a Service. Every zero field takes its default.
type Options struct {
	// Now is the clock. If nil, time.Now is used.
	Now func() time.Time
	// Params are the argon2id costs of new password hashes. If zero,
	// DefaultParams. Tests use cheap ones.
	Params Params
	// StaffSession and CitizenSession limit sessions; zero fields take
	// those of DefaultStaffSession and DefaultCitizenSession.
	StaffSession, CitizenSession SessionTTL
	// SlowAfter is how many failed sign-ins in a row to one account from
	// one client address go at full speed. After them that address must
	// wait before trying that account again: SlowDelay after the first
	// further failure, twice as long after each one after it, up to
	// MaxSlowDelay. No account is ever locked, so its owner signs in from
	// another address however hard someone guesses. If zero,
	// DefaultSlowAfter and DefaultSlowDelay.
	SlowAfter int
	SlowDelay time.Duration
	// AddressLimit is how many failed sign-ins one client address may
	// make per AddressWindow, across accounts. If zero,
	// DefaultAddressLimit and DefaultAddressWindow.
	AddressLimit  int
	AddressWindow time.Duration
	// AlertAddresses is how many different addresses failing to sign in
	// to one account within AlertWindow raise an alert: a "login.alert"
	// event in the audit ledger and a warning in the log. If zero,
	// DefaultAlertAddresses and DefaultAlertWindow.
	AlertAddresses int
	AlertWindow    time.Duration
	// Log receives the alerts. If nil, slog.Default().
	Log *slog.Logger
	// Recorder records every sign-in, refused sign-in and credential
	// change in the audit ledger before it is reported done (DESIGN.md
	// §6); the application passes the *audit.Ledger. If nil, every one of
	// them fails, so a service wired without the ledger cannot let anyone
	// in unrecorded.
	Recorder Recorder
	// Mailer mails citizens' registration and password-reset links,
	// pointing at LinkBase() (the public site's address, without a
	// trailing slash). If nil, those flows answer errs.ErrUnavailable.
	Mailer   Mailer
	LinkBase func() string
}

// Service signs staff and citizens in and keeps their credentials and
// sessions. It is safe for concurrent use.
type Service struct {
	db        *store.DB
	dir       Directory
	sealer    Sealer
	rec       Recorder
	w         audit.Writer // decides who changes a credential, and records it in the change
	now       func() time.Time
	params    Params
	staffTTL  SessionTTL
	citTTL    SessionTTL
	log       *slog.Logger
	addresses *addressLimiter
	pairs     *pairLimiter
	spray     *sprayWatch
	// mailer and linkBase are Options'; mailsFrom and mailsTo count the
	// mails sent per client address and per recipient.
	mailer    Mailer
	linkBase  func() string
	mailsFrom *addressLimiter
	mailsTo   *addressLimiter
	// hashSlots bounds the argon2id hashes running at once: each holds
	// Params.Memory, so a flood of sign-ins must queue, not exhaust memory.
	hashSlots chan struct{}

	dummyOnce sync.Once
	dummyHash string // a hash to verify against when the account is unknown
}

// New returns the sign-in service keeping credentials and sessions in db,
// people in dir, and TOTP secrets sealed by sealer under SealPurpose.
func New(db *store.DB, dir Directory, sealer Sealer, opts Options) *Service {
	s := &Service{db: db, dir: dir, sealer: sealer, rec: opts.Recorder, w: audit.NewWriter("auth", opts.Recorder), now: opts.Now, params: opts.Params,
		staffTTL: opts.StaffSession, citTTL: opts.CitizenSession, log: opts.Log, mailer: opts.Mailer, linkBase: opts.LinkBase,
		hashSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	if s.now == nil {
		s.now = time.Now
	}
	if s.params == (Params{}) {
		s.params = DefaultParams
	}
	s.staffTTL = withDefaults(s.staffTTL, DefaultStaffSession)
	s.citTTL = withDefaults(s.citTTL, DefaultCitizenSession)
	if s.log == nil {
		s.log = slog.Default()
	}
	lim := &limits{db: db}
	s.addresses = newAddressLimiter(lim, "addr:", orDefault(opts.AddressLimit, DefaultAddressLimit),
		orDefault(opts.AddressWindow, DefaultAddressWindow))
	s.pairs = newPairLimiter(lim, orDefault(opts.SlowAfter, DefaultSlowAfter), orDefault(opts.SlowDelay, DefaultSlowDelay),
		MaxSlowDelay)
	s.spray = newSprayWatch(lim, orDefault(opts.AlertAddresses, DefaultAlertAddresses),
		orDefault(opts.AlertWindow, DefaultAlertWindow))
	s.mailsFrom = newAddressLimiter(lim, "mailfrom:", mailsPerClient, mailWindow)
	s.mailsTo = newAddressLimiter(lim, "mailto:", mailsPerRecipient, mailWindow)
	return s
}

// orDefault returns v, or def when v is not positive.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func withDefaults(t, def SessionTTL) SessionTTL {
	if t.Absolute <= 0 {
		t.Absolute = def.Absolute
	}
	if t.Idle <= 0 {
		t.Idle = def.Idle
	}
	return t
}

// clock returns the current time at the precision both dialects store.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func (s *Service) ttl(kind authz.PrincipalKind) SessionTTL {
	if kind == authz.Citizen {
		return s.citTTL
	}
	return s.staffTTL
}

// acquire waits for a hashing slot; release gives it back.
func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait to hash a password: %w", ctx.Err())
	}
}

func (s *Service) release() { <-s.hashSlots }

func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return hashPassword(password, s.params), nil
}

// verify reports whether password matches the stored hash, and whether
// the hash should be replaced by one made with the current parameters.
func (s *Service) verify(ctx context.Context, password, encoded string) (ok, weak bool, err error) {
	if err := s.acquire(ctx); err != nil {
		return false, false, err
	}
	defer s.release()
	return verifyPassword(password, encoded, s.params)
}

// wrongCredentials answers a sign-in to an account that does not exist
// or has no password. It first spends the time of a password
// verification, so that the answer comes no sooner than for a wrong
// password.
func (s *Service) wrongCredentials(ctx context.Context, password string) error {
	s.dummyOnce.Do(func() { s.dummyHash = hashPassword(rand.Text(), s.params) })
	if _, _, err := s.verify(ctx, password, s.dummyHash); err != nil {
		return err
	}
	return errWrongCredentials
}

// LoginRequest is a sign-in attempt.
type LoginRequest struct {
	// Kind is authz.Staff (Username is the username) or authz.Citizen
	// (Username is the e-mail address).
	Kind     authz.PrincipalKind
	Username string
	Password string
	// TOTP is the authenticator code; required when the account has a
	// second factor enrolled.
	TOTP string
	// Address is the client's IP address, for the per-address limit; an
	// empty one escapes that limit (but not the slowing of guesses at
	// one account, where no address counts as one address).
	Address   string
	UserAgent string
	// Level is the level the session is to work at (authz.Subject.Session),
	// at most the clearance; nil works at the clearance. What is created
	// in the session is classified at least at this level.
	Level *authz.Level
}

// Login checks a sign-in attempt and opens a session. The session's Stage
// is StageChangePassword after a one-time password, StageEnrollTOTP for
// cleared staff without a second factor, and StageFull otherwise.
//
// An unknown account and a wrong password get the same error and take the
// same time. Guessing is slowed, never locked out: after SlowAfter
// failures in a row from one address to one name, that address waits
// before its next try at that name, refused without its password being
// checked; an address that failed AddressLimit times across accounts
// waits for the rest of its window. The owner at another address signs in
// meanwhile.
//
// Login returns an errs.ErrUnauthenticated error for wrong credentials, a
// missing second-factor code (code "totp_required") or a wrong one;
// errs.ErrForbidden for a disabled account (told only to whoever gave its
// password); errs.ErrInvalid (code level_above_clearance) for a working
// level above the clearance (told only to whoever gave the password and
// code, and not counted as a failure: the credentials were right); and
// errs.ErrRateLimited ("too_many_attempts"), saying when to retry, for an
// address that must wait. Wrong passwords and codes count towards the
// limits.
//
// The audit ledger records the sign-in ("login", outcome ok, by the
// account) or its refusal (outcome failed, the refusal's code as the
// reason, by the system actor "auth"; an attempt on no account carries the
// name given as the "username" attribute), an address slowed at an
// account ("login.slowdown"), an address blocked ("login.throttle") and an
// account failing from many addresses ("login.alert", also logged as a
// warning). Attempts that must wait are refused unrecorded: the wait is on
// record, and recording each would let anyone fill the append-only ledger
// at no cost. When the ledger cannot record, Login fails.
func (s *Service) Login(ctx context.Context, req LoginRequest) (Session, error) {
	kind, err := kindName(req.Kind)
	if err != nil {
		return Session{}, err
	}
	now := s.clock()
	// One read of the limits covers the address and the pair.
	pair := pairKey(kind, req.Username, req.Address)
	addr := s.addresses.key(req.Address)
	lims, err := s.addresses.read(ctx, now, addr, pair)
	if err != nil {
		return Session{}, err
	}
	if r, ok := lims[addr]; req.Address != "" {
		if until, blocked := s.addresses.blockedBy(r, ok); blocked {
			return Session{}, throttledError(until)
		}
	}
	pr, failedBefore := lims[pair]
	if until, blocked := s.pairs.blockedBy(pr, failedBefore, now); blocked {
		return Session{}, slowedError(until)
	}
	sess, p, err := s.login(ctx, kind, req, now)
	var ae *authError
	if !errors.As(err, &ae) {
		if err == nil && failedBefore {
			if err := s.pairs.forget(ctx, pair); err != nil {
				s.log.WarnContext(ctx, "auth: a sign-in's earlier failures are still counted", "err", err)
			}
		}
		return sess, err
	}
	a := attempt{account: p, username: req.Username, address: req.Address, method: methodPassword}
	if ae != errTOTPRequired && ae != errDisabled && ae != errLevelAboveClearance {
		err = s.failed(ctx, a, pair, err, now)
	}
	return Session{}, s.refused(ctx, a.event(ctx), err)
}

// failedFrom counts a failure against the client at address, recording
// the block ("login.throttle") when this failure starts one; it returns
// only the error of recording.
func (s *Service) failedFrom(ctx context.Context, address string, now time.Time) error {
	until, blocked, err := s.addresses.fail(ctx, address, now)
	if err != nil || !blocked {
		return err
	}
	e := accountEvent(ctx, sysAuth, 0, actThrottle, "", 0)
	e.Attrs = map[string]string{"address": audit.AttrValue(address), "until": until.UTC().Format(time.RFC3339)}
	return s.record(ctx, e)
}

// failed counts the failed attempt a, whose pair key is pair, towards the
// limits: its address's, its pair's, and the alert on its account. It
// records what the failure sets off, and returns cause, or the wait when
// this failure started one (or the error of recording).
func (s *Service) failed(ctx context.Context, a attempt, pair string, cause error, now time.Time) error {
	if err := s.failedFrom(ctx, a.address, now); err != nil {
		return err
	}
	kind, _ := kindName(a.account.kind)
	alert := false
	if a.account.id != 0 {
		var err error
		if alert, err = s.spray.fail(ctx, kind+":"+strconv.FormatInt(a.account.id, 10), a.address, now); err != nil {
			return err
		}
	}
	if alert {
		e := accountEvent(ctx, sysAuth, 0, actAlert, kind, a.account.id)
		e.Reason = "failed sign-ins from many addresses"
		e.Attrs = map[string]string{"addresses": strconv.Itoa(s.spray.addresses), "within": s.spray.window.String()}
		s.log.WarnContext(ctx, "auth: failed sign-ins to one account from many addresses; it may be under attack",
			"account", kind+" "+strconv.FormatInt(a.account.id, 10), "addresses", s.spray.addresses, "within", s.spray.window.String())
		if err := s.record(ctx, e); err != nil {
			return err
		}
	}
	until, fails, slowed, err := s.pairs.fail(ctx, pair, now)
	if err != nil {
		return err
	}
	if !slowed {
		return cause
	}
	e := a.event(ctx)
	e.Action, e.Outcome, e.Reason = actSlowdown, audit.OK, "too many failed sign-ins from one address"
	delete(e.Attrs, "method")
	e.Attrs["failures"], e.Attrs["until"] = strconv.Itoa(fails), until.UTC().Format(time.RFC3339)
	if err := s.record(ctx, e); err != nil {
		return err
	}
	return slowedError(until)
}

// login checks the attempt and opens the session. It returns the account
// signed in as, the zero principal when no account has the name given.
func (s *Service) login(ctx context.Context, kind string, req LoginRequest, now time.Time) (Session, principal, error) {
	p, err := s.lookupByName(ctx, req.Kind, req.Username)
	if errors.Is(err, errs.ErrNotFound) {
		return Session{}, principal{}, s.wrongCredentials(ctx, req.Password)
	}
	if err != nil {
		return Session{}, principal{}, fmt.Errorf("sign in: %w", err)
	}
	cred, err := getCredential(ctx, s.db, kind, p.id)
	if errors.Is(err, errs.ErrNotFound) || err == nil && cred.passwordHash == "" {
		return Session{}, p, s.wrongCredentials(ctx, req.Password)
	}
	if err != nil {
		return Session{}, p, fmt.Errorf("sign in: %w", err)
	}
	ok, weak, err := s.verify(ctx, req.Password, cred.passwordHash)
	if err != nil {
		return Session{}, p, fmt.Errorf("sign in %s %d: %w", kind, p.id, err)
	}
	if !ok {
		return Session{}, p, errWrongCredentials
	}
	if p.disabled {
		return Session{}, p, errDisabled
	}
	if cred.totpEnabled {
		if req.TOTP == "" {
			return Session{}, p, errTOTPRequired
		}
		if err := s.checkCode(ctx, cred, req.TOTP, now); err != nil {
			return Session{}, p, err
		}
	}
	if p, err = withWorkingLevel(p, req.Level); err != nil {
		return Session{}, p, err
	}
	if weak {
		rehash, err := s.hash(ctx, req.Password)
		if err != nil {
			return Session{}, p, err
		}
		if err := replaceHash(ctx, s.db, kind, p.id, rehash, now); err != nil {
			return Session{}, p, err
		}
	}
	stage := StageFull
	switch {
	case cred.mustChange:
		stage = StageChangePassword
	case p.cleared() && !cred.totpEnabled:
		stage = StageEnrollTOTP
	}
	sess, err := s.openSession(ctx, p, stage, methodPassword, req.Address, req.UserAgent, now)
	return sess, p, err
}

// withWorkingLevel returns p set to work at level (nil: at its clearance,
// the highest it may). A level above the clearance is refused: a session
// never works, or classifies what it creates, above what its holder may
// read.
func withWorkingLevel(p principal, level *authz.Level) (principal, error) {
	p.subject.Session = p.subject.Clearance
	if level == nil {
		return p, nil
	}
	if *level > p.subject.Clearance {
		return p, errLevelAboveClearance
	}
	p.subject.Session = *level
	return p, nil
}

// checkCode checks a sign-in's TOTP code against the account's enrolled
// secret, claiming its time step so the code cannot be used again. A
// wrong code is errTOTPWrong, which the caller counts as a failure.
func (s *Service) checkCode(ctx context.Context, cred credential, code string, now time.Time) error {
	key, err := s.openSecret(ctx, cred)
	if err != nil {
		return err
	}
	step, ok := checkTOTP(key, code, now, cred.totpLastStep)
	if ok {
		if ok, err = claimTOTPStep(ctx, s.db, cred.kind, cred.id, step, false, now); err != nil {
			return err
		}
	}
	if !ok {
		return errTOTPWrong
	}
	return nil
}
