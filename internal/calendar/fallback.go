package calendar

import (
	"fmt"
	"strings"
	"time"

	"chancery/internal/errs"
)

// hostWeekends are the weekly rest days of countries that rest on other
// days than Saturday and Sunday, for the missions there whose country has
// no calendar data yet (see ForMissionOrFallback). A country with data
// takes its weekend from its file; one in neither rests on Saturday and
// Sunday. Sources: the countries' labour codes and government notices as
// of 2024 (the Gulf states moved to Friday–Saturday in 2006–2013; the
// United Arab Emirates to Saturday–Sunday in 2022, so it is not listed).
var hostWeekends = map[string][]time.Weekday{
	"BD": {time.Friday, time.Saturday},
	"BH": {time.Friday, time.Saturday},
	"BN": {time.Friday, time.Sunday},
	"DZ": {time.Friday, time.Saturday},
	"IL": {time.Friday, time.Saturday},
	"IQ": {time.Friday, time.Saturday},
	"IR": {time.Friday},
	"JO": {time.Friday, time.Saturday},
	"KW": {time.Friday, time.Saturday},
	"LY": {time.Friday, time.Saturday},
	"MV": {time.Friday, time.Saturday},
	"NP": {time.Saturday},
	"OM": {time.Friday, time.Saturday},
	"QA": {time.Friday, time.Saturday},
	"SA": {time.Friday, time.Saturday},
	"SD": {time.Friday, time.Saturday},
	"SY": {time.Friday, time.Saturday},
	"YE": {time.Friday, time.Saturday},
}

// HasData reports whether the country with ISO 3166-1 alpha-2 code
// country (any case) has calendar data: its public holidays are known.
func HasData(country string) bool {
	return data()[strings.ToUpper(strings.TrimSpace(country))] != nil
}

// HostWeekend returns the weekly rest days of the country with code
// country: from its calendar data if it has any, else from the table of
// countries that rest on other days, else Saturday and Sunday.
func HostWeekend(country string) []time.Weekday {
	cc := strings.ToUpper(strings.TrimSpace(country))
	if c := data()[cc]; c != nil {
		var out []time.Weekday
		for d := time.Sunday; d <= time.Saturday; d++ {
			if c.weekend[d] {
				out = append(out, d)
			}
		}
		return out
	}
	if w, ok := hostWeekends[cc]; ok {
		return w
	}
	return []time.Weekday{time.Saturday, time.Sunday}
}

// ForMissionOrFallback returns the calendar of a mission in the country
// with code country, as ForMission does, and reports fellBack false. For a
// country without calendar data it returns instead Viet Nam's public
// holidays with the host country's weekend (HostWeekend), and fellBack
// true: the mission's deadlines then ignore the host country's holidays,
// which the administrator should be told of (and a data file added).
// Calls for the same country return the same Calendar.
func ForMissionOrFallback(country string) (c *Calendar, fellBack bool, err error) {
	cc := strings.ToUpper(strings.TrimSpace(country))
	if HasData(cc) {
		c, err := ForMission(cc)
		return c, false, err
	}
	if len(cc) != 2 || strings.Trim(cc, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return nil, false, errs.Invalid("country", fmt.Sprintf("%s is not an ISO 3166-1 alpha-2 country code", quoteShort(country)))
	}
	key := "fallback:" + cc
	if c, ok := missions.Load(key); ok {
		return c.(*Calendar), true, nil
	}
	fb := &Calendar{country: cc, sources: []source{{c: data()["VN"]}}}
	for _, d := range HostWeekend(cc) {
		fb.weekend[d] = true
	}
	got, _ := missions.LoadOrStore(key, fb)
	return got.(*Calendar), true, nil
}
