package exchange

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/bus"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestReplayWindowTakesEachSequenceNumberOnce(t *testing.T) {
	now := time.Now()
	type step struct {
		seq    uint64
		reason Reason // "" if taken
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{1, ""}, {2, ""}, {3, ""}}},
		{"out of order within the window", []step{{5, ""}, {2, ""}, {4, ""}, {1, ""}, {3, ""}, {6, ""}}},
		{"duplicate", []step{{1, ""}, {2, ""}, {1, ReasonReplay}, {2, ReasonReplay}, {3, ""}}},
		{"duplicate of the newest", []step{{7, ""}, {7, ReasonReplay}}},
		{"too old", []step{{replayWindowSize + 10, ""}, {10, ReasonReplay}, {11, ""}}},
		{"older than the window though never seen", []step{{1, ""}, {replayWindowSize + 1, ""}, {2, ""}, {1, ReasonReplay}}},
		{"a jump past the window forgets all bits", []step{{3, ""}, {3 + 2*replayWindowSize, ""}, {3 + replayWindowSize + 1, ""}, {3 + replayWindowSize + 1, ReasonReplay}}},
		{"a jump within the window clears the bits it passes", []step{{3, ""}, {3 + replayWindowSize - 1, ""}, {3 + replayWindowSize + 2, ""},
			{3 + replayWindowSize, ""}, {3 + replayWindowSize, ReasonReplay}}},
		{"zero", []step{{0, ReasonMalformed}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newReplayWindow(now)
			for i, st := range tt.steps {
				err := w.accept(st.seq, now)
				var re *RefusedError
				switch {
				case st.reason == "" && err != nil:
					t.Fatalf("step %d: seq %d refused: %v", i, st.seq, err)
				case st.reason != "" && (!errors.As(err, &re) || re.Reason != st.reason):
					t.Fatalf("step %d: seq %d: %v, want a %s refusal", i, st.seq, err, st.reason)
				}
			}
		})
	}
}

// sealTestRequest seals a request frame from the mission to
// headquarters' lookup service under s, dated at.
func sealTestRequest(s *Session, at time.Time) ([]byte, *Envelope) {
	e := &Envelope{Header: Header{ID: NewMessageID(time.Now()), Type: TypeRequest, Sender: consular, Recipient: procedures, Service: lookupSvc,
		Time: at.UTC(), Level: authz.Unclassified, ContentType: requestContentType}}
	e.Payload = encodeRequest(&Request{Method: http.MethodGet, Path: "/x"}, time.Second)
	wire, _ := SealRequest(s, e)
	return wire, e
}

