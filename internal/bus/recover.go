package bus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/errs"
)

// Recovery from a store that cannot write.
//
// When a write to the embedded server's JetStream store fails (the disk
// is full, or turned read-only), nats-server marks that stream's store
// with a "critical write error" and drops every later publication to it
// without an answer, until the server restarts; on some paths (a full
// disk under a mirror or a source) it shuts JetStream down altogether.
// Freeing the space undoes neither: publishers time out for good while
// the server still answers pings. The bus therefore watches for both —
// the server reporting a failed write in its log, and JetStream being
// off — and restarts JetStream inside the running server, with backoff,
// once the store's directory takes a write again (see restartJetStream):
// its streams and consumers are restored from the store with fresh
// files, while the bus's connection stays up,
// so publishers and pull consumers that retry carry on, and nothing is
// lost that JetStream had acknowledged.

const (
	// watchEvery is how often the watcher checks that JetStream is on,
	// besides being woken by a reported write failure.
	watchEvery = time.Second
	// recoverBackoffMin and recoverBackoffMax bound the wait between
	// two tries to restart JetStream.
	recoverBackoffMin = 500 * time.Millisecond
	recoverBackoffMax = 5 * time.Second
	// recoverRoom is how much the store's directory must take before
	// JetStream restarts: a restart into a disk with no room would fail
	// at the first publication again.
	recoverRoom = 1 << 20

	// readyTTL is how long Ready's answer is reused: probes from a
	// load balancer or an orchestrator then cost one stored message per
	// readyTTL whatever their rate.
	readyTTL = 2 * time.Second
	// readyTimeout bounds Ready's probe.
	readyTimeout = 2 * time.Second
	// probeStream and probeSubject hold Ready's probe messages: one
	// file-backed message, replaced by each probe.
	probeStream  = "CHANCERY_PROBE"
	probeSubject = "chancery.probe"
	probeSize    = 8 << 10
)

// ErrCannotStore is wrapped by Ready's error while JetStream cannot write
// its store: what is published now is not stored until the bus recovers.
var ErrCannotStore = errors.New("bus: JetStream cannot store messages")

// isWriteFailure reports whether a line of the embedded server's log says
// that JetStream failed to write its store, after which the stream (or
// all of JetStream) stays broken until JetStream restarts.
func isWriteFailure(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "critical write error") ||
		strings.Contains(m, "no space left on device") ||
		strings.Contains(m, "jetstream out of space") ||
		strings.Contains(m, "disabling jetstream")
}

// storeFault is the latest write failure that the server reported and the
// watcher has not yet recovered from.
type storeFault struct {
	kick chan struct{} // wakes the watcher; buffered, never blocks

	mu      sync.Mutex
	changed chan struct{} // closed at the next failure or restart; guarded by mu
	seq     uint64        // counts reports; guarded by mu
	msg     string        // the report, "" when none is pending; guarded by mu
	since   time.Time     // when msg was first reported; guarded by mu
}

func newStoreFault() *storeFault {
	return &storeFault{kick: make(chan struct{}, 1), changed: make(chan struct{})}
}

