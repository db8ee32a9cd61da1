package store

import "time"

// Micros returns t as Chancery stores times in integer columns:
// microseconds since the epoch, the precision both dialects keep, and 0
// for the zero time ("not yet").
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// FromMicros returns the time Micros stored as v, in UTC; the zero time
// for 0.
func FromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// NullID returns id for a nullable reference column: NULL (nil) for 0.
func NullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
