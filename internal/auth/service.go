package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/web"
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
	// limiterMemory bounds the addresses, pairs and accounts each limit
	// remembers.
	limiterMemory = 100_000
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
	s.addresses = newAddressLimiter(orDefault(opts.AddressLimit, DefaultAddressLimit),
		orDefault(opts.AddressWindow, DefaultAddressWindow), limiterMemory)
	s.pairs = newPairLimiter(orDefault(opts.SlowAfter, DefaultSlowAfter), orDefault(opts.SlowDelay, DefaultSlowDelay),
		MaxSlowDelay, limiterMemory)
	s.spray = newSprayWatch(orDefault(opts.AlertAddresses, DefaultAlertAddresses),
		orDefault(opts.AlertWindow, DefaultAlertWindow), limiterMemory)
	s.mailsFrom = newAddressLimiter(mailsPerClient, mailWindow, limiterMemory)
	s.mailsTo = newAddressLimiter(mailsPerRecipient, mailWindow, limiterMemory)
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
	if until, blocked := s.addresses.blocked(req.Address, now); blocked {
		return Session{}, throttledError(until)
	}
	pair := pairKey(kind, req.Username, req.Address)
	if until, blocked := s.pairs.blocked(pair, now); blocked {
		return Session{}, slowedError(until)
	}
	sess, p, err := s.login(ctx, kind, req, now)
	var ae *authError
	if !errors.As(err, &ae) {
		if err == nil {
			s.pairs.forget(pair)
		}
		return sess, err
	}
	a := attempt{account: p, username: req.Username, address: req.Address, method: methodPassword}
	if ae != errTOTPRequired && ae != errDisabled && ae != errLevelAboveClearance {
		err = s.failed(ctx, a, pair, err, now)
	}
	return Session{}, s.refused(ctx, a.event(ctx), err)
}

// failed counts the failed attempt a, whose pair key is pair, towards the
// limits: its address's, its pair's, and the alert on its account. It
// records what the failure sets off, and returns cause, or the wait when
// this failure started one (or the error of recording).
func (s *Service) failed(ctx context.Context, a attempt, pair string, cause error, now time.Time) error {
	if until, blocked := s.addresses.fail(a.address, now); blocked {
		e := accountEvent(ctx, sysAuth, 0, actThrottle, "", 0)
		e.Attrs = map[string]string{"address": audit.AttrValue(a.address), "until": until.UTC().Format(time.RFC3339)}
		if err := s.record(ctx, e); err != nil {
			return err
		}
	}
	kind, _ := kindName(a.account.kind)
	if a.account.id != 0 && s.spray.fail(kind+":"+strconv.FormatInt(a.account.id, 10), a.address, now) {
		e := accountEvent(ctx, sysAuth, 0, actAlert, kind, a.account.id)
		e.Reason = "failed sign-ins from many addresses"
		e.Attrs = map[string]string{"addresses": strconv.Itoa(s.spray.addresses), "within": s.spray.window.String()}
		s.log.WarnContext(ctx, "auth: failed sign-ins to one account from many addresses; it may be under attack",
			"account", kind+" "+strconv.FormatInt(a.account.id, 10), "addresses", s.spray.addresses, "within", s.spray.window.String())
		if err := s.record(ctx, e); err != nil {
			return err
		}
	}
	until, fails, slowed := s.pairs.fail(pair, now)
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

// The ways a session was opened, stored in sessions.method.
const (
	methodPassword = "password"
	methodOIDC     = "oidc"
	// methodOIDCMFA is a sign-in through the identity provider that the
	// provider says used a second factor, which then stands in for TOTP.
	methodOIDCMFA = "oidc_mfa"
)

// newToken returns 32 random bytes, base64url-encoded.
func newToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// tokenLen is the length of a token newToken makes.
const tokenLen = 43

// hashToken returns the stored form of a session token, and whether the
// token is well-formed at all (so garbage never reaches the database).
func hashToken(token string) (string, bool) {
	if len(token) != tokenLen {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:]), true
}

