package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// clock is a settable test clock, with the directories it runs.
type clock struct{ *storetest.Clock }

func (c *clock) day(offset int) time.Time { return c.Now().AddDate(0, 0, offset) }
func newClock() *clock {
	return &clock{storetest.NewClock(time.Date(2025, 3, 10, 3, 0, 0, 0, time.UTC))}
}

// testCtx is the context the tests' changes are made in: as the system
// actor "test", as the command line acts as "cli".
var testCtx = audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})

// audited returns the directory in db on c, recording in the returned
// ledger.
func (c *clock) audited(t testing.TB, db *store.DB) (*identity.Service, *audit.Ledger) {
	t.Helper()
	l := audittest.MustLedger(t, db)
	s := identity.NewService(db, l, c.Now)
	return s, l
}

// service returns the directory in db on c, recording in a ledger.
func (c *clock) service(t testing.TB, db *store.DB) *identity.Service {
	t.Helper()
	s, _ := c.audited(t, db)
	return s
}

// tree is a small ministry: the root, two departments, a section under
// the first, and a mission.
type tree struct {
	root, consular, press, visas, paris identity.Unit
}

func mustUnit(t testing.TB, s *identity.Service, in identity.NewUnit) identity.Unit {
	t.Helper()
	u, err := s.CreateUnit(testCtx, "test", in)
	if err != nil {
		t.Fatalf("CreateUnit(%s): %v", in.Code, err)
	}
	return u
}

func newTree(t testing.TB, s *identity.Service) tree {
	t.Helper()
	var tr tree
	tr.root = mustUnit(t, s, identity.NewUnit{Code: "000.00.00.G12", NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs",
		Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
	dept := func(code, vi, en string, parent int64) identity.Unit {
		return mustUnit(t, s, identity.NewUnit{Code: code, NameVI: vi, NameEN: en, Kind: identity.KindDepartment,
			ParentID: parent, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
	}
	tr.consular = dept("000.00.03.G12", "Cục Lãnh sự", "Consular Department", tr.root.ID)
	tr.press = dept("000.00.05.G12", "Vụ Thông tin Báo chí", "Department of Press and Information", tr.root.ID)
	tr.visas = dept("000.03.01.G12", "Phòng Thị thực", "Visa Section", tr.consular.ID)
	tr.paris = mustUnit(t, s, identity.NewUnit{Code: "000.01.02.G12", NameVI: "Đại sứ quán Việt Nam tại Pháp", NameEN: "Embassy in Paris",
		Kind: identity.KindEmbassy, ParentID: tr.root.ID, Country: "fr", TimeZone: "Europe/Paris"})
	return tr
}

func mustStaff(t testing.TB, s *identity.Service, username string, unit int64, roles ...authz.Role) identity.StaffMember {
	t.Helper()
	m, err := s.CreateStaff(testCtx, "test", identity.NewStaff{Username: username, FullName: "Nguyễn Văn " + username,
		UnitID: unit, Roles: authz.RolesOf(roles...)})
	if err != nil {
		t.Fatalf("CreateStaff(%s): %v", username, err)
	}
	return m
}

// seedStaff creates a staff member with roles and clearance through the
// seeding path, which the two-person rule does not bind.
func seedStaff(t testing.TB, s *identity.Service, username string, unit int64, clearance authz.Level, roles ...authz.Role) identity.StaffMember {
	t.Helper()
	m, err := s.SeedStaff(testCtx, "test", identity.NewStaff{Username: username, FullName: "Nguyễn Văn " + username,
		UnitID: unit, Roles: authz.RolesOf(roles...), Clearance: clearance})
	if err != nil {
		t.Fatalf("SeedStaff(%s): %v", username, err)
	}
	return m
}

// as returns the context of a change made by m, signed in.
func as(m identity.StaffMember) context.Context {
	return audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(m.ID, m.Username), UnitID: m.UnitID})
}

// wantField checks that err is an errs.FieldError for field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *errs.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v, want a FieldError for %q", err, field)
	}
	if fe.Field != field {
		t.Fatalf("error names field %q (%v), want %q", fe.Field, err, field)
	}
	if !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("error %v is not ErrInvalid", err)
	}
}