func TestSessionWindowsAreForgottenOnlyWhenReplaysWouldBeStale(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	conf, _ := tn.hq.Conf()
	hqInfo, _ := conf.Node("hq")
	var clock atomic.Int64 // headquarters' clock runs ahead of the real one by this
	tn.hq.now = func() time.Time { return time.Now().Add(time.Duration(clock.Load())) }
	tn.hq.incoming = newSessionCache(1)
	newSession := func() *Session {
		s, err := NewSession("mission-h01", tn.mission.ring.Signer(), hqInfo, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	open := func(wire []byte) (*Session, *Envelope, error) {
		s, e, _, err := OpenRequest(wire, tn.hq.openSession(conf))
		return s, e, err
	}

	first := newSession()
	f1, _ := sealTestRequest(first, time.Now())
	firstOpened, _, err := open(f1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := open(f1); !isRefusal(err, ReasonReplay) {
		t.Fatalf("replay under the cached session: %v, want a replay refusal", err)
	}

	// The cache is full of a session whose window is needed: a new
	// session is not taken, rather than forget the window.
	second := newSession()
	f2, _ := sealTestRequest(second, time.Now())
	if _, _, err := open(f2); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("new session with the cache full of recent windows: %v, want unavailable", err)
	}

	// Once the first session has been idle for replayMemory, it is
	// evicted, and a frame that raced with the eviction is not taken.
	clock.Store(int64(replayMemory))
	f2, _ = sealTestRequest(second, tn.hq.now())
	if _, _, err := open(f2); err != nil {
		t.Fatalf("new session after the old one went idle: %v", err)
	}
	if err := firstOpened.recv.accept(99, time.Now()); !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("frame on an evicted window: %v, want unavailable", err)
	}

	// The replayed frame re-opens its session with a fresh window, and
	// the freshness check refuses it.
	clock.Store(int64(replayMemory) + 2*int64(replayMemory))
	s, e, err := open(f1)
	if err != nil {
		t.Fatalf("re-opened session: %v", err)
	}
	if _, _, err := tn.hq.checkRequest(conf, s, e); !isRefusal(err, ReasonStale) {
		t.Fatalf("replay on a re-opened session: %v, want a stale refusal", err)
	}
}

func isRefusal(err error, reason Reason) bool {
	var re *RefusedError
	return errors.As(err, &re) && re.Reason == reason
}

// A request frame is taken once by the whole node, whichever replicas it
// is delivered to and however many at once: a frame replayed to a second
// replica is refused as a replay, of identical frames sent to both
// replicas at once exactly one reaches the backend, and when the shared
// anti-replay bucket cannot be reached a frame is refused as unavailable,
// not taken.
func TestARequestFrameIsTakenOnceAcrossReplicas(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			tn := newTestNet(t, d)
			var calls atomic.Int64
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				io.WriteString(w, "{}") //nolint:errcheck // test backend
			}))
			t.Cleanup(backend.Close)
			tn.publish(t, func(c *GlobalConf) { setGwBackend(c, lookupSvc, backend.URL) })
			first := openBus(t, bus.Options{ServerName: "hq", JetStreamDomain: tn.hq.Domain(), Port: bus.AnyPort})
			tn.hq.Attach(first)
			ctx := testCtx()
			ledger, err := audit.New(ctx, tn.hq.db, tn.hq.ring, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ledger.Close() })
			second, err := OpenNode(ctx, tn.hq.db, tn.hq.ring, ledger, NodeOptions{Role: RoleHQ, ID: "hq", Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			second.Attach(openBus(t, bus.Options{URL: first.Conn().ConnectedUrl(), JetStreamDomain: tn.hq.Domain()}))
			replicas := []*Node{tn.hq.Node, second}

			conf, _ := tn.hq.Conf()
			hqInfo, _ := conf.Node("hq")
			s, err := NewSession("mission-h01", tn.mission.ring.Signer(), hqInfo, time.Now(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			outcome := func(n *Node, wire []byte) string {
				_, _, out := n.answer(ctx, wire)
				return out
			}

			wire, _ := sealTestRequest(s, time.Now())
			if got := outcome(replicas[0], wire); got != "ok" {
				t.Fatalf("first delivery: %s, want ok", got)
			}
			if got := outcome(replicas[1], wire); got != "refused" {
				t.Fatalf("the same frame replayed to the other replica: %s, want refused", got)
			}

			const rounds = 8
			for i := range rounds {
				wire, _ := sealTestRequest(s, time.Now())
				var outs [2]string
				var wg sync.WaitGroup
				for j, n := range replicas {
					wg.Go(func() { outs[j] = outcome(n, wire) })
				}
				wg.Wait()
				if slices.Sort(outs[:]); outs != [2]string{"ok", "refused"} {
					t.Fatalf("round %d: one frame sent to both replicas at once: %v, want exactly one ok and one refused", i, outs)
				}
			}
			if got := calls.Load(); got != 1+rounds {
				t.Fatalf("the backend was called %d times, want %d (once per frame)", got, 1+rounds)
			}

			// The bus goes: the second replica cannot claim a frame,
			// and does not take it.
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			wire, _ = sealTestRequest(s, time.Now())
			reply, _, out := second.answer(ctx, wire)
			if _, unavailable, _, _ := decodeReply(reply); out != "error" || !strings.Contains(unavailable, sharedReplayBucket) {
				t.Fatalf("a frame while the bus is down: %s %q, want an error naming the shared anti-replay bucket", out, unavailable)
			}
			if got := calls.Load(); got != 1+rounds {
				t.Fatalf("the backend was called while the anti-replay bucket was unreachable")
			}
		})
	}
}

// A claim in the replicas' shared bucket may take a third of the caller's
// budget, no less than 2 s (a request that states none, or a small one)
// and no more than 10 s, so that a slow quorum of NATS servers costs the
// caller time, not a refusal, and the backend keeps most of the budget.
func TestAClaimMayTakeAThirdOfTheCallersBudget(t *testing.T) {
	for _, tc := range []struct{ budget, want time.Duration }{
		{0, 2 * time.Second},
		{time.Second, 2 * time.Second},
		{9 * time.Second, 3 * time.Second},
		{DefaultCallTimeout, 10 * time.Second},
		{time.Hour, 10 * time.Second},
	} {
		if got := claimTimeout(tc.budget); got != tc.want {
			t.Errorf("claimTimeout(%s) = %s, want %s", tc.budget, got, tc.want)
		}
	}
}