// maxUserAgent bounds the stored User-Agent, which the client chooses.
const maxUserAgent = 256

// openSession starts a session for p at stage, working at the level of
// p.subject.Session (see withWorkingLevel), sweeps away expired ones
// and records the sign-in in the audit ledger ("login" by p, with the
// method, stage and address), in one transaction.
func (s *Service) openSession(ctx context.Context, p principal, stage, method, address, userAgent string, now time.Time) (Session, error) {
	kind, err := kindName(p.kind)
	if err != nil {
		return Session{}, err
	}
	ttl := s.ttl(p.kind)
	sess := Session{Token: newToken(), ExpiresAt: now.Add(ttl.Absolute), Stage: stage, CSRF: newToken()}
	hash, _ := hashToken(sess.Token)
	if len(userAgent) > maxUserAgent {
		userAgent = userAgent[:maxUserAgent]
	}
	row := sessionRow{hash: hash, kind: kind, id: p.id, stage: stage, method: method, csrf: sess.CSRF,
		address: address, userAgent: userAgent, createdAt: now, expiresAt: sess.ExpiresAt, lastSeen: now, level: p.subject.Session}
	e := signedIn(ctx, p, method, stage, address)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := sweepSessions(ctx, tx, now, now.Add(-s.staffTTL.Idle), now.Add(-s.citTTL.Idle)); err != nil {
			return err
		}
		if err := insertSession(ctx, tx, row); err != nil {
			return err
		}
		return s.recordTx(ctx, tx, e)
	})
	if err != nil {
		return Session{}, fmt.Errorf("open session: %w", err)
	}
	return sess, nil
}

// Logout ends the session of token and records it in the audit ledger
// ("logout" by the session's principal). Ending an unknown or already
// ended session is not an error, and records nothing.
func (s *Service) Logout(ctx context.Context, token string) error {
	hash, ok := hashToken(token)
	if !ok {
		return nil
	}
	row, err := sessionByHash(ctx, s.db, hash)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	kind := principalKind(row.kind)
	p, err := s.lookup(ctx, kind, row.id)
	if errors.Is(err, errs.ErrNotFound) {
		// The account is gone; its session still ends on record.
		p, err = principal{kind: kind, id: row.id, subject: authz.Subject{Kind: kind, ID: row.id}}, nil
	}
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := deleteSession(ctx, tx, hash); err != nil {
			return err
		}
		return s.recordTx(ctx, tx, byAccount(ctx, actLogout, p))
	})
	if errors.Is(err, errs.ErrNotFound) {
		return nil // another request ended it meanwhile, and recorded that
	}
	return err
}

// session returns the live session of token with its principal, or an
// errs.ErrUnauthenticated error if there is none: an unknown token, an
// expired or idle session, or a principal gone or disabled since.
func (s *Service) session(ctx context.Context, token string, now time.Time) (sessionRow, principal, error) {
	hash, ok := hashToken(token)
	if !ok {
		return sessionRow{}, principal{}, errSessionEnded
	}
	row, err := sessionByHash(ctx, s.db, hash)
	if errors.Is(err, errs.ErrNotFound) {
		return row, principal{}, errSessionEnded
	}
	if err != nil {
		return row, principal{}, err
	}
	kind := principalKind(row.kind)
	ttl := s.ttl(kind)
	if !now.Before(row.expiresAt) || !now.Before(row.lastSeen.Add(ttl.Idle)) {
		if err := deleteSession(ctx, s.db, hash); err != nil && !errors.Is(err, errs.ErrNotFound) {
			return row, principal{}, errors.Join(errSessionEnded, err)
		}
		return row, principal{}, errSessionEnded
	}
	p, err := s.lookup(ctx, kind, row.id)
	if errors.Is(err, errs.ErrNotFound) || err == nil && p.disabled {
		return row, principal{}, errors.Join(errSessionEnded, deleteSessions(ctx, s.db, row.kind, row.id))
	}
	if err != nil {
		return row, principal{}, fmt.Errorf("load session's %s %d: %w", row.kind, row.id, err)
	}
	// The session works at the level chosen at sign-in, or lower when
	// the clearance has been lowered since.
	p.subject.Session = min(row.level, p.subject.Clearance)
	// A clearance raised since sign-in makes the second factor due now,
	// unless the identity provider vouched for one.
	if row.stage == StageFull && p.cleared() && !row.totpEnabled && row.method != methodOIDCMFA {
		row.stage = StageEnrollTOTP
	}
	return row, p, nil
}

