package exchange

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"fmt"
	"time"

	"chancery/internal/keys"
	"chancery/internal/store"
)

// Receipts tell the sender of a circular who has it. Each copy asks for
// one (Header.Receipt); the recipient's node answers, through the
// exchange itself, with a receipt it signs with its node key, the key of
// the member that runs it:
//
//   - delivered, in the transaction that logs the copy as accepted (the
//     point where the batch is then acknowledged: msglog.go logIncoming);
//   - dead, in the same transaction when the node refuses the copy (no
//     right, not cleared, stale…), or when the copy goes to the dead
//     letters after its webhook refused it too often (deadletter.go);
//   - delivered again when an operator resends that dead letter.
//
// A receipt is an envelope of TypeReceipt, written as a pending outgoing
// row in the transaction that decides it, so that it is sent exactly
// once, whenever the link allows, as every message is: a mission cut off
// reports when the link returns. A redelivered batch logs nothing new
// and so sends no second receipt.
//
// The sender accepts a receipt (checkReceipt) only when it is signed by
// the node that serves the copy's recipient, came from that node, names
// a copy of a circular in this node's log with that very recipient and
// digest, and is newer than the receipt it holds for the copy; a forged,
// misdirected or replayed receipt is refused, logged and audited like
// any refused message. The sender keeps the latest receipt of each
// recipient, the signed receipt itself included, on the circular's row
// (applyReceiptTx); CircularStatus shows it.

// Outcomes a receipt reports.
const (
	outcomeDelivered = "delivered"
	outcomeDead      = "dead"
)

// receiptContext separates receipt signatures from the node key's others.
const receiptContext = "chancery-exchange-receipt-v1\n"

// receiptVersion is the first byte of an encoded receipt.
const receiptVersion = 1

// Receipt is a recipient node's signed statement about one copy.
type Receipt struct {
	// ID is the id of the envelope that carries the receipt, so that the
	// receipt cannot be carried again in another envelope.
	ID string
	// Copy is the id of the message acknowledged, and Digest its digest.
	Copy   string
	Digest []byte
	// From is the copy's recipient, which acknowledges it; To the copy's
	// sender.
	From, To ClientID
	// Outcome is delivered or dead; Reason says why a copy is dead.
	Outcome string
	Reason  string
	// Time is when the recipient's node decided the outcome.
	Time time.Time
	// Node is the recipient's node, which signs with its key KeyID.
	Node  string
	KeyID string
	Sig   []byte
}

// signed returns the bytes the signature covers: everything but itself.
func (rc *Receipt) signed() []byte {
	b := append([]byte(receiptContext), receiptVersion)
	b = appendString(b, rc.ID)
	b = appendString(b, rc.Copy)
	b = appendBytes(b, rc.Digest)
	b = appendString(b, rc.From.String())
	b = appendString(b, rc.To.String())
	b = appendString(b, rc.Outcome)
	b = appendString(b, rc.Reason)
	b = appendInt(b, rc.Time.UnixMicro())
	b = appendString(b, rc.Node)
	return appendString(b, rc.KeyID)
}

// sign signs the receipt with the node's key.
func (rc *Receipt) sign(signer *keys.Signer) error {
	rc.KeyID = signer.KeyID()
	sig, err := signer.Sign(nil, rc.signed(), crypto.Hash(0))
	if err != nil {
		return fmt.Errorf("exchange: sign a receipt: %w", err)
	}
	rc.Sig = sig
	return nil
}

// encode returns the receipt as an envelope's payload.
func (rc *Receipt) encode() []byte {
	return appendBytes(rc.signed()[len(receiptContext):], rc.Sig)
}

// decodeReceipt parses what encode wrote.
func decodeReceipt(b []byte) (*Receipt, error) {
	r := &reader{b: b}
	if v := r.byte("version"); r.err == nil && v != receiptVersion {
		return nil, fmt.Errorf("receipt version %d is not supported", v)
	}
	rc := &Receipt{ID: r.string("id"), Copy: r.string("copy"), Digest: r.bytes("digest")}
	from, to := r.string("from"), r.string("to")
	rc.Outcome, rc.Reason = r.string("outcome"), r.string("reason")
	rc.Time = time.UnixMicro(r.int("time")).UTC()
	rc.Node, rc.KeyID, rc.Sig = r.string("node"), r.string("key id"), r.bytes("signature")
	if err := r.done("receipt"); err != nil {
		return nil, err
	}
	var err error
	if rc.From, err = ParseClientID(from); err != nil {
		return nil, fmt.Errorf("receipt: from: %w", err)
	}
	if rc.To, err = ParseClientID(to); err != nil {
		return nil, fmt.Errorf("receipt: to: %w", err)
	}
	if rc.Outcome != outcomeDelivered && rc.Outcome != outcomeDead {
		return nil, fmt.Errorf("receipt: unknown outcome %q", cutText(rc.Outcome, 32))
	}
	return rc, nil
}

