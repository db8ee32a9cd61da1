package records

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// pdfText returns the text of a PDF as pdftotext reads it, page by page.
func pdfText(t testing.TB, pdf []byte) []string {
	t.Helper()
	path, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	cmd := exec.Command(path, "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Split(strings.TrimRight(string(out), "\f\n"), "\f")
}

// secretText is a secret incoming document with a two-page text file.
func (f *fixture) secretText(t testing.TB) *Document {
	t.Helper()
	return f.incoming(t, "Công điện tối mật về đoàn công tác", authz.Secret, &Content{Filename: "cd.txt", MediaType: "text/plain; charset=utf-8",
		Data: []byte("Trang một: kế hoạch đón đoàn.\fTrang hai: phương án bảo vệ.")})
}

// TestCopiesNeedAPermissionAndAreNumberedAndMarked pins copies of a
// classified document: none without the competent person's permission
// (refused, the refusal an *authz.Refusal at the item's level), the
// permission only from a leader or security officer, each copy the next
// number, logged at the level, and delivered marked on every page with
// the level, the holder's name and the copy number, to the holder only.
func TestCopiesNeedAPermissionAndAreNumberedAndMarked(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.secretText(t)
		exp := f.clock.now().Add(48 * time.Hour)
		_, err := f.svc.MakeCopy(f.as(f.officer), f.officer, d.ID, CopyKindCopy)
		var ref *authz.Refusal
		if !errors.As(err, &ref) || ref.Decision != authz.Denied || ref.Level != authz.Secret {
			t.Fatalf("a copy without permission: %v, want a denial at secret", err)
		}
		if _, err := f.svc.PermitCopy(f.as(f.clerk), f.clerk, d.ID, NewCopyPermit{StaffID: f.officer.ID, Kind: CopyKindCopy, Copies: 2, Reason: "họp", ExpiresAt: exp}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a clerk permitting: %v, want ErrForbidden", err)
		}
		for name, np := range map[string]NewCopyPermit{
			"no reason":      {StaffID: f.officer.ID, Kind: CopyKindCopy, Copies: 1, ExpiresAt: exp},
			"bidi reason":    {StaffID: f.officer.ID, Kind: CopyKindCopy, Copies: 1, Reason: "a\u202eb", ExpiresAt: exp},
			"no copies":      {StaffID: f.officer.ID, Kind: CopyKindCopy, Reason: "x", ExpiresAt: exp},
			"a bad kind":     {StaffID: f.officer.ID, Kind: "scan", Copies: 1, Reason: "x", ExpiresAt: exp},
			"past expiry":    {StaffID: f.officer.ID, Kind: CopyKindCopy, Copies: 1, Reason: "x", ExpiresAt: f.clock.now()},
			"unknown holder": {StaffID: 999999, Kind: CopyKindCopy, Copies: 1, Reason: "x", ExpiresAt: exp},
		} {
			if _, err := f.svc.PermitCopy(f.as(f.leader), f.leader, d.ID, np); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
		p, err := f.svc.PermitCopy(f.as(f.leader), f.leader, d.ID, NewCopyPermit{StaffID: f.officer.ID, Kind: CopyKindCopy, Copies: 2, Reason: "Họp giao ban", ExpiresAt: exp})
		if err != nil {
			t.Fatal(err)
		}
		var made []*Copy
		for range 2 {
			c, err := f.svc.MakeCopy(f.as(f.officer), f.officer, d.ID, CopyKindCopy)
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, c)
		}
		if made[0].Number != 1 || made[1].Number != 2 || made[0].PermitID != p.ID || made[0].Level != authz.Secret {
			t.Errorf("copies = %+v, %+v", made[0], made[1])
		}
		if _, err := f.svc.MakeCopy(f.as(f.officer), f.officer, d.ID, CopyKindCopy); !errors.As(err, &ref) {
			t.Errorf("a third copy under a permission for two: %v", err)
		}
		if _, err := f.svc.MakeCopy(f.as(f.officer), f.officer, d.ID, CopyKindPrint); !errors.As(err, &ref) {
			t.Errorf("a print under a permission to copy: %v", err)
		}
		if es := f.events(t, "document.copy", d.ID); len(es) != 2 || es[0].Level != authz.Secret {
			t.Errorf("copy events = %+v", es)
		}
		name, pdf, err := f.svc.CopyPDF(f.as(f.officer), f.officer, d.ID, 2)
		if err != nil || !strings.HasSuffix(name, "copy-2.pdf") {
			t.Fatalf("CopyPDF = %q, %v", name, err)
		}
		pages := pdfText(t, pdf)
		if len(pages) != 2 {
			t.Fatalf("the copy has %d pages, want 2: %q", len(pages), pages)
		}
		for i, page := range pages {
			for _, want := range []string{"TỐI MẬT", "BẢN SAO SỐ 2", "officer"} {
				if !strings.Contains(page, want) {
					t.Errorf("page %d lacks %q:\n%s", i+1, want, page)
				}
			}
		}
		if !strings.Contains(pages[1], "phương án bảo vệ") {
			t.Errorf("page 2 lacks its text:\n%s", pages[1])
		}
		// Another may not fetch the holder's copy, even one who reads the
		// document; one who may not know the document learns nothing.
		if _, _, err := f.svc.CopyPDF(f.as(f.clerk), f.clerk, d.ID, 2); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("the clerk fetching the officer's copy: %v", err)
		}
		if _, _, err := f.svc.CopyPDF(f.as(f.lowOfficer), f.lowOfficer, d.ID, 2); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("an uncleared officer: %v", err)
		}
		// The registers' keepers see every copy, the holder their own.
		all, permits, err := f.svc.Copies(f.as(f.clerk), f.clerk, d.ID)
		if err != nil || len(all) != 2 || len(permits) != 1 || permits[0].Used != 2 {
			t.Errorf("Copies(clerk) = %v, %+v, %v", len(all), permits, err)
		}
		if _, _, err := f.svc.Copies(f.as(f.office), f.office, d.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("Copies from another unit: %v", err)
		}
	})
}

