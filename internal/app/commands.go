package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"chancery/internal/auth"
	"chancery/internal/config"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// openData opens, migrated, the database that cfg's storage flags name
// for a command that reads data, and refuses one that holds none: run in
// the wrong directory, a command says so rather than start an empty data
// directory there. Only serve (a node's first start) and migrate create
// one. The caller closes the database.
func openData(ctx context.Context, cfg config.Config) (*store.DB, error) {
	db, err := store.OpenExisting(ctx, cfg.DB, cfg.DataDir)
	if errors.Is(err, store.ErrNoData) {
		return nil, noData(cfg, err)
	} else if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, nil); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// noData is the error of a command pointed at no Chancery data: where it
// looked, and what to do.
func noData(cfg config.Config, err error) error {
	where := "the database given by --db"
	if cfg.DB == "" {
		dir, _ := filepath.Abs(cfg.DataDir)
		where = "the data directory " + dir
	}
	detail := strings.TrimPrefix(err.Error(), store.ErrNoData.Error()+": ")
	return fmt.Errorf("%s holds no Chancery data (%s); give --data the directory of a node's data (the default, ./chancery-data, is looked for in the current directory) or --db its database, or start a new node with `chancery serve` (`chancery serve --demo` for the demo)", where, detail)
}

// storageArgs parts the storage flags (--data, --db, --blob; -name or
// --name, with =value or the next word as value) from the rest of a
// `chancery unit|user|migrate` command line, so that they may follow the
// subcommand as in every other command (chancery user list --data DIR)
// or precede it as before (chancery user --data DIR list). Words after
// "--" are left alone.
func storageArgs(args []string) (storage, rest []string) {
	names := flag.NewFlagSet("storage", flag.ContinueOnError)
	config.Storage(names, &config.Config{})
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return storage, append(rest, args[i:]...)
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || names.Lookup(name) == nil {
			rest = append(rest, a)
			continue
		}
		storage = append(storage, a)
		if !hasValue && i+1 < len(args) {
			i++
			storage = append(storage, args[i])
		}
	}
	return storage, rest
}

// versionLine is what `chancery version` prints: the module's version
// and the commit the binary was built from, as the Go toolchain stamped
// them (go build in a git checkout), or Version when set at link time;
// "devel" where the build says neither (go run, go test).
func versionLine(info *debug.BuildInfo, ok bool) string {
	version, commit, when, modified := Version, "", "", false
	if ok {
		if version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if version == "" {
		version = "devel"
	}
	line := "chancery " + version
	switch {
	case commit == "":
		line += " (commit unknown: built without version control information)"
	default:
		line += " (commit " + commit
		if when != "" {
			line += ", " + when
		}
		if modified {
			line += ", with uncommitted changes"
		}
		line += ")"
	}
	return line
}

// demoUsage is the usage of `chancery demo`.
const demoUsage = `usage:
  chancery demo totp USERNAME [--data DIR]

Prints the current TOTP code (six digits, good for 30 seconds) of a demo
account that signs in with a second factor, from the secret the demo
enrolled (the data directory's demo-accounts.txt). It works only on the
data directory of "chancery serve --demo"; an account enrolled again on
an authenticator app since has another secret.`

// demoCommand runs `chancery demo SUBCOMMAND`.
func demoCommand(ctx context.Context, args []string, stdout io.Writer) error {
	return errs.Subcommand(demoUsage, stdout, args, map[string]func([]string) error{
		"totp": func(args []string) error { return demoTOTPCommand(ctx, args, stdout) },
	})
}

// demoTOTPCommand prints the current TOTP code of a demo account.
func demoTOTPCommand(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg config.Config
	flags := flag.NewFlagSet("totp", flag.ContinueOnError)
	envErr := config.Storage(flags, &cfg)
	pos, err := errs.ParseArgs(flags, demoUsage, io.Discard, args, 1)
	if err == nil {
		err = envErr()
	}
	if errors.Is(err, flag.ErrHelp) {
		return errs.Usage(demoUsage, "totp: %v", err)
	} else if err != nil {
		return err
	}
	username := pos[0]
	secret, err := readDemoSecret(cfg.DataDir, username)
	if errors.Is(err, fs.ErrNotExist) {
		// No demo here: say whether there is a node at all.
		db, err := store.OpenExisting(ctx, cfg.DB, cfg.DataDir)
		if err != nil {
			if errors.Is(err, store.ErrNoData) {
				return noData(cfg, err)
			}
			return err
		}
		db.Close()
		dir, _ := filepath.Abs(cfg.DataDir)
		return fmt.Errorf("%s is not a demo's data directory (it has no %s); `chancery demo totp` gives the codes of the demo's accounts only: other accounts use their authenticator app", dir, demoAccountsFile)
	} else if err != nil {
		return err
	}
	if secret == "" {
		return fmt.Errorf("no demo account %.40q signs in with a second factor (see %s for the accounts; citizens sign in without one)",
			username, filepath.Join(cfg.DataDir, demoAccountsFile))
	}
	code, err := auth.TOTPCode(secret, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, code)
	return err
}

// readDemoSecret returns the TOTP secret the demo in dataDir enrolled
// for username, as its demo accounts file lists it; empty when it
// enrolled none. The error wraps fs.ErrNotExist when dataDir holds no
// demo.
func readDemoSecret(dataDir, username string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, demoAccountsFile))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) > 1 && f[0] == username && len(f[len(f)-1]) == 32 {
			return f[len(f)-1], nil
		}
	}
	return "", nil
}

// demoGuide is what the demo's start-up banner says to try first, at the
// node's address url, and how to get the TOTP codes of the demo staff who
// sign in with one.
func demoGuide(url, dataDir string) string {
	if strings.ContainsAny(dataDir, " \t\n'\"$`\\;&|<>()*?[]{}~#!") {
		dataDir = "'" + strings.ReplaceAll(dataDir, "'", `'\''`) + "'" // as the shell reads it
	}
	return fmt.Sprintf(`Try first:
  1. The public portal, %[1]s/ : find a procedure under %[1]s/procedures (such as 1.900001,
     consular legalization), sign in at %[1]s/account/login as citizen@example.com with the
     demo password, apply, and follow the dossier under "My dossiers".
  2. The staff console, %[1]s/console/ : consular.clerk (no second factor) receives the
     application; consular.officer handles it and consular.approver approves it.
  3. Staff with a clearance, administrators, auditors and security officers give a TOTP code:
     chancery demo totp USERNAME --data %[2]s
     prints the current one (or add the account's secret above to an authenticator app).
`, url, dataDir)
}
