package ivr

import (
	"fmt"
	"strings"
	"time"
)

// PlaybackID names one Play action; PromptFinished says which playback finished, so that a
// late event from a stopped playback is not taken for the current one.
type PlaybackID uint32

// TimerID names one StartTimer action; a TimerFired for a cancelled timer is ignored.
type TimerID uint32

// Action is something the adapter must do (or record) for the call. The concrete types are
// below; the adapter switches on them. Actions share slices with the menu: do not modify them.
type Action interface {
	isAction()
	String() string
}

// EnterNode says the call entered a node: record it as a call event (the call's IVR path).
type EnterNode struct {
	Node string `json:"node"`
	Kind Kind   `json:"kind"`
}

// DigitReceived says the caller pressed a key at a node: record it as a call event. Ignored
// is true when the node was not listening (a prompt without barge-in, a lookup under way).
type DigitReceived struct {
	Node    string `json:"node"`
	Digit   string `json:"digit"`
	Ignored bool   `json:"ignored,omitempty"`
}

// Play starts playing the prompts one after another and answers with PromptFinished{ID} when
// the last one ends (or fails). BargeIn true: a key may interrupt it (the interpreter then
// sends StopPlayback itself).
type Play struct {
	ID      PlaybackID  `json:"id"`
	Prompts []PromptRef `json:"prompts"`
	BargeIn bool        `json:"barge_in"`
}

// StopPlayback stops the playback ID at once. No PromptFinished is expected for it.
type StopPlayback struct {
	ID PlaybackID `json:"id"`
}

// StartTimer asks for TimerFired{ID} at At (After from now). One timer runs at a time.
type StartTimer struct {
	ID    TimerID       `json:"id"`
	At    time.Time     `json:"at"`
	After time.Duration `json:"after"`
}

// CancelTimer cancels timer ID; a TimerFired for it would be ignored anyway.
type CancelTimer struct {
	ID TimerID `json:"id"`
}

// SetLanguage sets the call's language (recorded on the call).
type SetLanguage struct {
	Language Lang `json:"language"`
}

// Route hands the call to the ACD. The IVR is done with the call.
type Route struct {
	Queue    string   `json:"queue"`
	Skills   []string `json:"skills,omitempty"`
	Language Lang     `json:"language"`
	Priority int      `json:"priority"`
}

// LookupTicket asks the adapter to look the ticket up and answer with LookupResult. When
// found, the adapter links the call to the ticket.
type LookupTicket struct {
	Number   string `json:"number"`
	Language Lang   `json:"language"`
}

// RequestCallback books a callback. An empty Number means the number the call comes from.
type RequestCallback struct {
	Number   string `json:"number,omitempty"`
	Queue    string `json:"queue,omitempty"`
	Language Lang   `json:"language"`
}

// HangUp ends the call. Reason is "menu" (a hangup node), or "menu_error" when the menu led
// nowhere (only an unvalidated menu can).
type HangUp struct {
	Reason string `json:"reason"`
}

func (EnterNode) isAction()       {}
func (DigitReceived) isAction()   {}
func (Play) isAction()            {}
func (StopPlayback) isAction()    {}
func (StartTimer) isAction()      {}
func (CancelTimer) isAction()     {}
func (SetLanguage) isAction()     {}
func (Route) isAction()           {}
func (LookupTicket) isAction()    {}
func (RequestCallback) isAction() {}
func (HangUp) isAction()          {}

func (a EnterNode) String() string { return fmt.Sprintf("enter %s (%s)", a.Node, a.Kind) }
func (a DigitReceived) String() string {
	if a.Ignored {
		return fmt.Sprintf("digit %s at %s (ignored)", a.Digit, a.Node)
	}
	return fmt.Sprintf("digit %s at %s", a.Digit, a.Node)
}
func (a Play) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "play #%d", a.ID)
	if a.BargeIn {
		b.WriteString(" barge-in")
	}
	for _, p := range a.Prompts {
		b.WriteString(" ")
		if p.Dynamic {
			fmt.Fprintf(&b, "%s:%q", p.Lang, p.Text)
		} else {
			b.WriteString(strings.TrimPrefix(string(p.Key), "nodes."))
		}
	}
	return b.String()
}
func (a StopPlayback) String() string { return fmt.Sprintf("stop #%d", a.ID) }
func (a StartTimer) String() string {
	return fmt.Sprintf("timer #%d %s at %s", a.ID, a.After, a.At.Format(time.RFC3339))
}
func (a CancelTimer) String() string { return fmt.Sprintf("cancel timer #%d", a.ID) }
func (a SetLanguage) String() string { return fmt.Sprintf("language %s", a.Language) }
func (a Route) String() string {
	return fmt.Sprintf("route queue=%s skills=%s language=%s priority=%d", a.Queue, strings.Join(a.Skills, ","), a.Language, a.Priority)
}
func (a LookupTicket) String() string {
	return fmt.Sprintf("lookup ticket %s language=%s", a.Number, a.Language)
}
func (a RequestCallback) String() string {
	n := a.Number
	if n == "" {
		n = "(caller)"
	}
	return fmt.Sprintf("callback number=%s queue=%s language=%s", n, a.Queue, a.Language)
}
func (a HangUp) String() string { return "hangup " + a.Reason }

// Event is something that happened to the call, fed to Call.Step.
type Event interface{ isEvent() }

// PromptFinished: playback ID ended (or failed: the call goes on as if it had ended).
type PromptFinished struct{ ID PlaybackID }

// DTMF: the caller pressed a key ('0'-'9', '*', '#'; other bytes are ignored).
type DTMF struct{ Digit byte }

// TimerFired: timer ID ran out.
type TimerFired struct{ ID TimerID }

// LookupStatus is the answer to a LookupTicket.
type LookupStatus uint8

const (
	LookupUnknownStatus LookupStatus = iota // zero value: not set (treated as failed)
	LookupFound                             // the ticket exists
	LookupNotFound                          // no ticket has that number
	LookupFailed                            // the lookup could not be done (database down, …)
)

// TicketInfo is what a resident hears about a ticket, with the texts already in the call's
// language (the adapter asked in LookupTicket.Language).
type TicketInfo struct {
	Status   string    `json:"status"`
	Category string    `json:"category"`
	Unit     string    `json:"unit"`
	Updated  time.Time `json:"updated"`
}

// LookupResult answers LookupTicket.
type LookupResult struct {
	Number string
	Status LookupStatus
	Ticket TicketInfo
}

// CallerHangUp: the caller hung up.
type CallerHangUp struct{}

func (PromptFinished) isEvent() {}
func (DTMF) isEvent()           {}
func (TimerFired) isEvent()     {}
func (LookupResult) isEvent()   {}
func (CallerHangUp) isEvent()   {}
