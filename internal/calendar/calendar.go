package calendar

import (
	"cmp"
	"embed"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"chancery/internal/errs"
)

// Kind is what a day off is.
type Kind string

// The kinds of day off.
const (
	// Public is a public holiday: one the law sets (for Viet Nam, the
	// Labour Code 2019, Art. 112), on the day it falls or on the days the
	// government fixes for it.
	Public Kind = "public"
	// Compensatory is a day off in lieu of a holiday that fell on a rest
	// day (nghỉ bù), or a working day the government swapped with a
	// Saturday (hoán đổi ngày làm việc).
	Compensatory Kind = "compensatory"
)

// Holiday is one day off other than a weekly rest day.
type Holiday struct {
	Date   Date   `json:"date"`
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
	Kind   Kind   `json:"kind"`
	// Country is the ISO 3166-1 alpha-2 code of the country whose holiday
	// it is: "VN", or a mission's host country.
	Country string `json:"country"`
}

// Calendar says which days are working days: Viet Nam's (Vietnam), or a
// mission's abroad (ForMission). A Calendar is safe for concurrent use.
//
// Its methods take dates in years 1 to 9999 and panic on an invalid Date.
// The astronomy behind the lunar holidays is checked against published
// tables of the Vietnamese and Chinese calendars for 1901 to 2100; the
// same formulas carry on beyond, with growing uncertainty in ΔT.
type Calendar struct {
	country string
	weekend [7]bool
	sources []source
	// years caches a *yearTable per year, built on first use and never
	// changed after, so readers need no lock.
	years sync.Map
}

// source is one country's holidays as a calendar takes them.
type source struct {
	c *country
	// arrangements applies the country's yearly swaps, working Saturdays,
	// moved holidays and lists of days in lieu. A mission takes Viet Nam's
	// holidays (the days the government fixes for Tết and National Day
	// included) but not those arrangements: they trade days within Viet
	// Nam's Monday-to-Friday week, while a mission keeps the host
	// country's working week.
	arrangements bool
}

//go:embed data/*.json
var dataFS embed.FS

// data returns the embedded country files, parsed once. They are part of
// the program, checked by its tests, so a broken one is a build defect.
var data = sync.OnceValue(func() map[string]*country {
	cs, err := loadCountries(dataFS)
	if err != nil {
		panic(err)
	}
	if cs["VN"] == nil {
		panic("calendar: data/vn.json is missing")
	}
	return cs
})

var (
	vietnam = sync.OnceValue(func() *Calendar {
		vn := data()["VN"]
		return &Calendar{country: "VN", weekend: vn.weekend, sources: []source{{c: vn, arrangements: true}}}
	})
	missions sync.Map // country code → *Calendar
)

// Vietnam returns the calendar of the ministry's offices in Viet Nam:
// Saturday and Sunday off, the public holidays of the Labour Code 2019,
// Art. 112, the days in lieu of Art. 111(3) and the government's yearly
// arrangements. Every call returns the same Calendar.
func Vietnam() *Calendar { return vietnam() }

// ForMission returns the calendar of a mission in the country with ISO
// 3166-1 alpha-2 code country (any case): closed on Viet Nam's public
// holidays and on the host country's, with the host country's weekend.
// "VN" returns Vietnam(). A code with no calendar data returns an
// *errs.FieldError for field "country" that lists the known ones. Calls for the same
// country return the same Calendar.
func ForMission(country string) (*Calendar, error) {
	cc := strings.ToUpper(strings.TrimSpace(country))
	if cc == "VN" {
		return Vietnam(), nil
	}
	if c, ok := missions.Load(cc); ok {
		return c.(*Calendar), nil
	}
	host := data()[cc]
	if host == nil {
		return nil, errs.Invalid("country", fmt.Sprintf("no calendar for %s; give the ISO 3166-1 alpha-2 code of a country with one: %s",
			quoteShort(country), strings.Join(Countries(), ", ")))
	}
	c, _ := missions.LoadOrStore(cc, &Calendar{
		country: cc,
		weekend: host.weekend,
		sources: []source{{c: data()["VN"]}, {c: host, arrangements: true}},
	})
	return c.(*Calendar), nil
}

// Countries returns the codes of the countries with calendar data, Viet
// Nam's included, sorted.
func Countries() []string { return slices.Sorted(maps.Keys(data())) }

