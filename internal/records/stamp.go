package records

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	pdfmodel "github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Stamping a PDF's own pages. A copy or print of a PDF (a scan above
// all) must be the document's own pages with the marks on each (State
// secrets law: the marking on every page; every copy numbered), not its
// text set again: so the marks are rendered as a PDF of as many blank
// pages (renderPDF, with the font that has every Vietnamese letter, each
// page numbered i/n), and each of its pages is stamped onto the same page
// of the document by pdfcpu (pure Go), scaled to that page.

// maxStampPages bounds the pages a copy stamps (a document of more is
// refused as a copy's rendering would be).
const maxStampPages = 2000

// errStampUnavailable says pdfcpu's configuration directory was not
// disabled at start (StampingReady): pdfcpu would otherwise load, and
// write, a configuration in the user's directory when it reads the stamp,
// and end the process if it cannot.
var errStampUnavailable = errors.New("records: PDF stamping is not enabled (call records.EnableStamping at start)")

// EnableStamping readies PDF stamping for the process: it tells pdfcpu to
// use its built-in configuration rather than one in the user's directory.
// Call it once at start, before serving (it sets pdfcpu's own package
// variable); until then copies of PDFs are rendered from their text.
func EnableStamping() { api.DisableConfigDir() }

// stampPDF returns the PDF data with marks m stamped on every page.
func stampPDF(data []byte, title string, m pdfMarks, at time.Time) (out []byte, err error) {
	if pdfmodel.ConfigPath != "disable" {
		return nil, errStampUnavailable
	}
	defer func() {
		// pdfcpu reads a file it did not write: a malformed one must
		// not take the node down.
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("records: stamp the PDF: %v", p)
		}
	}()
	conf := pdfmodel.NewDefaultConfiguration()
	n, err := api.PageCount(bytes.NewReader(data), conf)
	if err != nil {
		return nil, fmt.Errorf("records: read the PDF's pages: %w", err)
	}
	if n < 1 || n > maxStampPages {
		return nil, fmt.Errorf("records: the PDF has %d pages; a copy stamps 1 to %d", n, maxStampPages)
	}
	marks, err := renderPDF(title, make([]string, n), m, at)
	if err != nil {
		return nil, err
	}
	// Page i of the marks onto page i of the document, over its content,
	// scaled to the page (relative scale 1), unrotated.
	wm, err := api.PDFMultiWatermarkForReadSeeker(bytes.NewReader(marks), 1, 1, "scalefactor:1 rel, rotation:0, position:c, opacity:1", true, false, types.POINTS)
	if err != nil {
		return nil, fmt.Errorf("records: the stamp: %w", err)
	}
	var buf bytes.Buffer
	if err := api.AddWatermarks(bytes.NewReader(data), &buf, nil, wm, conf); err != nil {
		return nil, fmt.Errorf("records: stamp the PDF: %w", err)
	}
	return buf.Bytes(), nil
}
