package records

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // image.DecodeConfig bounds a JPEG scan's size before OCR
	_ "image/png"  // and a PNG's
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Text extraction: the words of a document's file, for the full-text
// index, read off the request path by the extraction worker
// (extract_worker.go) from the decrypted file:
//
//   - text PDFs by pdftotext (poppler-utils);
//   - scanned paper, PNG, JPEG or TIFF, and image-only PDFs (rendered by
//     pdftoppm) by tesseract with its Vietnamese and English data
//     (tesseract-ocr, tesseract-ocr-vie);
//   - DOCX and ODT by reading their XML in Go, with limits against zip
//     bombs;
//   - plain text, if it is UTF-8.
//
// The tools run without a shell, with a timeout and a bound on what they
// write, in a private temporary directory removed afterwards, on a copy
// of the file under a fixed name: nothing the user chose (the file's
// name) reaches a command line.

// Kind is what sort of file extraction sees, judged from its bytes (the
// media type the caller gave is believed only for plain text).
type Kind string

// The kinds of file extraction reads; KindNone has no text to read.
const (
	KindNone  Kind = ""
	KindPDF   Kind = "pdf"
	KindImage Kind = "image"
	KindDOCX  Kind = "docx"
	KindODT   Kind = "odt"
	KindText  Kind = "text"
)

// Sources of a document's indexed text, kept in record_texts.source.
const (
	SourceCaller    = "caller"
	SourcePDFToText = "pdftotext"
	SourceOCR       = "ocr"
	SourceOffice    = "office"
	SourcePlain     = "plain"
)

// Sniff tells which kind of file data is. A ZIP is an office file only if
// it holds the part that carries a DOCX's or an ODT's text.
func Sniff(data []byte, mediaType string) Kind {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return KindPDF
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")), bytes.HasPrefix(data, []byte("\xff\xd8\xff")),
		bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return KindImage
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return KindNone
		}
		for _, f := range zr.File {
			switch f.Name {
			case "word/document.xml":
				return KindDOCX
			case "content.xml":
				return KindODT
			}
		}
		return KindNone
	case strings.HasPrefix(strings.ToLower(strings.TrimSpace(mediaType)), "text/plain"):
		return KindText
	}
	return KindNone
}

// ExtractError is why a file's text could not be read: Code names the
// reason for the records office (texts_extract.go has its words), and a
// Permanent one is not retried (the file will not read better later).
type ExtractError struct {
	Code      string
	Permanent bool
	Err       error
}

func (e *ExtractError) Error() string { return fmt.Sprintf("extract text (%s): %v", e.Code, e.Err) }
func (e *ExtractError) Unwrap() error { return e.Err }

// The codes of ExtractError.
const (
	ReasonUnsupported = "unsupported" // a kind of file extraction does not read
	ReasonCorrupt     = "corrupt"     // the file is damaged, encrypted or hostile
	ReasonTooLarge    = "too_large"   // beyond the limits on pages, pixels or expansion
	ReasonToolMissing = "tool_missing"
	ReasonTimeout     = "timeout"
	ReasonToolFailed  = "tool_failed"
)

func permanent(code string, format string, args ...any) error {
	return &ExtractError{Code: code, Permanent: true, Err: fmt.Errorf(format, args...)}
}

func transient(code string, format string, args ...any) error {
	return &ExtractError{Code: code, Err: fmt.Errorf(format, args...)}
}

// Extractor reads the text of files. Its zero value reads office files
// and plain text only; FindTools fills in the tools this machine has.
type Extractor struct {
	// Paths of pdftotext, pdftoppm and tesseract; empty: not installed.
	PDFToText, PDFToPPM, Tesseract string
	// Languages is tesseract's -l. Default "vie+eng".
	Languages string
	// Timeout bounds each run of a tool. Default 2 minutes.
	Timeout time.Duration
	// MaxText bounds the text kept, in bytes. Default 1 MiB (maxText).
	MaxText int
	// MaxPages bounds the pages of a PDF read (and of an image-only one
	// rendered for OCR: MaxOCRPages). Defaults 500 and 20.
	MaxPages, MaxOCRPages int
	// MaxPixels bounds a scan's size, width × height. Default 60 million
	// (an A3 page at 600 dpi).
	MaxPixels int
	// TempDir is where private working directories are made; empty:
	// os.TempDir().
	TempDir string
}

