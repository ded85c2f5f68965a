package acd

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Property tests: random event sequences against the engine, checked after every Step by
//   - the engine's own index consistency (check),
//   - an outside model of offers: an agent is never reserved for two calls, a call never offered
//     to two agents at once,
//   - a reference eligibility written from the configuration alone (not from the pools): no
//     eligible available agent stays idle while a matching caller waits,
//   - every decision, seen when it is made: FIFO within equal priority in a queue, fairness across
//     queues (no better caller the agent could serve), longest idle first.
// FuzzEngine drives the same harness from fuzz input; TestEngineProperties from many seeds.

func TestEngineProperties(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 50
	}
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 0x6b6f6e74616b74))
		data := make([]byte, 3000)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		if err := runProperty(data); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

func FuzzEngine(f *testing.F) {
	for seed := range 8 {
		r := rand.New(rand.NewPCG(uint64(seed), 1))
		data := make([]byte, 600)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := runProperty(data); err != nil {
			t.Fatal(err)
		}
	})
}

type bytesGen struct {
	data []byte
	i    int
}

func (g *bytesGen) done() bool { return g.i >= len(g.data) }

func (g *bytesGen) n(k int) int {
	if g.i >= len(g.data) {
		return 0
	}
	b := int(g.data[g.i])
	g.i++
	return b % k
}

type propModel struct {
	e       *Engine
	now     time.Time
	queues  map[QueueID]QueueConfig
	agents  map[AgentID]AgentConfig
	offerOf map[CallID]AgentID // reservation or connection of a call with an agent
	callOf  map[AgentID]CallID
	calls   []CallID
	nextID  int
	err     error
	log     []string
}

var propSkills = []string{"s0", "s1", "s2"}
var propLangs = []string{"", "pl", "en"}

func (m *propModel) randQueue(g *bytesGen, id QueueID) QueueConfig {
	q := QueueConfig{ID: id, Priority: g.n(3), Language: propLangs[g.n(3)], RingTimeout: 10 * time.Second}
	for range 1 + g.n(2) {
		q.Skills = append(q.Skills, SkillLevel{Skill: propSkills[g.n(3)], Level: 1 + g.n(3)})
	}
	for range g.n(3) {
		w := Widening{After: time.Duration(10+g.n(60)) * time.Second}
		if g.n(2) == 0 {
			w.Level = 1 + g.n(2)
		} else {
			w.Add = []SkillLevel{{Skill: propSkills[g.n(3)], Level: 1 + g.n(3)}}
		}
		q.Widen = append(q.Widen, w)
	}
	if g.n(3) == 0 {
		q.MaxWait = time.Duration(30+g.n(120)) * time.Second
	}
	if g.n(4) == 0 {
		q.MaxLength = 1 + g.n(4)
	}
	if g.n(2) == 0 {
		q.Overflow = QueueID(fmt.Sprintf("q%d", g.n(3)))
	}
	if g.n(2) == 0 {
		q.WrapUp = time.Duration(g.n(20)) * time.Second
	}
	q.CallbackAttempts = 1 + g.n(3)
	q.CallbackRetry = time.Duration(5+g.n(30)) * time.Second
	q.CallbackRingTimeout = time.Duration(5+g.n(20)) * time.Second
	return q
}

func (m *propModel) randAgent(g *bytesGen, id AgentID) AgentConfig {
	a := AgentConfig{ID: id}
	for _, s := range propSkills {
		if l := g.n(4); l > 0 {
			a.Skills = append(a.Skills, SkillLevel{Skill: s, Level: l})
		}
	}
	for _, l := range propLangs[1:] {
		if g.n(3) > 0 {
			a.Languages = append(a.Languages, l)
		}
	}
	for i := range 3 {
		if g.n(2) == 0 {
			a.Queues = append(a.Queues, QueueID(fmt.Sprintf("q%d", i)))
		}
	}
	return a
}

