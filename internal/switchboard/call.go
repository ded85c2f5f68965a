package switchboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5"

	"kontakt/internal/store"
)

// ErrHangup is returned by a call's methods once the caller has hung up (or the channel is gone).
var ErrHangup = errors.New("the caller hung up")

// errForced is returned when Kontakt is forced to stop.
var errForced = errors.New("kontakt is stopping")

// Flow runs an answered call. It returns the outcome when Kontakt ends the call (the caller is
// then hung up), or an error: ErrHangup when the caller hung up.
type Flow interface {
	Handle(ctx context.Context, c *Call) (Outcome, error)
}

// Call is one resident's call, driven by its own goroutine. Its methods are for the Flow
// running on that goroutine.
type Call struct {
	ID        store.CallID
	ChannelID string
	Caller    string
	Called    string
	Ref       string
	Start     time.Time // StasisStart as Kontakt received it

	sb       *Switchboard
	mb       *mailbox[Event]
	journal  *journal
	log      *slog.Logger
	adopted  bool
	bridgeID string
	agentLeg string // the agent's externalMedia channel, while connected
	seq      int
	gone     bool
	lost     bool // gone without Kontakt hearing how
	cause    int
	byUs     bool
	prompted bool
	pending  []Event // events taken from the mailbox, not yet returned by Next
	pathMu   sync.Mutex
	path     []PathStep
	dial     *DialRequest  // an outbound call (Switchboard.Dial)
	answered chan error    // an outbound call's answer, or why it failed
	done     chan struct{} // closed when the call is over
}

// PathStep is one IVR node the call passed, with the keys pressed there.
type PathStep struct {
	Node, Kind, Digits string
}

func newCall(s *Switchboard, ch ari.ChannelData, adopted bool) *Call {
	id := store.CallID(newID())
	c := &Call{
		ID: id, ChannelID: ch.ID, Caller: ch.Caller.Number, Called: ch.Dialplan.Exten,
		Ref: ch.ChannelVars["KONTAKT_REF"], Start: time.Now(),
		sb: s, mb: newMailbox[Event](), adopted: adopted, done: make(chan struct{}),
	}
	c.log = s.log.With("call_id", id, "channel", ch.ID)
	c.journal = newJournal(id, s.o.Store, c.log, s.m)
	return c
}

// Ticket waits (at most until ctx ends) until the call's ticket row exists and returns it.
func (c *Call) Ticket(ctx context.Context) (store.Ticket, error) {
	select {
	case <-c.journal.created:
		return c.journal.ticket, nil
	case <-ctx.Done():
		return store.Ticket{}, ctx.Err()
	}
}

// Post hands the call's goroutine one of Kontakt's own events (from any goroutine); Next
// returns it as an Event of Type "kontakt" with the data.
func (c *Call) Post(data any) { c.mb.put(Event{Type: "kontakt", Data: data}) }

// IVRPath returns the nodes the call has passed so far (safe from any goroutine).
func (c *Call) IVRPath() []PathStep {
	c.pathMu.Lock()
	defer c.pathMu.Unlock()
	return append([]PathStep(nil), c.path...)
}

// Record appends an event to the call's history.
func (c *Call) Record(t EventType, data map[string]any) {
	switch t {
	case EvIVRNode:
		c.pathMu.Lock()
		c.path = append(c.path, PathStep{Node: fmt.Sprint(data["node"]), Kind: fmt.Sprint(data["kind"])})
		c.pathMu.Unlock()
	case EvIVRDigit:
		if ig, _ := data["ignored"].(bool); !ig {
			c.pathMu.Lock()
			if n := len(c.path); n > 0 {
				c.path[n-1].Digits += fmt.Sprint(data["digit"])
			}
			c.pathMu.Unlock()
		}
	}
	c.seq++
	c.journal.event(store.CallEvent{Seq: c.seq, At: time.Now(), Type: string(t), Data: data})
}

// Done is closed when the call is over (safe from any goroutine).
func (c *Call) Done() <-chan struct{} { return c.done }