// TestConcurrentCopiesTakeDistinctNumbers pins copy numbers under
// concurrency: copies made at once take 1..n, no gaps, no duplicates.
func TestConcurrentCopiesTakeDistinctNumbers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.secretText(t)
		const n = 12
		holders := []authz.Subject{f.officer, f.clerk}
		for _, h := range holders {
			if _, err := f.svc.PermitCopy(f.as(f.security), f.security, d.ID, NewCopyPermit{StaffID: h.ID, Kind: CopyKindPrint, Copies: n,
				Reason: "Hội nghị", ExpiresAt: f.clock.now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		var numbers []int
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				h := holders[i%2]
				c, err := f.svc.MakeCopy(f.as(h), h, d.ID, CopyKindPrint)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				numbers = append(numbers, c.Number)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(numbers)
		for i, got := range numbers {
			if got != i+1 {
				t.Fatalf("numbers = %v, want 1..%d", numbers, n)
			}
		}
	})
}

// TestCopyOfAPDFIsStampedOnEveryPage pins a PDF source: its text is
// rendered page by page into the marked copy.
func TestCopyOfAPDFIsStampedOnEveryPage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		src, err := renderPDF("nguồn", []string{"Nội dung trang đầu", "Nội dung trang sau", "Trang cuối"}, pdfMarks{}, f.clock.now())
		if err != nil {
			t.Fatal(err)
		}
		d := f.incoming(t, "Báo cáo tuyệt mật", authz.TopSecret, &Content{Filename: "bc.pdf", MediaType: "application/pdf", Data: src})
		if _, err := f.svc.PermitCopy(f.as(f.leader), f.leader, d.ID, NewCopyPermit{StaffID: f.archivist.ID, Kind: CopyKindCopy, Copies: 1,
			Reason: "Lưu trữ", ExpiresAt: f.clock.now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.MakeCopy(f.as(f.archivist), f.archivist, d.ID, CopyKindCopy); err != nil {
			t.Fatal(err)
		}
		_, pdf, err := f.svc.CopyPDF(context.Background(), f.archivist, d.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		pages := pdfText(t, pdf)
		if len(pages) != 3 || !strings.Contains(pages[1], "trang sau") {
			t.Fatalf("pages = %q", pages)
		}
		for i, page := range pages {
			if !strings.Contains(page, "TUYỆT MẬT") || !strings.Contains(page, "BẢN SAO SỐ 1") || !strings.Contains(page, "archivist") {
				t.Errorf("page %d is not marked:\n%s", i+1, page)
			}
		}
	})
}

// TestUnclassifiedDocumentsNeedNoCopyPermission pins that copies are for
// classified documents.
func TestUnclassifiedDocumentsNeedNoCopyPermission(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.incoming(t, "Thông báo", authz.Unclassified, &Content{Filename: "a.txt", MediaType: "text/plain", Data: []byte("x")})
		_, err := f.svc.PermitCopy(f.as(f.leader), f.leader, d.ID, NewCopyPermit{StaffID: f.officer.ID, Kind: CopyKindCopy, Copies: 1,
			Reason: "x", ExpiresAt: f.clock.now().Add(time.Hour)})
		if !errors.Is(err, errs.ErrConflict) {
			t.Errorf("a permission for an unclassified document: %v", err)
		}
	})
}
