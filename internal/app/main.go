package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"chancery/internal/analytics"
	"chancery/internal/architecture"
	"chancery/internal/audit"
	"chancery/internal/auth"
	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/config"
	"chancery/internal/demo"
	"chancery/internal/doctor"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/forecast"
	"chancery/internal/identity"
	"chancery/internal/keys"
	"chancery/internal/procedures"
	"chancery/internal/records"
	"chancery/internal/sentinel/simulate"
	"chancery/internal/store"
)

const usage = `chancery — the digital backbone of a foreign ministry and its missions abroad

Usage:
  chancery serve [flags]        run a node (web console, public site, API); --demo for the demo ministry
  chancery migrate [flags]      apply database migrations (also done by serve); "migrate status" reports
  chancery unit <command> ...   manage units: add, list, show, merge, move
  chancery user <command> ...   manage staff: add, list, set-role, set-clearance, reset-password, disable
  chancery audit <command> ...  the audit ledger: verify, checkpoint, proof, archive, witness ("chancery audit help")
  chancery exchange <command>   the data exchange: services, conf, token, send, inbox ("chancery exchange help")
  chancery calendar <command>   working days: holidays YEAR, add-working-days DATE N ("chancery calendar help")
  chancery procedures <command> the catalogue of procedures: export DIR, check DIR, list ("chancery procedures help")
  chancery records <command>    documents and archive: register export, retention run, key-destruction report, suggest-eval ("chancery records help")
  chancery architecture <command> the architecture repository: import FILE, export ("chancery architecture help")
  chancery sentinel <command>   insider detection offline: replay FILE, eval, simulate ("chancery sentinel help")
  chancery insight <command>    forecasting: backtest [--series FILE.csv --horizon N], generate ("chancery insight help")
  chancery analytics <command>  the data repository: backfill [--rebuild], check ("chancery analytics help")
  chancery demo totp USER       the current TOTP code of a demo account (the demo's data directory only)
  chancery doctor [flags]       check a deployment: versions, clocks, keys, database, NATS, object store ("chancery doctor --help")
  chancery version              print the version and the commit it was built from

Storage flags (--data DIR, --db URL, --blob URL) follow the command they
are for: chancery user list --data DIR, chancery audit verify --data DIR.
Commands that read data refuse a directory that holds none.

Every flag has a CHANCERY_* environment twin; "chancery serve --help" lists them.`

// Version, if set at build time with -ldflags
// "-X chancery/internal/app.Version=…", is the version `chancery version`
// prints; else the module version the Go toolchain stamped is.
var Version = ""

