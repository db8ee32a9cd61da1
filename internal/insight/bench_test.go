package insight

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// BenchmarkRoundAggregation measures a report round of 95 missions at
// headquarters: each mission's submission arrives as the exchange hands
// it over (Receive, one transaction with its ledger event, as the inbox
// loop calls it), and the collecting head's aggregation is taken right
// after the last arrival. ms-after-last-arrival is the time from the last
// arrival's commit to the aggregation's answer (the figure's "within
// 1 s"); ms-to-take-in-95 the time to take in all 95. The leaf links
// themselves are not in this measure: see the report.
func BenchmarkRoundAggregation(b *testing.B) {
	const missions = 95
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.MustOpen(b, d)
			f := newFixture(b, db)
			ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
			root, _ := f.dir.UnitByCode(ctx, rootCode)
			var units []int64
			var codes []string
			for i := range missions {
				code := fmt.Sprintf("000.%02d.%02d.G12", 10+i/50, i%50+1)
				u, err := f.dir.CreateUnit(ctx, "test", identity.NewUnit{Code: code, NameVI: "Cơ quan đại diện " + code, NameEN: "Mission " + code,
					Kind: identity.KindEmbassy, ParentID: root.ID, Country: "FR", TimeZone: "Europe/Paris"})
				if err != nil {
					b.Fatal(err)
				}
				units, codes = append(units, u.ID), append(codes, code)
			}
			tp, err := f.svc.CreateTemplate(as(f.head), f.head, quarterly())
			if err != nil {
				b.Fatal(err)
			}
			var after, takeIn time.Duration
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				b.StopTimer()
				r, err := f.svc.OpenRound(as(f.head), f.head, NewRound{TemplateID: tp.ID, WorkingDays: 10, Units: units})
				if err != nil {
					b.Fatal(err)
				}
				parcels := make([][]byte, missions)
				for i, code := range codes {
					parcels[i], _ = json.Marshal(parcel{Type: "submission", From: code, Submission: &wireFiling{RoundUID: r.UID, UID: newUID(), Unit: code,
						By: "officer", Status: Submitted, At: f.clock.now(), Values: map[string]string{"passports": fmt.Sprint(100 + i), "on_time": "97.5", "fees": "1200.5"}}})
				}
				b.StartTimer()
				start := time.Now()
				for i, p := range parcels {
					if err := f.svc.Receive(system, Arrival{Sender: codes[i], MessageID: fmt.Sprint(i), Payload: p}); err != nil {
						b.Fatal(err)
					}
				}
				last := time.Now()
				a, err := f.svc.Aggregate(as(f.head), f.head, r.ID)
				if err != nil || a.Counted != missions || len(a.Missing) != 0 {
					b.Fatalf("aggregated %d of %d: %v", a.Counted, missions, err)
				}
				after += time.Since(last)
				takeIn += last.Sub(start)
			}
			b.ReportMetric(float64(after.Microseconds())/1000/float64(b.N), "ms-after-last-arrival")
			b.ReportMetric(float64(takeIn.Microseconds())/1000/float64(b.N), "ms-to-take-in-95")
		})
	}
}
