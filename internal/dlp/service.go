package dlp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/web"
)

// Options configure a Service. DB and Recorder are required.
type Options struct {
	DB       *store.DB
	Recorder audit.Recorder
	// Scanner reads what goes out; nil: NewScanner(nil), which cannot
	// read PDFs (they are then "unreadable", for the policy to decide).
	Scanner *Scanner
	// Now is the clock; nil: store.Now.
	Now func() time.Time
	// PolicyTTL is how long a replica keeps the policy before reading it
	// again (another replica may have saved a new one). Default 5 s.
	PolicyTTL time.Duration
}

// Service scans what goes out, decides by the policy in force, keeps the
// items held for approval and the policy's versions. It is safe for
// concurrent use.
type Service struct {
	opts Options
	db   *store.DB
	rec  audit.Writer
	scan *Scanner

	mu       sync.Mutex // guards policy and loadedAt
	policy   Policy
	loadedAt time.Time
}

// NewService returns the service, or an error naming a missing option.
func NewService(opts Options) (*Service, error) {
	if opts.DB == nil || opts.Recorder == nil {
		return nil, errors.New("dlp: NewService needs DB and Recorder")
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	if opts.Scanner == nil {
		opts.Scanner = NewScanner(nil)
	}
	if opts.PolicyTTL <= 0 {
		opts.PolicyTTL = 5 * time.Second
	}
	return &Service{opts: opts, db: opts.DB, rec: audit.NewWriter("dlp", opts.Recorder), scan: opts.Scanner}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// The refusals a sender meets. They say that the item was held or
// blocked, and the hold's number, never what was found or the policy's
// thresholds: the sender knows what they sent, and a security officer
// tells them the rest.
var (
	errHeld    = errors.New("held")
	errBlocked = errors.New("blocked")
)

// HeldError is an item held for a security officer's approval. It is an
// errs.ErrConflict with the problem code "dlp_held".
type HeldError struct{ ID int64 }

func (e *HeldError) Error() string {
	return fmt.Sprintf("%v: held for a security officer's approval (hold %d) under the data-loss prevention policy; "+
		"once it is approved, send it again and it goes", errs.ErrConflict, e.ID)
}

// Is makes errors.Is(err, errs.ErrConflict) true.
func (e *HeldError) Is(target error) bool { return target == errs.ErrConflict || target == errHeld }

func asHeld(err error, h **HeldError) bool { return errors.As(err, h) }

// IsHeld reports whether err is an item held for approval.
func IsHeld(err error) bool { return errors.Is(err, errHeld) }

// IsBlocked reports whether err is an item the policy blocks.
func IsBlocked(err error) bool { return errors.Is(err, errBlocked) }

func held(id int64) error { return web.WithCode(&HeldError{ID: id}, "dlp_held") }

func blocked(why string) error {
	return web.WithCode(fmt.Errorf("%w: %w: %s; ask your unit's security officer", errs.ErrForbidden, errBlocked, why), "dlp_blocked")
}

// Gate is the check of one way out, which a capability calls with what
// it is about to let out (see Check).
type Gate struct {
	s   *Service
	way Way
}

// Gate returns the check of way.
func (s *Service) Gate(way Way) Gate { return Gate{s: s, way: way} }

// Check scans data, an item going to to (name and mediaType say what it
// is; level is its declared classification), and returns nil if it may
// go, a held error (errs.ErrConflict, IsHeld) if it waits for approval,
// or a blocked one (errs.ErrForbidden, IsBlocked). An item the same
// sender sent before to the same place, held and since approved, goes
// once.
func (g Gate) Check(ctx context.Context, to string, level authz.Level, name, mediaType string, data []byte) error {
	return g.s.Check(ctx, Item{Way: g.way, To: to, Level: level}, name, mediaType, data)
}

// Check is Gate.Check for it (its Result is filled in by the scan).
func (s *Service) Check(ctx context.Context, it Item, name, mediaType string, data []byte) error {
	it.Result = s.scan.Scan(ctx, data, mediaType)
	if it.Way == WayMail {
		// Recipients' addresses are personal data: a hold keeps how many
		// and a digest that tells the same recipients again.
		sum := sha256.Sum256([]byte(it.To))
		it.To = fmt.Sprintf("%d recipients #%x", strings.Count(it.To, ",")+1, sum[:6])
	}
	p, err := s.currentPolicy(ctx)
	if err != nil {
		return err
	}
	d, why := p.Decide(it)
	if d == Allow && it.Counts.Total() == 0 && !it.TooBig && it.Unreadable == "" && it.Level == authz.Unclassified {
		return nil // nothing found: nothing to record
	}
	o, ok := audit.OriginFrom(ctx)
	if !ok || o.Anonymous() {
		o.Actor = audit.System("dlp")
	}
	sum := sha256.Sum256(data)
	h := Hold{Way: it.Way, Actor: o.Actor, UnitID: o.UnitID, Destination: it.To, Item: clipItem(name), Digest: hex.EncodeToString(sum[:]),
		Size: it.Size, Level: it.Level, Findings: countsMap(it.Counts, it.Result), Reasons: why, PolicyVersion: p.Version}
	var out error
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		out = nil
		if d != Allow {
			prior, err := priorHold(ctx, tx, h)
			if err != nil {
				return err
			}
			switch {
			case prior != nil && prior.Status == StatusApproved:
				// Approved: it goes, this once.
				if err := releaseHold(ctx, tx, prior.ID, s.now()); err != nil {
					return err
				}
				h.ID, h.Status = prior.ID, StatusReleased
				return s.record(ctx, tx, o, "dlp.release", h, Allow)
			case prior != nil && prior.Status == StatusHeld:
				out = held(prior.ID) // still waiting: recorded when it was held
				return nil
			case prior != nil && prior.Status == StatusRejected:
				out = blocked(fmt.Sprintf("a security officer rejected it (hold %d)", prior.ID))
				return nil
			}
		}
		switch d {
		case HoldForApproval:
			h.Status, h.CreatedAt = StatusHeld, s.now()
			id, err := insertHold(ctx, tx, h)
			if err != nil {
				return err
			}
			h.ID = id
			out = held(id)
		case Block:
			out = blocked("the data-loss prevention policy does not let it leave this way")
		}
		return s.record(ctx, tx, o, "dlp."+string(d), h, d)
	})
	if err != nil {
		return fmt.Errorf("dlp: check an item going out by %s: %w", it.Way, err)
	}
	return out
}

