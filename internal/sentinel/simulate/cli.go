package simulate

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"chancery/internal/errs"
	"chancery/internal/sentinel/detect"
)

const commandUsage = `usage:
  chancery sentinel replay FILE
  chancery sentinel eval [--seed N] [--staff N] [--days N] [--insiders N] [--json]
  chancery sentinel simulate [--seed N] [--staff N] [--days N] [--insiders N] [--labels FILE] [--out FILE]

replay    score a ledger export (the JSON Lines GET /api/v1/audit/export writes; FILE
          "-" is standard input) offline, as Sentinel would have live, and print its
          alerts as JSON lines; a summary goes to standard error
eval      simulate a ministry (--staff people, --days days, --insiders of each insider
          scenario) with seed --seed, score it, and print recall, precision, the
          false-positive rate per user-day and the detection delay per scenario
simulate  write the simulation as a ledger export (to --out, or standard output) and
          its insiders as JSON lines to --labels

--staff is 10 to 100000 (default 3000), --days 45 to 730 (default 90), --insiders
1 to 100 (default 10).`

// CommandEnv is what Command needs from the program that runs it.
type CommandEnv struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Command runs `chancery sentinel SUBCOMMAND ...` (see the usage above).
// A wrong command line returns an errs.UsageError; a file that is not a
// ledger export an error wrapping errs.ErrInvalid naming the line.
func Command(ctx context.Context, env CommandEnv, args []string) error {
	return errs.Subcommand(commandUsage, env.Stdout, args, map[string]func([]string) error{
		"replay":   func(args []string) error { return replayCommand(env, args) },
		"eval":     func(args []string) error { return evalCommand(env, args) },
		"simulate": func(args []string) error { return simulateCommand(env, args) },
	})
}

func replayCommand(env CommandEnv, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	pos, err := errs.ParseArgs(fs, commandUsage, env.Stderr, args, 1)
	if err != nil {
		return err
	}
	var r io.Reader = os.Stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return fmt.Errorf("sentinel replay: %w", err)
		}
		defer f.Close()
		r = f
	}
	bw := bufio.NewWriter(env.Stdout)
	enc := json.NewEncoder(bw)
	began := time.Now()
	st, err := detect.Replay(r, detect.New(detect.Config{}), func(a detect.Alert) error { return enc.Encode(a) })
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("sentinel replay: %w", err)
	}
	fmt.Fprintf(env.Stderr, "sentinel replay: scored %d events in %s: %d alerts\n", st.Events, time.Since(began).Round(time.Millisecond), st.Alerts)
	return nil
}

// simFlags are the flags that say what to simulate.
type simFlags struct {
	seed                  uint64
	staff, days, insiders int
}

func (f *simFlags) register(fs *flag.FlagSet) {
	fs.Uint64Var(&f.seed, "seed", 11, "")
	fs.IntVar(&f.staff, "staff", 3000, "")
	fs.IntVar(&f.days, "days", 90, "")
	fs.IntVar(&f.insiders, "insiders", 10, "")
}

func (f *simFlags) config() (Config, error) {
	switch {
	case f.staff < 10 || f.staff > 100000:
		return Config{}, errs.Usage(commandUsage, "--staff %d: give 10 to 100000", f.staff)
	case f.days < 45 || f.days > 730:
		return Config{}, errs.Usage(commandUsage, "--days %d: give 45 to 730 (insiders start after 30 days of history)", f.days)
	case f.insiders < 1 || f.insiders > 100:
		return Config{}, errs.Usage(commandUsage, "--insiders %d: give 1 to 100", f.insiders)
	case f.insiders*len(Scenarios) > f.staff/4:
		return Config{}, errs.Usage(commandUsage, "--insiders %d of each of %d scenarios among %d staff: at most a quarter of the staff may be insiders", f.insiders, len(Scenarios), f.staff)
	}
	return Config{Seed: f.seed, Staff: f.staff, Days: f.days, Insiders: f.insiders}, nil
}

func evalCommand(env CommandEnv, args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	var f simFlags
	f.register(fs)
	asJSON := fs.Bool("json", false, "")
	if _, err := errs.ParseArgs(fs, commandUsage, env.Stderr, args, 0); err != nil {
		return err
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	rep, err := Evaluate(cfg, detect.Config{}, nil)
	if err != nil {
		return fmt.Errorf("sentinel eval: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(rep)
	}
	fmt.Fprintf(env.Stdout, "command: chancery sentinel eval --seed %d --staff %d --days %d --insiders %d\n", f.seed, f.staff, f.days, f.insiders)
	return rep.Print(env.Stdout)
}

func simulateCommand(env CommandEnv, args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	var f simFlags
	f.register(fs)
	labels := fs.String("labels", "", "")
	out := fs.String("out", "", "")
	if _, err := errs.ParseArgs(fs, commandUsage, env.Stderr, args, 0); err != nil {
		return err
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	w := env.Stdout
	if *out != "" {
		file, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("sentinel simulate: %w", err)
		}
		defer file.Close()
		w = file
	}
	s, err := WriteExport(w, cfg)
	if err != nil {
		return fmt.Errorf("sentinel simulate: %w", err)
	}
	if c, ok := w.(io.Closer); ok && *out != "" {
		if err := c.Close(); err != nil {
			return fmt.Errorf("sentinel simulate: %w", err)
		}
	}
	if *labels == "" {
		return nil
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for _, l := range s.Labels() {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	if err := os.WriteFile(*labels, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("sentinel simulate: write the labels: %w", err)
	}
	fmt.Fprintf(env.Stderr, "sentinel simulate: %d events; %d insiders in %s\n", s.Events(), len(s.Labels()), *labels)
	return nil
}
