package insight

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/i18n"
)

// Period is how often a report is made. Decree 09/2019/NĐ-CP (Art. 8)
// names periodic reports — monthly, quarterly, half-yearly, yearly —
// beside thematic and ad hoc ones.
type Period string

// The periods.
const (
	Monthly    Period = "monthly"
	Quarterly  Period = "quarterly"
	HalfYearly Period = "half_yearly"
	Yearly     Period = "yearly"
	AdHoc      Period = "ad_hoc"
)

// Periods lists the periods in order.
var Periods = []Period{Monthly, Quarterly, HalfYearly, Yearly, AdHoc}

// ValueType is an indicator's type.
type ValueType string

// The indicator types.
const (
	Integer ValueType = "integer"
	Decimal ValueType = "decimal"
	Percent ValueType = "percentage"
	Text    ValueType = "text"
)

// Indicator is one line of a report template (chỉ tiêu báo cáo).
type Indicator struct {
	// Code names it in submissions and exports: lower case letters,
	// digits and underscores.
	Code   string    `json:"code"`
	NameVI string    `json:"name_vi"`
	NameEN string    `json:"name_en"`
	Type   ValueType `json:"type"`
	// Unit is the unit of measure (người, hồ sơ, USD); empty for text.
	Unit string `json:"unit,omitempty"`
	// Min and Max bound a number (a percentage is always 0–100); nil
	// is no bound.
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Required bool     `json:"required"`
}

// Name returns the indicator's name in lang.
func (i Indicator) Name(lang i18n.Lang) string {
	if lang == i18n.EN {
		return i.NameEN
	}
	return i.NameVI
}

// Numeric reports whether the indicator holds a number.
func (i Indicator) Numeric() bool { return i.Type != Text }

// Template is a report template: its indicators and its period.
type Template struct {
	ID         int64       `json:"id"`
	UID        string      `json:"uid"`
	Code       string      `json:"code"`
	NameVI     string      `json:"name_vi"`
	NameEN     string      `json:"name_en"`
	Period     Period      `json:"period"`
	OwnerUnit  int64       `json:"owner_unit"`
	Indicators []Indicator `json:"indicators"`
	CreatedAt  time.Time   `json:"created_at"`
}

// Name returns the template's name in lang.
func (t Template) Name(lang i18n.Lang) string {
	if lang == i18n.EN {
		return t.NameEN
	}
	return t.NameVI
}

// Round is a collection round: a template, a period, the units asked,
// a due date.
type Round struct {
	ID         int64    `json:"id"`
	UID        string   `json:"uid"`
	TemplateID int64    `json:"template_id"`
	Template   Template `json:"template"`
	// Label names the period (2026-Q3); From and To are the data's
	// closing dates (thời gian chốt số liệu).
	Label     string    `json:"label"`
	From      string    `json:"period_from"`
	To        string    `json:"period_to"`
	Due       time.Time `json:"due"`
	OwnerUnit int64     `json:"owner_unit"`
	Units     []int64   `json:"units"`
	CreatedAt time.Time `json:"created_at"`
}

// resource is the round to authz: the collecting unit's, shared with
// the units asked to report.
func (r Round) resource() authz.Resource {
	return authz.Resource{Kind: authz.KindReport, Unit: r.OwnerUnit, Shared: r.Units}
}

// collecting is the round as only the collecting unit (and leaders) see
// it: its aggregation, exports and decisions.
func (r Round) collecting() authz.Resource {
	return authz.Resource{Kind: authz.KindReport, Unit: r.OwnerUnit}
}

// SubmissionStatus is where a unit's report stands.
type SubmissionStatus string

// The submission statuses.
const (
	Submitted SubmissionStatus = "submitted"
	Returned  SubmissionStatus = "returned"
	Approved  SubmissionStatus = "approved"
)

// Submission is a unit's report in a round.
type Submission struct {
	ID          int64             `json:"id"`
	RoundID     int64             `json:"round_id"`
	Unit        int64             `json:"unit"`
	UID         string            `json:"uid"`
	Status      SubmissionStatus  `json:"status"`
	Values      map[string]string `json:"values"`
	SubmittedBy string            `json:"submitted_by"`
	SubmittedAt time.Time         `json:"submitted_at"`
	DecidedBy   string            `json:"decided_by,omitempty"`
	DecidedAt   time.Time         `json:"decided_at,omitzero"`
	Reason      string            `json:"reason,omitempty"`
	Version     int               `json:"version"`
}

