package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/store"
)

// The registry's storage: one implementation for both dialects, written
// with '?' placeholders and rebound by the Queryer. Helpers take a Queryer
// so that the registry can run them inside its transactions. Times are
// stored as microseconds since the Unix epoch.

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// fromNullMicros returns the zero time for NULL.
func fromNullMicros(us sql.NullInt64) time.Time {
	if !us.Valid {
		return time.Time{}
	}
	return fromMicros(us.Int64)
}

// ours reports whether a client id is of the registry's instance and
// class: ids of any other name nothing in the registry.
func ours(id exchange.ClientID, instance string) bool {
	return id.Instance == instance && id.Class == exchange.ClassGOV
}

// lockRegistry takes the registry's write lock and returns the serial
// of the configuration the change publishes: incremented when publish,
// else the latest one's. The update is the lock (a row lock on
// PostgreSQL; SQLite's write transactions run one at a time anyway), so
// changes of the registry are serialised and each configuration is built
// from one consistent state.
func lockRegistry(ctx context.Context, tx *store.Tx, publish bool) (uint64, error) {
	step := 0
	if publish {
		step = 1
	}
	var serial int64
	err := tx.QueryRowContext(ctx, tx.Rebind("UPDATE registry_state SET serial = serial + ? WHERE id = 1 RETURNING serial"), step).Scan(&serial)
	if err != nil {
		return 0, fmt.Errorf("lock the registry: %w", err)
	}
	return uint64(serial), nil
}

func insertSubsystem(ctx context.Context, tx *store.Tx, s exchange.Subsystem, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO registry_subsystems (member, code, title, clearance, created_us) VALUES (?, ?, ?, ?, ?)"),
		s.ID.Member, s.ID.Subsystem, s.Title, int(s.Clearance), micros(now))
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("%w: member %s already has a subsystem %q", errs.ErrConflict, s.ID.Member, s.ID.Subsystem)
	}
	if err != nil {
		return fmt.Errorf("store subsystem %s: %w", s.ID, err)
	}
	return nil
}

func scanSubsystem(sc scanner, instance string) (exchange.Subsystem, error) {
	s := exchange.Subsystem{ID: exchange.ClientID{Instance: instance, Class: exchange.ClassGOV}}
	var clearance int
	err := sc.Scan(&s.ID.Member, &s.ID.Subsystem, &s.Title, &clearance)
	s.Clearance = authz.Level(clearance)
	return s, err
}

const subsystemColumns = "member, code, title, clearance"

