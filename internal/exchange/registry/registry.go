// Package registry is the exchange's registry, kept at headquarters: the
// members (the directory's units), their subsystems (information
// systems), the services those offer, the access rights between them, the
// nodes whose keys headquarters certifies, and the one-time tokens with
// which mission nodes enrol. From all of it headquarters publishes the
// signed global configuration that every node caches and enforces
// offline (see exchange.GlobalConf).
//
// The registry's pages and API read the current global configuration, not
// the registry's tables, so the same catalogue works on a mission node
// that holds only its cached copy; editing happens at headquarters.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/identity"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// Directory is where the registry finds its members: every active unit of
// the ministry's directory, by its electronic agency code.
// *identity.Service implements it.
type Directory interface {
	// AllUnits returns every unit, merged ones included.
	AllUnits(ctx context.Context) ([]identity.Unit, error)
}

// Defaults of Options.
const (
	DefaultConfValidity      = 7 * 24 * time.Hour
	DefaultMaxMessageBytes   = 25 << 20
	DefaultEnrolmentValidity = 24 * time.Hour
)

// keepConfs is how many published configurations the registry keeps: the
// latest is what nodes fetch; a few before it help to explain a node that
// reports an older serial.
const keepConfs = 5

// Options configure a Registry.
type Options struct {
	// Instance is the exchange instance; if empty, exchange.DefaultInstance.
	Instance string
	// ConfValidity is how long a published configuration is valid; if
	// zero, DefaultConfValidity.
	ConfValidity time.Duration
	// MaxMessageBytes bounds a message's payload, as every node enforces
	// it; if zero, DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// EnrolmentValidity is how long an enrolment token may be used; if
	// zero, DefaultEnrolmentValidity.
	EnrolmentValidity time.Duration
	// LeafURLs are the NATS leaf-node URLs of headquarters that an
	// enrolled mission node connects to; Enrol hands them out.
	LeafURLs []string
	// LeafPasswords makes Enrol give each mission a leaf user (its node
	// id) and a fresh password, for a headquarters on a stock NATS
	// cluster with an account per mission (deploy/nats), which checks
	// them where Chancery's own hub checks the node key.
	LeafPasswords bool
	// Now is the clock; if nil, store.Now.
	Now func() time.Time
	// OnPublish, if set, is called with each newly published signed
	// configuration, after the change that published it has committed
	// and before the method that made the change returns. Headquarters'
	// node uses it to take up and distribute the new configuration.
	OnPublish func(ctx context.Context, signed []byte)
	// Provision, if set, is what a mission's node needs registered from
	// the start (its background work's subsystems, services and rights),
	// given headquarters' member (the ministry) and the node enrolling.
	// Enrol registers it in the enrolment's own change, so the first
	// configuration the mission receives already holds it; see Ensure.
	Provision func(hq string, node exchange.NodeInfo) Plan
	// Recorder records every change in the audit ledger, in the change's
	// own transaction (DESIGN.md §6). Without one the registry can be
	// read but refuses every change, so one wired without the ledger
	// cannot change anything unrecorded.
	Recorder audit.Recorder
}

// Registry is the exchange registry. Every change checks the rules stated
// on its method and runs in one transaction with its audit events and the
// global configuration it publishes, so the published configuration always
// matches the registry and nothing changes unrecorded. It is safe for
// concurrent use.
//
// A change needs an audit origin on its context naming who acts (see
// audit.WithOrigin), and the recorder of Options; without either it
// fails and changes nothing. Publishing needs headquarters' own node to be
// registered first (EnsureHQNode).
type Registry struct {
	db   *store.DB
	dir  Directory
	ring *keys.Ring
	opts Options
	rec  audit.Writer
}

