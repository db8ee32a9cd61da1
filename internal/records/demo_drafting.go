package records

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/authz"
)

// SeedDemoDrafting adds to the demo (after SeedDemo) what the outgoing
// side's pages show: a Consular Department draft in review with two
// versions and a threaded comment; one issued with its distribution list
// to a unit, missions and agencies; one recalled and replaced; the
// Consular and Cipher-IT Departments' case files (one of two years ago
// still open, past its delivery to the archive); and in the classified
// archive an extension, a need-to-know grant and a top-secret
// declassification awaiting its second person (by the security officer).
// It is kept small: the full-year demo is built elsewhere.
func SeedDemoDrafting(ctx context.Context, s *Service, p DemoPeople, security DemoStaff, now time.Time) error {
	officer, approver, clerk := p.ConsularOfficer, p.ConsularApprover, p.ConsularClerk
	pdf := func(name, text string) *Content {
		return &Content{Filename: name, MediaType: "application/pdf", Data: fmt.Appendf(nil, "%%PDF-1.4\n%% %s\n%%%%EOF\n", text), Text: text}
	}
	draft := func(by DemoStaff, typ, subject string, l authz.Level, c *Content) (*Document, error) {
		nd := NewDraft{Type: typ, Subject: subject, Classify: Classify{Level: l}, Content: c}
		if l > authz.Unclassified {
			nd.Reason = "Danh mục bí mật nhà nước thuộc lĩnh vực cơ yếu"
		}
		return s.StartDraft(by.as(ctx), by.Subject, nd)
	}
	fail := func(what string, err error) error { return fmt.Errorf("records: demo drafting, %s: %w", what, err) }

	// In review: two versions, a comment and its reply, sent to the leader.
	d, err := draft(officer, TypeOfficialLetter, "Về việc hướng dẫn cấp thị thực điện tử cho người nước ngoài nhập cảnh Việt Nam", authz.Unclassified,
		pdf("cv-thi-thuc-v1.pdf", "Dự thảo lần 1"))
	if err != nil {
		return fail("draft", err)
	}
	if _, err := s.AddVersion(officer.as(ctx), officer.Subject, d.ID, pdf("cv-thi-thuc-v2.pdf", "Dự thảo lần 2"), "Bổ sung danh sách cửa khẩu theo ý kiến Vụ Luật pháp"); err != nil {
		return fail("version", err)
	}
	c, err := s.AddComment(approver.as(ctx), approver.Subject, d.ID, 1, 0, "Đề nghị nêu rõ thời hạn xử lý hồ sơ thị thực điện tử.")
	if err != nil {
		return fail("comment", err)
	}
	if _, err := s.AddComment(officer.as(ctx), officer.Subject, d.ID, 1, c.ID, "Đã bổ sung tại khoản 2 của dự thảo lần 2."); err != nil {
		return fail("reply", err)
	}
	if _, err := s.SendForReview(officer.as(ctx), officer.Subject, d.ID, []int64{approver.Subject.ID}, "Kính trình Lãnh đạo Cục xem xét."); err != nil {
		return fail("review", err)
	}

	// Issued to units, missions and agencies; and one recalled, replaced.
	units, err := demoUnitIDs(ctx, s, "000.00.01.G12", "000.01.03.G12", "000.02.02.G12", "000.00.00.G02")
	if err != nil {
		return fail("units", err)
	}
	issue := func(subject string, to []Recipient) (*Document, error) {
		d, err := draft(officer, "thong_bao", subject, authz.Unclassified, pdf("tb.pdf", subject))
		if err != nil {
			return nil, err
		}
		if _, err := s.SendForReview(officer.as(ctx), officer.Subject, d.ID, []int64{approver.Subject.ID}, ""); err != nil {
			return nil, err
		}
		if _, err := s.ReviewDraft(approver.as(ctx), approver.Subject, d.ID, true, ""); err != nil {
			return nil, err
		}
		if _, err := s.Sign(approver.as(ctx), approver.Subject, d.ID, ""); err != nil {
			return nil, err
		}
		return s.Distribute(clerk.as(ctx), clerk.Subject, d.ID, IssueAs{OrgSymbol: "CLS"}, to)
	}
	issued, err := issue("Thông báo về việc tạm dừng tiếp nhận hồ sơ hợp pháp hóa lãnh sự ngày 30 tháng 4", []Recipient{
		{Kind: RecipientUnit, UnitID: units[0]}, {Kind: RecipientMission, UnitID: units[1]}, {Kind: RecipientMission, UnitID: units[2]},
		{Kind: RecipientAgency, UnitID: units[3]}, {Kind: RecipientAgency, Name: "Ủy ban nhân dân tỉnh Lào Cai", Code: "000.00.00.H29"}})
	if err != nil {
		return fail("issue", err)
	}
	recalled, err := issue("Thông báo lịch tiếp công dân tháng 5", []Recipient{{Kind: RecipientUnit, UnitID: units[0]}})
	if err != nil {
		return fail("issue", err)
	}
	if _, err := s.Recall(approver.as(ctx), approver.Subject, recalled.ID, "Ghi sai ngày tiếp công dân; thay bằng văn bản khác."); err != nil {
		return fail("recall", err)
	}
	if _, err := s.Replace(officer.as(ctx), officer.Subject, recalled.ID); err != nil {
		return fail("replace", err)
	}

	// Case files: this year's, with documents filed; one of two years ago
	// still open, past its delivery to the archive.
	year := now.In(registerZone()).Year()
	cf, err := s.CreateCaseFile(clerk.as(ctx), clerk.Subject, NewCaseFile{Year: year, Code: "LS.05", Title: "Hồ sơ hướng dẫn thủ tục lãnh sự năm " + fmt.Sprint(year), RetentionYears: 10})
	if err != nil {
		return fail("case file", err)
	}
	for _, id := range []int64{issued.ID, recalled.ID, d.ID} {
		if err := s.File(clerk.as(ctx), clerk.Subject, cf.ID, id); err != nil {
			return fail("filing", err)
		}
	}
	old, err := s.CreateCaseFile(clerk.as(ctx), clerk.Subject, NewCaseFile{Year: year - 2, Code: "LS.07", Title: "Hồ sơ bảo hộ công dân Việt Nam gặp nạn ở nước ngoài", RetentionYears: Permanent})
	if err != nil {
		return fail("case file", err)
	}
	if err := s.File(clerk.as(ctx), clerk.Subject, old.ID, issued.ID); err != nil {
		return fail("filing", err)
	}

	// The Cipher-IT Department: a top-secret report whose declassification
	// the security officer proposed, a secret plan whose protection was
	// extended and which an Office leader may read by grant, and their
	// case file.
	cipher := p.CipherOfficer
	report, err := draft(cipher, "bao_cao", "Báo cáo kết quả kiểm tra an toàn mật mã tại các cơ quan đại diện năm 2015", authz.TopSecret, pdf("bc-2015.pdf", "Báo cáo 2015"))
	if err != nil {
		return fail("classified draft", err)
	}
	plan, err := draft(cipher, "phuong_an", "Phương án dự phòng kênh liên lạc mật với các cơ quan đại diện", authz.Secret, pdf("pa.pdf", "Phương án"))
	if err != nil {
		return fail("classified draft", err)
	}
	if _, err := s.Declassify(security.as(ctx), security.Subject, report.ID, "Hết giá trị bảo vệ theo đánh giá của Hội đồng năm "+fmt.Sprint(year)); err != nil {
		return fail("declassification", err)
	}
	if err := s.Extend(security.as(ctx), security.Subject, plan.ID, ProtectUntil(authz.Secret, now).AddDate(10, 0, 0), "Quyết định gia hạn của Bộ trưởng"); err != nil {
		return fail("extension", err)
	}
	if _, err := s.Grant(security.as(ctx), security.Subject, plan.ID, NewGrant{StaffID: p.OfficeApprover.Subject.ID,
		Reason: "Phối hợp xây dựng phương án liên lạc", ExpiresAt: now.AddDate(0, 3, 0)}); err != nil {
		return fail("grant", err)
	}
	ccf, err := s.CreateCaseFile(cipher.as(ctx), cipher.Subject, NewCaseFile{Year: year, Code: "CY.04", Title: "Hồ sơ bảo đảm an toàn thông tin năm " + fmt.Sprint(year), RetentionYears: Permanent})
	if err != nil {
		return fail("case file", err)
	}
	for _, id := range []int64{report.ID, plan.ID} {
		if err := s.File(cipher.as(ctx), cipher.Subject, ccf.ID, id); err != nil {
			return fail("filing", err)
		}
	}
	return nil
}

// demoUnitIDs returns the ids of the units with codes, in order.
func demoUnitIDs(ctx context.Context, s *Service, codes ...string) ([]int64, error) {
	out := make([]int64, len(codes))
	for i, code := range codes {
		if err := s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT id FROM units WHERE code = ?`), code).Scan(&out[i]); err != nil {
			return nil, fmt.Errorf("unit %s: %w", code, err)
		}
	}
	return out, nil
}
