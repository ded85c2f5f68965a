package acd

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Explanation says why a call went to its agent, or why it is still waiting. It is built on
// demand (never on the decision path): the decision itself is recorded when it is made; the
// candidate list is the agents' situation now.
type Explanation struct {
	Call     CallID    `json:"call"`
	State    CallState `json:"state"`
	Outcome  Outcome   `json:"outcome,omitempty"`
	Queue    QueueID   `json:"queue"`
	Priority int       `json:"priority"`
	Language string    `json:"language,omitempty"`
	Arrived  time.Time `json:"arrived"`
	// EnteredQueue is when the call entered its current queue (after an overflow or transfer
	// later than Arrived, which keeps ordering the call).
	EnteredQueue  time.Time `json:"entered_queue"`
	WaitedSeconds float64   `json:"waited_seconds"`
	// Stage is the widening stage (0 = the queue's own rule) and StageRule who it admits.
	Stage       int        `json:"stage"`
	StageRule   string     `json:"stage_rule"`
	NextStageAt *time.Time `json:"next_stage_at,omitempty"`
	// Position is 1 for the first in line among the callers competing for the same agents.
	Position       int            `json:"position,omitempty"`
	Agent          AgentID        `json:"agent,omitempty"`
	CallbackNumber string         `json:"callback_number,omitempty"`
	Attempts       int            `json:"attempts,omitempty"`
	Note           string         `json:"note,omitempty"`
	Decision       *DecisionInfo  `json:"decision,omitempty"`
	Candidates     []Candidate    `json:"candidates"`
	More           int            `json:"more_candidates,omitempty"`
	History        []HistoryEntry `json:"history"`
	Summary        string         `json:"summary"`
}

// DecisionInfo is the last assignment of the call, as recorded when it was made.
type DecisionInfo struct {
	At time.Time `json:"at"`
	// Rule is "longest_idle" (the call looked for an agent: the longest-idle eligible one won)
	// or "best_caller" (an agent became free and took the best caller it could serve:
	// highest priority, then longest wait counting the queue's priority credit).
	Rule      string    `json:"rule"`
	Agent     AgentID   `json:"agent"`
	IdleSince time.Time `json:"agent_idle_since"`
	Stage     int       `json:"stage"`
	// Competitors: idle agents (longest_idle) or waiting callers (best_caller) in the pools
	// looked at; one in two pools counts twice.
	Competitors     int        `json:"competitors"`
	RunnerUpAgent   AgentID    `json:"runner_up_agent,omitempty"`
	RunnerUpIdle    *time.Time `json:"runner_up_idle_since,omitempty"`
	RunnerUpCall    CallID     `json:"runner_up_call,omitempty"`
	RunnerUpQueue   QueueID    `json:"runner_up_queue,omitempty"`
	RunnerUpWaitSec float64    `json:"runner_up_waited_seconds,omitempty"`
	Text            string     `json:"text"`
}

// Candidate is one agent relevant to the call: a member of its queue, or reached by a widening.
type Candidate struct {
	Agent  AgentID    `json:"agent"`
	State  AgentState `json:"state"`
	Reason string     `json:"reason,omitempty"`
	// Eligible: the agent may take the call at its current stage. FromStage is the first stage
	// that admits the agent (-1: none does), Why the words for it.
	Eligible  bool       `json:"eligible"`
	FromStage int        `json:"from_stage"`
	IdleSince *time.Time `json:"idle_since,omitempty"`
	Why       string     `json:"why"`
}

// HistoryEntry is one step in the call's life (the most recent 16 are kept).
type HistoryEntry struct {
	At    time.Time `json:"at"`
	What  string    `json:"what"`
	Agent AgentID   `json:"agent,omitempty"`
	Queue QueueID   `json:"queue,omitempty"`
}

const maxCandidates = 50

