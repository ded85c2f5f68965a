package protocol

import (
	"errors"
	"testing"
)

// step is one move in a connection: the server sends (send) or the client's message is checked
// (recv, expecting code or "" for accepted).
type step struct {
	send Message
	recv Message
	code Code
}

func runSteps(t *testing.T, c *Checker, steps []step) {
	t.Helper()
	for i, s := range steps {
		if s.send != nil {
			c.Sent(NewEnvelope("s", s.send))
			continue
		}
		err := c.Received(NewEnvelope("m", s.recv))
		var got Code
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("step %d: %v is not an *Error", i, err)
			}
			if e.Re != "m" {
				t.Errorf("step %d: re = %q", i, e.Re)
			}
			got = e.Code
		}
		if got != s.code {
			t.Fatalf("step %d (%s): got %q (%v), want %q", i, s.recv.Type(), got, err, s.code)
		}
	}
}

var welcome = &Welcome{Protocol: 1}

func TestCheckerCallLifecycle(t *testing.T) {
	runSteps(t, NewChecker(), []step{
		{recv: &Ping{}, code: CodeHelloRequired},
		{recv: &StateSet{State: StateAvailable}, code: CodeHelloRequired},
		{recv: &Hello{Protocol: 1}},
		{recv: &Ping{}, code: CodeHelloRequired}, // hello received, welcome not yet sent
		{send: welcome},
		{recv: &Hello{Protocol: 1}, code: CodeOutOfOrder},
		{recv: &Ping{}},
		{recv: &StateSet{State: StateAvailable}},
		{recv: &OfferAccept{OfferID: "o1"}, code: CodeOutOfOrder},
		{send: &Offer{OfferID: "o1", CallID: "k1"}},
		{recv: &CallHangup{CallID: "k1"}, code: CodeOutOfOrder},
		{recv: &OfferAccept{OfferID: "o2"}, code: CodeOutOfOrder},
		{recv: &OfferAccept{OfferID: "o1"}},
		{recv: &OfferAccept{OfferID: "o1"}, code: CodeOutOfOrder}, // answered once
		{send: &CallConnected{CallID: "k1", OfferID: "o1"}},
		{recv: &CallResume{CallID: "k1"}, code: CodeOutOfOrder},
		{recv: &CallHold{CallID: "k1"}},
		{send: &CallHeld{CallID: "k1"}},
		{recv: &CallHold{CallID: "k1"}, code: CodeOutOfOrder},
		{recv: &CallResume{CallID: "k1"}},
		{send: &CallResumed{CallID: "k1"}},
		{recv: &CallRecordResume{CallID: "k1"}, code: CodeOutOfOrder},
		{recv: &CallRecordPause{CallID: "k2"}, code: CodeOutOfOrder},
		{recv: &CallRecordPause{CallID: "k1"}},
		{send: &CallRecordPaused{CallID: "k1"}},
		{recv: &CallRecordPause{CallID: "k1"}, code: CodeOutOfOrder},
		{recv: &CallRecordResume{CallID: "k1"}},
		{send: &CallRecordResumed{CallID: "k1"}},
		{recv: &CallRecordPause{CallID: "k1"}},
		{send: &CallRecordPaused{CallID: "k1"}},
		{recv: &CallMute{CallID: "k1"}},
		{recv: &CallUnmute{CallID: "k1"}},
		{recv: &CallDTMF{CallID: "k1", Digits: "1"}},
		{recv: &CallDTMF{CallID: "k2", Digits: "1"}, code: CodeOutOfOrder},
		{recv: &WrapupSubmit{CallID: "k1"}, code: CodeOutOfOrder},
		{recv: &CallHangup{CallID: "k1"}},
		{send: &CallEnded{CallID: "k1"}},
		{recv: &CallTransfer{CallID: "k1", Queue: "q"}, code: CodeOutOfOrder},
		{recv: &CallRecordResume{CallID: "k1"}, code: CodeOutOfOrder}, // the call ended paused: nothing to resume
		{send: &WrapupStarted{CallID: "k1"}},
		{recv: &WrapupSubmit{CallID: "k2"}, code: CodeOutOfOrder},
		{recv: &WrapupSubmit{CallID: "k1"}},
		{send: &WrapupEnded{CallID: "k1"}},
		{recv: &WrapupSubmit{CallID: "k1"}, code: CodeOutOfOrder},
	})
}

func TestCheckerOfferCancelled(t *testing.T) {
	runSteps(t, NewChecker(), []step{
		{recv: &Hello{Protocol: 1}},
		{send: welcome},
		{send: &Offer{OfferID: "o1", CallID: "k1"}},
		{send: &OfferCancelled{OfferID: "o1", CallID: "k1"}},
		{recv: &OfferReject{OfferID: "o1"}, code: CodeOutOfOrder},
		{send: &Offer{OfferID: "o2", CallID: "k2"}},
		{recv: &OfferReject{OfferID: "o2"}},
	})
}

func TestCheckerResume(t *testing.T) {
	runSteps(t, NewChecker(), []step{
		{recv: &Hello{Protocol: 1, ResumeToken: "rt"}},
		{send: &Welcome{Protocol: 1, Resumed: true, Call: &ActiveCall{CallID: "k1", Held: true}}},
		{recv: &CallHold{CallID: "k1"}, code: CodeOutOfOrder},
		{recv: &CallResume{CallID: "k1"}},
	})
	runSteps(t, NewChecker(), []step{
		{recv: &Hello{Protocol: 1, ResumeToken: "rt"}},
		{send: &Welcome{Protocol: 1, Resumed: true, Call: &ActiveCall{CallID: "k1", RecordingPaused: true}}},
		{recv: &CallRecordPause{CallID: "k1"}, code: CodeOutOfOrder},
		{recv: &CallRecordResume{CallID: "k1"}},
	})
	runSteps(t, NewChecker(), []step{
		{recv: &Hello{Protocol: 1, ResumeToken: "rt"}},
		{send: &Welcome{Protocol: 1, Resumed: true, Wrapup: &WrapupInfo{CallID: "k1"}}},
		{recv: &WrapupSubmit{CallID: "k1"}},
	})
}

func TestCheckerWebRTC(t *testing.T) {
	runSteps(t, NewChecker(), []step{
		{recv: &WebRTCOffer{}, code: CodeHelloRequired},
		{recv: &Hello{Protocol: 1}},
		{send: welcome},
		{recv: &WebRTCOffer{}},
		{send: &WebRTCAnswer{}},
		{recv: &WebRTCCandidate{}},
		{recv: &WebRTCAnswer{}, code: CodeOutOfOrder},
		{recv: &WebRTCRestart{}},
		{send: &WebRTCOffer{Restart: true}},
		{recv: &WebRTCAnswer{}},
		{recv: &WebRTCAnswer{}, code: CodeOutOfOrder},
	})
}
