// Package compliance checks, live, what a ministry's security operations
// team must be able to show at any time: cleared staff sign in with a
// second factor, the signing key and the ledger's checkpoints are fresh,
// the ledger was verified (and by whom witnessed), clearances were granted
// by two people, privileged accounts are in use, backups are taken. Each
// finding links to its evidence: the staff page, the audit event. It
// reads; it changes nothing but the record of a verification it runs.
package compliance

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// Status is a check's outcome.
type Status string

// The outcomes: passing, a finding to act on, or nothing on record to
// judge by.
const (
	Pass     Status = "pass"
	Fail     Status = "fail"
	NoRecord Status = "no_record"
)

// Check is one live check and its findings.
type Check struct {
	// ID names the check: mfa, signing_key, checkpoint, verification,
	// two_person, dormant, backups.
	ID     string    `json:"id"`
	Status Status    `json:"status"`
	Detail string    `json:"detail"` // in English, for the API; the page words it from the numbers
	Value  int64     `json:"value,omitempty"`
	At     time.Time `json:"at,omitzero"` // when the thing checked last happened
	// Findings are the items that fail the check, each with its evidence.
	Findings []Finding `json:"findings"`
}

// Finding is one item failing a check, and where its evidence is.
type Finding struct {
	Subject  string `json:"subject"`  // whom or what it is about (a username)
	Detail   string `json:"detail"`   // what is wrong
	Evidence string `json:"evidence"` // the console page proving it: a staff page, an audit event
}

// Report is every check, as of At.
type Report struct {
	At     time.Time `json:"at"`
	Checks []Check   `json:"checks"`
}

// Options configure a Service. DB, Ledger and Keys are required.
type Options struct {
	DB     *store.DB
	Ledger *audit.Ledger
	Keys   *keys.Ring
	// Now is the clock; nil: store.Now.
	Now func() time.Time
	// DormantAfter is how long a privileged account may go without
	// signing in before it is a finding. Default 90 days.
	DormantAfter time.Duration
	// KeyMaxAge is the oldest a current signing key may be. Default 1 year.
	KeyMaxAge time.Duration
	// CheckpointMaxAge is the oldest the latest checkpoint may be.
	// Default 24 hours.
	CheckpointMaxAge time.Duration
	// VerificationMaxAge is the oldest the last successful verification
	// of the ledger may be. Default 7 days.
	VerificationMaxAge time.Duration
}

// Service runs the checks. It is safe for concurrent use.
type Service struct {
	opts Options
	rec  audit.Writer
}

// NewService returns the service, or an error naming a missing option.
func NewService(opts Options) (*Service, error) {
	if opts.DB == nil || opts.Ledger == nil || opts.Keys == nil {
		return nil, errors.New("compliance: NewService needs DB, Ledger and Keys")
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.DormantAfter, 90*24*time.Hour)
	def(&opts.KeyMaxAge, 365*24*time.Hour)
	def(&opts.CheckpointMaxAge, 24*time.Hour)
	def(&opts.VerificationMaxAge, 7*24*time.Hour)
	return &Service{opts: opts, rec: audit.NewWriter("compliance", opts.Ledger)}, nil
}

var dashboard = authz.Resource{Kind: authz.KindCompliance}

func decide(sub authz.Subject, a authz.Action) error {
	if d, reason := authz.Decide(sub, a, dashboard); d != authz.Allowed {
		return authz.Refuse(d, reason, a, dashboard, "")
	}
	return nil
}

// Report runs every check for sub, who must be allowed to read the
// dashboard (security officers, auditors).
func (s *Service) Report(ctx context.Context, sub authz.Subject) (Report, error) {
	if err := decide(sub, authz.Read); err != nil {
		return Report{}, err
	}
	now := s.opts.Now()
	r := Report{At: now}
	for _, run := range []func(context.Context, time.Time) (Check, error){
		s.mfa, s.signingKey, s.checkpoint, s.verification, s.twoPerson, s.dormant, s.backups,
	} {
		c, err := run(ctx, now)
		if err != nil {
			return Report{}, fmt.Errorf("compliance: %w", err)
		}
		if c.Findings == nil {
			c.Findings = []Finding{}
		}
		r.Checks = append(r.Checks, c)
	}
	return r, nil
}

