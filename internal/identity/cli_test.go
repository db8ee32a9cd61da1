package identity_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// cli runs the unit and user commands against one SQLite directory.
type cli struct {
	t     *testing.T
	svc   *identity.Service
	creds *fakeCreds
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, svc: newClock().service(t, storetest.MustOpen(t, store.SQLite)), creds: &fakeCreds{}}
}

// run runs "unit ..." or "user ..." and returns its output and error.
func (c *cli) run(line ...string) (string, error) {
	var out bytes.Buffer
	// The commands say who acts themselves: the caller's context need not.
	ctx := context.Background()
	env := identity.CommandEnv{Directory: c.svc, Credentials: c.creds, Stdout: &out, Stderr: &out}
	var err error
	switch line[0] {
	case "unit":
		err = identity.UnitCommand(ctx, env, line[1:])
	case "user":
		err = identity.UserCommand(ctx, env, line[1:])
	}
	return out.String(), err
}

// must runs a command that must succeed.
func (c *cli) must(line ...string) string {
	c.t.Helper()
	out, err := c.run(line...)
	if err != nil {
		c.t.Fatalf("%s: %v", strings.Join(line, " "), err)
	}
	return out
}

func TestUnitCommand(t *testing.T) {
	c := newCLI(t)
	c.must("unit", "add", "--code", "000.00.00.G12", "--name-vi", "Bộ Ngoại giao", "--name-en", "Ministry of Foreign Affairs",
		"--kind", "ministry", "--country", "VN", "--tz", "Asia/Ho_Chi_Minh")
	c.must("unit", "add", "--code", "000.00.03.G12", "--name-vi", "Cục Lãnh sự", "--name-en", "Consular Department",
		"--kind", "department", "--parent", "000.00.00.G12", "--country", "VN", "--tz", "Asia/Ho_Chi_Minh")
	c.must("unit", "add", "--code", "000.00.05.G12", "--name-vi", "Vụ Thông tin Báo chí", "--name-en", "Press",
		"--kind", "department", "--parent", "000.00.00.G12", "--country", "VN", "--tz", "Asia/Ho_Chi_Minh")
	out := c.must("unit", "add", "--code", "000.01.02.G12", "--name-vi", "Đại sứ quán tại Pháp", "--name-en", "Embassy in Paris",
		"--kind", "embassy", "--parent", "000.00.00.G12", "--country", "FR", "--tz", "Europe/Paris")
	if !strings.Contains(out, "created unit 000.01.02.G12") {
		t.Fatalf("add printed %q", out)
	}

	out = c.must("unit", "list")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "CODE") {
		t.Fatalf("list printed:\n%s", out)
	}
	// tabwriter aligns the columns: KIND starts at the same offset on
	// every line.
	col := strings.Index(lines[0], "KIND")
	for _, l := range lines[1:] {
		if len(l) < col || l[col-1] != ' ' || l[col] == ' ' {
			t.Fatalf("column KIND is not aligned in %q", l)
		}
	}
	if !regexp.MustCompile(`000\.01\.02\.G12\s+embassy\s+000\.00\.00\.G12\s+FR\s+Europe/Paris\s+active\s+Đại sứ quán tại Pháp`).MatchString(out) {
		t.Fatalf("list lacks the embassy's row:\n%s", out)
	}
	out = c.must("unit", "list", "--kind", "embassy")
	if strings.Count(out, "\n") != 2 {
		t.Fatalf("list --kind embassy printed:\n%s", out)
	}

	c.must("unit", "move", "000.01.02.G12", "--parent", "000.00.03.G12", "--effective", "2025-03-10")
	out = c.must("unit", "merge", "000.00.03.G12", "--into", "000.00.05.G12")
	if out != "merged 000.00.03.G12 into 000.00.05.G12\n" {
		t.Fatalf("merge printed %q", out)
	}
	paris, _ := c.svc.UnitByCode(testCtx, "000.01.02.G12")
	press, _ := c.svc.UnitByCode(testCtx, "000.00.05.G12")
	if paris.ParentID != press.ID {
		t.Fatalf("the merged department's child is under %d, want the press department", paris.ParentID)
	}
	out = c.must("unit", "show", "000.00.03.G12")
	for _, want := range []string{"Status:", "merged", "Merged into:", "000.00.05.G12", "created", "merged_into", "cli"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}

	bad := []struct {
		name string
		line []string
		kind error
	}{
		{"no subcommand", []string{"unit"}, errs.ErrInvalid},
		{"unknown subcommand", []string{"unit", "explode"}, errs.ErrInvalid},
		{"unknown flag", []string{"unit", "list", "--colour"}, errs.ErrInvalid},
		{"show without code", []string{"unit", "show"}, errs.ErrInvalid},
		{"merge without --into", []string{"unit", "merge", "000.00.05.G12"}, errs.ErrInvalid},
		{"bad date", []string{"unit", "move", "000.01.02.G12", "--parent", "000.00.00.G12", "--effective", "tomorrow"}, errs.ErrInvalid},
		{"future date", []string{"unit", "move", "000.01.02.G12", "--parent", "000.00.00.G12", "--effective", "2999-01-01"}, errs.ErrInvalid},
		{"unknown unit", []string{"unit", "show", "999.99.99.G99"}, errs.ErrNotFound},
		{"bad kind", []string{"unit", "list", "--kind", "planet"}, errs.ErrInvalid},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.run(tt.line...)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("error %v, want %v", err, tt.kind)
			}
		})
	}
	if _, err := c.run("unit", "explode"); !strings.Contains(err.Error(), "usage:") {
		t.Errorf("an unknown subcommand's error does not give the usage: %v", err)
	}
	// help answers like every other command's: the usage, on stdout.
	for _, cmd := range []string{"unit", "user"} {
		if out, err := c.run(cmd, "help"); err != nil || !strings.Contains(out, "chancery "+cmd+" add") {
			t.Errorf("%s help = %q, %v; want the usage", cmd, out, err)
		}
	}
}

