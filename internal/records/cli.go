package records

import (
	"context"
	"errors"
	"flag"
	"io"

	"chancery/internal/errs"
	"chancery/internal/store"
)

const commandUsage = `usage:
  chancery records suggest-eval [--unit ID] [--data DIR | --db URL]

suggest-eval  the assistant's accuracy on held-out history, per unit and field: learned from
              the older 80 % of each unit's incoming documents, tested on the newer 20 %,
              beside the majority-class baseline`

// CommandEnv is what Command needs from the program that runs it.
type CommandEnv struct {
	// Open registers on fs the flags that locate the node's storage and
	// returns the function that, once fs is parsed, opens its database
	// and returns it with the function that closes it.
	Open   func(fs *flag.FlagSet) func(context.Context) (*store.DB, func() error, error)
	Stdout io.Writer
	Stderr io.Writer
}

// Command runs `chancery records SUBCOMMAND ...`. A wrong command line
// returns an error wrapping errs.ErrInvalid that holds the usage; -h
// prints the usage and returns flag.ErrHelp.
func Command(ctx context.Context, env CommandEnv, args []string) error {
	return errs.Subcommand(commandUsage, env.Stdout, args, map[string]func([]string) error{
		"suggest-eval": func(args []string) error { return suggestEvalCommand(ctx, env, args) },
	})
}

func newFlags(name string, env CommandEnv) *flag.FlagSet {
	fs := flag.NewFlagSet("chancery records "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// withDB parses the flags and opens the database for fn.
func withDB(ctx context.Context, env CommandEnv, fs *flag.FlagSet, args []string, fn func(*store.DB) error) error {
	open := env.Open(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errs.Usage(commandUsage, "%v", err)
	}
	if fs.NArg() > 0 {
		return errs.Usage(commandUsage, "unexpected argument %q", fs.Arg(0))
	}
	db, closeFn, err := open(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	return fn(db)
}
