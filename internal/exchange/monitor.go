package exchange

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Monitoring: each mission link's state, the backlog per destination, and
// the configuration's expiry, exported to Prometheus and shown on the
// console's monitoring page.

// monitorEvery is how often the link monitor looks at the links (in the
// process's own NATS server: no round trip); backlogEvery is how often it
// asks JetStream for the backlog gauges, two API round trips that the
// monitoring page makes itself when it is shown, and that a Prometheus
// scrape every 15–60 s needs no fresher.
const (
	monitorEvery = 2 * time.Second
	backlogEvery = 20 * time.Second
)

// ConfWarnBefore is how long before the configuration expires the
// monitoring page warns.
const ConfWarnBefore = 24 * time.Hour

// linkTable remembers, per peer node, whether its link is up and since
// when. It holds one entry per node of the configuration.
type linkTable struct {
	mu    sync.Mutex
	known bool                 // whether the bus can see its links; guarded by mu
	state map[string]linkState // guarded by mu
}

type linkState struct {
	up    bool
	since time.Time
}

// update records the links up now among peers, and returns the peers
// whose link has just come up.
func (l *linkTable) update(peers []string, up map[string]bool, now time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == nil {
		l.state = map[string]linkState{}
	}
	l.known = true
	var cameUp []string
	next := make(map[string]linkState, len(peers))
	for _, p := range peers {
		old, seen := l.state[p]
		s := linkState{up: up[p], since: old.since}
		if !seen || old.up != s.up {
			s.since = now
			if s.up && seen {
				cameUp = append(cameUp, p)
			}
		}
		next[p] = s
	}
	l.state = next
	return cameUp
}

func (l *linkTable) get(peer string) (linkState, bool, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.state[peer]
	return s, ok, l.known
}

// peers returns the nodes this node links to directly: every mission at
// headquarters, headquarters at a mission.
func (n *Node) peers(conf *GlobalConf) []string {
	var out []string
	for _, info := range conf.Nodes {
		switch {
		case info.ID == n.id:
		case n.role == RoleHQ && info.Role == RoleMission, n.role != RoleHQ && info.Role == RoleHQ:
			out = append(out, info.ID)
		}
	}
	return out
}

