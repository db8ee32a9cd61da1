package procedures

import (
	"fmt"
	"time"

	"chancery/internal/calendar"
	"chancery/internal/identity"
)

// WorkCalendar is a unit's working-day calendar in its time zone: the
// Vietnamese calendar at home, and a mission's (Vietnamese holidays and the
// host country's) abroad. It implements Calendar with deadlines at the end
// of a working day, as the one-stop-shop rules count them: a dossier due
// on the 14th is on time until the 14th ends where the unit is.
type WorkCalendar struct {
	cal *calendar.Calendar
	loc *time.Location
}

// NewWorkCalendar returns the calendar of cal in loc.
func NewWorkCalendar(cal *calendar.Calendar, loc *time.Location) WorkCalendar {
	return WorkCalendar{cal: cal, loc: loc}
}

// UnitCalendar returns the calendar a unit counts its deadlines on: a
// mission's host-country calendar (which keeps Viet Nam's holidays too),
// or Viet Nam's, in the unit's time zone. It fails on a unit whose time
// zone is unknown to this machine's zone database.
func UnitCalendar(u identity.Unit) (WorkCalendar, error) {
	loc, err := time.LoadLocation(u.TimeZone)
	if err != nil {
		return WorkCalendar{}, fmt.Errorf("procedures: unit %s: time zone %q: %w", u.Code, u.TimeZone, err)
	}
	cal := calendar.Vietnam()
	if u.Kind.Mission() {
		if cal, err = calendar.ForMission(u.Country); err != nil {
			return WorkCalendar{}, fmt.Errorf("procedures: unit %s: %w", u.Code, err)
		}
	}
	return NewWorkCalendar(cal, loc), nil
}

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
