package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// credential is a row of the credentials table.
type credential struct {
	kind         string
	id           int64
	passwordHash string // empty: no password (an OIDC-only account)
	mustChange   bool
	totpSecret   []byte // sealed; nil until enrolment starts
	totpEnabled  bool
	totpLastStep int64
}

// getCredential returns the credentials of kind/id, or an error wrapping
// errs.ErrNotFound when the account has none.
func getCredential(ctx context.Context, q store.Queryer, kind string, id int64) (credential, error) {
	c := credential{kind: kind, id: id}
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT password_hash, must_change_password, totp_secret, totp_enabled,
		totp_last_step FROM credentials WHERE principal_kind = ? AND principal_id = ?`), kind, id).
		Scan(&c.passwordHash, &c.mustChange, &c.totpSecret, &c.totpEnabled, &c.totpLastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("credentials of %s %d: %w", kind, id, errs.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("read credentials of %s %d: %w", kind, id, err)
	}
	return c, nil
}

// putPassword stores a password hash for kind/id, creating the row if
// needed. It also zeroes failed_logins and locked_until, left from the
// account lockout that the in-memory slowing of guesses replaced.
func putPassword(ctx context.Context, q store.Queryer, kind string, id int64, hash string, mustChange bool, now time.Time) error {
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO credentials (principal_kind, principal_id, password_hash,
		must_change_password, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (principal_kind, principal_id) DO UPDATE SET password_hash = excluded.password_hash,
		must_change_password = excluded.must_change_password, failed_logins = 0, locked_until = NULL,
		updated_at = excluded.updated_at`), kind, id, hash, mustChange, now)
	if err != nil {
		return fmt.Errorf("store password of %s %d: %w", kind, id, err)
	}
	return nil
}

// putEnrolmentCode stores the hash of a new enrolment code for kind/id,
// valid until expires, dropping any earlier code and any secret not yet
// confirmed. It reports false, storing nothing, when a factor is enabled.
func putEnrolmentCode(ctx context.Context, q store.Queryer, kind string, id int64, hash string, expires, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO credentials (principal_kind, principal_id, enrol_code_hash,
		enrol_code_expires, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (principal_kind, principal_id) DO UPDATE SET enrol_code_hash = excluded.enrol_code_hash,
		enrol_code_expires = excluded.enrol_code_expires, totp_secret = NULL, updated_at = excluded.updated_at
		WHERE NOT credentials.totp_enabled`), kind, id, hash, expires, now)
	return affectedOne(res, err, "store enrolment code", kind, id)
}

// claimEnrolmentCode uses kind/id's enrolment code, if its hash is hash
// and it has not expired, storing sealed as the secret being enrolled.
// It reports false, changing nothing, for a wrong, used or expired code
// or an enabled factor.
func claimEnrolmentCode(ctx context.Context, q store.Queryer, kind string, id int64, hash string, sealed []byte, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE credentials SET enrol_code_hash = '', enrol_code_expires = NULL,
		totp_secret = ?, updated_at = ? WHERE principal_kind = ? AND principal_id = ? AND enrol_code_hash <> ''
		AND enrol_code_hash = ? AND enrol_code_expires > ? AND NOT totp_enabled`), sealed, now, kind, id, hash, now)
	return affectedOne(res, err, "use enrolment code", kind, id)
}

// putEnabledTOTP stores sealed as kind/id's enabled TOTP secret, unless a
// factor is already enabled (it then reports false).
func putEnabledTOTP(ctx context.Context, q store.Queryer, kind string, id int64, sealed []byte, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO credentials (principal_kind, principal_id, totp_secret,
		totp_enabled, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (principal_kind, principal_id) DO UPDATE SET totp_secret = excluded.totp_secret,
		totp_enabled = excluded.totp_enabled, totp_last_step = 0, enrol_code_hash = '', enrol_code_expires = NULL,
		updated_at = excluded.updated_at WHERE NOT credentials.totp_enabled`), kind, id, sealed, true, now)
	return affectedOne(res, err, "store TOTP secret", kind, id)
}

// affectedOne reports whether the statement that gave res and err changed
// a row, wrapping err with what was done.
func affectedOne(res sql.Result, err error, what string, kind string, id int64) (bool, error) {
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil {
			return n == 1, nil
		}
	}
	return false, fmt.Errorf("%s of %s %d: %w", what, kind, id, err)
}

// claimTOTPStep records step as the last TOTP step used by kind/id, and
// with enable also enables TOTP. It reports false when a step at or after
// step was already used, so of two requests racing with one code only
// one succeeds.
func claimTOTPStep(ctx context.Context, q store.Queryer, kind string, id int64, step int64, enable bool, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE credentials SET totp_last_step = ?, totp_enabled = ?, updated_at = ?
		WHERE principal_kind = ? AND principal_id = ? AND totp_last_step < ? AND totp_secret IS NOT NULL
		AND (totp_enabled OR ?)`), step, true, now, kind, id, step, enable)
	if err != nil {
		return false, fmt.Errorf("record TOTP step of %s %d: %w", kind, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record TOTP step of %s %d: %w", kind, id, err)
	}
	return n == 1, nil
}

