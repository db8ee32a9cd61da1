package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

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
	if until, blocked, err := s.pairs.blocked(ctx, pair, now); err != nil || blocked {
		if err != nil {
			return err
		}
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
