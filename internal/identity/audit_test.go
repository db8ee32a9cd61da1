package identity_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os/user"
	"strconv"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// recorded returns the one integrated event of action on the resource
// typ/id, failing the test unless there is exactly one.
func recorded(t *testing.T, l *audit.Ledger, action, typ string, id int64) audit.Event {
	t.Helper()
	ctx := context.Background()
	if _, err := l.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	events, err := l.Search(ctx, audit.Query{Action: action, ResourceType: typ, ResourceID: strconv.FormatInt(id, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("%d %s events on %s %d, want 1: %+v", len(events), action, typ, id, events)
	}
	return events[0]
}

// wantEvent checks e's actor, unit, request id, outcome and attributes.
func wantEvent(t *testing.T, e audit.Event, o audit.Origin, attrs map[string]string) {
	t.Helper()
	if e.Actor != o.Actor || e.UnitID != o.UnitID || e.RequestID != o.RequestID || e.Outcome != audit.OK || e.Level != authz.Unclassified {
		t.Errorf("%s event by %+v (unit %d, request %q, outcome %s, level %s); want by %+v (unit %d, request %q), ok, unclassified",
			e.Action, e.Actor, e.UnitID, e.RequestID, e.Outcome, e.Level, o.Actor, o.UnitID, o.RequestID)
	}
	if !maps.Equal(e.Attrs, attrs) {
		t.Errorf("%s event attributes = %v; want %v", e.Action, e.Attrs, attrs)
	}
}

func TestEveryChangeIsRecordedInTheLedgerByItsActor(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		c := newClock()
		s, l := c.audited(t, db)
		tr := newTree(t, s)
		admin := mustStaff(t, s, "admin", tr.root.ID, authz.Administrator)
		as := audit.Origin{Actor: audit.Staff(admin.ID, admin.Username), UnitID: admin.UnitID, RequestID: "req-7"}
		ctx := audit.WithOrigin(context.Background(), as)

		tokyo, err := s.CreateUnit(ctx, "admin", identity.NewUnit{Code: "000.01.03.G12", NameVI: "Đại sứ quán Việt Nam tại Nhật Bản",
			NameEN: "Embassy in Tokyo", Kind: identity.KindEmbassy, ParentID: tr.root.ID, Country: "JP", TimeZone: "Asia/Tokyo"})
		if err != nil {
			t.Fatal(err)
		}
		wantEvent(t, recorded(t, l, "unit.create", "unit", tokyo.ID), as, map[string]string{"code": "000.01.03.G12", "kind": "embassy",
			"parent": tr.root.Code, "country": "JP", "time_zone": "Asia/Tokyo", "name_vi": "Đại sứ quán Việt Nam tại Nhật Bản", "name_en": "Embassy in Tokyo"})

		name, zone := "Embassy of Viet Nam in Japan", "Asia/Tokyo"
		if _, err := s.UpdateUnit(ctx, "admin", tokyo.ID, identity.UnitPatch{NameEN: &name, TimeZone: &zone, Version: tokyo.Version}); err != nil {
			t.Fatal(err)
		}
		// The time zone did not change, so only the name is on record.
		wantEvent(t, recorded(t, l, "unit.update", "unit", tokyo.ID), as, map[string]string{"changed": "name_en", "name_en": name})

		if _, err := s.MoveUnit(ctx, "admin", tr.visas.ID, tr.press.ID, time.Time{}); err != nil {
			t.Fatal(err)
		}
		wantEvent(t, recorded(t, l, "unit.move", "unit", tr.visas.ID), as, map[string]string{"from": tr.consular.Code, "to": tr.press.Code,
			"effective": c.Now().In(ministry).Format(time.DateOnly)})

		m, err := s.CreateStaff(ctx, "admin", identity.NewStaff{Username: "tran.thi.binh", FullName: "Trần Thị Bình", Email: "binh@mofa.gov.vn",
			UnitID: tr.consular.ID, Roles: authz.RolesOf(authz.Clerk)})
		if err != nil {
			t.Fatal(err)
		}
		wantEvent(t, recorded(t, l, "staff.create", "staff", m.ID), as, map[string]string{"username": "tran.thi.binh",
			"unit": tr.consular.Code, "roles": "clerk", "clearance": "none"})

		full, roles, unit := "Trần Thị Bình An", authz.RolesOf(authz.Officer, authz.Clerk), tr.paris.ID
		m, err = s.UpdateStaff(ctx, "admin", m.ID, identity.StaffPatch{FullName: &full, Roles: &roles, UnitID: &unit, Version: m.Version})
		if err != nil {
			t.Fatal(err)
		}
		// The new name is personal data: on record as changed, not its value.
		wantEvent(t, recorded(t, l, "staff.update", "staff", m.ID), as, map[string]string{"changed": "full_name,unit,roles",
			"unit": tr.paris.Code, "roles": "clerk,officer"})

		if err := s.LinkOIDCSubject(ctx, m.ID, "https://idp.mofa.gov.vn", "idp|8f2c"); err != nil {
			t.Fatal(err)
		}
		wantEvent(t, recorded(t, l, "staff.oidc_link", "staff", m.ID), as, map[string]string{"issuer": "https://idp.mofa.gov.vn", "subject": "idp|8f2c"})
		if err := s.UnlinkOIDCSubject(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		wantEvent(t, recorded(t, l, "staff.oidc_unlink", "staff", m.ID), as, nil)

		// A merge records itself, and each unit and member it moves.
		member := mustStaff(t, s, "le.van.cuong", tr.paris.ID, authz.Clerk)
		child := mustUnit(t, s, identity.NewUnit{Code: "000.01.12.G12", NameVI: "Tổng Lãnh sự quán tại Marseille", NameEN: "Consulate General in Marseille",
			Kind: identity.KindConsulateGeneral, ParentID: tr.paris.ID, Country: "FR", TimeZone: "Europe/Paris"})
		if _, err := s.MergeUnits(ctx, "admin", tr.paris.ID, tr.press.ID, time.Time{}); err != nil {
			t.Fatal(err)
		}
		today := c.Now().In(ministry).Format(time.DateOnly)
		wantEvent(t, recorded(t, l, "unit.merge", "unit", tr.paris.ID), as, map[string]string{"into": tr.press.Code, "effective": today,
			"staff": "2", "units": "1"})
		wantEvent(t, recorded(t, l, "unit.move", "unit", child.ID), as, map[string]string{"from": tr.paris.Code, "to": tr.press.Code,
			"effective": today, "reason": "merged into " + tr.press.Code})
		moved, err := l.Search(context.Background(), audit.Query{Action: "staff.update", ResourceType: "staff", ResourceID: strconv.FormatInt(member.ID, 10)})
		if err != nil || len(moved) != 1 {
			t.Fatalf("staff.update events of the merged unit's member = %+v, %v; want 1", moved, err)
		}
		wantEvent(t, moved[0], as, map[string]string{"changed": "unit", "unit": tr.press.Code, "reason": "merged into " + tr.press.Code})

		// A citizen registering is the actor of their own registration.
		anon := audit.Origin{RequestID: "req-8"}
		cit, err := s.CreateCitizen(audit.WithOrigin(context.Background(), anon), identity.NewCitizen{Email: "hoa.le@example.com", FullName: "Lê Thị Hoa"})
		if err != nil {
			t.Fatal(err)
		}
		wantEvent(t, recorded(t, l, "citizen.register", "citizen", cit.ID), audit.Origin{Actor: audit.Citizen(cit.ID, ""), RequestID: "req-8"}, nil)
		other, err := s.CreateCitizen(ctx, identity.NewCitizen{Email: "minh@example.com", FullName: "Trần Văn Minh", Phone: "+84 912 345 678"})
		if err != nil {
			t.Fatal(err)
		}
		wantEvent(t, recorded(t, l, "citizen.register", "citizen", other.ID), as, nil)

		// No event holds a person's name, address or phone number.
		all, err := l.Search(context.Background(), audit.Query{Limit: audit.MaxSearchLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range all {
			for k, v := range e.Attrs {
				for _, personal := range []string{"Trần Thị Bình", "binh@mofa.gov.vn", "hoa.le@example.com", "Lê Thị Hoa", "912 345", "Nguyễn Văn"} {
					if strings.Contains(v, personal) || strings.Contains(e.Actor.Name, personal) {
						t.Errorf("%s event holds personal data %q (%s=%q, actor %+v)", e.Action, personal, k, v, e.Actor)
					}
				}
			}
		}
	})
}

// ministry is the zone effective dates are days in.
var ministry = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		panic(err)
	}
	return loc
}()

// failingRecorder records in the ledger like the real one, but fails the
// events of action once set: a change that appends several events fails
// after the others were appended.
type failingRecorder struct {
	l      *audit.Ledger
	action string
}

var errLedgerDown = errors.New("the ledger is down")

func (r *failingRecorder) AppendTx(ctx context.Context, tx *store.Tx, e audit.Event) error {
	if e.Action == r.action {
		return errLedgerDown
	}
	return r.l.AppendTx(ctx, tx, e)
}

// snapshot describes everything the directory and the ledger hold, to
// show that a change that failed left nothing behind.
func snapshot(t *testing.T, db *store.DB) string {
	t.Helper()
	var n [9]int64
	err := db.QueryRowContext(context.Background(), `SELECT
		(SELECT COUNT(*) FROM units), (SELECT COALESCE(SUM(version), 0) FROM units), (SELECT COUNT(*) FROM unit_parents),
		(SELECT COUNT(*) FROM unit_events), (SELECT COUNT(*) FROM staff), (SELECT COALESCE(SUM(version), 0) FROM staff),
		(SELECT COUNT(*) FROM memberships), (SELECT COUNT(*) FROM citizens), (SELECT COUNT(*) FROM audit_events)`).
		Scan(&n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7], &n[8])
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("units %d (version sum %d), placements %d, history %d, staff %d (version sum %d), memberships %d, citizens %d, audit events %d",
		n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8])
}