// quoteShort quotes s for an error message, cut short if long.
func quoteShort(s string) string {
	if len(s) > 12 {
		s = s[:12] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Country returns the ISO code of the calendar's country: "VN", or the
// mission's host country.
func (c *Calendar) Country() string { return c.country }

// Holidays returns the days off of year, other than weekly rest days, in
// date order: public holidays and the compensatory days of that year.
// At a mission a day may be listed twice, once for each country.
func (c *Calendar) Holidays(year int) []Holiday {
	return slices.Clone(c.table(year).holidays)
}

// IsWorkingDay reports whether d is a working day: not a weekly rest
// day (unless the government made it a working day), not a holiday and
// not a day off in lieu.
func (c *Calendar) IsWorkingDay(d Date) bool {
	t := c.table(d.Year)
	return t.open(d.days() - t.first)
}

// AddWorkingDays returns the date on which n working days have passed
// after start: the nth working day after start, start itself not
// counted. n = 0 returns start if it is a working day, else the next
// working day. A negative n counts back: the |n|th working day before
// start.
//
// This is how the one-stop-shop rules (Decree 61/2018/ND-CP as amended)
// count a time limit in working days: from the working day after receipt.
// A dossier received on a day off counts as received on the next working
// day, so its time limit ends on AddWorkingDays(AddWorkingDays(received,
// 0), n).
//
// AddWorkingDays panics if the result would fall after year 9999 or
// before year 1.
func (c *Calendar) AddWorkingDays(start Date, n int) Date {
	y := start.Year
	t := c.table(y)
	i := start.days() - t.first
	if n == 0 {
		if t.open(i) {
			return start
		}
		n = 1
	}
	// rank is the target's position among the working days of year y,
	// counted from 1; step whole years until it falls inside one.
	if n > 0 {
		rank := int(t.cum[i+1]) + n
		for rank > t.total() {
			rank -= t.total()
			y++
			t = c.table(y)
		}
		return dateOfDays(t.first + int(t.pos[rank-1]))
	}
	rank := int(t.cum[i]) + n + 1
	for rank < 1 {
		y--
		t = c.table(y)
		rank += t.total()
	}
	return dateOfDays(t.first + int(t.pos[rank-1]))
}

// WorkingDaysBetween returns the number of working days after a up to and
// including b: how much of a time limit counted from a has run on b, so
// that AddWorkingDays(a, WorkingDaysBetween(a, b)) == b when b is a
// working day after a. If b is before a the count is negative.
func (c *Calendar) WorkingDaysBetween(a, b Date) int {
	switch a.Compare(b) {
	case 0:
		return 0
	case 1:
		return -c.WorkingDaysBetween(b, a)
	}
	ta, tb := c.table(a.Year), c.table(b.Year)
	ia, ib := a.days()-ta.first, b.days()-tb.first
	if a.Year == b.Year {
		return int(tb.cum[ib+1]) - int(ta.cum[ia+1])
	}
	n := ta.total() - int(ta.cum[ia+1])
	for y := a.Year + 1; y < b.Year; y++ {
		n += c.table(y).total()
	}
	return n + int(tb.cum[ib+1])
}

// yearTable is one year of a calendar, precomputed so that a lookup is a
// bit test and counting working days a subtraction.
type yearTable struct {
	first  int         // day number of 1 January
	days   int         // 365 or 366
	closed [6]uint64   // bit i set: day i of the year is not a working day
	cum    [367]uint16 // cum[i]: working days among days 0 to i-1
	pos    []uint16    // pos[j]: day of the year of working day j+1
	// holidays are the year's days off other than weekly rest days.
	holidays []Holiday
}

func (t *yearTable) open(i int) bool { return t.closed[i>>6]&(1<<(i&63)) == 0 }
func (t *yearTable) total() int      { return int(t.cum[t.days]) }

// table returns year y's table, building it on first use. Two goroutines
// may both build a year; one table wins and both are the same.
func (c *Calendar) table(y int) *yearTable {
	if v, ok := c.years.Load(y); ok {
		return v.(*yearTable)
	}
	if y < minDateYear || y > maxDateYear {
		panic(fmt.Sprintf("calendar: year %d is outside 1 to 9999", y))
	}
	v, _ := c.years.LoadOrStore(y, c.build(y))
	return v.(*yearTable)
}

// entry is a day off while a year is being built.
type entry struct {
	day   int
	names names
	kind  Kind
	src   int // index in Calendar.sources
	// substitute: a day in lieu is due if the day falls on a rest day.
	substitute bool
}

// build computes year y. Holidays of the years either side are computed
// too, because a day in lieu can cross New Year (1 January on a Saturday
// gives a US federal holiday on 31 December) and a holiday can last past
// it.
func (c *Calendar) build(y int) *yearTable {
	var entries []entry
	working := map[int]bool{}
	listed := map[[2]int]bool{} // {source, year} whose days in lieu a notice lists
	for si, s := range c.sources {
		var days []entry
		for wy := y - 1; wy <= y+1; wy++ {
			days = append(days, s.c.holidays(wy, si)...)
		}
		days = append(days, s.c.bridges(days, si)...)
		if s.arrangements {
			for wy := y - 1; wy <= y+1; wy++ {
				if n := s.c.years[wy]; n != nil {
					days = n.arrange(days, si, working)
					if n.hasCompensatory {
						listed[[2]int{si, wy}] = true
					}
				}
			}
		}
		entries = append(entries, days...)
	}

	off := map[int]bool{}
	for _, e := range entries {
		if !working[e.day] {
			off[e.day] = true
		}
	}
	rest := func(d int) bool { return c.weekend[weekdayOf(d)] && !working[d] }
	closed := func(d int) bool { return rest(d) || off[d] }

	// Days in lieu, in date order, each on a day not already off, so that
	// two holidays on one weekend give two days in lieu.
	slices.SortStableFunc(entries, func(a, b entry) int { return cmp.Compare(a.day, b.day) })
	due := map[[2]int]bool{}
	var lieu []entry
	for _, e := range entries {
		key := [2]int{e.src, e.day}
		if !e.substitute || due[key] || working[e.day] || listed[[2]int{e.src, dateOfDays(e.day).Year}] {
			continue
		}
		due[key] = true
		d, ok := dayInLieu(c.sources[e.src].c.substitute, e.day, rest, closed)
		if !ok {
			continue
		}
		off[d] = true
		lieu = append(lieu, entry{day: d, names: names{"Nghỉ bù " + e.names.vi, "Day off in lieu of " + e.names.en}, kind: Compensatory, src: e.src})
	}
	entries = append(entries, lieu...)

	first, last := daysFromCivil(y, 1, 1), daysFromCivil(y, 12, 31)
	t := &yearTable{first: first, days: last - first + 1}
	for i := range t.days {
		if closed(first + i) {
			t.closed[i>>6] |= 1 << (i & 63)
		} else {
			t.pos = append(t.pos, uint16(i))
		}
		t.cum[i+1] = uint16(len(t.pos))
	}
	for _, e := range entries {
		if e.day >= first && e.day <= last && !working[e.day] {
			t.holidays = append(t.holidays, Holiday{
				Date: dateOfDays(e.day), NameVI: e.names.vi, NameEN: e.names.en, Kind: e.kind,
				Country: c.sources[e.src].c.code,
			})
		}
	}
	slices.SortFunc(t.holidays, func(a, b Holiday) int {
		return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(c.sourceIndex(a.Country), c.sourceIndex(b.Country)),
			cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), strings.Compare(a.NameVI, b.NameVI))
	})
	t.holidays = slices.Compact(t.holidays)
	return t
}

