package procedures

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"chancery/internal/errs"
	"chancery/internal/i18n"
)

var (
	pdfFile  = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	jpegFile = encodeImage(func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, nil) })
	pngFile  = encodeImage(png.Encode)
)

func encodeImage(enc func(io.Writer, image.Image) error) []byte {
	var b bytes.Buffer
	if err := enc(&b, image.NewGray(image.Rect(0, 0, 3, 2))); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func TestCheckUploadAcceptsTheThreeTypesByContent(t *testing.T) {
	tests := []struct {
		name, file, declared string
		content              []byte
		wantName, wantType   string
	}{
		{"PDF", "Tờ khai.pdf", "application/pdf", pdfFile, "Tờ khai.pdf", MediaPDF},
		{"PDF upper-case extension", "SCAN.PDF", "", pdfFile, "SCAN.PDF", MediaPDF},
		{"PDF with CRLF after %%EOF", "a.pdf", "", append(bytes.Clone(pdfFile), "\r\n  "...), "a.pdf", MediaPDF},
		{"JPEG as .jpeg", "ảnh hộ chiếu.jpeg", "image/jpeg", jpegFile, "ảnh hộ chiếu.jpeg", MediaJPEG},
		{"JPEG declared by an old browser", "a.jpg", "image/pjpeg", jpegFile, "a.jpg", MediaJPEG},
		{"PNG declared as octet-stream", "a.png", "application/octet-stream", pngFile, "a.png", MediaPNG},
		{"no extension gets the type's", "giay-khai-sinh", "", pngFile, "giay-khai-sinh.png", MediaPNG},
		{"other extension keeps it and adds the type's", "photo.exe", "", jpegFile, "photo.exe.jpg", MediaJPEG},
		{"Windows path keeps the base name", `C:\Users\lan\Desktop\đơn.pdf`, "", pdfFile, "đơn.pdf", MediaPDF},
		{"Unix path traversal keeps the base name", "../../etc/passwd", "", pdfFile, "passwd.pdf", MediaPDF},
		{"decomposed Vietnamese becomes NFC", "Tơ\u0300 khai.pdf", "", pdfFile, "Tờ khai.pdf", MediaPDF},
		{"bidi override removed", "gpj\u202e.exe.pdf", "", pdfFile, "gpj.exe.pdf", MediaPDF},
		{"control characters removed, reserved replaced", "a\x00b\nc<d>:e?.pdf", "", pdfFile, "abc_d__e_.pdf", MediaPDF},
		{"leading dots and spaces trimmed", " ..hidden.pdf ", "", pdfFile, "hidden.pdf", MediaPDF},
		{"empty name", "", "", pngFile, "attachment.png", MediaPNG},
		{"name of only a path", "/../", "", pngFile, "attachment.png", MediaPNG},
		{"long name cut to 200 bytes keeping the extension", strings.Repeat("ệ", 100) + ".pdf", "", pdfFile, strings.Repeat("ệ", 65) + ".pdf", MediaPDF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stored bytes.Buffer
			got, err := CheckUpload(tt.file, tt.declared, bytes.NewReader(tt.content), &stored)
			if err != nil {
				t.Fatalf("CheckUpload: %v", err)
			}
			sum := sha256.Sum256(tt.content)
			if got.Filename != tt.wantName || got.MediaType != tt.wantType || got.Size != int64(len(tt.content)) || !bytes.Equal(got.SHA256, sum[:]) {
				t.Errorf("CheckUpload = %+v, want name %q, type %s, size %d, sha256 %x", got, tt.wantName, tt.wantType, len(tt.content), sum)
			}
			if !bytes.Equal(stored.Bytes(), tt.content) {
				t.Errorf("dst received %d bytes, want the %d of the file", stored.Len(), len(tt.content))
			}
			if len(got.Filename) > MaxAttachmentName || !utf8.ValidString(got.Filename) {
				t.Errorf("name %q is over %d bytes or not UTF-8", got.Filename, MaxAttachmentName)
			}
		})
	}
}

