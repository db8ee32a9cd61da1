package records

import (
	"context"
	"fmt"
	"strconv"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// The registers of secret documents sent and received (sổ đăng ký văn
// bản mật đi / đến; State secrets law, from the text, its article
// not verified): each classified document of a unit's year in the
// order of its number in the secret series, with its level, who handles
// it and every numbered copy and its holder. They are kept by the records
// office and the security officers (authz's KindSecretRegister), and
// list only what the reader's clearance and need-to-know allow.

// maxSecretEntries bounds one year's secret register as shown at once.
const maxSecretEntries = 5000

// SecretEntry is one line of a secret-document register.
type SecretEntry struct {
	Document    *Document    `json:"document"`
	Assignments []Assignment `json:"assignments"`
	Copies      []Copy       `json:"copies"`
}

// SecretRegister is a unit's register of secret documents of a year.
type SecretRegister struct {
	Direction Direction     `json:"direction"`
	UnitID    int64         `json:"unit_id"`
	Year      int           `json:"year"`
	Entries   []SecretEntry `json:"entries"`
	// Truncated reports that the year holds more than the register shows.
	Truncated bool `json:"truncated,omitempty"`
}

// SecretRegister returns unit's register of secret documents of year in
// direction. The register of a unit merged into another is kept by the
// one it merged into (merge.go). Another unit's register answers
// errs.ErrNotFound, as a missing one does; reading it is recorded in the
// ledger at the highest level it lists.
func (s *Service) SecretRegister(ctx context.Context, sub authz.Subject, dir Direction, unitID int64, year int) (*SecretRegister, error) {
	if dir != Incoming && dir != Outgoing {
		return nil, errs.Invalid("direction", "use incoming or outgoing")
	}
	if year < 1945 || year > 9999 {
		return nil, errs.Invalid("year", "must be a year such as 2026")
	}
	keeper, err := keeperOf(ctx, s.db, unitID)
	if err != nil {
		return nil, err
	}
	res := authz.Resource{Kind: authz.KindSecretRegister, Unit: keeper}
	if err := decide(sub, authz.Read, res, strconv.FormatInt(unitID, 10), fmt.Errorf("%w: no register of unit %d", errs.ErrNotFound, unitID)); err != nil {
		return nil, err
	}
	now := s.now()
	where, args := visibleClause(sub, now)
	where += ` AND d.unit_id = ? AND d.register_year = ? AND d.series = ? AND d.register_number > 0`
	args = append(args, unitID, year, string(seriesOf(dir, authz.Confidential)))
	docs, err := registerPage(ctx, s.db, where, args, maxSecretEntries+1)
	if err != nil {
		return nil, err
	}
	reg := &SecretRegister{Direction: dir, UnitID: unitID, Year: year, Entries: []SecretEntry{}}
	if len(docs) > maxSecretEntries {
		docs, reg.Truncated = docs[:maxSecretEntries], true
	}
	copies, err := listCopies(ctx, s.db, `c.document_id IN (SELECT d.id FROM record_documents d WHERE `+where+`)`, args, 0)
	if err != nil {
		return nil, err
	}
	byDoc := map[int64][]Copy{}
	for _, c := range copies {
		byDoc[c.DocumentID] = append(byDoc[c.DocumentID], c)
	}
	top := authz.Unclassified
	for _, d := range docs {
		as, err := listAssignments(ctx, s.db, d.ID)
		if err != nil {
			return nil, err
		}
		cs := byDoc[d.ID]
		if cs == nil {
			cs = []Copy{}
		}
		reg.Entries = append(reg.Entries, SecretEntry{Document: d, Assignments: as, Copies: cs})
		top = max(top, d.Classification)
	}
	if o, ok := actorOrNone(ctx); ok {
		e := o.Event("register.secret.read")
		e.ResourceType, e.ResourceID, e.Level = "register", fmt.Sprintf("%d/%d/%s", unitID, year, dir), top
		e.Attrs = map[string]string{"entries": strconv.Itoa(len(reg.Entries))}
		if _, err := s.opts.Recorder.Append(ctx, e); err != nil {
			return nil, fmt.Errorf("records: record the reading of the secret register: %w", err)
		}
	}
	return reg, nil
}