func runProperty(data []byte) error {
	g := &bytesGen{data: data}
	m := &propModel{
		e: New(Options{PauseReasons: []string{"break"}, KeepFinished: 8}), now: scenarioDay.Add(8 * time.Hour),
		queues: map[QueueID]QueueConfig{}, agents: map[AgentID]AgentConfig{},
		offerOf: map[CallID]AgentID{}, callOf: map[AgentID]CallID{},
	}
	m.e.onAssign = m.checkDecision
	for i := range 3 {
		id := QueueID(fmt.Sprintf("q%d", i))
		m.queues[id] = m.randQueue(g, id)
		m.step(ConfigureQueue{Queue: m.queues[id]})
	}
	nAgents := 2 + g.n(5)
	for i := range nAgents {
		id := AgentID(fmt.Sprintf("a%d", i))
		m.agents[id] = m.randAgent(g, id)
		m.step(ConfigureAgent{Agent: m.agents[id]})
	}
	for !g.done() && m.err == nil {
		m.now = m.now.Add(time.Duration(g.n(4)*g.n(8)) * time.Second)
		agent := AgentID(fmt.Sprintf("a%d", g.n(nAgents)))
		var call CallID
		if len(m.calls) > 0 {
			call = m.calls[g.n(len(m.calls))]
		}
		switch g.n(20) {
		case 0, 1, 2, 3:
			m.nextID++
			id := CallID(fmt.Sprintf("c%d", m.nextID))
			m.calls = append(m.calls, id)
			m.step(CallArrived{Call: id, Queue: QueueID(fmt.Sprintf("q%d", g.n(3))), Priority: g.n(3) / 2, Language: propLangs[g.n(3)]})
		case 4, 5, 6:
			m.step(AgentReady{Agent: agent})
		case 7:
			m.step(AgentPause{Agent: agent, Reason: "break"})
		case 8:
			m.step(AgentLogout{Agent: agent})
		case 9, 10, 11:
			// answer a pending offer (or a stale one)
			if c, ok := m.callOf[agent]; ok && g.n(4) > 0 {
				m.step(OfferAccepted{Call: c, Agent: agent})
			} else {
				m.step(OfferAccepted{Call: call, Agent: agent})
			}
		case 12:
			if c, ok := m.callOf[agent]; ok {
				m.step(OfferDeclined{Call: c, Agent: agent})
			}
		case 13, 14:
			m.step(CallEnded{Call: call})
		case 15:
			m.step(Transfer{Call: call, Queue: QueueID(fmt.Sprintf("q%d", g.n(3))), Note: "escalated"})
		case 16:
			m.step(RequestCallback{Call: call, Number: "600"})
		case 17:
			switch g.n(3) {
			case 0:
				m.step(CallbackAnswered{Call: call})
			case 1:
				m.step(CallbackNoAnswer{Call: call})
			default:
				m.step(CancelCallback{Call: call})
			}
		case 18:
			if g.n(4) == 0 {
				m.agents[agent] = m.randAgent(g, agent)
				m.step(ConfigureAgent{Agent: m.agents[agent]})
			} else if g.n(4) == 0 {
				id := QueueID(fmt.Sprintf("q%d", g.n(3)))
				m.queues[id] = m.randQueue(g, id)
				m.step(ConfigureQueue{Queue: m.queues[id]})
			} else {
				m.step(Tick{})
			}
		case 19:
			m.now = m.now.Add(time.Duration(g.n(90)) * time.Second)
			m.step(Tick{})
		}
	}
	if m.err != nil {
		n := len(m.log)
		return fmt.Errorf("%v\nlast events:\n%s", m.err, joinLast(m.log[:n], 30))
	}
	return nil
}

func joinLast(l []string, n int) string {
	s := ""
	for _, x := range l[max(0, len(l)-n):] {
		s += "  " + x + "\n"
	}
	return s
}

func (m *propModel) fail(format string, args ...any) {
	if m.err == nil {
		m.err = fmt.Errorf(format, args...)
	}
}

func (m *propModel) step(ev Event) {
	if m.err != nil {
		return
	}
	// Deadlines first, then the event alone, so that the model knows which actions follow it.
	if _, ok := ev.(Tick); !ok {
		m.apply(Tick{})
	}
	m.apply(ev)
}

func (m *propModel) apply(ev Event) {
	m.log = append(m.log, fmt.Sprintf("%s %T%+v", m.now.Format("15:04:05"), ev, ev))
	acts := m.e.Step(m.now, ev)
	invalid := false
	for _, a := range acts {
		m.log = append(m.log, "    -> "+formatAction(a))
		if a.Kind == ActInvalid {
			invalid = true
		}
	}
	// events that end a reservation or a connection without an action saying so
	if !invalid {
		switch ev := ev.(type) {
		case OfferDeclined:
			m.release(ev.Call)
		case CallEnded:
			m.release(ev.Call)
		case Transfer:
			m.release(ev.Call)
		case CallbackNoAnswer:
			m.release(ev.Call)
		case CancelCallback:
			m.release(ev.Call)
		}
	}
	for _, a := range acts {
		switch a.Kind {
		case ActOffer, ActCallbackDue:
			if other, ok := m.offerOf[a.Call]; ok {
				m.fail("call %s offered to %s while held by %s", a.Call, a.Agent, other)
			}
			if other, ok := m.callOf[a.Agent]; ok {
				m.fail("agent %s reserved for %s while holding %s", a.Agent, a.Call, other)
			}
			m.offerOf[a.Call] = a.Agent
			m.callOf[a.Agent] = a.Call
		case ActCancelOffer:
			if held, ok := m.offerOf[a.Call]; ok && held != a.Agent {
				m.fail("cancel of an offer %s -> %s, held by %s", a.Call, a.Agent, held)
			} else if !ok && !releasedBy(ev, a.Call) {
				m.fail("cancel of an offer %s -> %s not held", a.Call, a.Agent)
			}
			m.release(a.Call)
		case ActCallbackFailed:
			m.release(a.Call)
		}
	}
	if err := m.e.check(); err != nil {
		m.fail("index check: %v", err)
		return
	}
	m.checkNoIdleWhileWaiting()
}

