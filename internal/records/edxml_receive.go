package records

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Arrival is a payload the exchange delivered to the document system of
// one of this node's organisations.
type Arrival struct {
	// Sender is the identifier code of the exchange member that sent it,
	// as the exchange verified it; Recipient the member it was for.
	Sender, Recipient string
	// Level is the exchange message's level.
	Level     authz.Level
	MessageID string
	Payload   []byte
}

// Receive takes in a package or status message. A package is placed in
// the addressed unit's queue of packages to register, and "received" goes
// back to its sender at once; a status message moves its package on.
// Anything forged or mismatched (a From that is not the member that sent
// it, a To that is not the member it was delivered to, a level other than
// the message's, a bad checksum, …) is refused with an error wrapping
// errs.ErrInvalid (errs.ErrTooLarge for one too big), recorded in the
// audit ledger, and nothing of it is stored. A package or status message
// delivered again changes nothing. Other errors are passing: the caller
// offers it again.
func (s *Service) Receive(ctx context.Context, a Arrival) error {
	o, err := actorOf(ctx)
	if err != nil {
		return err
	}
	if s.opts.Courier == nil {
		return fmt.Errorf("%w: this node is not connected to the exchange", errs.ErrUnavailable)
	}
	parsed, err := ParseEdXML(a.Payload)
	if err == nil && parsed.Status != nil {
		err = s.receiveStatus(ctx, o, a, parsed.Status)
	} else if err == nil {
		err = s.receivePackage(ctx, o, a, parsed.Package)
	}
	if errors.Is(err, errs.ErrInvalid) || errors.Is(err, errs.ErrTooLarge) {
		e := o.Event("document.package.refuse")
		e.ResourceType, e.ResourceID, e.Level = "exchange_message", a.MessageID, a.Level
		e.Attrs = map[string]string{"sender": a.Sender, "recipient": a.Recipient, "reason": clipName(err.Error())}
		if _, rerr := s.opts.Recorder.Append(ctx, e); rerr != nil {
			return fmt.Errorf("records: record the refusal of message %s: %w (refused: %v)", a.MessageID, rerr, err)
		}
	}
	return err
}

// refused says why an arrival is refused.
func refused(format string, args ...any) error {
	return fmt.Errorf("%w: the edXML package is refused: %s", errs.ErrInvalid, fmt.Sprintf(format, args...))
}

func (s *Service) receivePackage(ctx context.Context, o audit.Origin, a Arrival, p *Package) error {
	switch {
	case p.From.ID != a.Sender:
		return refused("it says it is from %s, but the exchange member that sent it is %s", p.From.ID, a.Sender)
	case p.To.ID != a.Recipient:
		return refused("it is addressed to %s, but was delivered to %s", p.To.ID, a.Recipient)
	case p.Level != a.Level:
		return refused("it is marked %s, but travelled as a %s message", p.Level, a.Level)
	}
	unit, err := s.opts.Courier.UnitOf(ctx, p.To.ID)
	if errors.Is(err, errs.ErrNotFound) {
		return refused("no unit here has the identifier code %s", p.To.ID)
	} else if err != nil {
		return err
	}
	sealed, purpose, err := sealParcel(ctx, s.opts.Ring, p.Level, a.Payload, inboundAD(p.From.ID, p.ID))
	if err != nil {
		return err
	}
	now := s.now()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		dup, err := loadPackage(ctx, tx, `direction = 'in' AND sender = ? AND package_id = ?`, p.From.ID, p.ID)
		if err != nil || dup != nil {
			return err // a copy delivered again: already here
		}
		row := &PackageRow{Direction: packageIn, PackageID: p.ID, From: p.From, To: p.To, UnitID: unit, Level: p.Level, Number: p.Number,
			Subject: p.Subject, Status: DeliveryReceived, MessageID: a.MessageID, CreatedAt: now, UpdatedAt: now, sealed: sealed, purpose: purpose}
		if err := insertPackage(ctx, tx, row); err != nil {
			return fmt.Errorf("records: store the package from %s: %w", p.From.ID, err)
		}
		if err := s.queueStatusTx(ctx, tx, row, DeliveryReceived, ""); err != nil {
			return err
		}
		return s.opts.Recorder.AppendTx(ctx, tx, packageEvent(o, "document.package.receive", row,
			map[string]string{"sender": p.From.ID, "number": p.Number, "message": a.MessageID}))
	})
}

