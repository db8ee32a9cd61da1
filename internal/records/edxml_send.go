package records

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// Courier is how the records reach the document systems of other
// agencies and missions: through the exchange, which internal/app wires
// in (so that records does not import it). Every call is asynchronous in
// effect: Send returns once the exchange has the payload durably, and
// the exchange delivers it whenever the link allows, in order, exactly
// once.
type Courier interface {
	// Organ returns the identifier code and name under which a unit
	// sends and receives packages: the unit's own member code.
	Organ(ctx context.Context, unitID int64) (Organ, error)
	// UnitOf returns the unit whose queue a package addressed to code
	// goes to: the unit with that code, or, for the ministry as a whole
	// (its root unit), the Office, whose records office receives for it;
	// an error wrapping errs.ErrNotFound when no unit of this directory
	// has that code.
	UnitOf(ctx context.Context, code string) (int64, error)
	// Peers lists the organisations whose document systems from may send
	// packages to, each with the highest level it may receive (the
	// exchange's clearance of its document system and service).
	Peers(ctx context.Context, from string) ([]Peer, error)
	// Send hands a payload to the exchange and returns the exchange's
	// message id. An error wrapping errs.ErrUnavailable is passing (the
	// payload is offered again later, in order); any other is a refusal
	// for good.
	Send(ctx context.Context, p Parcel) (string, error)
}

// Peer is an organisation packages may be sent to.
type Peer struct {
	Organ
	MaxLevel authz.Level `json:"max_level"`
	// Kind is what it is in the directory (identity.UnitKind: a
	// department, a mission, an outside agency), if the exchange says.
	Kind string `json:"kind,omitempty"`
}

// ExchangePeers lists the organisations the document system of unit may
// send packages to, each with the highest level it may receive: none
// when this node has no exchange or the unit no document system on it.
func (s *Service) ExchangePeers(ctx context.Context, unit int64) ([]Peer, error) {
	if s.opts.Courier == nil {
		return nil, nil
	}
	from, err := s.opts.Courier.Organ(ctx, unit)
	if errors.Is(err, errs.ErrInvalid) || errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return s.opts.Courier.Peers(ctx, from.ID)
}

// Parcel is a package or status message on its way to the exchange: from
// one organisation's document system to another's, at a level.
type Parcel struct {
	From, To string
	Level    authz.Level
	Payload  []byte
}

