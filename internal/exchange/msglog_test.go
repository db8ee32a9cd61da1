package exchange

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// openHQOn opens a headquarters node on db with its own keyring and
// ledger.
func openHQOn(tb testing.TB, db *store.DB) *testNode {
	tb.Helper()
	ctx := context.Background()
	ring := mustRing(tb)
	ledger, err := audit.New(ctx, db, ring, audit.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ledger.Close() })
	n, err := OpenNode(ctx, db, ring, ledger, NodeOptions{Role: RoleHQ})
	if err != nil {
		tb.Fatal(err)
	}
	return &testNode{Node: n, db: db, ring: ring, ledger: ledger}
}

// testLogRow writes the exchange_log row of e as received from peer, as the
// transport does; batch is the sender's batch id and index, if any.
func testLogRow(tb testing.TB, q store.Queryer, e *Envelope, batch []byte, index int) []byte {
	tb.Helper()
	enc := e.Encode()
	digest := Digest(enc)
	var bi any
	if batch != nil {
		bi = int64(index)
	}
	_, err := q.ExecContext(context.Background(), q.Rebind(`INSERT INTO exchange_log
		(msg_id, direction, type, peer, sender, recipient, service, level, content_type, size, msg_time_us, logged_us, digest, state, batch_id, batch_index)
		VALUES (?, 'in', ?, 'mission-h01', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'delivered', ?, ?)`),
		e.ID, int64(e.Type), e.Sender.String(), e.Recipient.String(), e.Service.String(), int64(e.Level), e.ContentType,
		len(e.Payload), e.Time.UnixMicro(), time.Now().UnixMicro(), digest, batch, bi)
	if err != nil {
		tb.Fatalf("insert log row: %v", err)
	}
	return digest
}

