package forecast

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/errs"
)

const commandUsage = `usage:
  chancery insight backtest [--horizon N] [--data DIR | --db URL]
  chancery insight backtest --series FILE.csv --horizon N [--country CC] [--form auto|additive|multiplicative]
  chancery insight generate [--seed N] [--weeks N] [--country CC]

backtest  hold out the last N weeks (default 26) of each series, fit the
          model on the weeks before, forecast every later held-out week
          from every origin in the hold-out, and print MASE (scaled by the
          in-sample seasonal naive error), the seasonal naive forecast's
          MASE and the share of weeks inside the 80 % and 95 % intervals:
          per unit and procedure from the database, or for one weekly
          series in a CSV file (lines week,value; week the Monday's ISO
          date, every week once, in order), as one JSON object.
          --country names the calendar whose closed days the model knows
          (default VN; Viet Nam's lunar holidays are known whatever it is)
generate  print a generated weekly series (CSV) of a consular counter:
          Tết's rush and lull moving with the lunar calendar, summer,
          growth, a wandering level and count noise, the same for a seed`

// CommandEnv is what Command needs from the program that runs it.
type CommandEnv struct {
	// Open registers the storage flags on fs and returns the function
	// that, once fs is parsed, opens the service over that storage, with
	// the function that closes it.
	Open   func(fs *flag.FlagSet) func(context.Context) (*Service, func() error, error)
	Stdout io.Writer
	Stderr io.Writer
}

// Command runs `chancery insight SUBCOMMAND ...`.
func Command(ctx context.Context, env CommandEnv, args []string) error {
	return errs.Subcommand(commandUsage, env.Stdout, args, map[string]func([]string) error{
		"backtest": func(args []string) error { return env.backtest(ctx, args) },
		"generate": func(args []string) error { return env.generate(args) },
	})
}

func parseForm(s string) (Seasonality, error) {
	switch strings.ToLower(s) {
	case "auto", "":
		return Auto, nil
	case "additive":
		return Additive, nil
	case "multiplicative":
		return Multiplicative, nil
	}
	return 0, errs.Usage(commandUsage, "--form %q is not auto, additive or multiplicative", s)
}

func (env CommandEnv) backtest(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("chancery insight backtest", flag.ContinueOnError)
	file := fs.String("series", "", "a weekly series as CSV (week,value) instead of the database's")
	horizon := fs.Int("horizon", Holdout, "weeks held out at the end and forecast")
	country := fs.String("country", "VN", "ISO code of the country whose calendar closes days (a CSV series)")
	formName := fs.String("form", "auto", "seasonality: auto, additive or multiplicative")
	open := env.Open(fs)
	if _, err := errs.ParseArgs(fs, commandUsage, env.Stderr, args, 0); err != nil {
		return err
	}
	if *horizon < 1 || *horizon > maxWeeks {
		return errs.Usage(commandUsage, "--horizon %d is not a number of weeks from 1 to %d", *horizon, maxWeeks)
	}
	form, err := parseForm(*formName)
	if err != nil {
		return err
	}
	if *file != "" {
		cal, err := calendar.ForMission(*country)
		if err != nil {
			return errs.Usage(commandUsage, "--country: %v", err)
		}
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("insight backtest: %w", err)
		}
		defer f.Close()
		s, err := ReadCSV(f)
		if err != nil {
			return fmt.Errorf("insight backtest %s: %w", *file, err)
		}
		r, err := Backtest(s, *horizon, cal, form)
		if err != nil {
			return fmt.Errorf("insight backtest %s: %w", *file, err)
		}
		return json.NewEncoder(env.Stdout).Encode(r)
	}
	svc, done, err := open(ctx)
	if err != nil {
		return err
	}
	defer done()
	sub := authz.Subject{Kind: authz.System} // the command line acts as the node
	units, err := svc.Units(ctx, sub)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "UNIT\tPROCEDURE\tWEEKS\tMASE\tBASELINE_MASE\tCOVERAGE80\tCOVERAGE95\tMODEL")
	for _, u := range units {
		_, list, err := svc.seriesOf(ctx, sub, u.ID)
		if err != nil {
			return err
		}
		for _, us := range list {
			r, err := Backtest(us.series, *horizon, us.cal, form)
			if err != nil {
				fmt.Fprintf(tw, "%s\t%s\t%d\t-\t-\t-\t-\t%v\n", u.Code, us.procedure.Code, len(us.series.Values), err)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%s\n", u.Code, us.procedure.Code, r.Weeks, r.MASE, r.BaselineMASE, r.Coverage80, r.Coverage95, r.Model)
		}
	}
	return tw.Flush()
}

func (env CommandEnv) generate(args []string) error {
	fs := flag.NewFlagSet("chancery insight generate", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "the generator's seed")
	weeks := fs.Int("weeks", 6*52, "how many weeks, from the first Monday of 2020 (30 December 2019)")
	country := fs.String("country", "VN", "ISO code of the country whose calendar closes days")
	if _, err := errs.ParseArgs(fs, commandUsage, env.Stderr, args, 0); err != nil {
		return err
	}
	if *weeks < 1 || *weeks > maxWeeks {
		return errs.Usage(commandUsage, "--weeks %d is not from 1 to %d", *weeks, maxWeeks)
	}
	cal, err := calendar.ForMission(*country)
	if err != nil {
		return errs.Usage(commandUsage, "--country: %v", err)
	}
	g := DefaultSynthetic(*seed)
	g.Weeks, g.Calendar = *weeks, cal
	return WriteCSV(env.Stdout, g.Generate())
}
