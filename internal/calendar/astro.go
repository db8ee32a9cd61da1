package calendar

import "math"

// The astronomy the lunisolar calendars and the equinox holidays rest on:
// the instants of new moons and the Sun's apparent longitude, from Jean
// Meeus, Astronomical Algorithms (2nd ed., 1998), chapters 49 and 25, with
// ΔT from the polynomial fits of Espenak and Meeus (NASA, 2006).
//
// Times are Julian Days. The formulas give Terrestrial Time (JDE); civil
// days are reckoned in Universal Time, ΔT seconds earlier.

const (
	jdUnixEpoch   = 2440587.5 // 1970-01-01 00:00 UT, day number 0
	j2000         = 2451545.0 // 2000-01-01 12:00 TT
	synodicMonth  = 29.530588861
	newMoonEpoch  = 2451550.09766 // the new moon of 2000-01-06, k = 0
	tropicalYear  = 365.242189
	degreesPerRad = 180 / math.Pi
)

func sinDeg(x float64) float64 { return math.Sin(x / degreesPerRad) }
func cosDeg(x float64) float64 { return math.Cos(x / degreesPerRad) }

// newMoon returns the instant, in Universal Time, of the k-th new moon
// after that of 6 January 2000 (negative k: before it). Meeus puts the
// error of the series at a few seconds over centuries around 2000, far
// below what decides a day except when a new moon falls within a minute
// of midnight.
func newMoon(k int) float64 {
	kf := float64(k)
	t := kf / 1236.85 // Julian centuries from J2000
	t2, t3, t4 := t*t, t*t*t, t*t*t*t
	jde := newMoonEpoch + synodicMonth*kf + 0.00015437*t2 - 0.000000150*t3 + 0.00000000073*t4

	e := 1 - 0.002516*t - 0.0000074*t2                                               // the Earth orbit's eccentricity factor
	m := 2.5534 + 29.10535670*kf - 0.0000014*t2 - 0.00000011*t3                      // Sun's mean anomaly
	mm := 201.5643 + 385.81693528*kf + 0.0107582*t2 + 0.00001238*t3 - 0.000000058*t4 // Moon's mean anomaly
	f := 160.7108 + 390.67050284*kf - 0.0016118*t2 - 0.00000227*t3 + 0.000000011*t4  // Moon's argument of latitude
	om := 124.7746 - 1.56375588*kf + 0.0020672*t2 + 0.00000215*t3                    // longitude of the ascending node

	jde += -0.40720*sinDeg(mm) +
		0.17241*e*sinDeg(m) +
		0.01608*sinDeg(2*mm) +
		0.01039*sinDeg(2*f) +
		0.00739*e*sinDeg(mm-m) -
		0.00514*e*sinDeg(mm+m) +
		0.00208*e*e*sinDeg(2*m) -
		0.00111*sinDeg(mm-2*f) -
		0.00057*sinDeg(mm+2*f) +
		0.00056*e*sinDeg(2*mm+m) -
		0.00042*sinDeg(3*mm) +
		0.00042*e*sinDeg(m+2*f) +
		0.00038*e*sinDeg(m-2*f) -
		0.00024*e*sinDeg(2*mm-m) -
		0.00017*sinDeg(om) -
		0.00007*sinDeg(mm+2*m) +
		0.00004*sinDeg(2*mm-2*f) +
		0.00004*sinDeg(3*m) +
		0.00003*sinDeg(mm+m-2*f) +
		0.00003*sinDeg(2*mm+2*f) -
		0.00003*sinDeg(mm+m+2*f) +
		0.00003*sinDeg(mm-m+2*f) -
		0.00002*sinDeg(mm-m-2*f) -
		0.00002*sinDeg(3*mm+m) +
		0.00002*sinDeg(4*mm)

	// The planetary arguments' small corrections.
	for _, p := range planetaryTerms {
		jde += p.amplitude * sinDeg(p.base+p.rate*kf+p.square*t2)
	}
	return jde - deltaT(2000+kf/12.3685)/86400
}