// Main runs the chancery command line and returns the process exit code:
// 0 on success, 1 on failure, 2 on a usage error. ctx is cancelled on
// SIGINT or SIGTERM.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// One dispatch for the program and each capability (errs.Subcommand):
	// a missing or unknown command is a usage error (exit 2) and help,
	// -h and --help print the usage on stdout.
	err := errs.Subcommand(usage, stdout, args, map[string]func([]string) error{
		"serve":   func(rest []string) error { return serve(ctx, rest, stdout, stderr) },
		"migrate": func(rest []string) error { return migrate(ctx, rest, stdout, stderr) },
		"unit": func(rest []string) error {
			return withDirectory(ctx, "unit", rest, stdout, stderr, identity.UnitCommand)
		},
		"user": func(rest []string) error {
			return withDirectory(ctx, "user", rest, stdout, stderr, identity.UserCommand)
		},
		"audit": func(rest []string) error {
			return audit.Command(ctx, audit.CommandEnv{Storage: auditStorage, Stdout: stdout, Stderr: stderr}, rest)
		},
		"exchange": func(rest []string) error {
			return exchange.Command(ctx, exchange.CommandEnv{Open: exchangeStorage, Stdout: stdout, Stderr: stderr}, rest)
		},
		"calendar": func(rest []string) error {
			return calendar.Command(ctx, calendar.CommandEnv{Stdout: stdout, Stderr: stderr}, rest)
		},
		"procedures": func(rest []string) error {
			return procedures.Command(ctx, procedures.CommandEnv{Stdout: stdout, Stderr: stderr}, rest)
		},
		"records": func(rest []string) error {
			return records.Command(ctx, records.CommandEnv{Open: recordsStorage, Stdout: stdout, Stderr: stderr}, rest)
		},
		"demo": func(rest []string) error { return demoCommand(ctx, rest, stdout) },
		"doctor": func(rest []string) error {
			return doctor.Command(ctx, doctor.CommandEnv{Version: versionLine(debug.ReadBuildInfo()), Stdout: stdout, Stderr: stderr}, rest)
		},
		"version": func([]string) error {
			_, err := fmt.Fprintln(stdout, versionLine(debug.ReadBuildInfo()))
			return err
		},
		"architecture": func(rest []string) error {
			return architecture.Command(ctx, architecture.CommandEnv{Open: architectureStorage, Stdout: stdout, Stderr: stderr}, rest)
		},
		"sentinel": func(rest []string) error {
			return simulate.Command(ctx, simulate.CommandEnv{Stdout: stdout, Stderr: stderr}, rest)
		},
		"insight": func(rest []string) error {
			return forecast.Command(ctx, forecast.CommandEnv{Open: forecastStorage, Stdout: stdout, Stderr: stderr}, rest)
		},
		"analytics": func(rest []string) error {
			return analytics.Command(ctx, analytics.CommandEnv{Open: analyticsStorage, Stdout: stdout, Stderr: stderr}, rest)
		},
	})
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errs.ErrUsage):
		fmt.Fprintln(stderr, "chancery:", err)
		return 2
	}
	fmt.Fprintln(stderr, "chancery:", err)
	return 1
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := config.ParseServe(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errs.Usage("", "%v", err)
	}
	log := newLogger(cfg, stderr)
	a, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	banner, err := a.bootstrap(ctx)
	if err != nil {
		return err
	}
	// A first start hashes a password with argon2id (64 MiB); hand that
	// memory back now rather than when the scavenger gets round to it, so
	// an idle node stays small.
	debug.FreeOSMemory()
	return a.Serve(ctx, func(addr net.Addr) {
		scheme := "http"
		if cfg.TLSCert != "" {
			scheme = "https"
		}
		url := fmt.Sprintf("%s://%s", scheme, addr)
		log.Info("chancery is serving", "url", url, "database", a.DB.Dialect, "started_in", time.Since(a.started).Round(time.Millisecond).String())
		fmt.Fprintf(stdout, "\nChancery is running: %s/  (staff console: %s/console/)\n%s\n", url, url, atURL(banner, url))
		if cfg.Demo {
			fmt.Fprintln(stdout, demoGuide(url, cfg.DataDir))
		}
	})
}

// bannerURL stands in the first start's banner (and the demo accounts
// file) for this node's address, unknown before Serve listens (--addr
// with port 0 lets the system choose) and different at a later start:
// atURL puts the address it serves at in its place when printing.
const bannerURL = "{{chancery-url}}"

// atURL is banner with url, the address Serve listens on, for bannerURL.
func atURL(banner, url string) string { return strings.ReplaceAll(banner, bannerURL, url) }

// bootstrapKey marks a database that has had its first start.
const bootstrapKey = "bootstrapped"

// demoAccountsFile keeps the demo accounts (with their TOTP secrets) so
// that later starts can show them again; demo data only.
const demoAccountsFile = "demo-accounts.txt"

