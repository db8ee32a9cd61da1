// Package printout holds what Chancery's generated PDFs share: the
// embedded Unicode font that prints Vietnamese with its diacritics, an A4
// document set up with it, and QR codes drawn as vector squares (on a
// page) or as SVG (on a web page), so that a printed paper leads back to
// the site.
package printout

import (
	_ "embed"
	"fmt"
	"html/template"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"
)

// Font is DejaVu Sans Condensed (Bitstream Vera licence, which allows
// embedding and redistribution; fonts/LICENSE): a Unicode TrueType font
// with every Vietnamese letter.
//
//go:embed fonts/DejaVuSansCondensed.ttf
var Font []byte

// FontName is the family under which NewA4 registers Font.
const FontName = "body"

// NewA4 returns a portrait A4 document in millimetres with Font
// registered as FontName and its dates and metadata set, so that the same
// input gives the same bytes.
func NewA4(title string, at time.Time) *fpdf.Fpdf {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetTitle(title, true)
	pdf.SetCreator("Chancery", true)
	pdf.AddUTF8FontFromBytes(FontName, "", Font)
	return pdf
}

// modules returns text's QR code as rows of dark (true) modules,
// with the quiet zone the standard asks for around it. Medium error
// correction survives a creased or smudged print.
func modules(text string) ([][]bool, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("printout: QR code of %d bytes: %w", len(text), err)
	}
	return q.Bitmap(), nil
}

// DrawQR draws text's QR code on pdf's current page, size millimetres
// square with its top left corner at x, y.
func DrawQR(pdf *fpdf.Fpdf, text string, x, y, size float64) error {
	bm, err := modules(text)
	if err != nil {
		return err
	}
	cell := size / float64(len(bm))
	pdf.SetFillColor(0, 0, 0)
	for r, row := range bm {
		for c, dark := range row {
			if dark {
				pdf.Rect(x+float64(c)*cell, y+float64(r)*cell, cell, cell, "F")
			}
		}
	}
	return nil
}

// QRSVG returns text's QR code as an inline SVG image named label for
// assistive technology (role="img" with an aria-label), one path of
// unit squares that scales to whatever size the page's CSS gives it.
func QRSVG(text, label string) (template.HTML, error) {
	bm, err := modules(text)
	if err != nil {
		return "", err
	}
	var d strings.Builder
	for r, row := range bm {
		for c, dark := range row {
			if dark {
				fmt.Fprintf(&d, "M%d %dh1v1h-1z", c, r)
			}
		}
	}
	n := len(bm)
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path d="%s" fill="#000"/></svg>`,
		n, n, template.HTMLEscapeString(label), n, n, d.String())
	return template.HTML(svg), nil // #nosec: built from numbers and an escaped label
}