func unitCount(t *testing.T, s *identity.Service) int {
	t.Helper()
	all, err := s.AllUnits(testCtx)
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

func TestCreateUnitRefusesInvalidInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		tr := newTree(t, s)
		good := identity.NewUnit{Code: "000.00.20.G12", NameVI: "Vụ Châu Âu", NameEN: "Department of Europe",
			Kind: identity.KindDepartment, ParentID: tr.root.ID, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"}
		tests := []struct {
			name   string
			change func(*identity.NewUnit)
			field  string
		}{
			{"code without dots", func(u *identity.NewUnit) { u.Code = "0000000G12" }, "code"},
			{"code with lower-case letter", func(u *identity.NewUnit) { u.Code = "000.00.20.g12" }, "code"},
			{"code with SQL", func(u *identity.NewUnit) { u.Code = "000.00.20.G12'; DROP TABLE units; --" }, "code"},
			{"empty Vietnamese name", func(u *identity.NewUnit) { u.NameVI = "   " }, "name_vi"},
			{"English name too long", func(u *identity.NewUnit) { u.NameEN = strings.Repeat("a", 201) }, "name_en"},
			{"name with a line break", func(u *identity.NewUnit) { u.NameVI = "Vụ\nChâu Âu" }, "name_vi"},
			{"name not UTF-8", func(u *identity.NewUnit) { u.NameEN = "Europe \xff" }, "name_en"},
			{"unknown kind", func(u *identity.NewUnit) { u.Kind = "directorate" }, "kind"},
			{"department without parent", func(u *identity.NewUnit) { u.ParentID = 0 }, "parent_id"},
			{"ministry with a parent", func(u *identity.NewUnit) { u.Kind = identity.KindMinistry }, "parent_id"},
			{"unknown parent", func(u *identity.NewUnit) { u.ParentID = 99999 }, "parent_id"},
			{"unassigned country", func(u *identity.NewUnit) { u.Country = "XX" }, "country"},
			{"three-letter country", func(u *identity.NewUnit) { u.Country = "VNM" }, "country"},
			{"unknown zone", func(u *identity.NewUnit) { u.TimeZone = "Mars/Olympus_Mons" }, "time_zone"},
			{"local zone", func(u *identity.NewUnit) { u.TimeZone = "Local" }, "time_zone"},
			{"zone path", func(u *identity.NewUnit) { u.TimeZone = "../../etc/passwd" }, "time_zone"},
		}
		before := unitCount(t, s)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := good
				tt.change(&in)
				_, err := s.CreateUnit(ctx, "test", in)
				wantField(t, err, tt.field)
			})
		}
		if got := unitCount(t, s); got != before {
			t.Fatalf("refused creations left %d units, want %d", got, before)
		}
		u, err := s.CreateUnit(ctx, "test", good)
		if err != nil {
			t.Fatalf("the valid unit was refused: %v", err)
		}
		if u.Country != "VN" || u.Status != identity.UnitActive || u.Version != 1 {
			t.Fatalf("created %+v", u)
		}
	})
}

func TestCreateUnitRefusesDuplicateCodeAndSecondRoot(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		tr := newTree(t, s)
		_, err := s.CreateUnit(ctx, "test", identity.NewUnit{Code: tr.press.Code, NameVI: "Khác", NameEN: "Other",
			Kind: identity.KindDepartment, ParentID: tr.root.ID, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
		if !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("duplicate code: %v, want ErrConflict", err)
		}
		_, err = s.CreateUnit(ctx, "test", identity.NewUnit{Code: "001.00.00.G12", NameVI: "Bộ thứ hai", NameEN: "Second",
			Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
		if !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("second root: %v, want ErrConflict", err)
		}
	})
}

func TestUnitLookupsReturnNotFound(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		if _, err := s.Unit(ctx, 42); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("Unit(42) = %v", err)
		}
		if _, err := s.UnitByCode(ctx, "999.99.99.G99"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("UnitByCode = %v", err)
		}
		if _, err := s.UnitHistory(ctx, 42); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("UnitHistory = %v", err)
		}
		if _, err := s.Successor(ctx, 42); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("Successor = %v", err)
		}
	})
}

func TestListUnitsPagesWithCursor(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		newTree(t, s)
		all, err := s.AllUnits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		f := identity.UnitFilter{Limit: 2}
		for pages := 0; ; pages++ {
			if pages > len(all) {
				t.Fatal("pagination does not end")
			}
			units, next, err := s.ListUnits(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(units) > 2 {
				t.Fatalf("page of %d units, limit 2", len(units))
			}
			for _, u := range units {
				got = append(got, u.ID)
			}
			if next == 0 {
				break
			}
			f.After = next
		}
		if len(got) != len(all) {
			t.Fatalf("pages held %d units, want %d", len(got), len(all))
		}
		for i := range got {
			if got[i] != all[i].ID {
				t.Fatalf("unit %d of the pages is %d, want %d", i, got[i], all[i].ID)
			}
		}
		if _, _, err := s.ListUnits(ctx, identity.UnitFilter{Limit: -1}); err == nil {
			t.Error("a negative limit was accepted")
		}
	})
}

