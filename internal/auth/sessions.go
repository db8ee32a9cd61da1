package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/web"
)

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
