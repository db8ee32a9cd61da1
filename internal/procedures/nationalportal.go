package procedures

// This file is the national portal sync: every status of every dossier
// is reported to the National Public Service Portal (the "national
// portal") through the exchange, from a durable outbox. The citizens'
// pages of the procedures are the public site (page_public_*.go), another
// thing.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/store"
)

// NationalPortalReport is the report of a dossier's status that the National
// Public Service Portal takes (its dossier-status/v1 service): exactly
// these nine fields.
type NationalPortalReport struct {
	DossierCode   string `json:"dossier_code"`
	ProcedureCode string `json:"procedure_code"`
	Status        int    `json:"status"`
	StatusName    string `json:"status_name"`
	Channel       int    `json:"channel"`
	Paid          bool   `json:"paid"`
	PaidOnline    bool   `json:"paid_online"`
	UpdatedAt     string `json:"updated_at"` // RFC 3339
	AgencyCode    string `json:"agency_code"`
}

// queueReport writes d's current status to the national portal outbox inside tx.
func (s *Service) queueReport(ctx context.Context, tx *store.Tx, d *Dossier, at time.Time) error {
	payload, err := json.Marshal(NationalPortalReport{DossierCode: d.Code, ProcedureCode: d.Procedure, Status: int(d.Status),
		StatusName: texts.T(i18n.VI, d.Status.Key()), Channel: int(d.Channel), Paid: d.Paid, PaidOnline: d.PaidOnline,
		UpdatedAt: at.UTC().Format(time.RFC3339), AgencyCode: d.UnitCode})
	if err != nil {
		return err
	}
	return insertReport(ctx, tx, d.ID, d.Status, payload, at)
}

// nudge wakes the national portal sync and the mail outbox after a commit.
func (s *Service) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
	if s.opts.Notifier != nil {
		s.opts.Notifier.Nudge()
	}
}

// National portal sync pacing: how often it looks without a nudge, and how long it
// waits after a failure, doubling up to the maximum.
const (
	syncPoll       = 5 * time.Second
	syncBackoff    = time.Second
	syncMaxBackoff = 5 * time.Minute
	syncBatch      = 200
)

// RunNationalPortalSync sends queued status reports to the national portal, in
// the order they were queued, until ctx ends. A report stays queued until
// the exchange has durably taken it, so none is lost when the national portal or
// the link is down; after a failure the sync waits, longer each time, and
// resumes where it stopped, so a dossier's statuses arrive in order.
func (s *Service) RunNationalPortalSync(ctx context.Context) error {
	wait := time.Duration(0)
	for {
		n, err := s.SyncNationalPortal(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			wait = min(max(2*wait, syncBackoff), syncMaxBackoff)
			s.opts.Log.Warn("procedures: portal sync failed; retrying", "err", err, "in", wait)
		case n == syncBatch:
			wait = 0
			continue
		default:
			wait = syncPoll
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
			if err == nil {
				t.Stop()
				continue
			}
			<-t.C // after a failure, keep the backoff
		case <-t.C:
		}
	}
}

// ErrNoNationalPortal is returned by SyncNationalPortal when no portal sender is set.
var ErrNoNationalPortal = fmt.Errorf("%w: the national portal is not connected to this node", errs.ErrUnavailable)

// SyncNationalPortal sends one batch of queued reports and returns how many were
// sent. It stops at the first failure, recording it on the report.
func (s *Service) SyncNationalPortal(ctx context.Context) (int, error) {
	if s.opts.NationalPortal == nil {
		return 0, ErrNoNationalPortal
	}
	reports, err := pendingReports(ctx, s.db, syncBatch)
	if err != nil {
		return 0, err
	}
	// The reports the exchange took are marked in one transaction at the
	// end (also when one fails part-way): a crash in between sends them
	// again, which the national portal takes as the same status of the dossier.
	var sent []sentReport
	var failed error
	for _, r := range reports {
		id, err := s.opts.NationalPortal.SendStatus(ctx, r.payload)
		if err != nil {
			if ferr := failReport(ctx, s.db, r.id, err.Error()); ferr != nil {
				err = errors.Join(err, ferr)
			}
			failed = fmt.Errorf("send the status of dossier %d: %w", r.dossierID, err)
			break
		}
		sent = append(sent, sentReport{report: r, messageID: id})
	}
	if err := markReportsSent(ctx, s.db, sent, s.now()); err != nil {
		return 0, errors.Join(failed, err)
	}
	return len(sent), failed
}

