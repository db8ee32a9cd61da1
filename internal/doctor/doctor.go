// Package doctor checks a Chancery deployment from the outside, as an
// operator would before opening it to traffic or after a change: the
// versions of the binary, the schema, PostgreSQL and NATS; the clocks of the
// database and NATS against this host's; the master key and the keyring it
// opens; and that the database, NATS JetStream (with its streams'
// replicas) and the object store answer and work. It changes nothing but a
// small object of its own in the object store, written, read back and
// deleted.
//
// Each check ends ok, warn (works, but an operator should look), fail or
// skip (does not apply to this shape); a report with any failure makes
// `chancery doctor` exit 1.
package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"gocloud.dev/blob"

	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// Status is the outcome of one check.
type Status string

// The outcomes of a check.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Check is one line of the report.
type Check struct {
	Area   string `json:"area"` // version, clock, keys, database, nats, objects
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
}

// Report is every check, in the order they ran.
type Report struct {
	Checks []Check `json:"checks"`
}

// Failed reports how many checks failed.
func (r Report) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == Fail {
			n++
		}
	}
	return n
}

// Find returns the check of area and name, and whether there is one.
func (r Report) Find(area, name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Area == area && c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Options say what to check: the deployment's own settings (a replica's
// flags or environment), and the limits.
type Options struct {
	// DataDir, DB, Blob and NATS are the node's --data, --db, --blob and
	// --nats; MasterKey its CHANCERY_MASTER_KEY.
	DataDir, DB, Blob, NATS, MasterKey string
	// Version is the binary's version line (chancery version).
	Version string
	// MaxSkew is the largest clock difference from the database or NATS
	// that passes. Default DefaultMaxSkew.
	MaxSkew time.Duration
	// Timeout bounds each check that waits on the network. Default
	// DefaultTimeout.
	Timeout time.Duration
	// Now is this host's clock; nil is time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	// DefaultMaxSkew is the clock difference that fails: the ledger's
	// timestamps, TOTP windows (30 s steps) and sessions across replicas
	// are written by several hosts, and a second is what NTP keeps far
	// within.
	DefaultMaxSkew = time.Second
	DefaultTimeout = 5 * time.Second
)

// doctor carries a run's options and what the checks found.
type doctor struct {
	opts   Options
	report Report
	db     *store.DB
	domain string // the node's JetStream domain, from the database
}

func (d *doctor) add(area, name string, st Status, format string, args ...any) {
	d.report.Checks = append(d.report.Checks, Check{Area: area, Name: name, Status: st, Detail: fmt.Sprintf(format, args...)})
}

// Run checks the deployment opts describes. It always returns a report;
// a check that cannot run is a failure in it, not an error.
func Run(ctx context.Context, opts Options) Report {
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = DefaultMaxSkew
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &doctor{opts: opts}
	version := opts.Version
	if version == "" {
		version = "unknown"
	}
	d.add("version", "binary", OK, "%s", version)
	masterOK := d.checkDataDir() && d.checkMasterKey()
	if d.openDatabase(ctx) {
		defer d.db.Close()
		d.checkDatabase(ctx)
		if masterOK {
			d.checkKeyring(ctx)
		} else {
			d.add("keys", "keyring", Skip, "not opened: the master key is missing or unusable (see above)")
		}
	}
	d.checkNATS(ctx)
	d.checkObjects(ctx)
	return d.report
}

// checkDataDir checks that the data directory, where the SQLite database,
// the embedded NATS store and master.key live, is the node user's alone.
func (d *doctor) checkDataDir() bool {
	dir := d.opts.DataDir
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && d.opts.DB != "" && d.opts.MasterKey != "":
		d.add("keys", "data directory", Skip, "%s does not exist; this node keeps nothing there (PostgreSQL, CHANCERY_MASTER_KEY)", dir)
		return true
	case err != nil:
		d.add("keys", "data directory", Fail, "%v; give --data the node's data directory", err)
		return false
	case !fi.IsDir():
		d.add("keys", "data directory", Fail, "%s is not a directory", dir)
		return false
	case fi.Mode().Perm()&0o077 != 0:
		d.add("keys", "data directory", Fail, "%s has mode %04o: others may read the node's data; chmod 700 %s", dir, fi.Mode().Perm(), dir)
		return false
	}
	d.add("keys", "data directory", OK, "%s (mode %04o)", dir, fi.Mode().Perm())
	return true
}

