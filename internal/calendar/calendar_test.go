package calendar

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"chancery/internal/errs"
)

// dates parses ISO dates in a test.
func dates(tb testing.TB, ss ...string) []Date {
	tb.Helper()
	out := make([]Date, len(ss))
	for i, s := range ss {
		out[i] = mustDate(tb, s)
	}
	return out
}

// checkYear checks every day of year on c: closed on the weekend days
// (but for the working ones listed) and on the days off listed, open on
// every other day.
func checkYear(t *testing.T, c *Calendar, year int, off, working []Date) {
	t.Helper()
	for d := (Date{year, time.January, 1}); d.Year == year; d = d.AddDays(1) {
		wantOpen := !c.weekend[d.Weekday()] || slices.Contains(working, d)
		if slices.Contains(off, d) {
			wantOpen = false
		}
		if got := c.IsWorkingDay(d); got != wantOpen {
			t.Errorf("%s IsWorkingDay(%v, %v) = %v; want %v", c.country, d, d.Weekday(), got, wantOpen)
		}
	}
}

// The weekdays off and the Saturdays worked in each year, as the
// government's notices announced them (see data/vn.json for the sources).
func TestVietnamFollowsTheGovernmentNotices(t *testing.T) {
	tests := []struct {
		year         int
		off, working []Date
	}{
		{2023, dates(t,
			"2023-01-02", // New Year's Day was a Sunday
			"2023-01-20", "2023-01-23", "2023-01-24", "2023-01-25", "2023-01-26",
			"2023-05-01", "2023-05-02", "2023-05-03", // Hùng Kings' day and 30 April on a weekend
			"2023-09-01", "2023-09-04"), nil},
		{2024, dates(t,
			"2024-01-01",
			"2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13", "2024-02-14",
			"2024-04-18", "2024-04-29", "2024-04-30", "2024-05-01",
			"2024-09-02", "2024-09-03"), dates(t, "2024-05-04")},
		{2025, dates(t,
			"2025-01-01",
			"2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31",
			"2025-04-07", "2025-04-30", "2025-05-01", "2025-05-02",
			"2025-09-01", "2025-09-02"), dates(t, "2025-04-26")},
		{2026, dates(t,
			"2026-01-01", "2026-01-02",
			"2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",
			"2026-04-27", "2026-04-30", "2026-05-01",
			"2026-08-31", "2026-09-01", "2026-09-02"), dates(t, "2026-01-10", "2026-08-22")},
	}
	for _, tt := range tests {
		checkYear(t, Vietnam(), tt.year, tt.off, tt.working)
	}
}

// A year without a notice follows the law and the default choices: Tết is
// the last day of the lunar year and the first four of the next, and a
// holiday on a weekend gives the next working day off (Art. 111(3)).
func TestVietnamDefaultsForAYearWithoutANotice(t *testing.T) {
	checkYear(t, Vietnam(), 2027, dates(t,
		"2027-01-01",
		"2027-02-05", "2027-02-08", "2027-02-09", // Tết: 5 (last day), 6 and 7 (a weekend), 8, 9 February
		"2027-02-10", "2027-02-11", // in lieu of 6 and 7 February
		"2027-04-16",
		"2027-04-30", "2027-05-03", // 1 May is a Saturday
		"2027-09-02", "2027-09-03", // 2 September is a Thursday: the Friday joins it to the weekend
	), nil)
	checkYear(t, Vietnam(), 2030, dates(t,
		"2030-01-01",
		"2030-02-01", "2030-02-04", "2030-02-05", "2030-02-06", "2030-02-07",
		"2030-04-12", "2030-04-30", "2030-05-01",
		"2030-09-02", "2030-09-03",
	), nil)
}

// The government announced 22 days off for holidays in 2025 and 25 in
// 2026, counting the weekends joined to them.
func TestHolidayBreaksAddUpToTheAnnouncedTotals(t *testing.T) {
	for year, want := range map[int]int{2025: 22, 2026: 25} {
		c := Vietnam()
		inBreak := map[Date]bool{}
		for _, h := range c.Holidays(year) {
			for d := h.Date; d.Year == year && !c.IsWorkingDay(d); d = d.AddDays(1) {
				inBreak[d] = true
			}
			for d := h.Date; d.Year == year && !c.IsWorkingDay(d); d = d.AddDays(-1) {
				inBreak[d] = true
			}
		}
		if len(inBreak) != want {
			t.Errorf("%d: %d days in holiday breaks; want %d", year, len(inBreak), want)
		}
	}
}