func TestListUnitsFiltersAndSearchesWithoutDiacritics(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		tr := newTree(t, s)
		tests := []struct {
			name string
			f    identity.UnitFilter
			want []string
		}{
			{"query without diacritics", identity.UnitFilter{Query: "cuc lanh su"}, []string{tr.consular.Code}},
			{"query with diacritics", identity.UnitFilter{Query: "Lãnh Sự"}, []string{tr.consular.Code}},
			{"đ folds to d", identity.UnitFilter{Query: "dai su quan"}, []string{tr.paris.Code}},
			{"English name, any case", identity.UnitFilter{Query: "PRESS"}, []string{tr.press.Code}},
			{"code", identity.UnitFilter{Query: "000.03.01"}, []string{tr.visas.Code}},
			{"LIKE wildcard is literal", identity.UnitFilter{Query: "%"}, nil},
			{"underscore is literal", identity.UnitFilter{Query: "_"}, nil},
			{"kind", identity.UnitFilter{Kind: identity.KindEmbassy}, []string{tr.paris.Code}},
			{"parent", identity.UnitFilter{ParentID: tr.consular.ID}, []string{tr.visas.Code}},
			{"status merged", identity.UnitFilter{Status: identity.UnitMerged}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				units, _, err := s.ListUnits(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				var codes []string
				for _, u := range units {
					codes = append(codes, u.Code)
				}
				if strings.Join(codes, " ") != strings.Join(tt.want, " ") {
					t.Fatalf("ListUnits(%+v) = %v, want %v", tt.f, codes, tt.want)
				}
			})
		}
		for _, f := range []identity.UnitFilter{{Kind: "planet"}, {Status: "gone"}, {After: -1}, {Query: "a\x00b"}} {
			if _, _, err := s.ListUnits(ctx, f); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("ListUnits(%+v) = %v, want ErrInvalid", f, err)
			}
		}
	})
}

func TestUpdateUnitRefusesStaleVersion(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		tr := newTree(t, s)
		name := "Vụ Báo chí"
		u, err := s.UpdateUnit(ctx, "alice", tr.press.ID, identity.UnitPatch{NameVI: &name, Version: tr.press.Version})
		if err != nil {
			t.Fatal(err)
		}
		if u.NameVI != name || u.Version != tr.press.Version+1 {
			t.Fatalf("updated unit = %+v", u)
		}
		other := "Vụ Thông tin"
		_, err = s.UpdateUnit(ctx, "bob", tr.press.ID, identity.UnitPatch{NameVI: &other, Version: tr.press.Version})
		if !errors.Is(err, errs.ErrConflict) || !strings.Contains(err.Error(), "changed by someone else") {
			t.Fatalf("stale update = %v, want a conflict saying to reload", err)
		}
		_, err = s.UpdateUnit(ctx, "bob", tr.press.ID, identity.UnitPatch{NameVI: &other})
		wantField(t, err, "version")
		got, _ := s.Unit(ctx, tr.press.ID)
		if got.NameVI != name {
			t.Fatalf("a refused update changed the name to %q", got.NameVI)
		}
		ministry := identity.KindMinistry
		_, err = s.UpdateUnit(ctx, "bob", tr.press.ID, identity.UnitPatch{Kind: &ministry, Version: got.Version})
		wantField(t, err, "kind")
		history, err := s.UnitHistory(ctx, tr.press.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := history[len(history)-1]
		if len(history) != 2 || last.Kind != "updated" || last.Actor != "alice" || !strings.Contains(last.Detail, name) {
			t.Fatalf("history = %+v", history)
		}
	})
}

