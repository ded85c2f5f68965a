// Package agent is the headless agent: a consultant's browser written in Go. It speaks the agent
// protocol (agentd/protocol/PROTOCOL.md) over the WebSocket with a session cookie, sets up the
// softphone (a media.Client: PCMU, one peer connection for the whole sign-in, sending a
// configurable tone and detecting the frequency it receives), and can answer offers by itself.
// End-to-end and load tests use it, and `kontakt agent` runs it for demos.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"kontakt/agentd/media"
	"kontakt/agentd/protocol"
)

// Options configure a headless agent.
type Options struct {
	// Engine builds the softphone's peer connection; nil makes one that gathers loopback
	// candidates too (same-host demos and tests), closed with the agent.
	Engine *media.Engine
	// NoMedia skips the softphone (protocol-only tests; offer.accept is then refused by a server
	// that has media).
	NoMedia bool
	// AutoAnswer accepts every offer as it arrives (a callback's preview needs no accept).
	AutoAnswer bool
	// Tone is the frequency (Hz) the agent sends into calls; 0 sends silence.
	Tone float64
	// Client is the hello's client name; default "kontakt-agent/1".
	Client string
	// CookieName is the session cookie's name; default "kontakt_session".
	CookieName string
	// Origin is sent with the upgrade; default the server's own origin.
	Origin string
	// ResumeToken resumes an earlier session (from Welcome().ResumeToken).
	ResumeToken string
	// Header is added to the upgrade request.
	Header http.Header
	// Log, optional.
	Log *slog.Logger
}

// Agent is a signed-in headless agent.
type Agent struct {
	opts    Options
	wsURL   string
	session string
	log     *slog.Logger
	engine  *media.Engine
	ownEng  bool
	ids     atomic.Uint64
	events  *mailbox
	closed  chan struct{}
	closeMu sync.Once

	mu      sync.Mutex
	ws      *websocket.Conn
	done    chan struct{} // the current socket's reader ended
	welcome protocol.Welcome
	pending map[string]chan protocol.Envelope
	client  *media.Client
	offers  map[string]protocol.Offer
	writeMu sync.Mutex
	wg      sync.WaitGroup
}

// ErrClosed is returned for requests on a closed agent or a dropped socket.
var ErrClosed = errors.New("agent: connection closed")

// WebSocketURL turns a server's base URL (http://host:port) into the agent endpoint's URL;
// a ws:// or wss:// URL is kept as it is.
func WebSocketURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
		return u.String(), nil
	default:
		return "", fmt.Errorf("agent: URL %q: want http, https, ws or wss", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v1/agent/ws"
	return u.String(), nil
}

