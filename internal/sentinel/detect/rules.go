package detect

import (
	"math"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
)

// view is a person's usual as the rules compare with: their own
// baseline, blended with their peers' while it is young.
type view struct {
	F [nFeat]stat
	H [24]float64
	O float64
	N int // days behind it, own and peers'
	// Young multiplies thresholds while the usual is young (1–2).
	Young float64
}

// minGroupDays is how many person-days a peer group needs before it is a
// prior; below it, the unit as a whole; below that, office hours and
// nothing else.
const minGroupDays = 20

// view returns p's usual.
func (e *Engine) view(p *person) view {
	var prior *baseline
	if g := e.st.Groups[roleKey(p)]; g != nil && g.N >= minGroupDays {
		prior = g
	} else if g := e.st.Groups[unitKey(p)]; g != nil && g.N >= minGroupDays {
		prior = g
	}
	w := 1.0
	if p.Base.N < e.cfg.PriorDays {
		w = float64(p.Base.N) / float64(e.cfg.PriorDays)
	}
	var v view
	v.N = p.Base.N
	if prior == nil {
		prior = &officeHours
	} else {
		v.N += prior.N
	}
	// Young knows little: thresholds ask for up to twice the evidence
	// until there are PriorDays days behind the usual.
	v.Young = 1 + max(0, float64(e.cfg.PriorDays-v.N))/float64(e.cfg.PriorDays)
	for i := range v.F {
		v.F[i].M = w*p.Base.F[i].M + (1-w)*prior.F[i].M
		v.F[i].D = w*p.Base.F[i].D + (1-w)*prior.F[i].D
	}
	for h := range v.H {
		v.H[h] = w*p.Base.H[h] + (1-w)*prior.H[h]
	}
	v.O = w*p.Base.O + (1-w)*prior.O
	return v
}

// officeHours is the prior of a person with no peers yet: working days,
// 07:00–18:00.
var officeHours = func() baseline {
	var b baseline
	for h := 7; h < 18; h++ {
		b.H[h] = 0.5
	}
	b.O = 0.03
	return b
}()

func roleKey(p *person) string { return "r:" + strconv.FormatInt(p.Unit, 10) + "/" + p.Roles }
func unitKey(p *person) string { return "u:" + strconv.FormatInt(p.Unit, 10) }

// scale is a stat's spread as a standard deviation, never below a
// Poisson count's: one more than usual of something rare is no anomaly.
func (s stat) scale() float64 { return max(1.25*s.D, math.Sqrt(s.M+1)) }

// high is the top of the usual range.
func (s stat) high() float64 { return s.M + 3*s.scale() }

// offHours reports whether local hour h of a day (off: a day off) is
// outside v's usual hours, and whether it is only the day that is
// unusual (a day off, in the usual hours).
func (v *view) offHours(h int, off bool) (outside, dayOnly bool) {
	if max(v.H[(h+23)%24], v.H[h], v.H[(h+1)%24]) < 0.05 {
		return true, false
	}
	if off && v.O < 0.08 {
		return true, true
	}
	return false, false
}

