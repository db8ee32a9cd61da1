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
