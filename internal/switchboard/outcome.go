package switchboard

import "fmt"

// Outcome is how a call ended: a small closed set, the only values of outcome labels and of
// calls.outcome in the database.
type Outcome string

// The outcomes.
const (
	OutcomeUnknown     Outcome = ""
	OutcomeAnswered    Outcome = "answered"     // a consultant talked with the resident
	OutcomeAbandoned   Outcome = "abandoned"    // the resident hung up before being served
	OutcomeSelfService Outcome = "self_service" // ended in the IVR by design (information, ticket status)
	OutcomeCallback    Outcome = "callback"     // the resident asked to be called back
	OutcomeMessage     Outcome = "message"      // a voice message left while Kontakt was away
	OutcomeFailed      Outcome = "failed"       // a technical failure ended the call
)

// ParseOutcome reads an outcome's name.
func ParseOutcome(s string) (Outcome, error) {
	for _, o := range Outcomes {
		if string(o) == s {
			return o, nil
		}
	}
	return OutcomeUnknown, fmt.Errorf("unknown call outcome %q", s)
}

func (o Outcome) String() string {
	if o == OutcomeUnknown {
		return "unknown"
	}
	return string(o)
}

// EventType is the type of a call event: a closed set recorded in call_events.type.
type EventType string

// The call event types.
const (
	EvStasisStart    EventType = "stasis_start"    // the call entered Kontakt
	EvRecovered      EventType = "recovered"       // Kontakt took the call over after a restart or reconnect
	EvAnswered       EventType = "answered"        // Kontakt answered the call
	EvBridged        EventType = "bridged"         // the caller is in the call's bridge
	EvPromptStarted  EventType = "prompt_started"  // a prompt began playing
	EvPromptFinished EventType = "prompt_finished" // a prompt finished (or was stopped, or failed)
	EvDTMF           EventType = "dtmf"            // the caller pressed a key
	EvCallerHangup   EventType = "caller_hangup"   // the caller hung up
	EvKontaktHangup  EventType = "kontakt_hangup"  // Kontakt ended the call
	EvLost           EventType = "lost"            // the channel disappeared while Kontakt was not listening
	EvFailed         EventType = "failed"          // a command on the call failed
	EvEnded          EventType = "ended"           // the call is over (last event)
	EvMessage        EventType = "voice_message"   // a message recorded by the dialplan while Kontakt was away
	EvDialing        EventType = "dialing"         // Kontakt is calling the resident (a callback)
	EvDialRinging    EventType = "dial_ringing"    // the resident's phone rings
	EvDialAnswered   EventType = "dial_answered"   // the resident answered Kontakt's call
	EvDialFailed     EventType = "dial_failed"     // the resident's phone did not answer (busy, no answer…)

	EvIVRStart          EventType = "ivr_start"          // the call entered a menu version
	EvIVRNode           EventType = "ivr_node"           // the call entered a menu node
	EvIVRDigit          EventType = "ivr_digit"          // a key at a node (ignored when the node was not listening)
	EvIVRPlay           EventType = "ivr_play"           // the menu played prompts (keys, dynamic texts)
	EvIVREnd            EventType = "ivr_end"            // the call left the menu
	EvLanguage          EventType = "language"           // the call's language was set
	EvTicketStatus      EventType = "ticket_status"      // a ticket's status was looked up for the caller
	EvCallbackRequested EventType = "callback_requested" // the caller asked to be called back
	EvCallbackOffered   EventType = "callback_offered"   // a waiting caller was offered a callback keeping their place
	EvCallbackLate      EventType = "callback_late"      // the resident answered a callback after Kontakt gave the attempt up
	EvCallbackRefused   EventType = "callback_refused"   // a keyed callback number was not valid (said so to the caller)
	EvRouted            EventType = "routed"             // the menu handed the call to a queue
	EvQueued            EventType = "queued"             // the call waits in a queue
	EvOffered           EventType = "offered"            // the call was offered to an agent
	EvOfferCancelled    EventType = "offer_cancelled"    // the offer was withdrawn (no answer, declined)
	EvAgentConnected    EventType = "agent_connected"    // the caller is talking with an agent
	EvAgentMedia        EventType = "agent_media"        // the agent leg's packet counts when it ended
	EvRecording         EventType = "recording"          // the leg is being recorded
	EvTransferred       EventType = "transferred"        // the agent sent the caller to another queue
	EvAnnounced         EventType = "announced"          // a waiting caller heard their position and expected wait
	EvHeld              EventType = "held"               // the agent put the caller on hold
	EvResumed           EventType = "resumed"            // the agent took the caller off hold
	EvRecordingPaused   EventType = "recording_paused"   // the agent paused the leg's recording (sensitive data)
	EvRecordingResumed  EventType = "recording_resumed"  // the agent resumed it
)
