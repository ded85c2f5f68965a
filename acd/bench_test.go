package acd

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Routing-decision benchmarks at 100, 1,000 and 10,000 agents with 10, 100 and 1,000 queues.
//
//	go test ./acd -run '^$' -bench Decision -benchtime 200000x
//
// "arrive": a caller enters a queue that has idle agents -> Step returns the offer.
// "free": an agent's call ends while callers wait in its queues -> Step returns the next offer.
// Each op is one full cycle (decision, answer, hang-up or refill) so that the state stays the
// same; decision-p50-ns and decision-p99-ns time the decision Step alone. allocs/op covers the
// whole cycle. Every queue requires its skill at level 2, widens to level 1 after 60 s and to
// the brokers (1% of agents, any queue) after 120 s; each agent is a member of 2 queues.

type benchWorld struct {
	e       *Engine
	now     time.Time
	ids     []CallID
	next    int
	queues  []QueueID // queues with members
	members map[QueueID][]AgentID
	holds   map[AgentID]CallID
}

func newBenchWorld(tb testing.TB, nAgents, nQueues int) *benchWorld {
	w := &benchWorld{e: New(Options{KeepFinished: 1024}), now: scenarioDay.Add(8 * time.Hour),
		members: map[QueueID][]AgentID{}, holds: map[AgentID]CallID{}}
	r := rand.New(rand.NewPCG(uint64(nAgents), uint64(nQueues)))
	for i := range nQueues {
		id := QueueID(fmt.Sprintf("q%d", i))
		w.e.Step(w.now, ConfigureQueue{Queue: QueueConfig{ID: id, Skills: []SkillLevel{{Skill: string(id), Level: 2}},
			Widen: []Widening{{After: time.Minute, Level: 1}, {After: 2 * time.Minute, Add: []SkillLevel{{Skill: "broker", Level: 1}}}}}})
	}
	for i := range nAgents {
		id := AgentID(fmt.Sprintf("a%d", i))
		cfg := AgentConfig{ID: id}
		for len(cfg.Queues) < min(2, nQueues) {
			q := QueueID(fmt.Sprintf("q%d", r.IntN(nQueues)))
			if !slices.Contains(cfg.Queues, q) {
				cfg.Queues = append(cfg.Queues, q)
				cfg.Skills = append(cfg.Skills, SkillLevel{Skill: string(q), Level: 2 + r.IntN(2)})
				w.members[q] = append(w.members[q], id)
			}
		}
		if i%100 == 0 {
			cfg.Skills = append(cfg.Skills, SkillLevel{Skill: "broker", Level: 1})
		}
		w.e.Step(w.now, ConfigureAgent{Agent: cfg})
		w.e.Step(w.now, AgentReady{Agent: id})
	}
	for i := range nQueues {
		if id := QueueID(fmt.Sprintf("q%d", i)); len(w.members[id]) > 0 {
			w.queues = append(w.queues, id)
		}
	}
	w.ids = make([]CallID, 1<<18)
	for i := range w.ids {
		w.ids[i] = CallID(fmt.Sprintf("c%d", i))
	}
	return w
}

func (w *benchWorld) newID() CallID {
	id := w.ids[w.next%len(w.ids)]
	w.next++
	return id
}

// offerIn returns the offer among acts, if any.
func offerIn(acts []Action) (Action, bool) {
	for _, a := range acts {
		if a.Kind == ActOffer {
			return a, true
		}
	}
	return Action{}, false
}

// fillUp puts every agent on a call and leaves `backlog` callers waiting in each staffed queue.
func (w *benchWorld) fillUp(tb testing.TB, backlog int) {
	for _, a := range w.e.agentList {
		for a.state == AgentAvailable {
			acts := w.e.Step(w.now, CallArrived{Call: w.newID(), Queue: a.cfg.Queues[0]})
			o, ok := offerIn(acts)
			if !ok {
				tb.Fatalf("no offer while %s idle", a.id)
			}
			w.e.Step(w.now, OfferAccepted{Call: o.Call, Agent: o.Agent})
			w.holds[o.Agent] = o.Call
		}
	}
	for range backlog {
		for _, q := range w.queues {
			w.e.Step(w.now, CallArrived{Call: w.newID(), Queue: q})
		}
	}
}

type latencies struct{ ns []int64 }

