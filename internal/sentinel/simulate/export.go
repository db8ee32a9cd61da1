package simulate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"chancery/internal/audit"
)

// WriteExport writes cfg's simulation as a ledger export (the JSON Lines
// of GET /api/v1/audit/export: header, entries, end line), so that
// `chancery sentinel replay` reads it as it reads a real one. Each entry
// carries the event's leaf hash; the simulation has no tree, so the
// proofs are empty and the header's checkpoint names the simulation. It
// returns the simulation, whose Labels say who the insiders were.
func WriteExport(w io.Writer, cfg Config) (*Sim, error) {
	// The header gives the size first: count the events in a first run
	// (the simulation is deterministic), write them in a second.
	counter := New(cfg)
	if err := counter.Run(func(audit.Event) error { return nil }); err != nil {
		return nil, err
	}
	n := counter.Events()
	s := New(cfg)
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	origin := fmt.Sprintf("chancery.simulated/seed-%d", s.cfg.Seed)
	if err := enc.Encode(map[string]any{"format": audit.ExportFormat, "origin": origin, "checkpoint": origin + " (simulated; no signed checkpoint)",
		"verifier_key": "", "size": n, "root": nil, "from_seq": 0, "to_seq": max(0, n-1)}); err != nil {
		return nil, err
	}
	type entry struct {
		Event    audit.Event `json:"event"`
		LeafHash []byte      `json:"leaf_hash"`
		Proof    [][]byte    `json:"proof"`
	}
	err := s.Run(func(e audit.Event) error {
		leaf, err := e.LeafHash()
		if err != nil {
			return fmt.Errorf("simulate: event %d: %w", e.Seq, err)
		}
		return enc.Encode(entry{Event: e, LeafHash: leaf, Proof: [][]byte{}})
	})
	if err != nil {
		return nil, err
	}
	if err := enc.Encode(map[string]any{"end": true, "events": n}); err != nil {
		return nil, err
	}
	return s, bw.Flush()
}
