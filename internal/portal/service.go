package portal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/web"
)

// Options configure a Service. DB, Recorder and Directory are required.
type Options struct {
	DB        *store.DB
	Recorder  audit.Recorder
	Directory Directory
	// Now is the clock; if nil, store.Now.
	Now func() time.Time
}

// Service keeps the portal's publications and missions' public details.
// Every change runs in one transaction with its audit event. It is safe
// for concurrent use.
type Service struct {
	opts Options
	db   *store.DB
	rec  audit.Writer
}

// NewService returns the service, or an error naming a missing option.
func NewService(opts Options) (*Service, error) {
	if opts.DB == nil || opts.Recorder == nil || opts.Directory == nil {
		return nil, errors.New("portal: NewService needs DB, Recorder and Directory")
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	return &Service{opts: opts, db: opts.DB, rec: audit.NewWriter("portal", opts.Recorder)}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// publication is the resource every publication is, to Decide: the
// ministry's, of no unit, unclassified.
var publication = authz.Resource{Kind: authz.KindPublication}

// decide returns nil if sub may do a to publications, else the refusal
// (which the web layer answers and records).
func decide(sub authz.Subject, a authz.Action, r authz.Resource, id string) error {
	if d, reason := authz.Decide(sub, a, r); d != authz.Allowed {
		return authz.Refuse(d, reason, a, r, id)
	}
	return nil
}

// errItemNotFound is a publication that does not exist, or one the
// public may not see yet.
var errItemNotFound = fmt.Errorf("%w: no such publication; it may not be published yet", errs.ErrNotFound)

// Create drafts a publication as sub. It returns an *errs.FieldError
// for bad content and errs.ErrConflict for a slug already taken.
func (s *Service) Create(ctx context.Context, sub authz.Subject, c Content) (Item, error) {
	if err := decide(sub, authz.Create, publication, ""); err != nil {
		return Item{}, err
	}
	c, err := c.clean()
	if err != nil {
		return Item{}, err
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Item{}, err
	}
	now := s.now()
	it := Item{Status: Draft, AuthorID: sub.ID, Version: 1, CreatedAt: now, UpdatedAt: now}
	it.setContent(c)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if it.ID, err = insertItem(ctx, tx, it, searchText(c)); err != nil {
			return slugTaken(err, c.Slug)
		}
		if err := setTags(ctx, tx, it.ID, it.Tags); err != nil {
			return err
		}
		return s.record(ctx, tx, o, "portal.create", it, Draft, "")
	})
	if err != nil {
		return Item{}, fmt.Errorf("portal: draft %s: %w", c.Slug, err)
	}
	return it, nil
}

// setContent replaces it's content with c; its tags are never null in
// JSON.
func (it *Item) setContent(c Content) {
	it.Content = c
	if it.Tags == nil {
		it.Tags = []string{}
	}
}

func slugTaken(err error, slug string) error {
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("%w: the address %q is already another publication's; choose another slug", errs.ErrConflict, slug)
	}
	return err
}

// Step is a move of a publication through its approval.
type Step string

// The steps.
const (
	StepSubmit   Step = "submit"
	StepApprove  Step = "approve"
	StepReject   Step = "reject"
	StepPublish  Step = "publish"
	StepWithdraw Step = "withdraw"
)

// steps is the approval's table: the action authz must grant, the
// statuses each step leaves from, and where it leads. Approving may
// publish at once (StepRequest.Publish).
var steps = map[Step]struct {
	action authz.Action
	from   []Status
	to     Status
	// why says what to do when the item is in another status.
	why string
}{
	StepSubmit:   {authz.Update, []Status{Draft}, Submitted, "only a draft is submitted; edit the publication to make it a draft again"},
	StepApprove:  {authz.Approve, []Status{Submitted}, Approved, "only a submitted publication is approved; the press officer submits it first"},
	StepReject:   {authz.Approve, []Status{Submitted}, Draft, "only a submitted publication is rejected"},
	StepPublish:  {authz.Update, []Status{Approved}, Published, "a publication is published only after the spokesperson's approval; submit it for approval first"},
	StepWithdraw: {authz.Approve, []Status{Published}, Withdrawn, "only a published item is withdrawn"},
}

