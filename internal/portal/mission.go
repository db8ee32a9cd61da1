package portal

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/identity"
)

// Mission is a mission abroad as the public sees it: the directory's unit
// (its code, names, country and zone) and the public details the portal
// keeps beside it.
type Mission struct {
	Unit identity.Unit `json:"unit"`
	MissionDetails
	// Region groups missions on the list: africa, americas, asia,
	// europe, oceania, or other.
	Region string `json:"region"`
}

// Name returns the mission's name in lang.
func (m Mission) Name(lang i18n.Lang) string { return pick(lang, m.Unit.NameVI, m.Unit.NameEN) }

// Ambassador returns the head of mission's name and title in lang.
func (m Mission) Ambassador(lang i18n.Lang) string { return pick(lang, m.AmbassadorVI, m.AmbassadorEN) }

// Hours returns the consular hours in lang.
func (m Mission) Hours(lang i18n.Lang) string { return pick(lang, m.HoursVI, m.HoursEN) }

// Holidays returns the days the mission is closed in year, other than its
// weekend: Viet Nam's public holidays and the host country's, from the
// calendar (a country without calendar data gets Viet Nam's alone).
func (m Mission) Holidays(year int) []calendar.Holiday {
	c, _, err := calendar.ForMissionOrFallback(m.Unit.Country)
	if err != nil {
		return nil
	}
	return c.Holidays(year)
}

// MissionDetails are a mission's public details, which press officers
// and administrators keep.
type MissionDetails struct {
	AmbassadorVI string `json:"ambassador_vi"`
	AmbassadorEN string `json:"ambassador_en"`
	Address      string `json:"address"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
	HoursVI      string `json:"hours_vi"`
	HoursEN      string `json:"hours_en"`
	// Hotline is the citizen protection hotline, answered around the
	// clock.
	Hotline   string    `json:"hotline"`
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// HotlineTel is the hotline as a tel: link dials it: without spaces
// and punctuation.
func (d MissionDetails) HotlineTel() string { return telOf(d.Hotline) }

// PhoneTel is the telephone number as a tel: link dials it.
func (d MissionDetails) PhoneTel() string { return telOf(d.Phone) }

func telOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '+' || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s)
}

// clean checks d: one line each, a phone number of digits, spaces and
// + ( ) -, a plain e-mail address.
func (d MissionDetails) clean() (MissionDetails, error) {
	for _, f := range []struct {
		field string
		v     *string
		max   int
	}{
		{"ambassador_vi", &d.AmbassadorVI, 200}, {"ambassador_en", &d.AmbassadorEN, 200}, {"address", &d.Address, 400},
		{"phone", &d.Phone, 40}, {"email", &d.Email, 200}, {"hours_vi", &d.HoursVI, 400}, {"hours_en", &d.HoursEN, 400},
		{"hotline", &d.Hotline, 40},
	} {
		*f.v = strings.TrimSpace(*f.v)
		if err := checkLine(f.field, *f.v, f.max, false); err != nil {
			return d, err
		}
	}
	for field, v := range map[string]string{"phone": d.Phone, "hotline": d.Hotline} {
		if strings.Trim(v, "0123456789 +()-.") != "" {
			return d, errs.Invalid(field, fmt.Sprintf("%q is not a telephone number: use digits, spaces and + ( ) - only, such as +33 1 44 14 64 00", v))
		}
	}
	if d.Email != "" {
		if a, err := mail.ParseAddress(d.Email); err != nil || a.Address != d.Email {
			return d, errs.Invalid("email", "is not a plain e-mail address such as lanhsu@example.org")
		}
	}
	return d, nil
}

// Regions lists the regions in the order the list shows them.
var Regions = []string{"asia", "europe", "americas", "africa", "oceania", "other"}

// regionOf returns the region of a country (ISO 3166-1 alpha-2). It
// knows the countries where Viet Nam has missions; any other is "other"
// until added here.
func regionOf(country string) string {
	if r, ok := regionByCountry[strings.ToUpper(country)]; ok {
		return r
	}
	return "other"
}

var regionByCountry = func() map[string]string {
	m := map[string]string{}
	for region, cs := range map[string]string{
		"asia":     "AE BD BN CN IL IN ID IR IQ JP KH KP KR KW KZ LA LK MM MN MY NP PH PK QA SA SG TH TL TR UZ VN",
		"europe":   "AT BE BG BY CH CZ DE DK ES FI FR GB GR HU IE IT NL NO PL PT RO RS RU SE SK UA",
		"americas": "AR BR CA CL CO CU MX PA PE US VE",
		"africa":   "AO DZ EG ET KE LY MA MZ NG SN TZ ZA",
		"oceania":  "AU NZ",
	} {
		for c := range strings.FieldsSeq(cs) {
			m[c] = region
		}
	}
	return m
}()
