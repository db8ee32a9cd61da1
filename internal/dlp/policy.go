package dlp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// Way is a way out of Chancery that DLP watches.
type Way string

// The ways out.
const (
	// WayExchange is a message sent through the exchange (its payload).
	WayExchange Way = "exchange"
	// WayDownload is a records file downloaded: a document's, an
	// attachment's, a version's or a copy's.
	WayDownload Way = "download"
	// WayExport is a records export: a case file's package.
	WayExport Way = "export"
	// WayMail is an e-mail notice, sent by the mail outbox.
	WayMail Way = "mail"
)

// Ways lists the ways out.
var Ways = []Way{WayExchange, WayDownload, WayExport, WayMail}

// Decision is what the policy decides about an item going out.
type Decision string

// The decisions, from the mildest.
const (
	Allow           Decision = "allow"
	HoldForApproval Decision = "hold"
	Block           Decision = "block"
)

func (d Decision) rank() int { return slices.Index([]Decision{Allow, HoldForApproval, Block}, d) }

// The findings a rule may name besides the kinds of Kind: any marking,
// any personal data in bulk, an item too big to scan whole, and an item
// whose text could not be read.
const (
	FindingMarking      = "marking"
	FindingPersonalData = "personal_data"
	FindingTooBig       = "too_big"
	FindingUnreadable   = "unreadable"
)

// Policy is what security officers decide about what goes out: which
// findings, on which way, are allowed, held for approval or blocked.
// Every saved version is kept; the latest is in force.
type Policy struct {
	// Version is the policy's version, set when it is saved.
	Version int `json:"version"`
	// Bulk is, for each kind of personal data, from how many an item
	// holds it "in bulk"; a kind not listed is in bulk from one.
	Bulk map[string]int `json:"bulk"`
	// Rules decide; of the rules an item meets, the strictest decision
	// wins, and an item meeting none is allowed.
	Rules []Rule `json:"rules"`
}

// Rule is one line of a policy.
type Rule struct {
	// Way is the way out the rule watches, or "*" for every way.
	Way string `json:"way"`
	// Finding is a kind of finding (marking_secret, identity_number, …)
	// or one of marking, personal_data, too_big and unreadable.
	Finding string `json:"finding"`
	// Cleared lists destinations the rule does not apply to, as
	// path.Match patterns of the destination (an exchange member's
	// subsystem "VN/GOV/000.00.03.G12/edxml"): channels cleared for what
	// the rule stops.
	Cleared []string `json:"cleared,omitempty"`
	// Decision is what an item meeting the rule gets.
	Decision Decision `json:"decision"`
}

// DefaultPolicy is the first version, until a security officer saves
// another: markings go nowhere outside the ministry's own units and
// missions (their exchange members end in .G12) nor by e-mail; 50
// identity numbers (20 passports, 200 phone numbers or e-mail addresses)
// anywhere wait for approval, as does what is too big to scan or could
// not be read on the exchange; a top secret case file's export waits too.
func DefaultPolicy() Policy {
	return Policy{
		Bulk: map[string]int{IdentityNumber.String(): 50, OldIdentityNumber.String(): 50, PassportNumber.String(): 20,
			PhoneNumber.String(): 200, EmailAddress.String(): 200},
		Rules: []Rule{
			{Way: string(WayExchange), Finding: FindingMarking, Cleared: []string{"VN/GOV/*.G12/*"}, Decision: Block},
			{Way: string(WayMail), Finding: FindingMarking, Decision: Block},
			{Way: string(WayExport), Finding: MarkingTopSecret.String(), Decision: HoldForApproval},
			{Way: "*", Finding: FindingPersonalData, Decision: HoldForApproval},
			{Way: "*", Finding: FindingTooBig, Decision: HoldForApproval},
			{Way: string(WayExchange), Finding: FindingUnreadable, Decision: HoldForApproval},
		},
	}
}

// maxRules bounds a policy's rules, and maxPolicy its JSON.
const (
	maxRules  = 200
	maxPolicy = 64 << 10
)

func findingNames() []string {
	out := []string{FindingMarking, FindingPersonalData, FindingTooBig, FindingUnreadable}
	for _, k := range Kinds() {
		out = append(out, k.String())
	}
	return out
}

// ParsePolicy reads a policy from JSON, refusing unknown fields, ways,
// findings, decisions, bad patterns and thresholds, each with an
// *errs.FieldError naming it.
func ParsePolicy(data []byte) (Policy, error) {
	if len(data) > maxPolicy {
		return Policy{}, errs.Invalid("policy", fmt.Sprintf("is %d bytes; a policy is at most %d", len(data), maxPolicy))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return Policy{}, errs.Invalid("policy", "is not a policy's JSON: "+err.Error())
	}
	if dec.More() {
		return Policy{}, errs.Invalid("policy", "has something after the policy's JSON object")
	}
	return p, p.Check()
}

