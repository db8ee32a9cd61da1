package architecture

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"chancery/internal/architecture/archimate"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestTheCommandsImportAndExport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		var stdout, stderr bytes.Buffer
		env := CommandEnv{Stdout: &stdout, Stderr: &stderr, Open: func(fs *flag.FlagSet) func(context.Context) (*Service, func() error, error) {
			fs.String("data", "", "")
			return func(context.Context) (*Service, func() error, error) { return f.svc, func() error { return nil }, nil }
		}}
		ctx := context.Background()
		if err := Command(ctx, env, []string{"import", "archimate/testdata/sample.xml"}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout.String(), `"created":10`) {
			t.Fatalf("import printed %s", stdout.String())
		}
		out := filepath.Join(t.TempDir(), "model.xml")
		if err := Command(ctx, env, []string{"export", "--out", out}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := archimate.Decode(bytes.NewReader(b), archimate.Limits{}); err != nil {
			t.Fatalf("the export does not decode: %v", err)
		}
		bad := filepath.Join(t.TempDir(), "bad.xml")
		os.WriteFile(bad, []byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><model/>`), 0o600)
		if err := Command(ctx, env, []string{"import", bad}); !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), "DTD") {
			t.Errorf("a DTD: %v", err)
		}
		if err := Command(ctx, env, []string{"import"}); !errors.Is(err, errs.ErrUsage) {
			t.Errorf("no file: %v", err)
		}
		if err := Command(ctx, env, []string{"export", "--as-of", "soon"}); !errors.Is(err, errs.ErrUsage) {
			t.Errorf("a bad date: %v", err)
		}
		if err := Command(ctx, env, []string{"import", filepath.Join(t.TempDir(), "missing.xml")}); err == nil {
			t.Error("a missing file imported")
		}
	})
}