var histWords = map[histKind]string{
	hArrived: "arrived", hQueued: "queued", hOffered: "offered", hCallbackDue: "callback due",
	hNoAnswer: "no answer", hDeclined: "declined", hAgentLeft: "agent left", hConnected: "connected",
	hWidened: "widened", hOverflow: "overflowed", hTransferred: "transferred",
	hCallbackRequested: "callback requested", hCallbackNoAnswer: "callback not answered",
	hAbandoned: "abandoned", hEnded: "ended", hRejected: "rejected",
	hCallbackFailed: "callback failed", hCallbackCancelled: "callback cancelled",
}

// Explain tells about a call the engine knows (waiting, in progress, or among the last
// Options.KeepFinished finished ones).
func (e *Engine) Explain(id CallID) (Explanation, bool) {
	c := e.calls[id]
	if c == nil {
		return Explanation{}, false
	}
	q := c.q
	x := Explanation{
		Call: c.id, State: c.state, Outcome: c.outcome, Priority: c.prio,
		Arrived: e.timeOf(c.arrival), EnteredQueue: e.timeOf(c.entered),
		Stage: c.stage, Note: c.note, CallbackNumber: c.number, Attempts: c.attempts,
	}
	if q != nil {
		x.Queue = q.id
	}
	if c.agent != nil {
		x.Agent = c.agent.id
	}
	lang := -1
	if q != nil {
		lang = e.langFor(c, q)
	}
	if lang >= 0 {
		x.Language = e.langOf[lang]
	}
	end := e.now
	switch c.state {
	case CallFinished:
		end = c.ended
	case CallOffered, CallConnected, CallCallbackDialing:
		end = c.dec.at
	}
	if c.state != CallUnknown {
		x.WaitedSeconds = seconds(end - c.entered)
	}
	if len(c.stages) > 0 {
		x.StageRule = e.describeStage(c.stages, c.stage)
		if c.stage+1 < len(c.stages) && (c.state == CallWaiting || c.state == CallCallbackWaiting) {
			t := e.timeOf(c.entered + c.stages[c.stage+1].after)
			x.NextStageAt = &t
		}
	}
	if c.state == CallWaiting || c.state == CallCallbackWaiting {
		x.Position = e.position(c)
	}
	n := min(c.nhist, histMax)
	for i := c.nhist - n; i < c.nhist; i++ {
		h := c.hist[i%histMax]
		w := histWords[h.kind]
		switch h.kind {
		case hWidened:
			w = fmt.Sprintf("widened to stage %d", h.n)
		case hCallbackDue, hCallbackNoAnswer:
			w = fmt.Sprintf("%s (attempt %d)", w, h.n)
		}
		x.History = append(x.History, HistoryEntry{At: e.timeOf(h.at), What: w, Agent: h.agent, Queue: h.queue})
	}
	if d := c.dec; d.rule != ruleNone {
		x.Decision = e.describeDecision(c, d)
	}
	if len(c.stages) > 0 && c.state != CallFinished {
		x.Candidates, x.More = e.candidates(c)
	}
	x.Summary = e.summary(c, &x)
	return x, true
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }

func (e *Engine) describePool(p *pool) string {
	var b strings.Builder
	if p.member >= 0 {
		fmt.Fprintf(&b, "members of %s", e.queueList[p.member].id)
	} else {
		b.WriteString("any agent")
	}
	for i, r := range p.reqs {
		if i == 0 {
			b.WriteString(" with ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s>=%d", e.skillOf[r.skill], r.level)
	}
	if p.lang >= 0 {
		fmt.Fprintf(&b, " speaking %s", e.langOf[p.lang])
	}
	return b.String()
}

func (e *Engine) describeStage(st []stage, k int) string {
	parts := make([]string, 0, len(st[k].pools))
	for _, p := range st[k].pools {
		parts = append(parts, e.describePool(p))
	}
	s := strings.Join(parts, " or ")
	if k > 0 {
		s = fmt.Sprintf("after %s: %s", time.Duration(st[k].after), s)
	}
	return s
}

func (e *Engine) describeDecision(c *call, d decision) *DecisionInfo {
	di := &DecisionInfo{At: e.timeOf(d.at), Agent: d.agent, IdleSince: e.timeOf(d.idleSince), Stage: d.stage, Competitors: d.competitors}
	at := func(ns int64) string { return e.timeOf(ns).Format("15:04:05") }
	switch d.rule {
	case ruleLongestIdle:
		di.Rule = "longest_idle"
		di.Text = fmt.Sprintf("%s was the longest idle of the eligible agents (idle since %s)", d.agent, at(d.idleSince))
		if d.runnerAgent != "" {
			t := e.timeOf(d.runnerIdle)
			di.RunnerUpAgent, di.RunnerUpIdle = d.runnerAgent, &t
			di.Text += fmt.Sprintf("; next was %s (idle since %s)", d.runnerAgent, at(d.runnerIdle))
		} else {
			di.Text += "; no other eligible agent was idle"
		}
	case ruleBestCaller:
		di.Rule = "best_caller"
		di.Text = fmt.Sprintf("%s became available and this was the first caller it could serve (priority %d, waiting since %s counting queue priority)",
			d.agent, c.prio, at(c.vArr))
		if d.runnerCall != "" {
			di.RunnerUpCall, di.RunnerUpQueue, di.RunnerUpWaitSec = d.runnerCall, d.runnerQueue, seconds(d.runnerWait)
			di.Text += fmt.Sprintf("; next was %s in %s (priority %d, waiting since %s counting queue priority)",
				d.runnerCall, d.runnerQueue, d.runnerPrio, at(d.runnerVArr))
		} else {
			di.Text += "; no other caller was waiting for it"
		}
	}
	return di
}

// position counts the callers ahead of c among those competing for the same agents.
func (e *Engine) position(c *call) int {
	ahead := 0
	ps := c.stages[c.stage].pools
	for i, p := range ps {
		for _, en := range p.waiting {
			x := en.c
			if x == c || !callBefore(x, c) || inEarlierPool(x.slots, ps[:i]) {
				continue
			}
			ahead++
		}
	}
	return ahead + 1
}

func inEarlierPool(slots []callSlot, earlier []*pool) bool {
	for _, s := range slots {
		if slices.Contains(earlier, s.p) {
			return true
		}
	}
	return false
}

// candidates lists the agents relevant to c and why they may or may not take it.
func (e *Engine) candidates(c *call) ([]Candidate, int) {
	var out []Candidate
	var q *queue = c.q
	for _, a := range e.agentList {
		from := -1
		for k, st := range c.stages {
			for _, p := range st.pools {
				if e.qualifies(a, p) {
					from = k
					break
				}
			}
			if from >= 0 {
				break
			}
		}
		member := slices.Contains(a.cfg.Queues, q.id)
		if from < 0 && !member {
			continue
		}
		cd := Candidate{Agent: a.id, State: a.state, Reason: a.reason, FromStage: from, Eligible: from >= 0 && from <= c.stage}
		if a.state == AgentAvailable {
			t := e.timeOf(a.idleSince)
			cd.IdleSince = &t
		}
		switch {
		case from < 0:
			cd.Why = "not eligible: " + e.whyNot(a, c.stages[0].pools[0])
		case !cd.Eligible:
			cd.Why = fmt.Sprintf("eligible from stage %d (after %s)", from, time.Duration(c.stages[from].after))
		case a.call == c:
			cd.Why = "eligible; has this call"
		case a.state == AgentAvailable:
			cd.Why = "eligible and available since " + cd.IdleSince.Format("15:04:05")
		case a.state == AgentPaused:
			cd.Why = "eligible but paused (" + a.reason + ")"
		default:
			cd.Why = "eligible but " + strings.ReplaceAll(a.state.String(), "_", " ")
		}
		out = append(out, cd)
	}
	rank := func(cd Candidate) int {
		switch {
		case cd.Eligible && cd.State == AgentAvailable:
			return 0
		case cd.Eligible:
			return 1
		case cd.FromStage >= 0:
			return 2
		}
		return 3
	}
	slices.SortStableFunc(out, func(a, b Candidate) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if a.IdleSince != nil && b.IdleSince != nil {
			return a.IdleSince.Compare(*b.IdleSince)
		}
		return 0
	})
	if len(out) > maxCandidates {
		return out[:maxCandidates], len(out) - maxCandidates
	}
	return out, 0
}

