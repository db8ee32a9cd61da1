package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// The directory's storage: one implementation for both dialects, written
// with '?' placeholders and rebound by the Queryer. Helpers take a Queryer
// so the service can run them inside its transactions.

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// nullID stores a zero id as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// lockUnits serialises the transactions that depend on the shape of the
// unit tree or on a unit's status (creating units and staff, moving,
// merging), so two of them cannot together make a cycle or put someone
// into a unit being merged. SQLite needs nothing: every write transaction
// begins IMMEDIATE and so runs alone. PostgreSQL takes a table lock that
// conflicts with itself but not with readers.
func lockUnits(ctx context.Context, tx *store.Tx) error {
	if tx.Dialect != store.Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE units IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return fmt.Errorf("lock the unit tree: %w", err)
	}
	return nil
}

const unitColumns = "id, code, name_vi, name_en, kind, parent_id, country, timezone, status, merged_into, created_at, updated_at, version"

func scanUnit(sc scanner) (Unit, error) {
	var u Unit
	var parent, merged sql.NullInt64
	err := sc.Scan(&u.ID, &u.Code, &u.NameVI, &u.NameEN, &u.Kind, &parent, &u.Country, &u.TimeZone,
		&u.Status, &merged, &u.CreatedAt, &u.UpdatedAt, &u.Version)
	u.ParentID, u.MergedInto = parent.Int64, merged.Int64
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, err
}

// unitWhere returns the one unit matching the condition.
func unitWhere(ctx context.Context, q store.Queryer, what, cond string, args ...any) (Unit, error) {
	row := q.QueryRowContext(ctx, q.Rebind("SELECT "+unitColumns+" FROM units WHERE "+cond), args...)
	u, err := scanUnit(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Unit{}, fmt.Errorf("%s: %w", what, errs.ErrNotFound)
	}
	if err != nil {
		return Unit{}, fmt.Errorf("load %s: %w", what, err)
	}
	return u, nil
}

func unitByID(ctx context.Context, q store.Queryer, id int64) (Unit, error) {
	return unitWhere(ctx, q, fmt.Sprintf("unit %d", id), "id = ?", id)
}

func unitByCode(ctx context.Context, q store.Queryer, code string) (Unit, error) {
	return unitWhere(ctx, q, fmt.Sprintf("unit %q", code), "code = ?", code)
}

func rootUnit(ctx context.Context, q store.Queryer) (Unit, error) {
	return unitWhere(ctx, q, "the root unit", "parent_id IS NULL AND kind = ?", string(KindMinistry))
}

func unitSearch(u Unit) string { return searchText(u.Code, u.NameVI, u.NameEN) }

