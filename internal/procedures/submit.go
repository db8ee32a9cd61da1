package procedures

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
)

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
		// the public site's draft path requires; a dossier handed in whole
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
// sequence, the history's first entry, the audit event, the national portal report
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