// Dial signs the agent in on the server at rawURL (its base URL, or the WebSocket's URL) with the
// session cookie's value: hello, welcome, then the softphone's offer (the peer connection comes
// up in the background; WaitMedia waits for it).
func Dial(ctx context.Context, rawURL, session string, opts Options) (*Agent, error) {
	wsURL, err := WebSocketURL(rawURL)
	if err != nil {
		return nil, err
	}
	if opts.Client == "" {
		opts.Client = "kontakt-agent/1"
	}
	if opts.CookieName == "" {
		opts.CookieName = "kontakt_session"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	a := &Agent{opts: opts, wsURL: wsURL, session: session, log: opts.Log.With("component", "agent"),
		events: newMailbox(), closed: make(chan struct{}), offers: map[string]protocol.Offer{}}
	if _, err := a.connect(ctx, opts.ResumeToken); err != nil {
		a.events.close()
		return nil, err
	}
	if !opts.NoMedia {
		if err := a.startMedia(); err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

// connect opens a socket and says hello; the reader and pinger run until it drops.
func (a *Agent) connect(ctx context.Context, resume string) (protocol.Welcome, error) {
	h := http.Header{}
	for k, v := range a.opts.Header {
		h[k] = v
	}
	h.Set("Cookie", (&http.Cookie{Name: a.opts.CookieName, Value: a.session}).String())
	origin := a.opts.Origin
	if origin == "" {
		u, _ := url.Parse(a.wsURL)
		scheme := "http"
		if u.Scheme == "wss" {
			scheme = "https"
		}
		origin = scheme + "://" + u.Host
	}
	h.Set("Origin", origin)
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, a.wsURL, h)
	if err != nil {
		if resp != nil {
			return protocol.Welcome{}, fmt.Errorf("agent: %s: %s: %w", a.wsURL, resp.Status, err)
		}
		return protocol.Welcome{}, fmt.Errorf("agent: %s: %w", a.wsURL, err)
	}
	ws.SetReadLimit(protocol.MaxMessageSize)
	done := make(chan struct{})
	a.mu.Lock()
	a.ws, a.done, a.pending = ws, done, map[string]chan protocol.Envelope{}
	a.mu.Unlock()
	a.wg.Add(1)
	go a.read(ws, done)
	env, err := a.Request(ctx, &protocol.Hello{Protocol: protocol.Version, Client: a.opts.Client, ResumeToken: resume})
	if err != nil {
		_ = ws.Close()
		return protocol.Welcome{}, err
	}
	w := *env.Data.(*protocol.Welcome)
	a.mu.Lock()
	a.welcome = w
	a.mu.Unlock()
	a.wg.Add(1)
	go a.pinger(ws, done, time.Duration(w.PingIntervalMS)*time.Millisecond)
	return w, nil
}

func (a *Agent) startMedia() error {
	if a.opts.Engine == nil {
		e, err := media.New(media.Config{IncludeLoopback: true})
		if err != nil {
			return err
		}
		a.engine, a.ownEng = e, true
	} else {
		a.engine = a.opts.Engine
	}
	c, err := a.engine.NewClient(media.ClientConfig{
		OnCandidate: func(ci *webrtc.ICECandidateInit) {
			m := &protocol.WebRTCCandidate{}
			if ci != nil {
				m = &protocol.WebRTCCandidate{Candidate: ci.Candidate, SDPMid: ci.SDPMid, SDPMLineIndex: ci.SDPMLineIndex,
					UsernameFragment: ci.UsernameFragment}
			}
			_ = a.post(m)
		},
		Logger: a.log,
	})
	if err != nil {
		return err
	}
	c.Play(a.opts.Tone)
	a.mu.Lock()
	a.client = c
	a.mu.Unlock()
	return c.Offer(func(sdp string) { _ = a.post(&protocol.WebRTCOffer{SDP: sdp}) })
}

// Media returns the softphone (nil with NoMedia).
func (a *Agent) Media() *media.Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.client
}

// WaitMedia waits until the softphone's peer connection is connected.
func (a *Agent) WaitMedia(ctx context.Context) error {
	c := a.Media()
	if c == nil {
		return errors.New("agent: no softphone")
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for c.State() != webrtc.PeerConnectionStateConnected {
		select {
		case <-ctx.Done():
			return fmt.Errorf("agent: softphone %s: %w", c.State(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Welcome returns the last welcome (its resume token resumes the session).
func (a *Agent) Welcome() protocol.Welcome {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.welcome
}

// Events delivers every server message except acks, pongs, WebRTC signalling and errors that
// answered a request (those are returned by the request): offers, state, call and wrap-up events
// and the replies that are events too (call.connected, wrapup.ended, state). It is closed by
// Close.
func (a *Agent) Events() <-chan protocol.Envelope { return a.events.out }

// Done is closed when the current socket drops.
func (a *Agent) Done() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.done
}

func (a *Agent) nextID() string { return "c" + strconv.FormatUint(a.ids.Add(1), 10) }

func (a *Agent) write(ws *websocket.Conn, env protocol.Envelope) error {
	b, err := protocol.Encode(env)
	if err != nil {
		return err
	}
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return ws.WriteMessage(websocket.TextMessage, b)
}

// post sends a message without waiting for its reply (signalling; the ack is dropped).
func (a *Agent) post(m protocol.Message) error {
	a.mu.Lock()
	ws := a.ws
	a.mu.Unlock()
	if ws == nil {
		return ErrClosed
	}
	return a.write(ws, protocol.NewEnvelope(a.nextID(), m))
}

// Request sends m and waits for its reply. A refusal is returned as a *protocol.Error (with the
// error envelope).
func (a *Agent) Request(ctx context.Context, m protocol.Message) (protocol.Envelope, error) {
	id := a.nextID()
	ch := make(chan protocol.Envelope, 1)
	a.mu.Lock()
	ws, done := a.ws, a.done
	if ws == nil {
		a.mu.Unlock()
		return protocol.Envelope{}, ErrClosed
	}
	a.pending[id] = ch
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.pending, id)
		a.mu.Unlock()
	}()
	if err := a.write(ws, protocol.NewEnvelope(id, m)); err != nil {
		return protocol.Envelope{}, err
	}
	select {
	case env := <-ch:
		if e, ok := env.Data.(*protocol.Error); ok {
			return env, e
		}
		return env, nil
	case <-done:
		return protocol.Envelope{}, ErrClosed
	case <-ctx.Done():
		return protocol.Envelope{}, ctx.Err()
	}
}

func (a *Agent) read(ws *websocket.Conn, done chan struct{}) {
	defer a.wg.Done()
	defer close(done)
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			a.log.Debug("socket ended", "err", err)
			return
		}
		env, err := protocol.DecodeServer(b)
		if err != nil {
			a.log.Warn("undecodable server frame", "err", err)
			continue
		}
		a.dispatch(ws, env)
	}
}

func (a *Agent) dispatch(ws *websocket.Conn, env protocol.Envelope) {
	a.mu.Lock()
	ch := a.pending[env.Re]
	client := a.client
	a.mu.Unlock()
	if ch != nil {
		ch <- env
	}
	switch m := env.Data.(type) {
	case *protocol.Ack, *protocol.Pong:
		return
	case *protocol.Error:
		if ch != nil || env.Re != "" {
			return // answered a request (or a posted signalling message: logged below)
		}
	case *protocol.WebRTCAnswer:
		if client != nil {
			if err := client.HandleAnswer(m.SDP); err != nil {
				a.log.Warn("softphone answer", "err", err)
			}
		}
		return
	case *protocol.WebRTCCandidate:
		if client != nil {
			if err := client.AddCandidate(webrtc.ICECandidateInit{Candidate: m.Candidate, SDPMid: m.SDPMid,
				SDPMLineIndex: m.SDPMLineIndex, UsernameFragment: m.UsernameFragment}); err != nil {
				a.log.Debug("softphone candidate", "err", err)
			}
		}
		return
	case *protocol.WebRTCOffer: // the server restarts ICE (after our webrtc.restart)
		if client != nil {
			err := client.HandleOffer(m.SDP, func(answer string) {
				_ = a.write(ws, protocol.NewEnvelope(a.nextID(), &protocol.WebRTCAnswer{SDP: answer}))
			})
			if err != nil {
				a.log.Warn("softphone restart", "err", err)
			}
		}
		return
	case *protocol.WebRTCRestart:
		if client != nil {
			_ = client.RestartICE(func(sdp string) { _ = a.post(&protocol.WebRTCOffer{SDP: sdp, Restart: true}) })
		}
		return
	case *protocol.Offer:
		a.mu.Lock()
		a.offers[m.OfferID] = *m
		a.mu.Unlock()
		if a.opts.AutoAnswer && m.Callback == nil { // a callback connects by itself
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if _, err := a.Accept(ctx, m.OfferID); err != nil {
					a.log.Warn("auto-answer", "offer", m.OfferID, "err", err)
				}
			}()
		}
	}
	a.events.push(env)
}

func (a *Agent) pinger(ws *websocket.Conn, done chan struct{}, every time.Duration) {
	defer a.wg.Done()
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if err := a.write(ws, protocol.NewEnvelope(a.nextID(), &protocol.Ping{})); err != nil {
				return
			}
		}
	}
}

