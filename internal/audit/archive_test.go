package audit

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"gocloud.dev/blob"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestArchiveKeepsProofsAndVerification(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		bucket := memBucket(t)
		l := mustLedger(t, db, mustRing(t), Options{Archive: bucket})
		appendEvents(t, l, 0, 30)
		if _, err := l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		for _, upTo := range []uint64{12, 20, 20} {
			if _, err := l.Archive(ctx, upTo); err != nil {
				t.Fatalf("Archive(%d): %v", upTo, err)
			}
		}
		var rows int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_events").Scan(&rows); err != nil || rows != 10 {
			t.Errorf("%d rows left, want 10 (%v)", rows, err)
		}
		r, err := l.Verify(ctx, nil)
		if err != nil || r.Archived != 20 || r.Size != 30 {
			t.Fatalf("Verify = %+v, %v; want 30 events, 20 of them archived", r, err)
		}
		e, err := l.Event(ctx, 13)
		if err != nil || e.Seq != 13 || !sameEvent(e, testEvent(13)) {
			t.Errorf("Event(13) from the archive = %+v, %v", e, err)
		}
		p, err := l.InclusionProof(ctx, 13, 30)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := e.LeafHash()
		if err := VerifyInclusion(leaf, 13, 30, p, r.Root); err != nil {
			t.Errorf("the archived event's proof: %v", err)
		}
	})
}

func TestVerifyChecksTheArchive(t *testing.T) {
	tests := []struct {
		name    string
		alter   func(lines [][]byte) [][]byte
		seq     uint64
		problem string
	}{
		{"line edited", func(lines [][]byte) [][]byte {
			lines[4] = bytes.Replace(lines[4], []byte(`"outcome":"allowed"`), []byte(`"outcome":"denied"`), 1)
			return lines
		}, 4, "archive was altered"},
		{"line deleted", func(lines [][]byte) [][]byte { return append(lines[:3], lines[4:]...) }, 3, "is missing"},
		{"line truncated", func(lines [][]byte) [][]byte { lines[2] = lines[2][:10]; return lines }, 2, "does not decode"},
		{"unknown field added", func(lines [][]byte) [][]byte {
			lines[7] = bytes.Replace(lines[7], []byte(`{`), []byte(`{"note":"x",`), 1)
			return lines
		}, 7, "does not decode"},
		{"last lines cut", func(lines [][]byte) [][]byte { return lines[:9] }, 9, "missing from its archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			bucket := memBucket(t)
			l := mustLedger(t, storetest.MustOpen(t, store.SQLite), mustRing(t), Options{Archive: bucket})
			appendEvents(t, l, 0, 15)
			if _, err := l.Archive(ctx, 12); err != nil {
				t.Fatal(err)
			}
			key := archiveKey(0, 12)
			data, err := bucket.ReadAll(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			lines := tt.alter(bytes.SplitAfter(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")))
			if err := bucket.WriteAll(ctx, key, bytes.Join(lines, nil), nil); err != nil {
				t.Fatal(err)
			}
			_, err = l.Verify(ctx, nil)
			var te *TamperError
			if !errors.As(err, &te) || te.Seq != tt.seq || !strings.Contains(te.Problem, tt.problem) {
				t.Errorf("Verify = %v; want event %d and %q", err, tt.seq, tt.problem)
			}
		})
	}
}

func TestArchiveRefuses(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t, store.SQLite)
	bucket := memBucket(t)
	l := mustLedger(t, db, mustRing(t), Options{Archive: bucket})
	appendEvents(t, l, 0, 10)
	noBucket := mustLedger(t, db, mustRing(t), Options{})
	if _, err := noBucket.Archive(ctx, 5); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Archive without a bucket = %v, want ErrInvalid", err)
	}
	if _, err := l.Archive(ctx, 11); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Archive beyond the tree = %v, want ErrInvalid", err)
	}
	mustExec(t, db, "UPDATE audit_events SET reason = 'changed' WHERE seq = 3")
	if _, err := l.Archive(ctx, 5); err == nil || !strings.Contains(err.Error(), "event 3") {
		t.Errorf("Archive of a tampered range = %v, want a refusal naming event 3", err)
	}
	if n := countBlobs(t, bucket); n != 0 {
		t.Errorf("%d archive files written for a refused range", n)
	}
}

func countBlobs(t *testing.T, b *blob.Bucket) int {
	t.Helper()
	n := 0
	it := b.List(nil)
	for {
		if _, err := it.Next(context.Background()); err != nil {
			return n
		}
		n++
	}
}

// memBucket returns blob storage in memory, closed when t ends.
func memBucket(t *testing.T) *blob.Bucket {
	t.Helper()
	b, err := store.OpenBucket(context.Background(), "mem://", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