// StepRequest is a step asked of a publication.
type StepRequest struct {
	Step Step `json:"step"`
	// Version is the version the step is based on; a stale one is
	// refused with errs.ErrConflict.
	Version int `json:"version"`
	// Reason is required to reject or withdraw: the author reads it.
	Reason string `json:"reason"`
	// Publish, on approval, publishes at once.
	Publish bool `json:"publish"`
}

// Move takes a step of publication id as sub, and returns the item as it
// now is. A step the item's status does not allow, or a stale version,
// is errs.ErrConflict; a step sub's roles do not grant, a refusal.
func (s *Service) Move(ctx context.Context, sub authz.Subject, id int64, req StepRequest) (Item, error) {
	st, ok := steps[req.Step]
	if !ok {
		return Item{}, errs.Invalid("step", fmt.Sprintf("must be one of submit, approve, reject, publish, withdraw, not %q", web.Clip(string(req.Step))))
	}
	if err := decide(sub, st.action, publication, strconv.FormatInt(id, 10)); err != nil {
		return Item{}, err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if err := checkLine("reason", req.Reason, MaxSummary, req.Step == StepReject || req.Step == StepWithdraw); err != nil {
		return Item{}, err
	}
	out, err := s.change(ctx, id, req.Version, func(tx *store.Tx, o audit.Origin, it *Item) error {
		if !slices.Contains(st.from, it.Status) {
			return fmt.Errorf("%w: it is %s: %s", errs.ErrConflict, it.Status, st.why)
		}
		from, to := it.Status, st.to
		now := s.now()
		switch req.Step {
		case StepApprove:
			it.DecidedBy, it.Note = sub.ID, ""
			if req.Publish {
				to = Published
			}
		case StepReject:
			it.DecidedBy, it.Note = sub.ID, req.Reason
		case StepWithdraw:
			it.Note = req.Reason
		}
		if to == Published && it.PublishedAt.IsZero() {
			it.PublishedAt = now
		}
		it.Status, it.Version, it.UpdatedAt = to, it.Version+1, now
		if err := updateStatus(ctx, tx, *it); err != nil {
			return err
		}
		if err := s.record(ctx, tx, o, "portal."+string(req.Step), *it, from, req.Reason); err != nil {
			return err
		}
		if req.Step == StepApprove && to == Published {
			return s.record(ctx, tx, o, "portal.publish", *it, Approved, "")
		}
		return nil
	})
	if err != nil {
		return Item{}, fmt.Errorf("portal: %s publication %d: %w", req.Step, id, err)
	}
	return out, nil
}

// Edit replaces the content of publication id as sub. An approved or
// withdrawn publication goes back to draft (its approval was of the text
// that was); a submitted one is the spokesperson's to decide and a
// published one must be withdrawn first (errs.ErrConflict).
func (s *Service) Edit(ctx context.Context, sub authz.Subject, id int64, version int, c Content) (Item, error) {
	if err := decide(sub, authz.Update, publication, strconv.FormatInt(id, 10)); err != nil {
		return Item{}, err
	}
	c, err := c.clean()
	if err != nil {
		return Item{}, err
	}
	out, err := s.change(ctx, id, version, func(tx *store.Tx, o audit.Origin, it *Item) error {
		switch it.Status {
		case Submitted:
			return fmt.Errorf("%w: the spokesperson is reviewing it; edit it after they approve or reject it", errs.ErrConflict)
		case Published:
			return fmt.Errorf("%w: it is published; the spokesperson withdraws it before it is edited", errs.ErrConflict)
		}
		if c.Kind != it.Kind {
			return errs.Invalid("kind", "a publication keeps its kind; draft a new one instead")
		}
		from := it.Status
		it.setContent(c)
		it.Status, it.Version, it.UpdatedAt = Draft, it.Version+1, s.now()
		if err := updateContent(ctx, tx, *it, searchText(c)); err != nil {
			return slugTaken(err, c.Slug)
		}
		if err := setTags(ctx, tx, it.ID, it.Tags); err != nil {
			return err
		}
		return s.record(ctx, tx, o, "portal.edit", *it, from, "")
	})
	if err != nil {
		return Item{}, fmt.Errorf("portal: edit publication %d: %w", id, err)
	}
	return out, nil
}

// change runs fn on publication id, loaded and locked in one transaction
// with the event fn records, if it is still at version (else
// errs.ErrConflict), and returns it as fn left it.
func (s *Service) change(ctx context.Context, id int64, version int, fn func(tx *store.Tx, o audit.Origin, it *Item) error) (Item, error) {
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Item{}, err
	}
	var out Item
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		it, err := loadItemTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if version != it.Version {
			return fmt.Errorf("%w: the publication changed since you opened it (version %d, not %d); reload it and try again", errs.ErrConflict, it.Version, version)
		}
		if err := fn(tx, o, &it); err != nil {
			return err
		}
		out = it
		return nil
	})
	return out, err
}

