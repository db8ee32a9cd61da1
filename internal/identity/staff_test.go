package identity_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

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