// PackageRow is a package sent (out) or received (in), with its statuses.
type PackageRow struct {
	ID        int64  `json:"id"`
	Direction string `json:"direction"` // out | in
	PackageID string `json:"package_id"`
	From      Organ  `json:"from"`
	To        Organ  `json:"to"`
	// UnitID is the issuing unit (out) or the addressed one (in).
	UnitID int64 `json:"unit_id"`
	// DocumentID is the issued document (out), or the incoming one once
	// registered (in); 0 before.
	DocumentID int64          `json:"document_id,omitempty"`
	Level      authz.Level    `json:"classification"`
	Number     string         `json:"number"`
	Subject    string         `json:"subject"`
	Status     DeliveryStatus `json:"status"`
	// Reason is why it was returned or recalled, or why the exchange
	// refused it.
	Reason    string         `json:"reason,omitempty"`
	MessageID string         `json:"message_id,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Events    []PackageEvent `json:"events"`

	sealed  []byte
	purpose string
}

// The package rows' directions.
const (
	packageOut = "out"
	packageIn  = "in"
)

// PackageEvent is one status of a package, in the order it came.
type PackageEvent struct {
	Status DeliveryStatus `json:"status"`
	Note   string         `json:"note,omitempty"`
	At     time.Time      `json:"at"`
}

// errNoCourier refuses what needs the exchange on a node without one.
var errNoCourier = errs.Invalid("recipients", "this node is not connected to the exchange: documents cannot be sent to other agencies or missions from it")

// maxExchangeRecipients bounds the outside recipients of one issuance.
const maxExchangeRecipients = 100

// sealParcel seals a payload at rest under its level's purpose (the
// hybrid seal for top secret), bound to ad.
func sealParcel(ctx context.Context, ring *keys.Ring, l authz.Level, data []byte, ad string) ([]byte, string, error) {
	purpose := wrapPurpose(l)
	var sealed []byte
	var err error
	if l == authz.TopSecret {
		sealed, err = ring.HybridSeal(ctx, purpose, data, []byte(ad))
	} else {
		sealed, err = ring.Seal(ctx, purpose, data, []byte(ad))
	}
	if err != nil {
		return nil, "", fmt.Errorf("records: seal a package: %w", err)
	}
	return sealed, purpose, nil
}

func openParcel(ctx context.Context, ring *keys.Ring, purpose string, sealed []byte, ad string) ([]byte, error) {
	var data []byte
	var err error
	if purpose == PurposeTopSecret {
		data, err = ring.HybridOpen(ctx, purpose, sealed, []byte(ad))
	} else {
		data, err = ring.Open(ctx, purpose, sealed, []byte(ad))
	}
	if err != nil {
		return nil, fmt.Errorf("records: open a sealed package: %w", err)
	}
	return data, nil
}

func outboxAD(uid string) string            { return "records/edxml-outbox:" + uid }
func inboundAD(sender, pkgID string) string { return "records/edxml-in:" + sender + ":" + pkgID }

// queuePackagesTx builds, inside an issuance's transaction, one package
// per outside recipient of the issued document r and queues each for the
// exchange. A recipient the exchange does not know, or one not cleared
// for the document's level, refuses the whole issuance: nothing is
// numbered, nothing sent.
func (s *Service) queuePackagesTx(ctx context.Context, tx *store.Tx, r *row, recipients []string) error {
	if len(recipients) == 0 {
		return nil
	}
	if s.opts.Courier == nil {
		return errNoCourier
	}
	if len(recipients) > maxExchangeRecipients {
		return errs.Invalid("recipients", fmt.Sprintf("at most %d recipients at once", maxExchangeRecipients))
	}
	from, err := s.opts.Courier.Organ(ctx, r.UnitID)
	if err != nil {
		return err
	}
	peers, err := s.opts.Courier.Peers(ctx, from.ID)
	if err != nil {
		return err
	}
	var to []Peer
	for _, code := range recipients {
		i := slices.IndexFunc(peers, func(p Peer) bool { return p.ID == code })
		switch {
		case i < 0:
			return errs.Invalid("recipients", fmt.Sprintf("%q is not an agency or mission whose document system this unit can send to through the exchange", clipName(code)))
		case peers[i].MaxLevel < r.Classification:
			return errs.Invalid("recipients", fmt.Sprintf("%s (%s) is not cleared to receive %s documents: leave it out, or send the document by the secret channel",
				peers[i].Name, code, r.Classification))
		case !slices.ContainsFunc(to, func(p Peer) bool { return p.ID == code }):
			to = append(to, peers[i])
		}
	}
	var files []Attachment
	if c, ok, err := loadContent(ctx, tx, r.ID); err != nil {
		return err
	} else if ok {
		if !c.Shredded.IsZero() {
			return fmt.Errorf("%w: the file of document %d was destroyed; it cannot be sent", errs.ErrConflict, r.ID)
		}
		data, err := openContent(ctx, s.opts.Ring, r.ID, &c)
		if err != nil {
			return err
		}
		files = []Attachment{{Name: c.Filename, MediaType: c.MediaType, Data: data}}
	}
	now := s.now()
	for _, peer := range to {
		pkg := Package{ID: newUUID(), From: from, To: peer.Organ, Number: r.Number, Type: r.Type, Date: r.Date, Subject: r.Subject,
			Steering: r.Type == "chi_thi", Urgency: r.Urgency, Level: r.Classification, DueDate: r.DueAt, Files: files}
		data, err := BuildPackage(&pkg)
		if err != nil {
			return err
		}
		if len(data) > MaxPackageBytes {
			return fmt.Errorf("%w: the package of %d bytes (the file in base64) is over the %d bytes a package may have: send a smaller file, or the document by another channel",
				errs.ErrTooLarge, len(data), MaxPackageBytes)
		}
		p := &PackageRow{Direction: packageOut, PackageID: pkg.ID, From: from, To: peer.Organ, UnitID: r.UnitID, DocumentID: r.ID,
			Level: r.Classification, Number: r.Number, Subject: r.Subject, Status: DeliveryQueued, CreatedAt: now, UpdatedAt: now}
		if err := insertPackage(ctx, tx, p); err != nil {
			return fmt.Errorf("records: record the package to %s: %w", peer.ID, err)
		}
		if _, err := insertPackageEvent(ctx, tx, p.ID, "queued:"+pkg.ID, PackageEvent{Status: DeliveryQueued, At: now}); err != nil {
			return err
		}
		if err := s.queueOutboxTx(ctx, tx, p, pkg.ID, data, now); err != nil {
			return err
		}
	}
	return nil
}

// queueOutboxTx seals a payload about package row p and queues it.
func (s *Service) queueOutboxTx(ctx context.Context, tx *store.Tx, p *PackageRow, uid string, data []byte, now time.Time) error {
	from, to := p.From.ID, p.To.ID
	if p.Direction == packageIn { // the recipient answers its sender
		from, to = to, from
	}
	sealed, purpose, err := sealParcel(ctx, s.opts.Ring, p.Level, data, outboxAD(uid))
	if err != nil {
		return err
	}
	return insertOutbox(ctx, tx, &outboxItem{PackageRow: p.ID, UID: uid, Parcel: Parcel{From: from, To: to, Level: p.Level},
		sealed: sealed, purpose: purpose}, now)
}

// queueStatusTx records status on package row p and queues the status
// message saying it to the other side: the recipient's (received …
// done, returned) to the sender, or the sender's (recalled) to the
// recipient.
func (s *Service) queueStatusTx(ctx context.Context, tx *store.Tx, p *PackageRow, status DeliveryStatus, note string) error {
	now := s.now()
	m := StatusMessage{ID: newUUID(), PackageID: p.PackageID, From: p.From, To: p.To, Status: status, Description: note, At: now}
	if p.Direction == packageIn {
		m.From, m.To = p.To, p.From
	}
	data, err := BuildStatus(&m)
	if err != nil {
		return err
	}
	if err := setPackageStatus(ctx, tx, p.ID, status, note, 0, now); err != nil {
		return err
	}
	p.Status = status
	if _, err := insertPackageEvent(ctx, tx, p.ID, m.ID, PackageEvent{Status: status, Note: note, At: now}); err != nil {
		return err
	}
	return s.queueOutboxTx(ctx, tx, p, m.ID, data, now)
}

// edxmlStepTx is the packages' part of a document's step (act.go's
// change), in its transaction: the handling of a document that came in a
// package is reported to its sender (assigned, in progress, done), and
// the recall of an issued document reaches every recipient of its
// packages.
func (s *Service) edxmlStepTx(ctx context.Context, tx *store.Tx, r *row, name, note string) error {
	if r.Direction == Outgoing && name == "recall" {
		sent, err := queryPackages(ctx, tx, `direction = 'out' AND document_id = ? ORDER BY id`, r.ID)
		if err != nil {
			return err
		}
		for _, p := range sent {
			if p.Status != DeliveryFailed && p.Status != DeliveryReturned && p.Status != DeliveryRecalled {
				if err := s.queueStatusTx(ctx, tx, p, DeliveryRecalled, note); err != nil {
					return err
				}
			}
		}
		return nil
	}
	status, ok := map[string]DeliveryStatus{"assign": DeliveryAssigned, "comment": DeliveryInProgress, "complete": DeliveryDone}[name]
	if r.Direction != Incoming || !ok {
		return nil
	}
	p, err := loadPackage(ctx, tx, `direction = 'in' AND document_id = ?`, r.ID)
	if err != nil || p == nil || p.Status == DeliveryRecalled || p.Status == DeliveryReturned || p.Status == DeliveryDone {
		return err
	}
	if status == DeliveryInProgress {
		// Handling has begun with the first step taken on an assigned
		// document; the sender hears it once.
		events, err := listPackageEvents(ctx, tx, p.ID)
		if err != nil || r.Status != StatusInProgress || slices.ContainsFunc(events, func(e PackageEvent) bool { return e.Status == DeliveryInProgress }) {
			return err
		}
	}
	if status == DeliveryAssigned && p.Status == DeliveryAssigned {
		return nil // a second instruction is not news to the sender
	}
	return s.queueStatusTx(ctx, tx, p, status, "")
}

// deliverBatch bounds the outbox items one DeliverPackages pass hands over.
const deliverBatch = 100

// DeliverPackages hands the queued packages and status messages to the
// exchange, oldest first, and reports how many it handed over. It stops
// at the first passing failure (the exchange is down), so that the
// order holds; an item the exchange refuses for good is marked failed
// with the reason, and the package shows it. An item handed over twice
// (a crash between Send and its mark) is dropped by its recipient, which
// knows each package and status message by its id.
func (s *Service) DeliverPackages(ctx context.Context) (int, error) {
	if s.opts.Courier == nil {
		return 0, nil
	}
	items, err := pendingOutbox(ctx, s.db, deliverBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range items {
		data, err := openParcel(ctx, s.opts.Ring, o.purpose, o.sealed, outboxAD(o.UID))
		msgID := ""
		if err == nil {
			o.Parcel.Payload = data
			msgID, err = s.opts.Courier.Send(ctx, o.Parcel)
		}
		if ctx.Err() != nil || errors.Is(err, errs.ErrUnavailable) {
			return n, err
		}
		failure := ""
		if err != nil {
			failure = err.Error()
		}
		if err := s.db.InTx(ctx, func(tx *store.Tx) error { return s.markDelivered(ctx, tx, o, msgID, failure) }); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// markDelivered records an outbox item handed over or refused; a
// package's own item moves its row from queued to sent (or failed).
func (s *Service) markDelivered(ctx context.Context, tx *store.Tx, o outboxItem, msgID, failure string) error {
	now := s.now()
	if err := markOutbox(ctx, tx, o.ID, msgID, failure, now); err != nil {
		return err
	}
	p, err := loadPackage(ctx, tx, `id = ?`, o.PackageRow)
	if err != nil || p == nil || p.Direction != packageOut || p.PackageID != o.UID {
		return err
	}
	status := DeliverySent
	if failure != "" {
		status = DeliveryFailed
	}
	if p.Status == DeliveryQueued || failure != "" {
		if err := setPackageStatus(ctx, tx, p.ID, status, failure, 0, now); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_packages SET msg_id = ? WHERE id = ?`), msgID, p.ID); err != nil {
		return fmt.Errorf("records: package %d: %w", p.ID, err)
	}
	_, err = insertPackageEvent(ctx, tx, p.ID, "sent:"+o.UID, PackageEvent{Status: status, Note: failure, At: now})
	return err
}

