package procedures

import (
	"context"
	"fmt"
	"strings"
	"time"

	"chancery/internal/calendar"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// WorkCalendar is a unit's working-day calendar in its time zone: the
// Vietnamese calendar at home, and a mission's (Vietnamese holidays and the
// host country's) abroad. It implements Calendar with deadlines at the end
// of a working day, as the one-stop-shop rules count them: a dossier due
// on the 14th is on time until the 14th ends where the unit is.
type WorkCalendar struct {
	cal *calendar.Calendar
	loc *time.Location
	// fellBack reports that the unit is a mission in a country without
	// calendar data, counting on Viet Nam's holidays and the host
	// country's weekend (calendar.ForMissionOrFallback).
	fellBack bool
}

// NewWorkCalendar returns the calendar of cal in loc.
func NewWorkCalendar(cal *calendar.Calendar, loc *time.Location) WorkCalendar {
	return WorkCalendar{cal: cal, loc: loc}
}

// UnitCalendar returns the calendar a unit counts its deadlines on: a
// mission's host-country calendar (which keeps Viet Nam's holidays too),
// or Viet Nam's, in the unit's time zone. A mission in a country without
// calendar data counts on Viet Nam's holidays with the host country's
// weekend (FellBack reports it): its citizens can still apply, and the
// administrator is warned (see CheckNewUnitTx). It fails on a unit whose
// time zone is unknown to this machine's zone database.
func UnitCalendar(u identity.Unit) (WorkCalendar, error) {
	loc, err := time.LoadLocation(u.TimeZone)
	if err != nil {
		return WorkCalendar{}, fmt.Errorf("procedures: unit %s: time zone %q: %w", u.Code, u.TimeZone, err)
	}
	wc := NewWorkCalendar(calendar.Vietnam(), loc)
	if u.Kind.Mission() {
		if wc.cal, wc.fellBack, err = calendar.ForMissionOrFallback(u.Country); err != nil {
			return WorkCalendar{}, fmt.Errorf("procedures: unit %s: %w", u.Code, err)
		}
	}
	return wc, nil
}

// FellBack reports whether the calendar is a fallback: a mission in a
// country without calendar data, whose host-country holidays are not
// counted.
func (c WorkCalendar) FellBack() bool { return c.fellBack }

// Location returns the calendar's time zone.
func (c WorkCalendar) Location() *time.Location { return c.loc }

// endOfDay returns the last microsecond of d in the calendar's zone.
func (c WorkCalendar) endOfDay(d calendar.Date) time.Time {
	return d.Time(c.loc).AddDate(0, 0, 1).Add(-time.Microsecond)
}

// AddWorkingDays returns the end of the n-th working day after start's
// day (n ≥ 1), or start itself for n = 0. A dossier received on a Saturday
// and one received the Friday before are both due at the end of the next
// working day's n-th successor, and a later start never gives an earlier
// deadline.
func (c WorkCalendar) AddWorkingDays(start time.Time, n int) time.Time {
	if n <= 0 {
		return start
	}
	return c.endOfDay(c.cal.AddWorkingDays(calendar.DateOf(start.In(c.loc)), n))
}

// WorkingDaysBetween returns the largest d such that AddWorkingDays(a, d)
// is not after b: the whole working days from a that have ended by b.
func (c WorkCalendar) WorkingDaysBetween(a, b time.Time) int {
	if !b.After(a) {
		return 0
	}
	da, db := calendar.DateOf(a.In(c.loc)), calendar.DateOf(b.In(c.loc))
	n := c.cal.WorkingDaysBetween(da, db)
	if c.cal.IsWorkingDay(db) && b.Before(c.endOfDay(db)) && n > 0 {
		n-- // b's own day has not ended
	}
	return n
}

// Date returns the civil date of t in the calendar's zone, as a receipt
// prints it.
func (c WorkCalendar) Date(t time.Time) calendar.Date { return calendar.DateOf(t.In(c.loc)) }

// CheckNewUnitTx is the directory's hook on a unit's creation (see
// identity.Service.OnCreate): a mission in a country without calendar data
// gets deadlines counted on Viet Nam's holidays and the host country's
// weekend, so the creation is let through, and the administrator is
// warned: in the log, and in the audit ledger with the creation
// ("unit.calendar_fallback"), until a calendar file for the country is
// added (internal/calendar/data).
func (s *Service) CheckNewUnitTx(ctx context.Context, tx *store.Tx, u identity.Unit) error {
	if !u.Kind.Mission() || calendar.HasData(u.Country) {
		return nil
	}
	if _, _, err := calendar.ForMissionOrFallback(u.Country); err != nil {
		return err
	}
	var weekend []string
	for _, d := range calendar.HostWeekend(u.Country) {
		weekend = append(weekend, d.String())
	}
	s.opts.Log.Warn("procedures: new mission in a country without calendar data: its deadlines count Viet Nam's holidays and the host country's weekend only; add a calendar file for the country",
		"unit", u.Code, "country", u.Country, "weekend", strings.Join(weekend, ","))
	o, err := s.origin(ctx)
	if err != nil {
		return err
	}
	e := o.Event("unit.calendar_fallback")
	e.ResourceType, e.ResourceID, e.UnitID = "unit", u.Code, u.ID
	e.Attrs = map[string]string{"country": u.Country, "calendar": "VN", "weekend": strings.Join(weekend, ",")}
	return s.rec.Record(ctx, tx, e)
}
