package exchange

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"chancery/internal/dlp"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// Every message passes data-loss prevention in Send, before it is
// queued: the default policy blocks a marked message to a member outside
// the ministry (the test's mission member is not a .G12 one), lets it go
// to the ministry's own, and holds 60 identity numbers whatever the
// destination. An allowed message goes on to the transport (stopped
// here, so its refusal is ErrTransportStopped).
func TestSendPassesDataLossPrevention(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { testSendPassesDLP(t, d) })
	}
}

func testSendPassesDLP(t *testing.T, d store.Dialect) {
	tn := newTestNet(t, d)
	ctx := context.Background()
	for _, n := range []*testNode{tn.hq, tn.mission} {
		svc, err := dlp.NewService(dlp.Options{DB: n.db, Recorder: n.ledger})
		if err != nil {
			t.Fatal(err)
		}
		n.opts.Egress = svc.Gate(dlp.WayExchange)
	}
	marked := []byte("TỐI MẬT\nBáo cáo tình hình")
	if _, err := tn.hq.Send(ctx, Outgoing{From: procedures, To: noticeSvc, ContentType: "text/plain", Payload: marked}); !dlp.IsBlocked(err) {
		t.Errorf("a marked message to another member: %v, want blocked", err)
	}
	if _, err := tn.mission.Send(ctx, Outgoing{From: consular, To: reportSvc, ContentType: "text/plain", Payload: marked}); !errors.Is(err, ErrTransportStopped) {
		t.Errorf("a marked message to the ministry's own member: %v, want it past DLP", err)
	}
	var ids strings.Builder
	for i := range 60 {
		fmt.Fprintf(&ids, "0790850%05d\n", i)
	}
	if _, err := tn.mission.Send(ctx, Outgoing{From: consular, To: reportSvc, ContentType: "text/csv", Payload: []byte(ids.String())}); !dlp.IsHeld(err) {
		t.Errorf("60 identity numbers: %v, want held", err)
	}
}