func clipItem(name string) string {
	name = audit.AttrValue(name)
	if len(name) > 200 {
		name = name[:200]
	}
	return strings.ToValidUTF8(name, "")
}

// countsMap returns what a scan found, by kind, with its too_big and
// unreadable findings.
func countsMap(c Counts, r Result) map[string]int {
	out := map[string]int{}
	for _, k := range Kinds() {
		if c[k] > 0 {
			out[k.String()] = c[k]
		}
	}
	if r.TooBig {
		out[FindingTooBig] = 1
	}
	if r.Unreadable != "" {
		out[FindingUnreadable] = 1
	}
	return out
}

// foundAttr writes findings as "kind=count,…", in the order of Kinds.
func foundAttr(f map[string]int) string {
	var b strings.Builder
	for _, name := range findingNames() {
		if n, ok := f[name]; ok {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%d", name, n)
		}
	}
	return b.String()
}

// record appends a decision's event: the way, where to, the counts and kinds
// found, the rules that decided and the policy's version, never the data.
func (s *Service) record(ctx context.Context, tx *store.Tx, o audit.Origin, action string, h Hold, d Decision) error {
	e := o.Event(action)
	e.ResourceType, e.ResourceID, e.Level = "dlp_item", h.Digest[:16], h.Level
	if h.ID != 0 {
		e.ResourceType, e.ResourceID = "dlp_hold", strconv.FormatInt(h.ID, 10)
	}
	e.Actor = o.Actor
	if d == Block {
		e.Outcome = audit.Denied
	}
	e.Attrs = map[string]string{"way": string(h.Way), "to": audit.AttrValue(h.Destination), "decision": string(d), "found": foundAttr(h.Findings),
		"rules": strings.Join(h.Reasons, ","), "policy": strconv.Itoa(h.PolicyVersion), "size": strconv.FormatInt(h.Size, 10), "digest": h.Digest}
	return s.rec.Record(ctx, tx, e)
}

// currentPolicy returns the policy in force, read again once it is older
// than the TTL.
func (s *Service) currentPolicy(ctx context.Context) (Policy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loadedAt.IsZero() && s.opts.Now().Sub(s.loadedAt) < s.opts.PolicyTTL {
		return s.policy, nil
	}
	p, err := latestPolicy(ctx, s.db)
	if err != nil {
		return Policy{}, fmt.Errorf("dlp: read the policy: %w", err)
	}
	s.policy, s.loadedAt = p, s.opts.Now()
	return p, nil
}