func (l *latencies) report(b *testing.B) {
	s := slices.Clone(l.ns)
	slices.Sort(s)
	if len(s) == 0 {
		return
	}
	b.ReportMetric(float64(s[len(s)/2]), "decision-p50-ns")
	b.ReportMetric(float64(s[len(s)*99/100]), "decision-p99-ns")
}

func BenchmarkDecision(b *testing.B) {
	for _, na := range []int{100, 1000, 10000} {
		for _, nq := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("arrive/agents=%d/queues=%d", na, nq), func(b *testing.B) { benchArrive(b, na, nq) })
			b.Run(fmt.Sprintf("free/agents=%d/queues=%d", na, nq), func(b *testing.B) { benchFree(b, na, nq) })
		}
	}
}

func benchArrive(b *testing.B, na, nq int) {
	w := newBenchWorld(b, na, nq)
	lat := &latencies{ns: make([]int64, 0, 1<<20)}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		q := w.queues[i%len(w.queues)]
		i++
		w.now = w.now.Add(time.Millisecond)
		id := w.newID()
		t0 := time.Now()
		acts := w.e.Step(w.now, CallArrived{Call: id, Queue: q})
		d := time.Since(t0)
		if len(lat.ns) < cap(lat.ns) {
			lat.ns = append(lat.ns, int64(d))
		}
		o, ok := offerIn(acts)
		if !ok {
			b.Fatalf("no offer for %s in %s", id, q)
		}
		w.e.Step(w.now, OfferAccepted{Call: id, Agent: o.Agent})
		w.e.Step(w.now, CallEnded{Call: id})
	}
	lat.report(b)
}

func benchFree(b *testing.B, na, nq int) {
	w := newBenchWorld(b, na, nq)
	w.fillUp(b, 2)
	agents := slices.Clone(w.e.agentList)
	lat := &latencies{ns: make([]int64, 0, 1<<20)}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		a := agents[i%len(agents)]
		i++
		w.now = w.now.Add(time.Millisecond)
		c := w.holds[a.id]
		t0 := time.Now()
		acts := w.e.Step(w.now, CallEnded{Call: c})
		d := time.Since(t0)
		if len(lat.ns) < cap(lat.ns) {
			lat.ns = append(lat.ns, int64(d))
		}
		o, ok := offerIn(acts)
		if !ok {
			b.Fatalf("%s freed with nobody waiting", a.id)
		}
		w.e.Step(w.now, OfferAccepted{Call: o.Call, Agent: o.Agent})
		w.holds[a.id] = o.Call
		// refill the queue the caller came from
		w.e.Step(w.now, CallArrived{Call: w.newID(), Queue: o.Queue})
	}
	lat.report(b)
}

// TestDecisionAllocs: the decision path allocates nothing (a caller enqueued -> offer; an
// agent freed -> offer; and the steps around them). Each cycle is measured after warming up:
// the first KeepFinished calls are allocated, later ones reuse those the engine forgets.
func TestDecisionAllocs(t *testing.T) {
	w := newBenchWorld(t, 1000, 100)
	i := 0
	arrive := func() {
		q := w.queues[i%len(w.queues)]
		i++
		w.now = w.now.Add(time.Millisecond)
		id := w.newID()
		o, ok := offerIn(w.e.Step(w.now, CallArrived{Call: id, Queue: q}))
		if !ok {
			t.Fatal("no offer")
		}
		w.e.Step(w.now, OfferAccepted{Call: id, Agent: o.Agent})
		w.e.Step(w.now, CallEnded{Call: id})
	}
	testing.AllocsPerRun(3000, arrive)
	if allocs := testing.AllocsPerRun(2000, arrive); allocs != 0 {
		t.Errorf("arrive cycle: %.1f allocs per run, want 0", allocs)
	}
	w.fillUp(t, 2)
	agents := slices.Clone(w.e.agentList)
	free := func() {
		a := agents[i%len(agents)]
		i++
		w.now = w.now.Add(time.Millisecond)
		o, ok := offerIn(w.e.Step(w.now, CallEnded{Call: w.holds[a.id]}))
		if !ok {
			t.Fatal("no offer")
		}
		w.e.Step(w.now, OfferAccepted{Call: o.Call, Agent: o.Agent})
		w.holds[a.id] = o.Call
		w.e.Step(w.now, CallArrived{Call: w.newID(), Queue: o.Queue})
	}
	testing.AllocsPerRun(3000, free)
	if allocs := testing.AllocsPerRun(2000, free); allocs != 0 {
		t.Errorf("free cycle: %.1f allocs per run, want 0", allocs)
	}
}
