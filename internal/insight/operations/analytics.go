package operations

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/analytics"
	"chancery/internal/calendar"
	"chancery/internal/web"
)

// AnalyticsSource adds to Base's figures what the analytics store's
// daily facts serve: each unit's exchange traffic per week (messages
// sent and received), which no table keeps per unit and day. The rest
// stays with Base (FactSource's summaries, or TableSource): the analytics
// facts are days in each unit's own zone and by event, while the
// Decision 766 indices count dossiers by the ministry's week of
// submission, the counts of classified items need their levels, and
// overdue dossiers, open tasks and reports outstanding are stocks at an
// instant, not sums of days.
type AnalyticsSource struct {
	Base  Source
	Facts *analytics.Store
}

// Figures implements Source.
func (s AnalyticsSource) Figures(ctx context.Context, bounds []time.Time, now time.Time) (*Figures, error) {
	f, err := s.Base.Figures(ctx, bounds, now)
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
