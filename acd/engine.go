package acd

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxHops bounds overflow chains (a queue overflowing into itself through others).
const maxHops = 8

// histMax is how many history entries a call keeps (the most recent ones).
const histMax = 16

type queue struct {
	id    QueueID
	idx   int
	cfg   QueueConfig
	boost int64

	sl, maxWait, wrapUp, ring int64
	cbRetry, cbRing           int64
	cbAttempts                int
	reqs                      []skillReq
	widen                     []widenRule
	stagesByLang              [][]stage // index lang+1; built on first use
	override                  Override
	waiting                   int
	st                        queueCounters
	recentAHT                 float64 // exponentially weighted handle time, ns
}

type widenRule struct {
	after int64
	level int
	add   []skillReq
}

// stage is what a caller may use from a given wait on: the pools of its eligible agents.
type stage struct {
	after int64
	pools []*pool
}

type queueCounters struct {
	offered, answered, answeredInSL, abandoned, shortAbandoned int
	overflowed, rejected, transferredIn, transferredOut        int
	callbacks, callbacksAnswered, callbacksFailed              int
	handled                                                    int
	waitSum, handleSum                                         int64
}

type agent struct {
	id     AgentID
	seq    int
	cfg    AgentConfig
	levels map[int]int
	langs  map[int]bool

	state     AgentState
	reason    string
	since     int64
	idleSince int64
	call      *call
	slots     []agentSlot
	tm        timer

	pending       AgentState // AgentPaused or AgentOffline after the current call, else unknown
	pendingReason string
	handleStart   int64
	handleQueue   *queue

	stateNs   [numAgentStates]int64
	pausedNs  map[string]int64
	handled   int
	noAnswer  int
	declined  int
	callbacks int
}

type histKind uint8

const (
	hArrived histKind = iota + 1
	hQueued
	hOffered
	hCallbackDue
	hNoAnswer
	hDeclined
	hAgentLeft
	hConnected
	hWidened
	hOverflow
	hTransferred
	hCallbackRequested
	hCallbackNoAnswer
	hAbandoned
	hEnded
	hRejected
	hCallbackFailed
	hCallbackCancelled
)

type histEntry struct {
	at    int64
	kind  histKind
	agent AgentID
	queue QueueID
	n     int
}

type rule uint8

const (
	ruleNone rule = iota
	ruleLongestIdle
	ruleBestCaller
)

// decision is what Explain needs of the last assignment, recorded cheaply when it is made.
type decision struct {
	at          int64
	rule        rule
	agent       AgentID
	idleSince   int64
	stage       int
	runnerAgent AgentID
	runnerIdle  int64
	runnerCall  CallID
	runnerQueue QueueID
	runnerPrio  int
	runnerVArr  int64
	runnerWait  int64
	competitors int // idle agents (rule longest idle) or waiting callers (best caller) seen at the tops
}

type call struct {
	id      CallID
	q       *queue
	lang    int
	prio    int
	arrival int64
	vArr    int64
	seq     uint64
	entered int64

	state   CallState
	outcome Outcome
	stage   int
	stages  []stage
	slots   []callSlot
	agent   *agent
	tm      timer

	virtual  bool
	number   string
	attempts int
	note     string

	hist  [histMax]histEntry
	nhist int
	dec   decision
	ended int64
}

// Engine is the routing engine. It is not safe for concurrent use: one goroutine (or a lock)
// owns it, which is the single writer of its queues' decisions.
type Engine struct {
	opt Options
	now int64
	seq uint64

	queues    map[QueueID]*queue
	queueList []*queue
	agents    map[AgentID]*agent
	agentList []*agent
	calls     map[CallID]*call

	skills  map[string]int
	skillOf []string
	langs   map[string]int
	langOf  []string
	reasons map[string]bool

	pools    map[string]*pool
	poolList []*pool

	timers timerHeap
	acts   []Action

	free     []*call
	finished []*call
	finNext  int

	onAssign func(c *call, a *agent, d decision) // test hook: sees every decision before it is applied
}

// New returns an engine with no queues and no agents.
func New(opt Options) *Engine {
	if opt.PriorityStep <= 0 {
		opt.PriorityStep = 30 * time.Second
	}
	if opt.ShortAbandon <= 0 {
		opt.ShortAbandon = 5 * time.Second
	}
	if opt.RingTimeout <= 0 {
		opt.RingTimeout = 15 * time.Second
	}
	if opt.KeepFinished <= 0 {
		opt.KeepFinished = 1024
	}
	e := &Engine{
		opt:     opt,
		queues:  map[QueueID]*queue{},
		agents:  map[AgentID]*agent{},
		calls:   map[CallID]*call{},
		skills:  map[string]int{},
		langs:   map[string]int{},
		reasons: map[string]bool{ReasonNoAnswer: true, ReasonDeclined: true},
		pools:   map[string]*pool{},
		acts:    make([]Action, 0, 16),
	}
	for _, r := range opt.PauseReasons {
		e.reasons[r] = true
	}
	e.finished = make([]*call, 0, opt.KeepFinished)
	return e
}

