package records

import (
	"context"
	"fmt"
	"strconv"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// maxRetentionYears bounds a case file's retention in years; longer is
// permanent retention (0).
const maxRetentionYears = 100

// NewCaseFile is a case file a unit opens in its yearly list.
type NewCaseFile struct {
	Year  int
	Code  string
	Title string
	// RetentionYears is 0 for permanent retention.
	RetentionYears Retention
}

// decideCaseFile returns nil if sub may do a to case file cf, an
// *authz.Refusal otherwise; a concealed one reads as a missing case file.
func decideCaseFile(sub authz.Subject, a authz.Action, cf *CaseFile) error {
	return decide(sub, a, authz.Resource{Kind: authz.KindCaseFile, Unit: cf.UnitID}, strconv.FormatInt(cf.ID, 10), errNoCaseFile(cf.ID))
}

// CreateCaseFile opens a case file in the signed-in member of staff's
// unit. A code already used in the unit's list of the year is refused
// with errs.ErrConflict.
func (s *Service) CreateCaseFile(ctx context.Context, sub authz.Subject, n NewCaseFile) (*CaseFile, error) {
	o, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkLine("code", n.Code, 64, true); err != nil {
		return nil, err
	}
	if err := checkLine("title", n.Title, maxSubject, true); err != nil {
		return nil, err
	}
	if n.Year < 1945 || n.Year > 9999 {
		return nil, errs.Invalid("year", "must be a year such as 2026")
	}
	if n.RetentionYears < 0 || n.RetentionYears > maxRetentionYears {
		return nil, errs.Invalid("retention_years", fmt.Sprintf("must be 0 (permanent) or 1 to %d years", maxRetentionYears))
	}
	cf := &CaseFile{UnitID: sub.Unit, Year: n.Year, Code: n.Code, Title: n.Title, RetentionYears: n.RetentionYears, CreatedAt: s.now(), Documents: []int64{}}
	if err := decideCaseFile(sub, authz.Create, cf); err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := insertCaseFile(ctx, tx, cf); store.IsUniqueViolation(err) {
			return fmt.Errorf("%w: the unit's list of %d already has a case file %q", errs.ErrConflict, n.Year, n.Code)
		} else if err != nil {
			return fmt.Errorf("records: store case file: %w", err)
		}
		e := o.Event("case_file.create")
		e.ResourceType, e.ResourceID, e.UnitID = "case_file", strconv.FormatInt(cf.ID, 10), cf.UnitID
		return s.opts.Recorder.AppendTx(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return cf, nil
}

// CaseFile returns a case file with the documents in it that sub may
// know of; a case file of another unit answers as a missing one.
func (s *Service) CaseFile(ctx context.Context, sub authz.Subject, id int64) (*CaseFile, error) {
	cf, err := loadCaseFile(ctx, s.db, id, false)
	if err != nil {
		return nil, err
	}
	if err := decideCaseFile(sub, authz.Read, cf); err != nil {
		return nil, err
	}
	if cf.Documents, err = listFiledVisible(ctx, s.db, id, sub, s.now()); err != nil {
		return nil, err
	}
	if cf.Documents == nil {
		cf.Documents = []int64{}
	}
	return cf, nil
}

// File files a document into one of the unit's open case files. The
// document is not copied: filing it into several case files lists it in
// each. The caller must be able to read the document; a case file of
// another unit, or a document the caller may not know of, answers as
// missing; a closed case file is refused with errs.ErrConflict.
func (s *Service) File(ctx context.Context, sub authz.Subject, caseFileID, docID int64) error {
	o, err := actorOf(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		cf, err := loadCaseFile(ctx, tx, caseFileID, true)
		if err != nil {
			return err
		}
		if err := decideCaseFile(sub, authz.Update, cf); err != nil {
			return err
		}
		r, err := loadDocument(ctx, tx, docID, now, false)
		if err != nil {
			return err
		}
		if err := allow(sub, authz.Read, authz.KindDocument, r); err != nil {
			return err
		}
		if !cf.ClosedAt.IsZero() {
			return fmt.Errorf("%w: case file %s is closed; file the document into an open one", errs.ErrConflict, cf.Code)
		}
		added, err := fileDocument(ctx, tx, cf.ID, r.ID, sub.ID, now)
		if err != nil || !added {
			return err // filing twice changes nothing
		}
		return s.opts.Recorder.AppendTx(ctx, tx, event(o, "document.file", r, map[string]string{"case_file": strconv.FormatInt(cf.ID, 10)}))
	})
	if err != nil {
		return fmt.Errorf("records: file document %d into case file %d: %w", docID, caseFileID, err)
	}
	return nil
}

// CloseCaseFile closes one of the unit's case files: nothing more is
// filed into it.
func (s *Service) CloseCaseFile(ctx context.Context, sub authz.Subject, id int64) error {
	o, err := actorOf(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		cf, err := loadCaseFile(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := decideCaseFile(sub, authz.Update, cf); err != nil {
			return err
		}
		if !cf.ClosedAt.IsZero() {
			return fmt.Errorf("%w: case file %s is already closed", errs.ErrConflict, cf.Code)
		}
		if err := closeCaseFile(ctx, tx, id, now); err != nil {
			return err
		}
		e := o.Event("case_file.close")
		e.ResourceType, e.ResourceID, e.UnitID = "case_file", strconv.FormatInt(cf.ID, 10), cf.UnitID
		return s.opts.Recorder.AppendTx(ctx, tx, e)
	})
}