func TestCheckUploadRefusesWhatIsNotAnAllowedFile(t *testing.T) {
	html := []byte("<!doctype html><html><!-- %PDF-1.7 --><script>alert(1)</script></html>\n%%EOF")
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00PE\x00\x00"), bytes.Repeat([]byte{0}, 100)...)
	big := append(append(bytes.Clone(pdfFile[:9]), bytes.Repeat([]byte(" "), MaxAttachmentBytes)...), "%%EOF"...)
	tests := []struct {
		name, file, declared string
		content              []byte
		reason               string
		kind                 error
		wrote                bool // whether dst may have received bytes
	}{
		{"empty", "a.pdf", "", nil, "empty", errs.ErrInvalid, false},
		{"an executable named .pdf", "don.pdf", "application/pdf", exe, "type", errs.ErrInvalid, false},
		{"HTML with a %PDF comment", "don.pdf", "", html, "type", errs.ErrInvalid, false},
		{"PDF after a leading space", "a.pdf", "", append([]byte(" "), pdfFile...), "type", errs.ErrInvalid, false},
		{"GIF", "a.gif", "image/gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "type", errs.ErrInvalid, false},
		{"text", "a.txt", "text/plain", []byte("hello"), "type", errs.ErrInvalid, false},
		{"PNG named .pdf", "x.pdf", "", pngFile, "extension", errs.ErrInvalid, false},
		{"PDF named .JPG", "x.JPG", "", pdfFile, "extension", errs.ErrInvalid, false},
		{"JPEG declared as PNG", "x", "image/png", jpegFile, "declared_type", errs.ErrInvalid, false},
		{"PDF without %%EOF", "a.pdf", "", pdfFile[:len(pdfFile)-6], "truncated", errs.ErrInvalid, true},
		{"PDF with data after %%EOF", "a.pdf", "", append(bytes.Clone(pdfFile), "<html>"...), "truncated", errs.ErrInvalid, true},
		{"truncated JPEG", "a.jpg", "", jpegFile[:len(jpegFile)-2], "truncated", errs.ErrInvalid, true},
		{"JPEG with a payload after its end", "a.jpg", "", append(bytes.Clone(jpegFile), "PK\x03\x04"...), "truncated", errs.ErrInvalid, true},
		{"truncated PNG", "a.png", "", pngFile[:len(pngFile)-1], "truncated", errs.ErrInvalid, true},
		{"PNG cut inside its IHDR", "a.png", "", pngFile[:20], "type", errs.ErrInvalid, false},
		{"PNG with a bad IHDR CRC", "a.png", "", corrupt(pngFile, 29), "type", errs.ErrInvalid, false},
		{"PNG of zero width", "a.png", "", zeroWidthPNG(), "type", errs.ErrInvalid, false},
		{"over 10 MiB", "big.pdf", "", big, "too_large", errs.ErrTooLarge, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stored bytes.Buffer
			_, err := CheckUpload(tt.file, tt.declared, bytes.NewReader(tt.content), &stored)
			ue, ok := errors.AsType[*UploadError](err)
			if !ok {
				t.Fatalf("CheckUpload = %v, want an *UploadError", err)
			}
			if ue.Reason != tt.reason || !errors.Is(err, tt.kind) {
				t.Errorf("refused for %s (%v), want %s (%v)", ue.Reason, err, tt.reason, tt.kind)
			}
			for _, lang := range []i18n.Lang{i18n.VI, i18n.EN} {
				msg := ue.Message(lang)
				if !strings.Contains(msg, "“"+ue.File+"”") || !strings.Contains(msg, "PDF, JPEG") || !strings.Contains(msg, "10 MB") {
					t.Errorf("%s message %q does not name the file and what is allowed", lang, msg)
				}
			}
			if !tt.wrote && stored.Len() > 0 {
				t.Errorf("dst received %d bytes of a file refused by its start", stored.Len())
			}
		})
	}
}

func corrupt(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 0xFF
	return b
}

// zeroWidthPNG is a PNG whose IHDR says width 0, with its CRC fixed so
// that only the width is wrong.
func zeroWidthPNG() []byte {
	b := bytes.Clone(pngFile)
	copy(b[16:20], []byte{0, 0, 0, 0})
	crc := crc32IEEE(b[12:29])
	copy(b[29:33], crc)
	return b
}

func TestCheckUploadReportsAMaxBytesReaderAsTooLarge(t *testing.T) {
	content := append(bytes.Clone(pdfFile), bytes.Repeat([]byte(" "), 100)...)
	r := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(bytes.NewReader(content)), 50)
	if _, err := CheckUpload("a.pdf", "", r, io.Discard); !errors.Is(err, errs.ErrTooLarge) {
		t.Errorf("CheckUpload over the request's limit = %v, want ErrTooLarge", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCheckUploadReportsAStorageFailureAsNoKind(t *testing.T) {
	_, err := CheckUpload("a.pdf", "", bytes.NewReader(pdfFile), failingWriter{})
	if err == nil || !strings.Contains(err.Error(), "disk full") || errors.Is(err, errs.ErrInvalid) {
		t.Errorf("CheckUpload writing to a failing store = %v, want the write error, of no kind", err)
	}
}

func FuzzCheckUpload(f *testing.F) {
	f.Add("a.pdf", "application/pdf", pdfFile)
	f.Add("a.jpg", "image/jpeg", jpegFile)
	f.Add("a.png", "image/png", pngFile)
	f.Add("setup.pdf", "application/pdf", []byte("MZ\x90\x00\x03\x00\x00\x00PE\x00\x00"))
	f.Add("a.pdf", "", []byte("<html><!-- %PDF-1.7 --></html>%%EOF"))
	f.Add("a.png", "", pngFile[:len(pngFile)/2])
	f.Add("x.pdf", "", pngFile)
	f.Add("../\u202e.pdf", "text/html; charset=\"", []byte("%PDF-1.0%%EOF"))
	f.Fuzz(func(t *testing.T, name, declared string, content []byte) {
		var stored bytes.Buffer
		got, err := CheckUpload(name, declared, bytes.NewReader(content), &stored)
		if err != nil {
			if _, ok := errors.AsType[*UploadError](err); !ok {
				t.Fatalf("CheckUpload(%q, %q, %q) = %v, not an *UploadError", name, declared, content, err)
			}
			return
		}
		valid := bytes.HasPrefix(content, []byte("%PDF-")) || bytes.HasPrefix(content, []byte{0xFF, 0xD8, 0xFF}) || bytes.HasPrefix(content, pngSignature)
		if !valid {
			t.Fatalf("CheckUpload accepted %q, which starts with no allowed signature", content)
		}
		if !bytes.Equal(stored.Bytes(), content) || got.Size != int64(len(content)) {
			t.Fatalf("accepted %d bytes but stored %d and reported %d", len(content), stored.Len(), got.Size)
		}
		if k, ok := kindOfExt(extOf(got.Filename)); !ok || k.mediaType != got.MediaType {
			t.Fatalf("accepted %s named %q", got.MediaType, got.Filename)
		}
		if len(got.Filename) > MaxAttachmentName || !utf8.ValidString(got.Filename) || strings.ContainsAny(got.Filename, `/\`) ||
			strings.IndexFunc(got.Filename, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
			t.Fatalf("unsafe name %q", got.Filename)
		}
	})
}

func crc32IEEE(b []byte) []byte {
	return binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(b))
}

func extOf(name string) string { return path.Ext(name) }
