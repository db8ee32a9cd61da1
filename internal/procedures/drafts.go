package procedures

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// NewDraft is an application a citizen starts on the public site.
type NewDraft struct {
	Procedure string
	// UnitCode is the agency code of the unit applied to.
	UnitCode string
	Form     map[string]any
	// Prefilled says the page filled the form from the population
	// database; the service checks it (see reused).
	Prefilled bool
}

// CreateDraft validates an application's form and keeps it as a draft of
// the signed-in citizen, to which files are then attached. It returns an
// error wrapping errs.ErrForbidden for anyone but a citizen, errs.ErrNotFound
// for an unknown procedure, errs.ErrInvalid (a *FormError naming every
// broken field) for a bad form or a unit that does not implement it.
func (s *Service) CreateDraft(ctx context.Context, sub authz.Subject, nd NewDraft) (Draft, error) {
	if sub.Kind != authz.Citizen {
		return Draft{}, fmt.Errorf("%w: online applications are made by citizens signed in to the public site; staff enter dossiers through the console", errs.ErrForbidden)
	}
	p, err := s.cat.Procedure(nd.Procedure)
	if err != nil {
		return Draft{}, err
	}
	u, err := s.unitFor(ctx, p, nd.UnitCode)
	if err != nil {
		return Draft{}, err
	}
	raw, err := checkForm(p, nd.Form)
	if err != nil {
		return Draft{}, err
	}
	now := s.now()
	fee, currency := feeOf(p, u.Kind.Mission())
	d := Draft{ID: randomID(), Procedure: p.Code, UnitID: u.ID, CitizenID: sub.ID, Form: nd.Form,
		Prefilled: nd.Prefilled && s.reused(ctx, sub, p, nd.Form), FeeAmount: fee, FeeCurrency: currency,
		CreatedAt: now, ExpiresAt: now.Add(DraftLifetime)}
	sealed, err := s.opts.Ring.Seal(ctx, keyPurpose, raw, []byte("draft:"+d.ID))
	if err != nil {
		return Draft{}, fmt.Errorf("procedures: seal the form: %w", err)
	}
	var abandoned []string
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if abandoned, err = deleteExpiredDrafts(ctx, tx, now); err != nil {
			return err
		}
		return insertDraft(ctx, tx, d, sealed)
	})
	if err != nil {
		return Draft{}, fmt.Errorf("procedures: save application: %w", err)
	}
	// The files of abandoned applications go once their rows have: a
	// failure here leaves sealed, unlisted bytes, never a listed file
	// without content.
	s.deleteBlobs(ctx, abandoned)
	return d, nil
}

// randomID returns 128 random bits in hex: an id that the payment
// gateway's order ids and blob keys take as they are.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Draft returns the signed-in citizen's draft, or an error wrapping
// errs.ErrNotFound (also for someone else's or an expired draft).
func (s *Service) Draft(ctx context.Context, sub authz.Subject, id string) (Draft, error) {
	d, sealed, err := loadDraft(ctx, s.db, id)
	if err == nil && (sub.Kind != authz.Citizen || d.CitizenID != sub.ID || !s.now().Before(d.ExpiresAt)) {
		err = errDraftNotFound
	}
	if err != nil {
		return Draft{}, err
	}
	raw, err := s.opts.Ring.Open(ctx, keyPurpose, sealed, []byte("draft:"+d.ID))
	if err != nil {
		return Draft{}, fmt.Errorf("procedures: open the application's form: %w", err)
	}
	if err := json.Unmarshal(raw, &d.Form); err != nil {
		return Draft{}, fmt.Errorf("procedures: decode the application's form: %w", err)
	}
	if d.Attachments, err = listAttachments(ctx, s.db, "draft_id", d.ID); err != nil {
		return Draft{}, err
	}
	return d, nil
}

// errDraftSubmitted refuses the losers of concurrent submissions of one
// draft.
var errDraftSubmitted = fmt.Errorf("%w: this application has just been submitted by another request; look for its dossier among your dossiers", errs.ErrConflict)

var errDraftNotFound = fmt.Errorf("%w: no such application in progress; applications are kept for %d days, start again from the procedure's page", errs.ErrNotFound, int(DraftLifetime.Hours()/24))

// Upload is a file to attach: its Content, already checked by
// CheckUpload, which is stored when a dossier or draft takes it, or a file
// that StoreUpload checked while streaming it into blob storage.
type Upload struct {
	DocumentKey string
	Filename    string
	MediaType   string
	Content     []byte
	// SHA256 is Content's digest when the caller has it (CheckUpload
	// computes it while reading); if empty, it is computed on storing.
	SHA256 []byte
	// stored is where StoreUpload put the file; nil for Content.
	stored *storedBlob
}

// storedBlob is a file in blob storage that no row lists yet.
type storedBlob struct {
	key  string
	size int64
}

