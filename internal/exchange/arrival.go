package exchange

import "sync"

// arrivals tells the node's own readers that messages were delivered to
// an inbox here, so that a subsystem reading its inbox in the same
// process (headquarters' insight, taking a report round's submissions)
// takes them as they commit rather than at its next poll. Its zero value
// is ready.
type arrivals struct {
	mu sync.Mutex
	ch chan struct{} // closed at the next delivery; guarded by mu
}

// wait returns a channel closed when messages are next delivered.
func (s *arrivals) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// signal wakes every reader waiting: a close, so any number of readers
// hear it, and a delivery with no one waiting costs nothing.
func (s *arrivals) signal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// Arrived returns a channel closed when messages are next delivered to
// an inbox of this node by this process (received from another node and
// committed to the log). A reader waits on it beside its poll: it hears
// nothing of what another replica of headquarters received, which the
// poll still finds.
func (n *Node) Arrived() <-chan struct{} {
	return n.arrived.wait()
}