func TestMoveUnitRecordsHistoryAndRefusesCycles(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		c := newClock()
		s := c.service(t, db)
		tr := newTree(t, s)
		created := c.Now()
		c.Advance(30 * 24 * time.Hour)

		refusals := []struct {
			name         string
			unit, parent int64
			field        string
		}{
			{"under its own child", tr.consular.ID, tr.visas.ID, "parent"},
			{"under itself", tr.consular.ID, tr.consular.ID, "parent"},
			{"the root", tr.root.ID, tr.press.ID, "parent"},
			{"to its current parent", tr.visas.ID, tr.consular.ID, "parent"},
			{"under an unknown unit", tr.visas.ID, 99999, "parent"},
		}
		for _, tt := range refusals {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.MoveUnit(ctx, "test", tt.unit, tt.parent, time.Time{})
				wantField(t, err, tt.field)
			})
		}

		effective := c.day(-10)
		moved, err := s.MoveUnit(ctx, "test", tr.visas.ID, tr.press.ID, effective)
		if err != nil {
			t.Fatal(err)
		}
		if moved.ParentID != tr.press.ID || moved.Version != tr.visas.Version+1 {
			t.Fatalf("moved = %+v", moved)
		}
		for _, at := range []struct {
			t    time.Time
			want int64
		}{
			{created.Add(time.Hour), tr.consular.ID},
			{effective.Add(-time.Hour), tr.consular.ID},
			{effective, tr.press.ID},
			{c.Now(), tr.press.ID},
		} {
			got, err := s.UnitParentAt(ctx, tr.visas.ID, at.t)
			if err != nil || got != at.want {
				t.Errorf("UnitParentAt(%s) = %d, %v; want %d", at.t, got, err, at.want)
			}
		}
		if _, err := s.UnitParentAt(ctx, tr.visas.ID, created.Add(-time.Hour)); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("UnitParentAt before creation = %v, want ErrNotFound", err)
		}
		if p, err := s.UnitParentAt(ctx, tr.root.ID, c.Now()); err != nil || p != 0 {
			t.Errorf("UnitParentAt(root) = %d, %v; want 0", p, err)
		}
		history, _ := s.UnitHistory(ctx, tr.visas.ID)
		last := history[len(history)-1]
		if last.Kind != "moved" || last.OtherUnitID != tr.press.ID || !last.EffectiveAt.Equal(effective) || !last.RecordedAt.Equal(c.Now()) {
			t.Fatalf("move event = %+v", last)
		}

		// The placement began when the unit was created; a move dated
		// before that would end the placement before it began.
		_, err = s.MoveUnit(ctx, "test", tr.paris.ID, tr.press.ID, created.AddDate(0, 0, -3))
		wantField(t, err, "effective")
	})
}

func TestRestructuringRefusesFutureDates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		c := newClock()
		s := c.service(t, db)
		tr := newTree(t, s)
		tomorrow := c.day(1)
		_, err := s.MoveUnit(ctx, "test", tr.visas.ID, tr.press.ID, tomorrow)
		wantField(t, err, "effective")
		if !strings.Contains(err.Error(), "not supported yet") {
			t.Errorf("message %q does not say scheduling is unsupported", err)
		}
		_, err = s.MergeUnits(ctx, "test", tr.press.ID, tr.consular.ID, tomorrow)
		wantField(t, err, "effective")
		for _, u := range []identity.Unit{tr.visas, tr.press} {
			got, _ := s.Unit(ctx, u.ID)
			if got != u {
				t.Errorf("a refused restructuring changed %s: %+v", u.Code, got)
			}
		}
		// Today, even at a time later than now, is applied now.
		later := c.Now().Add(time.Hour)
		moved, err := s.MoveUnit(ctx, "test", tr.visas.ID, tr.press.ID, later)
		if err != nil || moved.ParentID != tr.press.ID {
			t.Fatalf("move dated today = %+v, %v", moved, err)
		}
	})
}

