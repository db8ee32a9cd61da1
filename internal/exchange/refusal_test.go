package exchange

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/store"
)

// publishRaw seals envs at the mission, lets tamper change the wire, and
// publishes the batch straight into the mission's stream, as a hostile or
// broken mission could.
func (ln *linkedNet) publishRaw(tb testing.TB, envs []*Envelope, tamper func([]byte)) {
	tb.Helper()
	if _, err := ln.missionBus.JetStream().Publish(context.Background(), subjectFor("mission-h01", "hq"), ln.sealRaw(tb, envs, tamper)); err != nil {
		tb.Fatalf("publish: %v", err)
	}
}

// sealRaw seals envs into a batch from the mission to headquarters, as
// the mission's transport would, lets tamper alter its wire form, and
// returns it.
func (ln *linkedNet) sealRaw(tb testing.TB, envs []*Envelope, tamper func([]byte)) []byte {
	tb.Helper()
	conf, _ := ln.mission.Conf()
	s, err := ln.mission.session(conf, "hq")
	if err != nil {
		tb.Fatal(err)
	}
	sb, err := SealBatch(s, ln.mission.ring.Signer(), envs, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	if tamper != nil {
		tamper(sb.Wire)
	}
	return sb.Wire
}

// refusals returns the audit events of refused messages (action) with
// resource id id, or of any resource when id is empty.
func refusals(tb testing.TB, l *audit.Ledger, action, id string) []audit.Event {
	tb.Helper()
	ev, err := l.Search(context.Background(), audit.Query{Action: action, ResourceID: id, Limit: 100})
	if err != nil {
		tb.Fatalf("Search: %v", err)
	}
	return ev
}

func TestReceiverRefusesEachBadMessageWithItsReasonAndAuditsIt(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { testRefusals(t, d) })
	}
}

func testRefusals(t *testing.T, d store.Dialect) {
	ln := newLinkedNet(t, d, nil)
	visa := ClientID{DefaultInstance, ClassGOV, missionMember, "visa"}
	ln.publish(t, func(c *GlobalConf) {
		c.MaxMessageBytes = 4096
		c.Subsystems = append(c.Subsystems, Subsystem{ID: visa, Title: "Visa", Clearance: authz.Secret})
	})
	ln.waitLinked(t)
	env := func(change func(e *Envelope)) *Envelope {
		e := testEnvelope(0, []byte("payload"))
		if change != nil {
			change(e)
		}
		return e
	}
	good := env(nil)
	cases := []struct {
		e    *Envelope
		want Reason
	}{
		{env(func(e *Envelope) { e.Sender = procedures }), ReasonSpoofedSender},
		{env(func(e *Envelope) { e.Recipient = consular }), ReasonWrongRecipient},
		{env(func(e *Envelope) { e.Sender = visa }), ReasonNoRight},
		{env(func(e *Envelope) { e.Level = authz.TopSecret }), ReasonClearance},
		{env(func(e *Envelope) { e.Payload = bytes.Repeat([]byte("x"), 5000) }), ReasonTooLarge},
		{env(func(e *Envelope) { e.Time = time.Now().Add(-40 * 24 * time.Hour) }), ReasonStale},
		{env(func(e *Envelope) { e.Time = time.Now().Add(time.Hour) }), ReasonStale},
		{env(func(e *Envelope) { e.Service = ServiceID{ClientID: procedures, Service: "nope"} }), ReasonUnknownService},
		{env(func(e *Envelope) { e.Service, e.Recipient = lookupSvc, lookupSvc.Provider() }), ReasonUnknownService},
	}
	envs := []*Envelope{good}
	for _, c := range cases {
		envs = append(envs, c.e)
	}
	ln.publishRaw(t, envs, nil)
	waitInbox(t, ln.hq.Node, procedures, 1, 20*time.Second)
	ctx := testCtx()
	for _, c := range cases {
		waitFor(t, 30*time.Second, "refusal of "+string(c.want), func() bool {
			return len(refusals(t, ln.hq.ledger, "exchange.message.refused", c.e.ID)) == 1
		})
		var state, reason string
		if err := ln.hq.db.QueryRowContext(ctx, ln.hq.db.Rebind(`SELECT state, reason FROM exchange_log WHERE msg_id = ? AND direction = 'in'`), c.e.ID).
			Scan(&state, &reason); err != nil {
			t.Fatalf("log row of the %s case: %v", c.want, err)
		}
		if state != "refused" || !strings.HasPrefix(reason, string(c.want)+":") {
			t.Errorf("%s case logged as %s %q", c.want, state, reason)
		}
	}

	// A replay of the delivered message in another batch.
	ln.publishRaw(t, []*Envelope{good}, nil)
	waitFor(t, 30*time.Second, "the replay refused", func() bool {
		ev := refusals(t, ln.hq.ledger, "exchange.message.refused", good.ID)
		return len(ev) == 1 && strings.HasPrefix(ev[0].Reason, string(ReasonReplay))
	})

	// Flipped bits in the signature and in an item's ciphertext: the
	// whole batch is refused.
	flipped := []*Envelope{env(nil), env(nil)}
	ln.publishRaw(t, flipped[:1], func(w []byte) { w[len(w)-10] ^= 1 })
	ln.publishRaw(t, flipped[1:], func(w []byte) { w[len(w)-150] ^= 1 })
	waitFor(t, 30*time.Second, "two batches refused", func() bool {
		return len(refusals(t, ln.hq.ledger, "exchange.batch.refused", "")) == 2
	})

	// A revoked mission: headquarters' server cuts its link at once, so
	// its batches no longer arrive; one that did (sent before the
	// revocation reached the server) would be refused.
	revoked := env(nil)
	wire := ln.sealRaw(t, []*Envelope{revoked}, nil)
	ln.publish(t, func(c *GlobalConf) {
		c.Revoked = append(c.Revoked, Revocation{Node: "mission-h01", At: time.Now().UTC(), Reason: "key compromised"})
	})
	waitFor(t, 10*time.Second, "the revoked node's link to drop", func() bool {
		l, err := ln.hqBus.LeafLinks()
		return err == nil && len(l) == 0
	})
	if _, err := ln.missionBus.JetStream().Publish(ctx, subjectFor("mission-h01", "hq"), wire); err != nil {
		t.Fatal(err)
	}
	conf, _ := ln.hq.Conf()
	var re *RefusedError
	if _, err := OpenBatch(wire, ln.hq.openSession(conf), conf); !errors.As(err, &re) || re.Reason != ReasonRevoked {
		t.Errorf("headquarters opens the revoked node's batch with %v, want a refusal %s", err, ReasonRevoked)
	}
	time.Sleep(2 * time.Second) // the mission's server tries to rejoin every second
	if in, _ := ln.hq.Inbox(ctx, procedures, 0, 100); len(in) != 1 || in[0].ID != good.ID {
		t.Errorf("inbox holds %d messages, want only the good one", len(in))
	}
	for _, e := range append(flipped, revoked) {
		var k int
		ln.hq.db.QueryRowContext(ctx, ln.hq.db.Rebind(`SELECT COUNT(*) FROM exchange_log WHERE msg_id = ?`), e.ID).Scan(&k) //nolint:errcheck
		if k != 0 {
			t.Errorf("message %s of a refused batch was logged", e.ID)
		}
	}
}
