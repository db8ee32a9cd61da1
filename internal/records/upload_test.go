package records

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"chancery/internal/errs"
)

// Files of each accepted type, small and well formed.
func testPDF() []byte { return []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n") }

func testPNG() []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, 1)
	binary.BigEndian.PutUint32(ihdr[4:], 1)
	ihdr[8], ihdr[9] = 8, 0
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0, 0, 0, 2, 0, 1})
	chunk("IEND", nil)
	return b.Bytes()
}

func testJPEG() []byte { return []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00 scan \xFF\xD9") }
func testTIFF() []byte { return []byte("II*\x00\x08\x00\x00\x00\x00\x00") }

func testZip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range []string{"mimetype", "[Content_Types].xml", "word/document.xml", "content.xml"} {
		if body, ok := files[name]; ok {
			w, err := zw.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(body))
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testDOCX(t testing.TB) []byte {
	return testZip(t, map[string]string{"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
}

func testODT(t testing.TB) []byte {
	return testZip(t, map[string]string{"mimetype": MediaODT, "content.xml": "<office:document-content/>"})
}

// TestCheckFileTellsTypesByTheirBytes pins issue 18's "a file whose type
// lies": every accepted type is recognised by its bytes whatever it was
// declared as (application/octet-stream leaves it to the bytes), and a
// file declared or named as another type, truncated, of no accepted type,
// too large or badly named is refused with a field error or as too large.
func TestCheckFileTellsTypesByTheirBytes(t *testing.T) {
	ok := []struct {
		name, declared string
		data           []byte
		want           string
	}{
		{"cv.pdf", "application/pdf", testPDF(), MediaPDF},
		{"scan", "application/octet-stream", testPDF(), MediaPDF},
		{"trang1.png", "image/png", testPNG(), MediaPNG},
		{"anh.JPG", "", testJPEG(), MediaJPEG},
		{"scan.tiff", "image/tiff", testTIFF(), MediaTIFF},
		{"du-thao.docx", MediaDOCX, testDOCX(t), MediaDOCX},
		{"du-thao.odt", "", testODT(t), MediaODT},
		{"ghi-chu.txt", "text/plain; charset=utf-8", []byte("Quyết định số 15/QĐ-BNG\n"), MediaText},
		{`C:\Users\van thu\cong van.pdf`, "", testPDF(), MediaPDF},
	}
	for _, c := range ok {
		got, err := CheckFile(c.name, c.declared, c.data, UploadLimit)
		if err != nil || got.MediaType != c.want || !bytes.Equal(got.Data, c.data) {
			t.Errorf("CheckFile(%q, %q) = %+v, %v; want %s", c.name, c.declared, got, err, c.want)
		}
	}
	if got, _ := CheckFile(`C:\Users\van thu\cong van.pdf`, "", testPDF(), UploadLimit); got.Filename != "cong van.pdf" {
		t.Errorf("a path is cut to its base name: %q", got.Filename)
	}

	bad := []struct {
		why, name, declared string
		data                []byte
		field               string
		says                string
	}{
		{"a PNG declared as PDF", "a.pdf", "application/pdf", testPNG(), "file", "declared as application/pdf but its content is PNG"},
		{"a PDF named .png", "a.png", "", testPDF(), "file", "named as PNG but its content is PDF"},
		{"a program", "a.pdf", "application/pdf", []byte("MZ\x90\x00\x03\x00\x00\x00"), "file", "not a file of an accepted type"},
		{"a truncated PDF", "a.pdf", "", []byte("%PDF-1.7\n1 0 obj"), "file", "not a file of an accepted type"},
		{"a PDF with something appended", "a.pdf", "", append(testPDF(), "PK\x03\x04 hidden"...), "file", "not a file of an accepted type"},
		{"a zip that is no document", "a.docx", "", testZip(t, map[string]string{"content.xml": "x"}), "file", "not a file of an accepted type"},
		{"text declared as PDF", "a.pdf", "application/pdf", []byte("hello"), "file", "its content is plain text"},
		{"an empty file", "a.pdf", "", nil, "file", "is empty"},
		{"a bad media type", "a.pdf", "pdf; x", testPDF(), "media_type", "not a media type"},
		{"a NUL in the name", "a\x00.pdf", "", testPDF(), "filename", "U+0000"},
		{"CR LF in the name", "a.pdf\r\nX-Evil: 1", "", testPDF(), "filename", "U+000D"},
		{"a direction override in the name", "hoa-don\u202Efdp.exe", "", testPDF(), "filename", "U+202E"},
		{"no name", "", "", testPDF(), "filename", "no name"},
		{"invalid UTF-8 in the name", "a\xff.pdf", "", testPDF(), "filename", "UTF-8"},
	}
	for _, c := range bad {
		_, err := CheckFile(c.name, c.declared, c.data, UploadLimit)
		fe, ok := errors.AsType[*errs.FieldError](err)
		if !ok || fe.Field != c.field || !strings.Contains(fe.Message, c.says) {
			t.Errorf("%s: CheckFile = %v; want a %s error saying %q", c.why, err, c.field, c.says)
		}
	}
	if _, err := CheckFile("a.pdf", "", testPDF(), 10); !errors.Is(err, errs.ErrTooLarge) || !strings.Contains(err.Error(), "10 bytes") {
		t.Errorf("a file over the limit: %v", err)
	}
}

// TestRequestLimitLeavesRoomForBase64 pins the body limit the app gives
// records' upload routes: a largest file in base64 with its metadata
// fits, and the configured maximum is held to UploadLimit.
func TestRequestLimitLeavesRoomForBase64(t *testing.T) {
	if got := RequestLimit(3 << 20); got < 4<<20+uploadFieldBytes {
		t.Errorf("RequestLimit(3 MiB) = %d, too small for its base64", got)
	}
	if RequestLimit(0) != RequestLimit(UploadLimit) || RequestLimit(UploadLimit*2) != RequestLimit(UploadLimit) {
		t.Error("RequestLimit does not hold the maximum to UploadLimit")
	}
}