func (c *Call) run(ctx context.Context) {
	defer close(c.done)
	defer c.mb.close()
	if c.adopted {
		if prev, err := c.sb.o.Store.CallByChannel(ctx, c.ChannelID); err == nil {
			c.ID = prev.ID
			c.journal.id = prev.ID
			c.log = c.sb.log.With("call_id", prev.ID, "channel", c.ChannelID)
			c.seq = 1000 // events after a takeover follow the earlier process's events
		}
		c.Record(EvRecovered, nil)
	}
	nc := store.NewCall{ID: c.ID, ChannelID: c.ChannelID, Caller: c.Caller, Called: c.Called,
		CallerRef: c.Ref, StartedAt: c.Start}
	if c.dial != nil {
		nc.Direction, nc.TicketID = "outbound", c.dial.Ticket
	}
	c.journal.create(nc)
	if !c.adopted && c.dial == nil {
		c.Record(EvStasisStart, map[string]any{"caller": c.Caller, "called": c.Called})
	}
	c.log.Info("call started", "caller", c.Caller, "called", c.Called, "adopted", c.adopted, "outbound", c.dial != nil)

	var outcome Outcome
	var err error
	if c.dial != nil {
		if derr := c.ring(ctx); derr != nil {
			c.answered <- derr
			outcome = OutcomeFailed
			if errors.Is(derr, errForced) {
				err = derr
			}
		} else {
			c.sb.answeredOutbound(c)
			c.Record(EvStasisStart, map[string]any{"caller": c.Caller, "called": c.Called})
			c.answered <- nil
			outcome, err = c.setupAndHandle(ctx)
		}
	} else {
		outcome, err = c.setupAndHandle(ctx)
	}
	switch {
	case c.lost:
		// The channel vanished while Kontakt was not listening (Asterisk crashed or restarted):
		// nobody knows how the call ended, so it counts as failed.
		outcome = OutcomeFailed
	case errors.Is(err, ErrHangup) && outcome == OutcomeUnknown:
		outcome = OutcomeAbandoned
	case errors.Is(err, errForced) || ctx.Err() != nil:
		outcome = OutcomeFailed
		c.Record(EvFailed, map[string]any{"reason": "kontakt was forced to stop"})
	case err != nil && !errors.Is(err, ErrHangup):
		c.log.Warn("call failed", "err", err)
		c.Record(EvFailed, map[string]any{"reason": err.Error()})
		if outcome == OutcomeUnknown {
			outcome = OutcomeFailed
		}
	}
	c.DisconnectAgent()
	if !c.gone {
		c.hangup()
	}
	c.cleanup()
	end := time.Now()
	c.Record(EvEnded, map[string]any{"outcome": string(outcome), "by": map[bool]string{true: "kontakt", false: "caller"}[c.byUs]})
	id, cause := c.ID, c.cause
	c.journal.push(func(ctx context.Context) error {
		return c.sb.o.Store.EndCall(ctx, id, end, string(outcome), cause)
	})
	c.journal.close()
	c.sb.m.callsEnded.WithLabelValues(string(outcome)).Inc()
	c.log.Info("call ended", "outcome", outcome, "by_kontakt", c.byUs, "duration", end.Sub(c.Start).Round(time.Millisecond))
}

// setupAndHandle answers the call, puts the caller into the call's own bridge (commands on a
// bridged channel take ~1 ms; on a bare Stasis channel without media they can wait ~200 ms),
// then runs the flow.
func (c *Call) setupAndHandle(ctx context.Context) (Outcome, error) {
	if err := c.check(ctx); err != nil {
		return OutcomeUnknown, err
	}
	ari_ := c.sb.ari
	key := ari.NewKey(ari.ChannelKey, c.ChannelID)
	c.bridgeID = ownPrefix + "b-" + string(c.ID)
	c.sb.register(c, ari.BridgeKey+":"+c.bridgeID)
	t := time.Now()
	_, err := ari_.Bridge().Create(ari.NewKey(ari.BridgeKey, c.bridgeID), "mixing", c.bridgeID)
	c.sb.m.observe("bridge_create", t)
	if err != nil {
		c.bridgeID = ""
		return OutcomeUnknown, c.fail("create bridge", err)
	}
	t = time.Now()
	err = ari_.Bridge().AddChannel(ari.NewKey(ari.BridgeKey, c.bridgeID), c.ChannelID)
	c.sb.m.observe("bridge_add", t)
	if err != nil {
		return OutcomeUnknown, c.fail("add to bridge", err)
	}
	c.Record(EvBridged, map[string]any{"bridge": c.bridgeID})
	if c.dial == nil { // an outbound call is answered by the resident
		t = time.Now()
		err = ari_.Channel().Answer(key)
		c.sb.m.observe("answer", t)
		if err != nil {
			return OutcomeUnknown, c.fail("answer", err)
		}
	}
	now := time.Now()
	c.Record(EvAnswered, nil)
	id := c.ID
	c.journal.push(func(ctx context.Context) error { return c.sb.o.Store.CallAnswered(ctx, id, now) })
	if err := c.check(ctx); err != nil {
		return OutcomeUnknown, err
	}
	if c.dial != nil {
		return c.dial.Flow.Handle(ctx, c)
	}
	return c.sb.o.Flow.Handle(ctx, c)
}

