package procedures

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"chancery/internal/errs"
	"chancery/internal/i18n"
)

// MaxAttachmentBytes bounds an attachment: 10 MiB, enough for a scanned
// passport page or a several-page PDF.
const MaxAttachmentBytes = 10 << 20

// The limit on the files of one dossier, counted with those it already
// holds, on every path that adds files: a draft's uploads (and so its
// submission), a dossier submitted whole, and a supplement. No procedure
// lists more than a handful of documents.
const (
	MaxDossierFiles = 10
	// MaxDossierBytes bounds the files' sizes added up: five of the
	// largest, what a multipart submission carries.
	MaxDossierBytes = 5 * MaxAttachmentBytes
)

// checkDossierFiles refuses adding files of addedBytes in all to a dossier
// or draft that holds held, when the whole would pass MaxDossierFiles or
// MaxDossierBytes. Callers that add to stored files call it inside the
// transaction that inserts them, having locked the owner, so that
// concurrent additions cannot pass the limit together.
func checkDossierFiles(held []Attachment, added int, addedBytes int64) error {
	total := addedBytes
	for _, a := range held {
		total += a.Size
	}
	if n := len(held) + added; n > MaxDossierFiles {
		return fmt.Errorf("%w: a dossier holds at most %d files; this would make %d (%d already there): remove a file or combine pages into one PDF", errs.ErrTooLarge, MaxDossierFiles, n, len(held))
	}
	if total > MaxDossierBytes {
		return fmt.Errorf("%w: a dossier's files add up to at most %d MiB; this would make %.1f MiB: send smaller scans or remove a file", errs.ErrTooLarge, MaxDossierBytes>>20, float64(total)/(1<<20))
	}
	return nil
}

// uploadsSize adds up the sizes of ups.
func uploadsSize(ups []Upload) int64 {
	var n int64
	for _, up := range ups {
		n += up.size()
	}
	return n
}

// The media types an attachment may have.
const (
	MediaPDF  = "application/pdf"
	MediaJPEG = "image/jpeg"
	MediaPNG  = "image/png"
)

// MaxAttachmentName bounds a sanitised file name, in bytes.
const MaxAttachmentName = 200

// CheckedUpload is what CheckUpload found out about a file it accepted:
// what an Attachment records of it.
type CheckedUpload struct {
	// Filename is the file name to store and show: the base name the browser
	// sent, in NFC, without control or invisible formatting characters,
	// characters Windows forbids in names, or leading and trailing dots
	// and spaces, at most MaxAttachmentName bytes, ending with the
	// extension of MediaType (added when the name had none of the three
	// types').
	Filename string
	// MediaType is MediaPDF, MediaJPEG or MediaPNG, as sniffed from the
	// content.
	MediaType string
	Size      int64
	SHA256    []byte // of the content
}

// UploadError is CheckUpload's refusal of a file. It wraps errs.ErrInvalid,
// or errs.ErrTooLarge for a file over MaxAttachmentBytes, and names the
// file and what is allowed in both languages, for the page to show beside
// the file input.
type UploadError struct {
	// File is the name the file was sent with, sanitised for display.
	File string
	// Reason is a stable code of what is wrong: empty, too_large, type,
	// truncated, extension or declared_type.
	Reason               string
	MessageVI, MessageEN string
	kind                 error
}

// Error returns the English message.
func (e *UploadError) Error() string { return e.MessageEN }

// Unwrap returns errs.ErrInvalid or errs.ErrTooLarge.
func (e *UploadError) Unwrap() error { return e.kind }

// Message returns the message in lang.
func (e *UploadError) Message(lang i18n.Lang) string {
	if lang == i18n.EN {
		return e.MessageEN
	}
	return e.MessageVI
}

func refuseUpload(file, reason string, kind error, args ...any) *UploadError {
	key := "procedures.upload." + reason
	args = append([]any{file}, args...)
	return &UploadError{File: file, Reason: reason, kind: kind,
		MessageVI: texts.T(i18n.VI, key, args...) + " " + texts.T(i18n.VI, "procedures.upload.allowed", MaxAttachmentBytes>>20),
		MessageEN: texts.T(i18n.EN, key, args...) + " " + texts.T(i18n.EN, "procedures.upload.allowed", MaxAttachmentBytes>>20)}
}

// fileKind is one type of file an attachment may be.
type fileKind struct {
	mediaType string
	name      string   // as messages call it
	exts      []string // lower case with the dot; the first is the canonical one
	// head reports whether the start of a file is this kind's signature;
	// tail whether the end is its end marker.
	head, tail func([]byte) bool
}

