package procedures

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Get returns a dossier with its form, files and history to the citizen
// who submitted it or a member of the unit resolving it; to anyone else,
// and for an unknown code, an error wrapping errs.ErrNotFound. A staff
// member's reading is recorded in the audit ledger: the form holds
// personal data.
func (s *Service) Get(ctx context.Context, sub authz.Subject, code string) (*Dossier, error) {
	d, err := s.load(ctx, s.db, code)
	if err != nil {
		return nil, err
	}
	if err := s.mayRead(sub, d); err != nil {
		return nil, err
	}
	if err := s.complete(ctx, d); err != nil {
		return nil, err
	}
	if sub.Kind == authz.Staff {
		// A staff member's reading is always recorded: without an origin
		// to name them the reading is refused (audit.Writer's rule), not
		// left unrecorded.
		o, err := s.origin(ctx)
		if err != nil {
			return nil, err
		}
		e := o.Event("dossier.read")
		e.ResourceType, e.ResourceID, e.UnitID = "dossier", d.Code, d.UnitID
		if _, err := s.opts.Recorder.Append(ctx, e); err != nil {
			return nil, fmt.Errorf("procedures: record the reading of %s: %w", code, err)
		}
	}
	return d, nil
}

// load reads a dossier's row (form sealed, not yet opened).
func (s *Service) load(ctx context.Context, q store.Queryer, code string) (*Dossier, error) {
	if _, err := ParseDossierCode(code); err != nil {
		return nil, fmt.Errorf("%w: %q is not a dossier code such as 000.00.03.G12-250314-000042", errs.ErrNotFound, code)
	}
	return loadDossier(ctx, q, code)
}

// complete opens the form and loads the files and history of d.
func (s *Service) complete(ctx context.Context, d *Dossier) error {
	raw, err := s.opts.Ring.Open(ctx, keyPurpose, d.sealedForm, []byte("dossier:"+d.Code))
	if err != nil {
		return fmt.Errorf("procedures: open the form of %s: %w", d.Code, err)
	}
	if err := json.Unmarshal(raw, &d.Form); err != nil {
		return fmt.Errorf("procedures: decode the form of %s: %w", d.Code, err)
	}
	if d.TrackingPIN, err = s.trackingPIN(ctx, d); err != nil {
		return err
	}
	if d.Attachments, err = listAttachments(ctx, s.db, "dossier_id", d.ID); err != nil {
		return err
	}
	d.History, err = listEntries(ctx, s.db, d.ID)
	return err
}

// mayRead refuses, as absence, anyone but the applicant and the unit. The
// refusal carries Decide's reason, so that it is audited with it.
func (s *Service) mayRead(sub authz.Subject, d *Dossier) error {
	r := authz.Resource{Kind: authz.KindDossier, Unit: d.UnitID, Owner: d.CitizenID}
	if dec, reason := authz.Decide(sub, authz.Read, r); dec != authz.Allowed {
		return fmt.Errorf("no dossier has code %s: %w", d.Code, authz.Refuse(authz.Concealed, reason, authz.Read, r, d.Code))
	}
	return nil
}

// Attachment returns a file of a dossier and its content, to those who may
// read the dossier.
func (s *Service) Attachment(ctx context.Context, sub authz.Subject, code string, id int64) (Attachment, []byte, error) {
	d, err := s.load(ctx, s.db, code)
	if err != nil {
		return Attachment{}, nil, err
	}
	if err := s.mayRead(sub, d); err != nil {
		return Attachment{}, nil, err
	}
	atts, err := listAttachments(ctx, s.db, "dossier_id", d.ID)
	if err != nil {
		return Attachment{}, nil, err
	}
	for _, a := range atts {
		if a.ID == id {
			content, err := s.readBlob(ctx, a)
			return a, content, err
		}
	}
	return Attachment{}, nil, fmt.Errorf("%w: dossier %s has no attachment %d", errs.ErrNotFound, code, id)
}