// report records a write failure and wakes the watcher.
func (f *storeFault) report(msg string) {
	f.mu.Lock()
	f.seq++
	if f.msg == "" {
		f.since = time.Now()
		f.changedLocked()
	}
	f.msg = msg
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// get returns the pending failure ("" if none), when it began and the
// report count.
func (f *storeFault) get() (msg string, since time.Time, seq uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msg, f.since, f.seq
}

// clear forgets the pending failure unless another was reported after
// seq, and reports whether it did.
func (f *storeFault) clear(seq uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seq != seq {
		return false
	}
	f.msg = ""
	f.changedLocked()
	return true
}

// changedLocked closes the channel of StoreChanged's callers.
func (f *storeFault) changedLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// StoreChanged returns a channel that is closed when the embedded
// server's JetStream next reports a failed store write, or restarts after
// one (see Ready). A publication still awaiting its acknowledgement then
// is likely never to get one: the server drops what it cannot store. A
// publisher that waits on the channel too can send it again (JetStream's
// duplicate window, or the receiver, drops a second copy) rather than
// wait for its own timeout. With an external cluster the channel is never
// closed.
func (b *Bus) StoreChanged() <-chan struct{} {
	if b.fault == nil {
		return nil
	}
	b.fault.mu.Lock()
	defer b.fault.mu.Unlock()
	return b.fault.changed
}

// jetStreamConfig is the configuration the embedded server enables
// JetStream with at start (see server.Start), for restarting it alike.
// EnableJetStream modifies what it is given, so each call needs a fresh
// one.
func jetStreamConfig(o *server.Options) *server.JetStreamConfig {
	return &server.JetStreamConfig{
		StoreDir:     o.StoreDir,
		SyncInterval: o.SyncInterval,
		SyncAlways:   o.SyncAlways,
		Strict:       !o.NoJetStreamStrict,
		MaxMemory:    o.JetStreamMaxMemory,
		MaxStore:     o.JetStreamMaxStore,
		Domain:       o.JetStreamDomain,
		CompressOK:   true,
		UniqueTag:    o.JetStreamUniqueTag,
	}
}

// watch restarts the embedded server's JetStream after a write failure or
// when the server turned it off, until stop is closed.
func (b *Bus) watch(sopts *server.Options, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	var (
		wait        time.Duration // grows while restarts fail, or fail again soon after
		lastRestart time.Time
	)
	pause := func() bool { // waits wait, reporting false if stopped
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-stop:
			return false
		case <-t.C:
			return true
		}
	}
	for {
		select {
		case <-stop:
			return
		case <-b.fault.kick:
		case <-tick.C:
		}
		msg, since, seq := b.fault.get()
		if msg == "" {
			if b.ns.JetStreamEnabled() {
				continue
			}
			b.fault.report("JetStream was shut down by the server")
			msg, since, seq = b.fault.get()
		}
		b.ready.forget()
		err := b.restartJetStream(sopts, seq)
		if err == nil {
			b.log.Info("JetStream store recovered: streams and consumers reloaded, publishing resumes",
				"after", msg, "down_for", time.Since(since).Round(time.Millisecond))
			// A store that fails again at once (space for the test
			// write, not for the streams) is not restarted in a loop:
			// each restart reloads every stream.
			if time.Since(lastRestart) < time.Minute {
				wait = min(max(2*wait, recoverBackoffMin), recoverBackoffMax)
			} else {
				wait = 0
			}
			lastRestart = time.Now()
			if wait > 0 && !pause() {
				return
			}
			continue
		}
		wait = min(max(2*wait, recoverBackoffMin), recoverBackoffMax)
		b.log.Warn("JetStream cannot store messages; retrying", "cause", msg, "err", err, "retry_in", wait)
		if !pause() {
			return
		}
		// Try again even if nothing new was reported.
		select {
		case b.fault.kick <- struct{}{}:
		default:
		}
	}
}

// restartJetStream restarts JetStream once its store's directory takes a
// write, and reports whether no other write failure came in meanwhile
// (seq is the report count it recovers from).
//
// While the server's JetStream is on, a failed write broke a stream of
// the global account, the one account with JetStream (leaf nodes' are
// bound to accounts without it): that account's JetStream is reloaded,
// which stops its streams, keeping their files, and restores them and
// their consumers from disk with fresh stores. Only when the server
// turned all of JetStream off is the server's JetStream started again;
// nats-server then subscribes its API handler a second time, which it
// tolerates, so the lighter reload is preferred.
func (b *Bus) restartJetStream(sopts *server.Options, seq uint64) error {
	if err := takesWrite(filepath.Join(sopts.StoreDir, server.JetStreamStoreDir), recoverRoom); err != nil {
		return fmt.Errorf("the store still cannot write (free space on its disk): %w", err)
	}
	if b.ns.JetStreamEnabled() {
		acc := b.ns.GlobalAccount()
		if err := acc.DisableJetStream(); err != nil {
			return fmt.Errorf("stop JetStream of the global account: %w", err)
		}
		if err := acc.EnableJetStream(nil, nil); err != nil {
			return fmt.Errorf("start JetStream of the global account: %w", err)
		}
	} else {
		b.slog.starting.Store(true) // its banner again: Debug, as at start
		err := b.ns.EnableJetStream(jetStreamConfig(sopts))
		b.slog.starting.Store(false)
		if err != nil {
			b.ns.ShutdownJetStream() //nolint:errcheck // already failing; the next try starts from off
			return fmt.Errorf("start JetStream: %w", err)
		}
	}
	if !b.fault.clear(seq) {
		return errors.New("another write failed while JetStream restarted")
	}
	return nil
}