// replaceHash stores hash, made with the current parameters, in place of
// kind/id's password hash after a sign-in with a weaker one.
func replaceHash(ctx context.Context, q store.Queryer, kind string, id int64, hash string, now time.Time) error {
	_, err := q.ExecContext(ctx, q.Rebind(`UPDATE credentials SET password_hash = ?, updated_at = ?
		WHERE principal_kind = ? AND principal_id = ?`), hash, now, kind, id)
	if err != nil {
		return fmt.Errorf("store the stronger password hash of %s %d: %w", kind, id, err)
	}
	return nil
}

// sessionRow is a row of the sessions table, with the TOTP state of its
// principal's credentials.
type sessionRow struct {
	hash      string
	kind      string
	id        int64
	stage     string
	method    string
	csrf      string
	address   string
	userAgent string
	createdAt time.Time
	expiresAt time.Time
	lastSeen  time.Time
	// level is the level the session works at (authz.Subject.Session).
	level authz.Level
	// totpEnabled is read from the principal's credentials.
	totpEnabled bool
}

func insertSession(ctx context.Context, q store.Queryer, r sessionRow) error {
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO sessions (token_hash, principal_kind, principal_id, stage,
		method, csrf, address, user_agent, created_at, expires_at, last_seen_at, level) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		r.hash, r.kind, r.id, r.stage, r.method, r.csrf, r.address, r.userAgent, r.createdAt, r.expiresAt, r.lastSeen, int(r.level))
	if err != nil {
		return fmt.Errorf("store session of %s %d: %w", r.kind, r.id, err)
	}
	return nil
}

// sessionByHash returns the session whose token hashes to hash, or an
// error wrapping errs.ErrNotFound.
func sessionByHash(ctx context.Context, q store.Queryer, hash string) (sessionRow, error) {
	r := sessionRow{hash: hash}
	var totp sql.NullBool
	var level int
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT s.principal_kind, s.principal_id, s.stage, s.method, s.csrf,
		s.address, s.user_agent, s.created_at, s.expires_at, s.last_seen_at, c.totp_enabled, s.level
		FROM sessions s LEFT JOIN credentials c ON c.principal_kind = s.principal_kind AND c.principal_id = s.principal_id
		WHERE s.token_hash = ?`), hash).
		Scan(&r.kind, &r.id, &r.stage, &r.method, &r.csrf, &r.address, &r.userAgent, &r.createdAt, &r.expiresAt, &r.lastSeen, &totp, &level)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("session: %w", errs.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("read session: %w", err)
	}
	r.createdAt, r.expiresAt, r.lastSeen = r.createdAt.UTC(), r.expiresAt.UTC(), r.lastSeen.UTC()
	r.totpEnabled = totp.Valid && totp.Bool
	r.level = min(authz.Level(level), authz.TopSecret)
	return r, nil
}

// touchSession records that the session was used at now.
func touchSession(ctx context.Context, q store.Queryer, hash string, now time.Time) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`), now, hash); err != nil {
		return fmt.Errorf("record session use: %w", err)
	}
	return nil
}

// deleteSession ends the session whose token hashes to hash. It returns
// an error wrapping errs.ErrNotFound when there is no such session, so of
// two requests ending one session only one reports (and records) it.
func deleteSession(ctx context.Context, q store.Queryer, hash string) error {
	res, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM sessions WHERE token_hash = ?`), hash)
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("end session: %w", errs.ErrNotFound)
	}
	return nil
}

// deleteSessions ends every session of kind/id.
func deleteSessions(ctx context.Context, q store.Queryer, kind string, id int64) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM sessions WHERE principal_kind = ? AND principal_id = ?`), kind, id); err != nil {
		return fmt.Errorf("end sessions of %s %d: %w", kind, id, err)
	}
	return nil
}

