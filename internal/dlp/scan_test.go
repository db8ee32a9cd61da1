package dlp

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

func testScanner() *Scanner {
	s := NewScanner(nil)
	s.Now = func() time.Time { return time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC) }
	return s
}

func scanString(s *Scanner, text string) Counts {
	return s.Scan(context.Background(), []byte(text), "text/plain").Counts
}

// The stamps of Circular 24/2020/TT-BCA, in any case, with and without
// diacritics, spaced out or hidden by invisible characters, are found; the
// words "mật" makes in prose are not.
func TestMarkingsWithOrWithoutDiacriticsAndCase(t *testing.T) {
	s := testScanner()
	cases := []struct {
		text string
		want Kind
		n    int
	}{
		{"MẬT\nCông văn số 12/BNG-LS", MarkingConfidential, 1},
		{"Độ mật: Mật", MarkingConfidential, 1},
		{"do mat: mat", MarkingConfidential, 1},
		{"Kính gửi: Cục Lãnh sự\n  MAT  \nNội dung", MarkingConfidential, 1},
		{"TÀI LIỆU MẬT GỬI KÈM", MarkingConfidential, 1},
		{"TỐI MẬT", MarkingSecret, 1},
		{"tối mật", MarkingSecret, 1},
		{"Tối Mật", MarkingSecret, 1},
		{"TOI MAT", MarkingSecret, 1},
		{"Độ mật: toi mat", MarkingSecret, 1},
		{"TUYỆT MẬT", MarkingTopSecret, 1},
		{"tuyệt mật", MarkingTopSecret, 1},
		{"tuyet mat", MarkingTopSecret, 1},
		{"TuYeT mAt", MarkingTopSecret, 1},
		{"T U Y Ệ T   M Ậ T", MarkingTopSecret, 1},
		{"T.Ố.I M.Ậ.T", MarkingSecret, 1},
		{"M Ậ T\nsố 45", MarkingConfidential, 1},
		{"TỐI-MẬT", MarkingSecret, 1},
		// Decomposed diacritics (NFD) compose before matching.
		{"TÔ\u0301I MÂ\u0323T", MarkingSecret, 1},
		// Invisible characters inside the stamp.
		{"TỐI\u200b M\u00adẬ\u2060T", MarkingSecret, 1},
		{"TUY\x00ỆT MẬT", MarkingTopSecret, 1},
		// A right-to-left override shows "TẬM" as "MẬT".
		{"\u202eTẬM\u202c\nnội dung", MarkingConfidential, 1},
		{"\u202eTẬM IỐT\u202c", MarkingSecret, 1},
		// Counted once each.
		{"MẬT\nMẬT\nTỐI MẬT", MarkingConfidential, 2},
	}
	for _, c := range cases {
		got := scanString(s, c.text)
		if got[c.want] != c.n {
			t.Errorf("%q: %s = %d, want %d (all: %v)", c.text, c.want, got[c.want], c.n, got)
		}
		for k := MarkingConfidential; k <= MarkingTopSecret; k++ {
			if k != c.want && got[k] != 0 && !(c.want == MarkingConfidential && k == MarkingSecret) {
				t.Errorf("%q: also %s = %d", c.text, k, got[k])
			}
		}
	}
}

func TestNoMarkingInOrdinaryProse(t *testing.T) {
	s := testScanner()
	for _, text := range []string{
		"Đề nghị bảo vệ bí mật nhà nước theo quy định.",
		"BẢO VỆ BÍ MẬT NHÀ NƯỚC",
		"Vui lòng đổi mật khẩu sau khi đăng nhập.",
		"MẬT KHẨU MỚI",
		"Ban Cơ yếu quản lý mật mã dân sự.",
		"Mật độ dân số của tỉnh tăng.",
		"MẬT ĐỘ DÂN SỐ",
		"Mật ong rừng U Minh",
		"quan hệ mật thiết giữa hai nước",
		"Tôi mất hộ chiếu ở sân bay",
		"toi mat ho chieu o san bay",
		"Mặt trận Tổ quốc Việt Nam",
		"MẶT TRẬN TỔ QUỐC",
		"MẤT HỘ CHIẾU",
		"thời tiết mát mẻ",
		"Tài liệu đã được GIẢI MẬT từ ngày 01/01/2020",
		"Độ mật: Thường",
		"The MAT file format",
		"bảo mật thông tin, an toàn thông tin",
	} {
		if got := scanString(s, text); got[MarkingConfidential]+got[MarkingSecret]+got[MarkingTopSecret] != 0 {
			t.Errorf("%q: a marking found in prose: %v", text, got)
		}
	}
}

func TestPersonalNumbers(t *testing.T) {
	s := testScanner()
	cases := []struct {
		text string
		want Kind
		n    int
	}{
		{"Số CCCD: 001099012345", IdentityNumber, 1},
		{"079203001234, 001185000111", IdentityNumber, 2},
		{"CMND số 012345678", OldIdentityNumber, 1},
		{"Hộ chiếu C1234567 cấp ngày", PassportNumber, 1},
		{"ĐT: 0912345678; 0912 345 678; 0912.345.678; +84 912 345 678; +84912345678", PhoneNumber, 5},
		{"Tổng đài (024) 3799 2000 hoặc 024 3799 2000", PhoneNumber, 1},
		{"Liên hệ lanh.su@mofa.gov.vn hoặc a.b+c@example.com.", EmailAddress, 2},
	}
	for _, c := range cases {
		if got := scanString(s, c.text); got[c.want] != c.n {
			t.Errorf("%q: %s = %d, want %d (all: %v)", c.text, c.want, got[c.want], c.n, got)
		}
	}
}

