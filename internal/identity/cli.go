package identity

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
)

// cliActor names the command line in the history.
const cliActor = "cli"

// cliOrigin returns ctx acting as the command line: the audit ledger
// records its changes as the system actor "cli", named after the
// operating-system user who ran it, since the command line signs nobody
// in and whoever can run it on the server acts with the database's full
// power.
func cliOrigin(ctx context.Context) context.Context {
	actor := audit.System(cliActor)
	if u, err := user.Current(); err == nil {
		actor.Name = u.Username
	}
	return audit.WithOrigin(ctx, audit.Origin{Actor: actor})
}

const unitUsage = `usage:
  chancery unit add --code CODE --name-vi NAME --name-en NAME --kind KIND --parent CODE --country CC --tz ZONE
  chancery unit list [--kind KIND]
  chancery unit show CODE
  chancery unit merge CODE --into CODE [--effective YYYY-MM-DD]
  chancery unit move CODE --parent CODE [--effective YYYY-MM-DD]`

const userUsage = `usage:
  chancery user add --username NAME --name "FULL NAME" [--email ADDRESS] --unit CODE [--roles clerk,officer] [--clearance none|confidential|secret|top_secret]
  chancery user list [--unit CODE]
  chancery user set-role USERNAME ROLES        (comma-separated; replaces the roles)
  chancery user set-clearance USERNAME LEVEL
  chancery user proposals [--all]
  chancery user reset-password USERNAME
  chancery user disable USERNAME
  chancery user enrolment-code USERNAME      (one-time code to enrol a second factor with; hand it over in person)
  chancery user link-oidc USERNAME --issuer URL --subject SUB
  chancery user unlink-oidc USERNAME

A clearance above none, and the security_officer and auditor roles, are only
proposed here: a security officer cleared at least as high approves them,
signed in, at /console/user-proposals (or the API). The command line signs
nobody in, so it cannot approve.`

// command is a subcommand's flags and the positional arguments it takes.
type command struct {
	fs    *flag.FlagSet
	usage string
	args  []string // positional arguments, in order
}

func newCommand(name, usage string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the error returned says it all
	return &command{fs: fs, usage: usage}
}

// parse parses args (see errs.ParseArgs) and checks that exactly n
// positional arguments came. -h is a usage error here, which prints the
// usage: the commands print their results, not help, on stdout.
func (c *command) parse(args []string, n int) (err error) {
	c.args, err = errs.ParseArgs(c.fs, c.usage, io.Discard, args, n)
	if errors.Is(err, flag.ErrHelp) {
		return errs.Usage(c.usage, "%s: %v", c.fs.Name(), err)
	}
	return err
}

// CommandEnv is what UnitCommand and UserCommand need from the program
// that runs them.
type CommandEnv struct {
	// Directory is the directory the commands work on, opened (with its
	// audit recorder) by the storage flags that precede the subcommand.
	Directory *Service
	// Credentials sets and resets sign-in credentials (UserCommand only).
	Credentials Credentials
	Stdout      io.Writer
	Stderr      io.Writer
}

// UnitCommand runs `chancery unit SUBCOMMAND ...` against the directory,
// writing its output to env.Stdout. Changes are recorded with the actor
// "cli", in the audit ledger as the system actor "cli" named after the
// operating-system user. A wrong command line returns an errs.UsageError
// that holds the usage.
func UnitCommand(ctx context.Context, env CommandEnv, args []string) error {
	svc, stdout := env.Directory, env.Stdout
	ctx = cliOrigin(ctx)
	return errs.Subcommand(unitUsage, stdout, args, map[string]func([]string) error{
		"add":   func(args []string) error { return unitAdd(ctx, svc, args, stdout) },
		"list":  func(args []string) error { return unitList(ctx, svc, args, stdout) },
		"show":  func(args []string) error { return unitShow(ctx, svc, args, stdout) },
		"merge": func(args []string) error { return unitRestructure(ctx, svc, "merge", "into", args, stdout) },
		"move":  func(args []string) error { return unitRestructure(ctx, svc, "move", "parent", args, stdout) },
	})
}