// courierPoll is how often RunCourier looks at the outbox.
const courierPoll = time.Second

// RunCourier hands queued packages and status messages to the exchange
// until ctx ends, passing each error to report (the exchange being down
// is reported and retried).
func (s *Service) RunCourier(ctx context.Context, report func(error)) {
	t := time.NewTicker(courierPoll)
	defer t.Stop()
	for {
		if _, err := s.DeliverPackages(ctx); err != nil && ctx.Err() == nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Deliveries returns the packages an issued document went out in, one per
// outside recipient, each with its statuses, to a caller who may read the
// document (others: as Get).
func (s *Service) Deliveries(ctx context.Context, sub authz.Subject, docID int64) ([]*PackageRow, error) {
	r, err := loadDocument(ctx, s.db, docID, s.now(), false)
	if err != nil {
		return nil, err
	}
	if err := allow(sub, authz.Read, authz.KindDocument, r); err != nil {
		return nil, err
	}
	rows, err := queryPackages(ctx, s.db, `direction = 'out' AND document_id = ? ORDER BY id`, docID)
	if err != nil {
		return nil, err
	}
	return s.withEvents(ctx, rows)
}

func (s *Service) withEvents(ctx context.Context, rows []*PackageRow) ([]*PackageRow, error) {
	out := make([]*PackageRow, 0, len(rows))
	for _, p := range rows {
		var err error
		if p.Events, err = listPackageEvents(ctx, s.db, p.ID); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// packageEvent returns the audit event of action on package row p.
func packageEvent(o audit.Origin, action string, p *PackageRow, attrs map[string]string) audit.Event {
	return itemEvent(o, action, "record_package", p.ID, p.Level, p.UnitID, attrs)
}
