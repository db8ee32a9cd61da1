package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"chancery/internal/config"
	"chancery/internal/errs"
)

// CommandEnv is what `chancery doctor` needs from the program.
type CommandEnv struct {
	// Version is the binary's version line.
	Version        string
	Stdout, Stderr io.Writer
	// Now is this host's clock; nil is time.Now.
	Now func() time.Time
}

const usage = `chancery doctor [--data DIR] [--db URL] [--blob URL] [--nats URL] [--json] [--max-skew 1s] [--timeout 5s]

Checks a deployment the way its node would use it — run it on a replica's
host with the replica's environment (CHANCERY_DB, CHANCERY_NATS,
CHANCERY_BLOB, CHANCERY_MASTER_KEY …) or the same flags:

  version   the binary; the schema's migrations applied against those this
            binary knows; PostgreSQL's (or SQLite's) and the NATS server's
  clock     PostgreSQL's and NATS's clocks against this host's
  keys      the data directory's and master key's permissions, the keyring
            in the database opening with the master key, its signing key
  database  connects and commits a write
  nats      connects; JetStream, its domain against the node's, each
            stream's replicas (leader, followers current)
  objects   writes, reads back and deletes a small object of its own

It prints a table (--json: the checks as JSON) and exits 1 if any check
failed, 0 otherwise (warnings included).`

// Command runs `chancery doctor ARGS`.
func Command(ctx context.Context, env CommandEnv, args []string) error {
	var cfg config.Config
	fs := flag.NewFlagSet("chancery doctor", flag.ContinueOnError)
	envErr := config.Doctor(fs, &cfg)
	asJSON := fs.Bool("json", false, "print the checks as JSON")
	maxSkew := fs.Duration("max-skew", DefaultMaxSkew, "largest clock difference from the database or NATS that passes")
	timeout := fs.Duration("timeout", DefaultTimeout, "how long each network check may take")
	// help, -h and --help print the usage on stdout, as every command's
	// do; a wrong flag is a usage error that Main reports.
	for _, a := range args {
		if a == "help" || a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprintln(env.Stdout, usage+"\n\nFlags:")
			fs.SetOutput(env.Stdout)
			fs.PrintDefaults()
			return flag.ErrHelp
		}
	}
	fs.SetOutput(io.Discard)
	if err := errors.Join(envErr(), fs.Parse(args)); err != nil {
		return errs.Usage("", "%v", err)
	}
	if fs.NArg() > 0 {
		return errs.Usage("", "unexpected argument %q; see chancery doctor --help", fs.Arg(0))
	}
	if *maxSkew <= 0 || *timeout <= 0 {
		return errs.Usage("", "--max-skew and --timeout must be positive durations, such as 1s")
	}
	r := Run(ctx, Options{DataDir: cfg.DataDir, DB: cfg.DB, Blob: cfg.Blob, NATS: cfg.NATS, MasterKey: cfg.MasterKey,
		Version: env.Version, MaxSkew: *maxSkew, Timeout: *timeout, Now: env.Now})
	var err error
	if *asJSON {
		err = r.WriteJSON(env.Stdout)
	} else {
		err = r.WriteTable(env.Stdout)
	}
	if err != nil {
		return err
	}
	if n := r.Failed(); n > 0 {
		return fmt.Errorf("doctor: %d of %d checks failed", n, len(r.Checks))
	}
	return nil
}

// WriteTable prints the report as an aligned table, one check a line.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AREA\tCHECK\tSTATUS\tDETAIL")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Area, c.Name, strings.ToUpper(string(c.Status)), oneLine(c.Detail))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	failed, warned := r.Failed(), 0
	for _, c := range r.Checks {
		if c.Status == Warn {
			warned++
		}
	}
	_, err := fmt.Fprintf(w, "\n%d checks: %d failed, %d warnings\n", len(r.Checks), failed, warned)
	return err
}

// WriteJSON prints the report as {"ok": …, "failed": …, "checks": […]}.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		OK     bool    `json:"ok"`
		Failed int     `json:"failed"`
		Checks []Check `json:"checks"`
	}{r.Failed() == 0, r.Failed(), r.Checks})
}

// oneLine keeps a detail (an error's text may hold line breaks) on its
// table row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
