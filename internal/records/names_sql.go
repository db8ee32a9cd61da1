package records

import (
	"context"
	"fmt"
	"strings"

	"chancery/internal/i18n"
	"chancery/internal/store"
)

// The console's pages name units and staff: these queries read the
// directory's tables (internal/identity's units and staff, which the
// records' tables reference) for names only, never for an access
// decision, which the subject's labels and authz make.

// unitInfo is a unit as the pages name it.
type unitInfo struct {
	ID             int64
	Code           string
	NameVI, NameEN string
}

// Name returns the unit's name in lang.
func (u unitInfo) Name(lang i18n.Lang) string {
	if lang == i18n.EN && u.NameEN != "" {
		return u.NameEN
	}
	return u.NameVI
}

// listUnits returns the active units, by code.
func listUnits(ctx context.Context, q store.Queryer) ([]unitInfo, error) {
	rs, err := q.QueryContext(ctx, `SELECT id, code, name_vi, name_en FROM units WHERE status = 'active' ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("records: list units: %w", err)
	}
	defer rs.Close()
	var out []unitInfo
	for rs.Next() {
		var u unitInfo
		if err := rs.Scan(&u.ID, &u.Code, &u.NameVI, &u.NameEN); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rs.Err()
}

// staffInfo is a member of staff as the pages name them.
type staffInfo struct {
	ID       int64
	Name     string
	UnitID   int64
	Officer  bool // holds the officer role: whom an instruction names
	Disabled bool
}

// listStaff returns the members of staff with ids (every one when ids is
// nil and all is set), by name.
func listStaff(ctx context.Context, q store.Queryer, ids []int64, all bool) ([]staffInfo, error) {
	query := `SELECT id, full_name, unit_id, roles, disabled FROM staff`
	if !all {
		if len(ids) == 0 {
			return nil, nil
		}
		list := make([]string, len(ids))
		for i, id := range ids {
			list[i] = fmt.Sprint(id)
		}
		query += ` WHERE id IN (` + strings.Join(list, ", ") + `)`
	}
	rs, err := q.QueryContext(ctx, query+` ORDER BY full_name, id`)
	if err != nil {
		return nil, fmt.Errorf("records: list staff: %w", err)
	}
	defer rs.Close()
	var out []staffInfo
	for rs.Next() {
		var s staffInfo
		var roles string
		var disabled bool
		if err := rs.Scan(&s.ID, &s.Name, &s.UnitID, &roles, &disabled); err != nil {
			return nil, err
		}
		s.Disabled = disabled
		for r := range strings.SplitSeq(roles, ",") {
			if strings.TrimSpace(r) == "officer" {
				s.Officer = true
			}
		}
		out = append(out, s)
	}
	return out, rs.Err()
}
