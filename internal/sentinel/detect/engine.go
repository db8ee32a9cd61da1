package detect

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // units' zones never depend on the host's zoneinfo

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/web"
)

// What the engine reads from the ledger (the actions the capabilities
// record; see the package documentation of each):
//
//   - unit.create, unit.update (identity): a unit's code, country and
//     time zone, so hours and days are the unit's own and working days
//     its calendar's (internal/calendar: Viet Nam's, or a mission's);
//   - staff.create, staff.update, staff.approve (identity): a person's
//     username, unit, roles and clearance; a change of roles or
//     clearance opens the watch of privilege_then_use;
//   - login (auth): by the staff member, outcome ok, with the client
//     "address"; by auth itself, outcome failed, on the account tried
//     (resource staff/citizen and id, or the "username" given), with the
//     "address"; login.slowdown, login.throttle, login.alert: the
//     storms auth itself saw;
//   - reads: document.read, record.read, dossier.read (whose unit is the
//     dossier's), document.classification.read, register.secret.read,
//     population.lookup and any other *.read; downloads: *.download,
//     *.export (document.copy.download, record.export, case_file.export);
//     copies and prints: *.copy, *.print; each at its level;
//   - sends: document.issue, exchange.message.send and any other *.send,
//     with their recipients ("recipient", "recipients" or "to");
//   - access.denied (audit's denials): refusals, "decision" concealed
//     (answered 404) or denied, with "suppressed" repeats.
//
// The unit a resource belongs to is known for dossiers (the event's unit)
// and for any event carrying an "owner_unit" attribute; a device for any
// login carrying "device".

// Feature indices of a person's day.
const (
	fReads = iota
	fDownloads
	fCopies
	fClassified
	fForeign
	fOffHours
	fSends
	fNewRecips
	fDenied
	fClassOut // classified items downloaded, copied or printed
	fTake     // reads + 2 × (downloads + copies) + classified: what was taken, weighted
	nFeat
)

// Categories of events as the person rules see them.
const (
	catNone uint8 = iota
	catRead
	catDownload
	catCopy
	catSend
	catDenied
	catLogin
)

// Flags of a mark.
const (
	flForeign uint8 = 1 << iota
	flOff
	flNewRecip
	flPriv
	flConcealed
	flDayOff // on a day off, but within the person's usual hours
)

const (
	microsPerHour = int64(time.Hour / time.Microsecond)
	microsPerDay  = 24 * microsPerHour
	// ringKeep is how many recent marks a person keeps for evidence and
	// windows.
	ringKeep = 384
)

// stat is an exponentially weighted mean and mean absolute deviation: a
// robust scale that one extreme day cannot blow up (values are clipped
// before they are folded in).
type stat struct {
	M float64 `json:"m"`
	D float64 `json:"d"`
}

// baseline is what is usual for a person, or for a peer group: per
// feature a day's mean and deviation, and the hours and days worked.
type baseline struct {
	N int         `json:"n"` // active days folded in
	F [nFeat]stat `json:"f"`
	H [24]float64 `json:"h"` // share of active days with activity in each local hour
	O float64     `json:"o"` // share of active days that were days off
	// P is each feature's peak, decaying by half in peakHalfLife active
	// days: a burst the person had lately (a monthly archive day) is no
	// longer news.
	P [nFeat]float64 `json:"p"`
}

// mark is one event a person rule may cite.
type mark struct {
	Seq   uint64 `json:"s"`
	T     int64  `json:"t"` // unix microseconds
	Cat   uint8  `json:"c"`
	Lvl   uint8  `json:"l,omitempty"`
	Flags uint8  `json:"f,omitempty"`
	N     uint16 `json:"n,omitempty"` // weight beyond one (suppressed refusals)
}

// fired is when a rule last alerted about a subject, and on how much
// evidence.
type fired struct {
	T int64 `json:"t"`
	N int   `json:"n"`
}

// privilege is a change of a person's roles or clearance being watched.
type privilege struct {
	T     int64       `json:"t"`
	Seq   uint64      `json:"seq"`
	Old   authz.Level `json:"old"`
	New   authz.Level `json:"new"`
	Roles string      `json:"roles,omitempty"`
	By    string      `json:"by,omitempty"`
	Uses  int         `json:"uses"`
	Done  bool        `json:"done,omitempty"`
}

