package records

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/web"
)

// errNotFound is errs.ErrNotFound: a missing document and one the caller
// may not know of answer alike.
var errNotFound = errs.ErrNotFound

// Limits on what a caller sends.
const (
	// MaxContent is the largest document file, in bytes.
	MaxContent = 50 << 20
	maxSubject = 2000
	maxLine    = 500
	maxNote    = 4000
	// maxText bounds the text extracted from a file that is indexed.
	maxText = 1 << 20
	// MaxGrant is the longest an explicit need-to-know grant may last.
	MaxGrant = 366 * 24 * time.Hour
	// maxTerms bounds the words of a search.
	maxTerms = 16
	// DefaultLimit and MaxLimit bound a page of search results.
	DefaultLimit = 50
	MaxLimit     = 200
)

// registerZone is the zone whose 1 January restarts the registers: Viet
// Nam's (UTC+7 all year, no daylight saving), for missions too, so that a
// ministry's series turn over at one moment.
func registerZone() *time.Location { return web.MinistryZone() }

// Options configure a Service. DB, Ring and Recorder are required.
type Options struct {
	DB *store.DB
	// Ring wraps each document's data key (see crypto.go); it must hold
	// the purposes Purposes lists.
	Ring     *keys.Ring
	Recorder Recorder
	// Now is the clock; if nil, store.Now.
	Now func() time.Time
	// Staff names the holder printed on a copy (copies.go);
	// *identity.Service implements it. If nil, the user name signed in.
	Staff StaffNamer
	// Courier reaches other agencies' and missions' document systems
	// through the exchange (edxml_send.go); if nil, documents are not
	// sent to them nor received from them.
	Courier Courier
	// Writer, if set, commits new documents in groups (store.Writer):
	// on SQLite, concurrent registrations then share a transaction, each
	// in a savepoint of its own, instead of queueing for the write lock.
	// Nil: each in a transaction of its own.
	Writer *store.Writer
}

// StaffNamer finds a member of staff.
type StaffNamer interface {
	Staff(ctx context.Context, id int64) (identity.StaffMember, error)
}

// Service keeps the documents, registers, case files and the classified
// archive. Every change runs in one transaction with its audit event and
// its full-text index row. It is safe for concurrent use.
type Service struct {
	opts Options
	db   *store.DB
}

