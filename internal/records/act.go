package records

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// step is one move of a document's lifecycle: the directions and
// statuses it starts from, where it leads, and the capacity (authz kind
// and action) it is taken in. The table is the lifecycle; authz's grants
// say who holds each capacity.
type step struct {
	dir    Direction
	from   []Status
	to     Status
	kind   authz.Kind
	action authz.Action
}

// Steps by name. "comment" changes no status.
var steps = map[string]step{
	// Outgoing: the unit's leader approves the draft and signs it, the
	// records office issues it with its number, the leader recalls it.
	"approve": {Outgoing, []Status{StatusDraft}, StatusApproved, authz.KindDocument, authz.Approve},
	"sign":    {Outgoing, []Status{StatusApproved}, StatusSigned, authz.KindDocument, authz.Approve},
	"issue":   {Outgoing, []Status{StatusSigned}, StatusIssued, authz.KindRegister, authz.Update},
	"recall":  {Outgoing, []Status{StatusIssued}, StatusRecalled, authz.KindDocument, authz.Approve},
	// Incoming: the leader's instruction assigns it, the lead unit
	// completes it.
	"assign":   {Incoming, []Status{StatusRegistered, StatusInProgress}, StatusInProgress, authz.KindDocument, authz.Approve},
	"complete": {Incoming, []Status{StatusInProgress}, StatusDone, authz.KindDocument, authz.Update},
	"comment":  {"", nil, "", authz.KindDocument, authz.Update},
	// Drafting (drafting.go): a new version and the review chain while a
	// draft; a replacement of an issued or recalled document.
	"revise":      {Outgoing, []Status{StatusDraft}, "", authz.KindDocument, authz.Update},
	"send_review": {Outgoing, []Status{StatusDraft}, "", authz.KindDocument, authz.Update},
	"review":      {Outgoing, []Status{StatusDraft}, "", authz.KindDocument, authz.Approve},
	"replace":     {Outgoing, []Status{StatusIssued, StatusRecalled}, "", authz.KindDocument, authz.Create},
}

// change runs fn on document id, loaded (and locked) inside a
// transaction, after checking that sub may take the step name and that
// the document is where the step starts; fn's changes, the step's
// record and its audit event commit together.
func (s *Service) change(ctx context.Context, sub authz.Subject, id int64, name, note string, attrs map[string]string,
	fn func(tx *store.Tx, r *row) error) (*Document, error) {
	o, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	st, ok := steps[name]
	if !ok {
		return nil, errs.Invalid("action", fmt.Sprintf("unknown action %q", name))
	}
	if err := checkText("note", note, maxNote, name == "comment" || name == "recall", true); err != nil {
		return nil, err
	}
	now := s.now()
	var doc *Document
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := lockToAct(ctx, tx, sub, id, now, st.action, st.kind)
		if err != nil {
			return err
		}
		if st.dir == Outgoing {
			// An outgoing document's steps are its drafting unit's
			// (drafting.go): its list and grants give reading only.
			if err := draftingUnit(sub, name, r); err != nil {
				return err
			}
		}
		if st.dir != "" && (r.Direction != st.dir || !slices.Contains(st.from, r.Status)) {
			return fmt.Errorf("%w: an %s document that is %s cannot be %s", errs.ErrConflict, r.Direction, r.Status, pastTense(name))
		}
		if fn != nil {
			if err := fn(tx, r); err != nil {
				return err
			}
		}
		if st.to != "" {
			r.Status = st.to
		}
		r.UpdatedAt = now
		if err := updateDocument(ctx, tx, r); err != nil {
			return fmt.Errorf("records: update document: %w", err)
		}
		if err := insertStep(ctx, tx, r.ID, Step{Action: name, ActorID: sub.ID, Note: note, At: now}); err != nil {
			return err
		}
		if err := s.edxmlStepTx(ctx, tx, r, name, note); err != nil {
			return err
		}
		doc = &r.Document
		return s.opts.Recorder.AppendTx(ctx, tx, event(o, "document."+name, r, attrs))
	})
	if err != nil {
		return nil, fmt.Errorf("records: %s document %d: %w", name, id, err)
	}
	return doc, nil
}

