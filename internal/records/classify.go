package records

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// archive runs fn on document id inside a transaction, loaded and locked,
// after checking that sub may act on it in the capacity (kind, action); fn returns the audit event to append, or a
// zero one for none.
func (s *Service) archive(ctx context.Context, sub authz.Subject, id int64, k authz.Kind, a authz.Action,
	fn func(tx *store.Tx, o audit.Origin, r *row, now time.Time) (audit.Event, error)) error {
	o, err := actorOf(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := loadDocument(ctx, tx, id, now, true)
		if err != nil {
			return err
		}
		// The capacity's decision conceals the document from whoever may
		// not know of it (no read up, need-to-know come first); the
		// capacity need not include reading its content (a security
		// officer decides a classification without a records role).
		if err := allow(sub, a, k, r); err != nil {
			return err
		}
		e, err := fn(tx, o, r, now)
		if err != nil || e.Action == "" {
			return err
		}
		return s.opts.Recorder.AppendTx(ctx, tx, e)
	})
}

// NewGrant is an explicit need-to-know grant of a document to one member
// of staff.
type NewGrant struct {
	StaffID   int64
	Reason    string
	ExpiresAt time.Time
}

// Grant gives one member of staff need-to-know of a document until an
// expiry at most MaxGrant away, for a stated reason. It gives no
// clearance: the grantee still reads only within theirs. Those who may
// grant are authz's (KindDocumentGrant, Create): the owning unit's
// leaders and the security officers.
func (s *Service) Grant(ctx context.Context, sub authz.Subject, id int64, ng NewGrant) (*Grant, error) {
	if err := checkLine("reason", ng.Reason, maxLine, true); err != nil {
		return nil, err
	}
	now := s.now()
	if !ng.ExpiresAt.After(now) || ng.ExpiresAt.Sub(now) > MaxGrant {
		return nil, errs.Invalid("expires_at", fmt.Sprintf("must be in the future and at most %d days away", int(MaxGrant.Hours()/24)))
	}
	if ng.StaffID <= 0 {
		return nil, errs.Invalid("staff_id", "is required")
	}
	g := &Grant{StaffID: ng.StaffID, Reason: ng.Reason, GrantedBy: sub.ID, ExpiresAt: ng.ExpiresAt.UTC().Truncate(time.Microsecond), At: now}
	err := s.archive(ctx, sub, id, authz.KindDocumentGrant, authz.Create, func(tx *store.Tx, o audit.Origin, r *row, _ time.Time) (audit.Event, error) {
		if err := insertGrant(ctx, tx, r.ID, g); isForeignKeyViolation(err) {
			return audit.Event{}, errs.Invalid("staff_id", fmt.Sprintf("no member of staff has id %d", ng.StaffID))
		} else if err != nil {
			return audit.Event{}, fmt.Errorf("records: store grant: %w", err)
		}
		return event(o, "document.grant", r, map[string]string{"staff_id": strconv.FormatInt(ng.StaffID, 10),
			"expires": g.ExpiresAt.Format(time.RFC3339)}), nil
	})
	if err != nil {
		return nil, fmt.Errorf("records: grant document %d: %w", id, err)
	}
	return g, nil
}

// Extend extends a classified document's protection until a later day,
// for a stated reason (the decision extending it).
func (s *Service) Extend(ctx context.Context, sub authz.Subject, id int64, until time.Time, reason string) error {
	if err := checkLine("reason", reason, maxLine, true); err != nil {
		return err
	}
	err := s.archive(ctx, sub, id, authz.KindClassification, authz.Update, func(tx *store.Tx, o audit.Origin, r *row, now time.Time) (audit.Event, error) {
		if r.Classification == authz.Unclassified {
			return audit.Event{}, fmt.Errorf("%w: document %d is not classified; there is no protection to extend", errs.ErrConflict, r.ID)
		}
		if !until.After(r.class.ProtectUntil) {
			return audit.Event{}, errs.Invalid("until", fmt.Sprintf("must be after the current end of protection, %s", r.class.ProtectUntil.Format("2006-01-02")))
		}
		r.class.ProtectUntil = until.UTC().Truncate(time.Microsecond)
		return s.reclassify(ctx, tx, o, r, now, ClassificationEvent{Kind: Extended, From: r.Classification, To: r.Classification,
			Reason: reason, ActorID: sub.ID, ProtectUntil: r.class.ProtectUntil, At: now})
	})
	return wrapArchive("extend the protection of", id, err)
}