func TestHolidaysNamesKindsAndOrder(t *testing.T) {
	hs := Vietnam().Holidays(2026)
	want := []Holiday{
		{Date: mustDate(t, "2026-04-26"), NameVI: "Giỗ Tổ Hùng Vương", NameEN: "Hùng Kings' Commemoration Day", Kind: Public, Country: "VN"},
		{Date: mustDate(t, "2026-04-27"), NameVI: "Nghỉ bù Giỗ Tổ Hùng Vương", NameEN: "Day off in lieu of Hùng Kings' Commemoration Day", Kind: Compensatory, Country: "VN"},
		{Date: mustDate(t, "2026-09-01"), NameVI: "Quốc khánh (ngày liền kề)", NameEN: "National Day (adjacent day)", Kind: Public, Country: "VN"},
		{Date: mustDate(t, "2026-09-02"), NameVI: "Quốc khánh", NameEN: "National Day", Kind: Public, Country: "VN"},
	}
	for _, w := range want {
		if !slices.Contains(hs, w) {
			t.Errorf("Holidays(2026) lacks %+v", w)
		}
	}
	if !slices.IsSortedFunc(hs, func(a, b Holiday) int { return a.Date.Compare(b.Date) }) {
		t.Error("Holidays(2026) is not in date order")
	}
	tet := 0
	for _, h := range hs {
		if h.NameEN == "Lunar New Year (Tết)" {
			tet++
		}
		if h.Date.Year != 2026 {
			t.Errorf("Holidays(2026) lists %v", h.Date)
		}
	}
	if tet != 5 {
		t.Errorf("Holidays(2026) lists %d Tết days; want 5", tet)
	}
	hs[0].NameVI = "changed"
	if Vietnam().Holidays(2026)[0].NameVI == "changed" {
		t.Error("Holidays returns the cached slice; a caller's change leaked into it")
	}
}

// Law before the Labour Code 2019: National Day was one day, Tết four
// days before 2013, and Hùng Kings' day a holiday from 2007.
func TestEarlierLawsOnTheirYears(t *testing.T) {
	count := func(year int, nameEN string) int {
		n := 0
		for _, h := range Vietnam().Holidays(year) {
			if h.NameEN == nameEN {
				n++
			}
		}
		return n
	}
	tests := []struct {
		year int
		name string
		want int
	}{
		{2020, "National Day (adjacent day)", 0},
		{2021, "National Day (adjacent day)", 1},
		{2012, "Lunar New Year (Tết)", 4},
		{2013, "Lunar New Year (Tết)", 5},
		{2006, "Hùng Kings' Commemoration Day", 0},
		{2007, "Hùng Kings' Commemoration Day", 1},
	}
	for _, tt := range tests {
		if got := count(tt.year, tt.name); got != tt.want {
			t.Errorf("%d: %d days of %s; want %d", tt.year, got, tt.name, tt.want)
		}
	}
}

// testCountry is a made-up country whose notices exercise every kind of
// override: 7 and 8 March and 1 June are its holidays.
const testCountry = `{
  "country": "ZZ", "name_vi": "Nước thử", "name_en": "Testland",
  "weekend": ["sat", "sun"], "zone_hours": 7, "substitute": "weekend_next",
  "holidays": [
    {"id": "a", "name_vi": "Lễ A", "name_en": "A Day", "date": "03-07"},
    {"id": "b", "name_vi": "Lễ B", "name_en": "B Day", "date": "03-08"},
    {"id": "c", "name_vi": "Lễ C", "name_en": "C Day", "date": "06-01"}
  ],
  "years": {
    "2025": {"compensatory": [{"date": "2025-03-14", "name_vi": "Bù", "name_en": "In lieu"}]},
    "2027": {"compensatory": []},
    "2028": {
      "set": {"c": ["2028-06-02"]},
      "moved": [{"from": "2028-03-07", "to": "2028-03-10"}],
      "working": [{"date": "2028-03-11"}],
      "off": [{"date": "2028-06-05", "name_vi": "Lễ D", "name_en": "D Day", "kind": "public"}]
    }
  }
}`