func TestUserCommand(t *testing.T) {
	c := newCLI(t)
	ctx := testCtx
	root, err := c.svc.CreateUnit(ctx, "t", identity.NewUnit{Code: "000.00.00.G12", NameVI: "Bộ Ngoại giao", NameEN: "MOFA",
		Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
	if err != nil {
		t.Fatal(err)
	}
	mustUnit(t, c.svc, identity.NewUnit{Code: "000.00.03.G12", NameVI: "Cục Lãnh sự", NameEN: "Consular",
		Kind: identity.KindDepartment, ParentID: root.ID, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})

	// The command line proposes a clearance; it takes effect when a
	// security officer approves it, signed in.
	out := c.must("user", "add", "--username", "nguyen.an", "--name", "Nguyễn An", "--email", "an@mofa.gov.vn",
		"--unit", "000.00.03.G12", "--roles", "clerk,officer", "--clearance", "secret")
	if !regexp.MustCompile(`one-time password: otp-\d+-1\nproposed \(proposal \d+\): roles clerk,officer, clearance secret for nguyen\.an\n.*/console/user-proposals`).MatchString(out) {
		t.Fatalf("add printed %q", out)
	}
	c.must("user", "add", "--username", "tran.binh", "--name", "Trần Bình", "--unit", "000.00.00.G12")
	out = c.must("user", "list", "--unit", "000.00.03.G12")
	if !regexp.MustCompile(`nguyen\.an\s+000\.00\.03\.G12\s+clerk,officer\s+none\s+active\s+Nguyễn An`).MatchString(out) || strings.Contains(out, "tran.binh") {
		t.Fatalf("list --unit printed:\n%s", out)
	}
	out = c.must("user", "proposals")
	if !regexp.MustCompile(`\d+\s+nguyen\.an\s+clerk,officer\s+secret\s+cli \(\S+\)\s+\S+\s+pending`).MatchString(out) {
		t.Fatalf("proposals printed:\n%s", out)
	}
	m, _ := c.svc.StaffByUsername(ctx, "nguyen.an")
	officer := seedStaff(t, c.svc, "bao.pham", root.ID, authz.TopSecret, authz.SecurityOfficer)
	pending, _, _ := c.svc.ListProposals(ctx, identity.ProposalFilter{Status: identity.ProposalPending})
	if _, _, err := c.svc.ApproveProposal(as(officer), pending[0].ID); err != nil {
		t.Fatal(err)
	}

	c.must("user", "set-role", "nguyen.an", "officer,approver")
	if c.creds.revocations(m.ID) != 1 {
		t.Fatal("removing the clerk role did not end the sessions")
	}
	out = c.must("user", "set-clearance", "nguyen.an", "confidential")
	if out != "nguyen.an: roles officer,approver, clearance confidential, active\n" || c.creds.revocations(m.ID) != 2 {
		t.Fatalf("set-clearance printed %q, %d revocations", out, c.creds.revocations(m.ID))
	}
	out = c.must("user", "set-clearance", "nguyen.an", "top_secret")
	if !strings.Contains(out, "clearance confidential, active\nproposed (proposal") || c.creds.revocations(m.ID) != 2 {
		t.Fatalf("raising the clearance printed %q, %d revocations; want a proposal and no revocation", out, c.creds.revocations(m.ID))
	}
	out = c.must("user", "set-role", "nguyen.an", "officer,approver,security_officer")
	if !strings.Contains(out, "roles officer,approver, clearance confidential") || !strings.Contains(out, "roles officer,approver,security_officer, clearance confidential") {
		t.Fatalf("granting the security officer role printed %q; want it proposed", out)
	}
	out = c.must("user", "proposals", "--all")
	if strings.Count(out, "superseded") != 1 || strings.Count(out, "pending") != 1 || strings.Count(out, "approved") != 1 {
		t.Fatalf("proposals --all printed:\n%s", out)
	}
	out = c.must("user", "reset-password", "nguyen.an")
	if !regexp.MustCompile(`^one-time password for nguyen\.an: otp-\d+-3\n$`).MatchString(out) {
		t.Fatalf("reset-password printed %q", out)
	}
	c.must("user", "disable", "nguyen.an")
	got, _ := c.svc.Staff(ctx, m.ID)
	if !got.Disabled || got.Clearance != authz.Confidential || got.Roles != authz.RolesOf(authz.Officer, authz.Approver) {
		t.Fatalf("after the commands %+v", got)
	}
	if _, err := c.run("user", "disable", "bao.pham"); !errors.Is(err, errs.ErrConflict) || !strings.Contains(err.Error(), "last active security_officer") {
		t.Fatalf("disabling the last security officer: %v", err)
	}

	bad := []struct {
		name string
		line []string
		kind error
	}{
		{"unknown subcommand", []string{"user", "promote", "nguyen.an"}, errs.ErrInvalid},
		{"bad flag", []string{"user", "add", "--admin"}, errs.ErrInvalid},
		{"add without unit", []string{"user", "add", "--username", "x.y.z", "--name", "X"}, errs.ErrInvalid},
		{"unknown role", []string{"user", "set-role", "nguyen.an", "king"}, errs.ErrInvalid},
		{"unknown level", []string{"user", "set-clearance", "nguyen.an", "cosmic"}, errs.ErrInvalid},
		{"missing argument", []string{"user", "set-role", "nguyen.an"}, errs.ErrInvalid},
		{"unknown user", []string{"user", "disable", "nobody"}, errs.ErrNotFound},
		{"duplicate", []string{"user", "add", "--username", "tran.binh", "--name", "T", "--unit", "000.00.00.G12"}, errs.ErrConflict},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.run(tt.line...)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("error %v, want %v", err, tt.kind)
			}
		})
	}
	if _, err := c.run("user", "add", "--admin"); !strings.Contains(err.Error(), "usage:") {
		t.Errorf("a bad flag's error does not give the usage: %v", err)
	}
}

