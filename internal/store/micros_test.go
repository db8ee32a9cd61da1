package store

import (
	"testing"
	"time"
)

func TestMicrosRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 10, 2, 0, 0, 123456000, time.FixedZone("ICT", 7*3600))
	if got := FromMicros(Micros(at)); !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("round trip = %s, want %s in UTC", got, at)
	}
	if Micros(time.Time{}) != 0 || !FromMicros(0).IsZero() {
		t.Error("the zero time is not stored as 0")
	}
	if NullID(0) != nil || NullID(7) != int64(7) {
		t.Error("NullID")
	}
}
