package calendar

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"chancery/internal/errs"
)

// The years the command line and the API accept. The lunar holidays'
// astronomy is checked against published tables for 1901 to 2100 and
// carried on by the same formulas to 2199.
const (
	MinYear = 1900
	MaxYear = 2199
)

// maxWorkingDays bounds N on the command line: time limits run to days
// or months, and a typo should not walk the calendar for centuries.
const maxWorkingDays = 10000

func commandUsage() string {
	return `usage:
  chancery calendar holidays YEAR [--country CC]
  chancery calendar add-working-days DATE N [--country CC]

holidays          list YEAR's public holidays and days off in lieu, one a line:
                  ISO date, Vietnamese name and English name, tab-separated
add-working-days  print the date on which N working days have passed after DATE
                  (YYYY-MM-DD), DATE itself not counted, as one-stop-shop time
                  limits are counted; N = 0 prints DATE, or the next working day
                  if DATE is not one; a negative N counts back
--country CC      use the calendar of a mission in country CC: Viet Nam's holidays
                  and the host country's, with its weekend. Known: ` + strings.Join(Countries(), ", ") + `

YEAR and DATE's year are ` + strconv.Itoa(MinYear) + ` to ` + strconv.Itoa(MaxYear) + `; |N| is at most ` + strconv.Itoa(maxWorkingDays) + `.`
}

// CommandEnv is what Command needs from the program that runs it.
type CommandEnv struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Command runs `chancery calendar SUBCOMMAND ...` (see the usage above),
// writing results to env.Stdout. A wrong command line returns an
// errs.UsageError and bad input an error wrapping errs.ErrInvalid, each
// saying what was wrong; -h prints the usage to env.Stderr and returns
// flag.ErrHelp.
func Command(ctx context.Context, env CommandEnv, args []string) error {
	return errs.Subcommand(commandUsage(), env.Stdout, args, map[string]func([]string) error{
		"holidays":         func(args []string) error { return holidaysCommand(env.Stdout, env.Stderr, args) },
		"add-working-days": func(args []string) error { return addWorkingDaysCommand(env.Stdout, env.Stderr, args) },
	})
}

// parseArgs parses args, which may mix the --country flag with n
// positional arguments, and returns the positional ones and the calendar.
func parseArgs(name string, stderr io.Writer, args []string, n int) ([]string, *Calendar, error) {
	fs := flag.NewFlagSet("chancery calendar "+name, flag.ContinueOnError)
	country := fs.String("country", "VN", "ISO 3166-1 alpha-2 code of a mission's host country")
	positional, err := errs.ParseArgs(fs, commandUsage(), stderr, args, n)
	if err != nil {
		return nil, nil, err
	}
	c, err := ForMission(*country)
	if err != nil {
		return nil, nil, err
	}
	return positional, c, nil
}

func holidaysCommand(stdout, stderr io.Writer, args []string) error {
	pos, c, err := parseArgs("holidays", stderr, args, 1)
	if err != nil {
		return err
	}
	year, err := ParseYear(pos[0])
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, h := range c.Holidays(year) {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", h.Date, h.NameVI, h.NameEN)
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}

func addWorkingDaysCommand(stdout, stderr io.Writer, args []string) error {
	pos, c, err := parseArgs("add-working-days", stderr, args, 2)
	if err != nil {
		return err
	}
	start, err := ParseDate(pos[0])
	if err != nil {
		return err
	}
	if start.Year < MinYear || start.Year > MaxYear {
		return fmt.Errorf("%w: DATE %s: want a date in the years %d to %d", errs.ErrInvalid, start, MinYear, MaxYear)
	}
	n, err := strconv.Atoi(pos[1])
	if err != nil || n < -maxWorkingDays || n > maxWorkingDays {
		return fmt.Errorf("%w: N %s: want a whole number of working days from %d to %d", errs.ErrInvalid, quoteShort(pos[1]), -maxWorkingDays, maxWorkingDays)
	}
	_, err = fmt.Fprintln(stdout, c.AddWorkingDays(start, n))
	return err
}

// ParseYear parses a year from MinYear to MaxYear, written in four
// digits. Anything else returns an *errs.FieldError for field "year".
func ParseYear(s string) (int, error) {
	if s == "" {
		return 0, errs.Invalid("year", fmt.Sprintf("is required: give a year from %d to %d, such as 2025", MinYear, MaxYear))
	}
	y, ok := digits(s)
	if len(s) != 4 || !ok || y < MinYear || y > MaxYear {
		return 0, errs.Invalid("year", fmt.Sprintf("%s is not a year from %d to %d; write it in four digits, such as 2025", quoteShort(s), MinYear, MaxYear))
	}
	return y, nil
}
