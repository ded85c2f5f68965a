package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kontakt/acd"
	"kontakt/agentd/agent"
	"kontakt/agentd/media"
	"kontakt/agentd/protocol"
	"kontakt/internal/app"
	"kontakt/internal/auth"
	"kontakt/internal/config"
	"kontakt/internal/resident"
	"kontakt/internal/store"
	"kontakt/recording"
)

// The ACD on real calls: the order in which waiting callers are served (first come, first
// served) and which of several free agents gets a new call (the one idle longest), and a
// ring-no-answer handing the call on to the next agent.

// TestE2EOrderOfService: (a) three residents wait with no consultant free; the one consultant who
// becomes available is offered them in the order they called. (b) Of two free consultants a new
// call goes to the one idle longer; once that one has handled it and is free again, the other
// one is now idle longer and gets the next call.
func TestE2EOrderOfService(t *testing.T) {
	cfg := testConfig()
	cfg.Media.Networks = []string{"127.0.0.1/32"}
	a := startApp(t, cfg, nil)
	ctx := context.Background()
	useShortMenu(t, a)
	eng := agentEngine(t)
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cl := dialResident(t, cfg)
	sfx := loginSuffix()

	// (a) First come, first served.
	fifo := watchAgent(t, onDuty(t, wctx, a, eng, "acd-fifo-"+sfx, auth.RoleConsultant, 1000), "fifo")
	callers := []string{"+48600100701", "+48600100702", "+48600100703"}
	since := time.Now()
	calls := make([]*placed, len(callers))
	for i, caller := range callers {
		if i > 0 {
			// Each resident dials once the one before is waiting in the queue: behind it.
			waitQueued(t, a.Store, callers[i-1], since)
		}
		calls[i] = place(t, cl, a.Store, caller, "await roads, wait 60s, hangup")
	}
	waitQueued(t, a.Store, callers[2], since)
	if n := len(fifo.offers()); n != 0 {
		t.Fatalf("the consultant got %d offers before becoming available", n)
	}
	if _, err := fifo.ag.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}
	var fifoOffers []protocol.Offer
	for i, caller := range callers {
		o := fifo.awaitOffer(t, len(fifoOffers), fmt.Sprintf("offer %d of the waiting calls", i+1))
		fifoOffers = append(fifoOffers, o)
		if o.Caller.Number != caller {
			t.Errorf("offer %d is the call of %s; want %s (the residents called in the order %v)", i+1, o.Caller.Number, caller, callers)
		}
		fifo.handle(t, wctx, o)
	}
	for i, c := range calls {
		row := c.ended(t)
		recordingClosed(t, a, row.ID)
		if string(row.ID) != fifoOffers[i].CallID {
			t.Errorf("the call of %s (row %s) was not offered %d. (offers: %s)", callers[i], row.ID, i+1, offerCallIDs(fifoOffers))
		}
		if row.Outcome != "answered" {
			t.Errorf("the call of %s: outcome %s, want answered", callers[i], row.Outcome)
		}
		want := []string{"offered " + fifo.id, "agent_connected " + fifo.id}
		if got := acdEvents(t, a.Store, row.ID); !slices.Equal(got, want) {
			t.Errorf("the call of %s: ACD events %v, want %v", callers[i], got, want)
		}
	}
	if _, err := fifo.ag.SetState(wctx, protocol.StatePaused, "break"); err != nil {
		t.Fatal(err)
	}

	// (b) Longest idle. B is known to the ACD before A (so an order by sign-in or by
	// configuration would favour B), but A becomes available first.
	agA := watchAgent(t, onDuty(t, wctx, a, eng, "acd-idle-a-"+sfx, auth.RoleConsultant, 1100), "A")
	agB := watchAgent(t, onDuty(t, wctx, a, eng, "acd-idle-b-"+sfx, auth.RoleConsultant, 1200), "B")
	if _, err := agB.ag.SetState(wctx, protocol.StatePaused, "break"); err != nil {
		t.Fatal(err)
	}
	if _, err := agA.ag.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := agB.ag.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}

	first := place(t, cl, a.Store, "+48600100711", "await roads, wait 60s, hangup")
	who, o1 := awaitAnyOffer(t, "the first call offered", agA, agB, fifo)
	if who != agA {
		t.Fatalf("the first call was offered to %s; want A, idle since before B", who.name)
	}
	agA.handle(t, wctx, o1)

	second := place(t, cl, a.Store, "+48600100712", "await roads, wait 60s, hangup")
	who, o2 := awaitAnyOffer(t, "the second call offered", agA, agB, fifo)
	if who != agB {
		t.Fatalf("the second call was offered to %s; want B, idle since before A finished the first call", who.name)
	}
	agB.handle(t, wctx, o2)

	for _, c := range []struct {
		p     *placed
		offer protocol.Offer
		to    *watched
	}{{first, o1, agA}, {second, o2, agB}} {
		row := c.p.ended(t)
		recordingClosed(t, a, row.ID)
		if string(row.ID) != c.offer.CallID {
			t.Errorf("the call of %s is row %s; the offer was for %s", c.p.caller, row.ID, c.offer.CallID)
		}
		want := []string{"offered " + c.to.id, "agent_connected " + c.to.id}
		if got := acdEvents(t, a.Store, row.ID); !slices.Equal(got, want) {
			t.Errorf("the call of %s: ACD events %v, want %v", c.p.caller, got, want)
		}
		if row.Outcome != "answered" {
			t.Errorf("the call of %s: outcome %s, want answered", c.p.caller, row.Outcome)
		}
	}
	// Nobody got an offer that was not accounted for above.
	for _, w := range []*watched{fifo, agA, agB} {
		want := map[*watched]int{fifo: 3, agA: 1, agB: 1}[w]
		if n := len(w.offers()); n != want {
			t.Errorf("agent %s got %d offers, want %d", w.name, n, want)
		}
	}
}