// NewService returns the service. It fails when a required option is
// missing, or the keyring lacks a purpose records wraps keys under.
func NewService(opts Options) (*Service, error) {
	if opts.DB == nil || opts.Ring == nil || opts.Recorder == nil {
		return nil, errors.New("records: NewService needs DB, Ring and Recorder")
	}
	have := map[string]bool{}
	for _, k := range opts.Ring.DataKeys() {
		have[k.Purpose] = true
	}
	for _, p := range Purposes() {
		if !have[p] {
			return nil, fmt.Errorf("records: the keyring has no %q key; load it with records.Purposes()", p)
		}
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	return &Service{opts: opts, db: opts.DB}, nil
}

// write runs fn in a transaction: the Writer's group commit if there is
// one.
func (s *Service) write(ctx context.Context, fn func(tx *store.Tx) error) error {
	if s.opts.Writer != nil {
		return s.opts.Writer.InTx(ctx, fn)
	}
	return s.db.InTx(ctx, fn)
}

// StartWriter starts the group-commit Writer of the options, if any,
// until ctx ends (see store.Writer.Start); wait tells when it stopped.
func (s *Service) StartWriter(ctx context.Context) (wait func(), err error) {
	if s.opts.Writer == nil {
		return func() {}, nil
	}
	return s.opts.Writer.Start(ctx)
}

// now returns the current time at the precision storage keeps.
func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// actorOf returns who acts, from ctx; a change with no actor is refused.
func actorOf(ctx context.Context) (audit.Origin, error) {
	o, ok := audit.OriginFrom(ctx)
	if !ok || o.Anonymous() {
		return audit.Origin{}, fmt.Errorf("%w: the change names no actor", errs.ErrUnauthenticated)
	}
	return o, nil
}

// allow returns nil if sub may do a, in the capacity of kind k, to the
// document r; else an *authz.Refusal, which the web layer answers and
// records in the ledger with the document's level. A concealed refusal
// reads exactly as a missing document does.
func allow(sub authz.Subject, a authz.Action, k authz.Kind, r *row) error {
	res := r.resource()
	res.Kind = k
	return decide(sub, a, res, strconv.FormatInt(r.ID, 10), errNoDocument(r.ID))
}

// decide returns nil if authz allows sub to do a to res (the item id),
// else the *authz.Refusal; a concealed one says what absent, the answer
// for a missing item, says.
func decide(sub authz.Subject, a authz.Action, res authz.Resource, id string, absent error) error {
	dec, why := authz.Decide(sub, a, res)
	if dec == authz.Allowed {
		return nil
	}
	ref := authz.Refuse(dec, why, a, res, id)
	if dec == authz.Concealed {
		ref.Message = absent.Error()
	}
	return ref
}

// event returns the audit event of action on document r.
func event(o audit.Origin, action string, r *row, attrs map[string]string) audit.Event {
	return itemEvent(o, action, "document", r.ID, r.Classification, r.UnitID, attrs)
}

// itemEvent returns the audit event of action on the item of resource
// type typ and id, at its level, in its unit unless the actor's.
func itemEvent(o audit.Origin, action, typ string, id int64, l authz.Level, unit int64, attrs map[string]string) audit.Event {
	e := o.Event(action)
	e.ResourceType, e.ResourceID, e.Level = typ, strconv.FormatInt(id, 10), l
	if e.UnitID == 0 {
		e.UnitID = unit
	}
	e.Attrs = attrs
	return e
}

// checkLine refuses a one-line field that is missing (when required),
// too long, not UTF-8, or holds control or bidirectional-override
// characters (which could disguise a subject in a register or a log).
func checkLine(field, v string, max int, required bool) error {
	return checkText(field, v, max, required, false)
}

func checkText(field, v string, max int, required, multiline bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return errs.Invalid(field, "is required")
	case len(v) > max:
		return errs.Invalid(field, fmt.Sprintf("is %d bytes long, at most %d allowed", len(v), max))
	case !utf8.ValidString(v):
		return errs.Invalid(field, "is not valid UTF-8")
	}
	for _, r := range v {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return errs.Invalid(field, fmt.Sprintf("must not contain control or direction-override characters (found U+%04X)", r))
		}
	}
	return nil
}

// Content is a document's file, with the text extracted from it (for the
// index; may be empty).
type Content struct {
	Filename  string
	MediaType string
	Data      []byte
	Text      string
}

func (c *Content) check() error {
	if c == nil {
		return nil
	}
	if err := checkLine("filename", c.Filename, maxLine, true); err != nil {
		return err
	}
	if err := checkLine("media_type", c.MediaType, 255, true); err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(c.MediaType); err != nil || !strings.Contains(mt, "/") {
		return errs.Invalid("media_type", fmt.Sprintf("%q is not a media type such as application/pdf", c.MediaType))
	}
	if len(c.Data) > MaxContent {
		return fmt.Errorf("%w: the file is %d bytes, at most %d allowed", errs.ErrTooLarge, len(c.Data), MaxContent)
	}
	if len(c.Data) == 0 {
		return errs.Invalid("content", "the file is empty")
	}
	if len(c.Text) > maxText || !utf8.ValidString(c.Text) {
		return errs.Invalid("text", fmt.Sprintf("must be UTF-8, at most %d bytes", maxText))
	}
	return nil
}

// Classify is how a new document is classified: its level, and for a
// classified one the reason (the item of the list of state secrets) and
// source (who or what marked it: the incoming document's own marking).
type Classify struct {
	Level  authz.Level
	Reason string
	Source string
}

// NewIncoming is a document arriving at the unit (văn bản đến).
type NewIncoming struct {
	Type string
	// Number is the sender's number and symbol, as printed.
	Number  string
	Sender  string
	Subject string
	Date    time.Time
	Urgency Urgency
	Classify
	DueAt  time.Time
	Shared []int64
	// Content is the scan or the electronic file; may be nil for a
	// document registered before its file is attached.
	Content *Content
	// then runs in the registration's transaction (a package's
	// registration marks the package: edxml_receive.go).
	then func(tx *store.Tx, r *row) error
	// Channel is how it arrived; "" when not recorded.
	Channel Channel
}

