package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestMinistryZoneIsVietNamsTime(t *testing.T) {
	z := MinistryZone()
	if z.String() != "Asia/Ho_Chi_Minh" {
		t.Fatalf("MinistryZone = %s", z)
	}
	// 17:30 UTC on 31 December is already the next day in Hà Nội.
	at := time.Date(2025, 12, 31, 17, 30, 0, 0, time.UTC).In(z)
	if at.Format(time.DateTime) != "2026-01-01 00:30:00" {
		t.Fatalf("17:30 UTC on 31/12/2025 in the ministry's zone = %s, want 2026-01-01 00:30:00", at.Format(time.DateTime))
	}
}

// The ministry's zone is defined once, here: a second definition (a
// FixedZone of UTC+7, another LoadLocation of its name) can drift from
// it, as six of them once did under four names.
func TestMinistryZoneIsDefinedOnce(t *testing.T) {
	second := regexp.MustCompile(`FixedZone\(|LoadLocation\("Asia/Ho_Chi_Minh"\)`)
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		if filepath.Base(path) == "zone.go" && filepath.Base(filepath.Dir(path)) == "web" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if loc := second.FindIndex(src); loc != nil {
			line := 1 + strings.Count(string(src[:loc[0]]), "\n")
			t.Errorf("%s:%d defines a time zone of its own; use web.MinistryZone (or a unit's own zone)", path, line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestShowTimeIsTheMinistrysWallClockToTheSecond(t *testing.T) {
	if got := ShowTime(time.Date(2026, 3, 1, 17, 30, 5, 0, time.UTC)); got != "02/03/2026 00:30:05" {
		t.Errorf("ShowTime = %q, want 02/03/2026 00:30:05 (UTC+7)", got)
	}
}