var fileKinds = []fileKind{
	{MediaPDF, "PDF", []string{".pdf"}, pdfHead, pdfTail},
	{MediaJPEG, "JPEG", []string{".jpg", ".jpeg", ".jpe"}, jpegHead, jpegTail},
	{MediaPNG, "PNG", []string{".png"}, pngHead, pngTail},
}

// headSize is how much of the start CheckUpload reads before it writes
// anything: a PNG's signature and IHDR chunk.
const headSize = 8 + 4 + 4 + 13 + 4

// tailSize is how much of the end CheckUpload keeps: a PDF's %%EOF may
// stand anywhere in its last 1024 bytes.
const tailSize = 1024

// pdfHead accepts "%PDF-d.d".
func pdfHead(b []byte) bool {
	return len(b) >= 8 && bytes.HasPrefix(b, []byte("%PDF-")) && isDigit(b[5]) && b[6] == '.' && isDigit(b[7])
}

// pdfTail accepts a last %%EOF followed by nothing but white space.
func pdfTail(b []byte) bool {
	i := bytes.LastIndex(b, []byte("%%EOF"))
	return i >= 0 && len(bytes.TrimRight(b[i+5:], "\r\n\t \x00")) == 0
}

// jpegHead accepts the start-of-image marker followed by another marker.
func jpegHead(b []byte) bool {
	return len(b) >= 4 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF && b[3] != 0x00 && b[3] != 0xFF
}

// jpegTail accepts the end-of-image marker, after which only zero padding
// may follow: data appended after a picture (a hidden archive, a
// "motion photo" video) is refused.
func jpegTail(b []byte) bool { return bytes.HasSuffix(bytes.TrimRight(b, "\x00"), []byte{0xFF, 0xD9}) }

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngHead accepts the PNG signature followed by an IHDR chunk of 13 bytes
// whose CRC is right and whose width and height are not zero.
func pngHead(b []byte) bool {
	if len(b) < headSize || !bytes.HasPrefix(b, pngSignature) {
		return false
	}
	c := b[len(pngSignature):]
	if binary.BigEndian.Uint32(c) != 13 || string(c[4:8]) != "IHDR" {
		return false
	}
	data := c[8:21]
	width, height := binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:])
	return width > 0 && height > 0 && width <= 1<<31-1 && height <= 1<<31-1 &&
		crc32.ChecksumIEEE(c[4:21]) == binary.BigEndian.Uint32(c[21:25])
}

// pngEnd is the IEND chunk that ends every PNG.
var pngEnd = []byte("\x00\x00\x00\x00IEND\xae\x42\x60\x82")

func pngTail(b []byte) bool { return bytes.HasSuffix(b, pngEnd) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// CheckUpload reads an uploaded file from r and copies it to dst (the
// blob being written), checking it on the way, and returns what it
// accepted. name and declaredType are what the browser sent; neither is
// trusted.
//
// The content decides the type: it must be a PDF (starting "%PDF-" and
// ending with a %%EOF trailer), a JPEG (from the FF D8 FF start-of-image
// to the FF D9 end-of-image) or a PNG (its signature, then an IHDR chunk
// with a valid CRC, ending with IEND), of 1 byte to MaxAttachmentBytes.
// A file whose name's extension, or declared type, is that of another of
// the three types is refused rather than renamed: a PNG named x.pdf is a
// mistake or a trick, and either way the citizen should see it. A name
// with no extension, or one of another type (scan.tiff, photo.exe), gets
// the canonical extension of the content's type added; the declared type
// is otherwise ignored, since browsers send application/octet-stream and
// worse.
//
// Nothing is written to dst before the start of the file has passed: a
// file of the wrong type is refused having written nothing. A file
// refused later (too large, truncated) may have been written in part, and
// the caller must discard what dst received; memory held is a few
// kilobytes whatever the size. The refusal is an *UploadError wrapping
// errs.ErrInvalid or errs.ErrTooLarge (also for an *http.MaxBytesError
// from r); an error reading r otherwise, or writing dst, is returned
// wrapped, of no kind.
func CheckUpload(name, declaredType string, r io.Reader, dst io.Writer) (CheckedUpload, error) {
	file := sanitiseFileName(name)
	shown := file
	if shown == "" {
		shown = "?"
	}
	head := make([]byte, headSize)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return CheckedUpload{}, readError(shown, err)
	}
	head = head[:n]
	if n == 0 {
		return CheckedUpload{}, refuseUpload(shown, "empty", errs.ErrInvalid)
	}
	kind, ok := sniff(head)
	if !ok {
		return CheckedUpload{}, refuseUpload(shown, "type", errs.ErrInvalid)
	}
	if other, ok := kindOfExt(path.Ext(file)); ok && other.mediaType != kind.mediaType {
		return CheckedUpload{}, refuseUpload(shown, "extension", errs.ErrInvalid, kind.name, path.Ext(file))
	}
	if other, ok := kindOfMediaType(declaredType); ok && other.mediaType != kind.mediaType {
		return CheckedUpload{}, refuseUpload(shown, "declared_type", errs.ErrInvalid, other.name, kind.name)
	}

	sum := sha256.New()
	tail := &tailWriter{max: tailSize}
	out := &recordingWriter{w: dst}
	size, err := io.Copy(io.MultiWriter(out, sum, tail), io.MultiReader(bytes.NewReader(head), io.LimitReader(r, MaxAttachmentBytes+1-int64(n))))
	switch {
	case out.err != nil:
		return CheckedUpload{}, fmt.Errorf("write attachment %q: %w", shown, out.err)
	case err != nil:
		return CheckedUpload{}, readError(shown, err)
	}
	switch {
	case size > MaxAttachmentBytes:
		return CheckedUpload{}, refuseUpload(shown, "too_large", errs.ErrTooLarge, MaxAttachmentBytes>>20)
	case !kind.tail(tail.bytes()):
		return CheckedUpload{}, refuseUpload(shown, "truncated", errs.ErrInvalid, kind.name)
	}
	return CheckedUpload{Filename: withExtension(file, kind), MediaType: kind.mediaType, Size: size, SHA256: sum.Sum(nil)}, nil
}