// Authenticate returns the principal of the session of token. It returns
// an errs.ErrUnauthenticated error for an unknown, expired or idle
// session, or one whose account was removed or disabled. Each use slides
// the idle timeout, recorded at most once a minute per session.
func (s *Service) Authenticate(ctx context.Context, token string) (web.Principal, error) {
	now := s.clock()
	row, p, err := s.session(ctx, token, now)
	if err != nil {
		return web.Principal{}, err
	}
	if now.Sub(row.lastSeen) >= touchInterval {
		if err := touchSession(ctx, s.db, row.hash, now); err != nil {
			return web.Principal{}, err
		}
	}
	return web.Principal{Subject: p.subject, Username: p.username, Name: p.name, Stage: row.stage, CSRF: row.csrf}, nil
}

// reissue replaces the session of token by a new one at the same stage
// (as now stored) and absolute expiry, and ends every other session of
// its principal. Called after a sign-in step succeeds, it leaves the
// account with only the session that took the step: one opened
// elsewhere with the password alone does not ride on the new factor or
// survive the new password.
func (s *Service) reissue(ctx context.Context, token, address, userAgent string) (Session, error) {
	now := s.clock()
	row, _, err := s.session(ctx, token, now)
	if err != nil {
		return Session{}, err
	}
	sess := Session{Token: newToken(), ExpiresAt: row.expiresAt, Stage: row.stage, CSRF: newToken()}
	next := row
	next.hash, _ = hashToken(sess.Token)
	next.csrf, next.address, next.lastSeen = sess.CSRF, address, now
	next.userAgent = userAgent[:min(len(userAgent), maxUserAgent)]
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := deleteSessions(ctx, tx, row.kind, row.id); err != nil {
			return err
		}
		return insertSession(ctx, tx, next)
	})
	if err != nil {
		return Session{}, fmt.Errorf("renew session: %w", err)
	}
	return sess, nil
}

// sealAD binds a sealed TOTP secret to its account.
func sealAD(kind string, id int64) []byte {
	return []byte("totp:" + kind + ":" + strconv.FormatInt(id, 10))
}

func (s *Service) openSecret(ctx context.Context, cred credential) ([]byte, error) {
	key, err := s.sealer.Open(ctx, SealPurpose, cred.totpSecret, sealAD(cred.kind, cred.id))
	if err != nil {
		return nil, fmt.Errorf("open TOTP secret of %s %d: %w", cred.kind, cred.id, err)
	}
	return key, nil
}

// EnrolmentCodeTTL is how long an enrolment code from IssueEnrolmentCode
// works: long enough to be handed over in person, short enough that one
// mislaid does not lie about for good.
const EnrolmentCodeTTL = 72 * time.Hour

