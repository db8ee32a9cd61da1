package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/i18n"
)

// countingDirectory names unit 3 and staff 7, and counts the lookups.
type countingDirectory struct{ units, staff int }

func (d *countingDirectory) UnitNames(_ context.Context, id int64) (string, string, error) {
	d.units++
	if id != 3 {
		return "", "", fmt.Errorf("unit %d: %w", id, errs.ErrNotFound)
	}
	return "Cục Lãnh sự", "Consular Department", nil
}

func (d *countingDirectory) UnitChoices(context.Context) ([]UnitChoice, error) {
	return []UnitChoice{{ID: 3, Code: "000.00.03.G12", NameVI: "Cục Lãnh sự", NameEN: "Consular Department", Active: true},
		{ID: 5, Code: "000.00.05.G12", NameVI: "Vụ cũ", NameEN: "Old Department"}}, nil
}

func (d *countingDirectory) StaffName(_ context.Context, id int64) (string, error) {
	d.staff++
	if id != 7 {
		return "", fmt.Errorf("staff %d: %w", id, errs.ErrNotFound)
	}
	return "Đặng Thị Hồng Nhung", nil
}

func TestNamesResolveUnitsAndStaffInThePagesLanguageOncePerID(t *testing.T) {
	for _, tt := range []struct {
		lang i18n.Lang
		unit string
	}{{i18n.VI, "Cục Lãnh sự"}, {i18n.EN, "Consular Department"}} {
		dir := &countingDirectory{}
		shell := NewShell(testTexts(t))
		shell.SetDirectory(dir)
		r := httptest.NewRequest("GET", "/console/audit", nil)
		r = r.WithContext(context.WithValue(r.Context(), langKey{}, tt.lang))
		n := shell.Names(r)
		for range 3 {
			if got := n.Unit(3); got != tt.unit {
				t.Errorf("%s: Unit(3) = %q, want %q", tt.lang, got, tt.unit)
			}
			if got := n.Staff(7); got != "Đặng Thị Hồng Nhung" {
				t.Errorf("Staff(7) = %q", got)
			}
			if got := n.Unit(99); got != "" {
				t.Errorf("an unknown unit is named %q, want nothing", got)
			}
			if got := n.Staff(0); got != "" {
				t.Errorf("no staff member is named %q", got)
			}
		}
		if dir.units != 2 || dir.staff != 1 {
			t.Errorf("%s: %d unit and %d staff lookups, want 2 and 1 (each id once)", tt.lang, dir.units, dir.staff)
		}
	}
}

func TestNamesWithoutADirectoryNameNothing(t *testing.T) {
	n := NewShell(testTexts(t)).Names(httptest.NewRequest("GET", "/", nil))
	if n.Unit(3) != "" || n.Staff(7) != "" {
		t.Error("a shell without a directory named something")
	}
}

func TestUnitPickerOffersUnitsByNameValuedAsTheFormReadsThem(t *testing.T) {
	shell := NewShell(testTexts(t))
	shell.SetDirectory(&countingDirectory{})
	r := httptest.NewRequest("GET", "/console/procedures/indices", nil)
	r = r.WithContext(context.WithValue(r.Context(), langKey{}, i18n.EN))
	opts, err := shell.UnitPicker(r, "My unit", func(u UnitChoice) bool { return u.Active }, UnitCode)
	if err != nil {
		t.Fatal(err)
	}
	want := []Option{{Value: "", Label: "My unit"}, {Value: "000.00.03.G12", Label: "Consular Department"}}
	if fmt.Sprint(opts) != fmt.Sprint(want) {
		t.Errorf("options %v, want %v", opts, want)
	}
	opts, _ = shell.UnitPicker(httptest.NewRequest("GET", "/", nil), "", nil, UnitID)
	if len(opts) != 2 || opts[0] != (Option{Value: "3", Label: "Cục Lãnh sự"}) || opts[1].Value != "5" {
		t.Errorf("every unit by id, in Vietnamese: %v", opts)
	}
}
