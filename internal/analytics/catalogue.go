package analytics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/web"
)

// Refresh says how often a dataset is refreshed.
type Refresh string

// The refresh rates.
const (
	RefreshContinuous Refresh = "continuous" // as changes commit
	RefreshDaily      Refresh = "daily"
	RefreshWeekly     Refresh = "weekly"
	RefreshMonthly    Refresh = "monthly"
	RefreshYearly     Refresh = "yearly"
	RefreshOnDemand   Refresh = "on_demand"
)

// Refreshes lists the refresh rates, in the order forms show them.
var Refreshes = []Refresh{RefreshContinuous, RefreshDaily, RefreshWeekly, RefreshMonthly, RefreshYearly, RefreshOnDemand}

// CheckKind is what a quality check measures.
type CheckKind string

// The check kinds.
const (
	// MinRows passes when the dataset holds at least Threshold rows.
	MinRows CheckKind = "min_rows"
	// MaxNullRate passes when at most the fraction Threshold of the rows
	// leave Column empty (NULL or '').
	MaxNullRate CheckKind = "max_null_rate"
	// MaxInvalidRate passes when at most the fraction Threshold of the
	// rows break the dataset's validity rule named by Column.
	MaxInvalidRate CheckKind = "max_invalid_rate"
	// MaxAgeHours passes when the dataset's newest row (or an outside
	// dataset's last reported refresh) is at most Threshold hours old.
	MaxAgeHours CheckKind = "max_age_hours"
)

// Check is a dataset's quality check and its last result.
type Check struct {
	Name      string    `json:"name"`
	Kind      CheckKind `json:"kind"`
	Column    string    `json:"column,omitempty"`
	Threshold float64   `json:"threshold"`
	// LastRun is when the check last ran; zero if never.
	LastRun time.Time `json:"last_run,omitzero"`
	// LastOK reports whether it passed then.
	LastOK bool `json:"last_ok"`
	// LastValue is what it measured: rows, a rate or hours.
	LastValue float64 `json:"last_value"`
	// LastDetail says what it found, in English, for the record.
	LastDetail string `json:"last_detail,omitempty"`
}

// Dataset is an entry of the catalogue.
type Dataset struct {
	Code        string `json:"code"`
	NameVI      string `json:"name_vi"`
	NameEN      string `json:"name_en"`
	Description string `json:"description,omitempty"`
	// OwnerUnit is the unit that owns the data; 0 for the ministry as a
	// whole (Chancery's own datasets).
	OwnerUnit    int64       `json:"owner_unit,omitempty"`
	Level        authz.Level `json:"classification"`
	PersonalData bool        `json:"personal_data"`
	SourceSystem string      `json:"source_system"`
	Refresh      Refresh     `json:"refresh"`
	// Users says who may use the data (units, roles, purposes).
	Users string `json:"users,omitempty"`
	// Builtin reports a dataset Chancery holds itself, registered at
	// start; its checks read its table.
	Builtin bool `json:"builtin"`
	// RefreshedAt is when an outside dataset was last refreshed, as its
	// owner reported it; zero if never.
	RefreshedAt time.Time `json:"refreshed_at,omitzero"`
	Checks      []Check   `json:"checks"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     int       `json:"version"`

	table, timeColumn string
}

// NewDataset is what an officer registers: a dataset held outside
// Chancery. Its one possible check is freshness (MaxAgeHours of
// RefreshedAt), set by FreshnessHours (0: none).
type NewDataset struct {
	Code           string      `json:"code"`
	NameVI         string      `json:"name_vi"`
	NameEN         string      `json:"name_en"`
	Description    string      `json:"description"`
	OwnerUnit      int64       `json:"owner_unit"`
	Level          authz.Level `json:"classification"`
	PersonalData   bool        `json:"personal_data"`
	SourceSystem   string      `json:"source_system"`
	Refresh        Refresh     `json:"refresh"`
	Users          string      `json:"users"`
	FreshnessHours float64     `json:"freshness_hours"`
	// RefreshedAt is when the data was last refreshed, if known.
	RefreshedAt time.Time `json:"refreshed_at,omitzero"`
}

var codePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{1,62}$`)