func insertUnit(ctx context.Context, q store.Queryer, u Unit) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, q.Rebind(`INSERT INTO units
		(code, name_vi, name_en, kind, parent_id, country, timezone, status, created_at, updated_at, version, search)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		u.Code, u.NameVI, u.NameEN, string(u.Kind), nullID(u.ParentID), u.Country, u.TimeZone, u.Status,
		u.CreatedAt, u.UpdatedAt, u.Version, unitSearch(u)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert unit: %w", err)
	}
	return id, nil
}

func insertUnitParent(ctx context.Context, q store.Queryer, unitID, parentID int64, from time.Time) error {
	_, err := q.ExecContext(ctx, q.Rebind("INSERT INTO unit_parents (unit_id, parent_id, valid_from) VALUES (?, ?, ?)"),
		unitID, nullID(parentID), from)
	if err != nil {
		return fmt.Errorf("record parent of unit %d: %w", unitID, err)
	}
	return nil
}

func insertUnitEvent(ctx context.Context, q store.Queryer, e UnitEvent) error {
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO unit_events
		(unit_id, kind, effective_at, recorded_at, actor, other_unit_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		e.UnitID, e.Kind, e.EffectiveAt, e.RecordedAt, e.Actor, nullID(e.OtherUnitID), e.Detail)
	if err != nil {
		return fmt.Errorf("record %s event of unit %d: %w", e.Kind, e.UnitID, err)
	}
	return nil
}

const staffColumns = "id, username, full_name, email, unit_id, roles, clearance, disabled, created_at, updated_at, version"

func scanStaff(sc scanner) (StaffMember, error) {
	var m StaffMember
	var roles string
	var clearance int
	err := sc.Scan(&m.ID, &m.Username, &m.FullName, &m.Email, &m.UnitID, &roles, &clearance, &m.Disabled,
		&m.CreatedAt, &m.UpdatedAt, &m.Version)
	if err != nil {
		return m, err
	}
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	m.Clearance = authz.Level(clearance)
	if m.Roles, err = authz.ParseRoles(strings.Split(roles, ",")); err != nil {
		return m, fmt.Errorf("staff member %d has stored roles %q: %w", m.ID, roles, err)
	}
	return m, nil
}

func staffWhere(ctx context.Context, q store.Queryer, cond string, arg any) (StaffMember, error) {
	row := q.QueryRowContext(ctx, q.Rebind("SELECT "+staffColumns+" FROM staff WHERE "+cond), arg)
	m, err := scanStaff(row)
	if errors.Is(err, sql.ErrNoRows) {
		return StaffMember{}, fmt.Errorf("staff member: %w", errs.ErrNotFound)
	}
	if err != nil {
		return StaffMember{}, fmt.Errorf("load staff member: %w", err)
	}
	return m, nil
}

func staffSearch(m StaffMember) string { return searchText(m.Username, m.FullName) }

func insertStaff(ctx context.Context, q store.Queryer, m StaffMember) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, q.Rebind(`INSERT INTO staff
		(username, full_name, email, unit_id, roles, clearance, disabled, created_at, updated_at, version, search)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		m.Username, m.FullName, m.Email, m.UnitID, m.Roles.String(), int(m.Clearance), m.Disabled,
		m.CreatedAt, m.UpdatedAt, m.Version, staffSearch(m)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert staff member: %w", err)
	}
	return id, nil
}

