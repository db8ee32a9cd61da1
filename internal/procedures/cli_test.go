package procedures

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"chancery/internal/errs"
)

func TestCatalogueIsExportedEditedAndChecked(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := Command(context.Background(), CommandEnv{Stdout: &out}, []string{"export", dir}); err != nil {
		t.Fatal(err)
	}
	if err := Command(context.Background(), CommandEnv{Stdout: &out}, []string{"export", dir}); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("exporting over an edited catalogue = %v, want a refusal", err)
	}
	out.Reset()
	if err := Command(context.Background(), CommandEnv{Stdout: &out}, []string{"check", dir}); err != nil || !strings.Contains(out.String(), "14 procedures") {
		t.Fatalf("check of the export = %q, %v", out.String(), err)
	}
	// An administrator changes a fee, then breaks the time limit.
	path := filepath.Join(dir, "1.900005.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), `"amount": 200000`, `"amount": 250000`, 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCatalogueDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Procedure("1.900005"); p.Fees[0].Amount != 250000 {
		t.Errorf("the edited fee reads %d", p.Fees[0].Amount)
	}
	broken := strings.Replace(edited, `"working_days": 5`, `"working_days": 0`, 1)
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	err = Command(context.Background(), CommandEnv{Stdout: &out}, []string{"check", dir})
	if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), "1.900005.json") || !strings.Contains(err.Error(), "time_limit.working_days") {
		t.Errorf("check of a broken file = %v, want the file and field named", err)
	}
	if err := Command(context.Background(), CommandEnv{Stdout: &out}, []string{"frobnicate"}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("an unknown subcommand = %v", err)
	}
	for _, args := range [][]string{{"export"}, {"check", dir, dir}, {"list", dir, dir}} {
		var ue *errs.UsageError
		if err := Command(context.Background(), CommandEnv{Stdout: &out}, args); !errors.As(err, &ue) || !strings.Contains(ue.Problem, args[0]+" takes") {
			t.Errorf("%q = %v, want a usage error naming %s", args, err, args[0])
		}
	}
	if _, err := LoadCatalogueDir(filepath.Join(dir, "missing")); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("a missing directory = %v", err)
	}
}