func TestMergeUnitsRehomesStaffAndChildren(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		c := newClock()
		s := c.service(t, db)
		tr := newTree(t, s)
		alice := mustStaff(t, s, "alice", tr.consular.ID, authz.Clerk)
		bob := mustStaff(t, s, "bob", tr.consular.ID, authz.Officer)
		disabled := true
		if _, err := s.UpdateStaff(ctx, "test", bob.ID, identity.StaffPatch{Disabled: &disabled, Version: bob.Version}); err != nil {
			t.Fatal(err)
		}
		carol := mustStaff(t, s, "carol", tr.press.ID)
		c.Advance(60 * 24 * time.Hour)
		effective := c.day(-7)

		target, err := s.MergeUnits(ctx, "admin", tr.consular.ID, tr.press.ID, effective)
		if err != nil {
			t.Fatal(err)
		}
		if target.ID != tr.press.ID {
			t.Fatalf("MergeUnits returned %+v, want the target", target)
		}
		src, _ := s.Unit(ctx, tr.consular.ID)
		if src.Status != identity.UnitMerged || src.MergedInto != tr.press.ID {
			t.Fatalf("source after merge = %+v", src)
		}
		for _, m := range []identity.StaffMember{alice, bob} {
			got, _ := s.Staff(ctx, m.ID)
			if got.UnitID != tr.press.ID {
				t.Errorf("%s is in unit %d, want the target %d", m.Username, got.UnitID, tr.press.ID)
			}
			ms, err := s.Memberships(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 2 || ms[0].UnitID != tr.consular.ID || !ms[0].ValidTo.Equal(effective) ||
				ms[1].UnitID != tr.press.ID || !ms[1].ValidFrom.Equal(effective) || !ms[1].ValidTo.IsZero() ||
				ms[1].Reason != "merged into "+tr.press.Code {
				t.Errorf("memberships of %s = %+v", m.Username, ms)
			}
			for _, at := range []struct {
				t    time.Time
				want int64
			}{{effective.Add(-time.Minute), tr.consular.ID}, {effective.Add(time.Minute), tr.press.ID}} {
				if u, err := s.StaffUnitAt(ctx, m.ID, at.t); err != nil || u != at.want {
					t.Errorf("StaffUnitAt(%s, %s) = %d, %v; want %d", m.Username, at.t, u, err, at.want)
				}
			}
		}
		if ms, _ := s.Memberships(ctx, carol.ID); len(ms) != 1 {
			t.Errorf("the target's own staff gained memberships: %+v", ms)
		}
		visas, _ := s.Unit(ctx, tr.visas.ID)
		if visas.ParentID != tr.press.ID {
			t.Errorf("the source's child is under %d, want the target", visas.ParentID)
		}
		if p, _ := s.UnitParentAt(ctx, tr.visas.ID, effective.Add(-time.Minute)); p != tr.consular.ID {
			t.Errorf("child's parent before the merge = %d, want the source", p)
		}
		if p, _ := s.UnitParentAt(ctx, tr.visas.ID, effective.Add(time.Minute)); p != tr.press.ID {
			t.Errorf("child's parent after the merge = %d, want the target", p)
		}
		lastEvent := func(id int64) identity.UnitEvent {
			h, err := s.UnitHistory(ctx, id)
			if err != nil || len(h) == 0 {
				t.Fatalf("history of %d: %v", id, err)
			}
			return h[len(h)-1]
		}
		if e := lastEvent(tr.consular.ID); e.Kind != "merged_into" || e.OtherUnitID != tr.press.ID || !e.EffectiveAt.Equal(effective) {
			t.Errorf("source's last event = %+v", e)
		}
		if e := lastEvent(tr.press.ID); e.Kind != "absorbed" || e.OtherUnitID != tr.consular.ID {
			t.Errorf("target's last event = %+v", e)
		}

		// A merged unit's successor follows later merges to the active unit.
		if _, err := s.MergeUnits(ctx, "admin", tr.press.ID, tr.paris.ID, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if succ, err := s.Successor(ctx, tr.consular.ID); err != nil || succ.ID != tr.paris.ID {
			t.Errorf("Successor(consular) = %+v, %v; want Paris", succ, err)
		}
		if succ, err := s.Successor(ctx, tr.root.ID); err != nil || succ.ID != tr.root.ID {
			t.Errorf("Successor(root) = %+v, %v; want the root itself", succ, err)
		}
	})
}

func TestMergeUnitsRefusals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		tr := newTree(t, s)
		if _, err := s.MergeUnits(ctx, "t", tr.paris.ID, tr.press.ID, time.Time{}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name           string
			source, target int64
			field          string
		}{
			{"the root", tr.root.ID, tr.press.ID, "into"},
			{"into itself", tr.press.ID, tr.press.ID, "into"},
			{"into a merged unit", tr.visas.ID, tr.paris.ID, "into"},
			{"into its own descendant", tr.consular.ID, tr.visas.ID, "into"},
			{"into an unknown unit", tr.visas.ID, 99999, "into"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.MergeUnits(ctx, "t", tt.source, tt.target, time.Time{})
				wantField(t, err, tt.field)
			})
		}
		if _, err := s.MergeUnits(ctx, "t", tr.paris.ID, tr.consular.ID, time.Time{}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("merging a merged unit again = %v, want ErrConflict", err)
		}
		if _, err := s.MergeUnits(ctx, "t", 99999, tr.press.ID, time.Time{}); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("merging an unknown unit = %v, want ErrNotFound", err)
		}
		name := "x"
		paris, _ := s.Unit(ctx, tr.paris.ID)
		if _, err := s.UpdateUnit(ctx, "t", paris.ID, identity.UnitPatch{NameEN: &name, Version: paris.Version}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("editing a merged unit = %v, want ErrConflict", err)
		}
		_, err := s.CreateStaff(ctx, "t", identity.NewStaff{Username: "late", FullName: "Late", UnitID: paris.ID})
		wantField(t, err, "unit_id")
	})
}

