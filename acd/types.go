package acd

import "time"

// CallID identifies a call (in production the ticket's call row id or the channel id). The
// driver chooses it; it must be unique among the calls the engine currently knows.
type CallID string

// AgentID identifies an agent (a consultant, broker or supervisor login).
type AgentID string

// QueueID identifies a queue ("waste", "roads-uk", "broker", ...).
type QueueID string

// SkillLevel is a skill and a level on it (1 = basic, higher = more expert). In a queue's
// requirements it is a minimum; on an agent it is what the agent has.
type SkillLevel struct {
	Skill string `json:"skill"`
	Level int    `json:"level"`
}

// Widening makes more agents eligible for a caller who has waited at least After in the queue.
// Rules apply cumulatively in order of After.
type Widening struct {
	After time.Duration `json:"after"`
	// Level, when > 0, lowers the minimum level of every required skill of the queue to Level
	// (members of the queue with a lower level become eligible).
	Level int `json:"level,omitempty"`
	// Add makes agents holding any one of these skills at the given level eligible, whether or
	// not they are members of the queue: brokers, supervisors, a neighbouring team.
	Add []SkillLevel `json:"add,omitempty"`
}

// OpenInterval is one opening period of a weekly schedule: on Day, from From to To after
// local midnight (To may be 24h).
type OpenInterval struct {
	Day  time.Weekday  `json:"day"`
	From time.Duration `json:"from"`
	To   time.Duration `json:"to"`
}

// QueueConfig describes a queue. Zero values take the defaults named on each field.
type QueueConfig struct {
	ID QueueID `json:"id"`
	// Skills are all required, each at least at its level, from members of the queue.
	Skills []SkillLevel `json:"skills,omitempty"`
	// Language is required of the agent ("" = any). A call may name its own language, which
	// then replaces this one.
	Language string `json:"language,omitempty"`
	// Priority gives this queue's callers a head start when they compete with callers of other
	// queues for the same agent: each point counts as Options.PriorityStep of extra waiting.
	Priority int `json:"priority,omitempty"`
	// SLThreshold is the service-level answer time (default 20 s).
	SLThreshold time.Duration `json:"sl_threshold,omitempty"`
	// MaxWait (0 = none) and MaxLength (0 = none) send a caller to Overflow, or out of the ACD
	// (ActReject) when Overflow is empty. A closed queue does the same at arrival.
	MaxWait   time.Duration `json:"max_wait,omitempty"`
	MaxLength int           `json:"max_length,omitempty"`
	Overflow  QueueID       `json:"overflow,omitempty"`
	Widen     []Widening    `json:"widen,omitempty"`
	// WrapUp is the after-call work time (0 = none); the agent may end it early with AgentReady.
	WrapUp time.Duration `json:"wrap_up,omitempty"`
	// RingTimeout is the ring-no-answer limit of an offer (default Options.RingTimeout).
	RingTimeout time.Duration `json:"ring_timeout,omitempty"`
	// Hours is a weekly schedule in Location (nil = UTC); empty = always open.
	Hours    []OpenInterval `json:"hours,omitempty"`
	Location *time.Location `json:"-"`
	// Callbacks: attempts (default 3), delay between attempts (default 5 min), and how long one
	// attempt may take before it counts as no answer (default 60 s).
	CallbackAttempts    int           `json:"callback_attempts,omitempty"`
	CallbackRetry       time.Duration `json:"callback_retry,omitempty"`
	CallbackRingTimeout time.Duration `json:"callback_ring_timeout,omitempty"`
}

// AgentConfig describes an agent. Queues lists the queues whose base requirements the agent
// serves (membership); widening rules may reach the agent through its skills alone.
type AgentConfig struct {
	ID        AgentID      `json:"id"`
	Skills    []SkillLevel `json:"skills,omitempty"`
	Languages []string     `json:"languages,omitempty"`
	Queues    []QueueID    `json:"queues,omitempty"`
}

// Options are the engine-wide settings.
type Options struct {
	// PauseReasons are the reasons an agent may give (AgentPause). ReasonNoAnswer and
	// ReasonDeclined are always allowed (the engine uses them itself).
	PauseReasons []string
	// PriorityStep is the waiting credit of one point of queue priority (default 30 s).
	PriorityStep time.Duration
	// ShortAbandon: callers who hang up sooner are counted apart (default 5 s).
	ShortAbandon time.Duration
	// RingTimeout is the default ring-no-answer limit (default 15 s).
	RingTimeout time.Duration
	// KeepFinished is how many finished calls stay explainable (default 1024).
	KeepFinished int
}

// Reasons the engine itself pauses an agent with.
const (
	ReasonNoAnswer = "no answer"
	ReasonDeclined = "declined"
)

// Override forces a queue open or closed regardless of its schedule.
type Override uint8

const (
	OverrideUnknown Override = iota
	OverrideNone             // follow the schedule
	OverrideOpen
	OverrideClosed
)

// Event is an input of Step. The set is closed: the types below.
type Event interface{ isEvent() }

// ConfigureQueue adds a queue or replaces its configuration. Callers waiting in it are
// re-evaluated under the new rules.
type ConfigureQueue struct{ Queue QueueConfig }

// ConfigureAgent adds an agent (offline) or replaces its skills, languages and queues.
type ConfigureAgent struct{ Agent AgentConfig }

// SetOverride forces a queue open or closed, or back to its schedule.
type SetOverride struct {
	Queue    QueueID
	Override Override
}