func TestAChangeWhoseEventFailsIsRolledBack(t *testing.T) {
	tests := []struct {
		action string
		change func(ctx context.Context, s *identity.Service, tr tree, m identity.StaffMember) error
	}{
		{"unit.create", func(ctx context.Context, s *identity.Service, tr tree, _ identity.StaffMember) error {
			_, err := s.CreateUnit(ctx, "t", identity.NewUnit{Code: "000.01.03.G12", NameVI: "Đại sứ quán tại Nhật Bản", NameEN: "Embassy in Tokyo",
				Kind: identity.KindEmbassy, ParentID: tr.root.ID, Country: "JP", TimeZone: "Asia/Tokyo"})
			return err
		}},
		{"unit.update", func(ctx context.Context, s *identity.Service, tr tree, _ identity.StaffMember) error {
			name := "Press"
			_, err := s.UpdateUnit(ctx, "t", tr.press.ID, identity.UnitPatch{NameEN: &name, Version: tr.press.Version})
			return err
		}},
		{"unit.move", func(ctx context.Context, s *identity.Service, tr tree, _ identity.StaffMember) error {
			_, err := s.MoveUnit(ctx, "t", tr.visas.ID, tr.press.ID, time.Time{})
			return err
		}},
		// The merge's own event comes last, after those of the unit and
		// the member it moved: they go too.
		{"unit.merge", func(ctx context.Context, s *identity.Service, tr tree, _ identity.StaffMember) error {
			_, err := s.MergeUnits(ctx, "t", tr.consular.ID, tr.press.ID, time.Time{})
			return err
		}},
		{"staff.create", func(ctx context.Context, s *identity.Service, tr tree, _ identity.StaffMember) error {
			_, err := s.CreateStaff(ctx, "t", identity.NewStaff{Username: "new.member", FullName: "Thành viên mới", UnitID: tr.press.ID})
			return err
		}},
		{"staff.update", func(ctx context.Context, s *identity.Service, tr tree, m identity.StaffMember) error {
			unit, roles := tr.press.ID, authz.RolesOf(authz.Officer)
			_, err := s.UpdateStaff(ctx, "t", m.ID, identity.StaffPatch{UnitID: &unit, Roles: &roles, Version: m.Version})
			return err
		}},
		// A change that proposes the rest goes whole: the part made at
		// once too.
		{"staff.propose", func(ctx context.Context, s *identity.Service, tr tree, m identity.StaffMember) error {
			unit, level := tr.press.ID, authz.Secret
			_, _, err := s.ChangeStaff(ctx, "t", m.ID, identity.StaffPatch{UnitID: &unit, Clearance: &level, Version: m.Version})
			return err
		}},
		{"staff.oidc_link", func(ctx context.Context, s *identity.Service, _ tree, m identity.StaffMember) error {
			return s.LinkOIDCSubject(ctx, m.ID, "https://idp", "idp|1")
		}},
		{"citizen.register", func(ctx context.Context, s *identity.Service, _ tree, _ identity.StaffMember) error {
			_, err := s.CreateCitizen(ctx, identity.NewCitizen{Email: "hoa.le@example.com", FullName: "Lê Thị Hoa"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				l := audittest.MustLedger(t, db)
				r := &failingRecorder{l: l}
				s := identity.NewService(db, r, newClock().Now)
				tr := newTree(t, s)
				m := mustStaff(t, s, "member", tr.consular.ID, authz.Clerk)
				r.action = tt.action
				before := snapshot(t, db)
				err := tt.change(testCtx, s, tr, m)
				if err == nil {
					t.Fatal("the change succeeded although its event could not be recorded")
				}
				if status := web.Status(err); status != 500 {
					t.Errorf("error %v maps to status %d; a change that could not be recorded is the server's fault (500)", err, status)
				}
				if after := snapshot(t, db); after != before {
					t.Fatalf("the failed change left something behind:\nbefore %s\nafter  %s", before, after)
				}
			})
		})
	}
}