// NewDraft is an outgoing document being drafted (văn bản đi).
type NewDraft struct {
	Type    string
	Subject string
	Urgency Urgency
	Classify
	DueAt   time.Time
	Shared  []int64
	Content *Content
}

// RegisterIncoming registers an incoming document in the signed-in
// clerk's unit, with the next arrival number of the unit's register of
// the year (a series of its own for classified documents). It returns an
// error wrapping errs.ErrInvalid for bad input or a classification above
// the clerk's clearance, and an *authz.Refusal when the clerk may not
// register.
func (s *Service) RegisterIncoming(ctx context.Context, sub authz.Subject, in NewIncoming) (*Document, error) {
	if err := checkLine("number", in.Number, maxLine, false); err != nil {
		return nil, err
	}
	if err := checkLine("sender", in.Sender, maxLine, true); err != nil {
		return nil, err
	}
	r := &row{Document: Document{Direction: Incoming, Type: in.Type, Number: in.Number, Sender: in.Sender, Subject: in.Subject,
		Date: in.Date.UTC(), Urgency: in.Urgency, DueAt: in.DueAt.UTC(), Status: StatusRegistered}, then: in.then, channel: in.Channel}
	if _, err := ParseChannel(string(in.Channel)); err != nil {
		return nil, err
	}
	return s.create(ctx, sub, r, in.Classify, in.Shared, in.Content)
}

// StartDraft starts an outgoing document in the signed-in officer's unit.
// Errors as RegisterIncoming.
func (s *Service) StartDraft(ctx context.Context, sub authz.Subject, nd NewDraft) (*Document, error) {
	r := &row{Document: Document{Direction: Outgoing, Type: nd.Type, Subject: nd.Subject, Urgency: nd.Urgency,
		DueAt: nd.DueAt.UTC(), Status: StatusDraft}}
	return s.create(ctx, sub, r, nd.Classify, nd.Shared, nd.Content)
}

