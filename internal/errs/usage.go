package errs

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
)

// ErrUsage reports a command line written wrong: an unknown subcommand, a
// bad flag, a missing argument. The chancery command prints the error,
// which holds the command's usage, and exits with status 2.
var ErrUsage = errors.New("usage")

// UsageError is the one usage error of every command (chancery unit,
// user, audit, exchange, calendar, procedures, serve, migrate): what was
// wrong, and how to write the command. It is an ErrUsage, and an
// ErrInvalid since the input is at fault.
type UsageError struct {
	Problem string // what was wrong, such as `unknown subcommand "frob"`
	Usage   string // how to write the command; may be empty
}

// Error returns the problem, then the usage on the lines below it.
func (e *UsageError) Error() string {
	if e.Usage == "" {
		return e.Problem
	}
	return e.Problem + "\n" + e.Usage
}

// Is makes errors.Is(err, ErrUsage) and errors.Is(err, ErrInvalid) true.
func (e *UsageError) Is(target error) bool { return target == ErrUsage || target == ErrInvalid }

// Usage returns a *UsageError saying, as fmt.Sprintf(format, args...),
// what was wrong with a command line written as usage shows.
func Usage(usage, format string, args ...any) error {
	return &UsageError{Problem: fmt.Sprintf(format, args...), Usage: usage}
}

// Subcommand runs the subcommand named by args[0] from subs with the rest
// of args: the one dispatch of every `chancery CAPABILITY SUBCOMMAND`
// entry point, so each answers a missing or unknown subcommand and
// "help" alike. help, -h and --help print usage to stdout and return nil;
// a missing or unknown name returns a *UsageError holding usage.
func Subcommand(usage string, stdout io.Writer, args []string, subs map[string]func(args []string) error) error {
	if len(args) == 0 {
		return Usage(usage, "missing subcommand")
	}
	sub, args := args[0], args[1:]
	if run, ok := subs[sub]; ok {
		return run(args)
	}
	switch sub {
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return Usage(usage, "unknown subcommand %s", quoteName(sub))
}

// ParseArgs parses a subcommand's args with fs, the subcommand's flags,
// and returns its positional arguments: the one parser of every
// `chancery CAPABILITY SUBCOMMAND` entry point. Flags and positional
// arguments may be mixed ("merge CODE --into CODE", "proof 12 --data
// DIR"); a word that reads as a negative number is an argument, never a
// flag. Anything but exactly n positional arguments, or a bad flag,
// returns a *UsageError holding usage; -h and --help print usage to
// stderr and return flag.ErrHelp.
func ParseArgs(fs *flag.FlagSet, usage string, stderr io.Writer, args []string, n int) ([]string, error) {
	fs.SetOutput(io.Discard) // the error returned says it all
	var positional []string
	for len(args) > 0 {
		if _, err := strconv.Atoi(args[0]); err == nil {
			positional, args = append(positional, args[0]), args[1:]
			continue
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(stderr, usage)
				return nil, err
			}
			return nil, Usage(usage, "%s: %v", fs.Name(), err)
		}
		if args = fs.Args(); len(args) > 0 {
			positional, args = append(positional, args[0]), args[1:]
		}
	}
	if len(positional) != n {
		return nil, Usage(usage, "%s takes %d argument(s), not %d", fs.Name(), n, len(positional))
	}
	return positional, nil
}

// quoteName quotes a name typed on the command line for an error
// message, escaped (no control or bidi characters reach the terminal)
// and cut to 32 characters: a pasted paragraph is not echoed back whole.
func quoteName(s string) string {
	if r := []rune(s); len(r) > 32 {
		return strconv.QuoteToASCII(string(r[:32])) + "…"
	}
	return strconv.QuoteToASCII(s)
}