// TestE2ERingNoAnswerGoesToNextAgent: the call is offered to the agent idle longest, who lets it
// ring out; that agent is told the offer is withdrawn and is paused ("no answer"), and the call
// goes to the other agent, who answers it.
func TestE2ERingNoAnswerGoesToNextAgent(t *testing.T) {
	cfg := testConfig()
	cfg.Media.Networks = []string{"127.0.0.1/32"}
	cfg.ACD.Ring = config.Duration(3 * time.Second)
	a := startApp(t, cfg, nil)
	ctx := context.Background()
	useShortMenu(t, a)
	eng := agentEngine(t)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	sfx := loginSuffix()

	agA := watchAgent(t, onDuty(t, wctx, a, eng, "acd-rona-a-"+sfx, auth.RoleConsultant, 1000), "A")
	agB := watchAgent(t, onDuty(t, wctx, a, eng, "acd-rona-b-"+sfx, auth.RoleConsultant, 1200), "B")
	if _, err := agB.ag.SetState(wctx, protocol.StatePaused, "break"); err != nil {
		t.Fatal(err)
	}
	if _, err := agA.ag.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := agB.ag.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}

	call := place(t, dialResident(t, cfg), a.Store, "+48600100721", "await roads, wait 45s, hangup")
	who, offerA := awaitAnyOffer(t, "the call offered", agA, agB)
	if who != agA {
		t.Fatalf("the call was offered first to %s; want A, idle longest", who.name)
	}
	// A does nothing. After the ring limit the call goes to B, who answers.
	from := agA.count()
	offerB := agB.awaitOffer(t, 0, "the call offered to B after A's ring limit")
	if offerB.CallID != offerA.CallID {
		t.Fatalf("B was offered call %s; want %s, the call A let ring out", offerB.CallID, offerA.CallID)
	}
	actx, acancel := context.WithTimeout(wctx, 30*time.Second)
	defer acancel()
	conn, err := agB.ag.Accept(actx, offerB.OfferID)
	if err != nil {
		t.Fatalf("B accepting: %v", err)
	}
	if conn.CallID != offerB.CallID || conn.OfferID != offerB.OfferID {
		t.Errorf("B's call.connected %+v; want call %s, offer %s", conn, offerB.CallID, offerB.OfferID)
	}
	agB.await(t, 0, 20*time.Second, "call.connected at B", func(env protocol.Envelope) bool {
		c, ok := env.Data.(*protocol.CallConnected)
		return ok && c.CallID == offerB.CallID && c.OfferID == offerB.OfferID
	})
	// A was told: the offer is withdrawn (sent before B's offer, on A's own socket)…
	if env, _, ok := agA.find(from, 10*time.Second, func(env protocol.Envelope) bool {
		c, ok := env.Data.(*protocol.OfferCancelled)
		return ok && c.OfferID == offerA.OfferID
	}); !ok {
		t.Errorf("A never received offer.cancelled for its offer %s; received %s", offerA.OfferID, agA.summary())
	} else if c := env.Data.(*protocol.OfferCancelled); c.CallID != offerA.CallID || c.Reason != "timeout" {
		t.Errorf("A's offer.cancelled %+v; want call %s, reason timeout (not accepted in time)", c, offerA.CallID)
	}
	// …and A is paused for not answering: the ACD's acd.ReasonNoAnswer ("no answer") travels as
	// the protocol's slug no_answer.
	if _, _, ok := agA.find(from, 10*time.Second, func(env protocol.Envelope) bool {
		s, ok := env.Data.(*protocol.State)
		return ok && s.State == protocol.StatePaused && s.Reason == "no_answer"
	}); !ok {
		t.Errorf(`A never received a state frame paused with reason no_answer; received %s`, agA.summary())
	}
	time.Sleep(700 * time.Millisecond) // B and the resident talk a moment
	if err := agB.ag.Hangup(wctx, offerB.CallID); err != nil {
		t.Fatalf("B hanging up: %v", err)
	}
	row := call.ended(t)
	recordingClosed(t, a, row.ID)
	if string(row.ID) != offerA.CallID {
		t.Errorf("the resident's call is row %s; the offers were for %s", row.ID, offerA.CallID)
	}
	want := []string{"offered " + agA.id, "offer_cancelled " + agA.id, "offered " + agB.id, "agent_connected " + agB.id}
	if got := acdEvents(t, a.Store, row.ID); !slices.Equal(got, want) {
		t.Errorf("ACD events of the call %v, want %v", got, want)
	}
	evs, err := a.Store.CallEvents(ctx, row.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type == "offer_cancelled" && e.Data["reason"] != acd.WhyNoAnswer {
			t.Errorf("offer_cancelled reason %v, want %q", e.Data["reason"], acd.WhyNoAnswer)
		}
	}
	if row.Outcome != "answered" {
		t.Errorf("outcome %s, want answered", row.Outcome)
	}
	if n := len(agA.offers()); n != 1 {
		t.Errorf("A got %d offers, want 1 (paused after the ring-no-answer)", n)
	}
}

