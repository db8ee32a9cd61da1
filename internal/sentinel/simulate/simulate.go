// Package simulate generates a ministry's activity as its ledger would
// record it: thousands of staff in headquarters departments and missions
// in their own time zones, over months of working days and holidays
// (internal/calendar), signing in, reading, downloading, printing,
// handling citizens' dossiers and sending documents through the exchange,
// with the legitimate bursts of real work (report days, archive days,
// promotions, new joiners, travel). Into it go insiders modelled on the
// CERT r4.2 scenarios (the departing employee, the curious clerk, the
// slow leaker, the compromised account), with labels saying who, when and
// what, so that the detector's recall, false positives and delay can be
// measured (Evaluate) and a ledger export written (WriteExport) for
// `chancery sentinel replay`.
//
// Everything follows from the seed: the same Config gives the same
// events, in the same order, with the same sequence numbers.
package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/calendar"
)

// Config says what to simulate. Zero fields take the defaults.
type Config struct {
	Seed uint64
	// Staff is the number of staff (default 3000); Days the number of
	// days simulated (default 90) from Start (default Monday 5 January
	// 2026, so that Tết falls inside).
	Staff int
	Days  int
	Start time.Time
	// Insiders is the number of insiders of each scenario (default 10).
	Insiders int
}

func (c Config) withDefaults() Config {
	if c.Staff <= 0 {
		c.Staff = 3000
	}
	if c.Days <= 0 {
		c.Days = 90
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	if c.Insiders <= 0 {
		c.Insiders = 10
	}
	return c
}

// The scenarios, after CERT r4.2's.
const (
	// Departing is the employee about to leave who takes what they can:
	// downloads and prints well above usual, evenings, and documents
	// sent to an address outside.
	Departing = "departing_employee"
	// Curious is the clerk who browses citizens' dossiers of other units
	// and probes for what is hidden from them.
	Curious = "curious_clerk"
	// SlowLeak takes a few classified documents more than usual every
	// day for weeks, and sends some out.
	SlowLeak = "slow_leaker"
	// Compromised is an account taken over from outside: guessed
	// passwords, a sign-in from a new address at night, then bulk
	// reading across the ministry.
	Compromised = "compromised_account"
)

// Scenarios lists the scenarios in the order they are reported.
var Scenarios = []string{Departing, Curious, SlowLeak, Compromised}

// Label is the ground truth of one injected insider.
type Label struct {
	Scenario string `json:"scenario"`
	User     string `json:"user"`
	ActorID  string `json:"actor_id"`
	UnitID   int64  `json:"unit_id"`
	// Address is the attacker's address (compromised accounts).
	Address string    `json:"address,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// unit is a simulated unit.
type unit struct {
	id       int64
	code     string
	country  string
	zone     string
	loc      *time.Location
	cal      *calendar.Calendar
	mission  bool
	consular bool
	office   []string
	corr     []string
	report   map[int]bool // report days (day index)
}

// member is a simulated staff member and their habits.
type member struct {
	id        int64
	name      string
	unit      *unit
	role      string
	clearance authz.Level
	start     float64 // usual first hour, local
	length    float64 // usual hours at work
	late      float64 // chance of staying late on a day
	weekend   float64 // chance of working on a day off
	reads     float64 // per working day
	downloads float64
	copies    float64
	sends     float64
	dossiers  float64
	foreign   float64 // share of dossiers of other units
	classy    float64 // share of items classified
	home      string
	joined    int // day index the account was created (0: before)
	left      int // day index after which they are gone (-1: never)
	archive   int // day of month of a records clerk's archive day (0: none)
	promoted  int // day index of a clearance raised (-1: never)
	plan      *plan
	active    []bool // days with activity
}

// plan is an insider's scenario.
type plan struct {
	kind   string
	days   map[int]int // day index → the scenario's day number (0, 1, …)
	label  *Label
	addr   string
	recip  string
	nights map[int]bool
}

// Sim is a simulation. Run it once.
type Sim struct {
	cfg     Config
	rng     *rand.Rand
	units   []*unit
	staff   []*member
	labels  []*Label
	pool    []string // the exchange's members (agencies) documents go to
	dossier []*unit  // units whose dossiers exist
	seq     uint64
	events  int
	buf     []audit.Event
}

// New prepares the simulation of cfg: the units, the staff and their
// habits, and the insiders' plans.
func New(cfg Config) *Sim {
	cfg = cfg.withDefaults()
	s := &Sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5e471e1))}
	s.makeUnits()
	s.makeStaff()
	s.makePlans()
	return s
}

// Labels returns the injected insiders.
func (s *Sim) Labels() []Label {
	out := make([]Label, len(s.labels))
	for i, l := range s.labels {
		out[i] = *l
	}
	return out
}

// Config returns the configuration simulated, defaults filled in.
func (s *Sim) Config() Config { return s.cfg }

func (s *Sim) makeUnits() {
	hcm := mustZone("Asia/Ho_Chi_Minh")
	id := int64(1)
	add := func(code, country, zone string, mission, consular bool) *unit {
		cal := calendar.Vietnam()
		if c, err := calendar.ForMission(country); err == nil {
			cal = c
		}
		loc := hcm
		if zone != "Asia/Ho_Chi_Minh" {
			loc = mustZone(zone)
		}
		u := &unit{id: id, code: code, country: country, zone: zone, loc: loc, cal: cal, mission: mission, consular: consular, report: map[int]bool{}}
		id++
		n := 1 + s.rng.IntN(2)
		for k := range n {
			u.office = append(u.office, fmt.Sprintf("10.%d.%d.%d", u.id/250, u.id%250, k+1))
		}
		s.units = append(s.units, u)
		return u
	}
	for _, d := range departments {
		add(d.Code, "VN", "Asia/Ho_Chi_Minh", false, d.Consular)
	}
	for _, m := range missions {
		add(m.Code, m.Country, m.Zone, true, true)
	}
	for i := range 240 {
		s.pool = append(s.pool, fmt.Sprintf("000.00.%02d.G%02d", i/20+1, i%20+1))
	}
	for _, u := range s.units {
		for range 8 + s.rng.IntN(12) {
			u.corr = append(u.corr, s.pool[s.rng.IntN(len(s.pool))])
		}
		if u.consular {
			s.dossier = append(s.dossier, u)
		}
		// One or two days of reports, when everyone reads and downloads
		// far more than usual: the year-end or quarter report.
		for range 1 + s.rng.IntN(2) {
			u.report[10+s.rng.IntN(s.cfg.Days-10)] = true
		}
	}
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("simulate: zone %s: %v", name, err)) // the table is ours; a typo is a bug
	}
	return loc
}

// lognormal returns a factor around 1 with spread sigma.
func (s *Sim) lognormal(sigma float64) float64 {
	return math.Exp(s.rng.NormFloat64()*sigma - sigma*sigma/2)
}

// poisson draws a Poisson count of mean m.
func (s *Sim) poisson(m float64) int {
	if m <= 0 {
		return 0
	}
	if m > 30 {
		return max(0, int(math.Round(m+s.rng.NormFloat64()*math.Sqrt(m))))
	}
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= s.rng.Float64()
		if p < l {
			return k
		}
		k++
	}
}

func (s *Sim) makeStaff() {
	hq := 0
	for _, d := range departments {
		hq += d.Weight
	}
	hqStaff := s.cfg.Staff * 3 / 5
	for i := range s.cfg.Staff {
		var u *unit
		if i < hqStaff {
			// Departments in proportion to their weight.
			r := s.rng.IntN(hq)
			for k, d := range departments {
				if r < d.Weight {
					u = s.units[k]
					break
				}
				r -= d.Weight
			}
		} else {
			u = s.units[len(departments)+s.rng.IntN(len(missions))]
		}
		m := &member{id: int64(i + 1), name: fmt.Sprintf("s%05d", i+1), unit: u, left: -1, promoted: -1, active: make([]bool, s.cfg.Days)}
		m.role = s.pickRole(u)
		m.start = 7 + s.rng.Float64()*1.75
		m.length = 8 + s.rng.Float64()*1.5
		if s.rng.Float64() < 0.15 {
			m.late = 0.25
		}
		m.weekend = 0.01
		if s.rng.Float64() < 0.05 {
			m.weekend = 0.3
		}
		f := s.lognormal(0.5)
		switch m.role {
		case "clerk":
			m.reads, m.downloads, m.copies, m.sends = 30*f, 4*f, 1*f, 4*f
			m.archive = 1 + s.rng.IntN(28)
		case "head":
			m.reads, m.downloads, m.copies, m.sends = 8*f, 0.5*f, 0.1*f, 1.5*f
		case "consular":
			m.reads, m.downloads, m.copies, m.sends, m.dossiers = 6*f, 1*f, 0.5*f, 0.5*f, 20*f
			if !u.mission {
				m.foreign = 0.8
			}
		case "inspector":
			m.reads, m.downloads, m.copies, m.sends, m.dossiers, m.foreign = 6*f, 1*f, 0.2*f, 0.5*f, 6*f, 1
		case "admin":
			m.reads, m.downloads, m.copies, m.sends = 5*f, 0.5*f, 0.1*f, 0.5*f
		default:
			m.reads, m.downloads, m.copies, m.sends = 10*f, 1.5*f, 0.3*f, 1*f
			if u.mission {
				m.dossiers = 3 * f
			}
		}
		switch r := s.rng.Float64(); {
		case r < 0.35:
			m.clearance = authz.Unclassified
		case r < 0.8:
			m.clearance, m.classy = authz.Confidential, 0.15
		default:
			m.clearance, m.classy = authz.Secret, 0.25
		}
		m.home = fmt.Sprintf("100.%d.%d.%d", 64+s.rng.IntN(64), s.rng.IntN(256), 1+s.rng.IntN(254))
		if s.rng.Float64() < 0.03 {
			// A new account, with no history of its own.
			m.joined = 5 + s.rng.IntN(s.cfg.Days-10)
		}
		if m.clearance < authz.Secret && s.rng.Float64() < 0.01 {
			m.promoted = m.joined + 5 + s.rng.IntN(s.cfg.Days-m.joined-5)
		}
		s.staff = append(s.staff, m)
	}
}

func (s *Sim) pickRole(u *unit) string {
	r := s.rng.Float64()
	switch {
	case r < 0.1:
		return "head"
	case r < 0.22:
		return "clerk"
	case u.consular && r < 0.6:
		return "consular"
	case u.code == "TTR" && r < 0.8:
		return "inspector"
	case (u.code == "TCCB" || u.code == "CNTT") && r < 0.5:
		return "admin"
	}
	return "officer"
}

// makePlans picks the insiders and the days of their scenarios.
func (s *Sim) makePlans() {
	taken := map[int64]bool{}
	for _, kind := range Scenarios {
		for range s.cfg.Insiders {
			var m *member
			for tries := 0; tries < 1000; tries++ {
				c := s.staff[s.rng.IntN(len(s.staff))]
				if taken[c.id] || c.joined != 0 || c.promoted >= 0 || c.role == "inspector" || c.role == "admin" {
					continue
				}
				if kind == Curious && c.foreign > 0 {
					continue // their work is other units' dossiers
				}
				if (kind == SlowLeak || kind == Departing) && c.clearance == authz.Unclassified {
					continue
				}
				m = c
				break
			}
			if m == nil {
				continue
			}
			taken[m.id] = true
			p := &plan{kind: kind, days: map[int]int{}, nights: map[int]bool{}}
			p.label = &Label{Scenario: kind, User: m.name, ActorID: strconv.FormatInt(m.id, 10), UnitID: m.unit.id}
			length := map[string]int{Departing: 10, Curious: 8, SlowLeak: 25, Compromised: 1}[kind]
			first := 30 + s.rng.IntN(max(1, s.cfg.Days-30-length-5))
			n := 0
			for d := first; d < s.cfg.Days && n < length; d++ {
				if kind == Compromised || s.working(m.unit, d) {
					p.days[d] = n
					n++
				}
			}
			switch kind {
			case Departing:
				for range 3 {
					p.nights[first+s.rng.IntN(14)] = true
				}
				p.recip = fmt.Sprintf("ext.%04x@mail.example", s.rng.IntN(1<<16))
				last := 0
				for d := range p.days {
					last = max(last, d)
				}
				m.left = last + 1
			case SlowLeak:
				p.recip = fmt.Sprintf("ext.%04x@mail.example", s.rng.IntN(1<<16))
			case Compromised:
				p.addr = fmt.Sprintf("185.%d.%d.%d", 100+s.rng.IntN(100), s.rng.IntN(256), 1+s.rng.IntN(254))
				if s.rng.IntN(2) == 0 && first+1 < s.cfg.Days {
					p.days[first+1] = 1
				}
			}
			p.label.Address = p.addr
			m.plan = p
			s.labels = append(s.labels, p.label)
		}
	}
}

// date returns day index d's date.
func (s *Sim) date(d int) calendar.Date {
	t := s.cfg.Start.AddDate(0, 0, d)
	return calendar.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

func (s *Sim) working(u *unit, d int) bool { return u.cal.IsWorkingDay(s.date(d)) }

// at returns the time of local hour h (fractional) of day d in u's zone.
func (s *Sim) at(u *unit, d int, h float64) time.Time {
	dt := s.date(d)
	return time.Date(dt.Year, dt.Month, dt.Day, 0, 0, 0, 0, u.loc).Add(time.Duration(h * float64(time.Hour))).UTC().Truncate(time.Microsecond)
}

// Run generates the simulation's events in ledger order, numbered from 0,
// and gives each to emit; an error from emit stops it.
func (s *Sim) Run(emit func(audit.Event) error) error {
	before := s.cfg.Start.Add(-30 * 24 * time.Hour)
	cli := audit.System("cli")
	for _, u := range s.units {
		s.push(audit.Event{Time: before, Actor: cli, Action: "unit.create", ResourceType: "unit", ResourceID: strconv.FormatInt(u.id, 10), Outcome: audit.OK,
			Attrs: map[string]string{"code": u.code, "country": u.country, "time_zone": u.zone}})
	}
	for _, m := range s.staff {
		if m.joined == 0 {
			s.createStaff(m, before)
		}
	}
	if err := s.flush(emit, before.Add(time.Hour)); err != nil {
		return err
	}
	for d := range s.cfg.Days {
		for _, m := range s.staff {
			s.day(m, d)
		}
		s.noise(d)
		// Every local day d+1 begins after 10:00 UTC of day d (UTC+14
		// is the earliest zone): what came before is final.
		if err := s.flush(emit, s.cfg.Start.AddDate(0, 0, d).Add(10*time.Hour)); err != nil {
			return err
		}
	}
	return s.flush(emit, time.Time{})
}

// Events returns how many events Run emitted.
func (s *Sim) Events() int { return s.events }

func (s *Sim) push(e audit.Event) { s.buf = append(s.buf, e) }

// flush emits the buffered events before until (all if zero), in time
// order (ties in the order generated).
func (s *Sim) flush(emit func(audit.Event) error, until time.Time) error {
	slices.SortStableFunc(s.buf, func(a, b audit.Event) int { return a.Time.Compare(b.Time) })
	n := len(s.buf)
	if !until.IsZero() {
		n, _ = slices.BinarySearchFunc(s.buf, until, func(e audit.Event, t time.Time) int { return e.Time.Compare(t) })
	}
	for _, e := range s.buf[:n] {
		e.Seq = s.seq
		s.seq++
		s.events++
		if err := emit(e); err != nil {
			return err
		}
	}
	s.buf = append(s.buf[:0], s.buf[n:]...)
	return nil
}

func (s *Sim) actor(m *member) audit.Actor { return audit.Staff(m.id, m.name) }

func (s *Sim) createStaff(m *member, t time.Time) {
	attrs := map[string]string{"username": m.name, "unit": m.unit.code, "roles": m.role, "clearance": m.clearance.String()}
	if m.joined == 0 {
		attrs["seeded"] = "true"
	}
	s.push(audit.Event{Time: t, Actor: audit.Staff(1, "s00001"), UnitID: 2, Action: "staff.create", ResourceType: "staff",
		ResourceID: strconv.FormatInt(m.id, 10), Outcome: audit.OK, Attrs: attrs})
}

// day generates member m's day d.
func (s *Sim) day(m *member, d int) {
	u := m.unit
	if d < m.joined || (m.left >= 0 && d >= m.left) {
		if d == m.left {
			s.push(audit.Event{Time: s.at(u, d, 9), Actor: audit.Staff(1, "s00001"), UnitID: 2, Action: "staff.update", ResourceType: "staff",
				ResourceID: strconv.FormatInt(m.id, 10), Outcome: audit.OK, Attrs: map[string]string{"changed": "status", "status": "disabled"}})
		}
		return
	}
	if d == m.joined && m.joined > 0 {
		s.createStaff(m, s.at(u, d, 8))
	}
	if d == m.promoted {
		m.clearance++
		m.classy += 0.1
		s.push(audit.Event{Time: s.at(u, d, 10), Actor: audit.Staff(2, "s00002"), UnitID: 2, Action: "staff.update", ResourceType: "staff",
			ResourceID: strconv.FormatInt(m.id, 10), Outcome: audit.OK, Attrs: map[string]string{"changed": "clearance", "clearance": m.clearance.String()}})
	}
	p := m.plan
	pd, inPlan := -1, false
	if p != nil {
		pd, inPlan = p.days[d]
	}
	working := s.working(u, d)
	if p != nil && p.kind == Compromised && inPlan {
		s.compromise(m, d, pd)
	}
	var from, to float64
	switch {
	case working && s.rng.Float64() < 0.94:
		from = m.start + s.rng.NormFloat64()*0.25
		to = from + m.length + s.rng.NormFloat64()*0.5
		if s.rng.Float64() < m.late {
			to += 1 + 2*s.rng.Float64()
		}
	case !working && s.rng.Float64() < m.weekend:
		from = 9 + 3*s.rng.Float64()
		to = from + 1 + 2*s.rng.Float64()
	default:
		return
	}
	m.active[d] = true
	scale := s.lognormal(0.3)
	if !working {
		scale *= 0.3
	}
	if u.report[d] {
		scale *= 2.5
	}
	s.login(m, d, from)
	if to-from > 6 && s.rng.Float64() < 0.5 {
		s.login(m, d, from+4+s.rng.Float64())
	}
	at := func() float64 { return from + s.rng.Float64()*(to-from) }
	reads := s.poisson(m.reads * scale)
	for range reads {
		s.item(m, d, at(), "document.read", m.classy)
	}
	downloads := s.poisson(m.downloads * scale * map[bool]float64{true: 1.2, false: 1}[u.report[d]])
	for range downloads {
		s.item(m, d, at(), "document.download", m.classy)
	}
	for range s.poisson(m.copies * scale) {
		s.item(m, d, at(), "document.print", m.classy)
	}
	for range s.poisson(m.dossiers * scale) {
		s.dossierRead(m, d, at(), s.rng.Float64() < m.foreign)
	}
	for range s.poisson(m.sends * scale) {
		s.send(m, d, at(), "")
	}
	if s.rng.Float64() < 0.04 {
		for range 1 + s.rng.IntN(2) {
			s.denied(m, d, at(), s.rng.IntN(2) == 0)
		}
	}
	if m.archive != 0 && s.date(d).Day == m.archive && working {
		// The records clerk's archive day: a run of downloads to file
		// the month's documents.
		start := from + 1 + s.rng.Float64()*(to-from-4)
		for range 20 + s.rng.IntN(20) {
			s.item(m, d, start+3*s.rng.Float64(), "document.download", m.classy)
		}
	}
	if p != nil && inPlan {
		switch p.kind {
		case Departing:
			s.departing(m, d, pd, from, to)
		case Curious:
			s.curious(m, d, pd, from, to)
		case SlowLeak:
			s.slowLeak(m, d, pd, from, to)
		}
	}
}

// mark extends m's label over t.
func (s *Sim) mark(m *member, t time.Time) {
	l := m.plan.label
	if l.Start.IsZero() || t.Before(l.Start) {
		l.Start = t
	}
	if t.After(l.End) {
		l.End = t
	}
}

func (s *Sim) login(m *member, d int, h float64) {
	addr := m.unit.office[s.rng.IntN(len(m.unit.office))]
	switch r := s.rng.Float64(); {
	case r < 0.003:
		// Travel: a hotel, a conference, a partner's office.
		addr = fmt.Sprintf("203.%d.%d.%d", s.rng.IntN(256), s.rng.IntN(256), 1+s.rng.IntN(254))
	case r < 0.1:
		addr = m.home
	}
	t := s.at(m.unit, d, h)
	if s.rng.Float64() < 0.03 {
		for k := range 1 + s.rng.IntN(2) {
			s.failure(m, t.Add(-time.Duration(k+1)*20*time.Second), addr)
		}
	}
	s.push(audit.Event{Time: t, Actor: s.actor(m), UnitID: m.unit.id, Action: "login", ResourceType: "staff", ResourceID: strconv.FormatInt(m.id, 10),
		Outcome: audit.OK, Attrs: map[string]string{"method": "password", "stage": "done", "address": addr}})
}

func (s *Sim) failure(m *member, t time.Time, addr string) {
	s.push(audit.Event{Time: t, Actor: audit.System("auth"), Action: "login", ResourceType: "staff", ResourceID: strconv.FormatInt(m.id, 10),
		Outcome: audit.Failed, Reason: "bad_password", Attrs: map[string]string{"method": "password", "address": addr}})
}

// level draws an item's level: classified with chance classy, never
// above the member's clearance.
func (s *Sim) level(m *member, classy float64) authz.Level {
	if m.clearance == authz.Unclassified || s.rng.Float64() >= classy {
		return authz.Unclassified
	}
	return authz.Level(1 + s.rng.IntN(int(m.clearance)))
}

func (s *Sim) item(m *member, d int, h float64, action string, classy float64) audit.Event {
	e := audit.Event{Time: s.at(m.unit, d, h), Actor: s.actor(m), UnitID: m.unit.id, Action: action, ResourceType: "document",
		ResourceID: strconv.FormatInt(m.unit.id*1_000_000+int64(s.rng.IntN(20000)), 10), Level: s.level(m, classy), Outcome: audit.OK}
	s.push(e)
	return e
}

func (s *Sim) dossierRead(m *member, d int, h float64, foreign bool) audit.Event {
	u := m.unit
	for (foreign || !u.consular) && (u == m.unit || !u.consular) {
		u = s.dossier[s.rng.IntN(len(s.dossier))]
	}
	e := audit.Event{Time: s.at(m.unit, d, h), Actor: s.actor(m), UnitID: u.id, Action: "dossier.read", ResourceType: "dossier",
		ResourceID: fmt.Sprintf("000.00.%02d.H%02d-%s-%06d", u.id%100, u.id/100, s.date(d).String()[2:4]+"0101", s.rng.IntN(999999)), Outcome: audit.OK}
	s.push(e)
	return e
}

func (s *Sim) send(m *member, d int, h float64, to string) audit.Event {
	if to == "" {
		to = m.unit.corr[s.rng.IntN(len(m.unit.corr))]
		if s.rng.Float64() < 0.01 {
			to = s.pool[s.rng.IntN(len(s.pool))]
		}
	}
	e := audit.Event{Time: s.at(m.unit, d, h), Actor: s.actor(m), UnitID: m.unit.id, Action: "document.issue", ResourceType: "document",
		ResourceID: strconv.FormatInt(m.unit.id*1_000_000+int64(s.rng.IntN(20000)), 10), Level: s.level(m, m.classy/3), Outcome: audit.OK,
		Attrs: map[string]string{"recipients": to}}
	s.push(e)
	return e
}

func (s *Sim) denied(m *member, d int, h float64, concealed bool) audit.Event {
	decision := "denied"
	if concealed {
		decision = "concealed"
	}
	u := s.units[s.rng.IntN(len(s.units))]
	e := audit.Event{Time: s.at(m.unit, d, h), Actor: s.actor(m), UnitID: m.unit.id, Action: audit.DeniedAction, ResourceType: "document",
		ResourceID: strconv.FormatInt(u.id*1_000_000+int64(s.rng.IntN(20000)), 10), Outcome: audit.Denied, Reason: "not_cleared",
		Attrs: map[string]string{"route": "GET /console/records/{id}", "decision": decision, "action": "read"}}
	s.push(e)
	return e
}

// noise is the internet's background: scanners trying names that are no
// accounts, from addresses seen once.
func (s *Sim) noise(d int) {
	hq := s.units[0]
	for range s.poisson(20) {
		t := s.at(hq, d, 24*s.rng.Float64())
		s.push(audit.Event{Time: t, Actor: audit.System("auth"), Action: "login", Outcome: audit.Failed, Reason: "unknown_account",
			Attrs: map[string]string{"method": "password", "username": fmt.Sprintf("admin%d", s.rng.IntN(100)),
				"address": fmt.Sprintf("45.%d.%d.%d", s.rng.IntN(256), s.rng.IntN(256), 1+s.rng.IntN(254))}})
	}
}

// departing: more downloads and prints every day, classified ones above
// all, evening sessions, and documents sent to a private address.
func (s *Sim) departing(m *member, d, n int, from, to float64) {
	at := func() float64 { return from + s.rng.Float64()*(to-from) }
	extra := s.poisson(3*m.downloads + 4)
	for range extra {
		s.mark(m, s.item(m, d, at(), "document.download", 0.7).Time)
	}
	for range s.poisson(2) {
		s.mark(m, s.item(m, d, at(), "document.print", 0.7).Time)
	}
	if m.plan.nights[d] || n == 0 {
		start := to + 1.5 + s.rng.Float64()
		for range 25 + s.rng.IntN(35) {
			action := "document.download"
			if s.rng.IntN(4) == 0 {
				action = "document.print"
			}
			s.mark(m, s.item(m, d, start+2*s.rng.Float64(), action, 0.7).Time)
		}
	}
	if n%3 == 1 {
		for range 1 + s.rng.IntN(3) {
			s.mark(m, s.send(m, d, at(), m.plan.recip).Time)
		}
	}
}

// curious: bursts of other units' dossiers, and probes for hidden ones.
func (s *Sim) curious(m *member, d, n int, from, to float64) {
	for range 1 + s.rng.IntN(3) {
		h := from + s.rng.Float64()*(to-from-1)
		for range 5 + s.rng.IntN(11) {
			h += (20 + 40*s.rng.Float64()) / 3600
			s.mark(m, s.dossierRead(m, d, h, true).Time)
		}
	}
	if n%3 == 0 {
		h := from + s.rng.Float64()*(to-from-1)
		for range 4 + s.rng.IntN(7) {
			h += (30 + 120*s.rng.Float64()) / 3600
			s.mark(m, s.denied(m, d, h, s.rng.IntN(4) != 0).Time)
		}
	}
}

// slowLeak: a few classified downloads more than usual, every day, and
// now and then a document sent to a private address.
func (s *Sim) slowLeak(m *member, d, n int, from, to float64) {
	at := func() float64 { return from + s.rng.Float64()*(to-from) }
	for range 2 + s.poisson(3) {
		s.mark(m, s.item(m, d, at(), "document.download", 1).Time)
	}
	if s.rng.Float64() < 0.3 {
		s.mark(m, s.item(m, d, at(), "document.print", 1).Time)
	}
	if n%4 == 3 {
		s.mark(m, s.send(m, d, at(), m.plan.recip).Time)
	}
}

// compromise: guessing from outside, perhaps across accounts first, a
// sign-in from the attacker's address at night, then reading in bulk.
func (s *Sim) compromise(m *member, d, n int) {
	p := m.plan
	u := m.unit
	h := 1 + 3*s.rng.Float64()
	t := s.at(u, d, h)
	if n == 0 {
		if s.rng.IntN(2) == 0 {
			for k := range 6 + s.rng.IntN(5) {
				other := s.staff[s.rng.IntN(len(s.staff))]
				s.failure(other, t.Add(time.Duration(k)*7*time.Second), p.addr)
				s.mark(m, t)
			}
			t = t.Add(2 * time.Minute)
		}
		for k := range 3 + s.rng.IntN(10) {
			ft := t.Add(time.Duration(k) * 11 * time.Second)
			s.failure(m, ft, p.addr)
			s.mark(m, ft)
		}
		t = t.Add(3 * time.Minute)
	}
	s.push(audit.Event{Time: t, Actor: s.actor(m), UnitID: u.id, Action: "login", ResourceType: "staff", ResourceID: strconv.FormatInt(m.id, 10),
		Outcome: audit.OK, Attrs: map[string]string{"method": "password", "stage": "done", "address": p.addr}})
	s.mark(m, t)
	hours := t.Sub(s.at(u, d, 0)).Hours()
	count := 40 + s.rng.IntN(80)
	if n > 0 {
		count = 20 + s.rng.IntN(40)
	}
	span := 0.5 + s.rng.Float64()
	for range count {
		at := hours + 0.05 + s.rng.Float64()*span
		switch r := s.rng.Float64(); {
		case r < 0.3:
			s.mark(m, s.dossierRead(m, d, at, true).Time)
		case r < 0.65:
			s.mark(m, s.item(m, d, at, "document.download", 0.6).Time)
		default:
			s.mark(m, s.item(m, d, at, "document.read", 0.6).Time)
		}
	}
	m.active[d] = true
}
