package exchange

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
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