// sniff returns the kind whose signature head starts with.
func sniff(head []byte) (fileKind, bool) {
	for _, k := range fileKinds {
		if k.head(head) {
			return k, true
		}
	}
	return fileKind{}, false
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

// mediaAliases are the names some browsers give the three types.
var mediaAliases = map[string]string{"image/pjpeg": MediaJPEG, "image/jpg": MediaJPEG, "image/x-png": MediaPNG, "application/x-pdf": MediaPDF}

// kindOfMediaType returns the kind a declared Content-Type names, if it
// names one of the three.
func kindOfMediaType(declared string) (fileKind, bool) {
	mt, _, err := mime.ParseMediaType(declared)
	if err != nil {
		return fileKind{}, false
	}
	if alias, ok := mediaAliases[mt]; ok {
		mt = alias
	}
	for _, k := range fileKinds {
		if k.mediaType == mt {
			return k, true
		}
	}
	return fileKind{}, false
}

// readError reports a failure to read the upload: over an
// http.MaxBytesReader's limit it is the file's being too large; anything
// else (the client went away) is of no kind.
func readError(file string, err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return refuseUpload(file, "too_large", errs.ErrTooLarge, MaxAttachmentBytes>>20)
	}
	return fmt.Errorf("read attachment %q: %w", file, err)
}

// recordingWriter remembers its writer's error, so that CheckUpload can
// tell a failure to store from a failure to receive.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil {
		r.err = err
	}
	return n, err
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	max int
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return len(p), nil
	}
	if drop := len(t.buf) + len(p) - t.max; drop > 0 {
		t.buf = append(t.buf[:0], t.buf[drop:]...)
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

func (t *tailWriter) bytes() []byte { return t.buf }

// windowsReserved are the characters Windows refuses in a file name;
// a citizen or clerk downloading the file would otherwise get it renamed.
const windowsReserved = `<>:"|?*`

// sanitiseFileName returns the base name of name as CheckedUpload.Filename
// describes it, without adding an extension; "" if nothing is left.
func sanitiseFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = norm.NFC.String(name)
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			// Cf holds the bidirectional overrides that make
			// "gpj.exe" display as "exe.jpg".
			return -1
		case strings.ContainsRune(windowsReserved, r):
			return '_'
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, name)
	name = strings.Trim(name, ". ")
	return truncateName(name, MaxAttachmentName)
}

// truncateName cuts name to at most limit bytes, keeping its extension
// and whole characters.
func truncateName(name string, limit int) string {
	if len(name) <= limit {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > 16 {
		ext = ""
	}
	stem := name[:limit-len(ext)]
	for !utf8.ValidString(stem) {
		stem = stem[:len(stem)-1]
	}
	// Cutting may split a letter from its combining mark; NFC joined the
	// ones that have a precomposed form, and a lone mark left at the end
	// is harmless.
	return strings.TrimRight(stem, ". ") + ext
}

// withExtension returns file with kind's canonical extension added unless
// it already has one of kind's, and a name for a file that had none.
func withExtension(file string, kind fileKind) string {
	if file == "" {
		file = "attachment"
	}
	if k, ok := kindOfExt(path.Ext(file)); ok && k.mediaType == kind.mediaType {
		return file
	}
	return truncateName(file, MaxAttachmentName-len(kind.exts[0])) + kind.exts[0]
}
