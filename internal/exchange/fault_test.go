package exchange

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/store"
)

// linkProxy is a TCP proxy in front of headquarters' leaf port that can
// cut every connection and refuse new ones, then let them through again.
type linkProxy struct {
	l      net.Listener
	mu     sync.Mutex
	target string                // guarded by mu
	down   bool                  // guarded by mu
	conns  map[net.Conn]struct{} // guarded by mu
}

func newLinkProxy(tb testing.TB) *linkProxy {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &linkProxy{l: l, conns: map[net.Conn]struct{}{}}
	tb.Cleanup(func() { l.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *linkProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close(); c.Close() }() //nolint:errcheck
		go func() { io.Copy(c, up); up.Close(); c.Close() }() //nolint:errcheck
	}
}

// cut drops every connection and refuses new ones until restore.
func (p *linkProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *linkProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// sendTagged sends n messages through send from `senders` goroutines,
// each numbering its own messages, and returns the ids in order per
// goroutine.
func sendTagged(tb testing.TB, n, senders int, send func(payload string) (string, error)) [][]string {
	tb.Helper()
	ids := make([][]string, senders)
	var wg sync.WaitGroup
	errc := make(chan error, senders)
	for g := range senders {
		wg.Go(func() {
			for k := range n / senders {
				id, err := send(fmt.Sprintf("g%d-%d", g, k))
				if err != nil {
					errc <- err
					return
				}
				ids[g] = append(ids[g], id)
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		tb.Fatalf("send: %v", err)
	}
	return ids
}

// checkExactlyOnceInOrder checks that in holds exactly the messages sent,
// once each, and in each sender's order.
func checkExactlyOnceInOrder(tb testing.TB, in []Delivered, sent [][]string) {
	tb.Helper()
	want := 0
	for _, s := range sent {
		want += len(s)
	}
	if len(in) != want {
		tb.Fatalf("received %d messages, want %d", len(in), want)
	}
	seen := make(map[string]bool, len(in))
	next := make([]int, len(sent))
	for _, m := range in {
		if seen[m.ID] {
			tb.Fatalf("message %s delivered twice", m.ID)
		}
		seen[m.ID] = true
		tag, k, _ := strings.Cut(string(m.Payload), "-")
		g, _ := strconv.Atoi(strings.TrimPrefix(tag, "g"))
		i, _ := strconv.Atoi(k)
		if g >= len(sent) || i != next[g] || sent[g][i] != m.ID {
			tb.Fatalf("message %q (%s) out of order: sender %d expected #%d", m.Payload, m.ID, g, next[g])
		}
		next[g]++
	}
}

func TestCutLinkLosesNothingDuplicatesNothingAndKeepsOrder(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 1_000
	}
	proxy := newLinkProxy(t)
	ln := newLinkedNet(t, store.SQLite, func(port int) string {
		proxy.mu.Lock()
		proxy.target = fmt.Sprintf("127.0.0.1:%d", port)
		proxy.mu.Unlock()
		return proxy.l.Addr().String()
	})
	ln.waitLinked(t)
	before := heapInUse()
	proxy.cut()
	waitFor(t, 10*time.Second, "the link down", func() bool {
		l, err := ln.hqBus.LeafLinks()
		return err == nil && len(l) == 0
	})
	ctx := testCtx()
	const senders = 8 // divides n
	var up, down [][]string
	var wg sync.WaitGroup
	wg.Go(func() {
		up = sendTagged(t, n, senders, func(p string) (string, error) { return ln.mission.Send(ctx, report(p)) })
	})
	wg.Go(func() {
		down = sendTagged(t, n, senders, func(p string) (string, error) { return ln.hq.Send(ctx, notice(p)) })
	})
	wg.Wait()
	if got, _ := ln.hq.Inbox(ctx, procedures, 0, 10); len(got) != 0 {
		t.Fatalf("%d messages crossed a cut link", len(got))
	}
	proxy.restore()
	in := waitInbox(t, ln.hq.Node, procedures, n, 3*time.Minute)
	out := waitInbox(t, ln.mission.Node, consular, n, 3*time.Minute)
	checkExactlyOnceInOrder(t, in, up)
	checkExactlyOnceInOrder(t, out, down)
	after := heapInUse()
	grew := int64(after) - int64(before)
	t.Logf("heap in use: %d MiB before, %d MiB after %d messages each way", before>>20, after>>20, n)
	// The backlog lives in the streams' files and the logs, not in
	// memory: what the heap keeps is caches of fixed size.
	if limit := int64(64 << 20); grew > limit {
		t.Errorf("heap in use grew by %d MiB, more than %d MiB", grew>>20, limit>>20)
	}
}
