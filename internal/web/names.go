package web

import (
	"context"
	"net/http"

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
}

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
