package forecast

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/calendar"
	"chancery/internal/store"
	"chancery/internal/web"
)

// demoHistory is a series the demo ministry's history holds: a unit (by
// agency code), a procedure, its weekly level and the generator's seed.
type demoHistory struct {
	unit, procedure string
	level           float64
	seed            uint64
}

// demoWeeks is three years of weekly history: enough to fit the annual
// profile (MinWeeks) and hold out half a year (Holdout).
const demoWeeks = 3 * 52

// SeedDemo stores three years of generated weekly history (Synthetic:
// Tết moving with the lunar calendar, summer, growth, noise, each unit's
// closed days) for a few missions' procedures, ending with the last
// complete week before now. The demo's own dossiers (the Consular
// Department's) span half a year at a few a week: too short for a
// seasonal model, which the page says, and too few to join to a
// generated history without a break.
func SeedDemo(ctx context.Context, db *store.DB, dir Directory, now time.Time) error {
	series := []demoHistory{
		{"000.01.01.G12", "1.900009", 60, 201}, // Washington: visas
		{"000.01.01.G12", "1.900008", 25, 202}, // ordinary passports
		{"000.01.01.G12", "1.900003", 30, 203}, // legalisation
		{"000.01.02.G12", "1.900009", 45, 301}, // Paris: visas
		{"000.01.02.G12", "1.900003", 20, 302},
		{"000.01.03.G12", "1.900009", 70, 401}, // Tokyo: visas
		{"000.01.03.G12", "1.900010", 12, 402}, // birth registrations
	}
	units, err := dir.AllUnits(ctx)
	if err != nil {
		return fmt.Errorf("forecast: demo history: %w", err)
	}
	last := mondayOf(calendar.DateOf(now.In(web.MinistryZone()))).AddDays(-7)
	start := last.AddDays(-7 * (demoWeeks - 1))
	for _, h := range series {
		var id int64
		var country string
		for _, u := range units {
			if u.Code == h.unit {
				id, country = u.ID, u.Country
			}
		}
		if id == 0 {
			return fmt.Errorf("forecast: demo history: no unit %s", h.unit)
		}
		cal, err := calendar.ForMission(country)
		if err != nil {
			return fmt.Errorf("forecast: demo history of %s: %w", h.unit, err)
		}
		g := DefaultSynthetic(h.seed)
		g.Start, g.Weeks, g.Level, g.Calendar = start, demoWeeks, h.level, cal
		if err := SaveHistory(ctx, db, id, h.procedure, g.Generate(), "demo: generated (forecast.Synthetic)"); err != nil {
			return err
		}
	}
	return nil
}
