package calendar

import (
	"errors"
	"slices"
	"testing"
	"time"

	"chancery/internal/errs"
)

// TestMissionWithoutDataFallsBackToVietnamWithTheHostWeekend pins issue
// 10's item 20: a mission in a country without calendar data (Germany,
// Saudi Arabia) counts its deadlines on Viet Nam's holidays with the host
// country's weekend, and says it fell back, instead of failing.
func TestMissionWithoutDataFallsBackToVietnamWithTheHostWeekend(t *testing.T) {
	if HasData("DE") || HasData("sa") || !HasData("fr") {
		t.Fatal("the test assumes Germany and Saudi Arabia have no calendar data and France has")
	}
	de, fellBack, err := ForMissionOrFallback("de")
	if err != nil || !fellBack || de.Country() != "DE" {
		t.Fatalf("ForMissionOrFallback(de) = %v, %v, %v", de, fellBack, err)
	}
	again, _, _ := ForMissionOrFallback("DE")
	if again != de {
		t.Error("a second call built another calendar")
	}
	if _, err := ForMission("DE"); err == nil {
		t.Error("ForMission(DE) must still refuse: the fallback is asked for by name")
	}
	for _, tc := range []struct {
		day  string
		open bool
	}{
		{"2025-09-02", false}, // Viet Nam's National Day, a Tuesday
		{"2025-10-03", true},  // German Unity Day: unknown without data
		{"2025-10-04", false}, // a Saturday
		{"2025-10-06", true},  // a Monday
	} {
		if got := de.IsWorkingDay(mustDate(t, tc.day)); got != tc.open {
			t.Errorf("Germany (fallback) %s working = %v, want %v", tc.day, got, tc.open)
		}
	}

	sa, fellBack, err := ForMissionOrFallback("SA")
	if err != nil || !fellBack {
		t.Fatalf("ForMissionOrFallback(SA) = %v, %v", fellBack, err)
	}
	for _, tc := range []struct {
		day  string
		open bool
	}{
		{"2025-10-03", false}, // a Friday: Saudi weekend
		{"2025-10-04", false}, // a Saturday
		{"2025-10-05", true},  // a Sunday: a working day there
	} {
		if got := sa.IsWorkingDay(mustDate(t, tc.day)); got != tc.open {
			t.Errorf("Saudi Arabia (fallback) %s working = %v, want %v", tc.day, got, tc.open)
		}
	}
	if w := HostWeekend("fr"); !slices.Equal(w, []time.Weekday{time.Sunday, time.Saturday}) {
		t.Errorf("HostWeekend(fr) = %v, want France's file's Saturday and Sunday", w)
	}

	fr, fellBack, err := ForMissionOrFallback("FR")
	if want, _ := ForMission("FR"); err != nil || fellBack || fr != want {
		t.Errorf("a country with data does not fall back: %v, %v", fellBack, err)
	}
	for _, bad := range []string{"", "D", "DEU", "1A", "D\x00", "\u202eDE"} {
		if _, _, err := ForMissionOrFallback(bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ForMissionOrFallback(%q) = %v, want invalid", bad, err)
		}
	}
}
