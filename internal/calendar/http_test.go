package calendar_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/calendar"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

func get(t *testing.T, url string) *httptest.ResponseRecorder {
	t.Helper()
	rt := web.NewRouter()
	calendar.Register(rt)
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, httptest.NewRequest(http.MethodGet, url, nil))
	return w
}

func TestHolidaysAPIListsAYearsHolidays(t *testing.T) {
	w := get(t, "/api/v1/calendar/holidays?year=2026")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	var got struct {
		Year     int    `json:"year"`
		Country  string `json:"country"`
		Holidays []struct {
			Date   string `json:"date"`
			NameVI string `json:"name_vi"`
			NameEN string `json:"name_en"`
			Kind   string `json:"kind"`
		} `json:"holidays"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Year != 2026 || got.Country != "VN" || len(got.Holidays) != len(calendar.Vietnam().Holidays(2026)) {
		t.Fatalf("got year %d, country %q, %d holidays", got.Year, got.Country, len(got.Holidays))
	}
	h := got.Holidays[0]
	if h.Date != "2026-01-01" || h.NameVI != "Tết Dương lịch" || h.NameEN != "New Year's Day" || h.Kind != "public" {
		t.Errorf("first holiday %+v", h)
	}
	found := false
	for _, h := range got.Holidays {
		found = found || h.Date == "2026-04-27" && h.Kind == "compensatory" && h.NameVI == "Nghỉ bù Giỗ Tổ Hùng Vương"
	}
	if !found {
		t.Error("no compensatory day on 2026-04-27")
	}

	w = get(t, "/api/v1/calendar/holidays?year=2026&country=us")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"country":"US"`) ||
		!strings.Contains(w.Body.String(), `{"date":"2026-07-03","name_vi":"Nghỉ bù Ngày Độc lập Hoa Kỳ","name_en":"Day off in lieu of Independence Day","kind":"compensatory","country":"US"}`) {
		t.Errorf("country=us: %d %s", w.Code, w.Body)
	}
}

func TestHolidaysAPIRefusesBadInput(t *testing.T) {
	tests := []struct {
		query, field, want string
	}{
		{"", "year", "is required"},
		{"?year=1899", "year", "is not a year from 1900 to 2199"},
		{"?year=2200", "year", "is not a year from 1900 to 2199"},
		{"?year=20x5", "year", "is not a year"},
		{"?year=02025", "year", "is not a year"},
		{"?year=2025&country=XX", "country", `no calendar for "XX"`},
		{"?year=2025&country=France", "country", "no calendar"},
	}
	for _, tt := range tests {
		if p := webtest.Problem(t, get(t, "/api/v1/calendar/holidays"+tt.query), http.StatusBadRequest); !strings.Contains(p.Errors[tt.field], tt.want) {
			t.Errorf("%s: %+v; want 400 with %s: %q", tt.query, p, tt.field, tt.want)
		}
	}
}

func TestHolidaysAPIIsPublic(t *testing.T) {
	rt := web.NewRouter()
	calendar.Register(rt)
	routes := rt.Routes()
	if len(routes) != 1 || routes[0].Pattern != "GET /api/v1/calendar/holidays" || routes[0].Access.String() != "public" {
		t.Errorf("routes = %+v", routes)
	}
}
