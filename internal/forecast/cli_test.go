package forecast

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"chancery/internal/errs"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := CommandEnv{Stdout: &out, Stderr: &errOut, Open: func(*flag.FlagSet) func(context.Context) (*Service, func() error, error) {
		return func(context.Context) (*Service, func() error, error) {
			return nil, nil, errors.New("no database in this test")
		}
	}}
	err := Command(context.Background(), env, args)
	return out.String(), err
}

// backtest --series reads a CSV, holds out the last N weeks and prints
// one JSON object with the figures; generate writes a series it reads.
func TestCommandBacktestsACSVSeries(t *testing.T) {
	dir := t.TempDir()
	csv, err := run(t, "generate", "--seed", "3", "--weeks", "200")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "s.csv")
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "backtest", "--series", file, "--horizon", "13")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output %q is not one JSON object: %v", out, err)
	}
	for _, k := range []string{"mase", "baseline_mase", "coverage80", "coverage95"} {
		if _, ok := got[k].(float64); !ok {
			t.Errorf("output lacks a number %q: %s", k, out)
		}
	}
	if got["holdout"].(float64) != 13 || got["weeks"].(float64) != 200 {
		t.Errorf("weeks, holdout = %v, %v; want 200, 13", got["weeks"], got["holdout"])
	}
}

// A bad file is refused with its line; a bad command line is a usage
// error.
func TestCommandRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.csv")
	os.WriteFile(file, []byte("week,value\n2025-01-06,3\n2025-01-14,4\n"), 0o600)
	if _, err := run(t, "backtest", "--series", file, "--horizon", "4"); err == nil || !strings.Contains(err.Error(), "line 3: week 2025-01-14 is a Tuesday") {
		t.Errorf("a Tuesday: %v", err)
	}
	for _, args := range [][]string{
		{"backtest", "--series", file, "--horizon", "0"},
		{"backtest", "--series", file, "--form", "cubic"},
		{"backtest", "--series", file, "--country", "XX"},
		{"backtest", "extra"},
		{"nonsense"},
	} {
		if _, err := run(t, args...); !errors.Is(err, errs.ErrUsage) {
			t.Errorf("%q: %v; want a usage error", args, err)
		}
	}
	if _, err := run(t, "backtest", "--series", filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("a missing file was not refused")
	}
}
