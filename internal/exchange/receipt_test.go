package exchange

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// registrySys is a subsystem of headquarters offering notice/v1, which
// headquarters' procedures system may send to: a circular's recipient on
// the sender's own node.
var registrySys = ClientID{DefaultInstance, ClassGOV, hqMember, "registry"}

// owner is the subject that reads procedures' circulars.
var owner = authz.Subject{Kind: authz.Client, Subsystem: procedures.String()}

// addRecipients adds registrySys, visaSys and archiveSys, each offering
// notice/v1 to procedures, to the network's configuration.
func addRecipients(c *GlobalConf) {
	for _, id := range []ClientID{registrySys, visaSys, archiveSys} {
		svc := ServiceID{ClientID: id, Service: "notice", Version: "v1"}
		c.Subsystems = append(c.Subsystems, Subsystem{ID: id, Title: id.Subsystem, Clearance: authz.Confidential})
		c.Services = append(c.Services, Service{ID: svc, Kind: KindAsync, Title: "Notice", MaxLevel: authz.Secret})
		c.Rights = append(c.Rights, Right{Service: svc, Client: procedures})
	}
}

// receiptNet is the linked test network (the mission joining through
// leafAddr, if not nil) with the recipients of addRecipients, linked.
func receiptNet(tb testing.TB, d store.Dialect, leafAddr func(port int) string) *linkedNet {
	tb.Helper()
	ln := newLinkedNet(tb, d, leafAddr)
	ln.publish(tb, addRecipients)
	ln.waitLinked(tb)
	return ln
}

// copiesOf returns circular id's copies on n, by recipient.
func copiesOf(tb testing.TB, n *Node, id string) map[ClientID]CircularCopy {
	tb.Helper()
	st, err := n.CircularStatus(testCtx(), owner, id)
	if err != nil {
		tb.Fatalf("CircularStatus: %v", err)
	}
	out := map[ClientID]CircularCopy{}
	for _, c := range st.Copies {
		out[c.Recipient] = c
	}
	return out
}

// waitState waits until recipient's copy of circular id on n is in state.
func waitState(tb testing.TB, n *Node, id string, recipient ClientID, state string, within time.Duration) CircularCopy {
	tb.Helper()
	var c CircularCopy
	waitFor(tb, within, fmt.Sprintf("the copy of %s %s", recipient, state), func() bool {
		c = copiesOf(tb, n, id)[recipient]
		return c.State == state
	})
	return c
}

// rowsOf counts n's log rows of direction and type.
func rowsOf(tb testing.TB, n *testNode, direction string, typ EnvelopeType) int {
	tb.Helper()
	var k int
	if err := n.db.QueryRowContext(testCtx(), n.db.Rebind(`SELECT COUNT(*) FROM exchange_log WHERE direction = ? AND type = ?`),
		direction, int64(typ)).Scan(&k); err != nil {
		tb.Fatal(err)
	}
	return k
}