// Now is the engine's current time (the latest now it was given or a deadline it fired).
func (e *Engine) Now() time.Time { return e.timeOf(e.now) }

// NextDeadline is the earliest pending deadline; the driver calls Step (with Tick or any other
// event) once its clock reaches it.
func (e *Engine) NextDeadline() (time.Time, bool) {
	if len(e.timers) == 0 {
		return time.Time{}, false
	}
	return e.timeOf(e.timers[0].at), true
}

// Step applies one event at now and returns the actions to perform. The slice is owned by the
// engine and valid until the next call of Step. A now earlier than the engine's time is taken
// as the engine's time (time never goes back).
func (e *Engine) Step(now time.Time, ev Event) []Action {
	e.acts = e.acts[:0]
	t := now.UnixNano()
	if t < e.now {
		t = e.now
	}
	for len(e.timers) > 0 && e.timers[0].at <= t {
		tm := e.timers[0]
		e.timers.remove(0)
		e.now = tm.at
		e.fire(tm)
	}
	e.now = t
	switch ev := ev.(type) {
	case CallArrived:
		e.arrive(ev)
	case OfferAccepted:
		e.accept(ev.Call, ev.Agent)
	case OfferDeclined:
		e.decline(ev.Call, ev.Agent)
	case CallEnded:
		e.callEnded(ev.Call)
	case AgentReady:
		e.agentReady(ev.Agent)
	case AgentPause:
		e.agentPause(ev.Agent, ev.Reason)
	case AgentLogout:
		e.agentLeave(ev.Agent, AgentOffline, "")
	case Transfer:
		e.transfer(ev)
	case RequestCallback:
		e.requestCallback(ev.Call, ev.Number)
	case CallbackAnswered:
		e.callbackAnswered(ev.Call)
	case CallbackNoAnswer:
		e.callbackNoAnswer(ev.Call, false)
	case CancelCallback:
		e.cancelCallback(ev.Call)
	case ConfigureQueue:
		e.configureQueue(ev.Queue)
	case ConfigureAgent:
		e.configureAgent(ev.Agent)
	case SetOverride:
		if q := e.queues[ev.Queue]; q != nil {
			q.override = ev.Override
		} else {
			e.invalid("", "", ev.Queue, WhyUnknownQueue)
		}
	case Tick, nil:
	}
	return e.acts
}

func (e *Engine) timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func (e *Engine) nextSeq() uint64 { e.seq++; return e.seq }

func (e *Engine) emit(a Action) {
	a.At = e.timeOf(e.now)
	e.acts = append(e.acts, a)
}

func (e *Engine) invalid(c CallID, a AgentID, q QueueID, why string) {
	e.emit(Action{Kind: ActInvalid, Call: c, Agent: a, Queue: q, Reason: why})
}

func (c *call) log(now int64, k histKind, a AgentID, q QueueID, n int) {
	c.hist[c.nhist%histMax] = histEntry{at: now, kind: k, agent: a, queue: q, n: n}
	c.nhist++
}

// ---- timers ----

func (e *Engine) setTimer(t *timer, at int64, rank uint8) {
	t.at, t.rank, t.seq = at, rank, e.nextSeq()
	if t.idx >= 0 {
		if !e.timers.down(t.idx) {
			e.timers.up(t.idx)
		}
		return
	}
	e.timers.push(t)
}

func (e *Engine) stopTimer(t *timer) {
	if t.idx >= 0 {
		e.timers.remove(t.idx)
	}
}

func (e *Engine) fire(t *timer) {
	if c := t.c; c != nil {
		switch c.state {
		case CallWaiting, CallCallbackWaiting:
			e.callDeadline(c)
		case CallCallbackScheduled:
			c.log(e.now, hQueued, "", c.q.id, c.attempts+1)
			e.setCallState(c, CallCallbackWaiting)
			e.requeue(c)
		}
		return
	}
	a := t.a
	switch a.state {
	case AgentReserved:
		c := a.call
		if c.state == CallCallbackDialing {
			e.callbackNoAnswer(c.id, true)
			return
		}
		// Ring no answer: take the offer back, pause the agent, give the caller the next agent.
		e.emit(Action{Kind: ActCancelOffer, Call: c.id, Agent: a.id, Queue: c.q.id, Reason: WhyNoAnswer})
		c.log(e.now, hNoAnswer, a.id, c.q.id, 0)
		a.noAnswer++
		a.call, c.agent = nil, nil
		e.setAgentState(a, AgentPaused, ReasonNoAnswer)
		e.setCallState(c, CallWaiting)
		e.requeue(c)
	case AgentWrapUp:
		e.endWork(a)
	}
}

// callDeadline handles a waiting caller's deadline: maximum wait, or the next widening.
func (e *Engine) callDeadline(c *call) {
	e.unwait(c)
	e.requeue(c)
}

// ---- calls ----

func (e *Engine) newCall(id CallID) *call {
	var c *call
	if n := len(e.free); n > 0 {
		c = e.free[n-1]
		e.free = e.free[:n-1]
		slots := c.slots[:0]
		*c = call{slots: slots}
	} else {
		c = &call{slots: make([]callSlot, 0, 4)}
	}
	c.id = id
	c.tm = timer{idx: -1, c: c}
	return c
}

