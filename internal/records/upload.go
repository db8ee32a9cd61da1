package records

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"chancery/internal/errs"
)

// Uploads: a document's file arrives on the incoming form's page and on
// POST /api/v1/documents (a multipart body with a "metadata" JSON part and
// a "file" part, or JSON with the file in base64). Whatever the way, the
// file is read once, up to the configured limit, and its type is decided
// by its bytes (sniffFile): the type its sender declared and the
// extension of its name must agree with what the bytes are, so that a
// file that lies about what it is never reaches the register (or the
// text extractor, which reads the stored file later by its media type).

// The media types a document's file may have.
const (
	MediaPDF  = "application/pdf"
	MediaPNG  = "image/png"
	MediaJPEG = "image/jpeg"
	MediaTIFF = "image/tiff"
	MediaDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	MediaODT  = "application/vnd.oasis.opendocument.text"
	MediaText = "text/plain"
)

// fileKind is a type of file a document may be.
type fileKind struct {
	mediaType string
	name      string   // as messages call it
	exts      []string // lower case with the dot
}

var fileKinds = []fileKind{
	{MediaPDF, "PDF", []string{".pdf"}},
	{MediaPNG, "PNG", []string{".png"}},
	{MediaJPEG, "JPEG", []string{".jpg", ".jpeg", ".jpe"}},
	{MediaTIFF, "TIFF", []string{".tif", ".tiff"}},
	{MediaDOCX, "DOCX", []string{".docx"}},
	{MediaODT, "ODT", []string{".odt"}},
	{MediaText, "plain text", []string{".txt", ".text"}},
}

// acceptedKinds names the accepted kinds, for messages.
func acceptedKinds() string {
	names := make([]string, len(fileKinds))
	for i, k := range fileKinds {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

// UploadLimit is the largest file a page or the API accepts unless the
// handler is configured with a smaller one (HandlerOptions.MaxUpload).
const UploadLimit = MaxContent

// uploadFieldBytes bounds what a multipart body holds besides its file:
// the form's fields, or the API's metadata part.
const uploadFieldBytes = 256 << 10

// RequestLimit is the largest request body a records upload route reads
// for a file of at most maxFile bytes: the file in base64 (the API's
// JSON) with room for the metadata. The app's body limit gives way to it
// on the routes IsUpload names.
func RequestLimit(maxFile int64) int64 {
	if maxFile <= 0 || maxFile > UploadLimit {
		maxFile = UploadLimit
	}
	return (maxFile+2)/3*4 + 2*uploadFieldBytes
}

// IsUpload reports whether r posts a document's file to one of the
// records' routes that take one, so the server's general body limit,
// sized for forms and JSON, gives way to RequestLimit.
func IsUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == "/api/v1/documents" || r.URL.Path == consoleIncomingNewPath)
}

// checkFilename refuses a file name that could disguise a file or break
// a header or a register line: control characters (NUL, CR, LF, …),
// bidirectional overrides and other invisible formatting characters,
// invalid UTF-8, or none at all. A path is cut to its base name (old
// browsers send the whole path).
func checkFilename(name string) (string, error) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "" || name == "." || name == "..":
		return "", errs.Invalid("filename", "the file has no name")
	case len(name) > maxLine:
		return "", errs.Invalid("filename", fmt.Sprintf("is %d bytes long, at most %d allowed", len(name), maxLine))
	case !utf8.ValidString(name):
		return "", errs.Invalid("filename", "is not valid UTF-8")
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", errs.Invalid("filename", fmt.Sprintf("must not contain control, line-break or direction-override characters (found U+%04X); rename the file", r))
		}
	}
	return name, nil
}

