package architecture

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Proposal is an investment proposal (a new system or an upgrade),
// entered as the change it would make to the model: the elements it adds
// or changes, their relationships, and the capabilities or services it
// provides (Provides: element identifiers).
type Proposal struct {
	ID            string         `json:"id"`
	Title         string         `json:"title"`
	Kind          string         `json:"kind"` // new | upgrade
	Elements      []Element      `json:"elements"`
	Relationships []Relationship `json:"relationships,omitempty"`
	Provides      []string       `json:"provides"`
	Status        string         `json:"status"` // proposed | approved | rejected
	CreatedBy     string         `json:"created_by"`
	CreatedAt     time.Time      `json:"created_at"`
	DecidedBy     string         `json:"decided_by,omitempty"`
	DecidedAt     time.Time      `json:"decided_at,omitzero"`
	Reasons       string         `json:"reasons,omitempty"`
}

// Review is what the repository says of a proposal: the components that
// already provide what it provides (reuse them rather than build), and
// the conformance findings on the model as it would be, those the
// proposal would add marked New.
type Review struct {
	Proposal Proposal        `json:"proposal"`
	Reuse    []Reuse         `json:"reuse"`
	Findings []ReviewFinding `json:"findings"`
}

// Reuse is an existing component providing one of the proposal's needs.
type Reuse struct {
	Provides string `json:"provides"`
	Element  string `json:"element"`
	Name     string `json:"name"`
	Origin   Origin `json:"origin"`
	Relation string `json:"relation"`
}

// ReviewFinding is a finding on the model as it would be.
type ReviewFinding struct {
	Finding
	New bool `json:"new"`
}

const maxProposalElements = 200

// Propose records a proposal. Architects only (authz: investment create).
// Its elements and relationships are checked as edits are (the ArchiMate
// types, Appendix B against the model as it would be); an element may
// change only a model element (an upgrade), never reference or
// discovered content.
func (s *Service) Propose(ctx context.Context, sub authz.Subject, p Proposal) (Proposal, error) {
	if err := allow(sub, authz.Create, authz.KindInvestment); err != nil {
		return Proposal{}, err
	}
	if err := checkID(p.ID); err != nil {
		return Proposal{}, err
	}
	if strings.TrimSpace(p.Title) == "" {
		return Proposal{}, errs.Invalid("title", "is required")
	}
	if err := checkText("title", p.Title, maxName); err != nil {
		return Proposal{}, err
	}
	if p.Kind != "new" && p.Kind != "upgrade" {
		return Proposal{}, errs.Invalid("kind", "is new or upgrade")
	}
	if len(p.Elements) == 0 || len(p.Elements)+len(p.Relationships) > maxProposalElements {
		return Proposal{}, errs.Invalid("elements", fmt.Sprintf("a proposal changes 1 to %d concepts", maxProposalElements))
	}
	if len(p.Provides) == 0 {
		return Proposal{}, errs.Invalid("provides", "name what the proposal provides: capabilities or services of the model")
	}
	cur, err := currentSnapshot(ctx, s.db)
	if err != nil {
		return Proposal{}, err
	}
	if _, err := applyProposal(cur, &p); err != nil {
		return Proposal{}, err
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Proposal{}, err
	}
	p.Status, p.CreatedBy, p.CreatedAt, p.DecidedBy, p.DecidedAt, p.Reasons = "proposed", string(o.Actor.Kind)+":"+o.Actor.ID+":"+o.Actor.Name, s.now(), "", time.Time{}, ""
	err = s.edit(ctx, "architecture.create_proposal", p.ID, func(c *change) error {
		data, err := json.Marshal(p)
		if err != nil {
			return err
		}
		_, err = c.tx.ExecContext(ctx, c.tx.Rebind(`INSERT INTO arch_proposals (id, status, data, created_us) VALUES (?, ?, ?, ?)`), p.ID, p.Status, string(data), store.Micros(c.at))
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("%w: proposal %s exists", errs.ErrConflict, p.ID)
		}
		if err != nil {
			return err
		}
		return c.log(ctx, "proposal", p.ID, "create", data)
	})
	return p, err
}

// applyProposal returns the model as it would be with p applied, checking
// p's concepts on the way.
func applyProposal(cur *Snapshot, p *Proposal) (*Snapshot, error) {
	next := &Snapshot{Info: cur.Info, Elements: slices.Clone(cur.Elements), Relationships: slices.Clone(cur.Relationships)}
	at := map[string]int{}
	for i, e := range next.Elements {
		at[e.ID] = i
	}
	for i := range p.Elements {
		e := &p.Elements[i]
		e.Origin = OriginModel
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("element %s: %w", e.ID, err)
		}
		if j, ok := at[e.ID]; ok {
			if next.Elements[j].Origin != OriginModel {
				return nil, errs.Invalid("elements", fmt.Sprintf("element %s is %s content, which a proposal cannot change", e.ID, next.Elements[j].Origin))
			}
			next.Elements[j] = *e
		} else {
			at[e.ID] = len(next.Elements)
			next.Elements = append(next.Elements, *e)
		}
	}
	types := map[string]archimate.Endpoint{}
	for _, e := range next.Elements {
		types[e.ID] = archimate.Endpoint{Type: e.Type}
	}
	for _, r := range next.Relationships {
		types[r.ID] = archimate.Endpoint{Type: r.Type, Relationship: true}
	}
	for i := range p.Relationships {
		r := &p.Relationships[i]
		r.Origin = OriginModel
		if err := checkID(r.ID); err != nil {
			return nil, err
		}
		src, ok1 := types[r.Source]
		tgt, ok2 := types[r.Target]
		if !ok1 || !ok2 {
			return nil, errs.Invalid("relationships", fmt.Sprintf("relationship %s joins %q and %q; both must be in the model or the proposal", r.ID, clip(r.Source), clip(r.Target)))
		}
		if err := archimate.CheckRelationship(r.Type, src, tgt); err != nil {
			return nil, errs.Invalid("relationships", fmt.Sprintf("relationship %s: %v", r.ID, err))
		}
		next.Relationships = append(next.Relationships, *r)
	}
	for _, id := range p.Provides {
		if _, ok := at[id]; !ok {
			return nil, errs.Invalid("provides", fmt.Sprintf("%q is not an element of the model or the proposal", clip(id)))
		}
	}
	return next, nil
}

