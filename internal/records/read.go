package records

import (
	"context"
	"fmt"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// View is a document as its reader sees it: the document, its
// classification record, its handling and who has read it.
type View struct {
	*Document
	ClassificationRecord Classification `json:"classification_record"`
	Assignments          []Assignment   `json:"assignments"`
	Steps                []Step         `json:"steps"`
	Receipts             []Receipt      `json:"read_receipts"`
	// Signatures are the signer's and the issuing office's, verifiable
	// offline with the node's public key.
	Signatures []Signature `json:"signatures"`
	// Attachments are its files beyond the main one (an incoming
	// package's others), each at .../attachments/{seq}.
	Attachments []AttachmentInfo `json:"attachments"`
	// Holds are the document's legal holds, in force and lifted
	// (holds.go).
	Holds []Hold `json:"holds"`
	// Extraction is where the reading of the file's text for the search
	// index stands (extract_worker.go); absent when none is queued.
	Extraction *Extraction `json:"text_extraction,omitempty"`
}

// Get returns a document to a caller who may read it: cleared for its
// level, and of its unit or its distribution list or holding a grant. To
// anyone else it answers exactly as for a document that does not exist
// (an error wrapping errs.ErrNotFound; an *authz.Refusal, whose level the
// web layer records). Each reading is recorded in the audit ledger with
// the document's level, and a first reading as a read receipt.
func (s *Service) Get(ctx context.Context, sub authz.Subject, id int64) (*View, error) {
	now := s.now()
	r, err := loadDocument(ctx, s.db, id, now, false)
	if err != nil {
		return nil, err
	}
	if err := allow(sub, authz.Read, authz.KindDocument, r); err != nil {
		return nil, err
	}
	v := &View{Document: &r.Document, ClassificationRecord: r.class}
	if v.ClassificationRecord.History, err = listClassificationEvents(ctx, s.db, id); err != nil {
		return nil, err
	}
	if v.ClassificationRecord.Pending, err = loadPending(ctx, s.db, id); err != nil {
		return nil, err
	}
	if c, ok, err := loadContent(ctx, s.db, id); err != nil {
		return nil, err
	} else if ok {
		r.Content = &c.ContentInfo
	}
	if v.Assignments, err = listAssignments(ctx, s.db, id); err != nil {
		return nil, err
	}
	if v.Steps, err = listSteps(ctx, s.db, id); err != nil {
		return nil, err
	}
	if v.Signatures, err = listSignatures(ctx, s.db, id); err != nil {
		return nil, err
	}
	if v.Extraction, err = loadExtraction(ctx, s.db, id); err != nil {
		return nil, err
	}
	if v.Holds, err = listHolds(ctx, s.db, documentHolds, id, false); err != nil {
		return nil, err
	}
	if v.Attachments, err = listAttachments(ctx, s.db, id); err != nil {
		return nil, err
	}
	if sub.Kind == authz.Staff {
		if _, err := markRead(ctx, s.db, id, sub.ID, now); err != nil {
			return nil, err
		}
	}
	if v.Receipts, err = listReceipts(ctx, s.db, id); err != nil {
		return nil, err
	}
	if err := s.recordRead(ctx, "document.read", r); err != nil {
		return nil, err
	}
	return v, nil
}

// ContentOf returns a document's file and its description to a caller
// who may read the document (others: as Get). The download is recorded
// in the audit ledger with the document's level before the bytes are
// returned. A document without a file answers errs.ErrNotFound; one whose
// data key was destroyed, errs.ErrConflict.
func (s *Service) ContentOf(ctx context.Context, sub authz.Subject, id int64) (ContentInfo, []byte, error) {
	r, c, err := s.readableContent(ctx, sub, id)
	if err != nil {
		return ContentInfo{}, nil, err
	}
	data, err := openContent(ctx, s.opts.Ring, id, &c)
	if err != nil {
		return ContentInfo{}, nil, err
	}
	if err := s.recordRead(ctx, "document.download", r); err != nil {
		return ContentInfo{}, nil, err
	}
	return c.ContentInfo, data, nil
}

// RegisterQuery asks for a page of a unit's register of a year: the
// incoming register (sổ đăng ký văn bản đến) or the outgoing one (văn bản
// đi), each with its secret series.
type RegisterQuery struct {
	Direction Direction
	UnitID    int64
	Year      int
	// Secret asks for the register's series of classified documents.
	Secret bool
	// After is the register number the previous page ended at.
	After int
	// Limit is the page size; if zero, DefaultLimit; at most MaxLimit.
	Limit int
}

// Register returns a page of a register in number order: the entries the
// caller may know of (a classified series shows only what the caller's
// clearance and need-to-know allow). Registers are the records office's:
// those whose roles read them for the unit (authz's KindRegister, Read);
// to anyone else another unit's register answers errs.ErrNotFound.
func (s *Service) Register(ctx context.Context, sub authz.Subject, q RegisterQuery) (*RegisterPage, error) {
	if q.Direction != Incoming && q.Direction != Outgoing {
		return nil, errs.Invalid("direction", "use incoming or outgoing")
	}
	if q.Year < 1945 || q.Year > 9999 {
		return nil, errs.Invalid("year", "must be a year such as 2026")
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 0 || q.Limit > MaxLimit:
		return nil, errs.Invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	// A unit merged into another has its registers kept there (merge.go).
	keeper, err := keeperOf(ctx, s.db, q.UnitID)
	if err != nil {
		return nil, err
	}
	res := authz.Resource{Kind: authz.KindRegister, Unit: keeper}
	if err := decide(sub, authz.Read, res, fmt.Sprint(q.UnitID), fmt.Errorf("%w: no register of unit %d", errs.ErrNotFound, q.UnitID)); err != nil {
		return nil, err
	}
	level := authz.Unclassified
	if q.Secret {
		level = authz.Confidential
	}
	where, args := visibleClause(sub, s.now())
	where += ` AND d.unit_id = ? AND d.register_year = ? AND d.series = ? AND d.register_number > ?`
	args = append(args, q.UnitID, q.Year, string(seriesOf(q.Direction, level)), q.After)
	docs, err := registerPage(ctx, s.db, where, args, q.Limit)
	if err != nil {
		return nil, err
	}
	p := &RegisterPage{Items: docs}
	if len(docs) == q.Limit {
		p.Next = docs[len(docs)-1].RegisterNumber
	}
	return p, nil
}

// RegisterPage is a page of a register.
type RegisterPage struct {
	Items []*Document `json:"items"`
	// Next is the register number to continue after; 0 on the last page.
	Next int `json:"next,omitempty"`
}