// validate checks n and returns an errs.Invalid error naming the field.
func (n *NewDataset) validate() error {
	n.Code = strings.ToLower(strings.TrimSpace(n.Code))
	n.NameVI, n.NameEN = strings.TrimSpace(n.NameVI), strings.TrimSpace(n.NameEN)
	n.SourceSystem = strings.TrimSpace(n.SourceSystem)
	switch {
	case !codePattern.MatchString(n.Code):
		return errs.Invalid("code", "use 2 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	case strings.HasPrefix(n.Code, "chancery."):
		return errs.Invalid("code", "codes starting with chancery. are Chancery's own datasets")
	}
	for _, f := range []struct {
		name, v  string
		max      int
		required bool
		lines    bool
	}{
		{"name_vi", n.NameVI, 200, true, false}, {"name_en", n.NameEN, 200, true, false},
		{"source_system", n.SourceSystem, 200, true, false}, {"description", n.Description, 4000, false, true},
		{"users", n.Users, 1000, false, true},
	} {
		switch {
		case len(f.v) > 4*f.max || utf8.RuneCountInString(f.v) > f.max:
			return errs.Invalid(f.name, fmt.Sprintf("is longer than %d characters", f.max))
		case f.required && f.v == "":
			return errs.Invalid(f.name, "is required")
		}
		if err := web.CheckText(f.name, f.v); err != nil {
			return err
		}
		switch {
		case !f.lines && strings.ContainsAny(f.v, "\r\n"):
			return errs.Invalid(f.name, "must be one line")
		}
	}
	if !slices.Contains(Refreshes, n.Refresh) {
		return errs.Invalid("refresh", "choose continuous, daily, weekly, monthly, yearly or on_demand")
	}
	if !n.Level.Valid() {
		return errs.Invalid("classification", "choose none, confidential, secret or top_secret")
	}
	if n.OwnerUnit <= 0 {
		return errs.Invalid("owner_unit", "choose the unit that owns the data")
	}
	if n.FreshnessHours < 0 || n.FreshnessHours > 24*366 {
		return errs.Invalid("freshness_hours", "give a number of hours from 0 (no check) to 8784")
	}
	return nil
}

// Catalogue keeps the catalogue of datasets. Every change runs in one
// transaction with its audit event. It is safe for concurrent use.
type Catalogue struct {
	db  *store.DB
	rec audit.Writer
	now func() time.Time
}

// NewCatalogue returns the catalogue over db, recording with rec.
func NewCatalogue(db *store.DB, rec audit.Recorder, now func() time.Time) *Catalogue {
	if now == nil {
		now = store.Now
	}
	return &Catalogue{db: db, rec: audit.NewWriter("analytics", rec), now: now}
}

func (c *Catalogue) clock() time.Time { return c.now().UTC().Truncate(time.Microsecond) }

// resource is a dataset as authz sees it: reading an entry is
// ministry-wide within clearance; a change is the owner unit's.
func (d *Dataset) resource(a authz.Action) authz.Resource {
	r := authz.Resource{Kind: authz.KindDataset, Level: d.Level}
	if a != authz.Read {
		r.Unit = d.OwnerUnit
	}
	return r
}

func decide(sub authz.Subject, a authz.Action, r authz.Resource, id string) error {
	if d, reason := authz.Decide(sub, a, r); d != authz.Allowed {
		return authz.Refuse(d, reason, a, r, id)
	}
	return nil
}

// List returns the datasets sub may read, by code.
func (c *Catalogue) List(ctx context.Context, sub authz.Subject) ([]Dataset, error) {
	all, err := c.load(ctx, c.db, "")
	if err != nil {
		return nil, err
	}
	out := []Dataset{}
	for _, d := range all {
		if dec, _ := authz.Decide(sub, authz.Read, d.resource(authz.Read)); dec == authz.Allowed {
			out = append(out, d)
		}
	}
	return out, nil
}

// Get returns dataset code. One sub may not read answers as missing:
// errs.ErrNotFound.
func (c *Catalogue) Get(ctx context.Context, sub authz.Subject, code string) (Dataset, error) {
	ds, err := c.load(ctx, c.db, code)
	if err != nil {
		return Dataset{}, err
	}
	if len(ds) == 0 {
		return Dataset{}, fmt.Errorf("analytics: dataset %q: %w", web80(code), errs.ErrNotFound)
	}
	if err := decide(sub, authz.Read, ds[0].resource(authz.Read), code); err != nil {
		return Dataset{}, err
	}
	return ds[0], nil
}

// web80 cuts s for an error message.
func web80(s string) string {
	if utf8.RuneCountInString(s) > 80 {
		return string([]rune(s)[:80]) + "…"
	}
	return s
}

// Register adds an outside dataset to the catalogue. It returns an error
// wrapping errs.ErrInvalid for a bad field, errs.ErrConflict if the code
// is taken, and a refusal if sub may not register for the owner unit.
func (c *Catalogue) Register(ctx context.Context, sub authz.Subject, n NewDataset) (Dataset, error) {
	if err := n.validate(); err != nil {
		return Dataset{}, err
	}
	d := Dataset{Code: n.Code, NameVI: n.NameVI, NameEN: n.NameEN, Description: n.Description, OwnerUnit: n.OwnerUnit,
		Level: n.Level, PersonalData: n.PersonalData, SourceSystem: n.SourceSystem, Refresh: n.Refresh, Users: n.Users,
		RefreshedAt: n.RefreshedAt.UTC().Truncate(time.Microsecond), Version: 1}
	if err := decide(sub, authz.Create, d.resource(authz.Create), d.Code); err != nil {
		return Dataset{}, err
	}
	if d.Level > sub.Clearance {
		return Dataset{}, errs.Invalid("classification", "is above your clearance")
	}
	if n.FreshnessHours > 0 {
		d.Checks = []Check{{Name: "freshness", Kind: MaxAgeHours, Threshold: n.FreshnessHours}}
	}
	o, err := c.rec.Origin(ctx)
	if err != nil {
		return Dataset{}, err
	}
	now := c.clock()
	d.UpdatedAt = now
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		var unit int64
		if err := tx.QueryRowContext(ctx, tx.Rebind("SELECT id FROM units WHERE id = ?"), d.OwnerUnit).Scan(&unit); errors.Is(err, sql.ErrNoRows) {
			return errs.Invalid("owner_unit", "no such unit")
		} else if err != nil {
			return fmt.Errorf("analytics: read unit %d: %w", d.OwnerUnit, err)
		}
		if err := insertDataset(ctx, tx, &d, now); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("%w: a dataset with the code %s is in the catalogue already", errs.ErrConflict, d.Code)
			}
			return err
		}
		e := o.Event("analytics.register_dataset")
		e.ResourceType, e.ResourceID, e.Level, e.UnitID = "dataset", d.Code, d.Level, d.OwnerUnit
		return c.rec.Record(ctx, tx, e)
	})
	if err != nil {
		return Dataset{}, err
	}
	return d, nil
}

