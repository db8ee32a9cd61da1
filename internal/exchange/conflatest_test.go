package exchange

import (
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
)

// TestMessagesSentUnderANewerConfigurationAreJudgedByIt: headquarters
// grants new rights both ways and installs the configuration, but the
// mission misses its publication (as a new mission did under load). A
// message headquarters sends under the new right is not refused by the
// mission's older configuration: the mission asks for the latest one and
// delivers it. The mission's own message under its new right, refused at
// first by its older configuration, passes on a retry within seconds,
// because the refusal had the latest configuration asked for. A message
// the latest configuration does not allow either is still refused.
func TestMessagesSentUnderANewerConfigurationAreJudgedByIt(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { testJudgedByTheLatestConf(t, d) })
	}
}

func testJudgedByTheLatestConf(t *testing.T, d store.Dialect) {
	ln := newLinkedNet(t, d, nil)
	ln.waitLinked(t)
	// The mission has had the answer to the request its link's coming up
	// made, so only a refusal makes it ask again. (The request the link's
	// coming up kicks may begin just before the link is marked up; then
	// the next periodic one, within confRefresh, is the one that counts.)
	waitFor(t, 2*confRefresh+5*time.Second, "the mission's request on its link coming up", func() bool {
		tr := ln.mission.transport()
		s, _, _ := tr.links.get("hq")
		tr.asks.mu.Lock()
		defer tr.asks.mu.Unlock()
		return s.up && tr.asks.answered.After(s.since)
	})
	ctx := testCtx()
	down := ServiceID{ClientID: consular, Service: "task", Version: "v1"}
	up := ServiceID{ClientID: procedures, Service: "task-report", Version: "v1"}
	old, _ := ln.mission.Conf()
	ln.installAtHQ(t, func(c *GlobalConf) {
		c.Services = append(c.Services, Service{ID: down, Kind: KindAsync, Title: "Task", MaxLevel: authz.Secret},
			Service{ID: up, Kind: KindAsync, Title: "Task report", MaxLevel: authz.Secret})
		c.Rights = append(c.Rights, Right{Service: down, Client: procedures}, Right{Service: up, Client: consular})
	})
	if held, _ := ln.mission.Conf(); held.Serial != old.Serial {
		t.Fatalf("the mission holds configuration %d, want the older %d", held.Serial, old.Serial)
	}

	id, err := ln.hq.Send(ctx, Outgoing{From: procedures, To: down, Level: authz.Confidential, ContentType: "text/plain", Payload: []byte("task 1")})
	if err != nil {
		t.Fatal(err)
	}
	got := waitInbox(t, ln.mission.Node, consular, 1, 20*time.Second)
	if got[0].ID != id || got[0].Service != down {
		t.Fatalf("the mission got %+v, want message %s on %s", got[0], id, down)
	}
	if held, _ := ln.mission.Conf(); held.Serial != ln.conf.Serial {
		t.Errorf("the mission holds configuration %d after judging, want %d", held.Serial, ln.conf.Serial)
	}

	// The mission's side: its configuration is older again (a fresh
	// right it has not heard of), its first try is refused, a retry
	// passes.
	up2 := ServiceID{ClientID: procedures, Service: "task-report", Version: "v2"}
	ln.installAtHQ(t, func(c *GlobalConf) {
		c.Services = append(c.Services, Service{ID: up2, Kind: KindAsync, Title: "Task report v2", MaxLevel: authz.Secret})
		c.Rights = append(c.Rights, Right{Service: up2, Client: consular})
	})
	report := Outgoing{From: consular, To: up2, Level: authz.Confidential, ContentType: "text/plain", Payload: []byte("done")}
	if _, err := ln.mission.Send(ctx, report); !mayLift(err) {
		t.Fatalf("the mission's first try: %v, want a refusal its configuration could lift", err)
	}
	var sent string
	waitFor(t, 10*time.Second, "the mission's retry to pass", func() bool {
		sent, err = ln.mission.Send(ctx, report)
		return err == nil
	})
	in := waitInbox(t, ln.hq.Node, procedures, 1, 20*time.Second)
	if in[0].ID != sent {
		t.Fatalf("headquarters got %s, want %s", in[0].ID, sent)
	}

	// What the latest configuration refuses too stays refused: a
	// message for a service no configuration has.
	e := testEnvelope(0, []byte("x"))
	e.Service = ServiceID{ClientID: procedures, Service: "nope", Version: "v1"}
	ln.publishRaw(t, []*Envelope{e}, nil)
	waitFor(t, 20*time.Second, "the refusal", func() bool {
		return len(refusals(t, ln.hq.ledger, "exchange.message.refused", e.ID)) == 1
	})
}

// installAtHQ changes the configuration with change, signs it with a
// higher serial and installs it at headquarters only, without publishing
// it: the mission holds the older one until it asks.
func (tn *testNet) installAtHQ(tb testing.TB, change func(*GlobalConf)) {
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
	if err := tn.hq.Install(testCtx(), signed); err != nil {
		tb.Fatal(err)
	}
}