// releasedBy: did ev (about call c) release c's offer before the actions saying so?
func releasedBy(ev Event, c CallID) bool {
	switch ev := ev.(type) {
	case CallEnded:
		return ev.Call == c
	case CancelCallback:
		return ev.Call == c
	}
	return false
}

func (m *propModel) release(c CallID) {
	if a, ok := m.offerOf[c]; ok {
		delete(m.offerOf, c)
		delete(m.callOf, a)
	}
}

// refStage is the widening stage after waiting w, from the configuration.
func refRules(q QueueConfig) []Widening {
	ws := slices.Clone(q.Widen)
	slices.SortStableFunc(ws, func(a, b Widening) int { return cmp.Compare(a.After, b.After) })
	return ws
}

func refStage(q QueueConfig, w time.Duration) int {
	k := 0
	for _, r := range refRules(q) {
		if r.After <= w {
			k++
		}
	}
	return k
}

func level(a AgentConfig, skill string) int {
	for _, s := range a.Skills {
		if s.Skill == skill {
			return s.Level
		}
	}
	return 0
}

// refEligible: may agent a take a caller speaking lang ("" = the queue's) in q at stage k?
func refEligible(a AgentConfig, q QueueConfig, lang string, k int) bool {
	if lang == "" {
		lang = q.Language
	}
	if lang != "" && !slices.Contains(a.Languages, lang) {
		return false
	}
	minLevel := 0
	var adds []SkillLevel
	for _, r := range refRules(q)[:k] {
		if r.Level > 0 && (minLevel == 0 || r.Level < minLevel) {
			minLevel = r.Level
		}
		adds = append(adds, r.Add...)
	}
	if slices.Contains(a.Queues, q.ID) {
		ok := true
		for _, s := range q.Skills {
			need := s.Level
			if minLevel > 0 && minLevel < need {
				need = minLevel
			}
			if level(a, s.Skill) < need {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	for _, s := range adds {
		if level(a, s.Skill) >= s.Level {
			return true
		}
	}
	return false
}

// refBefore is the documented order of callers: higher priority first, then earlier arrival
// less the queue's priority credit (30 s a point, the default step), then arrival order.
func refBefore(a, b *call) bool {
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	va := a.arrival - int64(a.q.cfg.Priority)*int64(30*time.Second)
	vb := b.arrival - int64(b.q.cfg.Priority)*int64(30*time.Second)
	if va != vb {
		return va < vb
	}
	return a.seq < b.seq
}

func (m *propModel) callLang(c *call) string {
	if c.lang < 0 {
		return ""
	}
	return m.e.langOf[c.lang]
}

func (m *propModel) checkNoIdleWhileWaiting() {
	e := m.e
	for _, c := range e.calls {
		if c.state != CallWaiting && c.state != CallCallbackWaiting {
			continue
		}
		q := c.q.cfg
		k := refStage(q, time.Duration(e.now-c.entered))
		for _, a := range e.agentList {
			if a.state == AgentAvailable && refEligible(a.cfg, q, m.callLang(c), k) {
				m.fail("agent %s idle while eligible caller %s waits in %s (stage %d)", a.id, c.id, q.ID, k)
				return
			}
		}
	}
}

// checkDecision runs when the engine assigns agent a to call c, before it is applied.
func (m *propModel) checkDecision(c *call, a *agent, d decision) {
	e := m.e
	q := c.q.cfg
	if a.state != AgentAvailable {
		m.fail("%s assigned to %s in state %s", c.id, a.id, a.state)
	}
	if !refEligible(a.cfg, q, m.callLang(c), c.stage) {
		m.fail("%s assigned to %s, who is not eligible", c.id, a.id)
	}
	for _, o := range e.calls {
		if o == c || (o.state != CallWaiting && o.state != CallCallbackWaiting) || len(o.slots) == 0 {
			continue
		}
		if !refBefore(o, c) || !refEligible(a.cfg, o.q.cfg, m.callLang(o), o.stage) {
			continue
		}
		if o.q == c.q && o.prio == c.prio {
			m.fail("FIFO: %s (arrived %d) given to %s while %s (arrived %d) waits in %s", c.id, c.arrival, a.id, o.id, o.arrival, q.ID)
		} else {
			m.fail("fairness: %s given to %s while better caller %s waits", c.id, a.id, o.id)
		}
		return
	}
	if d.rule != ruleLongestIdle {
		return
	}
	// a call looking for an agent takes the longest idle eligible one
	for _, b := range e.agentList {
		if b != a && b.state == AgentAvailable && (b.idleSince < a.idleSince || b.idleSince == a.idleSince && b.seq < a.seq) && refEligible(b.cfg, q, m.callLang(c), c.stage) {
			m.fail("longest idle: %s given to %s while %s was idle longer", c.id, a.id, b.id)
			return
		}
	}
}