// FindTools returns an Extractor with the tools found on PATH, and the
// names of those missing (a production node needs them all: see the
// README's "Text extraction and OCR").
func FindTools() (x *Extractor, missing []string) {
	x = &Extractor{}
	for _, t := range []struct {
		name string
		into *string
	}{{"pdftotext", &x.PDFToText}, {"pdftoppm", &x.PDFToPPM}, {"tesseract", &x.Tesseract}} {
		if p, err := exec.LookPath(t.name); err == nil {
			*t.into = p
		} else {
			missing = append(missing, t.name)
		}
	}
	return x, missing
}

func (x *Extractor) languages() string      { return cmp.Or(x.Languages, "vie+eng") }
func (x *Extractor) timeout() time.Duration { return cmp.Or(x.Timeout, 2*time.Minute) }
func (x *Extractor) maxText() int           { return cmp.Or(x.MaxText, maxText) }
func (x *Extractor) maxPages() int          { return cmp.Or(x.MaxPages, 500) }
func (x *Extractor) maxOCRPages() int       { return cmp.Or(x.MaxOCRPages, 20) }
func (x *Extractor) maxPixels() int         { return cmp.Or(x.MaxPixels, 60_000_000) }

// Extract returns the text of data (a file of the given media type) and
// where it came from (a Source*). A file with no text to read returns ""
// and no error; an error is an *ExtractError.
func (x *Extractor) Extract(ctx context.Context, data []byte, mediaType string) (text, source string, err error) {
	switch Sniff(data, mediaType) {
	case KindPDF:
		return x.extractPDF(ctx, data)
	case KindImage:
		text, err := x.ocrImage(ctx, data)
		return text, SourceOCR, err
	case KindDOCX, KindODT:
		text, err := ExtractOffice(data, x.maxText())
		return text, SourceOffice, err
	case KindText:
		if !utf8.Valid(data) {
			return "", SourcePlain, permanent(ReasonCorrupt, "the plain-text file is not UTF-8")
		}
		return clip(string(data), x.maxText()), SourcePlain, nil
	}
	return "", "", permanent(ReasonUnsupported, "no text can be read from a file of type %q", mediaType)
}

// extractPDF reads a PDF's text layer; a PDF with (almost) none, a scan,
// is rendered page by page and read by OCR.
func (x *Extractor) extractPDF(ctx context.Context, data []byte) (string, string, error) {
	if x.PDFToText == "" {
		return "", SourcePDFToText, transient(ReasonToolMissing, "pdftotext is not installed (Debian: poppler-utils)")
	}
	text, source := "", SourcePDFToText
	err := x.inTempDir(func(dir string) error {
		in := filepath.Join(dir, "in.pdf")
		if err := os.WriteFile(in, data, 0o600); err != nil {
			return transient(ReasonToolFailed, "write the working copy: %v", err)
		}
		out, err := x.run(ctx, dir, x.PDFToText, "-q", "-enc", "UTF-8", "-l", fmt.Sprint(x.maxPages()), in, "-")
		if err != nil {
			return err
		}
		text = out
		if letters(text) >= 16 {
			return nil
		}
		source = SourceOCR
		text, err = x.ocrPDF(ctx, dir, in)
		return err
	})
	return text, source, err
}

// letters counts the letters of s, up to 16: a text layer with fewer is
// taken for a scan's.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			if n++; n >= 16 {
				break
			}
		}
	}
	return n
}

