package app

import (
	"context"
	"errors"
	"flag"
	"strconv"
	"strings"
	"time"

	"chancery/internal/architecture"
	"chancery/internal/audit"
	"chancery/internal/config"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/web"
)

// openArchitecture builds the architecture repository and brings its
// national reference content up to date.
func (a *App) openArchitecture(ctx context.Context) error {
	var err error
	if a.Architecture, err = architecture.NewService(architecture.Options{DB: a.DB, Recorder: a.Audit, Directory: a.Identity}); err != nil {
		return err
	}
	return a.Architecture.SyncReference(ctx)
}

// architectureRoutes adds the repository's console pages and JSON API.
func (a *App) architectureRoutes(rt *web.Router, shell *web.Shell) error {
	h, err := architecture.NewHandler(shell, a.Architecture)
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// seedDemoArchitecture imports the demo ministry's model as the demo's architect.
func (a *App) seedDemoArchitecture(ctx context.Context) error {
	m, err := a.Identity.StaffByUsername(ctx, "architect")
	if err != nil {
		return err
	}
	archCtx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(m.ID, m.Username), UnitID: m.UnitID})
	if err := architecture.SeedDemo(archCtx, a.Architecture, m.Subject()); err != nil {
		return err
	}
	// The investment review's proposals: the architect's, one decided by
	// the Cipher-IT Department's approver.
	ap, err := a.Identity.StaffByUsername(ctx, "cipher.approver")
	if err != nil {
		return err
	}
	apCtx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(ap.ID, ap.Username), UnitID: ap.UnitID})
	return architecture.SeedDemoProposals(archCtx, a.Architecture, m.Subject(), apCtx, ap.Subject())
}

// architectureStorage registers the storage flags on an architecture
// subcommand's flag set and returns the function that opens the
// repository they name, with the audit ledger and the unit directory.
func architectureStorage(fs *flag.FlagSet) func(context.Context) (*architecture.Service, func() error, error) {
	open := ledgerStorage(fs)
	return func(ctx context.Context) (*architecture.Service, func() error, error) {
		st, closeAll, err := open(ctx)
		if err != nil {
			return nil, nil, err
		}
		svc, err := architecture.NewService(architecture.Options{DB: st.DB, Recorder: st.Ledger, Directory: identity.NewService(st.DB, st.Ledger, nil)})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		return svc, closeAll, nil
	}
}

// ledgered is a command's storage: the database, the keyring and the
// audit ledger its changes go to.
type ledgered struct {
	DB     *store.DB
	Ring   *keys.Ring
	Ledger *audit.Ledger
}

// ledgerStorage registers the storage flags on a subcommand's flag set
// and returns the function that opens what they name, with the function
// that closes it.
func ledgerStorage(fs *flag.FlagSet) func(context.Context) (ledgered, func() error, error) {
	var cfg config.Config
	envErr := config.Storage(fs, &cfg)
	return func(ctx context.Context) (ledgered, func() error, error) {
		if err := envErr(); err != nil {
			return ledgered{}, nil, errs.Usage("", "%v", err)
		}
		db, ring, err := openStorage(ctx, cfg)
		if err != nil {
			return ledgered{}, nil, err
		}
		ledger, err := audit.New(ctx, db, ring, audit.Options{})
		if err != nil {
			db.Close()
			return ledgered{}, nil, err
		}
		return ledgered{DB: db, Ring: ring, Ledger: ledger}, func() error { return errors.Join(ledger.Close(), db.Close()) }, nil
	}
}

// discoveryInterval is how often the node registers its components again,
// so that the repository follows a new exchange configuration or a
// changed deployment.
const discoveryInterval = 5 * time.Minute

// runArchitecture registers the node's own components in the repository
// at start and every discoveryInterval, until ctx ends.
func (a *App) runArchitecture(spawn func(func(context.Context))) {
	spawn(a.onOne("architecture.discovery", func(ctx context.Context) {
		every(ctx, discoveryInterval, func() {
			if err := a.Architecture.Register(ctx, a.discover()); err != nil && ctx.Err() == nil {
				a.log.Error("architecture: register the node's components", "err", err)
			}
		})
	}))
}

// discover lists what this node runs: its capabilities, the data stores
// it uses, and from the exchange configuration it holds, the members,
// subsystems, services, rights and nodes.
func (a *App) discover() architecture.Discovered {
	var d architecture.Discovered
	for _, c := range []string{"identity", "auth", "audit", "exchange", "procedures", "records", "architecture"} {
		d.Capabilities = append(d.Capabilities, architecture.Component{Key: c, Name: "Chancery " + c, Props: map[string]string{"node": a.Node.ID()}})
	}
	if a.Mail != nil {
		d.Capabilities = append(d.Capabilities, architecture.Component{Key: "mail", Name: "Chancery mail", Props: map[string]string{"node": a.Node.ID()}})
	}
	d.DataStores = []architecture.Component{
		{Key: "database", Name: "Chancery database (" + string(a.DB.Dialect) + ")", Props: map[string]string{"dialect": string(a.DB.Dialect), "encryption-at-rest": "sealed fields (keyring)"}},
		{Key: "blobs", Name: "Chancery blob storage", Props: map[string]string{"kind": blobKind(a.cfg.Blob)}},
		{Key: "bus", Name: "NATS JetStream", Props: map[string]string{"embedded": strconv.FormatBool(a.cfg.NATS == "")}},
	}
	conf, err := a.Node.Conf()
	if err != nil || conf == nil {
		return d // no exchange configuration yet: the capabilities and stores only
	}
	for _, m := range conf.Members {
		d.Members = append(d.Members, architecture.Component{Key: m.Code, Name: m.NameVI, Props: map[string]string{"kind": m.Kind, "country": m.Country}})
	}
	for _, s := range conf.Subsystems {
		d.Subsystems = append(d.Subsystems, architecture.Subsystem{Key: s.ID.String(), Name: s.Title, Member: s.ID.Member})
	}
	d.Rights = map[string][]string{}
	for _, s := range conf.Services {
		key := s.ID.ClientID.String() + "/" + s.ID.Service
		d.Services = append(d.Services, architecture.ExchangeService{Key: key, Name: s.Title, Subsystem: s.ID.ClientID.String()})
	}
	for _, r := range conf.Rights {
		key := r.Service.ClientID.String() + "/" + r.Service.Service
		d.Rights[key] = append(d.Rights[key], r.Client.String())
	}
	for _, n := range conf.Nodes {
		d.Nodes = append(d.Nodes, architecture.Component{Key: n.ID, Name: n.ID, Props: map[string]string{"role": string(n.Role), "member": n.Member}})
	}
	return d
}

// blobKind names the blob storage's kind from its URL, without the URL
// (which may carry credentials).
func blobKind(url string) string {
	if i := strings.Index(url, "://"); i > 0 {
		return url[:i]
	}
	return "file"
}