func testCalendar(t *testing.T) *Calendar {
	t.Helper()
	c, err := parseCountry([]byte(testCountry))
	if err != nil {
		t.Fatal(err)
	}
	return &Calendar{country: c.code, weekend: c.weekend, sources: []source{{c: c, arrangements: true}}}
}

// The weekend rule gives days in lieu; a year's notice overrides it.
func TestNoticesOverrideTheWeekendRule(t *testing.T) {
	c := testCalendar(t)
	// 2026: A on a Saturday, B on a Sunday: Monday and Tuesday in lieu.
	checkYear(t, c, 2026, dates(t, "2026-03-09", "2026-03-10", "2026-06-01"), nil)
	// 2025: A on a Friday, B on a Saturday, C on a Sunday; the notice
	// lists its own day in lieu, replacing all the rule's.
	checkYear(t, c, 2025, dates(t, "2025-03-07", "2025-03-14"), nil)
	// 2027: the notice lists none: A on a Sunday gives nothing.
	checkYear(t, c, 2027, dates(t, "2027-03-08", "2027-06-01"), nil)
	// 2028: A moved to Friday, C set to 2 June, an extra day off, a
	// Saturday worked.
	checkYear(t, c, 2028, dates(t, "2028-03-08", "2028-03-10", "2028-06-02", "2028-06-05"), dates(t, "2028-03-11"))
	got := c.Holidays(2028)
	want := []Holiday{
		{Date: mustDate(t, "2028-03-08"), NameVI: "Lễ B", NameEN: "B Day", Kind: Public, Country: "ZZ"},
		{Date: mustDate(t, "2028-03-10"), NameVI: "Lễ A", NameEN: "A Day", Kind: Public, Country: "ZZ"},
		{Date: mustDate(t, "2028-06-02"), NameVI: "Lễ C", NameEN: "C Day", Kind: Public, Country: "ZZ"},
		{Date: mustDate(t, "2028-06-05"), NameVI: "Lễ D", NameEN: "D Day", Kind: Public, Country: "ZZ"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Holidays(2028) = %+v\nwant %+v", got, want)
	}
}

func TestMissionCalendars(t *testing.T) {
	tests := []struct {
		country      string
		closed, open []string
	}{
		{"JP", []string{
			"2026-05-06",                             // Constitution Day on a Sunday
			"2026-09-21", "2026-09-22", "2026-09-23", // a citizens' holiday between two holidays
			"2026-03-20",                             // vernal equinox in Japan Standard Time
			"2026-09-01", "2026-09-02", "2026-04-27", // Viet Nam's National Day, and a day in lieu of Hùng Kings' day
		}, []string{"2026-09-24", "2026-01-02"}},
		{"US", []string{
			"2026-07-03",                                           // Independence Day on a Saturday
			"2021-12-31",                                           // New Year's Day 2022 on a Saturday, kept in 2021
			"2022-12-26",                                           // Christmas on a Sunday
			"2026-11-26", "2026-01-19", "2026-05-25", "2026-06-19", // Thanksgiving, MLK, Memorial Day, Juneteenth
		}, []string{"2026-07-06", "2020-06-19"}},
		{"AU", []string{"2021-12-27", "2021-12-28", "2026-04-03", "2026-04-06", "2026-03-09", "2026-06-01"}, []string{"2021-12-29"}},
		{"ZA", []string{"2022-12-26", "2022-12-27", "2026-04-27"}, []string{"2022-12-28"}},
		{"EG", []string{
			"2026-01-07", "2026-04-13", // Coptic Christmas, Sham el-Nessim
			"2026-01-02", "2026-01-03", // Friday and Saturday: the weekend
			"2026-02-22", // Tết's last day was a Friday, a rest day there: Sunday in lieu
			"2026-04-26", // Hùng Kings' day on a Sunday, a working day there: no day in lieu
		}, []string{"2026-01-04", "2026-04-27"}},
		{"CN", []string{"2025-01-28", "2025-10-01", "2025-10-03", "2025-04-04", "2025-10-06", "2025-05-02"}, []string{"2025-06-02"}},
		{"FR", []string{"2026-07-14", "2026-04-06", "2026-05-14", "2026-05-25", "2026-04-27", "2026-01-01"},
			// Viet Nam's swapped day of 2 January 2026 is not the mission's.
			[]string{"2026-01-02", "2026-08-31"}},
		{"BR", []string{"2026-02-16", "2026-02-17", "2026-06-04", "2026-11-20"}, []string{"2023-11-20"}},
		{"RU", []string{"2026-01-05", "2026-01-08", "2026-05-11", "2026-06-12"}, []string{"2026-01-09"}},
		{"CH", []string{"2026-01-02", "2026-04-03", "2026-05-14"}, []string{"2026-05-04"}},
	}
	for _, tt := range tests {
		c, err := ForMission(tt.country)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tt.closed {
			if c.IsWorkingDay(mustDate(t, s)) {
				t.Errorf("%s: %s is a working day; want closed", tt.country, s)
			}
		}
		for _, s := range tt.open {
			if !c.IsWorkingDay(mustDate(t, s)) {
				t.Errorf("%s: %s is closed; want a working day", tt.country, s)
			}
		}
	}
}

func TestForMissionLooksUpCountries(t *testing.T) {
	fr, err := ForMission(" fr ")
	if err != nil || fr.Country() != "FR" {
		t.Fatalf("ForMission(fr) = %v, %v", fr, err)
	}
	if again, _ := ForMission("FR"); again != fr {
		t.Error("ForMission(FR) built a second calendar")
	}
	if vn, _ := ForMission("vn"); vn != Vietnam() {
		t.Error("ForMission(vn) is not Vietnam()")
	}
	for _, bad := range []string{"XX", "", "FRA", "F", "🇫🇷"} {
		_, err := ForMission(bad)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != "country" || !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ForMission(%q) = %v; want a FieldError on country", bad, err)
		}
	}
	want := []string{"AU", "BR", "CH", "CN", "EG", "FR", "JP", "RU", "US", "VN", "ZA"}
	if got := Countries(); !slices.Equal(got, want) {
		t.Errorf("Countries() = %v; want %v", got, want)
	}
}

