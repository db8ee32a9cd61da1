package dlp

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Extractor reads the text of a PDF or an office file. records'
// Extractor (pdftotext, OCR, DOCX and ODT) is the one Chancery wires in.
type Extractor interface {
	Extract(ctx context.Context, data []byte, mediaType string) (text, source string, err error)
}

// DefaultLimit is the most bytes a Scanner reads of one item when its
// Limit is zero: more is "too big to scan", which the policy decides on.
const DefaultLimit = 16 << 20

// maxEntries bounds the files of a ZIP a scan opens.
const maxEntries = 1000

// Scanner finds markings and personal data in what goes out. The zero
// value is not usable; call NewScanner. It is safe for concurrent use.
type Scanner struct {
	fold *folder
	// Limit is the most bytes of an item (and of the text unpacked from
	// it) read; 0 means DefaultLimit. An item over it is scanned up to
	// the limit and reported TooBig.
	Limit int64
	// Extract reads PDFs and office files; nil leaves them unreadable.
	Extract Extractor
	// Now is the clock that bounds a year of birth; nil: time.Now.
	Now func() time.Time
}

// NewScanner returns a scanner reading PDFs and office files with x
// (which may be nil).
func NewScanner(x Extractor) *Scanner { return &Scanner{fold: newFolder(), Extract: x} }

func (s *Scanner) limit() int64 {
	if s.Limit <= 0 {
		return DefaultLimit
	}
	return s.Limit
}

func (s *Scanner) year() int {
	if s.Now == nil {
		return time.Now().Year()
	}
	return s.Now().Year()
}

// Result is what a scan found.
type Result struct {
	Counts Counts
	// Format is what the item was read as: text, json, xml, pdf, office
	// or zip.
	Format string
	// Size is the item's size in bytes.
	Size int64
	// TooBig reports an item (or the text unpacked from it) over the
	// scanner's limit: only the first part was scanned.
	TooBig bool
	// Unreadable, if not empty, says why (part of) the item's text could
	// not be read, such as a PDF without a reader: the scan is incomplete.
	Unreadable string
}

// Scan reads data, an item of the given media type, and counts what it
// finds. It reads at most the scanner's limit and never fails: what it
// could not read is reported in the result, for the policy to decide.
func (s *Scanner) Scan(ctx context.Context, data []byte, mediaType string) Result {
	r := Result{Size: int64(len(data))}
	if int64(len(data)) > s.limit() {
		r.TooBig = true
		data = cut(data, s.limit())
	}
	budget := s.limit()
	s.scanItem(ctx, data, mediaType, &r, &budget, 0)
	return r
}

// sniff tells what data is, from its first bytes (and, for JSON and XML
// without a telling start, its media type).
func sniff(data []byte, mediaType string) string {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return "pdf"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return "zip"
	case strings.Contains(mediaType, "json") || bytes.HasPrefix(trimmed, []byte("{")) || bytes.HasPrefix(trimmed, []byte("[")):
		return "json"
	case strings.Contains(mediaType, "xml") || bytes.HasPrefix(trimmed, []byte("<")):
		return "xml"
	}
	return "text"
}

// scanItem scans one item into r, spending the budget of bytes of text it
// may still read.
func (s *Scanner) scanItem(ctx context.Context, data []byte, mediaType string, r *Result, budget *int64, depth int) {
	format := sniff(data, mediaType)
	if r.Format == "" {
		r.Format = format
	}
	var text []byte
	switch format {
	case "pdf":
		text = s.extract(ctx, data, "application/pdf", r)
	case "zip":
		if office(data) {
			r.Format = "office"
			text = s.extract(ctx, data, mediaType, r)
			break
		}
		if depth > 0 {
			r.Unreadable = "a ZIP inside a ZIP is not opened"
			return
		}
		s.scanZip(ctx, data, r, budget)
		return
	case "json":
		text = jsonText(data, r)
	case "xml":
		text = xmlText(data, r)
	default:
		text = data
	}
	if int64(len(text)) > *budget {
		r.TooBig = true
		text = cut(text, *budget)
	}
	*budget -= int64(len(text))
	s.scanText(text, &r.Counts)
}

// office reports whether a ZIP is a DOCX or an ODT, which the extractor
// reads whole.
func office(data []byte) bool {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		if f.Name == "word/document.xml" || f.Name == "content.xml" {
			return true
		}
	}
	return false
}

func (s *Scanner) extract(ctx context.Context, data []byte, mediaType string, r *Result) []byte {
	if s.Extract == nil {
		r.Unreadable = "no reader of " + mediaType + " files is configured"
		return nil
	}
	text, _, err := s.Extract.Extract(ctx, data, mediaType)
	if err != nil {
		r.Unreadable = err.Error()
	}
	return []byte(text)
}

// scanZip scans each file of a ZIP (a case file's export), reading no more
// in all than the budget, so a ZIP bomb is cut short.
func (s *Scanner) scanZip(ctx context.Context, data []byte, r *Result, budget *int64) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		r.Unreadable = "the ZIP cannot be read: " + err.Error()
		s.scanText(data, &r.Counts)
		return
	}
	for i, f := range zr.File {
		if i >= maxEntries || *budget <= 0 {
			r.TooBig = true
			return
		}
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			r.Unreadable = "a file of the ZIP cannot be read: " + err.Error()
			continue
		}
		part, err := io.ReadAll(io.LimitReader(rc, *budget+1))
		rc.Close()
		if err != nil {
			r.Unreadable = "a file of the ZIP cannot be read: " + err.Error()
			continue
		}
		if int64(len(part)) > *budget {
			r.TooBig = true
			part = part[:*budget]
		}
		s.scanItem(ctx, part, mediaTypeOf(f.Name), r, budget, 1)
	}
}

