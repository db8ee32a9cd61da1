package detect

import (
	"math"
	"slices"
	"time"
)

// The model scores each person's day when it closes. Each feature of the
// day gets a robust z-score against the person's usual (an exponentially
// weighted mean and mean absolute deviation, clipped so one extreme day
// cannot teach that extremes are usual, blended with the peer group's
// while the person is new); the day's anomaly is the length of the vector
// of positive z-scores, the Mahalanobis distance of a diagonal Gaussian
// that ignores days quieter than usual. A one-sided CUSUM of the weighted
// take catches the slow leaker, whose every day is only a little above
// usual.

// modelFeatures are the features the model scores (fTake is their sum).
var modelFeatures = [...]int{fReads, fDownloads, fCopies, fClassified, fForeign, fOffHours, fSends, fNewRecips, fDenied, fClassOut}

// liftedFeatures are the volumes a unit's lift divides.
var liftedFeatures = [...]int{fReads, fDownloads, fCopies, fClassified, fForeign, fClassOut, fTake}

// The model's constants: a day's distance below anomalyFloor is
// ordinary; anomalySpread turns the distance above it into 0–100.
// cusumSlack is the z-score a day may run above usual without building
// up, cusumAlarm the sum that alarms.
const (
	anomalyFloor  = 4.0
	anomalySpread = 5.0
	// peakZ caps the z-score of a volume the person reached lately;
	// peakHalfLife is in active days.
	peakZ        = 2.0
	peakHalfLife = 60.0
	cusumSlack   = 1.5
	cusumAlarm   = 7.0
)

// closeDay scores p's day that ended and folds it into the baselines.
func (e *Engine) closeDay(p *person) []Alert {
	v := e.view(p)
	x := p.Today
	// On a day the whole unit worked harder (a report), a person's
	// volumes are measured against the unit's lift.
	lift := e.lift(p)
	for _, i := range liftedFeatures {
		x[i] /= lift
	}
	var z [nFeat]float64
	dist := 0.0
	for _, i := range modelFeatures {
		z[i] = (x[i] - v.F[i].M) / v.F[i].scale()
		if x[i] <= p.Base.P[i] {
			z[i] = min(z[i], peakZ)
		}
		if i == fOffHours {
			// Hours alone make an odd day, not a risky one: off_hours
			// speaks for them.
			z[i] = min(z[i], 2)
		}
		if z[i] > 0 {
			dist += z[i] * z[i]
		}
	}
	dist = math.Sqrt(dist)
	// The CUSUM follows whichever of the weighted take and the classified
	// items taken out stands out more.
	// Peaks do not cap it: the slow leaker's every day is like the last.
	zt := max((x[fTake]-v.F[fTake].M)/v.F[fTake].scale(), (x[fClassOut]-v.F[fClassOut].M)/v.F[fClassOut].scale())
	var out []Alert
	end := e.dayStart(p) + microsPerDay - 1
	if v.N >= e.cfg.PriorDays {
		score := 100 * (1 - math.Exp(-max(0, dist-anomalyFloor)/anomalySpread))
		if score > 0 {
			e.risk(p, score/3, end)
		}
		if score >= e.cfg.AnomalyScore*e.mult("anomaly", p.Name, p.Unit) && e.mayPerson(p, "anomaly", end, 1) {
			out = append(out, e.anomalyAlert(p, &v, z, score, end))
		}
		p.Cusum = max(0, p.Cusum+min(zt, 4)-cusumSlack)
		if p.Cusum >= cusumAlarm*e.mult("sustained_volume", p.Name, p.Unit) {
			if e.mayPerson(p, "sustained_volume", end, 1) {
				out = append(out, e.sustainedAlert(p, &v, end))
			}
			p.Cusum = 0
		}
	}
	e.fold(&p.Base, p, max(e.alpha, 1/float64(p.Base.N+1)), true)
	for _, k := range []string{roleKey(p), unitKey(p)} {
		g := e.st.Groups[k]
		if g == nil {
			g = &baseline{}
			e.st.Groups[k] = g
		}
		e.fold(g, p, max(0.01, 1/float64(g.N+1)), false)
	}
	return out
}

// fold folds p's day into b with weight a; clip keeps an extreme day from
// moving b far once b has a few days behind it.
func (e *Engine) fold(b *baseline, p *person, a float64, clip bool) {
	for i := range b.F {
		s := &b.F[i]
		x := p.Today[i]
		if clip && b.N >= 3 {
			x = min(x, s.M+4*s.scale())
		}
		d := math.Abs(x - s.M)
		s.M += a * (x - s.M)
		s.D += a * (d - s.D)
	}
	if clip {
		decay := math.Exp2(-1 / peakHalfLife)
		for i := range b.P {
			b.P[i] = max(p.Today[i], b.P[i]*decay)
		}
	}
	for h := range b.H {
		on := 0.0
		if p.TodayHours&(1<<h) != 0 {
			on = 1
		}
		b.H[h] += a * (on - b.H[h])
	}
	off := 0.0
	if p.DayOff {
		off = 1
	}
	b.O += a * (off - b.O)
	b.N++
}

// anomalyAlert explains a day the model found unusual by its three most
// unusual features.
func (e *Engine) anomalyAlert(p *person, v *view, z [nFeat]float64, score float64, end int64) Alert {
	idx := append([]int(nil), modelFeatures[:]...)
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case z[a] > z[b]:
			return -1
		case z[a] < z[b]:
			return 1
		}
		return 0
	})
	var parts []featurePart
	cats := map[uint8]bool{}
	for _, i := range idx[:3] {
		if z[i] < 2 {
			break
		}
		lo, hi := usual(v, i)
		parts = append(parts, featurePart{Feature: i, N: int(p.Today[i]), Lo: lo, Hi: hi})
		for _, c := range featureCats[i] {
			cats[c] = true
		}
	}
	ms, _ := p.marks(e.dayStart(p), func(m mark) bool { return cats[m.Cat] })
	title, expl := textAnomaly(parts, time.UnixMicro(end).In(e.zoneOf(p.Unit).loc))
	return e.personAlert(p, "anomaly", score, end, ms, title, expl)
}

// featureCats are the events each feature counts, for evidence.
var featureCats = [nFeat][]uint8{
	fReads: {catRead}, fDownloads: {catDownload}, fCopies: {catCopy}, fClassified: {catRead, catDownload, catCopy},
	fForeign: {catRead, catDownload, catCopy}, fOffHours: {catRead, catDownload, catCopy, catSend}, fSends: {catSend},
	fNewRecips: {catSend}, fDenied: {catDenied}, fClassOut: {catDownload, catCopy}, fTake: {catRead, catDownload, catCopy},
}

// featurePart is one feature of a day the model explains.
type featurePart struct {
	Feature, N, Lo, Hi int
}

// sustainedAlert explains days of taking a little more than usual that
// added up.
func (e *Engine) sustainedAlert(p *person, v *view, end int64) Alert {
	ms, _ := p.marks(end-14*microsPerDay, func(m mark) bool { return isTake(m) && (m.Lvl > 0 || m.Cat != catRead) })
	lo, hi := usualSum(v, fDownloads, fCopies, fClassified)
	days := map[int64]bool{}
	for _, m := range ms {
		days[m.T/microsPerDay] = true
	}
	title, expl := textSustained(len(ms), len(days), lo, hi)
	return e.personAlert(p, "sustained_volume", 60, end, ms, title, expl)
}
