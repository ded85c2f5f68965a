// Package sim is a discrete-event simulation of one queue that drives the real acd engine:
// Poisson arrivals, exponential or fixed handle times, optional exponential caller patience,
// agents who answer at once and need no wrap-up. It measures what Erlang C predicts, so the two
// can be compared (with infinite patience they must agree).
package sim

import (
	"container/heap"
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"kontakt/acd"
	"kontakt/acd/erlang"
)

// Config is one simulation run.
type Config struct {
	Agents          int
	ArrivalsPerHour float64
	AHT             time.Duration
	// FixedHandle makes every handle time exactly AHT (default: exponential with mean AHT).
	FixedHandle bool
	// Patience is the mean of the callers' exponential patience; 0 = callers never hang up.
	Patience time.Duration
	// Duration is the simulated time during which callers arrive (the run then drains).
	Duration time.Duration
	// Warmup: callers arriving earlier are simulated but not counted (the empty start biases).
	Warmup      time.Duration
	SLThreshold time.Duration // default 20 s
	Seed        uint64
	// Batches splits the counted period into this many equal parts for batch-means error
	// estimates (default 20).
	Batches int
}

// Figures are the measured outcomes of a period.
type Figures struct {
	Offered   int `json:"offered"`
	Answered  int `json:"answered"`
	Abandoned int `json:"abandoned"`
	// ServiceLevel: answered within the threshold / offered. PWait: offered callers who were not
	// answered the instant they arrived / offered. ASA: mean wait of the answered.
	ServiceLevel float64 `json:"service_level"`
	ASASeconds   float64 `json:"asa_seconds"`
	PWait        float64 `json:"p_wait"`
	// Occupancy: agent time spent on calls / agent time available, within the period.
	Occupancy float64 `json:"occupancy"`
}

// Result is the whole run: the figures, the Erlang C prediction for the same inputs, and the
// figures per batch.
type Result struct {
	Figures
	Erlangs        float64            `json:"erlangs"`
	Agents         int                `json:"agents"`
	ErlangC        erlang.Prediction  `json:"erlang_c"`
	AgentsFor80_20 int                `json:"erlang_c_agents_for_80_in_threshold"`
	EngineSteps    int                `json:"engine_steps"`
	Batches        []Figures          `json:"-"`
	Config         map[string]float64 `json:"config"`
}

type evKind uint8

const (
	evArrival evKind = iota
	evHandleEnd
	evPatience
)

type simEvent struct {
	at   int64 // ns since the start
	kind evKind
	call int
	seq  uint64
}

type eventHeap []simEvent

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(simEvent)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type callRec struct {
	id       acd.CallID
	arrived  int64
	answered int64 // -1 while not answered
	state    uint8 // 0 waiting, 1 talking, 2 done (answered), 3 abandoned
}

const queueID = acd.QueueID("sim")

