package procedures

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// keyPurpose is the keyring purpose that seals forms and attachments.
const keyPurpose = keys.PurposeProcedures

// DraftLifetime is how long an application may be prepared before it is
// discarded.
const DraftLifetime = 7 * 24 * time.Hour

// Options configure a Service. DB, Catalogue, Ring, Bucket, Directory and
// Recorder are required.
type Options struct {
	DB        *store.DB
	Catalogue *Catalogue
	// Ring seals forms and attachments and signs electronic results.
	Ring      *keys.Ring
	Bucket    *blob.Bucket
	Directory Directory
	Recorder  Recorder
	// Notifier queues e-mail notices; if nil, none are sent.
	Notifier Notifier
	// Population prefills forms; if nil, prefilling is unavailable.
	Population Population
	// NationalPortal receives status reports for the National Public
	// Service Portal; if nil, they stay queued (the reconciliation page
	// shows them) until a sender is set.
	NationalPortal NationalPortalSender
	// Now is the clock; if nil, store.Now.
	Now func() time.Time
	// Log receives the portal sync's errors; if nil, slog.Default.
	Log *slog.Logger
}

// Service is the administrative procedure resolution system: it takes
// applications and dossiers, moves them through the lifecycle, keeps their
// history and files, and reports every status to the national portal.
// Every change runs in one transaction with its audit event, its status
// report and its notice. It is safe for concurrent use.
type Service struct {
	opts Options
	db   *store.DB
	cat  *Catalogue
	wake chan struct{} // nudges the portal sync
	rec  audit.Writer  // records changes, and decides who makes them

	calMu sync.Mutex
	cals  map[int64]WorkCalendar // by unit id

	lookups *keyedLimiter // population lookups, per account
}

