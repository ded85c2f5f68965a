package protocol

import "sync"

// Checker tracks one connection's protocol state and says whether a client message may arrive
// now. It is pure (no I/O, no clock) and safe for concurrent use, so the reader goroutine can
// call Received while the writer goroutine calls Sent. A resumed session starts with a new
// Checker; the welcome that carries the resumed call or wrap-up restores that state.
//
// Rules enforced (everything else is left to the server):
//   - before the welcome only hello is accepted (hello_required); a second hello is out_of_order;
//   - offer.accept / offer.reject need an outstanding offer with that offer_id;
//   - call controls need a connected call with that call_id; call.hold needs it not held and
//     call.resume needs it held; call.record_pause needs its recording not paused and
//     call.record_resume needs it paused;
//   - wrapup.submit needs a wrap-up in progress for that call_id;
//   - webrtc.answer needs an outstanding webrtc.offer from the server.
type Checker struct {
	mu          sync.Mutex
	helloSeen   bool
	welcomed    bool
	offers      map[string]string // offer_id → call_id, outstanding
	call        string            // connected call
	held        bool
	recPaused   bool   // the connected call's recording is paused
	wrapup      string // call in wrap-up
	serverOffer bool   // the server's webrtc.offer awaits an answer
}

// NewChecker returns the state of a fresh connection.
func NewChecker() *Checker { return &Checker{offers: map[string]string{}} }

// Received checks a decoded client message against the connection's state and, if it may come
// now, records it. The error is an *Error (hello_required or out_of_order) with Re set.
func (c *Checker) Received(env Envelope) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.received(env); e != nil {
		e.Re = env.ID
		return e
	}
	return nil
}

func (c *Checker) received(env Envelope) *Error {
	if env.Type == TypeHello {
		if c.helloSeen {
			return errorf(CodeOutOfOrder, "", "hello was already received on this connection")
		}
		c.helloSeen = true
		return nil
	}
	if !c.welcomed {
		return errorf(CodeHelloRequired, "", "send hello and wait for welcome before %s", env.Type)
	}
	switch m := env.Data.(type) {
	case *OfferAccept:
		return c.takeOffer(m.OfferID)
	case *OfferReject:
		return c.takeOffer(m.OfferID)
	case *CallHangup:
		return c.onCall(m.CallID)
	case *CallHold:
		if e := c.onCall(m.CallID); e != nil {
			return e
		}
		if c.held {
			return errorf(CodeOutOfOrder, "", "call %s is already on hold", m.CallID)
		}
	case *CallResume:
		if e := c.onCall(m.CallID); e != nil {
			return e
		}
		if !c.held {
			return errorf(CodeOutOfOrder, "", "call %s is not on hold", m.CallID)
		}
	case *CallRecordPause:
		if e := c.onCall(m.CallID); e != nil {
			return e
		}
		if c.recPaused {
			return errorf(CodeOutOfOrder, "", "the recording of call %s is already paused", m.CallID)
		}
	case *CallRecordResume:
		if e := c.onCall(m.CallID); e != nil {
			return e
		}
		if !c.recPaused {
			return errorf(CodeOutOfOrder, "", "the recording of call %s is not paused", m.CallID)
		}
	case *CallMute:
		return c.onCall(m.CallID)
	case *CallUnmute:
		return c.onCall(m.CallID)
	case *CallDTMF:
		return c.onCall(m.CallID)
	case *CallTransfer:
		return c.onCall(m.CallID)
	case *WrapupSubmit:
		if c.wrapup == "" || c.wrapup != m.CallID {
			return errorf(CodeOutOfOrder, "", "no wrap-up in progress for call %s", m.CallID)
		}
	case *WebRTCAnswer:
		if !c.serverOffer {
			return errorf(CodeOutOfOrder, "", "no webrtc.offer from the server awaits an answer")
		}
		c.serverOffer = false
	case *WebRTCOffer:
		c.serverOffer = false // glare: the server, the polite side, rolls its offer back
	}
	return nil
}

// takeOffer consumes an outstanding offer: an offer is answered once.
func (c *Checker) takeOffer(id string) *Error {
	if _, ok := c.offers[id]; !ok {
		return errorf(CodeOutOfOrder, "", "offer %s is not outstanding (never sent, already answered, or cancelled)", id)
	}
	delete(c.offers, id)
	return nil
}

func (c *Checker) onCall(id string) *Error {
	if c.call == "" || c.call != id {
		return errorf(CodeOutOfOrder, "", "call %s is not connected to this agent", id)
	}
	return nil
}

// Sent records a message the server sent on this connection.
func (c *Checker) Sent(env Envelope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch m := env.Data.(type) {
	case *Welcome:
		c.welcomed = true
		if m.Call != nil {
			c.call, c.held, c.recPaused = m.Call.CallID, m.Call.Held, m.Call.RecordingPaused
		}
		if m.Wrapup != nil {
			c.wrapup = m.Wrapup.CallID
		}
	case *Offer:
		c.offers[m.OfferID] = m.CallID
	case *OfferCancelled:
		delete(c.offers, m.OfferID)
	case *CallConnected:
		delete(c.offers, m.OfferID)
		c.call, c.held, c.recPaused = m.CallID, false, false
	case *CallHeld:
		if m.CallID == c.call {
			c.held = true
		}
	case *CallResumed:
		if m.CallID == c.call {
			c.held = false
		}
	case *CallRecordPaused:
		if m.CallID == c.call {
			c.recPaused = true
		}
	case *CallRecordResumed:
		if m.CallID == c.call {
			c.recPaused = false
		}
	case *CallEnded:
		if m.CallID == c.call {
			c.call, c.held, c.recPaused = "", false, false
		}
	case *WrapupStarted:
		c.wrapup = m.CallID
	case *WrapupEnded:
		if m.CallID == c.wrapup {
			c.wrapup = ""
		}
	case *WebRTCOffer:
		c.serverOffer = true
	}
}