func (s *Service) receiveStatus(ctx context.Context, o audit.Origin, a Arrival, m *StatusMessage) error {
	if m.From.ID != a.Sender {
		return refused("the status message says it is from %s, but the exchange member that sent it is %s", m.From.ID, a.Sender)
	}
	if m.To.ID != a.Recipient {
		return refused("the status message is addressed to %s, but was delivered to %s", m.To.ID, a.Recipient)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		// A recall comes from the package's sender to its recipient;
		// every other status from the recipient to the sender.
		where, args := `direction = 'out' AND sender = ? AND package_id = ? AND recipient = ?`, []any{m.To.ID, m.PackageID, m.From.ID}
		if m.Status == DeliveryRecalled {
			where, args = `direction = 'in' AND sender = ? AND package_id = ? AND recipient = ?`, []any{m.From.ID, m.PackageID, m.To.ID}
		}
		p, err := loadPackage(ctx, tx, where, args...)
		if err != nil {
			return err
		}
		if p == nil {
			return refused("%s sent a status about package %s, which it has no part in", m.From.ID, m.PackageID)
		}
		fresh, err := insertPackageEvent(ctx, tx, p.ID, m.ID, PackageEvent{Status: m.Status, Note: m.Description, At: m.At})
		if err != nil || !fresh {
			return err
		}
		if p.Status != DeliveryRecalled || m.Status == DeliveryRecalled {
			if err := setPackageStatus(ctx, tx, p.ID, m.Status, m.Description, 0, s.now()); err != nil {
				return err
			}
		}
		if m.Status == DeliveryRecalled && p.DocumentID != 0 {
			if err := s.markRecalledTx(ctx, tx, p.DocumentID); err != nil {
				return err
			}
		}
		return s.opts.Recorder.AppendTx(ctx, tx, packageEvent(o, "document.package.status", p,
			map[string]string{"status": string(m.Status), "from": m.From.ID}))
	})
}

// markRecalledTx marks the registered copy of a package its sender
// recalled: the document stays in the register, recalled.
func (s *Service) markRecalledTx(ctx context.Context, tx *store.Tx, docID int64) error {
	r, err := loadDocument(ctx, tx, docID, s.now(), true)
	if err != nil {
		return err
	}
	r.Status, r.UpdatedAt = StatusRecalled, s.now()
	return updateDocument(ctx, tx, r)
}

// errNoPackage is the one answer for a package that does not exist and
// one the caller may not know of.
func errNoPackage(id int64) error { return fmt.Errorf("%w: no package %d", errNotFound, id) }

// inPackage loads a received package for sub, concealed (as missing)
// unless sub may know of it: of the addressed unit and cleared for its
// level, as for a document.
func (s *Service) inPackage(ctx context.Context, q store.Queryer, sub authz.Subject, id int64) (*PackageRow, error) {
	p, err := loadPackage(ctx, q, `id = ? AND direction = 'in'`, id)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errNoPackage(id)
	}
	res := authz.Resource{Kind: authz.KindDocument, Unit: p.UnitID, Level: p.Level}
	if err := decide(sub, authz.Read, res, "package:"+strconv.FormatInt(id, 10), errNoPackage(id)); err != nil {
		return nil, err
	}
	return p, nil
}

// PackageQuery selects packages of the caller's unit.
type PackageQuery struct {
	// Direction is "in" or "out".
	Direction string
	// Waiting keeps the received packages not yet registered or returned.
	Waiting bool
	Limit   int
}

// Packages lists the packages of the caller's unit it may know of (no
// read up), newest first, with their statuses.
func (s *Service) Packages(ctx context.Context, sub authz.Subject, q PackageQuery) ([]*PackageRow, error) {
	if q.Direction != packageIn && q.Direction != packageOut {
		return nil, errs.Invalid("direction", "use in (packages received) or out (packages sent)")
	}
	if dec, why := authz.Decide(sub, authz.Read, authz.Resource{Kind: authz.KindDocument}); dec != authz.Allowed {
		return nil, authz.Refuse(dec, why, authz.Read, authz.Resource{Kind: authz.KindDocument}, "")
	}
	if q.Limit <= 0 || q.Limit > MaxLimit {
		q.Limit = DefaultLimit
	}
	where := `direction = ? AND unit_id = ? AND level <= ?`
	if q.Waiting {
		where += ` AND status = 'received'`
	}
	rows, err := queryPackages(ctx, s.db, where+` ORDER BY id DESC LIMIT `+strconv.Itoa(q.Limit), q.Direction, sub.Unit, int(sub.Clearance))
	if err != nil {
		return nil, err
	}
	return s.withEvents(ctx, rows)
}