func (e *Engine) arrive(ev CallArrived) {
	if old := e.calls[ev.Call]; old != nil {
		if old.state != CallFinished {
			e.invalid(ev.Call, "", ev.Queue, WhyDuplicateCall)
			return
		}
		delete(e.calls, ev.Call) // the finished record stays in the ring, unreachable by id
	}
	q := e.queues[ev.Queue]
	if q == nil {
		e.emit(Action{Kind: ActReject, Call: ev.Call, Queue: ev.Queue, Reason: WhyUnknownQueue})
		return
	}
	c := e.newCall(ev.Call)
	c.prio = ev.Priority
	c.lang = -1
	if ev.Language != "" {
		c.lang = e.lang(ev.Language)
	}
	c.arrival = e.now
	if !ev.Arrived.IsZero() {
		c.arrival = min(ev.Arrived.UnixNano(), e.now)
	}
	c.seq = e.nextSeq()
	c.note = ev.Note
	e.calls[c.id] = c
	c.log(e.now, hArrived, "", q.id, 0)
	if ev.Callback != "" {
		c.virtual, c.number = true, ev.Callback
		q.st.callbacks++
		c.log(e.now, hCallbackRequested, "", q.id, 0)
	}
	e.enter(c, q, false)
}

// enter puts c (in no queue state) into q, or overflows / rejects it when q is closed or full.
func (e *Engine) enter(c *call, q *queue, transferred bool) {
	for hop := 0; ; hop++ {
		c.q = q
		q.st.offered++
		if transferred {
			q.st.transferredIn++
			transferred = false
		}
		why := ""
		if !e.openAt(q, e.now) {
			why = WhyClosed
		} else if q.cfg.MaxLength > 0 && q.waiting >= q.cfg.MaxLength {
			why = WhyMaxLength
		}
		if why == "" {
			c.entered = e.now
			c.vArr = c.arrival - q.boost
			c.stages = e.stagesFor(q, e.langFor(c, q))
			c.stage = 0
			if c.virtual {
				e.setCallState(c, CallCallbackWaiting)
			} else {
				e.setCallState(c, CallWaiting)
			}
			c.log(e.now, hQueued, "", q.id, 0)
			e.requeue(c)
			return
		}
		if hop >= maxHops {
			why = WhyOverflowLoop
		}
		if q = e.leave(c, q, why); q == nil {
			return
		}
	}
}

// leave sends c (in no heap, in no waiting state) out of q: to q's overflow queue, which it
// returns, or out of the ACD (nil).
func (e *Engine) leave(c *call, q *queue, why string) *queue {
	to := e.queues[q.cfg.Overflow]
	if to == nil || to == q || why == WhyOverflowLoop {
		q.st.rejected++
		e.emit(Action{Kind: ActReject, Call: c.id, Queue: q.id, Reason: why})
		c.log(e.now, hRejected, "", q.id, 0)
		e.finish(c, OutcomeRejected)
		return nil
	}
	q.st.overflowed++
	e.emit(Action{Kind: ActOverflow, Call: c.id, Queue: q.id, To: to.id, Reason: why})
	c.log(e.now, hOverflow, "", to.id, 0)
	return to
}

// langFor is the language c needs in q: its own, else the queue's (-1 = any).
func (e *Engine) langFor(c *call, q *queue) int {
	if c.lang >= 0 {
		return c.lang
	}
	if q.cfg.Language != "" {
		return e.lang(q.cfg.Language)
	}
	return -1
}

// setCallState keeps the per-queue count of waiting callers (real and virtual) in step.
func (e *Engine) setCallState(c *call, s CallState) {
	was := c.state == CallWaiting || c.state == CallCallbackWaiting
	is := s == CallWaiting || s == CallCallbackWaiting
	if was && !is {
		c.q.waiting--
	} else if is && !was {
		c.q.waiting++
	}
	c.state = s
}

// stageAt is the stage a caller who has waited w is in.
func stageAt(stages []stage, w int64) int {
	k := 0
	for k+1 < len(stages) && stages[k+1].after <= w {
		k++
	}
	return k
}

// requeue makes a waiting caller (in no heap) find an agent or wait in its stage's pools, or
// leave the queue when it has waited its maximum.
func (e *Engine) requeue(c *call) {
	if q := c.q; !c.virtual && q.maxWait > 0 && e.now >= c.entered+q.maxWait {
		e.setCallState(c, CallUnknown)
		if to := e.leave(c, q, WhyMaxWait); to != nil {
			e.enter(c, to, false)
		}
		return
	}
	k := stageAt(c.stages, e.now-c.entered)
	if k != c.stage {
		c.log(e.now, hWidened, "", c.q.id, k)
		c.stage = k
	}
	if e.dispatchCall(c) {
		return
	}
	ps := c.stages[k].pools
	for i, p := range ps {
		c.slots = append(c.slots, callSlot{p: p, idx: -1})
		p.waiting.push(c, i)
	}
	// next deadline: the next widening or the maximum wait
	next := int64(-1)
	if k+1 < len(c.stages) {
		next = c.entered + c.stages[k+1].after
	}
	if q := c.q; !c.virtual && q.maxWait > 0 {
		if mw := c.entered + q.maxWait; next < 0 || mw < next {
			next = mw
		}
	}
	if next >= 0 {
		e.setTimer(&c.tm, next, rankCall)
	} else {
		e.stopTimer(&c.tm)
	}
}