func getProposal(ctx context.Context, q store.Queryer, id string) (Proposal, error) {
	var data string
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT data FROM arch_proposals WHERE id = ?`), id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return Proposal{}, fmt.Errorf("%w: no proposal %s", errs.ErrNotFound, clip(id))
	}
	if err != nil {
		return Proposal{}, err
	}
	var p Proposal
	return p, json.Unmarshal([]byte(data), &p)
}

// Proposals lists the proposals, newest first.
func (s *Service) Proposals(ctx context.Context, sub authz.Subject) ([]Proposal, error) {
	if err := allow(sub, authz.Read, authz.KindInvestment); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM arch_proposals ORDER BY created_us DESC, id LIMIT 500`)
	if err != nil {
		return nil, err
	}
	return scanJSON[Proposal](rows)
}

// Review returns the proposal with the existing components that already
// provide what it provides, and the rules' findings on the model as it
// would be. Every staff member reads reviews.
func (s *Service) Review(ctx context.Context, sub authz.Subject, id string) (Review, error) {
	if err := allow(sub, authz.Read, authz.KindInvestment); err != nil {
		return Review{}, err
	}
	p, err := getProposal(ctx, s.db, id)
	if err != nil {
		return Review{}, err
	}
	cur, err := currentSnapshot(ctx, s.db)
	if err != nil {
		return Review{}, err
	}
	next, err := applyProposal(cur, &p)
	if err != nil {
		return Review{}, fmt.Errorf("proposal %s no longer applies to the model: %w", id, err)
	}
	rv := Review{Proposal: p, Reuse: []Reuse{}, Findings: []ReviewFinding{}}
	proposed := map[string]bool{}
	for _, e := range p.Elements {
		proposed[e.ID] = true
	}
	byID := map[string]Element{}
	for _, e := range cur.Elements {
		byID[e.ID] = e
	}
	for _, need := range p.Provides {
		for _, r := range cur.Relationships {
			if r.Target != need || (r.Type != "Realization" && r.Type != "Serving") || proposed[r.Source] {
				continue
			}
			e, ok := byID[r.Source]
			if !ok || e.Lifecycle.PhaseOn(today()) == PhaseRetire {
				continue
			}
			rv.Reuse = append(rv.Reuse, Reuse{Provides: need, Element: e.ID, Name: e.Name.In("vi"), Origin: e.Origin, Relation: r.Type})
		}
	}
	before, err := s.check(ctx, cur, today())
	if err != nil {
		return Review{}, err
	}
	after, err := s.check(ctx, next, today())
	if err != nil {
		return Review{}, err
	}
	had := map[Finding]bool{}
	for _, f := range before {
		had[f] = true
	}
	for _, f := range after {
		rv.Findings = append(rv.Findings, ReviewFinding{Finding: f, New: !had[f]})
	}
	return rv, nil
}

// DecideProposal records an approver's decision on a proposal, with its reasons
// (required). Approvers only (authz: investment approve); a decided
// proposal is not decided again (errs.ErrConflict).
func (s *Service) DecideProposal(ctx context.Context, sub authz.Subject, id string, approve bool, reasons string) (Proposal, error) {
	if err := allow(sub, authz.Approve, authz.KindInvestment); err != nil {
		return Proposal{}, err
	}
	if strings.TrimSpace(reasons) == "" {
		return Proposal{}, errs.Invalid("reasons", "a decision states its reasons")
	}
	if err := checkText("reasons", reasons, maxDoc); err != nil {
		return Proposal{}, err
	}
	var p Proposal
	err := s.edit(ctx, "architecture.decide_proposal", id, func(c *change) error {
		var err error
		if p, err = getProposal(ctx, c.tx, id); err != nil {
			return err
		}
		if p.Status != "proposed" {
			return fmt.Errorf("%w: proposal %s was already %s", errs.ErrConflict, id, p.Status)
		}
		p.Status, p.Reasons, p.DecidedBy, p.DecidedAt = "rejected", reasons, c.actor, c.at
		if approve {
			p.Status = "approved"
		}
		data, err := json.Marshal(p)
		if err != nil {
			return err
		}
		res, err := c.tx.ExecContext(ctx, c.tx.Rebind(`UPDATE arch_proposals SET status = ?, data = ? WHERE id = ? AND status = 'proposed'`), p.Status, string(data), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: proposal %s was decided meanwhile", errs.ErrConflict, id)
		}
		c.counts[p.Status]++
		return c.log(ctx, "proposal", id, "update", data)
	})
	return p, err
}
