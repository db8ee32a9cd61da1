package records

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// run runs a records command on the fixture's storage and returns its
// output.
func (f *fixture) run(t testing.TB, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := CommandEnv{Stdout: &out, Stderr: &errOut, Open: func(fs *flag.FlagSet) func(context.Context) (CommandStorage, func() error, error) {
		fs.String("data", "", "")
		return func(context.Context) (CommandStorage, func() error, error) {
			byCode := func(_ context.Context, code string) (int64, error) {
				if id, ok := f.units[code]; ok {
					return id, nil
				}
				return 0, errs.ErrNotFound
			}
			return CommandStorage{Service: f.svc, Ledger: f.ledger, UnitByCode: byCode}, func() error { return nil }, nil
		}
	}}
	err := Command(context.Background(), env, args)
	return out.String(), err
}

// TestRecordsCommand pins chancery records: the register export (CSV and
// JSON, the secret register with its copies, formula cells defused), the
// retention run (a dry run changes nothing; a run lists the due case
// files for a decision and destroys nothing undecided, then carries out
// a decided destruction), the key-destruction report from the ledger,
// and usage errors.
func TestRecordsCommand(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.svc.opts.Staff = nil
		secret := f.secretText(t)
		f.incoming(t, "=HYPERLINK(\"x\") thông báo", authz.Unclassified, nil)
		out, err := f.run(t, "register", "export", "--unit", "000.00.03.G12", "--year", "2026", "--direction", "incoming")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][6] != "'=HYPERLINK(\"x\") thông báo" {
			t.Fatalf("register export = %q, %v", out, err)
		}
		if out, err = f.run(t, "register", "export", "--unit", "000.00.03.G12", "--year", "2026", "--direction", "incoming", "--secret", "--format", "json"); err != nil || !strings.Contains(out, "Công điện tối mật") {
			t.Fatalf("secret register export = %s, %v", out, err)
		}

		cf := f.caseFileWith(t, "TAM.01", 1, secret)
		f.closeCaseFiles(t, cf)
		f.clock.set(time.Date(2028, 2, 1, 0, 0, 0, 0, time.UTC))
		if out, err = f.run(t, "retention", "run", "--dry-run"); err != nil || !strings.Contains(out, "appraise") || !strings.Contains(out, "TAM.01") {
			t.Fatalf("dry run = %s, %v", out, err)
		}
		ds, err := f.svc.Disposals(f.as(f.archivist), f.archivist, cf.UnitID)
		if err != nil || len(ds) != 0 {
			t.Fatalf("a dry run appraised: %v, %v", ds, err)
		}
		if _, err = f.run(t, "retention", "run"); err != nil {
			t.Fatal(err)
		}
		ds, err = f.svc.Disposals(f.as(f.archivist), f.archivist, cf.UnitID)
		if err != nil || len(ds) != 1 || ds[0].Status != DisposalAppraised {
			t.Fatalf("after a run: %+v, %v", ds, err)
		}
		if c := f.stored(t, secret.ID); c.wrapped == nil {
			t.Fatal("a run destroyed without a decision")
		}
		if _, err := f.svc.DecideDisposal(f.as(f.leader), f.leader, ds[0].ID, "7/QĐ-LS", f.clock.now()); err != nil {
			t.Fatal(err)
		}
		if out, err = f.run(t, "retention", "run"); err != nil || !strings.Contains(out, "execute") {
			t.Fatalf("run after the decision = %s, %v", out, err)
		}
		if c := f.stored(t, secret.ID); c.wrapped != nil {
			t.Fatal("the decided destruction was not carried out")
		}
		out, err = f.run(t, "key-destruction", "report")
		if err != nil || !strings.Contains(out, "7/QĐ-LS") || !strings.Contains(out, itoa(secret.ID)) || !strings.Contains(out, "secret") {
			t.Fatalf("key-destruction report = %s, %v", out, err)
		}
		for _, args := range [][]string{
			{}, {"burn"}, {"register"}, {"register", "import"},
			{"register", "export", "--year", "2026", "--direction", "incoming"},
			{"register", "export", "--unit", "X", "--year", "2026", "--direction", "sideways"},
			{"register", "export", "--unit", "X", "--year", "2026", "--direction", "incoming", "--format", "xlsx"},
			{"retention", "run", "extra"}, {"key-destruction", "report", "--bogus"},
		} {
			if _, err := f.run(t, args...); !errors.Is(err, errs.ErrUsage) {
				t.Errorf("%q: %v, want a usage error", args, err)
			}
		}
		if _, err := f.run(t, "register", "export", "--unit", "999.99", "--year", "2026", "--direction", "incoming"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("an unknown unit: %v", err)
		}
	})
}
