package insight

import (
	"context"
	"fmt"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// BenchmarkRoundAggregation measures a report round of 95 missions at
// headquarters: 95 submissions wait in the inbox, are taken in, and the
// collecting head's aggregation is taken right after the last commit.
// Two ways of taking in, side by side on each database: "each" is the
// inbox loop before batching (Receive, one transaction with its ledger
// event per parcel); "page" is the loop now (ReceiveAll, the page of 95 in
// one transaction). ms-inbox-to-aggregate is the time from the start of
// the take-in to the aggregation counting all 95 (what "aggregated within
// 1 s of the last arrival" is left with once the parcels have landed);
// ms-aggregate the aggregation alone. The exchange's acknowledgement
// (one per parcel before, one per page now) and the leaf links are not in
// this measure.
func BenchmarkRoundAggregation(b *testing.B) {
	const missions = 95
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		for _, mode := range []string{"each", "page"} {
			b.Run(string(d)+"/"+mode, func(b *testing.B) {
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
				var total, agg time.Duration
				b.ResetTimer()
				for n := 0; n < b.N; n++ {
					b.StopTimer()
					r, err := f.svc.OpenRound(as(f.head), f.head, NewRound{TemplateID: tp.ID, WorkingDays: 10, Units: units})
					if err != nil {
						b.Fatal(err)
					}
					inbox := make([]Arrival, missions)
					for i, code := range codes {
						inbox[i] = submissionArrival(b, f, r, code, fmt.Sprint(i), 100+i)
					}
					b.StartTimer()
					start := time.Now()
					if mode == "page" {
						err = f.svc.ReceiveAll(system, inbox)
					} else {
						for _, a := range inbox {
							if err = f.svc.Receive(system, a); err != nil {
								break
							}
						}
					}
					if err != nil {
						b.Fatal(err)
					}
					last := time.Now()
					a, err := f.svc.Aggregate(as(f.head), f.head, r.ID)
					if err != nil || a.Counted != missions || len(a.Missing) != 0 {
						b.Fatalf("aggregated %d of %d: %v", a.Counted, missions, err)
					}
					agg += time.Since(last)
					total += time.Since(start)
				}
				b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-inbox-to-aggregate")
				b.ReportMetric(float64(agg.Microseconds())/1000/float64(b.N), "ms-aggregate")
			})
		}
	}
}