func unitAdd(ctx context.Context, svc *Service, args []string, stdout io.Writer) error {
	c := newCommand("add", unitUsage)
	var in NewUnit
	var kind, parent string
	c.fs.StringVar(&in.Code, "code", "", "electronic agency code")
	c.fs.StringVar(&in.NameVI, "name-vi", "", "name in Vietnamese")
	c.fs.StringVar(&in.NameEN, "name-en", "", "name in English")
	c.fs.StringVar(&kind, "kind", "", "unit kind")
	c.fs.StringVar(&parent, "parent", "", "code of the parent unit")
	c.fs.StringVar(&in.Country, "country", "", "ISO 3166-1 alpha-2 country")
	c.fs.StringVar(&in.TimeZone, "tz", "", "IANA time zone")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	in.Kind = UnitKind(kind)
	if parent != "" {
		p, err := svc.UnitByCode(ctx, parent)
		if err != nil {
			return fmt.Errorf("parent unit %s: %w", parent, err)
		}
		in.ParentID = p.ID
	}
	u, err := svc.CreateUnit(ctx, cliActor, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created unit %s (id %d): %s\n", u.Code, u.ID, u.NameVI)
	return nil
}

func unitList(ctx context.Context, svc *Service, args []string, stdout io.Writer) error {
	c := newCommand("list", unitUsage)
	kind := c.fs.String("kind", "", "only units of this kind")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	units, err := svc.AllUnits(ctx)
	if err != nil {
		return err
	}
	if *kind != "" {
		if err := cleanKind(UnitKind(*kind)); err != nil {
			return err
		}
	}
	codes := map[int64]string{}
	for _, u := range units {
		codes[u.ID] = u.Code
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tKIND\tPARENT\tCOUNTRY\tTIME ZONE\tSTATUS\tNAME")
	for _, u := range units {
		if *kind != "" && string(u.Kind) != *kind {
			continue
		}
		parent := codes[u.ParentID]
		if parent == "" {
			parent = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Code, u.Kind, parent, u.Country, u.TimeZone, u.Status, u.NameVI)
	}
	return tw.Flush()
}

func unitShow(ctx context.Context, svc *Service, args []string, stdout io.Writer) error {
	c := newCommand("show", unitUsage)
	if err := c.parse(args, 1); err != nil {
		return err
	}
	u, err := svc.UnitByCode(ctx, c.args[0])
	if err != nil {
		return err
	}
	events, err := svc.UnitHistory(ctx, u.ID)
	if err != nil {
		return err
	}
	codeOf := func(id int64) string {
		if id == 0 {
			return "-"
		}
		other, err := svc.Unit(ctx, id)
		if err != nil {
			return fmt.Sprint(id)
		}
		return other.Code
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Code:\t%s\n", u.Code)
	fmt.Fprintf(tw, "Name (vi):\t%s\n", u.NameVI)
	fmt.Fprintf(tw, "Name (en):\t%s\n", u.NameEN)
	fmt.Fprintf(tw, "Kind:\t%s\n", u.Kind)
	fmt.Fprintf(tw, "Parent:\t%s\n", codeOf(u.ParentID))
	fmt.Fprintf(tw, "Country:\t%s\n", u.Country)
	fmt.Fprintf(tw, "Time zone:\t%s\n", u.TimeZone)
	fmt.Fprintf(tw, "Status:\t%s\n", u.Status)
	if u.MergedInto != 0 {
		fmt.Fprintf(tw, "Merged into:\t%s\n", codeOf(u.MergedInto))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nHistory:")
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EFFECTIVE\tEVENT\tOTHER UNIT\tBY\tDETAIL")
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", dateOf(e.EffectiveAt), e.Kind, codeOf(e.OtherUnitID), e.Actor, e.Detail)
	}
	return tw.Flush()
}

// unitRestructure runs "merge CODE --into CODE" and "move CODE --parent
// CODE", which differ only in the service call and the flag's name.
func unitRestructure(ctx context.Context, svc *Service, name, other string, args []string, stdout io.Writer) error {
	c := newCommand(name, unitUsage)
	otherCode := c.fs.String(other, "", "code of the other unit")
	date := c.fs.String("effective", "", "effective date, YYYY-MM-DD (default today)")
	if err := c.parse(args, 1); err != nil {
		return err
	}
	if *otherCode == "" {
		return errs.Usage(unitUsage, "%s needs --%s CODE", name, other)
	}
	effective, err := parseDate("effective", *date)
	if err != nil {
		return err
	}
	u, err := svc.UnitByCode(ctx, c.args[0])
	if err != nil {
		return fmt.Errorf("unit %s: %w", c.args[0], err)
	}
	o, err := svc.UnitByCode(ctx, *otherCode)
	if err != nil {
		return fmt.Errorf("unit %s: %w", *otherCode, err)
	}
	if name == "merge" {
		if _, err := svc.MergeUnits(ctx, cliActor, u.ID, o.ID, effective); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "merged %s into %s\n", u.Code, o.Code)
		return nil
	}
	if _, err := svc.MoveUnit(ctx, cliActor, u.ID, o.ID, effective); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "moved %s under %s\n", u.Code, o.Code)
	return nil
}

// UserCommand runs `chancery user SUBCOMMAND ...` against the directory
// and env.Credentials, writing its output (including one-time passwords)
// to env.Stdout. Changes are recorded with the actor "cli", in the audit
// ledger as the system actor "cli" named after the operating-system user.
// A wrong command line returns an errs.UsageError that holds the usage.
func UserCommand(ctx context.Context, env CommandEnv, args []string) error {
	svc, creds, stdout := env.Directory, env.Credentials, env.Stdout
	ctx = cliOrigin(ctx)
	change := func(sub string) func([]string) error {
		return func(args []string) error { return userChange(ctx, svc, creds, sub, args, stdout) }
	}
	credential := func(sub string) func([]string) error {
		return func(args []string) error { return userCredential(ctx, svc, creds, sub, args, stdout) }
	}
	return errs.Subcommand(userUsage, stdout, args, map[string]func([]string) error{
		"add":            func(args []string) error { return userAdd(ctx, svc, creds, args, stdout) },
		"list":           func(args []string) error { return userList(ctx, svc, args, stdout) },
		"set-role":       change("set-role"),
		"set-clearance":  change("set-clearance"),
		"disable":        change("disable"),
		"proposals":      func(args []string) error { return userProposals(ctx, svc, args, stdout) },
		"reset-password": func(args []string) error { return userResetPassword(ctx, svc, creds, args, stdout) },
		"enrolment-code": credential("enrolment-code"),
		"link-oidc":      credential("link-oidc"),
		"unlink-oidc":    credential("unlink-oidc"),
	})
}

// userResetPassword runs reset-password: a new one-time password for a
// staff member, printed once.
func userResetPassword(ctx context.Context, svc *Service, creds Credentials, args []string, stdout io.Writer) error {
	c := newCommand("reset-password", userUsage)
	if err := c.parse(args, 1); err != nil {
		return err
	}
	m, err := svc.StaffByUsername(ctx, c.args[0])
	if err != nil {
		return fmt.Errorf("staff member %s: %w", c.args[0], err)
	}
	_, otp, err := resetPassword(ctx, svc, creds, authz.Subject{Kind: authz.System}, m.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "one-time password for %s: %s\n", m.Username, otp)
	return nil
}

// userCredential runs enrolment-code, link-oidc and unlink-oidc: what an
// administrator does to let a staff member sign in, recorded in the audit
// ledger by the service that does it.
func userCredential(ctx context.Context, svc *Service, creds Credentials, sub string, args []string, stdout io.Writer) error {
	c := newCommand(sub, userUsage)
	issuer := c.fs.String("issuer", "", "the identity provider's issuer URL")
	subject := c.fs.String("subject", "", "the account's subject (sub) at the identity provider")
	if err := c.parse(args, 1); err != nil {
		return err
	}
	m, err := svc.StaffByUsername(ctx, c.args[0])
	if err != nil {
		return fmt.Errorf("staff member %s: %w", c.args[0], err)
	}
	switch sub {
	case "enrolment-code":
		_, code, expires, err := issueEnrolmentCode(ctx, svc, creds, m.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "enrolment code for %s: %s (works once, until %s)\n", m.Username, code, expires.UTC().Format(time.RFC3339))
	case "link-oidc":
		if *issuer == "" || *subject == "" {
			return errs.Usage(userUsage, "link-oidc needs --issuer URL and --subject SUB")
		}
		if err := svc.LinkOIDCSubject(ctx, m.ID, *issuer, *subject); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s signs in through %s as %q\n", m.Username, *issuer, *subject)
	case "unlink-oidc":
		if err := unlinkOIDC(ctx, svc, creds, m.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is linked to no identity-provider account; their sessions ended\n", m.Username)
	}
	return nil
}

func userAdd(ctx context.Context, svc *Service, creds Credentials, args []string, stdout io.Writer) error {
	c := newCommand("add", userUsage)
	var in NewStaff
	var unit, roles, clearance string
	c.fs.StringVar(&in.Username, "username", "", "username")
	c.fs.StringVar(&in.FullName, "name", "", "full name")
	c.fs.StringVar(&in.Email, "email", "", "e-mail address")
	c.fs.StringVar(&unit, "unit", "", "code of the unit")
	c.fs.StringVar(&roles, "roles", "", "comma-separated roles")
	c.fs.StringVar(&clearance, "clearance", "none", "clearance level")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	if unit == "" {
		return errs.Usage(userUsage, "add needs --unit CODE")
	}
	u, err := svc.UnitByCode(ctx, unit)
	if err != nil {
		return fmt.Errorf("unit %s: %w", unit, err)
	}
	in.UnitID = u.ID
	if in.Roles, err = parseRoles(strings.Split(roles, ",")); err != nil {
		return err
	}
	if in.Clearance, err = parseLevel(clearance); err != nil {
		return err
	}
	m, proposal, otp, err := createAccount(ctx, svc, creds, cliActor, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s (id %d) in %s\none-time password: %s\n", m.Username, m.ID, u.Code, otp)
	printProposal(stdout, proposal)
	return nil
}

func userList(ctx context.Context, svc *Service, args []string, stdout io.Writer) error {
	c := newCommand("list", userUsage)
	unit := c.fs.String("unit", "", "only staff of the unit with this code")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	f := StaffFilter{IncludeDisabled: true, Limit: MaxLimit}
	if *unit != "" {
		u, err := svc.UnitByCode(ctx, *unit)
		if err != nil {
			return fmt.Errorf("unit %s: %w", *unit, err)
		}
		f.UnitID = u.ID
	}
	units, err := svc.AllUnits(ctx)
	if err != nil {
		return err
	}
	codes := map[int64]string{}
	for _, u := range units {
		codes[u.ID] = u.Code
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tUNIT\tROLES\tCLEARANCE\tSTATUS\tNAME")
	for {
		staff, next, err := svc.ListStaff(ctx, f)
		if err != nil {
			return err
		}
		for _, m := range staff {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Username, codes[m.UnitID], orDash(m.Roles.String()), m.Clearance, accountStatus(m), m.FullName)
		}
		if next == 0 {
			break
		}
		f.After = next
	}
	return tw.Flush()
}

// userChange runs set-role, set-clearance and disable: each loads the
// member by username and applies one change at their current version.
func userChange(ctx context.Context, svc *Service, creds Credentials, sub string, args []string, stdout io.Writer) error {
	n := 2
	if sub == "disable" {
		n = 1
	}
	c := newCommand(sub, userUsage)
	if err := c.parse(args, n); err != nil {
		return err
	}
	m, err := svc.StaffByUsername(ctx, c.args[0])
	if err != nil {
		return fmt.Errorf("staff member %s: %w", c.args[0], err)
	}
	p := StaffPatch{Version: m.Version}
	switch sub {
	case "set-role":
		roles, err := parseRoles(strings.Split(c.args[1], ","))
		if err != nil {
			return err
		}
		p.Roles = &roles
	case "set-clearance":
		l, err := authz.ParseLevel(c.args[1])
		if err != nil {
			return fmt.Errorf("%w: %v", errs.ErrInvalid, err)
		}
		p.Clearance = &l
	case "disable":
		disabled := true
		p.Disabled = &disabled
	}
	m, proposal, err := updateAccount(ctx, svc, creds, cliActor, m.ID, p)
	if err != nil {
		if errors.Is(err, errs.ErrConflict) && !errors.Is(err, errLastHolder) {
			return fmt.Errorf("%w (run the command again)", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "%s: roles %s, clearance %s, %s\n", m.Username, orDash(m.Roles.String()), m.Clearance, accountStatus(m))
	printProposal(stdout, proposal)
	return nil
}

// printProposal says what waits for a security officer, and where they
// decide.
func printProposal(stdout io.Writer, p *Proposal) {
	if p == nil {
		return
	}
	fmt.Fprintf(stdout, "proposed (proposal %d): roles %s, clearance %s for %s\n"+
		"  it takes effect when a security officer cleared at least %s approves it at /console/user-proposals\n",
		p.ID, orDash(p.Roles.String()), p.Clearance, p.Username, p.Clearance)
}

// userProposals lists the pending proposals, or with --all every one.
func userProposals(ctx context.Context, svc *Service, args []string, stdout io.Writer) error {
	c := newCommand("proposals", userUsage)
	all := c.fs.Bool("all", false, "every proposal, decided ones too")
	if err := c.parse(args, 0); err != nil {
		return err
	}
	f := ProposalFilter{Status: ProposalPending, Limit: MaxLimit}
	if *all {
		f.Status = ""
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tROLES\tCLEARANCE\tPROPOSED BY\tPROPOSED\tSTATUS")
	for {
		ps, next, err := svc.ListProposals(ctx, f)
		if err != nil {
			return err
		}
		for _, p := range ps {
			status := p.Status
			if p.Stale {
				status += " (account changed since: reject it)"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Username, orDash(p.Roles.String()), p.Clearance,
				p.Proposer, p.ProposedAt.Format(time.RFC3339), status)
		}
		if next == 0 {
			break
		}
		f.After = next
	}
	return tw.Flush()
}

// accountStatus says whether the account may sign in.
func accountStatus(m StaffMember) string {
	if m.Disabled {
		return "disabled"
	}
	return "active"
}

// orDash shows an empty table cell as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