// listSubsystems returns member's subsystems, or every subsystem when
// member is empty.
func listSubsystems(ctx context.Context, q store.Queryer, instance, member string) ([]exchange.Subsystem, error) {
	query, args := "SELECT "+subsystemColumns+" FROM registry_subsystems", []any{}
	if member != "" {
		query, args = query+" WHERE member = ?", append(args, member)
	}
	rows, err := q.QueryContext(ctx, q.Rebind(query+" ORDER BY member, code"), args...)
	if err != nil {
		return nil, fmt.Errorf("list subsystems: %w", err)
	}
	defer rows.Close()
	var out []exchange.Subsystem
	for rows.Next() {
		s, err := scanSubsystem(rows, instance)
		if err != nil {
			return nil, fmt.Errorf("read subsystem: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// subsystemByID returns the subsystem id, or an error wrapping
// ErrNotFound.
func subsystemByID(ctx context.Context, q store.Queryer, instance string, id exchange.ClientID) (exchange.Subsystem, error) {
	if !ours(id, instance) {
		return exchange.Subsystem{}, fmt.Errorf("subsystem %s: %w", id, errs.ErrNotFound)
	}
	row := q.QueryRowContext(ctx, q.Rebind("SELECT "+subsystemColumns+" FROM registry_subsystems WHERE member = ? AND code = ?"), id.Member, id.Subsystem)
	s, err := scanSubsystem(row, instance)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("subsystem %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("load subsystem %s: %w", id, err)
	}
	return s, nil
}

const serviceColumns = "member, subsystem, service, version, kind, title, description, backend, openapi, max_level"

func scanService(sc scanner, instance string) (exchange.Service, error) {
	s := exchange.Service{ID: exchange.ServiceID{ClientID: exchange.ClientID{Instance: instance, Class: exchange.ClassGOV}}}
	var level int
	err := sc.Scan(&s.ID.Member, &s.ID.Subsystem, &s.ID.Service, &s.ID.Version, &s.Kind, &s.Title, &s.Description,
		&s.Backend, &s.OpenAPI, &level)
	s.MaxLevel = authz.Level(level)
	return s, err
}

func insertService(ctx context.Context, tx *store.Tx, s exchange.Service, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO registry_services ("+serviceColumns+", created_us, updated_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		s.ID.Member, s.ID.Subsystem, s.ID.Service, s.ID.Version, string(s.Kind), s.Title, s.Description, s.Backend, s.OpenAPI,
		int(s.MaxLevel), micros(now), micros(now))
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("%w: service %s is already registered", errs.ErrConflict, s.ID)
	}
	if err != nil {
		return fmt.Errorf("store service %s: %w", s.ID, err)
	}
	return nil
}

func updateService(ctx context.Context, tx *store.Tx, s exchange.Service, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE registry_services SET title = ?, description = ?, backend = ?, openapi = ?, max_level = ?, updated_us = ?
		WHERE member = ? AND subsystem = ? AND service = ? AND version = ?`),
		s.Title, s.Description, s.Backend, s.OpenAPI, int(s.MaxLevel), micros(now), s.ID.Member, s.ID.Subsystem, s.ID.Service, s.ID.Version)
	if err != nil {
		return fmt.Errorf("store service %s: %w", s.ID, err)
	}
	return nil
}

// serviceWhere is the condition that selects a service by its id.
const serviceWhere = "member = ? AND subsystem = ? AND service = ? AND version = ?"

func serviceArgs(id exchange.ServiceID) []any {
	return []any{id.Member, id.Subsystem, id.Service, id.Version}
}

// serviceByID returns the service id, or an error wrapping ErrNotFound.
func serviceByID(ctx context.Context, q store.Queryer, instance string, id exchange.ServiceID) (exchange.Service, error) {
	if !ours(id.ClientID, instance) {
		return exchange.Service{}, fmt.Errorf("service %s: %w", id, errs.ErrNotFound)
	}
	row := q.QueryRowContext(ctx, q.Rebind("SELECT "+serviceColumns+" FROM registry_services WHERE "+serviceWhere), serviceArgs(id)...)
	s, err := scanService(row, instance)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("service %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("load service %s: %w", id, err)
	}
	return s, nil
}

// serviceRowID returns the row id of service id, or an error wrapping
// ErrNotFound.
func serviceRowID(ctx context.Context, q store.Queryer, instance string, id exchange.ServiceID) (int64, error) {
	var row int64
	err := q.QueryRowContext(ctx, q.Rebind("SELECT id FROM registry_services WHERE "+serviceWhere), serviceArgs(id)...).Scan(&row)
	if errors.Is(err, sql.ErrNoRows) || !ours(id.ClientID, instance) {
		return 0, fmt.Errorf("service %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("load service %s: %w", id, err)
	}
	return row, nil
}

func listServices(ctx context.Context, q store.Queryer, instance string) ([]exchange.Service, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+serviceColumns+" FROM registry_services ORDER BY member, subsystem, service, version")
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	defer rows.Close()
	var out []exchange.Service
	for rows.Next() {
		s, err := scanService(rows, instance)
		if err != nil {
			return nil, fmt.Errorf("read service: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// deleteService deletes a service; its rights go with it.
func deleteService(ctx context.Context, tx *store.Tx, instance string, id exchange.ServiceID) error {
	row, err := serviceRowID(ctx, tx, instance, id)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM registry_services WHERE id = ?"), row); err != nil {
		return fmt.Errorf("delete service %s: %w", id, err)
	}
	return nil
}

func insertRight(ctx context.Context, tx *store.Tx, instance string, g Grant) error {
	row, err := serviceRowID(ctx, tx, instance, g.Service)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO registry_rights (service_id, client_member, client_subsystem, granted_by, granted_us) VALUES (?, ?, ?, ?, ?)"),
		row, g.Client.Member, g.Client.Subsystem, g.GrantedBy, micros(g.Granted))
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("%w: %s may already use %s", errs.ErrConflict, g.Client, g.Service)
	}
	if err != nil {
		return fmt.Errorf("store right: %w", err)
	}
	return nil
}

func revokeRight(ctx context.Context, tx *store.Tx, instance string, service exchange.ServiceID, client exchange.ClientID, by string, now time.Time) error {
	row, err := serviceRowID(ctx, tx, instance, service)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE registry_rights SET revoked_by = ?, revoked_us = ?
		WHERE service_id = ? AND client_member = ? AND client_subsystem = ? AND revoked_us IS NULL`),
		by, micros(now), row, client.Member, client.Subsystem)
	if err != nil {
		return fmt.Errorf("revoke right: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke right: %w", err)
	} else if n == 0 || !ours(client, instance) {
		return fmt.Errorf("no right of %s to use %s is in force: %w", client, service, errs.ErrNotFound)
	}
	return nil
}

// rightInForce reports whether client may use service now.
func rightInForce(ctx context.Context, q store.Queryer, service exchange.ServiceID, client exchange.ClientID) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT COUNT(*) FROM registry_rights r JOIN registry_services s ON s.id = r.service_id
		WHERE s.member = ? AND s.subsystem = ? AND s.service = ? AND s.version = ?
		AND r.client_member = ? AND r.client_subsystem = ? AND r.revoked_us IS NULL`),
		append(serviceArgs(service), client.Member, client.Subsystem)...).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up the right of %s on %s: %w", client, service, err)
	}
	return n > 0, nil
}

// listRights returns the rights ever granted on service, newest first.
func listRights(ctx context.Context, q store.Queryer, instance string, service exchange.ServiceID) ([]Grant, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT r.client_member, r.client_subsystem, r.granted_by, r.granted_us, r.revoked_by, r.revoked_us
		FROM registry_rights r JOIN registry_services s ON s.id = r.service_id
		WHERE s.member = ? AND s.subsystem = ? AND s.service = ? AND s.version = ? ORDER BY r.id DESC`), serviceArgs(service)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		g := Grant{Service: service, Client: exchange.ClientID{Instance: instance, Class: exchange.ClassGOV}}
		var granted int64
		var revoked sql.NullInt64
		if err := rows.Scan(&g.Client.Member, &g.Client.Subsystem, &g.GrantedBy, &granted, &g.RevokedBy, &revoked); err != nil {
			return nil, fmt.Errorf("read right: %w", err)
		}
		g.Granted, g.Revoked = fromMicros(granted), fromNullMicros(revoked)
		out = append(out, g)
	}
	return out, rows.Err()
}

