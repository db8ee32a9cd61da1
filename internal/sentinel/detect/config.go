package detect

import "time"

// Config tunes the engine. The zero value of a field takes its default
// (DefaultConfig), so Config{} is a working configuration.
type Config struct {
	// BulkWindow is the sliding window of bulk taking; BulkMin the fewest
	// items (reads, downloads, copies) in it that can raise bulk_read,
	// whatever the person's usual; DayMin the fewest in a day.
	BulkWindow time.Duration
	BulkMin    int
	DayMin     int
	// BaselineHalfLife is how fast a baseline forgets, in days of
	// activity; PriorDays is how many days of their own a person needs
	// before their baseline stands alone (before that it is blended with
	// their peers' in the same unit and role).
	BaselineHalfLife float64
	PriorDays        int
	// RiskHalfLife is how fast a person's risk decays without new
	// evidence.
	RiskHalfLife time.Duration
	// AlertScore is the lowest score an alert is raised at; lower
	// evidence only adds to the person's risk.
	AlertScore float64
	// Cooldown is how long a rule keeps quiet about a person after an
	// alert, unless the evidence triples.
	Cooldown time.Duration
	// OffHoursMin is how many actions outside a person's usual hours, in
	// two hours, raise off_hours.
	OffHoursMin int
	// CuriosityMin is the fewest reads of other units' dossiers and
	// documents in a day that can raise curiosity.
	CuriosityMin int
	// ProbeMin is the fewest refusals (concealed 404s or denials) in an
	// hour that raise concealed_probes.
	ProbeMin int
	// SendMin is the fewest messages sent in a day that can raise
	// exchange_volume; NewRecipients the fewest new recipients in a day.
	SendMin       int
	NewRecipients int
	// SigninWindow is the window of the sign-in rules: SigninFailures
	// failures on one account, failures on StuffingAccounts accounts
	// from one address, StormEvents slowdowns or blocks.
	SigninWindow     time.Duration
	SigninFailures   int
	StuffingAccounts int
	StormEvents      int
	// PrivilegeWindow is how long after a clearance or role change use
	// of it is watched; PrivilegeMin the reads above the old clearance
	// in it that raise privilege_then_use.
	PrivilegeWindow time.Duration
	PrivilegeMin    int
	// AnomalyScore is the model's score (0–100) of a person's day that
	// raises anomaly.
	AnomalyScore float64
	// Zone is the zone of units whose zone the ledger has not told
	// (default Asia/Ho_Chi_Minh).
	Zone string
}

// DefaultConfig returns the defaults, tuned on the simulator's seeds 1–3.
func DefaultConfig() Config {
	return Config{
		BulkWindow:       time.Hour,
		BulkMin:          30,
		DayMin:           60,
		BaselineHalfLife: 30,
		PriorDays:        10,
		RiskHalfLife:     7 * 24 * time.Hour,
		AlertScore:       50,
		Cooldown:         12 * time.Hour,
		OffHoursMin:      12,
		CuriosityMin:     8,
		ProbeMin:         6,
		SendMin:          25,
		NewRecipients:    3,
		SigninWindow:     15 * time.Minute,
		SigninFailures:   10,
		StuffingAccounts: 5,
		StormEvents:      10,
		PrivilegeWindow:  72 * time.Hour,
		PrivilegeMin:     5,
		AnomalyScore:     75,
		Zone:             "Asia/Ho_Chi_Minh",
	}
}

// withDefaults fills c's zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setI := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setF := func(v *float64, def float64) {
		if *v <= 0 {
			*v = def
		}
	}
	setD(&c.BulkWindow, d.BulkWindow)
	setI(&c.BulkMin, d.BulkMin)
	setI(&c.DayMin, d.DayMin)
	setF(&c.BaselineHalfLife, d.BaselineHalfLife)
	setI(&c.PriorDays, d.PriorDays)
	setD(&c.RiskHalfLife, d.RiskHalfLife)
	setF(&c.AlertScore, d.AlertScore)
	setD(&c.Cooldown, d.Cooldown)
	setI(&c.OffHoursMin, d.OffHoursMin)
	setI(&c.CuriosityMin, d.CuriosityMin)
	setI(&c.ProbeMin, d.ProbeMin)
	setI(&c.SendMin, d.SendMin)
	setI(&c.NewRecipients, d.NewRecipients)
	setD(&c.SigninWindow, d.SigninWindow)
	setI(&c.SigninFailures, d.SigninFailures)
	setI(&c.StuffingAccounts, d.StuffingAccounts)
	setI(&c.StormEvents, d.StormEvents)
	setD(&c.PrivilegeWindow, d.PrivilegeWindow)
	setI(&c.PrivilegeMin, d.PrivilegeMin)
	setF(&c.AnomalyScore, d.AnomalyScore)
	if c.Zone == "" {
		c.Zone = d.Zone
	}
	return c
}
