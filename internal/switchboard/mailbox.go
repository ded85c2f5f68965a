package switchboard

import "sync"

// mailbox is an unbounded FIFO: the event reader never blocks on a slow call, and no event is
// dropped (the library's own bus drops events for a subscriber 100 behind).
type mailbox[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	signal chan struct{}
}

func newMailbox[T any]() *mailbox[T] { return &mailbox[T]{signal: make(chan struct{}, 1)} }

// put appends v; it never blocks. Puts after close are dropped (the call has ended).
func (m *mailbox[T]) put(v T) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.items = append(m.items, v)
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
}

// take removes and returns everything queued (nil when empty).
func (m *mailbox[T]) take() []T {
	m.mu.Lock()
	defer m.mu.Unlock()
	items := m.items
	m.items = nil
	return items
}

// ready is signalled when items may be queued.
func (m *mailbox[T]) ready() <-chan struct{} { return m.signal }

func (m *mailbox[T]) close() {
	m.mu.Lock()
	m.closed = true
	m.items = nil
	m.mu.Unlock()
}

func (m *mailbox[T]) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}
