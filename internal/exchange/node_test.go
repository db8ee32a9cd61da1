package exchange

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestInstallKeepsTheHighestSerialAndPersists(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := testCtx()
			tn := newTestNet(t, d)
			older := tn.publish(t, nil) // serial 2
			current := tn.publish(t, func(c *GlobalConf) { c.MaxMessageBytes = 4096 })
			serial := tn.conf.Serial
			m := tn.mission
			if c, _ := m.Conf(); c.Serial != serial || c.MaxMessageBytes != 4096 {
				t.Fatalf("mission holds serial %d, want %d", c.Serial, serial)
			}
			if err := m.Install(ctx, current); err != nil {
				t.Errorf("Install of the same serial = %v, want it ignored", err)
			}
			if err := m.Install(ctx, older); !errors.Is(err, errs.ErrConflict) {
				t.Errorf("Install of a lower serial = %v, want a conflict", err)
			}
			// A configuration that drops this node is refused: the node
			// would enforce rules that exclude it.
			alone := *tn.conf
			alone.Serial++
			alone.Members = alone.Members[:1]
			alone.Subsystems = []Subsystem{alone.Subsystems[0]}
			alone.Services = alone.Services[:2]
			alone.Rights = nil
			alone.Nodes = alone.Nodes[:1]
			if err := alone.Build(); err != nil {
				t.Fatal(err)
			}
			signed, err := SignConf(&alone, tn.hq.ring.Signer())
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Install(ctx, signed); err == nil || !strings.Contains(err.Error(), "does not list this node") {
				t.Errorf("Install of a configuration without the node = %v", err)
			}
			// One signed by a key other than the anchor is refused.
			forged, _ := SignConf(tn.conf, mustRing(t).Signer())
			if err := m.Install(ctx, forged); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Install of a forged configuration = %v, want a bad signature", err)
			}
			if c, _ := m.Conf(); c.Serial != serial {
				t.Fatalf("after the refusals the mission holds serial %d, want %d", c.Serial, serial)
			}
			raw, err := m.SignedConf()
			if err != nil || string(raw) != string(current) {
				t.Errorf("SignedConf is not the installed document: %v", err)
			}
			// The configuration outlives the process.
			again, err := OpenNode(ctx, m.db, m.ring, m.ledger, NodeOptions{Role: RoleMission})
			if err != nil {
				t.Fatal(err)
			}
			if c, err := again.Conf(); err != nil || c.Serial != serial || again.ID() != "mission-h01" {
				t.Fatalf("reopened node %s holds %v, %v; want serial %d", again.ID(), c, err, serial)
			}
			if err := again.Install(ctx, older); !errors.Is(err, errs.ErrConflict) {
				t.Errorf("reopened node: Install of a lower serial = %v, want a conflict", err)
			}
		})
	}
}

func TestOpenNodeRefusesAMissingOrOtherNode(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t, store.SQLite)
	ring := mustRing(t)
	if _, err := OpenNode(ctx, db, ring, nil, NodeOptions{Role: RoleMission}); !errors.Is(err, ErrNotEnrolled) {
		t.Errorf("OpenNode of an unenrolled mission = %v, want ErrNotEnrolled", err)
	}
	if _, err := OpenNode(ctx, db, ring, nil, NodeOptions{}); !errors.Is(err, ErrNoNode) {
		t.Errorf("OpenNode of an empty database = %v, want ErrNoNode", err)
	}
	hq, err := OpenNode(ctx, db, ring, nil, NodeOptions{Role: RoleHQ, ID: "hq-vn"})
	if err != nil || hq.ID() != "hq-vn" || hq.Role() != RoleHQ {
		t.Fatalf("OpenNode(hq) = %v, %v", hq, err)
	}
	if _, err := hq.Conf(); !errors.Is(err, ErrNoConf) {
		t.Errorf("Conf of a new node = %v, want ErrNoConf", err)
	}
	if _, err := OpenNode(ctx, db, ring, nil, NodeOptions{Role: RoleMission}); err == nil {
		t.Error("OpenNode as a mission of a headquarters database succeeded")
	}
	same, err := OpenNode(ctx, db, ring, nil, NodeOptions{})
	if err != nil || same.ID() != "hq-vn" || string(same.Info().EncryptionKey) != string(hq.Info().EncryptionKey) {
		t.Fatalf("reopening gives %v, %v; want the same identity", same, err)
	}
}

func TestSendConfRefusesAnExpiredConfigurationAndAlertsHourly(t *testing.T) {
	ctx := testCtx()
	tn := newTestNet(t, store.SQLite)
	m := tn.mission
	expires := tn.conf.Expires
	var now atomic.Int64
	m.now = func() time.Time { return time.Unix(0, now.Load()) }
	alerts := func() int {
		t.Helper()
		if _, err := m.ledger.Integrate(ctx); err != nil {
			t.Fatal(err)
		}
		evs, err := m.ledger.Search(ctx, audit.Query{Action: "exchange.conf.expired"})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Outcome != audit.Failed || e.ResourceID != "1" {
				t.Errorf("alert event %+v", e)
			}
		}
		return len(evs)
	}
	for _, step := range []struct {
		at         time.Duration // after expiry
		wantAlerts int
	}{
		{-time.Second, 0},
		{0, 1},
		{time.Minute, 1},
		{59 * time.Minute, 1},
		{time.Hour, 2},
		{90 * time.Minute, 2},
		{2*time.Hour + time.Second, 3},
	} {
		now.Store(expires.Add(step.at).UnixNano())
		c, err := m.sendConf(ctx)
		switch {
		case step.at < 0 && (err != nil || c == nil):
			t.Fatalf("%v before expiry: sendConf = %v", -step.at, err)
		case step.at >= 0 && !errors.Is(err, ErrConfExpired):
			t.Fatalf("%v after expiry: sendConf = %v, %v; want ErrConfExpired", step.at, c, err)
		}
		if got := alerts(); got != step.wantAlerts {
			t.Fatalf("%v after expiry: %d alerts, want %d", step.at, got, step.wantAlerts)
		}
	}
	if !errors.Is(ErrConfExpired, errs.ErrUnavailable) {
		t.Error("ErrConfExpired should map to unavailable")
	}
}
