package records

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Retention and disposition (Law on Archives 33/2024/QH15; rules.go says
// what was verified). A unit's retention schedule sets, by series (the
// leading part of its case files' codes), how long its case files are
// kept: permanently or a number of years. The clock starts at cut-off:
// when a case file is closed, its work has ended, and its years run from
// 1 January after the year it closed (long-standing practice; Law 33's
// article on it was not verified). Then:
//
//   - a case file kept for years is due for destruction when they have
//     run; an archivist appraises the due ones into a list, a leader
//     decides the destruction (the decision's number and date; a list
//     holding a top-secret document needs a second leader), and only then
//     is it carried out: each document's data key is destroyed
//     (crypto-shredding, the ledger keeps the fact) and minutes of the
//     destruction (biên bản hủy) are written;
//   - a case file kept permanently goes to the historical archive: a
//     transfer package (zip: metadata XML, the files, a SHA-256 manifest),
//     the case files marked transferred. Law 33 has it delivered within
//     5 years of its delivery to the agency's archive, itself within 1
//     year of the year the work ended: transferDeadlineYears after the
//     year of closing;
//   - a legal hold suspends either until it is lifted, both with reasons,
//     both in the ledger.
//
// Who may do each is authz's KindDisposition.

// transferDeadlineYears is how many years after the year a permanent case
// file closed it must be in the historical archive (1 + 5, above).
const transferDeadlineYears = 6

// The dispositions of a case file.
const (
	DispositionTransferred = "transferred"
	DispositionDestroyed   = "destroyed"
)

// The statuses of a disposal.
const (
	DisposalAppraised      = "appraised"
	DisposalAwaitingSecond = "awaiting_second"
	DisposalDecided        = "decided"
	DisposalDone           = "done"
)

// Schedule is one series of a unit's retention schedule.
type Schedule struct {
	ID     int64  `json:"id"`
	UnitID int64  `json:"unit_id"`
	Series string `json:"series"`
	Title  string `json:"title"`
	// RetentionYears is 0 for permanent retention.
	RetentionYears Retention `json:"retention_years"`
	// Source is the legal source of the period.
	Source    string    `json:"source,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// NewSchedule is a series added to the caller's unit's schedule.
type NewSchedule struct {
	Series, Title  string
	RetentionYears Retention
	Source         string
}

// Hold is a legal hold on a case file, or on a single document.
type Hold struct {
	ID         int64     `json:"id"`
	CaseFileID int64     `json:"case_file_id,omitempty"`
	DocumentID int64     `json:"document_id,omitempty"`
	Reason     string    `json:"reason"`
	PlacedBy   int64     `json:"placed_by"`
	PlacedAt   time.Time `json:"placed_at"`
	LiftReason string    `json:"lift_reason,omitempty"`
	LiftedBy   int64     `json:"lifted_by,omitempty"`
	LiftedAt   time.Time `json:"lifted_at,omitzero"`
}

// DueItem is a closed case file and what its retention makes of it.
type DueItem struct {
	CaseFile *CaseFile `json:"case_file"`
	// Retention is the case file's retention: its series' in the
	// schedule, else its own.
	Retention Retention `json:"retention_years"`
	// Action is destroy (kept for years) or transfer (kept permanently).
	Action string `json:"action"`
	// DueAt is when the years have run (destroy), or the deadline of
	// the delivery to the historical archive (transfer).
	DueAt time.Time `json:"due_at"`
	// Due reports whether DueAt has come.
	Due bool `json:"due"`
	// Holds are the legal holds in force on the case file.
	Holds []Hold `json:"holds"`
	// HeldDocuments are its documents under a legal hold of their own:
	// a destruction keeps them (their data keys stay).
	HeldDocuments []int64 `json:"held_documents"`
	// Disposal is the disposal listing it, 0 if none.
	Disposal int64 `json:"disposal,omitempty"`
}

// Disposal is an appraisal of case files due for destruction, its
// decision and, once carried out, its minutes.
type Disposal struct {
	ID           int64     `json:"id"`
	UnitID       int64     `json:"unit_id"`
	Status       string    `json:"status"`
	PreparedBy   int64     `json:"prepared_by,omitempty"`
	PreparedAt   time.Time `json:"prepared_at"`
	DecisionNo   string    `json:"decision_number,omitempty"`
	DecisionDate time.Time `json:"decision_date,omitzero"`
	DecidedBy    int64     `json:"decided_by,omitempty"`
	SecondBy     int64     `json:"second_by,omitempty"`
	ExecutedBy   int64     `json:"executed_by,omitempty"`
	ExecutedAt   time.Time `json:"executed_at,omitzero"`
	Minutes      string    `json:"minutes,omitempty"`
	CaseFiles    []int64   `json:"case_files"`
	// TopSecret reports that a listed case file holds a top-secret
	// document: the decision needs two people.
	TopSecret bool `json:"top_secret"`
}

// decideDisposition returns nil if sub may do a to the records of unit
// in the capacity of disposition; another unit's answer as missing.
func decideDisposition(sub authz.Subject, a authz.Action, unit int64, id string, absent error) error {
	return decide(sub, a, authz.Resource{Kind: authz.KindDisposition, Unit: unit}, id, absent)
}

func errNoDisposal(id int64) error { return fmt.Errorf("%w: no disposal %d", errNotFound, id) }

// SetSchedule adds a series to the caller's unit's retention schedule. A
// series the schedule already has is refused with errs.ErrConflict.
func (s *Service) SetSchedule(ctx context.Context, sub authz.Subject, n NewSchedule) (*Schedule, error) {
	o, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkLine("series", n.Series, 64, true); err != nil {
		return nil, err
	}
	if err := checkLine("title", n.Title, maxLine, true); err != nil {
		return nil, err
	}
	if err := checkLine("source", n.Source, maxLine, false); err != nil {
		return nil, err
	}
	if n.RetentionYears < 0 || n.RetentionYears > maxRetentionYears {
		return nil, errs.Invalid("retention_years", fmt.Sprintf("must be 0 (permanent) or 1 to %d years", maxRetentionYears))
	}
	if err := decideDisposition(sub, authz.Create, sub.Unit, strconv.FormatInt(sub.Unit, 10), errNoDisposal(0)); err != nil {
		return nil, err
	}
	sc := &Schedule{UnitID: sub.Unit, Series: n.Series, Title: n.Title, RetentionYears: n.RetentionYears, Source: n.Source, CreatedAt: s.now()}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := insertSchedule(ctx, tx, sc); store.IsUniqueViolation(err) {
			return fmt.Errorf("%w: the schedule already has series %q", errs.ErrConflict, n.Series)
		} else if err != nil {
			return err
		}
		e := o.Event("retention.schedule")
		e.ResourceType, e.ResourceID, e.UnitID = "retention_schedule", strconv.FormatInt(sc.ID, 10), sc.UnitID
		e.Attrs = map[string]string{"series": audit.AttrValue(sc.Series), "years": strconv.Itoa(int(sc.RetentionYears))}
		return s.opts.Recorder.AppendTx(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// Schedules returns a unit's retention schedule.
func (s *Service) Schedules(ctx context.Context, sub authz.Subject, unit int64) ([]Schedule, error) {
	if err := decideDisposition(sub, authz.Read, unit, strconv.FormatInt(unit, 10), fmt.Errorf("%w: no schedule of unit %d", errNotFound, unit)); err != nil {
		return nil, err
	}
	return listSchedules(ctx, s.db, unit)
}

// retentionOf returns cf's retention: the longest series of the schedule
// its code starts with, else its own.
func retentionOf(cf *CaseFile, schedules []Schedule) Retention {
	best, r := -1, cf.RetentionYears
	for _, sc := range schedules {
		if strings.HasPrefix(cf.Code, sc.Series) && len(sc.Series) > best {
			best, r = len(sc.Series), sc.RetentionYears
		}
	}
	return r
}

// dueOf says what cf's retention makes of it at now (cf is closed).
func dueOf(cf *CaseFile, r Retention, now time.Time) (action string, at time.Time) {
	closed := cf.ClosedAt.In(registerZone()).Year()
	if r == Permanent {
		return "transfer", time.Date(closed+transferDeadlineYears+1, 1, 1, 0, 0, 0, 0, registerZone())
	}
	return "destroy", time.Date(closed+1+int(r), 1, 1, 0, 0, 0, 0, registerZone())
}

// Appraisal returns the unit's closed case files not yet disposed of,
// with their retention, due dates, holds and disposals, due ones first.
func (s *Service) Appraisal(ctx context.Context, sub authz.Subject, unit int64) ([]DueItem, error) {
	if err := decideDisposition(sub, authz.Read, unit, strconv.FormatInt(unit, 10), fmt.Errorf("%w: no schedule of unit %d", errNotFound, unit)); err != nil {
		return nil, err
	}
	return s.appraise(ctx, s.db, unit, s.now())
}

func (s *Service) appraise(ctx context.Context, q store.Queryer, unit int64, now time.Time) ([]DueItem, error) {
	schedules, err := listSchedules(ctx, q, unit)
	if err != nil {
		return nil, err
	}
	cfs, err := listClosedCaseFiles(ctx, q, unit)
	if err != nil {
		return nil, err
	}
	out := []DueItem{}
	for _, cf := range cfs {
		r := retentionOf(cf, schedules)
		action, at := dueOf(cf, r, now)
		it := DueItem{CaseFile: cf, Retention: r, Action: action, DueAt: at, Due: !now.Before(at)}
		if it.Holds, err = listHolds(ctx, q, caseFileHolds, cf.ID, true); err != nil {
			return nil, err
		}
		if it.HeldDocuments, err = heldDocuments(ctx, q, cf.ID); err != nil {
			return nil, err
		}
		if it.Disposal, err = openDisposalOf(ctx, q, cf.ID); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	slices.SortStableFunc(out, func(a, b DueItem) int { return a.DueAt.Compare(b.DueAt) })
	return out, nil
}

// PlaceHold places a legal hold on a case file, suspending its
// disposition until lifted.
func (s *Service) PlaceHold(ctx context.Context, sub authz.Subject, caseFileID int64, reason string) (*Hold, error) {
	if err := checkLine("reason", reason, maxLine, true); err != nil {
		return nil, err
	}
	h := &Hold{CaseFileID: caseFileID, Reason: reason, PlacedBy: sub.ID, PlacedAt: s.now()}
	err := s.onCaseFile(ctx, sub, caseFileID, authz.Create, func(tx *store.Tx, cf *CaseFile) (string, map[string]string, error) {
		if disp, err := caseFileDisposition(ctx, tx, cf.ID); err != nil || disp != "" {
			if err == nil {
				err = fmt.Errorf("%w: case file %s was %s; there is nothing left to hold", errs.ErrConflict, cf.Code, disp)
			}
			return "", nil, err
		}
		if err := insertHold(ctx, tx, caseFileHolds, cf.ID, h); err != nil {
			return "", nil, err
		}
		return "case_file.hold", map[string]string{"hold": strconv.FormatInt(h.ID, 10), "reason": audit.AttrValue(reason)}, nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// LiftHold lifts a legal hold, saying why.
func (s *Service) LiftHold(ctx context.Context, sub authz.Subject, caseFileID, holdID int64, reason string) error {
	if err := checkLine("reason", reason, maxLine, true); err != nil {
		return err
	}
	return s.onCaseFile(ctx, sub, caseFileID, authz.Create, func(tx *store.Tx, cf *CaseFile) (string, map[string]string, error) {
		n, err := liftHold(ctx, tx, caseFileHolds, caseFileID, holdID, sub.ID, reason, s.now())
		if err != nil {
			return "", nil, err
		}
		if n == 0 {
			return "", nil, fmt.Errorf("%w: case file %s has no hold %d in force", errs.ErrNotFound, cf.Code, holdID)
		}
		return "case_file.hold_lift", map[string]string{"hold": strconv.FormatInt(holdID, 10), "reason": audit.AttrValue(reason)}, nil
	})
}

// onCaseFile runs fn on a case file, locked in a transaction, after
// checking sub may do a in disposition of its unit, and appends the
// event fn names.
func (s *Service) onCaseFile(ctx context.Context, sub authz.Subject, id int64, a authz.Action,
	fn func(tx *store.Tx, cf *CaseFile) (string, map[string]string, error)) error {
	o, err := actorOf(ctx)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		cf, err := loadCaseFile(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := decideDisposition(sub, a, cf.UnitID, strconv.FormatInt(id, 10), errNoCaseFile(id)); err != nil {
			return err
		}
		action, attrs, err := fn(tx, cf)
		if err != nil {
			return err
		}
		e := o.Event(action)
		e.ResourceType, e.ResourceID, e.UnitID, e.Attrs = "case_file", strconv.FormatInt(id, 10), cf.UnitID, attrs
		return s.opts.Recorder.AppendTx(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("records: case file %d: %w", id, err)
	}
	return nil
}

// Appraise lists case files of the caller's unit due for destruction in
// a new disposal, awaiting its decision. Each must be closed, kept for a
// number of years that have run, free of legal holds and of any other
// disposal; ids empty lists every such case file (errs.ErrConflict if
// none is).
func (s *Service) Appraise(ctx context.Context, sub authz.Subject, ids []int64) (*Disposal, error) {
	o, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if len(ids) > 1000 {
		return nil, errs.Invalid("case_files", "at most 1000 case files in one appraisal")
	}
	if err := decideDisposition(sub, authz.Create, sub.Unit, strconv.FormatInt(sub.Unit, 10), errNoDisposal(0)); err != nil {
		return nil, err
	}
	now := s.now()
	d := &Disposal{UnitID: sub.Unit, Status: DisposalAppraised, PreparedBy: sub.ID, PreparedAt: now}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		items, err := s.appraise(ctx, tx, sub.Unit, now)
		if err != nil {
			return err
		}
		eligible := map[int64]DueItem{}
		for _, it := range items {
			if it.Action == "destroy" && it.Due && len(it.Holds) == 0 && it.Disposal == 0 {
				eligible[it.CaseFile.ID] = it
			}
		}
		if len(ids) == 0 {
			for _, it := range items {
				if _, ok := eligible[it.CaseFile.ID]; ok {
					ids = append(ids, it.CaseFile.ID)
				}
			}
			if len(ids) == 0 {
				return fmt.Errorf("%w: no case file of the unit is due for destruction", errs.ErrConflict)
			}
		}
		seen := map[int64]bool{}
		for _, id := range ids {
			if _, ok := eligible[id]; !ok || seen[id] {
				return s.notEligible(ctx, tx, sub, id, items)
			}
			seen[id] = true
		}
		return s.storeDisposal(ctx, tx, o, d, ids)
	})
	if err != nil {
		return nil, fmt.Errorf("records: appraise: %w", err)
	}
	return d, nil
}

// notEligible explains why case file id cannot be listed for
// destruction: one of another unit, or missing, answers as missing.
func (s *Service) notEligible(ctx context.Context, tx *store.Tx, sub authz.Subject, id int64, items []DueItem) error {
	for _, it := range items {
		if it.CaseFile.ID != id {
			continue
		}
		switch {
		case it.Action != "destroy":
			return fmt.Errorf("%w: case file %s is kept permanently; transfer it to the historical archive instead", errs.ErrConflict, it.CaseFile.Code)
		case !it.Due:
			return fmt.Errorf("%w: case file %s is kept until %s", errs.ErrConflict, it.CaseFile.Code, it.DueAt.Format("2006-01-02"))
		case len(it.Holds) > 0:
			return fmt.Errorf("%w: case file %s is under a legal hold (%s)", errs.ErrConflict, it.CaseFile.Code, it.Holds[0].Reason)
		case it.Disposal != 0:
			return fmt.Errorf("%w: case file %s is already listed in disposal %d", errs.ErrConflict, it.CaseFile.Code, it.Disposal)
		}
		return errs.Invalid("case_files", fmt.Sprintf("case file %d is listed twice", id))
	}
	cf, err := loadCaseFile(ctx, tx, id, false)
	if err != nil {
		return err
	}
	if err := decideDisposition(sub, authz.Read, cf.UnitID, strconv.FormatInt(id, 10), errNoCaseFile(id)); err != nil {
		return err
	}
	return fmt.Errorf("%w: case file %s is not closed, or was already disposed of", errs.ErrConflict, cf.Code)
}

func (s *Service) storeDisposal(ctx context.Context, tx *store.Tx, o audit.Origin, d *Disposal, ids []int64) error {
	if err := insertDisposal(ctx, tx, d, ids); err != nil {
		return err
	}
	d.CaseFiles = ids
	top, err := holdsTopSecret(ctx, tx, ids)
	if err != nil {
		return err
	}
	d.TopSecret = top
	return s.disposalEvent(ctx, tx, o, d, "disposal.appraise", nil)
}

func (s *Service) disposalEvent(ctx context.Context, tx *store.Tx, o audit.Origin, d *Disposal, action string, attrs map[string]string) error {
	e := o.Event(action)
	e.ResourceType, e.ResourceID, e.UnitID = "disposal", strconv.FormatInt(d.ID, 10), d.UnitID
	if d.TopSecret {
		e.Level = authz.TopSecret
	}
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrs["case_files"] = strconv.Itoa(len(d.CaseFiles))
	e.Attrs = attrs
	return s.opts.Recorder.AppendTx(ctx, tx, e)
}

// Disposal returns a disposal of a unit the caller may see.
func (s *Service) Disposal(ctx context.Context, sub authz.Subject, id int64) (*Disposal, error) {
	d, err := loadDisposal(ctx, s.db, id, false)
	if err != nil {
		return nil, err
	}
	if err := decideDisposition(sub, authz.Read, d.UnitID, strconv.FormatInt(id, 10), errNoDisposal(id)); err != nil {
		return nil, err
	}
	return d, nil
}

// Disposals returns a unit's disposals, newest first.
func (s *Service) Disposals(ctx context.Context, sub authz.Subject, unit int64) ([]*Disposal, error) {
	if err := decideDisposition(sub, authz.Read, unit, strconv.FormatInt(unit, 10), fmt.Errorf("%w: no schedule of unit %d", errNotFound, unit)); err != nil {
		return nil, err
	}
	return listDisposals(ctx, s.db, unit)
}

// DecideDisposal records the decision to destroy what a disposal lists:
// its number and date, and who decided. A disposal listing a top-secret
// document needs two leaders: the first decision waits for a second by
// someone else. It returns the disposal; errs.ErrConflict when it is not
// awaiting a decision (or the same leader decides twice).
func (s *Service) DecideDisposal(ctx context.Context, sub authz.Subject, id int64, number string, date time.Time) (*Disposal, error) {
	if err := checkLine("decision_number", number, 100, true); err != nil {
		return nil, err
	}
	now := s.now()
	if date.IsZero() || date.After(now) {
		return nil, errs.Invalid("decision_date", "is required and may not be in the future")
	}
	return s.onDisposal(ctx, sub, id, authz.Approve, func(tx *store.Tx, d *Disposal) (string, map[string]string, error) {
		attrs := map[string]string{"decision": audit.AttrValue(number)}
		switch {
		case d.Status == DisposalAwaitingSecond && d.DecidedBy == sub.ID:
			return "", nil, fmt.Errorf("%w: you decided disposal %d; a second leader must confirm it (it lists a top-secret document)", errs.ErrConflict, id)
		case d.Status == DisposalAwaitingSecond:
			if number != d.DecisionNo {
				return "", nil, errs.Invalid("decision_number", fmt.Sprintf("the first leader decided under %q; confirm that decision", d.DecisionNo))
			}
			d.SecondBy, d.Status = sub.ID, DisposalDecided
			attrs["first"] = strconv.FormatInt(d.DecidedBy, 10)
		case d.Status != DisposalAppraised:
			return "", nil, fmt.Errorf("%w: disposal %d is %s, not awaiting a decision", errs.ErrConflict, id, d.Status)
		default:
			d.DecisionNo, d.DecisionDate, d.DecidedBy, d.Status = number, date.UTC(), sub.ID, DisposalDecided
			if d.TopSecret {
				d.Status = DisposalAwaitingSecond
			}
		}
		return "disposal.decide", attrs, updateDisposal(ctx, tx, d)
	})
}

// onDisposal runs fn on a disposal, locked in a transaction, after
// checking sub may do a in its unit's disposition, and appends the
// event fn names.
func (s *Service) onDisposal(ctx context.Context, sub authz.Subject, id int64, a authz.Action,
	fn func(tx *store.Tx, d *Disposal) (string, map[string]string, error)) (*Disposal, error) {
	o, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	var out *Disposal
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := loadDisposal(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := decideDisposition(sub, a, d.UnitID, strconv.FormatInt(id, 10), errNoDisposal(id)); err != nil {
			return err
		}
		action, attrs, err := fn(tx, d)
		if err != nil {
			return err
		}
		out = d
		return s.disposalEvent(ctx, tx, o, d, action, attrs)
	})
	if err != nil {
		return nil, fmt.Errorf("records: disposal %d: %w", id, err)
	}
	return out, nil
}

// ExecuteDisposal carries out a decided destruction: every document
// filed in the listed case files, and in no case file kept, has its data
// key destroyed (crypto-shredding: its record stays, its content can
// never be read again; the ledger records each at the document's level
// with the decision); the case files are marked destroyed; the minutes
// are written. Without a decision it changes nothing (errs.ErrConflict);
// a case file placed under a legal hold since the appraisal stops it.
func (s *Service) ExecuteDisposal(ctx context.Context, sub authz.Subject, id int64) (*Disposal, error) {
	return s.onDisposal(ctx, sub, id, authz.Update, func(tx *store.Tx, d *Disposal) (string, map[string]string, error) {
		if d.Status != DisposalDecided {
			return "", nil, fmt.Errorf("%w: disposal %d is %s; nothing is destroyed without a decision", errs.ErrConflict, id, d.Status)
		}
		o, _ := actorOrNone(ctx)
		now := s.now()
		var lines []string
		shredded, kept := 0, 0
		for _, cfID := range d.CaseFiles {
			cf, err := loadCaseFile(ctx, tx, cfID, true)
			if err != nil {
				return "", nil, err
			}
			holds, err := listHolds(ctx, tx, caseFileHolds, cfID, true)
			if err != nil {
				return "", nil, err
			}
			if len(holds) > 0 {
				return "", nil, fmt.Errorf("%w: case file %s was placed under a legal hold (%s); lift it or appraise again", errs.ErrConflict, cf.Code, holds[0].Reason)
			}
			docs, keep, err := disposableDocuments(ctx, tx, cfID, d.CaseFiles)
			if err != nil {
				return "", nil, err
			}
			for _, docID := range docs {
				done, err := s.shred(ctx, tx, o, docID, d, now)
				if err != nil {
					return "", nil, err
				}
				if done {
					shredded++
				}
			}
			kept += len(keep)
			if err := setDisposition(ctx, tx, cfID, DispositionDestroyed, now); err != nil {
				return "", nil, err
			}
			lines = append(lines, fmt.Sprintf("- Hồ sơ %s (năm %d): %s — %d văn bản", cf.Code, cf.Year, cf.Title, len(docs)))
		}
		d.Status, d.ExecutedBy, d.ExecutedAt = DisposalDone, sub.ID, now
		d.Minutes = destructionMinutes(d, lines, shredded, kept, s.holderName(ctx, sub.ID))
		return "disposal.execute", map[string]string{"decision": audit.AttrValue(d.DecisionNo), "shredded": strconv.Itoa(shredded),
			"kept": strconv.Itoa(kept)}, updateDisposal(ctx, tx, d)
	})
}

// shred destroys a document's data key under disposal d, and reports
// whether there was one to destroy.
func (s *Service) shred(ctx context.Context, tx *store.Tx, o audit.Origin, docID int64, d *Disposal, now time.Time) (bool, error) {
	r, err := loadDocument(ctx, tx, docID, now, true)
	if err != nil {
		return false, err
	}
	c, ok, err := loadContent(ctx, tx, docID)
	if err != nil || !ok || !c.Shredded.IsZero() {
		return false, err
	}
	if err := rewrapContent(ctx, tx, docID, c.purpose, nil, now); err != nil {
		return false, fmt.Errorf("records: destroy the data key of document %d: %w", docID, err)
	}
	return true, s.opts.Recorder.AppendTx(ctx, tx, event(o, "document.destroy", r, map[string]string{"decision": audit.AttrValue(d.DecisionNo),
		"disposal": strconv.FormatInt(d.ID, 10), "key_purpose": c.purpose}))
}

// destructionMinutes writes the minutes of a destruction (biên bản hủy
// tài liệu hết giá trị): the decision, who carried it out, when, and
// what was destroyed.
func destructionMinutes(d *Disposal, lines []string, shredded, kept int, by string) string {
	z := registerZone()
	var b strings.Builder
	fmt.Fprintf(&b, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\nBIÊN BẢN HỦY TÀI LIỆU HẾT GIÁ TRỊ\n\n")
	fmt.Fprintf(&b, "Căn cứ Luật Lưu trữ số 33/2024/QH15;\nCăn cứ Quyết định số %s ngày %s về việc hủy tài liệu hết giá trị,\n\n",
		d.DecisionNo, d.DecisionDate.In(z).Format("02/01/2006"))
	fmt.Fprintf(&b, "Hồi %s ngày %s, %s đã tiến hành hủy tài liệu hết giá trị của danh mục thẩm định số %d bằng biện pháp hủy khóa mã hóa dữ liệu của từng văn bản (nội dung không thể khôi phục; siêu dữ liệu được giữ lại).\n\n",
		d.ExecutedAt.In(z).Format("15:04"), d.ExecutedAt.In(z).Format("02/01/2006"), by, d.ID)
	b.WriteString("Tài liệu đã hủy:\n")
	b.WriteString(strings.Join(lines, "\n"))
	fmt.Fprintf(&b, "\n\nSố văn bản đã hủy khóa: %d. Số văn bản giữ lại vì còn thuộc hồ sơ khác hoặc đang bị tạm dừng xử lý: %d.\n", shredded, kept)
	b.WriteString("Việc hủy được ghi vào sổ nhật ký kiểm toán (audit ledger) của hệ thống.\n")
	return b.String()
}

// MinutesPDF returns the minutes of a carried-out destruction as a PDF.
func (s *Service) MinutesPDF(ctx context.Context, sub authz.Subject, id int64) ([]byte, error) {
	d, err := s.Disposal(ctx, sub, id)
	if err != nil {
		return nil, err
	}
	if d.Status != DisposalDone {
		return nil, fmt.Errorf("%w: disposal %d has not been carried out; it has no minutes yet", errs.ErrConflict, id)
	}
	return renderPDF(fmt.Sprintf("Biên bản hủy tài liệu — %s", d.DecisionNo), []string{d.Minutes},
		pdfMarks{Header: "Biên bản hủy tài liệu hết giá trị", Footer: "Quyết định " + d.DecisionNo}, d.ExecutedAt)
}