// New returns the registry kept in db, with members from dir, signing the
// global configuration with ring's current signing key, which is
// headquarters' node key, recording its changes with opts.Recorder.
func New(db *store.DB, dir Directory, ring *keys.Ring, opts Options) *Registry {
	if opts.Instance == "" {
		opts.Instance = exchange.DefaultInstance
	}
	if opts.ConfValidity <= 0 {
		opts.ConfValidity = DefaultConfValidity
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if opts.EnrolmentValidity <= 0 {
		opts.EnrolmentValidity = DefaultEnrolmentValidity
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	return &Registry{db: db, dir: dir, ring: ring, opts: opts, rec: audit.NewWriter("registry", opts.Recorder)}
}

// clock returns the current time at the precision the registry stores.
func (r *Registry) clock() time.Time { return r.opts.Now().UTC().Truncate(time.Microsecond) }

// Limits on the registry's texts, in characters.
const (
	maxTitle       = 200
	maxDescription = 4000
	maxReason      = 500
	maxBackend     = 2048
	// maxOpenAPI bounds an OpenAPI document in bytes: it travels in every
	// copy of the global configuration.
	maxOpenAPI = 256 << 10
)

// cleanText trims s and checks it: required if min > 0, at most max
// characters, valid UTF-8, and no control characters but line breaks
// and tabs when multiline.
func cleanText(field, s string, min, max int, multiline bool) (string, error) {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return "", errs.Invalid(field, "is not valid UTF-8")
	case n < min:
		return "", errs.Invalid(field, "is required")
	case n > max:
		return "", errs.Invalid(field, fmt.Sprintf("is %d characters long, at most %d allowed", n, max))
	}
	for _, c := range s {
		if unicode.IsControl(c) && !(multiline && (c == '\n' || c == '\r' || c == '\t')) {
			return "", errs.Invalid(field, "must not contain control characters")
		}
	}
	return s, nil
}

// unitByCode finds the unit with code among units.
func unitByCode(units []identity.Unit, code string) (identity.Unit, bool) {
	for _, u := range units {
		if u.Code == code {
			return u, true
		}
	}
	return identity.Unit{}, false
}

// activeMember returns the active unit with code, or an errs.FieldError
// for field saying why it cannot be a member.
func activeMember(units []identity.Unit, field, code string) (identity.Unit, error) {
	u, ok := unitByCode(units, code)
	switch {
	case code == "":
		return u, errs.Invalid(field, "is required: give the member's electronic agency code, such as 000.00.00.G12")
	case !ok:
		return u, errs.Invalid(field, fmt.Sprintf("no unit in the directory has the agency code %q", code))
	case u.Status != identity.UnitActive:
		return u, errs.Invalid(field, fmt.Sprintf("unit %s has been merged into another and takes no new part in the exchange", code))
	}
	return u, nil
}

// NewSubsystem is what CreateSubsystem needs.
type NewSubsystem struct {
	// Member is the agency code of the unit that runs the system.
	Member string
	// Code names the subsystem within the member, such as "consular".
	Code  string
	Title string
	// Clearance is the highest classification the subsystem is cleared
	// to receive.
	Clearance authz.Level
}

// clean validates in field by field and returns it normalised.
func (in NewSubsystem) clean(units []identity.Unit, instance string) (exchange.Subsystem, error) {
	var s exchange.Subsystem
	if _, err := activeMember(units, "member", strings.TrimSpace(in.Member)); err != nil {
		return s, err
	}
	s.ID = exchange.ClientID{Instance: instance, Class: exchange.ClassGOV, Member: strings.TrimSpace(in.Member), Subsystem: strings.TrimSpace(in.Code)}
	if err := s.ID.Validate(); err != nil {
		return s, renameField(err, "code")
	}
	var err error
	if s.Title, err = cleanText("title", in.Title, 1, maxTitle, false); err != nil {
		return s, err
	}
	if !in.Clearance.Valid() {
		return s, errs.Invalid("clearance", fmt.Sprintf("unknown clearance level %d", in.Clearance))
	}
	s.Clearance = in.Clearance
	return s, nil
}

// renameField returns err, a part of an id found malformed, as an error
// of the field that holds the id.
func renameField(err error, to string) error {
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		return errs.Invalid(to, fe.Message)
	}
	return err
}

