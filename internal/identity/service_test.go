package identity_test

import (
	"context"
	"errors"
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
