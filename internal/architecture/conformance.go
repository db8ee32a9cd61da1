package architecture

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// The conformance rules are Rego (Open Policy Agent), one module per
// rule, package chancery.rules.NAME, each defining a set "findings" of
// objects {"element": id, "message": text} over the input the repository
// gives (see ruleInput). The shipped rules are these files; security
// officers edit them, each edit stored as a new version of the rule (in
// arch_meta as "rule:NAME", its history in arch_changes) that replaces
// the shipped text.
//
//go:embed rules/*.rego
var rulesFS embed.FS

// Rule is a conformance rule as it is in force.
type Rule struct {
	Name    string `json:"name"`
	Source  string `json:"source"`
	Shipped bool   `json:"shipped"` // the text Chancery ships, never edited
	// Version counts the edits; 0 for the shipped text.
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// Finding is a rule's finding on one element, its message in English and
// in Vietnamese: a rule's finding object carries "message" (English) and
// "message_vi"; a rule without the latter is shown in English.
type Finding struct {
	Rule      string `json:"rule"`
	Element   string `json:"element"`
	Name      string `json:"name"`
	Message   string `json:"message"`
	MessageVI string `json:"message_vi,omitempty"`
}

// In returns the finding's message in lang ("vi" or "en"), English when
// the rule gives none in Vietnamese.
func (f Finding) In(lang string) string {
	if lang == "vi" && f.MessageVI != "" {
		return f.MessageVI
	}
	return f.Message
}

var ruleName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// maxRuleBytes bounds a rule's text.
const maxRuleBytes = 64 << 10

func shippedRules() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(rulesFS, "rules", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := rulesFS.ReadFile(p)
		out[strings.TrimSuffix(path.Base(p), ".rego")] = string(b)
		return err
	})
	return out, err
}

// Rules returns the rules in force, by name. Every staff member reads them.
func (s *Service) Rules(ctx context.Context, sub authz.Subject) ([]Rule, error) {
	if err := allow(sub, authz.Read, authz.KindArchitectureRule); err != nil {
		return nil, err
	}
	return s.rules(ctx, s.db)
}

func (s *Service) rules(ctx context.Context, q store.Queryer) ([]Rule, error) {
	shipped, err := shippedRules()
	if err != nil {
		return nil, err
	}
	byName := map[string]Rule{}
	for n, src := range shipped {
		byName[n] = Rule{Name: n, Source: src, Shipped: true}
	}
	rows, err := q.QueryContext(ctx, `SELECT data FROM arch_meta WHERE key LIKE 'rule:%'`)
	if err != nil {
		return nil, fmt.Errorf("read the rules: %w", err)
	}
	stored, err := scanJSON[Rule](rows)
	if err != nil {
		return nil, fmt.Errorf("read the rules: %w", err)
	}
	for _, r := range stored {
		byName[r.Name] = r
	}
	out := make([]Rule, 0, len(byName))
	for _, r := range byName {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// compileRule checks that source is a Rego module of package
// chancery.rules.name; the error wraps errs.ErrInvalid with OPA's message.
func compileRule(name, source string) error {
	m, err := ast.ParseModuleWithOpts(name+".rego", source, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return errs.Invalid("source", clipLong(err.Error()))
	}
	if want := "data.chancery.rules." + name; m.Package.Path.String() != want {
		return errs.Invalid("source", fmt.Sprintf("the module's package is %s; a rule named %s is package chancery.rules.%s", strings.TrimPrefix(m.Package.Path.String(), "data."), name, name))
	}
	c := ast.NewCompiler()
	if c.Compile(map[string]*ast.Module{name: m}); c.Failed() {
		return errs.Invalid("source", clipLong(c.Errors.Error()))
	}
	return nil
}

func clipLong(s string) string {
	if len(s) > 1000 {
		return strings.ToValidUTF8(s[:1000], "") + "…"
	}
	return s
}

// SaveRule replaces the text of the rule name (a shipped rule or a new
// one) by source, at version (the rule's current version: 0 for the
// shipped text or a new rule; else errs.ErrConflict). Security officers
// only (authz: architecture_rule update). A module that does not compile,
// or is not package chancery.rules.NAME, is refused with OPA's message.
func (s *Service) SaveRule(ctx context.Context, sub authz.Subject, name, source string, version int64) (Rule, error) {
	if err := allow(sub, authz.Update, authz.KindArchitectureRule); err != nil {
		return Rule{}, err
	}
	if !ruleName.MatchString(name) {
		return Rule{}, errs.Invalid("name", "a rule's name is lower-case letters, digits and _, starting with a letter, at most 64")
	}
	if err := checkText("source", source, maxRuleBytes); err != nil {
		return Rule{}, err
	}
	if err := compileRule(name, source); err != nil {
		return Rule{}, err
	}
	var saved Rule
	err := s.edit(ctx, "architecture.save_rule", name, func(c *change) error {
		rules, err := s.rules(ctx, c.tx)
		if err != nil {
			return err
		}
		cur := Rule{Name: name}
		if i := slices.IndexFunc(rules, func(r Rule) bool { return r.Name == name }); i >= 0 {
			cur = rules[i]
		}
		if cur.Version != version {
			return fmt.Errorf("%w: rule %s is at version %d, not %d: someone edited it; reload and edit again", errs.ErrConflict, name, cur.Version, version)
		}
		saved = Rule{Name: name, Source: source, Version: version + 1, UpdatedAt: c.at, UpdatedBy: c.actor}
		data, err := json.Marshal(saved)
		if err != nil {
			return err
		}
		key := "rule:" + name
		var exists int
		err = c.tx.QueryRowContext(ctx, c.tx.Rebind(`SELECT 1 FROM arch_meta WHERE key = ?`), key).Scan(&exists)
		op := "update"
		switch {
		case errors.Is(err, sql.ErrNoRows):
			op = "create"
			_, err = c.tx.ExecContext(ctx, c.tx.Rebind(`INSERT INTO arch_meta (key, data) VALUES (?, ?)`), key, string(data))
		case err == nil:
			_, err = c.tx.ExecContext(ctx, c.tx.Rebind(`UPDATE arch_meta SET data = ? WHERE key = ?`), string(data), key)
		}
		if err != nil {
			return fmt.Errorf("write rule %s: %w", name, err)
		}
		return c.log(ctx, "rule", name, op, data)
	})
	if err == nil {
		s.forgetPrepared()
	}
	return saved, err
}

// prepared caches the compiled rules, keyed by their names and versions.
type prepared struct {
	mu  sync.Mutex
	key string
	q   rego.PreparedEvalQuery
}

func (s *Service) forgetPrepared() {
	s.prep.mu.Lock()
	s.prep.key = ""
	s.prep.mu.Unlock()
}

func (s *Service) prepare(ctx context.Context, rules []Rule) (rego.PreparedEvalQuery, error) {
	var key strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&key, "%s@%d;", r.Name, r.Version)
	}
	s.prep.mu.Lock()
	defer s.prep.mu.Unlock()
	if s.prep.key == key.String() {
		return s.prep.q, nil
	}
	opts := []func(*rego.Rego){rego.Query("data.chancery.rules"), rego.SetRegoVersion(ast.RegoV1)}
	for _, r := range rules {
		opts = append(opts, rego.Module(r.Name+".rego", r.Source))
	}
	q, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return rego.PreparedEvalQuery{}, fmt.Errorf("architecture: compile the conformance rules: %w", err)
	}
	s.prep.key, s.prep.q = key.String(), q
	return q, nil
}