// activeRights returns every right in force.
func activeRights(ctx context.Context, q store.Queryer, instance string) ([]exchange.Right, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.member, s.subsystem, s.service, s.version, r.client_member, r.client_subsystem
		FROM registry_rights r JOIN registry_services s ON s.id = r.service_id WHERE r.revoked_us IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("list rights: %w", err)
	}
	defer rows.Close()
	var out []exchange.Right
	for rows.Next() {
		base := exchange.ClientID{Instance: instance, Class: exchange.ClassGOV}
		r := exchange.Right{Service: exchange.ServiceID{ClientID: base}, Client: base}
		if err := rows.Scan(&r.Service.Member, &r.Service.Subsystem, &r.Service.Service, &r.Service.Version, &r.Client.Member, &r.Client.Subsystem); err != nil {
			return nil, fmt.Errorf("read right: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const nodeColumns = "id, role, member, domain, signing_key, signing_key_id, encryption_key, certified_us, revoked_us, revoked_reason, revoked_by"

func scanNode(sc scanner) (Node, error) {
	var n Node
	var certified int64
	var revoked sql.NullInt64
	err := sc.Scan(&n.ID, &n.Role, &n.Member, &n.Domain, &n.SigningKey, &n.SigningKeyID, &n.EncryptionKey, &certified, &revoked, &n.RevokedReason, &n.RevokedBy)
	n.Certified, n.Revoked = fromMicros(certified), fromNullMicros(revoked)
	return n, err
}

func insertNode(ctx context.Context, tx *store.Tx, n exchange.NodeInfo) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO registry_nodes (id, role, member, domain, signing_key, signing_key_id, encryption_key, certified_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), n.ID, string(n.Role), n.Member, n.Domain, n.SigningKey, n.SigningKeyID, n.EncryptionKey, micros(n.Certified))
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("%w: node %s, or another node of member %s, is already registered", errs.ErrConflict, n.ID, n.Member)
	}
	if err != nil {
		return fmt.Errorf("store node %s: %w", n.ID, err)
	}
	return nil
}

// updateNodeKeys stores a node's new keys, member and domain.
func updateNodeKeys(ctx context.Context, tx *store.Tx, n exchange.NodeInfo) error {
	_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE registry_nodes SET member = ?, domain = ?, signing_key = ?, signing_key_id = ?, encryption_key = ?, certified_us = ? WHERE id = ?"),
		n.Member, n.Domain, n.SigningKey, n.SigningKeyID, n.EncryptionKey, micros(n.Certified), n.ID)
	if err != nil {
		return fmt.Errorf("store keys of node %s: %w", n.ID, err)
	}
	return nil
}

func revokeNode(ctx context.Context, tx *store.Tx, id, reason, by string, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE registry_nodes SET revoked_us = ?, revoked_reason = ?, revoked_by = ? WHERE id = ?"),
		micros(now), reason, by, id)
	if err != nil {
		return fmt.Errorf("revoke node %s: %w", id, err)
	}
	return nil
}