// hashEnrolmentCode returns the stored form of an enrolment code. A code
// carries about 93 bits of entropy, so a plain SHA-256 keeps it safe.
func hashEnrolmentCode(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// IssueEnrolmentCode issues a one-time code with which kind/id enrols a
// second factor (StartTOTPEnrolment), working for EnrolmentCodeTTL, and
// returns it with its expiry, to be handed over out of band: the password
// alone, whoever holds it, then enrols nothing. It cancels any enrolment
// in progress, an earlier code or a secret shown but not confirmed. Who
// may issue one is authz's (KindCredential, Create), decided by the
// caller. The audit ledger records it ("totp.enrol_code", by the origin's
// actor). It returns errs.ErrNotFound for an unknown account and
// errs.ErrConflict when a factor is already enabled.
func (s *Service) IssueEnrolmentCode(ctx context.Context, kind authz.PrincipalKind, id int64) (string, time.Time, error) {
	k, e, err := s.credentialEvent(ctx, actTOTPEnrolCode, kind, id)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.clock()
	code, expires := oneTimePassword(), now.Add(EnrolmentCodeTTL)
	e.Attrs = map[string]string{"expires": expires.Format(time.RFC3339)}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		stored, err := putEnrolmentCode(ctx, tx, k, id, hashEnrolmentCode(code), expires, now)
		if err != nil {
			return err
		}
		if !stored {
			return errTOTPEnrolled
		}
		return s.recordTx(ctx, tx, e)
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return code, expires, nil
}

// StartTOTPEnrolment uses the enrolment code an administrator or security
// officer issued kind/id (IssueEnrolmentCode) to start enrolling a TOTP
// second factor, and returns its base32 secret for the person to add to
// an authenticator app (see TOTPURI). The code works once: the secret is
// shown this time only, and starting again needs a new code. The factor
// is not used until ConfirmTOTP proves the app has it. The audit ledger
// records the start ("totp.enroll", by the origin's actor) or its refusal.
// A wrong, used or expired code is refused with errs.ErrInvalid (code
// enrolment_code_invalid, on the field "enrolment_code"); an account with
// a factor already enabled gets errs.ErrConflict, an unknown one
// errs.ErrNotFound.
func (s *Service) StartTOTPEnrolment(ctx context.Context, kind authz.PrincipalKind, id int64, code string) (string, error) {
	k, e, err := s.credentialEvent(ctx, actTOTPEnroll, kind, id)
	if err != nil {
		return "", err
	}
	if enabled, err := s.totpEnabled(ctx, kind, id); err != nil {
		return "", err
	} else if enabled {
		return "", errTOTPEnrolled
	}
	// Claiming the code and storing the secret are one update: of two
	// requests with one code, only one gets a secret.
	hash := hashEnrolmentCode(strings.TrimSpace(code))
	secret, err := s.storeSecret(ctx, k, id, e, errEnrolmentCode, func(tx *store.Tx, sealed []byte) (bool, error) {
		return claimEnrolmentCode(ctx, tx, k, id, hash, sealed, s.clock())
	})
	if errors.Is(err, errEnrolmentCode) {
		return "", s.refused(ctx, e, errEnrolmentCode)
	}
	return secret, err
}

// ProvisionTOTP gives kind/id an enabled TOTP second factor at once and
// returns its base32 secret, for seeding accounts whose secrets the
// operator hands over with the rest of the seeded data (the demo's). It
// is not reachable from any route: people enrol with an enrolment code.
// The audit ledger records it ("totp.provision", by the origin's actor).
// It returns errs.ErrConflict when a factor is already enabled.
func (s *Service) ProvisionTOTP(ctx context.Context, kind authz.PrincipalKind, id int64) (string, error) {
	k, e, err := s.credentialEvent(ctx, actTOTPProvision, kind, id)
	if err != nil {
		return "", err
	}
	return s.storeSecret(ctx, k, id, e, errTOTPEnrolled, func(tx *store.Tx, sealed []byte) (bool, error) {
		return putEnabledTOTP(ctx, tx, k, id, sealed, s.clock())
	})
}

// credentialEvent checks that kind/id is an account and returns its
// storage kind and the event of action on its credentials by the origin's
// actor.
func (s *Service) credentialEvent(ctx context.Context, action string, kind authz.PrincipalKind, id int64) (string, audit.Event, error) {
	k, err := kindName(kind)
	if err != nil {
		return "", audit.Event{}, err
	}
	if _, err := s.lookup(ctx, kind, id); err != nil {
		return "", audit.Event{}, fmt.Errorf("%s: %w", action, err)
	}
	e, err := s.byOrigin(ctx, action, k, id)
	return k, e, err
}

// storeSecret makes a new TOTP secret for k/id, seals it and stores it
// with put in one transaction with e, and returns it in base32. When put
// stores nothing it fails with refusal.
func (s *Service) storeSecret(ctx context.Context, k string, id int64, e audit.Event, refusal error,
	put func(tx *store.Tx, sealed []byte) (bool, error)) (string, error) {
	key := newTOTPSecret()
	sealed, err := s.sealer.Seal(ctx, SealPurpose, key, sealAD(k, id))
	if err != nil {
		return "", fmt.Errorf("seal TOTP secret of %s %d: %w", k, id, err)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		stored, err := put(tx, sealed)
		if err != nil {
			return err
		}
		if !stored {
			return refusal
		}
		return s.recordTx(ctx, tx, e)
	})
	if err != nil {
		return "", err
	}
	return totpEncoding.EncodeToString(key), nil
}

