package switchboard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/CyCoreSystems/ari/v5"

	"kontakt/internal/store"
)

// DialRequest is a call Kontakt places to a resident (a callback).
type DialRequest struct {
	// Endpoint is Asterisk's dial string, e.g. PJSIP/600100200@trunk.
	Endpoint string
	// Number is the resident's number (the call row's "called"); CallerID what the resident's
	// phone shows (the contact center's number).
	Number, CallerID string
	// Ticket is the ticket the call belongs to (required).
	Ticket store.TicketID
	// Ring bounds how long the resident's phone may ring (default 30 s).
	Ring time.Duration
	// Flow runs once the resident answers, on the call's own goroutine; the call then ends as
	// any other.
	Flow Flow
	// Record, when set, adds to the call's first event ("dialing").
	Record map[string]any
}

// DialError says the resident's phone did not answer: Asterisk's hangup cause (16 normal
// clearing before an answer, 17 busy, 19 no answer, 21 rejected, 1/3/28 a bad number…).
type DialError struct {
	Cause  int
	Reason string
}

func (e *DialError) Error() string {
	return fmt.Sprintf("not answered: %s (cause %d)", e.Reason, e.Cause)
}

// causeReason names the hangup causes a dialled resident's phone gives most often.
func causeReason(cause int) string {
	switch cause {
	case 16:
		return "hung up before answering"
	case 17:
		return "busy"
	case 18, 19:
		return "no answer"
	case 21:
		return "rejected"
	case 1, 3, 28:
		return "invalid number"
	case 0:
		return "ended"
	default:
		return "failed"
	}
}

// ErrNotDialling is returned by Dial while Kontakt is not connected to Asterisk or is draining.
var ErrNotDialling = errors.New("switchboard: not placing calls now (not connected, or draining)")

// Dial calls a resident and returns when they answer (their call, whose Flow is then running)
// or when the attempt has failed: a *DialError when the phone did not answer, another error
// when Asterisk refused the call. Every attempt is a call row (direction outbound) on the
// request's ticket, with its events and Asterisk's hangup cause.
func (s *Switchboard) Dial(ctx context.Context, r DialRequest) (*Call, error) {
	if !s.connOK.Load() || s.drain.Load() {
		return nil, ErrNotDialling
	}
	if r.Flow == nil || r.Ticket == 0 || r.Endpoint == "" {
		return nil, fmt.Errorf("switchboard: a dial request needs an endpoint, a ticket and a flow")
	}
	if r.Ring <= 0 {
		r.Ring = 30 * time.Second
	}
	chID := ownPrefix + "out-" + newID()
	ch := ari.ChannelData{ID: chID, Caller: &ari.CallerID{Number: r.CallerID}, Dialplan: &ari.DialplanCEP{Exten: r.Number}}
	c := newCall(s, ch, false)
	c.dial = &r
	c.answered = make(chan error, 1)
	s.mu.Lock()
	s.routes[ari.ChannelKey+":"+chID] = c
	s.wg.Add(1)
	s.jwg.Add(1)
	s.mu.Unlock()
	s.journals.Add(1)
	go func() {
		defer s.jwg.Done()
		defer s.journals.Add(-1)
		c.journal.run(context.WithoutCancel(s.callCtx))
	}()
	go func() {
		defer s.wg.Done()
		c.run(s.callCtx)
		s.mu.Lock()
		if s.calls[chID] == c {
			delete(s.calls, chID)
			s.m.callsActive.Dec()
		}
		for k, v := range s.routes {
			if v == c {
				delete(s.routes, k)
			}
		}
		s.mu.Unlock()
	}()
	select {
	case err := <-c.answered:
		if err != nil {
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		c.Post(dialCancelled{})
		return nil, ctx.Err()
	}
}

// dialCancelled tells a ringing outbound call to give up.
type dialCancelled struct{}

// ring places the outbound call and waits for the answer; it reports the result on c.answered.
func (c *Call) ring(ctx context.Context) error {
	r := c.dial
	data := map[string]any{"number": r.Number, "endpoint": r.Endpoint, "ring_s": int(r.Ring / time.Second)}
	for k, v := range r.Record {
		data[k] = v
	}
	c.Record(EvDialing, data)
	t := time.Now()
	_, err := c.sb.ari.Channel().Originate(nil, ari.OriginateRequest{
		Endpoint:  r.Endpoint,
		App:       c.sb.o.ARI.App,
		AppArgs:   "callback",
		ChannelID: c.ChannelID,
		CallerID:  fmt.Sprintf("\"19115\" <%s>", r.CallerID),
		Timeout:   int((r.Ring + time.Second - 1) / time.Second),
		Formats:   "ulaw",
	})
	c.sb.m.observe("originate", t)
	if err != nil {
		c.Record(EvDialFailed, map[string]any{"reason": "asterisk refused the call: " + err.Error()})
		return fmt.Errorf("switchboard: originate: %w", err)
	}
	giveUp := time.NewTimer(r.Ring + 5*time.Second)
	defer giveUp.Stop()
	key := ari.NewKey(ari.ChannelKey, c.ChannelID)
	giveUpNow := func() { // Kontakt ends the ringing itself
		c.byUs = true
		c.sb.ari.Channel().Hangup(key, "normal")
	}
	for {
		evs := c.mb.take()
		for i, ev := range evs {
			switch e := ev.ARI.(type) {
			case *ari.StasisStart:
				c.Start = time.Now()
				c.Record(EvDialAnswered, map[string]any{"after_ms": time.Since(t).Milliseconds()})
				c.pending = append(c.pending, evs[i+1:]...) // a hang-up right after the answer
				return nil
			case *ari.ChannelStateChange:
				if e.Channel.State == "Ringing" {
					c.Record(EvDialRinging, nil)
				}
			case *ari.ChannelHangupRequest:
				c.cause = e.Cause
			case *ari.ChannelDestroyed:
				c.cause = e.Cause
				c.gone = true
				de := &DialError{Cause: e.Cause, Reason: causeReason(e.Cause)}
				c.Record(EvDialFailed, map[string]any{"cause": e.Cause, "reason": de.Reason})
				return de
			}
			if _, ok := ev.Data.(dialCancelled); ok {
				giveUpNow() // its ChannelDestroyed ends the wait
			}
		}
		select {
		case <-c.mb.ready():
		case <-giveUp.C:
			giveUpNow()
			c.gone = true
			c.cause = 19
			de := &DialError{Cause: 19, Reason: "no answer"}
			c.Record(EvDialFailed, map[string]any{"cause": 19, "reason": de.Reason + " (no word from asterisk)"})
			return de
		case <-ctx.Done():
			giveUpNow()
			c.gone = true
			c.Record(EvDialFailed, map[string]any{"reason": "kontakt is stopping"})
			return errForced
		}
	}
}

// answeredOutbound moves an answered outbound call among the calls Kontakt watches (reconcile,
// Active) now that its channel is in the application.
func (s *Switchboard) answeredOutbound(c *Call) {
	s.mu.Lock()
	s.calls[c.ChannelID] = c
	s.mu.Unlock()
	s.m.callsStarted.Inc()
	s.m.callsActive.Inc()
}