// Reconnect opens a new socket and resumes the session with the last welcome's resume token
// (the softphone is kept; a dead one is replaced). The welcome says whether it resumed.
func (a *Agent) Reconnect(ctx context.Context) (protocol.Welcome, error) {
	a.mu.Lock()
	old, tok := a.ws, a.welcome.ResumeToken
	a.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	w, err := a.connect(ctx, tok)
	if err != nil {
		return w, err
	}
	if c := a.Media(); c != nil {
		if st := c.State(); st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			_ = c.Close()
			if err := a.startMedia(); err != nil {
				return w, err
			}
		}
	}
	return w, nil
}

// Drop closes the socket without a close frame, as a lost network would (tests).
func (a *Agent) Drop() {
	a.mu.Lock()
	ws := a.ws
	a.mu.Unlock()
	if ws != nil {
		_ = ws.NetConn().Close()
	}
}

// Close signs out: a close frame 1000, then the softphone and the socket are closed.
func (a *Agent) Close() {
	a.closeMu.Do(func() {
		close(a.closed)
		a.mu.Lock()
		ws, done, c := a.ws, a.done, a.client
		a.mu.Unlock()
		if ws != nil {
			a.writeMu.Lock()
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "signed out"),
				time.Now().Add(time.Second))
			a.writeMu.Unlock()
			select { // the server answers the close frame
			case <-done:
			case <-time.After(2 * time.Second):
			}
			_ = ws.Close()
		}
		if c != nil {
			_ = c.Close()
		}
		a.wg.Wait()
		if a.ownEng {
			_ = a.engine.Close()
		}
		a.events.close()
	})
}

// Offer returns an offer received on this session, by id.
func (a *Agent) Offer(id string) (protocol.Offer, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.offers[id]
	return o, ok
}

// SetState asks for available, paused (with reason) or offline; it returns the state reply.
func (a *Agent) SetState(ctx context.Context, state protocol.AgentState, reason string) (protocol.State, error) {
	env, err := a.Request(ctx, &protocol.StateSet{State: state, Reason: reason})
	if err != nil {
		return protocol.State{}, err
	}
	return *env.Data.(*protocol.State), nil
}