// person is everything the engine knows of one staff member.
type person struct {
	ID        string      `json:"id"`
	Name      string      `json:"name,omitempty"`
	Unit      int64       `json:"unit,omitempty"`
	Roles     string      `json:"roles,omitempty"`
	Clearance authz.Level `json:"clearance,omitempty"`
	First     int64       `json:"first"`
	// Day is the local day (days since 1970 in the unit's zone) Today
	// counts; Active says Today holds anything.
	Day        int64          `json:"day"`
	Active     bool           `json:"active,omitempty"`
	DayOff     bool           `json:"day_off,omitempty"`
	Today      [nFeat]float64 `json:"today"`
	TodayHours uint32         `json:"today_hours,omitempty"`
	TodayExp   float64        `json:"today_exp,omitempty"` // the usual take p added to the unit's day
	Base       baseline       `json:"base"`
	// Addrs and Recips map client addresses, devices and recipients to
	// the day last seen.
	Addrs  map[string]int64 `json:"addrs,omitempty"`
	Recips map[string]int64 `json:"recips,omitempty"`
	Ring   []mark           `json:"ring,omitempty"`
	Cusum  [2]float64       `json:"cusum"`
	// Raw is the undecayed risk at RawAt.
	Raw     float64          `json:"raw,omitempty"`
	RawAt   int64            `json:"raw_at,omitempty"`
	Fired   map[string]fired `json:"fired,omitempty"`
	Priv    *privilege       `json:"priv,omitempty"`
	NewAddr int64            `json:"new_addr,omitempty"` // when the last new address signed in
}

// unitInfo is what the ledger told of a unit.
type unitInfo struct {
	Code    string `json:"code,omitempty"`
	Country string `json:"country,omitempty"`
	Zone    string `json:"zone,omitempty"`
}

// unitDay is a unit's local day: the weighted take of its people so far
// and the sum of their usual takes (of those active that day).
type unitDay struct {
	Day  int64   `json:"day"`
	Take float64 `json:"take"`
	Exp  float64 `json:"exp"`
	N    int     `json:"n"`
}

// tmark is a sign-in event kept in a window.
type tmark struct {
	Seq uint64 `json:"s"`
	T   int64  `json:"t"`
	Key string `json:"k,omitempty"`
}

// state is everything MarshalState saves.
type state struct {
	Version int                        `json:"version"`
	Clock   int64                      `json:"clock"`
	Hour    int64                      `json:"hour"`
	Units   map[int64]*unitInfo        `json:"units"`
	Codes   map[string]int64           `json:"codes"`
	People  []*person                  `json:"people"`
	Groups  map[string]*baseline       `json:"groups"`
	UAddrs  map[int64]map[string]int64 `json:"unit_addrs"`
	URecips map[int64]map[string]int64 `json:"unit_recips"`
	// Accounts names accounts by "staff:ID" for the sign-in rules.
	Accounts map[string]string  `json:"accounts"`
	FailAcct map[string][]tmark `json:"fail_acct"`
	FailAddr map[string][]tmark `json:"fail_addr"`
	Storm    []tmark            `json:"storm,omitempty"`
	Fired    map[string]fired   `json:"fired"`
	// UnitDays is each unit's day so far, and the one before it: how far
	// its people as a whole are above their usual (a report day).
	UnitDays map[int64]*[2]unitDay `json:"unit_days"`
	// Mult holds the feedback's threshold multipliers by "rule|user:NAME"
	// and "rule|unit:ID".
	Mult map[string]float64 `json:"mult"`
}

const stateVersion = 1

func newState() state {
	return state{Version: stateVersion, Units: map[int64]*unitInfo{}, Codes: map[string]int64{}, Groups: map[string]*baseline{},
		UAddrs: map[int64]map[string]int64{}, URecips: map[int64]map[string]int64{}, Accounts: map[string]string{},
		FailAcct: map[string][]tmark{}, FailAddr: map[string][]tmark{}, Fired: map[string]fired{}, Mult: map[string]float64{},
		UnitDays: map[int64]*[2]unitDay{}}
}