// Unsynced is a dossier whose last status sent to the national portal differs from
// its current one.
type Unsynced struct {
	Code                 string    `json:"code"`
	Status               Status    `json:"status"`
	NationalPortalStatus Status    `json:"national_portal_status"`
	UpdatedAt            time.Time `json:"updated_at"`
	// Pending is how many reports of it wait in the outbox; Attempts and
	// LastError describe the oldest.
	Pending   int    `json:"pending"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
}

// Reconciliation lists the dossiers of the units sub may see whose
// national portal status lags, oldest change first, at most limit.
func (s *Service) Reconciliation(ctx context.Context, sub authz.Subject, limit int) ([]Unsynced, error) {
	if dec, _ := authz.Decide(sub, authz.Read, authz.Resource{Kind: authz.KindNationalPortalSync}); dec == authz.Allowed {
		return listUnsynced(ctx, s.db, 0, limit) // every unit's
	}
	if dec, _ := authz.Decide(sub, authz.Read, authz.Resource{Kind: authz.KindDossier, Unit: sub.Unit}); dec != authz.Allowed {
		return nil, fmt.Errorf("%w: reconciliation is for the staff who work on dossiers, and the administrators", errs.ErrForbidden)
	}
	return listUnsynced(ctx, s.db, sub.Unit, limit)
}

// Resend queues a fresh report of a dossier's current status, for a
// dossier whose national portal status lags (the national portal lost it, or a report was
// refused). It returns an error wrapping errs.ErrConflict when the national portal
// already has the current status.
func (s *Service) Resend(ctx context.Context, sub authz.Subject, code string) error {
	o, err := s.origin(ctx)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.load(ctx, tx, code)
		if err != nil {
			return err
		}
		if !mayResend(sub, d) {
			return fmt.Errorf("%w: no dossier has code %s", errs.ErrNotFound, code)
		}
		if d.NationalPortalStatus == d.Status {
			return fmt.Errorf("%w: the national portal already has status %d of dossier %s", errs.ErrConflict, d.Status, code)
		}
		if err := dropPendingReports(ctx, tx, d.ID); err != nil {
			return err
		}
		if err := s.queueReport(ctx, tx, d, s.now()); err != nil {
			return err
		}
		e := o.Event("dossier.portal_resend")
		e.ResourceType, e.ResourceID, e.UnitID = "dossier", d.Code, d.UnitID
		e.Attrs = map[string]string{"status": fmt.Sprint(int(d.Status))}
		return s.rec.Record(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("procedures: resend dossier %s to the national portal: %w", code, err)
	}
	s.nudge()
	return nil
}

// systemOrigin is the origin of changes Chancery makes itself.
func systemOrigin(ctx context.Context, component string) context.Context {
	return audit.WithOrigin(ctx, audit.Origin{Actor: audit.System(component)})
}

// mayResend reports whether sub may resend d's status to the national portal: the
// staff of its unit who work on dossiers, or those who reconcile every
// unit's.
func mayResend(sub authz.Subject, d *Dossier) bool {
	own, _ := authz.Decide(sub, authz.Update, authz.Resource{Kind: authz.KindDossier, Unit: d.UnitID})
	all, _ := authz.Decide(sub, authz.Update, authz.Resource{Kind: authz.KindNationalPortalSync})
	return own == authz.Allowed || all == authz.Allowed
}
