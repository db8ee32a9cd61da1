package procedures

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// Each account's allowance of population lookups: a burst, then one every
// lookupEvery. A citizen prefills a form or two; a clerk looks up the
// applicants in front of them; a script walking identity numbers is
// stopped after the burst.
const (
	lookupBurst = 10
	lookupEvery = 12 * time.Second
)

// maxPurpose bounds a lookup's stated purpose, in bytes.
const maxPurpose = 200

// ErrNoVerifiedID is returned when a citizen asks for their form to be
// filled but no identity number is verified on their account.
var ErrNoVerifiedID = fmt.Errorf("%w: no personal identification number is verified on your account, so your form cannot be filled from the National Population Database; fill it by hand, or have the number verified at a unit's counter with your identity card", errs.ErrConflict)

// endUserOf names the account of an audit origin as the population
// database's log names it: "citizen:7", "staff:12".
func endUserOf(o audit.Origin) string { return string(o.Actor.Kind) + ":" + o.Actor.ID }

// cleanPurpose returns a stated purpose fit for the audit ledger and a
// header field: trimmed, without control or bidi characters, at most
// maxPurpose bytes. It returns an error wrapping errs.ErrInvalid when
// nothing is left.
func cleanPurpose(s string) (string, error) {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, s))
	if s == "" {
		return "", errs.Invalid("purpose", "say why you look this citizen up (the dossier or the request at the counter): the lookup is recorded with its purpose")
	}
	if len(s) > maxPurpose {
		return "", errs.Invalid("purpose", fmt.Sprintf("is longer than %d bytes", maxPurpose))
	}
	return s, nil
}

// lookup asks the National Population Database for idNumber on behalf of
// ctx's actor, for purpose. Every lookup is limited per account
// (errs.ErrRateLimited), recorded in the audit ledger with its end user,
// purpose and outcome before the answer is used, and carries its end user
// and purpose to the database.
func (s *Service) lookup(ctx context.Context, idNumber, purpose string) (Person, error) {
	if s.opts.Population == nil {
		return Person{}, fmt.Errorf("%w: the National Population Database is not connected to this node; fill the form by hand", errs.ErrUnavailable)
	}
	o, err := s.origin(ctx)
	if err != nil {
		return Person{}, err
	}
	user := endUserOf(o)
	now := s.now()
	taken, wait, err := s.lookups.take(ctx, user, now)
	if err != nil {
		return Person{}, err
	}
	if !taken {
		return Person{}, fmt.Errorf("%w: too many lookups in the National Population Database from your account; try again in %d seconds",
			errs.ErrRateLimited, int(math.Ceil(wait.Seconds())))
	}
	person, err := s.opts.Population.Lookup(ctx, PopulationQuery{IDNumber: idNumber, EndUser: user, Purpose: purpose})
	outcome := "found"
	switch {
	case errors.Is(err, errs.ErrNotFound):
		outcome = "not_found"
	case err != nil:
		// The database was not reached: nobody's record was read, so the
		// attempt does not count against the account.
		outcome = "failed"
		// Giving it back is a courtesy: if it fails, the account waits
		// one attempt longer, and the lookup's own failure is what to report.
		if gerr := s.lookups.giveBack(ctx, user); gerr != nil {
			s.opts.Log.Warn("procedures: give back a failed population lookup's attempt", "err", gerr)
		}
	}
	// The ledger names whose record was asked for: that is what a
	// citizen asking who read their data needs answered.
	e := o.Event("population.lookup")
	e.ResourceType, e.ResourceID = "population_record", idNumber
	e.Attrs = map[string]string{"end_user": user, "purpose": purpose, "outcome": outcome}
	if _, aerr := s.opts.Recorder.Append(ctx, e); aerr != nil {
		return Person{}, fmt.Errorf("procedures: record a population lookup: %w", aerr)
	}
	return person, err
}

// IDCard is the identity-document choice of a form for the citizen
// identity card (thẻ căn cước), whose number the population database
// confirms.
const IDCard = "cccd"

// inputName returns the HTML input name of a form field's JSON pointer:
// "/holder/full_name" is "holder.full_name".
func inputName(ptr string) string {
	return strings.ReplaceAll(strings.TrimPrefix(ptr, "/"), "/", ".")
}

