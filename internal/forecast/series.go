package forecast

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"chancery/internal/calendar"
	"chancery/internal/errs"
)

// Series is a weekly series: Values[i] is the demand of the week that
// begins on the Monday Start + 7i days.
type Series struct {
	Start  calendar.Date
	Values []float64
}

// Week returns the Monday of week i.
func (s Series) Week(i int) calendar.Date { return s.Start.AddDays(7 * i) }

// Limits on a series read from a file: 100 years of weeks is more than
// any ministry keeps, and a count above 1e12 a week is a typing error.
const (
	maxWeeks = 5300
	maxValue = 1e12
	maxLine  = 200
)

// ReadCSV reads a weekly series from CSV lines "week,value": week the
// Monday's ISO date (YYYY-MM-DD), value a non-negative number, weeks in
// order without gaps or repeats. A first line "week,value" is a header.
// Anything else is refused with the line's number.
func ReadCSV(r io.Reader) (Series, error) {
	var s Series
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	line := 0
	var prev calendar.Date
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if line == 1 && strings.EqualFold(strings.ReplaceAll(text, " ", ""), "week,value") {
			continue
		}
		if text == "" {
			continue
		}
		if len(text) > maxLine {
			return Series{}, lineError(line, "is longer than %d characters: each line is week,value", maxLine)
		}
		week, value, ok := strings.Cut(text, ",")
		if !ok || strings.Contains(value, ",") {
			return Series{}, lineError(line, "%q is not week,value (two fields separated by a comma)", text)
		}
		d, err := calendar.ParseDate(strings.TrimSpace(week))
		if err != nil {
			return Series{}, lineError(line, "week %q is not a date YYYY-MM-DD", strings.TrimSpace(week))
		}
		if d.Weekday() != time.Monday {
			return Series{}, lineError(line, "week %s is a %s: name each week by its Monday (%s)", d, d.Weekday(), d.AddDays(-(int(d.Weekday())+6)%7))
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > maxValue {
			return Series{}, lineError(line, "value %q is not a number from 0 to %g", strings.TrimSpace(value), maxValue)
		}
		if len(s.Values) == 0 {
			s.Start = d
		} else {
			switch want := prev.AddDays(7); d.Compare(want) {
			case 0:
			case -1:
				if d == prev {
					return Series{}, lineError(line, "week %s appears twice", d)
				}
				return Series{}, lineError(line, "week %s comes after %s: list the weeks in order", d, prev)
			default:
				return Series{}, lineError(line, "weeks %s to %s are missing: give every week, 0 where there was no demand", want, d.AddDays(-7))
			}
		}
		if len(s.Values) == maxWeeks {
			return Series{}, lineError(line, "the series is longer than %d weeks", maxWeeks)
		}
		s.Values = append(s.Values, v)
		prev = d
	}
	if err := sc.Err(); err != nil {
		return Series{}, lineError(line+1, "cannot be read: %v", err)
	}
	if len(s.Values) == 0 {
		return Series{}, errs.Invalid("series", "the file holds no weeks: give lines week,value")
	}
	return s, nil
}

func lineError(line int, format string, args ...any) error {
	return errs.Invalid("series", fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
}

// WriteCSV writes s as ReadCSV reads it, with a header.
func WriteCSV(w io.Writer, s Series) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "week,value")
	for i, v := range s.Values {
		fmt.Fprintf(bw, "%s,%s\n", s.Week(i), strconv.FormatFloat(v, 'f', -1, 64))
	}
	return bw.Flush()
}
