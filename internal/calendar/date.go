package calendar

import (
	"fmt"
	"time"

	"chancery/internal/errs"
)

// Date is a civil date, without a time or a zone: the day a holiday falls
// on or a time limit ends, whatever the clock says anywhere. Its zero value
// is not a valid date.
//
// Dates in years 1 to 9999 of the proleptic Gregorian calendar are valid.
// Methods that take a Date from a caller panic on an invalid one, as
// indexing does on a bad index: use ParseDate or DateOf to make one.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// The range of years a Date may have.
const (
	minDateYear = 1
	maxDateYear = 9999
)

// ParseDate parses an ISO 8601 calendar date, YYYY-MM-DD. Any other form,
// or a day that does not exist (2025-02-29), returns an error wrapping
// errs.ErrInvalid.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, badDate(s)
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	date := Date{Year: y, Month: time.Month(m), Day: d}
	if !ok1 || !ok2 || !ok3 || !date.IsValid() {
		return Date{}, badDate(s)
	}
	return date, nil
}

func badDate(s string) error {
	const max = 40 // a long input is echoed cut short
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Errorf("%w: %q is not a date; write it as YYYY-MM-DD, such as 2025-01-29", errs.ErrInvalid, s)
}

// digits returns the value of s, which must be all ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsValid reports whether d is a day that exists, in years 1 to 9999.
func (d Date) IsValid() bool {
	return d.Year >= minDateYear && d.Year <= maxDateYear &&
		d.Month >= time.January && d.Month <= time.December &&
		d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

// String returns d as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText returns d as YYYY-MM-DD, so that JSON carries dates as ISO
// strings.
func (d Date) MarshalText() ([]byte, error) {
	if !d.IsValid() {
		return nil, fmt.Errorf("calendar: cannot marshal invalid date %d-%d-%d", d.Year, int(d.Month), d.Day)
	}
	return []byte(d.String()), nil
}

// UnmarshalText parses a YYYY-MM-DD date, as ParseDate does.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Weekday returns the day of the week d falls on.
func (d Date) Weekday() time.Weekday { return weekdayOf(d.days()) }

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date { return dateOfDays(d.days() + n) }

// Compare returns -1 if d is before e, 0 if they are the same day and +1
// if d is after e.
func (d Date) Compare(e Date) int {
	switch a, b := d.days(), e.days(); {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Time returns midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// days returns d as a day number: days since 1970-01-01. It panics on an
// invalid date, which would otherwise be counted as some other day.
func (d Date) days() int {
	if !d.IsValid() {
		panic(fmt.Sprintf("calendar: invalid date %d-%02d-%02d", d.Year, int(d.Month), d.Day))
	}
	return daysFromCivil(d.Year, int(d.Month), d.Day)
}

// daysFromCivil returns the day number of a Gregorian date. The year is
// counted from March, so that the leap day comes last and the days before
// each month follow one formula; 400-year eras repeat exactly.
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400 // [0, 399]
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468       // 719468: days from 0000-03-01 to 1970-01-01
}

// dateOfDays is the inverse of daysFromCivil.
func dateOfDays(n int) Date {
	n += 719468
	era := floorDiv(n, 146097)
	doe := n - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return Date{Year: y, Month: time.Month(m), Day: d}
}

// weekdayOf returns the weekday of day number n (1970-01-01 was a Thursday).
func weekdayOf(n int) time.Weekday {
	return time.Weekday(floorMod(n+4, 7))
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if isLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }
