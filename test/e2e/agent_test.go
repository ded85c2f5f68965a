package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kontakt/agentd/agent"
	"kontakt/agentd/media"
	"kontakt/agentd/media/tone"
	"kontakt/agentd/protocol"
	"kontakt/internal/app"
	"kontakt/internal/auth"
	"kontakt/internal/resident"
	"kontakt/internal/stack"
	"kontakt/internal/store"
	"kontakt/recording"
)

// shortMenu greets and routes every caller to the roads queue.
const shortMenu = `{"format": 1, "id": "19115", "languages": ["pl", "en", "uk"], "default_language": "pl", "start": "hello",
 "nodes": {"hello": {"kind": "play", "prompt": {"pl": "Dzień dobry.", "en": "Hello.", "uk": "Добрий день."}, "next": "roads"},
           "roads": {"kind": "queue", "queue": "roads"}}}`

// useShortMenu publishes shortMenu (every caller to the roads queue) and restores the seeded menu
// when the test ends.
func useShortMenu(t *testing.T, a *app.App) {
	t.Helper()
	ctx := context.Background()
	before, ok := a.Menus.Current("19115")
	if !ok {
		t.Fatal("no published menu")
	}
	v, probs, err := a.Menus.SaveDraft(ctx, []byte(shortMenu), "test")
	if err != nil || len(probs) > 0 {
		t.Fatalf("menu: %v %v", err, probs)
	}
	if _, err := a.Menus.Publish(ctx, "19115", v.Version, "test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := a.Menus.Rollback(context.Background(), "19115", before.Version, "test"); err != nil {
			t.Errorf("restoring the menu: %v", err)
		}
	})
}

// onDuty signs a new user with role in and connects a headless agent with a WebRTC softphone
// (sending tone Hz) through eng; it returns once the softphone is connected.
func onDuty(t *testing.T, ctx context.Context, a *app.App, eng *media.Engine, login string, role auth.Role, tone float64) *agent.Agent {
	t.Helper()
	ag, err := agent.Dial(ctx, "http://"+a.Addr(), signIn(t, a, login, role), agent.Options{Engine: eng, Tone: tone})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ag.Close)
	if err := ag.WaitMedia(ctx); err != nil {
		t.Fatalf("softphone of %s: %v", login, err)
	}
	return ag
}

// signIn creates a user and signs in over HTTP; it returns the session cookie's value.
func signIn(t *testing.T, a *app.App, login string, roles ...auth.Role) string {
	t.Helper()
	ctx := context.Background()
	pw := "a-long-test-password-" + login
	if _, err := a.Auth.CreateUser(ctx, auth.NewUser{Login: login, Name: login, Roles: roles, Password: pw}); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"login": login, "password": pw})
	req, _ := http.NewRequest("POST", "http://"+a.Addr()+"/api/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://"+a.Addr())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "kontakt_session" {
			return c.Value
		}
	}
	t.Fatalf("sign-in of %s: %s, no session cookie", login, resp.Status)
	return ""
}

