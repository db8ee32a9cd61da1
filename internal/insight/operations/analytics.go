package operations

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/analytics"
	"chancery/internal/calendar"
	"chancery/internal/web"
)

// AnalyticsSource adds to the capabilities' tables what the analytics
// store's daily facts serve: each unit's exchange traffic per week
// (messages sent and received), which no table keeps per unit and day.
// The rest stays with Tables: the Decision 766 indices need each
// dossier's conditions, the counts of classified items their levels, and
// overdue dossiers, open tasks and reports outstanding are stocks at an
// instant, not sums of days.
type AnalyticsSource struct {
	Tables TableSource
	Facts  *analytics.Store
}

// Figures implements Source.
func (s AnalyticsSource) Figures(ctx context.Context, bounds []time.Time, now time.Time) (*Figures, error) {
	f, err := s.Tables.Figures(ctx, bounds, now)
	if err != nil {
		return nil, err
	}
	f.Exchange = map[int64][]int64{}
	loc := web.MinistryZone()
	for i := 0; i+1 < len(bounds); i++ {
		p := analytics.Period{From: calendar.DateOf(bounds[i].In(loc)), To: calendar.DateOf(bounds[i+1].In(loc)).AddDays(-1)}
		units, err := s.Facts.ByUnit(ctx, p, analytics.Filter{})
		if err != nil {
			return nil, fmt.Errorf("operations: the exchange's traffic: %w", err)
		}
		for _, u := range units {
			n := u.ExchangeSent + u.ExchangeReceived
			if n == 0 {
				continue
			}
			if f.Exchange[u.UnitID] == nil {
				f.Exchange[u.UnitID] = make([]int64, len(bounds)-1)
			}
			f.Exchange[u.UnitID][i] = n
		}
	}
	return f, nil
}
