package calendar

import (
	"net/http"

	"chancery/internal/web"
)

// Register adds GET /api/v1/calendar/holidays to rt. Anyone may call it:
// public holidays are public information.
func Register(rt *web.Router) {
	rt.HandleFunc("GET /api/v1/calendar/holidays", web.Public, apiHolidays)
}

// HolidayList is the response of GET /api/v1/calendar/holidays.
type HolidayList struct {
	Year int `json:"year"`
	// Country is "VN", or the host country of the mission whose calendar
	// was asked for.
	Country  string    `json:"country"`
	Holidays []Holiday `json:"holidays"`
}

// apiHolidays lists a year's holidays: ?year=YEAR (required, MinYear to
// MaxYear) and &country=CC (a mission's host country; default Viet Nam).
func apiHolidays(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	year, err := ParseYear(q.Get("year"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	country := q.Get("country")
	if country == "" {
		country = "VN"
	}
	c, err := ForMission(country)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, HolidayList{Year: year, Country: c.Country(), Holidays: c.Holidays(year)})
}
