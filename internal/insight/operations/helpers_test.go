package operations

import (
	"context"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// The fixture's units: the ministry, a department and two missions.
const (
	ministryID = 1
	consularID = 2
	parisID    = 3
	tokyoID    = 4
)

var fixtureUnits = []identity.Unit{
	{ID: ministryID, Code: "000.00.00.G12", NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs", Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"},
	{ID: consularID, Code: "000.00.03.G12", NameVI: "Cục Lãnh sự", NameEN: "Consular Department", Kind: identity.KindDepartment, ParentID: ministryID, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"},
	{ID: parisID, Code: "000.01.02.G12", NameVI: "Đại sứ quán Việt Nam tại Pháp", NameEN: "Embassy of Viet Nam in France (Paris)", Kind: identity.KindEmbassy, ParentID: ministryID, Country: "FR", TimeZone: "Europe/Paris"},
	{ID: tokyoID, Code: "000.01.03.G12", NameVI: "Đại sứ quán Việt Nam tại Nhật Bản", NameEN: "Embassy of Viet Nam in Japan (Tokyo)", Kind: identity.KindEmbassy, ParentID: ministryID, Country: "JP", TimeZone: "Asia/Tokyo"},
}

type fixedDirectory []identity.Unit

func (d fixedDirectory) AllUnits(context.Context) ([]identity.Unit, error) { return d, nil }

type fixedLinks []Link

func (l fixedLinks) Links(context.Context) ([]Link, error) { return l, nil }

// fixtureNow is a Wednesday noon in Hanoi.
var fixtureNow = time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)

// The readers: a leader cleared confidential, Paris's officer (not
// cleared) and Paris's head cleared secret.
var (
	leader       = authz.Subject{Kind: authz.Staff, ID: 1, Unit: consularID, Roles: authz.RolesOf(authz.Leader), Clearance: authz.Confidential}
	parisOfficer = authz.Subject{Kind: authz.Staff, ID: 2, Unit: parisID, Roles: authz.RolesOf(authz.Officer)}
	parisHead    = authz.Subject{Kind: authz.Staff, ID: 3, Unit: parisID, Roles: authz.RolesOf(authz.Approver), Clearance: authz.Secret}
)

// seedFixture writes the units and, for Paris: three dossiers this
// quarter (one decided on time, one late, one past its deadline), two
// overdue tasks (one secret), an open confidential alert, a report round
// past due without its report, and two documents (one secret); for
// Tokyo one dossier decided on time. Paris's link has been down two
// days.
func seedFixture(t *testing.T, db *store.DB) *Service {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	now := fixtureNow
	for _, u := range fixtureUnits {
		exec(`INSERT INTO units (id, code, name_vi, name_en, kind, country, timezone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Code, u.NameVI, u.NameEN, string(u.Kind), u.Country, u.TimeZone, now, now)
	}
	day := 24 * time.Hour
	us := func(t time.Time) int64 { return t.UnixMicro() }
	dossier := func(n int, unit int64, submitted time.Time, finished time.Duration, late bool, due time.Time) {
		status, open, fin := 4, 1, int64(0) // processing
		if finished > 0 {
			status, open, fin = 10, 0, us(submitted.Add(finished)) // returned
		}
		l := 0
		if late {
			l = 1
		}
		exec(`INSERT INTO dossiers (code, procedure_code, unit_id, channel, status, open, lifecycle, applicant_name, form,
				submitted_us, received_us, due_us, finished_us, late, updated_us)
			VALUES (?, '1.900001', ?, 2, ?, ?, '{}', 'Nguyễn Văn A', ?, ?, ?, ?, ?, ?, ?)`,
			"D-"+string(rune('a'+n)), unit, status, open, []byte("sealed"), us(submitted), us(submitted.Add(time.Hour)), us(due), fin, l, us(now))
	}
	dossier(0, parisID, now.Add(-20*day), 3*day, false, now.Add(-10*day))
	dossier(1, parisID, now.Add(-20*day), 15*day, true, now.Add(-10*day))
	dossier(2, parisID, now.Add(-15*day), 0, false, now.Add(-day))
	dossier(3, tokyoID, now.Add(-8*day), day, false, now.Add(day))
	// A dossier long ago counts in no week and is not overdue (decided).
	dossier(4, tokyoID, now.Add(-400*day), day, false, now.Add(-390*day))

	exec(`INSERT INTO insight_tasks (uid, title, source, level, lead_unit, assigned_by, status, due_us, created_us, updated_us)
		VALUES ('t1', 'Rà soát', 'direct', 0, ?, 'Lãnh đạo', 'open', ?, ?, ?), ('t2', 'Mật', 'direct', 2, ?, 'Lãnh đạo', 'in_progress', ?, ?, ?),
		('t3', 'Xong', 'direct', 0, ?, 'Lãnh đạo', 'done', ?, ?, ?)`,
		parisID, us(now.Add(-day)), us(now), us(now), parisID, us(now.Add(-day)), us(now), us(now), parisID, us(now.Add(-day)), us(now), us(now))
	exec(`INSERT INTO sentinel_alerts (rule, unit_id, score, risk, title_vi, title_en, explanation_vi, explanation_en, events, first_us, last_us, level, status, created_us, updated_us)
		VALUES ('r', ?, 1, 1, 'Cảnh báo', 'Alert', 'x', 'x', '[]', ?, ?, 1, 'new', ?, ?),
		('r', ?, 1, 1, 'Đã đóng', 'Closed', 'x', 'x', '[]', ?, ?, 0, 'closed_true_positive', ?, ?)`,
		parisID, us(now), us(now), us(now), us(now), parisID, us(now), us(now), us(now), us(now))
	exec(`INSERT INTO insight_templates (id, uid, code, name_vi, name_en, period, owner_unit, indicators, created_us)
		VALUES (1, 'tp', 'BC-01', 'Báo cáo', 'Report', 'monthly', ?, '[]', ?)`, ministryID, us(now))
	exec(`INSERT INTO insight_rounds (id, uid, template_id, label, period_from, period_to, due_us, owner_unit, created_us)
		VALUES (1, 'r1', 1, '2026-11', '2026-10-15', '2026-11-14', ?, ?, ?)`, us(now.Add(-2*day)), ministryID, us(now))
	exec(`INSERT INTO insight_round_units (round_id, unit_id) VALUES (1, ?), (1, ?)`, parisID, tokyoID)
	exec(`INSERT INTO insight_submissions (round_id, unit_id, uid, status, value_json, submitted_by, submitted_us)
		VALUES (1, ?, 's1', 'submitted', '{}', 'x', ?)`, tokyoID, us(now))
	exec(`INSERT INTO record_documents (direction, unit_id, doc_type, subject, status, level, created_us, updated_us)
		VALUES ('incoming', ?, 'cong_van', 'Công văn', 'registered', 0, ?, ?), ('incoming', ?, 'cong_van', 'Mật', 'registered', 2, ?, ?)`,
		parisID, us(now.Add(-day)), us(now), parisID, us(now.Add(-day)), us(now))

	svc, err := NewService(Options{Source: FactSource{DB: db}, Directory: fixedDirectory(fixtureUnits),
		Links: fixedLinks{{Member: "000.01.02.G12", Known: true, Since: now.Add(-48 * time.Hour), Backlog: 7},
			{Member: "000.01.03.G12", Known: true, Connected: true, Since: now.Add(-time.Hour)}},
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