func TestChangesThatCannotSayWhoActsAreRefused(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		unrecorded := identity.NewService(db, nil, nil)
		recording, _ := newClock().audited(t, db)
		root := identity.NewUnit{Code: "000.00.00.G12", NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs",
			Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"}
		citizen := identity.NewCitizen{Email: "hoa.le@example.com", FullName: "Lê Thị Hoa"}
		anonymous := audit.WithOrigin(context.Background(), audit.Origin{RequestID: "req-1"})
		// audit.Writer's one rule: a program that wired no recorder or
		// set no origin is at fault (500); a caller who has not signed
		// in is told to (401).
		tests := []struct {
			name   string
			change func() error
			status int
		}{
			{"no recorder", func() error { _, err := unrecorded.CreateUnit(testCtx, "t", root); return err }, 500},
			{"no recorder, citizen", func() error { _, err := unrecorded.CreateCitizen(testCtx, citizen); return err }, 500},
			{"no origin", func() error { _, err := recording.CreateUnit(context.Background(), "t", root); return err }, 500},
			{"no origin, citizen", func() error { _, err := recording.CreateCitizen(context.Background(), citizen); return err }, 500},
			{"anonymous", func() error { _, err := recording.CreateUnit(anonymous, "t", root); return err }, 401},
		}
		before := snapshot(t, db)
		for _, tt := range tests {
			err := tt.change()
			if err == nil || web.Status(err) != tt.status {
				t.Errorf("%s: error %v (status %d); want a refusal with status %d", tt.name, err, web.Status(err), tt.status)
			}
		}
		if after := snapshot(t, db); after != before {
			t.Fatalf("refused changes left something behind:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func TestCommandLineChangesAreRecordedAsTheOperatingSystemUser(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	s, l := newClock().audited(t, db)
	var out bytes.Buffer
	err := identity.UnitCommand(context.Background(), identity.CommandEnv{Directory: s, Stdout: &out}, []string{"add", "--code", "000.00.00.G12", "--name-vi", "Bộ Ngoại giao",
		"--name-en", "Ministry of Foreign Affairs", "--kind", "ministry", "--country", "VN", "--tz", "Asia/Ho_Chi_Minh"})
	if err != nil {
		t.Fatal(err)
	}
	root, err := s.UnitByCode(context.Background(), "000.00.00.G12")
	if err != nil {
		t.Fatal(err)
	}
	e := recorded(t, l, "unit.create", "unit", root.ID)
	want := audit.System("cli")
	if u, err := user.Current(); err == nil {
		want.Name = u.Username
	}
	if e.Actor != want {
		t.Fatalf("the command line's change is recorded as %+v; want %+v, named after the operating-system user", e.Actor, want)
	}
}

func TestRequestsAreRecordedAsTheSignedInMember(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.json(e.admin, "POST", "/api/v1/units", fmt.Sprintf(`{"code":"000.01.03.G12","name_vi":"Đại sứ quán tại Nhật Bản",
			"name_en":"Embassy in Tokyo","kind":"embassy","parent_id":%d,"country":"JP","time_zone":"Asia/Tokyo"}`, e.tree.root.ID))
		if w.Code != 201 {
			t.Fatalf("create = %d\n%s", w.Code, body(w))
		}
		u, err := e.svc.UnitByCode(testCtx, "000.01.03.G12")
		if err != nil {
			t.Fatal(err)
		}
		got := recorded(t, e.ledger, "unit.create", "unit", u.ID)
		if want := audit.Staff(e.admin.Subject.ID, "admin"); got.Actor != want || got.UnitID != e.admin.Subject.Unit {
			t.Fatalf("recorded as %+v of unit %d; want %+v of unit %d", got.Actor, got.UnitID, want, e.admin.Subject.Unit)
		}
	})
}
