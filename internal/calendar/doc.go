// Package calendar knows which days the ministry works: Vietnamese public
// holidays (the lunar ones computed astronomically for any year), the
// weekly rest days, the compensatory and swapped days the government
// announces each year, and, for a mission abroad, the host country's
// public holidays and weekend.
//
// One-stop-shop time limits are counted in working days on a Calendar:
// AddWorkingDays gives an appointment date, WorkingDaysBetween how much of
// a time limit has run. Calendars are safe for concurrent use; each keeps
// the years it has been asked about in a cache, so that a lookup costs
// some tens of nanoseconds after the first.
//
// What the law fixes is code; what the government decides each year (which
// five days make up Tết, the day joined to National Day, swapped working
// days) and each host country's holidays are data, in the JSON files under
// data/, embedded at build time: a new notice is a data change, not a code
// change. The files say which of their entries are assumptions.
package calendar
