// Package acd is Kontakt's automatic call distributor: a pure, deterministic routing engine.
//
// The engine does no I/O, reads no clock and starts no goroutines. The driver (the switchboard
// in production, the simulator and the tests elsewhere) feeds it events with the current time
// and performs the actions it returns:
//
//	e := acd.New(acd.Options{PauseReasons: []string{"break", "lunch"}})
//	e.Step(now, acd.ConfigureQueue{Queue: acd.QueueConfig{ID: "waste", Skills: ...}})
//	for _, a := range e.Step(now, acd.CallArrived{Call: "c1", Queue: "waste"}) {
//		// a.Kind == acd.ActOffer: ring agent a.Agent for call a.Call ...
//	}
//	// whenever e.NextDeadline() passes: e.Step(now, acd.Tick{})
//
// Identifiers (CallID, AgentID, QueueID) are strings chosen by the driver (database ids,
// channel ids); the engine interns them into dense indices on registration, so a decision
// costs no string hashing beyond the one map look-up of the event's own ids.
//
// Timers are not actions: the engine keeps its own deadlines (ring-no-answer, wrap-up end,
// widening steps, maximum wait, callback retries) and tells the earliest through
// NextDeadline. Every Step first fires, in time order and each at its own instant, all
// deadlines at or before its now; a Tick event does only that.
//
// Routing is indexed, never a scan over agents: agents and callers meet in pools (one per
// distinct eligibility rule: queue membership, skill minimums, language). Each pool keeps a heap
// of its idle agents (longest idle first) and a heap of the callers currently allowed to use it
// (caller priority first, then the time they have waited plus their queue's priority credit).
// A new caller looks only at the tops of its pools' agent heaps, a freed agent only at the tops
// of its pools' caller heaps. See README.md for the model in prose.
package acd
