package bus

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// LeafLink is one live leaf-node connection of the embedded server: at
// headquarters, a mission's server that joined it; at a mission, the
// headquarters hub it joined.
type LeafLink struct {
	// Name is the server name of the other end, which Chancery sets to
	// the exchange node id.
	Name string
	// ToHub reports whether this server joined the other end (the link
	// is one of this server's remotes) rather than accepted it.
	ToHub bool
	// Addr is the other end's address.
	Addr string
	// RTT is the last measured round trip, as NATS reports it.
	RTT string
	// Compression is how this end compresses what it sends on the link,
	// as NATS reports it (such as "s2_fast").
	Compression string
}

// LeafLinks returns the embedded server's leaf-node connections that are
// up now. It returns an error for a bus connected to an external cluster,
// whose links this process cannot see.
func (b *Bus) LeafLinks() ([]LeafLink, error) {
	if b.ns == nil {
		return nil, fmt.Errorf("bus: leaf links are known only to an embedded server; this bus uses %s", b.target)
	}
	lz, err := b.ns.Leafz(nil)
	if err != nil {
		return nil, fmt.Errorf("bus: list leaf links: %w", err)
	}
	out := make([]LeafLink, 0, len(lz.Leafs))
	for _, l := range lz.Leafs {
		out = append(out, LeafLink{Name: l.Name, ToHub: l.IsSpoke, Addr: net.JoinHostPort(l.IP, strconv.Itoa(l.Port)), RTT: l.RTT, Compression: l.Compression})
	}
	return out, nil
}

// MaxPayload returns the largest message the bus's server accepts, in
// bytes.
func (b *Bus) MaxPayload() int64 { return b.nc.MaxPayload() }

// leafDenyLocal returns the subjects of the local streams' consumer
// acknowledgements, which a leaf remote denies both ways.
//
// Why: a consumer takes its acknowledgements on $JS.ACK.<stream>.
// <consumer>.…, with no domain in the subject (JetStream's default, v1,
// format), and a leaf link carries every subject of the accounts it
// joins. On a hub that puts the missions in the same account as its own
// streams (a stock cluster run in one account; deploy/nats gives each
// mission an account of its own, as Chancery's own hub does), the ledger
// consumer of headquarters and of every mission, all named alike, heard
// each other's acknowledgements: a mission's unprocessed message could be
// acknowledged by another node's, and each ack went to every node. The
// JetStream API needs no entry: nats-server denies $JS.API.> on a link
// between domains itself. The exchange's own stream must stay off the
// list: headquarters acknowledges what it reads from a mission's stream
// across the link, and the mission what it reads from headquarters'.
func leafDenyLocal(streams []string) ([]string, error) {
	var deny []string
	for _, s := range append([]string{probeStream}, streams...) {
		if s == "" || strings.ContainsAny(s, ".*> \t\r\n") {
			return nil, fmt.Errorf("bus: local stream %q is not a stream name (one subject token)", s)
		}
		// v1 and v2 (with domain and account hash) acknowledgement
		// and flow-control subjects.
		deny = append(deny, "$JS.ACK."+s+".>", "$JS.ACK.*.*."+s+".>", "$JS.FC."+s+".>", "$JS.FC.*.*."+s+".>")
	}
	return deny, nil
}
