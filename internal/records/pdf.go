package records

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"chancery/internal/printout"
)

// pdfFont is the shared Unicode font (internal/printout), so that the
// copies and minutes print with their diacritics.
var pdfFont = printout.Font

// pdfMarks are what every page of a generated PDF carries: the marking
// of its level at the top (State secrets law: the marking on every page),
// a line under it, a footer and a faint diagonal watermark.
type pdfMarks struct {
	Marking   string
	Header    string
	Footer    string
	Watermark string
}

// renderPDF renders pages of text (each starting a new page; long ones
// flow onto more) into an A4 PDF whose every page carries marks. at is
// the document's creation date, so the same input gives the same bytes.
func renderPDF(title string, pages []string, m pdfMarks, at time.Time) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetTitle(title, true)
	pdf.SetCreator("Chancery", true)
	pdf.AddUTF8FontFromBytes("body", "", pdfFont)
	pdf.SetMargins(20, 30, 20)
	pdf.SetAutoPageBreak(true, 20)
	pdf.SetHeaderFunc(func() {
		w, h := pdf.GetPageSize()
		if m.Watermark != "" {
			// The watermark runs corner to corner, under the text.
			pdf.SetFont("body", "", 22)
			pdf.SetTextColor(150, 150, 150)
			pdf.SetAlpha(0.25, "Normal")
			pdf.TransformBegin()
			pdf.TransformRotate(math.Atan2(h, w)*180/math.Pi, w/2, h/2)
			tw := pdf.GetStringWidth(m.Watermark)
			pdf.Text(w/2-tw/2, h/2, m.Watermark)
			pdf.TransformEnd()
			pdf.SetAlpha(1, "Normal")
		}
		if m.Marking != "" {
			pdf.SetFont("body", "", 13)
			pdf.SetTextColor(200, 0, 0)
			pdf.SetDrawColor(200, 0, 0)
			mw := pdf.GetStringWidth(m.Marking) + 6
			pdf.SetXY(w/2-mw/2, 8)
			pdf.CellFormat(mw, 8, m.Marking, "1", 0, "C", false, 0, "")
		}
		pdf.SetTextColor(0, 0, 0)
		pdf.SetFont("body", "", 8)
		pdf.SetXY(20, 18)
		pdf.CellFormat(w-40, 5, m.Header, "", 0, "C", false, 0, "")
		pdf.SetXY(20, 30)
		pdf.SetFont("body", "", 10)
	})
	pdf.SetFooterFunc(func() {
		w, h := pdf.GetPageSize()
		pdf.SetFont("body", "", 8)
		pdf.SetTextColor(0, 0, 0)
		pdf.SetXY(20, h-14)
		pdf.CellFormat(w-40, 5, fmt.Sprintf("%s · %d/{nb}", m.Footer, pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.AliasNbPages("{nb}")
	if len(pages) == 0 {
		pages = []string{""}
	}
	for _, text := range pages {
		pdf.AddPage()
		pdf.SetFont("body", "", 10)
		pdf.MultiCell(0, 5, pdfSafe(text), "", "L", false)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("records: render PDF: %w", err)
	}
	return buf.Bytes(), nil
}

// pdfSafe keeps what a page can show: tabs become spaces, other control
// characters (a form feed left inside a page, NUL) are dropped.
func pdfSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case r < ' ' || r == 0x7f:
			return -1
		}
		return r
	}, s)
}
