package exchange

import (
	"testing"
	"time"

	"chancery/internal/store"
)

// TestArrivedWakesTheNodesInboxReadersOnceTheMessageIsThere pins
// Node.Arrived: a reader waiting on it beside its poll is woken by a
// message received from another node, and finds it in its inbox then
// (the signal follows the commit); every reader hears it, and a new wait
// is not woken by what came before it.
func TestArrivedWakesTheNodesInboxReadersOnceTheMessageIsThere(t *testing.T) {
	ln := newLinkedNet(t, store.SQLite, nil)
	ln.waitLinked(t)
	ctx := testCtx()
	first, second := ln.hq.Arrived(), ln.hq.Arrived()
	id, err := ln.mission.Send(ctx, report(`{"report":1}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []<-chan struct{}{first, second} {
		select {
		case <-c:
		case <-time.After(20 * time.Second):
			t.Fatal("Arrived was not closed within 20 s of the mission's message")
		}
	}
	if got, err := ln.hq.Inbox(ctx, procedures, 0, 10); err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("the inbox when Arrived closed: %+v, %v; want message %s", got, err, id)
	}
	select {
	case <-ln.hq.Arrived():
		t.Fatal("a wait begun after the delivery was woken by it")
	default:
	}
}