// nodeWhere returns the one node matching the condition, or an error
// wrapping ErrNotFound.
func nodeWhere(ctx context.Context, q store.Queryer, what, cond string, args ...any) (Node, error) {
	n, err := scanNode(q.QueryRowContext(ctx, q.Rebind("SELECT "+nodeColumns+" FROM registry_nodes WHERE "+cond), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return n, fmt.Errorf("%s: %w", what, errs.ErrNotFound)
	}
	if err != nil {
		return n, fmt.Errorf("load %s: %w", what, err)
	}
	return n, nil
}

func nodeByID(ctx context.Context, q store.Queryer, id string) (Node, error) {
	return nodeWhere(ctx, q, "node "+id, "id = ?", id)
}

func hqNode(ctx context.Context, q store.Queryer) (Node, error) {
	return nodeWhere(ctx, q, "headquarters' node", "role = 'hq'")
}

func nodeBySigningKey(ctx context.Context, q store.Queryer, key []byte) (Node, error) {
	return nodeWhere(ctx, q, "node with that signing key", "signing_key = ?", key)
}

// activeMissionNode returns the node in service of a mission.
func activeMissionNode(ctx context.Context, q store.Queryer, member string) (Node, error) {
	return nodeWhere(ctx, q, "node of "+member, "member = ? AND role = 'mission' AND revoked_us IS NULL", member)
}

// listNodes returns every node, headquarters' first, then by id.
func listNodes(ctx context.Context, q store.Queryer) ([]Node, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+nodeColumns+" FROM registry_nodes ORDER BY CASE role WHEN 'hq' THEN 0 ELSE 1 END, id")
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, fmt.Errorf("read node: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// enrolment is an enrolment token as stored.
type enrolment struct {
	id      int64
	member  string
	expires time.Time
	used    time.Time
}

func insertEnrolment(ctx context.Context, tx *store.Tx, hash []byte, member, by string, now, expires time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO registry_enrolments (token_hash, member, issued_by, issued_us, expires_us)
		VALUES (?, ?, ?, ?, ?) RETURNING id`), hash, member, by, micros(now), micros(expires)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store enrolment: %w", err)
	}
	return id, nil
}

func enrolmentByHash(ctx context.Context, q store.Queryer, hash []byte) (enrolment, error) {
	var e enrolment
	var expires int64
	var used sql.NullInt64
	err := q.QueryRowContext(ctx, q.Rebind("SELECT id, member, expires_us, used_us FROM registry_enrolments WHERE token_hash = ?"), hash).
		Scan(&e.id, &e.member, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("enrolment: %w", errs.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("load enrolment: %w", err)
	}
	e.expires, e.used = fromMicros(expires), fromNullMicros(used)
	return e, nil
}

// useEnrolment marks an enrolment used by node, with the bcrypt hash of
// the leaf password it gave the node (or ""), refusing with
// ErrEnrolmentUsed one that another request used first.
func useEnrolment(ctx context.Context, tx *store.Tx, id int64, node, leafHash string, now time.Time) error {
	res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE registry_enrolments SET used_us = ?, node_id = ?, leaf_hash = ? WHERE id = ? AND used_us IS NULL"),
		micros(now), node, leafHash, id)
	if err != nil {
		return fmt.Errorf("use enrolment: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("use enrolment: %w", err)
	} else if n == 0 {
		return ErrEnrolmentUsed
	}
	return nil
}

// storedConf is a published configuration as stored.
type storedConf struct {
	serial          uint64
	data            []byte
	issued, expires time.Time
}

// insertConf stores a published configuration and drops those more than
// keep serials older.
func insertConf(ctx context.Context, tx *store.Tx, conf *exchange.GlobalConf, signed []byte, keep int) error {
	_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO registry_confs (serial, data, issued_us, expires_us) VALUES (?, ?, ?, ?)"),
		int64(conf.Serial), signed, micros(conf.Issued), micros(conf.Expires))
	if err != nil {
		return fmt.Errorf("store global configuration %d: %w", conf.Serial, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM registry_confs WHERE serial <= ?"), int64(conf.Serial)-int64(keep)); err != nil {
		return fmt.Errorf("drop old global configurations: %w", err)
	}
	return nil
}

// latestConf returns the latest published configuration, or an error
// wrapping ErrNotFound.
func latestConf(ctx context.Context, q store.Queryer) (storedConf, error) {
	var c storedConf
	var serial, issued, expires int64
	err := q.QueryRowContext(ctx, "SELECT serial, data, issued_us, expires_us FROM registry_confs ORDER BY serial DESC LIMIT 1").
		Scan(&serial, &c.data, &issued, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("no global configuration has been published yet: %w", errs.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("load the latest global configuration: %w", err)
	}
	c.serial, c.issued, c.expires = uint64(serial), fromMicros(issued), fromMicros(expires)
	return c, nil
}

// hasConf reports whether a configuration was ever published.
func hasConf(ctx context.Context, q store.Queryer) (bool, error) {
	_, err := latestConf(ctx, q)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
