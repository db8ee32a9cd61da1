package audit

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// appendWriters is the number of concurrent writers in BenchmarkAppend.
const appendWriters = 64

// BenchmarkAppend measures durable appends by concurrent writers, group
// committed and integrated, as appends/s, and beside it the rate of
// inserting the same rows into the same table with plain batched INSERTs
// (500 rows a statement, 1,000 a transaction) as raw-inserts/s.
func BenchmarkAppend(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			db := storetest.MustOpen(b, d)
			l := mustLedger(b, db, mustRing(b), Options{})
			raw := rawInsertRate(b, db, l, max(b.N, 20000))

			b.ResetTimer()
			start := time.Now()
			var (
				next atomic.Int64
				wg   sync.WaitGroup
			)
			for range appendWriters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						if _, err := l.Append(ctx, testEvent(int(i))); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if _, err := l.Integrate(ctx); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
			b.ReportMetric(raw, "raw-inserts/s")
		})
	}
}

// rawInsertRate inserts n event rows with batched INSERTs, returns the
// rate, and deletes them again.
func rawInsertRate(b *testing.B, db *store.DB, l *Ledger, n int) float64 {
	b.Helper()
	ctx := context.Background()
	rows := make([]*pendingEvent, n)
	for i := range rows {
		p, err := l.prepare(testEvent(i))
		if err != nil {
			b.Fatal(err)
		}
		rows[i] = &p
	}
	start := time.Now()
	for i := 0; i < n; i += 1000 {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := insertEvents(ctx, tx, rows[i:min(i+1000, n)])
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(n) / time.Since(start).Seconds()
	if _, err := db.ExecContext(ctx, "DELETE FROM audit_events WHERE seq IS NULL"); err != nil {
		b.Fatal(err)
	}
	return rate
}

// benchTree returns a ledger whose tree has size synthetic leaves (no
// event rows: proofs need only the tree). SQLite databases are cached in
// os.TempDir by size, so later runs reuse them; PostgreSQL ones are
// cached for the life of the process.
func benchTree(b *testing.B, d store.Dialect, size uint64) *Ledger {
	b.Helper()
	return benchDB(b, d, fmt.Sprintf("tree-%d", size), func(ctx context.Context, db *store.DB) error {
		return buildTree(ctx, db, size)
	})
}

var (
	benchMu  sync.Mutex
	benchDBs = map[string]*store.DB{} // PostgreSQL databases built in this process, by name
)

// benchDB opens the database named name for dialect d, building it with
// build if it is not cached, and returns a ledger on it.
func benchDB(b *testing.B, d store.Dialect, name string, build func(context.Context, *store.DB) error) *Ledger {
	b.Helper()
	ctx := context.Background()
	ring := benchRing(b)
	if d == store.Postgres {
		benchMu.Lock()
		defer benchMu.Unlock()
		db := benchDBs[name]
		if db == nil {
			// Not storetest.MustOpen: the database must outlive the
			// benchmark that builds it, until the cluster stops.
			var err error
			if db, err = store.Open(ctx, storetest.MustPostgresURL(b), ""); err != nil {
				b.Fatal(err)
			}
			if err := db.Migrate(ctx, nil); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if err := build(ctx, db); err != nil {
				b.Fatal(err)
			}
			b.Logf("built %s on %s in %v", name, d, time.Since(start))
			benchDBs[name] = db
		}
		return mustLedger(b, db, ring, Options{Origin: benchOrigin})
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("chancery-audit-bench-v1-%s.db", name))
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".building"
		os.Remove(tmp)
		db, err := store.Open(ctx, "sqlite://"+tmp, "")
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Migrate(ctx, nil); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := build(ctx, db); err != nil {
			b.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			b.Fatal(err)
		}
		db.Close()
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
		os.Remove(tmp + "-wal")
		os.Remove(tmp + "-shm")
		b.Logf("built %s in %v, cached as %s", name, time.Since(start), path)
	}
	db, err := store.Open(ctx, "sqlite://"+path, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return mustLedger(b, db, ring, Options{Origin: benchOrigin})
}

// benchOrigin is the origin of benchmark ledgers, whose databases outlive
// the keyring that created them.
const benchOrigin = "chancery.mofa.gov.vn/audit/bench"

// benchRing returns a keyring with a fixed master key and signing key
// store, so cached benchmark databases keep verifying across runs.
func benchRing(b *testing.B) *keys.Ring {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "chancery-audit-bench-v1-keys")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	r, err := keys.Load(context.Background(), keys.Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// buildTree writes the nodes of a tree of size synthetic leaves directly,
// in large transactions, and records its size and root.
func buildTree(ctx context.Context, db *store.DB, size uint64) error {
	rng := rangeFactory.NewEmptyRange(0)
	const perTx = 1 << 17
	nodes := make([]node, 0, 2*perTx+64)
	visit := func(id compact.NodeID, hash []byte) { nodes = append(nodes, node{key: nodeKey(id), hash: hash}) }
	var leaf [8]byte
	for rng.End() < size {
		nodes = nodes[:0]
		for end := min(rng.End()+perTx, size); rng.End() < end; {
			binary.BigEndian.PutUint64(leaf[:], rng.End())
			if err := rng.Append(rfc6962.DefaultHasher.HashLeaf(leaf[:]), visit); err != nil {
				return err
			}
		}
		root, err := rng.GetRootHash(nil)
		if err != nil {
			return err
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if err := insertNodes(ctx, tx, nodes); err != nil {
				return err
			}
			return updateTree(ctx, tx, rng.End(), root)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkInclusionProof measures inclusion proofs for random events of
// a tree of 10 million leaves on SQLite (1 million on PostgreSQL, whose
// throwaway cluster cannot be cached between runs), reporting the median
// time of one proof.
func BenchmarkInclusionProof(b *testing.B) {
	for _, tc := range []struct {
		d    store.Dialect
		size uint64
	}{{store.SQLite, 10_000_000}, {store.Postgres, 1_000_000}} {
		b.Run(fmt.Sprintf("%s/%d", tc.d, tc.size), func(b *testing.B) {
			ctx := context.Background()
			l := benchTree(b, tc.d, tc.size)
			_, root, err := l.Head(ctx)
			if err != nil {
				b.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(1, 2))
			times := make([]time.Duration, b.N)
			var leaf [8]byte
			b.ResetTimer()
			for i := range b.N {
				seq := rnd.Uint64N(tc.size)
				start := time.Now()
				p, err := l.InclusionProof(ctx, seq, tc.size)
				times[i] = time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if i < 100 { // check a few, outside the timing
					binary.BigEndian.PutUint64(leaf[:], seq)
					if err := VerifyInclusion(rfc6962.DefaultHasher.HashLeaf(leaf[:]), seq, tc.size, p, root); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Nanoseconds())/1e3, "median-µs")
		})
	}
}

// buildEvents appends n events of the test series with batched inserts,
// integrates them and signs a checkpoint every 100,000 events.
func buildEvents(ctx context.Context, l *Ledger, n int) error {
	const perTx = 1000
	batch := make([]*pendingEvent, 0, perTx)
	for i := 0; i < n; i += perTx {
		batch = batch[:0]
		for k := i; k < min(i+perTx, n); k++ {
			p, err := l.prepare(testEvent(k))
			if err != nil {
				return err
			}
			batch = append(batch, &p)
		}
		err := l.db.InTx(ctx, func(tx *store.Tx) error {
			_, err := insertEvents(ctx, tx, batch)
			return err
		})
		if err != nil {
			return err
		}
		if end := min(i+perTx, n); end%100_000 == 0 || end == n {
			if _, err := l.Integrate(ctx); err != nil {
				return err
			}
			if _, err := l.Checkpoint(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// BenchmarkVerify measures Verify over a ledger of one million events
// with a checkpoint every 100,000, reporting seconds per verification.
func BenchmarkVerify(b *testing.B) {
	const size = 1_000_000
	for _, d := range storetest.Dialects {
		b.Run(fmt.Sprintf("%s/%d", d, size), func(b *testing.B) {
			ctx := context.Background()
			l := benchEvents(b, d, size)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				r, err := l.Verify(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				if r.Size != size || r.Checkpoints != size/100_000 {
					b.Fatalf("Verify checked %d events and %d checkpoints", r.Size, r.Checkpoints)
				}
			}
			per := time.Since(start).Seconds() / float64(b.N)
			b.ReportMetric(per, "s/verify")
			b.ReportMetric(size/per, "events/s")
		})
	}
}

// benchEvents returns a ledger of size events built by buildEvents.
func benchEvents(b *testing.B, d store.Dialect, size int) *Ledger {
	b.Helper()
	return benchDB(b, d, fmt.Sprintf("events-%d", size), func(ctx context.Context, db *store.DB) error {
		l, err := New(ctx, db, benchRing(b), Options{Origin: benchOrigin})
		if err != nil {
			return err
		}
		defer l.Close()
		return buildEvents(ctx, l, size)
	})
}