// ReportRefresh records that an outside dataset was refreshed at at (its
// freshness check counts from it).
func (c *Catalogue) ReportRefresh(ctx context.Context, sub authz.Subject, code string, at time.Time) (Dataset, error) {
	d, err := c.Get(ctx, sub, code)
	if err != nil {
		return Dataset{}, err
	}
	if err := decide(sub, authz.Update, d.resource(authz.Update), code); err != nil {
		return Dataset{}, err
	}
	if d.Builtin {
		return Dataset{}, fmt.Errorf("%w: Chancery's own datasets are refreshed as their changes commit", errs.ErrConflict)
	}
	now := c.clock()
	if at.IsZero() || at.After(now.Add(5*time.Minute)) {
		return Dataset{}, errs.Invalid("refreshed_at", "give the time of the refresh, not in the future")
	}
	o, err := c.rec.Origin(ctx)
	if err != nil {
		return Dataset{}, err
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE analytics_datasets SET refreshed_us = ?, updated_us = ?, version = version + 1 WHERE code = ?"),
			store.Micros(at), store.Micros(now), code); err != nil {
			return fmt.Errorf("analytics: note the refresh of %s: %w", code, err)
		}
		e := o.Event("analytics.report_refresh")
		e.ResourceType, e.ResourceID, e.Level, e.UnitID = "dataset", code, d.Level, d.OwnerUnit
		return c.rec.Record(ctx, tx, e)
	})
	if err != nil {
		return Dataset{}, err
	}
	return c.Get(ctx, sub, code)
}

