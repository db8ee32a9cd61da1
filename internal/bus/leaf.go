package bus

import (
	"fmt"
	"net"
	"strconv"
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