// receiptEnvelope returns the signed receipt, at now, for copy c (whose
// digest is digest) with outcome and reason, in the envelope that
// carries it back to c's sender.
func (n *Node) receiptEnvelope(c *Envelope, digest []byte, outcome, reason string, now time.Time) (*Envelope, error) {
	now = now.UTC().Truncate(time.Microsecond) // as the log keeps it
	rc := &Receipt{ID: NewMessageID(now), Copy: c.ID, Digest: digest, From: c.Recipient, To: c.Sender,
		Outcome: outcome, Reason: cutText(reason, 1000), Time: now, Node: n.id}
	if err := rc.sign(n.ring.Signer()); err != nil {
		return nil, err
	}
	return &Envelope{Header: Header{ID: rc.ID, Type: TypeReceipt, Sender: c.Recipient, Recipient: c.Sender, Service: c.Service,
		Time: now, Level: c.Level}, Payload: rc.encode()}, nil
}

// owesReceipt reports whether this node answers envelope e, which node
// src sent, with a receipt: e asked for one, and both ends are where the
// configuration puts them (otherwise the sender could not accept it).
func (n *Node) owesReceipt(conf *GlobalConf, src string, e *Envelope) bool {
	if e.Type != TypeMessage || !e.Receipt {
		return false
	}
	senderNode, _ := conf.NodeOf(e.Sender)
	recipientNode, _ := conf.NodeOf(e.Recipient)
	return senderNode == src && recipientNode == n.id
}

// checkReceipt checks a receipt that node src sent to this node, and
// returns it, or the refusal.
func (t *transport) checkReceipt(conf *GlobalConf, src string, e *Envelope, now time.Time) (*Receipt, *RefusedError) {
	rc, err := decodeReceipt(e.Payload)
	if err != nil {
		return nil, refuse(ReasonMalformed, fmt.Sprintf("receipt %s: %v", e.ID, err))
	}
	if rc.ID != e.ID || rc.From != e.Sender || rc.To != e.Recipient {
		return nil, refuse(ReasonMalformed, fmt.Sprintf("receipt %s does not match the envelope that carries it", e.ID))
	}
	if node, ok := conf.NodeOf(e.Sender); !ok || node != src || rc.Node != src {
		return nil, refuse(ReasonSpoofedSender, fmt.Sprintf("a receipt from %s must come from the node that serves it, not %s", e.Sender, src))
	}
	if node, _ := conf.NodeOf(e.Recipient); node != t.n.id {
		return nil, refuse(ReasonWrongRecipient, fmt.Sprintf("receipt %s is for %s, which this node %s does not serve", e.ID, e.Recipient, t.n.id))
	}
	info, ok := conf.Node(src)
	if !ok || rc.KeyID != info.SigningKeyID || !ed25519.Verify(info.SigningKey, rc.signed(), rc.Sig) {
		return nil, refuse(ReasonBadSignature, fmt.Sprintf("receipt %s does not carry a valid signature of node %s", e.ID, src))
	}
	if rc.Time.After(now.Add(messageSkew)) {
		return nil, refuse(ReasonStale, fmt.Sprintf("receipt %s is dated %s, in the future", e.ID, rc.Time.Format(time.RFC3339)))
	}
	return rc, nil
}

// applyReceipt, in the transaction that logs receipt rc, checks it
// against the copy it acknowledges and keeps it as the copy's latest; it
// returns the refusal of a receipt that does not fit, or that is not
// newer than the one held (a replay).
func applyReceipt(ctx context.Context, tx *store.Tx, rc *Receipt) (*RefusedError, error) {
	c, err := copyForReceiptTx(ctx, tx, rc.Copy)
	if err != nil {
		return nil, fmt.Errorf("exchange: read copy %s, which receipt %s acknowledges: %w", rc.Copy, rc.ID, err)
	}
	switch {
	case c == nil:
		return refuse(ReasonWrongRecipient, fmt.Sprintf("receipt %s acknowledges %s, which is no copy of a circular sent from this node", rc.ID, cutText(rc.Copy, 64))), nil
	case c.recipient != rc.From.String() || c.sender != rc.To.String():
		return refuse(ReasonWrongRecipient, fmt.Sprintf("receipt %s: only copy %s's recipient may acknowledge it, not %s", rc.ID, rc.Copy, rc.From)), nil
	case string(c.digest) != string(rc.Digest):
		return refuse(ReasonBadSignature, fmt.Sprintf("receipt %s acknowledges another message than copy %s (the digests differ)", rc.ID, rc.Copy)), nil
	}
	applied, err := applyReceiptTx(ctx, tx, rc)
	if err != nil {
		return nil, fmt.Errorf("exchange: keep receipt %s of copy %s: %w", rc.ID, rc.Copy, err)
	}
	if !applied {
		return refuse(ReasonReplay, fmt.Sprintf("receipt %s: copy %s holds a receipt as recent already", rc.ID, rc.Copy)), nil
	}
	return nil, nil
}
