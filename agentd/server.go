package agentd

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"kontakt/agentd/media"
	"kontakt/agentd/protocol"
	"kontakt/internal/auth"
)

// AgentID names a signed-in agent to the call side (the ACD's agent id).
type AgentID string

// CallID names a call, as the offer's call_id.
type CallID string

// Calls is the call side (switchboard + ACD) as agentd needs it: what agents ask for. Each method
// is called from the agent's connection goroutine with a context bounded by
// Options.RequestTimeout, and may call the Server's methods (Offer, CallConnected, StateChanged, …)
// before it returns: frames those produce are sent after the request's reply. A refusal is
// returned as a *protocol.Error (its code and message reach the agent: not_found, conflict,
// unavailable, …); any other error is sent as "internal" without its text.
type Calls interface {
	// SetState asks for available, paused (with a configured reason) or offline. It is also
	// called with paused/"sign_in" when an agent signs in. The new state is reported with
	// StateChanged (during the call or later); if it is not, the agent gets its current state.
	SetState(ctx context.Context, agent AgentID, state protocol.AgentState, reason string) error
	// Accept takes the outstanding offer of call. The reply to the agent is call.connected, sent
	// when the call side calls CallConnected (or an error when CancelOffer or CallEnded comes
	// first).
	Accept(ctx context.Context, agent AgentID, call CallID) error
	// Reject declines the offer of call. Reason is the agent's slug, or "disconnected" (the
	// socket dropped with the offer outstanding) or "media_failed" (the softphone is down): the
	// call goes to another agent.
	Reject(ctx context.Context, agent AgentID, call CallID, reason string) error
	// Hangup ends the call: reason "agent_hangup" (the agent asked) or "media_failed" (the
	// softphone's peer connection died: hang up the externalMedia channel too). CallEnded follows.
	Hangup(ctx context.Context, agent AgentID, call CallID, reason string) error
	// Hold puts the caller on music; CallHeld follows.
	Hold(ctx context.Context, agent AgentID, call CallID) error
	// Resume takes the caller off hold; CallResumed follows.
	Resume(ctx context.Context, agent AgentID, call CallID) error
	// Mute stops (on) or restores the agent's audio toward the caller (media.Leg.SetMuted).
	Mute(ctx context.Context, agent AgentID, call CallID, on bool) error
	// RecordPause pauses (paused) or resumes the call's recording while the caller dictates
	// sensitive data; the paused stretch is marked in the recording's metadata. Returning nil
	// answers the agent with call.record_paused / call.record_resumed. A call that is not
	// recorded, or a recording already in that state, is a *protocol.Error out_of_order.
	RecordPause(ctx context.Context, agent AgentID, call CallID, paused bool) error
	// DTMF sends digits into the call.
	DTMF(ctx context.Context, agent AgentID, call CallID, digits string) error
	// Transfer sends the caller to queue with a note; CallEnded (reason transferred) follows.
	Transfer(ctx context.Context, agent AgentID, call CallID, queue, note string) error
	// WrapUp records the wrap-up on the call's ticket. Returning nil ends the wrap-up: the agent
	// gets wrapup.ended (submitted) — the call side need not call WrapupEnded for it.
	WrapUp(ctx context.Context, agent AgentID, call CallID, w protocol.WrapupSubmit) error
	// AgentGone says the agent is signed out: "signed_out" (closed the socket normally),
	// "disconnected" (stayed away longer than the grace period), "replaced" (signed in afresh
	// elsewhere), "shutdown" (the server closed). A call or wrap-up still in progress is the call
	// side's to end (reason error). It must not block for long.
	AgentGone(agent AgentID, reason string)
}

