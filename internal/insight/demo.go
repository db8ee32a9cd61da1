package insight

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
)

// DemoStaff is a demo account that seeds insight's data.
type DemoStaff struct {
	Subject  authz.Subject
	Username string
}

// DemoPeople are the accounts the demo acts as: the leader, the
// Consular Department's head and officer, and missions' officers (by
// username), the first of whom reports late and is returned.
type DemoPeople struct {
	Leader, Head, Officer DemoStaff
	Missions              []DemoStaff
}

func (d DemoStaff) ctx(ctx context.Context) context.Context {
	return audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(d.Subject.ID, d.Username), UnitID: d.Subject.Unit})
}

// SeedDemo fills a new demo's insight: tasks in every state (open, in
// progress, done on time, done late, overdue and escalated) and a
// quarterly consular report round the missions report in, some
// submitted, one approved, one returned with reasons, some missing.
// Past events are made at their own time by a service on a clock set
// back.
func SeedDemo(ctx context.Context, s *Service, p DemoPeople, now time.Time) error {
	if len(p.Missions) < 4 {
		return fmt.Errorf("insight: the demo needs four missions' officers, not %d", len(p.Missions))
	}
	at := func(days int) *Service {
		c := *s
		t := now.AddDate(0, 0, -days)
		c.opts.Now = func() time.Time { return t }
		return &c
	}
	consular := p.Head.Subject.Unit
	mission := func(i int) int64 { return p.Missions[i].Subject.Unit }
	type step func() error
	var task Task
	assign := func(svc *Service, n NewTask) step {
		return func() (err error) { task, err = svc.Assign(p.Leader.ctx(ctx), p.Leader.Subject, n); return err }
	}
	report := func(svc *Service, who DemoStaff, r Report) step {
		return func() (err error) {
			r.Version = task.Version
			task, err = svc.Report(who.ctx(ctx), who.Subject, task.ID, r)
			return err
		}
	}
	steps := []step{
		// Done on time.
		assign(at(30), NewTask{Title: "Tổng kết công tác bảo hộ công dân năm 2025", Source: FromMeeting, SourceRef: "Giao ban Bộ tháng 1",
			LeadUnit: consular, Supporting: []int64{mission(0)}, WorkingDays: 10}),
		report(at(25), p.Missions[0], Report{Progress: 50, Note: "Đã gửi số liệu các vụ việc bảo hộ tại địa bàn."}),
		report(at(20), p.Officer, Report{Complete: true, Note: "Đã trình báo cáo tổng kết.", Evidence: "45/BC-LS"}),
		// Done late.
		assign(at(28), NewTask{Title: "Rà soát danh sách công dân tại vùng có nguy cơ thiên tai", Source: FromDirect,
			LeadUnit: mission(1), WorkingDays: 5}),
		report(at(10), p.Missions[1], Report{Complete: true, Note: "Đã rà soát, cập nhật 312 công dân.", Evidence: "12/ĐSQ-LS"}),
		// Overdue, escalated below.
		assign(at(16), NewTask{Title: "Báo cáo tình hình lao động Việt Nam tại địa bàn", Source: FromMeeting, SourceRef: "Họp Ban cán sự Đảng",
			LeadUnit: mission(2), Supporting: []int64{consular}, WorkingDays: 5}),
		report(at(12), p.Missions[2], Report{Progress: 30, Note: "Đang làm việc với cơ quan sở tại."}),
		// In progress.
		assign(at(5), NewTask{Title: "Chuẩn bị chuyến thăm chính thức của Lãnh đạo Bộ", Source: FromDirect,
			LeadUnit: mission(0), Supporting: []int64{consular, mission(3)}, WorkingDays: 20}),
		report(at(2), p.Missions[0], Report{Progress: 40, Note: "Đã thống nhất chương trình khung với nước sở tại."}),
		// Open.
		assign(at(1), NewTask{Title: "Đề xuất cải cách thủ tục cấp hộ chiếu phổ thông ở nước ngoài", Source: FromMeeting,
			SourceRef: "Hội nghị Ngoại giao lần thứ 32", LeadUnit: consular, Supporting: []int64{mission(1), mission(3)}, WorkingDays: 15}),
	}
	for i, st := range steps {
		if err := st(); err != nil {
			return fmt.Errorf("insight: demo task step %d: %w", i, err)
		}
	}
	if _, err := s.Escalate(audit.WithOrigin(ctx, audit.Origin{Actor: audit.System("insight")})); err != nil {
		return err
	}
	return seedDemoRound(ctx, s, p, at)
}