// A merge or move dated before either unit was created would put history
// before the units existed: refused, naming the effective date.
func TestRestructuringIsNotDatedBeforeTheUnitsExisted(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		c := newClock()
		s := c.service(t, db)
		tr := newTree(t, s)
		c.Advance(30 * 24 * time.Hour)
		late, err := s.CreateUnit(ctx, "t", identity.NewUnit{Code: "000.00.77.G12", NameVI: "Vụ Mới", NameEN: "New Department", Kind: identity.KindDepartment, ParentID: tr.root.ID, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
		if err != nil {
			t.Fatal(err)
		}
		before := c.Now().AddDate(0, 0, -10)
		_, err = s.MergeUnits(ctx, "t", tr.press.ID, late.ID, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC))
		wantField(t, err, "effective")
		_, err = s.MergeUnits(ctx, "t", late.ID, tr.press.ID, before)
		wantField(t, err, "effective")
		_, err = s.MoveUnit(ctx, "t", tr.visas.ID, late.ID, before)
		wantField(t, err, "effective")
		if _, err := s.MergeUnits(ctx, "t", tr.press.ID, late.ID, time.Time{}); err != nil {
			t.Errorf("merging into a unit created today, effective today = %v", err)
		}
	})
}

func TestCreateStaffRefusesInvalidInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		tr := newTree(t, s)
		mustStaff(t, s, "taken", tr.press.ID)
		good := identity.NewStaff{Username: "nguyen.van.an", FullName: "Nguyễn Văn An", Email: "an@mofa.gov.vn", UnitID: tr.press.ID}
		tests := []struct {
			name   string
			change func(*identity.NewStaff)
			field  string
		}{
			{"username too short", func(m *identity.NewStaff) { m.Username = "an" }, "username"},
			{"username with capitals", func(m *identity.NewStaff) { m.Username = "Nguyen" }, "username"},
			{"username starting with a digit", func(m *identity.NewStaff) { m.Username = "1admin" }, "username"},
			{"username with a quote", func(m *identity.NewStaff) { m.Username = "an'--" }, "username"},
			{"username too long", func(m *identity.NewStaff) { m.Username = "a" + strings.Repeat("b", 64) }, "username"},
			{"empty name", func(m *identity.NewStaff) { m.FullName = "" }, "full_name"},
			{"bad e-mail", func(m *identity.NewStaff) { m.Email = "not an address" }, "email"},
			{"e-mail with a display name", func(m *identity.NewStaff) { m.Email = "An <an@mofa.gov.vn>" }, "email"},
			{"no unit", func(m *identity.NewStaff) { m.UnitID = 0 }, "unit_id"},
			{"unknown unit", func(m *identity.NewStaff) { m.UnitID = 99999 }, "unit_id"},
			{"unknown role bit", func(m *identity.NewStaff) { m.Roles = 1 << 12 }, "roles"},
			{"unknown clearance", func(m *identity.NewStaff) { m.Clearance = 9 }, "clearance"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := good
				tt.change(&in)
				_, err := s.CreateStaff(ctx, "test", in)
				wantField(t, err, tt.field)
			})
		}
		dup := good
		dup.Username = "taken"
		if _, err := s.CreateStaff(ctx, "test", dup); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("duplicate username = %v, want ErrConflict", err)
		}
		staff, _, _ := s.ListStaff(ctx, identity.StaffFilter{IncludeDisabled: true})
		if len(staff) != 1 {
			t.Fatalf("refused creations left %d staff, want 1", len(staff))
		}
		m, err := s.CreateStaff(ctx, "admin", good)
		if err != nil {
			t.Fatal(err)
		}
		ms, _ := s.Memberships(ctx, m.ID)
		if len(ms) != 1 || ms[0].UnitID != tr.press.ID || ms[0].Reason != "created by admin" {
			t.Fatalf("first membership = %+v", ms)
		}
	})
}