// unwait takes a waiting caller out of its heaps and stops its deadline.
func (e *Engine) unwait(c *call) {
	for _, s := range c.slots {
		if s.idx >= 0 {
			s.p.waiting.remove(s.idx)
		}
	}
	c.slots = c.slots[:0]
	e.stopTimer(&c.tm)
}

// dispatchCall offers c to the longest-idle agent of its current stage's pools, if any.
func (e *Engine) dispatchCall(c *call) bool {
	ps := c.stages[c.stage].pools
	var best *agent
	n := 0
	for _, p := range ps {
		if len(p.idle) > 0 {
			n += len(p.idle)
			if a := p.idle[0].a; best == nil || agentBefore(a, best) {
				best = a
			}
		}
	}
	if best == nil {
		return false
	}
	d := decision{at: e.now, rule: ruleLongestIdle, agent: best.id, idleSince: best.idleSince, stage: c.stage, competitors: n}
	var ru *agent
	for _, p := range ps {
		if len(p.idle) == 0 {
			continue
		}
		a := p.idle[0].a
		if a == best {
			a = p.idle.second()
		}
		if a != nil && (ru == nil || agentBefore(a, ru)) {
			ru = a
		}
	}
	if ru != nil {
		d.runnerAgent, d.runnerIdle = ru.id, ru.idleSince
	}
	e.assign(c, best, d)
	return true
}

// dispatchAgent gives an available agent (in no heap) the best caller among its pools, if any.
func (e *Engine) dispatchAgent(a *agent) bool {
	var best *call
	n := 0
	for _, s := range a.slots {
		if h := s.p.waiting; len(h) > 0 {
			n += len(h)
			if c := h[0].c; best == nil || callBefore(c, best) {
				best = c
			}
		}
	}
	if best == nil {
		return false
	}
	d := decision{at: e.now, rule: ruleBestCaller, agent: a.id, idleSince: a.idleSince, stage: best.stage, competitors: n}
	var ru *call
	for _, s := range a.slots {
		h := s.p.waiting
		if len(h) == 0 {
			continue
		}
		c := h[0].c
		if c == best {
			c = h.second()
		}
		if c != nil && (ru == nil || callBefore(c, ru)) {
			ru = c
		}
	}
	if ru != nil {
		d.runnerCall, d.runnerQueue, d.runnerPrio, d.runnerVArr = ru.id, ru.q.id, ru.prio, ru.vArr
		d.runnerWait = e.now - ru.entered
	}
	e.assign(best, a, d)
	return true
}

// assign reserves a (available, in no heap after this) for c (waiting, in no heap after this).
func (e *Engine) assign(c *call, a *agent, d decision) {
	if e.onAssign != nil {
		e.onAssign(c, a, d)
	}
	e.unwait(c)
	e.unidle(a)
	c.dec = d
	a.call, c.agent = c, a
	if a.state != AgentReserved {
		e.accountState(a)
		a.state, a.reason = AgentReserved, ""
	}
	if c.virtual {
		e.setCallState(c, CallCallbackDialing)
		c.attempts++
		c.log(e.now, hCallbackDue, a.id, c.q.id, c.attempts)
		e.emit(Action{Kind: ActCallbackDue, Call: c.id, Agent: a.id, Queue: c.q.id, Number: c.number, Attempt: c.attempts})
		e.setTimer(&a.tm, e.now+c.q.cbRing, rankAgent)
		return
	}
	e.setCallState(c, CallOffered)
	c.log(e.now, hOffered, a.id, c.q.id, 0)
	e.emit(Action{Kind: ActOffer, Call: c.id, Agent: a.id, Queue: c.q.id})
	e.setTimer(&a.tm, e.now+c.q.ring, rankAgent)
}

func (e *Engine) lookupCall(id CallID) *call {
	c := e.calls[id]
	if c == nil {
		e.invalid(id, "", "", WhyUnknownCall)
	}
	return c
}

func (e *Engine) accept(id CallID, aid AgentID) {
	c := e.lookupCall(id)
	if c == nil {
		return
	}
	if c.state != CallOffered || c.agent == nil || c.agent.id != aid {
		e.invalid(id, aid, c.q.id, WhyNotOffered)
		return
	}
	e.connect(c)
}

// connect starts the conversation of c with its reserved agent.
func (e *Engine) connect(c *call) {
	a, q := c.agent, c.q
	e.stopTimer(&a.tm)
	e.setCallState(c, CallConnected)
	c.log(e.now, hConnected, a.id, q.id, 0)
	w := e.now - c.entered
	q.st.answered++
	q.st.waitSum += w
	if w <= q.sl {
		q.st.answeredInSL++
	}
	if c.virtual {
		q.st.callbacksAnswered++
		a.callbacks++
	}
	a.handled++
	a.handleStart, a.handleQueue = e.now, q
	e.setAgentState(a, AgentOnCall, "")
}