// RegisterPackage registers a received package in the incoming register
// of the caller's unit (the addressed one), from the package's metadata:
// its sender, number and symbol, date, type, subject, urgency, level and
// due date, and its files (the first as its main file, the others as its
// attachments, attachments.go); the arrival number is taken now.
// "accepted" goes back to the sender in the same transaction. Errors as
// RegisterIncoming; a package already registered, returned or recalled
// is errs.ErrConflict.
func (s *Service) RegisterPackage(ctx context.Context, sub authz.Subject, id int64) (*Document, error) {
	p, err := s.inPackage(ctx, s.db, sub, id)
	if err != nil {
		return nil, err
	}
	if p.Status != DeliveryReceived {
		return nil, packageConflict(p)
	}
	data, err := openParcel(ctx, s.opts.Ring, p.purpose, p.sealed, inboundAD(p.From.ID, p.PackageID))
	if err != nil {
		return nil, err
	}
	parsed, err := ParseEdXML(data)
	if err != nil || parsed.Package == nil {
		return nil, fmt.Errorf("records: package %d as stored does not parse: %v", id, err)
	}
	pkg := parsed.Package
	in := NewIncoming{Type: pkg.Type, Number: pkg.Number, Sender: pkg.From.Name + " (" + pkg.From.ID + ")", Subject: pkg.Subject,
		Date: pkg.Date, Urgency: pkg.Urgency, DueAt: pkg.DueDate,
		Classify: Classify{Level: pkg.Level, Source: "edXML " + pkg.From.ID + " " + pkg.ID}}
	if pkg.Level > authz.Unclassified {
		in.Classify.Reason = "Độ mật do cơ quan gửi xác định (the sender's marking)"
	}
	if len(pkg.Files) > 0 {
		f := pkg.Files[0]
		in.Content = &Content{Filename: f.Name, MediaType: f.MediaType, Data: f.Data}
	}
	in.then = func(tx *store.Tx, r *row) error {
		locked, err := loadPackage(ctx, tx, `id = ?`, id)
		if err != nil {
			return err
		}
		if locked.Status != DeliveryReceived {
			return packageConflict(locked)
		}
		if err := setPackageStatus(ctx, tx, id, DeliveryReceived, "", r.ID, s.now()); err != nil {
			return err
		}
		if len(pkg.Files) > 1 {
			if err := s.keepAttachments(ctx, tx, r, pkg.Files[1:]); err != nil {
				return err
			}
		}
		locked.DocumentID = r.ID
		return s.queueStatusTx(ctx, tx, locked, DeliveryAccepted, "")
	}
	return s.RegisterIncoming(ctx, sub, in)
}

func packageConflict(p *PackageRow) error {
	if p.DocumentID != 0 {
		return fmt.Errorf("%w: package %d is already registered, as document %d", errs.ErrConflict, p.ID, p.DocumentID)
	}
	return fmt.Errorf("%w: package %d was %s; it can no longer be registered or returned", errs.ErrConflict, p.ID, p.Status)
}

// ReturnPackage returns a received package to its sender unregistered,
// saying why (sent to the wrong unit, incomplete, unreadable), as the
// records office does; "returned" goes back with the reason.
func (s *Service) ReturnPackage(ctx context.Context, sub authz.Subject, id int64, reason string) (*PackageRow, error) {
	o, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkText("reason", reason, maxNote, true, true); err != nil {
		return nil, err
	}
	var out *PackageRow
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.inPackage(ctx, tx, sub, id)
		if err != nil {
			return err
		}
		res := authz.Resource{Kind: authz.KindRegister, Unit: p.UnitID, Level: p.Level}
		if err := decide(sub, authz.Update, res, "package:"+strconv.FormatInt(id, 10), errNoPackage(id)); err != nil {
			return err
		}
		if p.Status != DeliveryReceived {
			return packageConflict(p)
		}
		if err := s.queueStatusTx(ctx, tx, p, DeliveryReturned, reason); err != nil {
			return err
		}
		p.Reason, out = reason, p
		return s.opts.Recorder.AppendTx(ctx, tx, packageEvent(o, "document.package.return", p, map[string]string{"sender": p.From.ID}))
	})
	if err != nil {
		return nil, fmt.Errorf("records: return package %d: %w", id, err)
	}
	return out, nil
}