// CreateSubsystem registers a subsystem of a member and records it
// ("exchange.subsystem.create"). It returns an errs.FieldError
// (ErrInvalid) for a malformed field or a member that is not an active
// unit, and ErrConflict when the member already has a subsystem of that
// code.
func (r *Registry) CreateSubsystem(ctx context.Context, in NewSubsystem) (exchange.Subsystem, error) {
	var s exchange.Subsystem
	err := r.write(ctx, func(c *change) error {
		var err error
		s, err = createSubsystem(c, in)
		return err
	})
	if err != nil {
		return exchange.Subsystem{}, fmt.Errorf("create subsystem: %w", err)
	}
	return s, nil
}

func createSubsystem(c *change, in NewSubsystem) (exchange.Subsystem, error) {
	s, err := in.clean(c.units, c.instance)
	if err != nil {
		return s, err
	}
	if err := insertSubsystem(c.ctx, c.tx, s, c.now); err != nil {
		return s, err
	}
	return s, c.record("exchange.subsystem.create", resSubsystem, s.ID.String(), map[string]string{
		"title": s.Title, "clearance": s.Clearance.String()})
}

// Subsystems returns the subsystems of member, or of every member when
// member is empty, ordered by id.
func (r *Registry) Subsystems(ctx context.Context, member string) ([]exchange.Subsystem, error) {
	subs, err := listSubsystems(ctx, r.db, r.opts.Instance, member)
	if err != nil {
		return nil, fmt.Errorf("list subsystems: %w", err)
	}
	return subs, nil
}

// NewService is what CreateService needs.
type NewService struct {
	// ID names the service; its client part is the providing subsystem,
	// which must be registered.
	ID          exchange.ServiceID
	Kind        exchange.ServiceKind
	Title       string
	Description string
	// Backend is the base URL the provider's node calls, for a REST
	// service; it must be empty for an asynchronous one.
	Backend string
	// OpenAPI is the REST service's OpenAPI 3 description as JSON; it
	// must be empty for an asynchronous service.
	OpenAPI string
	// MaxLevel is the highest classification a message to the service
	// may carry, at most the providing subsystem's clearance.
	MaxLevel authz.Level
}

// checkServiceID checks that id is a well-formed id of the registry's instance.
func checkServiceID(id exchange.ServiceID, instance string) error {
	if err := id.Validate(); err != nil {
		return renameField(err, "id")
	}
	if id.Instance != instance || id.Class != exchange.ClassGOV {
		return errs.Invalid("id", fmt.Sprintf("service ids of this registry start with %s/%s/", instance, exchange.ClassGOV))
	}
	return nil
}

// checkBackend checks a REST backend's base URL: absolute http or https,
// without credentials, which would travel to every node in the global
// configuration.
func checkBackend(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", errs.Invalid("backend", "is required for a REST service: give the base URL its provider's node calls, such as https://population.example/api")
	}
	s, err := cleanText("backend", s, 1, maxBackend, false)
	if err != nil {
		return "", err
	}
	u, perr := url.Parse(s)
	switch {
	case perr != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return "", errs.Invalid("backend", "must be an absolute http:// or https:// URL")
	case u.User != nil:
		return "", errs.Invalid("backend", "must not carry a user name or password: the URL is sent to every node")
	case u.RawQuery != "" || u.Fragment != "":
		return "", errs.Invalid("backend", "must be a base URL, without a query or fragment")
	}
	return s, nil
}

// checkOpenAPI checks that doc is an OpenAPI 3 document: a JSON object
// whose "openapi" field is a version 3.x string.
func checkOpenAPI(doc string) (string, error) {
	doc = strings.TrimSpace(doc)
	if doc == "" {
		return "", errs.Invalid("openapi", "is required for a REST service: paste its OpenAPI 3 description as JSON")
	}
	if len(doc) > maxOpenAPI {
		return "", errs.Invalid("openapi", fmt.Sprintf("is %d bytes long, at most %d allowed", len(doc), maxOpenAPI))
	}
	var head struct {
		OpenAPI any `json:"openapi"`
	}
	if err := jsonObject(doc, &head); err != nil {
		return "", errs.Invalid("openapi", "is not a JSON object: "+err.Error())
	}
	v, ok := head.OpenAPI.(string)
	if !ok || !strings.HasPrefix(v, "3.") {
		return "", errs.Invalid("openapi", `must be an OpenAPI 3 document, with "openapi": "3.x.y" at its top`)
	}
	return doc, nil
}