func (e *Engine) decline(id CallID, aid AgentID) {
	c := e.lookupCall(id)
	if c == nil {
		return
	}
	if c.state != CallOffered || c.agent == nil || c.agent.id != aid {
		e.invalid(id, aid, c.q.id, WhyNotOffered)
		return
	}
	e.takeBack(c, hDeclined, AgentPaused, ReasonDeclined)
}

// takeBack withdraws c's pending offer: the agent goes to state s, the caller back to its place.
func (e *Engine) takeBack(c *call, k histKind, s AgentState, reason string) {
	a := c.agent
	e.stopTimer(&a.tm)
	c.log(e.now, k, a.id, c.q.id, 0)
	if k == hDeclined {
		a.declined++
	}
	a.call, c.agent = nil, nil
	e.setCallState(c, CallWaiting)
	e.setAgentState(a, s, reason)
	e.requeue(c)
}

func (e *Engine) callEnded(id CallID) {
	c := e.lookupCall(id)
	if c == nil {
		return
	}
	q := c.q
	switch c.state {
	case CallWaiting:
		e.unwait(c)
		e.abandon(c)
	case CallOffered:
		a := c.agent
		e.stopTimer(&a.tm)
		e.emit(Action{Kind: ActCancelOffer, Call: c.id, Agent: a.id, Queue: q.id, Reason: WhyAbandoned})
		a.call, c.agent = nil, nil
		e.abandon(c)
		e.makeAvailable(a)
	case CallConnected:
		a := c.agent
		c.log(e.now, hEnded, a.id, q.id, 0)
		a.call, c.agent = nil, nil
		e.finish(c, OutcomeHandled)
		e.startWrapUp(a)
	default:
		e.invalid(id, "", q.id, WhyWrongState)
	}
}

func (e *Engine) abandon(c *call) {
	q := c.q
	c.log(e.now, hAbandoned, "", q.id, 0)
	if e.now-c.entered < int64(e.opt.ShortAbandon) {
		q.st.shortAbandoned++
		e.finish(c, OutcomeShortAbandoned)
		return
	}
	q.st.abandoned++
	e.finish(c, OutcomeAbandoned)
}

// finish retires c: it stays explainable until KeepFinished later calls have finished.
func (e *Engine) finish(c *call, o Outcome) {
	e.setCallState(c, CallFinished)
	e.stopTimer(&c.tm)
	c.outcome = o
	c.ended = e.now
	if len(e.finished) < cap(e.finished) {
		e.finished = append(e.finished, c)
		return
	}
	old := e.finished[e.finNext]
	e.finished[e.finNext] = c
	e.finNext = (e.finNext + 1) % len(e.finished)
	if e.calls[old.id] == old {
		delete(e.calls, old.id)
	}
	e.free = append(e.free, old)
}

func (e *Engine) transfer(ev Transfer) {
	c := e.lookupCall(ev.Call)
	if c == nil {
		return
	}
	to := e.queues[ev.Queue]
	if to == nil {
		e.invalid(ev.Call, "", ev.Queue, WhyUnknownQueue)
		return
	}
	from := c.q
	switch c.state {
	case CallWaiting, CallCallbackWaiting:
		e.unwait(c)
	case CallConnected:
		a := c.agent
		a.call, c.agent = nil, nil
		e.startWrapUp(a)
	default:
		e.invalid(ev.Call, "", from.id, WhyWrongState)
		return
	}
	if ev.Note != "" {
		if c.note != "" {
			c.note += "\n"
		}
		c.note += ev.Note
	}
	from.st.transferredOut++
	c.log(e.now, hTransferred, "", to.id, 0)
	e.setCallState(c, CallUnknown)
	e.enter(c, to, true)
}

func (e *Engine) requestCallback(id CallID, number string) {
	c := e.lookupCall(id)
	if c == nil {
		return
	}
	if c.state != CallWaiting {
		e.invalid(id, "", c.q.id, WhyWrongState)
		return
	}
	c.virtual, c.number = true, number
	c.q.st.callbacks++
	c.log(e.now, hCallbackRequested, "", c.q.id, 0)
	c.state = CallCallbackWaiting // still waiting: same count, same heaps, same place
	e.unwait(c)
	e.requeue(c) // re-arms the deadline without the maximum wait
}

func (e *Engine) callbackAnswered(id CallID) {
	c := e.lookupCall(id)
	if c == nil {
		return
	}
	if c.state != CallCallbackDialing {
		e.invalid(id, "", c.q.id, WhyWrongState)
		return
	}
	e.connect(c)
}