// Engine is the scorer: rules over per-person and per-unit baselines, and
// a model of each person's day, combined into a risk per person. It is
// deterministic: the same events give the same alerts (time is the
// events' time, never the wall clock). Safe for concurrent use; Observe
// calls must still come in sequence order.
type Engine struct {
	cfg   Config
	alpha float64 // the baseline's per-day weight

	mu    sync.Mutex
	st    state
	index map[string]int // person id → index in st.People
	zones map[int64]*zone
	def   *zone
}

// zone is a unit's clock and calendar.
type zone struct {
	loc *time.Location
	cal *calendar.Calendar
	// offDays caches the days off by local day number.
	offDays map[int64]bool
}

var _ Scorer = (*Engine)(nil)

// New returns an engine with cfg (zero fields take DefaultConfig's).
func New(cfg Config) *Engine {
	cfg = cfg.withDefaults()
	e := &Engine{cfg: cfg, alpha: 1 - math.Exp2(-1/cfg.BaselineHalfLife)}
	e.reset(newState())
	return e
}

func (e *Engine) reset(st state) {
	e.st = st
	e.index = make(map[string]int, len(st.People))
	for i, p := range st.People {
		e.index[p.ID] = i
	}
	e.zones = map[int64]*zone{}
	e.def = e.makeZone(e.cfg.Zone, "VN")
}

func (e *Engine) makeZone(name, country string) *zone {
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		loc, err = time.LoadLocation(e.cfg.Zone)
		if err != nil {
			loc = web.MinistryZone()
		}
	}
	cal := calendar.Vietnam()
	if country != "" {
		if c, err := calendar.ForMission(country); err == nil {
			cal = c
		}
	}
	return &zone{loc: loc, cal: cal, offDays: map[int64]bool{}}
}

// zoneOf returns unit's zone (the default for an unknown unit).
func (e *Engine) zoneOf(unit int64) *zone {
	if z, ok := e.zones[unit]; ok {
		return z
	}
	u := e.st.Units[unit]
	if u == nil {
		return e.def
	}
	z := e.makeZone(u.Zone, u.Country)
	e.zones[unit] = z
	return z
}

// local returns the local day number and hour of t (unix µs) in z, and
// whether that day is a day off.
func (z *zone) local(t int64) (day int64, hour int, off bool) {
	tt := time.UnixMicro(t).In(z.loc)
	_, offset := tt.Zone()
	l := t/1e6 + int64(offset)
	day = floorDiv(l, 86400)
	hour = int(l-day*86400) / 3600
	o, ok := z.offDays[day]
	if !ok {
		y, m, d := tt.Date()
		o = !z.cal.IsWorkingDay(calendar.Date{Year: y, Month: m, Day: d})
		if len(z.offDays) > 4096 {
			clear(z.offDays)
		}
		z.offDays[day] = o
	}
	return day, hour, o
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Observe scores ev; see Scorer.
func (e *Engine) Observe(ev audit.Event) []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := ev.Time.UnixMicro()
	if t < e.st.Clock {
		// The ledger's order is the truth; a clock that stepped back is
		// read as no time passing.
		t = e.st.Clock
	}
	e.st.Clock = t
	var out []Alert
	if h := floorDiv(t, microsPerHour); h > e.st.Hour {
		if e.st.Hour != 0 {
			out = e.sweep(t)
		}
		e.st.Hour = h
	}
	switch ev.Action {
	case "unit.create", "unit.update":
		e.unitEvent(ev)
		return out
	case "staff.create", "staff.update", "staff.approve":
		return append(out, e.staffEvent(ev, t)...)
	case "login":
		return append(out, e.loginEvent(ev, t)...)
	case "login.slowdown", "login.throttle", "login.alert":
		return append(out, e.stormEvent(ev, t)...)
	case audit.InconsistencyAction:
		return append(out, inconsistencyAlert(ev))
	}
	if ev.Actor.Kind != audit.ActorStaff {
		return out
	}
	cat := category(ev.Action)
	if cat == catNone {
		return out
	}
	p := e.person(ev.Actor, t)
	if p.Unit == 0 && ev.UnitID != 0 && !strings.HasPrefix(ev.Action, "dossier.") {
		p.Unit = ev.UnitID
	}
	out = append(out, e.roll(p, t)...)
	return append(out, e.personEvent(p, ev, cat, t)...)
}

