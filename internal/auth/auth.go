// Package auth signs people in: staff to the console and the API, citizens
// to the public site. It keeps their credentials (argon2id password hashes and
// TOTP second factors, sealed at rest) and their sessions, slows password
// guessing per account and address without ever locking an account, lets
// citizens register and recover their passwords by mailed links, and
// offers an optional OpenID Connect sign-in through the ministry's
// identity provider.
//
// Who the people are is internal/identity's business, reached through the
// Directory interface; what they may do is internal/authz's.
package auth

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/authz"
	"chancery/internal/identity"
)

// Directory is what auth needs from the ministry's directory; the
// identity.Service implements it. Lookups of absent people return errors
// wrapping errs.ErrNotFound.
type Directory interface {
	CreateUnit(ctx context.Context, actor string, in identity.NewUnit) (identity.Unit, error)
	CreateStaff(ctx context.Context, actor string, in identity.NewStaff) (identity.StaffMember, error)
	Staff(ctx context.Context, id int64) (identity.StaffMember, error)
	StaffByUsername(ctx context.Context, username string) (identity.StaffMember, error)
	StaffByOIDCSubject(ctx context.Context, issuer, subject string) (identity.StaffMember, error)
	CreateCitizen(ctx context.Context, in identity.NewCitizen) (identity.Citizen, error)
	Citizen(ctx context.Context, id int64) (identity.Citizen, error)
	CitizenByEmail(ctx context.Context, email string) (identity.Citizen, error)
}

// Sealer encrypts small secrets at rest; internal/keys' Ring implements it.
// The additional data binds a ciphertext to its owner, so a sealed secret
// copied onto another account does not open.
type Sealer interface {
	Seal(ctx context.Context, purpose string, plaintext, ad []byte) ([]byte, error)
	Open(ctx context.Context, purpose string, ciphertext, ad []byte) ([]byte, error)
}

// SealPurpose is the keyring purpose under which TOTP secrets are sealed;
// the keyring must be loaded with it.
const SealPurpose = "auth"

// The stages of a session. Only a StageFull session reaches ordinary
// routes; the others reach the one sign-in step they name (see
// web.SignInStep).
const (
	StageFull           = "full"
	StageEnrollTOTP     = "enroll_totp"     // cleared staff without a second factor yet
	StageChangePassword = "change_password" // signed in with a one-time password
	StageVerifyTOTP     = "verify_totp"     // signed in through OIDC without MFA; the TOTP code is still due
)

// Session is what a successful sign-in hands the client.
type Session struct {
	// Token is the bearer credential: 32 random bytes, base64url. Only its
	// SHA-256 is stored, so a copy of the database opens no session.
	Token string
	// ExpiresAt is when the session ends at the latest; one left unused
	// for longer than the idle timeout ends sooner.
	ExpiresAt time.Time
	// Stage is StageFull, or the sign-in step the session is limited to.
	Stage string
	// CSRF is the anti-forgery token bound to the session: every unsafe
	// request the session makes must carry it (web.Principal.CSRF), so a
	// token planted in the browser before sign-in, or one of another
	// session, is refused. The sign-in pages also set it as
	// web.CSRFCookie.
	CSRF string
}

// kindName returns the storage name of a principal kind, refusing kinds
// that have no credentials (anonymous, the node itself).
func kindName(k authz.PrincipalKind) (string, error) {
	switch k {
	case authz.Staff:
		return "staff", nil
	case authz.Citizen:
		return "citizen", nil
	}
	return "", fmt.Errorf("auth: principal kind %d has no credentials; use staff or citizen", k)
}

// principal is a staff member or a citizen as sign-in needs them.
type principal struct {
	kind     authz.PrincipalKind
	id       int64
	username string // staff username or citizen e-mail
	name     string
	subject  authz.Subject
	disabled bool
}

func staffPrincipal(m identity.StaffMember) principal {
	return principal{kind: authz.Staff, id: m.ID, username: m.Username, name: m.FullName, subject: m.Subject(), disabled: m.Disabled}
}

func citizenPrincipal(c identity.Citizen) principal {
	return principal{kind: authz.Citizen, id: c.ID, username: c.Email, name: c.FullName, subject: c.Subject()}
}

// cleared reports whether p must sign in with a second factor: cleared
// staff (DESIGN.md §6) and the roles authz.Subject.NeedsSecondFactor
// names, which is where that rule lives.
func (p principal) cleared() bool {
	return p.kind == authz.Staff && p.subject.NeedsSecondFactor()
}

// lookup loads the principal kind/id from the directory.
func (s *Service) lookup(ctx context.Context, kind authz.PrincipalKind, id int64) (principal, error) {
	switch kind {
	case authz.Staff:
		m, err := s.dir.Staff(ctx, id)
		if err != nil {
			return principal{}, err
		}
		return staffPrincipal(m), nil
	case authz.Citizen:
		c, err := s.dir.Citizen(ctx, id)
		if err != nil {
			return principal{}, err
		}
		return citizenPrincipal(c), nil
	}
	_, err := kindName(kind)
	return principal{}, err
}

// lookupByName loads the principal kind signing in as name: a staff
// username or a citizen's e-mail address.
func (s *Service) lookupByName(ctx context.Context, kind authz.PrincipalKind, name string) (principal, error) {
	switch kind {
	case authz.Staff:
		m, err := s.dir.StaffByUsername(ctx, name)
		if err != nil {
			return principal{}, err
		}
		return staffPrincipal(m), nil
	case authz.Citizen:
		c, err := s.dir.CitizenByEmail(ctx, name)
		if err != nil {
			return principal{}, err
		}
		return citizenPrincipal(c), nil
	}
	_, err := kindName(kind)
	return principal{}, err
}
