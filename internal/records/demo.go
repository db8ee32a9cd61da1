package records

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// DemoStaff is a demo member of staff the demo's documents are by.
type DemoStaff struct {
	Subject  authz.Subject
	Username string
}

// DemoPeople are the staff of the demo's records: the Office's records
// office and leader, the Consular Department's clerk, officer and leader,
// and the Cipher-IT Department's officer.
type DemoPeople struct {
	OfficeClerk, OfficeApprover                      DemoStaff
	ConsularClerk, ConsularOfficer, ConsularApprover DemoStaff
	CipherOfficer                                    DemoStaff
	// The clerks of the classified documents (văn thư mật) of the Office
	// and the Consular Department, the Cipher-IT Department's clerk and
	// its director: the year's demo (demo_year.go) needs them.
	OfficeSecretClerk, ConsularSecretClerk, CipherClerk, CipherApprover DemoStaff
}

// as returns a context acting as m.
func (m DemoStaff) as(ctx context.Context) context.Context {
	return audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(m.Subject.ID, m.Username), UnitID: m.Subject.Unit})
}

// demoIncoming are the Office's incoming documents: sender, type, the
// sender's number and symbol, subject, level.
var demoIncoming = []struct {
	sender, typ, number, subject string
	level                        authz.Level
	urgency                      Urgency
}{
	{"Văn phòng Chính phủ", "thong_bao", "112/TB-VPCP", "Thông báo kết luận của Thủ tướng Chính phủ tại cuộc họp về công tác đối ngoại", authz.Unclassified, Normal},
	{"Văn phòng Chính phủ", TypeOfficialLetter, "2045/VPCP-QHQT", "Về việc chuẩn bị đón đoàn cấp cao nước ngoài thăm Việt Nam", authz.Confidential, Urgent},
	{"Bộ Công an", TypeOfficialLetter, "318/BCA-A08", "Về việc phối hợp cấp hộ chiếu ngoại giao cho đoàn công tác", authz.Unclassified, Normal},
	{"Đại sứ quán Việt Nam tại Pháp", "bao_cao", "27/BC-ĐSQ", "Báo cáo tình hình cộng đồng người Việt Nam tại Pháp quý I", authz.Confidential, Normal},
	{"Bộ Tài chính", "cong_dien", "05/CĐ-BTC", "Công điện về việc rà soát kinh phí hoạt động đối ngoại năm 2026", authz.Unclassified, VeryUrgent},
	{"Ủy ban nhân dân thành phố Hà Nội", "giay_moi", "77/GM-UBND", "Giấy mời dự hội nghị hợp tác quốc tế của Thủ đô", authz.Unclassified, Normal},
	{"Đại sứ quán Việt Nam tại Nhật Bản", "bao_cao", "14/BC-ĐSQ", "Báo cáo về chuyến thăm của đoàn đại biểu Quốc hội", authz.Confidential, Urgent},
	{"Ban Cơ yếu Chính phủ", "huong_dan", "09/HD-BCY", "Hướng dẫn sử dụng mật mã trong trao đổi văn bản điện tử", authz.Confidential, Normal},
}

// demoOutgoing are the Consular Department's outgoing documents: type,
// subject, level.
var demoOutgoing = []struct {
	typ, subject string
	level        authz.Level
}{
	{"quyet_dinh", "Quyết định về việc cử cán bộ đi công tác tại Tổng Lãnh sự quán Osaka", authz.Unclassified},
	{TypeOfficialLetter, "Về việc hướng dẫn thủ tục hợp pháp hóa lãnh sự", authz.Unclassified},
	{"thong_bao", "Thông báo lịch tiếp công dân quý II", authz.Unclassified},
	{"bao_cao", "Báo cáo công tác bảo hộ công dân tháng 3", authz.Confidential},
	{"ke_hoach", "Kế hoạch triển khai hộ chiếu có gắn chip điện tử tại các cơ quan đại diện", authz.Unclassified},
}

// demoCipher are the Cipher-IT Department's drafts: subject, level.
var demoCipher = []struct {
	subject string
	level   authz.Level
}{
	{"Phương án bảo đảm an toàn mạng diện rộng của Bộ", authz.Secret},
	{"Kế hoạch thay khóa mật mã cho các cơ quan đại diện năm 2026", authz.TopSecret},
	{"Báo cáo đánh giá rủi ro hệ thống thông tin cấp độ 4", authz.Secret},
}

// DemoYearKey marks a database whose demo year of documents was seeded
// (or is to be left out).
const DemoYearKey = "records.demo_year"