var planetaryTerms = [...]struct{ amplitude, base, rate, square float64 }{
	{0.000325, 299.77, 0.107408, -0.009173},
	{0.000165, 251.88, 0.016321, 0},
	{0.000164, 251.83, 26.651886, 0},
	{0.000126, 349.42, 36.412478, 0},
	{0.000110, 84.66, 18.206239, 0},
	{0.000062, 141.74, 53.303771, 0},
	{0.000060, 207.14, 2.453732, 0},
	{0.000056, 154.84, 7.306860, 0},
	{0.000047, 34.52, 27.261239, 0},
	{0.000042, 207.19, 0.121824, 0},
	{0.000040, 291.34, 1.844379, 0},
	{0.000037, 161.72, 24.198154, 0},
	{0.000035, 239.56, 25.513099, 0},
	{0.000023, 331.55, 3.592518, 0},
}

// newMoonIndex returns the index k of the last new moon at or before
// Julian Day jd, give or take one: callers step from it.
func newMoonIndex(jd float64) int {
	return int(math.Floor((jd - newMoonEpoch) / synodicMonth))
}

// deltaT returns TT − UT in seconds at decimal year y. Before 1860 and
// after 2150 it falls back on the long-term parabola; a minute either way
// moves a holiday only when an instant falls within that minute of
// midnight.
func deltaT(y float64) float64 {
	switch {
	case y < 1860:
		u := (y - 1820) / 100
		return -20 + 32*u*u
	case y < 1900:
		t := y - 1860
		return 7.62 + 0.5737*t - 0.251754*t*t + 0.01680668*t*t*t - 0.0004473624*t*t*t*t + t*t*t*t*t/233174
	case y < 1920:
		t := y - 1900
		return -2.79 + 1.494119*t - 0.0598939*t*t + 0.0061966*t*t*t - 0.000197*t*t*t*t
	case y < 1941:
		t := y - 1920
		return 21.20 + 0.84493*t - 0.076100*t*t + 0.0020936*t*t*t
	case y < 1961:
		t := y - 1950
		return 29.07 + 0.407*t - t*t/233 + t*t*t/2547
	case y < 1986:
		t := y - 1975
		return 45.45 + 1.067*t - t*t/260 - t*t*t/718
	case y < 2005:
		t := y - 2000
		return 63.86 + 0.3345*t - 0.060374*t*t + 0.0017275*t*t*t + 0.000651814*t*t*t*t + 0.00002373599*t*t*t*t*t
	case y < 2050:
		t := y - 2000
		return 62.92 + 0.32217*t + 0.005589*t*t
	case y < 2150:
		u := (y - 1820) / 100
		return -20 + 32*u*u - 0.5628*(2150-y)
	}
	u := (y - 1820) / 100
	return -20 + 32*u*u
}

// sunLongitude returns the Sun's apparent geocentric longitude, in degrees
// in [0, 360), at Julian Day jd in Universal Time. Meeus gives the series
// an accuracy of 0.01°, a quarter of an hour of the Sun's motion.
func sunLongitude(jd float64) float64 {
	jde := jd + deltaT(2000+(jd-j2000)/365.25)/86400
	t := (jde - j2000) / 36525
	l0 := 280.46646 + 36000.76983*t + 0.0003032*t*t // mean longitude
	m := 357.52911 + 35999.05029*t - 0.0001537*t*t  // mean anomaly
	c := (1.914602-0.004817*t-0.000014*t*t)*sinDeg(m) +
		(0.019993-0.000101*t)*sinDeg(2*m) +
		0.000289*sinDeg(3*m) // equation of the centre
	om := 125.04 - 1934.136*t
	lambda := l0 + c - 0.00569 - 0.00478*sinDeg(om) // nutation and aberration
	return math.Mod(math.Mod(lambda, 360)+360, 360)
}