// signedLogEvents returns the ledger's exchange.log.signed events, oldest
// first.
func signedLogEvents(tb testing.TB, n *testNode) []audit.Event {
	tb.Helper()
	ctx := context.Background()
	if _, err := n.ledger.Integrate(ctx); err != nil {
		tb.Fatal(err)
	}
	evs, err := n.ledger.Search(ctx, audit.Query{Action: "exchange.log.signed", Limit: audit.MaxSearchLimit})
	if err != nil {
		tb.Fatal(err)
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

// checkLogEvent checks that a ledger event proves that node signed
// digests: its root is theirs and its signature verifies under the node's
// key.
func checkLogEvent(t *testing.T, n *testNode, e audit.Event, digests [][]byte) {
	t.Helper()
	root, err := merkleRoot(digests)
	if err != nil {
		t.Fatal(err)
	}
	a := e.Attrs
	if a["root"] != hex.EncodeToString(root) || a["count"] != strconv.Itoa(len(digests)) || a["node"] != n.ID() {
		t.Fatalf("event attrs %v do not describe the %d digests (root %x)", a, len(digests), root)
	}
	pub := n.ring.PublicKey()
	if a["key"] != keys.KeyID(pub) {
		t.Fatalf("event names key %s, the node's is %s", a["key"], keys.KeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(a["signature"])
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(e.ResourceID)
	if err != nil || len(raw) != 16 {
		t.Fatalf("resource id %q is not a batch id", e.ResourceID)
	}
	var id [16]byte
	copy(id[:], raw)
	if !ed25519.Verify(pub, logSigned(n.ID(), id, e.Time.UnixMicro(), len(digests), root), sig) {
		t.Fatal("the event's signature does not verify under the node's key over the digests")
	}
}

func TestSignLogRecordsVerifiableBatchesAndProofs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx()
		n := openHQOn(t, db)
		if k, err := n.SignLog(ctx); err != nil || k != 0 {
			t.Fatalf("SignLog of an empty log = %d, %v", k, err)
		}
		// An origin batch, as the sender signed it, holding the first
		// two envelopes.
		envs := make([]*Envelope, logBatchMax+5)
		for i := range envs {
			envs[i] = testEnvelope(i, nil)
		}
		originDigests := [][]byte{Digest(envs[0].Encode()), Digest(envs[1].Encode())}
		originRoot, _ := merkleRoot(originDigests)
		var originID [16]byte
		originID[0] = 0xab
		if err := insertBatch(ctx, db, originID, "in", "mission-h01", "mission-h01", "kid", originRoot, []byte("sig"), originDigests, time.Now()); err != nil {
			t.Fatal(err)
		}
		var digests [][]byte
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for i, e := range envs {
				var batch []byte
				if i < 2 {
					batch = originID[:]
				}
				digests = append(digests, testLogRow(t, tx, e, batch, i))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		p, err := n.Proof(ctx, "in", TypeMessage, envs[3].ID)
		if err != nil || p.Log != nil || p.Origin != nil {
			t.Fatalf("proof before signing = %+v, %v; want no log part yet", p, err)
		}
		// A full batch, then the rest, then nothing.
		for _, want := range []int{logBatchMax, 5, 0} {
			if k, err := n.SignLog(ctx); err != nil || k != want {
				t.Fatalf("SignLog = %d, %v; want %d", k, err, want)
			}
		}
		evs := signedLogEvents(t, n)
		if len(evs) != 2 {
			t.Fatalf("%d exchange.log.signed events, want 2", len(evs))
		}
		checkLogEvent(t, n, evs[0], digests[:logBatchMax])
		checkLogEvent(t, n, evs[1], digests[logBatchMax:])

		for _, i := range []int{0, 1, 2, 777, logBatchMax - 1, logBatchMax, logBatchMax + 4} {
			p, err := n.Proof(ctx, "in", TypeMessage, envs[i].ID)
			if err != nil {
				t.Fatalf("Proof(%d): %v", i, err)
			}
			ev := evs[i/logBatchMax]
			if p.Log == nil || p.Log.ID != ev.ResourceID || hex.EncodeToString(p.Log.Root) != ev.Attrs["root"] ||
				base64.StdEncoding.EncodeToString(p.Log.Signature) != ev.Attrs["signature"] || p.Log.Signer != n.ID() {
				t.Fatalf("Proof(%d).Log = %+v does not match ledger event %v", i, p.Log, ev.Attrs)
			}
			if p.Log.Index != uint64(i%logBatchMax) {
				t.Errorf("Proof(%d) index %d", i, p.Log.Index)
			}
			if err := VerifyBatchProof(digests[i], p.Log.Index, p.Log.Size, p.Log.Path, p.Log.Root); err != nil {
				t.Errorf("Proof(%d): log path does not verify: %v", i, err)
			}
			if i < 2 {
				if p.Origin == nil || p.Origin.Size != 2 || p.Origin.Index != uint64(i) {
					t.Fatalf("Proof(%d).Origin = %+v", i, p.Origin)
				}
				if err := VerifyBatchProof(digests[i], p.Origin.Index, p.Origin.Size, p.Origin.Path, originRoot); err != nil {
					t.Errorf("Proof(%d): origin path does not verify: %v", i, err)
				}
			} else if p.Origin != nil {
				t.Errorf("Proof(%d) has an origin but came in no batch", i)
			}
		}
		if _, err := n.Proof(ctx, "in", TypeMessage, NewMessageID(time.Now())); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("Proof of an unknown message = %v, want not found", err)
		}
		if _, err := n.Proof(ctx, "out", TypeMessage, envs[0].ID); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("Proof in the wrong direction = %v, want not found", err)
		}
	})
}