// Run simulates cfg. It stops early with ctx's error when ctx ends.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Agents <= 0 || cfg.ArrivalsPerHour <= 0 || cfg.AHT <= 0 || cfg.Duration <= 0 || cfg.Patience < 0 || cfg.Warmup < 0 || cfg.Warmup >= cfg.Duration {
		return Result{}, errors.New("sim: need agents > 0, arrivals > 0, aht > 0, duration > warmup >= 0, patience >= 0")
	}
	if cfg.SLThreshold <= 0 {
		cfg.SLThreshold = 20 * time.Second
	}
	if cfg.Batches <= 0 {
		cfg.Batches = 20
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	base := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	e := acd.New(acd.Options{RingTimeout: time.Hour, KeepFinished: 16})
	steps := 0
	step := func(at int64, ev acd.Event) []acd.Action {
		steps++
		return e.Step(base.Add(time.Duration(at)), ev)
	}
	step(0, acd.ConfigureQueue{Queue: acd.QueueConfig{ID: queueID, SLThreshold: cfg.SLThreshold}})
	for i := range cfg.Agents {
		id := acd.AgentID("a" + strconv.Itoa(i))
		step(0, acd.ConfigureAgent{Agent: acd.AgentConfig{ID: id, Queues: []acd.QueueID{queueID}}})
		step(0, acd.AgentReady{Agent: id})
	}

	meanGap := float64(time.Hour) / cfg.ArrivalsPerHour
	var calls []callRec
	callIdx := map[acd.CallID]int{}
	var busy int64 // agent-ns on calls inside the counted window
	lo, hi := int64(cfg.Warmup), int64(cfg.Duration)
	clip := func(from, to int64) int64 {
		from, to = max(from, lo), min(to, hi)
		return max(0, to-from)
	}
	var seq uint64
	h := &eventHeap{}
	push := func(at int64, k evKind, c int) {
		seq++
		heap.Push(h, simEvent{at: at, kind: k, call: c, seq: seq})
	}
	push(int64(rng.ExpFloat64()*meanGap), evArrival, -1)

	var offers []acd.Action
	// handle performs the engine's actions at time at: offers are answered at once.
	handle := func(at int64, acts []acd.Action) {
		offers = offers[:0]
		for _, a := range acts {
			if a.Kind == acd.ActOffer {
				offers = append(offers, a)
			}
		}
		for len(offers) > 0 {
			o := offers[0]
			offers = offers[1:]
			c := callIdx[o.Call]
			rec := &calls[c]
			step(at, acd.OfferAccepted{Call: o.Call, Agent: o.Agent})
			rec.answered, rec.state = at, 1
			ht := float64(cfg.AHT)
			if !cfg.FixedHandle {
				ht *= rng.ExpFloat64()
			}
			push(at+int64(ht), evHandleEnd, c)
		}
	}

	for n := 0; h.Len() > 0; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		ev := heap.Pop(h).(simEvent)
		if d, ok := e.NextDeadline(); ok && int64(d.Sub(base)) < ev.at {
			heap.Push(h, ev)
			at := int64(d.Sub(base))
			handle(at, step(at, acd.Tick{}))
			continue
		}
		switch ev.kind {
		case evArrival:
			c := len(calls)
			id := acd.CallID("c" + strconv.Itoa(c))
			calls = append(calls, callRec{id: id, arrived: ev.at, answered: -1})
			callIdx[id] = c
			if next := ev.at + int64(rng.ExpFloat64()*meanGap); next < hi {
				push(next, evArrival, -1)
			}
			if cfg.Patience > 0 {
				push(ev.at+int64(rng.ExpFloat64()*float64(cfg.Patience)), evPatience, c)
			}
			handle(ev.at, step(ev.at, acd.CallArrived{Call: id, Queue: queueID}))
		case evPatience:
			rec := &calls[ev.call]
			if rec.state != 0 {
				continue
			}
			rec.state = 3
			delete(callIdx, rec.id)
			handle(ev.at, step(ev.at, acd.CallEnded{Call: rec.id}))
		case evHandleEnd:
			rec := &calls[ev.call]
			rec.state = 2
			busy += clip(rec.answered, ev.at)
			delete(callIdx, rec.id)
			handle(ev.at, step(ev.at, acd.CallEnded{Call: rec.id}))
		}
	}

	res := Result{Agents: cfg.Agents, EngineSteps: steps}
	ahtSec := cfg.AHT.Seconds()
	res.Erlangs = erlang.Load(cfg.ArrivalsPerHour, ahtSec)
	res.ErlangC = erlang.Predict(cfg.Agents, res.Erlangs, ahtSec, cfg.SLThreshold.Seconds())
	res.AgentsFor80_20, _ = erlang.Staffing(res.Erlangs, ahtSec, cfg.SLThreshold.Seconds(), 0.8)
	res.Config = map[string]float64{
		"agents": float64(cfg.Agents), "arrivals_per_hour": cfg.ArrivalsPerHour, "aht_seconds": ahtSec,
		"patience_seconds": cfg.Patience.Seconds(), "duration_hours": cfg.Duration.Hours(),
		"warmup_hours": cfg.Warmup.Hours(), "sl_threshold_seconds": cfg.SLThreshold.Seconds(), "seed": float64(cfg.Seed),
	}
	res.Figures = figures(calls, lo, hi, cfg, busy)
	width := (hi - lo) / int64(cfg.Batches)
	for b := range cfg.Batches {
		from := lo + int64(b)*width
		// batches carry the caller-side measures (occupancy is measured for the whole run)
		res.Batches = append(res.Batches, figures(calls, from, from+width, cfg, 0))
	}
	return res, nil
}

// figures measures the callers who arrived in [from, to).
func figures(calls []callRec, from, to int64, cfg Config, busy int64) Figures {
	var f Figures
	var waitSum int64
	inSL := 0
	waited := 0
	t := int64(cfg.SLThreshold)
	for i := range calls {
		c := &calls[i]
		if c.arrived < from || c.arrived >= to {
			continue
		}
		f.Offered++
		switch {
		case c.answered >= 0:
			f.Answered++
			w := c.answered - c.arrived
			waitSum += w
			if w <= t {
				inSL++
			}
			if w > 0 {
				waited++
			}
		default:
			f.Abandoned++
			waited++
		}
	}
	if f.Offered > 0 {
		f.ServiceLevel = float64(inSL) / float64(f.Offered)
		f.PWait = float64(waited) / float64(f.Offered)
	}
	if f.Answered > 0 {
		f.ASASeconds = time.Duration(waitSum / int64(f.Answered)).Seconds()
	}
	if busy > 0 {
		f.Occupancy = float64(busy) / (float64(cfg.Agents) * float64(to-from))
	}
	return f
}
