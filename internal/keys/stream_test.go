package keys_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"chancery/internal/keys"
)

// sealStream seals plain through a SealWriter, written in writes of
// step bytes.
func sealStream(t *testing.T, r *keys.Ring, purpose string, plain, ad []byte, step int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := r.SealWriter(context.Background(), purpose, &out, ad)
	if err != nil {
		t.Fatal(err)
	}
	for p := plain; len(p) > 0; {
		n := min(step, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// openStream reads a stream through OpenReader to its end.
func openStream(r *keys.Ring, purpose string, ct, ad []byte) ([]byte, error) {
	pr, err := r.OpenReader(context.Background(), purpose, bytes.NewReader(ct), ad)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(iotest.HalfReader(pr))
}

func TestStreamRoundTripsAtEverySizeAroundAChunk(t *testing.T) {
	r := MustLoad(t, memOptions())
	ad := []byte("blob:procedures/files/ab/abcdef")
	for _, size := range []int{0, 1, keys.StreamChunk - 1, keys.StreamChunk, keys.StreamChunk + 1, 3 * keys.StreamChunk, 3*keys.StreamChunk + 17} {
		for _, step := range []int{1 << 30, 1000, keys.StreamChunk} {
			plain := make([]byte, size)
			rand.Read(plain)
			ct := sealStream(t, r, keys.PurposeProcedures, plain, ad, step)
			chunks := max(1, (size+keys.StreamChunk-1)/keys.StreamChunk)
			if want := 1 + 4 + 32 + size + chunks*16; len(ct) != want {
				t.Errorf("%d bytes sealed in writes of %d: %d bytes of ciphertext, want %d", size, step, len(ct), want)
			}
			got, err := openStream(r, keys.PurposeProcedures, ct, ad)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("%d bytes sealed in writes of %d: OpenReader gave %d bytes, %v", size, step, len(got), err)
			}
			if got, err := r.Open(context.Background(), keys.PurposeProcedures, ct, ad); err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("%d bytes: Open of a stream gave %d bytes, %v", size, len(got), err)
			}
		}
	}
}

func TestOpenReaderStillOpensWhatSealSealed(t *testing.T) {
	r := MustLoad(t, memOptions())
	plain := bytes.Repeat([]byte("scan "), 10_000)
	ct, err := r.Seal(context.Background(), keys.PurposeProcedures, plain, []byte("blob:k"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := openStream(r, keys.PurposeProcedures, ct, []byte("blob:k"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("OpenReader of a format 1 ciphertext: %d bytes, %v", len(got), err)
	}
	if _, err := openStream(r, keys.PurposeProcedures, ct, []byte("blob:other")); !errors.Is(err, keys.ErrCorrupt) {
		t.Fatalf("OpenReader of a format 1 ciphertext with other additional data: %v, want ErrCorrupt", err)
	}
}

func TestStreamRefusesTamperingTruncationAndSplicing(t *testing.T) {
	r := MustLoad(t, memOptions())
	ad := []byte("blob:k")
	plain := make([]byte, 2*keys.StreamChunk+100)
	rand.Read(plain)
	ct := sealStream(t, r, keys.PurposeProcedures, plain, ad, 1<<30)
	other := sealStream(t, r, keys.PurposeProcedures, plain, ad, 1<<30)
	full := 16 + keys.StreamChunk // a sealed chunk
	head := 1 + 4 + 32
	bad := map[string][]byte{
		"cut after the first chunk":  ct[:head+full],
		"cut after the second chunk": ct[:head+2*full],
		"cut within the final chunk": ct[:len(ct)-1],
		"cut after the header":       ct[:head],
		"cut within the header":      ct[:10],
		"byte appended":              append(bytes.Clone(ct), 0),
		"chunks swapped":             concat(ct[:head], ct[head+full:head+2*full], ct[head:head+full], ct[head+2*full:]),
		"first chunk of another":     concat(ct[:head], other[head:head+full], ct[head+full:]),
		"final chunk dropped":        ct[:head+2*full],
		"salt changed":               flip(ct, 6),
		"version changed":            flip(ct, 4),
		"tag of the final chunk":     flip(ct, len(ct)-1),
		"a byte of the middle chunk": flip(ct, head+full+500),
		"another stream's header":    concat(other[:head], ct[head:]),
		"sealed for another purpose": sealStream(t, r, keys.PurposeRecords, plain, ad, 1<<30),
		"sealed with other data":     sealStream(t, r, keys.PurposeProcedures, plain, []byte("blob:j"), 1<<30),
		"an unknown format":          concat([]byte{9}, ct[1:]),
		"nothing":                    nil,
	}
	for name, ct := range bad {
		if got, err := openStream(r, keys.PurposeProcedures, ct, ad); !errors.Is(err, keys.ErrCorrupt) {
			t.Errorf("%s: OpenReader gave %d bytes, %v; want ErrCorrupt", name, len(got), err)
		}
		if _, err := r.Open(context.Background(), keys.PurposeProcedures, ct, ad); !errors.Is(err, keys.ErrCorrupt) {
			t.Errorf("%s: Open gave %v; want ErrCorrupt", name, err)
		}
	}
}

func TestStreamOpensAfterRotation(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	plain := []byte("before the rotation")
	ct := sealStream(t, r, keys.PurposeProcedures, plain, nil, 1<<30)
	if _, err := r.Rotate(ctx, keys.PurposeProcedures); err != nil {
		t.Fatal(err)
	}
	if v, err := keys.CiphertextVersion(ct); err != nil || v != 1 {
		t.Fatalf("CiphertextVersion = %d, %v; want 1", v, err)
	}
	if got, err := openStream(r, keys.PurposeProcedures, ct, nil); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("after Rotate: %q, %v", got, err)
	}
	ct2 := sealStream(t, r, keys.PurposeProcedures, plain, nil, 1<<30)
	if v, _ := keys.CiphertextVersion(ct2); v != 2 {
		t.Fatalf("a stream sealed after Rotate names version %d, want 2", v)
	}
}

func TestSealWriterReportsTheWritersError(t *testing.T) {
	r := MustLoad(t, memOptions())
	failing := errors.New("disk full")
	w, err := r.SealWriter(context.Background(), keys.PurposeProcedures, &failAfter{n: 100, err: failing}, nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3*keys.StreamChunk)
	if _, err := w.Write(buf); !errors.Is(err, failing) {
		t.Fatalf("Write = %v, want the writer's error", err)
	}
	if err := w.Close(); !errors.Is(err, failing) {
		t.Fatalf("Close = %v, want the writer's error", err)
	}
	if _, err := r.SealWriter(context.Background(), "nope", io.Discard, nil); !errors.Is(err, keys.ErrUnknownPurpose) {
		t.Fatalf("SealWriter of an unknown purpose: %v", err)
	}
}

type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		return 0, f.err
	}
	f.n -= len(p)
	return len(p), nil
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}
