package sentinel

import (
	"context"
	"errors"
	"sync"
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// link is a courier to headquarters' service that can be cut: while cut
// it refuses, as the exchange's Send does when the transport is stopped;
// when up it delivers each batch, and may deliver one twice.
type link struct {
	mu    sync.Mutex
	cut   bool
	hq    *Service
	twice bool
}

func (l *link) Send(ctx context.Context, batch []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut {
		return errors.New("the link to headquarters is cut")
	}
	n := 1
	if l.twice {
		n = 2 // a message delivered twice
	}
	for range n {
		if _, err := l.hq.Receive(ctx, "mission-paris", batch); err != nil {
			return err
		}
	}
	return nil
}

func TestMissionAlertsReachHeadquartersOnceWithTheMissionsName(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		mission := newSite(t, db)
		hq := newSite(t, storetest.MustOpen(t, db.Dialect))
		mission.seed(t, alertOf("an.le", "bulk_read", 80), alertOf("an.le", "off_hours", 85))
		l := &link{cut: true, hq: hq.svc, twice: true}
		f := NewForwarder(db, l, "mission-paris", "Đại sứ quán Việt Nam tại Pháp", nil)
		if _, err := f.Once(t.Context()); err == nil {
			t.Fatal("forwarding through a cut link succeeded")
		}
		if n := countAlerts(t, hq.db); n != 0 {
			t.Fatalf("headquarters has %d alerts through a cut link", n)
		}
		l.cut = false
		if n, err := f.Once(t.Context()); err != nil || n != 2 {
			t.Fatalf("forwarded %d, %v; want 2", n, err)
		}
		if n, err := f.Once(t.Context()); err != nil || n != 0 {
			t.Fatalf("forwarded %d again, %v", n, err)
		}
		page := decode[AlertPage](t, hq.api(t, hq.officer, "GET", "/api/v1/sentinel/alerts?user=an.le", nil), 200)
		if page.Total != 2 || page.Items[0].NodeName != "Đại sứ quán Việt Nam tại Pháp" || page.Items[0].Node != "mission-paris" || page.Items[0].Status != StatusNew {
			t.Fatalf("headquarters lists %+v", page.Items)
		}
		if got := hq.events(t, "sentinel.receive_alert"); len(got) != 2 {
			t.Fatalf("%d receipts in headquarters' ledger, want 2", len(got))
		}
		// A forged batch (another node's name) is refused.
		if _, err := hq.svc.Receive(t.Context(), "mission-paris", []byte(`{"node":"mission-rome","alerts":[]}`)); err == nil {
			t.Fatal("a batch naming another node was taken")
		}
		if _, err := hq.svc.Receive(t.Context(), "mission-paris", []byte("{\"node\":\"mission-paris\",\"alerts\":[{\"id\":9,\"rule\":\"x\",\"user\":\"a\\u202eb\"}]}")); err == nil {
			t.Fatal("an alert with a bidi override was taken")
		}
	})
}
