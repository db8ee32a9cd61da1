package records

import (
	"slices"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestSearchFollowsAssignmentAndLevel pins, on both databases, that the
// index's visibility tokens (search_sql.go) follow the changes that give
// or take reading: a unit assigned an incoming document finds it by its
// words at once; after a change of level only those cleared for the new
// one find it; a grant finds it for its holder alone.
func TestSearchFollowsAssignmentAndLevel(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		find := func(sub authz.Subject, q string) []int64 { return ids(f.search(t, sub, Query{Text: q})) }
		d := f.incoming(t, "Công điện về lịch tiếp khách quốc tế", authz.Confidential, nil)
		if got := find(f.office, "tiep khach"); len(got) != 0 {
			t.Fatalf("the Office found another unit's document before its assignment: %v", got)
		}
		if _, err := f.svc.Assign(f.as(f.leader), f.leader, d.ID, Instruction{Text: "Văn phòng chủ trì", Lead: AssignTo{UnitID: f.office.Unit},
			Deadline: f.clock.now().Add(72 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if got := find(f.office, "tiep khach"); !slices.Equal(got, []int64{d.ID}) {
			t.Errorf("the assigned Office found %v, want %d", got, d.ID)
		}
		if got := find(f.lowOfficer, "tiep khach"); !slices.Equal(got, []int64{d.ID}) {
			t.Errorf("the officer cleared confidential found %v before the change of level", got)
		}
		if err := f.svc.ChangeLevel(f.as(f.leader), f.leader, d.ID, authz.Secret, "Nâng độ mật"); err != nil {
			t.Fatal(err)
		}
		if got := find(f.lowOfficer, "tiep khach"); len(got) != 0 {
			t.Errorf("the officer cleared confidential found %v after the level rose to secret", got)
		}
		for _, sub := range []authz.Subject{f.officer, f.office} {
			if got := find(sub, "tiep khach"); !slices.Equal(got, []int64{d.ID}) {
				t.Errorf("staff %d, cleared top secret, found %v after the change of level", sub.ID, got)
			}
		}
	})
}
