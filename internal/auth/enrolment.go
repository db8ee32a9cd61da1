package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

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
	if until, blocked, err := s.pairs.blocked(ctx, pair, now); err != nil || blocked {
		if err != nil {
			return err
		}
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
