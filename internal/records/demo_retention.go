package records

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
)

// DemoArchivePeople are the staff of the demo's archive: the Office's
// records office, its leader and the ministry's archivist.
type DemoArchivePeople struct {
	OfficeClerk, OfficeApprover, Archivist DemoStaff
}

// SeedDemoArchive gives the archive's pages their content on a new demo
// database: a confidential document with a print made under its
// leader's permission (so the secret registers and the copies page show
// a numbered copy), the Office's retention schedule, and case files of
// earlier years as the system found them when it went live (closed in
// their year; the only writes not through the service, since a service
// closes a case file now): one due for destruction and appraised for the
// leader's decision, one under a legal hold, one kept permanently and due
// for the historical archive.
func SeedDemoArchive(ctx context.Context, s *Service, p DemoArchivePeople, now time.Time) error {
	clerk, leader, arch := p.OfficeClerk, p.OfficeApprover, p.Archivist
	pdf, err := renderPDF("Công văn mật", []string{
		"Về việc chuẩn bị nội dung hội nghị Đại sứ, Trưởng Cơ quan đại diện Việt Nam ở nước ngoài.\n\nĐề nghị các đơn vị rà soát, tổng hợp ý kiến và gửi về Văn phòng Bộ trước ngày 20.",
		"Phụ lục: danh sách các đoàn công tác và phương án bố trí.",
	}, pdfMarks{Marking: "MẬT"}, now)
	if err != nil {
		return err
	}
	d, err := s.RegisterIncoming(clerk.as(ctx), clerk.Subject, NewIncoming{Type: TypeOfficialLetter, Number: "415/VPCP-QHQT", Sender: "Văn phòng Chính phủ",
		Subject: "Về việc chuẩn bị nội dung hội nghị Đại sứ, Trưởng Cơ quan đại diện", Date: now.AddDate(0, 0, -2), Urgency: Urgent,
		Classify: Classify{Level: authz.Confidential, Reason: "Danh mục bí mật nhà nước thuộc lĩnh vực ngoại giao", Source: "độ mật do cơ quan gửi xác định"},
		Content:  &Content{Filename: "415-VPCP-QHQT.pdf", MediaType: "application/pdf", Data: pdf}})
	if err != nil {
		return fmt.Errorf("records: demo classified document: %w", err)
	}
	if _, err := s.PermitCopy(leader.as(ctx), leader.Subject, d.ID, NewCopyPermit{StaffID: clerk.Subject.ID, Kind: CopyKindPrint, Copies: 2,
		Reason: "Phục vụ cuộc họp giao ban của Lãnh đạo Bộ", ExpiresAt: now.AddDate(0, 0, 7)}); err != nil {
		return fmt.Errorf("records: demo permission: %w", err)
	}
	if _, err := s.MakeCopy(clerk.as(ctx), clerk.Subject, d.ID, CopyKindPrint); err != nil {
		return fmt.Errorf("records: demo print: %w", err)
	}
	for _, n := range []NewSchedule{
		{Series: "VP.TAM", Title: "Hồ sơ công việc thường xuyên của Văn phòng", RetentionYears: 5, Source: "Bảng thời hạn bảo quản hồ sơ, tài liệu của Bộ (mục 1.5)"},
		{Series: "VP.VV", Title: "Hồ sơ chỉ đạo, điều hành", RetentionYears: Permanent, Source: "Bảng thời hạn bảo quản hồ sơ, tài liệu của Bộ (mục 1.1)"},
	} {
		if _, err := s.SetSchedule(arch.as(ctx), arch.Subject, n); err != nil {
			return fmt.Errorf("records: demo schedule: %w", err)
		}
	}
	old := []struct {
		year        int
		code, title string
	}{
		{2018, "VP.VV.01", "Hồ sơ chỉ đạo công tác đối ngoại năm 2018"},
		{2019, "VP.TAM.01", "Hồ sơ tổ chức hội nghị tổng kết năm 2019"},
		{2020, "VP.TAM.02", "Hồ sơ đoàn ra năm 2020"},
	}
	var ids []int64
	for _, o := range old {
		cf, err := s.CreateCaseFile(clerk.as(ctx), clerk.Subject, NewCaseFile{Year: o.year, Code: o.code, Title: o.title, RetentionYears: 10})
		if err != nil {
			return fmt.Errorf("records: demo case file %s: %w", o.code, err)
		}
		doc, err := s.RegisterIncoming(clerk.as(ctx), clerk.Subject, NewIncoming{Type: "thong_bao", Sender: "Văn phòng Chính phủ",
			Subject: "Tài liệu của " + o.title, Date: now, Content: &Content{Filename: "tai-lieu.txt", MediaType: "text/plain; charset=utf-8",
				Data: []byte("Tài liệu lưu trong " + o.title + ".")}})
		if err != nil {
			return err
		}
		if err := s.File(clerk.as(ctx), clerk.Subject, cf.ID, doc.ID); err != nil {
			return err
		}
		closed := time.Date(o.year, 12, 31, 3, 0, 0, 0, time.UTC)
		if _, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE record_case_files SET closed_us = ? WHERE id = ?`), store.Micros(closed), cf.ID); err != nil {
			return fmt.Errorf("records: demo case file %s: %w", o.code, err)
		}
		ids = append(ids, cf.ID)
	}
	if _, err := s.PlaceHold(arch.as(ctx), arch.Subject, ids[2], "Đang phục vụ thanh tra công tác đoàn ra"); err != nil {
		return fmt.Errorf("records: demo hold: %w", err)
	}
	if _, err := s.Appraise(arch.as(ctx), arch.Subject, []int64{ids[1]}); err != nil {
		return fmt.Errorf("records: demo appraisal: %w", err)
	}
	return nil
}
