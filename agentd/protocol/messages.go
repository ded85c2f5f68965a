package protocol

import (
	"encoding/json"
	"slices"
	"time"
)

// Type names a message; it is the envelope's "type".
type Type string

// Message types. Client→server, server→client, and both ways (WebRTC signalling).
const (
	TypeHello            Type = "hello"
	TypeStateSet         Type = "state.set"
	TypeOfferAccept      Type = "offer.accept"
	TypeOfferReject      Type = "offer.reject"
	TypeCallHangup       Type = "call.hangup"
	TypeCallHold         Type = "call.hold"
	TypeCallResume       Type = "call.resume"
	TypeCallMute         Type = "call.mute"
	TypeCallUnmute       Type = "call.unmute"
	TypeCallDTMF         Type = "call.dtmf"
	TypeCallTransfer     Type = "call.transfer"
	TypeCallRecordPause  Type = "call.record_pause"
	TypeCallRecordResume Type = "call.record_resume"
	TypeWrapupSubmit     Type = "wrapup.submit"
	TypePing             Type = "ping"

	TypeWelcome           Type = "welcome"
	TypeState             Type = "state"
	TypeOffer             Type = "offer"
	TypeOfferCancelled    Type = "offer.cancelled"
	TypeCallConnected     Type = "call.connected"
	TypeCallHeld          Type = "call.held"
	TypeCallResumed       Type = "call.resumed"
	TypeCallEnded         Type = "call.ended"
	TypeCallRecordPaused  Type = "call.record_paused"
	TypeCallRecordResumed Type = "call.record_resumed"
	TypeWrapupStarted     Type = "wrapup.started"
	TypeWrapupEnded       Type = "wrapup.ended"
	TypeAck               Type = "ack"
	TypeError             Type = "error"
	TypePong              Type = "pong"

	TypeWebRTCOffer     Type = "webrtc.offer"
	TypeWebRTCAnswer    Type = "webrtc.answer"
	TypeWebRTCCandidate Type = "webrtc.candidate"
	TypeWebRTCRestart   Type = "webrtc.restart"
)

// Direction says who sends a message type.
type Direction uint8

const (
	ToServer Direction = 1 << iota // sent by clients
	ToClient                       // sent by the server
	Both     = ToServer | ToClient
)

// Message is the typed payload of an envelope. Only this package's types implement it.
type Message interface {
	Type() Type
	validate() *Error
}

type typeInfo struct {
	dir Direction
	new func() Message
}

var registry = map[Type]typeInfo{
	TypeHello:            {ToServer, func() Message { return new(Hello) }},
	TypeStateSet:         {ToServer, func() Message { return new(StateSet) }},
	TypeOfferAccept:      {ToServer, func() Message { return new(OfferAccept) }},
	TypeOfferReject:      {ToServer, func() Message { return new(OfferReject) }},
	TypeCallHangup:       {ToServer, func() Message { return new(CallHangup) }},
	TypeCallHold:         {ToServer, func() Message { return new(CallHold) }},
	TypeCallResume:       {ToServer, func() Message { return new(CallResume) }},
	TypeCallMute:         {ToServer, func() Message { return new(CallMute) }},
	TypeCallUnmute:       {ToServer, func() Message { return new(CallUnmute) }},
	TypeCallDTMF:         {ToServer, func() Message { return new(CallDTMF) }},
	TypeCallTransfer:     {ToServer, func() Message { return new(CallTransfer) }},
	TypeCallRecordPause:  {ToServer, func() Message { return new(CallRecordPause) }},
	TypeCallRecordResume: {ToServer, func() Message { return new(CallRecordResume) }},
	TypeWrapupSubmit:     {ToServer, func() Message { return new(WrapupSubmit) }},
	TypePing:             {ToServer, func() Message { return new(Ping) }},

	TypeWelcome:           {ToClient, func() Message { return new(Welcome) }},
	TypeState:             {ToClient, func() Message { return new(State) }},
	TypeOffer:             {ToClient, func() Message { return new(Offer) }},
	TypeOfferCancelled:    {ToClient, func() Message { return new(OfferCancelled) }},
	TypeCallConnected:     {ToClient, func() Message { return new(CallConnected) }},
	TypeCallHeld:          {ToClient, func() Message { return new(CallHeld) }},
	TypeCallResumed:       {ToClient, func() Message { return new(CallResumed) }},
	TypeCallEnded:         {ToClient, func() Message { return new(CallEnded) }},
	TypeCallRecordPaused:  {ToClient, func() Message { return new(CallRecordPaused) }},
	TypeCallRecordResumed: {ToClient, func() Message { return new(CallRecordResumed) }},
	TypeWrapupStarted:     {ToClient, func() Message { return new(WrapupStarted) }},
	TypeWrapupEnded:       {ToClient, func() Message { return new(WrapupEnded) }},
	TypeAck:               {ToClient, func() Message { return new(Ack) }},
	TypeError:             {ToClient, func() Message { return new(Error) }},
	TypePong:              {ToClient, func() Message { return new(Pong) }},

	TypeWebRTCOffer:     {Both, func() Message { return new(WebRTCOffer) }},
	TypeWebRTCAnswer:    {Both, func() Message { return new(WebRTCAnswer) }},
	TypeWebRTCCandidate: {Both, func() Message { return new(WebRTCCandidate) }},
	TypeWebRTCRestart:   {Both, func() Message { return new(WebRTCRestart) }},
}

