package records

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
)

const commandUsage = `usage:
  chancery records register export --unit CODE --year YYYY --direction incoming|outgoing
                                   [--secret] [--format csv|json] [--data DIR | --db URL]
  chancery records retention run [--unit CODE] [--dry-run] [--data DIR | --db URL]
  chancery records key-destruction report [--data DIR | --db URL]
  chancery records suggest-eval [--unit ID] [--data DIR | --db URL]

register export         write a unit's register of a year to stdout (CSV by default): the
                        incoming (sổ đăng ký văn bản đến) or outgoing one, or with --secret
                        its register of secret documents with each copy and its holder
retention run           apply the retention schedules: carry out the destructions a leader
                        decided, list the case files due for destruction in an appraisal
                        for a leader to decide (nothing is destroyed without a decision),
                        report transfers due, holds and appraisals awaiting a decision;
                        --dry-run says what it would do and changes nothing
key-destruction report  list every document whose data key was destroyed, when, at what
                        level and by which decision, from the audit ledger
suggest-eval            the assistant's accuracy on held-out history, per unit and field:
                        learned from the older 80 % of each unit's incoming documents, tested
                        on the newer 20 %, beside the majority-class baseline`

// CommandStorage is what the records' commands work on.
type CommandStorage struct {
	Service *Service
	// Ledger is the audit ledger the key-destruction report reads.
	Ledger interface {
		Integrate(ctx context.Context) (uint64, error)
		Search(ctx context.Context, q audit.Query) ([]audit.Event, error)
	}
	// UnitByCode returns the id of the unit with an electronic agency
	// code.
	UnitByCode func(ctx context.Context, code string) (int64, error)
}

// CommandEnv is what Command needs from the program that runs it.
type CommandEnv struct {
	// Open registers the storage flags (--data, --db) on fs and returns
	// the function that, once fs is parsed, opens the storage and returns
	// it with the function that closes it.
	Open   func(fs *flag.FlagSet) func(context.Context) (CommandStorage, func() error, error)
	Stdout io.Writer
	Stderr io.Writer
}

// Command runs `chancery records SUBCOMMAND ...` (see the usage above). A
// wrong command line returns an *errs.UsageError; -h prints the usage.
func Command(ctx context.Context, env CommandEnv, args []string) error {
	return errs.Subcommand(commandUsage, env.Stdout, args, map[string]func([]string) error{
		"register":  func(args []string) error { return env.verb(ctx, "register", "export", args, registerExport) },
		"retention": func(args []string) error { return env.verb(ctx, "retention", "run", args, retentionRun) },
		"key-destruction": func(args []string) error {
			return env.verb(ctx, "key-destruction", "report", args, keyDestructionReport)
		},
		"suggest-eval": func(args []string) error { return env.command(ctx, "suggest-eval", args, suggestEval) },
	})
}

// cliCommand is a subcommand being run: its flags, the storage flags
// among them.
type cliCommand struct {
	env  CommandEnv
	fs   *flag.FlagSet
	open func(context.Context) (CommandStorage, func() error, error)
}

// verb runs "NAME VERB [flags]": run declares its flags on the command,
// and returns the function to run once they are parsed.
func (env CommandEnv) verb(ctx context.Context, name, verb string, args []string,
	run func(c *cliCommand) func(ctx context.Context, st CommandStorage) error) error {
	if len(args) == 0 || args[0] != verb {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(env.Stdout, commandUsage)
			return nil
		}
		return errs.Usage(commandUsage, "use \"chancery records %s %s\"", name, verb)
	}
	return env.command(ctx, name+" "+verb, args[1:], run)
}

// command runs "chancery records NAME [flags]" once its flags (declared
// by run, the storage flags among them) are parsed.
func (env CommandEnv) command(ctx context.Context, name string, args []string,
	run func(c *cliCommand) func(ctx context.Context, st CommandStorage) error) error {
	fs := flag.NewFlagSet("chancery records "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the error returned says it all
	c := &cliCommand{env: env, fs: fs, open: env.Open(fs)}
	body := run(c)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(env.Stderr, commandUsage)
			return err
		}
		return errs.Usage(commandUsage, "%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return errs.Usage(commandUsage, "%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	st, done, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer done()
	return body(cliOrigin(ctx), st)
}

// cliOrigin returns ctx acting as the command line: the ledger records
// its changes as the system actor "cli", named after the operating-system
// user who ran it.
func cliOrigin(ctx context.Context) context.Context {
	actor := audit.System("cli")
	if u, err := user.Current(); err == nil {
		actor.Name = u.Username
	}
	return audit.WithOrigin(ctx, audit.Origin{Actor: actor})
}

// unitFlag resolves a --unit flag: an electronic agency code, or a
// unit's id.
func unitFlag(ctx context.Context, st CommandStorage, s string) (int64, error) {
	if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
		return id, nil
	}
	id, err := st.UnitByCode(ctx, s)
	if err != nil {
		return 0, fmt.Errorf("--unit %q: %w", s, err)
	}
	return id, nil
}