// record appends the audit event of a change of it inside tx.
func (s *Service) record(ctx context.Context, tx *store.Tx, o audit.Origin, action string, it Item, from Status, reason string) error {
	e := o.Event(action)
	e.ResourceType, e.ResourceID, e.Level = "publication", strconv.FormatInt(it.ID, 10), authz.Unclassified
	e.Attrs = map[string]string{"slug": it.Slug, "kind": string(it.Kind), "from": string(from), "to": string(it.Status), "version": strconv.Itoa(it.Version)}
	if reason != "" {
		e.Attrs["reason"] = audit.AttrValue(reason)
	}
	return s.rec.Record(ctx, tx, e)
}

// Item returns publication id, in any status, to staff whose roles let
// them read publications.
func (s *Service) Item(ctx context.Context, sub authz.Subject, id int64) (Item, error) {
	if err := decide(sub, authz.Read, publication, strconv.FormatInt(id, 10)); err != nil {
		return Item{}, err
	}
	return loadItem(ctx, s.db, "id", id)
}

// List returns a page of publications in any status, newest change
// first, to staff whose roles let them read publications.
func (s *Service) List(ctx context.Context, sub authz.Subject, f Filter) (ItemPage, error) {
	if err := decide(sub, authz.Read, publication, ""); err != nil {
		return ItemPage{}, err
	}
	f, err := f.clean()
	if err != nil {
		return ItemPage{}, err
	}
	return listItems(ctx, s.db, s.db.Dialect, f, false)
}

// Published returns the published publication at slug; anything else,
// a draft included, is errs.ErrNotFound, as if it did not exist.
func (s *Service) Published(ctx context.Context, slug string) (Item, error) {
	it, err := loadItem(ctx, s.db, "slug", slug)
	if err != nil || it.Status != Published {
		return Item{}, errItemNotFound
	}
	return it, nil
}

// PublishedList returns a page of published publications, newest
// publication first: the public's lists, search and feed.
func (s *Service) PublishedList(ctx context.Context, f Filter) (ItemPage, error) {
	f, err := f.clean()
	if err != nil {
		return ItemPage{}, err
	}
	f.Status = Published
	return listItems(ctx, s.db, s.db.Dialect, f, true)
}

// Tags returns the tags of published news, press releases and
// statements, with how many carry each, most used first.
func (s *Service) Tags(ctx context.Context) ([]TagCount, error) { return publishedTags(ctx, s.db) }

// TagCount is a tag and how many published items carry it.
type TagCount struct {
	Tag   string `json:"tag"`   // its address: /news/tags/{tag}
	Label string `json:"label"` // as written
	Count int    `json:"count"`
}