// totpEnabled reports whether kind/id has a second factor enabled.
func (s *Service) totpEnabled(ctx context.Context, kind authz.PrincipalKind, id int64) (bool, error) {
	k, err := kindName(kind)
	if err != nil {
		return false, err
	}
	cred, err := getCredential(ctx, s.db, k, id)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	}
	return cred.totpEnabled, err
}

// ConfirmTOTP enables the second factor that StartTOTPEnrolment started, once code
// shows the authenticator app produces its codes, and moves the account's
// sessions waiting at StageEnrollTOTP to StageFull, recording it in the
// audit ledger ("totp.confirm", by the origin's actor). A wrong code is an
// *errs.FieldError on "totp"; without an enrolment in progress, or with a
// factor already enabled, it returns errs.ErrConflict.
func (s *Service) ConfirmTOTP(ctx context.Context, kind authz.PrincipalKind, id int64, code string) error {
	k, err := kindName(kind)
	if err != nil {
		return err
	}
	e, err := s.byOrigin(ctx, actTOTPConfirm, k, id)
	if err != nil {
		return err
	}
	cred, err := getCredential(ctx, s.db, k, id)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	switch {
	case cred.totpEnabled:
		return errTOTPEnrolled
	case cred.totpSecret == nil:
		return errNoEnrolment
	}
	key, err := s.openSecret(ctx, cred)
	if err != nil {
		return err
	}
	now := s.clock()
	wrong := fieldError("totp", "auth.error.totp_wrong", "the code is wrong or expired; enter the one the app shows now")
	step, ok := checkTOTP(key, code, now, cred.totpLastStep)
	if !ok {
		return wrong
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		claimed, err := claimTOTPStep(ctx, tx, k, id, step, true, now)
		if err != nil {
			return err
		}
		if !claimed {
			return wrong
		}
		if err := advanceSessions(ctx, tx, k, id, StageEnrollTOTP, StageFull); err != nil {
			return err
		}
		return s.recordTx(ctx, tx, e)
	})
}

// verifySessionTOTP takes the TOTP step of a session opened through the
// identity provider without a second factor (StageVerifyTOTP), from the
// client at address: a right code moves the session to StageFull; a
// wrong one counts as a failed sign-in. The audit ledger records either
// as a "login" with the method "totp".
func (s *Service) verifySessionTOTP(ctx context.Context, token, code, address string) error {
	now := s.clock()
	row, p, err := s.session(ctx, token, now)
	if err != nil {
		return err
	}
	if row.stage != StageVerifyTOTP {
		return errNoCodeDue
	}
	cred, err := getCredential(ctx, s.db, row.kind, row.id)
	if err != nil {
		return err
	}
	a := attempt{account: p, address: address, method: methodTOTP}
	pair := pairKey(row.kind, p.username, address)
	if until, blocked := s.pairs.blocked(pair, now); blocked {
		return s.refused(ctx, a.event(ctx), slowedError(until))
	}
	if err := s.checkCode(ctx, cred, code, now); err != nil {
		if errors.Is(err, errTOTPWrong) {
			err = s.failed(ctx, a, pair, err, now)
		}
		return s.refused(ctx, a.event(ctx), err)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := setSessionStage(ctx, tx, row.hash, StageFull); err != nil {
			return err
		}
		return s.recordTx(ctx, tx, signedIn(ctx, p, methodTOTP, StageFull, address))
	})
}