// setOIDCSubject links a staff member not yet linked to another subject
// and reports how many rows changed.
func setOIDCSubject(ctx context.Context, q store.Queryer, staffID int64, subject string, now time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE staff SET oidc_subject = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND (oidc_subject IS NULL OR oidc_subject = ?)`), subject, now, staffID, subject)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// insertMembership opens a membership; closeMembership ends it.
func insertMembership(ctx context.Context, q store.Queryer, m Membership) error {
	_, err := q.ExecContext(ctx, q.Rebind("INSERT INTO memberships (staff_id, unit_id, valid_from, reason) VALUES (?, ?, ?, ?)"),
		m.StaffID, m.UnitID, m.ValidFrom, m.Reason)
	if err != nil {
		return fmt.Errorf("record membership of staff member %d: %w", m.StaffID, err)
	}
	return nil
}

const citizenColumns = "id, email, full_name, phone, created_at"

func citizenWhere(ctx context.Context, q store.Queryer, cond string, arg any) (Citizen, error) {
	var c Citizen
	err := q.QueryRowContext(ctx, q.Rebind("SELECT "+citizenColumns+" FROM citizens WHERE "+cond), arg).
		Scan(&c.ID, &c.Email, &c.FullName, &c.Phone, &c.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Citizen{}, fmt.Errorf("citizen: %w", errs.ErrNotFound)
	}
	if err != nil {
		return Citizen{}, fmt.Errorf("load citizen: %w", err)
	}
	c.CreatedAt = c.CreatedAt.UTC()
	return c, nil
}

func insertCitizen(ctx context.Context, q store.Queryer, c Citizen) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, q.Rebind("INSERT INTO citizens (email, full_name, phone, created_at) VALUES (?, ?, ?, ?) RETURNING id"),
		c.Email, c.FullName, c.Phone, c.CreatedAt).Scan(&id)
	return id, err
}

// where builds a WHERE clause from conditions joined with AND.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limitClause fetches one row more than a page holds, so the caller knows
// whether a next page exists. A negative limit, which only internal callers
// pass, means every row.
func limitClause(limit int) string {
	if limit < 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", limit+1)
}

// listUnits returns the units f selects, in id order.
func listUnits(ctx context.Context, q store.Queryer, f UnitFilter) ([]Unit, error) {
	var w where
	if f.Kind != "" {
		w.add("kind = ?", string(f.Kind))
	}
	if f.ParentID != 0 {
		w.add("parent_id = ?", f.ParentID)
	}
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	if f.Query != "" {
		w.add(`search LIKE ? ESCAPE '\'`, likePattern(f.Query))
	}
	if f.After != 0 {
		w.add("id > ?", f.After)
	}
	rows, err := q.QueryContext(ctx, q.Rebind("SELECT "+unitColumns+" FROM units"+w.String()+" ORDER BY id"+limitClause(f.Limit)), w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Unit
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// updateUnitRow writes u's mutable columns if the row is still at version
// based, and reports how many rows changed.
func updateUnitRow(ctx context.Context, q store.Queryer, u Unit, based int) (int64, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE units SET name_vi = ?, name_en = ?, kind = ?, parent_id = ?, country = ?,
		timezone = ?, status = ?, merged_into = ?, updated_at = ?, search = ?, version = version + 1
		WHERE id = ? AND version = ?`),
		u.NameVI, u.NameEN, string(u.Kind), nullID(u.ParentID), u.Country, u.TimeZone, u.Status, nullID(u.MergedInto),
		u.UpdatedAt, unitSearch(u), u.ID, based)
	if err != nil {
		return 0, fmt.Errorf("save unit %s: %w", u.Code, err)
	}
	return res.RowsAffected()
}

// parentSince returns when the unit's current placement began.
func parentSince(ctx context.Context, q store.Queryer, unitID int64) (time.Time, error) {
	var t time.Time
	err := q.QueryRowContext(ctx, q.Rebind("SELECT valid_from FROM unit_parents WHERE unit_id = ? AND valid_to IS NULL"), unitID).Scan(&t)
	if err != nil {
		return t, fmt.Errorf("current placement of unit %d: %w", unitID, err)
	}
	return t.UTC(), nil
}

func closeUnitParent(ctx context.Context, q store.Queryer, unitID int64, at time.Time) error {
	_, err := q.ExecContext(ctx, q.Rebind("UPDATE unit_parents SET valid_to = ? WHERE unit_id = ? AND valid_to IS NULL"), at, unitID)
	if err != nil {
		return fmt.Errorf("close placement of unit %d: %w", unitID, err)
	}
	return nil
}

// parentAt returns the unit's parent at t from the placement history.
func parentAt(ctx context.Context, q store.Queryer, unitID int64, t time.Time) (int64, error) {
	var parent sql.NullInt64
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT parent_id FROM unit_parents
		WHERE unit_id = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)
		ORDER BY valid_from DESC, id DESC LIMIT 1`), unitID, t, t).Scan(&parent)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("no placement recorded: %w", errs.ErrNotFound)
	}
	return parent.Int64, err
}

