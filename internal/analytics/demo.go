package analytics

import (
	"context"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
)

// DemoOfficer is a demo account that registers a dataset.
type DemoOfficer struct {
	Subject  authz.Subject
	Username string
}

func (d DemoOfficer) ctx(ctx context.Context) context.Context {
	return audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(d.Subject.ID, d.Username), UnitID: d.Subject.Unit})
}

// SeedDemo fills a new demo's catalogue: two datasets units hold outside
// Chancery, one refreshed on time and one late (its freshness check
// fails), then runs every dataset's checks so that each shows a result.
func SeedDemo(ctx context.Context, c *Catalogue, consular, mission DemoOfficer, now time.Time) error {
	for _, x := range []struct {
		by DemoOfficer
		n  NewDataset
	}{
		{consular, NewDataset{Code: "consular.visa-statistics", NameVI: "Thống kê thị thực cấp tại các cơ quan đại diện",
			NameEN: "Visas issued by the missions", OwnerUnit: consular.Subject.Unit, SourceSystem: "Hệ thống thị thực điện tử / e-visa system",
			Description: "Số thị thực cấp theo ngày, loại và quốc tịch người xin, tổng hợp từ hệ thống thị thực. / Visas issued per day, type and applicant's nationality, from the visa system.",
			Refresh:     RefreshDaily, Users: "Cục Lãnh sự, lãnh đạo Bộ / The Consular Department, the ministry's leadership",
			FreshnessHours: 48, RefreshedAt: now.Add(-20 * time.Hour)}},
		{mission, NewDataset{Code: "mission.host-press-digest", NameVI: "Điểm báo nước sở tại", NameEN: "Host country press digest",
			OwnerUnit: mission.Subject.Unit, SourceSystem: "Bảng tính của cơ quan đại diện / the mission's spreadsheet",
			Description: "Tin bài báo chí nước sở tại liên quan đến Việt Nam, tóm tắt hằng tuần. / The host country's press about Viet Nam, summarised weekly.",
			Refresh:     RefreshWeekly, Users: "Vụ Thông tin Báo chí / The Press and Information Department",
			FreshnessHours: 24 * 8, RefreshedAt: now.Add(-12 * 24 * time.Hour)}},
	} {
		if _, err := c.Register(x.by.ctx(ctx), x.by.Subject, x.n); err != nil {
			return err
		}
	}
	return c.RunAllChecks(ctx)
}