// Dates, amounts, codes and ordinary numbers are not personal numbers.
func TestNoPersonalNumberInDatesAndAmounts(t *testing.T) {
	s := testScanner()
	for _, text := range []string{
		"Ngày 15/03/2024, 2024-03-15, 20240315",
		"Số tiền 1.500.000.000 đồng; 12.000.000,50; 150000000 đồng; 100000000000 đồng",
		"Mã hồ sơ HS2024000123456 và 001099012345X",
		"Năm 2026 có 365 ngày",
		"001234567890", // born 2034: not yet
		"999099012345", // no such province
		"Tài khoản 0011001234567 tại Vietcombank",
		"user@localhost and @mention and a@b.c",
		"AB1234567 and C12345678",
		"Số 012345678 trong danh sách",
	} {
		got := scanString(s, text)
		for _, k := range []Kind{IdentityNumber, OldIdentityNumber, PassportNumber, PhoneNumber, EmailAddress} {
			if got[k] != 0 {
				t.Errorf("%q: %s = %d, want 0", text, k, got[k])
			}
		}
	}
}

func TestStructuredFormats(t *testing.T) {
	s := testScanner()
	ctx := context.Background()
	r := s.Scan(ctx, []byte(`{"level":"M\u1eacT","people":[{"id":"001099012345","phone":"0912345678"}],"note":"mật khẩu"}`), "application/json")
	if r.Format != "json" || r.Counts[MarkingConfidential] != 1 || r.Counts[IdentityNumber] != 1 || r.Counts[PhoneNumber] != 1 {
		t.Errorf("JSON: %+v", r)
	}
	edxml := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE x [<!ENTITY e "TỐI MẬT">]>
<edXML:edXMLEnvelope xmlns:edXML="http://www.e-doc.vn/Schema/"><edXML:edXMLHeader><edXML:MessageHeader>
<edXML:SecretLevel>2</edXML:SecretLevel><edXML:Subject>Về việc &amp; công tác</edXML:Subject>
</edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope>`
	r = s.Scan(ctx, []byte(edxml), "application/xml")
	if r.Format != "xml" || r.Counts[MarkingSecret] != 1 || r.Counts.Total() != 1 {
		t.Errorf("edXML: %+v", r)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{"a.txt": "TUYỆT MẬT", "b.json": `["lanh.su@mofa.gov.vn"]`} {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	r = s.Scan(ctx, buf.Bytes(), "application/zip")
	if r.Format != "zip" || r.Counts[MarkingTopSecret] != 1 || r.Counts[EmailAddress] != 1 {
		t.Errorf("ZIP: %+v", r)
	}
	// A PDF is read by the extractor given (records' in production).
	s.Extract = fakeExtractor{text: "Độ mật: Tuyệt mật"}
	r = s.Scan(ctx, []byte("%PDF-1.7 ..."), "application/pdf")
	if r.Format != "pdf" || r.Counts[MarkingTopSecret] != 1 || r.Unreadable != "" {
		t.Errorf("PDF: %+v", r)
	}
	s.Extract = fakeExtractor{err: errors.New("pdftotext is not installed")}
	if r = s.Scan(ctx, []byte("%PDF-1.7 ..."), "application/pdf"); r.Unreadable == "" {
		t.Errorf("PDF without a reader: %+v, want it unreadable", r)
	}
}

type fakeExtractor struct {
	text string
	err  error
}

func (f fakeExtractor) Extract(context.Context, []byte, string) (string, string, error) {
	return f.text, "fake", f.err
}

// A 50 MiB payload is scanned within the limit, in bounded time and
// memory, and reported too big; what the first part holds still counts.
func TestHugePayloadIsBounded(t *testing.T) {
	s := testScanner()
	s.Limit = 1 << 20
	data := bytes.Repeat([]byte("Nội dung thường, không có gì. "), (50<<20)/32)
	copy(data, "TỐI MẬT\n")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	r := s.Scan(context.Background(), data, "text/plain")
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if !r.TooBig || r.Counts[MarkingSecret] != 1 || r.Size != int64(len(data)) {
		t.Errorf("result %+v, want too big with the marking found", r)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2*uint64(s.Limit) {
		t.Errorf("scanning allocated %d bytes, more than twice the %d-byte limit", alloc, s.Limit)
	}
	if took > 20*time.Second {
		t.Errorf("scanning took %v", took)
	}
	// NUL bytes all through, and a line to the limit under a
	// right-to-left override: cleaned in one copy, never more.
	hostile := []byte("MẬT\n" + strings.Repeat("\x00a\u202e", 1<<18))
	if r := s.Scan(context.Background(), hostile, "text/plain"); r.Counts[MarkingConfidential] != 1 {
		t.Errorf("hostile text: %+v", r)
	}
}