func (e *Engine) callbackNoAnswer(id CallID, timedOut bool) {
	c := e.lookupCall(id)
	if c == nil {
		return
	}
	if c.state != CallCallbackDialing {
		e.invalid(id, "", c.q.id, WhyWrongState)
		return
	}
	a, q := c.agent, c.q
	e.stopTimer(&a.tm)
	if timedOut {
		e.emit(Action{Kind: ActCancelOffer, Call: c.id, Agent: a.id, Queue: q.id, Reason: WhyNoAnswer})
	}
	a.call, c.agent = nil, nil
	c.log(e.now, hCallbackNoAnswer, a.id, q.id, c.attempts)
	if c.attempts >= q.cbAttempts {
		q.st.callbacksFailed++
		e.emit(Action{Kind: ActCallbackFailed, Call: c.id, Queue: q.id, Number: c.number, Attempt: c.attempts, Reason: WhyCallbackFailed})
		c.log(e.now, hCallbackFailed, "", q.id, c.attempts)
		e.finish(c, OutcomeCallbackFailed)
	} else {
		e.setCallState(c, CallCallbackScheduled)
		e.setTimer(&c.tm, e.now+q.cbRetry, rankCall)
	}
	e.makeAvailable(a)
}

func (e *Engine) cancelCallback(id CallID) {
	c := e.lookupCall(id)
	if c == nil {
		return
	}
	switch c.state {
	case CallCallbackWaiting:
		e.unwait(c)
	case CallCallbackScheduled:
	case CallCallbackDialing:
		a := c.agent
		e.stopTimer(&a.tm)
		e.emit(Action{Kind: ActCancelOffer, Call: c.id, Agent: a.id, Queue: c.q.id, Reason: WhyAbandoned})
		a.call, c.agent = nil, nil
		defer e.makeAvailable(a)
	default:
		e.invalid(id, "", c.q.id, WhyWrongState)
		return
	}
	c.log(e.now, hCallbackCancelled, "", c.q.id, 0)
	e.finish(c, OutcomeCallbackCancelled)
}

// ---- agents ----

func (e *Engine) lookupAgent(id AgentID) *agent {
	a := e.agents[id]
	if a == nil {
		e.invalid("", id, "", WhyUnknownAgent)
	}
	return a
}

// accountState closes the time spent in the agent's current state.
func (e *Engine) accountState(a *agent) {
	d := e.now - a.since
	a.stateNs[a.state] += d
	if a.state == AgentPaused {
		a.pausedNs[a.reason] += d
	}
	a.since = e.now
}

func (e *Engine) setAgentState(a *agent, s AgentState, reason string) {
	e.accountState(a)
	a.state, a.reason = s, reason
	e.emit(Action{Kind: ActAgentState, Agent: a.id, State: s, Reason: reason})
}

// makeAvailable puts an agent in no heap into the available state and gives it a caller.
func (e *Engine) makeAvailable(a *agent) {
	e.setAgentState(a, AgentAvailable, "")
	a.idleSince = e.now
	if e.dispatchAgent(a) {
		return
	}
	for i, s := range a.slots {
		s.p.idle.push(a, i)
	}
}

// unidle takes an agent out of the idle heaps.
func (e *Engine) unidle(a *agent) {
	for _, s := range a.slots {
		if s.idx >= 0 {
			s.p.idle.remove(s.idx)
		}
	}
}

func (e *Engine) startWrapUp(a *agent) {
	q := a.handleQueue
	if q != nil && q.wrapUp > 0 {
		e.setAgentState(a, AgentWrapUp, "")
		e.setTimer(&a.tm, e.now+q.wrapUp, rankAgent)
		return
	}
	e.endWork(a)
}

// endWork closes a call's handling (talk and wrap-up) and applies a pending pause or logout.
func (e *Engine) endWork(a *agent) {
	e.stopTimer(&a.tm)
	if q := a.handleQueue; q != nil {
		h := e.now - a.handleStart
		q.st.handled++
		q.st.handleSum += h
		if q.recentAHT == 0 {
			q.recentAHT = float64(h)
		} else {
			q.recentAHT += (float64(h) - q.recentAHT) / 20
		}
		a.handleQueue = nil
	}
	if p := a.pending; p != AgentUnknown {
		a.pending = AgentUnknown
		e.setAgentState(a, p, a.pendingReason)
		return
	}
	e.makeAvailable(a)
}

func (e *Engine) agentReady(id AgentID) {
	a := e.lookupAgent(id)
	if a == nil {
		return
	}
	switch a.state {
	case AgentOffline, AgentPaused:
		e.makeAvailable(a)
	case AgentWrapUp:
		a.pending = AgentUnknown
		e.endWork(a)
	case AgentOnCall:
		a.pending = AgentUnknown
	case AgentAvailable:
	default:
		e.invalid("", id, "", WhyWrongState)
	}
}

func (e *Engine) agentPause(id AgentID, reason string) {
	a := e.lookupAgent(id)
	if a == nil {
		return
	}
	if !e.reasons[reason] {
		e.invalid("", id, "", WhyUnknownReason)
		return
	}
	e.agentLeave(id, AgentPaused, reason)
}