func unitEvents(ctx context.Context, q store.Queryer, unitID int64) ([]UnitEvent, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, unit_id, kind, effective_at, recorded_at, actor, other_unit_id, detail
		FROM unit_events WHERE unit_id = ? ORDER BY id`), unitID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UnitEvent
	for rows.Next() {
		var e UnitEvent
		var other sql.NullInt64
		if err := rows.Scan(&e.ID, &e.UnitID, &e.Kind, &e.EffectiveAt, &e.RecordedAt, &e.Actor, &other, &e.Detail); err != nil {
			return nil, err
		}
		e.OtherUnitID = other.Int64
		e.EffectiveAt, e.RecordedAt = e.EffectiveAt.UTC(), e.RecordedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// listStaff returns the staff f selects, in id order.
func listStaff(ctx context.Context, q store.Queryer, f StaffFilter) ([]StaffMember, error) {
	var w where
	if f.UnitID != 0 {
		w.add("unit_id = ?", f.UnitID)
	}
	// Roles are stored comma-separated; the commas around both sides keep
	// "officer" from matching "security_officer".
	for _, name := range f.Roles.Names() {
		w.add("(',' || roles || ',') LIKE ?", "%,"+name+",%")
	}
	if f.Query != "" {
		w.add(`search LIKE ? ESCAPE '\'`, likePattern(f.Query))
	}
	if !f.IncludeDisabled {
		w.add("disabled = ?", false)
	}
	if f.After != 0 {
		w.add("id > ?", f.After)
	}
	rows, err := q.QueryContext(ctx, q.Rebind("SELECT "+staffColumns+" FROM staff"+w.String()+" ORDER BY id"+limitClause(f.Limit)), w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StaffMember
	for rows.Next() {
		m, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// updateStaffRow writes m's mutable columns if the row is still at
// version based, and reports how many rows changed.
func updateStaffRow(ctx context.Context, q store.Queryer, m StaffMember, based int) (int64, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE staff SET full_name = ?, email = ?, unit_id = ?, roles = ?, clearance = ?,
		disabled = ?, updated_at = ?, search = ?, version = version + 1 WHERE id = ? AND version = ?`),
		m.FullName, m.Email, m.UnitID, m.Roles.String(), int(m.Clearance), m.Disabled, m.UpdatedAt, staffSearch(m), m.ID, based)
	if err != nil {
		return 0, fmt.Errorf("save staff member %s: %w", m.Username, err)
	}
	return res.RowsAffected()
}

// membershipSince returns when the staff member's current membership began.
func membershipSince(ctx context.Context, q store.Queryer, staffID int64) (time.Time, error) {
	var t time.Time
	err := q.QueryRowContext(ctx, q.Rebind("SELECT valid_from FROM memberships WHERE staff_id = ? AND valid_to IS NULL"), staffID).Scan(&t)
	if err != nil {
		return t, fmt.Errorf("current membership of staff member %d: %w", staffID, err)
	}
	return t.UTC(), nil
}

func closeMembership(ctx context.Context, q store.Queryer, staffID int64, at time.Time) error {
	_, err := q.ExecContext(ctx, q.Rebind("UPDATE memberships SET valid_to = ? WHERE staff_id = ? AND valid_to IS NULL"), at, staffID)
	if err != nil {
		return fmt.Errorf("close membership of staff member %d: %w", staffID, err)
	}
	return nil
}

func memberships(ctx context.Context, q store.Queryer, staffID int64) ([]Membership, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT staff_id, unit_id, valid_from, valid_to, reason
		FROM memberships WHERE staff_id = ? ORDER BY valid_from, id`), staffID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var to sql.NullTime
		if err := rows.Scan(&m.StaffID, &m.UnitID, &m.ValidFrom, &to, &m.Reason); err != nil {
			return nil, err
		}
		m.ValidFrom = m.ValidFrom.UTC()
		if to.Valid {
			m.ValidTo = to.Time.UTC()
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// unitAt returns the unit the staff member belonged to at t.
func unitAt(ctx context.Context, q store.Queryer, staffID int64, t time.Time) (int64, error) {
	var unit int64
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT unit_id FROM memberships
		WHERE staff_id = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)
		ORDER BY valid_from DESC, id DESC LIMIT 1`), staffID, t, t).Scan(&unit)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("no membership recorded: %w", errs.ErrNotFound)
	}
	return unit, err
}

// lockStaff serialises the changes that can take an oversight role away
// (roles, disabling), so that keepOversight's count cannot be outdated by
// a concurrent change of another account. SQLite's write transactions run
// alone already; PostgreSQL takes a table lock that conflicts with itself
// and with writers, not with readers.
func lockStaff(ctx context.Context, tx *store.Tx) error {
	if tx.Dialect != store.Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE staff IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return fmt.Errorf("lock the staff accounts: %w", err)
	}
	return nil
}

// countActiveWithRole counts the active staff other than except who hold
// role.
func countActiveWithRole(ctx context.Context, q store.Queryer, role authz.Role, except int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT COUNT(*) FROM staff
		WHERE disabled = ? AND id <> ? AND (',' || roles || ',') LIKE ?`), false, except, "%,"+role.String()+",%").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count active %s accounts: %w", role, err)
	}
	return n, nil
}

const proposalColumns = `p.id, p.staff_id, s.username, s.version, p.based_version, p.roles, p.clearance, p.old_roles,
	p.old_clearance, p.proposed_by, p.proposer, p.proposed_at, p.status, p.decided_by, p.decider, p.decided_at, p.note`

const proposalFrom = " FROM staff_proposals p JOIN staff s ON s.id = p.staff_id"

