package procedures

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/errs"
	"chancery/internal/identity"
)

// SeqWidth is the number of digits of a dossier code's sequence number,
// zero-padded: up to 999,999 dossiers per unit per day, so a code's width
// never changes and codes of a day sort in order as text.
const SeqWidth = 6

// MaxSeq is the largest sequence number a dossier code holds.
const MaxSeq = 999_999

// DossierCode is a dossier's code, {agency code}-{yymmdd}-{seq}, e.g.
// 000.00.03.G12-250314-000042: the receiving unit's electronic agency
// code, the day of submission in the unit's time zone, and the dossier's
// number among that unit's dossiers of that day.
type DossierCode struct {
	Agency string
	Year   int // 2000–2099: the code writes two digits
	Month  time.Month
	Day    int
	Seq    int // 1–MaxSeq
}

// NewDossierCode returns the code of a unit's seq-th dossier submitted at
// the given time, dated in the unit's time zone loc: a dossier handed in
// at an embassy at 9:00 on the 1st is dated the 1st, whatever the hour in
// Hanoi. The error wraps errs.ErrInvalid.
func NewDossierCode(agency string, at time.Time, loc *time.Location, seq int) (DossierCode, error) {
	if loc == nil {
		return DossierCode{}, errs.Invalid("time_zone", "the unit's time zone is required to date a dossier code")
	}
	y, m, d := at.In(loc).Date()
	c := DossierCode{Agency: agency, Year: y, Month: m, Day: d, Seq: seq}
	if err := c.validate(); err != nil {
		return DossierCode{}, err
	}
	return c, nil
}

func (c DossierCode) validate() error {
	switch {
	case !identity.IsAgencyCode(c.Agency):
		return errs.Invalid("code", fmt.Sprintf("agency code %q is not of the form NNN.NN.NN.XNN, e.g. 000.00.03.G12", c.Agency))
	case c.Year < 2000 || c.Year > 2099:
		return errs.Invalid("code", fmt.Sprintf("year %d cannot be written in two digits; dossier codes cover 2000–2099", c.Year))
	case c.Month < time.January || c.Month > time.December || c.Day < 1 ||
		time.Date(c.Year, c.Month, c.Day, 0, 0, 0, 0, time.UTC).Day() != c.Day: // the 30th of February normalises to March
		return errs.Invalid("code", fmt.Sprintf("%04d-%02d-%02d is not a date", c.Year, int(c.Month), c.Day))
	case c.Seq < 1 || c.Seq > MaxSeq:
		return errs.Invalid("code", fmt.Sprintf("sequence number %d is outside 1–%d", c.Seq, MaxSeq))
	}
	return nil
}

// String returns the code as written: agency-yymmdd-seq, the sequence
// zero-padded to SeqWidth digits.
func (c DossierCode) String() string {
	return fmt.Sprintf("%s-%02d%02d%02d-%0*d", c.Agency, c.Year%100, int(c.Month), c.Day, SeqWidth, c.Seq)
}

// Date returns the code's day as YYYY-MM-DD.
func (c DossierCode) Date() string {
	return fmt.Sprintf("%04d-%02d-%02d", c.Year, int(c.Month), c.Day)
}

// ParseDossierCode parses a dossier code as String writes it, and only
// so: one spelling per dossier, so a code typed by a citizen finds the
// dossier or nothing. The error wraps errs.ErrInvalid and says what is
// wrong.
func ParseDossierCode(s string) (DossierCode, error) {
	const shape = "a dossier code is written AGENCY-YYMMDD-NNNNNN, e.g. 000.00.03.G12-250314-000042"
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return DossierCode{}, errs.Invalid("code", shape)
	}
	date, seq := parts[1], parts[2]
	if len(date) != 6 || !digits(date) || len(seq) != SeqWidth || !digits(seq) {
		return DossierCode{}, errs.Invalid("code", shape)
	}
	yy, _ := strconv.Atoi(date[0:2])
	mm, _ := strconv.Atoi(date[2:4])
	dd, _ := strconv.Atoi(date[4:6])
	n, _ := strconv.Atoi(seq)
	c := DossierCode{Agency: parts[0], Year: 2000 + yy, Month: time.Month(mm), Day: dd, Seq: n}
	if err := c.validate(); err != nil {
		return DossierCode{}, err
	}
	return c, nil
}

// digits reports whether s is ASCII digits only; strconv.Atoi would also
// take a sign.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