// bootstrap prepares a new database on first start — the demo ministry
// with --demo, else the ministry's root unit and the administrator — and
// returns what to print for the operator. A database that has had its
// first start is left alone. Its changes are recorded in the audit ledger
// as the system's "bootstrap".
func (a *App) bootstrap(ctx context.Context) (string, error) {
	ctx = audit.WithOrigin(ctx, audit.Origin{Actor: audit.System("bootstrap")})
	if _, err := a.DB.Meta(ctx, bootstrapKey); err == nil {
		if err := a.startExchange(ctx); err != nil {
			return "", err
		}
		if a.cfg.Demo {
			if b, err := os.ReadFile(filepath.Join(a.cfg.DataDir, demoAccountsFile)); err == nil {
				return "Demo data already present (not seeded again).\n" + string(b), nil
			}
			return "Demo data already present (not seeded again); see the README for the demo accounts.", nil
		}
		return "", nil
	} else if !errors.Is(err, errs.ErrNotFound) {
		return "", err
	}
	var banner string
	if a.cfg.Demo && a.Node.Role() == exchange.RoleHQ {
		accounts, err := demo.Seed(ctx, a.Identity, a.Auth, a.cfg.DemoPassword)
		if err != nil {
			return "", fmt.Errorf("seed demo data: %w", err)
		}
		if err := a.seedDemoRecords(ctx); err != nil {
			return "", fmt.Errorf("seed demo records: %w", err)
		}
		if err := a.seedDemoPortal(ctx); err != nil {
			return "", fmt.Errorf("seed demo portal: %w", err)
		}
		if err := a.seedDemoArchitecture(ctx); err != nil {
			return "", fmt.Errorf("seed demo architecture: %w", err)
		}
		if err := a.seedDemoForecast(ctx); err != nil {
			return "", fmt.Errorf("seed demo forecast history: %w", err)
		}
		if err := a.seedDemoDLP(ctx); err != nil {
			return "", fmt.Errorf("seed demo data-loss prevention: %w", err)
		}
		if err := a.seedDemoInsight(ctx); err != nil {
			return "", fmt.Errorf("seed demo insight: %w", err)
		}
		if err := a.seedDemoSentinel(ctx); err != nil {
			return "", fmt.Errorf("seed demo security monitoring: %w", err)
		}
		if err := a.seedDemoAnalytics(ctx); err != nil {
			return "", fmt.Errorf("seed demo data catalogue: %w", err)
		}
		if err := a.startExchange(ctx); err != nil {
			return "", err
		}
		population, _, err := a.outsideServices()
		if err != nil {
			return "", err
		}
		base := a.cfg.PublicURL
		if base == "" {
			base = bannerURL
		}
		clients, err := demo.ClientTokens(ctx, a.Node, base, population)
		if err != nil {
			return "", err
		}
		banner = accounts.Banner(a.cfg.DemoPassword) + clients
		if err := os.WriteFile(filepath.Join(a.cfg.DataDir, demoAccountsFile), []byte(banner), 0o600); err != nil {
			return "", fmt.Errorf("save demo accounts: %w", err)
		}
	} else {
		var err error
		if banner, err = a.createAdministrator(ctx); err != nil {
			return "", err
		}
		if err := a.startExchange(ctx); err != nil {
			return "", err
		}
	}
	if err := store.SetMeta(ctx, a.DB, bootstrapKey, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return "", err
	}
	return banner, nil
}