func TestUserCommandVouchesForSignIn(t *testing.T) {
	c := newCLI(t)
	ctx := testCtx
	m := mustStaff(t, c.svc, "nguyen.an", newTree(t, c.svc).root.ID, authz.Administrator)
	if out := c.must("user", "enrolment-code", "nguyen.an"); !regexp.MustCompile(`^enrolment code for nguyen\.an: enrol-\d+-1 \(works once, until 2026-03-05T08:00:00Z\)\n$`).MatchString(out) {
		t.Fatalf("enrolment-code printed %q", out)
	}
	c.must("user", "link-oidc", "nguyen.an", "--issuer", "https://idp.mofa.gov.vn", "--subject", "8f2c")
	if got, err := c.svc.StaffByOIDCSubject(ctx, "https://idp.mofa.gov.vn", "8f2c"); err != nil || got.ID != m.ID {
		t.Fatalf("after link-oidc: %+v, %v", got, err)
	}
	c.must("user", "unlink-oidc", "nguyen.an")
	if _, err := c.svc.StaffByOIDCSubject(ctx, "https://idp.mofa.gov.vn", "8f2c"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("after unlink-oidc: %v", err)
	}
	for _, line := range [][]string{
		{"user", "link-oidc", "nguyen.an", "--subject", "8f2c"},
		{"user", "enrolment-code"},
		{"user", "enrolment-code", "nobody.here"},
		{"user", "link-oidc", "nguyen.an", "--issuer", "https://idp", "--subject", "a\nb"},
	} {
		if _, err := c.run(line...); err == nil {
			t.Errorf("%q succeeded", line)
		}
	}
}
