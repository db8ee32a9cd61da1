package records

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// scanPDF returns a PDF of scanned pages, one image each (no text), on
// US Letter paper, as a scanner makes them.
func scanPDF(t testing.TB, pages ...string) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "Letter", "")
	for i, text := range pages {
		img, err := scanPNG(text)
		if err != nil {
			t.Fatal(err)
		}
		name := "scan" + itoa(int64(i))
		pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(img))
		pdf.AddPage()
		pdf.ImageOptions(name, 10, 10, 190, 0, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var pdfImage = regexp.MustCompile(`/Subtype\s*/Image`)

// TestCopyOfAScanKeepsItsPages pins copies of a PDF: the document's own
// pages (a scan's images) with the marks stamped on each — its level,
// "BẢN SAO" and the copy's number, the holder's name, the page's number —
// not its text set again.
func TestCopyOfAScanKeepsItsPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		scan := scanPDF(t, "TRANG MOT CONG DIEN", "TRANG HAI PHUONG AN")
		d := f.incoming(t, "Công điện tối mật (bản quét)", authz.Secret, &Content{Filename: "scan.pdf", MediaType: "application/pdf", Data: scan})
		exp := f.clock.now().Add(30 * 24 * time.Hour)
		if _, err := f.svc.PermitCopy(f.as(f.leader), f.leader, d.ID, NewCopyPermit{StaffID: f.officer.ID, Kind: CopyKindCopy, Copies: 1, Reason: "Họp", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		c, err := f.svc.MakeCopy(f.as(f.officer), f.officer, d.ID, CopyKindCopy)
		if err != nil {
			t.Fatal(err)
		}
		_, pdf, err := f.svc.CopyPDF(f.as(f.officer), f.officer, d.ID, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(pdfImage.FindAll(pdf, -1)), len(pdfImage.FindAll(scan, -1)); got != want || want != 2 {
			t.Errorf("the copy has %d images, want the scan's %d", got, want)
		}
		pages := pdfText(t, pdf)
		if len(pages) != 2 {
			t.Fatalf("the copy has %d pages, want the scan's 2", len(pages))
		}
		for i, page := range pages {
			for _, want := range []string{"TỐI MẬT", "BẢN SAO SỐ 1", "officer", itoa(int64(i+1)) + "/2"} {
				if !strings.Contains(page, want) {
					t.Errorf("page %d lacks %q:\n%s", i+1, want, page)
				}
			}
		}
		// A PDF that is not one (a lying file got no further than the
		// upload; a damaged one may): the copy falls back to the text.
		if _, err := stampPDF([]byte("%PDF-1.4 broken"), "x", pdfMarks{Marking: "MẬT"}, f.clock.now()); err == nil {
			t.Error("a damaged PDF was stamped")
		}
	})
}
