// Package center is the contact center's coordinator: it owns the ACD engine (the single writer
// of its decisions, on one goroutine), takes the calls the IVR routes to a queue, offers them to
// agents through agentd with the screen-pop, and connects the caller with the agent who accepts
// (an externalMedia channel toward the agent's WebRTC relay leg) — ring-no-answer, wrap-up and
// the agents' states included.
package center

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5"

	"kontakt/acd"
	"kontakt/agentd"
	"kontakt/agentd/media"
	"kontakt/agentd/protocol"
	"kontakt/internal/auth"
	"kontakt/internal/crm"
	"kontakt/internal/store"
	"kontakt/internal/switchboard"
	"kontakt/internal/ticket"
	"kontakt/ivr"
	"kontakt/recording"
)

// Users tells the center who an agent is (their roles decide their queues).
type Users interface {
	UserByID(ctx context.Context, id int64) (auth.User, error)
}

// Options configure a Center.
type Options struct {
	Queues    []string      // the consultants' queues (the menu's); "broker" and "supervisor" are added
	WrapUp    time.Duration // after-call work (0: none; the configuration's default is 30 s)
	Ring      time.Duration // ring-no-answer limit of an offer (default 20 s)
	Users     Users
	CRM       *crm.Service
	Store     *store.Store
	Log       *slog.Logger
	Languages []string // the languages agents speak (default pl, en, uk)
	// Recordings archives the recordings of answered calls; RecordingSpool is Asterisk's
	// recording directory (where a snoop's recording is written). Nil: calls are not recorded.
	Recordings     *recording.Archive
	RecordingSpool string
	// Speaker renders the position and expected-wait announcements; nil: no announcements.
	Speaker switchboard.Speaker
	// AnnounceFirst is when a waiting caller first hears their position (0: at once), and
	// AnnounceEvery how often again (0: only once).
	AnnounceFirst, AnnounceEvery time.Duration
	// Dialer calls residents back; nil: callbacks are booked but never dialled.
	Dialer Dialer
	// Callback configures the callback offer and the dialling.
	Callback CallbackOptions
}

// Center coordinates calls, the ACD and agents.
type Center struct {
	o      Options
	eng    *acd.Engine
	agents *agentd.Server
	log    *slog.Logger

	bg     sync.WaitGroup // recordings being finalised, ticket notes being written
	mu     sync.Mutex
	inbox  []func()
	signal chan struct{}

	// owned by the loop goroutine
	calls      map[acd.CallID]*entry
	configured map[acd.AgentID]bool
	onCall     map[acd.AgentID]acd.CallID
}

// entry is a call waiting in, or connected through, the ACD.
type entry struct {
	call    *switchboard.Call
	route   ivr.Route
	arrived time.Time
	pop     protocol.Offer
	agent   acd.AgentID // offered to or connected with
	ticket  store.TicketID
	cb      *pendingCallback // the caller is a callback holding its place (call is nil meanwhile)
}

// New returns a center; SetAgents must be called before Run.
func New(o Options) *Center {
	if o.WrapUp < 0 { // 0 is no after-call work: the agent is available again at once
		o.WrapUp = 0
	}
	if o.Ring == 0 {
		o.Ring = 20 * time.Second
	}
	if o.Callback.Ring == 0 {
		o.Callback.Ring = 30 * time.Second
	}
	if o.Callback.Endpoint == "" {
		o.Callback.Endpoint = "PJSIP/{number}@trunk"
	}
	if o.Callback.CallerID == "" {
		o.Callback.CallerID = "19115"
	}
	if len(o.Languages) == 0 {
		o.Languages = []string{"pl", "en", "uk"}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	c := &Center{o: o, eng: acd.New(acd.Options{PauseReasons: []string{"break", "lunch", "training", "back_office", "sign_in"},
		RingTimeout: o.Ring}), log: o.Log.With("component", "center"), signal: make(chan struct{}, 1),
		calls: map[acd.CallID]*entry{}, configured: map[acd.AgentID]bool{}, onCall: map[acd.AgentID]acd.CallID{}}
	now := time.Now()
	for _, q := range append(append([]string{}, o.Queues...), "broker", "supervisor") {
		c.eng.Step(now, acd.ConfigureQueue{Queue: acd.QueueConfig{ID: acd.QueueID(q),
			Skills: []acd.SkillLevel{{Skill: q, Level: 1}}, WrapUp: o.WrapUp, RingTimeout: o.Ring,
			// The ACD's own limit on an attempt leaves the dialler time to wait for the resident's
			// line to be free and to ring it out.
			CallbackAttempts: o.Callback.Attempts, CallbackRetry: o.Callback.Retry, CallbackRingTimeout: o.Callback.Ring + 45*time.Second}})
	}
	return c
}

// SetSpeaker gives the center the renderer of its announcements (before Run).
func (c *Center) SetSpeaker(s switchboard.Speaker) { c.o.Speaker = s }

// background runs f on its own goroutine; Wait waits for it.
func (c *Center) background(f func()) {
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		f()
	}()
}

