package acd

import (
	"math"
	"slices"
	"time"
)

// Snapshot is the live statistics of every queue and agent, in configuration order.
type Snapshot struct {
	At     time.Time    `json:"at"`
	Queues []QueueStats `json:"queues"`
	Agents []AgentStats `json:"agents"`
}

// QueueStats are one queue's counters since the engine started and its situation now.
//
// Counting: a call counts as offered in every queue it enters (arrival, overflow, transfer).
// Each entry ends in exactly one of answered, abandoned, short_abandoned, overflowed, rejected,
// transferred_out (while waiting), or is still waiting. Waits are measured from entering the
// queue. service_level = answered_in_sl / (answered + abandoned): short abandons are left out
// of it, overflowed and rejected calls belong to the queue they went to. ASA is the mean wait of
// answered calls; AHT the mean of talk plus wrap-up of calls whose wrap-up has ended.
type QueueStats struct {
	Queue              QueueID `json:"queue"`
	Open               bool    `json:"open"`
	Waiting            int     `json:"waiting"`
	Callbacks          int     `json:"callbacks_waiting"`
	LongestWaitSeconds float64 `json:"longest_wait_seconds"`
	Offered            int     `json:"offered"`
	Answered           int     `json:"answered"`
	AnsweredInSL       int     `json:"answered_in_sl"`
	Abandoned          int     `json:"abandoned"`
	ShortAbandoned     int     `json:"short_abandoned"`
	Overflowed         int     `json:"overflowed"`
	Rejected           int     `json:"rejected"`
	TransferredIn      int     `json:"transferred_in"`
	TransferredOut     int     `json:"transferred_out"`
	CallbacksRequested int     `json:"callbacks_requested"`
	CallbacksAnswered  int     `json:"callbacks_answered"`
	CallbacksFailed    int     `json:"callbacks_failed"`
	Handled            int     `json:"handled"`
	SLThresholdSeconds float64 `json:"sl_threshold_seconds"`
	ServiceLevel       float64 `json:"service_level"`
	ASASeconds         float64 `json:"asa_seconds"`
	AHTSeconds         float64 `json:"aht_seconds"`
	// AgentsStaffed: agents who serve the queue's own rule and are logged in (not offline);
	// AgentsAvailable: of them, those idle now.
	AgentsStaffed   int `json:"agents_staffed"`
	AgentsAvailable int `json:"agents_available"`
}

// AgentStats are one agent's state and its time in each state since the engine started.
type AgentStats struct {
	Agent          AgentID            `json:"agent"`
	State          AgentState         `json:"state"`
	Reason         string             `json:"reason,omitempty"`
	InStateSeconds float64            `json:"in_state_seconds"`
	Seconds        map[string]float64 `json:"seconds"`
	PausedSeconds  map[string]float64 `json:"paused_seconds"`
	Handled        int                `json:"handled"`
	Callbacks      int                `json:"callbacks"`
	NoAnswer       int                `json:"no_answer"`
	Declined       int                `json:"declined"`
}