// lockToAct loads and locks document id in tx for sub to do a to it in
// the capacity of kind k: whoever may not read it learns what a missing
// document answers, whoever may read it but lacks the capacity is refused.
func lockToAct(ctx context.Context, tx *store.Tx, sub authz.Subject, id int64, now time.Time, a authz.Action, k authz.Kind) (*row, error) {
	r, err := loadDocument(ctx, tx, id, now, true)
	if err != nil {
		return nil, err
	}
	if err := allow(sub, authz.Read, authz.KindDocument, r); err != nil {
		return nil, err
	}
	if err := allow(sub, a, k, r); err != nil {
		return nil, err
	}
	return r, nil
}

func pastTense(step string) string {
	switch step {
	case "sign":
		return "signed"
	case "issue":
		return "issued"
	case "recall":
		return "recalled"
	case "assign":
		return "assigned"
	case "complete":
		return "completed"
	case "send_review":
		return "sent for review"
	case "review":
		return "reviewed"
	}
	return step + "d"
}

// Approve approves a draft. Sign signs an approved document, the signer
// being the caller. Recall recalls an issued one, saying why. Each returns
// an error wrapping errs.ErrConflict when the document is not where the
// step starts, and an *authz.Refusal when the caller may not take it.
func (s *Service) Approve(ctx context.Context, sub authz.Subject, id int64, note string) (*Document, error) {
	return s.change(ctx, sub, id, "approve", note, nil, nil)
}

// Sign signs an approved outgoing document with the node's key, over a
// statement naming the signer and the file's digest (see Signature); see
// Approve.
func (s *Service) Sign(ctx context.Context, sub authz.Subject, id int64, note string) (*Document, error) {
	return s.change(ctx, sub, id, "sign", note, nil, func(tx *store.Tx, r *row) error {
		r.SignerID = sub.ID
		return s.signDocument(ctx, tx, r, "signer", sub.ID, s.now())
	})
}

// Recall recalls an issued document; the reason is required. See Approve.
func (s *Service) Recall(ctx context.Context, sub authz.Subject, id int64, reason string) (*Document, error) {
	return s.change(ctx, sub, id, "recall", reason, nil, nil)
}

// Comment adds a comment to a document's handling.
func (s *Service) Comment(ctx context.Context, sub authz.Subject, id int64, note string) (*Document, error) {
	return s.change(ctx, sub, id, "comment", note, nil, nil)
}

// Complete marks an incoming document handled.
func (s *Service) Complete(ctx context.Context, sub authz.Subject, id int64, note string) (*Document, error) {
	return s.change(ctx, sub, id, "complete", note, nil, nil)
}

// IssueAs says in whose name a document is issued: the issuing agency's
// abbreviation and, for a công văn, the drafting unit's.
type IssueAs struct {
	OrgSymbol  string
	UnitSymbol string
	// Recipients are the identifier codes of the other agencies and
	// missions the document goes to, each as an edXML package through the
	// exchange (edxml_send.go).
	Recipients []string
}

// Issue issues a signed outgoing document: it takes the next number of
// the unit's outgoing register of the year (classified documents in
// their own series) and gives the document its number and symbol, in the
// transaction that issues it, so that no number is lost or given twice.
// The register is the document's unit's, whose records office issues it:
// as says in whose name, and should name that unit (one series per
// issuing agency); a unit issuing in another agency's name (a department
// in the ministry's) would need that agency's register, which is not
// modelled yet.
func (s *Service) Issue(ctx context.Context, sub authz.Subject, id int64, as IssueAs) (*Document, error) {
	return s.issue(ctx, sub, id, as, nil)
}

