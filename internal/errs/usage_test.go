package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestUsageErrorIsAUsageAndInvalidInputAndShowsTheUsage(t *testing.T) {
	err := fmt.Errorf("unit: %w", Usage("usage:\n  chancery unit list", "unknown subcommand %q", "frob"))
	if !errors.Is(err, ErrUsage) || !errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
		t.Errorf("%v: want ErrUsage and ErrInvalid only", err)
	}
	if want := "unit: unknown subcommand \"frob\"\nusage:\n  chancery unit list"; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	if got := Usage("", "missing argument").Error(); got != "missing argument" {
		t.Errorf("without usage: %q", got)
	}
}