// DraftAttachment returns a file of the signed-in citizen's draft.
func (s *Service) DraftAttachment(ctx context.Context, sub authz.Subject, draftID string, id int64) (Attachment, []byte, error) {
	d, err := s.Draft(ctx, sub, draftID)
	if err != nil {
		return Attachment{}, nil, err
	}
	for _, a := range d.Attachments {
		if a.ID == id {
			content, err := s.readBlob(ctx, a)
			return a, content, err
		}
	}
	return Attachment{}, nil, fmt.Errorf("%w: the application has no attachment %d", errs.ErrNotFound, id)
}

// Tracking is what anyone holding a dossier's code and its tracking PIN
// may learn of it, as on the national portal: where it stands, not what it
// holds.
type Tracking struct {
	Code          string    `json:"code"`
	Procedure     string    `json:"procedure_code"`
	UnitCode      string    `json:"agency_code"`
	Status        Status    `json:"status"`
	SubmittedAt   time.Time `json:"submitted_at"`
	AppointmentAt time.Time `json:"appointment_at,omitzero"`
	UpdatedAt     time.Time `json:"updated_at"`
	Outcome       Outcome   `json:"outcome,omitempty"`
}

// trackingPINDigits is the length of a tracking PIN. Dossier codes are
// sequential, so the PIN is what keeps a stranger from following every
// dossier of a unit: 10^8 guesses per code, at the rate public tracking
// allows an address.
const trackingPINDigits = 8

// newTrackingPIN returns a fresh random tracking PIN.
func newTrackingPIN() string {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		panic("procedures: the system's random source failed: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return fmt.Sprintf("%0*d", trackingPINDigits, n.Int64())
}

// NormalizeTrackingPIN returns a tracking PIN as typed without the spaces
// and hyphens a reader may copy from the receipt.
func NormalizeTrackingPIN(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// trackingPIN opens d's sealed tracking PIN; "" for a dossier without one.
func (s *Service) trackingPIN(ctx context.Context, d *Dossier) (string, error) {
	if len(d.sealedPIN) == 0 {
		return "", nil
	}
	pin, err := s.opts.Ring.Open(ctx, keyPurpose, d.sealedPIN, []byte("pin:"+d.Code))
	if err != nil {
		return "", fmt.Errorf("procedures: open the tracking PIN of %s: %w", d.Code, err)
	}
	return string(pin), nil
}

// errTrackNotFound is the one answer to every failed tracking: an unknown
// or malformed code and a wrong PIN read the same, so that tracking does
// not tell which dossier codes exist.
var errTrackNotFound = fmt.Errorf("%w: no dossier has this code and tracking PIN; both are printed on the receipt", errs.ErrNotFound)

// Track returns the tracking view of the dossier with code to anyone who
// gives its tracking PIN (spaces and hyphens ignored). Every failure, an
// unknown or malformed code, a wrong or missing PIN, or a dossier without
// a PIN, returns the same error, wrapping errs.ErrNotFound. Callers limit
// how often one client may try (Handler does, per address).
func (s *Service) Track(ctx context.Context, code, pin string) (Tracking, error) {
	d, err := s.load(ctx, s.db, strings.TrimSpace(code))
	if errors.Is(err, errs.ErrNotFound) {
		return Tracking{}, errTrackNotFound
	}
	if err != nil {
		return Tracking{}, err
	}
	want, err := s.trackingPIN(ctx, d)
	if err != nil {
		return Tracking{}, err
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(NormalizeTrackingPIN(pin))) != 1 {
		return Tracking{}, errTrackNotFound
	}
	return Tracking{Code: d.Code, Procedure: d.Procedure, UnitCode: d.UnitCode, Status: d.Status, SubmittedAt: d.SubmittedAt,
		AppointmentAt: d.AppointmentAt, UpdatedAt: d.UpdatedAt, Outcome: d.Outcome}, nil
}

// ErrNoResult is returned for a dossier without an electronic result.
var ErrNoResult = fmt.Errorf("%w: this dossier has no electronic result", errs.ErrNotFound)
