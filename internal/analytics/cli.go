package analytics

import (
	"context"
	"flag"
	"fmt"
	"io"

	"chancery/internal/errs"
)

const commandUsage = `usage:
  chancery analytics backfill [--rebuild] [--data DIR | --db URL]
  chancery analytics check [--data DIR | --db URL]

backfill  feed the analytics store from the audit ledger's events past its
          cursor (all of them on a fresh store) and sweep what no event
          carries, then print the totals; --rebuild empties the store first
          and feeds it again from the whole ledger. A running server does
          the same continuously; this is for a store restored from backup
          or a node that was not running the feeder.
check     register Chancery's own datasets and run every dataset's quality
          checks, printing each result`

// CommandEnv is what Command needs from the program that runs it.
type CommandEnv struct {
	// Open registers the storage flags on fs and returns the function
	// that, once fs is parsed, opens the feeder and the catalogue over
	// that storage, with the function that closes it.
	Open   func(fs *flag.FlagSet) func(context.Context) (*Feeder, *Catalogue, func() error, error)
	Stdout io.Writer
	Stderr io.Writer
}

// Command runs `chancery analytics SUBCOMMAND ...`.
func Command(ctx context.Context, env CommandEnv, args []string) error {
	return errs.Subcommand(commandUsage, env.Stdout, args, map[string]func([]string) error{
		"backfill": func(args []string) error { return env.backfill(ctx, args) },
		"check":    func(args []string) error { return env.check(ctx, args) },
	})
}

func (env CommandEnv) backfill(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("chancery analytics backfill", flag.ContinueOnError)
	rebuild := fs.Bool("rebuild", false, "empty the store and feed it again from the whole ledger")
	open := env.Open(fs)
	if _, err := errs.ParseArgs(fs, commandUsage, env.Stderr, args, 0); err != nil {
		return err
	}
	f, _, closeAll, err := open(ctx)
	if err != nil {
		return err
	}
	defer closeAll()
	if *rebuild {
		err = f.Rebuild(ctx)
	} else {
		err = f.CatchUp(ctx)
	}
	if err != nil {
		return err
	}
	next, err := cursor(ctx, f.db, ledgerSource)
	if err != nil {
		return err
	}
	var rows, sum int64
	if err := f.db.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(value), 0) FROM analytics_facts").Scan(&rows, &sum); err != nil {
		return fmt.Errorf("analytics: count the facts: %w", err)
	}
	_, err = fmt.Fprintf(env.Stdout, "analytics store fed to ledger event %d: %d fact rows, %d counted in all\n", next, rows, sum)
	return err
}

func (env CommandEnv) check(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("chancery analytics check", flag.ContinueOnError)
	open := env.Open(fs)
	if _, err := errs.ParseArgs(fs, commandUsage, env.Stderr, args, 0); err != nil {
		return err
	}
	_, c, closeAll, err := open(ctx)
	if err != nil {
		return err
	}
	defer closeAll()
	if err := c.RegisterBuiltins(ctx); err != nil {
		return err
	}
	if err := c.RunAllChecks(ctx); err != nil {
		return err
	}
	all, err := c.load(ctx, c.db, "")
	if err != nil {
		return err
	}
	failed := 0
	for _, d := range all {
		for _, ch := range d.Checks {
			state := "ok  "
			if !ch.LastOK {
				state, failed = "FAIL", failed+1
			}
			if _, err := fmt.Fprintf(env.Stdout, "%s %s %s: %s\n", state, d.Code, ch.Name, ch.LastDetail); err != nil {
				return err
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("analytics: %d quality checks failed", failed)
	}
	return nil
}