func mediaTypeOf(name string) string {
	switch {
	case strings.HasSuffix(strings.ToLower(name), ".json"):
		return "application/json"
	case strings.HasSuffix(strings.ToLower(name), ".xml"):
		return "application/xml"
	}
	return ""
}

// jsonText returns the strings and numbers of a JSON document, keys
// included, one a line, with escapes undone (a "M\u1eacT" is MẬT). A
// document that does not parse is read as plain text from where it broke.
func jsonText(data []byte, r *Result) []byte {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out []byte
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			r.Unreadable = "the JSON does not parse; the rest is read as text"
			return append(append(out, '\n'), data[min(int(dec.InputOffset()), len(data)):]...)
		}
		switch v := tok.(type) {
		case string:
			out = append(append(out, v...), '\n')
		case json.Number:
			out = append(append(out, v...), '\n')
		}
	}
}

// xmlText returns the text and attribute values of an XML document (an
// edXML package), one a line, and counts an edXML SecretLevel of 1–3 as
// the marking it stands for. A document type declaration is skipped, not
// expanded: no entity reaches the text. A document that does not parse is
// read as plain text from where it broke.
func xmlText(data []byte, r *Result) []byte {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var out []byte
	inLevel := false
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return out
		}
		if err != nil {
			r.Unreadable = "the XML does not parse; the rest is read as text"
			return append(append(out, '\n'), data[min(int(dec.InputOffset()), len(data)):]...)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			inLevel = strings.EqualFold(t.Name.Local, "SecretLevel")
			for _, a := range t.Attr {
				out = append(append(out, a.Value...), '\n')
			}
		case xml.EndElement:
			inLevel = false
		case xml.CharData:
			if inLevel {
				switch strings.TrimSpace(string(t)) {
				case "1":
					r.Counts[MarkingConfidential]++
				case "2":
					r.Counts[MarkingSecret]++
				case "3":
					r.Counts[MarkingTopSecret]++
				}
			}
			out = append(append(out, t...), '\n')
		}
	}
}

// scanText counts what text holds, once cleaned of what could hide it.
func (s *Scanner) scanText(text []byte, c *Counts) {
	text = clean(text)
	s.fold.scanWords(text, c)
	scanNumbers(text, s.year(), c)
	scanEmails(text, c)
}

// hiding reports whether r is a character that changes nothing a reader
// sees but could split a marking or a number for a matcher: format
// characters (zero-width spaces and joiners, soft hyphens, bidirectional
// controls, the byte order mark), NUL and other controls but line breaks
// and tabs.
func hiding(r rune) bool {
	if r == '\n' || r == '\r' || r == '\t' {
		return false
	}
	return unicode.Is(unicode.Cf, r) || unicode.IsControl(r)
}

// clean returns text without hiding characters, with the runs a
// right-to-left override (U+202E) turns around put back in the order a
// reader sees them ("\u202eTẬM" shows as MẬT), invalid UTF-8 read as
// U+FFFD, and decomposed diacritics composed (NFC). Text with none of
// these is returned as it is, uncopied.
func clean(text []byte) []byte {
	needs, combining := false, false
	for i := 0; i < len(text); {
		b := text[i]
		if b < utf8.RuneSelf {
			if b < 0x20 && b != '\n' && b != '\r' && b != '\t' || b == 0x7f {
				needs = true
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(text[i:])
		if r == utf8.RuneError && n == 1 || hiding(r) {
			needs = true
			break
		}
		if unicode.Is(unicode.Mn, r) {
			combining = true
		}
		i += n
	}
	if needs {
		out := make([]byte, 0, len(text))
		rtl := -1 // where in out the run under a right-to-left override began
		flush := func() {
			if rtl >= 0 {
				reverseRunes(out[rtl:])
			}
			rtl = -1
		}
		for i := 0; i < len(text); {
			r, n := utf8.DecodeRune(text[i:])
			i += n
			switch {
			case r == 0x202E: // RIGHT-TO-LEFT OVERRIDE
				flush()
				rtl = len(out)
			case r == 0x202C || r == 0x202D || r == '\n' || r == '\r': // POP, LEFT-TO-RIGHT OVERRIDE, a new line
				flush()
				if !hiding(r) {
					out = utf8.AppendRune(out, r)
				}
			case hiding(r):
			default:
				if unicode.Is(unicode.Mn, r) {
					combining = true
				}
				out = utf8.AppendRune(out, r)
			}
		}
		flush()
		text = out
	}
	if combining {
		text = norm.NFC.Bytes(text)
	}
	return text
}

// reverseRunes turns the UTF-8 text b around in place, rune by rune.
func reverseRunes(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	// Each rune's bytes are now backwards: turn them back.
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && !utf8.RuneStart(b[j]) {
			j++
		}
		for x, y := i, j; x < y; x, y = x+1, y-1 {
			b[x], b[y] = b[y], b[x]
		}
		i = j + 1
	}
}

// cut returns the first n bytes of b, less a rune cut in two at the end.
func cut(b []byte, n int64) []byte {
	b = b[:n]
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}
