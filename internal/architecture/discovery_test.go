package architecture

import (
	"slices"
	"testing"

	"chancery/internal/architecture/archimate"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func node() Discovered {
	return Discovered{
		Capabilities: []Component{{Key: "procedures", Name: "procedures"}, {Key: "records", Name: "records"}},
		Members:      []Component{{Key: "000.00.00.G12", Name: "Bộ Ngoại giao"}, {Key: "000.00.00.H49", Name: "Bộ Công an"}},
		Subsystems:   []Subsystem{{Key: "VN/GOV/000.00.00.G12/chancery", Name: "Chancery", Member: "000.00.00.G12"}, {Key: "VN/GOV/000.00.00.H49/population", Name: "CSDL dân cư", Member: "000.00.00.H49"}},
		Services:     []ExchangeService{{Key: "VN/GOV/000.00.00.H49/population/lookup", Name: "lookup", Subsystem: "VN/GOV/000.00.00.H49/population"}},
		Rights:       map[string][]string{"VN/GOV/000.00.00.H49/population/lookup": {"VN/GOV/000.00.00.G12/chancery"}},
		DataStores:   []Component{{Key: "database", Name: "SQLite", Props: map[string]string{"dialect": "sqlite"}}},
		Nodes:        []Component{{Key: "hq", Name: "hq"}},
	}
}

func TestTheNodeRegistersItselfAndDriftIsFlagged(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(architect)
		if err := f.svc.Register(ctx, node()); err != nil {
			t.Fatal(err)
		}
		e, rels, err := f.svc.Element(ctx, clerk, discoveredID("service", "VN/GOV/000.00.00.H49/population/lookup"))
		if err != nil || e.Origin != OriginDiscovered || len(rels) != 2 {
			t.Fatalf("the population service: %v %+v %+v", err, e, rels)
		}
		// Registering the same node again changes nothing.
		n := len(f.rec.actions())
		if err := f.svc.Register(ctx, node()); err != nil || len(f.rec.actions()) != n {
			t.Fatalf("a second registration: %v %v", err, f.rec.actions())
		}
		// The model declares procedures (running) and an archive (not running).
		for _, d := range []struct{ id, comp string }{{"m-proc", discoveredID("cap", "procedures")}, {"m-arch", discoveredID("cap", "archive")}} {
			el := app(d.id, d.id)
			el.Properties = []Property{{Name: PropComponent, Value: archimate.Text{{Text: d.comp}}}}
			if _, err := f.svc.SaveElement(ctx, architect, el); err != nil {
				t.Fatal(err)
			}
		}
		// records stops running.
		d := node()
		d.Capabilities = d.Capabilities[:1]
		if err := f.svc.Register(ctx, d); err != nil {
			t.Fatal(err)
		}
		rec, _, _ := f.svc.Element(ctx, clerk, discoveredID("cap", "records"))
		if rec.Prop("discovered", "") != "absent" {
			t.Fatalf("a component no longer running is not marked absent: %+v", rec)
		}
		drifts, err := f.svc.Drift(ctx, clerk)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range drifts {
			got = append(got, d.Kind+":"+d.Element+d.Discovered)
		}
		slices.Sort(got)
		want := []string{"not_running:m-arch" + discoveredID("cap", "archive"), "undeclared:" + discoveredID("node", "hq"), "undeclared:" + discoveredID("store", "database")}
		if !slices.Equal(got, want) {
			t.Fatalf("drift %v, want %v", got, want)
		}
	})
}
