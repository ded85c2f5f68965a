package acd

// The indexes behind every decision: pools with their two heaps, and the deadline heap. The
// heaps are hand-written (not container/heap) so that they are typed, inline well and never box.

// skillReq is an interned skill requirement.
type skillReq struct {
	skill int
	level int
}

// pool is one distinct eligibility rule: "members of queue Q (or anyone) having these skills at
// these levels and speaking this language". Every agent satisfying it belongs to it (for as
// long as its configuration stays the same); every waiting caller whose current stage allows
// it is in its waiting heap. Invariant after every Step: no pool has both an idle agent and a
// waiting caller.
type pool struct {
	key    string
	member int // queue index, or -1 for any agent
	reqs   []skillReq
	lang   int // interned language, or -1 for any
	used   bool

	idle    agentHeap
	waiting callHeap
}

type agentSlot struct {
	p   *pool
	idx int // position in p.idle, -1 when not there
}

type callSlot struct {
	p   *pool
	idx int // position in p.waiting
}

// agentBefore orders idle agents: longest idle first, then registration order.
func agentBefore(a, b *agent) bool {
	if a.idleSince != b.idleSince {
		return a.idleSince < b.idleSince
	}
	return a.seq < b.seq
}

// callBefore orders waiting callers: higher caller priority first, then earlier virtual
// arrival (original arrival minus the queue's priority credit), then arrival order.
func callBefore(a, b *call) bool {
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	if a.vArr != b.vArr {
		return a.vArr < b.vArr
	}
	return a.seq < b.seq
}

type agentEntry struct {
	a    *agent
	slot int32
}

type agentHeap []agentEntry

func (h agentHeap) set(i int, e agentEntry) {
	h[i] = e
	e.a.slots[e.slot].idx = i
}

func (h *agentHeap) push(a *agent, slot int) {
	*h = append(*h, agentEntry{a, int32(slot)})
	h.set(len(*h)-1, (*h)[len(*h)-1])
	h.up(len(*h) - 1)
}

func (h *agentHeap) remove(i int) {
	old := *h
	n := len(old) - 1
	old[i].a.slots[old[i].slot].idx = -1
	if i != n {
		old.set(i, old[n])
	}
	old[n] = agentEntry{}
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h agentHeap) up(i int) {
	e := h[i]
	for i > 0 {
		p := (i - 1) / 2
		if !agentBefore(e.a, h[p].a) {
			break
		}
		h.set(i, h[p])
		i = p
	}
	h.set(i, e)
}

func (h agentHeap) down(i0 int) bool {
	i, n, e := i0, len(h), h[i0]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && agentBefore(h[r].a, h[c].a) {
			c = r
		}
		if !agentBefore(h[c].a, e.a) {
			break
		}
		h.set(i, h[c])
		i = c
	}
	h.set(i, e)
	return i > i0
}

// second is the best entry other than the top, or nil.
func (h agentHeap) second() *agent {
	switch {
	case len(h) < 2:
		return nil
	case len(h) == 2 || agentBefore(h[1].a, h[2].a):
		return h[1].a
	default:
		return h[2].a
	}
}

type callEntry struct {
	c    *call
	slot int32
}

type callHeap []callEntry

func (h callHeap) set(i int, e callEntry) {
	h[i] = e
	e.c.slots[e.slot].idx = i
}

func (h *callHeap) push(c *call, slot int) {
	*h = append(*h, callEntry{c, int32(slot)})
	h.set(len(*h)-1, (*h)[len(*h)-1])
	h.up(len(*h) - 1)
}

func (h *callHeap) remove(i int) {
	old := *h
	n := len(old) - 1
	old[i].c.slots[old[i].slot].idx = -1
	if i != n {
		old.set(i, old[n])
	}
	old[n] = callEntry{}
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h callHeap) up(i int) {
	e := h[i]
	for i > 0 {
		p := (i - 1) / 2
		if !callBefore(e.c, h[p].c) {
			break
		}
		h.set(i, h[p])
		i = p
	}
	h.set(i, e)
}

func (h callHeap) down(i0 int) bool {
	i, n, e := i0, len(h), h[i0]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && callBefore(h[r].c, h[c].c) {
			c = r
		}
		if !callBefore(h[c].c, e.c) {
			break
		}
		h.set(i, h[c])
		i = c
	}
	h.set(i, e)
	return i > i0
}

func (h callHeap) second() *call {
	switch {
	case len(h) < 2:
		return nil
	case len(h) == 2 || callBefore(h[1].c, h[2].c):
		return h[1].c
	default:
		return h[2].c
	}
}

// timer is a deadline owned by one call or one agent (each owns at most one at a time).
type timer struct {
	at   int64
	rank uint8 // at equal times: call timers (widening, max wait) before agent timers
	seq  uint64
	idx  int // position in the timer heap, -1 when not scheduled
	c    *call
	a    *agent
}

const (
	rankCall  = 0
	rankAgent = 1
)

func timerBefore(a, b *timer) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.seq < b.seq
}

type timerHeap []*timer

func (h timerHeap) set(i int, t *timer) {
	h[i] = t
	t.idx = i
}

func (h *timerHeap) push(t *timer) {
	*h = append(*h, t)
	h.set(len(*h)-1, t)
	h.up(len(*h) - 1)
}

func (h *timerHeap) remove(i int) {
	old := *h
	n := len(old) - 1
	old[i].idx = -1
	if i != n {
		old.set(i, old[n])
	}
	old[n] = nil
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h timerHeap) up(i int) {
	t := h[i]
	for i > 0 {
		p := (i - 1) / 2
		if !timerBefore(t, h[p]) {
			break
		}
		h.set(i, h[p])
		i = p
	}
	h.set(i, t)
}

func (h timerHeap) down(i0 int) bool {
	i, n, t := i0, len(h), h[i0]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && timerBefore(h[r], h[c]) {
			c = r
		}
		if !timerBefore(h[c], t) {
			break
		}
		h.set(i, h[c])
		i = c
	}
	h.set(i, t)
	return i > i0
}