// jsonObject decodes doc, which must be exactly one JSON value, into dst.
func jsonObject(doc string, dst any) error {
	dec := json.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more data follows the JSON value")
	}
	return nil
}

// clean validates in against the registry's state and returns the
// service to store.
func (in NewService) clean(c *change) (exchange.Service, error) {
	s := exchange.Service{ID: in.ID, Kind: in.Kind}
	if err := checkServiceID(in.ID, c.instance); err != nil {
		return s, err
	}
	if !in.Kind.Valid() {
		return s, errs.Invalid("kind", fmt.Sprintf("unknown kind %q: use rest or async", in.Kind))
	}
	var err error
	if s.Title, err = cleanText("title", in.Title, 1, maxTitle, false); err != nil {
		return s, err
	}
	if s.Description, err = cleanText("description", in.Description, 0, maxDescription, true); err != nil {
		return s, err
	}
	if s.Backend, s.OpenAPI, err = cleanInterface(in.Kind, in.Backend, in.OpenAPI); err != nil {
		return s, err
	}
	s.MaxLevel = in.MaxLevel
	sub, err := subsystemByID(c.ctx, c.tx, c.instance, in.ID.Provider())
	if errors.Is(err, errs.ErrNotFound) {
		return s, errs.Invalid("id", fmt.Sprintf("subsystem %s is not registered: register it before its services", in.ID.Provider()))
	}
	if err != nil {
		return s, err
	}
	return s, checkMaxLevel(s.MaxLevel, sub)
}

// cleanInterface checks a service's backend and OpenAPI document for its
// kind.
func cleanInterface(kind exchange.ServiceKind, backend, openapi string) (string, string, error) {
	if kind == exchange.KindAsync {
		if strings.TrimSpace(backend) != "" {
			return "", "", errs.Invalid("backend", "must be empty for an asynchronous service: its messages go to the provider's inbox")
		}
		if strings.TrimSpace(openapi) != "" {
			return "", "", errs.Invalid("openapi", "must be empty for an asynchronous service; describe its messages in the description")
		}
		return "", "", nil
	}
	b, err := checkBackend(backend)
	if err != nil {
		return "", "", err
	}
	doc, err := checkOpenAPI(openapi)
	return b, doc, err
}

// checkMaxLevel refuses a service level above what its provider may
// receive.
func checkMaxLevel(l authz.Level, provider exchange.Subsystem) error {
	if !l.Valid() {
		return errs.Invalid("max_level", fmt.Sprintf("unknown classification level %d", l))
	}
	if l > provider.Clearance {
		return errs.Invalid("max_level", fmt.Sprintf("is above the clearance of subsystem %s (%s), which could not receive such messages", provider.ID, provider.Clearance))
	}
	return nil
}

// CreateService registers a service and records it
// ("exchange.service.create"). It returns an errs.FieldError (ErrInvalid)
// for a malformed field, an unregistered provider or a level above the
// provider's clearance, and ErrConflict when the id is taken.
func (r *Registry) CreateService(ctx context.Context, in NewService) (exchange.Service, error) {
	var s exchange.Service
	err := r.write(ctx, func(c *change) error {
		var err error
		s, err = createService(c, in)
		return err
	})
	if err != nil {
		return exchange.Service{}, fmt.Errorf("create service: %w", err)
	}
	return s, nil
}

func createService(c *change, in NewService) (exchange.Service, error) {
	s, err := in.clean(c)
	if err != nil {
		return s, err
	}
	if err := insertService(c.ctx, c.tx, s, c.now); err != nil {
		return s, err
	}
	return s, c.record("exchange.service.create", resService, s.ID.String(), map[string]string{
		"kind": string(s.Kind), "title": s.Title, "max_level": s.MaxLevel.String(), "backend": s.Backend})
}

// ServicePatch changes a service's descriptive fields; nil fields are
// kept. A service's id and kind never change: register a new version
// instead.
type ServicePatch struct {
	Title       *string
	Description *string
	Backend     *string
	OpenAPI     *string
	MaxLevel    *authz.Level
}