// runMonitor watches the links and refreshes the gauges until ctx ends.
func (t *transport) runMonitor(ctx context.Context) {
	tick := time.NewTicker(monitorEvery)
	defer tick.Stop()
	var counted time.Time
	for {
		backlog := time.Since(counted) >= backlogEvery
		if backlog {
			counted = time.Now()
		}
		t.observe(ctx, backlog)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// observe updates the link table and the gauges once, the backlog's
// too when backlog is set.
func (t *transport) observe(ctx context.Context, backlog bool) {
	n := t.n
	conf, err := n.Conf()
	if err != nil {
		return
	}
	now := n.now()
	n.metrics.confLeft.Set(conf.Expires.Sub(now).Seconds())
	if links, err := n.bus.LeafLinks(); err == nil {
		up := make(map[string]bool, len(links))
		for _, l := range links {
			up[l.Name] = true
		}
		peers := n.peers(conf)
		for _, p := range t.links.update(peers, up, now) {
			n.log.Info("exchange: link up", "peer", p)
			if n.role != RoleHQ {
				kick(t.confKick)
			}
		}
		for _, p := range peers {
			s, _, _ := t.links.get(p)
			v := 0.0
			if s.up {
				v = 1
			}
			n.metrics.link.WithLabelValues(p).Set(v)
			n.metrics.linkSince.WithLabelValues(p).Set(float64(s.since.Unix()))
		}
	}
	if !backlog {
		return
	}
	if queued, err := t.queued(ctx); err == nil {
		for _, info := range conf.Nodes {
			n.metrics.backlog.WithLabelValues(info.ID).Set(float64(queued[info.ID]))
		}
	}
}

// queued returns, per destination node, the batches waiting in this
// node's stream.
func (t *transport) queued(ctx context.Context) (map[string]int64, error) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := t.js.Stream(cctx, streamName)
	if err != nil {
		return nil, fmt.Errorf("exchange: stream %s: %w", streamName, err)
	}
	prefix := subjectPrefix + subjectToken(t.n.id) + "."
	info, err := s.Info(cctx, jetstream.WithSubjectFilter(prefix+">"))
	if err != nil {
		return nil, fmt.Errorf("exchange: stream %s: %w", streamName, err)
	}
	conf, err := t.n.Conf()
	if err != nil {
		return nil, err
	}
	byToken := make(map[string]string, len(conf.Nodes))
	for _, info := range conf.Nodes {
		byToken[subjectToken(info.ID)] = info.ID
	}
	out := map[string]int64{}
	for subj, count := range info.State.Subjects {
		if node, ok := byToken[strings.TrimPrefix(subj, prefix)]; ok {
			out[node] += int64(count)
		}
	}
	return out, nil
}

// LinkStatus is the state of the link to one peer node.
type LinkStatus struct {
	Peer string
	Role NodeRole
	// Known is false when the node cannot see its links (headquarters on
	// an external NATS cluster, or before the first look).
	Known     bool
	Connected bool
	// Since is when the link last connected or disconnected, as this
	// node saw it.
	Since time.Time
	// Waiting is how many batches wait in this node's stream for the
	// peer.
	Waiting int64
}

// Backlog is what waits on this node for one destination node.
type Backlog struct {
	Destination string
	// Queued counts batches in this node's stream, not yet taken by the
	// destination.
	Queued int64
	// Pending counts messages accepted but not yet published to the
	// stream.
	Pending int64
}

// MonitorReport is the state of the node's exchange.
type MonitorReport struct {
	Node        string
	Role        NodeRole
	Running     bool
	ConfSerial  uint64
	ConfExpires time.Time
	// ConfExpired and ConfExpiring say whether the configuration has
	// expired, or expires within ConfWarnBefore.
	ConfExpired, ConfExpiring bool
	Links                     []LinkStatus
	Backlog                   []Backlog
	Services                  []ServiceStats
}

// Monitor returns the state of the node's exchange: its configuration,
// its links, its backlog and its per-service counts.
func (n *Node) Monitor(ctx context.Context) (*MonitorReport, error) {
	r := &MonitorReport{Node: n.id, Role: n.role, Services: n.Stats()}
	conf, err := n.Conf()
	if err != nil {
		return r, nil
	}
	now := n.now()
	r.ConfSerial, r.ConfExpires = conf.Serial, conf.Expires
	r.ConfExpired = conf.Expired(now)
	r.ConfExpiring = !r.ConfExpired && conf.Expires.Sub(now) < ConfWarnBefore
	t := n.transport()
	r.Running = t != nil
	queued := map[string]int64{}
	if t != nil {
		if q, err := t.queued(ctx); err == nil {
			queued = q
		}
	}
	pending := map[string]int64{}
	rows, err := n.db.QueryContext(ctx, `SELECT peer, COUNT(*) FROM exchange_log WHERE state = 'pending' AND direction = 'out' GROUP BY peer`)
	if err != nil {
		return nil, fmt.Errorf("exchange: count pending messages: %w", err)
	}
	for rows.Next() {
		var (
			p string
			k int64
		)
		if err := rows.Scan(&p, &k); err != nil {
			rows.Close()
			return nil, fmt.Errorf("exchange: count pending messages: %w", err)
		}
		pending[p] = k
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("exchange: count pending messages: %w", err)
	}
	for _, info := range conf.Nodes {
		if q, p := queued[info.ID], pending[info.ID]; q > 0 || p > 0 || info.ID != n.id {
			r.Backlog = append(r.Backlog, Backlog{Destination: info.ID, Queued: q, Pending: p})
		}
	}
	for _, p := range n.peers(conf) {
		info, _ := conf.Node(p)
		ls := LinkStatus{Peer: p, Role: info.Role, Waiting: queued[p]}
		if t != nil {
			var s linkState
			s, _, ls.Known = t.links.get(p)
			ls.Connected, ls.Since = s.up, s.since
		}
		r.Links = append(r.Links, ls)
	}
	slices.SortFunc(r.Backlog, func(a, b Backlog) int { return strings.Compare(a.Destination, b.Destination) })
	return r, nil
}
