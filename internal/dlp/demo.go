package dlp

import (
	"context"
	"fmt"
	"strings"

	"chancery/internal/audit"
	"chancery/internal/authz"
)

// DemoStaff is a demo account DLP's demo acts as.
type DemoStaff struct {
	Subject  authz.Subject
	Username string
}

// DemoSenders are the usernames of the demo's staff whose items SeedDemo
// has held; the security officer decides on two of them.
var DemoSenders = []string{"consular.clerk", "consular.officer", "office.secretclerk", "personnel.officer"}

// demoList is n made-up lines of a list of citizens: a name, an identity
// number (valid in structure, of no one) and, if passports, a passport
// number.
func demoList(n int, passports bool) []byte {
	var b strings.Builder
	b.WriteString("STT;Họ và tên;Số định danh;Hộ chiếu\n")
	for i := range n {
		fmt.Fprintf(&b, "%d;Công dân %d;0790880%05d", i+1, i+1, 40000+i)
		if passports {
			fmt.Fprintf(&b, ";C9%06d", 100000+i)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// SeedDemo fills the queue of held items as a day's work would: a list of
// citizens downloaded and one sent to the embassy in Paris (held), a top
// secret case file's export (held, then approved by the security
// officer), a notice to 250 addresses (held, then rejected), and a
// marked memo to another ministry (blocked, in the ledger only). staff
// holds DemoSenders' accounts; officer is the security officer.
func SeedDemo(ctx context.Context, s *Service, staff map[string]DemoStaff, officer DemoStaff) error {
	as := func(d DemoStaff) context.Context {
		return audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(d.Subject.ID, d.Username), UnitID: d.Subject.Unit})
	}
	var emails strings.Builder
	for i := range 250 {
		fmt.Fprintf(&emails, "kieu.bao%d@example.com\n", i)
	}
	items := []struct {
		who, to, name string
		way           Way
		level         authz.Level
		data          []byte
		decide        string // "", "approve" or "reject"
	}{
		{"consular.clerk", "", "danh-sach-cong-dan-can-bao-ho.csv", WayDownload, 0, demoList(64, false), ""},
		{"consular.officer", "VN/GOV/000.01.02.G12/consular", "VN/GOV/000.01.02.G12/consular/bao-ho-cong-dan/v1", WayExchange, 0, demoList(120, true), ""},
		{"office.secretclerk", "", "ho-so-2026-VP-07.zip", WayExport, authz.TopSecret, []byte("TUYỆT MẬT\nHồ sơ công việc: chuẩn bị chuyến thăm cấp cao"), "approve"},
		{"personnel.officer", "", "Thông báo tuyển dụng", WayMail, 0, []byte(emails.String()), "reject"},
		{"consular.officer", "VN/GOV/000.00.00.G02/edxml", "VN/GOV/000.00.00.G02/edxml/edxml/v1", WayExchange, 0, []byte("TỐI MẬT\nĐề nghị xác minh nhân thân"), ""},
	}
	for _, it := range items {
		d, ok := staff[it.who]
		if !ok {
			return fmt.Errorf("dlp: demo: no account %s", it.who)
		}
		err := s.Check(as(d), Item{Way: it.way, To: it.to, Level: it.level}, it.name, "text/plain", it.data)
		var h *HeldError
		switch {
		case err == nil:
			return fmt.Errorf("dlp: demo: %s's %s went out", it.who, it.name)
		case IsBlocked(err):
			continue
		case !asHeld(err, &h):
			return fmt.Errorf("dlp: demo: %w", err)
		}
		err = nil
		switch it.decide {
		case "approve":
			_, err = s.Decide(as(officer), officer.Subject, h.ID, true, "Đã xác minh: gửi Cục Lưu trữ theo kế hoạch nộp lưu")
		case "reject":
			_, err = s.Decide(as(officer), officer.Subject, h.ID, false, "Danh sách địa chỉ thư điện tử không được gửi hàng loạt; dùng cổng thông tin")
		}
		if err != nil {
			return fmt.Errorf("dlp: demo: %w", err)
		}
	}
	return nil
}