func insertDataset(ctx context.Context, tx *store.Tx, d *Dataset, now time.Time) error {
	var owner any
	if d.OwnerUnit != 0 {
		owner = d.OwnerUnit
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO analytics_datasets (code, name_vi, name_en, description, owner_unit_id, level,
		personal_data, source_system, refresh, users, builtin, source_table, time_column, refreshed_us, created_us, updated_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		d.Code, d.NameVI, d.NameEN, d.Description, owner, int(d.Level), b2i(d.PersonalData), d.SourceSystem, string(d.Refresh),
		d.Users, b2i(d.Builtin), d.table, d.timeColumn, micros(d.RefreshedAt), store.Micros(now), store.Micros(now))
	if err != nil {
		return fmt.Errorf("analytics: add dataset %s: %w", d.Code, err)
	}
	for _, ch := range d.Checks {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO analytics_checks (dataset_code, name, kind, column_name, threshold) VALUES (?, ?, ?, ?, ?)`),
			d.Code, ch.Name, string(ch.Kind), ch.Column, ch.Threshold); err != nil {
			return fmt.Errorf("analytics: add check %s of %s: %w", ch.Name, d.Code, err)
		}
	}
	return nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return store.Micros(t)
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return store.FromMicros(v)
}

// load reads the datasets (only code's, if not empty) with their checks.
func (c *Catalogue) load(ctx context.Context, q store.Queryer, code string) ([]Dataset, error) {
	query := `SELECT code, name_vi, name_en, description, COALESCE(owner_unit_id, 0), level, personal_data, source_system, refresh, users,
		builtin, source_table, time_column, refreshed_us, updated_us, version FROM analytics_datasets`
	var args []any
	if code != "" {
		query += " WHERE code = ?"
		args = append(args, code)
	}
	rows, err := q.QueryContext(ctx, q.Rebind(query+" ORDER BY code"), args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: read the catalogue: %w", err)
	}
	var out []Dataset
	idx := map[string]int{}
	for rows.Next() {
		var (
			d                      Dataset
			level                  int
			personal, builtin      int
			refresh                string
			refreshedUS, updatedUS int64
		)
		if err := rows.Scan(&d.Code, &d.NameVI, &d.NameEN, &d.Description, &d.OwnerUnit, &level, &personal, &d.SourceSystem, &refresh, &d.Users,
			&builtin, &d.table, &d.timeColumn, &refreshedUS, &updatedUS, &d.Version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("analytics: read the catalogue: %w", err)
		}
		d.Level, d.PersonalData, d.Builtin, d.Refresh = authz.Level(level), personal != 0, builtin != 0, Refresh(refresh)
		d.RefreshedAt, d.UpdatedAt = fromMicros(refreshedUS), fromMicros(updatedUS)
		d.Checks = []Check{}
		idx[d.Code] = len(out)
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: read the catalogue: %w", err)
	}
	query = `SELECT dataset_code, name, kind, column_name, threshold, last_run_us, last_ok, last_value, last_detail FROM analytics_checks`
	if code != "" {
		query += " WHERE dataset_code = ?"
	}
	rows, err = q.QueryContext(ctx, q.Rebind(query+" ORDER BY dataset_code, name"), args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: read the checks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ds, kind string
			ch       Check
			run      int64
			ok       int
		)
		if err := rows.Scan(&ds, &ch.Name, &kind, &ch.Column, &ch.Threshold, &run, &ok, &ch.LastValue, &ch.LastDetail); err != nil {
			return nil, fmt.Errorf("analytics: read the checks: %w", err)
		}
		ch.Kind, ch.LastRun, ch.LastOK = CheckKind(kind), fromMicros(run), ok != 0
		if i, found := idx[ds]; found {
			out[i].Checks = append(out[i].Checks, ch)
		}
	}
	return out, rows.Err()
}