// SeedDemo fills a new demo database with the records of the Office,
// the Consular Department and the Cipher-IT Department: incoming
// documents registered, some assigned by the Office's leader, outgoing
// ones at each step to issuance, classified drafts, and a case file,
// after the year before (demo_year.go).
// Everything goes through the service, so it is numbered, sealed,
// indexed and audited as in use.
func SeedDemo(ctx context.Context, s *Service, p DemoPeople, now time.Time) error {
	// The year is seeded once; a database marked DemoYearKey beforehand
	// (the app's tests, which start many demo nodes) goes without it.
	switch _, err := s.db.Meta(ctx, DemoYearKey); {
	case errors.Is(err, errs.ErrNotFound):
		if err := seedDemoYear(ctx, s, p, now); err != nil {
			return err
		}
		if err := store.SetMeta(ctx, s.db, DemoYearKey, now.UTC().Format(time.RFC3339)); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	var incoming []*Document
	for i, in := range demoIncoming {
		nd := NewIncoming{Type: in.typ, Number: in.number, Sender: in.sender, Subject: in.subject, Urgency: in.urgency,
			Date: now.AddDate(0, 0, -3-i), Classify: Classify{Level: in.level},
			Content: &Content{Filename: fmt.Sprintf("van-ban-den-%02d.pdf", i+1), MediaType: "application/pdf",
				Data: fmt.Appendf(nil, "%%PDF-1.4\n%% %s\n%%%%EOF\n", in.subject), Text: in.subject}}
		if in.level > authz.Unclassified {
			nd.Reason, nd.Source = "Danh mục bí mật nhà nước thuộc lĩnh vực ngoại giao", "độ mật do cơ quan gửi xác định"
		}
		d, err := s.RegisterIncoming(p.OfficeClerk.as(ctx), p.OfficeClerk.Subject, nd)
		if err != nil {
			return fmt.Errorf("records: demo incoming %q: %w", in.number, err)
		}
		incoming = append(incoming, d)
	}
	// The Office's leader assigns half of them, to the Office itself or
	// to the Consular Department; one is already handled.
	for i, d := range incoming[:4] {
		lead := p.OfficeClerk.Subject.Unit
		if i%2 == 1 {
			lead = p.ConsularClerk.Subject.Unit
		}
		in := Instruction{Text: "Giao đơn vị chủ trì nghiên cứu, đề xuất; báo cáo trước hạn.", Lead: AssignTo{UnitID: lead},
			Deadline: now.AddDate(0, 0, 5+i)}
		if _, err := s.Assign(p.OfficeApprover.as(ctx), p.OfficeApprover.Subject, d.ID, in); err != nil {
			return fmt.Errorf("records: demo instruction: %w", err)
		}
	}
	if _, err := s.Complete(p.OfficeClerk.as(ctx), p.OfficeClerk.Subject, incoming[0].ID, "Đã tổng hợp, báo cáo Lãnh đạo Bộ."); err != nil {
		return fmt.Errorf("records: demo completion: %w", err)
	}
	cf, err := s.CreateCaseFile(p.OfficeClerk.as(ctx), p.OfficeClerk.Subject, NewCaseFile{Year: now.In(registerZone()).Year(), Code: "VP.01",
		Title: "Hồ sơ văn bản chỉ đạo của Chính phủ về công tác đối ngoại", RetentionYears: Permanent})
	if err != nil {
		return fmt.Errorf("records: demo case file: %w", err)
	}
	for _, d := range incoming[:2] {
		if err := s.File(p.OfficeClerk.as(ctx), p.OfficeClerk.Subject, cf.ID, d.ID); err != nil {
			return fmt.Errorf("records: demo filing: %w", err)
		}
	}
	// The Consular Department's outgoing documents: unclassified ones
	// issued by its records office (its clerk is cleared for none), the
	// others left at a step of their way.
	for i, out := range demoOutgoing {
		nd := NewDraft{Type: out.typ, Subject: out.subject, Classify: Classify{Level: out.level},
			Content: &Content{Filename: fmt.Sprintf("du-thao-%02d.pdf", i+1), MediaType: "application/pdf",
				Data: fmt.Appendf(nil, "%%PDF-1.4\n%% %s\n%%%%EOF\n", out.subject), Text: out.subject}}
		if out.level > authz.Unclassified {
			nd.Reason = "Danh mục bí mật nhà nước thuộc lĩnh vực ngoại giao"
		}
		d, err := s.StartDraft(p.ConsularOfficer.as(ctx), p.ConsularOfficer.Subject, nd)
		if err != nil {
			return fmt.Errorf("records: demo draft: %w", err)
		}
		if i == len(demoOutgoing)-1 {
			continue // still a draft
		}
		if _, err := s.Approve(p.ConsularApprover.as(ctx), p.ConsularApprover.Subject, d.ID, ""); err != nil {
			return fmt.Errorf("records: demo approval: %w", err)
		}
		if _, err := s.Sign(p.ConsularApprover.as(ctx), p.ConsularApprover.Subject, d.ID, ""); err != nil {
			return fmt.Errorf("records: demo signature: %w", err)
		}
		if out.level > authz.Unclassified {
			continue // signed, for a cleared records officer to issue
		}
		as := IssueAs{OrgSymbol: "CLS"}
		if out.typ == TypeOfficialLetter {
			as = IssueAs{OrgSymbol: "CLS", UnitSymbol: "HPH"} // drafted by its legalization division
		}
		if _, err := s.Issue(p.ConsularClerk.as(ctx), p.ConsularClerk.Subject, d.ID, as); err != nil {
			return fmt.Errorf("records: demo issuance: %w", err)
		}
	}
	if err := seedDemoConsularIncoming(ctx, s, p, now); err != nil {
		return err
	}
	for i, c := range demoCipher {
		_, err := s.StartDraft(p.CipherOfficer.as(ctx), p.CipherOfficer.Subject, NewDraft{Type: []string{"phuong_an", "ke_hoach", "bao_cao"}[i],
			Subject: c.subject, Classify: Classify{Level: c.level, Reason: "Danh mục bí mật nhà nước thuộc lĩnh vực cơ yếu"},
			Content: &Content{Filename: fmt.Sprintf("co-yeu-%02d.pdf", i+1), MediaType: "application/pdf",
				Data: fmt.Appendf(nil, "%%PDF-1.4\n%% %s\n%%%%EOF\n", c.subject)}})
		if err != nil {
			return fmt.Errorf("records: demo classified draft: %w", err)
		}
	}
	return nil
}