// checkMasterKey checks that the master key is there, well formed and
// readable by the node's user only.
func (d *doctor) checkMasterKey() bool {
	if d.opts.MasterKey != "" {
		if _, err := keys.ParseMasterKey(d.opts.MasterKey); err != nil {
			d.add("keys", "master key", Fail, "CHANCERY_MASTER_KEY: %v", err)
			return false
		}
		d.add("keys", "master key", OK, "from CHANCERY_MASTER_KEY")
		return true
	}
	path := filepath.Join(d.opts.DataDir, "master.key")
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		d.add("keys", "master key", Fail, "%s does not exist and CHANCERY_MASTER_KEY is not set: nothing sealed can be read; restore the key from its offline copy (RUNBOOK.md \"Keys\")", path)
		return false
	} else if err != nil {
		d.add("keys", "master key", Fail, "%v", err)
		return false
	}
	if fi.Mode().Perm()&0o077 != 0 {
		d.add("keys", "master key", Fail, "%s has mode %04o: others may read it; chmod 600 %s (and rotate the key if anyone did)", path, fi.Mode().Perm(), path)
		return false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		d.add("keys", "master key", Fail, "%v", err)
		return false
	}
	if _, err := keys.ParseMasterKey(string(b)); err != nil {
		d.add("keys", "master key", Fail, "%s: %v", path, err)
		return false
	}
	d.add("keys", "master key", OK, "%s (mode %04o)", path, fi.Mode().Perm())
	return true
}

// openDatabase connects to the node's database without creating or
// migrating anything.
func (d *doctor) openDatabase(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	db, err := store.OpenExisting(ctx, d.opts.DB, d.opts.DataDir)
	if err != nil {
		d.add("database", "connect", Fail, "%v", err)
		return false
	}
	d.db = db
	d.add("database", "connect", OK, "%s (%s)", db.Location, db.Dialect)
	return true
}

// checkDatabase reports the server's version, the schema's migrations and
// the database's clock, and that it commits a write.
func (d *doctor) checkDatabase(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	db := d.db
	var version string
	q := `SELECT sqlite_version()`
	if db.Dialect == store.Postgres {
		q = `SHOW server_version`
	}
	if err := db.QueryRowContext(ctx, q).Scan(&version); err != nil {
		d.add("version", string(db.Dialect), Fail, "%v", err)
	} else {
		d.add("version", string(db.Dialect), OK, "%s", version)
	}

	st, err := db.Status(ctx)
	pending, perr := db.Pending(ctx)
	switch {
	case err != nil || perr != nil:
		d.add("version", "schema", Fail, "%v", errors.Join(err, perr))
	case st.Current > st.Latest:
		d.add("version", "schema", Fail, "the database is at migration %d, this binary knows up to %d: run the newer release (an older binary must not write to it)", st.Current, st.Latest)
	case len(pending) > 0:
		d.add("version", "schema", Fail, "%d migration(s) not applied (%s); this binary knows up to %d: run chancery migrate", len(pending), versions(pending), st.Latest)
	default:
		d.add("version", "schema", OK, "every migration applied, up to %d", st.Current)
	}

	if err := db.CheckWritable(ctx); err != nil {
		d.add("database", "write", Fail, "%v", err)
	} else {
		d.add("database", "write", OK, "commits a write")
	}

	if db.Dialect != store.Postgres {
		d.add("clock", "database", Skip, "SQLite runs on this host's clock")
	} else {
		var at time.Time
		before := d.opts.Now()
		err := db.QueryRowContext(ctx, `SELECT clock_timestamp()`).Scan(&at)
		after := d.opts.Now()
		if err != nil {
			d.add("clock", "database", Fail, "%v", err)
		} else {
			d.skew("database", at, before, after)
		}
	}

	// The node's JetStream domain (its node id; headquarters' is "hq"),
	// which the NATS cluster's must match.
	var id, role string
	err = db.QueryRowContext(ctx, `SELECT node_id, role FROM exchange_node WHERE id = 1`).Scan(&id, &role)
	if err == nil {
		d.domain = id
	}
}

// versions lists migration numbers for a message.
func versions(vs []int64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprintf("%05d", v)
	}
	return strings.Join(s, ", ")
}

