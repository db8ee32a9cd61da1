package procedures

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// keyPurpose is the keyring purpose that seals forms and attachments.
const keyPurpose = keys.PurposeProcedures

// DraftLifetime is how long an application may be prepared before it is
// discarded.
const DraftLifetime = 7 * 24 * time.Hour

// Options configure a Service. DB, Catalogue, Ring, Bucket, Directory and
// Recorder are required.
type Options struct {
	DB        *store.DB
	Catalogue *Catalogue
	// Ring seals forms and attachments and signs electronic results.
	Ring      *keys.Ring
	Bucket    *blob.Bucket
	Directory Directory
	Recorder  Recorder
	// Notifier queues e-mail notices; if nil, none are sent.
	Notifier Notifier
	// SiteURL is the public site's address ("https://dichvucong.example"),
	// which notices link dossiers' tracking to. If empty, they name the
	// tracking page's path alone.
	SiteURL string
	// Population prefills forms; if nil, prefilling is unavailable.
	Population Population
	// NationalPortal receives status reports for the National Public
	// Service Portal; if nil, they stay queued (the reconciliation page
	// shows them) until a sender is set.
	NationalPortal NationalPortalSender
	// Now is the clock; if nil, store.Now.
	Now func() time.Time
	// Log receives the national portal sync's errors; if nil, slog.Default.
	Log *slog.Logger
}

// Service is the administrative procedure resolution system: it takes
// applications and dossiers, moves them through the lifecycle, keeps their
// history and files, and reports every status to the national portal.
// Every change runs in one transaction with its audit event, its status
// report and its notice. It is safe for concurrent use.
type Service struct {
	opts Options
	db   *store.DB
	cat  *Catalogue
	wake chan struct{} // nudges the national portal sync
	rec  audit.Writer  // records changes, and decides who makes them

	calMu sync.Mutex
	cals  map[int64]WorkCalendar // by unit id

	lookups *keyedLimiter // population lookups, per account
}

// NewService returns the service. It fails when a required option is
// missing.
func NewService(opts Options) (*Service, error) {
	switch {
	case opts.DB == nil, opts.Catalogue == nil, opts.Ring == nil, opts.Bucket == nil, opts.Directory == nil, opts.Recorder == nil:
		return nil, errors.New("procedures: NewService needs DB, Catalogue, Ring, Bucket, Directory and Recorder")
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Service{opts: opts, db: opts.DB, cat: opts.Catalogue, wake: make(chan struct{}, 1), rec: audit.NewWriter("procedures", opts.Recorder), cals: map[int64]WorkCalendar{},
		lookups: newKeyedLimiter(opts.DB, "lookup:", lookupEvery, lookupBurst)}, nil
}

// Catalogue returns the catalogue of procedures.
func (s *Service) Catalogue() *Catalogue { return s.cat }

// now returns the current time at the precision storage keeps.
func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// Calendar returns the working-day calendar of a unit.
func (s *Service) Calendar(ctx context.Context, unitID int64) (WorkCalendar, error) {
	s.calMu.Lock()
	c, ok := s.cals[unitID]
	s.calMu.Unlock()
	if ok {
		return c, nil
	}
	u, err := s.opts.Directory.Unit(ctx, unitID)
	if err != nil {
		return WorkCalendar{}, err
	}
	if c, err = UnitCalendar(u); err != nil {
		return WorkCalendar{}, err
	}
	if c.FellBack() {
		s.opts.Log.Warn("procedures: a mission counts its deadlines on Viet Nam's holidays and its host country's weekend only: no calendar data for its country",
			"unit", u.Code, "country", u.Country)
	}
	s.calMu.Lock()
	s.cals[unitID] = c
	s.calMu.Unlock()
	return c, nil
}

// UnitOf returns the unit with the agency code that implements the
// procedure, or an error wrapping errs.ErrInvalid naming why not.
func (s *Service) unitFor(ctx context.Context, p *Procedure, code string) (identity.Unit, error) {
	u, err := s.opts.Directory.UnitByCode(ctx, code)
	if errors.Is(err, errs.ErrNotFound) {
		return identity.Unit{}, errs.Invalid("unit", fmt.Sprintf("no unit has the agency code %q", code))
	}
	if err != nil {
		return identity.Unit{}, err
	}
	if u.Status != identity.UnitActive {
		return identity.Unit{}, errs.Invalid("unit", fmt.Sprintf("unit %s was merged into another; submit to the unit that took over its work", u.Code))
	}
	if !p.ImplementedBy(u.Code, u.Kind.Mission()) {
		return identity.Unit{}, errs.Invalid("unit", fmt.Sprintf("unit %s does not implement procedure %s; the procedure's page lists the units that do", u.Code, p.Code))
	}
	return u, nil
}

// feeOf returns the fee a unit charges for a procedure: the sum of its
// fees where the unit is (at home in VND, at a mission in USD).
func feeOf(p *Procedure, mission bool) (int64, string) {
	w := AtHome
	if mission {
		w = AtMission
	}
	var total int64
	currency := ""
	for _, f := range p.FeesAt(w) {
		total += f.Amount
		currency = f.Currency
	}
	return total, currency
}

// checkForm validates a submitted form against the procedure's schema and
// returns it as stored: a JSON object.
func checkForm(p *Procedure, form map[string]any) ([]byte, error) {
	if form == nil {
		form = map[string]any{}
	}
	raw, err := json.Marshal(form)
	if err != nil {
		return nil, errs.Invalid("form", "is not a JSON object")
	}
	if err := p.Form.Validate(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// text returns the string at a JSON pointer of a form, or "".
func text(form map[string]any, ptr string) string {
	if ptr == "" {
		return ""
	}
	var v any = form
	for _, part := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[part]
	}
	str, _ := v.(string)
	return str
}

// applicantOf returns the applicant's name and e-mail from a form.
func applicantOf(p *Procedure, form map[string]any) (name, email string) {
	var parts []string
	for _, ptr := range p.Applicant.Name {
		if t := text(form, ptr); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " "), text(form, p.Applicant.Email)
}

func isCitizenID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// origin returns the origin whose actor a change on ctx's behalf is
// recorded with (also the history's actor), by audit.Writer's one rule.
func (s *Service) origin(ctx context.Context) (audit.Origin, error) { return s.rec.Origin(ctx) }

// record appends the audit event of a change to dossier d inside tx.
func (s *Service) record(ctx context.Context, tx *store.Tx, o audit.Origin, action string, d *Dossier, attrs map[string]string) error {
	e := o.Event(action)
	e.ResourceType, e.ResourceID, e.Level = "dossier", d.Code, authz.Unclassified
	if e.UnitID == 0 {
		e.UnitID = d.UnitID
	}
	e.Attrs = attrs
	return s.rec.Record(ctx, tx, e)
}