func TestListStaffFilters(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		tr := newTree(t, s)
		must := func(username, name string, unit int64, roles ...authz.Role) identity.StaffMember {
			m, err := s.SeedStaff(ctx, "t", identity.NewStaff{Username: username, FullName: name, UnitID: unit, Roles: authz.RolesOf(roles...)})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		must("hung", "Bùi Văn Hùng", tr.consular.ID, authz.Officer)
		must("bao", "Phạm Quốc Bảo", tr.press.ID, authz.SecurityOfficer)
		must("duc", "Trần Văn Đức", tr.press.ID, authz.Clerk, authz.Officer)
		gone := must("gone", "Lê Văn Cũ", tr.press.ID, authz.Clerk)
		yes := true
		if _, err := s.UpdateStaff(ctx, "t", gone.ID, identity.StaffPatch{Disabled: &yes, Version: gone.Version}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			f    identity.StaffFilter
			want string
		}{
			{"everyone enabled", identity.StaffFilter{}, "hung bao duc"},
			{"including disabled", identity.StaffFilter{IncludeDisabled: true}, "hung bao duc gone"},
			{"by unit", identity.StaffFilter{UnitID: tr.press.ID}, "bao duc"},
			{"officer is not security_officer", identity.StaffFilter{Roles: authz.RolesOf(authz.Officer)}, "hung duc"},
			{"every role asked", identity.StaffFilter{Roles: authz.RolesOf(authz.Officer, authz.Clerk)}, "duc"},
			{"name without diacritics", identity.StaffFilter{Query: "tran van duc"}, "duc"},
			{"name with diacritics", identity.StaffFilter{Query: "Hùng"}, "hung"},
			{"username", identity.StaffFilter{Query: "BAO"}, "bao"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				staff, _, err := s.ListStaff(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, m := range staff {
					names = append(names, m.Username)
				}
				if got := strings.Join(names, " "); got != tt.want {
					t.Fatalf("ListStaff(%+v) = %q, want %q", tt.f, got, tt.want)
				}
			})
		}
		first, next, err := s.ListStaff(ctx, identity.StaffFilter{Limit: 2})
		if err != nil || len(first) != 2 || next == 0 {
			t.Fatalf("first page = %d staff, next %d, %v", len(first), next, err)
		}
		rest, next, err := s.ListStaff(ctx, identity.StaffFilter{Limit: 2, After: next})
		if err != nil || len(rest) != 1 || next != 0 || rest[0].Username != "duc" {
			t.Fatalf("second page = %+v, next %d, %v", rest, next, err)
		}
	})
}

func TestUpdateStaffRecordsUnitChangesAndRefusesStaleVersion(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		c := newClock()
		s := c.service(t, db)
		tr := newTree(t, s)
		m := mustStaff(t, s, "an.nguyen", tr.consular.ID, authz.Clerk)
		c.Advance(24 * time.Hour)
		unit, roles, level := tr.paris.ID, authz.RolesOf(authz.Officer), authz.Unclassified
		got, err := s.UpdateStaff(ctx, "admin", m.ID, identity.StaffPatch{UnitID: &unit, Roles: &roles, Clearance: &level, Version: m.Version})
		if err != nil {
			t.Fatal(err)
		}
		if got.UnitID != unit || got.Roles != roles || got.Clearance != level || got.Version != m.Version+1 {
			t.Fatalf("updated = %+v", got)
		}
		stored, _ := s.Staff(ctx, m.ID)
		if stored != got {
			t.Fatalf("stored %+v, returned %+v", stored, got)
		}
		ms, _ := s.Memberships(ctx, m.ID)
		if len(ms) != 2 || ms[1].UnitID != unit || ms[1].Reason != "moved by admin" || !ms[0].ValidTo.Equal(c.Now()) {
			t.Fatalf("memberships = %+v", ms)
		}
		name := "Other"
		if _, err := s.UpdateStaff(ctx, "x", m.ID, identity.StaffPatch{FullName: &name, Version: m.Version}); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("stale update = %v, want ErrConflict", err)
		}
		bad := "no"
		_, err = s.UpdateStaff(ctx, "x", m.ID, identity.StaffPatch{Email: &bad, Version: got.Version})
		wantField(t, err, "email")
		if _, err := s.UpdateStaff(ctx, "x", 99999, identity.StaffPatch{Version: 1}); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("unknown staff = %v, want ErrNotFound", err)
		}
		if after, _ := s.Staff(ctx, m.ID); after != got {
			t.Fatalf("refused updates changed the account: %+v", after)
		}
	})
}

func TestCitizens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		c, err := s.CreateCitizen(ctx, identity.NewCitizen{Email: "  Lan.Nguyen@Example.COM ", FullName: "Nguyễn Thị Lan", Phone: "+84 912 345 678"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Email != "lan.nguyen@example.com" {
			t.Fatalf("email stored as %q, want lower case", c.Email)
		}
		for _, lookup := range []func() (identity.Citizen, error){
			func() (identity.Citizen, error) { return s.Citizen(ctx, c.ID) },
			func() (identity.Citizen, error) { return s.CitizenByEmail(ctx, "LAN.nguyen@example.com") },
		} {
			if got, err := lookup(); err != nil || got != c {
				t.Fatalf("lookup = %+v, %v; want %+v", got, err, c)
			}
		}
		if _, err := s.CreateCitizen(ctx, identity.NewCitizen{Email: "lan.nguyen@EXAMPLE.com", FullName: "Other"}); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("duplicate e-mail = %v, want ErrConflict", err)
		}
		for _, in := range []struct {
			c     identity.NewCitizen
			field string
		}{
			{identity.NewCitizen{Email: "", FullName: "A"}, "email"},
			{identity.NewCitizen{Email: "a@b", FullName: "A"}, "email"},
			{identity.NewCitizen{Email: "a@example.com", FullName: ""}, "full_name"},
			{identity.NewCitizen{Email: "a@example.com", FullName: "A", Phone: "call me"}, "phone"},
		} {
			_, err := s.CreateCitizen(ctx, in.c)
			wantField(t, err, in.field)
		}
		if _, err := s.CitizenByEmail(ctx, "nobody@example.com"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("unknown citizen = %v", err)
		}
	})
}

