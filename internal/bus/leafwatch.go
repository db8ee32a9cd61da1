package bus

import (
	"fmt"
	"net/url"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultLeafRedialAfter is Options.LeafRedialAfter's default.
const DefaultLeafRedialAfter = 90 * time.Second

// leafWatchEvery is how often watchLeafs looks at the leaf links.
const leafWatchEvery = 5 * time.Second

func leafRedialAfter(opts Options) time.Duration {
	if opts.LeafRedialAfter > 0 {
		return opts.LeafRedialAfter
	}
	return DefaultLeafRedialAfter
}

// watchLeafs dials the leaf remotes anew whenever the embedded server
// has had no link to any of them for after, and again each after that
// it stays so, until stop closes.
//
// Why: a solicited leaf link dropped under load can stop reconnecting
// for good (nats-server issue 7615, seen here with 2.15.2: after a hub
// server was killed, a mission's link closed on a write error and its
// server never dialled again, so headquarters could not reach its
// stream for as long as the test waited). A configuration reload that
// replaces the remotes starts a fresh dialler; where the hub is simply
// away it costs one more failed dial.
func (b *Bus) watchLeafs(sopts *server.Options, after time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(min(leafWatchEvery, after/2))
	defer tick.Stop()
	var (
		downSince time.Time
		redials   int
	)
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			if b.ns.NumLeafNodes() > 0 {
				downSince = time.Time{}
				continue
			}
			if downSince.IsZero() {
				downSince = now
				continue
			}
			if now.Sub(downSince) < after {
				continue
			}
			redials++
			b.log.Warn("bus: no leaf link for a while; dialling the hub again", "down_for", now.Sub(downSince).Round(time.Second))
			if err := b.ns.ReloadOptions(redialOptions(sopts, redials)); err != nil {
				b.log.Error("bus: dial the hub again", "err", err)
			}
			downSince = now
		}
	}
}

// redialOptions are sopts with each leaf remote replaced by one that
// names the same servers differently: its URLs carry the path
// "/redial-<gen>", which the dial ignores (it takes the host and port).
// Why a new name: the server tells remotes apart by their URLs, and
// enabling again one it has (Disabled toggled by a reload) is refused
// while the stuck remote still counts a connection in progress, which
// is how it is stuck; a remote of a new name is dialled at once, and the
// old one, removed, never dials again.
func redialOptions(sopts *server.Options, gen int) *server.Options {
	o := sopts.Clone()
	o.LeafNode.Remotes = make([]*server.RemoteLeafOpts, len(sopts.LeafNode.Remotes))
	for i, r := range sopts.LeafNode.Remotes {
		c := *r // Clone shares the remotes; the server holds these
		c.URLs = make([]*url.URL, len(r.URLs))
		for j, u := range r.URLs {
			v := *u
			v.Path = fmt.Sprintf("/redial-%d", gen)
			c.URLs[j] = &v
		}
		o.LeafNode.Remotes[i] = &c
	}
	return o
}