// agentEngine is the WebRTC engine of the test's headless agents.
func agentEngine(t *testing.T) *media.Engine {
	t.Helper()
	eng, err := media.New(media.Config{IncludeLoopback: true, Networks: []string{"127.0.0.1/32"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// loginSuffix keeps the test's logins unique when the test runs more than once against the
// package's database.
func loginSuffix() string { return fmt.Sprint(time.Now().UnixNano() % 1e9) }

// watched records every envelope an agent receives, so that a test can look back at all of them
// (for example: no offer reached the other agent).
type watched struct {
	name string
	id   string // the ACD's agent id, u-<user id>
	ag   *agent.Agent
	mu   sync.Mutex
	evs  []protocol.Envelope
}

func watchAgent(t *testing.T, ag *agent.Agent, name string) *watched {
	t.Helper()
	w := &watched{name: name, id: ag.Welcome().Agent.ID, ag: ag}
	if !strings.HasPrefix(w.id, "u-") {
		t.Fatalf("agent %s has id %q; want u-<user id>", name, w.id)
	}
	go func() {
		for env := range ag.Events() {
			w.mu.Lock()
			w.evs = append(w.evs, env)
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *watched) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.evs)
}

func (w *watched) offers() []protocol.Offer {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []protocol.Offer
	for _, env := range w.evs {
		if o, ok := env.Data.(*protocol.Offer); ok {
			out = append(out, *o)
		}
	}
	return out
}

// await waits for the first envelope from index from on that matches; it returns it and the
// index after it.
func (w *watched) await(t *testing.T, from int, d time.Duration, what string, match func(protocol.Envelope) bool) (protocol.Envelope, int) {
	t.Helper()
	env, next, ok := w.find(from, d, match)
	if !ok {
		t.Fatalf("agent %s: timed out after %s waiting for: %s; received %s", w.name, d, what, w.summary())
	}
	return env, next
}

// find is await that reports a time-out instead of failing the test.
func (w *watched) find(from int, d time.Duration, match func(protocol.Envelope) bool) (protocol.Envelope, int, bool) {
	deadline := time.Now().Add(d)
	for {
		w.mu.Lock()
		for i := from; i < len(w.evs); i++ {
			if match(w.evs[i]) {
				env := w.evs[i]
				w.mu.Unlock()
				return env, i + 1, true
			}
		}
		w.mu.Unlock()
		if time.Now().After(deadline) {
			return protocol.Envelope{}, from, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// awaitOffer waits for the agent's offer number n+1 (counting from 0).
func (w *watched) awaitOffer(t *testing.T, n int, what string) protocol.Offer {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if offers := w.offers(); len(offers) > n {
			return offers[n]
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent %s: timed out waiting for: %s; received %s", w.name, what, w.summary())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// summary lists the types (and states) of the envelopes received, for failure messages.
func (w *watched) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var s []string
	for _, env := range w.evs {
		switch m := env.Data.(type) {
		case *protocol.State:
			s = append(s, fmt.Sprintf("state(%s %s)", m.State, m.Reason))
		case *protocol.Offer:
			s = append(s, fmt.Sprintf("offer(%s %s)", m.CallID, m.Caller.Number))
		case *protocol.OfferCancelled:
			s = append(s, fmt.Sprintf("offer.cancelled(%s %s)", m.CallID, m.Reason))
		default:
			s = append(s, string(env.Type))
		}
	}
	return "[" + strings.Join(s, " ") + "]"
}

// handle answers an offer, talks a moment (so that the call's recording holds audio), hangs up,
// submits the wrap-up and returns once the agent is available again.
func (w *watched) handle(t *testing.T, ctx context.Context, o protocol.Offer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	from := w.count()
	if _, err := w.ag.Accept(ctx, o.OfferID); err != nil {
		t.Fatalf("agent %s accepting %s: %v", w.name, o.CallID, err)
	}
	time.Sleep(700 * time.Millisecond)
	if err := w.ag.Hangup(ctx, o.CallID); err != nil {
		t.Fatalf("agent %s hanging up %s: %v", w.name, o.CallID, err)
	}
	_, from = w.await(t, from, 20*time.Second, "wrap-up of "+o.CallID, func(env protocol.Envelope) bool {
		s, ok := env.Data.(*protocol.WrapupStarted)
		return ok && s.CallID == o.CallID
	})
	if _, err := w.ag.SubmitWrapup(ctx, protocol.WrapupSubmit{CallID: o.CallID, Update: &protocol.TicketUpdate{
		Kind: protocol.KindIntervention, Category: "pothole", Notes: "ACD e2e"}}); err != nil {
		t.Fatalf("agent %s wrap-up of %s: %v", w.name, o.CallID, err)
	}
	w.await(t, from, 20*time.Second, "available again after the wrap-up of "+o.CallID, func(env protocol.Envelope) bool {
		s, ok := env.Data.(*protocol.State)
		return ok && s.State == protocol.StateAvailable
	})
}

// awaitAnyOffer waits until one of the agents has an offer it has not been given before (by
// count of offers when called) and returns that agent and the offer.
func awaitAnyOffer(t *testing.T, what string, ws ...*watched) (*watched, protocol.Offer) {
	t.Helper()
	before := make([]int, len(ws))
	for i, w := range ws {
		before[i] = len(w.offers())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		for i, w := range ws {
			if offers := w.offers(); len(offers) > before[i] {
				return w, offers[before[i]]
			}
		}
		if time.Now().After(deadline) {
			var s []string
			for _, w := range ws {
				s = append(s, w.name+": "+w.summary())
			}
			t.Fatalf("timed out waiting for: %s; agents received %s", what, strings.Join(s, "; "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// placed is a resident's call under way in its own goroutine.
type placed struct {
	caller string
	st     *store.Store
	done   chan struct{}
	res    resident.Result
	err    error
}

// place makes a resident's call with script in the background.
func place(t *testing.T, cl *resident.Client, st *store.Store, caller, script string) *placed {
	t.Helper()
	steps, err := resident.ParseScript(script)
	if err != nil {
		t.Fatal(err)
	}
	p := &placed{caller: caller, st: st, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.res, p.err = cl.Place(context.Background(), resident.Call{CallerID: caller, Steps: steps, Await: awaitNode(st)})
	}()
	return p
}

// ended waits for the resident's call to end and returns its closed call row.
func (p *placed) ended(t *testing.T) store.Call {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the call of %s did not end", p.caller)
	}
	if p.err != nil {
		t.Fatalf("resident %s: %v", p.caller, p.err)
	}
	return endedCall(t, p.st, p.res.Ref)
}

// recordingClosed waits until the recording of the call's (first) answered leg is finalised or
// failed: the center finishes it in the background, and it must be done before the test ends
// (and its logger with it).
func recordingClosed(t *testing.T, a *app.App, id store.CallID) {
	t.Helper()
	waitFor(t, 30*time.Second, "the recording of call "+string(id)+" closed", func() bool {
		rec, err := a.Archive.ByLeg(context.Background(), id, 1)
		return err == nil && rec.State != recording.StateRecording
	})
}

// acdEvents lists a call's ACD events (offered, offer_cancelled, agent_connected) in order, each
// with the agent it names.
func acdEvents(t *testing.T, st *store.Store, id store.CallID) []string {
	t.Helper()
	evs, err := st.CallEvents(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, e := range evs {
		if i > 0 && e.Seq <= evs[i-1].Seq {
			t.Fatalf("events out of order: %+v", evs)
		}
		switch e.Type {
		case "offered", "offer_cancelled", "agent_connected":
			out = append(out, fmt.Sprint(e.Type, " ", e.Data["agent"]))
		}
	}
	return out
}

func offerCallIDs(os []protocol.Offer) string {
	var s []string
	for _, o := range os {
		s = append(s, o.CallID+" "+o.Caller.Number)
	}
	return strings.Join(s, ", ")
}
