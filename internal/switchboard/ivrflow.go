package switchboard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/CyCoreSystems/ari/v5"

	"kontakt/internal/menus"
	"kontakt/internal/store"
	"kontakt/ivr"
	"kontakt/ivr/prompt"
)

// MenuSource gives the published version of a menu for a new call.
type MenuSource interface {
	Current(menuID string) (*menus.Published, bool)
}

// Speaker renders a prompt whose text is known only during the call (a ticket status answer).
type Speaker interface {
	Render(ctx context.Context, lang ivr.Lang, text string) (string, error)
}

// TicketLookup answers the IVR's ticket status question, with texts in the caller's language.
type TicketLookup interface {
	LookupTicket(ctx context.Context, digits string, lang ivr.Lang) (ivr.LookupResult, store.TicketID, error)
}

// Router takes a call the IVR has routed to a queue and keeps it until it ends.
type Router interface {
	Route(ctx context.Context, c *Call, r ivr.Route) (Outcome, error)
}

// IVRFlow runs a call through the published version of a menu with the pure interpreter: it
// performs the interpreter's actions through ARI and feeds it the call's events. The call keeps
// the version it started with to its end, whatever is published meanwhile.
type IVRFlow struct {
	MenuID    string
	Menus     MenuSource
	Speaker   Speaker
	Tickets   TicketLookup
	Router    Router
	Callbacks CallbackBooker // nil: a callback node only records the request
}

// CallbackBooker books the callback a caller asked for in the menu: it holds the caller's place
// in the queue from now on, and the resident is called back when it comes up.
type CallbackBooker interface {
	BookCallback(ctx context.Context, c *Call, number, queue string, lang ivr.Lang) error
}

// ivrRun is one call's state in the adapter.
type ivrRun struct {
	f       *IVRFlow
	c       *Call
	pub     *menus.Published
	ic      *ivr.Call
	play    *playing
	timerID ivr.TimerID
	timerAt time.Time
	endWhy  string // the menu's reason for hanging up, for the ivr_end event
}

type playing struct {
	id    ivr.PlaybackID
	refs  []ivr.PromptRef
	next  int
	ariID string
}

// Handle implements Flow.
func (f *IVRFlow) Handle(ctx context.Context, c *Call) (Outcome, error) {
	pub, ok := f.Menus.Current(f.MenuID)
	if !ok {
		return OutcomeFailed, fmt.Errorf("no published version of menu %q", f.MenuID)
	}
	r := &ivrRun{f: f, c: c, pub: pub, ic: ivr.NewCall(pub.Menu, ivr.CallOptions{})}
	c.Record(EvIVRStart, map[string]any{"menu": f.MenuID, "version": pub.Version})
	c.setMenu(f.MenuID, pub.Version, string(r.ic.Language()))
	actions := r.ic.Start(time.Now())
	for {
		for _, a := range actions {
			route, err := r.do(ctx, a)
			if err != nil {
				return OutcomeUnknown, err
			}
			if route != nil {
				if f.Router == nil {
					return OutcomeFailed, errors.New("the menu routed the call but no router is configured")
				}
				return f.Router.Route(ctx, c, *route)
			}
		}
		actions = nil
		if r.ic.Done() {
			res := r.ic.Result()
			end := map[string]any{"outcome": res.Outcome.String(), "via_fallback": res.ViaFallback}
			if r.endWhy != "" {
				end["reason"] = r.endWhy
			}
			c.Record(EvIVREnd, end)
			switch res.Outcome {
			case ivr.OutcomeCallback:
				return OutcomeCallback, nil
			case ivr.OutcomeError:
				return OutcomeFailed, nil
			default:
				return OutcomeSelfService, nil
			}
		}
		ev, fired, err := c.NextUntil(ctx, r.timerAt)
		now := time.Now()
		if err != nil {
			if errors.Is(err, ErrHangup) {
				r.ic.Step(now, ivr.CallerHangUp{})
				c.Record(EvIVREnd, map[string]any{"outcome": r.ic.Result().Outcome.String()})
			}
			return OutcomeUnknown, err
		}
		if fired {
			id := r.timerID
			r.timerAt, r.timerID = time.Time{}, 0
			actions = r.ic.Step(now, ivr.TimerFired{ID: id})
			continue
		}
		switch e := ev.ARI.(type) {
		case *ari.ChannelDtmfReceived:
			if len(e.Digit) == 1 {
				actions = r.ic.Step(now, ivr.DTMF{Digit: e.Digit[0]})
			}
		case *ari.PlaybackFinished:
			c.sb.unregister(ari.PlaybackKey + ":" + e.Playback.ID)
			if r.play == nil || e.Playback.ID != r.play.ariID {
				continue // a stopped playback's late end
			}
			if e.Playback.State == "failed" {
				c.log.Warn("prompt failed to play", "media", e.Playback.MediaURI)
			}
			if r.play.next < len(r.play.refs) {
				if err := r.playNext(ctx); err != nil {
					return OutcomeUnknown, err
				}
				continue
			}
			id := r.play.id
			r.play = nil
			actions = r.ic.Step(now, ivr.PromptFinished{ID: id})
		}
	}
}