// takesWrite reports whether dir takes a file of n bytes, written and
// synced, which it then removes.
func takesWrite(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".room-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	buf := make([]byte, 64<<10)
	for left := n; left > 0; left -= len(buf) {
		if _, err := f.Write(buf[:min(left, len(buf))]); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readyCache holds Ready's last answer for readyTTL.
type readyCache struct {
	probeMu  sync.Mutex // held during a probe, so concurrent callers share one
	hasProbe bool       // the probe stream exists, as far as the bus knows; guarded by probeMu

	mu  sync.Mutex
	gen uint64    // counts forget calls; guarded by mu
	at  time.Time // when err was found; zero when nothing is cached; guarded by mu
	err error     // guarded by mu
}

// get returns the cached answer, if fresh, and the generation to store
// a new one under.
func (c *readyCache) get() (gen uint64, fresh bool, cached error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, !c.at.IsZero() && time.Since(c.at) < readyTTL, c.err
}

// put caches err unless forget was called since get returned gen.
func (c *readyCache) put(gen uint64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.at, c.err = time.Now(), err
	}
}

// forget drops the cached answer, and any being found now.
func (c *readyCache) forget() {
	c.mu.Lock()
	c.gen++
	c.at = time.Time{}
	c.mu.Unlock()
}

// Ready reports whether the bus can take a publication now: it is not
// recovering from a failed store write, and JetStream stores a probe
// message (8 KiB, file-backed, in stream CHANCERY_PROBE, each probe
// replacing the last) within two seconds, or before ctx ends if that is
// sooner. The answer is reused for two seconds. While JetStream cannot
// write its store the error wraps ErrCannotStore, and also
// errs.ErrStorageFull when its disk is full. After Close, Ready returns
// ErrClosed.
func (b *Bus) Ready(ctx context.Context) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if err := b.StoreErr(); err != nil {
		return err
	}
	c := &b.ready
	c.probeMu.Lock()
	defer c.probeMu.Unlock()
	gen, fresh, cached := c.get()
	if fresh {
		return cached
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	err := b.probe(ctx)
	if ferr := b.StoreErr(); ferr != nil {
		err = ferr // the probe's own write failed, and the server said why
	}
	c.put(gen, err)
	return err
}

// StoreErr returns, while the embedded server's JetStream cannot write its
// store (from the failure it reported until the bus restarts JetStream),
// an error that wraps ErrCannotStore, and errs.ErrStorageFull when the
// disk is full; otherwise nil. It costs no round trip: a publisher can
// ask before each publication rather than wait for an acknowledgement
// that will not come.
func (b *Bus) StoreErr() error {
	if b.fault == nil {
		return nil
	}
	msg, since, _ := b.fault.get()
	if msg == "" {
		return nil
	}
	err := fmt.Errorf("%w since %s (%s); the bus restarts JetStream when the store takes writes again",
		ErrCannotStore, since.UTC().Format(time.RFC3339), msg)
	if strings.Contains(strings.ToLower(msg), "space") {
		err = fmt.Errorf("%w: %w", errs.ErrStorageFull, err)
	}
	return err
}

// probe stores one message in the probe stream, creating it if needed.
// b.ready.probeMu is held.
func (b *Bus) probe(ctx context.Context) error {
	c := &b.ready
	if err := b.Ping(ctx); err != nil {
		return err
	}
	if !c.hasProbe {
		_, err := b.JetStream().CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:        probeStream,
			Description: "Chancery: the readiness probe's last message",
			Subjects:    []string{probeSubject},
			Storage:     jetstream.FileStorage,
			MaxMsgs:     1,
			Discard:     jetstream.DiscardOld,
		})
		if err != nil {
			return fmt.Errorf("%w: create the probe stream on %s: %v", ErrCannotStore, b.target, err)
		}
		c.hasProbe = true
	}
	if _, err := b.js.Publish(ctx, probeSubject, probeMessage()); err != nil {
		// The stream may be gone (deleted by hand, or JetStream
		// restarted without it) or changed: make it again next time,
		// unless the publication only took too long. On a cluster that
		// lost a server that is the stream electing a leader, and
		// making it again would be one more change for the busy
		// metadata leader to commit within the probe's two seconds.
		if !Slow(err) {
			c.hasProbe = false
		}
		return fmt.Errorf("%w: publish to %s: %v", ErrCannotStore, b.target, err)
	}
	return nil
}

// Slow reports whether err says only that an answer of the NATS servers
// took too long, not that what was asked for is gone or refused: a caller
// keeps what it opened, since opening it anew would add to the load.
func Slow(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
}

// probeMessage is a probe's message: the time, padded to 8 KiB so that
// storing it needs a new block of the disk (a few bytes would still fit
// in one partly used while the disk is full).
func probeMessage() []byte {
	msg := make([]byte, probeSize)
	copy(msg, time.Now().UTC().Format(time.RFC3339Nano))
	return msg
}