// Wait waits (at most until ctx ends) for the work the center finishes in the background after
// calls end: recordings being archived, notes being added to tickets.
func (c *Center) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { c.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetDialer gives the center the switchboard that calls residents back (before Run).
func (c *Center) SetDialer(d Dialer) { c.o.Dialer = d }

// SetAgents gives the center the agents' server (built with the center as its Calls).
func (c *Center) SetAgents(s *agentd.Server) { c.agents = s }

// Engine gives read access for explanations and statistics (call only from Do).
func (c *Center) Do(f func(e *acd.Engine)) {
	done := make(chan struct{})
	c.post(func() { f(c.eng); close(done) })
	<-done
}

// post runs f on the loop goroutine.
func (c *Center) post(f func()) {
	c.mu.Lock()
	c.inbox = append(c.inbox, f)
	c.mu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// Run is the loop: events in order, and the engine's timers.
func (c *Center) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		work := c.inbox
		c.inbox = nil
		c.mu.Unlock()
		for _, f := range work {
			f()
		}
		if len(work) > 0 {
			continue
		}
		wait := time.Hour
		if d, ok := c.eng.NextDeadline(); ok {
			wait = max(time.Until(d), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-c.signal:
		case <-timer.C:
			c.step(acd.Tick{})
		}
		timer.Stop()
	}
}

// step feeds the engine one event and performs its actions (loop goroutine only).
func (c *Center) step(ev acd.Event) []acd.Action {
	acts := c.eng.Step(time.Now(), ev)
	out := append([]acd.Action(nil), acts...)
	for _, a := range out {
		c.perform(a)
	}
	return out
}

func (c *Center) perform(a acd.Action) {
	switch a.Kind {
	case acd.ActOffer:
		e := c.calls[a.Call]
		if e == nil {
			return
		}
		e.agent = a.Agent
		o := e.pop
		o.OfferID = newOfferID()
		o.ExpiresAt = a.At.Add(c.o.Ring)
		o.WaitedMS = a.At.Sub(e.arrived).Milliseconds()
		o.Queue = string(a.Queue)
		e.call.Record(switchboard.EvOffered, map[string]any{"agent": string(a.Agent), "queue": string(a.Queue)})
		if err := c.agents.Offer(agentd.AgentID(a.Agent), o); err != nil {
			c.log.Warn("offer not delivered; declining", "agent", a.Agent, "call", a.Call, "err", err)
			c.post(func() { c.step(acd.OfferDeclined{Call: a.Call, Agent: a.Agent}) })
		}
	case acd.ActCallbackDue:
		c.callbackDue(a)
	case acd.ActCancelOffer:
		e := c.calls[a.Call]
		if e != nil && e.cb != nil && e.cb.dialing {
			// The ACD gave the callback's attempt up: stop ringing the resident.
			e.cb.dialing, e.agent = false, ""
			e.cb.cancel()
			c.agents.CancelOffer(agentd.AgentID(a.Agent), agentd.CallID(a.Call), "no_answer")
			return
		}
		c.agents.CancelOffer(agentd.AgentID(a.Agent), agentd.CallID(a.Call), cancelReason(a.Reason))
		if e != nil {
			e.agent = ""
			if e.call != nil {
				e.call.Record(switchboard.EvOfferCancelled, map[string]any{"agent": string(a.Agent), "reason": a.Reason})
			}
		}
	case acd.ActAgentState:
		// The ACD's reasons are words ("no answer"); the protocol's are slugs ("no_answer").
		st, reason := agentState(a.State), strings.ReplaceAll(a.Reason, " ", "_")
		c.agents.StateChanged(agentd.AgentID(a.Agent), st, reason, a.At)
		if a.State == acd.AgentWrapUp {
			if call, ok := c.onCall[a.Agent]; ok {
				c.agents.WrapupStarted(agentd.AgentID(a.Agent), agentd.CallID(call), a.At.Add(c.o.WrapUp))
			}
		}
		if a.State == acd.AgentAvailable || a.State == acd.AgentPaused || a.State == acd.AgentOffline {
			if call, ok := c.onCall[a.Agent]; ok {
				delete(c.onCall, a.Agent)
				c.agents.WrapupEnded(agentd.AgentID(a.Agent), agentd.CallID(call), "timeout")
			}
		}
	case acd.ActReject, acd.ActCallbackFailed:
		e := c.calls[a.Call]
		switch {
		case e == nil:
		case e.call != nil:
			e.call.Post(endCall{reason: a.Reason})
		case e.cb != nil:
			delete(c.calls, a.Call)
			text := fmt.Sprintf("Nie udało się oddzwonić na numer %s: %d próby bez odpowiedzi.", e.cb.number, a.Attempt)
			status := "failed"
			if a.Kind == acd.ActReject {
				text = fmt.Sprintf("Oddzwonienie na numer %s nie zostało przyjęte przez kolejkę %s (%s).", e.cb.number, a.Queue, a.Reason)
				status = "cancelled"
			}
			c.callbackState(a.Call, func(ctx context.Context, st *store.Store) error {
				return st.EndCallback(ctx, store.CallID(a.Call), status)
			})
			c.background(func() { c.ticketNote(e.ticket, text) })
		}
	case acd.ActInvalid:
		c.log.Debug("acd refused an event", "call", a.Call, "agent", a.Agent, "reason", a.Reason)
	}
}

// cancelReason is the protocol's name for why the ACD withdrew an offer.
func cancelReason(why string) string {
	switch why {
	case acd.WhyNoAnswer:
		return "timeout"
	case acd.WhyAbandoned:
		return "caller_hangup"
	default:
		return "rerouted"
	}
}

func agentState(s acd.AgentState) protocol.AgentState {
	switch s {
	case acd.AgentAvailable:
		return protocol.StateAvailable
	case acd.AgentReserved:
		return protocol.StateOffered
	case acd.AgentOnCall:
		return protocol.StateOnCall
	case acd.AgentWrapUp:
		return protocol.StateWrapup
	case acd.AgentPaused:
		return protocol.StatePaused
	default:
		return protocol.StateOffline
	}
}

var offerSeq struct {
	sync.Mutex
	n int
}

func newOfferID() string {
	offerSeq.Lock()
	defer offerSeq.Unlock()
	offerSeq.n++
	return "o-" + strconv.Itoa(offerSeq.n)
}

// Messages posted to a call's goroutine.
type (
	connectAgent struct {
		agent acd.AgentID
		done  chan error
	}
	endCall     struct{ reason string }
	transferOut struct{ queue, note string }
	holdCall    struct{ on bool }
	dtmfCall    struct{ digits string }
	muteAgent   struct{ on bool }
	pauseRec    struct {
		paused bool
		by     int64 // the agent's user id
		done   chan error
	}
)

// Route implements switchboard.Router: the call waits in the queue with music until an agent
// takes it, then talks with the agent until one of them hangs up. A caller who has waited long
// enough is offered a callback that keeps their place.
func (c *Center) Route(ctx context.Context, call *switchboard.Call, r ivr.Route) (switchboard.Outcome, error) {
	id := acd.CallID(call.ID)
	e := &entry{call: call, route: r, arrived: time.Now()}
	e.pop, e.ticket = c.screenPop(ctx, call, r)
	call.Record(switchboard.EvQueued, map[string]any{"queue": r.Queue, "language": string(r.Language)})
	c.post(func() {
		c.calls[id] = e
		c.step(acd.CallArrived{Call: id, Queue: acd.QueueID(r.Queue), Language: string(r.Language), Priority: r.Priority})
	})
	if err := call.StartMOH(""); err != nil {
		c.post(func() { c.step(acd.CallEnded{Call: id}); delete(c.calls, id) })
		return switchboard.OutcomeUnknown, err
	}
	cv := &conversation{c: c, call: call, id: id, e: e, lang: r.Language}
	if c.o.Speaker != nil {
		cv.nextAnnounce = time.Now().Add(c.o.AnnounceFirst)
	}
	if c.o.Dialer != nil && c.o.Callback.OfferAfter > 0 && c.o.Speaker != nil {
		cv.cbOfferAt = time.Now().Add(c.o.Callback.OfferAfter)
	}
	return cv.serve(ctx)
}

// conversation is one leg's state on its call goroutine: waiting with music (announcements, the
// callback offer), then connected with an agent.
type conversation struct {
	c    *Center
	call *switchboard.Call
	id   acd.CallID
	e    *entry
	lang ivr.Lang

	agent        acd.AgentID
	leg          *media.Leg
	rec          *legRecording
	playing      string // the playback of an announcement or a callback prompt under way
	nextAnnounce time.Time
	cbOfferAt    time.Time // when the callback is offered (zero: not, or already)
	cb           cbDialog
}

// finish ends the leg: the recording is finalised, the agent's media detached, the ACD told.
func (cv *conversation) finish(reason string) {
	c, call, id := cv.c, cv.call, cv.id
	if cv.rec != nil {
		abnormal := ""
		if reason != "caller_hangup" && reason != "agent_hangup" {
			abnormal = reason
		}
		call.StopRecording(cv.rec.snoop)
		rec := *cv.rec
		c.background(func() { c.finalise(rec, abnormal) })
	}
	if cv.leg != nil {
		st := cv.leg.Stats()
		call.Record(switchboard.EvAgentMedia, map[string]any{"to_agent_packets": st.ToAgent.Packets,
			"from_agent_packets": st.FromAgent.Packets, "dropped": st.Dropped})
		cv.leg.Detach()
	}
	a := cv.agent
	c.post(func() {
		c.step(acd.CallEnded{Call: id})
		delete(c.calls, id)
		if a != "" {
			c.agents.CallEnded(agentd.AgentID(a), agentd.CallID(id), reason)
		}
	})
}

// deadline is the next moment the waiting leg must act on.
func (cv *conversation) deadline() time.Time {
	var d time.Time
	for _, t := range []time.Time{cv.nextAnnounce, cv.cbOfferAt, cv.cb.until} {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	return d
}

// stopPrompt cuts the announcement or prompt under way short.
func (cv *conversation) stopPrompt() {
	if cv.playing != "" {
		cv.call.StopPlayback(cv.playing)
		cv.playing = ""
	}
}

func (cv *conversation) serve(ctx context.Context) (switchboard.Outcome, error) {
	c, call := cv.c, cv.call
	for {
		ev, fired, err := call.NextUntil(ctx, cv.deadline())
		if fired {
			now := time.Now()
			if !cv.nextAnnounce.IsZero() && !now.Before(cv.nextAnnounce) {
				cv.nextAnnounce = time.Time{}
				if cv.agent == "" && cv.playing == "" && cv.cb.stage <= cbOffered {
					if pid, err := c.announce(ctx, call, cv.lang); err == nil {
						cv.playing = pid
					} else if errors.Is(err, switchboard.ErrHangup) {
						cv.finish("caller_hangup")
						return switchboard.OutcomeUnknown, err
					}
				}
				if c.o.AnnounceEvery > 0 && cv.agent == "" {
					cv.nextAnnounce = now.Add(c.o.AnnounceEvery)
				}
			}
			if !cv.cbOfferAt.IsZero() && !now.Before(cv.cbOfferAt) && cv.playing != "" {
				cv.cbOfferAt = now.Add(500 * time.Millisecond) // after the announcement under way
			} else if !cv.cbOfferAt.IsZero() && !now.Before(cv.cbOfferAt) {
				cv.cbOfferAt = time.Time{}
				if cv.agent == "" {
					if err := cv.offerCallback(ctx); errors.Is(err, switchboard.ErrHangup) {
						cv.finish("caller_hangup")
						return switchboard.OutcomeUnknown, err
					}
				}
			}
			if !cv.cb.until.IsZero() && !now.Before(cv.cb.until) {
				if err := cv.callbackTimeout(ctx); errors.Is(err, switchboard.ErrHangup) {
					cv.finish("caller_hangup")
					return switchboard.OutcomeUnknown, err
				}
			}
			continue
		}
		if pf, ok := ev.ARI.(*ari.PlaybackFinished); ok && pf.Playback.ID == cv.playing {
			cv.playing = ""
			if cv.agent == "" {
				if cv.cb.stage == cbConfirm || cv.cb.stage == cbEnter {
					cv.cb.until = time.Now().Add(cbKeyTimeout) // the prompt is over: wait for keys
				} else {
					call.StartMOH("")
				}
			}
			continue
		}
		if d, ok := ev.ARI.(*ari.ChannelDtmfReceived); ok {
			if cv.agent == "" && cv.cb.stage != cbNone {
				booked, err := cv.callbackKey(ctx, d.Digit)
				if booked {
					return switchboard.OutcomeCallback, nil
				}
				if errors.Is(err, switchboard.ErrHangup) {
					cv.finish("caller_hangup")
					return switchboard.OutcomeUnknown, err
				}
			}
			continue
		}
		if err != nil {
			cv.finish("caller_hangup")
			if cv.agent != "" && errors.Is(err, switchboard.ErrHangup) {
				return switchboard.OutcomeAnswered, nil
			}
			return switchboard.OutcomeUnknown, err
		}
		switch m := ev.Data.(type) {
		case connectAgent:
			// The agent is there: an announcement or the callback dialogue is cut short.
			cv.stopPrompt()
			cv.nextAnnounce, cv.cbOfferAt, cv.cb = time.Time{}, time.Time{}, cbDialog{}
			sess, ok := c.agents.Media(agentd.AgentID(m.agent))
			if !ok {
				m.done <- fmt.Errorf("the agent's softphone is not connected")
				continue
			}
			l, err := sess.Attach(ctx, nil)
			if err != nil {
				m.done <- err
				continue
			}
			if _, err := call.ConnectAgent(ctx, l); err != nil {
				l.Detach()
				m.done <- err
				if errors.Is(err, switchboard.ErrHangup) {
					cv.finish("caller_hangup")
					return switchboard.OutcomeUnknown, err
				}
				continue
			}
			cv.agent, cv.leg = m.agent, l
			call.Record(switchboard.EvAgentConnected, map[string]any{"agent": string(m.agent)})
			m.done <- nil
			cv.rec = c.startRecording(ctx, call, m.agent)
		case endCall:
			cv.finish(m.reason)
			if cv.agent != "" {
				return switchboard.OutcomeAnswered, nil
			}
			return switchboard.OutcomeFailed, fmt.Errorf("the queue refused the call: %s", m.reason)
		case transferOut:
			// The agent hands the caller on: the leg (and its recording) ends, the caller hears
			// music again and keeps its place in the new queue.
			if cv.rec != nil {
				call.StopRecording(cv.rec.snoop)
				rec := *cv.rec
				c.background(func() { c.finalise(rec, "") })
				cv.rec = nil
			}
			if cv.leg != nil {
				cv.leg.Detach()
				cv.leg = nil
			}
			call.DisconnectAgent()
			call.Record(switchboard.EvTransferred, map[string]any{"agent": string(cv.agent), "queue": m.queue, "note": m.note})
			cv.agent = ""
			call.StartMOH("")
			if c.o.Speaker != nil {
				cv.nextAnnounce = time.Now().Add(c.o.AnnounceFirst)
			}
		case holdCall:
			if m.on {
				call.StartMOH("")
				call.Record(switchboard.EvHeld, nil)
			} else {
				call.StopMOH()
				call.Record(switchboard.EvResumed, nil)
			}
		case dtmfCall:
			call.SendDTMF(m.digits)
		case muteAgent:
			if cv.leg != nil {
				cv.leg.SetMuted(m.on)
			}
		case pauseRec:
			m.done <- c.pauseRecording(ctx, call, cv.rec, m.paused, m.by)
		}
	}
}

// announcements are what a waiting caller hears, per language: position and expected wait.
var announcements = map[ivr.Lang]struct{ first, later, minute, minutes, soon string }{
	ivr.LangPL: {"Jesteś pierwszą osobą w kolejce.", "Przed tobą w kolejce: %d osób.", "Przewidywany czas oczekiwania: około minuty.", "Przewidywany czas oczekiwania: około %d minut.", "Konsultant zgłosi się za chwilę."},
	ivr.LangEN: {"You are first in the queue.", "There are %d callers ahead of you.", "The expected wait is about one minute.", "The expected wait is about %d minutes.", "A consultant will be with you shortly."},
	ivr.LangUK: {"Ви перший у черзі.", "Перед вами в черзі: %d осіб.", "Орієнтовний час очікування: близько хвилини.", "Орієнтовний час очікування: близько %d хвилин.", "Консультант відповість за мить."},
}

// announce tells a waiting caller their position and expected wait (from the engine's estimate:
// recent handle times and staffing), in their language; music on hold pauses meanwhile. It
// returns the playback's id.
func (c *Center) announce(ctx context.Context, call *switchboard.Call, lang ivr.Lang) (string, error) {
	var est acd.Estimate
	var ok bool
	c.Do(func(e *acd.Engine) { est, ok = e.EstimateWait(acd.CallID(call.ID)) })
	if !ok {
		return "", fmt.Errorf("not waiting")
	}
	t, found := announcements[lang]
	if !found {
		t = announcements[ivr.LangPL]
		lang = ivr.LangPL
	}
	text := t.first
	if est.Position > 1 {
		text = fmt.Sprintf(t.later, est.Position-1)
	}
	switch mins := int((est.ExpectedWait + 30*time.Second) / time.Minute); {
	case est.ExpectedWait < 30*time.Second:
		text += " " + t.soon
	case mins <= 1:
		text += " " + t.minute
	default:
		text += " " + fmt.Sprintf(t.minutes, mins)
	}
	id, err := c.playOverMusic(ctx, call, lang, text)
	if err != nil {
		return "", err
	}
	call.Record(switchboard.EvAnnounced, map[string]any{"position": est.Position, "expected_wait_s": int(est.ExpectedWait.Seconds()),
		"agents": est.Agents, "text": text})
	return id, nil
}

// speech renders text in lang and returns its media URI.
func (c *Center) speech(ctx context.Context, lang ivr.Lang, text string) (string, error) {
	file, err := c.o.Speaker.Render(ctx, lang, text)
	if err != nil {
		return "", err
	}
	return "sound:" + strings.TrimSuffix(file, ".wav"), nil
}

// playOverMusic pauses the caller's music on hold and starts saying text; it returns the
// playback's id. The music comes back if the playback does not start.
func (c *Center) playOverMusic(ctx context.Context, call *switchboard.Call, lang ivr.Lang, text string) (string, error) {
	media, err := c.speech(ctx, lang, text)
	if err != nil {
		return "", err
	}
	call.StopMOH()
	id, err := call.Play(ctx, media)
	if err != nil {
		call.StartMOH("")
		return "", err
	}
	return id, nil
}

// sayAndWait says text to the caller to its end (nothing without a Speaker).
func (c *Center) sayAndWait(ctx context.Context, call *switchboard.Call, lang ivr.Lang, text string) error {
	if c.o.Speaker == nil {
		return nil
	}
	media, err := c.speech(ctx, lang, text)
	if err != nil {
		return err
	}
	return call.PlayAndWait(ctx, media)
}

// legRecording is the recording of one call leg.
type legRecording struct {
	meta   recording.Meta
	spool  string
	snoop  string
	id     recording.ID // the recordings row
	name   string       // Asterisk's live recording
	paused bool
}

// startRecording records the leg from the moment the agent is connected: the row first (a
// crash leaves evidence), then the snoop. A recording that cannot start is an explicit failed row.
func (c *Center) startRecording(ctx context.Context, call *switchboard.Call, agent acd.AgentID) *legRecording {
	if c.o.Recordings == nil {
		return nil
	}
	meta := recording.Meta{CallID: call.ID, StartedAt: time.Now()}
	if uid, err := strconv.ParseInt(strings.TrimPrefix(string(agent), "u-"), 10, 64); err == nil {
		meta.Agents = []int64{uid}
	}
	r, err := c.o.Recordings.Begin(ctx, meta)
	if err != nil {
		c.log.Error("recording row not created; the call is not recorded", "call", call.ID, "err", err)
		return nil
	}
	meta.Leg = r.Leg
	name := fmt.Sprintf("kontakt-%s-%d", call.ID, r.Leg)
	spool := c.o.RecordingSpool + "/" + name + ".wav"
	snoop, err := call.StartRecording(ctx, name)
	if err != nil {
		c.log.Error("recording did not start", "call", call.ID, "err", err)
		c.o.Recordings.Fail(context.WithoutCancel(ctx), meta, "recording did not start: "+err.Error())
		return nil
	}
	call.Record(switchboard.EvRecording, map[string]any{"leg": r.Leg, "recording": int64(r.ID)})
	return &legRecording{meta: meta, spool: spool, snoop: snoop, id: r.ID, name: name}
}

// pauseRecording pauses or resumes the leg's recording for the agent (the caller dictates
// sensitive data). A pause is marked in the metadata before the audio stops being recorded, and a
// resume after it is recorded again, so the mark always covers the silent stretch.
func (c *Center) pauseRecording(ctx context.Context, call *switchboard.Call, rec *legRecording, paused bool, by int64) error {
	if rec == nil {
		return &protocol.Error{Code: protocol.CodeOutOfOrder, Message: "this call is not being recorded"}
	}
	if rec.paused == paused {
		return &protocol.Error{Code: protocol.CodeOutOfOrder, Message: "the recording is already in that state"}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	unavailable := &protocol.Error{Code: protocol.CodeUnavailable, Message: "the recording could not be paused or resumed; try again"}
	ev := switchboard.EvRecordingResumed
	if paused {
		ev = switchboard.EvRecordingPaused
		if err := c.o.Recordings.Pause(ctx, rec.id, time.Now(), by); err != nil {
			c.log.Error("recording pause not marked", "call", call.ID, "recording", int64(rec.id), "err", err)
			return unavailable
		}
		if err := call.PauseRecording(rec.name, true); err != nil {
			c.log.Error("recording not paused", "call", call.ID, "err", err)
			c.o.Recordings.Resume(ctx, rec.id, time.Now(), by)
			return unavailable
		}
	} else {
		if err := call.PauseRecording(rec.name, false); err != nil {
			c.log.Error("recording not resumed", "call", call.ID, "err", err)
			return unavailable
		}
		if err := c.o.Recordings.Resume(ctx, rec.id, time.Now(), by); err != nil {
			// The audio is recorded again; the open mark is closed when the leg is finalised.
			c.log.Error("recording resume not marked", "call", call.ID, "recording", int64(rec.id), "err", err)
		}
	}
	rec.paused = paused
	call.Record(ev, map[string]any{"leg": rec.meta.Leg, "recording": int64(rec.id), "by": by})
	return nil
}

// finalise waits for Asterisk to close the file, then moves it into the archive (or records
// the failure).
func (c *Center) finalise(r legRecording, abnormal string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var last int64 = -1
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		st, err := os.Stat(r.spool)
		if err == nil && st.Size() == last && time.Since(st.ModTime()) > 200*time.Millisecond {
			break
		}
		if err == nil {
			last = st.Size()
		}
	}
	r.meta.EndedAt = time.Now()
	r.meta.Abnormal = abnormal
	if _, err := os.Stat(r.spool); err != nil {
		c.o.Recordings.Fail(ctx, r.meta, "no file from Asterisk: "+err.Error())
		return
	}
	if _, err := c.o.Recordings.Finalise(ctx, r.spool, r.meta); err != nil {
		c.log.Error("recording not finalised", "call", r.meta.CallID, "leg", r.meta.Leg, "err", err)
	}
}

// screenPop builds the offer's screen-pop: the call's ticket, the caller's recent tickets and
// suggested articles (one database round trip), and the IVR path. It returns the ticket's id too
// (0 when the ticket row is not there within 2 s).
func (c *Center) screenPop(ctx context.Context, call *switchboard.Call, r ivr.Route) (protocol.Offer, store.TicketID) {
	o := protocol.Offer{CallID: string(call.ID), Queue: r.Queue, Language: string(r.Language),
		Caller:        protocol.Caller{Number: call.Caller, Withheld: call.Caller == ""},
		RecentTickets: []protocol.TicketSummary{}, Articles: []protocol.Article{}, IVRPath: []protocol.IVRStep{}}
	for _, p := range call.IVRPath() {
		o.IVRPath = append(o.IVRPath, protocol.IVRStep{Node: p.Node, Label: p.Kind, Digits: p.Digits})
	}
	tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	t, err := call.Ticket(tctx)
	if err != nil {
		return o, 0
	}
	o.Ticket = protocol.Ticket{Number: t.Number, Kind: protocol.TicketKind(t.Kind), Status: t.Status, Channel: t.Channel,
		Category: t.Category, Unit: t.Unit, Summary: t.Description, CreatedAt: t.CreatedAt}
	if c.o.CRM == nil {
		return o, t.ID
	}
	pop, err := c.o.CRM.ScreenPop(tctx, ticket.ID(t.ID), call.Caller)
	if err != nil {
		c.log.Warn("screen-pop query failed", "err", err)
		return o, t.ID
	}
	for _, rt := range pop.Recent {
		o.RecentTickets = append(o.RecentTickets, protocol.TicketSummary{Number: rt.Number.String(), Kind: protocol.TicketKind(rt.Kind.String()),
			Status: rt.Status.String(), Category: rt.Category, Summary: rt.Description, CreatedAt: rt.Registered})
	}
	for _, a := range pop.Articles {
		o.Articles = append(o.Articles, protocol.Article{ID: strconv.FormatInt(a.ID, 10), Title: a.Title})
	}
	return o, t.ID
}

// ---- agentd.Calls: what agents ask for (called on the agents' connection goroutines) ----

// SetState implements agentd.Calls.
func (c *Center) SetState(ctx context.Context, agent agentd.AgentID, state protocol.AgentState, reason string) error {
	cfg, err := c.agentConfig(ctx, agent)
	if err != nil {
		return err
	}
	done := make(chan []acd.Action, 1)
	c.post(func() {
		a := acd.AgentID(agent)
		if !c.configured[a] {
			c.step(acd.ConfigureAgent{Agent: cfg})
			c.configured[a] = true
		}
		var acts []acd.Action
		switch state {
		case protocol.StateAvailable:
			acts = c.step(acd.AgentReady{Agent: a})
		case protocol.StatePaused:
			acts = c.step(acd.AgentPause{Agent: a, Reason: reason})
		default:
			acts = c.step(acd.AgentLogout{Agent: a})
		}
		done <- acts
	})
	for _, a := range <-done {
		if a.Kind == acd.ActInvalid && a.Agent == acd.AgentID(agent) {
			return &protocol.Error{Code: "conflict", Message: a.Reason}
		}
	}
	return nil
}

func (c *Center) agentConfig(ctx context.Context, agent agentd.AgentID) (acd.AgentConfig, error) {
	cfg := acd.AgentConfig{ID: acd.AgentID(agent), Languages: c.o.Languages}
	id, err := strconv.ParseInt(strings.TrimPrefix(string(agent), "u-"), 10, 64)
	if err != nil || c.o.Users == nil {
		return cfg, fmt.Errorf("unknown agent %q", agent)
	}
	u, err := c.o.Users.UserByID(ctx, id)
	if err != nil {
		return cfg, err
	}
	has := func(r auth.Role) bool { return auth.Principal{Roles: u.Roles}.Has(r) }
	if has(auth.RoleConsultant) || has(auth.RoleBroker) {
		for _, q := range c.o.Queues {
			cfg.Queues = append(cfg.Queues, acd.QueueID(q))
			cfg.Skills = append(cfg.Skills, acd.SkillLevel{Skill: q, Level: 3})
		}
	}
	if has(auth.RoleBroker) {
		cfg.Queues = append(cfg.Queues, "broker")
		cfg.Skills = append(cfg.Skills, acd.SkillLevel{Skill: "broker", Level: 3})
	}
	if has(auth.RoleSupervisor) {
		cfg.Queues = append(cfg.Queues, "supervisor")
		cfg.Skills = append(cfg.Skills, acd.SkillLevel{Skill: "supervisor", Level: 3})
	}
	return cfg, nil
}

// Accept implements agentd.Calls: the ACD confirms, then the call's goroutine connects the
// caller with the agent's softphone and the agent gets call.connected.
func (c *Center) Accept(ctx context.Context, agent agentd.AgentID, call agentd.CallID) error {
	type res struct {
		e   *entry
		err error
	}
	done := make(chan res, 1)
	c.post(func() {
		e := c.calls[acd.CallID(call)]
		if e == nil || e.agent != acd.AgentID(agent) || e.call == nil {
			done <- res{err: &protocol.Error{Code: "not_found", Message: "this call is no longer offered to you"}}
			return
		}
		for _, a := range c.step(acd.OfferAccepted{Call: acd.CallID(call), Agent: acd.AgentID(agent)}) {
			if a.Kind == acd.ActInvalid {
				done <- res{err: &protocol.Error{Code: "conflict", Message: a.Reason}}
				return
			}
		}
		c.onCall[acd.AgentID(agent)] = acd.CallID(call)
		done <- res{e: e}
	})
	r := <-done
	if r.err != nil {
		return r.err
	}
	c.connect(r.e.call, agent, call)
	return nil
}

// connect has the call's goroutine connect the caller with the agent's softphone; the agent
// then gets call.connected.
func (c *Center) connect(sc *switchboard.Call, agent agentd.AgentID, call agentd.CallID) {
	go func() {
		connected := make(chan error, 1)
		sc.Post(connectAgent{agent: acd.AgentID(agent), done: connected})
		if err := <-connected; err != nil {
			c.log.Warn("connecting the agent failed; the caller goes back to the queue", "agent", agent, "call", call, "err", err)
			c.agents.CallEnded(agent, call, "media_failed")
			c.requeue(agent, call)
			return
		}
		c.agents.CallConnected(agent, call)
	}()
}

// requeue sends a caller the agent could not be connected with back to its queue, ahead of
// later callers as after a transfer.
func (c *Center) requeue(agent agentd.AgentID, call agentd.CallID) {
	c.post(func() {
		e := c.calls[acd.CallID(call)]
		if e == nil || e.call == nil || e.agent != acd.AgentID(agent) {
			return
		}
		e.agent = ""
		delete(c.onCall, acd.AgentID(agent))
		if e.cb != nil { // a callback's resident: the ACD holds no place for them on the line
			e.call.Post(endCall{reason: "media_failed"})
			return
		}
		for _, a := range c.step(acd.Transfer{Call: acd.CallID(call), Queue: acd.QueueID(e.route.Queue)}) {
			if a.Kind == acd.ActInvalid && a.Call == acd.CallID(call) {
				e.call.Post(endCall{reason: "media_failed"})
				return
			}
		}
		e.call.Post(transferOut{queue: e.route.Queue, note: "media_failed"})
	})
}

// Reject implements agentd.Calls.
func (c *Center) Reject(ctx context.Context, agent agentd.AgentID, call agentd.CallID, reason string) error {
	c.post(func() { c.step(acd.OfferDeclined{Call: acd.CallID(call), Agent: acd.AgentID(agent)}) })
	return nil
}

// withCall posts msg to the call the agent is connected with.
func (c *Center) withCall(agent agentd.AgentID, call agentd.CallID, msg any) error {
	done := make(chan *entry, 1)
	c.post(func() {
		e := c.calls[acd.CallID(call)]
		if e == nil || e.agent != acd.AgentID(agent) || e.call == nil {
			done <- nil
			return
		}
		done <- e
	})
	e := <-done
	if e == nil {
		return &protocol.Error{Code: "not_found", Message: "you are not connected with this call"}
	}
	e.call.Post(msg)
	return nil
}

// Hangup implements agentd.Calls.
func (c *Center) Hangup(ctx context.Context, agent agentd.AgentID, call agentd.CallID, reason string) error {
	return c.withCall(agent, call, endCall{reason: reason})
}

// Hold implements agentd.Calls.
func (c *Center) Hold(ctx context.Context, agent agentd.AgentID, call agentd.CallID) error {
	if err := c.withCall(agent, call, holdCall{on: true}); err != nil {
		return err
	}
	return c.agents.CallHeld(agent, call)
}

// Resume implements agentd.Calls.
func (c *Center) Resume(ctx context.Context, agent agentd.AgentID, call agentd.CallID) error {
	if err := c.withCall(agent, call, holdCall{on: false}); err != nil {
		return err
	}
	return c.agents.CallResumed(agent, call)
}

// Mute implements agentd.Calls.
func (c *Center) Mute(ctx context.Context, agent agentd.AgentID, call agentd.CallID, on bool) error {
	return c.withCall(agent, call, muteAgent{on: on})
}

// RecordPause implements agentd.Calls.
func (c *Center) RecordPause(ctx context.Context, agent agentd.AgentID, call agentd.CallID, paused bool) error {
	by, _ := strconv.ParseInt(strings.TrimPrefix(string(agent), "u-"), 10, 64)
	done := make(chan error, 1)
	if err := c.withCall(agent, call, pauseRec{paused: paused, by: by, done: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return &protocol.Error{Code: protocol.CodeUnavailable, Message: "the call did not answer in time"}
	}
}

// DTMF implements agentd.Calls.
func (c *Center) DTMF(ctx context.Context, agent agentd.AgentID, call agentd.CallID, digits string) error {
	return c.withCall(agent, call, dtmfCall{digits: digits})
}

// Transfer implements agentd.Calls: escalation to the broker or supervisor queue, or any other
// queue. The caller keeps its original arrival (ahead of later callers) and the note travels on
// the screen-pop; the agent goes to wrap-up.
func (c *Center) Transfer(ctx context.Context, agent agentd.AgentID, call agentd.CallID, queue, note string) error {
	if !c.knownQueue(queue) {
		return &protocol.Error{Code: "invalid_field", Field: "data.queue", Message: fmt.Sprintf("no queue %q", queue)}
	}
	done := make(chan error, 1)
	c.post(func() {
		e := c.calls[acd.CallID(call)]
		if e == nil || e.agent != acd.AgentID(agent) || e.call == nil {
			done <- &protocol.Error{Code: "not_found", Message: "you are not connected with this call"}
			return
		}
		e.call.Post(transferOut{queue: queue, note: note})
		if e.pop.Ticket.Fields == nil {
			e.pop.Ticket.Fields = map[string]string{}
		}
		if note != "" {
			e.pop.Ticket.Fields["transfer_note"] = strings.TrimSpace(e.pop.Ticket.Fields["transfer_note"] + "\n" + note)
		}
		e.pop.Queue = queue
		e.agent = ""
		for _, a := range c.step(acd.Transfer{Call: acd.CallID(call), Queue: acd.QueueID(queue), Note: note}) {
			if a.Kind == acd.ActInvalid && a.Call == acd.CallID(call) {
				done <- &protocol.Error{Code: "conflict", Message: a.Reason}
				return
			}
		}
		c.agents.CallEnded(agent, call, "transferred")
		done <- nil
	})
	return <-done
}

// WrapUp implements agentd.Calls: the consultant's classification, forwarding, notes and the
// articles used go on the call's ticket through the ticket lifecycle rules (as the consultant),
// and the agent is available again.
func (c *Center) WrapUp(ctx context.Context, agent agentd.AgentID, call agentd.CallID, w protocol.WrapupSubmit) error {
	if err := c.recordWrapUp(ctx, agent, call, w); err != nil {
		return err
	}
	// The wrap-up is over for agentd before the ACD hears the agent is ready: an offer made at
	// once must not find the agent still in wrap-up (busy).
	c.agents.WrapupEnded(agent, call, "submitted")
	c.post(func() {
		delete(c.onCall, acd.AgentID(agent))
		c.step(acd.AgentReady{Agent: acd.AgentID(agent)})
	})
	return nil
}

func (c *Center) recordWrapUp(ctx context.Context, agent agentd.AgentID, call agentd.CallID, w protocol.WrapupSubmit) error {
	if c.o.CRM == nil || c.o.Store == nil || c.o.Users == nil {
		return nil
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(string(agent), "u-"), 10, 64)
	if err != nil {
		return &protocol.Error{Code: "forbidden", Message: "unknown agent"}
	}
	u, err := c.o.Users.UserByID(ctx, id)
	if err != nil {
		return err
	}
	actor, err := c.o.CRM.Actor(ctx, auth.Principal{UserID: u.ID, Login: u.Login, Name: u.Name, Roles: u.Roles, Unit: u.Unit})
	if err != nil {
		return err
	}
	cl, err := c.o.Store.Call(ctx, store.CallID(call))
	if err != nil {
		return err
	}
	refuse := func(err error) error {
		var ve *crm.ValidationError
		var te *ticket.Error
		if errors.As(err, &ve) || errors.As(err, &te) {
			return &protocol.Error{Code: "invalid_field", Message: err.Error()}
		}
		return err
	}
	tid := ticket.ID(cl.TicketID)
	if w.Link != nil {
		n, err := ticket.ParseNumber(w.Link.Number)
		if err != nil {
			return &protocol.Error{Code: "invalid_field", Field: "data.link.number", Message: err.Error()}
		}
		into, err := c.o.CRM.TicketByNumber(ctx, actor, n)
		if err != nil {
			return refuse(err)
		}
		if _, err := c.o.CRM.Link(ctx, actor, tid, into.ID); err != nil {
			return refuse(err)
		}
		return nil
	}
	up := w.Update
	if up == nil {
		return nil
	}
	kind, err := ticket.ParseKind(string(up.Kind))
	if err != nil {
		return &protocol.Error{Code: "invalid_field", Field: "data.update.kind", Message: err.Error()}
	}
	if _, err := c.o.CRM.Act(ctx, actor, tid, crm.ActionRequest{Action: ticket.ActionClassify, Kind: kind, Category: up.Category}); err != nil {
		return refuse(err)
	}
	if up.Notes != "" {
		if _, err := c.o.CRM.Act(ctx, actor, tid, crm.ActionRequest{Action: ticket.ActionAddNote, Note: up.Notes, Text: up.Notes}); err != nil {
			return refuse(err)
		}
	}
	for _, a := range up.Articles {
		aid, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			continue
		}
		if err := c.o.CRM.UseArticle(ctx, actor, tid, aid); err != nil {
			return refuse(err)
		}
	}
	if up.Unit != "" {
		if _, err := c.o.CRM.Act(ctx, actor, tid, crm.ActionRequest{Action: ticket.ActionForward, Unit: up.Unit, Note: up.Notes}); err != nil {
			return refuse(err)
		}
	}
	return nil
}

// AgentGone implements agentd.Calls.
func (c *Center) AgentGone(agent agentd.AgentID, reason string) {
	c.post(func() {
		if call, ok := c.onCall[acd.AgentID(agent)]; ok {
			if e := c.calls[call]; e != nil && e.call != nil {
				e.call.Post(endCall{reason: "agent_gone"})
			}
			delete(c.onCall, acd.AgentID(agent))
		}
		c.step(acd.AgentLogout{Agent: acd.AgentID(agent)})
	})
}