// Advisories returns the travel advisory in force for each country: the
// latest published one, by country code.
func (s *Service) Advisories(ctx context.Context) ([]Item, error) {
	page, err := s.PublishedList(ctx, Filter{Kinds: []Kind{Advisory}, PerPage: MaxPerPage})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Item
	for _, it := range page.Items { // newest first: the first of a country is in force
		if !seen[it.Country] {
			seen[it.Country] = true
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b Item) int { return strings.Compare(a.Country, b.Country) })
	return out, nil
}

// Missions returns every active mission abroad with its public details,
// by region, then name.
func (s *Service) Missions(ctx context.Context) ([]Mission, error) {
	var units []identity.Unit
	for _, k := range []identity.UnitKind{identity.KindEmbassy, identity.KindConsulateGeneral, identity.KindPermanentMission} {
		for after := int64(0); ; {
			us, next, err := s.opts.Directory.ListUnits(ctx, identity.UnitFilter{Kind: k, Status: identity.UnitActive, After: after, Limit: identity.MaxLimit})
			if err != nil {
				return nil, fmt.Errorf("portal: list missions: %w", err)
			}
			units = append(units, us...)
			if next == 0 {
				break
			}
			after = next
		}
	}
	ids := make([]int64, len(units))
	for i, u := range units {
		ids[i] = u.ID
	}
	details, err := loadMissionDetails(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Mission, len(units))
	for i, u := range units {
		out[i] = Mission{Unit: u, MissionDetails: details[u.ID], Region: regionOf(u.Country)}
	}
	slices.SortFunc(out, func(a, b Mission) int {
		if c := slices.Index(Regions, a.Region) - slices.Index(Regions, b.Region); c != 0 {
			return c
		}
		return strings.Compare(a.Unit.NameEN, b.Unit.NameEN)
	})
	return out, nil
}

// Mission returns the active mission abroad with agency code code; any
// other unit is errs.ErrNotFound.
func (s *Service) Mission(ctx context.Context, code string) (Mission, error) {
	u, err := s.opts.Directory.UnitByCode(ctx, code)
	if err != nil || !u.Kind.Mission() || u.Status != identity.UnitActive {
		return Mission{}, fmt.Errorf("%w: no mission abroad has the code %q", errs.ErrNotFound, web.Clip(code))
	}
	details, err := loadMissionDetails(ctx, s.db, []int64{u.ID})
	if err != nil {
		return Mission{}, err
	}
	return Mission{Unit: u, MissionDetails: details[u.ID], Region: regionOf(u.Country)}, nil
}

// UpdateMission sets the public details of the mission with agency code
// code as sub. d.Version must be the version the change is based on (0
// for a mission without details yet); a stale one is errs.ErrConflict.
func (s *Service) UpdateMission(ctx context.Context, sub authz.Subject, code string, d MissionDetails) (Mission, error) {
	if err := decide(sub, authz.Update, authz.Resource{Kind: authz.KindMissionPage}, code); err != nil {
		return Mission{}, err
	}
	m, err := s.Mission(ctx, code)
	if err != nil {
		return Mission{}, err
	}
	if d, err = d.clean(); err != nil {
		return Mission{}, err
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Mission{}, err
	}
	d.UpdatedAt = s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := saveMissionDetails(ctx, tx, m.Unit.ID, &d); err != nil {
			return err
		}
		e := o.Event("portal.update_mission")
		e.ResourceType, e.ResourceID, e.Level = "mission_page", m.Unit.Code, authz.Unclassified
		e.Attrs = map[string]string{"version": strconv.Itoa(d.Version)}
		return s.rec.Record(ctx, tx, e)
	})
	if err != nil {
		return Mission{}, fmt.Errorf("portal: public details of mission %s: %w", code, err)
	}
	m.MissionDetails = d
	return m, nil
}