// skew compares a server's clock reading, taken between before and after
// on this host, with this host's clock at the midpoint.
func (d *doctor) skew(name string, at, before, after time.Time) {
	rtt := after.Sub(before)
	off := at.Sub(before.Add(rtt / 2))
	// What the round trip leaves uncertain is not held against the server.
	excess := max(off.Abs()-rtt/2, 0)
	sign := "+"
	if off < 0 {
		sign = "-"
	}
	detail := fmt.Sprintf("%s%v from this host (±%v round trip)", sign, off.Abs().Round(time.Millisecond), (rtt / 2).Round(time.Millisecond))
	if excess > d.opts.MaxSkew {
		d.add("clock", name, Fail, "%s, more than %v: fix NTP (chronyc tracking) on the host that is off", detail, d.opts.MaxSkew)
		return
	}
	d.add("clock", name, OK, "%s", detail)
}

// checkKeyring opens the keyring stored in the database with the master
// key, and reports its signing and data keys.
func (d *doctor) checkKeyring(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	ks := store.NewKeyringStore(d.db)
	if _, _, err := ks.Load(ctx); errors.Is(err, keys.ErrNoKeyring) {
		d.add("keys", "keyring", Fail, "the database holds no keyring: the node never started on it, or it is the wrong database")
		return
	} else if err != nil {
		d.add("keys", "keyring", Fail, "%v", err)
		return
	}
	// No purposes: Load creates no data key, and with a stored keyring
	// (checked above) it writes nothing.
	ring, err := keys.Load(ctx, keys.Options{MasterKey: d.opts.MasterKey, DataDir: d.opts.DataDir, Store: ks, Purposes: []string{}})
	if errors.Is(err, keys.ErrWrongMasterKey) {
		d.add("keys", "keyring", Fail, "the master key does not open the keyring in the database: another CHANCERY_MASTER_KEY or master.key than the one it was made with (every replica needs the same)")
		return
	} else if err != nil {
		d.add("keys", "keyring", Fail, "%v", err)
		return
	}
	signing := ring.SigningKeys()
	if len(signing) == 0 {
		d.add("keys", "signing key", Fail, "the keyring holds no signing key")
	} else {
		d.add("keys", "signing key", OK, "%s (%d in the keyring)", keys.KeyID(ring.PublicKey()), len(signing))
	}
	purposes := map[string]bool{}
	for _, k := range ring.DataKeys() {
		purposes[k.Purpose] = true
	}
	d.add("keys", "keyring", OK, "opens with the master key: %d data key purposes", len(purposes))
}

// checkNATS connects to the node's NATS and checks JetStream and its
// streams.
func (d *doctor) checkNATS(ctx context.Context) {
	if d.opts.NATS == "" {
		d.add("nats", "connect", Skip, "no --nats: the node embeds its NATS server, which only the running chancery serve reaches (start it with --nats-port and give doctor --nats nats://127.0.0.1:PORT to check it)")
		return
	}
	nc, err := nats.Connect(d.opts.NATS, nats.Name("chancery doctor"), nats.Timeout(d.opts.Timeout), nats.MaxReconnects(0))
	if err != nil {
		d.add("nats", "connect", Fail, "%s: %v (check --nats, the credentials in it and the cluster)", redactURL(d.opts.NATS), err)
		return
	}
	defer nc.Close()
	cluster := nc.ConnectedClusterName()
	if cluster == "" {
		cluster = "no cluster"
	}
	d.add("nats", "connect", OK, "%s (server %s, %s, %d known servers)", nc.ConnectedUrlRedacted(), nc.ConnectedServerName(), cluster, len(nc.Servers()))
	d.add("version", "nats", OK, "nats-server %s", nc.ConnectedServerVersion())

	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		d.add("nats", "jetstream", Fail, "%v", err)
		return
	}
	info, err := js.AccountInfo(ctx)
	if err != nil {
		d.add("nats", "jetstream", Fail, "%v (is JetStream enabled for this account?)", err)
		return
	}
	switch {
	case d.domain != "" && info.Domain != d.domain:
		d.add("nats", "jetstream", Fail, "JetStream domain %q, but the node is %q: set jetstream { domain: %s } in the cluster's configuration (missions address headquarters' streams by it)", info.Domain, d.domain, d.domain)
	default:
		d.add("nats", "jetstream", OK, "domain %q, %d streams, %s stored", info.Domain, info.Streams, bytesText(info.Store))
	}
	d.checkStreams(ctx, js, nc.ConnectedClusterName() != "")
}

