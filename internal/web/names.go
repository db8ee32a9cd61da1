package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"chancery/internal/i18n"
)

// Directory names the units and staff that pages mention by id, so no
// page shows a reader "#4" or "Staff 7"; the directory's capability
// implements it at wiring (Shell.SetDirectory).
type Directory interface {
	// UnitNames returns the unit's name in Vietnamese and in English.
	UnitNames(ctx context.Context, id int64) (vi, en string, err error)
	// StaffName returns the staff member's full name.
	StaffName(ctx context.Context, id int64) (string, error)
	// UnitChoices returns every unit, in the directory's order, for a
	// unit picker.
	UnitChoices(ctx context.Context) ([]UnitChoice, error)
}

// UnitChoice is a unit as a unit picker offers it.
type UnitChoice struct {
	ID             int64
	Code           string // the electronic agency code
	NameVI, NameEN string
	// Active reports whether the unit is in service (not merged away).
	Active bool
}

// UnitPicker returns the options of a select of units by name, in r's
// language, for a form that asks which unit instead of having its code
// typed by hand: first anyLabel (the empty value; none when anyLabel is
// empty), then each unit keep accepts, valued by value (its id, or its
// code, as the form's handler reads it). A shell without a directory
// offers no unit.
func (s *Shell) UnitPicker(r *http.Request, anyLabel string, keep func(UnitChoice) bool, value func(UnitChoice) string) ([]Option, error) {
	var opts []Option
	if anyLabel != "" {
		opts = append(opts, Option{Value: "", Label: anyLabel})
	}
	if s.dir == nil {
		return opts, nil
	}
	units, err := s.dir.UnitChoices(r.Context())
	if err != nil {
		return nil, fmt.Errorf("web: list the units to pick from: %w", err)
	}
	en := LangFrom(r.Context()) == i18n.EN
	for _, u := range units {
		if keep != nil && !keep(u) {
			continue
		}
		label := u.NameVI
		if en && u.NameEN != "" {
			label = u.NameEN
		}
		opts = append(opts, Option{Value: value(u), Label: label})
	}
	return opts, nil
}

// UnitID values a unit picker's option by the unit's id.
func UnitID(u UnitChoice) string { return strconv.FormatInt(u.ID, 10) }

// UnitCode values a unit picker's option by the unit's agency code.
func UnitCode(u UnitChoice) string { return u.Code }

// SetDirectory gives the shell's pages the directory they name units and
// staff from (see Shell.Names).
func (s *Shell) SetDirectory(d Directory) { s.dir = d }

// Names resolves the ids one request's page shows into names, asking the
// directory at most once per id. A Names is for one request's goroutine.
type Names struct {
	ctx   context.Context
	lang  i18n.Lang
	dir   Directory
	units map[int64]string
	staff map[int64]string
}

// Names returns the resolver of r's page, in r's language.
func (s *Shell) Names(r *http.Request) *Names {
	return &Names{ctx: r.Context(), lang: LangFrom(r.Context()), dir: s.dir, units: map[int64]string{}, staff: map[int64]string{}}
}

// Unit returns the name of unit id in the page's language, or "" when
// there is none to show (no id, no directory, a unit it cannot read):
// the caller then says so in words rather than showing the id.
func (n *Names) Unit(id int64) string {
	if id <= 0 || n.dir == nil {
		return ""
	}
	if name, ok := n.units[id]; ok {
		return name
	}
	vi, en, err := n.dir.UnitNames(n.ctx, id)
	name := vi
	if n.lang == i18n.EN && en != "" {
		name = en
	}
	if err != nil {
		Logger(n.ctx).Warn("name a unit", "unit", id, "err", err)
		name = ""
	}
	n.units[id] = name
	return name
}

// Staff returns the full name of staff member id, or "" when there is
// none to show (as Unit).
func (n *Names) Staff(id int64) string {
	if id <= 0 || n.dir == nil {
		return ""
	}
	if name, ok := n.staff[id]; ok {
		return name
	}
	name, err := n.dir.StaffName(n.ctx, id)
	if err != nil {
		Logger(n.ctx).Warn("name a member of staff", "staff", id, "err", err)
		name = ""
	}
	n.staff[id] = name
	return name
}
