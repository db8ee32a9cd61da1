package calendar

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"chancery/internal/errs"
)

func TestParseDateAcceptsOnlyISODaysThatExist(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2025-01-29", Date{2025, time.January, 29}, true},
		{"2024-02-29", Date{2024, time.February, 29}, true},
		{"2000-02-29", Date{2000, time.February, 29}, true},
		{"0001-01-01", Date{1, time.January, 1}, true},
		{"9999-12-31", Date{9999, time.December, 31}, true},
		{"2025-02-29", Date{}, false}, // not a leap year
		{"1900-02-29", Date{}, false}, // a century, not a leap year
		{"2025-04-31", Date{}, false},
		{"2025-13-01", Date{}, false},
		{"2025-00-10", Date{}, false},
		{"2025-01-00", Date{}, false},
		{"0000-01-01", Date{}, false},
		{"2025-1-29", Date{}, false},
		{"2025/01/29", Date{}, false},
		{"25-01-29", Date{}, false},
		{"2025-01-29T00:00:00Z", Date{}, false},
		{" 2025-01-29", Date{}, false},
		{"+025-01-29", Date{}, false},
		{"２０２５-01-29", Date{}, false},
		{"", Date{}, false},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("ParseDate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ParseDate(%q) = %v, %v; want an ErrInvalid", tt.in, got, err)
		}
	}
}

// The day-number arithmetic must agree with the time package on every
// day of a span that covers leap centuries and both signs of day number.
func TestDayNumbersAgreeWithTimePackage(t *testing.T) {
	start := time.Date(1599, 12, 25, 0, 0, 0, 0, time.UTC)
	for i := range 200000 { // to about 2147
		tm := start.AddDate(0, 0, i)
		d := DateOf(tm)
		n := d.days()
		if want := floorDiv(int(tm.Unix()), 86400); n != want {
			t.Fatalf("%v: day number %d", d, n)
		}
		if back := dateOfDays(n); back != d {
			t.Fatalf("dateOfDays(%d) = %v; want %v", n, back, d)
		}
		if d.Weekday() != tm.Weekday() {
			t.Fatalf("%v: weekday %v; want %v", d, d.Weekday(), tm.Weekday())
		}
	}
}

func TestDateArithmeticAndOrder(t *testing.T) {
	d := Date{2024, time.December, 31}
	if got := d.AddDays(1); got != (Date{2025, time.January, 1}) {
		t.Errorf("AddDays(1) = %v", got)
	}
	if got := d.AddDays(-366); got != (Date{2023, time.December, 31}) {
		t.Errorf("AddDays(-366) = %v", got)
	}
	e := Date{2025, time.January, 1}
	if !d.Before(e) || d.After(e) || e.Compare(d) != 1 || d.Compare(d) != 0 {
		t.Errorf("order of %v and %v is wrong", d, e)
	}
	loc := time.FixedZone("ICT", 7*3600)
	if got := e.Time(loc); !got.Equal(time.Date(2024, 12, 31, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("Time = %v", got)
	}
	if got := DateOf(time.Date(2024, 12, 31, 18, 0, 0, 0, time.UTC).In(loc)); got != e {
		t.Errorf("DateOf at 01:00 in Viet Nam = %v; want %v", got, e)
	}
}

func TestDateJSONIsAnISOString(t *testing.T) {
	b, err := json.Marshal(struct{ D Date }{Date{2026, time.February, 17}})
	if err != nil || string(b) != `{"D":"2026-02-17"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var v struct{ D Date }
	if err := json.Unmarshal([]byte(`{"D":"2026-02-30"}`), &v); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Unmarshal of 2026-02-30 = %v; want ErrInvalid", err)
	}
	if _, err := json.Marshal(Date{}); err == nil {
		t.Error("Marshal of the zero Date succeeded")
	}
}

func TestMethodsPanicOnAnInvalidDate(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("IsWorkingDay(2025-02-30) did not panic")
		}
	}()
	Vietnam().IsWorkingDay(Date{2025, time.February, 30})
}

// FuzzParseDate: ParseDate never panics; what it accepts is a valid date
// that prints back as the input.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2025-01-29", "2024-02-29", "2025-02-29", "9999-12-31", "0000-00-00", "2025-1-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("ParseDate(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if !d.IsValid() || d.String() != s {
			t.Fatalf("ParseDate(%q) = %v (valid %v)", s, d, d.IsValid())
		}
	})
}