// resource is the submission to authz: the reporting unit's, shared
// with the collecting unit.
func (s Submission) resource(r Round) authz.Resource {
	return authz.Resource{Kind: authz.KindReport, Unit: s.Unit, Shared: []int64{r.OwnerUnit}}
}

// The limits of what a template, a task or a report holds.
const (
	MaxIndicators = 200
	MaxLine       = 300
	MaxText       = 20000
	// MaxFile bounds a task's evidence file.
	MaxFile = 10 << 20
)

var codeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// checkLine refuses a value that is empty when required, too long, or
// holds a control character (NUL, CR, LF in a line) or a bidirectional
// override that could make it read otherwise than it is.
func checkLine(field, v string, limit int, required, multiline bool) error {
	if required && strings.TrimSpace(v) == "" {
		return errs.Invalid(field, "is required")
	}
	if len(v) > limit {
		return errs.Invalid(field, fmt.Sprintf("is longer than %d bytes; shorten it", limit))
	}
	for _, r := range v {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			if !multiline && r != '\t' {
				return errs.Invalid(field, "must be one line")
			}
		case r < 0x20 || r == 0x7f:
			return errs.Invalid(field, "holds a control character; remove it")
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
			return errs.Invalid(field, "holds a bidirectional control character that could make it read otherwise; remove it")
		case r == 0xfffd:
			return errs.Invalid(field, "is not valid UTF-8 text")
		}
	}
	return nil
}

// clean checks a template and returns it tidied; each fault names its
// field (indicators[2].max).
func (t Template) clean() (Template, error) {
	t.Code, t.NameVI, t.NameEN = strings.TrimSpace(t.Code), strings.TrimSpace(t.NameVI), strings.TrimSpace(t.NameEN)
	if !codeRE.MatchString(t.Code) {
		return t, errs.Invalid("code", "use 1–40 lower-case letters, digits and underscores, starting with a letter")
	}
	if err := checkLine("name_vi", t.NameVI, MaxLine, true, false); err != nil {
		return t, err
	}
	if err := checkLine("name_en", t.NameEN, MaxLine, true, false); err != nil {
		return t, err
	}
	if !validPeriod(t.Period) {
		return t, errs.Invalid("period", "choose monthly, quarterly, half_yearly, yearly or ad_hoc")
	}
	if len(t.Indicators) == 0 || len(t.Indicators) > MaxIndicators {
		return t, errs.Invalid("indicators", fmt.Sprintf("a template has 1 to %d indicators", MaxIndicators))
	}
	seen := map[string]bool{}
	for i := range t.Indicators {
		in := &t.Indicators[i]
		f := func(name string) string { return fmt.Sprintf("indicators[%d].%s", i, name) }
		in.Code, in.NameVI, in.NameEN, in.Unit = strings.TrimSpace(in.Code), strings.TrimSpace(in.NameVI), strings.TrimSpace(in.NameEN), strings.TrimSpace(in.Unit)
		if !codeRE.MatchString(in.Code) {
			return t, errs.Invalid(f("code"), "use 1–40 lower-case letters, digits and underscores, starting with a letter")
		}
		if seen[in.Code] {
			return t, errs.Invalid(f("code"), fmt.Sprintf("%q is another indicator's code", in.Code))
		}
		seen[in.Code] = true
		for name, v := range map[string]string{"name_vi": in.NameVI, "name_en": in.NameEN} {
			if err := checkLine(f(name), v, MaxLine, true, false); err != nil {
				return t, err
			}
		}
		if err := checkLine(f("unit"), in.Unit, 40, false, false); err != nil {
			return t, err
		}
		switch in.Type {
		case Integer, Decimal:
		case Percent:
			lo, hi := 0.0, 100.0
			if in.Min == nil {
				in.Min = &lo
			}
			if in.Max == nil {
				in.Max = &hi
			}
			if in.Unit == "" {
				in.Unit = "%"
			}
		case Text:
			if in.Min != nil || in.Max != nil {
				return t, errs.Invalid(f("type"), "a text indicator has no bounds")
			}
		default:
			return t, errs.Invalid(f("type"), "choose integer, decimal, percentage or text")
		}
		for name, b := range map[string]*float64{"min": in.Min, "max": in.Max} {
			if b != nil && (math.IsNaN(*b) || math.IsInf(*b, 0)) {
				return t, errs.Invalid(f(name), "must be a finite number")
			}
		}
		if in.Min != nil && in.Max != nil && *in.Min > *in.Max {
			return t, errs.Invalid(f("max"), "is below the minimum")
		}
	}
	return t, nil
}