func scanProposal(sc scanner) (Proposal, error) {
	var p Proposal
	var version, clearance, oldClearance int
	var roles, oldRoles string
	var by, decidedBy sql.NullInt64
	var decidedAt sql.NullTime
	err := sc.Scan(&p.ID, &p.StaffID, &p.Username, &version, &p.BasedVersion, &roles, &clearance, &oldRoles,
		&oldClearance, &by, &p.Proposer, &p.ProposedAt, &p.Status, &decidedBy, &p.Decider, &decidedAt, &p.Note)
	if err != nil {
		return p, err
	}
	p.Clearance, p.OldClearance = authz.Level(clearance), authz.Level(oldClearance)
	p.ProposedBy, p.DecidedBy = by.Int64, decidedBy.Int64
	p.ProposedAt = p.ProposedAt.UTC()
	if decidedAt.Valid {
		p.DecidedAt = decidedAt.Time.UTC()
	}
	p.Stale = p.Status == ProposalPending && version != p.BasedVersion
	if p.Roles, err = authz.ParseRoles(strings.Split(roles, ",")); err != nil {
		return p, fmt.Errorf("proposal %d has stored roles %q: %w", p.ID, roles, err)
	}
	if p.OldRoles, err = authz.ParseRoles(strings.Split(oldRoles, ",")); err != nil {
		return p, fmt.Errorf("proposal %d has stored roles %q: %w", p.ID, oldRoles, err)
	}
	return p, nil
}

func proposalWhere(ctx context.Context, q store.Queryer, cond string, arg any) (Proposal, error) {
	row := q.QueryRowContext(ctx, q.Rebind("SELECT "+proposalColumns+proposalFrom+" WHERE "+cond), arg)
	p, err := scanProposal(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Proposal{}, fmt.Errorf("proposal: %w", errs.ErrNotFound)
	}
	if err != nil {
		return Proposal{}, fmt.Errorf("load proposal: %w", err)
	}
	return p, nil
}

// pendingProposalOf returns the id of the staff member's pending proposal.
func pendingProposalOf(ctx context.Context, q store.Queryer, staffID int64) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, q.Rebind("SELECT id FROM staff_proposals WHERE staff_id = ? AND status = ?"), staffID, ProposalPending).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("pending proposal: %w", errs.ErrNotFound)
	}
	return id, err
}

func insertProposal(ctx context.Context, q store.Queryer, p Proposal) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, q.Rebind(`INSERT INTO staff_proposals
		(staff_id, based_version, roles, clearance, old_roles, old_clearance, proposed_by, proposer, proposed_at, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		p.StaffID, p.BasedVersion, p.Roles.String(), int(p.Clearance), p.OldRoles.String(), int(p.OldClearance),
		nullID(p.ProposedBy), p.Proposer, p.ProposedAt, p.Status).Scan(&id)
	if store.IsUniqueViolation(err) {
		return 0, fmt.Errorf("%w: another proposal for the account was filed at the same moment; reload and try again", errs.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("insert proposal: %w", err)
	}
	return id, nil
}

// decideProposal moves a pending proposal to status; a proposal decided
// meanwhile is a conflict, so two decisions cannot both take effect.
func decideProposal(ctx context.Context, q store.Queryer, id int64, status string, by int64, decider string, at time.Time, note string) error {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE staff_proposals SET status = ?, decided_by = ?, decider = ?, decided_at = ?, note = ?
		WHERE id = ? AND status = ?`), status, nullID(by), decider, at, note, id, ProposalPending)
	if err != nil {
		return fmt.Errorf("record the decision on proposal %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("%w: proposal %d was decided by someone else meanwhile; reload", errs.ErrConflict, id)
	}
	return nil
}

// listProposals returns the proposals f selects, in id order.
func listProposals(ctx context.Context, q store.Queryer, f ProposalFilter) ([]Proposal, error) {
	var w where
	if f.Status != "" {
		w.add("p.status = ?", f.Status)
	}
	if f.StaffID != 0 {
		w.add("p.staff_id = ?", f.StaffID)
	}
	if f.After != 0 {
		w.add("p.id > ?", f.After)
	}
	rows, err := q.QueryContext(ctx, q.Rebind("SELECT "+proposalColumns+proposalFrom+w.String()+" ORDER BY p.id"+limitClause(f.Limit)), w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Proposal
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