// Snapshot returns the statistics at now (the engine's time if now is earlier). Deadlines are
// not fired: a driver wanting exact figures steps the engine to now first.
func (e *Engine) Snapshot(now time.Time) Snapshot {
	t := max(now.UnixNano(), e.now)
	s := Snapshot{At: e.timeOf(t)}
	longest := make([]int64, len(e.queueList))
	cbs := make([]int, len(e.queueList))
	for _, c := range e.calls {
		switch c.state {
		case CallWaiting:
			longest[c.q.idx] = max(longest[c.q.idx], t-c.entered)
		case CallCallbackWaiting:
			cbs[c.q.idx]++
		}
	}
	staffed := map[*pool]int{}
	avail := map[*pool]int{}
	for _, a := range e.agentList {
		if a.state == AgentOffline {
			continue
		}
		for _, sl := range a.slots {
			staffed[sl.p]++
			if a.state == AgentAvailable {
				avail[sl.p]++
			}
		}
	}
	for _, q := range e.queueList {
		st := q.st
		qs := QueueStats{
			Queue: q.id, Open: e.openAt(q, t), Waiting: q.waiting - cbs[q.idx], Callbacks: cbs[q.idx],
			LongestWaitSeconds: seconds(longest[q.idx]),
			Offered:            st.offered, Answered: st.answered, AnsweredInSL: st.answeredInSL,
			Abandoned: st.abandoned, ShortAbandoned: st.shortAbandoned, Overflowed: st.overflowed,
			Rejected: st.rejected, TransferredIn: st.transferredIn, TransferredOut: st.transferredOut,
			CallbacksRequested: st.callbacks, CallbacksAnswered: st.callbacksAnswered,
			CallbacksFailed: st.callbacksFailed, Handled: st.handled,
			SLThresholdSeconds: seconds(q.sl), ServiceLevel: 1,
		}
		if d := st.answered + st.abandoned; d > 0 {
			qs.ServiceLevel = float64(st.answeredInSL) / float64(d)
		}
		if st.answered > 0 {
			qs.ASASeconds = seconds(st.waitSum) / float64(st.answered)
		}
		if st.handled > 0 {
			qs.AHTSeconds = seconds(st.handleSum) / float64(st.handled)
		}
		if lst := q.stagesByLang; len(lst) > 0 {
			if base := e.stagesFor(q, e.langFor(&call{lang: -1}, q))[0].pools[0]; base != nil {
				qs.AgentsStaffed, qs.AgentsAvailable = staffed[base], avail[base]
			}
		}
		s.Queues = append(s.Queues, qs)
	}
	for _, a := range e.agentList {
		as := AgentStats{
			Agent: a.id, State: a.state, Reason: a.reason, InStateSeconds: seconds(t - a.since),
			Seconds: map[string]float64{}, PausedSeconds: map[string]float64{},
			Handled: a.handled, Callbacks: a.callbacks, NoAnswer: a.noAnswer, Declined: a.declined,
		}
		for st := AgentOffline; st < numAgentStates; st++ {
			ns := a.stateNs[st]
			if st == a.state {
				ns += t - a.since
			}
			as.Seconds[st.String()] = seconds(ns)
		}
		for r, ns := range a.pausedNs {
			as.PausedSeconds[r] = seconds(ns)
		}
		if a.state == AgentPaused {
			as.PausedSeconds[a.reason] += seconds(t - a.since)
		}
		s.Agents = append(s.Agents, as)
	}
	return s
}

// Estimate is what a waiting caller is told: their place and the expected wait.
type Estimate struct {
	Position int `json:"position"`
	// Agents: logged-in agents (not paused) who may take the caller now.
	Agents       int           `json:"agents"`
	ExpectedWait time.Duration `json:"expected_wait"`
}

// DefaultHandleTime is the handle time EstimateWait assumes for a queue that has none measured.
const DefaultHandleTime = 3 * time.Minute

// EstimateWait estimates a waiting caller's wait from its position, the agents staffed for it
// and the queue's recent handle times (an exponentially weighted mean, DefaultHandleTime
// before the first call). With n agents working through the p callers ahead plus this one, the
// wait is about ceil(p/n) handle times, less the half handle time agents are on average into
// their current call.
func (e *Engine) EstimateWait(id CallID) (Estimate, bool) {
	c := e.calls[id]
	if c == nil || (c.state != CallWaiting && c.state != CallCallbackWaiting) {
		return Estimate{}, false
	}
	est := Estimate{Position: e.position(c)}
	ps := c.stages[c.stage].pools
	for _, a := range e.agentList {
		if a.state == AgentOffline || a.state == AgentPaused {
			continue
		}
		for _, sl := range a.slots {
			if slices.Contains(ps, sl.p) {
				est.Agents++
				break
			}
		}
	}
	aht := c.q.recentAHT
	if aht == 0 {
		aht = float64(DefaultHandleTime)
	}
	if est.Agents == 0 {
		est.ExpectedWait = time.Duration(float64(est.Position) * aht)
		return est, true
	}
	rounds := math.Ceil(float64(est.Position) / float64(est.Agents))
	est.ExpectedWait = time.Duration((rounds - 0.5) * aht).Round(time.Second)
	return est, true
}