func TestAddWorkingDays(t *testing.T) {
	tests := []struct {
		start string
		n     int
		want  string
	}{
		{"2024-06-03", 5, "2024-06-10"},   // Monday + 5: the next Monday
		{"2024-06-07", 1, "2024-06-10"},   // Friday + 1: Monday
		{"2024-06-08", 1, "2024-06-10"},   // Saturday + 1: Monday
		{"2024-06-08", 0, "2024-06-10"},   // a day off + 0: the next working day
		{"2024-06-05", 0, "2024-06-05"},   // a working day + 0: itself
		{"2025-01-24", 1, "2025-02-03"},   // across Tết 2025 (25 January–2 February off)
		{"2025-01-24", 5, "2025-02-07"},   //
		{"2024-02-07", 1, "2024-02-15"},   // across Tết 2024 (8–14 February off)
		{"2024-02-07", 15, "2024-03-06"},  //
		{"2026-01-09", 1, "2026-01-10"},   // a Saturday worked in 2026
		{"2025-12-31", 1, "2026-01-05"},   // across New Year 2026 (1–4 January off)
		{"2025-04-25", 2, "2025-04-28"},   // Saturday 26 April 2025 was worked
		{"2025-02-03", -1, "2025-01-24"},  // back across Tết
		{"2025-02-01", -1, "2025-01-24"},  //
		{"2025-02-03", -20, "2024-12-27"}, // past New Year's Day 2025
		// 2024 had 251 working days: 262 weekdays, 12 of them off, and a
		// Saturday worked.
		{"2024-01-01", 251, "2024-12-31"},
		{"2024-01-01", 252, "2025-01-02"},
	}
	for _, tt := range tests {
		if got := Vietnam().AddWorkingDays(mustDate(t, tt.start), tt.n); got != mustDate(t, tt.want) {
			t.Errorf("AddWorkingDays(%s, %d) = %v; want %s", tt.start, tt.n, got, tt.want)
		}
	}
}