// create checks and stores a new document with its classification
// record, sealed content, index row and audit event, in one transaction.
func (s *Service) create(ctx context.Context, sub authz.Subject, r *row, cl Classify, shared []int64, c *Content) (*Document, error) {
	o, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	t, err := LookupType(r.Type)
	if err != nil {
		return nil, err
	}
	if err := checkLine("subject", r.Subject, maxSubject, true); err != nil {
		return nil, err
	}
	if r.Urgency > Flash {
		return nil, errs.Invalid("urgency", "unknown urgency")
	}
	if !cl.Level.Valid() {
		return nil, errs.Invalid("classification", "unknown level")
	}
	if cl.Level > sub.Clearance {
		return nil, errs.Invalid("classification", fmt.Sprintf("%s is above your clearance (%s): only someone cleared for it may classify a document at that level",
			cl.Level, sub.Clearance))
	}
	// What a session knows does not flow down: a document created in a
	// session working at a level is classified at least at it.
	level := sub.CreateLevel(cl.Level)
	if level > authz.Unclassified {
		if err := checkLine("classification_reason", cl.Reason, maxLine, true); err != nil {
			return nil, err
		}
	}
	if err := checkLine("classification_source", cl.Source, maxLine, false); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	now := s.now()
	r.UnitID, r.AuthorID, r.Classification, r.CreatedAt, r.UpdatedAt, r.Version = sub.Unit, sub.ID, level, now, now, 1
	for _, u := range shared {
		if u <= 0 {
			return nil, errs.Invalid("shared_units", "unit ids are positive")
		}
		if u != r.UnitID {
			r.Shared = append(r.Shared, u)
		}
	}
	if level > authz.Unclassified {
		r.class = Classification{Level: level, Reason: cl.Reason, Source: cl.Source, ClassifierID: sub.ID, ProtectUntil: ProtectUntil(level, now)}
	}
	if err := allow(sub, authz.Create, authz.KindDocument, r); err != nil {
		return nil, err
	}
	if r.Direction == Incoming {
		if err := allow(sub, authz.Create, authz.KindRegister, r); err != nil {
			return nil, err
		}
	}
	err = s.write(ctx, func(tx *store.Tx) error {
		if r.Direction == Incoming {
			r.RegisterYear, r.Series = now.In(registerZone()).Year(), seriesOf(Incoming, level)
			if r.RegisterNumber, err = takeNumber(ctx, tx, r.UnitID, r.RegisterYear, r.Series); err != nil {
				return err
			}
		}
		if err := insertDocument(ctx, tx, r); err != nil {
			return fmt.Errorf("records: store document: %w", err)
		}
		if err := insertArrival(ctx, tx, r); err != nil {
			return err
		}
		if err := insertDistribution(ctx, tx, r.ID, r.Shared); isForeignKeyViolation(err) {
			return errs.Invalid("shared_units", "names a unit that does not exist")
		} else if err != nil {
			return err
		}
		if level > authz.Unclassified {
			if err := insertClassificationEvent(ctx, tx, r.ID, ClassificationEvent{Kind: Classified, To: level, Reason: cl.Reason,
				Source: cl.Source, ActorID: sub.ID, ProtectUntil: r.class.ProtectUntil, At: now}); err != nil {
				return err
			}
		}
		text := ""
		if c != nil {
			if err := s.storeContent(ctx, tx, r, c); err != nil {
				return err
			}
			if err := keepText(ctx, tx, r, c, now); err != nil {
				return err
			}
			text = c.Text
		}
		if err := indexDocument(ctx, tx, r.ID, indexText(t, r, text)); err != nil {
			return err
		}
		if r.then != nil {
			if err := r.then(tx, r); err != nil {
				return err
			}
		}
		action := "document.draft"
		if r.Direction == Incoming {
			action = "document.register"
		}
		return s.opts.Recorder.AppendTx(ctx, tx, event(o, action, r, map[string]string{"type": r.Type}))
	})
	if err != nil {
		return nil, fmt.Errorf("records: %s document: %w", r.Direction, err)
	}
	return &r.Document, nil
}

// storeContent seals c under a fresh data key and stores it for r.
func (s *Service) storeContent(ctx context.Context, tx *store.Tx, r *row, c *Content) error {
	sealed, wrapped, purpose, err := sealContent(ctx, s.opts.Ring, r.ID, r.Classification, c.Data)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(c.Data)
	info := ContentInfo{Filename: c.Filename, MediaType: c.MediaType, Size: int64(len(c.Data)), SHA256: sum[:]}
	if err := insertContent(ctx, tx, r.ID, sealedContent{ContentInfo: info, sealed: sealed, wrapped: wrapped, purpose: purpose}); err != nil {
		return fmt.Errorf("records: store content: %w", err)
	}
	r.Content = &info
	return nil
}

// indexText is what the full-text index holds of a document: the words
// of its type, number, subject and sender, and of the text of its file
// when it is unclassified, folded and joined by spaces, so that both
// engines' parsers see the same words (PostgreSQL's would otherwise read
// "12/cd-bng" as one file-path token). The text of a classified file is
// not indexed: the index is plaintext on disk, and would put the secret
// beside its encrypted copy (searching inside classified content needs an
// index sealed like the content; see the report of issue 18).
func indexText(t DocType, r *row, text string) string {
	parts := []string{t.NameVI, t.Abbr, r.Number, r.Subject, r.Sender}
	if r.Classification == authz.Unclassified && text != "" {
		parts = append(parts, text)
	}
	parts = append(parts, visibilityTokens(r)...) // see search_sql.go
	return strings.Join(words(strings.Join(parts, " ")), " ")
}

// words returns the words of s, folded (lower case, no diacritics, đ as
// d), of letters and digits only.
func words(s string) []string {
	return strings.FieldsFunc(identity.Fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// terms returns the words of a query, at most maxTerms of at most 64
// bytes, so nothing of the query reaches the engine's syntax.
func terms(q string) []string {
	ws := words(q)
	out := ws[:0]
	for _, w := range ws {
		if len(w) <= 64 && len(out) < maxTerms {
			out = append(out, w)
		}
	}
	return out
}
