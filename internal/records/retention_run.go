package records

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// RunStep is one thing a retention run did, or would do in a dry run.
type RunStep struct {
	UnitID int64  `json:"unit_id"`
	Action string `json:"action"` // execute | appraise | transfer_due | held | awaiting_decision
	// Ref names the disposal or case file.
	Ref    string    `json:"ref"`
	Detail string    `json:"detail"`
	DueAt  time.Time `json:"due_at,omitzero"`
}

// RunRetention applies the retention schedules of every unit (or of
// unit, if not 0) as the node (the command line's chancery records
// retention run): it carries out the destructions already decided, lists
// in a new appraisal the case files due for destruction that no appraisal
// lists yet (for a leader to decide: nothing is destroyed without a
// decision), and reports the case files due for transfer, those held and
// the appraisals awaiting a decision. With dryRun it changes nothing and
// says what it would do.
func (s *Service) RunRetention(ctx context.Context, unit int64, dryRun bool) ([]RunStep, error) {
	units := []int64{unit}
	if unit == 0 {
		var err error
		if units, err = int64s(ctx, s.db, `SELECT DISTINCT unit_id FROM record_case_files WHERE closed_us > 0 AND disposition = ''
			UNION SELECT DISTINCT unit_id FROM record_disposals WHERE status <> 'done' ORDER BY 1`); err != nil {
			return nil, err
		}
	}
	var steps []RunStep
	for _, u := range units {
		node := authz.Subject{Kind: authz.System, Unit: u, Clearance: authz.TopSecret}
		disposals, err := listDisposals(ctx, s.db, u)
		if err != nil {
			return nil, err
		}
		for _, d := range disposals {
			ref := "disposal " + strconv.FormatInt(d.ID, 10)
			switch d.Status {
			case DisposalDecided:
				step := RunStep{UnitID: u, Action: "execute", Ref: ref, Detail: fmt.Sprintf("decision %s, %d case files", d.DecisionNo, len(d.CaseFiles))}
				if !dryRun {
					if _, err := s.ExecuteDisposal(ctx, node, d.ID); err != nil {
						step.Action, step.Detail = "refused", err.Error()
					}
				}
				steps = append(steps, step)
			case DisposalAppraised, DisposalAwaitingSecond:
				steps = append(steps, RunStep{UnitID: u, Action: "awaiting_decision", Ref: ref, Detail: fmt.Sprintf("%s, %d case files", d.Status, len(d.CaseFiles))})
			}
		}
		items, err := s.appraise(ctx, s.db, u, s.now())
		if err != nil {
			return nil, err
		}
		due := 0
		for _, it := range items {
			ref := "case file " + it.CaseFile.Code
			switch {
			case !it.Due:
			case len(it.Holds) > 0:
				steps = append(steps, RunStep{UnitID: u, Action: "held", Ref: ref, Detail: it.Holds[0].Reason, DueAt: it.DueAt})
			case it.Action == "transfer":
				steps = append(steps, RunStep{UnitID: u, Action: "transfer_due", Ref: ref, Detail: "permanent: deliver to the historical archive", DueAt: it.DueAt})
			case it.Disposal == 0:
				due++
				steps = append(steps, RunStep{UnitID: u, Action: "appraise", Ref: ref, Detail: fmt.Sprintf("kept %d years", it.Retention), DueAt: it.DueAt})
			}
		}
		if due > 0 && !dryRun {
			if _, err := s.Appraise(ctx, node, nil); err != nil && !errors.Is(err, errs.ErrConflict) {
				return nil, err
			}
		}
	}
	return steps, nil
}