// ChangePassword replaces the password of the account signed in with
// the session of token, after checking the current one, and ends every
// other session and API token of the account: whoever else held one,
// perhaps with the old password, is out. The session of token survives,
// moved on from StageChangePassword to its next stage. A wrong current
// password is an *errs.FieldError on "current_password" and counts as a
// failed sign-in; a new password the policy refuses is one on "password"
// (see CheckPassword); a dead session is errs.ErrUnauthenticated. The
// audit ledger records the change, or its refusal for a wrong current
// password or an address that must wait ("password.change", by the
// account). The address the session signed in from counts as the
// caller's for the limits on guessing.
func (s *Service) ChangePassword(ctx context.Context, token, oldPassword, newPassword string) error {
	now := s.clock()
	row, p, err := s.session(ctx, token, now)
	if err != nil {
		return err
	}
	k, id := row.kind, row.id
	e := byAccount(ctx, actPasswordChg, p)
	wrong := fieldError("current_password", "auth.error.current_password", "is not your current password")
	cred, err := getCredential(ctx, s.db, k, id)
	if errors.Is(err, errs.ErrNotFound) || err == nil && cred.passwordHash == "" {
		return s.refused(ctx, e, wrong)
	}
	if err != nil {
		return err
	}
	// The address the session signed in from stands for the caller's.
	a := attempt{account: p, address: row.address, method: methodPassword}
	pair := pairKey(k, p.username, row.address)
	if until, blocked := s.pairs.blocked(pair, now); blocked {
		return s.refused(ctx, e, slowedError(until))
	}
	ok, _, err := s.verify(ctx, oldPassword, cred.passwordHash)
	if err != nil {
		return fmt.Errorf("change password of %s %d: %w", k, id, err)
	}
	if !ok {
		return s.refused(ctx, e, s.failed(ctx, a, pair, wrong, now))
	}
	if oldPassword == newPassword {
		return fieldError("password", "auth.password.same", "must differ from the current password")
	}
	if err := CheckPassword(newPassword, p.username); err != nil {
		return err
	}
	hash, err := s.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	next := StageFull
	if p.cleared() && !cred.totpEnabled {
		next = StageEnrollTOTP
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := putPassword(ctx, tx, k, id, hash, false, now); err != nil {
			return err
		}
		if row.stage == StageChangePassword {
			if err := setSessionStage(ctx, tx, row.hash, next); err != nil {
				return err
			}
		}
		if err := deleteOtherSessions(ctx, tx, k, id, row.hash); err != nil {
			return err
		}
		return s.recordTx(ctx, tx, e)
	})
}

// SetPassword sets the password of kind/id, as an administrator does, and
// ends the account's sessions; with mustChange the person must choose a
// new one at the next sign-in. The audit ledger
// records it ("password.set", by the origin's actor). A password the
// policy refuses is an *errs.FieldError on "password"; an unknown account
// is errs.ErrNotFound.
func (s *Service) SetPassword(ctx context.Context, kind authz.PrincipalKind, id int64, password string, mustChange bool) error {
	return s.setPassword(ctx, actPasswordSet, kind, id, password, mustChange)
}

// setPassword checks and sets a password, recording it as action.
func (s *Service) setPassword(ctx context.Context, action string, kind authz.PrincipalKind, id int64, password string, mustChange bool) error {
	k, err := kindName(kind)
	if err != nil {
		return err
	}
	p, err := s.lookup(ctx, kind, id)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := CheckPassword(password, p.username); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.setHash(ctx, action, k, id, hash, mustChange)
}