// deleteOtherSessions ends every session of kind/id but the one whose
// token hashes to keep.
func deleteOtherSessions(ctx context.Context, q store.Queryer, kind string, id int64, keep string) error {
	_, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM sessions WHERE principal_kind = ? AND principal_id = ? AND token_hash <> ?`),
		kind, id, keep)
	if err != nil {
		return fmt.Errorf("end other sessions of %s %d: %w", kind, id, err)
	}
	return nil
}

// advanceSessions moves kind/id's sessions at stage from to stage to.
func advanceSessions(ctx context.Context, q store.Queryer, kind string, id int64, from, to string) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`UPDATE sessions SET stage = ? WHERE principal_kind = ? AND principal_id = ? AND stage = ?`),
		to, kind, id, from); err != nil {
		return fmt.Errorf("advance sessions of %s %d: %w", kind, id, err)
	}
	return nil
}

// setSessionStage sets the stage of the session whose token hashes to hash.
func setSessionStage(ctx context.Context, q store.Queryer, hash, stage string) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`UPDATE sessions SET stage = ? WHERE token_hash = ?`), stage, hash); err != nil {
		return fmt.Errorf("advance session: %w", err)
	}
	return nil
}

// sweepSessions deletes sessions past their absolute expiry, and those of
// each kind unused since its idle cutoff, so the table does not grow with
// sessions nobody signed out of.
func sweepSessions(ctx context.Context, q store.Queryer, now, staffIdle, citizenIdle time.Time) error {
	_, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM sessions WHERE expires_at <= ?
		OR (principal_kind = 'staff' AND last_seen_at <= ?) OR (principal_kind = 'citizen' AND last_seen_at <= ?)`),
		now, staffIdle, citizenIdle)
	if err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}

// link is a row of auth_links: a mailed single-use link.
type link struct {
	token        string // the raw token, only when inserting
	purpose      string
	email        string
	principalID  int64
	fullName     string
	phone        string
	passwordHash string
	createdAt    time.Time
	expiresAt    time.Time
}

// insertLink stores l under the SHA-256 of its token.
func insertLink(ctx context.Context, q store.Queryer, l link) error {
	hash, _ := hashToken(l.token)
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO auth_links (token_hash, purpose, email, principal_id, full_name, phone,
		password_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		hash, l.purpose, l.email, l.principalID, l.fullName, l.phone, l.passwordHash, l.createdAt, l.expiresAt)
	if err != nil {
		return fmt.Errorf("store a %s link: %w", l.purpose, err)
	}
	return nil
}

const linkColumns = `purpose, email, principal_id, full_name, phone, password_hash, created_at, expires_at`

func scanLink(row interface{ Scan(...any) error }) (link, error) {
	var l link
	err := row.Scan(&l.purpose, &l.email, &l.principalID, &l.fullName, &l.phone, &l.passwordHash, &l.createdAt, &l.expiresAt)
	l.createdAt, l.expiresAt = l.createdAt.UTC(), l.expiresAt.UTC()
	return l, err
}

// linkByHash returns the link whose token hashes to hash, or an error
// wrapping errs.ErrNotFound.
func linkByHash(ctx context.Context, q store.Queryer, hash string) (link, error) {
	l, err := scanLink(q.QueryRowContext(ctx, q.Rebind(`SELECT `+linkColumns+` FROM auth_links WHERE token_hash = ?`), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("link: %w", errs.ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("read link: %w", err)
	}
	return l, nil
}

// takeLink deletes the link for purpose whose token hashes to hash and
// returns it, or errBadLink when there is none or it expired by now. Of
// two transactions taking one link, only one gets it.
func takeLink(ctx context.Context, q store.Queryer, hash, purpose string, now time.Time) (link, error) {
	l, err := scanLink(q.QueryRowContext(ctx, q.Rebind(`DELETE FROM auth_links WHERE token_hash = ? AND purpose = ?
		RETURNING `+linkColumns), hash, purpose))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return l, errBadLink
	case err != nil:
		return l, fmt.Errorf("use a %s link: %w", purpose, err)
	case !now.Before(l.expiresAt):
		return l, errBadLink
	}
	return l, nil
}

// deleteLinks ends every link for purpose sent to email.
func deleteLinks(ctx context.Context, q store.Queryer, purpose, email string) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM auth_links WHERE purpose = ? AND email = ?`), purpose, email); err != nil {
		return fmt.Errorf("end %s links: %w", purpose, err)
	}
	return nil
}

// sweepLinks deletes the links expired by now.
func sweepLinks(ctx context.Context, q store.Queryer, now time.Time) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM auth_links WHERE expires_at <= ?`), now); err != nil {
		return fmt.Errorf("delete expired links: %w", err)
	}
	return nil
}
