package errs

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestUsageErrorIsAUsageAndInvalidInputAndShowsTheUsage(t *testing.T) {
	err := fmt.Errorf("unit: %w", Usage("usage:\n  chancery unit list", "unknown subcommand %q", "frob"))
	if !errors.Is(err, ErrUsage) || !errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
		t.Errorf("%v: want ErrUsage and ErrInvalid only", err)
	}
	if want := "unit: unknown subcommand \"frob\"\nusage:\n  chancery unit list"; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	if got := Usage("", "missing argument").Error(); got != "missing argument" {
		t.Errorf("without usage: %q", got)
	}
}

func TestSubcommandRunsTheNamedOneAndRefusesMissingOrUnknown(t *testing.T) {
	var ran []string
	subs := map[string]func([]string) error{
		"list": func(args []string) error { ran = args; return nil },
	}
	var out strings.Builder
	if err := Subcommand("usage: x list", &out, []string{"list", "-a", "b"}, subs); err != nil || strings.Join(ran, " ") != "-a b" {
		t.Errorf("list: err %v, args %q", err, ran)
	}
	for _, args := range [][]string{nil, {"frob"}} {
		err := Subcommand("usage: x list", &out, args, subs)
		var ue *UsageError
		if !errors.As(err, &ue) || ue.Usage != "usage: x list" {
			t.Errorf("%q: %v, want a UsageError with the usage", args, err)
		}
	}
	long := "frob\u202e\x1b[2J" + strings.Repeat("x", 1<<20)
	if err := Subcommand("usage: x list", &out, []string{long}, subs); err == nil ||
		!strings.HasPrefix(err.Error(), `unknown subcommand "frob\u202e\x1b[2J`) || len(err.Error()) > 120+len("usage: x list") || strings.ContainsAny(err.Error(), "\u202e\x1b") {
		t.Errorf("a long, hostile name: %.200q, want it escaped and cut short", err)
	}
	if err := Subcommand("usage: x list", &out, []string{"help"}, subs); err != nil || out.String() != "usage: x list\n" {
		t.Errorf("help: err %v, printed %q", err, out.String())
	}
}

func TestParseArgsMixesFlagsAndArgumentsAndCountsThem(t *testing.T) {
	newFS := func() (*flag.FlagSet, *string) {
		fs := flag.NewFlagSet("merge", flag.ContinueOnError)
		return fs, fs.String("into", "", "")
	}
	fs, into := newFS()
	got, err := ParseArgs(fs, "usage: x merge", io.Discard, []string{"A", "-3", "--into", "B"}, 2)
	if err != nil || strings.Join(got, " ") != "A -3" || *into != "B" {
		t.Errorf("= %q, --into %q, %v; want [A -3] and B", got, *into, err)
	}
	for _, args := range [][]string{{"A"}, {"A", "B", "C"}, {"A", "B", "--colour"}} {
		fs, _ := newFS()
		var ue *UsageError
		if _, err := ParseArgs(fs, "usage: x merge", io.Discard, args, 2); !errors.As(err, &ue) || ue.Usage != "usage: x merge" || !strings.HasPrefix(ue.Problem, "merge") {
			t.Errorf("%q = %v, want a usage error naming merge", args, err)
		}
	}
	fs, _ = newFS()
	var help strings.Builder
	if _, err := ParseArgs(fs, "usage: x merge", &help, []string{"-h"}, 2); !errors.Is(err, flag.ErrHelp) || help.String() != "usage: x merge\n" {
		t.Errorf("-h = %v, printed %q; want flag.ErrHelp and the usage", err, help.String())
	}
}