// A row that commits after SignLog read the unsigned rows, with a seq
// between the ones it read, must stay unsigned for the next batch: marking
// it signed by a batch that does not hold its digest would leave it
// without a proof for good. Only PostgreSQL allocates seqs to
// transactions that commit later.
func TestSignLogDoesNotMarkRowsItDidNotSign(t *testing.T) {
	ctx := testCtx()
	db := storetest.MustOpen(t, store.Postgres)
	n := openHQOn(t, db)
	first, late, third := testEnvelope(1, nil), testEnvelope(2, nil), testEnvelope(3, nil)
	testLogRow(t, db, first, nil, 0)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	testLogRow(t, &store.Tx{Tx: tx, Dialect: db.Dialect}, late, nil, 0)
	// Hold SignLog between its read and its update.
	if _, err := tx.ExecContext(ctx, `LOCK TABLE exchange_batches IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	testLogRow(t, db, third, nil, 0)
	done := make(chan error, 1)
	go func() {
		k, err := n.SignLog(ctx)
		if err == nil && k != 2 {
			err = errors.New("SignLog signed " + strconv.Itoa(k) + " rows, want the 2 committed ones")
		}
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO exchange_batches%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SignLog never reached the batch insert")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if k, err := n.SignLog(ctx); err != nil || k != 1 {
		t.Fatalf("second SignLog = %d, %v; want the late row", k, err)
	}
	for _, e := range []*Envelope{first, late, third} {
		p, err := n.Proof(ctx, "in", TypeMessage, e.ID)
		if err != nil || p.Log == nil {
			t.Fatalf("Proof of %s = %+v, %v", e.ID, p, err)
		}
		if err := VerifyBatchProof(p.Digest, p.Log.Index, p.Log.Size, p.Log.Path, p.Log.Root); err != nil {
			t.Fatal(err)
		}
	}
}

// The write-behind of synchronous calls signs the rows it commits in the
// same transaction, so that they are written once: after a flush they
// have their log proof, and SignLog finds nothing of them to sign.
func TestWriteBehindSignsTheRowsItCommits(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx()
		n := openHQOn(t, db)
		req := testEnvelope(1, nil)
		req.Type = TypeRequest
		resp := testEnvelope(2, nil)
		resp.ID, resp.Type = req.ID, TypeResponse // a call's two envelopes share their id
		out, err := n.sealedRow(ctx, "out", "mission-h01", req, Digest(req.Encode()), "answered", "")
		if err != nil {
			t.Fatal(err)
		}
		in, err := n.sealedRow(ctx, "in", "mission-h01", resp, Digest(resp.Encode()), "delivered", "")
		if err != nil {
			t.Fatal(err)
		}
		n.msglog.add(out, in)
		if err := n.FlushLog(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			dir string
			typ EnvelopeType
		}{{"out", TypeRequest}, {"in", TypeResponse}} {
			p, err := n.Proof(ctx, c.dir, c.typ, req.ID)
			if err != nil {
				t.Fatalf("Proof(%s, %d): %v", c.dir, c.typ, err)
			}
			if p.Log == nil || p.Log.Size != 2 {
				t.Errorf("Proof(%s, %d).Log = %+v, want a batch of the commit's 2 rows", c.dir, c.typ, p.Log)
			}
		}
		if k, err := n.SignLog(ctx); err != nil || k != 0 {
			t.Errorf("SignLog after the flush = %d, %v; want nothing left to sign", k, err)
		}
	})
}

// TestManyRowsAreSignedInTheTransactionThatWritesThem pins issue 17 item
// 7: rows the sending side marks sent, and rows the receiving side
// logs, signAtWriteMin or more at once, get their log batch and
// signature in that very transaction, so that SignLog does not write
// each row a second time; fewer are left to SignLog. Every row keeps a
// log proof that verifies. On both databases.
func TestManyRowsAreSignedInTheTransactionThatWritesThem(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			tn := newTestNet(t, d)
			ctx := testCtx()
			conf, err := tn.hq.Conf()
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{signAtWriteMin, signAtWriteMin - 1} {
				envs := make([]*Envelope, size)
				reqs := make([]*sendReq, size)
				for i := range envs {
					envs[i] = testEnvelope(i, nil)
					reqs[i] = &sendReq{out: outMsg{env: envs[i], digest: Digest(envs[i].Encode())}}
				}
				// The mission's side: pending rows, published, marked sent.
				if err := tn.mission.writeTx(ctx, func(tx *store.Tx) error { return tn.mission.logOutgoing(ctx, tx, "hq", reqs) }); err != nil {
					t.Fatal(err)
				}
				_, sb := sealTestBatch(t, tn, envs)
				msgs := make([]outMsg, size)
				for i, r := range reqs {
					msgs[i] = r.out
				}
				if err := (&transport{n: tn.mission.Node}).markSent(ctx, "hq", []sealedOut{{sb: sb, msgs: msgs}}); err != nil {
					t.Fatal(err)
				}
				// Headquarters' side: the batch opened, checked and logged.
				ob, err := OpenBatch(sb.Wire, tn.hq.openSession(conf), conf)
				if err != nil {
					t.Fatal(err)
				}
				hq := &transport{n: tn.hq.Node}
				if err := hq.logIncoming(ctx, "mission-h01", []*openedIn{hq.checkBatch(ctx, conf, "mission-h01", ob, inBatch{})}, nil); err != nil {
					t.Fatal(err)
				}
				signedAtWrite := size >= signAtWriteMin
				for _, c := range []struct {
					n   *testNode
					dir string
				}{{tn.mission, "out"}, {tn.hq, "in"}} {
					for _, e := range []*Envelope{envs[0], envs[size-1]} {
						p, err := c.n.Proof(ctx, c.dir, TypeMessage, e.ID)
						if err != nil || p.Origin == nil || (p.Log != nil) != signedAtWrite {
							t.Fatalf("%d rows: %s proof of %s = %+v, %v; want a log part: %v", size, c.dir, e.ID, p, err, signedAtWrite)
						}
						if p.Log != nil {
							if err := VerifyBatchProof(p.Digest, p.Log.Index, p.Log.Size, p.Log.Path, p.Log.Root); err != nil || p.Log.Size != uint64(size) {
								t.Errorf("%s log proof of %s (batch of %d): %v", c.dir, e.ID, p.Log.Size, err)
							}
						}
					}
					want := 0
					if !signedAtWrite {
						want = size
					}
					if k, err := c.n.SignLog(ctx); err != nil || k != want {
						t.Errorf("%d rows: SignLog on the %s side = %d, %v; want %d", size, c.dir, k, err, want)
					}
				}
			}
		})
	}
}

// runSigner runs n's log signer, with safety tick every and gather time
// gather, until the test ends.
func runSigner(t *testing.T, n *testNode, every, gather time.Duration) {
	t.Helper()
	n.msglog.signer.every = every
	ctx, cancel := context.WithCancel(testCtx())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.RunLogSigner(ctx, gather)
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, 5*time.Second, "the signer's first pass", func() bool { return n.msglog.signer.passes.Load() >= 1 })
}

// logInRow commits the log row of a received envelope through commit.
func logInRow(t *testing.T, i int, commit func(context.Context, func(*store.Tx) error) error) *Envelope {
	t.Helper()
	e := testEnvelope(i, nil)
	if err := commit(testCtx(), func(tx *store.Tx) error { testLogRow(t, tx, e, nil, 0); return nil }); err != nil {
		t.Fatal(err)
	}
	return e
}

// waitSigned waits up to d for the log row of e to be signed.
func waitSigned(t *testing.T, n *testNode, e *Envelope, d time.Duration) {
	t.Helper()
	waitFor(t, d, "message "+e.ID+" signed", func() bool {
		p, err := n.Proof(testCtx(), "in", TypeMessage, e.ID)
		return err == nil && p.Log != nil
	})
}

func TestLogSignerWaitsForCommitsNotForATick(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := openHQOn(t, db)
		// The safety tick never comes in this test.
		runSigner(t, n, time.Hour, 20*time.Millisecond)
		atRest := func(what string) {
			t.Helper()
			before := n.msglog.signer.passes.Load()
			time.Sleep(300 * time.Millisecond)
			if after := n.msglog.signer.passes.Load(); after != before {
				t.Fatalf("%s: the signer read the log %d times in 300 ms with nothing committed", what, after-before)
			}
		}
		atRest("after start")
		// A commit of this process that logs a row wakes the signer.
		e := logInRow(t, 1, n.writeTx)
		waitSigned(t, n, e, time.Second)
		atRest("after signing")
	})
}

func TestLogSignerSignsWhatAnotherReplicaLoggedAtItsTick(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := openHQOn(t, db)
		runSigner(t, n, 100*time.Millisecond, 20*time.Millisecond)
		// Committed beside this process's writer, as another replica
		// does: nothing wakes this signer but its tick.
		e := logInRow(t, 1, db.InTx)
		waitSigned(t, n, e, 2*time.Second)
	})
}
