package architecture

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
)

const commandUsage = `usage:
  chancery architecture import FILE [--data DIR | --db URL]
  chancery architecture export [--as-of YYYY-MM-DD] [--layer-views] [--out FILE] [--data DIR | --db URL]

import  merge an ArchiMate Open Exchange Format document (such as Archi's
        "Export Model to Open Exchange File") into the repository: concepts
        matched by identifier, created or updated; DTDs, entities and
        relationships ArchiMate 3.2 forbids are refused, and nothing is stored
export  write the repository (as it stood at the end of --as-of, Viet Nam
        time) as an Open Exchange Format document to stdout or --out;
        --layer-views adds a generated view of each layer (laid out in
        bands, gen-layer-…) where the model has no view of that name`

// CommandEnv is what Command needs from the program that runs it.
type CommandEnv struct {
	// Open registers the storage flags (--data, --db) on fs and returns
	// the function that, once fs is parsed, opens the service over that
	// storage, with the function that closes it.
	Open   func(fs *flag.FlagSet) func(context.Context) (*Service, func() error, error)
	Stdout io.Writer
	Stderr io.Writer
}

// Command runs `chancery architecture SUBCOMMAND ...`. A wrong command
// line returns an *errs.UsageError.
func Command(ctx context.Context, env CommandEnv, args []string) error {
	return errs.Subcommand(commandUsage, env.Stdout, args, map[string]func([]string) error{
		"import": func(args []string) error { return env.importFile(ctx, args) },
		"export": func(args []string) error { return env.export(ctx, args) },
	})
}

// commandSubject is the command line: it acts with the database's own
// power, as the node, and is recorded as the operating-system user.
var commandSubject = authz.Subject{Kind: authz.System}

func cliOrigin(ctx context.Context) context.Context {
	actor := audit.System("cli")
	if u, err := user.Current(); err == nil {
		actor.Name = u.Username
	}
	return audit.WithOrigin(ctx, audit.Origin{Actor: actor})
}

func (env CommandEnv) importFile(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("chancery architecture import", flag.ContinueOnError)
	open := env.Open(fs)
	pos, err := errs.ParseArgs(fs, commandUsage, env.Stderr, args, 1)
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("architecture import: %w", err)
	}
	defer f.Close()
	svc, done, err := open(ctx)
	if err != nil {
		return err
	}
	defer done()
	res, err := svc.Import(cliOrigin(ctx), commandSubject, f)
	if err != nil {
		return fmt.Errorf("architecture import %s: %w", pos[0], err)
	}
	enc := json.NewEncoder(env.Stdout)
	return enc.Encode(res)
}

func (env CommandEnv) export(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("chancery architecture export", flag.ContinueOnError)
	day := fs.String("as-of", "", "the repository as it stood at the end of this day (YYYY-MM-DD)")
	out := fs.String("out", "", "write to this file instead of stdout")
	layerViews := fs.Bool("layer-views", false, "add a generated view of each layer")
	open := env.Open(fs)
	if _, err := errs.ParseArgs(fs, commandUsage, env.Stderr, args, 0); err != nil {
		return err
	}
	var at time.Time
	if *day != "" {
		d, err := time.Parse(time.DateOnly, *day)
		if err != nil {
			return errs.Usage(commandUsage, "--as-of %q is not a date YYYY-MM-DD", *day)
		}
		at = d.Add(17*time.Hour - time.Microsecond) // the end of the day in Viet Nam (UTC+7)
	}
	svc, done, err := open(ctx)
	if err != nil {
		return err
	}
	defer done()
	m, err := svc.Export(ctx, commandSubject, at)
	if err != nil {
		return err
	}
	if *layerViews {
		addLayerViews(m)
	}
	if *out == "" {
		return archimate.Encode(env.Stdout, m)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("architecture export: %w", err)
	}
	if err := errors.Join(archimate.Encode(f, m), f.Close()); err != nil {
		return fmt.Errorf("architecture export %s: %w", *out, err)
	}
	return nil
}