func registerExport(c *cliCommand) func(context.Context, CommandStorage) error {
	unit := c.fs.String("unit", "", "the unit's electronic agency code (or id)")
	year := c.fs.Int("year", 0, "the register's year")
	dir := c.fs.String("direction", "", "incoming or outgoing")
	secret := c.fs.Bool("secret", false, "the register of secret documents")
	format := c.fs.String("format", "csv", "csv or json")
	return func(ctx context.Context, st CommandStorage) error {
		switch {
		case *unit == "":
			return errs.Usage(commandUsage, "register export: --unit is required")
		case *year < 1945 || *year > 9999:
			return errs.Usage(commandUsage, "register export: --year must be a year such as 2026")
		case *dir != string(Incoming) && *dir != string(Outgoing):
			return errs.Usage(commandUsage, "register export: --direction must be incoming or outgoing")
		case *format != "csv" && *format != "json":
			return errs.Usage(commandUsage, "register export: --format must be csv or json")
		}
		u, err := unitFlag(ctx, st, *unit)
		if err != nil {
			return err
		}
		// The command line acts with the database's full power: it sees
		// the whole register of the unit.
		node := authz.Subject{Kind: authz.System, Unit: u, Clearance: authz.TopSecret}
		var entries []SecretEntry
		if *secret {
			reg, err := st.Service.SecretRegister(ctx, node, Direction(*dir), u, *year)
			if err != nil {
				return err
			}
			if reg.Truncated {
				fmt.Fprintf(c.env.Stderr, "records: the register holds more than %d entries; only the first are written\n", maxSecretEntries)
			}
			entries = reg.Entries
		} else if entries, err = wholeRegister(ctx, st.Service, node, Direction(*dir), u, *year); err != nil {
			return err
		}
		if *format == "json" {
			enc := json.NewEncoder(c.env.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(entries)
		}
		return writeRegisterCSV(c.env.Stdout, entries)
	}
}

// wholeRegister reads every page of a register.
func wholeRegister(ctx context.Context, s *Service, sub authz.Subject, dir Direction, unit int64, year int) ([]SecretEntry, error) {
	var out []SecretEntry
	q := RegisterQuery{Direction: dir, UnitID: unit, Year: year, Limit: MaxLimit}
	for {
		p, err := s.Register(ctx, sub, q)
		if err != nil {
			return nil, err
		}
		for _, d := range p.Items {
			out = append(out, SecretEntry{Document: d})
		}
		if p.Next == 0 {
			return out, nil
		}
		q.After = p.Next
	}
}

// writeRegisterCSV writes a register's columns (Decree 30's registers:
// number, date registered, sender or number and symbol, date, type and
// subject, level, urgency, status; and each copy with its holder).
func writeRegisterCSV(w io.Writer, entries []SecretEntry) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"number", "registered", "sender", "number_symbol", "date", "type", "subject", "level", "urgency", "status", "copies"}) //nolint:errcheck // Flush reports
	for _, e := range entries {
		d := e.Document
		var copies []string
		for _, c := range e.Copies {
			copies = append(copies, fmt.Sprintf("%s %d: %s", c.Kind, c.Number, c.HolderName))
		}
		date := ""
		if !d.Date.IsZero() {
			date = d.Date.In(registerZone()).Format("2006-01-02")
		}
		cw.Write([]string{strconv.Itoa(d.RegisterNumber), d.CreatedAt.In(registerZone()).Format("2006-01-02"), csvSafe(d.Sender), csvSafe(d.Number), date, //nolint:errcheck
			d.Type, csvSafe(d.Subject), d.Classification.String(), strconv.Itoa(int(d.Urgency)), string(d.Status), csvSafe(strings.Join(copies, "; "))})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

func retentionRun(c *cliCommand) func(context.Context, CommandStorage) error {
	unit := c.fs.String("unit", "", "only this unit (electronic agency code or id)")
	dry := c.fs.Bool("dry-run", false, "say what would be done; change nothing")
	return func(ctx context.Context, st CommandStorage) error {
		var u int64
		if *unit != "" {
			var err error
			if u, err = unitFlag(ctx, st, *unit); err != nil {
				return err
			}
		}
		steps, err := st.Service.RunRetention(ctx, u, *dry)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "UNIT\tACTION\tITEM\tDUE\tDETAIL")
		for _, s := range steps {
			due := ""
			if !s.DueAt.IsZero() {
				due = s.DueAt.In(registerZone()).Format("2006-01-02")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", s.UnitID, s.Action, s.Ref, due, s.Detail)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if *dry {
			fmt.Fprintln(c.env.Stderr, "records: dry run, nothing changed")
		}
		return nil
	}
}

func keyDestructionReport(c *cliCommand) func(context.Context, CommandStorage) error {
	return func(ctx context.Context, st CommandStorage) error {
		if _, err := st.Ledger.Integrate(ctx); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DESTROYED\tDOCUMENT\tLEVEL\tDECISION\tDISPOSAL\tKEY\tBY")
		q := audit.Query{Action: "document.destroy", ResourceType: "document", Limit: audit.MaxSearchLimit}
		for {
			es, err := st.Ledger.Search(ctx, q)
			if err != nil {
				return err
			}
			for _, e := range es {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.In(registerZone()).Format(time.DateTime), e.ResourceID, e.Level,
					e.Attrs["decision"], e.Attrs["disposal"], e.Attrs["key_purpose"], e.Actor.Name)
			}
			if len(es) < q.Limit {
				break
			}
			q.Before = es[len(es)-1].ID
		}
		return tw.Flush()
	}
}