// agentLeave moves an agent to paused or offline, now or after its current call.
func (e *Engine) agentLeave(id AgentID, s AgentState, reason string) {
	a := e.lookupAgent(id)
	if a == nil {
		return
	}
	switch a.state {
	case AgentAvailable:
		e.unidle(a)
		e.setAgentState(a, s, reason)
	case AgentOffline, AgentPaused:
		if a.state != s || a.reason != reason {
			e.setAgentState(a, s, reason)
		}
	case AgentWrapUp:
		a.pending, a.pendingReason = s, reason
		e.endWork(a)
	case AgentOnCall:
		a.pending, a.pendingReason = s, reason
	case AgentReserved:
		c := a.call
		if c.state != CallOffered {
			e.invalid(c.id, id, c.q.id, WhyWrongState)
			return
		}
		why := WhyDeclined
		if s == AgentOffline {
			why = WhyAgentLeft
		}
		e.emit(Action{Kind: ActCancelOffer, Call: c.id, Agent: a.id, Queue: c.q.id, Reason: why})
		e.takeBack(c, hAgentLeft, s, reason)
	}
}

// ---- configuration ----

func (e *Engine) skill(name string) int {
	i, ok := e.skills[name]
	if !ok {
		i = len(e.skills)
		e.skills[name] = i
		e.skillOf = append(e.skillOf, name)
	}
	return i
}

func (e *Engine) lang(name string) int {
	i, ok := e.langs[name]
	if !ok {
		i = len(e.langs)
		e.langs[name] = i
		e.langOf = append(e.langOf, name)
	}
	return i
}

func (e *Engine) reqs(sl []SkillLevel) []skillReq {
	r := make([]skillReq, 0, len(sl))
	for _, s := range sl {
		r = append(r, skillReq{e.skill(s.Skill), s.Level})
	}
	slices.SortFunc(r, func(a, b skillReq) int { return a.skill - b.skill })
	return r
}

func orDefault(d, def time.Duration) int64 {
	if d <= 0 {
		return int64(def)
	}
	return int64(d)
}

func (e *Engine) configureQueue(cfg QueueConfig) {
	q := e.queues[cfg.ID]
	existed := q != nil
	if q == nil {
		q = &queue{id: cfg.ID, idx: len(e.queueList), override: OverrideNone}
		e.queues[cfg.ID] = q
		e.queueList = append(e.queueList, q)
	}
	cfg.Skills = slices.Clone(cfg.Skills)
	cfg.Widen = slices.Clone(cfg.Widen)
	cfg.Hours = slices.Clone(cfg.Hours)
	q.cfg = cfg
	q.boost = int64(cfg.Priority) * int64(e.opt.PriorityStep)
	q.sl = orDefault(cfg.SLThreshold, 20*time.Second)
	q.maxWait = int64(max(cfg.MaxWait, 0))
	q.wrapUp = int64(max(cfg.WrapUp, 0))
	q.ring = orDefault(cfg.RingTimeout, e.opt.RingTimeout)
	q.cbRetry = orDefault(cfg.CallbackRetry, 5*time.Minute)
	q.cbRing = orDefault(cfg.CallbackRingTimeout, time.Minute)
	q.cbAttempts = cfg.CallbackAttempts
	if q.cbAttempts <= 0 {
		q.cbAttempts = 3
	}
	q.reqs = e.reqs(cfg.Skills)
	ws := slices.Clone(cfg.Widen)
	slices.SortStableFunc(ws, func(a, b Widening) int { return cmp.Compare(a.After, b.After) })
	q.widen = q.widen[:0]
	for _, w := range ws {
		q.widen = append(q.widen, widenRule{after: int64(w.After), level: w.Level, add: e.reqs(w.Add)})
	}
	q.stagesByLang = nil
	e.stagesFor(q, e.langFor(&call{lang: -1}, q)) // enrol the agents now, not at the first call
	if !existed {
		return
	}
	// callers waiting here take the new rules, best first
	var again []*call
	for _, c := range e.sortedCalls() {
		if c.q != q || c.state == CallFinished {
			continue
		}
		c.stages = e.stagesFor(q, e.langFor(c, q))
		c.vArr = c.arrival - q.boost
		if c.state == CallWaiting || c.state == CallCallbackWaiting {
			e.unwait(c)
			c.stage = 0
			again = append(again, c)
		} else {
			c.stage = min(c.stage, len(c.stages)-1)
		}
	}
	slices.SortFunc(again, func(a, b *call) int {
		if callBefore(a, b) {
			return -1
		}
		return 1
	})
	for _, c := range again {
		e.requeue(c)
	}
	e.gcPools()
}

// stagesFor returns (building on first use) q's stages for callers speaking lang (-1 = any).
func (e *Engine) stagesFor(q *queue, lang int) []stage {
	i := lang + 1
	if i < len(q.stagesByLang) && q.stagesByLang[i] != nil {
		return q.stagesByLang[i]
	}
	for len(q.stagesByLang) <= i {
		q.stagesByLang = append(q.stagesByLang, nil)
	}
	base := e.pool(q.idx, q.reqs, lang)
	st := []stage{{after: 0, pools: []*pool{base}}}
	level := 0
	var adds []*pool
	for _, w := range q.widen {
		if w.level > 0 && (level == 0 || w.level < level) {
			level = w.level
		}
		for _, r := range w.add {
			adds = append(adds, e.pool(-1, []skillReq{r}, lang))
		}
		reqs := slices.Clone(q.reqs)
		for j := range reqs {
			if level > 0 && level < reqs[j].level {
				reqs[j].level = level
			}
		}
		ps := []*pool{e.pool(q.idx, reqs, lang)}
		for _, p := range adds {
			if !slices.Contains(ps, p) {
				ps = append(ps, p)
			}
		}
		st = append(st, stage{after: w.after, pools: ps})
	}
	q.stagesByLang[i] = st
	return st
}

