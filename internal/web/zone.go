package web

import (
	"time"
	_ "time/tzdata" // the ministry's zone never depends on the host's zoneinfo
)

// MinistryZoneName is the IANA name of the ministry's time zone.
const MinistryZoneName = "Asia/Ho_Chi_Minh"

// ministryZone is loaded once; time/tzdata is linked in, so it cannot
// fail.
var ministryZone = func() *time.Location {
	loc, err := time.LoadLocation(MinistryZoneName)
	if err != nil {
		panic("web: load " + MinistryZoneName + ": " + err.Error())
	}
	return loc
}()

// MinistryZone returns the ministry's time zone, Asia/Ho_Chi_Minh (UTC+7
// without summer time since 1975): the zone pages show times in, and in
// which a date given without a zone is a day, whatever a mission's local
// zone. It is the one definition; every package uses this.
func MinistryZone() *time.Location { return ministryZone }

// ShowTime formats t to the second in the ministry's zone, as the
// console's tables show times (02/01/2006 15:04:05).
func ShowTime(t time.Time) string { return t.In(ministryZone).Format("02/01/2006 15:04:05") }