// CheckFile decides what a document's file is from its bytes, and
// returns it as Content: the name checked (checkFilename), the media type
// sniffed. declared is the type the sender gave (a part's Content-Type,
// the API's media_type); empty or application/octet-stream leaves the
// choice to the bytes, any other must be the type the bytes are, and so
// must the name's extension when it is one of the accepted types'. Every
// refusal wraps errs.ErrInvalid and says what the file is and what was
// claimed; a file over limit wraps errs.ErrTooLarge.
func CheckFile(name, declared string, data []byte, limit int64) (*Content, error) {
	name, err := checkFilename(name)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(limit)
	}
	if len(data) == 0 {
		return nil, errs.Invalid("file", fmt.Sprintf("%q is empty", name))
	}
	kind, ok := sniffFile(data)
	if !ok {
		return nil, errs.Invalid("file", fmt.Sprintf("%q is not a file of an accepted type (%s), or is damaged", name, acceptedKinds()))
	}
	if declared = strings.TrimSpace(declared); declared != "" {
		mt, _, err := mime.ParseMediaType(declared)
		if err != nil {
			return nil, errs.Invalid("media_type", fmt.Sprintf("%q is not a media type such as application/pdf", declared))
		}
		if mt != "application/octet-stream" && mt != kind.mediaType {
			return nil, errs.Invalid("file", fmt.Sprintf("%q is declared as %s but its content is %s: send the file as what it is", name, mt, kind.name))
		}
	}
	if other, ok := kindOfExt(path.Ext(name)); ok && other.mediaType != kind.mediaType {
		return nil, errs.Invalid("file", fmt.Sprintf("%q is named as %s but its content is %s: rename it or send the right file", name, other.name, kind.name))
	}
	return &Content{Filename: name, MediaType: kind.mediaType, Data: data}, nil
}

func tooLarge(limit int64) error {
	return fmt.Errorf("%w: the file is over %s, the largest a document's file may be here; send a smaller scan (fewer dots per inch) or split it",
		errs.ErrTooLarge, byteSize(limit))
}

// byteSize formats n bytes for a message.
func byteSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// kindOfExt returns the kind whose extension ext is, in any case.
func kindOfExt(ext string) (fileKind, bool) {
	ext = strings.ToLower(ext)
	for _, k := range fileKinds {
		for _, e := range k.exts {
			if e == ext {
				return k, true
			}
		}
	}
	return fileKind{}, false
}

func kindOf(mediaType string) fileKind {
	for _, k := range fileKinds {
		if k.mediaType == mediaType {
			return k
		}
	}
	return fileKind{}
}

// sniffFile returns the kind the bytes of a whole file are: each kind is
// recognised by its start and, where the format has one, its end, so a
// truncated file or one with something appended is not taken for what it
// starts as.
func sniffFile(b []byte) (fileKind, bool) {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		// A damaged PDF is refused as one, not taken for plain text.
		return kindOf(MediaPDF), isPDF(b)
	case isPNG(b):
		return kindOf(MediaPNG), true
	case isJPEG(b):
		return kindOf(MediaJPEG), true
	case isTIFF(b):
		return kindOf(MediaTIFF), true
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return sniffZip(b)
	case isPlainText(b):
		return kindOf(MediaText), true
	}
	return fileKind{}, false
}

// isPDF accepts "%PDF-d.d" at the start and a last %%EOF followed by
// nothing but white space (a PDF may be updated incrementally, so %%EOF
// may occur more than once).
func isPDF(b []byte) bool {
	if len(b) < 8 || !bytes.HasPrefix(b, []byte("%PDF-")) || !isDigit(b[5]) || b[6] != '.' || !isDigit(b[7]) {
		return false
	}
	i := bytes.LastIndex(b, []byte("%%EOF"))
	return i >= 0 && len(bytes.TrimRight(b[i+5:], "\r\n\t \x00")) == 0
}

// isPNG accepts the signature, an IHDR chunk first, and IEND last.
func isPNG(b []byte) bool {
	return len(b) >= 8+25+12 && bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) &&
		binary.BigEndian.Uint32(b[8:]) == 13 && string(b[12:16]) == "IHDR" &&
		bytes.HasSuffix(b, []byte("\x00\x00\x00\x00IEND\xae\x42\x60\x82"))
}

// isJPEG accepts the start-of-image marker followed by another marker,
// and the end-of-image marker last (zero padding allowed after it).
func isJPEG(b []byte) bool {
	return len(b) >= 6 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF && b[3] != 0x00 && b[3] != 0xFF &&
		bytes.HasSuffix(bytes.TrimRight(b, "\x00"), []byte{0xFF, 0xD9})
}

