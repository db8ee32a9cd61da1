package procedures

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"runtime"
	"testing"

	"gocloud.dev/blob"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// blobCount counts every file in the fixture's blob storage, a write's
// temporary file included.
func (f *fixture) blobCount(t testing.TB) int {
	t.Helper()
	n := 0
	it := f.svc.opts.Bucket.List(nil)
	for {
		_, err := it.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// scanReader is a PDF of size bytes made as it is read, so that a test's
// own memory holds none of it; read counts what was read.
type scanReader struct {
	size, read int64
	tail       []byte // what the file ends with; none is not a PDF's end
}

func (s *scanReader) Read(p []byte) (int, error) {
	if s.read == s.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), s.size-s.read))
	for i := range p[:n] {
		at := s.read + int64(i)
		switch {
		case at < 8:
			p[i] = "%PDF-1.7"[at]
		case at >= s.size-int64(len(s.tail)):
			p[i] = s.tail[at-(s.size-int64(len(s.tail)))]
		default:
			p[i] = byte(at)
		}
	}
	s.read += int64(n)
	return n, nil
}

// allocated returns the bytes fn allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestStoreUploadStreamsAFileWithoutHoldingIt pins issue 14's seventh
// finding at its root: a file was read whole into memory (a buffer, then
// its sealed copy) before it was stored. StoreUpload now checks, hashes
// and seals it as it streams into blob storage: storing the largest file
// allowed allocates a small fraction of it, a file over the limit is
// refused having read just past the limit, and a refused file, early
// (its type) or late (too large, cut short), leaves nothing stored.
func TestStoreUploadStreamsAFileWithoutHoldingIt(t *testing.T) {
	f := newFixture(t, storetest.MustOpen(t, store.SQLite))
	ctx := context.Background()
	eof := []byte("\n%%EOF\n")

	var up Upload
	var err error
	whole := &scanReader{size: MaxAttachmentBytes, tail: eof}
	if n := allocated(func() { up, err = f.svc.StoreUpload(ctx, "paper", "scan.pdf", "application/pdf", whole) }); err != nil || n > 2<<20 {
		t.Fatalf("storing a %d MiB file: %v, having allocated %d KiB; want success within 2 MiB", MaxAttachmentBytes>>20, err, n>>10)
	}
	if up.stored == nil || up.size() != MaxAttachmentBytes || up.MediaType != MediaPDF || f.blobCount(t) != 1 {
		t.Fatalf("stored upload %+v, %d blobs; want one PDF of %d bytes", up, f.blobCount(t), MaxAttachmentBytes)
	}
	// What was stored opens to what was sent.
	content, err := f.svc.readBlob(ctx, Attachment{blobKey: up.stored.key, SHA256: up.SHA256, Size: up.size()})
	if err != nil || int64(len(content)) != MaxAttachmentBytes {
		t.Fatalf("reading the stored file back: %d bytes, %v", len(content), err)
	}
	f.svc.DiscardUploads(ctx, []Upload{up})
	if n := f.blobCount(t); n != 0 {
		t.Fatalf("DiscardUploads left %d blobs", n)
	}

	huge := &scanReader{size: 1 << 30, tail: eof}
	if n := allocated(func() { _, err = f.svc.StoreUpload(ctx, "paper", "scan.pdf", "", huge) }); !errors.Is(err, errs.ErrTooLarge) || n > 2<<20 {
		t.Errorf("a 1 GiB file: %v, having allocated %d KiB; want errs.ErrTooLarge within 2 MiB", err, n>>10)
	}
	if huge.read > MaxAttachmentBytes+64<<10 {
		t.Errorf("a 1 GiB file was read for %d bytes before its refusal; want little past %d", huge.read, MaxAttachmentBytes)
	}
	refused := []struct {
		name, file, declared string
		r                    io.Reader
		want                 string
	}{
		{"a type lie: a PNG named as a PDF", "scan.pdf", "application/pdf", bytes.NewReader(pngFile), "extension"},
		{"not a file of the three types", "scan.pdf", "", bytes.NewReader([]byte("MZ\x90\x00 a program")), "type"},
		{"a PDF cut short after 5 MiB", "scan.pdf", "", &scanReader{size: 5 << 20}, "truncated"},
		{"empty", "scan.pdf", "", bytes.NewReader(nil), "empty"},
	}
	for _, tt := range refused {
		_, err := f.svc.StoreUpload(ctx, "paper", tt.file, tt.declared, tt.r)
		if ue, ok := errors.AsType[*UploadError](err); !ok || ue.Reason != tt.want {
			t.Errorf("%s: %v, want the UploadError %q", tt.name, err, tt.want)
		}
	}
	if n := f.blobCount(t); n != 0 {
		t.Errorf("refused files left %d blobs", n)
	}
}