// Types lists every message type, sorted.
func Types() []Type {
	out := make([]Type, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// DirectionOf says who sends t; 0 for an unknown type.
func DirectionOf(t Type) Direction { return registry[t].dir }

// ---------------------------------------------------------------------------------------------
// Shared values

// AgentState is an agent's state. Clients may set available, paused and offline; the server
// also reports offered, on_call and wrapup.
type AgentState string

const (
	StateUnknown   AgentState = ""
	StateAvailable AgentState = "available"
	StatePaused    AgentState = "paused"
	StateOffline   AgentState = "offline"
	StateOffered   AgentState = "offered"
	StateOnCall    AgentState = "on_call"
	StateWrapup    AgentState = "wrapup"
)

// TicketKind is a ticket's kind; unknown until the consultant classifies it.
type TicketKind string

const (
	KindUnknown      TicketKind = "unknown"
	KindInformation  TicketKind = "information"
	KindIntervention TicketKind = "intervention"
)

// Agent identifies the signed-in user.
type Agent struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

func (a *Agent) validate(p string) *Error {
	return first(
		reqIdent(p+".id", a.ID),
		text(p+".name", a.Name, MaxLabelLen, false),
		each(p+".roles", a.Roles, func(p, r string) *Error {
			return oneOf(p, r, "consultant", "broker", "supervisor", "administrator", "unit_worker")
		}),
	)
}

// StateInfo is an agent state with the time it began.
type StateInfo struct {
	State  AgentState `json:"state"`
	Reason string     `json:"reason,omitempty"` // pause reason, only with paused
	Since  time.Time  `json:"since"`
}

func (s *StateInfo) validate(p string) *Error {
	return first(
		oneOf(p+".state", s.State, StateAvailable, StatePaused, StateOffline, StateOffered, StateOnCall, StateWrapup),
		reasonFor(p+".reason", s.State, s.Reason),
		reqTime(p+".since", s.Since),
	)
}

func reasonFor(p string, st AgentState, reason string) *Error {
	if st == StatePaused {
		return reqSlug(p, reason)
	}
	if reason != "" {
		return errorf(CodeInvalidField, p, "only a paused state has a reason")
	}
	return nil
}

// Ticket is the ticket the call is linked to, as the screen-pop shows it.
type Ticket struct {
	Number    string            `json:"number"`
	Kind      TicketKind        `json:"kind"`
	Status    string            `json:"status"`
	Channel   string            `json:"channel"`
	Category  string            `json:"category,omitempty"`
	Unit      string            `json:"unit,omitempty"`
	Summary   string            `json:"summary,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	Fields    map[string]string `json:"fields,omitempty"` // further fields by name (e.g. address, district)
}

func (t *Ticket) validate(p string) *Error {
	if e := first(
		reqIdent(p+".number", t.Number),
		oneOf(p+".kind", t.Kind, KindUnknown, KindInformation, KindIntervention),
		reqSlug(p+".status", t.Status),
		reqSlug(p+".channel", t.Channel),
		slug(p+".category", t.Category),
		slug(p+".unit", t.Unit),
		text(p+".summary", t.Summary, MaxNoteLen, true),
		reqTime(p+".created_at", t.CreatedAt),
	); e != nil {
		return e
	}
	if len(t.Fields) > MaxFieldCount {
		return errorf(CodeInvalidField, p+".fields", "more than %d fields", MaxFieldCount)
	}
	for k, v := range t.Fields {
		if e := first(reqSlug(p+".fields."+k, k), text(p+".fields."+k, v, MaxNoteLen, true)); e != nil {
			return e
		}
	}
	return nil
}

// TicketSummary is one of the caller's recent tickets.
type TicketSummary struct {
	Number    string     `json:"number"`
	Kind      TicketKind `json:"kind"`
	Status    string     `json:"status"`
	Category  string     `json:"category,omitempty"`
	Summary   string     `json:"summary,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

func (t TicketSummary) validate(p string) *Error {
	return first(
		reqIdent(p+".number", t.Number),
		oneOf(p+".kind", t.Kind, KindUnknown, KindInformation, KindIntervention),
		reqSlug(p+".status", t.Status),
		slug(p+".category", t.Category),
		text(p+".summary", t.Summary, MaxLabelLen, false),
		reqTime(p+".created_at", t.CreatedAt),
	)
}

// IVRStep is one menu node the caller passed, with the digits pressed there (empty when the node
// took no input, e.g. a message or a timeout).
type IVRStep struct {
	Node   string `json:"node"`
	Label  string `json:"label"`
	Digits string `json:"digits,omitempty"`
}

func (s IVRStep) validate(p string) *Error {
	e := first(reqIdent(p+".node", s.Node), text(p+".label", s.Label, MaxLabelLen, false))
	if e == nil && s.Digits != "" {
		e = dtmf(p+".digits", s.Digits)
	}
	return e
}

// Article is a knowledge-base article suggested for the call.
type Article struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

func (a Article) validate(p string) *Error {
	return first(reqIdent(p+".id", a.ID), reqText(p+".title", a.Title, MaxLabelLen))
}

// Caller is the calling party; Number is empty when the number is withheld.
type Caller struct {
	Number   string `json:"number,omitempty"`
	Withheld bool   `json:"withheld,omitempty"`
}

func (c *Caller) validate(p string) *Error {
	if c.Number == "" && !c.Withheld {
		return errorf(CodeMissingField, p+".number", "required unless withheld")
	}
	for _, r := range c.Number {
		if !(r >= '0' && r <= '9' || r == '+' || r == '*' || r == '#') || len(c.Number) > MaxDTMFLen {
			return errorf(CodeInvalidField, p+".number", "must be up to %d of + 0-9 * #", MaxDTMFLen)
		}
	}
	return nil
}

// ActiveCall describes a call the agent is in, sent in welcome after a resume.
type ActiveCall struct {
	CallID       string    `json:"call_id"`
	TicketNumber string    `json:"ticket_number"`
	Caller       Caller    `json:"caller"`
	Queue        string    `json:"queue"`
	ConnectedAt  time.Time `json:"connected_at"`
	Held         bool      `json:"held,omitempty"`
	Muted        bool      `json:"muted,omitempty"`
	// RecordingPaused: the agent paused the call's recording (call.record_pause).
	RecordingPaused bool `json:"recording_paused,omitempty"`
}

func (c *ActiveCall) validate(p string) *Error {
	return first(
		reqIdent(p+".call_id", c.CallID),
		reqIdent(p+".ticket_number", c.TicketNumber),
		c.Caller.validate(p+".caller"),
		reqSlug(p+".queue", c.Queue),
		reqTime(p+".connected_at", c.ConnectedAt),
	)
}

// WrapupInfo describes a wrap-up in progress, sent in welcome after a resume.
type WrapupInfo struct {
	CallID       string    `json:"call_id"`
	TicketNumber string    `json:"ticket_number"`
	Deadline     time.Time `json:"deadline"`
}

func (w *WrapupInfo) validate(p string) *Error {
	return first(reqIdent(p+".call_id", w.CallID), reqIdent(p+".ticket_number", w.TicketNumber), reqTime(p+".deadline", w.Deadline))
}

// ICEServer is a STUN or TURN server for the browser's RTCPeerConnection (RTCIceServer).
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ---------------------------------------------------------------------------------------------
// Client → server

// Hello opens a connection. ResumeToken, from an earlier welcome, resumes that session (and its
// call) after a reconnect within the grace period.
type Hello struct {
	Protocol    int    `json:"protocol"`
	Client      string `json:"client,omitempty"` // e.g. "kontakt-web/0.3.1"
	ResumeToken string `json:"resume_token,omitempty"`
}

func (*Hello) Type() Type { return TypeHello }
func (m *Hello) validate() *Error {
	if m.Protocol == 0 {
		return errorf(CodeMissingField, "data.protocol", "required")
	}
	if m.Protocol != Version {
		return errorf(CodeBadVersion, "data.protocol", "protocol %d is not supported; this server speaks %d", m.Protocol, Version)
	}
	return first(text("data.client", m.Client, MaxLabelLen, false), ident("data.resume_token", m.ResumeToken))
}

// StateSet asks to become available, paused (with a configured reason) or offline.
type StateSet struct {
	State  AgentState `json:"state"`
	Reason string     `json:"reason,omitempty"`
}

func (*StateSet) Type() Type { return TypeStateSet }
func (m *StateSet) validate() *Error {
	return first(oneOf("data.state", m.State, StateAvailable, StatePaused, StateOffline), reasonFor("data.reason", m.State, m.Reason))
}

// OfferAccept accepts an outstanding offer.
type OfferAccept struct {
	OfferID string `json:"offer_id"`
}

func (*OfferAccept) Type() Type         { return TypeOfferAccept }
func (m *OfferAccept) validate() *Error { return reqIdent("data.offer_id", m.OfferID) }

// OfferReject declines an outstanding offer; the server usually pauses the agent.
type OfferReject struct {
	OfferID string `json:"offer_id"`
	Reason  string `json:"reason,omitempty"`
}

func (*OfferReject) Type() Type { return TypeOfferReject }
func (m *OfferReject) validate() *Error {
	return first(reqIdent("data.offer_id", m.OfferID), slug("data.reason", m.Reason))
}

// CallRef names the connected call a call control applies to.
type CallRef struct {
	CallID string `json:"call_id"`
}

func (c *CallRef) validate() *Error { return reqIdent("data.call_id", c.CallID) }

// CallHangup ends the call.
type CallHangup CallRef

// CallHold puts the caller on hold with music.
type CallHold CallRef

// CallResume takes the caller off hold.
type CallResume CallRef

// CallMute stops the agent's audio reaching the caller.
type CallMute CallRef

// CallUnmute lets it through again.
type CallUnmute CallRef

func (*CallHangup) Type() Type         { return TypeCallHangup }
func (*CallHold) Type() Type           { return TypeCallHold }
func (*CallResume) Type() Type         { return TypeCallResume }
func (*CallMute) Type() Type           { return TypeCallMute }
func (*CallUnmute) Type() Type         { return TypeCallUnmute }
func (m *CallHangup) validate() *Error { return (*CallRef)(m).validate() }
func (m *CallHold) validate() *Error   { return (*CallRef)(m).validate() }
func (m *CallResume) validate() *Error { return (*CallRef)(m).validate() }
func (m *CallMute) validate() *Error   { return (*CallRef)(m).validate() }
func (m *CallUnmute) validate() *Error { return (*CallRef)(m).validate() }

// CallRecordPause pauses the call's recording while the caller dictates sensitive data.
type CallRecordPause CallRef

// CallRecordResume resumes the call's recording.
type CallRecordResume CallRef

func (*CallRecordPause) Type() Type          { return TypeCallRecordPause }
func (*CallRecordResume) Type() Type         { return TypeCallRecordResume }
func (m *CallRecordPause) validate() *Error  { return (*CallRef)(m).validate() }
func (m *CallRecordResume) validate() *Error { return (*CallRef)(m).validate() }

// CallDTMF sends DTMF digits into the call (e.g. to a unit's own IVR after a transfer).
type CallDTMF struct {
	CallID string `json:"call_id"`
	Digits string `json:"digits"`
}

func (*CallDTMF) Type() Type { return TypeCallDTMF }
func (m *CallDTMF) validate() *Error {
	return first(reqIdent("data.call_id", m.CallID), dtmf("data.digits", m.Digits))
}

// CallTransfer sends the caller to another queue with a note for the next agent.
type CallTransfer struct {
	CallID string `json:"call_id"`
	Queue  string `json:"queue"`
	Note   string `json:"note,omitempty"`
}

func (*CallTransfer) Type() Type { return TypeCallTransfer }
func (m *CallTransfer) validate() *Error {
	return first(reqIdent("data.call_id", m.CallID), reqSlug("data.queue", m.Queue), text("data.note", m.Note, MaxNoteLen, true))
}

// TicketUpdate is what the consultant records on the call's ticket at wrap-up.
type TicketUpdate struct {
	Kind     TicketKind `json:"kind"`
	Category string     `json:"category"`
	Unit     string     `json:"unit,omitempty"` // unit the ticket is forwarded to; empty when closed at first line
	Notes    string     `json:"notes,omitempty"`
	Articles []string   `json:"articles,omitempty"` // knowledge-base article ids used
}

// TicketLink links the call to an existing ticket instead (a resident calling about it again).
type TicketLink struct {
	Number string `json:"number"`
	Notes  string `json:"notes,omitempty"`
}

// WrapupSubmit ends wrap-up with exactly one of Update or Link.
type WrapupSubmit struct {
	CallID string        `json:"call_id"`
	Update *TicketUpdate `json:"update,omitempty"`
	Link   *TicketLink   `json:"link,omitempty"`
}

func (*WrapupSubmit) Type() Type { return TypeWrapupSubmit }
func (m *WrapupSubmit) validate() *Error {
	if e := reqIdent("data.call_id", m.CallID); e != nil {
		return e
	}
	switch {
	case m.Update != nil && m.Link != nil:
		return errorf(CodeInvalidField, "data.link", "give either update or link, not both")
	case m.Update != nil:
		u := m.Update
		return first(
			oneOf("data.update.kind", u.Kind, KindInformation, KindIntervention),
			reqSlug("data.update.category", u.Category),
			slug("data.update.unit", u.Unit),
			text("data.update.notes", u.Notes, MaxNoteLen, true),
			each("data.update.articles", u.Articles, reqIdent),
		)
	case m.Link != nil:
		return first(reqIdent("data.link.number", m.Link.Number), text("data.link.notes", m.Link.Notes, MaxNoteLen, true))
	}
	return errorf(CodeMissingField, "data.update", "give update (the ticket's kind, category, …) or link (an existing ticket number)")
}

// Ping asks for a pong; clients send one every ping_interval_ms from welcome.
type Ping struct{}

func (*Ping) Type() Type       { return TypePing }
func (*Ping) validate() *Error { return nil }

// ---------------------------------------------------------------------------------------------
// Server → client

// Welcome answers hello.
type Welcome struct {
	Protocol       int         `json:"protocol"`
	Server         string      `json:"server"`       // server version
	Session        string      `json:"session"`      // connection session id, for logs and support
	ResumeToken    string      `json:"resume_token"` // present it in hello to resume after a reconnect
	Resumed        bool        `json:"resumed,omitempty"`
	Agent          Agent       `json:"agent"`
	State          StateInfo   `json:"state"`
	PingIntervalMS int64       `json:"ping_interval_ms"`
	GraceMS        int64       `json:"grace_ms"` // how long the session (and call) survives a dropped socket
	ICEServers     []ICEServer `json:"ice_servers,omitempty"`
	Call           *ActiveCall `json:"call,omitempty"`   // the call still in progress, after a resume
	Wrapup         *WrapupInfo `json:"wrapup,omitempty"` // the wrap-up still in progress, after a resume
}

func (*Welcome) Type() Type { return TypeWelcome }
func (m *Welcome) validate() *Error {
	if m.Protocol != Version {
		return errorf(CodeInvalidField, "data.protocol", "must be %d", Version)
	}
	e := first(
		reqText("data.server", m.Server, MaxLabelLen),
		reqIdent("data.session", m.Session),
		reqIdent("data.resume_token", m.ResumeToken),
		m.Agent.validate("data.agent"),
		m.State.validate("data.state"),
		nonNegative("data.ping_interval_ms", m.PingIntervalMS),
		nonNegative("data.grace_ms", m.GraceMS),
		each("data.ice_servers", m.ICEServers, func(p string, s ICEServer) *Error {
			if len(s.URLs) == 0 {
				return errorf(CodeMissingField, p+".urls", "required")
			}
			return each(p+".urls", s.URLs, func(p, u string) *Error { return reqText(p, u, MaxLabelLen) })
		}),
	)
	if e == nil && m.Call != nil {
		e = m.Call.validate("data.call")
	}
	if e == nil && m.Wrapup != nil {
		e = m.Wrapup.validate("data.wrapup")
	}
	return e
}

// State reports the agent's state, on every change and in reply to state.set.
type State StateInfo

func (*State) Type() Type         { return TypeState }
func (m *State) validate() *Error { return (*StateInfo)(m).validate("data") }

// Offer is the screen-pop: a call offered to this agent, with everything needed before "hello".
type Offer struct {
	OfferID       string          `json:"offer_id"`
	CallID        string          `json:"call_id"`
	Queue         string          `json:"queue"`
	ExpiresAt     time.Time       `json:"expires_at"` // accept before this or the call goes to the next agent
	Caller        Caller          `json:"caller"`
	Language      string          `json:"language"` // the caller's IVR language: pl, en, uk
	WaitedMS      int64           `json:"waited_ms"`
	Ticket        Ticket          `json:"ticket"`
	RecentTickets []TicketSummary `json:"recent_tickets"` // the caller's, newest first; may be empty
	IVRPath       []IVRStep       `json:"ivr_path"`
	Articles      []Article       `json:"articles"` // suggested knowledge-base articles; may be empty
	// Callback, when present, makes this a callback the center is dialling for the agent: it is
	// not accepted or rejected; call.connected follows when the resident answers, offer.cancelled
	// (no_answer) when they do not.
	Callback *CallbackInfo `json:"callback,omitempty"`
}

// CallbackInfo is a callback's number and which attempt this is (1, 2, …).
type CallbackInfo struct {
	Number  string `json:"number"`
	Attempt int    `json:"attempt"`
}

func (c *CallbackInfo) validate(p string) *Error {
	if c == nil {
		return nil
	}
	if c.Attempt < 1 {
		return errorf(CodeInvalidField, p+".attempt", "must be 1 or more")
	}
	if c.Number == "" {
		return errorf(CodeMissingField, p+".number", "required")
	}
	return (&Caller{Number: c.Number}).validate(p)
}

func (*Offer) Type() Type { return TypeOffer }
func (m *Offer) validate() *Error {
	return first(
		reqIdent("data.offer_id", m.OfferID),
		reqIdent("data.call_id", m.CallID),
		reqSlug("data.queue", m.Queue),
		reqTime("data.expires_at", m.ExpiresAt),
		m.Caller.validate("data.caller"),
		oneOf("data.language", m.Language, "pl", "en", "uk"),
		nonNegative("data.waited_ms", m.WaitedMS),
		m.Ticket.validate("data.ticket"),
		each("data.recent_tickets", m.RecentTickets, func(p string, t TicketSummary) *Error { return t.validate(p) }),
		each("data.ivr_path", m.IVRPath, func(p string, s IVRStep) *Error { return s.validate(p) }),
		each("data.articles", m.Articles, func(p string, a Article) *Error { return a.validate(p) }),
		m.Callback.validate("data.callback"),
	)
}

// MarshalJSON sends empty lists as [] rather than null.
func (m *Offer) MarshalJSON() ([]byte, error) {
	type plain Offer
	c := plain(*m)
	if c.RecentTickets == nil {
		c.RecentTickets = []TicketSummary{}
	}
	if c.IVRPath == nil {
		c.IVRPath = []IVRStep{}
	}
	if c.Articles == nil {
		c.Articles = []Article{}
	}
	return json.Marshal(c)
}

// OfferCancelled withdraws an offer: the caller hung up, the time ran out (the agent is then
// usually paused), or the call went elsewhere.
type OfferCancelled struct {
	OfferID string `json:"offer_id"`
	CallID  string `json:"call_id"`
	Reason  string `json:"reason"` // caller_hangup | timeout | rerouted | no_answer
}

func (*OfferCancelled) Type() Type { return TypeOfferCancelled }
func (m *OfferCancelled) validate() *Error {
	return first(reqIdent("data.offer_id", m.OfferID), reqIdent("data.call_id", m.CallID),
		oneOf("data.reason", m.Reason, "caller_hangup", "timeout", "rerouted", "no_answer"))
}

// CallEvent is a call event with its time.
type CallEvent struct {
	CallID string    `json:"call_id"`
	At     time.Time `json:"at"`
}

func (c *CallEvent) validate() *Error {
	return first(reqIdent("data.call_id", c.CallID), reqTime("data.at", c.At))
}

// CallConnected: the caller is bridged with the agent's softphone.
type CallConnected struct {
	CallID  string    `json:"call_id"`
	OfferID string    `json:"offer_id"`
	At      time.Time `json:"at"`
}

func (*CallConnected) Type() Type { return TypeCallConnected }
func (m *CallConnected) validate() *Error {
	return first(reqIdent("data.call_id", m.CallID), reqIdent("data.offer_id", m.OfferID), reqTime("data.at", m.At))
}

// CallHeld: the caller is on hold and hears music.
type CallHeld CallEvent

// CallResumed: the caller is back.
type CallResumed CallEvent

func (*CallHeld) Type() Type            { return TypeCallHeld }
func (*CallResumed) Type() Type         { return TypeCallResumed }
func (m *CallHeld) validate() *Error    { return (*CallEvent)(m).validate() }
func (m *CallResumed) validate() *Error { return (*CallEvent)(m).validate() }

// CallRecordPaused answers call.record_pause: from At the recording holds silence.
type CallRecordPaused CallEvent

// CallRecordResumed answers call.record_resume: from At the call is recorded again.
type CallRecordResumed CallEvent

func (*CallRecordPaused) Type() Type          { return TypeCallRecordPaused }
func (*CallRecordResumed) Type() Type         { return TypeCallRecordResumed }
func (m *CallRecordPaused) validate() *Error  { return (*CallEvent)(m).validate() }
func (m *CallRecordResumed) validate() *Error { return (*CallEvent)(m).validate() }

// CallEnded: the call is over for this agent.
type CallEnded struct {
	CallID     string    `json:"call_id"`
	Reason     string    `json:"reason"` // caller_hangup | agent_hangup | transferred | media_failed | supervisor | error
	At         time.Time `json:"at"`
	DurationMS int64     `json:"duration_ms"`
}

func (*CallEnded) Type() Type { return TypeCallEnded }
func (m *CallEnded) validate() *Error {
	return first(reqIdent("data.call_id", m.CallID),
		oneOf("data.reason", m.Reason, "caller_hangup", "agent_hangup", "transferred", "media_failed", "supervisor", "error"),
		reqTime("data.at", m.At), nonNegative("data.duration_ms", m.DurationMS))
}

// WrapupStarted: the agent has until Deadline to submit the ticket.
type WrapupStarted WrapupInfo

func (*WrapupStarted) Type() Type         { return TypeWrapupStarted }
func (m *WrapupStarted) validate() *Error { return (*WrapupInfo)(m).validate("data") }

// WrapupEnded: wrap-up is over (submitted, timed out, or cancelled by a supervisor).
type WrapupEnded struct {
	CallID       string `json:"call_id"`
	TicketNumber string `json:"ticket_number"`
	Reason       string `json:"reason"` // submitted | timeout | supervisor
}

func (*WrapupEnded) Type() Type { return TypeWrapupEnded }
func (m *WrapupEnded) validate() *Error {
	return first(reqIdent("data.call_id", m.CallID), reqIdent("data.ticket_number", m.TicketNumber),
		oneOf("data.reason", m.Reason, "submitted", "timeout", "supervisor"))
}

// Ack answers a client request that has no more specific reply; its effect follows as events.
type Ack struct{}

func (*Ack) Type() Type       { return TypeAck }
func (*Ack) validate() *Error { return nil }

// Type makes *Error the payload of the "error" message.
func (*Error) Type() Type { return TypeError }
func (m *Error) validate() *Error {
	e := first(oneOf("data.code", m.Code, Codes()...), reqText("data.message", m.Message, MaxNoteLen))
	if e == nil && m.Field != "" {
		e = text("data.field", m.Field, MaxLabelLen, false)
	}
	return e
}

// Pong answers ping.
type Pong struct{}

func (*Pong) Type() Type       { return TypePong }
func (*Pong) validate() *Error { return nil }

// ---------------------------------------------------------------------------------------------
// WebRTC signalling (both ways)

// WebRTCOffer carries an SDP offer: the browser's at sign-in and on renegotiation or ICE restart,
// or the server's in reply to a client's webrtc.restart.
type WebRTCOffer struct {
	SDP     string `json:"sdp"`
	Restart bool   `json:"restart,omitempty"` // the offer restarts ICE (new credentials)
}

func (*WebRTCOffer) Type() Type         { return TypeWebRTCOffer }
func (m *WebRTCOffer) validate() *Error { return sdp("data.sdp", m.SDP) }

// WebRTCAnswer carries the SDP answer to the other side's webrtc.offer (re = the offer's id).
type WebRTCAnswer struct {
	SDP string `json:"sdp"`
}

func (*WebRTCAnswer) Type() Type         { return TypeWebRTCAnswer }
func (m *WebRTCAnswer) validate() *Error { return sdp("data.sdp", m.SDP) }

// WebRTCCandidate is one trickled ICE candidate, in the fields of the browser's
// RTCIceCandidateInit so it passes to addIceCandidate unchanged. An empty candidate means the
// sender has gathered all its candidates.
type WebRTCCandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

func (*WebRTCCandidate) Type() Type { return TypeWebRTCCandidate }
func (m *WebRTCCandidate) validate() *Error {
	if e := text("data.candidate", m.Candidate, 2048, false); e != nil {
		return e
	}
	if m.SDPMid != nil {
		if e := text("data.sdpMid", *m.SDPMid, MaxIDLen, false); e != nil {
			return e
		}
	}
	if m.UsernameFragment != nil {
		return text("data.usernameFragment", *m.UsernameFragment, 256, false)
	}
	return nil
}

// WebRTCRestart asks the receiver to restart ICE: from a client, the server answers with a
// webrtc.offer that restarts ICE; from the server, the browser calls pc.restartIce() and sends a
// new webrtc.offer.
type WebRTCRestart struct{}

func (*WebRTCRestart) Type() Type       { return TypeWebRTCRestart }
func (*WebRTCRestart) validate() *Error { return nil }