// isTIFF accepts either byte order's header with the first image file
// directory inside the file (a scanner's multi-page TIFF).
func isTIFF(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	var order binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		order = binary.LittleEndian
	case "MM\x00*":
		order = binary.BigEndian
	default:
		return false
	}
	off := order.Uint32(b[4:])
	return off >= 8 && uint64(off)+2 <= uint64(len(b))
}

// sniffZip tells a DOCX from an ODT: both are zip archives, a DOCX with
// [Content_Types].xml and word/document.xml, an ODT whose "mimetype"
// entry says so. Any other archive (or a damaged one) is refused.
func sniffZip(b []byte) (fileKind, bool) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fileKind{}, false
	}
	var types, word bool
	for _, f := range zr.File {
		switch f.Name {
		case "[Content_Types].xml":
			types = true
		case "word/document.xml":
			word = true
		case "mimetype":
			if f.UncompressedSize64 > 128 {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return fileKind{}, false
			}
			mt, err := io.ReadAll(io.LimitReader(rc, 128))
			rc.Close()
			if err == nil && strings.TrimSpace(string(mt)) == MediaODT {
				return kindOf(MediaODT), true
			}
		}
	}
	if types && word {
		return kindOf(MediaDOCX), true
	}
	return fileKind{}, false
}

// isPlainText accepts UTF-8 text without NUL or control characters other
// than tab, line breaks and form feed.
func isPlainText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' && r != '\f' {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// readFilePart reads a multipart file part whole, up to limit bytes: a
// longer one is refused as too large without reading on, and a body over
// the request's limit (an *http.MaxBytesError) likewise.
func readFilePart(part io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(part, limit+1))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, tooLarge(limit)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the file could not be read: %v", errs.ErrInvalid, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(limit)
	}
	return data, nil
}

// multipartUpload is a multipart body read part by part: its fields, and
// its one file, checked.
type multipartUpload struct {
	fields url.Values
	file   *Content
	// fileErr is the file's refusal, kept so that a page can show the
	// fields sent back with it beside the file input.
	fileErr error
}

// readMultipartUpload streams a multipart/form-data body: fields (at most
// uploadFieldBytes in all) and at most one file, in the
// part named fileField, read up to limit and checked (CheckFile). An
// empty file part (an input left empty) is no file. mr comes from
// web.MultipartReader, past the CSRF token a page's form sends first.
func readMultipartUpload(mr *multipart.Reader, fileField string, limit int64) (*multipartUpload, error) {
	up := &multipartUpload{fields: url.Values{}}
	fieldBytes := 0
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return up, nil
		}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge(limit)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: the multipart body could not be read: %v", errs.ErrInvalid, err)
		}
		name := p.FormName()
		if parts >= 64 || name == "" {
			return nil, fmt.Errorf("%w: the body has more parts than a document's, or one without a name", errs.ErrInvalid)
		}
		if p.FileName() != "" || name == fileField {
			if name != fileField {
				return nil, errs.Invalid(name, fmt.Sprintf("takes no file; send the document's file as %q", fileField))
			}
			if up.file != nil || up.fileErr != nil {
				return nil, errs.Invalid(fileField, "send one file per document")
			}
			data, err := readFilePart(p, limit)
			if err != nil {
				if !errors.Is(err, errs.ErrTooLarge) {
					return nil, err
				}
				up.fileErr = err
				// A file over the limit is answered at once: reading on
				// would read the rest of a body that may be huge.
				return up, nil
			}
			if len(data) == 0 && p.FileName() == "" {
				continue // the browser's empty part for an input left empty
			}
			up.file, up.fileErr = CheckFile(p.FileName(), p.Header.Get("Content-Type"), data, limit)
			continue
		}
		value, err := io.ReadAll(io.LimitReader(p, int64(uploadFieldBytes-fieldBytes+1)))
		if err != nil {
			return nil, fmt.Errorf("%w: the multipart body could not be read: %v", errs.ErrInvalid, err)
		}
		if fieldBytes += len(value); fieldBytes > uploadFieldBytes {
			return nil, fmt.Errorf("%w: the fields besides the file are over %s", errs.ErrTooLarge, byteSize(uploadFieldBytes))
		}
		up.fields.Add(name, string(value))
	}
}