// category sorts an action into what the person rules count.
func category(action string) uint8 {
	switch action {
	case audit.DeniedAction:
		return catDenied
	case "document.issue":
		return catSend
	case "document.copy_permit":
		return catNone
	}
	i := strings.LastIndexByte(action, '.')
	if i < 0 {
		return catNone
	}
	switch action[i+1:] {
	case "read", "lookup":
		return catRead
	case "download", "export":
		return catDownload
	case "copy", "print":
		return catCopy
	case "send":
		return catSend
	}
	return catNone
}

// person returns the person of actor a, new if unknown.
func (e *Engine) person(a audit.Actor, t int64) *person {
	if i, ok := e.index[a.ID]; ok {
		p := e.st.People[i]
		if p.Name == "" && a.Name != "" {
			p.Name = a.Name
		}
		return p
	}
	p := &person{ID: a.ID, Name: a.Name, First: t, Day: math.MinInt64}
	e.index[a.ID] = len(e.st.People)
	e.st.People = append(e.st.People, p)
	return p
}

// unitEvent learns a unit's code, country and zone.
func (e *Engine) unitEvent(ev audit.Event) {
	id, err := strconv.ParseInt(ev.ResourceID, 10, 64)
	if err != nil || id <= 0 {
		return
	}
	u := e.st.Units[id]
	if u == nil {
		u = &unitInfo{}
		e.st.Units[id] = u
	}
	if v := ev.Attrs["code"]; v != "" {
		u.Code = v
		e.st.Codes[v] = id
	}
	if v := ev.Attrs["country"]; v != "" {
		u.Country = v
	}
	if v := ev.Attrs["time_zone"]; v != "" {
		u.Zone = v
	}
	delete(e.zones, id)
}

// staffEvent learns a person's account and opens the watch of a change
// of roles or clearance.
func (e *Engine) staffEvent(ev audit.Event, t int64) []Alert {
	if ev.ResourceType != "staff" || ev.ResourceID == "" {
		return nil
	}
	p := e.person(audit.Actor{Kind: audit.ActorStaff, ID: ev.ResourceID, Name: ev.Attrs["username"]}, t)
	if p.Name != "" {
		e.st.Accounts["staff:"+p.ID] = p.Name
	}
	if code := ev.Attrs["unit"]; code != "" {
		if id, ok := e.st.Codes[code]; ok {
			p.Unit = id
		}
	}
	old := p.Clearance
	lvl, lvlErr := authz.ParseLevel(ev.Attrs["clearance"])
	if lvlErr == nil {
		p.Clearance = lvl
	}
	roles, rolesSet := ev.Attrs["roles"]
	if rolesSet {
		p.Roles = roles
	}
	if ev.Action == "staff.create" || ev.Outcome == audit.Denied || ev.Outcome == audit.Failed {
		return nil
	}
	if (lvlErr == nil && lvl > old) || rolesSet {
		by := ev.Actor.Name
		if by == "" {
			by = ev.Actor.ID
		}
		p.Priv = &privilege{T: t, Seq: ev.Seq, Old: old, New: p.Clearance, Roles: roles, By: by}
		if ev.Actor.Kind == audit.ActorStaff && ev.Actor.ID == p.ID {
			p.Priv.By = "self"
		}
	}
	return nil
}

// roll moves p to the local day of t, closing the day it was on.
func (e *Engine) roll(p *person, t int64) []Alert {
	day, _, off := e.zoneOf(p.Unit).local(t)
	if day <= p.Day {
		return nil
	}
	var out []Alert
	if p.Active {
		out = e.closeDay(p)
	}
	p.Day, p.DayOff, p.Active, p.Today, p.TodayHours = day, off, false, [nFeat]float64{}, 0
	return out
}

// sweep closes the days that ended by t, in the order people appeared,
// and forgets sign-in failures older than the window.
func (e *Engine) sweep(t int64) []Alert {
	var out []Alert
	for _, p := range e.st.People {
		if p.Active {
			out = append(out, e.roll(p, t)...)
		}
	}
	from := t - int64(e.cfg.SigninWindow/time.Microsecond)
	pruneMap(e.st.FailAcct, from)
	pruneMap(e.st.FailAddr, from)
	e.st.Storm = pruneMarks(e.st.Storm, from)
	return out
}

