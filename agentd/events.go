package agentd

import (
	"time"

	"kontakt/agentd/media"
	"kontakt/agentd/protocol"
)

// The methods below are how the call side reaches agents. They never block on a socket: a frame
// is queued (or, while the agent's socket is down, only the session's state is updated for the
// welcome of a resume). They may be called from any goroutine, also from inside a Calls method.

// withSession runs f holding the signed-in agent's session lock.
func (s *Server) withSession(agent AgentID, f func(ss *session) error) error {
	s.mu.Lock()
	ss := s.sessions[agent]
	s.mu.Unlock()
	if ss == nil {
		return ErrNotSignedIn
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return ErrNotSignedIn
	}
	return f(ss)
}

// Offer sends the screen-pop: a call offered to the agent. It fails for an invalid offer (a
// *protocol.Error naming the field), an agent who is not signed in (ErrNotSignedIn) or whose
// socket is down (ErrDisconnected), or who already has an offer, a call or a wrap-up (ErrBusy);
// the call side then offers the call to someone else.
func (s *Server) Offer(agent AgentID, o protocol.Offer) error {
	if _, err := protocol.Encode(protocol.NewEnvelope("", &o)); err != nil {
		return err
	}
	return s.withSession(agent, func(ss *session) error {
		if ss.conn == nil {
			return ErrDisconnected
		}
		if ss.offer != nil || ss.accepting != nil || ss.call != nil || ss.wrapup != nil {
			return ErrBusy
		}
		ss.offer = &o
		ss.emit(&o, "")
		s.m.offers.Inc()
		return nil
	})
}

// CancelOffer withdraws the offer of call: reason caller_hangup, timeout or rerouted. If the
// agent has just accepted it, the accept is answered with a conflict error.
func (s *Server) CancelOffer(agent AgentID, call CallID, reason string) error {
	return s.withSession(agent, func(ss *session) error {
		var o *protocol.Offer
		switch {
		case ss.offer != nil && ss.offer.CallID == string(call):
			o, ss.offer = ss.offer, nil
		case ss.accepting != nil && ss.accepting.offer.CallID == string(call):
			a := ss.accepting
			o, ss.accepting = a.offer, nil
			ss.sendLocked(protocol.ErrorReply("", &protocol.Error{Code: protocol.CodeConflict,
				Message: "the offer was withdrawn (" + reason + ")", Re: a.re}))
		default:
			return ErrUnknownCall
		}
		ss.emit(&protocol.OfferCancelled{OfferID: o.OfferID, CallID: o.CallID, Reason: reason}, "")
		return nil
	})
}

// CallConnected says the caller is bridged with the agent's softphone: call.connected answers
// the agent's offer.accept, or (a callback's offer) says the resident answered.
func (s *Server) CallConnected(agent AgentID, call CallID) error {
	return s.withSession(agent, func(ss *session) error {
		a := ss.accepting
		if a == nil && ss.offer != nil && ss.offer.Callback != nil && ss.offer.CallID == string(call) {
			// a callback: the resident answered; nobody accepted, nothing to reply to
			a, ss.offer = &accepting{offer: ss.offer}, nil
		}
		if a == nil || a.offer.CallID != string(call) {
			if ss.call != nil && ss.call.info.CallID == string(call) {
				return nil // said twice
			}
			return ErrUnknownCall
		}
		ss.accepting = nil
		now := s.opts.Now().UTC()
		o := a.offer
		ss.call = &activeCall{offerID: o.OfferID, info: protocol.ActiveCall{CallID: o.CallID, TicketNumber: o.Ticket.Number,
			Caller: o.Caller, Queue: o.Queue, ConnectedAt: now}}
		ss.emit(&protocol.CallConnected{CallID: o.CallID, OfferID: o.OfferID, At: now}, a.re)
		return nil
	})
}

// CallHeld says the caller is on hold (hears music).
func (s *Server) CallHeld(agent AgentID, call CallID) error { return s.setHeld(agent, call, true) }

// CallResumed says the caller is off hold.
func (s *Server) CallResumed(agent AgentID, call CallID) error { return s.setHeld(agent, call, false) }

func (s *Server) setHeld(agent AgentID, call CallID, held bool) error {
	return s.withSession(agent, func(ss *session) error {
		if ss.call == nil || ss.call.info.CallID != string(call) {
			return ErrUnknownCall
		}
		if ss.call.info.Held == held {
			return nil
		}
		ss.call.info.Held = held
		ev := protocol.CallEvent{CallID: string(call), At: s.opts.Now().UTC()}
		if held {
			ss.emit((*protocol.CallHeld)(&ev), "")
		} else {
			ss.emit((*protocol.CallResumed)(&ev), "")
		}
		return nil
	})
}