// TestACircularsSenderSeesWhoHasIt pins issue 17 item 8: each
// recipient's node acknowledges its copy with a signed receipt that
// travels back through the exchange, so the sender sees each recipient
// delivered with the time, at once for a recipient on a node that is
// reachable and, for a mission whose link is cut, only after the link
// returns; each copy is acknowledged exactly once. On both databases,
// side by side: each has its own network (nodes, buses, ports, proxy and
// databases), and each spends most of its time waiting, on the cut link
// and for it to come back.
func TestACircularsSenderSeesWhoHasIt(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			proxy := newLinkProxy(t)
			ln := receiptNet(t, d, func(port int) string {
				proxy.mu.Lock()
				proxy.target = fmt.Sprintf("127.0.0.1:%d", port)
				proxy.mu.Unlock()
				return proxy.l.Addr().String()
			})
			proxy.cut()
			waitFor(t, 10*time.Second, "the link down", func() bool {
				l, err := ln.hqBus.LeafLinks()
				return err == nil && len(l) == 0
			})
			ctx := testCtx()
			published := time.Now()
			id, _, err := ln.hq.Publish(ctx, Circular{From: procedures, Service: "notice/v1", Recipients: []ClientID{registrySys, consular},
				Level: authz.Confidential, ContentType: "text/plain", Payload: []byte("circular 2/2026")})
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			here := waitState(t, ln.hq.Node, id, registrySys, outcomeDelivered, 20*time.Second)
			if here.Time.Before(published.Add(-time.Second)) || here.Time.After(time.Now()) || here.Reason != "" {
				t.Errorf("headquarters' own recipient: %+v, want delivered now", here)
			}
			// The mission cannot have it, nor say so, while the link is cut.
			time.Sleep(2 * time.Second)
			if c := copiesOf(t, ln.hq.Node, id)[consular]; c.State != "sent" && c.State != "pending" {
				t.Fatalf("the cut-off mission's copy is %+v, want sent or pending", c)
			}
			restored := time.Now()
			proxy.restore()
			there := waitState(t, ln.hq.Node, id, consular, outcomeDelivered, 60*time.Second)
			if there.Time.Before(restored) || there.Time.After(time.Now()) {
				t.Errorf("the mission's copy was delivered at %s, want after the link returned at %s", there.Time, restored)
			}
			if in := waitInbox(t, ln.mission.Node, consular, 1, 10*time.Second); string(in[0].Payload) != "circular 2/2026" {
				t.Errorf("consular got %q", in[0].Payload)
			}
			// Exactly once: one receipt sent per copy, one taken per copy,
			// whatever the redeliveries around the cut.
			time.Sleep(time.Second)
			if got := rowsOf(t, ln.mission, "out", TypeReceipt); got != 1 {
				t.Errorf("the mission sent %d receipts, want 1", got)
			}
			if got := rowsOf(t, ln.hq, "in", TypeReceipt); got != 2 {
				t.Errorf("headquarters took %d receipts, want 2", got)
			}
			if got := rowsOf(t, ln.hq, "out", TypeReceipt); got != 1 {
				t.Errorf("headquarters sent %d receipts (for its own recipient), want 1", got)
			}
			var refused int
			if err := ln.hq.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM exchange_log WHERE state = 'refused'`).Scan(&refused); err != nil || refused != 0 {
				t.Errorf("%d refused rows at headquarters (%v), want 0", refused, err)
			}
			// The receipts are signed by the recipients' nodes and kept.
			for _, r := range []struct {
				who  ClientID
				node *testNode
			}{{registrySys, ln.hq}, {consular, ln.mission}} {
				var raw []byte
				if err := ln.hq.db.QueryRowContext(ctx, ln.hq.db.Rebind(`SELECT receipt FROM exchange_circular_recipients WHERE circular_id = ? AND recipient = ?`),
					id, r.who.String()).Scan(&raw); err != nil {
					t.Fatal(err)
				}
				rc, err := decodeReceipt(raw)
				if err != nil || rc.Node != r.node.ID() || rc.KeyID != r.node.ring.Signer().KeyID() || rc.From != r.who {
					t.Errorf("receipt of %s = %+v, %v; want one of node %s", r.who, rc, err, r.node.ID())
				}
			}
		})
	}
}

// loggedReceiptByID returns the receipt envelope id that n sent, rebuilt
// from its log as its publisher does.
func loggedReceiptByID(tb testing.TB, n *testNode, id string) *Envelope {
	tb.Helper()
	var (
		sender, recipient, service string
		level, at                  int64
		body                       []byte
	)
	if err := n.db.QueryRowContext(testCtx(), n.db.Rebind(`SELECT sender, recipient, service, level, msg_time_us, body FROM exchange_log
		WHERE direction = 'out' AND type = 4 AND msg_id = ?`), id).Scan(&sender, &recipient, &service, &level, &at, &body); err != nil {
		tb.Fatal(err)
	}
	e := &Envelope{Header: Header{ID: id, Type: TypeReceipt, Level: authz.Level(level), Time: time.UnixMicro(at).UTC()}}
	var err error
	e.Sender, _ = ParseClientID(sender)
	e.Recipient, _ = ParseClientID(recipient)
	e.Service, _ = ParseServiceID(service)
	if e.Payload, err = n.ring.Open(testCtx(), keyPurpose, body, bodyAD("out", id)); err != nil {
		tb.Fatal(err)
	}
	return e
}

// forgedReceipt is a receipt of copy, from from, signed by signer, in
// its envelope.
func forgedReceipt(copy CircularCopy, digest []byte, from ClientID, outcome string, signer *keys.Signer, node string) *Envelope {
	now := time.Now().UTC().Truncate(time.Microsecond)
	rc := &Receipt{ID: NewMessageID(now), Copy: copy.MessageID, Digest: digest, From: from, To: procedures,
		Outcome: outcome, Reason: "forged", Time: now, Node: node}
	if err := rc.sign(signer); err != nil {
		panic(err)
	}
	return &Envelope{Header: Header{ID: rc.ID, Type: TypeReceipt, Sender: from, Recipient: procedures,
		Service: ServiceID{ClientID: from, Service: "notice", Version: "v1"}, Time: now, Level: authz.Confidential}, Payload: rc.encode()}
}

// TestAForgedOrReplayedReceiptIsRefused: a hostile mission node cannot
// change what the sender sees: a receipt not signed by the recipient's
// node, one from a subsystem other than the copy's recipient, one naming
// a message that is no circular's copy, and a receipt replayed (in a new
// batch) are each refused with their reason, logged and audited, and
// the copies keep their state. On both databases.
func TestAForgedOrReplayedReceiptIsRefused(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ln := receiptNet(t, d, nil)
			ctx := testCtx()
			id, _, err := ln.hq.Publish(ctx, Circular{From: procedures, Service: "notice/v1", Recipients: []ClientID{consular, visaSys},
				Level: authz.Confidential, ContentType: "text/plain", Payload: []byte("circular 3/2026")})
			if err != nil {
				t.Fatal(err)
			}
			want := map[ClientID]CircularCopy{}
			for _, r := range []ClientID{consular, visaSys} {
				want[r] = waitState(t, ln.hq.Node, id, r, outcomeDelivered, 20*time.Second)
			}
			var digest []byte
			if err := ln.hq.db.QueryRowContext(ctx, ln.hq.db.Rebind(`SELECT digest FROM exchange_log WHERE direction = 'out' AND msg_id = ?`),
				want[consular].MessageID).Scan(&digest); err != nil {
				t.Fatal(err)
			}
			plain, err := ln.mission.Send(ctx, report("not a circular"))
			if err != nil {
				t.Fatal(err)
			}
			waitInbox(t, ln.hq.Node, procedures, 1, 20*time.Second)
			stranger := mustRing(t).Signer()
			mission := ln.mission.ring.Signer()
			// The receipts rows the mission sent for the two copies; the
			// first is replayed in a batch of its own.
			replayed := loggedReceiptOf(t, ln.mission, want[consular].MessageID)
			cases := []struct {
				name string
				e    *Envelope
				want Reason
			}{
				{"signed by another key", forgedReceipt(want[consular], digest, consular, outcomeDead, stranger, "mission-h01"), ReasonBadSignature},
				{"from another recipient than the copy's", forgedReceipt(want[consular], digest, visaSys, outcomeDead, mission, "mission-h01"), ReasonWrongRecipient},
				{"claiming another node", forgedReceipt(want[consular], digest, consular, outcomeDead, mission, "hq"), ReasonSpoofedSender},
				{"for a message that is no circular's copy", forgedReceipt(CircularCopy{MessageID: plain}, digest, consular, outcomeDead, mission, "mission-h01"), ReasonWrongRecipient},
				{"for another message than the copy", forgedReceipt(want[consular], []byte(strings.Repeat("x", 32)), consular, outcomeDead, mission, "mission-h01"), ReasonBadSignature},
				{"replayed", replayed, ReasonReplay},
			}
			for _, c := range cases {
				ln.publishRaw(t, []*Envelope{c.e}, nil)
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					var ev []audit.Event
					waitFor(t, 20*time.Second, "the receipt's refusal audited", func() bool {
						if _, err := ln.hq.ledger.Integrate(ctx); err != nil {
							t.Fatal(err)
						}
						ev = refusals(t, ln.hq.ledger, "exchange.message.refused", c.e.ID)
						return len(ev) > 0
					})
					if !strings.HasPrefix(ev[0].Reason, string(c.want)+":") {
						t.Errorf("refused with %q, want %s", ev[0].Reason, c.want)
					}
					if c.want == ReasonReplay {
						return // the log keeps the first copy's row
					}
					var state string
					if err := ln.hq.db.QueryRowContext(ctx, ln.hq.db.Rebind(`SELECT state FROM exchange_log WHERE direction = 'in' AND type = 4 AND msg_id = ?`),
						c.e.ID).Scan(&state); err != nil || state != "refused" {
						t.Errorf("the receipt is logged as %q (%v), want refused", state, err)
					}
				})
			}
			for r, c := range copiesOf(t, ln.hq.Node, id) {
				if c != want[r] {
					t.Errorf("copy of %s = %+v after the forgeries, want %+v", r, c, want[r])
				}
			}
			// The recipient's node itself may say later that the copy is
			// dead; what it writes is shown printable.
			later := forgedReceipt(want[consular], digest, consular, outcomeDead, mission, "mission-h01")
			rc, _ := decodeReceipt(later.Payload)
			rc.Reason = "refused\x00\r\nX-Injected: 1"
			if err := rc.sign(mission); err != nil {
				t.Fatal(err)
			}
			later.Payload = rc.encode()
			ln.publishRaw(t, []*Envelope{later}, nil)
			if c := waitState(t, ln.hq.Node, id, consular, outcomeDead, 20*time.Second); c.Reason != "refused   X-Injected: 1" {
				t.Errorf("the dead copy's reason is shown as %q", c.Reason)
			}
		})
	}
}

// loggedReceiptOf returns the receipt envelope n sent for copy.
func loggedReceiptOf(tb testing.TB, n *testNode, copy string) *Envelope {
	tb.Helper()
	rows, err := n.db.QueryContext(testCtx(), `SELECT msg_id FROM exchange_log WHERE direction = 'out' AND type = 4`)
	if err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		e := loggedReceiptByID(tb, n, id)
		if rc, err := decodeReceipt(e.Payload); err == nil && rc.Copy == copy {
			return e
		}
	}
	tb.Fatalf("no receipt of %s on %s", copy, n.ID())
	return nil
}

// TestADeadCopyShowsDead: a copy the recipient's node refuses (the
// recipient is not cleared there), and a copy its webhook keeps
// refusing until it becomes a dead letter, show dead with the reason at
// the sender; resending the dead letter shows it delivered again. On
// both databases.
func TestADeadCopyShowsDead(t *testing.T) {
	fastWebhookRetries(t)
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ln := receiptNet(t, d, nil)
			ctx := testCtx()
			// The mission's configuration, newer than headquarters', no
			// longer clears archiveSys for confidential messages.
			installOnly(t, ln.testNet, ln.mission, func(c *GlobalConf) {
				for i := range c.Subsystems {
					if c.Subsystems[i].ID == archiveSys {
						c.Subsystems[i].Clearance = authz.Unclassified
					}
				}
			})
			refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "we refuse circulars", http.StatusBadRequest)
			}))
			t.Cleanup(refusing.Close)
			ln.mission.AllowWebhookHosts(refusing.Listener.Addr().String())
			if _, err := ln.mission.SetWebhook(ctx, visaSys, refusing.URL+"/inbox"); err != nil {
				t.Fatal(err)
			}
			id, _, err := ln.hq.Publish(ctx, Circular{From: procedures, Service: "notice/v1", Recipients: []ClientID{consular, visaSys, archiveSys},
				Level: authz.Confidential, ContentType: "text/plain", Payload: []byte("circular 4/2026")})
			if err != nil {
				t.Fatal(err)
			}
			waitState(t, ln.hq.Node, id, consular, outcomeDelivered, 20*time.Second)
			refused := waitState(t, ln.hq.Node, id, archiveSys, outcomeDead, 20*time.Second)
			if !strings.HasPrefix(refused.Reason, string(ReasonClearance)+":") {
				t.Errorf("the refused copy's reason is %q, want the mission's %s refusal", refused.Reason, ReasonClearance)
			}
			dead := waitState(t, ln.hq.Node, id, visaSys, outcomeDead, 30*time.Second)
			if !strings.Contains(dead.Reason, "we refuse circulars") {
				t.Errorf("the dead letter's reason is %q, want the webhook's answer", dead.Reason)
			}
			// Resent by an operator (and taken this time): delivered again.
			if err := ln.mission.DeleteWebhook(ctx, visaSys); err != nil {
				t.Fatal(err)
			}
			if err := ln.mission.ResendDeadLetter(ctx, dead.MessageID); err != nil {
				t.Fatal(err)
			}
			again := waitState(t, ln.hq.Node, id, visaSys, outcomeDelivered, 20*time.Second)
			if !again.Time.After(dead.Time) {
				t.Errorf("delivered again at %s, not after it died at %s", again.Time, dead.Time)
			}
		})
	}
}

// installOnly changes the test network's configuration with change and
// installs it, with a higher serial, on n alone.
func installOnly(tb testing.TB, tn *testNet, n *testNode, change func(*GlobalConf)) {
	tb.Helper()
	change(tn.conf)
	tn.conf.Serial++
	tn.conf.Issued = time.Now().UTC()
	if err := tn.conf.Build(); err != nil {
		tb.Fatal(err)
	}
	signed, err := SignConf(tn.conf, tn.hq.ring.Signer())
	if err != nil {
		tb.Fatal(err)
	}
	if err := n.Install(context.Background(), signed); err != nil {
		tb.Fatal(err)
	}
}

// TestAReceiptRoundTrips: what encode writes decodeReceipt reads back,
// the signature covers every field, and an envelope asking for a receipt
// keeps the flag through its encoding while one that does not keeps
// version 1's encoding (and so its digest).
func TestAReceiptRoundTrips(t *testing.T) {
	ring := mustRing(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	rc := &Receipt{ID: NewMessageID(now), Copy: NewMessageID(now), Digest: []byte("d"), From: consular, To: procedures,
		Outcome: outcomeDead, Reason: "r", Time: now, Node: "mission-h01"}
	if err := rc.sign(ring.Signer()); err != nil {
		t.Fatal(err)
	}
	got, err := decodeReceipt(rc.encode())
	if err != nil || fmt.Sprint(got) != fmt.Sprint(rc) {
		t.Fatalf("decodeReceipt = %+v, %v; want %+v", got, err, rc)
	}
	if _, err := decodeReceipt(append(rc.encode(), 0)); err == nil {
		t.Errorf("trailing bytes accepted")
	}
	bad := *rc
	bad.Outcome = "read"
	if _, err := decodeReceipt(bad.encode()); err == nil {
		t.Errorf("an unknown outcome accepted")
	}
	e := testEnvelope(1, nil)
	plain := e.Encode()
	if plain[0] != envelopeVersion {
		t.Errorf("an envelope without flags is encoded as version %d", plain[0])
	}
	e.Receipt = true
	flagged := e.Encode()
	back, err := DecodeEnvelope(flagged)
	if err != nil || !back.Receipt || string(back.Encode()) != string(flagged) {
		t.Errorf("DecodeEnvelope(flagged) = %+v, %v", back, err)
	}
	flagged[1] = 0 // version 2 without flags is not canonical
	if _, err := DecodeEnvelope(flagged); err == nil {
		t.Errorf("version 2 without flags accepted")
	}
	flagged[1] = 2 // an unknown flag
	if _, err := DecodeEnvelope(flagged); err == nil {
		t.Errorf("an unknown flag accepted")
	}
}
