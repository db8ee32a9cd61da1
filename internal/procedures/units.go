package procedures

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"chancery/internal/identity"
)

// UnitsFor returns the active units of the directory a citizen may apply
// to for p: its units in Viet Nam in the catalogue's order, then, when the
// missions implement it, every mission by English name. A unit the
// catalogue names but the directory lacks (or has merged away) is left
// out, since an application to it could not be received.
func (s *Service) UnitsFor(ctx context.Context, p *Procedure) ([]identity.Unit, error) {
	all, err := s.opts.Directory.AllUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("procedures: list the units of procedure %s: %w", p.Code, err)
	}
	byCode := make(map[string]identity.Unit, len(all))
	var missions []identity.Unit
	for _, u := range all {
		if u.Status != identity.UnitActive {
			continue
		}
		byCode[u.Code] = u
		if p.AtMissions && u.Kind.Mission() {
			missions = append(missions, u)
		}
	}
	var out []identity.Unit
	for _, cu := range p.Units {
		if u, ok := byCode[cu.AgencyCode]; ok && !u.Kind.Mission() {
			out = append(out, u)
		}
	}
	slices.SortFunc(missions, func(a, b identity.Unit) int { return cmp.Compare(a.NameEN, b.NameEN) })
	return append(out, missions...), nil
}
