package exchange

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/bus"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// syncTestRow is a request row for the writer tests.
func syncTestRow(id, state string) logRow {
	return logRow{msgID: id, direction: "in", typ: TypeRequest, peer: "mission-h01", sender: consular.String(),
		recipient: procedures.String(), service: lookupSvc.String(), contentType: requestContentType, state: state,
		msgTime: time.Now().UnixMicro(), logged: time.Now().UnixMicro(), digest: make([]byte, 32)}
}

// logRowStates returns the states of the request rows with ids, "" for
// a missing row.
func logRowStates(tb testing.TB, db *store.DB, ids ...string) []string {
	tb.Helper()
	states := make([]string, len(ids))
	for i, id := range ids {
		err := db.QueryRowContext(context.Background(), db.Rebind(`SELECT state FROM exchange_log WHERE direction = 'in' AND type = ? AND msg_id = ?`),
			int64(TypeRequest), id).Scan(&states[i])
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			tb.Fatal(err)
		}
	}
	return states
}

func TestSyncLogWriterKeepsTheFirstRowOfAnID(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newLogWriter(store.NewWriter(db, nil), newLogSQL(db), slog.Default(), 16, 8, time.Millisecond)
		a, b := NewMessageID(time.Now()), NewMessageID(time.Now())
		w.add(syncTestRow(a, "answered"), syncTestRow(b, "answered"), syncTestRow(a, "refused"))
		if err := w.flush(testCtx()); err != nil {
			t.Fatal(err)
		}
		w.add(syncTestRow(b, "failed"))
		if err := w.flush(testCtx()); err != nil {
			t.Fatal(err)
		}
		if got := logRowStates(t, db, a, b); !slices.Equal(got, []string{"answered", "answered"}) {
			t.Errorf("states %q, want the first rows' [answered answered]", got)
		}
	})
}

func TestSyncLogWriterMakesWritersWaitWhenFullAndFlushes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// Rows wait an hour for a commit unless someone flushes.
		const capacity = 4
		w := newLogWriter(store.NewWriter(db, nil), newLogSQL(db), slog.Default(), capacity, 2*capacity, time.Hour)
		ids := make([]string, capacity+1)
		for i := range ids {
			ids[i] = NewMessageID(time.Now())
		}
		for _, id := range ids[:capacity] {
			w.add(syncTestRow(id, "answered"))
		}
		added := make(chan struct{})
		go func() {
			w.add(syncTestRow(ids[capacity], "answered"))
			close(added)
		}()
		select {
		case <-added:
			t.Fatal("a row was queued past the queue's capacity")
		case <-time.After(100 * time.Millisecond):
		}
		if got := logRowStates(t, db, ids...); slices.ContainsFunc(got, func(s string) bool { return s != "" }) {
			t.Fatalf("rows committed before the interval or a flush: %q", got)
		}
		if err := w.flush(testCtx()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-added:
		case <-time.After(10 * time.Second):
			t.Fatal("the waiting writer was not let in by the flush")
		}
		if err := w.flush(testCtx()); err != nil {
			t.Fatal(err)
		}
		if got := logRowStates(t, db, ids...); slices.Contains(got, "") {
			t.Errorf("states after the flushes %q, want every row", got)
		}

		// A flush that cannot finish in time says so.
		w.add(syncTestRow(NewMessageID(time.Now()), "answered"))
		ctx, cancel := context.WithCancel(testCtx())
		cancel()
		if err := w.flush(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("flush with an ended context: %v", err)
		}
		if err := w.flush(testCtx()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestServeRequestsFlushesTheLogOnItsWayOut(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	// Rows wait an hour for a commit unless someone flushes.
	tn.hq.msglog = newLogWriter(tn.hq.writer, tn.hq.logSQL, slog.Default(), syncLogQueue, syncLogBatch, time.Hour)
	backend := httptest.NewServer(&gwBackend{})
	t.Cleanup(backend.Close)
	self := ServiceID{ClientID: procedures, Service: "self-lookup", Version: "v1"}
	tn.publish(t, func(c *GlobalConf) {
		c.Services = append(c.Services, Service{ID: self, Kind: KindREST, Title: "Self", Backend: backend.URL, MaxLevel: authz.Secret})
		c.Rights = append(c.Rights, Right{Service: self, Client: procedures})
	})
	tn.hq.Attach(openBus(t, bus.Options{ServerName: "hq", JetStreamDomain: "hq"}))
	stop := serveRequests(t, tn.hq.Node)
	var resp *Response
	waitFor(t, 15*time.Second, "headquarters to answer its own calls", func() bool {
		var err error
		resp, err = tn.hq.Call(testCtx(), procedures, &Request{Service: self, Method: http.MethodGet, Path: "/flush"})
		return err == nil
	})
	if got := logRowStates(t, tn.hq.db, resp.MessageID); got[0] != "" {
		t.Fatalf("row committed before the interval or a flush: %q", got[0])
	}
	stop()
	if got := logRowStates(t, tn.hq.db, resp.MessageID); got[0] != "answered" {
		t.Errorf("provider's row after ServeRequests returned: %q, want answered", got[0])
	}
}
