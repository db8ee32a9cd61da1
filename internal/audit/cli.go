package audit

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"gocloud.dev/blob"
	"golang.org/x/mod/sumdb/note"

	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
)

const commandUsage = `usage:
  chancery audit verify [--data DIR | --db URL]
  chancery audit checkpoint [--data DIR | --db URL]
  chancery audit proof SEQ [--data DIR | --db URL]
  chancery audit archive --up-to SEQ [--data DIR | --db URL]
  chancery audit witness --source URL (--token-file FILE | --user NAME --password-file FILE)
                         [--log-key VKEY] [--name NAME] [--interval 30s] [--once] [--data DIR | --db URL]

verify      recompute the whole ledger from storage and check every checkpoint;
            exit 0 on a clean ledger, 1 naming the first bad sequence number
checkpoint  sign a checkpoint of the ledger now and print it (the verifier key on stderr)
proof       print event SEQ's inclusion proof against the newest checkpoint
archive     move the events before SEQ to blob storage (proofs stay valid)
witness     follow another node's ledger: fetch each new checkpoint over its API, check
            it extends the last one seen, store it and countersign it; an inconsistent
            one (the node rewrote its history) is refused with exit status 1.
            --data is the witness's own data directory, with its own key.`

// Storage is a node's storage as the command line opens it.
type Storage struct {
	DB   *store.DB
	Keys *keys.Ring
	// Archive holds archived events; nil if no blob storage is set up.
	Archive *blob.Bucket
}

// CommandEnv is what Command needs from the program that runs it.
type CommandEnv struct {
	// Storage registers on fs the flags that locate a node's storage
	// (--data, --db) and returns the function that, once fs is parsed,
	// opens it (migrated) and returns it with the function that closes
	// it.
	Storage func(fs *flag.FlagSet) func(context.Context) (Storage, func() error, error)
	Stdout  io.Writer
	Stderr  io.Writer
	// Client makes the witness's requests. If nil, NewRemote's default
	// is used.
	Client *http.Client
}

// Command runs `chancery audit SUBCOMMAND ...` (see the usage above),
// writing results to env.Stdout and progress and warnings to env.Stderr.
// A ledger that does not verify returns the *TamperError; a witnessed
// node that rewrote its history, the *InconsistentError. A wrong command
// line returns an error wrapping errs.ErrInvalid that holds the usage;
// -h prints the usage and returns flag.ErrHelp.
func Command(ctx context.Context, env CommandEnv, args []string) error {
	return errs.Subcommand(commandUsage, env.Stdout, args, map[string]func([]string) error{
		"verify":     func(args []string) error { return verifyCommand(ctx, env, args) },
		"checkpoint": func(args []string) error { return checkpointCommand(ctx, env, args) },
		"proof":      func(args []string) error { return proofCommand(ctx, env, args) },
		"archive":    func(args []string) error { return archiveCommand(ctx, env, args) },
		"witness":    func(args []string) error { return witnessCommand(ctx, env, args) },
	})
}

// command is a subcommand being run: its flags, the storage flags among
// them.
type command struct {
	env  CommandEnv
	fs   *flag.FlagSet
	open func(context.Context) (Storage, func() error, error)
	args []string // positional arguments, in order
}