// createAdministrator creates the ministry's root unit and the first
// administrator, `admin`, with the configured password or a one-time one.
//
// A mission node's directory holds the ministry and, under it, the mission
// itself as the global configuration from headquarters describes it; its
// administrator belongs to the mission.
func (a *App) createAdministrator(ctx context.Context) (string, error) {
	root, err := a.ensureUnit(ctx, identity.NewUnit{
		Code: "000.00.00.G12", NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs",
		Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh",
	})
	if err != nil {
		return "", err
	}
	home := root
	if a.Node.Role() == exchange.RoleMission {
		unit, err := missionUnit(a.Node)
		if err != nil {
			return "", err
		}
		unit.ParentID = root.ID
		if home, err = a.ensureUnit(ctx, unit); err != nil {
			return "", err
		}
	}
	admin, err := a.ensureStaff(ctx, identity.NewStaff{
		Username: "admin", FullName: "Quản trị hệ thống", UnitID: home.ID,
		Roles: authz.RolesOf(authz.Administrator), Clearance: authz.Unclassified,
	})
	if err != nil {
		return "", fmt.Errorf("create the administrator: %w", err)
	}
	enrol, err := a.enrolmentCode(ctx, "Administrator", admin.ID)
	if err != nil {
		return "", err
	}
	officer, err := a.createSecurityOfficer(ctx, home)
	if err != nil {
		return "", err
	}
	if a.cfg.AdminPassword != "" {
		if err := a.Auth.SetPassword(ctx, authz.Staff, admin.ID, a.cfg.AdminPassword, false); err != nil {
			return "", fmt.Errorf("set the administrator's password from CHANCERY_ADMIN_PASSWORD: %w", err)
		}
		return "Administrator: admin (password from CHANCERY_ADMIN_PASSWORD)\n" + enrol + officer, nil
	}
	otp, err := a.Auth.IssueOneTimePassword(ctx, authz.Staff, admin.ID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Administrator: admin, one-time password %s (shown once; you will choose a new one at first sign-in)\n", otp) + enrol + officer, nil
}

// createSecurityOfficer creates the first security officer, `security`,
// cleared top secret, with a one-time password. Granting a clearance takes
// an administrator's proposal and a security officer's approval (see
// internal/authz's account rules), so a node needs one of each from the
// start; the setup seeds them, as it seeds the administrator.
func (a *App) createSecurityOfficer(ctx context.Context, home identity.Unit) (string, error) {
	officer, err := a.ensureStaff(ctx, identity.NewStaff{
		Username: "security", FullName: "Cán bộ bảo mật", UnitID: home.ID,
		Roles: authz.RolesOf(authz.SecurityOfficer), Clearance: authz.TopSecret,
	})
	if err != nil {
		return "", fmt.Errorf("create the security officer: %w", err)
	}
	otp, err := a.Auth.IssueOneTimePassword(ctx, authz.Staff, officer.ID)
	if err != nil {
		return "", err
	}
	enrol, err := a.enrolmentCode(ctx, "Security officer", officer.ID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Security officer: security, one-time password %s (shown once; hand it to the person who approves clearances, not to the administrator)\n", otp) + enrol, nil
}

// enrolmentCode issues the second-factor enrolment code of an account the
// first start creates and says how to use it. Administrators and security
// officers sign in with a second factor, and enrolling one takes a code
// someone else issued: at the first start nobody else exists, so the
// operator gets the codes here.
func (a *App) enrolmentCode(ctx context.Context, who string, id int64) (string, error) {
	code, expires, err := a.Auth.IssueEnrolmentCode(ctx, authz.Staff, id)
	if err != nil {
		return "", fmt.Errorf("issue the %s's second-factor enrolment code: %w", strings.ToLower(who), err)
	}
	return fmt.Sprintf("%s's second-factor enrolment code: %s (shown once; works until %s; enter it after signing in to set up an authenticator app)\n",
		who, code, expires.UTC().Format(time.RFC3339)), nil
}

// ensureStaff returns the account named in.Username, creating it through
// the directory's seeding path (the node's setup) if it does not exist.
func (a *App) ensureStaff(ctx context.Context, in identity.NewStaff) (identity.StaffMember, error) {
	m, err := a.Identity.StaffByUsername(ctx, in.Username)
	if errors.Is(err, errs.ErrNotFound) {
		return a.Identity.SeedStaff(ctx, "bootstrap", in)
	}
	return m, err
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config.Config
	fs, parse := storageFlags("migrate", stderr, &cfg)
	storage, rest := storageArgs(args)
	if err := parse(append(storage, rest...)); err != nil {
		return err
	}
	// migrate creates the schema; migrate status only reads it.
	open := store.Open
	if fs.Arg(0) == "status" {
		open = func(ctx context.Context, dsn, dataDir string) (*store.DB, error) {
			db, err := store.OpenExisting(ctx, dsn, dataDir)
			if errors.Is(err, store.ErrNoData) {
				return nil, noData(cfg, err)
			}
			return db, err
		}
	}
	db, err := open(ctx, cfg.DB, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if fs.Arg(0) == "status" {
		st, err := db.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "database %s (%s): schema version %d, this chancery knows up to %d\n", db.Location, db.Dialect, st.Current, st.Latest)
		return nil
	} else if fs.NArg() > 0 {
		return errs.Usage("", "unexpected argument %q; use \"chancery migrate\" or \"chancery migrate status\"", fs.Arg(0))
	}
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(stderr, nil))); err != nil {
		return err
	}
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s is at schema version %d\n", db.Location, st.Current)
	return nil
}

// storageFlags returns the flag set of the subcommand name with the
// storage flags (--data, --db) registered into cfg, and the function that
// parses a command line into it, answering a bad one with an
// errs.UsageError.
func storageFlags(name string, stderr io.Writer, cfg *config.Config) (*flag.FlagSet, func(args []string) error) {
	fs := flag.NewFlagSet("chancery "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	envErr := config.Storage(fs, cfg)
	return fs, func(args []string) error {
		if err := errors.Join(envErr(), fs.Parse(args)); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errs.Usage("", "%v", err)
		}
		return nil
	}
}