// do performs one action; it returns the route when the IVR hands the call to a queue.
func (r *ivrRun) do(ctx context.Context, a ivr.Action) (*ivr.Route, error) {
	c := r.c
	switch a := a.(type) {
	case ivr.EnterNode:
		c.Record(EvIVRNode, map[string]any{"node": a.Node, "kind": a.Kind.String()})
	case ivr.DigitReceived:
		c.Record(EvIVRDigit, map[string]any{"node": a.Node, "digit": a.Digit, "ignored": a.Ignored})
	case ivr.SetLanguage:
		c.Record(EvLanguage, map[string]any{"language": string(a.Language)})
		c.setMenu(r.f.MenuID, r.pub.Version, string(a.Language))
	case ivr.Play:
		if r.play != nil {
			r.stop(ctx)
		}
		refs := make([]map[string]any, 0, len(a.Prompts))
		for _, p := range a.Prompts {
			m := map[string]any{"key": string(p.Key), "lang": string(p.Lang)}
			if p.Dynamic {
				m["text"] = p.Text
			}
			refs = append(refs, m)
		}
		c.Record(EvIVRPlay, map[string]any{"id": a.ID, "prompts": refs, "barge_in": a.BargeIn})
		r.play = &playing{id: a.ID, refs: a.Prompts}
		return nil, r.playNext(ctx)
	case ivr.StopPlayback:
		if r.play != nil && r.play.id == a.ID {
			r.stop(ctx)
		}
	case ivr.StartTimer:
		r.timerID, r.timerAt = a.ID, a.At
	case ivr.CancelTimer:
		if r.timerID == a.ID {
			r.timerID, r.timerAt = 0, time.Time{}
		}
	case ivr.LookupTicket:
		res := ivr.LookupResult{Number: a.Number, Status: ivr.LookupFailed}
		if r.f.Tickets != nil {
			lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			got, id, err := r.f.Tickets.LookupTicket(lctx, a.Number, a.Language)
			cancel()
			if err != nil {
				c.log.Warn("ticket lookup failed", "number", a.Number, "err", err)
			} else {
				res = got
				if id != 0 {
					c.linkTicket(id)
				}
			}
		}
		c.Record(EvTicketStatus, map[string]any{"number": a.Number, "status": lookupName(res.Status)})
		return nil, r.step(ctx, res)
	case ivr.RequestCallback:
		number := a.Number
		if number == "" {
			number = c.Caller
		}
		booked := false
		if r.f.Callbacks != nil && number != "" {
			if err := r.f.Callbacks.BookCallback(ctx, c, number, a.Queue, a.Language); err != nil {
				c.log.Warn("callback not booked", "number", number, "queue", a.Queue, "err", err)
			} else {
				booked = true
			}
		}
		c.Record(EvCallbackRequested, map[string]any{"number": number, "queue": a.Queue, "language": string(a.Language), "booked": booked})
	case ivr.Route:
		c.Record(EvRouted, map[string]any{"queue": a.Queue, "skills": a.Skills, "language": string(a.Language), "priority": a.Priority})
		return &a, nil
	case ivr.HangUp:
		r.endWhy = a.Reason // ivr_end is recorded once the interpreter is done
	}
	return nil, nil
}

// step feeds an event the adapter produced itself (a lookup result) and performs the actions.
func (r *ivrRun) step(ctx context.Context, ev ivr.Event) error {
	for _, a := range r.ic.Step(time.Now(), ev) {
		route, err := r.do(ctx, a)
		if err != nil {
			return err
		}
		if route != nil {
			return fmt.Errorf("a route from a lookup result is not expected")
		}
	}
	return nil
}

// playNext starts the next prompt of the current play.
func (r *ivrRun) playNext(ctx context.Context) error {
	p := r.play
	ref := p.refs[p.next]
	p.next++
	var file string
	if ref.Dynamic {
		if r.f.Speaker == nil {
			return errors.New("a dynamic prompt but no speaker")
		}
		var err error
		if file, err = r.f.Speaker.Render(ctx, ref.Lang, ref.Text); err != nil {
			return fmt.Errorf("rendering %q: %w", ref.Text, err)
		}
	} else {
		var ok bool
		if file, ok = r.pub.Files[ref.Key]; !ok {
			return fmt.Errorf("prompt %s was not rendered at publish time", ref.Key)
		}
	}
	id, err := r.c.Play(ctx, prompt.SoundURI(file))
	if err != nil {
		return err
	}
	p.ariID = id
	return nil
}

func (r *ivrRun) stop(ctx context.Context) {
	if r.play.ariID != "" {
		r.c.StopPlayback(r.play.ariID)
	}
	r.play = nil
}

func lookupName(s ivr.LookupStatus) string {
	switch s {
	case ivr.LookupFound:
		return "found"
	case ivr.LookupNotFound:
		return "not_found"
	default:
		return "failed"
	}
}