// UpdateService applies p to the service and records the change
// ("exchange.service.update"). It returns ErrNotFound for an unknown
// service and an errs.FieldError (ErrInvalid) for a malformed field.
func (r *Registry) UpdateService(ctx context.Context, id exchange.ServiceID, p ServicePatch) (exchange.Service, error) {
	var s exchange.Service
	err := r.write(ctx, func(c *change) error {
		old, err := serviceByID(c.ctx, c.tx, c.instance, id)
		if err != nil {
			return err
		}
		s = old
		if p.Title != nil {
			if s.Title, err = cleanText("title", *p.Title, 1, maxTitle, false); err != nil {
				return err
			}
		}
		if p.Description != nil {
			if s.Description, err = cleanText("description", *p.Description, 0, maxDescription, true); err != nil {
				return err
			}
		}
		backend, openapi := s.Backend, s.OpenAPI
		if p.Backend != nil {
			backend = *p.Backend
		}
		if p.OpenAPI != nil {
			openapi = *p.OpenAPI
		}
		if s.Backend, s.OpenAPI, err = cleanInterface(s.Kind, backend, openapi); err != nil {
			return err
		}
		if p.MaxLevel != nil {
			sub, err := subsystemByID(c.ctx, c.tx, c.instance, id.Provider())
			if err != nil {
				return err
			}
			if err := checkMaxLevel(*p.MaxLevel, sub); err != nil {
				return err
			}
			s.MaxLevel = *p.MaxLevel
		}
		changed := serviceChanges(old, s)
		if len(changed) == 0 {
			return errUnchanged
		}
		if err := updateService(c.ctx, c.tx, s, c.now); err != nil {
			return err
		}
		return c.record("exchange.service.update", resService, id.String(), changed)
	})
	if err != nil {
		return exchange.Service{}, fmt.Errorf("update service %s: %w", id, err)
	}
	return s, nil
}

// serviceChanges returns the ledger attributes of a change from a to b:
// "changed" lists the fields, with the new values of the short ones.
func serviceChanges(a, b exchange.Service) map[string]string {
	attrs := map[string]string{}
	var names []string
	add := func(name, old, new string, show bool) {
		if old == new {
			return
		}
		names = append(names, name)
		if show {
			attrs[name] = new
		}
	}
	add("title", a.Title, b.Title, true)
	add("description", a.Description, b.Description, false)
	add("backend", a.Backend, b.Backend, true)
	add("openapi", a.OpenAPI, b.OpenAPI, false)
	add("max_level", a.MaxLevel.String(), b.MaxLevel.String(), true)
	if len(names) == 0 {
		return nil
	}
	attrs["changed"] = strings.Join(names, ",")
	return attrs
}

// Service returns the registered service with id, or an error wrapping
// ErrNotFound.
func (r *Registry) Service(ctx context.Context, id exchange.ServiceID) (exchange.Service, error) {
	return serviceByID(ctx, r.db, r.opts.Instance, id)
}

// ServiceFilter selects services; the zero filter selects all.
type ServiceFilter struct {
	// Query matches the id, title or description, ignoring case and
	// Vietnamese diacritics ("ho chieu" finds "hộ chiếu").
	Query string
	Kind  exchange.ServiceKind
	// Member is the agency code of the providing member.
	Member string
}

// Match reports whether s passes the filter.
func (f ServiceFilter) Match(s exchange.Service) bool {
	if f.Kind != "" && s.Kind != f.Kind {
		return false
	}
	if f.Member != "" && s.ID.Member != f.Member {
		return false
	}
	q := identity.Fold(strings.TrimSpace(f.Query))
	if q == "" {
		return true
	}
	for _, text := range []string{s.ID.String(), s.Title, s.Description} {
		if strings.Contains(identity.Fold(text), q) {
			return true
		}
	}
	return false
}

// maxQuery bounds a search text.
const maxQuery = 200

// Check reports a malformed filter as an errs.FieldError.
func (f ServiceFilter) Check() error {
	if f.Kind != "" && !f.Kind.Valid() {
		return errs.Invalid("kind", fmt.Sprintf("unknown kind %q: use rest or async", f.Kind))
	}
	if _, err := cleanText("q", f.Query, 0, maxQuery, false); err != nil {
		return err
	}
	return nil
}