// pool returns the pool of a rule, creating it (and enrolling the agents who satisfy it).
func (e *Engine) pool(member int, reqs []skillReq, lang int) *pool {
	var b strings.Builder
	b.WriteString(strconv.Itoa(member))
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(lang))
	for _, r := range reqs {
		b.WriteByte('|')
		b.WriteString(strconv.Itoa(r.skill))
		b.WriteByte('>')
		b.WriteString(strconv.Itoa(r.level))
	}
	key := b.String()
	p := e.pools[key]
	if p != nil {
		p.used = true
		return p
	}
	p = &pool{key: key, member: member, reqs: reqs, lang: lang, used: true}
	e.pools[key] = p
	e.poolList = append(e.poolList, p)
	for _, a := range e.agentList {
		if e.qualifies(a, p) {
			a.slots = append(a.slots, agentSlot{p: p, idx: -1})
			if a.state == AgentAvailable {
				p.idle.push(a, len(a.slots)-1)
			}
		}
	}
	return p
}

func (e *Engine) qualifies(a *agent, p *pool) bool {
	if p.member >= 0 && !slices.Contains(a.cfg.Queues, e.queueList[p.member].id) {
		return false
	}
	if p.lang >= 0 && !a.langs[p.lang] {
		return false
	}
	for _, r := range p.reqs {
		if a.levels[r.skill] < r.level {
			return false
		}
	}
	return true
}

// gcPools drops pools no queue stage uses any more.
func (e *Engine) gcPools() {
	for _, p := range e.poolList {
		p.used = false
	}
	for _, q := range e.queueList {
		for _, st := range q.stagesByLang {
			for _, s := range st {
				for _, p := range s.pools {
					p.used = true
				}
			}
		}
	}
	for _, c := range e.calls {
		if c.state != CallFinished {
			for _, s := range c.stages {
				for _, p := range s.pools {
					p.used = true
				}
			}
		}
	}
	keep := e.poolList[:0]
	for _, p := range e.poolList {
		if p.used {
			keep = append(keep, p)
		} else {
			delete(e.pools, p.key)
		}
	}
	clear(e.poolList[len(keep):])
	e.poolList = keep
	for _, a := range e.agentList {
		if a.state == AgentAvailable {
			e.unidle(a)
		}
		slots := a.slots[:0]
		for _, s := range a.slots {
			if s.p.used {
				slots = append(slots, agentSlot{p: s.p, idx: -1})
			}
		}
		a.slots = slots
		if a.state == AgentAvailable {
			for i, s := range a.slots {
				s.p.idle.push(a, i)
			}
		}
	}
}

func (e *Engine) configureAgent(cfg AgentConfig) {
	a := e.agents[cfg.ID]
	if a == nil {
		a = &agent{id: cfg.ID, seq: len(e.agentList), state: AgentOffline, since: e.now, pausedNs: map[string]int64{}}
		a.tm = timer{idx: -1, a: a}
		e.agents[cfg.ID] = a
		e.agentList = append(e.agentList, a)
	}
	cfg.Skills = slices.Clone(cfg.Skills)
	cfg.Languages = slices.Clone(cfg.Languages)
	cfg.Queues = slices.Clone(cfg.Queues)
	a.cfg = cfg
	a.levels = map[int]int{}
	for _, s := range cfg.Skills {
		a.levels[e.skill(s.Skill)] = s.Level
	}
	a.langs = map[int]bool{}
	for _, l := range cfg.Languages {
		a.langs[e.lang(l)] = true
	}
	avail := a.state == AgentAvailable
	if avail {
		e.unidle(a)
	}
	a.slots = a.slots[:0]
	for _, p := range e.poolList {
		if e.qualifies(a, p) {
			a.slots = append(a.slots, agentSlot{p: p, idx: -1})
		}
	}
	if avail && !e.dispatchAgent(a) {
		for i, s := range a.slots {
			s.p.idle.push(a, i)
		}
	}
}

// sortedCalls lists the calls in arrival order (deterministic iteration over the map).
func (e *Engine) sortedCalls() []*call {
	cs := make([]*call, 0, len(e.calls))
	for _, c := range e.calls {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *call) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return cs
}

// openAt tells whether q takes callers at t.
func (e *Engine) openAt(q *queue, t int64) bool {
	switch q.override {
	case OverrideOpen:
		return true
	case OverrideClosed:
		return false
	}
	if len(q.cfg.Hours) == 0 {
		return true
	}
	loc := q.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	tt := time.Unix(0, t).In(loc)
	y, m, d := tt.Date()
	off := tt.Sub(time.Date(y, m, d, 0, 0, 0, 0, loc))
	for _, h := range q.cfg.Hours {
		if h.Day == tt.Weekday() && off >= h.From && off < h.To {
			return true
		}
	}
	return false
}