// solarTerm returns the instant, in Universal Time, at which the Sun's
// apparent longitude reaches deg degrees in Gregorian year y: 0 is the
// March equinox, 270 the December solstice. Equinoxes and solstices come
// from Meeus's own series for them (chapter 27), good to a minute; other
// longitudes from sunLongitude, good to a quarter of an hour.
func solarTerm(y int, deg float64) float64 {
	if q := int(deg) / 90; float64(q*90) == deg && y >= 1000 && y <= 3000 {
		return season(y, q)
	}
	// The March equinox falls about 20 March; the Sun then gains about a
	// degree a day. Newton's method on that slope converges in a few steps.
	jd := float64(daysFromCivil(y, 3, 20)) + jdUnixEpoch + deg*tropicalYear/360
	for range 20 {
		diff := math.Mod(deg-sunLongitude(jd)+540, 360) - 180 // in (-180, 180]
		jd += diff * tropicalYear / 360
		if math.Abs(diff) < 1e-7 {
			break
		}
	}
	return jd
}

// localDay returns the day number of the civil day containing instant jd
// (Universal Time) in a zone hours east of Greenwich.
func localDay(jd, zone float64) int {
	return int(math.Floor(jd - jdUnixEpoch + zone/24))
}

// midnight returns the instant, in Universal Time, at which day number n
// begins in a zone hours east of Greenwich.
func midnight(n int, zone float64) float64 {
	return float64(n) + jdUnixEpoch - zone/24
}

// season returns the instant, in Universal Time, of the March equinox
// (q = 0), June solstice (1), September equinox (2) or December solstice
// (3) of year y, for years 1000 to 3000: Meeus's mean instant, corrected
// by 24 periodic terms (chapter 27, tables 27.B and 27.C).
func season(y, q int) float64 {
	c := seasonMean[q]
	t := (float64(y) - 2000) / 1000
	jde0 := c[0] + t*(c[1]+t*(c[2]+t*(c[3]+t*c[4])))
	tc := (jde0 - j2000) / 36525
	w := 35999.373*tc - 2.47
	dl := 1 + 0.0334*cosDeg(w) + 0.0007*cosDeg(2*w)
	s := 0.0
	for _, p := range seasonTerms {
		s += p.a * cosDeg(p.b+p.c*tc)
	}
	return jde0 + 0.00001*s/dl - deltaT(float64(y))/86400
}

// seasonMean holds the polynomial coefficients, in powers of millennia
// from 2000, of the mean instants of the four seasons (table 27.B).
var seasonMean = [4][5]float64{
	{2451623.80984, 365242.37404, 0.05169, -0.00411, -0.00057},
	{2451716.56767, 365241.62603, 0.00325, 0.00888, -0.00030},
	{2451810.21715, 365242.01767, -0.11575, 0.00337, 0.00078},
	{2451900.05952, 365242.74049, -0.06223, -0.00823, 0.00032},
}

var seasonTerms = [...]struct{ a, b, c float64 }{
	{485, 324.96, 1934.136}, {203, 337.23, 32964.467}, {199, 342.08, 20.186},
	{182, 27.85, 445267.112}, {156, 73.14, 45036.886}, {136, 171.52, 22518.443},
	{77, 222.54, 65928.934}, {74, 296.72, 3034.906}, {70, 243.58, 9037.513},
	{58, 119.81, 33718.147}, {52, 297.17, 150.678}, {50, 21.02, 2281.226},
	{45, 247.54, 29929.562}, {44, 325.15, 31555.956}, {29, 60.93, 4443.417},
	{18, 155.12, 67555.328}, {17, 288.79, 4562.452}, {16, 198.04, 62894.029},
	{14, 199.76, 31436.921}, {12, 95.39, 14577.848}, {12, 287.11, 31931.756},
	{12, 320.81, 34777.259}, {9, 227.73, 1222.114}, {8, 15.45, 16859.074},
}