// AgentReady: the agent is available (logs in, ends a pause, or ends wrap-up early). During a
// call it cancels a pending pause or logout.
type AgentReady struct{ Agent AgentID }

// AgentPause pauses the agent with a configured reason. While ringing it declines the offer;
// during a call it takes effect when the call's wrap-up would end.
type AgentPause struct {
	Agent  AgentID
	Reason string
}

// AgentLogout takes the agent offline (while ringing: declines; during a call: afterwards).
type AgentLogout struct{ Agent AgentID }

// CallArrived puts a caller in a queue. Priority orders callers strictly (higher first, across
// all queues); Language, when set, replaces the queue's language; Note travels with the call.
// Arrived, when set and earlier than now, is when the resident first called (a call restored
// after a restart, or handed over by another node): it keeps the caller's place.
type CallArrived struct {
	Call     CallID
	Queue    QueueID
	Priority int
	Language string
	Note     string
	Arrived  time.Time
	// Callback, when set, books a callback to this number instead of a caller on the line (the
	// IVR's callback node, or a callback restored after a restart): a virtual caller from the
	// start, served in its place like RequestCallback's.
	Callback string
}

// OfferAccepted: the agent answered the offer; caller and agent are connected.
type OfferAccepted struct {
	Call  CallID
	Agent AgentID
}

// OfferDeclined: the agent refused the offer. The caller goes back to its place and the agent
// is paused with ReasonDeclined.
type OfferDeclined struct {
	Call  CallID
	Agent AgentID
}

// CallEnded: the resident's call is over (hang-up by either side). While waiting or ringing it
// is an abandon; while connected it ends the conversation and starts wrap-up.
type CallEnded struct{ Call CallID }

// Transfer sends a waiting or connected call to another queue (escalation to a broker or a
// supervisor). The call keeps its original arrival time, so it goes ahead of every caller who
// arrived after it; Note is appended to the call's notes. A connecting agent goes to wrap-up.
type Transfer struct {
	Call  CallID
	Queue QueueID
	Note  string
}

// RequestCallback turns a waiting caller into a virtual one holding the same place; the
// driver then hangs up the resident's leg (and reports nothing more for it). When the place
// comes up the engine reserves an agent and emits ActCallbackDue.
type RequestCallback struct {
	Call   CallID
	Number string
}

// CallbackAnswered: the resident answered the callback; agent and resident are connected.
type CallbackAnswered struct{ Call CallID }

// CallbackNoAnswer: the callback attempt failed. The agent is freed; the call retries later in
// the same place until its attempts are used up (then ActCallbackFailed).
type CallbackNoAnswer struct{ Call CallID }

// CancelCallback withdraws a pending callback (the resident called again, a supervisor
// cancelled it).
type CancelCallback struct{ Call CallID }

// Tick only advances time: deadlines at or before now fire.
type Tick struct{}

func (ConfigureQueue) isEvent()   {}
func (ConfigureAgent) isEvent()   {}
func (SetOverride) isEvent()      {}
func (AgentReady) isEvent()       {}
func (AgentPause) isEvent()       {}
func (AgentLogout) isEvent()      {}
func (CallArrived) isEvent()      {}
func (OfferAccepted) isEvent()    {}
func (OfferDeclined) isEvent()    {}
func (CallEnded) isEvent()        {}
func (Transfer) isEvent()         {}
func (RequestCallback) isEvent()  {}
func (CallbackAnswered) isEvent() {}
func (CallbackNoAnswer) isEvent() {}
func (CancelCallback) isEvent()   {}
func (Tick) isEvent()             {}

// Action is an output of Step: something the driver must do or know. One flat struct (not an
// interface per kind) so that a decision allocates nothing; which fields are set depends on Kind.
type Action struct {
	Kind ActionKind `json:"kind"`
	// At is the instant the engine decided it (a deadline's own time for timer-driven actions).
	At    time.Time `json:"at"`
	Call  CallID    `json:"call,omitempty"`
	Agent AgentID   `json:"agent,omitempty"`
	// Queue is the call's queue (for ActOverflow: the queue it left; To: the queue it entered).
	Queue QueueID `json:"queue,omitempty"`
	To    QueueID `json:"to,omitempty"`
	// State and Reason: for ActAgentState the new state and pause reason; for ActCancelOffer,
	// ActOverflow, ActReject and ActInvalid a short reason.
	State  AgentState `json:"state,omitempty"`
	Reason string     `json:"reason,omitempty"`
	// Number and Attempt: for ActCallbackDue / ActCallbackFailed.
	Number  string `json:"number,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
}

// Reasons carried by actions.
const (
	WhyNoAnswer       = "no answer"
	WhyDeclined       = "declined"
	WhyAbandoned      = "caller hung up"
	WhyAgentLeft      = "agent logged out"
	WhyMaxWait        = "max wait"
	WhyMaxLength      = "max length"
	WhyClosed         = "closed"
	WhyOverflowLoop   = "overflow loop"
	WhyUnknownQueue   = "unknown queue"
	WhyUnknownCall    = "unknown call"
	WhyUnknownAgent   = "unknown agent"
	WhyDuplicateCall  = "duplicate call"
	WhyWrongState     = "not allowed in this state"
	WhyNotOffered     = "no such offer pending"
	WhyUnknownReason  = "unknown pause reason"
	WhyCallbackFailed = "attempts used up"
)