// AddWorkingDays and WorkingDaysBetween agree with counting day by day,
// from random days across 2023 to 2027 over up to three years.
func TestWorkingDayArithmeticAgreesWithCounting(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, cc := range []string{"VN", "EG", "JP"} {
		c, _ := ForMission(cc)
		base := mustDate(t, "2023-01-01")
		for range 300 {
			start := base.AddDays(r.IntN(5 * 365))
			n := r.IntN(700) - 100
			want := start
			switch {
			case n == 0:
				for !c.IsWorkingDay(want) {
					want = want.AddDays(1)
				}
			default:
				step := 1
				if n < 0 {
					step = -1
				}
				for k := 0; k != n; {
					want = want.AddDays(step)
					if c.IsWorkingDay(want) {
						k += step
					}
				}
			}
			got := c.AddWorkingDays(start, n)
			if got != want {
				t.Fatalf("%s AddWorkingDays(%v, %d) = %v; counting gives %v", cc, start, n, got, want)
			}
			if n > 0 {
				if between := c.WorkingDaysBetween(start, got); between != n {
					t.Fatalf("%s WorkingDaysBetween(%v, %v) = %d; want %d", cc, start, got, between, n)
				}
				if back := c.WorkingDaysBetween(got, start); back != -n {
					t.Fatalf("%s WorkingDaysBetween(%v, %v) = %d; want %d", cc, got, start, back, -n)
				}
			}
		}
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2025-01-24", "2025-02-03", 1},  // Tết 2025 between
		{"2025-02-03", "2025-01-24", -1}, //
		{"2025-01-24", "2025-01-24", 0},
		{"2024-06-08", "2024-06-09", 0}, // a weekend
		{"2024-06-07", "2024-06-09", 0},
		{"2024-06-07", "2024-06-10", 1},
		// All of 2025's working days: 261 weekdays, 12 of them off, and a
		// Saturday worked.
		{"2024-12-31", "2026-01-01", 250},
	}
	for _, tt := range tests {
		if got := Vietnam().WorkingDaysBetween(mustDate(t, tt.a), mustDate(t, tt.b)); got != tt.want {
			t.Errorf("WorkingDaysBetween(%s, %s) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// Many goroutines filling a fresh calendar's year cache at once must
// agree, and the race detector must find nothing.
func TestCalendarIsSafeForConcurrentUse(t *testing.T) {
	fresh := &Calendar{country: "VN", weekend: Vietnam().weekend, sources: Vietnam().sources}
	var wg sync.WaitGroup
	results := make([]Date, 8)
	for i := range results {
		wg.Go(func() {
			d := mustDate(t, "2020-01-01")
			for range 50 {
				d = fresh.AddWorkingDays(d, 37)
			}
			results[i] = d
		})
	}
	wg.Wait()
	want := mustDate(t, "2020-01-01")
	for range 50 {
		want = Vietnam().AddWorkingDays(want, 37)
	}
	for i, got := range results {
		if got != want {
			t.Errorf("goroutine %d reached %v; want %v", i, got, want)
		}
	}
}

// Every year the API accepts computes without panicking and has its five
// Tết days, on any calendar.
func TestEveryAcceptedYearComputes(t *testing.T) {
	for _, cc := range Countries() {
		c, _ := ForMission(cc)
		for y := MinYear; y <= MaxYear; y++ {
			tet := 0
			for _, h := range c.Holidays(y) {
				if h.Country == "VN" && h.NameEN == "Lunar New Year (Tết)" {
					tet++
				}
			}
			// Tết falls between 21 January and 20 February: all its
			// days are in the year.
			if (y >= 2013 && tet != 5) || (y < 2013 && tet != 4) {
				t.Fatalf("%s %d: %d Tết days", cc, y, tet)
			}
		}
	}
}

func TestYearOutsideTheRangePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("AddWorkingDays past year 9999 did not panic")
		}
	}()
	Vietnam().AddWorkingDays(mustDate(t, "9999-12-30"), 10)
}
