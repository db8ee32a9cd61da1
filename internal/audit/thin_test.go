package audit

import (
	"context"
	"testing"
	"time"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// storedSizes returns the sizes and times of the rows of a checkpoint
// table.
func storedSizes(t *testing.T, db *store.DB, query string) map[uint64]time.Time {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[uint64]time.Time{}
	for rows.Next() {
		var size, us int64
		if err := rows.Scan(&size, &us); err != nil {
			t.Fatal(err)
		}
		out[uint64(size)] = time.UnixMicro(us).UTC()
	}
	return out
}

// Thinning keeps every checkpoint of the last day, the last of each hour
// for a month and of each day beyond, the latest, and the latest each
// witness cosigned; after it the ledger still verifies, its proofs
// still lead to a kept checkpoint, and its witnesses (a lagging one too)
// take the next checkpoint without a conflict.
func TestThinningKeepsWhatProofsAndWitnessesNeed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		clock := start
		now := func() time.Time { return clock }
		l := mustLedger(t, db, mustRing(t), Options{Origin: testOrigin, Now: now})
		logKey, _ := l.Verifier()
		peers := make([]WitnessPeer, 2)
		witnesses := make([]*Witness, 2)
		for i, name := range []string{"witness/lagging", "witness/current"} {
			ring := mustRing(t)
			cosigner, _ := NewCosigner(name, ring.Signer(), now)
			wdb := storetest.MustOpen(t, store.SQLite)
			if i == 1 {
				wdb = db // it keeps what it witnesses beside the ledger, thinned with it
			}
			witnesses[i], _ = NewWitness(wdb, WitnessOptions{Log: logKey, Cosigner: cosigner, Now: now})
			v, _ := NewCosignatureVerifier(name, ring.PublicKey())
			peers[i] = WitnessPeer{Verifier: v, Client: witnesses[i]}
		}
		var times []time.Time
		for h := 0; h < 9*24; h += 4 { // older than a month: six a day
			times = append(times, start.Add(time.Duration(h)*time.Hour))
		}
		for m := 0; m < 180; m += 20 { // within the month: three an hour
			times = append(times, start.Add(20*24*time.Hour+time.Duration(m)*time.Minute))
		}
		for m := 0; m < 600; m += 30 { // the last day: every one
			times = append(times, start.Add(39*24*time.Hour+12*time.Hour+time.Duration(m)*time.Minute))
		}
		var lagging uint64
		for i, at := range times {
			clock = at
			checkpointed(t, l, i, i+1)
			if _, err := witnesses[1].Update(ctx, l.Source()); err != nil {
				t.Fatal(err)
			}
			if at.Equal(start.Add(5*24*time.Hour + 4*time.Hour)) {
				if _, err := l.Cosign(ctx, CosignOptions{Peers: peers}); err != nil {
					t.Fatal(err)
				}
				lagging = uint64(i + 1)
			}
		}
		if _, err := l.Cosign(ctx, CosignOptions{Peers: peers[1:]}); err != nil {
			t.Fatal(err)
		}
		clock = start.Add(40 * 24 * time.Hour)
		latest := uint64(len(times))

		removed, err := l.Thin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		kept := storedSizes(t, db, "SELECT size, created_us FROM audit_checkpoints")
		witnessed := storedSizes(t, db, "SELECT size, witnessed_us FROM audit_witnessed")
		if removed != 2*len(times)-len(kept)-len(witnessed) || len(kept) == len(times) {
			t.Errorf("Thin removed %d; %d of %d checkpoints and %d witnessed are left", removed, len(kept), len(times), len(witnessed))
		}
		for name, sizes := range map[string]map[uint64]time.Time{"checkpoints": kept, "witnessed": witnessed} {
			hours, days := map[time.Time]int{}, map[time.Time]int{}
			for _, at := range sizes {
				switch age := clock.Sub(at); {
				case age > ThinKeepHourly:
					days[at.Truncate(24*time.Hour)]++
				case age > ThinKeepAll:
					hours[at.Truncate(time.Hour)]++
				}
			}
			extra := 0
			if name == "checkpoints" {
				extra = 1 // the lagging witness's
			}
			for day, n := range days {
				if n > 1+extra {
					t.Errorf("%s: %d kept on %s, more than a month ago", name, n, day.Format(time.DateOnly))
				}
			}
			for hour, n := range hours {
				if n > 1 {
					t.Errorf("%s: %d kept in the hour of %s, within the month", name, n, hour.Format(time.DateTime))
				}
			}
			if len(days) != 9 || len(hours) != 3 {
				t.Errorf("%s: kept %d days beyond a month and %d hours within it, want 9 and 3", name, len(days), len(hours))
			}
		}
		for i, at := range times {
			if clock.Sub(at) <= ThinKeepAll {
				if _, ok := kept[uint64(i+1)]; !ok {
					t.Errorf("the checkpoint of the last day at size %d was thinned", i+1)
				}
				if _, ok := witnessed[uint64(i+1)]; !ok {
					t.Errorf("the witnessed checkpoint of the last day at size %d was thinned", i+1)
				}
			}
		}
		for _, size := range []uint64{latest, lagging} {
			if _, ok := kept[size]; !ok {
				t.Errorf("the checkpoint at size %d (the latest, or a witness's latest cosigned) was thinned", size)
			}
		}

		// What needs the checkpoints still works.
		if _, err := l.Verify(ctx, nil); err != nil {
			t.Errorf("the ledger no longer verifies after thinning: %v", err)
		}
		p, err := l.proveEvent(ctx, 0)
		if err != nil || p.verify() != nil {
			t.Errorf("the first event's proof after thinning: %v, %v", err, p.verify())
		}
		clock = clock.Add(time.Minute)
		checkpointed(t, l, len(times), len(times)+1)
		if n, err := l.Cosign(ctx, CosignOptions{Peers: peers}); n != 2 || err != nil {
			t.Errorf("after thinning, Cosign = %d, %v; want both witnesses to cosign", n, err)
		}
		if _, err := witnesses[1].Update(ctx, l.Source()); err != nil {
			t.Errorf("after thinning, the witness cannot follow the ledger: %v", err)
		}
		for i, w := range witnesses {
			if c, _ := w.Conflicts(ctx); len(c) != 0 {
				t.Errorf("witness %d found conflicts: %v", i, c)
			}
		}
	})
}
