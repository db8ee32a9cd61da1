package calendar

import (
	"fmt"
	"math"
)

// The Vietnamese lunisolar calendar (âm lịch), as the Vietnamese calendar
// is reckoned since 1968 and as Hồ Ngọc Đức describes it, from astronomy
// rather than tables:
//
//  1. A month begins on the civil day, at the meridian of the zone
//     (105°E, UTC+7, for Viet Nam), on which a new moon falls.
//  2. The month that contains the December solstice is the 11th month.
//  3. When 13 months, not 12, begin between two 11th months, the first of
//     them after the first 11th month that contains no principal solar term
//     (no multiple of 30° of the Sun's longitude, trung khí) is a leap
//     month, numbered as the month before it.
//
// The Chinese calendar follows the same rules at UTC+8, which is why Tết
// and the Spring Festival fall on different days in some years (1985,
// 2007): the same functions serve both, with the zone as a parameter.

// month11 returns the day number of the first day of the 11th month of
// the cycle that contains the December solstice of Gregorian year y, and
// the index of the new moon that begins it.
func month11(y int, zone float64) (day, k int) {
	solstice := localDay(solarTerm(y, 270), zone)
	k = newMoonIndex(midnight(solstice, zone)) + 2
	for localDay(newMoon(k), zone) > solstice {
		k--
	}
	return localDay(newMoon(k), zone), k
}

// lunarToDays returns the day number of day d of month m (a month that
// is not a leap month) of lunar year y, the lunar year whose first month
// begins in January or February of Gregorian year y.
func lunarToDays(y, m, d int, zone float64) int {
	// Months 11 and 12 belong to the cycle that begins at the solstice of
	// December y; months 1 to 10 to the cycle that began a year earlier,
	// two months after its 11th month.
	cycle, offset := y-1, m+1
	if m >= 11 {
		cycle, offset = y, m-11
	}
	start, k := month11(cycle, zone)
	next, _ := month11(cycle+1, zone)
	if next-start > 365 { // 13 months: one of them is a leap month
		if leap := leapOffset(k, zone); offset >= leap {
			offset++
		}
	}
	return localDay(newMoon(k+offset), zone) + d - 1
}

// leapOffset returns how many months after the 11th month beginning with
// new moon k the leap month begins: the first month in which the Sun's
// longitude crosses no multiple of 30°, found by comparing its 30° sector
// at the midnights that begin the month and the next.
func leapOffset(k int, zone float64) int {
	sector := func(i int) int {
		day := localDay(newMoon(k+i), zone)
		return int(math.Floor(sunLongitude(midnight(day, zone)) / 30))
	}
	prev := sector(1)
	for i := 1; i < 13; i++ {
		next := sector(i + 1)
		if next == prev {
			return i
		}
		prev = next
	}
	// The Sun crosses 11 principal terms in the 12 months after the 11th,
	// none crosses two, so one month has none.
	panic("calendar: a leap cycle without a month lacking a principal term")
}

// The meridian of Viet Nam's civil time (UTC+7), at which the Vietnamese
// lunar calendar is reckoned.
const vietnamMeridian = 7

// Lunar returns the civil date of day d of month m (1 to 12, not a leap
// month) of Vietnamese lunar year y: the lunar year whose first month
// begins in January or February of Gregorian year y. Lunar(y, 1, 1) is
// Tết Nguyên Đán; Lunar(y, 3, 10) is Hùng Kings' day. Forecasting
// (internal/forecast) uses it to place the holidays that move every year.
// It panics if m or d is out of range or the date falls outside years 1
// to 9999.
func Lunar(y, m, d int) Date {
	if m < 1 || m > 12 || d < 1 || d > 30 {
		panic(fmt.Sprintf("calendar: lunar day %d of month %d does not exist", d, m))
	}
	if y <= minDateYear || y >= maxDateYear {
		panic(fmt.Sprintf("calendar: lunar year %d is outside 2 to 9998", y))
	}
	return dateOfDays(lunarToDays(y, m, d, vietnamMeridian))
}

// LunarNewYear returns the first day of Tết Nguyên Đán (1st day of the
// 1st lunar month) of Gregorian year y, Viet Nam time.
func LunarNewYear(y int) Date { return Lunar(y, 1, 1) }