// ocrPDF renders the first MaxOCRPages pages of the PDF in at 300 dpi,
// their long side at most 3,508 pixels (A4's at 300 dpi, so a giant page
// renders no larger), and reads them by OCR.
func (x *Extractor) ocrPDF(ctx context.Context, dir, in string) (string, error) {
	if x.PDFToPPM == "" || x.Tesseract == "" {
		return "", transient(ReasonToolMissing, "a scanned PDF needs pdftoppm (poppler-utils) and tesseract (tesseract-ocr, tesseract-ocr-vie)")
	}
	if _, err := x.run(ctx, dir, x.PDFToPPM, "-q", "-r", "300", "-scale-to", "3508", "-gray", "-png",
		"-l", fmt.Sprint(x.maxOCRPages()), in, filepath.Join(dir, "page")); err != nil {
		return "", err
	}
	pages, err := filepath.Glob(filepath.Join(dir, "page*.png"))
	if err != nil {
		return "", transient(ReasonToolFailed, "list the rendered pages: %v", err)
	}
	slices.Sort(pages) // pdftoppm pads page numbers to one width
	var b strings.Builder
	for _, p := range pages {
		out, err := x.run(ctx, dir, x.Tesseract, p, "stdout", "-l", x.languages())
		if err != nil {
			return "", err
		}
		b.WriteString(out)
		b.WriteString("\n")
		if b.Len() >= x.maxText() {
			break
		}
	}
	return clip(b.String(), x.maxText()), nil
}

// ocrImage reads a scan by OCR, after checking its size where Go can
// read the header (PNG, JPEG; tesseract's own limits guard a TIFF).
func (x *Extractor) ocrImage(ctx context.Context, data []byte) (string, error) {
	if !bytes.HasPrefix(data, []byte("II")) && !bytes.HasPrefix(data, []byte("MM")) {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return "", permanent(ReasonCorrupt, "the image does not decode: %v", err)
		}
		if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > x.maxPixels() {
			return "", permanent(ReasonTooLarge, "the image is %d×%d pixels, at most %d pixels are read", cfg.Width, cfg.Height, x.maxPixels())
		}
	}
	if x.Tesseract == "" {
		return "", transient(ReasonToolMissing, "tesseract is not installed (Debian: tesseract-ocr, tesseract-ocr-vie)")
	}
	var text string
	err := x.inTempDir(func(dir string) error {
		in := filepath.Join(dir, "scan.img")
		if err := os.WriteFile(in, data, 0o600); err != nil {
			return transient(ReasonToolFailed, "write the working copy: %v", err)
		}
		var err error
		text, err = x.run(ctx, dir, x.Tesseract, in, "stdout", "-l", x.languages())
		return err
	})
	return text, err
}

// inTempDir runs fn in a new private directory (mode 0700) and removes
// the directory and all in it afterwards.
func (x *Extractor) inTempDir(fn func(dir string) error) error {
	dir, err := os.MkdirTemp(x.TempDir, "chancery-extract-")
	if err != nil {
		return transient(ReasonToolFailed, "make a working directory: %v", err)
	}
	defer os.RemoveAll(dir)
	return fn(dir)
}

// run runs a tool (an absolute path; no shell) in dir with the arguments
// given, a minimal environment and the timeout, and returns what it wrote
// on standard output, at most MaxText bytes: when it writes more, the
// pipe is closed on it and the text kept is cut there.
func (x *Extractor) run(ctx context.Context, dir, tool string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, x.timeout())
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = dir
	// One thread: tesseract would take every core of a shared node.
	cmd.Env = []string{"HOME=" + dir, "TMPDIR=" + dir, "LC_ALL=C.UTF-8", "OMP_THREAD_LIMIT=1"}
	out, stderr := &capWriter{max: x.maxText()}, &capWriter{max: 4096}
	cmd.Stdout, cmd.Stderr = out, stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	name := filepath.Base(tool)
	switch {
	case out.full:
		// The tool was cut off once it had written enough: keep that.
		return clip(out.String(), x.maxText()), nil
	case ctx.Err() == context.DeadlineExceeded:
		return "", transient(ReasonTimeout, "%s ran longer than %s", name, x.timeout())
	case err != nil:
		return "", transient(ReasonToolFailed, "%s: %v: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return strings.ToValidUTF8(out.String(), "\uFFFD"), nil
}

// capWriter keeps the first max bytes written to it, then refuses more,
// so a tool writing without end gets a broken pipe. (It must not embed a
// bytes.Buffer: io.Copy would use the buffer's ReadFrom, unbounded.)
type capWriter struct {
	buf  bytes.Buffer
	max  int
	full bool
}

var errFull = errors.New("output limit reached")

func (w *capWriter) Write(p []byte) (int, error) {
	room := max(w.max-w.buf.Len(), 0)
	if len(p) > room {
		w.buf.Write(p[:room])
		w.full = true
		return room, errFull
	}
	return w.buf.Write(p)
}

func (w *capWriter) String() string { return w.buf.String() }

// clip cuts s to at most n bytes, at a character boundary, as valid
// UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// The limits of office files: how many parts a ZIP may list, how much of
// one XML part is read once decompressed (a zip bomb stops there), and
// how deep its elements may nest.
const (
	maxOfficeParts = 10_000
	maxOfficeXML   = 64 << 20
	maxOfficeDepth = 256
)

// ExtractOffice returns the text of a DOCX (word/document.xml) or an ODT
// (content.xml), at most maxBytes of it: paragraphs on lines of their
// own. Damaged, hostile or oversized files return an *ExtractError.
func ExtractOffice(data []byte, maxBytes int) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", permanent(ReasonCorrupt, "not a readable ZIP: %v", err)
	}
	if len(zr.File) > maxOfficeParts {
		return "", permanent(ReasonTooLarge, "the file has %d parts, at most %d are read", len(zr.File), maxOfficeParts)
	}
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			return officeXML(f, maxBytes, docxText)
		case "content.xml":
			return officeXML(f, maxBytes, odtText)
		}
	}
	return "", permanent(ReasonUnsupported, "the ZIP is neither a DOCX nor an ODT")
}

