package app

import (
	"context"

	"chancery/internal/identity"
	"chancery/internal/web"
)

// directoryNames gives the pages the names of units and staff from the
// identity directory (web.Directory).
type directoryNames struct{ dir *identity.Service }

func (d directoryNames) UnitNames(ctx context.Context, id int64) (string, string, error) {
	u, err := d.dir.Unit(ctx, id)
	return u.NameVI, u.NameEN, err
}

func (d directoryNames) StaffName(ctx context.Context, id int64) (string, error) {
	m, err := d.dir.Staff(ctx, id)
	return m.FullName, err
}

func (d directoryNames) UnitChoices(ctx context.Context) ([]web.UnitChoice, error) {
	units, err := d.dir.AllUnits(ctx)
	out := make([]web.UnitChoice, 0, len(units))
	for _, u := range units {
		out = append(out, web.UnitChoice{ID: u.ID, Code: u.Code, NameVI: u.NameVI, NameEN: u.NameEN, Active: u.Status == identity.UnitActive})
	}
	return out, err
}
