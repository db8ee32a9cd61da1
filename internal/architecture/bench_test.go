package architecture

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// generatedModel is a model of the size: n elements (a quarter
// each application components, application services, data objects and
// nodes), 3n relationships every one of which Appendix B allows, and
// views of 25 elements each with their relationships.
func generatedModel(n, views int) *archimate.Model {
	m := &archimate.Model{ID: "id-gen", Name: archimate.Text{{Lang: "en", Text: "generated"}}}
	m.PropertyDefs = []archimate.PropertyDef{{ID: "pd-owner", Type: "string", Name: archimate.Text{{Text: "owner"}}}}
	types := []string{"ApplicationComponent", "ApplicationService", "DataObject", "Node"}
	for i := range n {
		m.Elements = append(m.Elements, archimate.Element{ID: fmt.Sprintf("e%d", i), Type: archimate.Type(types[i%4]),
			Name:       archimate.Text{{Lang: "vi", Text: fmt.Sprintf("Thành phần %d", i)}, {Lang: "en", Text: fmt.Sprintf("Component %d", i)}},
			Properties: []archimate.Property{{Ref: "pd-owner", Value: archimate.Text{{Text: fmt.Sprintf("unit %d", i%40)}}}}})
	}
	// From each component (index 4k): realises the service 4k+1, accesses
	// the data object 4k+2, is served by the node 4k+3 — and flows to the
	// next components, so that every element has relationships.
	r := 0
	add := func(typ string, s, t int) {
		m.Relationships = append(m.Relationships, archimate.Relationship{ID: fmt.Sprintf("r%d", r), Type: archimate.Type(typ), Source: fmt.Sprintf("e%d", s), Target: fmt.Sprintf("e%d", t)})
		r++
	}
	for k := 0; 4*k+3 < n; k++ {
		c := 4 * k
		add("Realization", c, c+1)
		add("Access", c, c+2)
		add("Serving", c+3, c)
		add("Flow", c, (c+4)%n)
		add("Serving", c+1, (c+8)%n)
		add("Association", c+2, c+3)
		for j := 0; j < 6 && r < 3*n; j++ {
			add("Flow", c, (c+4*(j+2))%n)
		}
	}
	for v := range views {
		view := archimate.View{ID: fmt.Sprintf("v%d", v), Type: "Diagram", Name: archimate.Text{{Text: fmt.Sprintf("View %d", v)}}}
		base := (v * 48) % (n - 24)
		base -= base % 4
		for i := range 24 {
			view.Nodes = append(view.Nodes, archimate.Node{ID: fmt.Sprintf("v%dn%d", v, i), Type: "Element", ElementRef: fmt.Sprintf("e%d", base+i), X: 20 + (i%6)*170, Y: 20 + (i/6)*120, W: 150, H: 60})
		}
		for k := 0; k < 6; k++ {
			c := base + 4*k
			view.Connections = append(view.Connections, archimate.Connection{ID: fmt.Sprintf("v%dc%d", v, k), Type: "Relationship",
				RelationshipRef: relID(m, c, c+1), Source: fmt.Sprintf("v%dn%d", v, 4*k), Target: fmt.Sprintf("v%dn%d", v, 4*k+1), Bendpoints: []archimate.Point{{X: 100, Y: 10}}})
		}
		m.Views = append(m.Views, view)
	}
	return m
}

// relID finds the realisation from component c to service s (the first
// relationship of c's block).
func relID(m *archimate.Model, c, s int) string {
	k := c / 4
	r := m.Relationships[k*12]
	if r.Source != fmt.Sprintf("e%d", c) || r.Target != fmt.Sprintf("e%d", s) {
		panic(fmt.Sprintf("generated model: %s is not e%d → e%d", r.ID, c, s))
	}
	return r.ID
}

// cpuSeconds is the process's user and system CPU time so far: on a
// shared machine under load, the wall time a benchmark reports is mostly
// waiting for a core, and the CPU it used is the figure to compare.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakHeap samples the heap in use until stop is called and returns the
// highest value seen, in MiB.
func peakHeap() (stop func() float64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		wg.Wait()
		return float64(peak.Load()) / (1 << 20)
	}
}

func mustGenerated(b *testing.B) []byte {
	m := generatedModel(10_000, 200)
	if err := archimate.Check(m, 0); err != nil {
		b.Fatal(err)
	}
	if len(m.Relationships) != 30_000 {
		b.Fatalf("%d relationships", len(m.Relationships))
	}
	doc, err := archimate.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	return doc
}

func importInto(b *testing.B, db *store.DB, doc []byte) *fixture {
	f := mustService(b, db)
	res, err := f.svc.Import(as(architect), architect, bytes.NewReader(doc))
	if err != nil {
		b.Fatal(err)
	}
	if res.Created != 10_000+30_000+200 {
		b.Fatalf("import %+v", res)
	}
	return f
}

// BenchmarkImport imports the generated model (10,000 elements, 30,000
// relationships, 200 views) into an empty SQLite repository: seconds per
// import and the peak heap.
func BenchmarkImport(b *testing.B) {
	doc := mustGenerated(b)
	var peak, cpu float64
	for b.Loop() {
		b.StopTimer()
		db := storetest.MustOpen(b, store.SQLite)
		runtime.GC()
		stop := peakHeap()
		c0 := cpuSeconds()
		b.StartTimer()
		importInto(b, db, doc)
		b.StopTimer()
		cpu += cpuSeconds() - c0
		peak = max(peak, stop())
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/import")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/import")
	b.ReportMetric(peak, "peak-heap-MiB")
}

// BenchmarkConformance runs the shipped rules over the generated model
// (target: under a second).
func BenchmarkConformance(b *testing.B) {
	f := importInto(b, storetest.MustOpen(b, store.SQLite), mustGenerated(b))
	ctx := context.Background()
	snap, err := f.svc.snapshot(ctx, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	var n int
	c0 := cpuSeconds()
	for b.Loop() {
		fs, err := f.svc.check(ctx, snap, "2026-01-13")
		if err != nil {
			b.Fatal(err)
		}
		n = len(fs)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
	b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/run")
	b.ReportMetric(float64(n), "findings")
}

// BenchmarkExportReimport exports the imported generated model, imports
// the export into an empty repository and checks the two exports are the
// same model (identifiers kept).
func BenchmarkExportReimport(b *testing.B) {
	doc := mustGenerated(b)
	f := importInto(b, storetest.MustOpen(b, store.SQLite), doc)
	ctx := as(architect)
	c0 := cpuSeconds()
	for b.Loop() {
		m1, err := f.svc.Export(ctx, architect, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		out, err := archimate.Marshal(m1)
		if err != nil {
			b.Fatal(err)
		}
		g := importInto(b, storetest.MustOpen(b, store.SQLite), out)
		m2, err := g.svc.Export(ctx, architect, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		if !reflect.DeepEqual(normalized(m1), normalized(m2)) {
			b.Fatal("the re-imported export differs")
		}
		want, _ := archimate.Decode(bytes.NewReader(doc), archimate.Limits{})
		if !reflect.DeepEqual(normalized(want).Elements[:5], normalized(m2).Elements[:5]) {
			b.Fatal("the export differs from the generated model")
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/roundtrip")
	b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/roundtrip")
}