// Accept accepts an offer; it returns once the call is connected.
func (a *Agent) Accept(ctx context.Context, offerID string) (protocol.CallConnected, error) {
	env, err := a.Request(ctx, &protocol.OfferAccept{OfferID: offerID})
	if err != nil {
		return protocol.CallConnected{}, err
	}
	c, ok := env.Data.(*protocol.CallConnected)
	if !ok {
		return protocol.CallConnected{}, fmt.Errorf("agent: offer.accept answered with %s", env.Type)
	}
	return *c, nil
}

func (a *Agent) ack(ctx context.Context, m protocol.Message) error {
	_, err := a.Request(ctx, m)
	return err
}

// Reject declines an offer.
func (a *Agent) Reject(ctx context.Context, offerID, reason string) error {
	return a.ack(ctx, &protocol.OfferReject{OfferID: offerID, Reason: reason})
}

// Hangup ends the call.
func (a *Agent) Hangup(ctx context.Context, callID string) error {
	return a.ack(ctx, &protocol.CallHangup{CallID: callID})
}

// Hold puts the caller on hold.
func (a *Agent) Hold(ctx context.Context, callID string) error {
	return a.ack(ctx, &protocol.CallHold{CallID: callID})
}

// Resume takes the caller off hold.
func (a *Agent) Resume(ctx context.Context, callID string) error {
	return a.ack(ctx, &protocol.CallResume{CallID: callID})
}

// RecordPause pauses (paused) or resumes the call's recording and returns when the server
// applied it.
func (a *Agent) RecordPause(ctx context.Context, callID string, paused bool) (time.Time, error) {
	var m protocol.Message = &protocol.CallRecordResume{CallID: callID}
	if paused {
		m = &protocol.CallRecordPause{CallID: callID}
	}
	env, err := a.Request(ctx, m)
	if err != nil {
		return time.Time{}, err
	}
	switch d := env.Data.(type) {
	case *protocol.CallRecordPaused:
		return d.At, nil
	case *protocol.CallRecordResumed:
		return d.At, nil
	}
	return time.Time{}, fmt.Errorf("unexpected reply %s to %s", env.Type, m.Type())
}

// Mute stops (on) or restores the agent's audio toward the caller.
func (a *Agent) Mute(ctx context.Context, callID string, on bool) error {
	if on {
		return a.ack(ctx, &protocol.CallMute{CallID: callID})
	}
	return a.ack(ctx, &protocol.CallUnmute{CallID: callID})
}

// DTMF sends digits into the call.
func (a *Agent) DTMF(ctx context.Context, callID, digits string) error {
	return a.ack(ctx, &protocol.CallDTMF{CallID: callID, Digits: digits})
}

// Transfer sends the caller to queue with a note.
func (a *Agent) Transfer(ctx context.Context, callID, queue, note string) error {
	return a.ack(ctx, &protocol.CallTransfer{CallID: callID, Queue: queue, Note: note})
}

// SubmitWrapup ends the wrap-up with the ticket update (or link); it returns the wrapup.ended.
func (a *Agent) SubmitWrapup(ctx context.Context, w protocol.WrapupSubmit) (protocol.WrapupEnded, error) {
	env, err := a.Request(ctx, &w)
	if err != nil {
		return protocol.WrapupEnded{}, err
	}
	e, ok := env.Data.(*protocol.WrapupEnded)
	if !ok {
		return protocol.WrapupEnded{}, fmt.Errorf("agent: wrapup.submit answered with %s", env.Type)
	}
	return *e, nil
}

// Ping sends a ping and waits for the pong.
func (a *Agent) Ping(ctx context.Context) error { return a.ack(ctx, &protocol.Ping{}) }

// mailbox is an unbounded queue in front of the Events channel, so the reader never blocks on a
// slow consumer.
type mailbox struct {
	mu     sync.Mutex
	items  []protocol.Envelope
	wake   chan struct{}
	quit   chan struct{}
	out    chan protocol.Envelope
	closed sync.Once
}

func newMailbox() *mailbox {
	m := &mailbox{wake: make(chan struct{}, 1), quit: make(chan struct{}), out: make(chan protocol.Envelope)}
	go m.run()
	return m
}

func (m *mailbox) push(env protocol.Envelope) {
	m.mu.Lock()
	m.items = append(m.items, env)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *mailbox) run() {
	defer close(m.out)
	for {
		m.mu.Lock()
		var next *protocol.Envelope
		if len(m.items) > 0 {
			next = &m.items[0]
			m.items = m.items[1:]
		}
		m.mu.Unlock()
		if next == nil {
			select {
			case <-m.wake:
				continue
			case <-m.quit:
				return
			}
		}
		select {
		case m.out <- *next:
		case <-m.quit:
			return
		}
	}
}

func (m *mailbox) close() { m.closed.Do(func() { close(m.quit) }) }
