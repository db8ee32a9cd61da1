package i18n

import (
	"testing"
	"time"
)

func TestNumbersAreWrittenInTheReadersLanguage(t *testing.T) {
	tests := []struct {
		x        float64
		decimals int
		vi, en   string
	}{
		{0.25, 2, "0,25", "0.25"},
		{0.5, 2, "0,5", "0.5"},
		{2, 2, "2", "2"},
		{1234567, 0, "1.234.567", "1,234,567"},
		{1234.5, 1, "1.234,5", "1,234.5"},
		{-1500, 0, "-1.500", "-1,500"},
		{999, 0, "999", "999"},
	}
	for _, tt := range tests {
		if got := VI.FormatNumber(tt.x, tt.decimals); got != tt.vi {
			t.Errorf("VI.FormatNumber(%v, %d) = %q, want %q", tt.x, tt.decimals, got, tt.vi)
		}
		if got := EN.FormatNumber(tt.x, tt.decimals); got != tt.en {
			t.Errorf("EN.FormatNumber(%v, %d) = %q, want %q", tt.x, tt.decimals, got, tt.en)
		}
	}
}

func TestDatesAreWrittenInTheReadersLanguage(t *testing.T) {
	at := time.Date(2025, time.March, 14, 9, 5, 0, 0, time.FixedZone("ICT", 7*3600))
	for _, tt := range []struct{ got, want string }{
		{VI.FormatDate(at), "14/03/2025"},
		{EN.FormatDate(at), "14 March 2025"},
		{VI.FormatDateTime(at), "14/03/2025 09:05"},
		{EN.FormatDateTime(at), "14 March 2025, 09:05"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
