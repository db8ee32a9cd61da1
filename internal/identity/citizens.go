package identity

// This file holds the directory's citizens: their accounts on the
// public site.

import (
	"context"
	"fmt"
	"strings"

	"chancery/internal/audit"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// NewCitizen is what CreateCitizen needs to create an account on the public site.
type NewCitizen struct {
	Email    string
	FullName string
	Phone    string // optional
}

// clean validates in field by field and returns it normalised.
func (in NewCitizen) clean() (NewCitizen, error) {
	var err error
	if in.Email, err = cleanEmail(in.Email, false); err != nil {
		return in, err
	}
	if in.FullName, err = cleanName("full_name", in.FullName); err != nil {
		return in, err
	}
	if in.Phone, err = cleanPhone(in.Phone); err != nil {
		return in, err
	}
	return in, nil
}

// Check validates in field by field as CreateCitizen does, and returns it
// normalised (the e-mail address lower-cased), for a caller that keeps
// the details until the account is created, as a registration waiting
// for its address to be confirmed does.
func (in NewCitizen) Check() (NewCitizen, error) { return in.clean() }

// CreateCitizen creates an account on the public site and records it in the audit
// ledger ("citizen.register"): as done by the origin's actor, or when the
// caller has not signed in, by the citizen registering themselves. The
// e-mail address is stored lower-cased. It returns an errs.FieldError for
// a malformed field and ErrConflict when the address is already
// registered.
func (s *Service) CreateCitizen(ctx context.Context, in NewCitizen) (Citizen, error) {
	in, err := in.clean()
	if err != nil {
		return Citizen{}, fmt.Errorf("create citizen account: %w", err)
	}
	o, err := s.rec.AnyOrigin(ctx)
	if err != nil {
		return Citizen{}, fmt.Errorf("create citizen account: %w", err)
	}
	cit := Citizen{Email: in.Email, FullName: in.FullName, Phone: in.Phone, CreatedAt: s.clock()}
	err = s.inTx(ctx, o, func(c *change) error {
		id, err := insertCitizen(ctx, c.tx, cit)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("%w: the e-mail address is already registered; sign in or reset the password", errs.ErrConflict)
		}
		if err != nil {
			return err
		}
		cit.ID = id
		if c.origin.Anonymous() {
			c.origin.Actor = audit.Citizen(id, "")
		}
		// The ledger holds the account's id only: the address, name and
		// phone number are personal data.
		return c.record("citizen.register", resCitizen, id, nil)
	})
	if err != nil {
		return Citizen{}, fmt.Errorf("create citizen account: %w", err)
	}
	return cit, nil
}

// Citizen returns the citizen with id, or an ErrNotFound error.
func (s *Service) Citizen(ctx context.Context, id int64) (Citizen, error) {
	return citizenWhere(ctx, s.db, "id = ?", id)
}

// CitizenByEmail returns the citizen registered with email (compared
// case-insensitively), or an ErrNotFound error.
func (s *Service) CitizenByEmail(ctx context.Context, email string) (Citizen, error) {
	return citizenWhere(ctx, s.db, "email = ?", strings.ToLower(strings.TrimSpace(email)))
}