// ChangeLevel changes a classified document's level (up or down, never
// to none: that is Declassify), for a stated reason. The new level may
// not be above the caller's clearance. The document's data key is
// re-wrapped under the new level's key; the protection period runs anew
// from today.
func (s *Service) ChangeLevel(ctx context.Context, sub authz.Subject, id int64, to authz.Level, reason string) error {
	if err := checkLine("reason", reason, maxLine, true); err != nil {
		return err
	}
	if !to.Valid() || to == authz.Unclassified {
		return errs.Invalid("level", "use confidential, secret or top_secret; to declassify, use declassify")
	}
	if to > sub.Clearance {
		return errs.Invalid("level", fmt.Sprintf("%s is above your clearance (%s)", to, sub.Clearance))
	}
	err := s.archive(ctx, sub, id, authz.KindClassification, authz.Update, func(tx *store.Tx, o audit.Origin, r *row, now time.Time) (audit.Event, error) {
		if r.Classification == authz.Unclassified || r.Classification == to {
			return audit.Event{}, fmt.Errorf("%w: document %d is %s; change the level of a classified document to another level", errs.ErrConflict, r.ID, r.Classification)
		}
		ev := ClassificationEvent{Kind: LevelChanged, From: r.Classification, To: to, Reason: reason, ActorID: sub.ID,
			ProtectUntil: ProtectUntil(to, now), At: now}
		if err := s.relevel(ctx, tx, r, to); err != nil {
			return audit.Event{}, err
		}
		r.class.ProtectUntil = ev.ProtectUntil
		return s.reclassify(ctx, tx, o, r, now, ev)
	})
	return wrapArchive("change the level of", id, err)
}

// Declassify declassifies a document by decision, for a stated reason.
// A top-secret document needs two people: the first call proposes it
// (and reports done false), a second person's call carries it out. The
// same person twice is refused with errs.ErrConflict.
func (s *Service) Declassify(ctx context.Context, sub authz.Subject, id int64, reason string) (done bool, err error) {
	if err := checkLine("reason", reason, maxLine, true); err != nil {
		return false, err
	}
	err = s.archive(ctx, sub, id, authz.KindClassification, authz.Approve, func(tx *store.Tx, o audit.Origin, r *row, now time.Time) (audit.Event, error) {
		if r.Classification == authz.Unclassified {
			return audit.Event{}, fmt.Errorf("%w: document %d is not classified", errs.ErrConflict, r.ID)
		}
		first, ok, e, err := twoPeople(ctx, tx, o, sub, r, "declassify", reason, now)
		if err != nil || !ok {
			return e, err
		}
		done = true
		ev := ClassificationEvent{Kind: Declassified, From: r.Classification, To: authz.Unclassified, Reason: reason, ActorID: first, At: now}
		if first != sub.ID {
			ev.SecondID = sub.ID
		}
		if err := s.relevel(ctx, tx, r, authz.Unclassified); err != nil {
			return audit.Event{}, err
		}
		r.class = Classification{}
		return s.reclassify(ctx, tx, o, r, now, ev)
	})
	return done, wrapArchive("declassify", id, err)
}

// Destroy destroys a document's content by decision (crypto-shredding:
// its data key is erased, so the sealed bytes can never be opened; the
// record, its register entry and the ledger's event of the destruction
// stay). Those who may are authz's (KindDocument, Delete): archivists. A
// top-secret document needs two people, as for Declassify.
func (s *Service) Destroy(ctx context.Context, sub authz.Subject, id int64, decision string) (done bool, err error) {
	if err := checkLine("decision", decision, maxLine, true); err != nil {
		return false, err
	}
	err = s.archive(ctx, sub, id, authz.KindDocument, authz.Delete, func(tx *store.Tx, o audit.Origin, r *row, now time.Time) (audit.Event, error) {
		c, ok, err := loadContent(ctx, tx, r.ID)
		if err != nil {
			return audit.Event{}, err
		}
		if !ok || !c.Shredded.IsZero() {
			return audit.Event{}, fmt.Errorf("%w: document %d has no content left to destroy", errs.ErrConflict, r.ID)
		}
		if err := documentHeld(ctx, tx, r.ID); err != nil {
			return audit.Event{}, err
		}
		first, ok, e, err := twoPeople(ctx, tx, o, sub, r, "destroy", decision, now)
		if err != nil || !ok {
			return e, err
		}
		done = true
		if err := rewrapContent(ctx, tx, r.ID, c.purpose, nil, now); err != nil {
			return audit.Event{}, fmt.Errorf("records: destroy the data key: %w", err)
		}
		attrs := map[string]string{"decision": audit.AttrValue(decision), "key_purpose": c.purpose}
		if first != sub.ID {
			attrs["proposed_by"] = strconv.FormatInt(first, 10)
		}
		return event(o, "document.destroy", r, attrs), nil
	})
	return done, wrapArchive("destroy", id, err)
}

