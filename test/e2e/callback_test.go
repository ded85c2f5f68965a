package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kontakt/agentd/agent"
	"kontakt/agentd/media"
	"kontakt/agentd/protocol"
	"kontakt/internal/app"
	"kontakt/internal/auth"
	"kontakt/internal/config"
	"kontakt/internal/resident"
	"kontakt/internal/store"
	"kontakt/internal/switchboard"
)

// callbackConfig is the test configuration with quick callbacks: offered after 3 s of waiting,
// each attempt ringing 10 s, two attempts 10 s apart, and a short wrap-up.
func callbackConfig() config.Config {
	cfg := testConfig()
	cfg.Media.Networks = []string{"127.0.0.1/32"}
	cfg.ACD.WrapUp = config.Duration(2 * time.Second)
	cfg.ACD.Callback.OfferAfter = config.Duration(3 * time.Second)
	cfg.ACD.Callback.Ring = config.Duration(10 * time.Second)
	cfg.ACD.Callback.Retry = config.Duration(10 * time.Second)
	cfg.ACD.Callback.Attempts = 2
	return cfg
}

// residentPhone is the simulated phone of number: Kontakt's callbacks to it ring there.
func residentPhone(t *testing.T, cfg config.Config, number string) *resident.Client {
	t.Helper()
	ph, err := resident.Dial(context.Background(), resident.Options{Phone: number, ARI: switchboard.ARIOptions{
		URL: cfg.ARI.URL, User: cfg.ARI.User, Password: cfg.ARI.Password}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ph.Close)
	return ph
}

// awaitEvent returns an Await function for residents: "await TYPE" waits until the resident's
// call has an event of that type; IVR node names (awaitNode) work too.
func awaitEvent(st *store.Store) func(ctx context.Context, ref, label string) error {
	node := awaitNode(st)
	return func(ctx context.Context, ref, label string) error {
		if !strings.Contains(label, "_") {
			return node(ctx, ref, label)
		}
		for {
			if c, err := st.CallByRef(ctx, ref); err == nil {
				evs, _ := st.CallEvents(ctx, c.ID)
				for _, e := range evs {
					if e.Type == label {
						return nil
					}
				}
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(25 * time.Millisecond):
			}
		}
	}
}

// nextOffer returns the agent's next offer.
func nextOffer(t *testing.T, ctx context.Context, ag *agent.Agent) protocol.Offer {
	t.Helper()
	for {
		select {
		case env := <-ag.Events():
			if o, ok := env.Data.(*protocol.Offer); ok {
				return *o
			}
		case <-ctx.Done():
			t.Fatal("no offer reached the agent")
		}
	}
}

// awaitFrame waits for the agent's next frame of type typ and returns it.
func awaitFrame(t *testing.T, ctx context.Context, ag *agent.Agent, typ protocol.Type) protocol.Envelope {
	t.Helper()
	for {
		select {
		case env := <-ag.Events():
			if env.Type == typ {
				return env
			}
			if typ == protocol.TypeCallConnected && env.Type == protocol.TypeOfferCancelled {
				t.Fatalf("the offer was cancelled instead: %+v", env.Data)
			}
		case <-ctx.Done():
			t.Fatalf("the agent never got %s", typ)
		}
	}
}

// outboundCalls returns the callback attempts on a ticket, oldest first.
func outboundCalls(t *testing.T, a *app.App, tid store.TicketID) []store.Call {
	t.Helper()
	rows, err := a.Store.DB().Query(context.Background(), `SELECT id FROM calls WHERE ticket_id = $1 AND direction = 'outbound' ORDER BY started_at`, int64(tid))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	var out []store.Call
	for _, id := range ids {
		c, err := a.Store.Call(context.Background(), store.CallID(id))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// ticketNotes returns the system's notes on a ticket.
func ticketNotes(t *testing.T, a *app.App, tid store.TicketID) []string {
	t.Helper()
	rows, err := a.Store.DB().Query(context.Background(), `SELECT note FROM ticket_history
		WHERE ticket_id = $1 AND action = 'add_note' AND actor_role = 'system' ORDER BY id`, int64(tid))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var notes []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		notes = append(notes, n)
	}
	return notes
}

// A caller who has waited is offered a callback, books it on their own number and hangs up; a
// caller who called later stays on the line. When the consultant becomes free the callback
// comes first (it kept the place): the resident's phone really rings, the resident answers and
// talks with the consultant (audio both ways), and only then is the later caller served.
func TestE2ECallbackKeepsThePlaceAndCallsTheResidentBack(t *testing.T) {
	cfg := callbackConfig()
	a := startApp(t, cfg, nil)
	ctx := context.Background()
	useShortMenu(t, a)
	eng, err := media.New(media.Config{IncludeLoopback: true, Networks: []string{"127.0.0.1/32"}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ag := onDuty(t, wctx, a, eng, "konsultant-oddzwania", auth.RoleConsultant, 1000)
	const numA, numB = "+48600200300", "+48600200301"
	phone := residentPhone(t, cfg, numA)
	cl := dialResident(t, cfg)

	// A: waits for the offer, presses 1 (callback), hears the number, presses 1 (confirm).
	doneA := make(chan resident.Result, 1)
	since := time.Now()
	go func() {
		steps, _ := resident.ParseScript("await callback_offered, wait 1s, dtmf 1, wait 2s, dtmf 1, wait 30s, hangup")
		res, err := cl.Place(ctx, resident.Call{CallerID: numA, Steps: steps, Await: awaitEvent(a.Store)})
		if err != nil {
			t.Error(err)
		}
		doneA <- res
	}()
	waitQueued(t, a.Store, numA, since)
	// B calls after A and waits on the line.
	doneB := make(chan resident.Result, 1)
	go func() {
		steps, _ := resident.ParseScript("await agent_connected, wait 2s, hangup")
		res, err := cl.Place(ctx, resident.Call{CallerID: numB, Steps: steps, Await: awaitEvent(a.Store)})
		if err != nil {
			t.Error(err)
		}
		doneB <- res
	}()
	resA := <-doneA
	callA := endedCall(t, a.Store, resA.Ref)
	if callA.Outcome != "callback" || resA.HungUpBy != "kontakt" {
		t.Fatalf("caller A: outcome %q, hung up by %s; want callback, by kontakt after the goodbye", callA.Outcome, resA.HungUpBy)
	}
	evs, _ := a.Store.CallEvents(ctx, callA.ID)
	var booked map[string]any
	for _, e := range evs {
		if e.Type == "callback_requested" {
			booked = e.Data
		}
	}
	if booked == nil || booked["number"] != numA || booked["position"] != float64(1) {
		t.Fatalf("caller A's booking: %v; want number %s at position 1", booked, numA)
	}

	// The consultant becomes free: the first thing offered is A's callback, not B on the line.
	if _, err := ag.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}
	phoneDone := make(chan resident.Result, 1)
	go func() {
		steps, _ := resident.ParseScript("wait 6s, tone 700 10s, wait 20s")
		res, err := phone.Answer(wctx, resident.Call{Ring: time.Second, Steps: steps, Record: true})
		if err != nil {
			t.Error(err)
		}
		phoneDone <- res
	}()
	offer := nextOffer(t, wctx, ag)
	if offer.Callback == nil || offer.CallID != string(callA.ID) || offer.Callback.Number != numA || offer.Callback.Attempt != 1 {
		t.Fatalf("first offer %+v (callback %+v); want A's callback (call %s), attempt 1", offer, offer.Callback, callA.ID)
	}
	if _, err := ag.Accept(wctx, offer.OfferID); err == nil {
		t.Error("accepting a callback's preview was allowed; it connects by itself")
	}
	awaitFrame(t, wctx, ag, protocol.TypeCallConnected)
	if err := ag.Media().WaitTone(wctx, 700, 0.2); err != nil {
		t.Fatalf("the consultant never heard the resident's 700 Hz: %v", err)
	}
	time.Sleep(2 * time.Second) // the consultant speaks (1000 Hz) to the resident a while
	if err := ag.Hangup(wctx, offer.CallID); err != nil {
		t.Fatalf("hang-up: %v", err)
	}
	res := <-phoneDone
	if res.HungUpBy != "kontakt" {
		t.Errorf("the callback ended by %s; want kontakt (the consultant hung up)", res.HungUpBy)
	}
	wav, err := os.ReadFile(filepath.Join(env.st.Asterisk.RecordingDir(), res.Recording+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	if !hasTone(wav, 1000) {
		t.Error("the resident never heard the consultant's 1000 Hz on the callback")
	}

	// Then B, who stayed on the line, is served.
	offerB := nextOffer(t, wctx, ag)
	if offerB.Callback != nil || offerB.Caller.Number != numB {
		t.Fatalf("second offer %+v; want B on the line", offerB)
	}
	if _, err := ag.Accept(wctx, offerB.OfferID); err != nil {
		t.Fatalf("accept B: %v", err)
	}
	<-doneB

	// The attempt is a call row on A's ticket, and the ticket says what happened.
	var out []store.Call
	waitFor(t, 10*time.Second, "the attempt closed in the database", func() bool { // rows are written in the background
		out = outboundCalls(t, a, callA.TicketID)
		return len(out) > 0 && out[0].EndedAt != nil
	})
	if len(out) != 1 || out[0].Outcome != "answered" || out[0].Called != numA || out[0].AnsweredAt == nil {
		t.Fatalf("callback attempts on A's ticket: %+v; want one, answered, to %s", out, numA)
	}
	types := eventTypes(t, a.Store, out[0].ID)
	for _, want := range []string{"dialing", "dial_answered", "agent_connected", "recording"} {
		if !strings.Contains(strings.Join(types, ","), want) {
			t.Errorf("the callback's events %v lack %s", types, want)
		}
	}
	waitFor(t, 10*time.Second, "the ticket's callback notes", func() bool { return len(ticketNotes(t, a, callA.TicketID)) >= 2 })
	notes := strings.Join(ticketNotes(t, a, callA.TicketID), "\n")
	if !strings.Contains(notes, "zamówił oddzwonienie na numer "+numA) || !strings.Contains(notes, "próba 1") {
		t.Errorf("ticket notes:\n%s\nwant the booking and attempt 1", notes)
	}
}

// callbackMenu books a callback to the caller's own number in the roads queue at once.
const callbackMenu = `{"format": 1, "id": "19115", "languages": ["pl", "en", "uk"], "default_language": "pl", "start": "cb",
 "nodes": {"cb": {"kind": "callback", "prompt": {"pl": "Oddzwonimy.", "en": "We will call you back.", "uk": "Ми передзвонимо."},
                  "number_from": "caller", "queue": "roads", "next": "bye"},
           "bye": {"kind": "hangup", "prompt": {"pl": "Do widzenia.", "en": "Goodbye.", "uk": "До побачення."}}}}`

// useCallbackMenu publishes callbackMenu; the function it returns restores the menu published
// before, through the given app (the database is shared).
func useCallbackMenu(t *testing.T, a *app.App) func(*app.App) {
	t.Helper()
	ctx := context.Background()
	before, _ := a.Menus.Current("19115")
	v, probs, err := a.Menus.SaveDraft(ctx, []byte(callbackMenu), "test")
	if err != nil || len(probs) > 0 {
		t.Fatalf("menu: %v %v", err, probs)
	}
	if _, err := a.Menus.Publish(ctx, "19115", v.Version, "test"); err != nil {
		t.Fatal(err)
	}
	return func(a *app.App) {
		if _, err := a.Menus.Rollback(context.Background(), "19115", before.Version, "test"); err != nil {
			t.Errorf("restoring the menu: %v", err)
		}
	}
}

// callbackRow returns the kept callback of a call: its status and attempts.
func callbackRow(t *testing.T, a *app.App, id store.CallID) (status string, attempts int) {
	t.Helper()
	if err := a.Store.DB().QueryRow(context.Background(), `SELECT status, attempts FROM callbacks WHERE call_id = $1`,
		string(id)).Scan(&status, &attempts); err != nil {
		t.Fatalf("callback of %s: %v", id, err)
	}
	return status, attempts
}

// A callback booked while no consultant is on duty survives a restart of kontakt: the new
// process puts it back in its queue, and the resident is called back by it.
func TestE2ECallbackSurvivesARestart(t *testing.T) {
	cfg := callbackConfig()
	ctx := context.Background()
	first := startApp(t, cfg, nil)
	restore := useCallbackMenu(t, first)
	const num = "+48600200500"
	res, err := dialResident(t, cfg).Place(ctx, resident.Call{CallerID: num})
	if err != nil {
		t.Fatal(err)
	}
	call := endedCall(t, first.Store, res.Ref)
	if st, _ := callbackRow(t, first, call.ID); call.Outcome != "callback" || st != "pending" {
		t.Fatalf("outcome %q, kept callback %q; want callback, pending", call.Outcome, st)
	}
	first.Stop(ctx, false)

	second := startApp(t, cfg, nil)
	t.Cleanup(func() { restore(second) })
	eng, err := media.New(media.Config{IncludeLoopback: true, Networks: []string{"127.0.0.1/32"}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	phone := residentPhone(t, cfg, num)
	ag := onDuty(t, wctx, second, eng, "konsultant-po-restarcie", auth.RoleConsultant, 1000)
	phoneDone := make(chan resident.Result, 1)
	go func() {
		steps, _ := resident.ParseScript("wait 6s, tone 700 10s, wait 20s")
		r, err := phone.Answer(wctx, resident.Call{Steps: steps})
		if err != nil {
			t.Error(err)
		}
		phoneDone <- r
	}()
	if _, err := ag.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}
	o := nextOffer(t, wctx, ag)
	if o.Callback == nil || o.CallID != string(call.ID) || o.Ticket.Number == "" {
		t.Fatalf("offer %+v; want the kept callback of call %s with its ticket", o, call.ID)
	}
	awaitFrame(t, wctx, ag, protocol.TypeCallConnected)
	if err := ag.Media().WaitTone(wctx, 700, 0.2); err != nil {
		t.Fatalf("the consultant never heard the resident: %v", err)
	}
	ag.Hangup(wctx, o.CallID)
	<-phoneDone
	waitFor(t, 10*time.Second, "the kept callback answered", func() bool {
		st, n := callbackRow(t, second, call.ID)
		return st == "answered" && n == 1
	})
}

// A callback booked in the menu: the first attempt finds the line busy, the second (after the
// retry pause) is answered and reaches the consultant. Both attempts are on the ticket.
func TestE2ECallbackFromTheMenuRetriesWhenBusy(t *testing.T) {
	cfg := callbackConfig()
	a := startApp(t, cfg, nil)
	ctx := context.Background()
	restore := useCallbackMenu(t, a)
	t.Cleanup(func() { restore(a) })
	eng, err := media.New(media.Config{IncludeLoopback: true, Networks: []string{"127.0.0.1/32"}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ag := onDuty(t, wctx, a, eng, "konsultant-ponawia", auth.RoleConsultant, 1000)
	if _, err := ag.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}
	const num = "+48600200400"
	phone := residentPhone(t, cfg, num)
	res, err := dialResident(t, cfg).Place(ctx, resident.Call{CallerID: num})
	if err != nil {
		t.Fatal(err)
	}
	call := endedCall(t, a.Store, res.Ref)
	if call.Outcome != "callback" {
		t.Fatalf("outcome %q; want callback", call.Outcome)
	}
	ends := 0
	for _, ty := range eventTypes(t, a.Store, call.ID) {
		if ty == "ivr_end" {
			ends++
		}
	}
	if ends != 1 {
		t.Errorf("the call left the menu %d times (ivr_end); want once", ends)
	}
	// Attempt 1: the consultant sees the preview; the line is busy.
	o1 := nextOffer(t, wctx, ag)
	if o1.Callback == nil || o1.Callback.Attempt != 1 || o1.CallID != string(call.ID) {
		t.Fatalf("first offer %+v; want the callback, attempt 1", o1)
	}
	if err := phone.Decline(wctx, 17); err != nil {
		t.Fatal(err)
	}
	env := awaitFrame(t, wctx, ag, protocol.TypeOfferCancelled)
	if oc := env.Data.(*protocol.OfferCancelled); oc.Reason != "no_answer" {
		t.Errorf("offer cancelled with %q; want no_answer", oc.Reason)
	}
	// Attempt 2, after the retry pause: answered.
	retried := time.Now()
	phoneDone := make(chan resident.Result, 1)
	go func() {
		steps, _ := resident.ParseScript("wait 6s, tone 700 10s, wait 20s")
		r, err := phone.Answer(wctx, resident.Call{Steps: steps})
		if err != nil {
			t.Error(err)
		}
		phoneDone <- r
	}()
	o2 := nextOffer(t, wctx, ag)
	if o2.Callback == nil || o2.Callback.Attempt != 2 {
		t.Fatalf("second offer %+v; want the callback, attempt 2", o2)
	}
	if d := time.Since(retried); d < 8*time.Second {
		t.Errorf("the second attempt came %s after the first failed; want the 10 s retry pause", d)
	}
	awaitFrame(t, wctx, ag, protocol.TypeCallConnected)
	if err := ag.Media().WaitTone(wctx, 700, 0.2); err != nil {
		t.Fatalf("the consultant never heard the resident: %v", err)
	}
	ag.Hangup(wctx, o2.CallID)
	<-phoneDone

	var out []store.Call
	waitFor(t, 10*time.Second, "both attempts closed in the database", func() bool { // rows are written in the background
		out = outboundCalls(t, a, call.TicketID)
		return len(out) == 2 && out[0].EndedAt != nil && out[1].EndedAt != nil
	})
	if len(out) != 2 {
		t.Fatalf("%d attempts on the ticket; want 2", len(out))
	}
	if out[0].Outcome != "failed" || out[0].HangupCause != 17 || out[0].AnsweredAt != nil {
		t.Errorf("attempt 1: outcome %s cause %d; want failed, busy (17)", out[0].Outcome, out[0].HangupCause)
	}
	if out[1].Outcome != "answered" {
		t.Errorf("attempt 2: outcome %s; want answered", out[1].Outcome)
	}
	waitFor(t, 10*time.Second, "the kept callback answered at attempt 2", func() bool {
		st, n := callbackRow(t, a, call.ID)
		return st == "answered" && n == 2
	})
	waitFor(t, 10*time.Second, "the ticket's callback notes", func() bool { return len(ticketNotes(t, a, call.TicketID)) >= 3 })
	notes := strings.Join(ticketNotes(t, a, call.TicketID), "\n")
	for _, want := range []string{"w menu oddzwonienie na numer " + num, "próba 1, na numer " + num + ": numer zajęty", "próba 2"} {
		if !strings.Contains(notes, want) {
			t.Errorf("ticket notes:\n%s\nlack %q", notes, want)
		}
	}
}

// A caller whose number is withheld keys the number to be called back on: a number too short
// is refused with a spoken reason, the right one is read back, confirmed, and called.
func TestE2ECallbackToAKeyedNumber(t *testing.T) {
	cfg := callbackConfig()
	a := startApp(t, cfg, nil)
	ctx := context.Background()
	useShortMenu(t, a)
	eng, err := media.New(media.Config{IncludeLoopback: true, Networks: []string{"127.0.0.1/32"}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ag := onDuty(t, wctx, a, eng, "konsultant-numer", auth.RoleConsultant, 1000)
	const keyed = "600200600"
	phone := residentPhone(t, cfg, keyed)
	steps, _ := resident.ParseScript("await callback_offered, wait 1s, dtmf 1, wait 1s, dtmf 123#, wait 2s, dtmf " + keyed + "#, wait 2s, dtmf 1, wait 30s, hangup")
	res, err := dialResident(t, cfg).Place(ctx, resident.Call{CallerID: "", Steps: steps, Await: awaitEvent(a.Store)})
	if err != nil {
		t.Fatal(err)
	}
	call := endedCall(t, a.Store, res.Ref)
	evs, _ := a.Store.CallEvents(ctx, call.ID)
	var booked, refused map[string]any
	for _, e := range evs {
		switch e.Type {
		case "callback_requested":
			booked = e.Data
		case "callback_refused":
			refused = e.Data
		}
	}
	if call.Outcome != "callback" || booked == nil || booked["number"] != keyed {
		t.Fatalf("outcome %q, booking %v; want a callback to %s", call.Outcome, booked, keyed)
	}
	if refused == nil || refused["length"] != float64(3) {
		t.Errorf("the 3-digit number was not refused: %v", refused)
	}
	phoneDone := make(chan resident.Result, 1)
	go func() {
		r, err := phone.Answer(wctx, resident.Call{Stay: 40 * time.Second}) // until the consultant hangs up
		if err != nil {
			t.Error(err)
		}
		phoneDone <- r
	}()
	if _, err := ag.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}
	o := nextOffer(t, wctx, ag)
	if o.Callback == nil || o.Callback.Number != keyed {
		t.Fatalf("offer %+v; want the callback to %s", o, keyed)
	}
	awaitFrame(t, wctx, ag, protocol.TypeCallConnected)
	if err := ag.Hangup(wctx, o.CallID); err != nil {
		t.Fatal(err)
	}
	if r := <-phoneDone; r.HungUpBy != "kontakt" {
		t.Errorf("the callback was ended by %s; want kontakt (the consultant)", r.HungUpBy)
	}
}
