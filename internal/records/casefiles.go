package records

// The unit's yearly list of case files (hồ sơ công việc) as its pages
// show it, the warning before a case file is due at the archive, and the
// export of a case file as a package (export.go).

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// DeliveryWarning is how long before a case file is due at the agency's
// archive its list warns.
const DeliveryWarning = 90 * 24 * time.Hour

// DeliveryDue returns when case file cf is due at the agency's current
// archive: at the latest one year after the year its work ended (Law on
// Archives 33/2024/QH15, see rules.go), so by the end of the year after
// the year it was closed — or, while still open, after its own year (a
// case file of a past year still open is itself late work).
func DeliveryDue(cf *CaseFile) time.Time {
	year := cf.Year
	if !cf.ClosedAt.IsZero() {
		year = max(year, cf.ClosedAt.In(registerZone()).Year())
	}
	return time.Date(year+2, time.January, 1, 0, 0, 0, 0, registerZone())
}

// CaseFileSummary is a case file as the unit's list shows it.
type CaseFileSummary struct {
	CaseFile
	// Count is how many of its documents the caller may know of.
	Count int `json:"document_count"`
	// DeliveryDue is when it is due at the agency's archive.
	DeliveryDue time.Time `json:"delivery_due"`
	// DeliverySoon is set within DeliveryWarning of that day, and after.
	DeliverySoon bool `json:"delivery_soon"`
}

// CaseFiles returns the list of case files of the caller's unit for a
// year, by code. Its documents are counted as the caller may know of
// them.
func (s *Service) CaseFiles(ctx context.Context, sub authz.Subject, year int) ([]CaseFileSummary, error) {
	if year < 1945 || year > 9999 {
		return nil, errs.Invalid("year", "must be a year such as 2026")
	}
	res := authz.Resource{Kind: authz.KindCaseFile, Unit: sub.Unit}
	if err := decide(sub, authz.Read, res, strconv.FormatInt(sub.Unit, 10), fmt.Errorf("%w: no case files", errs.ErrNotFound)); err != nil {
		return nil, err
	}
	list, err := listCaseFiles(ctx, s.db, `unit_id = ? AND year = ?`, sub.Unit, year)
	if err != nil {
		return nil, err
	}
	return s.summarize(ctx, sub, list)
}

// CaseFilesDue returns the caller's unit's case files of years before
// year that are due at the archive soon or overdue (open or closed):
// what the unit's list warns of whichever year it shows. A case file
// delivered to the archive leaves the unit's list (the archive
// engineer's transfer), so every one still here is the unit's to deliver.
func (s *Service) CaseFilesDue(ctx context.Context, sub authz.Subject, year int) ([]CaseFileSummary, error) {
	res := authz.Resource{Kind: authz.KindCaseFile, Unit: sub.Unit}
	if err := decide(sub, authz.Read, res, strconv.FormatInt(sub.Unit, 10), fmt.Errorf("%w: no case files", errs.ErrNotFound)); err != nil {
		return nil, err
	}
	list, err := listCaseFiles(ctx, s.db, `unit_id = ? AND year < ?`, sub.Unit, year)
	if err != nil {
		return nil, err
	}
	all, err := s.summarize(ctx, sub, list)
	due := all[:0]
	for _, cf := range all {
		if cf.DeliverySoon {
			due = append(due, cf)
		}
	}
	return due, err
}

// summarize counts each case file's documents the caller may know of and
// says when it is due at the archive.
func (s *Service) summarize(ctx context.Context, sub authz.Subject, list []*CaseFile) ([]CaseFileSummary, error) {
	now := s.now()
	out := make([]CaseFileSummary, 0, len(list))
	for _, cf := range list {
		ids, err := listFiledVisible(ctx, s.db, cf.ID, sub, now)
		if err != nil {
			return nil, err
		}
		if cf.Documents = ids; ids == nil {
			cf.Documents = []int64{}
		}
		due := DeliveryDue(cf)
		out = append(out, CaseFileSummary{CaseFile: *cf, Count: len(ids), DeliveryDue: due, DeliverySoon: now.Add(DeliveryWarning).After(due)})
	}
	return out, nil
}

// filedDocuments returns the documents of a case file the caller may
// know of, after the case file's own decision.
func (s *Service) filedDocuments(ctx context.Context, sub authz.Subject, cf *CaseFile) ([]*row, error) {
	var out []*row
	now := s.now()
	for _, id := range cf.Documents {
		r, err := loadDocument(ctx, s.db, id, now, false)
		if err != nil {
			return nil, err
		}
		if allow(sub, authz.Read, authz.KindDocument, r) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// CaseFileDocuments returns a case file with the documents in it the
// caller may know of, for its page.
func (s *Service) CaseFileDocuments(ctx context.Context, sub authz.Subject, id int64) (*CaseFile, []*Document, error) {
	cf, err := s.CaseFile(ctx, sub, id)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.filedDocuments(ctx, sub, cf)
	if err != nil {
		return nil, nil, err
	}
	docs := make([]*Document, len(rows))
	for i, r := range rows {
		docs[i] = &r.Document
	}
	return cf, docs, nil
}

// listCaseFiles lists the case files matching where (a condition of
// this file's, never a caller's text), by year and code.
func listCaseFiles(ctx context.Context, q store.Queryer, where string, args ...any) ([]*CaseFile, error) {
	return queryCaseFiles(ctx, q, "case files", where+` ORDER BY year, code, id`, args...)
}

// queryCaseFiles reads the case files whereOrder selects and orders
// (this package's SQL); what names them in an error.
func queryCaseFiles(ctx context.Context, q store.Queryer, what, whereOrder string, args ...any) ([]*CaseFile, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, unit_id, year, code, title, retention_years, closed_us, created_us
		FROM record_case_files WHERE `+whereOrder), args...)
	if err != nil {
		return nil, fmt.Errorf("records: %s: %w", what, err)
	}
	defer rows.Close()
	var out []*CaseFile
	for rows.Next() {
		var cf CaseFile
		var retention int
		var closed, created int64
		if err := rows.Scan(&cf.ID, &cf.UnitID, &cf.Year, &cf.Code, &cf.Title, &retention, &closed, &created); err != nil {
			return nil, err
		}
		cf.RetentionYears, cf.ClosedAt, cf.CreatedAt = Retention(retention), store.FromMicros(closed), store.FromMicros(created)
		out = append(out, &cf)
	}
	return out, rows.Err()
}
