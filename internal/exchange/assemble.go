package exchange

import (
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Reassembly on the receiving side. A batch larger than the bus takes in
// one message travels in chunks (publishWire): messages with the headers
// hdrBatch (the batch id) and hdrChunk ("<index>/<count>"), published one
// after the other on the source's subject, so that they arrive in order
// on the destination's consumer, which puts them back together here
// before the batch is opened (receive).

// assembly reassembles a batch published in chunks. A source publishes a
// batch's chunks one after the other, so there is at most one under way
// per source; a different batch before the last chunk means the source
// gave up on it (and will send its messages again in a new batch).
type assembly struct {
	id    string
	count int
	wire  []byte
	msgs  []jetstream.Msg
}

func (a *assembly) reset() { *a = assembly{} }

// inBatch is one batch received: its wire form and every JetStream
// message that carried it.
type inBatch struct {
	wire []byte
	msgs []jetstream.Msg
}

// take goes through a group of messages pulled from a source's stream,
// in order, and returns the batches they complete, whole or reassembled,
// and the chunks to drop: those of a batch the source abandoned, one
// without its beginning (redelivered after its batch was handled), or a
// malformed one. The chunks of a batch still under way stay in a.
func (a *assembly) take(group []jetstream.Msg) (batches []inBatch, drop []jetstream.Msg) {
	for _, m := range group {
		h := m.Headers()
		idx, count, chunked := 0, 0, false
		if c := h.Get(hdrChunk); c != "" {
			if idx, count, chunked = splitChunk(c); !chunked {
				drop = append(drop, m)
				continue
			}
		}
		if !chunked {
			if a.id != "" {
				drop = append(drop, a.msgs...)
				a.reset()
			}
			batches = append(batches, inBatch{wire: m.Data(), msgs: []jetstream.Msg{m}})
			continue
		}
		id := h.Get(hdrBatch)
		if a.id != id || a.count != count || len(a.msgs) != idx {
			if idx != 0 {
				// A chunk without its beginning: part of an abandoned
				// batch, or redelivered after it was handled.
				drop = append(drop, append(a.msgs, m)...)
				a.reset()
				continue
			}
			drop = append(drop, a.msgs...)
			*a = assembly{id: id, count: count}
		}
		a.wire = append(a.wire, m.Data()...)
		a.msgs = append(a.msgs, m)
		if len(a.wire) > maxField {
			drop = append(drop, a.msgs...)
			a.reset()
			continue
		}
		if len(a.msgs) == count {
			batches = append(batches, inBatch{wire: a.wire, msgs: a.msgs})
			a.reset()
		}
	}
	return batches, drop
}

// splitChunk parses a chunk header "<index>/<count>".
func splitChunk(h string) (int, int, bool) {
	a, b, ok := strings.Cut(h, "/")
	i, err1 := strconv.Atoi(a)
	c, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || c < 2 || i < 0 || i >= c || c > maxField/(256<<10) {
		return 0, 0, false
	}
	return i, c, true
}
