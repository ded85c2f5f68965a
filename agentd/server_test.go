package agentd

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"kontakt/agentd/agent"
	"kontakt/agentd/protocol"
	"kontakt/internal/auth"
)

// TestFullFlow walks one call through a real WebSocket with the headless agent and its real
// softphone: hello → state → offer → accept → connected (audio both ways through the relay) →
// hold/resume → mute → dtmf → transfer → ended → wrap-up.
func TestFullFlow(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := ctxT(t, 30*time.Second)
	a := e.dial(t, "anna", agent.Options{Tone: 1000})
	w := a.Welcome()
	if w.Agent.ID != "u-17" || w.Agent.Name != "Anna Nowak" || w.State.State != protocol.StatePaused || w.State.Reason != "sign_in" || w.Resumed {
		t.Fatalf("welcome: %+v", w)
	}
	if c := e.calls.expect(t, "SetState"); c.Arg != "paused/sign_in" {
		t.Fatalf("sign-in: %v", c)
	}
	if err := a.WaitMedia(ctx); err != nil {
		t.Fatal(err)
	}

	st, err := a.SetState(ctx, protocol.StateAvailable, "")
	if err != nil || st.State != protocol.StateAvailable {
		t.Fatalf("state.set: %+v %v", st, err)
	}
	e.calls.expect(t, "SetState")

	o := sampleOffer(1)
	if err := e.srv.Offer("u-17", o); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Offer("u-17", sampleOffer(2)); !errors.Is(err, ErrBusy) {
		t.Fatalf("second offer: %v", err)
	}
	got := next(t, a, protocol.TypeOffer).Data.(*protocol.Offer)
	if got.Ticket.Number != o.Ticket.Number || len(got.IVRPath) != 3 || got.IVRPath[2].Digits != "3" || got.Caller.Number != "+48600100200" ||
		got.Ticket.Fields["district"] != "Mokotów" || len(got.Articles) != 1 || len(got.RecentTickets) != 1 {
		t.Fatalf("screen-pop: %+v", got)
	}

	cc, err := a.Accept(ctx, o.OfferID)
	if err != nil || cc.CallID != o.CallID || cc.OfferID != o.OfferID {
		t.Fatalf("accept: %+v %v", cc, err)
	}
	if c := e.calls.expect(t, "Accept"); c.Call != "call-1" {
		t.Fatalf("accept: %v", c)
	}

	// The call side attaches the call's externalMedia leg to the agent's softphone.
	sess, ok := e.srv.Media("u-17")
	if !ok {
		t.Fatal("no softphone")
	}
	leg, err := sess.Attach(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ast := newFakeAsterisk(t, 440, leg.LocalAddr())
	leg.SetRemote(ast.addr())
	if err := a.Media().WaitTone(ctx, 440, 0.8); err != nil {
		t.Fatal(err)
	}
	ast.waitTone(t, 1000)

	if err := a.Hold(ctx, o.CallID); err != nil {
		t.Fatal(err)
	}
	next(t, a, protocol.TypeCallHeld)
	if err := a.Hold(ctx, o.CallID); err == nil || !hasCode(err, protocol.CodeOutOfOrder) {
		t.Fatalf("hold twice: %v", err)
	}
	if err := a.Resume(ctx, o.CallID); err != nil {
		t.Fatal(err)
	}
	next(t, a, protocol.TypeCallResumed)
	if _, err := a.RecordPause(ctx, o.CallID, false); err == nil || !hasCode(err, protocol.CodeOutOfOrder) {
		t.Fatalf("resume a recording that is not paused: %v", err)
	}
	if at, err := a.RecordPause(ctx, o.CallID, true); err != nil || at.IsZero() {
		t.Fatalf("record pause: %v %v", at, err)
	}
	if c := e.calls.expect(t, "RecordPause"); c.Arg != "true" || c.Call != CallID(o.CallID) {
		t.Fatalf("record pause: %v", c)
	}
	if _, err := a.RecordPause(ctx, o.CallID, true); err == nil || !hasCode(err, protocol.CodeOutOfOrder) {
		t.Fatalf("pause a paused recording: %v", err)
	}
	e.calls.setFail("RecordPause", &protocol.Error{Code: protocol.CodeUnavailable, Message: "Asterisk is away"})
	if _, err := a.RecordPause(ctx, o.CallID, false); err == nil || !hasCode(err, protocol.CodeUnavailable) {
		t.Fatalf("a failed resume: %v", err)
	}
	e.calls.setFail("RecordPause", nil)
	if _, err := a.RecordPause(ctx, o.CallID, false); err != nil {
		t.Fatal(err)
	}
	if c := e.calls.expect(t, "RecordPause"); c.Arg != "false" {
		t.Fatalf("record resume: %v", c)
	}
	if err := a.Mute(ctx, o.CallID, true); err != nil {
		t.Fatal(err)
	}
	if c := e.calls.expect(t, "Mute"); c.Arg != "true" {
		t.Fatalf("mute: %v", c)
	}
	if err := a.DTMF(ctx, o.CallID, "12#"); err != nil {
		t.Fatal(err)
	}
	if c := e.calls.expect(t, "DTMF"); c.Arg != "12#" {
		t.Fatalf("dtmf: %v", c)
	}
	if err := a.Transfer(ctx, o.CallID, "brokers-waste", "Needs the regulation."); err != nil {
		t.Fatal(err)
	}
	if c := e.calls.expect(t, "Transfer"); c.Arg != "brokers-waste/Needs the regulation." {
		t.Fatalf("transfer: %v", c)
	}
	leg.Detach()
	ended := next(t, a, protocol.TypeCallEnded).Data.(*protocol.CallEnded)
	if ended.Reason != "transferred" || ended.CallID != o.CallID {
		t.Fatalf("ended: %+v", ended)
	}
	ws := next(t, a, protocol.TypeWrapupStarted).Data.(*protocol.WrapupStarted)
	if ws.TicketNumber != o.Ticket.Number {
		t.Fatalf("wrap-up: %+v", ws)
	}
	if err := a.Hangup(ctx, o.CallID); !hasCode(err, protocol.CodeOutOfOrder) {
		t.Fatalf("hang-up after the end: %v", err)
	}
	we, err := a.SubmitWrapup(ctx, protocol.WrapupSubmit{CallID: o.CallID, Update: &protocol.TicketUpdate{
		Kind: protocol.KindIntervention, Category: "waste.bulky", Notes: "Sofa at Puławska 12.", Articles: []string{"kb-412"}}})
	if err != nil || we.Reason != "submitted" || we.TicketNumber != o.Ticket.Number {
		t.Fatalf("wrap-up: %+v %v", we, err)
	}
	if c := e.calls.expect(t, "WrapUp"); c.Arg != "intervention/waste.bulky" {
		t.Fatalf("wrap-up: %v", c)
	}
	for _, want := range []protocol.AgentState{protocol.StateWrapup, protocol.StatePaused} {
		if st := next(t, a, protocol.TypeState).Data.(*protocol.State); st.State != want {
			t.Fatalf("state: %+v, want %s", st, want)
		}
	}
	if err := a.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	// A second call, answered and hung up by the agent; the leg renumbers across calls.
	if err := e.srv.Offer("u-17", sampleOffer(3)); err != nil {
		t.Fatal(err)
	}
	next(t, a, protocol.TypeOffer)
	if _, err := a.Accept(ctx, "o-3"); err != nil {
		t.Fatal(err)
	}
	if err := a.Hangup(ctx, "call-3"); err != nil {
		t.Fatal(err)
	}
	if c := e.calls.expect(t, "Hangup"); c.Arg != "agent_hangup" {
		t.Fatalf("hang-up: %v", c)
	}
	if r := next(t, a, protocol.TypeCallEnded).Data.(*protocol.CallEnded).Reason; r != "agent_hangup" {
		t.Fatalf("ended: %s", r)
	}

	a.Close()
	if g := <-e.calls.gone; g.Arg != "signed_out" {
		t.Fatalf("sign-out: %v", g)
	}
}

func hasCode(err error, code protocol.Code) bool {
	var pe *protocol.Error
	return errors.As(err, &pe) && pe.Code == code
}

// TestAsyncConnectAndCancel: call.connected comes after Accept returned; an offer cancelled by
// the call side reaches the agent, and an accept that loses the race gets conflict.
func TestAsyncConnectAndCancel(t *testing.T) {
	e := newEnv(t, Options{})
	e.calls.async = true
	ctx := ctxT(t, 20*time.Second)
	a := e.dial(t, "bruno", agent.Options{})
	if err := a.WaitMedia(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Offer("u-18", sampleOffer(1)); err != nil {
		t.Fatal(err)
	}
	next(t, a, protocol.TypeOffer)
	if _, err := a.Accept(ctx, "o-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.CallEnded("u-18", "call-1", "caller_hangup"); err != nil {
		t.Fatal(err)
	}
	next(t, a, protocol.TypeCallEnded)

	if err := e.srv.Offer("u-18", sampleOffer(2)); err != nil {
		t.Fatal(err)
	}
	next(t, a, protocol.TypeOffer)
	if err := e.srv.CancelOffer("u-18", "call-2", "caller_hangup"); err != nil {
		t.Fatal(err)
	}
	if c := next(t, a, protocol.TypeOfferCancelled).Data.(*protocol.OfferCancelled); c.Reason != "caller_hangup" {
		t.Fatalf("cancelled: %+v", c)
	}
	if _, err := a.Accept(ctx, "o-2"); !hasCode(err, protocol.CodeOutOfOrder) {
		t.Fatalf("accept after cancel: %v", err)
	}

	// Reject: ack, and the call side hears of it.
	if err := e.srv.Offer("u-18", sampleOffer(3)); err != nil {
		t.Fatal(err)
	}
	next(t, a, protocol.TypeOffer)
	if err := a.Reject(ctx, "o-3", "not_ready"); err != nil {
		t.Fatal(err)
	}
	if c := e.calls.expect(t, "Reject"); c.Call != "call-3" || c.Arg != "not_ready" {
		t.Fatalf("reject: %v", c)
	}

	// A refusal from the call side reaches the agent with its code.
	e.calls.setFail("Transfer", &protocol.Error{Code: protocol.CodeNotFound, Message: "no such queue"})
	e.calls.setFail("DTMF", errors.New("ari: connection refused (secret detail)"))
	if err := e.srv.Offer("u-18", sampleOffer(4)); err != nil {
		t.Fatal(err)
	}
	next(t, a, protocol.TypeOffer)
	if _, err := a.Accept(ctx, "o-4"); err != nil {
		t.Fatal(err)
	}
	if err := a.Transfer(ctx, "call-4", "nope", ""); !hasCode(err, protocol.CodeNotFound) {
		t.Fatalf("transfer: %v", err)
	}
	if err := a.DTMF(ctx, "call-4", "1"); !hasCode(err, protocol.CodeInternal) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("dtmf: %v", err)
	}
}

// TestBrokenFrames: oversize, malformed, unknown, out-of-order and binary frames get coded errors,
// too many in a row close with 4005, and the server keeps serving.
func TestBrokenFrames(t *testing.T) {
	e := newEnv(t, Options{MaxErrors: 8})
	ws, _, err := e.raw(t, "anna", "")
	if err != nil {
		t.Fatal(err)
	}
	send := func(s string) { _ = ws.WriteMessage(websocket.TextMessage, []byte(s)) }
	read := func() protocol.Envelope {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		env, err := protocol.DecodeServer(b)
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		return env
	}
	wantErr := func(code protocol.Code, re string) {
		t.Helper()
		env := read()
		pe, ok := env.Data.(*protocol.Error)
		if !ok || pe.Code != code || env.Re != re {
			t.Fatalf("want error %s re %q, got %s re %q %+v", code, re, env.Type, env.Re, env.Data)
		}
	}
	send(`{"v":1,"type":"ping","id":"c0"}`)
	wantErr(protocol.CodeHelloRequired, "c0")
	send(`{"v":1,"type":"hello","id":"c1","data":{"protocol":1}}`)
	if env := read(); env.Type != protocol.TypeWelcome || env.Re != "c1" {
		t.Fatalf("welcome: %+v", env)
	}
	send(`{"v":1,"type":"ping"`)
	wantErr(protocol.CodeBadJSON, "")
	send(`{"v":1,"type":"call.dtmf","id":"c2","data":{"call_id":"x","digits":"12#","extra":1}}`)
	wantErr(protocol.CodeUnknownField, "c2")
	send(`{"v":1,"type":"offer.accept","id":"c3","data":{"offer_id":"o-9"}}`)
	wantErr(protocol.CodeOutOfOrder, "c3")
	send(`{"v":1,"type":"welcome","id":"c4","data":{}}`)
	wantErr(protocol.CodeUnknownType, "c4")
	send(`{"v":2,"type":"ping","id":"c5"}`)
	wantErr(protocol.CodeBadVersion, "c5")
	send(`{"v":1,"type":"hello","id":"c6","data":{"protocol":1}}`)
	wantErr(protocol.CodeOutOfOrder, "c6")
	_ = ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	wantErr(protocol.CodeBadJSON, "")
	send(`{"v":1,"type":"ping","id":"c7"}`) // a good frame resets the count
	if env := read(); env.Type != protocol.TypePong || env.Re != "c7" {
		t.Fatalf("pong: %+v", env)
	}
	for i := range 8 {
		send(`nonsense`)
		wantErr(protocol.CodeBadJSON, "")
		_ = i
	}
	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, protocol.CloseTooManyErrors) {
		t.Fatalf("want close 4005, got %v", err)
	}

	// Oversize: closed with 1009 before it reaches memory; the server lives on.
	ws2, _, err := e.raw(t, "anna", "")
	if err != nil {
		t.Fatal(err)
	}
	big := `{"v":1,"type":"hello","id":"c1","data":{"protocol":1,"client":"` + strings.Repeat("x", protocol.MaxMessageSize) + `"}}`
	_ = ws2.WriteMessage(websocket.TextMessage, []byte(big))
	_ = ws2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws2.ReadMessage(); !websocket.IsCloseError(err, protocol.CloseTooBig) {
		t.Fatalf("want close 1009, got %v", err)
	}
	a := e.dial(t, "anna", agent.Options{NoMedia: true})
	if err := a.Ping(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := metricValue(e.srv.m.errors.WithLabelValues("bad_json")); n < 10 {
		t.Fatalf("bad_json errors counted: %v", n)
	}
	eventually(t, "the oversize frame counted", func() bool { return metricValue(e.srv.m.drops.WithLabelValues("too_large")) == 1 })
}

// TestAuthorisation: no principal 401, a role without the agent desk 403, a foreign origin 403
// (unless allowed), all before the upgrade.
func TestAuthorisation(t *testing.T) {
	e := newEnv(t, Options{AllowedOrigins: []string{"https://desk.example.org"}})
	for _, tc := range []struct {
		login, origin string
		status        int
	}{
		{"", "", http.StatusUnauthorized},
		{"nobody", "", http.StatusUnauthorized},
		{"wiola", "", http.StatusForbidden},
		{"adam", "", http.StatusForbidden},
		{"anna", "http://evil.example", http.StatusForbidden},
		{"anna", "null", http.StatusForbidden},
		{"anna", "https://desk.example.org", http.StatusSwitchingProtocols},
		{"sara", "", http.StatusSwitchingProtocols},
		{"bruno", "", http.StatusSwitchingProtocols},
	} {
		ws, resp, err := e.raw(t, tc.login, tc.origin)
		if resp == nil {
			t.Fatalf("%s %s: %v", tc.login, tc.origin, err)
		}
		if resp.StatusCode != tc.status {
			t.Errorf("%s from %q: status %d, want %d", tc.login, tc.origin, resp.StatusCode, tc.status)
		}
		if ws != nil {
			_ = ws.Close()
		}
	}
	if n := metricValue(e.srv.m.refused.WithLabelValues("origin")); n != 2 {
		t.Errorf("origin refusals counted: %v", n)
	}
}

// TestPermit: a message the role may not send is refused with forbidden.
func TestPermit(t *testing.T) {
	e := newEnv(t, Options{Permit: func(p auth.Principal, typ protocol.Type) bool {
		return typ != protocol.TypeCallTransfer || p.Has(auth.RoleBroker)
	}})
	ctx := ctxT(t, 20*time.Second)
	a := e.dial(t, "anna", agent.Options{})
	if err := a.WaitMedia(ctx); err != nil {
		t.Fatal(err)
	}
	_ = e.srv.Offer("u-17", sampleOffer(1))
	next(t, a, protocol.TypeOffer)
	if _, err := a.Accept(ctx, "o-1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Transfer(ctx, "call-1", "waste", ""); !hasCode(err, protocol.CodeForbidden) {
		t.Fatalf("transfer by a consultant: %v", err)
	}
}

// TestResume: the socket drops during a call; the agent reconnects within the grace period with
// the resume token and gets the call back (held), while an outstanding offer went back at the drop.
func TestResume(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := ctxT(t, 30*time.Second)
	a := e.dial(t, "anna", agent.Options{})
	if err := a.WaitMedia(ctx); err != nil {
		t.Fatal(err)
	}
	_ = e.srv.Offer("u-17", sampleOffer(1))
	next(t, a, protocol.TypeOffer)
	if _, err := a.Accept(ctx, "o-1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Hold(ctx, "call-1"); err != nil {
		t.Fatal(err)
	}
	token := a.Welcome().ResumeToken
	a.Drop()
	eventually(t, "the server sees the drop", func() bool { return !e.srv.Connected("u-17") })
	if err := e.srv.Offer("u-17", sampleOffer(2)); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("offer while away: %v", err)
	}
	_ = e.srv.CallResumed("u-17", "call-1") // happens while away: the welcome tells
	_ = e.srv.CallHeld("u-17", "call-1")
	w, err := a.Reconnect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Resumed || w.Call == nil || w.Call.CallID != "call-1" || !w.Call.Held || w.Call.TicketNumber != "2026/03/000001" || w.ResumeToken == token {
		t.Fatalf("welcome after resume: %+v", w)
	}
	if _, ok := e.srv.Media("u-17"); !ok {
		t.Fatal("softphone lost across the resume")
	}
	if err := a.Resume(ctx, "call-1"); err != nil { // the new connection knows the call is held
		t.Fatal(err)
	}
	if err := a.Hangup(ctx, "call-1"); err != nil {
		t.Fatal(err)
	}
	next(t, a, protocol.TypeCallEnded)
	// An offer outstanding at a drop goes back to the call side at once.
	_ = e.srv.CallEnded("u-17", "call-1", "agent_hangup")
	_, _ = a.SubmitWrapup(ctx, protocol.WrapupSubmit{CallID: "call-1", Link: &protocol.TicketLink{Number: "2026/02/004411"}})
	if err := e.srv.Offer("u-17", sampleOffer(5)); err != nil {
		t.Fatal(err)
	}
	next(t, a, protocol.TypeOffer)
	a.Drop()
	if c := e.calls.expect(t, "Reject"); c.Call != "call-5" || c.Arg != "disconnected" {
		t.Fatalf("offer at the drop: %v", c)
	}
	w, err = a.Reconnect(ctx)
	if err != nil || !w.Resumed {
		t.Fatalf("second resume: %+v %v", w, err)
	}
	if _, err := a.Accept(ctx, "o-5"); !hasCode(err, protocol.CodeOutOfOrder) {
		t.Fatalf("accepting a returned offer: %v", err)
	}
	if n := metricValue(e.srv.m.resumes); n != 2 {
		t.Fatalf("resumes: %v", n)
	}
	// A resume from another socket while the first is still open takes the session over (4000).
	ws, _, err := e.raw(t, "anna", "")
	if err != nil {
		t.Fatal(err)
	}
	done := a.Done()
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"hello","id":"c1","data":{"protocol":1,"resume_token":"`+a.Welcome().ResumeToken+`"}}`))
	_, b, err := ws.ReadMessage()
	if err != nil || !strings.Contains(string(b), `"resumed":true`) {
		t.Fatalf("takeover: %s %v", b, err)
	}
	<-done
	if c, s := metricValue(e.srv.m.connected), metricValue(e.srv.m.sessions); c != 1 || s != 1 {
		t.Fatalf("gauges: connected %v, sessions %v", c, s)
	}
	select {
	case g := <-e.calls.gone:
		t.Fatalf("agent gone: %v", g)
	default:
	}
}

// TestLogoutAfterGrace: an agent who stays away is signed out, counted, and told the call side.
func TestLogoutAfterGrace(t *testing.T) {
	e := newEnv(t, Options{Grace: 50 * time.Millisecond})
	ctx := ctxT(t, 20*time.Second)
	a := e.dial(t, "anna", agent.Options{NoMedia: true})
	a.Drop()
	g := <-e.calls.gone
	if g.Agent != "u-17" || g.Arg != "disconnected" {
		t.Fatalf("gone: %v", g)
	}
	if n := metricValue(e.srv.m.logouts); n != 1 {
		t.Fatalf("logouts: %v", n)
	}
	if err := e.srv.Offer("u-17", sampleOffer(1)); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("offer after logout: %v", err)
	}
	w, err := a.Reconnect(ctx)
	if err != nil || w.Resumed || w.State.Reason != "sign_in" {
		t.Fatalf("reconnect after the grace period: %+v %v", w, err)
	}
}

// TestReplaced: a fresh sign-in elsewhere closes the old socket with 4000.
func TestReplaced(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.dial(t, "anna", agent.Options{NoMedia: true})
	done := a.Done()
	b := e.dial(t, "anna", agent.Options{NoMedia: true})
	<-done
	if g := <-e.calls.gone; g.Arg != "replaced" {
		t.Fatalf("gone: %v", g)
	}
	if err := b.Ping(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
}

// TestTimeouts: no hello closes 4003; silence after the welcome closes 4004.
func TestTimeouts(t *testing.T) {
	e := newEnv(t, Options{HelloTimeout: 50 * time.Millisecond, PingInterval: 50 * time.Millisecond})
	ws, _, err := e.raw(t, "anna", "")
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, protocol.CloseHelloTimeout) {
		t.Fatalf("want 4003, got %v", err)
	}
	ws, _, err = e.raw(t, "anna", "")
	if err != nil {
		t.Fatal(err)
	}
	ws.SetPingHandler(func(string) error { return nil }) // a dead client: no pongs
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"hello","id":"c1","data":{"protocol":1}}`))
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var closeErr error
	for closeErr == nil {
		_, _, closeErr = ws.ReadMessage()
	}
	if !websocket.IsCloseError(closeErr, protocol.ClosePingTimeout) {
		t.Fatalf("want 4004, got %v", closeErr)
	}
}