// fail turns a failed command into ErrHangup when the channel is gone, or an error.
func (c *Call) fail(what string, err error) error {
	if isNotFound(err) || c.drainGone() {
		return ErrHangup
	}
	return fmt.Errorf("%s: %w", what, err)
}

// check takes queued events without waiting: it returns ErrHangup once the caller is gone.
func (c *Call) check(ctx context.Context) error {
	if ctx.Err() != nil {
		return errForced
	}
	if c.drainGone() {
		return ErrHangup
	}
	return nil
}

// drainGone handles queued hang-up events and reports whether the caller is gone; other
// events stay queued for Next.
func (c *Call) drainGone() bool {
	if c.gone {
		return true
	}
	evs := c.mb.take()
	for _, ev := range evs {
		c.observe(ev)
	}
	// put back what a flow may still want, in order
	for _, ev := range evs {
		if !isHangupEvent(ev) {
			c.pending = append(c.pending, ev)
		}
	}
	return c.gone
}

func isHangupEvent(ev Event) bool {
	switch ev.Type {
	case "StasisEnd", "ChannelDestroyed", "ChannelHangupRequest", string(EvLost):
		return true
	}
	return false
}

// observe updates the call's state from an event concerning its channel.
func (c *Call) observe(ev Event) {
	switch e := ev.ARI.(type) {
	case *ari.ChannelHangupRequest:
		if e.Channel.ID == c.ChannelID {
			c.cause = e.Cause
			if !c.byUs {
				c.goneNow("hangup request")
			}
		}
	case *ari.ChannelDestroyed:
		if e.Channel.ID == c.ChannelID {
			c.cause = e.Cause
			c.goneNow("destroyed")
		}
	case *ari.StasisEnd:
		if e.Channel.ID == c.ChannelID {
			c.goneNow("left stasis")
		}
	}
	if ev.Type == string(EvLost) && !c.gone {
		c.gone, c.lost = true, true
		c.Record(EvLost, map[string]any{"reason": "channel gone while kontakt was not listening"})
	}
}

func (c *Call) goneNow(how string) {
	if c.gone {
		return
	}
	c.gone = true
	if !c.byUs {
		c.Record(EvCallerHangup, map[string]any{"how": how, "cause": c.cause})
	}
}

// NextUntil is Next with a deadline: fired is true when the deadline passed first. A zero
// deadline waits without one.
func (c *Call) NextUntil(ctx context.Context, deadline time.Time) (ev Event, fired bool, err error) {
	var timer <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timer = t.C
	}
	for {
		if err := c.check(ctx); err != nil {
			return Event{}, false, err
		}
		if len(c.pending) > 0 {
			ev := c.pending[0]
			c.pending = c.pending[1:]
			c.noteEvent(ev)
			return ev, false, nil
		}
		select {
		case <-c.mb.ready():
		case <-ctx.Done():
		case <-timer:
			return Event{}, true, nil
		}
	}
}

// StopPlayback stops a playback started with Play.
func (c *Call) StopPlayback(id string) {
	t := time.Now()
	err := c.sb.ari.Playback().Stop(ari.NewKey(ari.PlaybackKey, id))
	c.sb.m.observe("playback_stop", t)
	if err != nil && !isNotFound(err) {
		c.log.Warn("stop playback failed", "playback", id, "err", err)
	}
}

// setMenu records the menu version and language the call runs with.
func (c *Call) setMenu(menuID string, version int, lang string) {
	id := c.ID
	c.journal.push(func(ctx context.Context) error {
		return c.sb.o.Store.SetCallMenu(ctx, id, menuID, version, lang)
	})
}

// linkTicket links the call to an existing ticket (the resident asked about it).
func (c *Call) linkTicket(t store.TicketID) {
	id := c.ID
	c.journal.push(func(ctx context.Context) error { return c.sb.o.Store.LinkCallToTicket(ctx, id, t) })
}