func (e *Engine) whyNot(a *agent, p *pool) string {
	if p.member >= 0 && !slices.Contains(a.cfg.Queues, e.queueList[p.member].id) {
		return "not a member of " + string(e.queueList[p.member].id)
	}
	if p.lang >= 0 && !a.langs[p.lang] {
		return "does not speak " + e.langOf[p.lang]
	}
	for _, r := range p.reqs {
		if l := a.levels[r.skill]; l < r.level {
			return fmt.Sprintf("skill %s level %d < %d", e.skillOf[r.skill], l, r.level)
		}
	}
	return "no rule admits the agent"
}

func (e *Engine) summary(c *call, x *Explanation) string {
	switch c.state {
	case CallWaiting, CallCallbackWaiting:
		var states []string
		counts := map[string]int{}
		eligible := 0
		for _, cd := range x.Candidates {
			if !cd.Eligible {
				continue
			}
			eligible++
			k := strings.ReplaceAll(cd.State.String(), "_", " ")
			if cd.State == AgentPaused {
				k += " (" + cd.Reason + ")"
			}
			if counts[k] == 0 {
				states = append(states, k)
			}
			counts[k]++
		}
		who := "a virtual caller (callback)"
		if c.state == CallWaiting {
			who = "waiting"
		}
		s := fmt.Sprintf("%s %.0fs in %s at position %d, stage %d (%s)", who, x.WaitedSeconds, x.Queue, x.Position, c.stage, x.StageRule)
		if eligible == 0 {
			s += "; no agent is eligible yet"
		} else {
			parts := make([]string, 0, len(states))
			for _, k := range states {
				parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
			}
			s += "; eligible agents, none free: " + strings.Join(parts, ", ")
		}
		if x.NextStageAt != nil {
			s += "; widens at " + x.NextStageAt.Format("15:04:05")
		}
		return s
	case CallOffered, CallConnected, CallCallbackDialing:
		return fmt.Sprintf("%s with %s in %s: %s", strings.ReplaceAll(c.state.String(), "_", " "), x.Agent, x.Queue, x.Decision.Text)
	case CallCallbackScheduled:
		return fmt.Sprintf("callback to %s scheduled after attempt %d", c.number, c.attempts)
	case CallFinished:
		s := fmt.Sprintf("finished (%s) in %s", strings.ReplaceAll(c.outcome.String(), "_", " "), x.Queue)
		if x.Decision != nil {
			s += "; last decision: " + x.Decision.Text
		}
		return s
	}
	return c.state.String()
}

// String renders the explanation for logs and people.
func (x Explanation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "call %s: %s\n", x.Call, x.Summary)
	fmt.Fprintf(&b, "  queue %s, priority %d", x.Queue, x.Priority)
	if x.Language != "" {
		fmt.Fprintf(&b, ", language %s", x.Language)
	}
	fmt.Fprintf(&b, ", arrived %s, waited %.0fs\n", x.Arrived.Format("15:04:05"), x.WaitedSeconds)
	if x.Note != "" {
		fmt.Fprintf(&b, "  note: %s\n", strings.ReplaceAll(x.Note, "\n", " / "))
	}
	for _, cd := range x.Candidates {
		fmt.Fprintf(&b, "  candidate %s: %s\n", cd.Agent, cd.Why)
	}
	if x.More > 0 {
		fmt.Fprintf(&b, "  ... and %d more candidates\n", x.More)
	}
	for _, h := range x.History {
		fmt.Fprintf(&b, "  %s %s", h.At.Format("15:04:05"), h.What)
		if h.Agent != "" {
			fmt.Fprintf(&b, " %s", h.Agent)
		}
		if h.Queue != "" {
			fmt.Fprintf(&b, " [%s]", h.Queue)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