// Services returns the registered services f selects, ordered by id.
func (r *Registry) Services(ctx context.Context, f ServiceFilter) ([]exchange.Service, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	all, err := listServices(ctx, r.db, r.opts.Instance)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out := all[:0]
	for _, s := range all {
		if f.Match(s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// DeleteService removes a service with its access rights, and records it
// ("exchange.service.delete"). It returns ErrNotFound for an unknown
// service.
func (r *Registry) DeleteService(ctx context.Context, id exchange.ServiceID) error {
	err := r.write(ctx, func(c *change) error {
		if err := deleteService(c.ctx, c.tx, c.instance, id); err != nil {
			return err
		}
		return c.record("exchange.service.delete", resService, id.String(), nil)
	})
	if err != nil {
		return fmt.Errorf("delete service %s: %w", id, err)
	}
	return nil
}

// Grant is an access right as the registry keeps it: who granted it and
// when, and, once revoked, who revoked it and when.
type Grant struct {
	Service   exchange.ServiceID `json:"service"`
	Client    exchange.ClientID  `json:"client"`
	GrantedBy string             `json:"granted_by"`
	Granted   time.Time          `json:"granted"`
	RevokedBy string             `json:"revoked_by,omitempty"`
	Revoked   time.Time          `json:"revoked,omitzero"`
}

// Active reports whether the right is in force.
func (g Grant) Active() bool { return g.Revoked.IsZero() }

// Grant allows client to use service and records it
// ("exchange.right.grant"). It returns ErrNotFound for an unknown
// service, an errs.FieldError (ErrInvalid) for an unregistered client,
// and ErrConflict when the right is already in force.
func (r *Registry) Grant(ctx context.Context, service exchange.ServiceID, client exchange.ClientID) (Grant, error) {
	var g Grant
	err := r.write(ctx, func(c *change) error {
		var err error
		g, err = grant(c, service, client)
		return err
	})
	if err != nil {
		return Grant{}, fmt.Errorf("grant %s the use of %s: %w", client, service, err)
	}
	return g, nil
}

func grant(c *change, service exchange.ServiceID, client exchange.ClientID) (Grant, error) {
	if err := client.Validate(); err != nil {
		return Grant{}, renameField(err, "client")
	}
	if _, err := subsystemByID(c.ctx, c.tx, c.instance, client); errors.Is(err, errs.ErrNotFound) {
		return Grant{}, errs.Invalid("client", fmt.Sprintf("subsystem %s is not registered", client))
	} else if err != nil {
		return Grant{}, err
	}
	g := Grant{Service: service, Client: client, GrantedBy: c.actorName(), Granted: c.now}
	if err := insertRight(c.ctx, c.tx, c.instance, g); err != nil {
		return g, err
	}
	return g, c.record("exchange.right.grant", resService, service.String(), map[string]string{"client": client.String()})
}

// Revoke withdraws client's right to use service and records it
// ("exchange.right.revoke"). It returns ErrNotFound when no such right is
// in force.
func (r *Registry) Revoke(ctx context.Context, service exchange.ServiceID, client exchange.ClientID) error {
	err := r.write(ctx, func(c *change) error {
		if err := revokeRight(c.ctx, c.tx, c.instance, service, client, c.actorName(), c.now); err != nil {
			return err
		}
		return c.record("exchange.right.revoke", resService, service.String(), map[string]string{"client": client.String()})
	})
	if err != nil {
		return fmt.Errorf("revoke the right of %s to use %s: %w", client, service, err)
	}
	return nil
}

// Rights returns the rights ever granted on service, those in force and
// those revoked, newest first. It returns ErrNotFound for an unknown
// service.
func (r *Registry) Rights(ctx context.Context, service exchange.ServiceID) ([]Grant, error) {
	if _, err := serviceByID(ctx, r.db, r.opts.Instance, service); err != nil {
		return nil, err
	}
	gs, err := listRights(ctx, r.db, r.opts.Instance, service)
	if err != nil {
		return nil, fmt.Errorf("list rights on %s: %w", service, err)
	}
	return gs, nil
}