// seedDemoRound opens the quarterly round and files the missions'
// reports.
func seedDemoRound(ctx context.Context, s *Service, p DemoPeople, at func(int) *Service) error {
	lo := 0.0
	tp, err := at(40).CreateTemplate(p.Head.ctx(ctx), p.Head.Subject, Template{Code: "consular_quarterly",
		NameVI: "Báo cáo công tác lãnh sự và bảo hộ công dân", NameEN: "Consular work and citizen protection", Period: Quarterly,
		Indicators: []Indicator{
			{Code: "passports", NameVI: "Hộ chiếu đã cấp", NameEN: "Passports issued", Type: Integer, Unit: "cuốn", Min: &lo, Required: true},
			{Code: "visas", NameVI: "Thị thực đã cấp", NameEN: "Visas issued", Type: Integer, Unit: "lượt", Min: &lo, Required: true},
			{Code: "protection_cases", NameVI: "Vụ việc bảo hộ công dân", NameEN: "Citizen protection cases", Type: Integer, Unit: "vụ", Min: &lo, Required: true},
			{Code: "fees", NameVI: "Lệ phí lãnh sự thu được", NameEN: "Consular fees collected", Type: Decimal, Unit: "USD", Min: &lo},
			{Code: "on_time", NameVI: "Tỷ lệ hồ sơ giải quyết đúng hạn", NameEN: "Dossiers resolved on time", Type: Percent, Required: true},
			{Code: "notes", NameVI: "Khó khăn, kiến nghị", NameEN: "Difficulties and proposals", Type: Text},
		}})
	if err != nil {
		return fmt.Errorf("insight: demo template: %w", err)
	}
	var units []int64
	for _, m := range p.Missions {
		units = append(units, m.Subject.Unit)
	}
	r, err := at(20).OpenRound(p.Head.ctx(ctx), p.Head.Subject, NewRound{TemplateID: tp.ID, WorkingDays: 30, Units: units})
	if err != nil {
		return fmt.Errorf("insight: demo round: %w", err)
	}
	filings := []map[string]string{
		{"passports": "412", "visas": "1890", "protection_cases": "7", "fees": "38450", "on_time": "98.5", "notes": "Đề nghị bổ sung phôi hộ chiếu."},
		{"passports": "655", "visas": "3120", "protection_cases": "12", "fees": "61200", "on_time": "96"},
		{"passports": "230", "visas": "870", "protection_cases": "3", "fees": "19800", "on_time": "100"},
	}
	var subs []Submission
	for i, f := range filings {
		if i >= len(p.Missions) {
			break
		}
		sm, err := at(10-i).Submit(p.Missions[i].ctx(ctx), p.Missions[i].Subject, r.ID, f)
		if err != nil {
			return fmt.Errorf("insight: demo filing %d: %w", i, err)
		}
		subs = append(subs, sm)
	}
	if _, err := at(5).DecideSubmission(p.Head.ctx(ctx), p.Head.Subject, r.ID, subs[1].ID, Decision{Approve: true, Version: subs[1].Version}); err != nil {
		return err
	}
	_, err = at(5).DecideSubmission(p.Head.ctx(ctx), p.Head.Subject, r.ID, subs[2].ID, Decision{Version: subs[2].Version,
		Reason: "Số vụ việc bảo hộ chưa khớp với báo cáo tháng; đề nghị rà soát và gửi lại."})
	return err
}