// CallEnded says the call is over for the agent: reason caller_hangup, agent_hangup,
// transferred, media_failed, supervisor or error. A call that ends while its accept is still
// waiting for CallConnected answers the accept with a conflict error.
func (s *Server) CallEnded(agent AgentID, call CallID, reason string) error {
	return s.withSession(agent, func(ss *session) error {
		now := s.opts.Now().UTC()
		switch {
		case ss.call != nil && ss.call.info.CallID == string(call):
			ended := ss.call
			ss.call, ss.lastCall = nil, ended
			ss.emit(&protocol.CallEnded{CallID: string(call), Reason: reason, At: now,
				DurationMS: max(0, now.Sub(ended.info.ConnectedAt).Milliseconds())}, "")
		case ss.accepting != nil && ss.accepting.offer.CallID == string(call):
			a := ss.accepting
			ss.accepting = nil
			ss.sendLocked(protocol.ErrorReply("", &protocol.Error{Code: protocol.CodeConflict,
				Message: "the call ended before it was connected (" + reason + ")", Re: a.re}))
			cancelled := "rerouted"
			if reason == "caller_hangup" {
				cancelled = reason
			}
			ss.emit(&protocol.OfferCancelled{OfferID: a.offer.OfferID, CallID: a.offer.CallID, Reason: cancelled}, "")
		default:
			return ErrUnknownCall
		}
		return nil
	})
}

// WrapupStarted says the agent's wrap-up of call has begun; it ends at deadline (the call side
// times it out with WrapupEnded "timeout").
func (s *Server) WrapupStarted(agent AgentID, call CallID, deadline time.Time) error {
	return s.withSession(agent, func(ss *session) error {
		var c *activeCall
		switch {
		case ss.lastCall != nil && ss.lastCall.info.CallID == string(call):
			c = ss.lastCall
		case ss.call != nil && ss.call.info.CallID == string(call):
			c = ss.call
		default:
			return ErrUnknownCall
		}
		ss.wrapup = &protocol.WrapupInfo{CallID: string(call), TicketNumber: c.info.TicketNumber, Deadline: deadline.UTC()}
		w := protocol.WrapupStarted(*ss.wrapup)
		ss.emit(&w, "")
		return nil
	})
}

// WrapupEnded says the wrap-up is over: reason timeout or supervisor ("submitted" is sent by
// agentd itself when Calls.WrapUp succeeds; saying it here too is harmless).
func (s *Server) WrapupEnded(agent AgentID, call CallID, reason string) error {
	return s.withSession(agent, func(ss *session) error {
		if ss.wrapup == nil || ss.wrapup.CallID != string(call) {
			if reason == "submitted" {
				return nil
			}
			return ErrUnknownCall
		}
		w := ss.wrapup
		ss.wrapup = nil
		ss.emit(&protocol.WrapupEnded{CallID: w.CallID, TicketNumber: w.TicketNumber, Reason: reason}, ss.submitRe)
		return nil
	})
}

// StateChanged reports the agent's state (available, paused with a reason, offline, offered,
// on_call, wrapup) and since when. During the agent's state.set it is that request's reply.
func (s *Server) StateChanged(agent AgentID, state protocol.AgentState, reason string, since time.Time) error {
	st := protocol.State{State: state, Reason: reason, Since: since.UTC()}
	if _, err := protocol.Encode(protocol.NewEnvelope("", &st)); err != nil {
		return err
	}
	return s.withSession(agent, func(ss *session) error {
		ss.state = protocol.StateInfo(st)
		re := ""
		if r := ss.req; r != nil && r.typ == protocol.TypeStateSet && !r.replied {
			re = r.id
		}
		ss.emit(&st, re)
		return nil
	})
}

// Media returns the agent's softphone, if it is up, for the call side to Attach the call's
// externalMedia leg to.
func (s *Server) Media(agent AgentID) (*media.Session, bool) {
	var med *media.Session
	_ = s.withSession(agent, func(ss *session) error {
		if !ss.medDead {
			med = ss.med
		}
		return nil
	})
	return med, med != nil
}

// Connected reports whether the agent is signed in and its socket is up.
func (s *Server) Connected(agent AgentID) bool {
	return s.withSession(agent, func(ss *session) error {
		if ss.conn == nil {
			return ErrDisconnected
		}
		return nil
	}) == nil
}

// SignOut ends the agent's session (an administrator's or "sign out everywhere"): the socket is
// closed with 4001 and Calls.AgentGone is called with reason "signed_out".
func (s *Server) SignOut(agent AgentID) error {
	s.mu.Lock()
	ss := s.sessions[agent]
	s.mu.Unlock()
	if ss == nil {
		return ErrNotSignedIn
	}
	ss.mu.Lock()
	c := ss.conn
	ss.mu.Unlock()
	if c != nil {
		c.close(protocol.CloseUnauthorized, "signed out")
	}
	s.endSession(ss, "signed_out", false)
	return nil
}