// prefillOf returns everything the database confirms of person, keyed by
// the HTML input names of p's form ("holder.full_name"): the particulars
// it holds, and that the number is a citizen identity card's.
func prefillOf(p *Procedure, person Person) map[string]string {
	out := map[string]string{}
	put := func(ptr, v string) {
		if ptr != "" && v != "" {
			out[inputName(ptr)] = v
		}
	}
	if len(p.Applicant.Name) == 1 {
		put(p.Applicant.Name[0], person.FullName)
	}
	put(p.Applicant.IDNumber, person.IDNumber)
	if person.IDNumber != "" {
		put(p.Applicant.IDType, IDCard)
	}
	put(p.Applicant.DateOfBirth, person.DateOfBirth)
	put(p.Applicant.Sex, person.Sex)
	put(p.Applicant.PlaceOfBirth, person.PlaceOfBirth)
	return out
}

// prefillable returns the procedure if its form takes a personal
// identification number, which is what a form is filled by.
func (s *Service) prefillable(procedure string) (*Procedure, error) {
	p, err := s.cat.Procedure(procedure)
	if err != nil {
		return nil, err
	}
	if p.Applicant.IDNumber == "" {
		return nil, errs.Invalid("id_number", "this procedure's form does not take a personal identification number, so it cannot be prefilled")
	}
	return p, nil
}

// Prefill returns the values the National Population Database holds for
// the signed-in citizen, keyed by the HTML input names of the procedure's
// form, for a page to fill in. It looks up only the number verified on
// the citizen's own account, never one typed in. It returns an error
// wrapping errs.ErrForbidden for anyone but a citizen, ErrNoVerifiedID
// (errs.ErrConflict) when the account has no verified number,
// errs.ErrInvalid when the procedure's form has no identification number,
// errs.ErrNotFound for a number the database does not know,
// errs.ErrRateLimited past the account's allowance and errs.ErrUnavailable
// when the database cannot be reached.
func (s *Service) Prefill(ctx context.Context, sub authz.Subject, procedure string) (map[string]string, error) {
	if sub.Kind != authz.Citizen {
		return nil, fmt.Errorf("%w: a citizen's form is filled from their own verified number; staff look applicants up at the counter, stating why", errs.ErrForbidden)
	}
	p, err := s.prefillable(procedure)
	if err != nil {
		return nil, err
	}
	id, err := s.VerifiedIDNumber(ctx, sub.ID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, ErrNoVerifiedID
	}
	if err != nil {
		return nil, err
	}
	person, err := s.lookup(ctx, id, "prefill of the citizen's own application for procedure "+p.Code)
	if err != nil {
		return nil, err
	}
	return prefillOf(p, person), nil
}

// CounterLookup returns what the National Population Database holds for
// the applicant with idNumber, keyed as Prefill keys it, to a clerk at the
// counter who states why (purpose, required: the dossier or request it is
// for). It returns errors as Prefill does, errs.ErrForbidden for a caller
// whose roles do not include the counter's lookups, and errs.ErrInvalid
// for a missing purpose or a number that is not 12 digits.
func (s *Service) CounterLookup(ctx context.Context, sub authz.Subject, procedure, idNumber, purpose string) (map[string]string, error) {
	if dec, _ := authz.Decide(sub, authz.Read, authz.Resource{Kind: authz.KindPopulationRecord}); dec != authz.Allowed {
		return nil, fmt.Errorf("%w: looking applicants up in the National Population Database is for the counter's clerks", errs.ErrForbidden)
	}
	p, err := s.prefillable(procedure)
	if err != nil {
		return nil, err
	}
	if !isCitizenID(idNumber) {
		return nil, errs.Invalid("id_number", "a personal identification number is exactly 12 digits")
	}
	if purpose, err = cleanPurpose(purpose); err != nil {
		return nil, err
	}
	person, err := s.lookup(ctx, idNumber, "counter: "+purpose)
	if err != nil {
		return nil, err
	}
	return prefillOf(p, person), nil
}