func pruneMarks(ms []tmark, from int64) []tmark {
	i := 0
	for i < len(ms) && ms[i].T < from {
		i++
	}
	if i == 0 {
		return ms
	}
	return append(ms[:0], ms[i:]...)
}

func pruneMap(m map[string][]tmark, from int64) {
	for k, ms := range m {
		if ms = pruneMarks(ms, from); len(ms) == 0 {
			delete(m, k)
		} else {
			m[k] = ms
		}
	}
}

// addMark appends m to p's ring, dropping the oldest beyond ringKeep.
func (p *person) addMark(m mark) {
	if len(p.Ring) >= 2*ringKeep {
		n := copy(p.Ring, p.Ring[len(p.Ring)-ringKeep:])
		p.Ring = p.Ring[:n]
	}
	p.Ring = append(p.Ring, m)
}

// marks returns p's marks since from that keep accepts, oldest first, at
// most MaxEvidence (the latest), and their total weight.
func (p *person) marks(from int64, keep func(mark) bool) ([]mark, int) {
	var ms []mark
	n := 0
	for i := len(p.Ring) - 1; i >= 0 && p.Ring[i].T >= from; i-- {
		m := p.Ring[i]
		if !keep(m) {
			continue
		}
		n += 1 + int(m.N)
		if len(ms) < MaxEvidence {
			ms = append(ms, m)
		}
	}
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms, n
}

// dayStart returns the unix µs at which p's current local day began.
func (e *Engine) dayStart(p *person) int64 {
	z := e.zoneOf(p.Unit)
	t := time.Unix(p.Day*86400, 0).UTC()
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, z.loc).UnixMicro()
}

// risk adds score to p's risk at t and returns the risk, 0–100.
func (e *Engine) risk(p *person, score float64, t int64) float64 {
	if p.RawAt != 0 && t > p.RawAt {
		p.Raw *= math.Exp2(-float64(t-p.RawAt) / float64(e.cfg.RiskHalfLife/time.Microsecond))
	}
	p.RawAt = t
	p.Raw += score
	return riskOf(p.Raw)
}

func riskOf(raw float64) float64 { return round1(100 * (1 - math.Exp(-raw/100))) }

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// Risk returns the risk of the staff member with actor id at time at,
// 0–100, decayed to then.
func (e *Engine) Risk(id string, at time.Time) float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	i, ok := e.index[id]
	if !ok {
		return 0
	}
	p := e.st.People[i]
	raw := p.Raw
	if t := at.UnixMicro(); t > p.RawAt {
		raw *= math.Exp2(-float64(t-p.RawAt) / float64(e.cfg.RiskHalfLife/time.Microsecond))
	}
	return riskOf(raw)
}

// mult returns the feedback's multiplier of rule's thresholds for p (or
// for the subject key when p is nil).
func (e *Engine) mult(rule, user string, unit int64) float64 {
	m := 1.0
	if v, ok := e.st.Mult[rule+"|user:"+user]; ok && user != "" {
		m *= v
	}
	if v, ok := e.st.Mult[rule+"|unit:"+strconv.FormatInt(unit, 10)]; ok && unit != 0 {
		m *= v
	}
	return m
}

// Feedback tunes the thresholds of f's rule for f's person and unit: a
// false positive asks for 30% more evidence before the rule speaks again
// (at most 5×), a true positive 10% less (down to 0.6×).
func (e *Engine) Feedback(f Feedback) {
	e.mu.Lock()
	defer e.mu.Unlock()
	adjust := func(key string) {
		v, ok := e.st.Mult[key]
		if !ok {
			v = 1
		}
		if f.TruePositive {
			v = max(0.6, v*0.9)
		} else {
			v = min(5, v*1.3)
		}
		e.st.Mult[key] = v
	}
	if f.User != "" {
		adjust(f.Rule + "|user:" + f.User)
	}
	if f.UnitID != 0 && !f.TruePositive {
		// A unit's threshold moves only a little for one person's false
		// positive: feedback on one does not blind the rule for all.
		key := f.Rule + "|unit:" + strconv.FormatInt(f.UnitID, 10)
		v, ok := e.st.Mult[key]
		if !ok {
			v = 1
		}
		e.st.Mult[key] = min(2, v*1.05)
	}
}
