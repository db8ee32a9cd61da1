package records

import (
	"context"
	"fmt"
	"time"
)

// seedDemoConsularIncoming gives the Consular Department's records
// office an incoming register of its own, so that each console page has
// something to show its staff: one document awaiting its leader's
// instruction, one assigned to its officer and overdue, one handled.
func seedDemoConsularIncoming(ctx context.Context, s *Service, p DemoPeople, now time.Time) error {
	docs := []struct {
		sender, typ, number, subject string
		urgency                      Urgency
		due                          time.Time
		channel                      Channel
	}{
		{"Đại sứ quán Việt Nam tại Hàn Quốc", "bao_cao", "41/BC-ĐSQ", "Báo cáo tình hình bảo hộ công dân Việt Nam tại Hàn Quốc tháng 11", Normal, time.Time{}, ChannelEmail},
		{"Bộ Công an", TypeOfficialLetter, "902/BCA-QLXNC", "Về việc phối hợp xác minh nhân thân công dân đề nghị cấp hộ chiếu", Urgent, now.AddDate(0, 0, -2), ChannelPaper},
		{"Ủy ban nhân dân tỉnh Lào Cai", TypeOfficialLetter, "318/UBND-NC", "Về việc tiếp nhận công dân được trao trả qua cửa khẩu", Normal, now.AddDate(0, 0, 6), ChannelPaper},
	}
	var ids []int64
	for i, d := range docs {
		doc, err := s.RegisterIncoming(p.ConsularClerk.as(ctx), p.ConsularClerk.Subject, NewIncoming{Type: d.typ, Number: d.number,
			Sender: d.sender, Subject: d.subject, Date: now.AddDate(0, 0, -4-i), Urgency: d.urgency, DueAt: d.due, Channel: d.channel,
			Content: &Content{Filename: fmt.Sprintf("lanh-su-den-%02d.pdf", i+1), MediaType: MediaPDF,
				Data: fmt.Appendf(nil, "%%PDF-1.4\n%% %s\n%%%%EOF\n", d.subject)}})
		if err != nil {
			return fmt.Errorf("records: demo consular incoming %q: %w", d.number, err)
		}
		ids = append(ids, doc.ID)
	}
	leader, officer := p.ConsularApprover, p.ConsularOfficer
	for _, id := range ids[1:] {
		in := Instruction{Text: "Giao đồng chí chủ trì xử lý, báo cáo kết quả.", Lead: AssignTo{UnitID: officer.Subject.Unit, StaffID: officer.Subject.ID}}
		if _, err := s.Assign(leader.as(ctx), leader.Subject, id, in); err != nil {
			return fmt.Errorf("records: demo consular instruction: %w", err)
		}
	}
	if _, err := s.Comment(officer.as(ctx), officer.Subject, ids[2], "Đã liên hệ Ủy ban nhân dân tỉnh Lào Cai."); err != nil {
		return fmt.Errorf("records: demo consular step: %w", err)
	}
	if _, err := s.Complete(officer.as(ctx), officer.Subject, ids[2], "Đã phối hợp tiếp nhận, báo cáo Lãnh đạo Cục."); err != nil {
		return fmt.Errorf("records: demo consular completion: %w", err)
	}
	return nil
}