// TestSlowClient: a client that does not read is dropped, not waited for.
func TestSlowClient(t *testing.T) {
	e := newEnv(t, Options{SendBuffer: 4})
	ws, _, err := e.raw(t, "anna", "")
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"hello","id":"c1","data":{"protocol":1}}`))
	eventually(t, "welcome", func() bool { return e.srv.Connected("u-17") })
	start := time.Now()
	for i := 0; e.srv.Connected("u-17"); i++ {
		if i > 2_000_000 {
			t.Fatal("never dropped")
		}
		_ = e.srv.StateChanged("u-17", protocol.StatePaused, "break", time.Now())
	}
	if n := metricValue(e.srv.m.drops.WithLabelValues("slow_client")); n != 1 {
		t.Fatalf("slow drops: %v", n)
	}
	t.Logf("dropped after %v", time.Since(start))
}

// TestMediaDeath: the browser's peer connection dies during a call; the call side is told to
// hang up with media_failed, and a later accept is refused until the softphone is renegotiated.
func TestMediaDeath(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := ctxT(t, 30*time.Second)
	a := e.dial(t, "anna", agent.Options{})
	if err := a.WaitMedia(ctx); err != nil {
		t.Fatal(err)
	}
	_ = e.srv.Offer("u-17", sampleOffer(1))
	next(t, a, protocol.TypeOffer)
	if _, err := a.Accept(ctx, "o-1"); err != nil {
		t.Fatal(err)
	}
	_ = a.Media().Close() // the browser closes its peer connection
	if c := e.calls.expect(t, "Hangup"); c.Call != "call-1" || c.Arg != "media_failed" {
		t.Fatalf("hang-up: %v", c)
	}
	if r := next(t, a, protocol.TypeCallEnded).Data.(*protocol.CallEnded).Reason; r != "media_failed" {
		t.Fatalf("ended: %s", r)
	}
	if _, ok := e.srv.Media("u-17"); ok {
		t.Fatal("a dead softphone is offered to the call side")
	}
	_ = e.srv.WrapupEnded("u-17", "call-1", "timeout")
	_ = e.srv.Offer("u-17", sampleOffer(2))
	next(t, a, protocol.TypeOffer)
	if _, err := a.Accept(ctx, "o-2"); !hasCode(err, protocol.CodeMediaFailed) {
		t.Fatalf("accept without a softphone: %v", err)
	}
	if c := e.calls.expect(t, "Reject"); c.Call != "call-2" || c.Arg != "media_failed" {
		t.Fatalf("returned offer: %v", c)
	}
}

// TestCloseDrains: Close sends 1001 in batches, ends every session, and leaves no goroutines.
func TestCloseDrains(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	e := newEnv(t, Options{DrainBatch: 2, DrainInterval: time.Millisecond, Registerer: reg})
	ctx := ctxT(t, 30*time.Second)
	var agents []*agent.Agent
	for _, login := range []string{"anna", "bruno", "sara"} {
		a := e.dial(t, login, agent.Options{})
		if err := a.WaitMedia(ctx); err != nil {
			t.Fatal(err)
		}
		agents = append(agents, a)
	}
	if n := metricValue(e.srv.m.connected); n != 3 {
		t.Fatalf("connected: %v", n)
	}
	if err := e.srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		<-a.Done()
	}
	for range 3 {
		if g := <-e.calls.gone; g.Arg != "shutdown" {
			t.Fatalf("gone: %v", g)
		}
	}
	if _, resp, _ := e.raw(t, "anna", ""); resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("upgrade while closed: %v", resp)
	}
	for _, a := range agents {
		a.Close()
	}
	if n := metricValue(e.srv.m.connected) + metricValue(e.srv.m.sessions); n != 0 {
		t.Fatalf("gauges after close: %v", n)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "no agentd goroutines", func() bool { return len(agentdGoroutines()) == 0 })
}

func TestOfferValidated(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.dial(t, "anna", agent.Options{NoMedia: true})
	_ = a
	o := sampleOffer(1)
	o.Language = "de"
	if err := e.srv.Offer("u-17", o); !hasCode(err, protocol.CodeInvalidField) {
		t.Fatalf("invalid offer: %v", err)
	}
	if err := e.srv.Offer("u-99", sampleOffer(1)); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("unknown agent: %v", err)
	}
	if err := e.srv.StateChanged("u-17", protocol.StateAvailable, "why", time.Now()); !hasCode(err, protocol.CodeInvalidField) {
		t.Fatalf("invalid state: %v", err)
	}
}

// TestCallbackOffer: a callback's preview is neither accepted nor rejected; call.connected comes
// without an accept when the resident answers, and offer.cancelled (no_answer) when they do not.
func TestCallbackOffer(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := ctxT(t, 20*time.Second)
	a := e.dial(t, "bruno", agent.Options{})
	if err := a.WaitMedia(ctx); err != nil {
		t.Fatal(err)
	}
	cb := func(n int) protocol.Offer {
		o := sampleOffer(n)
		o.Callback = &protocol.CallbackInfo{Number: "+48600100200", Attempt: n}
		return o
	}
	bad := cb(1)
	bad.Callback.Number = "600-100"
	if err := e.srv.Offer("u-18", bad); !hasCode(err, protocol.CodeInvalidField) {
		t.Fatalf("a callback with a bad number: %v", err)
	}
	if err := e.srv.Offer("u-18", cb(1)); err != nil {
		t.Fatal(err)
	}
	if o := next(t, a, protocol.TypeOffer).Data.(*protocol.Offer); o.Callback == nil || o.Callback.Attempt != 1 {
		t.Fatalf("offer: %+v", o)
	}
	if err := a.Reject(ctx, "o-1", "not_ready"); !hasCode(err, protocol.CodeConflict) {
		t.Fatalf("rejecting a callback: %v", err)
	}
	if err := e.srv.CancelOffer("u-18", "call-1", "no_answer"); err != nil {
		t.Fatal(err)
	}
	if c := next(t, a, protocol.TypeOfferCancelled).Data.(*protocol.OfferCancelled); c.Reason != "no_answer" {
		t.Fatalf("cancelled: %+v", c)
	}
	if err := e.srv.Offer("u-18", cb(2)); err != nil {
		t.Fatal(err)
	}
	next(t, a, protocol.TypeOffer)
	if _, err := a.Accept(ctx, "o-2"); !hasCode(err, protocol.CodeConflict) {
		t.Fatalf("accepting a callback: %v", err)
	}
	if err := e.srv.CallConnected("u-18", "call-2"); err != nil {
		t.Fatal(err)
	}
	if c := next(t, a, protocol.TypeCallConnected); c.Re != "" || c.Data.(*protocol.CallConnected).OfferID != "o-2" {
		t.Fatalf("connected: %+v", c)
	}
	if err := a.Hangup(ctx, "call-2"); err != nil {
		t.Fatalf("hang-up of the connected callback: %v", err)
	}
	if c := e.calls.expect(t, "Hangup"); c.Call != "call-2" {
		t.Fatalf("hang-up: %v", c)
	}
}
