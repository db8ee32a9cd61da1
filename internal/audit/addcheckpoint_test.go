package audit

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

const parisWitness = "chancery.mofa.gov.vn/witness/paris"

// witnessServer serves w's add-checkpoint over HTTP and returns the
// ledger's peer for it, with the witness's cosignature verifier.
func witnessServer(t *testing.T, w *Witness, ring *keys.Ring) (WitnessPeer, string) {
	t.Helper()
	rt := web.NewRouter()
	NewWitnessHandler(w.Resolver()).Register(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	client, err := NewHTTPWitness(srv.URL+WitnessPrefix, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewCosignatureVerifier(parisWitness, ring.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return WitnessPeer{Verifier: v, Client: client}, srv.URL + WitnessPrefix + "/add-checkpoint"
}

// post sends body to the witness and returns the status, content type
// and body of its answer.
func post(t *testing.T, url string, body []byte) (int, string, string) {
	t.Helper()
	res, err := http.Post(url, "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body) //nolint:errcheck // a short read fails the comparisons
	return res.StatusCode, res.Header.Get("Content-Type"), b.String()
}

// The ledger pushes each new checkpoint to its witness over the protocol's
// HTTP face; the witness cosigns after checking the proof, and the
// ledger serves the checkpoint with the cosignature. Each refusal has the
// status c2sp.org/tlog-witness gives it.
func TestWitnessCosignsOverTheTlogWitnessProtocol(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := mustLedger(t, db, mustRing(t), Options{Origin: testOrigin})
		var conflicts []Conflict
		logKey, _ := l.Verifier()
		wring := mustRing(t)
		cosigner, _ := NewCosigner(parisWitness, wring.Signer(), nil)
		w, err := NewWitness(storetest.MustOpen(t, store.SQLite), WitnessOptions{Log: logKey, Cosigner: cosigner,
			OnConflict: func(_ context.Context, c Conflict) { conflicts = append(conflicts, c) }})
		if err != nil {
			t.Fatal(err)
		}
		peer, url := witnessServer(t, w, wring)
		opts := CosignOptions{Peers: []WitnessPeer{peer}}

		for _, size := range []int{3, 9, 9, 40} {
			checkpointed(t, l, int(mustSize(t, l)), size)
			if _, err := l.Cosign(ctx, opts); err != nil {
				t.Fatalf("Cosign at size %d: %v", size, err)
			}
			cp, err := l.CosignedCheckpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := CosignatureTime(cp.Note, peer.Verifier); !ok || cp.Size != uint64(size) {
				t.Fatalf("the checkpoint served at size %d (want %d) has no valid cosignature:\n%s", cp.Size, size, cp.Note)
			}
			if _, err := ParseCheckpoint(cp.Note, logKey); err != nil {
				t.Errorf("the cosigned checkpoint no longer parses as the log's: %v", err)
			}
		}
		if got, _ := w.Latest(ctx); got.Size != 40 {
			t.Errorf("the witness's latest is size %d, want 40", got.Size)
		}

		cp, _ := l.LatestCheckpoint(ctx)
		proof, _ := l.ConsistencyProof(ctx, 9, 40)
		other, _ := NewNoteSigner(testOrigin, mustRing(t).Signer())
		forged, _ := note.Sign(&note.Note{Text: checkpointText(testOrigin, 41, cp.Root)}, other)
		foreign, _ := note.Sign(&note.Note{Text: checkpointText("example.com/log", 41, cp.Root)}, other)
		for _, c := range []struct {
			name   string
			body   []byte
			status int
		}{
			{"a stale old size", AddCheckpointRequest{OldSize: 9, Proof: proof, Checkpoint: cp.Note}.Marshal(), http.StatusConflict},
			{"the same size again", AddCheckpointRequest{OldSize: 40, Checkpoint: cp.Note}.Marshal(), http.StatusOK},
			{"an old size above the checkpoint's", AddCheckpointRequest{OldSize: 41, Checkpoint: cp.Note}.Marshal(), http.StatusBadRequest},
			{"a checkpoint signed by another key", AddCheckpointRequest{OldSize: 40, Checkpoint: forged}.Marshal(), http.StatusForbidden},
			{"another log", AddCheckpointRequest{OldSize: 0, Checkpoint: foreign}.Marshal(), http.StatusNotFound},
			{"no old size line", append([]byte("\n"), cp.Note...), http.StatusBadRequest},
			{"a proof line that is no hash", []byte("old 40\nnot base64\n\n" + string(cp.Note)), http.StatusBadRequest},
			{"NUL and CR LF", []byte("old 4\x000\r\n\r\n" + string(cp.Note)), http.StatusBadRequest},
			{"64 proof lines", []byte("old 40\n" + strings.Repeat("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n", 64) + "\n" + string(cp.Note)), http.StatusBadRequest},
			{"50 MiB", append([]byte("old 0\n\n"), bytes.Repeat([]byte("x"), 50<<20)...), http.StatusRequestEntityTooLarge},
		} {
			status, ctype, body := post(t, url, c.body)
			if status != c.status {
				t.Errorf("%s: status %d (%s), want %d", c.name, status, body, c.status)
			}
			if status == http.StatusConflict && (ctype != "text/x.tlog.size" || body != "40\n") {
				t.Errorf("%s: 409 answered %q as %q, want \"40\\n\" as text/x.tlog.size", c.name, body, ctype)
			}
		}
		if len(conflicts) != 0 {
			t.Errorf("refusals that prove nothing were kept as conflicts: %v", conflicts)
		}

		// A proof that does not connect the trees is refused with 422 and
		// kept as evidence: the log signed a checkpoint it cannot prove.
		checkpointed(t, l, 40, 45)
		cp, _ = l.LatestCheckpoint(ctx)
		proof, _ = l.ConsistencyProof(ctx, 40, 45)
		proof[0] = bytes.Repeat([]byte{7}, 32)
		if status, _, body := post(t, url, AddCheckpointRequest{OldSize: 40, Proof: proof, Checkpoint: cp.Note}.Marshal()); status != http.StatusUnprocessableEntity {
			t.Errorf("a wrong proof: status %d (%s), want 422", status, body)
		}
		if got, _ := w.Conflicts(ctx); len(got) != 1 || len(conflicts) != 1 {
			t.Errorf("after a wrong proof the witness keeps %d conflicts and told %d, want 1 and 1", len(got), len(conflicts))
		}
	})
}

// forkOf returns a ledger signed with ring under testOrigin that holds
// the series' events [0, common) and then others, size events in all:
// another history of the same log.
func forkOf(t *testing.T, ring *keys.Ring, common, size int) *Ledger {
	t.Helper()
	f := mustLedger(t, storetest.MustOpen(t, store.SQLite), ring, Options{Origin: testOrigin})
	appendEvents(t, f, 0, common)
	appendEvents(t, f, 1000+common, 1000+size)
	if _, err := f.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

// A fork or a rewind of headquarters' ledger is caught on both sides: the
// witness refuses to cosign and keeps the two signed checkpoints; the
// ledger keeps the witness's refusal; each side's hook raises its alert.
func TestAForkOrARewindIsCaughtOnBothSides(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ring := mustRing(t)
		l := mustLedger(t, storetest.MustOpen(t, store.SQLite), ring, Options{Origin: testOrigin})
		logKey, _ := l.Verifier()
		wring := mustRing(t)
		cosigner, _ := NewCosigner(parisWitness, wring.Signer(), nil)
		var conflicts []Conflict
		w, _ := NewWitness(db, WitnessOptions{Log: logKey, Cosigner: cosigner,
			OnConflict: func(_ context.Context, c Conflict) { conflicts = append(conflicts, c) }})
		peer, _ := witnessServer(t, w, wring)
		checkpointed(t, l, 0, 20)
		if n, err := l.Cosign(ctx, CosignOptions{Peers: []WitnessPeer{peer}}); n != 1 || err != nil {
			t.Fatalf("Cosign = %d, %v", n, err)
		}

		for _, c := range []struct {
			name         string
			common, size int
			problem      string
		}{
			{"a fork that grew", 12, 30, "rewritten"},
			{"a fork at the same size", 12, 20, "rewritten"},
			{"a rewind", 10, 10, "rewound"},
		} {
			before := len(conflicts)
			fork := forkOf(t, ring, c.common, c.size)
			var refusals []WitnessRefusal
			_, err := fork.Cosign(ctx, CosignOptions{Peers: []WitnessPeer{peer},
				OnRefusal: func(_ context.Context, r WitnessRefusal) { refusals = append(refusals, r) }})
			if !errors.Is(err, errs.ErrConflict) {
				t.Errorf("%s: Cosign = %v, want a conflict", c.name, err)
			}
			kept, _ := fork.WitnessRefusals(ctx)
			if len(refusals) != 1 || len(kept) != 1 || kept[0].Witness != parisWitness || kept[0].Size != uint64(c.size) {
				t.Errorf("%s: the ledger told %d refusals and kept %+v, want one of %s at size %d", c.name, len(refusals), kept, parisWitness, c.size)
			}
			for _, e := range []Event{refusals[0].Event(testOrigin), conflicts[len(conflicts)-1].Event(parisWitness)} {
				if err := e.Validate(); err != nil || e.Action != InconsistencyAction {
					t.Errorf("%s: the ledger event of the inconsistency %+v: %v", c.name, e, err)
				}
			}
			if len(conflicts) != before+1 || !strings.Contains(conflicts[len(conflicts)-1].Problem, c.problem) {
				t.Errorf("%s: the witness told %d conflicts (last %v), want one more saying %q", c.name, len(conflicts)-before, conflicts, c.problem)
			} else if last := conflicts[len(conflicts)-1]; !strings.Contains(string(last.Offered), "\n"+strconv.Itoa(c.size)+"\n") {
				t.Errorf("%s: the evidence kept is not the forked checkpoint:\n%s", c.name, last.Offered)
			}
		}
		if got, _ := w.Latest(ctx); got.Size != 20 {
			t.Errorf("after the forks the witness's latest is size %d, want 20 (it cosigned none of them)", got.Size)
		}
	})
}