// openStorage opens the database (migrating it) and the keyring that
// cfg's storage flags name, for a command, refusing a database that holds
// no data (openData). The caller closes the database.
func openStorage(ctx context.Context, cfg config.Config) (*store.DB, *keys.Ring, error) {
	db, err := openData(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	ring, err := openKeys(ctx, cfg, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, ring, nil
}

// withDirectory opens the database and keyring named by the storage flags
// (after the subcommand, chancery user list --data DIR, or before it,
// chancery user --data DIR list: storageArgs), with the audit ledger that
// records the command's changes, and runs the identity command fn on them.
func withDirectory(ctx context.Context, name string, args []string, stdout, stderr io.Writer,
	fn func(context.Context, identity.CommandEnv, []string) error) error {
	var cfg config.Config
	_, parse := storageFlags(name, stderr, &cfg)
	storage, rest := storageArgs(args)
	if err := parse(storage); err != nil {
		return err
	}
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		// The usage needs no directory: open (and create) nothing.
		return fn(ctx, identity.CommandEnv{Stdout: stdout, Stderr: stderr}, rest)
	}
	db, ring, err := openStorage(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	ledger, err := audit.New(ctx, db, ring, audit.Options{})
	if err != nil {
		return err
	}
	defer ledger.Close()
	dir := identity.NewService(db, ledger, nil)
	env := identity.CommandEnv{Directory: dir, Credentials: auth.New(db, dir, ring, auth.Options{Recorder: ledger}), Stdout: stdout, Stderr: stderr}
	return fn(ctx, env, rest)
}

// auditStorage registers the storage flags on the flag set of an audit
// subcommand (whose flags follow it: chancery audit verify --data DIR)
// and returns the function that opens what they name, with the blob
// storage that holds archived events.
func auditStorage(fs *flag.FlagSet) func(context.Context) (audit.Storage, func() error, error) {
	var cfg config.Config
	envErr := config.Storage(fs, &cfg)
	return func(ctx context.Context) (audit.Storage, func() error, error) {
		if err := envErr(); err != nil {
			return audit.Storage{}, nil, errs.Usage("", "%v", err)
		}
		db, ring, err := openStorage(ctx, cfg)
		if err != nil {
			return audit.Storage{}, nil, err
		}
		bucket, err := store.OpenBucket(ctx, cfg.Blob, cfg.DataDir)
		if err != nil {
			db.Close()
			return audit.Storage{}, nil, err
		}
		return audit.Storage{DB: db, Keys: ring, Archive: bucket}, func() error { return errors.Join(bucket.Close(), db.Close()) }, nil
	}
}

// exchangeStorage registers the storage flags on the flag set of an
// exchange subcommand and returns the function that opens the node they
// name, with the audit ledger its changes go to.
func exchangeStorage(fs *flag.FlagSet) func(context.Context) (*exchange.Node, func() error, error) {
	open := ledgerStorage(fs)
	return func(ctx context.Context) (*exchange.Node, func() error, error) {
		st, closeAll, err := open(ctx)
		if err != nil {
			return nil, nil, err
		}
		n, err := exchange.OpenNode(ctx, st.DB, st.Ring, st.Ledger, exchange.NodeOptions{})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		return n, closeAll, nil
	}
}

// missionUnit describes the mission a node serves, from the global
// configuration it received at enrolment.
func missionUnit(n *exchange.Node) (identity.NewUnit, error) {
	conf, err := n.Conf()
	if err != nil {
		return identity.NewUnit{}, err
	}
	info, ok := conf.Node(n.ID())
	var m *exchange.Member
	if ok {
		m, ok = conf.Member(exchange.DefaultInstance + "/" + exchange.ClassGOV + "/" + info.Member)
	}
	if !ok {
		return identity.NewUnit{}, fmt.Errorf("the global configuration does not describe this node's mission %s", n.ID())
	}
	u := identity.NewUnit{Code: m.Code, NameVI: m.NameVI, NameEN: m.NameEN, Kind: identity.UnitKind(m.Kind),
		Country: m.Country, TimeZone: m.TimeZone}
	if u.Kind == "" {
		u.Kind = identity.KindEmbassy
	}
	if u.Country == "" {
		u.Country, u.TimeZone = "VN", "Asia/Ho_Chi_Minh"
	}
	return u, nil
}

// ensureUnit creates a unit of the first start, or finds it when an
// earlier first start stopped after creating it (a rejected
// administrator password, say), so that the next start can finish; the
// administrator is found the same way.
func (a *App) ensureUnit(ctx context.Context, in identity.NewUnit) (identity.Unit, error) {
	if u, err := a.Identity.UnitByCode(ctx, in.Code); err == nil {
		return u, nil
	} else if !errors.Is(err, errs.ErrNotFound) {
		return identity.Unit{}, err
	}
	u, err := a.Identity.CreateUnit(ctx, "bootstrap", in)
	if err != nil {
		return identity.Unit{}, fmt.Errorf("create unit %s: %w", in.Code, err)
	}
	return u, nil
}