// HashPassword returns the argon2id hash of password, after checking it
// against the password policy, for SetPasswordHash. It lets one hash serve
// many accounts where that is intended — the demo accounts, which share a
// password and would otherwise cost a hash each at the first start.
func (s *Service) HashPassword(ctx context.Context, password string) (string, error) {
	if err := CheckPassword(password, ""); err != nil {
		return "", err
	}
	return s.hash(ctx, password)
}

// SetPasswordHash stores a hash made by HashPassword as kind/id's
// password and ends the account's sessions, recorded in the audit ledger
// as SetPassword is. The hash must be in the PHC form HashPassword
// returns.
func (s *Service) SetPasswordHash(ctx context.Context, kind authz.PrincipalKind, id int64, hash string, mustChange bool) error {
	k, err := kindName(kind)
	if err != nil {
		return err
	}
	if _, err := s.lookup(ctx, kind, id); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") {
		return fmt.Errorf("%w: not an argon2id hash from HashPassword", errs.ErrInvalid)
	}
	return s.setHash(ctx, actPasswordSet, k, id, hash, mustChange)
}

// setHash stores hash as k/id's password and ends its sessions, recording
// it as action by the origin's actor.
func (s *Service) setHash(ctx context.Context, action, k string, id int64, hash string, mustChange bool) error {
	e, err := s.byOrigin(ctx, action, k, id)
	if err != nil {
		return err
	}
	e.Attrs = map[string]string{"must_change": strconv.FormatBool(mustChange)}
	now := s.clock()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := putPassword(ctx, tx, k, id, hash, mustChange, now); err != nil {
			return err
		}
		if err := deleteSessions(ctx, tx, k, id); err != nil {
			return err
		}
		return s.recordTx(ctx, tx, e)
	})
}

// oneTimeAlphabet leaves out characters easily misread for one another
// (0/O, 1/l/I) when a password is read out or copied from paper.
const oneTimeAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// oneTimeLen gives a one-time password about 93 bits of entropy.
const oneTimeLen = 16

func oneTimePassword() string {
	b := make([]byte, oneTimeLen)
	for i := range b {
		var r [1]byte
		// Rejection sampling keeps every character equally likely.
		for rand.Read(r[:]); int(r[0]) >= 256-256%len(oneTimeAlphabet); rand.Read(r[:]) {
		}
		b[i] = oneTimeAlphabet[int(r[0])%len(oneTimeAlphabet)]
	}
	return string(b)
}

// IssueOneTimePassword sets a random, readable 16-character password on
// kind/id that must be changed at the first sign-in, ends the account's
// sessions, and returns the password to hand over. The audit ledger
// records it ("password.reset", by the origin's actor). It returns
// errs.ErrNotFound for an unknown account.
func (s *Service) IssueOneTimePassword(ctx context.Context, kind authz.PrincipalKind, id int64) (string, error) {
	var err error
	for range 100 {
		pw := oneTimePassword()
		err = s.setPassword(ctx, actPasswordReset, kind, id, pw, true)
		var fe *errs.FieldError
		if errors.As(err, &fe) && fe.Field == "password" {
			// The draw happened to contain the username: draw again.
			continue
		}
		if err != nil {
			return "", err
		}
		return pw, nil
	}
	return "", fmt.Errorf("issue one-time password: no random draw passed the password policy: %w", err)
}

// RevokeSessions ends every session of kind/id, recording it in the audit
// ledger ("session.revoke", by the origin's actor).
func (s *Service) RevokeSessions(ctx context.Context, kind authz.PrincipalKind, id int64) error {
	k, err := kindName(kind)
	if err != nil {
		return err
	}
	e, err := s.byOrigin(ctx, actRevoke, k, id)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := deleteSessions(ctx, tx, k, id); err != nil {
			return err
		}
		return s.recordTx(ctx, tx, e)
	})
}
