package storetest

import (
	"sync"
	"testing"
	"time"
)

func TestClockMovesOnlyWhenAdvanced(t *testing.T) {
	start := time.Date(2025, 3, 10, 3, 0, 0, 0, time.UTC)
	c := NewClock(start)
	// Asked twice, it has not moved: it is not the wall clock.
	for range 2 {
		if got := c.Now(); !got.Equal(start) {
			t.Fatalf("Now = %s, want %s until advanced", got, start)
		}
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Minute); c.Now() })
	}
	wg.Wait()
	if want := start.Add(10 * time.Minute); !c.Now().Equal(want) {
		t.Fatalf("after ten concurrent advances of a minute Now = %s, want %s", c.Now(), want)
	}
}
