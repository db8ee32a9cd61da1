package printout

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestQRCodeHasItsFinderPatternsAndQuietZone checks the code a page or a
// paper shows is a QR code a phone finds: dark 7×7 finder squares in three
// corners, inside a light quiet zone of four modules.
func TestQRCodeHasItsFinderPatternsAndQuietZone(t *testing.T) {
	bm, err := modules("https://dichvucong.example/track?code=000.00.03.G12-250310-000001")
	if err != nil {
		t.Fatal(err)
	}
	n := len(bm)
	for i := range n {
		if bm[0][i] || bm[i][0] || bm[3][i] || bm[n-1][i] {
			t.Fatalf("module in the quiet zone is dark (row or column %d)", i)
		}
	}
	for _, corner := range [][2]int{{4, 4}, {4, n - 11}, {n - 11, 4}} {
		r, c := corner[0], corner[1]
		for i := range 7 {
			if !bm[r][c+i] || !bm[r+6][c+i] || !bm[r+i][c] || !bm[r+i][c+6] {
				t.Fatalf("the finder pattern at %v is broken", corner)
			}
		}
		if bm[r+1][c+1] || !bm[r+3][c+3] {
			t.Fatalf("the finder pattern at %v lacks its ring or centre", corner)
		}
	}
}

func TestQRSVGIsAnAccessibleImage(t *testing.T) {
	svg, err := QRSVG("https://example.vn/verify/x", `Mã QR "tra cứu" <hồ sơ>`)
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	if !strings.HasPrefix(s, "<svg ") || !strings.Contains(s, `role="img"`) ||
		!strings.Contains(s, `aria-label="Mã QR &#34;tra cứu&#34; &lt;hồ sơ&gt;"`) || strings.Contains(s, "<hồ") {
		t.Errorf("svg = %.300s", s)
	}
	if _, err := QRSVG(strings.Repeat("x", 5000), "too long"); err == nil {
		t.Error("a text longer than a QR code holds was drawn")
	}
}

func TestNewA4PrintsVietnameseWithAQRCode(t *testing.T) {
	at := time.Date(2025, 3, 14, 2, 0, 0, 0, time.UTC)
	render := func() []byte {
		pdf := NewA4("Kết quả", at)
		pdf.AddPage()
		pdf.SetFont(FontName, "", 12)
		pdf.Cell(0, 10, "Hợp pháp hóa lãnh sự — Nguyễn Thị Lan")
		if err := DrawQR(pdf, "https://example.vn/verify/x", 150, 20, 40); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := pdf.Output(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	one, two := render(), render()
	if !bytes.HasPrefix(one, []byte("%PDF-")) || !bytes.Equal(one, two) {
		t.Errorf("the PDF is not a PDF, or differs between two renderings of the same input")
	}
}