// ruleInput is what the rules read: input.elements (by id: type, layer,
// origin, name, phase today, props by name, framework by reference model,
// owner_unit) and input.relationships (id, type, source, target).
func ruleInput(snap *Snapshot, day string) map[string]any {
	els := make(map[string]any, len(snap.Elements))
	for _, e := range snap.Elements {
		props := make(map[string]any, len(e.Properties))
		for _, p := range e.Properties {
			props[p.Name] = p.Value.In("")
		}
		fw := make(map[string]any, len(e.Framework))
		for k, v := range e.Framework {
			fw[string(k)] = v
		}
		els[e.ID] = map[string]any{"type": e.Type, "layer": string(e.Layer()), "origin": string(e.Origin), "name": e.Name.In("vi"), "name_en": e.Name.In("en"),
			"phase": string(e.Lifecycle.PhaseOn(day)), "props": props, "framework": fw, "owner_unit": e.OwnerUnit}
	}
	rels := make([]any, 0, len(snap.Relationships))
	for _, r := range snap.Relationships {
		rels = append(rels, map[string]any{"id": r.ID, "type": r.Type, "source": r.Source, "target": r.Target})
	}
	return map[string]any{"elements": els, "relationships": rels}
}

// Findings runs the rules in force over the repository (as it stood at
// asOf, if not zero) and returns their findings by rule, then element.
func (s *Service) Findings(ctx context.Context, sub authz.Subject, asOf time.Time) ([]Finding, error) {
	if err := allow(sub, authz.Read, authz.KindArchitectureRule); err != nil {
		return nil, err
	}
	snap, err := s.snapshot(ctx, asOf)
	if err != nil {
		return nil, err
	}
	day := today()
	if !asOf.IsZero() {
		day = asOf.In(ministryZone()).Format(time.DateOnly)
	}
	return s.check(ctx, snap, day)
}

// check evaluates the rules in force over snap on day.
func (s *Service) check(ctx context.Context, snap *Snapshot, day string) ([]Finding, error) {
	rules, err := s.rules(ctx, s.db)
	if err != nil {
		return nil, err
	}
	q, err := s.prepare(ctx, rules)
	if err != nil {
		return nil, err
	}
	rs, err := q.Eval(ctx, rego.EvalInput(ruleInput(snap, day)))
	if err != nil {
		return nil, fmt.Errorf("architecture: run the conformance rules: %w", err)
	}
	names := map[string]string{}
	for _, e := range snap.Elements {
		names[e.ID] = e.Name.In("vi")
	}
	var out []Finding
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return out, nil
	}
	byRule, _ := rs[0].Expressions[0].Value.(map[string]any)
	for rule, v := range byRule {
		mod, _ := v.(map[string]any)
		fs, _ := mod["findings"].([]any)
		for _, x := range fs {
			f, _ := x.(map[string]any)
			el, _ := f["element"].(string)
			msg, _ := f["message"].(string)
			vi, _ := f["message_vi"].(string)
			out = append(out, Finding{Rule: rule, Element: el, Name: names[el], Message: msg, MessageVI: vi})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		if out[i].Element != out[j].Element {
			return out[i].Element < out[j].Element
		}
		return out[i].Message < out[j].Message
	})
	return out, nil
}

func errNotFoundRule(name string) error {
	return fmt.Errorf("%w: no rule %s", errs.ErrNotFound, clip(name))
}

func errInvalidVersion() error { return errs.Invalid("version", "is not a version number") }

// timeNow asks for the repository as it is now.
func timeNow() time.Time { return time.Time{} }