func TestLinkOIDCSubject(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := testCtx
		s := newClock().service(t, db)
		tr := newTree(t, s)
		an := mustStaff(t, s, "an.nguyen", tr.press.ID)
		binh := mustStaff(t, s, "binh", tr.press.ID)
		const idp, other = "https://idp.mofa.gov.vn", "https://idp.example"
		if _, err := s.StaffByOIDCSubject(ctx, idp, "sub-an"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("unlinked subject = %v", err)
		}
		if err := s.LinkOIDCSubject(ctx, an.ID, idp, "sub-an"); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkOIDCSubject(ctx, an.ID, idp, "sub-an"); err != nil {
			t.Fatalf("linking the same subject again = %v", err)
		}
		got, err := s.StaffByOIDCSubject(ctx, idp, "sub-an")
		if err != nil || got.ID != an.ID {
			t.Fatalf("StaffByOIDCSubject = %+v, %v", got, err)
		}
		// A subject means nothing without its issuer.
		if _, err := s.StaffByOIDCSubject(ctx, other, "sub-an"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("the subject at another issuer = %v, want ErrNotFound", err)
		}
		if err := s.LinkOIDCSubject(ctx, binh.ID, idp, "sub-an"); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("subject of another = %v, want ErrConflict", err)
		}
		if err := s.LinkOIDCSubject(ctx, an.ID, idp, "sub-other"); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("second subject = %v, want ErrConflict", err)
		}
		if err := s.LinkOIDCSubject(ctx, an.ID, other, "sub-an"); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("the subject at a second issuer = %v, want ErrConflict", err)
		}
		if err := s.LinkOIDCSubject(ctx, 99999, idp, "sub-x"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("unknown staff = %v, want ErrNotFound", err)
		}
		for _, bad := range [][2]string{{idp, ""}, {"", "sub-x"}, {idp, "sub\r\nx"}, {idp, "sub\x00"}, {idp, strings.Repeat("x", 256)}} {
			if err := s.LinkOIDCSubject(ctx, binh.ID, bad[0], bad[1]); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("LinkOIDCSubject(%q, %q) = %v, want ErrInvalid", bad[0], bad[1], err)
			}
		}
		if err := s.UnlinkOIDCSubject(ctx, an.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StaffByOIDCSubject(ctx, idp, "sub-an"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("after unlinking = %v, want ErrNotFound", err)
		}
		if err := s.UnlinkOIDCSubject(ctx, an.ID); err != nil {
			t.Errorf("unlinking again = %v", err)
		}
		if err := s.UnlinkOIDCSubject(ctx, 99999); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("unlinking unknown staff = %v, want ErrNotFound", err)
		}
		if err := s.LinkOIDCSubject(ctx, binh.ID, idp, "sub-an"); err != nil {
			t.Errorf("the subject, free again, for another = %v", err)
		}
		if _, err := s.StaffByUsername(ctx, "nobody"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("unknown username = %v", err)
		}
	})
}

func TestFoldStripsVietnameseDiacritics(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Bộ Ngoại giao", "bo ngoai giao"},
		{"ĐẠI SỨ QUÁN", "dai su quan"},
		{"Cục Cơ yếu - Công nghệ thông tin", "cuc co yeu - cong nghe thong tin"},
		{"Trương Thị Ưng", "truong thi ung"},
		{"Brasília", "brasilia"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := identity.Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsCountryKnowsAssignedCodesOnly(t *testing.T) {
	for code, want := range map[string]bool{"VN": true, "FR": true, "ZA": true, "SS": true, "XK": false, "XX": false, "vn": false, "V": false, "VNM": false, "": false} {
		if got := identity.IsCountry(code); got != want {
			t.Errorf("IsCountry(%q) = %v, want %v", code, got, want)
		}
	}
}