// xmlText says what an element of an office format means for the text:
// whether its character data is text, and what it adds at its start and
// end (a tab, a line break).
type xmlText func(name xml.Name, start bool) (text bool, add string)

// docxText reads WordprocessingML: text in w:t, paragraphs w:p, tabs
// w:tab, breaks w:br and w:cr.
func docxText(n xml.Name, start bool) (bool, string) {
	switch n.Local {
	case "t":
		return true, ""
	case "p":
		if !start {
			return false, "\n"
		}
	case "tab":
		if start {
			return false, "\t"
		}
	case "br", "cr":
		if start {
			return false, "\n"
		}
	}
	return false, ""
}

// odtText reads OpenDocument: text in text:p and text:h (and their
// spans), spaces text:s, tabs text:tab, breaks text:line-break.
func odtText(n xml.Name, start bool) (bool, string) {
	switch n.Local {
	case "p", "h":
		if !start {
			return true, "\n"
		}
		return true, ""
	case "s":
		if start {
			return false, " "
		}
	case "tab":
		if start {
			return false, "\t"
		}
	case "line-break":
		if start {
			return false, "\n"
		}
	}
	return false, ""
}

// officeXML reads the text of one XML part of an office file, through a
// decompression limit, an element depth limit and a text limit.
func officeXML(f *zip.File, maxBytes int, meaning xmlText) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", permanent(ReasonCorrupt, "open %s: %v", f.Name, err)
	}
	defer rc.Close()
	lim := &io.LimitedReader{R: rc, N: maxOfficeXML + 1}
	dec := xml.NewDecoder(lim)
	dec.Strict = true
	var b strings.Builder
	// inText counts the open elements whose character data is text.
	depth, inText := 0, 0
	var textAt []bool
	for b.Len() < maxBytes {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if lim.N <= 0 {
			return "", permanent(ReasonTooLarge, "%s is larger than %d bytes once decompressed", f.Name, maxOfficeXML)
		}
		if err != nil {
			return "", permanent(ReasonCorrupt, "%s: %v", f.Name, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > maxOfficeDepth {
				return "", permanent(ReasonTooLarge, "%s nests elements deeper than %d", f.Name, maxOfficeDepth)
			}
			isText, add := meaning(t.Name, true)
			b.WriteString(add)
			textAt = append(textAt, isText)
			if isText {
				inText++
			}
		case xml.EndElement:
			depth--
			if len(textAt) > 0 {
				if textAt[len(textAt)-1] {
					inText--
				}
				textAt = textAt[:len(textAt)-1]
			}
			_, add := meaning(t.Name, false)
			b.WriteString(add)
		case xml.CharData:
			if inText > 0 {
				b.Write(t)
			}
		}
	}
	return clip(b.String(), maxBytes), nil
}