// size returns the file's size in bytes.
func (up Upload) size() int64 {
	if up.stored != nil {
		return up.stored.size
	}
	return int64(len(up.Content))
}

// Upload returns the checked file with content as an attachment for the
// document with documentKey.
func (c CheckedUpload) Upload(documentKey string, content []byte) Upload {
	return Upload{DocumentKey: documentKey, Filename: c.Filename, MediaType: c.MediaType, Content: content, SHA256: c.SHA256}
}

// checkDocument refuses an attachment for a document the procedure does
// not list.
func checkDocument(p *Procedure, key string) error {
	for _, d := range p.Documents {
		if d.Key == key {
			return nil
		}
	}
	names := make([]string, len(p.Documents))
	for i, d := range p.Documents {
		names[i] = d.Key
	}
	return errs.Invalid("document", fmt.Sprintf("%q is not a document of procedure %s; use one of %s", key, p.Code, strings.Join(names, ", ")))
}

// AttachToDraft stores a file in the draft: sealed in blob storage, listed
// in the database. It returns an error wrapping errs.ErrInvalid for a
// document the procedure does not list.
//
// The upload is AttachToDraft's from the call on: on any error, a file
// StoreUpload stored is discarded.
func (s *Service) AttachToDraft(ctx context.Context, sub authz.Subject, draftID string, up Upload) (_ Attachment, err error) {
	defer func() { s.discardOnError(ctx, err, []Upload{up}) }()
	d, err := s.Draft(ctx, sub, draftID)
	if err != nil {
		return Attachment{}, err
	}
	p, err := s.cat.Procedure(d.Procedure)
	if err != nil {
		return Attachment{}, err
	}
	if err := checkDocument(p, up.DocumentKey); err != nil {
		return Attachment{}, err
	}
	// A first look spares writing a blob that cannot be listed; the
	// check that counts is the one inside the transaction.
	if err := checkDossierFiles(d.Attachments, 1, up.size()); err != nil {
		return Attachment{}, err
	}
	a, err := s.putBlob(ctx, &up)
	if err != nil {
		return Attachment{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		held, err := lockedDraftFiles(ctx, tx, d.ID)
		if err != nil {
			return err
		}
		if err := checkDossierFiles(held, 1, a.Size); err != nil {
			return err
		}
		return insertAttachment(ctx, tx, &a, "draft_id", d.ID)
	})
	if err != nil {
		return Attachment{}, fmt.Errorf("procedures: record attachment: %w", err)
	}
	return a, nil
}

// RemoveFromDraft removes a file from the signed-in citizen's draft.
func (s *Service) RemoveFromDraft(ctx context.Context, sub authz.Subject, draftID string, attachmentID int64) error {
	d, err := s.Draft(ctx, sub, draftID)
	if err != nil {
		return err
	}
	for _, a := range d.Attachments {
		if a.ID == attachmentID {
			if err := s.db.InTx(ctx, func(tx *store.Tx) error { return deleteAttachment(ctx, tx, a.ID) }); err != nil {
				return err
			}
			s.deleteBlob(ctx, a.blobKey)
			return nil
		}
	}
	return fmt.Errorf("%w: the application has no attachment %d", errs.ErrNotFound, attachmentID)
}

// putBlob returns an upload as the attachment to list, storing its
// Content sealed in blob storage first (and marking up stored) unless
// StoreUpload stored it. It writes before the row that lists the file
// commits: a crash in between leaves an unlisted blob, never a listed
// file without content.
func (s *Service) putBlob(ctx context.Context, up *Upload) (Attachment, error) {
	a := Attachment{DocumentKey: up.DocumentKey, Filename: up.Filename, MediaType: up.MediaType, Size: up.size(),
		SHA256: up.SHA256, CreatedAt: s.now()}
	if up.stored != nil {
		a.blobKey = up.stored.key
		return a, nil
	}
	if len(a.SHA256) != sha256.Size {
		d := sha256.Sum256(up.Content)
		a.SHA256 = d[:]
	}
	key, err := newBlobKey()
	if err == nil {
		err = s.writeBlob(ctx, key, func(w io.Writer) error {
			_, err := w.Write(up.Content)
			return err
		})
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("procedures: store attachment: %w", err)
	}
	a.blobKey = key
	up.stored = &storedBlob{key: key, size: a.Size}
	return a, nil
}

func (s *Service) deleteBlob(ctx context.Context, key string) {
	if err := s.opts.Bucket.Delete(context.WithoutCancel(ctx), key); err != nil {
		s.opts.Log.Warn("procedures: delete an orphaned attachment blob", "key", key, "err", err)
	}
}

// digitised reports whether every required document of p has a file.
func digitised(p *Procedure, atts []Attachment) bool {
	for _, d := range p.Documents {
		if !d.Required {
			continue
		}
		found := false
		for _, a := range atts {
			found = found || a.DocumentKey == d.Key
		}
		if !found {
			return false
		}
	}
	return true
}
