package calendar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A country's calendar is data: data/<code>.json holds its weekend, its
// holiday rules and, per year, what its government announced. The types
// ending in File are that JSON; load checks it and compiles it into a
// country.

type countryFile struct {
	Country string `json:"country"` // ISO 3166-1 alpha-2, upper case
	NameVI  string `json:"name_vi"`
	NameEN  string `json:"name_en"`
	// Sources and Notes document the file for the people who keep it.
	Sources []string `json:"sources"`
	Notes   string   `json:"notes"`
	// Weekend lists the weekly rest days: "mon" … "sun".
	Weekend []string `json:"weekend"`
	// ZoneHours is the offset from UTC at which lunar months and solar
	// terms are reckoned (7 for Viet Nam, 8 for China, 9 for Japan).
	ZoneHours float64 `json:"zone_hours"`
	// Substitute names what happens to a holiday that falls on a rest day
	// (see substitutions).
	Substitute string `json:"substitute"`
	// Bridge, when set, makes a day between two holidays a holiday too,
	// under this name (Japan's citizens' holiday).
	Bridge   *namesFile          `json:"bridge"`
	Holidays []ruleFile          `json:"holidays"`
	Years    map[string]yearFile `json:"years"`
}

type namesFile struct {
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
}

// ruleFile is one holiday rule: exactly one of Date, Lunar, Hijri, Easter,
// OrthodoxEaster, Weekday and SolarTerm places it in the year; Offset and
// then WeekdayOffset move it; Days is how many days it lasts.
type ruleFile struct {
	// ID names the rule for a year's "set"; rules for different years of
	// the same holiday (before and after a change in the law) share it.
	ID     string `json:"id"`
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`

	Date           string       `json:"date"`            // MM-DD
	Lunar          string       `json:"lunar"`           // MM-DD of the lunar year beginning in the year
	Hijri          string       `json:"hijri"`           // MM-DD, tabular Islamic calendar
	Easter         *int         `json:"easter"`          // days after Western Easter Sunday
	OrthodoxEaster *int         `json:"orthodox_easter"` // days after Orthodox (Julian) Easter Sunday
	Weekday        *weekdayFile `json:"weekday"`
	SolarTerm      *float64     `json:"solar_term"` // the Sun's longitude in degrees

	Offset        int            `json:"offset"`
	WeekdayOffset map[string]int `json:"weekday_offset"` // by the weekday the date falls on
	Days          int            `json:"days"`           // 0 means 1
	From          int            `json:"from"`           // first year it applies; 0: always
	Until         int            `json:"until"`          // last year it applies; 0: still
	NoSubstitute  bool           `json:"no_substitute"`
	Assumption    string         `json:"assumption"` // what in this rule is assumed, if anything
	Note          string         `json:"note"`
}

// weekdayFile is the nth given weekday of a month, counted from FromDay
// (default 1); Nth -1 is the last.
type weekdayFile struct {
	Month   int    `json:"month"`
	Weekday string `json:"weekday"`
	Nth     int    `json:"nth"`
	FromDay int    `json:"from_day"`
}

// yearFile is what a government announced for one year.
type yearFile struct {
	Source     string `json:"source"`
	Assumption string `json:"assumption"`
	Note       string `json:"note"`
	// Set fixes the days of the rules with an ID, replacing what the rule
	// computes (the five days of Tết, the day joined to National Day).
	Set map[string][]Date `json:"set"`
	// Off lists extra days off: swapped days, one-off holidays.
	Off []dayFile `json:"off"`
	// Working lists rest days made working days (the Saturday worked in
	// exchange for a swapped day).
	Working []dayFile `json:"working"`
	// Moved moves a holiday to another day.
	Moved []moveFile `json:"moved"`
	// Compensatory, when present, replaces the days off in lieu that the
	// substitution rule would give for the holidays of this year.
	Compensatory *[]dayFile `json:"compensatory"`
}

type dayFile struct {
	Date       Date   `json:"date"`
	NameVI     string `json:"name_vi"`
	NameEN     string `json:"name_en"`
	Kind       Kind   `json:"kind"` // for Off: default compensatory
	Source     string `json:"source"`
	Assumption string `json:"assumption"`
	Note       string `json:"note"`
}

type moveFile struct {
	From       Date   `json:"from"`
	To         Date   `json:"to"`
	Source     string `json:"source"`
	Assumption string `json:"assumption"`
}

// substitution is what happens to a holiday that falls on a rest day.
type substitution int

const (
	substituteNone substitution = iota
	// The next working day is off: Viet Nam (Labour Code 2019, Art.
	// 111(3)), Russia, Australia.
	substituteWeekendNext
	// Only a holiday on a Sunday moves to the next working day: Japan,
	// South Africa.
	substituteSundayNext
	// Saturday's holiday is kept the working day before, Sunday's the one
	// after: United States federal holidays.
	substituteSaturdayPreviousSundayNext
)

var substitutions = map[string]substitution{
	"none":                          substituteNone,
	"weekend_next":                  substituteWeekendNext,
	"sunday_next":                   substituteSundayNext,
	"saturday_previous_sunday_next": substituteSaturdayPreviousSundayNext,
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// country is a compiled countryFile.
type country struct {
	code       string
	names      names
	weekend    [7]bool
	zone       float64
	substitute substitution
	bridge     *names
	rules      []rule
	years      map[int]*notice
}

type names struct{ vi, en string }

type ruleKind int

const (
	fixedDate ruleKind = iota
	lunarDate
	hijriDate
	westernEaster
	orthodoxEaster
	nthWeekday
	solarTermDay
)

type rule struct {
	id    string
	names names
	kind  ruleKind
	// month and day of a fixed, lunar or Hijri date, or the month of an
	// nth weekday.
	month, day int
	weekday    time.Weekday
	nth        int
	fromDay    int
	degrees    float64
	// offset: days after the base date (after Easter Sunday, for Easter
	// rules).
	offset        int
	weekdayOffset *[7]int
	days          int
	from, until   int // 0: unbounded
	substitute    bool
}

// notice is a compiled yearFile, with dates as day numbers.
type notice struct {
	set          map[string][]int
	off          []special
	working      []int
	moved        [][2]int
	compensatory []special
	// hasCompensatory tells an empty Compensatory list (no days in lieu
	// this year) from an absent one (the rule decides).
	hasCompensatory bool
}

type special struct {
	day   int
	names names
	kind  Kind
}

// loadCountries reads and checks every data/*.json file in fsys.
func loadCountries(fsys fs.FS) (map[string]*country, error) {
	files, err := fs.Glob(fsys, "data/*.json")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*country, len(files))
	for _, name := range files {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		c, err := parseCountry(b)
		if err != nil {
			return nil, fmt.Errorf("calendar: %s: %w", name, err)
		}
		if want := strings.ToLower(c.code) + ".json"; path.Base(name) != want {
			return nil, fmt.Errorf("calendar: %s holds country %s; name it %s", name, c.code, want)
		}
		out[c.code] = c
	}
	return out, nil
}

// parseCountry decodes and checks one country file. Unknown fields are
// refused, so that a misspelt key in a notice is an error and not a
// silently ignored holiday.
func parseCountry(b []byte) (*country, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f countryFile
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the country object")
	}
	return f.compile()
}

func (f *countryFile) compile() (*country, error) {
	if len(f.Country) != 2 || strings.ToUpper(f.Country) != f.Country || !isLetters(f.Country) {
		return nil, fmt.Errorf("country %q: want an ISO 3166-1 alpha-2 code in capitals", f.Country)
	}
	if f.NameVI == "" || f.NameEN == "" {
		return nil, fmt.Errorf("name_vi and name_en are required")
	}
	c := &country{code: f.Country, names: names{f.NameVI, f.NameEN}, zone: f.ZoneHours}
	if f.ZoneHours < -12 || f.ZoneHours > 14 {
		return nil, fmt.Errorf("zone_hours %v: want -12 to 14", f.ZoneHours)
	}
	if len(f.Weekend) == 0 || len(f.Weekend) > 3 {
		return nil, fmt.Errorf("weekend: list one to three rest days")
	}
	for _, w := range f.Weekend {
		wd, ok := weekdays[w]
		if !ok {
			return nil, fmt.Errorf("weekend: %q is not mon, tue, wed, thu, fri, sat or sun", w)
		}
		c.weekend[wd] = true
	}
	sub, ok := substitutions[f.Substitute]
	if !ok {
		return nil, fmt.Errorf("substitute %q: want none, weekend_next, sunday_next or saturday_previous_sunday_next", f.Substitute)
	}
	c.substitute = sub
	if f.Bridge != nil {
		if f.Bridge.NameVI == "" || f.Bridge.NameEN == "" {
			return nil, fmt.Errorf("bridge: name_vi and name_en are required")
		}
		c.bridge = &names{f.Bridge.NameVI, f.Bridge.NameEN}
	}
	ids := map[string]bool{}
	for i, rf := range f.Holidays {
		r, err := rf.compile()
		if err != nil {
			return nil, fmt.Errorf("holidays[%d] (%s): %w", i, rf.ID, err)
		}
		c.rules = append(c.rules, r)
		ids[r.id] = true
	}
	c.years = make(map[int]*notice, len(f.Years))
	for key, yf := range f.Years {
		y, err := strconv.Atoi(key)
		if err != nil || y < minDateYear || y > maxDateYear || strconv.Itoa(y) != key {
			return nil, fmt.Errorf("years: key %q is not a year", key)
		}
		n, err := yf.compile(y, ids)
		if err != nil {
			return nil, fmt.Errorf("years %d: %w", y, err)
		}
		c.years[y] = n
	}
	return c, nil
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func (rf *ruleFile) compile() (rule, error) {
	r := rule{id: rf.ID, names: names{rf.NameVI, rf.NameEN}, offset: rf.Offset, days: rf.Days,
		from: rf.From, until: rf.Until, substitute: !rf.NoSubstitute}
	if r.id == "" || r.names.vi == "" || r.names.en == "" {
		return r, fmt.Errorf("id, name_vi and name_en are required")
	}
	var bases []string
	var err error
	if rf.Date != "" {
		bases = append(bases, "date")
		r.kind = fixedDate
		r.month, r.day, err = monthDay(rf.Date, 31)
		if err == nil && r.day > daysIn(2000, time.Month(r.month)) {
			err = fmt.Errorf("date %q does not exist", rf.Date)
		}
	}
	if rf.Lunar != "" {
		bases = append(bases, "lunar")
		r.kind = lunarDate
		// Day 30 exists only in a long month: a holiday on the last day
		// of a lunar month is written as day 1 of the next, offset -1.
		r.month, r.day, err = monthDay(rf.Lunar, 29)
	}
	if rf.Hijri != "" {
		bases = append(bases, "hijri")
		r.kind = hijriDate
		r.month, r.day, err = monthDay(rf.Hijri, 29)
	}
	if rf.Easter != nil {
		bases = append(bases, "easter")
		r.kind, r.offset = westernEaster, r.offset+*rf.Easter
	}
	if rf.OrthodoxEaster != nil {
		bases = append(bases, "orthodox_easter")
		r.kind, r.offset = orthodoxEaster, r.offset+*rf.OrthodoxEaster
	}
	if w := rf.Weekday; w != nil {
		bases = append(bases, "weekday")
		r.kind = nthWeekday
		wd, ok := weekdays[w.Weekday]
		switch {
		case !ok:
			err = fmt.Errorf("weekday.weekday %q is not mon … sun", w.Weekday)
		case w.Month < 1 || w.Month > 12:
			err = fmt.Errorf("weekday.month %d: want 1 to 12", w.Month)
		case w.Nth != -1 && (w.Nth < 1 || w.Nth > 4):
			err = fmt.Errorf("weekday.nth %d: want 1 to 4, or -1 for the last", w.Nth)
		case w.FromDay < 0 || w.FromDay > 28 || (w.FromDay > 0 && w.Nth == -1):
			err = fmt.Errorf("weekday.from_day %d: want 1 to 28, and none with nth -1", w.FromDay)
		}
		r.month, r.weekday, r.nth, r.fromDay = w.Month, wd, w.Nth, max(w.FromDay, 1)
	}
	if rf.SolarTerm != nil {
		bases = append(bases, "solar_term")
		r.kind, r.degrees = solarTermDay, *rf.SolarTerm
		if r.degrees < 0 || r.degrees >= 360 {
			err = fmt.Errorf("solar_term %v: want 0 to 360 degrees", r.degrees)
		}
	}
	switch {
	case err != nil:
		return r, err
	case len(bases) != 1:
		return r, fmt.Errorf("give exactly one of date, lunar, hijri, easter, orthodox_easter, weekday, solar_term; got %v", bases)
	case r.offset < -60 || r.offset > 60:
		return r, fmt.Errorf("offset %d: want -60 to 60 days", r.offset)
	case r.days < 0 || r.days > 15:
		return r, fmt.Errorf("days %d: want 1 to 15", r.days)
	case r.from != 0 && r.until != 0 && r.from > r.until:
		return r, fmt.Errorf("from %d is after until %d", r.from, r.until)
	}
	r.days = max(r.days, 1)
	if len(rf.WeekdayOffset) > 0 {
		var wo [7]int
		for k, v := range rf.WeekdayOffset {
			wd, ok := weekdays[k]
			if !ok || v < -7 || v > 7 {
				return r, fmt.Errorf("weekday_offset: %q: %d: want a weekday and -7 to 7 days", k, v)
			}
			wo[wd] = v
		}
		r.weekdayOffset = &wo
	}
	return r, nil
}

// monthDay parses "MM-DD" with a day of at most maxDay.
func monthDay(s string, maxDay int) (int, int, error) {
	m, ok1 := digits(s[:min(2, len(s))])
	d, ok2 := digits(s[min(3, len(s)):])
	if len(s) != 5 || s[2] != '-' || !ok1 || !ok2 || m < 1 || m > 12 || d < 1 || d > maxDay {
		return 0, 0, fmt.Errorf("%q: want MM-DD with a day of 1 to %d", s, maxDay)
	}
	return m, d, nil
}

func (yf *yearFile) compile(y int, ids map[string]bool) (*notice, error) {
	n := &notice{set: map[string][]int{}}
	for id, dates := range yf.Set {
		if !ids[id] {
			return nil, fmt.Errorf("set: no holiday rule has id %q", id)
		}
		for _, d := range dates {
			n.set[id] = append(n.set[id], d.days())
		}
	}
	specials := func(list []dayFile, what string) ([]special, error) {
		var out []special
		for _, df := range list {
			kind := df.Kind
			if kind == "" {
				kind = Compensatory
			}
			switch {
			case df.Date.Year != y:
				return nil, fmt.Errorf("%s: %s is not in %d", what, df.Date, y)
			case df.NameVI == "" || df.NameEN == "":
				return nil, fmt.Errorf("%s %s: name_vi and name_en are required", what, df.Date)
			case kind != Public && kind != Compensatory:
				return nil, fmt.Errorf("%s %s: kind %q: want public or compensatory", what, df.Date, kind)
			}
			out = append(out, special{day: df.Date.days(), names: names{df.NameVI, df.NameEN}, kind: kind})
		}
		return out, nil
	}
	var err error
	if n.off, err = specials(yf.Off, "off"); err != nil {
		return nil, err
	}
	if yf.Compensatory != nil {
		n.hasCompensatory = true
		if n.compensatory, err = specials(*yf.Compensatory, "compensatory"); err != nil {
			return nil, err
		}
	}
	for _, w := range yf.Working {
		if w.Date.Year != y {
			return nil, fmt.Errorf("working: %s is not in %d", w.Date, y)
		}
		n.working = append(n.working, w.Date.days())
	}
	for _, m := range yf.Moved {
		if m.From.Year != y {
			return nil, fmt.Errorf("moved: %s is not in %d", m.From, y)
		}
		n.moved = append(n.moved, [2]int{m.From.days(), m.To.days()})
	}
	return n, nil
}

// applies reports whether r is in force in year y.
func (r *rule) applies(y int) bool {
	return (r.from == 0 || y >= r.from) && (r.until == 0 || y <= r.until)
}

// starts returns the day numbers on which r's holiday begins in year y
// (for Hijri dates, the Islamic year being shorter, sometimes two), after
// its offsets. A date that year lacks (29 February) gives none.
func (r *rule) starts(y int, zone float64) []int {
	var base []int
	switch r.kind {
	case fixedDate:
		if r.day <= daysIn(y, time.Month(r.month)) {
			base = []int{daysFromCivil(y, r.month, r.day)}
		}
	case lunarDate:
		base = []int{lunarToDays(y, r.month, r.day, zone)}
	case hijriDate:
		base = hijriInYear(y, r.month, r.day)
	case westernEaster:
		base = []int{easterSunday(y)}
	case orthodoxEaster:
		base = []int{orthodoxEasterSunday(y)}
	case nthWeekday:
		base = []int{nthWeekdayOf(y, r.month, r.weekday, r.nth, r.fromDay)}
	case solarTermDay:
		base = []int{localDay(solarTerm(y, r.degrees), zone)}
	}
	for i, d := range base {
		d += r.offset
		if r.weekdayOffset != nil {
			d += r.weekdayOffset[weekdayOf(d)]
		}
		base[i] = d
	}
	return base
}

// nthWeekdayOf returns the nth weekday wd on or after day from of month m
// of year y (nth -1: the last of the month). Counted from a late day it
// may fall in the next month, as Canberra's Reconciliation Day (the
// Monday on or after 27 May) does.
func nthWeekdayOf(y, m int, wd time.Weekday, nth, from int) int {
	if nth == -1 {
		last := daysFromCivil(y, m, daysIn(y, time.Month(m)))
		return last - floorMod(int(weekdayOf(last))-int(wd), 7)
	}
	first := daysFromCivil(y, m, from)
	return first + floorMod(int(wd)-int(weekdayOf(first)), 7) + 7*(nth-1)
}

// easterSunday returns Western Easter Sunday of year y, by the Gregorian
// computus (the "anonymous" algorithm, Meeus chapter 8).
func easterSunday(y int) int {
	a, b, c := y%19, y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return daysFromCivil(y, month, day)
}

// orthodoxEasterSunday returns Orthodox (and Coptic) Easter Sunday of
// year y: the Julian computus, converted to the Gregorian calendar.
func orthodoxEasterSunday(y int) int {
	a, b, c := y%4, y%7, y%19
	d := (19*c + 15) % 30
	e := (2*a + 4*b - d + 34) % 7
	month := (d + e + 114) / 31
	day := (d+e+114)%31 + 1
	return julianToDays(y, month, day)
}

// julianToDays returns the day number of a date of the Julian calendar.
func julianToDays(y, m, d int) int {
	a := (14 - m) / 12
	yy := y + 4800 - a
	mm := m + 12*a - 3
	jdn := d + (153*mm+2)/5 + 365*yy + floorDiv(yy, 4) - 32083
	return jdn - 2440588
}

// hijriToDays returns the day number of a date of the tabular Islamic
// calendar (30-year cycle with leap years 2, 5, 7, 10, 13, 16, 18, 21, 24,
// 26 and 29, epoch 16 July 622 Julian). Countries fix their Islamic
// holidays by sighting the new crescent, which may differ by a day or
// two: the data marks such holidays as assumptions, and a year's notice
// corrects them.
func hijriToDays(y, m, d int) int {
	return d + (59*(m-1)+1)/2 + (y-1)*354 + floorDiv(3+11*y, 30) - 492149
}

// hijriInYear returns the day numbers in Gregorian year y of Hijri month
// m, day d.
func hijriInYear(y, m, d int) []int {
	var out []int
	approx := (y - 622) * 33 / 32 // Islamic years run 32 to 33 per 32 solar years
	for h := approx - 1; h <= approx+2; h++ {
		if n := hijriToDays(h, m, d); dateOfDays(n).Year == y {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
