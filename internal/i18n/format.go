package i18n

import (
	"strconv"
	"strings"
	"time"
)

// FormatNumber writes x as readers of lang write numbers: with decimals
// digits after the mark (trailing zeros dropped), and thousands grouped.
// Vietnamese groups with a dot and marks decimals with a comma ("1.234,5";
// "0,25"), English the other way round ("1,234.5"; "0.25").
func (l Lang) FormatNumber(x float64, decimals int) string {
	group, mark := ",", "."
	if l != EN {
		group, mark = ".", ","
	}
	s := strconv.FormatFloat(x, 'f', decimals, 64)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString(mark + frac)
	}
	return b.String()
}

// FormatDate writes the civil date of t (in t's location) as readers of
// lang write dates: "14/03/2025" in Vietnamese, "14 March 2025" in
// English.
func (l Lang) FormatDate(t time.Time) string {
	if l == EN {
		return t.Format("2 January 2006")
	}
	return t.Format("02/01/2006")
}

// FormatDateTime writes t (in t's location) with its time of day:
// "14/03/2025 15:04" in Vietnamese, "14 March 2025, 15:04" in English. It
// names no time zone: pages say once, in words, whose time it is.
func (l Lang) FormatDateTime(t time.Time) string {
	if l == EN {
		return t.Format("2 January 2006, 15:04")
	}
	return t.Format("02/01/2006 15:04")
}