// Next returns the call's next event (DTMF, playback events, …), waiting until one arrives.
// It returns ErrHangup once the caller has hung up and errForced when Kontakt is forced to stop.
func (c *Call) Next(ctx context.Context) (Event, error) {
	for {
		if err := c.check(ctx); err != nil {
			return Event{}, err
		}
		if len(c.pending) > 0 {
			ev := c.pending[0]
			c.pending = c.pending[1:]
			c.noteEvent(ev)
			return ev, nil
		}
		select {
		case <-c.mb.ready():
		case <-ctx.Done():
		}
	}
}

// noteEvent records the call events that flows do not record themselves.
func (c *Call) noteEvent(ev Event) {
	switch e := ev.ARI.(type) {
	case *ari.ChannelDtmfReceived:
		c.Record(EvDTMF, map[string]any{"digit": e.Digit, "duration_ms": e.DurationMs})
	case *ari.PlaybackFinished:
		c.Record(EvPromptFinished, map[string]any{"playback": e.Playback.ID, "media": e.Playback.MediaURI, "state": e.Playback.State})
	case *ari.PlaybackStarted:
		if !c.prompted {
			c.prompted = true
			c.sb.m.greetingDelay.Observe(time.Since(c.Start).Seconds())
		}
		c.Record(EvPromptStarted, map[string]any{"playback": e.Playback.ID, "media": e.Playback.MediaURI})
	}
}

// Play starts playing media (sound:…, tone:…) to the caller and returns the playback's id;
// PlaybackStarted and PlaybackFinished for it arrive through Next.
func (c *Call) Play(ctx context.Context, media string) (string, error) {
	if err := c.check(ctx); err != nil {
		return "", err
	}
	id := ownPrefix + "p-" + newID()
	c.sb.register(c, ari.PlaybackKey+":"+id)
	t := time.Now()
	_, err := c.sb.ari.Channel().Play(ari.NewKey(ari.ChannelKey, c.ChannelID), id, media)
	c.sb.m.observe("play", t)
	if err != nil {
		c.sb.unregister(ari.PlaybackKey + ":" + id)
		return "", c.fail("play", err)
	}
	return id, nil
}

// PlayAndWait plays media and waits until it finishes; other events that arrive meanwhile are
// returned to the caller of Next later. It reports whether the playback completed.
func (c *Call) PlayAndWait(ctx context.Context, media string) error {
	id, err := c.Play(ctx, media)
	if err != nil {
		return err
	}
	var kept []Event
	defer func() { c.pending = append(kept, c.pending...) }()
	for {
		ev, err := c.Next(ctx)
		if err != nil {
			return err
		}
		if pf, ok := ev.ARI.(*ari.PlaybackFinished); ok && pf.Playback.ID == id {
			c.sb.unregister(ari.PlaybackKey + ":" + id)
			if pf.Playback.State == "failed" {
				return fmt.Errorf("playback of %s failed", media)
			}
			return nil
		}
		if _, ok := ev.ARI.(*ari.PlaybackStarted); !ok {
			kept = append(kept, ev)
		}
	}
}

// hangup ends the call from Kontakt's side.
func (c *Call) hangup() {
	c.byUs = true
	c.Record(EvKontaktHangup, nil)
	t := time.Now()
	err := c.sb.ari.Channel().Hangup(ari.NewKey(ari.ChannelKey, c.ChannelID), "normal")
	c.sb.m.observe("hangup", t)
	if err != nil && !isNotFound(err) {
		c.log.Warn("hangup failed", "err", err)
	}
}

// cleanup destroys the call's bridge.
func (c *Call) cleanup() {
	if c.bridgeID == "" {
		return
	}
	t := time.Now()
	err := c.sb.ari.Bridge().Delete(ari.NewKey(ari.BridgeKey, c.bridgeID))
	c.sb.m.observe("bridge_delete", t)
	if err != nil && !isNotFound(err) {
		c.log.Warn("bridge delete failed", "bridge", c.bridgeID, "err", err)
	}
}

// HangupFlow ends every call at once (the default when no flow is configured).
type HangupFlow struct{}

// Handle implements Flow.
func (HangupFlow) Handle(context.Context, *Call) (Outcome, error) { return OutcomeFailed, nil }

// GreetingFlow plays its prompts in order and then ends the call as self-service.
type GreetingFlow struct {
	Prompts []string // media URIs, e.g. sound:/var/lib/kontakt/prompts/greeting
}

// Handle implements Flow.
func (f GreetingFlow) Handle(ctx context.Context, c *Call) (Outcome, error) {
	for _, p := range f.Prompts {
		if err := c.PlayAndWait(ctx, p); err != nil {
			return OutcomeUnknown, err
		}
	}
	return OutcomeSelfService, nil
}