func staffPage(id int64) string { return "/console/users/" + strconv.FormatInt(id, 10) }

func eventPage(seq uint64) string { return "/console/audit/events/" + strconv.FormatUint(seq, 10) }

// maxFindings bounds the findings a check lists; Value still counts all.
const maxFindings = 200

// mfa finds active staff who must sign in with a second factor (cleared
// above none, or holding an overseeing role: authz.Subject's rule) and
// have none enrolled.
func (s *Service) mfa(ctx context.Context, now time.Time) (Check, error) {
	c := Check{ID: "mfa"}
	rows, err := s.opts.DB.QueryContext(ctx, s.opts.DB.Rebind(`SELECT s.id, s.username, s.roles, s.clearance, CASE WHEN c.totp_enabled THEN 1 ELSE 0 END
		FROM staff s LEFT JOIN credentials c ON c.principal_kind = 'staff' AND c.principal_id = s.id
		WHERE s.disabled = ? ORDER BY s.id`), false)
	if err != nil {
		return c, fmt.Errorf("read staff's second factors: %w", err)
	}
	defer rows.Close()
	need, have := 0, 0
	for rows.Next() {
		var id int64
		var username, roles string
		var clearance, totp int
		if err := rows.Scan(&id, &username, &roles, &clearance, &totp); err != nil {
			return c, err
		}
		rs, _ := authz.ParseRoles(strings.Split(roles, ","))
		sub := authz.Subject{Kind: authz.Staff, ID: id, Roles: rs, Clearance: authz.Level(clearance)}
		if !sub.NeedsSecondFactor() {
			continue
		}
		need++
		if totp != 0 {
			have++
			continue
		}
		c.Value++
		if len(c.Findings) < maxFindings {
			c.Findings = append(c.Findings, Finding{Subject: username, Detail: "must sign in with a second factor and has none enrolled", Evidence: staffPage(id)})
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	c.Status, c.Detail = Pass, fmt.Sprintf("%d of %d staff who must use a second factor have one", have, need)
	if c.Value > 0 {
		c.Status = Fail
	}
	return c, nil
}

// signingKey checks the age of the node's current signing key, which
// signs the ledger's checkpoints.
func (s *Service) signingKey(_ context.Context, now time.Time) (Check, error) {
	c := Check{ID: "signing_key"}
	ks := s.opts.Keys.SigningKeys()
	if len(ks) == 0 {
		c.Status, c.Detail = NoRecord, "the keyring holds no signing key"
		return c, nil
	}
	cur := ks[len(ks)-1]
	c.At, c.Value = cur.Created, int64(now.Sub(cur.Created)/(24*time.Hour))
	c.Status, c.Detail = Pass, fmt.Sprintf("the current signing key %s is %d days old", cur.ID, c.Value)
	if now.Sub(cur.Created) > s.opts.KeyMaxAge {
		c.Status = Fail
		c.Findings = append(c.Findings, Finding{Subject: cur.ID, Detail: fmt.Sprintf("older than %d days: rotate it (chancery keys rotate-signer)", int(s.opts.KeyMaxAge.Hours()/24)),
			Evidence: "/console/audit/checkpoints"})
	}
	return c, nil
}

// checkpoint checks the age of the ledger's latest signed checkpoint and
// counts its cosignatures (witnesses).
func (s *Service) checkpoint(ctx context.Context, now time.Time) (Check, error) {
	c := Check{ID: "checkpoint"}
	cp, err := s.opts.Ledger.LatestCheckpoint(ctx)
	if err != nil || cp.Time.IsZero() {
		c.Status, c.Detail = NoRecord, "the ledger has no signed checkpoint yet"
		return c, nil
	}
	c.At, c.Value = cp.Time, int64(cosignatures(cp.Note))
	c.Status, c.Detail = Pass, fmt.Sprintf("checkpoint of %d events, signed %s, with %d witness cosignatures", cp.Size, cp.Time.Format(time.RFC3339), c.Value)
	if now.Sub(cp.Time) > s.opts.CheckpointMaxAge {
		c.Status = Fail
		c.Findings = append(c.Findings, Finding{Subject: fmt.Sprintf("checkpoint %d", cp.Size),
			Detail: fmt.Sprintf("older than %d hours: is the ledger's checkpointing running?", int(s.opts.CheckpointMaxAge.Hours())), Evidence: "/console/audit/checkpoints"})
	}
	return c, nil
}

// cosignatures counts a signed note's signature lines after the log's
// own: its witnesses' cosignatures.
func cosignatures(note []byte) int {
	n := 0
	for _, line := range strings.Split(string(note), "\n") {
		if strings.HasPrefix(line, "— ") {
			n++
		}
	}
	return max(n-1, 0)
}

// ActionVerify is the ledger's record of a verification the dashboard ran.
const ActionVerify = "compliance.verify_ledger"

// verification finds the last verification of the whole ledger recorded
// (run from the dashboard) and whether it succeeded.
func (s *Service) verification(ctx context.Context, now time.Time) (Check, error) {
	c := Check{ID: "verification"}
	evs, err := s.opts.Ledger.Search(ctx, audit.Query{Action: ActionVerify, Limit: 20})
	if err != nil {
		return c, fmt.Errorf("read verifications: %w", err)
	}
	if len(evs) == 0 {
		c.Status, c.Detail = NoRecord, "no verification of the ledger is on record; run one"
		return c, nil
	}
	if latest := evs[0]; latest.Outcome != audit.OK {
		c.Status, c.At, c.Detail = Fail, latest.Time, "the latest verification of the ledger failed"
		c.Findings = append(c.Findings, Finding{Subject: "ledger", Detail: "verification failed: " + latest.Reason, Evidence: eventPage(latest.Seq)})
		return c, nil
	}
	e := evs[0]
	c.At = e.Time
	c.Status, c.Detail = Pass, fmt.Sprintf("the whole ledger (%s events) verified on %s", e.Attrs["size"], e.Time.Format(time.RFC3339))
	if now.Sub(e.Time) > s.opts.VerificationMaxAge {
		c.Status = Fail
		c.Findings = append(c.Findings, Finding{Subject: "ledger", Detail: fmt.Sprintf("last verified more than %d days ago", int(s.opts.VerificationMaxAge.Hours()/24)), Evidence: eventPage(e.Seq)})
	}
	return c, nil
}

// Verify verifies the whole ledger as sub (a security officer) and
// records the outcome, which the verification check then reads.
func (s *Service) Verify(ctx context.Context, sub authz.Subject) (audit.VerifyReport, error) {
	if err := decide(sub, authz.Update); err != nil {
		return audit.VerifyReport{}, err
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return audit.VerifyReport{}, err
	}
	rep, verr := s.opts.Ledger.Verify(ctx, nil)
	e := o.Event(ActionVerify)
	e.ResourceType, e.ResourceID = "ledger", s.opts.Ledger.Origin()
	e.Attrs = map[string]string{"size": strconv.FormatUint(rep.Size, 10), "checkpoints": strconv.Itoa(rep.Checkpoints)}
	if verr != nil {
		e.Outcome, e.Reason = audit.Failed, audit.AttrValue(verr.Error())
	}
	if err := s.opts.DB.InTx(ctx, func(tx *store.Tx) error { return s.rec.Record(ctx, tx, e) }); err != nil {
		return rep, err
	}
	if _, err := s.opts.Ledger.Integrate(ctx); err != nil {
		return rep, err
	}
	return rep, verr
}

// twoPerson finds staff holding a clearance above none whom no approved
// proposal (an administrator's proposal, a security officer's approval)
// gave it: a clearance granted without two people, such as one set at
// installation or at the command line before the rule.
func (s *Service) twoPerson(ctx context.Context, now time.Time) (Check, error) {
	c := Check{ID: "two_person"}
	rows, err := s.opts.DB.QueryContext(ctx, s.opts.DB.Rebind(`SELECT s.id, s.username, s.clearance FROM staff s
		WHERE s.disabled = ? AND s.clearance > 0 AND NOT EXISTS (SELECT 1 FROM staff_proposals p
			WHERE p.staff_id = s.id AND p.status = 'approved' AND p.clearance >= s.clearance AND p.decided_by IS NOT NULL
			AND (p.proposed_by IS NULL OR p.proposed_by <> p.decided_by))
		ORDER BY s.clearance DESC, s.id`), false)
	if err != nil {
		return c, fmt.Errorf("read clearances: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var username string
		var level int
		if err := rows.Scan(&id, &username, &level); err != nil {
			return c, err
		}
		c.Value++
		if len(c.Findings) < maxFindings {
			c.Findings = append(c.Findings, Finding{Subject: username,
				Detail: fmt.Sprintf("holds clearance %s with no approved proposal by a second person", authz.Level(level)), Evidence: staffPage(id)})
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	c.Status, c.Detail = Pass, "every clearance was granted by two people"
	if c.Value > 0 {
		c.Status, c.Detail = Fail, fmt.Sprintf("%d clearances were granted without two people", c.Value)
	}
	return c, nil
}

// privileged are the roles whose dormant accounts are a risk: they
// govern everyone's access or read the whole ledger.
var privileged = []authz.Role{authz.Administrator, authz.SecurityOfficer, authz.Auditor}

// dormant finds active privileged accounts with no successful sign-in in
// the ledger for DormantAfter (or never).
func (s *Service) dormant(ctx context.Context, now time.Time) (Check, error) {
	c := Check{ID: "dormant"}
	rows, err := s.opts.DB.QueryContext(ctx, s.opts.DB.Rebind(`SELECT id, username, roles FROM staff WHERE disabled = ? ORDER BY id`), false)
	if err != nil {
		return c, fmt.Errorf("read privileged staff: %w", err)
	}
	type account struct {
		id       int64
		username string
	}
	var accounts []account
	for rows.Next() {
		var a account
		var roles string
		if err := rows.Scan(&a.id, &a.username, &roles); err != nil {
			rows.Close()
			return c, err
		}
		rs, _ := authz.ParseRoles(strings.Split(roles, ","))
		for _, r := range privileged {
			if rs.Has(r) {
				accounts = append(accounts, a)
				break
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, err
	}
	for _, a := range accounts {
		evs, err := s.opts.Ledger.Search(ctx, audit.Query{ActorKind: audit.ActorStaff, ActorID: strconv.FormatInt(a.id, 10), Action: "login", Outcome: audit.OK, Limit: 1})
		if err != nil {
			return c, fmt.Errorf("read %s's sign-ins: %w", a.username, err)
		}
		switch {
		case len(evs) == 0:
			c.Value++
			c.Findings = append(c.Findings, Finding{Subject: a.username, Detail: "privileged; no sign-in on record", Evidence: staffPage(a.id)})
		case now.Sub(evs[0].Time) > s.opts.DormantAfter:
			c.Value++
			c.Findings = append(c.Findings, Finding{Subject: a.username, Detail: fmt.Sprintf("privileged; last signed in %s", evs[0].Time.Format("2006-01-02")), Evidence: eventPage(evs[0].Seq)})
		}
	}
	c.Status, c.Detail = Pass, fmt.Sprintf("all %d privileged accounts signed in within %d days", len(accounts), int(s.opts.DormantAfter.Hours()/24))
	if c.Value > 0 {
		c.Status, c.Detail = Fail, fmt.Sprintf("%d of %d privileged accounts have not signed in for %d days", c.Value, len(accounts), int(s.opts.DormantAfter.Hours()/24))
	}
	return c, nil
}

// backups reports what Chancery knows of backups: nothing records them
// (they are taken outside it, of the database and the blob store), so the
// check says so rather than guess.
func (s *Service) backups(context.Context, time.Time) (Check, error) {
	return Check{ID: "backups", Status: NoRecord,
		Detail: "Chancery keeps no record of backups: they are taken outside it (the database, the blob store, the master key); record and check them there"}, nil
}