// Check reports the first fault of p as an *errs.FieldError.
func (p Policy) Check() error {
	if len(p.Rules) > maxRules {
		return errs.Invalid("rules", fmt.Sprintf("%d rules; a policy has at most %d", len(p.Rules), maxRules))
	}
	for k, n := range p.Bulk {
		kind, ok := kindNamed(k)
		if !ok || kind.Marking() {
			return errs.Invalid("bulk", fmt.Sprintf("%q is not a kind of personal data: use one of identity_number, old_identity_number, passport_number, phone_number, email_address", clip(k)))
		}
		if n < 1 || n > 1_000_000 {
			return errs.Invalid("bulk", fmt.Sprintf("%s: %d; a threshold is from 1 to 1,000,000", k, n))
		}
	}
	for i, r := range p.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		if r.Way != "*" && !slices.Contains(Ways, Way(r.Way)) {
			return errs.Invalid(field+".way", fmt.Sprintf("%q is not a way out: use *, exchange, download, export or mail", clip(r.Way)))
		}
		if !slices.Contains(findingNames(), r.Finding) {
			return errs.Invalid(field+".finding", fmt.Sprintf("%q is not a finding: use one of %s", clip(r.Finding), strings.Join(findingNames(), ", ")))
		}
		if r.Decision.rank() < 0 {
			return errs.Invalid(field+".decision", fmt.Sprintf("%q is not a decision: use allow, hold or block", clip(string(r.Decision))))
		}
		for _, c := range r.Cleared {
			if _, err := path.Match(c, ""); err != nil || c == "" || len(c) > 256 {
				return errs.Invalid(field+".cleared", fmt.Sprintf("%q is not a destination pattern such as VN/GOV/*.G12/*", clip(c)))
			}
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func kindNamed(name string) (Kind, bool) {
	for _, k := range Kinds() {
		if k.String() == name {
			return k, true
		}
	}
	return 0, false
}

// Item is what goes out, as the policy sees it.
type Item struct {
	Way Way
	// To is where it goes: an exchange service's provider, a mail's
	// recipients, "" for a download (the person downloading).
	To string
	// Level is the classification its sender declared (a document's, a
	// message's): a marking found or not.
	Level authz.Level
	Result
}

// findings returns the policy's findings of it: its kinds found (the
// personal data ones only in bulk), its declared level as a marking,
// and whether it was too big or unreadable.
func (p Policy) findings(it Item) []string {
	c := it.Counts
	switch it.Level {
	case authz.Confidential:
		c[MarkingConfidential] = max(c[MarkingConfidential], 1)
	case authz.Secret:
		c[MarkingSecret] = max(c[MarkingSecret], 1)
	case authz.TopSecret:
		c[MarkingTopSecret] = max(c[MarkingTopSecret], 1)
	}
	var out []string
	for _, k := range Kinds() {
		n := c[k]
		if n == 0 {
			continue
		}
		if k.Marking() {
			out = append(out, k.String())
			if !slices.Contains(out, FindingMarking) {
				out = append(out, FindingMarking)
			}
			continue
		}
		if n >= max(p.Bulk[k.String()], 1) {
			out = append(out, k.String())
			if !slices.Contains(out, FindingPersonalData) {
				out = append(out, FindingPersonalData)
			}
		}
	}
	if it.TooBig {
		out = append(out, FindingTooBig)
	}
	if it.Unreadable != "" {
		out = append(out, FindingUnreadable)
	}
	return out
}

// Decide returns what p decides about it, and the rules (by their
// finding) that decided: the strictest decision of the rules it meets,
// Allow if none.
func (p Policy) Decide(it Item) (Decision, []string) {
	found := p.findings(it)
	d, why := Allow, []string{}
	for _, r := range p.Rules {
		if r.Way != "*" && Way(r.Way) != it.Way || !slices.Contains(found, r.Finding) || cleared(r.Cleared, it.To) {
			continue
		}
		switch {
		case r.Decision.rank() > d.rank():
			d, why = r.Decision, []string{r.Finding}
		case r.Decision == d && d != Allow && !slices.Contains(why, r.Finding):
			why = append(why, r.Finding)
		}
	}
	return d, why
}

func cleared(patterns []string, to string) bool {
	for _, c := range patterns {
		if ok, _ := path.Match(c, to); ok && to != "" {
			return true
		}
	}
	return false
}