// Options configure a Server. Only Calls is required.
type Options struct {
	Calls Calls
	// Media is the WebRTC engine for the agents' softphones; nil refuses WebRTC signalling and
	// offer.accept with media_failed.
	Media *media.Engine
	Log   *slog.Logger
	// Registerer receives the metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer

	// AllowedOrigins are origins (scheme://host[:port]) besides the request's own host that may
	// open the WebSocket; "*" allows any (tests only).
	AllowedOrigins []string
	// ServerName is the welcome's "server" (e.g. "kontakt 0.3.1").
	ServerName string
	// ICEServers go to the browser's RTCPeerConnection as they are.
	ICEServers []protocol.ICEServer
	// AgentID maps a principal to the call side's agent id; default "u-<user id>".
	AgentID func(auth.Principal) AgentID
	// Permit says whether the principal may send a message type; default: any of the agent roles
	// (consultant, broker, supervisor) may send anything. Refusals are "forbidden".
	Permit func(p auth.Principal, t protocol.Type) bool
	// UI is the agent page's files (index.html at the root); nil serves the embedded build
	// (agentd/web).
	UI fs.FS

	Grace          time.Duration // how long a dropped agent keeps the session and the call; default 30 s
	PingInterval   time.Duration // the clients' ping interval; silence for twice it closes 4004; default 15 s
	HelloTimeout   time.Duration // default 10 s
	WriteTimeout   time.Duration // one frame's write; default 10 s
	RequestTimeout time.Duration // one Calls method; default 10 s
	SendBuffer     int           // frames queued per connection before it is dropped as slow; default 256
	MaxErrors      int           // refused frames in a row before closing 4005; default 10
	DrainBatch     int           // sockets closed together by Close; default 50
	DrainInterval  time.Duration // pause between batches; default 250 ms

	// Now is the clock for the times in messages; default time.Now.
	Now func() time.Time
}

// AgentRoles are the roles that may open the agent WebSocket.
var AgentRoles = []auth.Role{auth.RoleConsultant, auth.RoleBroker, auth.RoleSupervisor}

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.ServerName == "" {
		o.ServerName = "kontakt"
	}
	if o.AgentID == nil {
		o.AgentID = func(p auth.Principal) AgentID { return AgentID("u-" + strconv.FormatInt(p.UserID, 10)) }
	}
	if o.Permit == nil {
		o.Permit = func(p auth.Principal, _ protocol.Type) bool { return p.Has(AgentRoles...) }
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Grace, 30*time.Second)
	def(&o.PingInterval, 15*time.Second)
	def(&o.HelloTimeout, 10*time.Second)
	def(&o.WriteTimeout, 10*time.Second)
	def(&o.RequestTimeout, 10*time.Second)
	def(&o.DrainInterval, 250*time.Millisecond)
	if o.SendBuffer <= 0 {
		o.SendBuffer = 256
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = 10
	}
	if o.DrainBatch <= 0 {
		o.DrainBatch = 50
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Server is the agents' side of agentd: the WebSocket endpoint (ServeHTTP, at
// GET /api/v1/agent/ws), one session per signed-in agent with its softphone (media.Session), and
// the methods the call side uses to reach agents. It never imports the ARI side: the call side
// implements Calls and calls Offer, CallConnected, … back.
type Server struct {
	opts     Options
	log      *slog.Logger
	m        *Metrics
	upgrader websocket.Upgrader
	ui       http.Handler

	mu       sync.Mutex
	closing  bool
	sessions map[AgentID]*session
	tokens   map[string]*session // resume token → session
	conns    map[*conn]struct{}
	wg       sync.WaitGroup // connection goroutines and session callbacks
}

// Errors of the methods the call side calls.
var (
	ErrNotSignedIn  = errors.New("agentd: agent is not signed in")
	ErrDisconnected = errors.New("agentd: agent's socket is down (within the grace period)")
	ErrBusy         = errors.New("agentd: agent already has an offer, a call or a wrap-up")
	ErrUnknownCall  = errors.New("agentd: the call is not this agent's")
)

// NewServer builds a Server from opts.
func NewServer(opts Options) *Server {
	opts.defaults()
	s := &Server{
		opts:     opts,
		log:      opts.Log.With("component", "agentd"),
		m:        NewMetrics(opts.Registerer),
		sessions: map[AgentID]*session{},
		tokens:   map[string]*session{},
		conns:    map[*conn]struct{}{},
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		CheckOrigin:     s.checkOrigin,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, reason.Error(), status)
		},
	}
	s.ui = newUIHandler(opts.UI)
	return s
}

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.m }