// NewService returns the service. It fails when a required option is
// missing.
func NewService(opts Options) (*Service, error) {
	switch {
	case opts.DB == nil, opts.Catalogue == nil, opts.Ring == nil, opts.Bucket == nil, opts.Directory == nil, opts.Recorder == nil:
		return nil, errors.New("procedures: NewService needs DB, Catalogue, Ring, Bucket, Directory and Recorder")
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Service{opts: opts, db: opts.DB, cat: opts.Catalogue, wake: make(chan struct{}, 1), rec: audit.NewWriter("procedures", opts.Recorder), cals: map[int64]WorkCalendar{},
		lookups: newKeyedLimiter(lookupEvery, lookupBurst, lookupMemory)}, nil
}

// Catalogue returns the catalogue of procedures.
func (s *Service) Catalogue() *Catalogue { return s.cat }

// now returns the current time at the precision storage keeps.
func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// Calendar returns the working-day calendar of a unit.
func (s *Service) Calendar(ctx context.Context, unitID int64) (WorkCalendar, error) {
	s.calMu.Lock()
	c, ok := s.cals[unitID]
	s.calMu.Unlock()
	if ok {
		return c, nil
	}
	u, err := s.opts.Directory.Unit(ctx, unitID)
	if err != nil {
		return WorkCalendar{}, err
	}
	if c, err = UnitCalendar(u); err != nil {
		return WorkCalendar{}, err
	}
	if c.FellBack() {
		s.opts.Log.Warn("procedures: a mission counts its deadlines on Viet Nam's holidays and its host country's weekend only: no calendar data for its country",
			"unit", u.Code, "country", u.Country)
	}
	s.calMu.Lock()
	s.cals[unitID] = c
	s.calMu.Unlock()
	return c, nil
}

// UnitOf returns the unit with the agency code that implements the
// procedure, or an error wrapping errs.ErrInvalid naming why not.
func (s *Service) unitFor(ctx context.Context, p *Procedure, code string) (identity.Unit, error) {
	u, err := s.opts.Directory.UnitByCode(ctx, code)
	if errors.Is(err, errs.ErrNotFound) {
		return identity.Unit{}, errs.Invalid("unit", fmt.Sprintf("no unit has the agency code %q", code))
	}
	if err != nil {
		return identity.Unit{}, err
	}
	if u.Status != identity.UnitActive {
		return identity.Unit{}, errs.Invalid("unit", fmt.Sprintf("unit %s was merged into another; submit to the unit that took over its work", u.Code))
	}
	if !p.ImplementedBy(u.Code, u.Kind.Mission()) {
		return identity.Unit{}, errs.Invalid("unit", fmt.Sprintf("unit %s does not implement procedure %s; the procedure's page lists the units that do", u.Code, p.Code))
	}
	return u, nil
}

// feeOf returns the fee a unit charges for a procedure: the sum of its
// fees where the unit is (at home in VND, at a mission in USD).
func feeOf(p *Procedure, mission bool) (int64, string) {
	w := AtHome
	if mission {
		w = AtMission
	}
	var total int64
	currency := ""
	for _, f := range p.FeesAt(w) {
		total += f.Amount
		currency = f.Currency
	}
	return total, currency
}

// checkForm validates a submitted form against the procedure's schema and
// returns it as stored: a JSON object.
func checkForm(p *Procedure, form map[string]any) ([]byte, error) {
	if form == nil {
		form = map[string]any{}
	}
	raw, err := json.Marshal(form)
	if err != nil {
		return nil, errs.Invalid("form", "is not a JSON object")
	}
	if err := p.Form.Validate(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// text returns the string at a JSON pointer of a form, or "".
func text(form map[string]any, ptr string) string {
	if ptr == "" {
		return ""
	}
	var v any = form
	for _, part := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[part]
	}
	str, _ := v.(string)
	return str
}

// applicantOf returns the applicant's name and e-mail from a form.
func applicantOf(p *Procedure, form map[string]any) (name, email string) {
	var parts []string
	for _, ptr := range p.Applicant.Name {
		if t := text(form, ptr); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " "), text(form, p.Applicant.Email)
}

func isCitizenID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// NewDraft is an application a citizen starts on the portal.
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
		return Draft{}, fmt.Errorf("%w: online applications are made by citizens signed in to the portal; staff enter dossiers through the console", errs.ErrForbidden)
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

// origin returns the origin whose actor a change on ctx's behalf is
// recorded with (also the history's actor), by audit.Writer's one rule.
func (s *Service) origin(ctx context.Context) (audit.Origin, error) { return s.rec.Origin(ctx) }

// record appends the audit event of a change to dossier d inside tx.
func (s *Service) record(ctx context.Context, tx *store.Tx, o audit.Origin, action string, d *Dossier, attrs map[string]string) error {
	e := o.Event(action)
	e.ResourceType, e.ResourceID, e.Level = "dossier", d.Code, authz.Unclassified
	if e.UnitID == 0 {
		e.UnitID = d.UnitID
	}
	e.Attrs = attrs
	return s.rec.Record(ctx, tx, e)
}

// SubmitDraft submits the signed-in citizen's draft: it becomes a dossier
// with its code, registered (status 1) on the online channel, its files
// moved to it, its status queued for the national portal and a notice
// queued for the applicant. It returns an error wrapping errs.ErrConflict
// while the fee is unpaid.
func (s *Service) SubmitDraft(ctx context.Context, sub authz.Subject, draftID string) (*Dossier, error) {
	d, err := s.Draft(ctx, sub, draftID)
	if err != nil {
		return nil, err
	}
	if d.NeedsPayment() {
		return nil, fmt.Errorf("%w: the fee of %d %s is not paid yet; pay it through the payment gateway, then submit", errs.ErrConflict, d.FeeAmount, d.FeeCurrency)
	}
	p, err := s.cat.Procedure(d.Procedure)
	if err != nil {
		return nil, err
	}
	u, err := s.opts.Directory.Unit(ctx, d.UnitID)
	if err != nil {
		return nil, err
	}
	ds := &Dossier{Procedure: p.Code, UnitID: u.ID, UnitCode: u.Code, Channel: ChannelOnline, CitizenID: sub.ID, Form: d.Form,
		Prefilled: d.Prefilled, Digitised: digitised(p, d.Attachments), FeeAmount: d.FeeAmount, FeeCurrency: d.FeeCurrency,
		Paid: !d.PaidAt.IsZero(), PaidOnline: !d.PaidAt.IsZero(), Attachments: d.Attachments}
	err = s.create(ctx, p, u, ds, func(tx *store.Tx) error {
		// The draft was read before this transaction; a concurrent
		// submission of it may have committed since. The files move
		// first (the draft's delete would cascade to them), then the
		// delete claims the draft: a submission that removes no row lost
		// the race, and rolls back with everything it wrote.
		if err := moveAttachments(ctx, tx, d.ID, ds.ID); err != nil {
			return err
		}
		claimed, err := claimDraft(ctx, tx, d.ID)
		if err != nil {
			return err
		}
		if !claimed {
			return errDraftSubmitted
		}
		// The dossier lists the files that really moved to it, within
		// the limit (a draft filled before there was one may pass it).
		if ds.Attachments, err = listAttachments(ctx, tx, "dossier_id", ds.ID); err != nil {
			return err
		}
		return checkDossierFiles(ds.Attachments, 0, 0)
	})
	if err != nil {
		return nil, err
	}
	return ds, nil
}

// Submission is a dossier handed in whole: through the API, or entered by
// a clerk for an applicant who came in person or wrote by post.
type Submission struct {
	Procedure string
	UnitCode  string
	// Channel is 2 (online) for a citizen; a clerk enters 1 (in person)
	// or 3 (postal).
	Channel     Channel
	Form        map[string]any
	Prefilled   bool
	Attachments []Upload
	// Receipt is, for a clerk's entry, the number of the receipt handed
	// over for the fee taken at the counter; empty while the fee is
	// unpaid (the unit requests it later). A citizen pays a fee through
	// the payment gateway: see CreateDraft.
	Receipt string
}

// Submit takes a whole dossier. A citizen submits online (status 1,
// registered); a clerk of the unit enters an in-person or postal dossier,
// which is received at once (status 2) with its deadline running. It
// returns errors as CreateDraft and SubmitDraft do, and errs.ErrInvalid
// for a channel the caller may not use.
//
// The uploads are Submit's from the call on: on any error, the files
// StoreUpload stored are discarded.
func (s *Service) Submit(ctx context.Context, sub authz.Subject, sm Submission) (_ *Dossier, err error) {
	sm.Attachments = slices.Clone(sm.Attachments) // putBlob marks them stored
	defer func() { s.discardOnError(ctx, err, sm.Attachments) }()
	p, err := s.cat.Procedure(sm.Procedure)
	if err != nil {
		return nil, err
	}
	u, err := s.unitFor(ctx, p, sm.UnitCode)
	if err != nil {
		return nil, err
	}
	switch sub.Kind {
	case authz.Citizen:
		if sm.Channel != ChannelOnline && sm.Channel != 0 {
			return nil, errs.Invalid("channel", "a citizen submits online (channel 2); in-person and postal dossiers are entered by the unit's clerks")
		}
		sm.Channel, sm.Receipt = ChannelOnline, ""
	case authz.Staff:
		if sm.Channel != ChannelInPerson && sm.Channel != ChannelPostal {
			return nil, errs.Invalid("channel", "a clerk enters dossiers handed in person (channel 1) or by post (channel 3)")
		}
		if dec, _ := authz.Decide(sub, authz.Create, authz.Resource{Kind: authz.KindIntake, Unit: u.ID}); dec != authz.Allowed {
			return nil, fmt.Errorf("%w: only a clerk of unit %s enters its dossiers", errs.ErrForbidden, u.Code)
		}
	default:
		return nil, fmt.Errorf("%w: sign in to submit a dossier", errs.ErrUnauthenticated)
	}
	if _, err := checkForm(p, sm.Form); err != nil {
		return nil, err
	}
	for _, up := range sm.Attachments {
		if err := checkDocument(p, up.DocumentKey); err != nil {
			return nil, err
		}
	}
	if err := checkDossierFiles(nil, len(sm.Attachments), uploadsSize(sm.Attachments)); err != nil {
		return nil, err
	}
	fee, currency := feeOf(p, u.Kind.Mission())
	receipt := ""
	switch {
	case fee > 0 && sub.Kind == authz.Citizen:
		// An online application's fee is paid before it is submitted, as
		// the portal's draft path requires; a dossier handed in whole
		// would otherwise be registered unpaid.
		return nil, fmt.Errorf("%w: procedure %s has a fee of %d %s, paid through the payment gateway before submitting: prepare the application (POST /api/v1/drafts), pay it (POST /api/v1/drafts/{id}/payment), then submit the draft", errs.ErrConflict, p.Code, fee, currency)
	case fee > 0 && strings.TrimSpace(sm.Receipt) != "":
		if receipt, err = checkReceiptNumber(sm.Receipt); err != nil {
			return nil, err
		}
	case fee == 0 && strings.TrimSpace(sm.Receipt) != "":
		return nil, errs.Invalid("receipt", fmt.Sprintf("procedure %s has no fee at this unit, so there is no receipt to record", p.Code))
	}
	ds := &Dossier{Procedure: p.Code, UnitID: u.ID, UnitCode: u.Code, Channel: sm.Channel, Form: sm.Form,
		Prefilled: sm.Prefilled && s.reused(ctx, sub, p, sm.Form), FeeAmount: fee, FeeCurrency: currency, Paid: fee == 0 || receipt != ""}
	if sub.Kind == authz.Citizen {
		ds.CitizenID = sub.ID
	}
	for i := range sm.Attachments {
		a, err := s.putBlob(ctx, &sm.Attachments[i])
		if err != nil {
			return nil, err
		}
		ds.Attachments = append(ds.Attachments, a)
	}
	ds.Digitised = digitised(p, ds.Attachments)
	err = s.create(ctx, p, u, ds, func(tx *store.Tx) error {
		for i := range ds.Attachments {
			if err := insertAttachment(ctx, tx, &ds.Attachments[i], "dossier_id", ds.ID); err != nil {
				return err
			}
		}
		if sub.Kind != authz.Staff {
			return nil
		}
		if receipt != "" {
			o, err := s.origin(ctx)
			if err != nil {
				return err
			}
			if err := s.recordCounterPayment(ctx, tx, o, sub.ID, ds, receipt, ds.SubmittedAt); err != nil {
				return err
			}
		}
		return s.transition(ctx, tx, ds, sub, ActionRequest{Action: ActReceive})
	})
	if err != nil {
		return nil, err
	}
	return ds, nil
}

func (s *Service) deleteBlobs(ctx context.Context, keys []string) {
	for _, k := range keys {
		s.deleteBlob(ctx, k)
	}
}

// create registers a new dossier ds (filled but for its code, lifecycle
// and times) in one transaction with then: the code from the unit's daily
// sequence, the history's first entry, the audit event, the portal report
// and the notice.
func (s *Service) create(ctx context.Context, p *Procedure, u identity.Unit, ds *Dossier, then func(tx *store.Tx) error) error {
	o, err := s.origin(ctx)
	if err != nil {
		return err
	}
	cal, err := s.Calendar(ctx, u.ID)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(ds.Form)
	if err != nil {
		return fmt.Errorf("procedures: encode form: %w", err)
	}
	now := s.now()
	ds.ApplicantName, ds.ApplicantEmail = applicantOf(p, ds.Form)
	ds.Lifecycle = NewLifecycle(now, p.TimeLimit.WorkingDays)
	ds.SubmittedAt, ds.UpdatedAt, ds.Version = now, now, 1
	ds.AppointmentAt = cal.AddWorkingDays(now, p.TimeLimit.WorkingDays)
	// On PostgreSQL the number is taken in a transaction of its own: held
	// to the end of the submission's, the day's counter row would make
	// every submission to a unit wait for the one before. A submission
	// that fails after it leaves a gap in the day's numbers, which the
	// code's readers need not mind: a code names one dossier, it does not
	// count them. SQLite has one writer at a time anyway, so there the
	// number is taken in the submission's transaction, sparing a commit.
	number := func(tx *store.Tx) error {
		seq, err := nextSeq(ctx, tx, u.Code, cal.Date(now))
		if err != nil {
			return err
		}
		code, err := NewDossierCode(u.Code, now, cal.Location(), seq)
		if err != nil {
			return err
		}
		ds.Code = code.String()
		return nil
	}
	if s.db.Dialect == store.Postgres {
		if err := s.db.InTx(ctx, number); err != nil {
			return err
		}
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if ds.Code == "" {
			if err := number(tx); err != nil {
				return err
			}
		}
		sealed, err := s.opts.Ring.Seal(ctx, keyPurpose, raw, []byte("dossier:"+ds.Code))
		if err != nil {
			return fmt.Errorf("procedures: seal the form: %w", err)
		}
		ds.TrackingPIN = newTrackingPIN()
		if ds.sealedPIN, err = s.opts.Ring.Seal(ctx, keyPurpose, []byte(ds.TrackingPIN), []byte("pin:"+ds.Code)); err != nil {
			return fmt.Errorf("procedures: seal the tracking PIN: %w", err)
		}
		if err := insertDossier(ctx, tx, ds, sealed); err != nil {
			return err
		}
		e := entryBy(o, Entry{Action: "submit", From: 0, To: StatusRegistered, UnitID: u.ID, At: now})
		if err := insertEntry(ctx, tx, ds.ID, e); err != nil {
			return err
		}
		ds.History = []Entry{e}
		if err := s.record(ctx, tx, o, "dossier.submit", ds, map[string]string{"procedure": p.Code, "channel": fmt.Sprint(int(ds.Channel))}); err != nil {
			return err
		}
		if err := s.queueReport(ctx, tx, ds, now); err != nil {
			return err
		}
		if err := s.notify(ctx, tx, ds, "submit", ""); err != nil {
			return err
		}
		return then(tx)
	})
	if err != nil {
		return fmt.Errorf("procedures: submit a dossier of %s to %s: %w", p.Code, u.Code, err)
	}
	s.nudge()
	return nil
}

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
