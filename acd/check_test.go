package acd

import (
	"fmt"
	"slices"
)

// check verifies the engine's internal consistency: the indexes agree with the states, and no
// pool holds an idle agent next to a waiting caller. Tests call it after every Step.
func (e *Engine) check() error {
	waiting := map[*queue]int{}
	for id, c := range e.calls {
		if c.id != id {
			return fmt.Errorf("call %s stored under %s", c.id, id)
		}
		switch c.state {
		case CallWaiting, CallCallbackWaiting:
			waiting[c.q]++
			ps := c.stages[c.stage].pools
			if len(c.slots) != len(ps) {
				return fmt.Errorf("call %s waits in %d pools, its stage has %d", id, len(c.slots), len(ps))
			}
			for i, s := range c.slots {
				if s.p != ps[i] || s.idx < 0 || s.idx >= len(s.p.waiting) || s.p.waiting[s.idx].c != c || int(s.p.waiting[s.idx].slot) != i {
					return fmt.Errorf("call %s: slot %d inconsistent", id, i)
				}
			}
			if c.agent != nil {
				return fmt.Errorf("waiting call %s has agent %s", id, c.agent.id)
			}
			if c.virtual != (c.state == CallCallbackWaiting) {
				return fmt.Errorf("call %s: virtual=%v in state %s", id, c.virtual, c.state)
			}
			if want := stageAt(c.stages, e.now-c.entered); want != c.stage {
				return fmt.Errorf("call %s at stage %d, should be %d", id, c.stage, want)
			}
		case CallOffered, CallCallbackDialing, CallConnected:
			if len(c.slots) != 0 {
				return fmt.Errorf("call %s in state %s still in heaps", id, c.state)
			}
			if c.agent == nil || c.agent.call != c {
				return fmt.Errorf("call %s in state %s: agent link broken", id, c.state)
			}
			if c.tm.idx >= 0 {
				return fmt.Errorf("call %s in state %s has a timer", id, c.state)
			}
		case CallCallbackScheduled:
			if len(c.slots) != 0 || c.agent != nil || c.tm.idx < 0 {
				return fmt.Errorf("scheduled callback %s inconsistent", id)
			}
		case CallFinished:
			if len(c.slots) != 0 || c.agent != nil || c.tm.idx >= 0 {
				return fmt.Errorf("finished call %s still linked", id)
			}
		default:
			return fmt.Errorf("call %s in state %s", id, c.state)
		}
	}
	for _, q := range e.queueList {
		if q.waiting != waiting[q] {
			return fmt.Errorf("queue %s counts %d waiting, has %d", q.id, q.waiting, waiting[q])
		}
	}
	for _, a := range e.agentList {
		var want []*pool
		for _, p := range e.poolList {
			if e.qualifies(a, p) {
				want = append(want, p)
			}
		}
		if len(want) != len(a.slots) {
			return fmt.Errorf("agent %s in %d pools, qualifies for %d", a.id, len(a.slots), len(want))
		}
		for i, s := range a.slots {
			if !slices.Contains(want, s.p) {
				return fmt.Errorf("agent %s in a pool it does not qualify for", a.id)
			}
			in := s.idx >= 0
			if in != (a.state == AgentAvailable) {
				return fmt.Errorf("agent %s (%s): idle-heap membership %v", a.id, a.state, in)
			}
			if in && (s.idx >= len(s.p.idle) || s.p.idle[s.idx].a != a || int(s.p.idle[s.idx].slot) != i) {
				return fmt.Errorf("agent %s: slot %d inconsistent", a.id, i)
			}
		}
		switch a.state {
		case AgentReserved:
			if a.call == nil || a.call.agent != a || (a.call.state != CallOffered && a.call.state != CallCallbackDialing) {
				return fmt.Errorf("reserved agent %s: call link broken", a.id)
			}
			if a.tm.idx < 0 {
				return fmt.Errorf("reserved agent %s has no ring timer", a.id)
			}
		case AgentOnCall:
			if a.call == nil || a.call.agent != a || a.call.state != CallConnected {
				return fmt.Errorf("agent %s on call: call link broken", a.id)
			}
		default:
			if a.call != nil {
				return fmt.Errorf("agent %s (%s) holds call %s", a.id, a.state, a.call.id)
			}
		}
		if want := a.state == AgentReserved || a.state == AgentWrapUp; want != (a.tm.idx >= 0) {
			return fmt.Errorf("agent %s (%s): timer scheduled=%v", a.id, a.state, a.tm.idx >= 0)
		}
	}
	for _, p := range e.poolList {
		if len(p.idle) > 0 && len(p.waiting) > 0 {
			return fmt.Errorf("pool %s has %d idle agents and %d waiting callers", e.describePool(p), len(p.idle), len(p.waiting))
		}
		for i := 1; i < len(p.idle); i++ {
			if agentBefore(p.idle[i].a, p.idle[(i-1)/2].a) {
				return fmt.Errorf("pool %s: idle heap out of order", p.key)
			}
		}
		for i := 1; i < len(p.waiting); i++ {
			if callBefore(p.waiting[i].c, p.waiting[(i-1)/2].c) {
				return fmt.Errorf("pool %s: waiting heap out of order", p.key)
			}
		}
	}
	for i, t := range e.timers {
		if t.idx != i {
			return fmt.Errorf("timer %d has index %d", i, t.idx)
		}
		if i > 0 && timerBefore(t, e.timers[(i-1)/2]) {
			return fmt.Errorf("timer heap out of order")
		}
		if t.at < e.now {
			return fmt.Errorf("timer in the past")
		}
	}
	return nil
}