// reused reports whether a form's particulars are the population
// database's: the applicant gave a personal identification number and the
// name and date of birth in the form are the ones the database holds for
// it. This is what the reuse-of-data indicator counts, so it is checked,
// never taken from the page's word. A citizen's form is checked only
// against the number verified on their account: a form naming another
// number is not looked up at all.
func (s *Service) reused(ctx context.Context, sub authz.Subject, p *Procedure, form map[string]any) bool {
	id := text(form, p.Applicant.IDNumber)
	if s.opts.Population == nil || !isCitizenID(id) || len(p.Applicant.Name) != 1 {
		return false
	}
	if sub.Kind == authz.Citizen {
		own, err := s.VerifiedIDNumber(ctx, sub.ID)
		if err != nil || subtle.ConstantTimeCompare([]byte(own), []byte(id)) != 1 {
			return false
		}
	}
	person, err := s.lookup(ctx, id, "check that the particulars of a "+p.Code+" form are the database's (reuse of data)")
	if err != nil {
		return false
	}
	name, _ := applicantOf(p, form)
	dob := text(form, p.Applicant.DateOfBirth)
	return identity.Fold(name) == identity.Fold(person.FullName) && (p.Applicant.DateOfBirth == "" || dob == person.DateOfBirth)
}

// VerifyIdentity records idNumber as the personal identification number
// verified on the account of the citizen with citizenID, replacing any
// before: a clerk who checked the citizen's identity card at the counter,
// or the node itself for a trusted identity provider's verified claim.
// It is audited ("citizen.identity_verified"). It returns an error
// wrapping errs.ErrForbidden for a caller whose roles do not allow it,
// errs.ErrInvalid for a number that is not 12 digits and errs.ErrNotFound
// for an unknown citizen.
func (s *Service) VerifyIdentity(ctx context.Context, sub authz.Subject, citizenID int64, idNumber string) error {
	if dec, _ := authz.Decide(sub, authz.Update, authz.Resource{Kind: authz.KindCitizenIdentity}); dec != authz.Allowed {
		return fmt.Errorf("%w: identity numbers are verified by a clerk who sees the identity card", errs.ErrForbidden)
	}
	idNumber = strings.TrimSpace(idNumber)
	if !isCitizenID(idNumber) {
		return errs.Invalid("id_number", "a personal identification number is exactly 12 digits")
	}
	o, err := s.origin(ctx)
	if err != nil {
		return err
	}
	sealed, err := s.opts.Ring.Seal(ctx, keyPurpose, []byte(idNumber), []byte(fmt.Sprintf("citizen-id:%d", citizenID)))
	if err != nil {
		return fmt.Errorf("procedures: seal an identity number: %w", err)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, tx.Rebind(`SELECT 1 FROM citizens WHERE id = ?`), citizenID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no citizen has account %d", errs.ErrNotFound, citizenID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM citizen_verified_ids WHERE citizen_id = ?`), citizenID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO citizen_verified_ids (citizen_id, id_number, verified_by, verified_us) VALUES (?, ?, ?, ?)`),
			citizenID, sealed, endUserOf(o), us(s.now())); err != nil {
			return fmt.Errorf("procedures: record a verified identity number: %w", err)
		}
		e := o.Event("citizen.identity_verified")
		e.ResourceType, e.ResourceID = "citizen", fmt.Sprint(citizenID)
		e.Attrs = map[string]string{"id_number_last4": idNumber[8:]}
		return s.rec.Record(ctx, tx, e)
	})
}

// VerifiedIDNumber returns the identity number verified on a citizen's
// account, or an error wrapping errs.ErrNotFound when none is.
func (s *Service) VerifiedIDNumber(ctx context.Context, citizenID int64) (string, error) {
	var sealed []byte
	err := s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT id_number FROM citizen_verified_ids WHERE citizen_id = ?`), citizenID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: no identity number is verified on citizen account %d", errs.ErrNotFound, citizenID)
	}
	if err != nil {
		return "", fmt.Errorf("procedures: read a verified identity number: %w", err)
	}
	id, err := s.opts.Ring.Open(ctx, keyPurpose, sealed, []byte(fmt.Sprintf("citizen-id:%d", citizenID)))
	if err != nil {
		return "", fmt.Errorf("procedures: open a verified identity number: %w", err)
	}
	return string(id), nil
}