// Handler serves the WebSocket at /api/v1/agent/ws and the agent page under /agent/. The session
// middleware (auth) must run in front of it.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/agent/ws", s)
	mux.Handle("/agent/", http.StripPrefix("/agent", s.UI()))
	return mux
}

// checkOrigin allows the request's own origin and the configured ones. A request without Origin
// (not a browser) is allowed: the cookie is what authenticates it.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	o := strings.ToLower(u.Scheme + "://" + u.Host)
	for _, a := range s.opts.AllowedOrigins {
		if a == "*" || strings.EqualFold(strings.TrimSuffix(a, "/"), o) {
			return true
		}
	}
	return false
}

// ServeHTTP upgrades GET /api/v1/agent/ws: 401 without a principal, 403 for a principal without
// an agent role or from a foreign origin, 503 while closing.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		s.m.refused.WithLabelValues("unauthenticated").Inc()
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	if !p.Has(AgentRoles...) {
		s.m.refused.WithLabelValues("forbidden").Inc()
		http.Error(w, "the agent desk needs the consultant, broker or supervisor role", http.StatusForbidden)
		return
	}
	if !s.checkOrigin(r) {
		s.m.refused.WithLabelValues("origin").Inc()
		http.Error(w, "cross-origin WebSocket refused", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		s.m.refused.WithLabelValues("closing").Inc()
		http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.m.refused.WithLabelValues("upgrade").Inc()
		return // the upgrader has answered
	}
	c := newConn(s, ws, p)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.closeNow(protocol.CloseGoingAway, "shutting down")
		_ = ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	c.run()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close drains: new upgrades are refused, open sockets are closed with 1001 in batches of
// DrainBatch spaced by DrainInterval (so browsers do not all reconnect at once), then every
// session ends (softphones closed, Calls.AgentGone "shutdown"). When ctx ends, what remains is
// closed at once. Close waits for the server's goroutines.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	slices.SortFunc(conns, func(a, b *conn) int { return a.started.Compare(b.started) })
	for i := 0; i < len(conns); i += s.opts.DrainBatch {
		if i > 0 && ctx.Err() == nil {
			t := time.NewTimer(s.opts.DrainInterval)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		for _, c := range conns[i:min(i+s.opts.DrainBatch, len(conns))] {
			if ctx.Err() != nil {
				c.kill("drain")
			} else {
				c.close(protocol.CloseGoingAway, "server shutting down")
			}
		}
	}
	done := make(chan struct{})
	go func() {
		for _, c := range conns {
			select {
			case <-c.finished:
			case <-ctx.Done():
				c.kill("drain")
				<-c.finished
			}
		}
		close(done)
	}()
	<-done
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	for _, ss := range sessions {
		s.endSession(ss, "shutdown", false)
	}
	s.wg.Wait()
	return ctx.Err()
}

// newToken returns a random id with a prefix, within the protocol's ident rules.
func newToken(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// callError turns what a Calls method returned into the error sent to the agent.
func callError(ctx context.Context, err error) *protocol.Error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		out := *pe
		return &out
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return &protocol.Error{Code: protocol.CodeUnavailable, Message: "the call service did not answer in time; try again"}
	}
	return &protocol.Error{Code: protocol.CodeInternal, Message: "internal error"}
}

func newError(code protocol.Code, msg string) *protocol.Error {
	return &protocol.Error{Code: code, Message: msg}
}