func TestE2ECallReachesAgentWithScreenPopAndAudioBothWays(t *testing.T) {
	cfg := testConfig()
	cfg.Media.Networks = []string{"127.0.0.1/32"}
	a := startApp(t, cfg, nil)
	ctx := context.Background()
	useShortMenu(t, a)

	eng, err := media.New(media.Config{IncludeLoopback: true, Networks: []string{"127.0.0.1/32"}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	wctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	ag := onDuty(t, wctx, a, eng, "konsultant-e2e", auth.RoleConsultant, 1000)
	if _, err := ag.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}

	// A broker signs in too: the consultant will escalate the call to the broker queue.
	broker := onDuty(t, wctx, a, eng, "broker-e2e", auth.RoleBroker, 1200)
	if _, err := broker.SetState(wctx, protocol.StatePaused, "break"); err != nil {
		t.Fatal(err)
	}

	// The resident calls, waits for the agent, plays 800 Hz, and records what it hears.
	steps, _ := resident.ParseScript("await roads, tone 800 4s, wait 1s, await transferred, wait 2s, tone 800 3s, wait 1s, hangup")
	done := make(chan resident.Result, 1)
	go func() {
		res, err := dialResident(t, cfg).Place(ctx, resident.Call{CallerID: "+48600100500", Steps: steps, Record: true,
			Await: awaitStep(a.Store)})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	var offer protocol.Offer
	for offer.CallID == "" {
		select {
		case env := <-ag.Events():
			if o, ok := env.Data.(*protocol.Offer); ok {
				offer = *o
			}
		case <-wctx.Done():
			t.Fatal("no offer reached the agent")
		}
	}
	// The resident is talking (its tone) while the offer rings: measure accept → connected and
	// accept → the first packet of the caller's audio at the agent.
	received := ag.Media().Received()
	accepted := time.Now()
	if _, err := ag.Accept(wctx, offer.OfferID); err != nil {
		t.Fatalf("accept: %v", err)
	}
	connected := time.Since(accepted)
	for ag.Media().Received() == received && time.Since(accepted) < 5*time.Second {
		time.Sleep(time.Millisecond)
	}
	t.Logf("accept → connected %s, accept → first caller audio packet at the agent %s", connected, time.Since(accepted))
	if err := ag.Media().WaitTone(wctx, 800, 0.2); err != nil {
		res := <-done
		if c, err := a.Store.CallByRef(ctx, res.Ref); err == nil {
			evs, _ := a.Store.CallEvents(ctx, c.ID)
			for _, e := range evs {
				if e.Type == "agent_media" {
					t.Logf("agent leg: %v", e.Data)
				}
			}
		}
		f, s := ag.Media().Tone(time.Second)
		t.Fatalf("the agent never heard the resident's 800 Hz tone: %v (received %d packets, dominant %.0f Hz %.2f)", err, ag.Media().Received(), f, s)
	}
	// Escalation: the consultant sends the caller to the broker queue with a note; the broker,
	// available now, gets the offer with the note and the same ticket, and hears the caller.
	time.Sleep(1500 * time.Millisecond) // the consultant and the resident talk a moment (recorded)
	// Hold: the caller hears the hold music (checked in the resident's recording below).
	if err := ag.Hold(wctx, offer.CallID); err != nil {
		t.Fatalf("hold: %v", err)
	}
	time.Sleep(2 * time.Second) // on hold
	if err := ag.Resume(wctx, offer.CallID); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if _, err := broker.SetState(wctx, protocol.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}
	if err := ag.Transfer(wctx, offer.CallID, "broker", "Pyta o opłatę za zajęcie pasa drogowego"); err != nil {
		t.Fatalf("transfer: %v", err)
	}
	var offer2 protocol.Offer
	for offer2.CallID == "" {
		select {
		case env := <-broker.Events():
			if o, ok := env.Data.(*protocol.Offer); ok {
				offer2 = *o
			}
		case <-wctx.Done():
			t.Fatal("the transferred call never reached the broker")
		}
	}
	if offer2.CallID != offer.CallID || offer2.Ticket.Number != offer.Ticket.Number || offer2.Queue != "broker" ||
		!strings.Contains(offer2.Ticket.Fields["transfer_note"], "opłatę") {
		t.Errorf("broker's offer %+v; want the same call and ticket in queue broker with the note", offer2)
	}
	if _, err := broker.Accept(wctx, offer2.OfferID); err != nil {
		t.Fatalf("broker accept: %v", err)
	}
	if err := broker.Media().WaitTone(wctx, 800, 0.2); err != nil {
		t.Fatalf("the broker never heard the caller: %v", err)
	}
	res := <-done
	call := endedCall(t, a.Store, res.Ref)
	tk, _ := a.Store.Ticket(ctx, call.TicketID)

	// The screen-pop names the call's ticket, the caller and the IVR path.
	if offer.Ticket.Number != tk.Number || offer.Caller.Number != "+48600100500" || offer.Queue != "roads" || offer.Language != "pl" {
		t.Errorf("screen-pop %+v; want ticket %s, caller +48600100500, queue roads, pl", offer, tk.Number)
	}
	var nodes []string
	for _, s := range offer.IVRPath {
		nodes = append(nodes, s.Node)
	}
	if !slices.Equal(nodes, []string{"hello", "roads"}) {
		t.Errorf("IVR path %v, want [hello roads]", nodes)
	}
	if call.Outcome != "answered" {
		t.Errorf("outcome %s, want answered", call.Outcome)
	}
	types := eventTypes(t, a.Store, call.ID)
	for _, want := range []string{"routed", "queued", "offered", "agent_connected", "held", "resumed", "transferred", "caller_hangup"} {
		if !slices.Contains(types, want) {
			t.Errorf("event %s missing from %v", want, types)
		}
	}
	// What the resident heard contains the agent's 1000 Hz.
	wav := filepath.Join(env.st.Asterisk.RecordingDir(), res.Recording+".wav")
	var b []byte
	waitFor(t, 10*time.Second, "the resident's recording written", func() bool {
		b, err = os.ReadFile(wav)
		return err == nil && len(b) > 44+8000*2
	})
	// The hold music (G4–B4–D5) for at least a second: more than the moment in the queue.
	held := 0
	for _, hz := range stack.HoldNotes[:3] {
		held += toneWindows(b, float64(hz))
	}
	if held < 10 {
		t.Errorf("the resident heard the hold music in %d windows of 100 ms; want the 2 s hold", held)
	}
	if !hasTone(b, 1000) || !hasTone(b, 1200) {
		t.Errorf("the resident did not hear both: consultant's 1000 Hz %v, broker's 1200 Hz %v", hasTone(b, 1000), hasTone(b, 1200))
	}

	// The answered call was recorded from the agent's connection: a finalised file in the
	// archive, checksum verified, with both parties' tones in it.
	var rec recording.Recording
	waitFor(t, 15*time.Second, "the recording finalised", func() bool {
		rec, err = a.Archive.ByLeg(ctx, call.ID, 1)
		if r2, err2 := a.Archive.ByLeg(ctx, call.ID, 2); err2 != nil || r2.State != recording.StateFinalised {
			return false // the broker's leg is recorded apart, with the same ticket
		}
		return err == nil && rec.State == recording.StateFinalised
	})
	if err := a.Archive.Verify(ctx, rec.ID); err != nil {
		t.Errorf("archived recording does not verify: %v", err)
	}
	if rec.SHA256 == "" || rec.Bytes < 44+8000*2 || rec.DurationMS < 1000 || rec.TicketID != call.TicketID {
		t.Errorf("recording metadata %+v", rec)
	}
	rb, err := os.ReadFile(filepath.Join(a.Archive.Root(), rec.StoragePath))
	if err != nil {
		t.Fatal(err)
	}
	if !hasTone(rb, 1000) {
		t.Error("the consultant's leg recording lacks the consultant's 1000 Hz")
	}
	rec2, _ := a.Archive.ByLeg(ctx, call.ID, 2)
	rb2, err := os.ReadFile(filepath.Join(a.Archive.Root(), rec2.StoragePath))
	if err != nil {
		t.Fatal(err)
	}
	if !hasTone(rb2, 800) || !hasTone(rb2, 1200) || rec2.TicketID != call.TicketID {
		t.Errorf("the broker's leg recording: caller's 800 Hz %v, broker's 1200 Hz %v, ticket %d (want %d)",
			hasTone(rb2, 800), hasTone(rb2, 1200), rec2.TicketID, call.TicketID)
	}
	t.Logf("recording: %d ms, %d bytes, sha256 %s…", rec.DurationMS, rec.Bytes, rec.SHA256[:12])

	// Wrap-up classifies the call's ticket through the lifecycle rules.
	if _, err := ag.SubmitWrapup(wctx, protocol.WrapupSubmit{CallID: offer.CallID, Update: &protocol.TicketUpdate{
		Kind: protocol.KindIntervention, Category: "pothole", Notes: "Dziura na ul. Piotrkowskiej 100"}}); err != nil {
		t.Fatalf("wrap-up: %v", err)
	}
	var kind, category string
	if err := a.Store.DB().QueryRow(ctx, `SELECT t.kind, c.code FROM tickets t JOIN categories c ON c.id = t.category_id WHERE t.id = $1`,
		int64(call.TicketID)).Scan(&kind, &category); err != nil || kind != "intervention" || category != "pothole" {
		t.Errorf("ticket after wrap-up: kind %q category %q (%v); want intervention, pothole", kind, category, err)
	}
}

// toneWindows counts the 200 ms windows (100 ms apart) of a 16-bit 8 kHz WAV that hold freq.
func toneWindows(wav []byte, freq float64) int {
	if len(wav) < 44 {
		return 0
	}
	pcm := make([]int16, (len(wav)-44)/2)
	for i := range pcm {
		pcm[i] = int16(wav[44+2*i]) | int16(wav[45+2*i])<<8
	}
	n := 0
	for i := 0; i+1600 <= len(pcm); i += 800 {
		if tone.Strength(pcm[i:i+1600], freq) > 0.2 {
			n++
		}
	}
	return n
}

// hasTone reports whether a 16-bit 8 kHz WAV holds freq in any 200 ms window.
func hasTone(wav []byte, freq float64) bool {
	if len(wav) < 44 {
		return false
	}
	pcm := make([]int16, (len(wav)-44)/2)
	for i := range pcm {
		pcm[i] = int16(wav[44+2*i]) | int16(wav[45+2*i])<<8
	}
	for i := 0; i+1600 <= len(pcm); i += 800 {
		if tone.Strength(pcm[i:i+1600], freq) > 0.2 {
			return true
		}
	}
	return false
}

// awaitStep waits for an IVR node (awaitNode) or, for "transferred", until the call's
// transfer is recorded.
func awaitStep(st *store.Store) func(ctx context.Context, ref, label string) error {
	node := awaitNode(st)
	return func(ctx context.Context, ref, label string) error {
		if label != "transferred" {
			return node(ctx, ref, label)
		}
		for {
			if c, err := st.CallByRef(ctx, ref); err == nil {
				evs, _ := st.CallEvents(ctx, c.ID)
				for _, e := range evs {
					if e.Type == "agent_connected" && e.Seq > 0 && len(evs) > 0 {
						// connected again after a transfer
						for _, f := range evs {
							if f.Type == "transferred" && f.Seq < e.Seq {
								return nil
							}
						}
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
