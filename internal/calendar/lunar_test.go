package calendar

import "testing"

const (
	vietnamZone = 7
	chinaZone   = 8
)

// Tết (1st day of the 1st lunar month) and Hùng Kings' day (10th day of
// the 3rd) as Vietnamese calendars print them. 2030 is the year the
// zones part: the new moon falls at 23:07 in Ha Noi on 2 February and at
// 00:07 in Beijing on 3 February, so Tết Canh Tuất is on 2 February and
// China's Spring Festival on 3 February.
func TestTetAndHungKingsDaysInVietnam(t *testing.T) {
	tests := []struct {
		year      int
		tet, hung string
	}{
		{2024, "2024-02-10", "2024-04-18"},
		{2025, "2025-01-29", "2025-04-07"},
		{2026, "2026-02-17", "2026-04-26"},
		{2027, "2027-02-06", "2027-04-16"},
		{2028, "2028-01-26", "2028-04-04"},
		{2029, "2029-02-13", "2029-04-23"},
		{2030, "2030-02-02", "2030-04-12"},
		{2023, "2023-01-22", "2023-04-29"}, // a leap 2nd month before Hùng Kings' day
		{2009, "2009-01-26", "2009-04-04"}, // Hùng Kings' day a day before China's 3/10
	}
	for _, tt := range tests {
		if got := dateOfDays(lunarToDays(tt.year, 1, 1, vietnamZone)); got != mustDate(t, tt.tet) {
			t.Errorf("Tết %d = %v; want %s", tt.year, got, tt.tet)
		}
		if got := dateOfDays(lunarToDays(tt.year, 3, 10, vietnamZone)); got != mustDate(t, tt.hung) {
			t.Errorf("Hùng Kings' day %d = %v; want %s", tt.year, got, tt.hung)
		}
	}
}

// The Vietnamese and Chinese calendars differ only by their meridian; in
// these years that moves the lunar New Year.
func TestLunarNewYearDiffersByZone(t *testing.T) {
	tests := []struct {
		year           int
		vietnam, china string
	}{
		{1985, "1985-01-21", "1985-02-20"}, // the 11th month starts on different days: a month apart
		{2007, "2007-02-17", "2007-02-18"},
		{2030, "2030-02-02", "2030-02-03"},
		{2053, "2053-02-18", "2053-02-19"},
		{2024, "2024-02-10", "2024-02-10"},
	}
	for _, tt := range tests {
		if got := dateOfDays(lunarToDays(tt.year, 1, 1, vietnamZone)); got != mustDate(t, tt.vietnam) {
			t.Errorf("Vietnamese New Year %d = %v; want %s", tt.year, got, tt.vietnam)
		}
		if got := dateOfDays(lunarToDays(tt.year, 1, 1, chinaZone)); got != mustDate(t, tt.china) {
			t.Errorf("Chinese New Year %d = %v; want %s", tt.year, got, tt.china)
		}
	}
}

// Months after a leap month: 2025 (Ất Tỵ) has a leap 6th month, so the
// 7th and 8th months start a month later than counting would say.
func TestMonthsAfterALeapMonth(t *testing.T) {
	tests := []struct {
		what string
		year int
		m, d int
		want string
		zone float64
	}{
		{"Vu Lan 2025 (15/7)", 2025, 7, 15, "2025-09-06", vietnamZone},
		{"Mid-Autumn 2025 (15/8)", 2025, 8, 15, "2025-10-06", vietnamZone},
		{"Mid-Autumn 2023 (15/8)", 2023, 8, 15, "2023-09-29", vietnamZone},
		{"Dragon Boat 2025 (5/5)", 2025, 5, 5, "2025-05-31", chinaZone},
		{"Mid-Autumn 2026 (15/8)", 2026, 8, 15, "2026-09-25", chinaZone},
		{"Ông Táo 2025 (23/12)", 2025, 12, 23, "2026-02-10", vietnamZone},
	}
	for _, tt := range tests {
		if got := dateOfDays(lunarToDays(tt.year, tt.m, tt.d, tt.zone)); got != mustDate(t, tt.want) {
			t.Errorf("%s = %v; want %s", tt.what, got, tt.want)
		}
	}
}

// Every lunar year from 1900 to 2199 has a New Year in late January or
// February, and 12 or 13 months between consecutive New Years.
func TestLunarYearsAreWellFormed(t *testing.T) {
	prev := lunarToDays(1900, 1, 1, vietnamZone)
	for y := 1901; y <= 2200; y++ {
		tet := lunarToDays(y, 1, 1, vietnamZone)
		d := dateOfDays(tet)
		if d.Year != y || d.Month > 2 || (d.Month == 1 && d.Day < 20) || (d.Month == 2 && d.Day > 20) {
			t.Errorf("Tết %d on %v", y, d)
		}
		if n := tet - prev; n != 353 && n != 354 && n != 355 && n != 383 && n != 384 && n != 385 {
			t.Errorf("lunar year %d has %d days", y-1, n)
		}
		prev = tet
	}
}

// The first day of Tết as Vietnamese calendars print it, 2015 to 2035
// (2030: 2 February in Viet Nam, a day before China's Spring Festival).
func TestLunarNewYear2015To2035(t *testing.T) {
	want := []string{
		"2015-02-19", "2016-02-08", "2017-01-28", "2018-02-16", "2019-02-05",
		"2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10",
		"2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13",
		"2030-02-02", "2031-01-23", "2032-02-11", "2033-01-31", "2034-02-19",
		"2035-02-08",
	}
	for i, w := range want {
		y := 2015 + i
		if got := LunarNewYear(y); got != mustDate(t, w) {
			t.Errorf("LunarNewYear(%d) = %v; want %s", y, got, w)
		}
	}
	if got := Lunar(2025, 3, 10); got != mustDate(t, "2025-04-07") {
		t.Errorf("Lunar(2025, 3, 10) (Hùng Kings' day) = %v; want 2025-04-07", got)
	}
}

// A lunar day that cannot exist is a programming error, as an invalid
// Date is.
func TestLunarRefusesImpossibleDays(t *testing.T) {
	for _, md := range [][2]int{{0, 1}, {13, 1}, {1, 0}, {1, 31}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Lunar(2025, %d, %d) did not panic", md[0], md[1])
				}
			}()
			Lunar(2025, md[0], md[1])
		}()
	}
}