func (env CommandEnv) command(name string) *command {
	fs := flag.NewFlagSet("chancery audit "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the error returned says it all
	return &command{env: env, fs: fs, open: env.Storage(fs)}
}

// parse parses args (see errs.ParseArgs) and checks that exactly n
// positional arguments came.
func (c *command) parse(args []string, n int) (err error) {
	c.args, err = errs.ParseArgs(c.fs, commandUsage, c.env.Stderr, args, n)
	return err
}

// withLedger opens the node's storage and its ledger, runs fn on the
// ledger and closes both.
func (c *command) withLedger(ctx context.Context, fn func(l *Ledger) error) error {
	l, done, err := c.ledger(ctx)
	if err != nil {
		return err
	}
	defer done()
	return fn(l)
}

// count parses a count given on the command line (see parseCount); a
// bad one is a usage error.
func (c *command) count(field, s string, min uint64) (uint64, error) {
	n, err := parseCount(field, s, min)
	if err != nil {
		return 0, errs.Usage(commandUsage, "%v", err)
	}
	return n, nil
}

// ledger opens the node's storage and its ledger; done closes both.
func (c *command) ledger(ctx context.Context) (l *Ledger, done func(), err error) {
	s, closeStorage, err := c.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(c.env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if l, err = New(ctx, s.DB, s.Keys, Options{Archive: s.Archive, Logger: log}); err != nil {
		closeStorage()
		return nil, nil, err
	}
	return l, func() { l.Close(); closeStorage() }, nil
}

func verifyCommand(ctx context.Context, env CommandEnv, args []string) error {
	c := env.command("verify")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	return c.withLedger(ctx, func(l *Ledger) error {
		size, _, err := l.Head(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "audit verify: checking %d events\n", size)
		report, err := l.Verify(ctx, func(n uint64) { fmt.Fprintf(env.Stderr, "audit verify: %d of %d events checked\n", n, size) })
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "ledger verified: %d events, %d checkpoints, root %s\n", report.Size, report.Checkpoints, base64.StdEncoding.EncodeToString(report.Root))
		if report.Archived > 0 {
			fmt.Fprintf(env.Stdout, "%d of the events were read back from the archive\n", report.Archived)
		}
		if report.Pending > 0 {
			fmt.Fprintf(env.Stdout, "%d more events are recorded and await integration into the tree\n", report.Pending)
		}
		return nil
	})
}

func checkpointCommand(ctx context.Context, env CommandEnv, args []string) error {
	c := env.command("checkpoint")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	return c.withLedger(ctx, func(l *Ledger) error {
		if _, err := l.Integrate(ctx); err != nil {
			return err
		}
		cp, err := l.Checkpoint(ctx)
		if err != nil {
			return err
		}
		vkey, err := l.VerifierKey()
		if err != nil {
			return err
		}
		env.Stdout.Write(cp.Note) //nolint:errcheck // nothing to do about a closed stdout
		fmt.Fprintf(env.Stderr, "verifier key: %s\n", vkey)
		return nil
	})
}

func proofCommand(ctx context.Context, env CommandEnv, args []string) error {
	c := env.command("proof")
	if err := c.parse(args, 1); err != nil {
		return err
	}
	seq, err := c.count("SEQ", c.args[0], 0)
	if err != nil {
		return err
	}
	return c.withLedger(ctx, func(l *Ledger) error {
		p, err := l.proveEvent(ctx, seq)
		if err != nil {
			return err
		}
		b64 := base64.StdEncoding.EncodeToString
		e := p.Event
		fmt.Fprintf(env.Stdout, "event %d: %s by %s %s at %s\n", e.Seq, e.Action, e.Actor.Kind, e.Actor.ID, e.Time.Format(time.RFC3339Nano))
		fmt.Fprintf(env.Stdout, "leaf hash: %s\n", b64(p.Leaf))
		fmt.Fprintf(env.Stdout, "inclusion proof in the tree of size %d (%d hashes):\n", p.Checkpoint.Size, len(p.Proof))
		for _, h := range p.Proof {
			fmt.Fprintf(env.Stdout, "  %s\n", b64(h))
		}
		fmt.Fprintf(env.Stdout, "checkpoint:\n%s", p.Checkpoint.Note)
		if err := p.verify(); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "verified: the proof leads from the event to the checkpoint's root %s\n", b64(p.Checkpoint.Root))
		return nil
	})
}

func archiveCommand(ctx context.Context, env CommandEnv, args []string) error {
	c := env.command("archive")
	upTo := c.fs.String("up-to", "", "archive the events before this sequence number")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	n, err := c.count("--up-to", *upTo, 1)
	if err != nil {
		return err
	}
	return c.withLedger(ctx, func(l *Ledger) error {
		moved, err := l.Archive(ctx, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "archived %d events; the events before %d are in blob storage, and their proofs stay valid\n", moved, n)
		return nil
	})
}

// witnessKeyMeta is the meta key under which a witness pins the verifier
// key of the ledger at a source.
func witnessKeyMeta(source string) string { return "audit.witness.log_key " + source }

// DefaultWitnessPrefix starts the cosigner name of a witness started
// without --name; its key id follows.
const DefaultWitnessPrefix = "chancery.mofa.gov.vn/witness/"