// twoPeople applies the two-person rule to a top-secret document's
// action: with none pending it records the proposal (ok false, and the
// proposal's audit event); with the same action proposed by someone else
// it clears the proposal and returns its proposer (ok true). Below top
// secret one person suffices (first is sub).
func twoPeople(ctx context.Context, tx *store.Tx, o audit.Origin, sub authz.Subject, r *row, action, reason string, now time.Time) (first int64, ok bool, e audit.Event, err error) {
	if r.Classification < authz.TopSecret {
		return sub.ID, true, audit.Event{}, nil
	}
	p, err := loadPending(ctx, tx, r.ID)
	switch {
	case err != nil:
		return 0, false, audit.Event{}, err
	case p == nil:
		if err := insertPending(ctx, tx, r.ID, Pending{Action: action, Reason: reason, ProposerID: sub.ID, At: now}); err != nil {
			return 0, false, audit.Event{}, fmt.Errorf("records: record the proposal: %w", err)
		}
		return 0, false, event(o, "document."+action+".propose", r, map[string]string{"reason": audit.AttrValue(reason)}), nil
	case p.Action != action:
		return 0, false, audit.Event{}, fmt.Errorf("%w: a %s of document %d is awaiting its second person; it must be carried out or withdrawn first", errs.ErrConflict, p.Action, r.ID)
	case p.ProposerID == sub.ID:
		return 0, false, audit.Event{}, fmt.Errorf("%w: you proposed to %s this top-secret document; a second person must confirm it", errs.ErrConflict, action)
	}
	if err := deletePending(ctx, tx, r.ID); err != nil {
		return 0, false, audit.Event{}, err
	}
	return p.ProposerID, true, audit.Event{}, nil
}

// relevel moves a document to level to, re-wrapping its data key under
// the new level's key and putting it in the index as the new level
// allows.
func (s *Service) relevel(ctx context.Context, tx *store.Tx, r *row, to authz.Level) error {
	c, ok, err := loadContent(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	if ok && c.Shredded.IsZero() {
		purpose, wrapped, err := rewrap(ctx, s.opts.Ring, r.ID, &c, to)
		if err != nil {
			return err
		}
		if err := rewrapContent(ctx, tx, r.ID, purpose, wrapped, time.Time{}); err != nil {
			return fmt.Errorf("records: re-wrap the data key: %w", err)
		}
	}
	from := r.Classification
	r.Classification, r.class.Level = to, to
	return textOnRelevel(ctx, tx, r, from, s.now())
}

// reclassify stores a document's new classification with its history
// entry, and returns the audit event (at the higher of the two levels,
// so that the record of a declassification stays hidden from those who
// could not know the item before).
func (s *Service) reclassify(ctx context.Context, tx *store.Tx, o audit.Origin, r *row, now time.Time, ev ClassificationEvent) (audit.Event, error) {
	r.UpdatedAt = now
	if err := updateDocument(ctx, tx, r); err != nil {
		return audit.Event{}, fmt.Errorf("records: update classification: %w", err)
	}
	if err := insertClassificationEvent(ctx, tx, r.ID, ev); err != nil {
		return audit.Event{}, err
	}
	e := event(o, "document."+string(ev.Kind), r, map[string]string{"from": ev.From.String(), "to": ev.To.String(), "reason": audit.AttrValue(ev.Reason)})
	e.Level = max(ev.From, ev.To)
	return e, nil
}

func wrapArchive(what string, id int64, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("records: %s document %d: %w", what, id, err)
}
