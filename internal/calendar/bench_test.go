package calendar

import "testing"

// BenchmarkAddWorkingDays: one-stop-shop time limits of 1 to 30 working
// days from days spread over 2024 to 2026, on a warm cache.
func BenchmarkAddWorkingDays(b *testing.B) {
	c := Vietnam()
	starts := make([]Date, 1024)
	for i := range starts {
		starts[i] = Date{2024, 1, 1}.AddDays(i)
	}
	c.AddWorkingDays(starts[len(starts)-1], 30) // warm the years
	var sink Date
	i := 0
	for b.Loop() {
		sink = c.AddWorkingDays(starts[i&1023], 1+i%30)
		i++
	}
	_ = sink
}

// BenchmarkYearTable: building one year of a mission's calendar, as the
// first lookup in a year does.
func BenchmarkYearTable(b *testing.B) {
	c, err := ForMission("CN")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c.build(2026)
	}
}