func (c *Calendar) sourceIndex(code string) int {
	return slices.IndexFunc(c.sources, func(s source) bool { return s.c.code == code })
}

func kindOrder(k Kind) int {
	if k == Public {
		return 0
	}
	return 1
}

// arrange applies the notice's arrangements to the days off of source
// src: moves holidays, adds the extra days off and the listed days in
// lieu, and marks the working rest days in working.
func (n *notice) arrange(days []entry, src int, working map[int]bool) []entry {
	for _, mv := range n.moved {
		for i := range days {
			if days[i].day == mv[0] {
				days[i].day, days[i].substitute = mv[1], false
			}
		}
	}
	for _, sp := range slices.Concat(n.off, n.compensatory) {
		days = append(days, entry{day: sp.day, names: sp.names, kind: sp.kind, src: src})
	}
	for _, d := range n.working {
		working[d] = true
	}
	return days
}

// holidays returns the country's public holidays computed for year y:
// each rule's days, or the days a notice set for the rule.
func (c *country) holidays(y, src int) []entry {
	n := c.years[y]
	var out []entry
	set := map[string]bool{}
	for i := range c.rules {
		r := &c.rules[i]
		if !r.applies(y) {
			continue
		}
		if n != nil {
			if days, ok := n.set[r.id]; ok {
				if !set[r.id] {
					set[r.id] = true
					for _, d := range days {
						out = append(out, entry{day: d, names: r.names, kind: Public, src: src, substitute: r.substitute})
					}
				}
				continue
			}
		}
		for _, start := range r.starts(y, c.zone) {
			for d := start; d < start+r.days; d++ {
				out = append(out, entry{day: d, names: r.names, kind: Public, src: src, substitute: r.substitute})
			}
		}
	}
	return out
}

// bridges returns the country's bridge holidays, if it has them: every
// day other than a Sunday that is not a holiday itself but lies between
// two (Japan's Public Holiday Act, Art. 3(3)).
func (c *country) bridges(days []entry, src int) []entry {
	if c.bridge == nil {
		return nil
	}
	holiday := map[int]bool{}
	for _, e := range days {
		holiday[e.day] = true
	}
	var out []entry
	for d := range holiday {
		if b := d + 1; !holiday[b] && holiday[b+1] && weekdayOf(b) != time.Sunday {
			out = append(out, entry{day: b, names: *c.bridge, kind: Public, src: src})
		}
	}
	return out
}

// dayInLieu returns the day off due under rule s for a holiday on day d,
// and whether one is due: rest reports a weekly rest day, closed any day
// already off.
func dayInLieu(s substitution, d int, rest, closed func(int) bool) (int, bool) {
	if !rest(d) {
		return 0, false
	}
	step := 1
	switch wd := weekdayOf(d); {
	case s == substituteWeekendNext:
	case s == substituteSundayNext && wd == time.Sunday:
	case s == substituteSaturdayPreviousSundayNext && wd == time.Sunday:
	case s == substituteSaturdayPreviousSundayNext && wd == time.Saturday:
		step = -1
	default:
		return 0, false
	}
	for d += step; closed(d); d += step {
	}
	return d, true
}