// checkStreams reports each stream's replicas: a clustered stream needs a
// leader and current followers, and a stream of one replica on a cluster
// is lost with its server.
func (d *doctor) checkStreams(ctx context.Context, js jetstream.JetStream, clustered bool) {
	names := js.StreamNames(ctx)
	var all []string
	for n := range names.Name() {
		all = append(all, n)
	}
	if err := names.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		d.add("nats", "streams", Fail, "listing the streams: %v", err)
		return
	}
	if len(all) == 0 {
		d.add("clock", "nats", Skip, "no stream to read the server's clock from")
		return
	}
	for i, n := range all {
		before := d.opts.Now()
		s, err := js.Stream(ctx, n)
		after := d.opts.Now()
		name := "stream " + n
		if err != nil {
			d.add("nats", name, Fail, "%v", err)
			continue
		}
		si := s.CachedInfo()
		if i == 0 {
			// The server stamps each answer with its clock.
			d.skew("nats", si.TimeStamp, before, after)
		}
		r := si.Config.Replicas
		var problems []string
		if ci := si.Cluster; ci != nil && clustered {
			if ci.Leader == "" {
				problems = append(problems, "no leader")
			}
			for _, p := range ci.Replicas {
				switch {
				case p.Offline:
					problems = append(problems, p.Name+" offline")
				case !p.Current:
					problems = append(problems, fmt.Sprintf("%s behind by %d operations", p.Name, p.Lag))
				}
			}
		}
		switch {
		case len(problems) > 0:
			d.add("nats", name, Fail, "R%d: %s", r, strings.Join(problems, ", "))
		case clustered && r < 3:
			d.add("nats", name, Warn, "R%d on a cluster: losing its server loses the stream; start the replicas with --nats-replicas 3, or nats stream edit %s --replicas 3", r, n)
		default:
			d.add("nats", name, OK, "R%d, %d messages", r, si.State.Msgs)
		}
	}
}

// checkObjects writes, reads back and deletes a small object, as /readyz
// does, under a name of doctor's own.
func (d *doctor) checkObjects(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	where := d.opts.Blob
	if where == "" {
		where = filepath.Join(d.opts.DataDir, "blobs")
	}
	where = redactURL(where)
	if d.opts.Blob == "" {
		if _, err := os.Stat(filepath.Join(d.opts.DataDir, "blobs")); err != nil {
			d.add("objects", "read/write", Fail, "%s: %v (the node keeps its objects there unless --blob says otherwise)", where, err)
			return
		}
	}
	b, err := store.OpenBucket(ctx, d.opts.Blob, d.opts.DataDir)
	if err != nil {
		d.add("objects", "read/write", Fail, "%v", err)
		return
	}
	defer b.Close()
	if err := probe(ctx, b); err != nil {
		d.add("objects", "read/write", Fail, "%s: %v", where, err)
		return
	}
	d.add("objects", "read/write", OK, "%s: wrote, read back and deleted an object", where)
}

func probe(ctx context.Context, b *blob.Bucket) error {
	var r [8]byte
	rand.Read(r[:])
	key := "doctor/" + hex.EncodeToString(r[:])
	want := []byte("chancery doctor " + time.Now().UTC().Format(time.RFC3339Nano))
	if err := b.WriteAll(ctx, key, want, nil); err != nil {
		if errs.IsStorageFull(err) {
			return fmt.Errorf("storage full: %w", err)
		}
		return fmt.Errorf("write: %w", err)
	}
	got, err := b.ReadAll(ctx, key)
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	if string(got) != string(want) {
		return fmt.Errorf("read back %d bytes other than the %d written", len(got), len(want))
	}
	if err := b.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return nil
}

// redactURL hides a password in a URL (or each of a comma-separated list).
func redactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		if at := strings.LastIndex(p, "@"); at > 0 {
			if scheme := strings.Index(p, "://"); scheme >= 0 && scheme < at {
				user := p[scheme+3 : at]
				if name, _, ok := strings.Cut(user, ":"); ok {
					parts[i] = p[:scheme+3] + name + ":xxxxx" + p[at:]
				}
			}
		}
	}
	return strings.Join(parts, ",")
}

// bytesText writes n bytes for people.
func bytesText(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