// usualHours returns the span of hours usually worked, such as "07–18".
func (v *view) usualHours() string {
	first, last := -1, -1
	for h, s := range v.H {
		if s >= 0.2 {
			if first < 0 {
				first = h
			}
			last = h
		}
	}
	if first < 0 {
		return "—"
	}
	return pad2(first) + ":00–" + pad2(last+1) + ":00"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func isTake(m mark) bool { return m.Cat == catRead || m.Cat == catDownload || m.Cat == catCopy }

// may reports whether rule may alert about a subject (fired holds its
// last alerts) at t on evidence n, and if so records it: once per
// cooldown, unless the evidence tripled.
func (e *Engine) may(f map[string]fired, rule string, t int64, n int) bool {
	last, ok := f[rule]
	if ok && t-last.T < int64(e.cfg.Cooldown/time.Microsecond) && n < 3*last.N {
		return false
	}
	f[rule] = fired{T: t, N: n}
	return true
}

func (e *Engine) mayPerson(p *person, rule string, t int64, n int) bool {
	if p.Fired == nil {
		p.Fired = map[string]fired{}
	}
	return e.may(p.Fired, rule, t, n)
}

// personAlert returns p's alert of rule with score, citing ms.
func (e *Engine) personAlert(p *person, rule string, score float64, t int64, ms []mark, title, expl Text) Alert {
	score = round1(min(100, max(0, score)))
	a := Alert{Rule: rule, User: p.Name, ActorKind: string(audit.ActorStaff), ActorID: p.ID, UnitID: p.Unit,
		Score: score, Risk: e.risk(p, score, t), Title: title, Explanation: expl}
	for _, m := range ms {
		a.Events = append(a.Events, m.Seq)
		a.Level = max(a.Level, authz.Level(m.Lvl))
		ts := time.UnixMicro(m.T).UTC()
		if a.First.IsZero() {
			a.First = ts
		}
		a.Last = ts
	}
	return a
}

// personEvent applies the person rules to ev, of category cat, by p.
func (e *Engine) personEvent(p *person, ev audit.Event, cat uint8, t int64) []Alert {
	_, hour, off := e.zoneOf(p.Unit).local(t)
	v := e.view(p)
	e.activate(p, &v)
	p.TodayHours |= 1 << hour
	before := p.Today[fTake]
	defer func() { e.unitDay(p).Take += p.Today[fTake] - before }()
	m := mark{Seq: ev.Seq, T: t, Cat: cat, Lvl: uint8(ev.Level)}
	isOff, dayOnly := v.offHours(hour, off)
	if isOff {
		m.Flags |= flOff
		p.Today[fOffHours]++
		if dayOnly {
			m.Flags |= flDayOff
		}
	}
	var out []Alert
	switch cat {
	case catRead, catDownload, catCopy:
		switch cat {
		case catRead:
			p.Today[fReads]++
			p.Today[fTake]++
		case catDownload:
			p.Today[fDownloads]++
			p.Today[fTake] += 2
		case catCopy:
			p.Today[fCopies]++
			p.Today[fTake] += 2
		}
		if ev.Level > authz.Unclassified {
			p.Today[fClassified]++
			p.Today[fTake]++
			if cat != catRead {
				p.Today[fClassOut]++
			}
		}
		if foreign(p, ev) {
			m.Flags |= flForeign
			p.Today[fForeign]++
		}
		if pr := p.Priv; pr != nil && !pr.Done && t-pr.T <= int64(e.cfg.PrivilegeWindow/time.Microsecond) &&
			(ev.Level > pr.Old || pr.Roles != "" && m.Flags&flForeign != 0) {
			m.Flags |= flPriv
			pr.Uses++
		}
		p.addMark(m)
		out = e.bulk(p, &v, t, out)
		if m.Flags&flForeign != 0 {
			out = e.curiosity(p, &v, t, out)
		}
		if m.Flags&flPriv != 0 {
			out = e.privilegeUse(p, t, out)
		}
	case catSend:
		m.Flags |= e.recipients(p, ev)
		p.Today[fSends]++
		p.addMark(m)
		out = e.exchange(p, &v, t, out)
	case catDenied:
		w := 1
		if s, err := strconv.Atoi(ev.Attrs["suppressed"]); err == nil && s > 0 {
			m.N = uint16(min(s, math.MaxUint16))
			w += int(m.N)
		}
		if ev.Attrs["decision"] == "concealed" {
			m.Flags |= flConcealed
		}
		p.Today[fDenied] += float64(w)
		p.addMark(m)
		out = e.probes(p, &v, t, out)
	}
	if isOff && cat != catDenied {
		out = e.offHoursRule(p, &v, hour, off, t, out)
	}
	return out
}

// foreign reports whether ev touched what belongs to a unit other than
// p's: a dossier of another unit (dossier events carry the dossier's
// unit), or anything whose "owner_unit" is another.
func foreign(p *person, ev audit.Event) bool {
	if p.Unit == 0 {
		return false
	}
	if o := ev.Attrs["owner_unit"]; o != "" {
		id, err := strconv.ParseInt(o, 10, 64)
		return err == nil && id != p.Unit
	}
	return strings.HasPrefix(ev.Action, "dossier.") && ev.UnitID != 0 && ev.UnitID != p.Unit
}

// usual returns the usual range of a day's count of feature i.
func usual(v *view, i int) (lo, hi int) {
	s := v.F[i]
	return int(math.Max(0, math.Floor(s.M-s.D))), int(math.Ceil(s.M + 2*s.scale()))
}

// usualSum is usual for the sum of features is.
func usualSum(v *view, is ...int) (lo, hi int) {
	var s stat
	for _, i := range is {
		s.M += v.F[i].M
		s.D += v.F[i].D
	}
	return int(math.Max(0, math.Floor(s.M-s.D))), int(math.Ceil(s.M + 2*s.scale()))
}

// bulk is bulk_read: in the window, or in the day, a person took far more
// than their usual (classified items and downloads weigh more).
func (e *Engine) bulk(p *person, v *view, t int64, out []Alert) []Alert {
	mu := e.mult("bulk_read", p.Name, p.Unit) * v.Young
	hi := v.F[fTake].high()
	lift := e.lift(p)
	thrHour := max(float64(e.cfg.BulkMin), 0.6*hi) * mu * lift
	if p.Today[fTake] < thrHour {
		return out
	}
	from := t - int64(e.cfg.BulkWindow/time.Microsecond)
	ms, _ := p.marks(from, isTake)
	var n [nFeat]int
	w := 0.0
	for _, m := range ms {
		switch m.Cat {
		case catRead:
			n[fReads]++
			w++
		case catDownload:
			n[fDownloads]++
			w += 2
		case catCopy:
			n[fCopies]++
			w += 2
		}
		if m.Lvl > 0 {
			n[fClassified]++
			w++
		}
	}
	thrDay := max(float64(e.cfg.DayMin), 2*hi, 1.2*p.Base.P[fTake]) * mu * lift
	ratio := w / thrHour
	span := time.Duration(0)
	if len(ms) > 0 {
		span = time.Duration(ms[len(ms)-1].T-ms[0].T) * time.Microsecond
	}
	if w < thrHour {
		if p.Today[fTake] < thrDay {
			return out
		}
		// The day, not the hour, is what stands out: cite the day.
		ratio = p.Today[fTake] / thrDay
		ms, _ = p.marks(e.dayStart(p), isTake)
		for i := range n {
			n[i] = int(p.Today[i])
		}
		if len(ms) > 0 {
			span = time.Duration(t-ms[0].T) * time.Microsecond
		}
	}
	items := n[fReads] + n[fDownloads] + n[fCopies]
	if !e.mayPerson(p, "bulk_read", t, items) {
		return out
	}
	score := 55 + 20*math.Log2(ratio)
	if n[fClassified]*2 > items {
		score += 10
	}
	if p.NewAddr != 0 && t-p.NewAddr < 12*microsPerHour {
		score += 10
	}
	lo, hiN := usualSum(v, fReads, fDownloads, fCopies)
	title, expl := textBulk(items, n[fReads], n[fDownloads], n[fCopies], n[fClassified], span, lo, hiN)
	return append(out, e.personAlert(p, "bulk_read", max(score, e.cfg.AlertScore), t, ms, title, expl))
}

// curiosity is reading other units' dossiers or documents far beyond
// the person's usual.
func (e *Engine) curiosity(p *person, v *view, t int64, out []Alert) []Alert {
	mu := e.mult("curiosity", p.Name, p.Unit) * v.Young
	s := v.F[fForeign]
	thr := max(float64(e.cfg.CuriosityMin), s.M+4*s.scale()+2) * mu * e.lift(p)
	n := p.Today[fForeign]
	if n < thr || !e.mayPerson(p, "curiosity", t, int(n)) {
		return out
	}
	ms, _ := p.marks(e.dayStart(p), func(m mark) bool { return m.Flags&flForeign != 0 })
	span := time.Duration(0)
	if len(ms) > 0 {
		span = time.Duration(ms[len(ms)-1].T-ms[0].T) * time.Microsecond
	}
	lo, hi := usual(v, fForeign)
	title, expl := textCuriosity(int(n), span, lo, hi)
	score := 55 + 20*math.Log2(n/thr)
	return append(out, e.personAlert(p, "curiosity", max(score, e.cfg.AlertScore), t, ms, title, expl))
}

// probes is concealed_probes: repeated refusals in an hour, most of
// them answered as if the item did not exist.
func (e *Engine) probes(p *person, v *view, t int64, out []Alert) []Alert {
	mu := e.mult("concealed_probes", p.Name, p.Unit) * v.Young
	s := v.F[fDenied]
	thr := max(float64(e.cfg.ProbeMin), s.M+4*s.scale()) * mu
	ms, n := p.marks(t-microsPerHour, func(m mark) bool { return m.Cat == catDenied })
	if float64(n) < thr || !e.mayPerson(p, "concealed_probes", t, n) {
		return out
	}
	concealed := 0
	for _, m := range ms {
		if m.Flags&flConcealed != 0 {
			concealed += 1 + int(m.N)
		}
	}
	span := time.Duration(t-ms[0].T) * time.Microsecond
	lo, hi := usual(v, fDenied)
	title, expl := textProbes(n, concealed, span, lo, hi)
	score := 50 + 20*math.Log2(float64(n)/thr) + 10*float64(concealed)/float64(n)
	return append(out, e.personAlert(p, "concealed_probes", max(score, e.cfg.AlertScore), t, ms, title, expl))
}

// recipients learns ev's recipients and returns flNewRecip if one is new
// to the person and to their unit.
func (e *Engine) recipients(p *person, ev audit.Event) uint8 {
	var list string
	for _, k := range []string{"recipients", "recipient", "to"} {
		if v := ev.Attrs[k]; v != "" {
			list = v
			break
		}
	}
	if list == "" {
		return 0
	}
	if p.Recips == nil {
		p.Recips = map[string]int64{}
	}
	unit := e.st.URecips[p.Unit]
	if unit == nil {
		unit = map[string]int64{}
		e.st.URecips[p.Unit] = unit
	}
	var flags uint8
	for r := range strings.SplitSeq(list, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if _, known := p.Recips[r]; !known {
			if _, unitKnown := unit[r]; !unitKnown && p.Base.N > 0 {
				flags |= flNewRecip
				p.Today[fNewRecips]++
			}
		}
		remember(p.Recips, r, p.Day, 256)
		remember(unit, r, p.Day, 1024)
	}
	return flags
}

// remember sets m[k] = day, first forgetting the longest unseen key if m
// holds limit keys.
func remember(m map[string]int64, k string, day int64, limit int) {
	if _, ok := m[k]; !ok && len(m) >= limit {
		oldK, oldD := "", int64(math.MaxInt64)
		for k2, d := range m {
			if d < oldD || d == oldD && k2 < oldK {
				oldK, oldD = k2, d
			}
		}
		delete(m, oldK)
	}
	m[k] = day
}

// exchange is exchange_volume: messages in unusual volume, or to
// recipients neither the person nor their unit ever wrote to.
func (e *Engine) exchange(p *person, v *view, t int64, out []Alert) []Alert {
	mu := e.mult("exchange_volume", p.Name, p.Unit) * v.Young
	s, r := v.F[fSends], v.F[fNewRecips]
	thrS := max(float64(e.cfg.SendMin), s.M+4*s.scale()+3) * mu
	thrN := max(float64(e.cfg.NewRecipients), r.M+4*r.scale()) * mu
	sends, news := p.Today[fSends], p.Today[fNewRecips]
	if sends < thrS && news < thrN {
		return out
	}
	if !e.mayPerson(p, "exchange_volume", t, int(sends+news)) {
		return out
	}
	ms, _ := p.marks(e.dayStart(p), func(m mark) bool { return m.Cat == catSend })
	lo, hi := usual(v, fSends)
	title, expl := textExchange(int(sends), int(news), lo, hi)
	score := 50 + 20*math.Log2(max(sends/thrS, news/thrN))
	return append(out, e.personAlert(p, "exchange_volume", max(score, e.cfg.AlertScore), t, ms, title, expl))
}

// offHoursRule is off_hours: a run of work outside the person's usual
// hours or on their days off.
func (e *Engine) offHoursRule(p *person, v *view, hour int, off bool, t int64, out []Alert) []Alert {
	mu := e.mult("off_hours", p.Name, p.Unit) * v.Young
	thr := float64(e.cfg.OffHoursMin) * mu
	ms, _ := p.marks(t-2*microsPerHour, func(m mark) bool { return m.Flags&flOff != 0 && m.Cat != catDenied })
	// Work on a day off in the usual hours counts half: a Saturday
	// morning is less strange than three in the morning.
	w := 0.0
	for _, m := range ms {
		if m.Flags&flDayOff != 0 {
			w += 0.5
		} else {
			w++
		}
	}
	n := len(ms)
	if w < thr || !e.mayPerson(p, "off_hours", t, n) {
		return out
	}
	score := 50 + 20*math.Log2(w/thr)
	if p.NewAddr != 0 && t-p.NewAddr < 12*microsPerHour {
		score += 15
	}
	title, expl := textOffHours(n, hour, off, time.Duration(t-ms[0].T)*time.Microsecond, v.usualHours())
	return append(out, e.personAlert(p, "off_hours", max(score, e.cfg.AlertScore), t, ms, title, expl))
}

// privilegeUse is privilege_then_use: a new clearance or role put to use
// at once, above all for items above the old clearance.
func (e *Engine) privilegeUse(p *person, t int64, out []Alert) []Alert {
	pr := p.Priv
	mu := e.mult("privilege_then_use", p.Name, p.Unit)
	if float64(pr.Uses) < float64(e.cfg.PrivilegeMin)*mu {
		return out
	}
	pr.Done = true
	ms, _ := p.marks(pr.T, func(m mark) bool { return m.Flags&flPriv != 0 })
	ms = append([]mark{{Seq: pr.Seq, T: pr.T}}, ms...)
	if len(ms) > MaxEvidence {
		ms = append(ms[:1], ms[len(ms)-MaxEvidence+1:]...)
	}
	score := 60.0
	if pr.By == "self" {
		score += 25
	}
	title, expl := textPrivilege(pr, time.Duration(t-pr.T)*time.Microsecond)
	return append(out, e.personAlert(p, "privilege_then_use", score, t, ms, title, expl))
}

// loginEvent applies the sign-in rules.
func (e *Engine) loginEvent(ev audit.Event, t int64) []Alert {
	if ev.Outcome == audit.Failed || ev.Outcome == audit.Denied {
		return e.failure(ev, t)
	}
	if ev.Actor.Kind != audit.ActorStaff {
		return nil
	}
	p := e.person(ev.Actor, t)
	if p.Unit == 0 && ev.UnitID != 0 {
		p.Unit = ev.UnitID
	}
	if p.Name != "" {
		e.st.Accounts["staff:"+p.ID] = p.Name
	}
	out := e.roll(p, t)
	_, hour, off := e.zoneOf(p.Unit).local(t)
	v := e.view(p)
	e.activate(p, &v)
	p.TodayHours |= 1 << hour
	if p.Addrs == nil {
		p.Addrs = map[string]int64{}
	}
	unit := e.st.UAddrs[p.Unit]
	if unit == nil {
		unit = map[string]int64{}
		e.st.UAddrs[p.Unit] = unit
	}
	for _, k := range []string{"address", "device"} {
		val := ev.Attrs[k]
		if val == "" {
			continue
		}
		key := val
		if k == "device" {
			key = "device:" + val
		}
		_, known := p.Addrs[key]
		_, unitKnown := unit[key]
		remember(p.Addrs, key, p.Day, 32)
		remember(unit, key, p.Day, 512)
		if known || p.Base.N < 5 {
			continue
		}
		p.NewAddr = t
		score := 30.0
		if !unitKnown {
			score += 15
		}
		isOff, _ := v.offHours(hour, off)
		if isOff {
			score += 20
		}
		fails := len(pruneMarks(e.st.FailAcct["staff:"+p.ID], t-microsPerHour))
		if fails >= 3 {
			score += 25
		}
		if score < e.cfg.AlertScore*e.mult("new_address", p.Name, p.Unit) || !e.mayPerson(p, "new_address", t, 1) {
			e.risk(p, score/4, t)
			continue
		}
		title, expl := textNewAddress(k == "device", val, !unitKnown, isOff, fails, len(p.Addrs)-1)
		m := mark{Seq: ev.Seq, T: t, Cat: catLogin}
		p.addMark(m)
		out = append(out, e.personAlert(p, "new_address", score, t, []mark{m}, title, expl))
	}
	return out
}

// failure records a refused sign-in and applies signin_failures and
// credential_stuffing.
func (e *Engine) failure(ev audit.Event, t int64) []Alert {
	acct := ev.ResourceType + ":" + ev.ResourceID
	if ev.ResourceID == "" {
		acct = "name:" + ev.Attrs["username"]
	}
	addr := ev.Attrs["address"]
	from := t - int64(e.cfg.SigninWindow/time.Microsecond)
	var out []Alert
	fa := append(pruneMarks(e.st.FailAcct[acct], from), tmark{Seq: ev.Seq, T: t, Key: addr})
	e.st.FailAcct[acct] = fa
	user := e.st.Accounts[acct]
	if user == "" && ev.ResourceID == "" {
		user = ev.Attrs["username"]
	}
	if float64(len(fa)) >= float64(e.cfg.SigninFailures)*e.mult("signin_failures", user, 0) &&
		e.may(e.st.Fired, "signin_failures|"+acct, t, len(fa)) {
		addrs := distinct(fa)
		title, expl := textFailures(len(fa), addrs, time.Duration(t-fa[0].T)*time.Microsecond)
		a := Alert{Rule: "signin_failures", User: user, Score: round1(min(100, 50+20*math.Log2(float64(len(fa))/float64(e.cfg.SigninFailures)))),
			Title: title, Explanation: expl}
		if ev.ResourceID != "" {
			a.ActorKind, a.ActorID = ev.ResourceType, ev.ResourceID
		}
		if addrs == 1 {
			a.Address = addr
		}
		out = append(out, globalAlert(a, fa))
	}
	if addr == "" {
		return out
	}
	fd := append(pruneMarks(e.st.FailAddr[addr], from), tmark{Seq: ev.Seq, T: t, Key: acct})
	e.st.FailAddr[addr] = fd
	n := distinct(fd)
	if float64(n) >= float64(e.cfg.StuffingAccounts)*e.mult("credential_stuffing", "", 0) && e.may(e.st.Fired, "credential_stuffing|"+addr, t, n) {
		title, expl := textStuffing(addr, n, len(fd), time.Duration(t-fd[0].T)*time.Microsecond)
		a := Alert{Rule: "credential_stuffing", Address: addr, Score: round1(min(100, 60+20*math.Log2(float64(n)/float64(e.cfg.StuffingAccounts)))),
			Title: title, Explanation: expl}
		out = append(out, globalAlert(a, fd))
	}
	return out
}

// stormEvent applies lockout_storm to auth's own slowdowns, blocks and
// alerts.
func (e *Engine) stormEvent(ev audit.Event, t int64) []Alert {
	key := ev.Attrs["address"]
	if ev.ResourceID != "" {
		key = ev.ResourceType + ":" + ev.ResourceID
	}
	from := t - int64(e.cfg.SigninWindow/time.Microsecond)
	e.st.Storm = append(pruneMarks(e.st.Storm, from), tmark{Seq: ev.Seq, T: t, Key: key})
	n, k := len(e.st.Storm), distinct(e.st.Storm)
	if float64(n) < float64(e.cfg.StormEvents)*e.mult("lockout_storm", "", 0) || k < 3 || !e.may(e.st.Fired, "lockout_storm", t, n) {
		return nil
	}
	title, expl := textStorm(n, k, time.Duration(t-e.st.Storm[0].T)*time.Microsecond)
	a := Alert{Rule: "lockout_storm", Score: round1(min(100, 60+20*math.Log2(float64(n)/float64(e.cfg.StormEvents)))), Title: title, Explanation: expl}
	return []Alert{globalAlert(a, e.st.Storm)}
}

// distinct counts the distinct keys of ms.
func distinct(ms []tmark) int {
	seen := make(map[string]struct{}, len(ms))
	for _, m := range ms {
		seen[m.Key] = struct{}{}
	}
	return len(seen)
}

// globalAlert fills a's evidence from ms.
func globalAlert(a Alert, ms []tmark) Alert {
	if len(ms) > MaxEvidence {
		ms = ms[len(ms)-MaxEvidence:]
	}
	for _, m := range ms {
		a.Events = append(a.Events, m.Seq)
	}
	if len(ms) > 0 {
		a.First, a.Last = time.UnixMicro(ms[0].T).UTC(), time.UnixMicro(ms[len(ms)-1].T).UTC()
	}
	return a
}

// activate marks p active today, adding their usual take to their unit's
// day the first time.
func (e *Engine) activate(p *person, v *view) {
	if p.Active {
		return
	}
	p.Active = true
	p.TodayExp = max(v.F[fTake].M, 1)
	ud := e.unitDay(p)
	ud.Exp += p.TodayExp
	ud.N++
}

// unitDay returns the day of p's unit that p is on, starting it if it is
// new.
func (e *Engine) unitDay(p *person) *unitDay {
	uds := e.st.UnitDays[p.Unit]
	if uds == nil {
		uds = &[2]unitDay{}
		e.st.UnitDays[p.Unit] = uds
	}
	switch p.Day {
	case uds[0].Day:
		return &uds[0]
	case uds[1].Day:
		return &uds[1]
	}
	if p.Day > uds[0].Day {
		uds[1], uds[0] = uds[0], unitDay{Day: p.Day}
		return &uds[0]
	}
	// A day older than both: a late event of a closed day; count it in
	// a scratch day that is dropped.
	return &unitDay{Day: p.Day}
}

// minLiftPeers is how many others of the unit must be active for their
// day to say what kind of day it is.
const minLiftPeers = 3

// lift returns how far p's unit as a whole (p left out) is above its
// usual today, 1–4: on a report day everyone reads more, and a person
// reading three times their usual then is less remarkable.
func (e *Engine) lift(p *person) float64 {
	ud := e.unitDay(p)
	if ud.N-1 < minLiftPeers {
		return 1
	}
	exp := ud.Exp - p.TodayExp
	if exp <= 0 {
		return 1
	}
	return min(4, max(1, (ud.Take-p.Today[fTake])/exp))
}

// inconsistencyAlert is ledger_inconsistency: a witness refused a
// checkpoint of headquarters' ledger because it contradicts one it
// cosigned before (a fork or a rewind), recorded on the witness's node or
// on the ledger's. One such event is enough: an honest ledger never
// causes one.
func inconsistencyAlert(ev audit.Event) Alert {
	side := Text{VI: "nhân chứng từ chối một điểm kiểm tra của sổ nhật ký", EN: "a witness refused a checkpoint of the ledger"}
	if ev.Attrs["side"] == "log" {
		side = Text{VI: "nhân chứng báo sổ nhật ký không nhất quán", EN: "a witness reported the ledger inconsistent"}
	}
	return Alert{Rule: "ledger_inconsistency", Score: 100, Risk: 100,
		Title: Text{VI: "Sổ nhật ký kiểm toán bị rẽ nhánh hoặc quay lui", EN: "Audit ledger forked or rewound"},
		Explanation: Text{
			VI: side.VI + " " + ev.ResourceID + " (" + ev.Attrs["witness"] + "): " + ev.Reason,
			EN: side.EN + " " + ev.ResourceID + " (" + ev.Attrs["witness"] + "): " + ev.Reason,
		},
		Events: []uint64{ev.Seq}, First: ev.Time.UTC(), Last: ev.Time.UTC()}
}
