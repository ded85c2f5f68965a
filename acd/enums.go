package acd

import "fmt"

// AgentState is an agent's state. The zero value is AgentUnknown.
type AgentState uint8

const (
	AgentUnknown   AgentState = iota
	AgentOffline              // logged out
	AgentAvailable            // idle, waiting for a call
	AgentReserved             // an offer (or a callback) is ringing for this agent
	AgentOnCall               // connected to a resident
	AgentWrapUp               // after-call work
	AgentPaused               // not taking calls; see the reason
	numAgentStates
)

// ActionKind says what an Action asks of the driver.
type ActionKind uint8

const (
	ActUnknown ActionKind = iota
	// ActOffer: ring Agent with Call (from Queue). Answer with OfferAccepted/OfferDeclined.
	ActOffer
	// ActCancelOffer: stop ringing Agent for Call (Reason: no answer, caller hung up, ...).
	ActCancelOffer
	// ActAgentState: Agent is now in State (Reason: the pause reason). Emitted on every change
	// of an agent's state except the ringing that an ActOffer or ActCallbackDue already implies.
	ActAgentState
	// ActOverflow: Call left Queue for To (Reason: max wait, max length, closed).
	ActOverflow
	// ActReject: Call left the ACD without an agent (Reason: closed, max wait, max length,
	// unknown queue); the driver plays a message or ends the call.
	ActReject
	// ActCallbackDue: the virtual caller's turn came; Agent is reserved; dial Number (attempt
	// Attempt) and report CallbackAnswered or CallbackNoAnswer.
	ActCallbackDue
	// ActCallbackFailed: Call's callback attempts are used up.
	ActCallbackFailed
	// ActInvalid: the event could not be applied (stale or malformed); Reason says why. The
	// engine's state is unchanged by it.
	ActInvalid
	numActionKinds
)

// CallState is where a call is in the engine.
type CallState uint8

const (
	CallUnknown           CallState = iota
	CallWaiting                     // in a queue, waiting for an agent
	CallOffered                     // ringing an agent
	CallConnected                   // talking to an agent
	CallCallbackWaiting             // virtual caller holding its place in a queue
	CallCallbackScheduled           // between two callback attempts
	CallCallbackDialing             // an agent is reserved and the resident is being called
	CallFinished                    // gone; see the outcome
	numCallStates
)

// Outcome is how a finished call ended: the small closed set of call outcomes.
type Outcome uint8

const (
	OutcomeUnknown           Outcome = iota
	OutcomeHandled                   // talked to an agent
	OutcomeAbandoned                 // hung up while waiting or ringing
	OutcomeShortAbandoned            // the same, within Options.ShortAbandon
	OutcomeRejected                  // left the ACD without an agent (closed, full, max wait)
	OutcomeCallbackFailed            // the resident never answered the callback
	OutcomeCallbackCancelled         // the callback was withdrawn
	numOutcomes
)

var (
	agentStateNames = [...]string{"unknown", "offline", "available", "reserved", "on_call", "wrap_up", "paused"}
	actionKindNames = [...]string{"unknown", "offer", "cancel_offer", "agent_state", "overflow", "reject", "callback_due", "callback_failed", "invalid"}
	callStateNames  = [...]string{"unknown", "waiting", "offered", "connected", "callback_waiting", "callback_scheduled", "callback_dialing", "finished"}
	outcomeNames    = [...]string{"unknown", "handled", "abandoned", "short_abandoned", "rejected", "callback_failed", "callback_cancelled"}
	overrideNames   = [...]string{"unknown", "none", "open", "closed"}
)

func enumString(names []string, v int) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("invalid(%d)", v)
}

func enumParse(names []string, kind, s string) (int, error) {
	for i, n := range names {
		if n == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("acd: unknown %s %q", kind, s)
}

func (s AgentState) String() string { return enumString(agentStateNames[:], int(s)) }
func (k ActionKind) String() string { return enumString(actionKindNames[:], int(k)) }
func (s CallState) String() string  { return enumString(callStateNames[:], int(s)) }
func (o Outcome) String() string    { return enumString(outcomeNames[:], int(o)) }
func (o Override) String() string   { return enumString(overrideNames[:], int(o)) }

// ParseAgentState is the inverse of AgentState.String.
func ParseAgentState(s string) (AgentState, error) {
	v, err := enumParse(agentStateNames[:], "agent state", s)
	return AgentState(v), err
}

// ParseActionKind is the inverse of ActionKind.String.
func ParseActionKind(s string) (ActionKind, error) {
	v, err := enumParse(actionKindNames[:], "action kind", s)
	return ActionKind(v), err
}

// ParseCallState is the inverse of CallState.String.
func ParseCallState(s string) (CallState, error) {
	v, err := enumParse(callStateNames[:], "call state", s)
	return CallState(v), err
}

// ParseOutcome is the inverse of Outcome.String.
func ParseOutcome(s string) (Outcome, error) {
	v, err := enumParse(outcomeNames[:], "outcome", s)
	return Outcome(v), err
}

// ParseOverride is the inverse of Override.String.
func ParseOverride(s string) (Override, error) {
	v, err := enumParse(overrideNames[:], "override", s)
	return Override(v), err
}

func (s AgentState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (k ActionKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
func (s CallState) MarshalText() ([]byte, error)  { return []byte(s.String()), nil }
func (o Outcome) MarshalText() ([]byte, error)    { return []byte(o.String()), nil }
func (o Override) MarshalText() ([]byte, error)   { return []byte(o.String()), nil }

func (s *AgentState) UnmarshalText(b []byte) (err error) {
	*s, err = ParseAgentState(string(b))
	return err
}

func (k *ActionKind) UnmarshalText(b []byte) (err error) {
	*k, err = ParseActionKind(string(b))
	return err
}

func (s *CallState) UnmarshalText(b []byte) (err error) {
	*s, err = ParseCallState(string(b))
	return err
}

func (o *Outcome) UnmarshalText(b []byte) (err error) {
	*o, err = ParseOutcome(string(b))
	return err
}

func (o *Override) UnmarshalText(b []byte) (err error) {
	*o, err = ParseOverride(string(b))
	return err
}