func witnessCommand(ctx context.Context, env CommandEnv, args []string) error {
	c := env.command("witness")
	var (
		source       = c.fs.String("source", "", "base URL of the node to witness, such as https://hq.example:8080")
		interval     = c.fs.Duration("interval", 30*time.Second, "how often to fetch the node's checkpoint")
		once         = c.fs.Bool("once", false, "witness one checkpoint and exit")
		logKey       = c.fs.String("log-key", "", "the node ledger's note verifier key (default: the one pinned on first contact)")
		name         = c.fs.String("name", "", "this witness's cosigner name (default "+DefaultWitnessPrefix+"<key id>)")
		tokenFile    = c.fs.String("token-file", "", "file holding an auditor's bearer token for the node")
		user         = c.fs.String("user", "", "auditor account to sign in to the node with (with --password-file)")
		passwordFile = c.fs.String("password-file", "", "file holding the --user account's password")
	)
	if err := c.parse(args, 0); err != nil {
		return err
	}
	if *interval < time.Second {
		return errs.Usage(commandUsage, "--interval must be at least 1s")
	}
	opts := RemoteOptions{Username: *user, Client: env.Client}
	var err error
	switch {
	case *tokenFile != "" && *user == "" && *passwordFile == "":
		opts.Token, err = readSecret(*tokenFile)
	case *tokenFile == "" && *user != "" && *passwordFile != "":
		opts.Password, err = readSecret(*passwordFile)
	default:
		return errs.Usage(commandUsage, "give --token-file, or --user with --password-file")
	}
	if err != nil {
		return err
	}
	remote, err := NewRemote(*source, opts)
	if err != nil {
		return errs.Usage(commandUsage, "%v", err)
	}

	s, closeStorage, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer closeStorage()
	logVerifier, err := witnessLogKey(ctx, env, s.DB, remote, *logKey)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = DefaultWitnessPrefix + keys.KeyID(s.Keys.PublicKey())
	}
	cosigner, err := NewCosigner(*name, s.Keys.Signer(), nil)
	if err != nil {
		return errs.Usage(commandUsage, "%v", err)
	}
	w, err := NewWitness(s.DB, WitnessOptions{Log: logVerifier, Cosigner: cosigner})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "audit witness %s (Ed25519 public key %s) following %s at %s\n",
		*name, base64.StdEncoding.EncodeToString(s.Keys.PublicKey()), logVerifier.Name(), remote.base)

	var last uint64
	for {
		cp, err := w.Update(ctx, remote)
		var inconsistent *InconsistentError
		switch {
		case errors.As(err, &inconsistent):
			fmt.Fprintf(env.Stderr, "AUDIT WITNESS ALERT: %v\nThe node's ledger contradicts what this witness countersigned before. Both signed checkpoints are kept as evidence in the witness's database; report this to the security officers.\n", err)
			return err
		case err != nil && *once:
			return err
		case err != nil:
			fmt.Fprintf(env.Stderr, "audit witness: %v (trying again in %s)\n", err, *interval)
		case *once || cp.Size != last:
			fmt.Fprintf(env.Stdout, "witnessed %s at size %d, root %s; cosigned as %s\n", cp.Origin, cp.Size, base64.StdEncoding.EncodeToString(cp.Root), *name)
			last = cp.Size
		}
		if *once {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}

// witnessLogKey returns the verifier of the ledger at remote: the key
// given, which is then pinned; else the one pinned before; else, on first
// contact, the one the node announces, pinned from then on (trust on
// first use, said loudly).
func witnessLogKey(ctx context.Context, env CommandEnv, db *store.DB, remote *Remote, given string) (note.Verifier, error) {
	meta := witnessKeyMeta(remote.base)
	vkey := given
	if vkey == "" {
		pinned, err := db.Meta(ctx, meta)
		switch {
		case err == nil:
			vkey = pinned
		case !errors.Is(err, errs.ErrNotFound):
			return nil, err
		default:
			if vkey, err = remote.VerifierKey(ctx); err != nil {
				return nil, err
			}
			fmt.Fprintf(env.Stderr, "audit witness: first contact with %s: trusting its ledger key %s\n"+
				"  check it with the node's operators, or pass --log-key to pin it yourself\n", remote.base, vkey)
		}
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("%w: ledger verifier key %q: %v", errs.ErrInvalid, vkey, err)
	}
	if err := store.SetMeta(ctx, db, meta, vkey); err != nil {
		return nil, err
	}
	return v, nil
}

// readSecret reads a token or password kept in a file, so that it does
// not show in process listings.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%w: %s is empty", errs.ErrInvalid, path)
	}
	return s, nil
}