// TestAttachmentsSealedWholeStillOpen pins that the attachments stored
// before uploads streamed (sealed whole, the keyring's format 1) stay
// readable now that files are sealed as streams.
func TestAttachmentsSealedWholeStillOpen(t *testing.T) {
	f := newFixture(t, storetest.MustOpen(t, store.SQLite))
	ctx := context.Background()
	key := "procedures/dossier/000.00.03.G12/ab/ab01"
	sealed, err := f.svc.opts.Ring.Seal(ctx, keyPurpose, pdfFile, []byte("blob:"+key))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.opts.Bucket.WriteAll(ctx, key, sealed, &blob.WriterOptions{ContentType: "application/octet-stream"}); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pdfFile)
	got, err := f.svc.readBlob(ctx, Attachment{blobKey: key, SHA256: sum[:], Size: int64(len(pdfFile))})
	if err != nil || !bytes.Equal(got, pdfFile) {
		t.Fatalf("an attachment sealed whole: %q, %v", got, err)
	}
}

// TestAFailedStepLeavesNoFileStored pins that files stored as they
// streamed in go when the step that would list them fails: a supplement
// refused in its transaction (the dossier is not waiting for documents),
// and a submission the service refuses after the files arrived.
func TestAFailedStepLeavesNoFileStored(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		ctx := a.as(a.clerk)
		store := func() Upload {
			up, err := a.svc.StoreUpload(ctx, "paper", "scan.pdf", "", bytes.NewReader(pdf))
			if err != nil {
				t.Fatal(err)
			}
			return up
		}
		d, err := a.svc.Submit(ctx, a.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelInPerson,
			Form: legalizationForm(), Attachments: []Upload{store()}})
		if err != nil {
			t.Fatal(err)
		}
		if n := a.blobCount(t); n != 1 {
			t.Fatalf("a dossier with one file: %d blobs", n)
		}
		if _, err := a.svc.Supplement(ctx, a.clerk, d.Code, "", []Upload{store(), store()}); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("a supplement the dossier does not wait for = %v, want errs.ErrConflict", err)
		}
		bad := legalizationForm()
		delete(bad, "document_name")
		if _, err := a.svc.Submit(ctx, a.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelInPerson,
			Form: bad, Attachments: []Upload{store()}}); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a submission with a bad form = %v, want errs.ErrInvalid", err)
		}
		if n, m := a.blobCount(t), a.count(t, "dossier_attachments"); n != 1 || m != 1 {
			t.Errorf("after the failed steps: %d blobs and %d attachment rows, want the dossier's one", n, m)
		}
		// Through the API: files before a dossier part that is refused,
		// and a good file followed by one too large.
		for _, parts := range [][]apiPart{
			{{name: "attachment.paper", filename: "a.pdf", content: pdf}, {name: "attachment.paper", filename: "b.pdf", content: pdf}, apiDossierJSON(t, map[string]any{"procedure_code": "1.900001"})},
			{apiDossierJSON(t, apiClerkEntry()), {name: "attachment.paper", filename: "a.pdf", content: pdf}, {name: "attachment.paper", filename: "big.pdf", content: apiPDF(MaxAttachmentBytes + 1)}},
		} {
			ct, body := apiMultipart(t, parts...)
			if rec := a.call(t, a.clerk, "POST", "/api/v1/dossiers", ct, body); rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("a refused submission = %d: %s", rec.Code, rec.Body)
			}
		}
		if n, m := a.blobCount(t), a.count(t, "dossier_attachments"); n != 1 || m != 1 {
			t.Errorf("after refused submissions: %d blobs and %d attachment rows, want the dossier's one", n, m)
		}
	})
}