// issue is Issue, running then (if not nil) in the issuing transaction
// once the number is taken (Distribute stores the distribution list).
func (s *Service) issue(ctx context.Context, sub authz.Subject, id int64, as IssueAs, then func(tx *store.Tx, r *row) error) (*Document, error) {
	return s.change(ctx, sub, id, "issue", "", nil, func(tx *store.Tx, r *row) error {
		ns := NumberSymbol{Number: 1, Type: r.Type, Org: as.OrgSymbol, Unit: as.UnitSymbol}
		if err := ns.Validate(); err != nil {
			return err
		}
		now := s.now()
		year, series := now.In(registerZone()).Year(), seriesOf(Outgoing, r.Classification)
		n, err := takeNumber(ctx, tx, r.UnitID, year, series)
		if err != nil {
			return err
		}
		ns.Number = n
		r.RegisterYear, r.Series, r.RegisterNumber, r.Number, r.Date = year, series, n, ns.String(), now
		r.orgSymbol, r.unitSymbol = as.OrgSymbol, as.UnitSymbol
		if err := indexWithText(ctx, tx, r); err != nil {
			return err
		}
		if err := s.queuePackagesTx(ctx, tx, r, as.Recipients); err != nil {
			return err
		}
		if then != nil {
			if err := then(tx, r); err != nil {
				return err
			}
		}
		// The issuing office's signature covers the number and date the
		// signer's could not.
		return s.signDocument(ctx, tx, r, "issuer", sub.ID, now)
	})
}

// AssignTo is one unit or officer an instruction assigns.
type AssignTo struct {
	UnitID  int64 `json:"unit_id"`
	StaffID int64 `json:"staff_id,omitempty"` // 0: the unit as a whole
}

// Instruction is the leader's instruction on an incoming document (bút
// phê): the lead, the supporting units or officers, and the deadline.
type Instruction struct {
	Text     string
	Lead     AssignTo
	Support  []AssignTo
	Deadline time.Time
}

// Assign records the leader's instruction on an incoming document. The
// assigned units join its distribution list, so that they may read it;
// the deadline becomes its due date.
func (s *Service) Assign(ctx context.Context, sub authz.Subject, id int64, in Instruction) (*Document, error) {
	if err := checkText("instruction", in.Text, maxNote, true, true); err != nil {
		return nil, err
	}
	if in.Lead.UnitID <= 0 || len(in.Support) > 50 {
		return nil, errs.Invalid("lead", "an instruction names a lead unit, and at most 50 supporting ones")
	}
	if !in.Deadline.IsZero() && !in.Deadline.After(s.now()) {
		return nil, errs.Invalid("deadline", "must be in the future")
	}
	return s.change(ctx, sub, id, "assign", in.Text, map[string]string{"lead_unit": strconv.FormatInt(in.Lead.UnitID, 10)},
		func(tx *store.Tx, r *row) error {
			now := s.now()
			all := append([]AssignTo{in.Lead}, in.Support...)
			var units []int64
			for i, a := range all {
				if a.UnitID <= 0 {
					return errs.Invalid("support", "unit ids are positive")
				}
				role := "support"
				if i == 0 {
					role = "lead"
				}
				as := Assignment{Role: role, UnitID: a.UnitID, StaffID: a.StaffID, Deadline: in.Deadline.UTC(), Instruction: in.Text,
					AssignedBy: sub.ID, At: now}
				if err := insertAssignment(ctx, tx, r.ID, &as); isForeignKeyViolation(err) {
					return errs.Invalid("lead", fmt.Sprintf("unit %d or officer %d does not exist", a.UnitID, a.StaffID))
				} else if err != nil {
					return fmt.Errorf("records: store the instruction: %w", err)
				}
				if a.UnitID != r.UnitID {
					units = append(units, a.UnitID)
				}
			}
			if !in.Deadline.IsZero() {
				r.DueAt = in.Deadline.UTC()
			}
			if err := insertDistribution(ctx, tx, r.ID, units); err != nil {
				return err
			}
			// The new readers' units search it too (search_sql.go).
			r.Shared = append(r.Shared, units...)
			return indexWithText(ctx, tx, r)
		})
}

// recordRead appends a reading's audit event (after the fact: a read
// changes nothing, so it needs no transaction).
func (s *Service) recordRead(ctx context.Context, action string, r *row) error {
	o, ok := audit.OriginFrom(ctx)
	if !ok || o.Anonymous() {
		return nil
	}
	if _, err := s.opts.Recorder.Append(ctx, event(o, action, r, nil)); err != nil {
		return fmt.Errorf("records: record the %s of document %d: %w", action, r.ID, err)
	}
	return nil
}