func validPeriod(p Period) bool {
	for _, q := range Periods {
		if p == q {
			return true
		}
	}
	return false
}

// Validate checks values against the template and returns them tidied:
// every required indicator present, each value of its type and within
// its bounds, no value for an indicator the template lacks. Each fault
// is an *errs.FieldError naming the indicator's code (values.visas).
func (t Template) Validate(values map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(t.Indicators))
	known := make(map[string]bool, len(t.Indicators))
	for _, in := range t.Indicators {
		known[in.Code] = true
	}
	for code := range values {
		if !known[code] {
			return nil, errs.Invalid("values."+clip(code), "the template has no such indicator")
		}
	}
	for _, in := range t.Indicators {
		field := "values." + in.Code
		v := strings.TrimSpace(values[in.Code])
		if v == "" {
			if in.Required {
				return nil, errs.Invalid(field, "is required")
			}
			continue
		}
		if in.Type == Text {
			if err := checkLine(field, v, MaxText, false, true); err != nil {
				return nil, err
			}
			out[in.Code] = v
			continue
		}
		n, err := parseNumber(v, in.Type)
		if err != nil {
			return nil, errs.Invalid(field, err.Error())
		}
		if in.Min != nil && n < *in.Min {
			return nil, errs.Invalid(field, fmt.Sprintf("must be at least %s", formatNumber(*in.Min)))
		}
		if in.Max != nil && n > *in.Max {
			return nil, errs.Invalid(field, fmt.Sprintf("must be at most %s", formatNumber(*in.Max)))
		}
		out[in.Code] = formatNumber(n)
	}
	return out, nil
}

// parseNumber reads a number as a person writes it: a decimal comma or
// point (1,5 or 1.5), no thousands separators, an integer for Integer.
func parseNumber(v string, t ValueType) (float64, error) {
	v = strings.TrimSuffix(strings.TrimSpace(v), "%")
	v = strings.Replace(v, ",", ".", 1)
	if t == Integer {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > 1<<53 || n < -(1<<53) {
			return 0, fmt.Errorf("must be a whole number, such as 120")
		}
		return float64(n), nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("must be a number, such as 12,5")
	}
	return n, nil
}

func formatNumber(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// clip shortens a caller's string for an error message.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// PeriodOf returns a period's label and its data's closing dates for a
// round of period p containing day d. Decree 09/2019/NĐ-CP (Art. 12)
// closes a periodic report's data on the 14th: a monthly report's runs
// from the 15th of the month before to the 14th of its month, a
// quarterly one from the 15th of the month before the quarter to the
// 14th of its last month, a half-yearly one from 15 December to 14 June,
// a yearly one from 15 December to 14 December. An ad hoc report covers
// the month to d.
func PeriodOf(p Period, d calendar.Date) (label string, from, to calendar.Date) {
	y, m := d.Year, int(d.Month)
	mk := func(y, m, day int) calendar.Date {
		for m < 1 {
			m += 12
			y--
		}
		return calendar.Date{Year: y, Month: time.Month(m), Day: day}
	}
	switch p {
	case Monthly:
		return fmt.Sprintf("%04d-%02d", y, m), mk(y, m-1, 15), mk(y, m, 14)
	case Quarterly:
		q := (m-1)/3 + 1
		return fmt.Sprintf("%04d-Q%d", y, q), mk(y, 3*(q-1), 15), mk(y, 3*q, 14)
	case HalfYearly:
		if m <= 6 {
			return fmt.Sprintf("%04d-H1", y), mk(y-1, 12, 15), mk(y, 6, 14)
		}
		return fmt.Sprintf("%04d-H2", y), mk(y, 6, 15), mk(y, 12, 14)
	case Yearly:
		return fmt.Sprintf("%04d", y), mk(y-1, 12, 15), mk(y, 12, 14)
	}
	return d.String(), mk(y, m, 1), d
}
