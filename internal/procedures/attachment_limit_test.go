package procedures

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// pdfOf returns a valid PDF of exactly size bytes.
func pdfOf(size int) []byte {
	head, tail := "%PDF-1.4\n%", "\n%%EOF\n"
	return []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail)
}

// uploads returns n PDF uploads of size bytes for document key.
func uploads(n, size int, key string) []Upload {
	ups := make([]Upload, n)
	content := pdfOf(size)
	for i := range ups {
		ups[i] = Upload{DocumentKey: key, Filename: fmt.Sprintf("%s-%d.pdf", key, i), MediaType: MediaPDF, Content: content}
	}
	return ups
}

// wantTooLarge fails unless err is the limit's refusal, naming it.
func wantTooLarge(t *testing.T, what string, err error, limit string) {
	t.Helper()
	if !errors.Is(err, errs.ErrTooLarge) || !strings.Contains(err.Error(), limit) {
		t.Errorf("%s = %v, want errs.ErrTooLarge (413) naming %q", what, err, limit)
	}
}

// TestADraftHoldsAtMostTheDossierLimit pins issue 14's sixth finding on
// the draft path: 26 files on one draft became a dossier of 25, past the
// multipart submission's 10. Now the eleventh file is refused (413) and
// not stored, concurrent uploads cannot pass the limit together (counted
// inside the transaction, the draft locked), and neither can the sizes.
func TestADraftHoldsAtMostTheDossierLimit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.citizen)
		draft := func() Draft {
			d, err := f.svc.CreateDraft(ctx, f.citizen, NewDraft{Procedure: "1.900001", UnitCode: consularCode, Form: legalizationForm()})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}

		d := draft()
		for i, up := range uploads(MaxDossierFiles-2, len(pdf), "paper") {
			if _, err := f.svc.AttachToDraft(ctx, f.citizen, d.ID, up); err != nil {
				t.Fatalf("file %d: %v", i+1, err)
			}
		}
		// Six at once for the last two places.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var ok, refused int
		for _, up := range uploads(6, len(pdf), "paper_copy") {
			wg.Go(func() {
				_, err := f.svc.AttachToDraft(ctx, f.citizen, d.ID, up)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, errs.ErrTooLarge):
					refused++
				default:
					t.Errorf("a concurrent upload = %v, want success or errs.ErrTooLarge", err)
				}
			})
		}
		wg.Wait()
		got, err := f.svc.Draft(ctx, f.citizen, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ok != 2 || refused != 4 || len(got.Attachments) != MaxDossierFiles {
			t.Fatalf("concurrent uploads: %d stored, %d refused, the draft holds %d; want 2, 4 and %d", ok, refused, len(got.Attachments), MaxDossierFiles)
		}
		_, err = f.svc.AttachToDraft(ctx, f.citizen, d.ID, uploads(1, len(pdf), "paper")[0])
		wantTooLarge(t, "the eleventh file", err, fmt.Sprintf("at most %d files", MaxDossierFiles))
		if got, _ := f.svc.Draft(ctx, f.citizen, d.ID); len(got.Attachments) != MaxDossierFiles {
			t.Errorf("after the refusal the draft holds %d files, want %d", len(got.Attachments), MaxDossierFiles)
		}

		// Sizes: five of the largest fill the draft; one byte more is
		// refused.
		big := draft()
		for i, up := range uploads(MaxDossierBytes/MaxAttachmentBytes, MaxAttachmentBytes, "paper") {
			if _, err := f.svc.AttachToDraft(ctx, f.citizen, big.ID, up); err != nil {
				t.Fatalf("large file %d: %v", i+1, err)
			}
		}
		_, err = f.svc.AttachToDraft(ctx, f.citizen, big.ID, Upload{DocumentKey: "paper", Filename: "more.pdf", MediaType: MediaPDF, Content: pdf})
		wantTooLarge(t, "a file past the size limit", err, fmt.Sprintf("at most %d MiB", MaxDossierBytes>>20))
		if got, _ := f.svc.Draft(ctx, f.citizen, big.ID); len(got.Attachments) != MaxDossierBytes/MaxAttachmentBytes {
			t.Errorf("after the refusal the draft holds %d files, want %d", len(got.Attachments), MaxDossierBytes/MaxAttachmentBytes)
		}
	})
}

// TestASubmissionAndASupplementKeepTheDossierLimit pins the limit on the
// other two paths: a dossier submitted whole and the documents brought to
// one, counted with the files it already holds; a refusal stores nothing.
func TestASubmissionAndASupplementKeepTheDossierLimit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.clerk)
		entry := func(ups []Upload) (*Dossier, error) {
			return f.svc.Submit(ctx, f.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelPostal, Form: legalizationForm(), Attachments: ups})
		}
		_, err := entry(uploads(MaxDossierFiles+1, len(pdf), "paper"))
		wantTooLarge(t, "a submission of eleven files", err, fmt.Sprintf("at most %d files", MaxDossierFiles))
		_, err = entry(uploads(MaxDossierBytes/MaxAttachmentBytes+1, MaxAttachmentBytes, "paper"))
		wantTooLarge(t, "a submission past the size limit", err, fmt.Sprintf("at most %d MiB", MaxDossierBytes>>20))
		if n := f.count(t, "dossiers") + f.count(t, "dossier_attachments"); n != 0 {
			t.Fatalf("refused submissions stored %d rows", n)
		}

		d, err := entry(uploads(3, len(pdf), "paper"))
		if err != nil {
			t.Fatal(err)
		}
		f.act(t, f.officer, d.Code, ActionRequest{Action: ActAssign})
		f.act(t, f.officer, d.Code, ActionRequest{Action: ActRequestDocuments, Reason: "Bản dịch công chứng"})
		_, err = f.svc.Supplement(ctx, f.clerk, d.Code, "", uploads(MaxDossierFiles-2, len(pdf), "paper_copy"))
		wantTooLarge(t, "a supplement past the limit with the files held", err, fmt.Sprintf("at most %d files", MaxDossierFiles))
		got, err := f.svc.Get(ctx, f.clerk, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusDocumentsRequested || len(got.Attachments) != 3 {
			t.Fatalf("after the refused supplement: status %d, %d files; want %d and 3", got.Status, len(got.Attachments), StatusDocumentsRequested)
		}
		if _, err := f.svc.Supplement(ctx, f.clerk, d.Code, "", uploads(MaxDossierFiles-3, len(pdf), "paper_copy")); err != nil {
			t.Fatalf("a supplement up to the limit = %v", err)
		}
		if got, _ := f.svc.Get(ctx, f.clerk, d.Code); got.Status != StatusProcessing || len(got.Attachments) != MaxDossierFiles {
			t.Errorf("after the supplement: status %d, %d files; want %d and %d", got.Status, len(got.Attachments), StatusProcessing, MaxDossierFiles)
		}
	})
}
