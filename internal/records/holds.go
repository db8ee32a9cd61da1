package records

import (
	"context"
	"fmt"
	"strconv"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Legal holds on single documents. A case file's hold (retention.go)
// suspends the disposition of all it holds; a document's suspends that
// document's only: a destruction of its case file keeps it (its data key
// is not destroyed, the minutes count it as kept), its own destruction by
// decision is refused, and so is the transfer of a case file holding it.
// Placing and lifting take a reason, are steps of the document's history
// and events of the ledger at its level; who may is authz's
// KindDisposition (Create), as for a case file's, among those who may
// read the document (to whoever may not, it stays hidden).

// PlaceDocumentHold places a legal hold on a document.
func (s *Service) PlaceDocumentHold(ctx context.Context, sub authz.Subject, id int64, reason string) (*Hold, error) {
	h := &Hold{DocumentID: id, Reason: reason, PlacedBy: sub.ID, PlacedAt: s.now()}
	err := s.onDocumentHold(ctx, sub, id, "hold", reason, func(tx *store.Tx, r *row) (map[string]string, error) {
		if c, ok, err := loadContent(ctx, tx, r.ID); err != nil {
			return nil, err
		} else if ok && !c.Shredded.IsZero() {
			return nil, fmt.Errorf("%w: document %d was destroyed; there is nothing left to hold", errs.ErrConflict, r.ID)
		}
		if err := insertHold(ctx, tx, documentHolds, r.ID, h); err != nil {
			return nil, fmt.Errorf("records: store the hold: %w", err)
		}
		return map[string]string{"hold": strconv.FormatInt(h.ID, 10), "reason": audit.AttrValue(reason)}, nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// LiftDocumentHold lifts a document's legal hold in force, saying why.
func (s *Service) LiftDocumentHold(ctx context.Context, sub authz.Subject, id, holdID int64, reason string) error {
	return s.onDocumentHold(ctx, sub, id, "hold_lift", reason, func(tx *store.Tx, r *row) (map[string]string, error) {
		n, err := liftHold(ctx, tx, documentHolds, r.ID, holdID, sub.ID, reason, s.now())
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("%w: document %d has no hold %d in force", errs.ErrNotFound, r.ID, holdID)
		}
		return map[string]string{"hold": strconv.FormatInt(holdID, 10), "reason": audit.AttrValue(reason)}, nil
	})
}

// onDocumentHold runs fn on document id, loaded and locked in a
// transaction, after checking that sub may read it and hold it, and
// records the step (name, with the reason) in its history and the ledger.
func (s *Service) onDocumentHold(ctx context.Context, sub authz.Subject, id int64, name, reason string,
	fn func(tx *store.Tx, r *row) (map[string]string, error)) error {
	if err := checkLine("reason", reason, maxLine, true); err != nil {
		return err
	}
	o, err := actorOf(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := lockToAct(ctx, tx, sub, id, now, authz.Create, authz.KindDisposition)
		if err != nil {
			return err
		}
		attrs, err := fn(tx, r)
		if err != nil {
			return err
		}
		if err := insertStep(ctx, tx, r.ID, Step{Action: name, ActorID: sub.ID, Note: reason, At: now}); err != nil {
			return err
		}
		return s.opts.Recorder.AppendTx(ctx, tx, event(o, "document."+name, r, attrs))
	})
	if err != nil {
		return fmt.Errorf("records: %s on document %d: %w", name, id, err)
	}
	return nil
}

// documentHeld returns a conflict naming the hold when document id is
// under a legal hold in force.
func documentHeld(ctx context.Context, q store.Queryer, id int64) error {
	holds, err := listHolds(ctx, q, documentHolds, id, true)
	if err != nil || len(holds) == 0 {
		return err
	}
	return fmt.Errorf("%w: document %d is under a legal hold (%s); lift it first", errs.ErrConflict, id, holds[0].Reason)
}
