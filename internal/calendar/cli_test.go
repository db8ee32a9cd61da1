package calendar_test

import (
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"chancery/internal/calendar"
	"chancery/internal/errs"
)

// run runs `chancery calendar args...` and returns what it printed.
func run(args ...string) (stdout, stderr string, err error) {
	var out, errOut strings.Builder
	err = calendar.Command(context.Background(), calendar.CommandEnv{Stdout: &out, Stderr: &errOut}, args)
	return out.String(), errOut.String(), err
}

func TestHolidaysCommandPrintsOneHolidayALine(t *testing.T) {
	out, _, err := run("holidays", "2025")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(calendar.Vietnam().Holidays(2025)) {
		t.Errorf("%d lines for %d holidays", len(lines), len(calendar.Vietnam().Holidays(2025)))
	}
	for _, want := range []string{
		"2025-01-01\tTết Dương lịch\tNew Year's Day",
		"2025-01-29\tTết Nguyên đán\tLunar New Year (Tết)",
		"2025-04-07\tGiỗ Tổ Hùng Vương\tHùng Kings' Commemoration Day",
		"2025-05-02\tNghỉ hoán đổi (làm bù thứ Bảy 26/04/2025)\tSwapped day off (worked on Saturday 26 April 2025)",
		"2025-09-02\tQuốc khánh\tNational Day",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("holidays 2025 lacks the line %q", want)
		}
	}
	if lines[0] != "2025-01-01\tTết Dương lịch\tNew Year's Day" {
		t.Errorf("first line %q", lines[0])
	}

	out, _, err = run("holidays", "--country", "jp", "2026")
	if err != nil || !strings.Contains(out, "2026-09-22\tNgày nghỉ quốc dân (giữa hai ngày lễ)\tCitizens' Holiday\n") ||
		!strings.Contains(out, "2026-09-02\tQuốc khánh\tNational Day\n") {
		t.Errorf("holidays --country jp 2026 = %v\n%s", err, out)
	}
}

func TestAddWorkingDaysCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"add-working-days", "2025-01-24", "1"}, "2025-02-03\n"},
		{[]string{"add-working-days", "2025-01-25", "0"}, "2025-02-03\n"},
		{[]string{"add-working-days", "2025-02-03", "-1"}, "2025-01-24\n"},
		{[]string{"add-working-days", "2026-01-02", "1", "--country", "FR"}, "2026-01-05\n"},
		{[]string{"add-working-days", "--country=EG", "2026-01-01", "1"}, "2026-01-04\n"},
	}
	for _, tt := range tests {
		out, _, err := run(tt.args...)
		if err != nil || out != tt.want {
			t.Errorf("%v = %q, %v; want %q", tt.args, out, err, tt.want)
		}
	}
}

func TestCommandRefusesBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing subcommand"},
		{[]string{"list"}, `unknown subcommand "list"`},
		{[]string{"holidays"}, "takes 1 argument(s), not 0"},
		{[]string{"holidays", "2025", "2026"}, "takes 1 argument(s), not 2"},
		{[]string{"holidays", "1899"}, "year: \"1899\" is not a year from 1900 to 2199"},
		{[]string{"holidays", "2200"}, "is not a year from 1900 to 2199"},
		{[]string{"holidays", "twenty"}, "is not a year"},
		{[]string{"holidays", "+2025"}, "is not a year"},
		{[]string{"holidays", "2025", "--country", "XX"}, `country: no calendar for "XX"`},
		{[]string{"holidays", "2025", "--colour", "red"}, "flag provided but not defined"},
		{[]string{"add-working-days", "2025-02-30", "1"}, `"2025-02-30" is not a date`},
		{[]string{"add-working-days", "1899-12-31", "1"}, "want a date in the years 1900 to 2199"},
		{[]string{"add-working-days", "2025-01-01", "ten"}, `N "ten": want a whole number`},
		{[]string{"add-working-days", "2025-01-01", "10001"}, "from -10000 to 10000"},
		{[]string{"add-working-days", "2025-01-01"}, "takes 2 argument(s), not 1"},
	}
	for _, tt := range tests {
		out, _, err := run(tt.args...)
		if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), tt.want) || out != "" {
			t.Errorf("%v = %q, %v; want ErrInvalid saying %q", tt.args, out, err, tt.want)
		}
	}
}

func TestCommandHelp(t *testing.T) {
	out, _, err := run("help")
	if err != nil || !strings.Contains(out, "chancery calendar add-working-days DATE N [--country CC]") || !strings.Contains(out, "AU, BR, CH") {
		t.Errorf("help = %v\n%s", err, out)
	}
	_, errOut, err := run("holidays", "-h")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "usage:") {
		t.Errorf("holidays -h = %v, stderr %q", err, errOut)
	}
}
