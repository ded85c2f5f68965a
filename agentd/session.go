package agentd

import (
	"context"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"kontakt/agentd/media"
	"kontakt/agentd/protocol"
	"kontakt/internal/auth"
)

// session is one signed-in agent: it outlives its sockets for the grace period, keeps the state,
// the offer, the call and the wrap-up for a resume, and owns the agent's softphone.
type session struct {
	s     *Server
	agent AgentID
	p     auth.Principal

	mu        sync.Mutex
	conn      *conn // nil while the socket is down
	token     string
	id        string // the connection's session id, for logs
	ended     bool
	grace     *time.Timer
	state     protocol.StateInfo
	offer     *protocol.Offer // outstanding offer
	accepting *accepting      // accepted, waiting for CallConnected
	call      *activeCall     // connected call
	lastCall  *activeCall     // the call that ended last (its wrap-up may follow)
	wrapup    *protocol.WrapupInfo
	submitRe  string   // the wrapup.submit in progress
	req       *request // the client request being handled
	med       *media.Session
	medGen    uint64
	medDead   bool
	medNegot  bool // the current softphone has been negotiated once
}

type accepting struct {
	offer *protocol.Offer
	re    string // the offer.accept's id: call.connected answers it
}

type activeCall struct {
	info    protocol.ActiveCall
	offerID string
}

// request is a client message being handled: frames the session produces meanwhile wait until
// its reply has gone out, so a reply always precedes the events it causes.
type request struct {
	id       string
	typ      protocol.Type
	replied  bool
	deferred []protocol.Envelope
}

func newSession(s *Server, agent AgentID, p auth.Principal) *session {
	return &session{s: s, agent: agent, p: p,
		state: protocol.StateInfo{State: protocol.StatePaused, Reason: "sign_in", Since: s.opts.Now().UTC()}}
}

// attach makes c the session's socket and sends the welcome. It fails when the session has ended.
func (ss *session) attach(c *conn, helloID string, resumed bool) bool {
	s := ss.s
	tok := newToken("rt_")
	s.mu.Lock()
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		s.mu.Unlock()
		return false
	}
	delete(s.tokens, ss.token)
	ss.token = tok
	s.tokens[tok] = ss
	s.mu.Unlock()
	defer ss.mu.Unlock()
	old := ss.conn
	if ss.grace != nil {
		ss.grace.Stop()
		ss.grace = nil
	}
	ss.conn, ss.req, ss.id = c, nil, newToken("sess-")
	w := &protocol.Welcome{Protocol: protocol.Version, Server: s.opts.ServerName, Session: ss.id, ResumeToken: tok,
		Resumed: resumed, Agent: agentOf(ss), State: ss.state,
		PingIntervalMS: s.opts.PingInterval.Milliseconds(), GraceMS: s.opts.Grace.Milliseconds(),
		ICEServers: s.opts.ICEServers}
	if resumed && ss.call != nil {
		ci := ss.call.info
		w.Call = &ci
	}
	if resumed && ss.wrapup != nil {
		wi := *ss.wrapup
		w.Wrapup = &wi
	}
	c.sess, c.welcomed = ss, true
	_ = c.enqueue(protocol.Reply("", helloID, w))
	s.m.connected.Inc()
	if old != nil && old != c {
		s.m.connected.Dec() // old is no longer the session's; its detach will not count it
		old.close(protocol.CloseReplaced, "the session continues on another connection")
	}
	s.log.Info("agent connected", "agent", ss.agent, "login", ss.p.Login, "resumed", resumed, "session", ss.id)
	return true
}

func agentOf(ss *session) protocol.Agent {
	a := protocol.Agent{ID: string(ss.agent), Name: ss.p.Name, Roles: []string{}}
	if a.Name == "" {
		a.Name = ss.p.Login
	}
	for _, r := range ss.p.Roles {
		a.Roles = append(a.Roles, string(r))
	}
	return a
}

// detach is called when c's reader has ended: the session waits out its grace period (an
// outstanding offer goes back to the call side at once), or ends now after a sign-out.
func (ss *session) detach(c *conn) {
	s := ss.s
	ss.mu.Lock()
	if ss.conn != c || ss.ended {
		ss.mu.Unlock()
		return
	}
	s.m.connected.Dec()
	ss.conn, ss.req = nil, nil
	if c.signedOut {
		ss.mu.Unlock()
		s.endSession(ss, "signed_out", false)
		return
	}
	offer := ss.offer
	ss.offer = nil
	ss.grace = time.AfterFunc(s.opts.Grace, func() { s.expire(ss) })
	ss.mu.Unlock()
	s.log.Info("agent socket dropped; session kept for the grace period", "agent", ss.agent, "grace", s.opts.Grace)
	if offer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.RequestTimeout)
		defer cancel()
		if err := s.opts.Calls.Reject(ctx, ss.agent, CallID(offer.CallID), "disconnected"); err != nil {
			s.log.Warn("returning the offer of a disconnected agent", "agent", ss.agent, "call", offer.CallID, "err", err)
		}
	}
}

// expire signs out an agent who stayed away for the grace period.
func (s *Server) expire(ss *session) {
	if !s.track() {
		return
	}
	defer s.wg.Done()
	s.endSession(ss, "disconnected", true)
}

// track counts a background goroutine in the server's WaitGroup unless the server is closing.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

// endSession ends the session (once): closes its socket and softphone and tells the call side.
// With onlyIfAway it does nothing if the agent has come back meanwhile.
func (s *Server) endSession(ss *session, reason string, onlyIfAway bool) bool {
	ss.mu.Lock()
	if ss.ended || onlyIfAway && ss.conn != nil {
		ss.mu.Unlock()
		return false
	}
	ss.ended = true
	c, med, tok := ss.conn, ss.med, ss.token
	if c != nil {
		s.m.connected.Dec()
	}
	ss.conn, ss.med, ss.req = nil, nil, nil
	if ss.grace != nil {
		ss.grace.Stop()
	}
	ss.mu.Unlock()
	s.mu.Lock()
	if s.sessions[ss.agent] == ss {
		delete(s.sessions, ss.agent)
	}
	delete(s.tokens, tok)
	s.mu.Unlock()
	s.m.sessions.Dec()
	if c != nil {
		switch reason {
		case "replaced":
			c.close(protocol.CloseReplaced, "signed in elsewhere")
		case "shutdown":
			c.close(protocol.CloseGoingAway, "server shutting down")
		default:
			c.close(protocol.CloseNormal, "signed out")
		}
	}
	if med != nil {
		_ = med.Close()
	}
	if reason == "disconnected" {
		s.m.logouts.Inc()
	}
	s.opts.Calls.AgentGone(ss.agent, reason)
	s.log.Info("agent signed out", "agent", ss.agent, "reason", reason)
	return true
}

// emit sends a message on the session's socket (holding ss.mu). While a request is handled,
// frames other than its reply wait for it. Without a socket the frame is dropped: the state it
// reports is in the session, and the welcome of a resume carries it.
func (ss *session) emit(m protocol.Message, re string) {
	ss.send(nil, protocol.Envelope{V: protocol.Version, Type: m.Type(), Re: re, Data: m})
}

// send queues env on the session's socket. With from (a connection's reader answering its
// client) it takes ss.mu itself; without, the caller holds it.
func (ss *session) send(from *conn, env protocol.Envelope) {
	if from != nil {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		if ss.conn != from {
			_ = from.enqueue(env) // a refusal on a replaced socket still gets its answer
			return
		}
	}
	ss.sendLocked(env)
}

func (ss *session) sendLocked(env protocol.Envelope) {
	if ss.conn == nil {
		return
	}
	if r := ss.req; r != nil {
		if env.Re != "" && env.Re == r.id {
			r.replied = true
		} else {
			r.deferred = append(r.deferred, env)
			return
		}
	}
	_ = ss.conn.enqueue(env)
}

// do handles a client request: check (under ss.mu) may refuse it at once; call runs without the
// lock (it calls the call side, which may call back); finish (under ss.mu) cleans up and returns
// the reply for a nil error (nil: the reply comes later or was sent already).
func (ss *session) do(c *conn, env protocol.Envelope, check func() *protocol.Error,
	call func(ctx context.Context) error, finish func(err error) protocol.Message) {
	ss.mu.Lock()
	if ss.conn != c {
		ss.mu.Unlock()
		return
	}
	if check != nil {
		if pe := check(); pe != nil {
			pe.Re = env.ID
			ss.sendLocked(protocol.ErrorReply("", pe))
			ss.mu.Unlock()
			return
		}
	}
	r := &request{id: env.ID, typ: env.Type}
	ss.req = r
	ss.mu.Unlock()

	ctx, cancel := context.WithTimeout(c.ctx, ss.s.opts.RequestTimeout)
	err := call(ctx)
	var pe *protocol.Error
	if err != nil {
		pe = callError(ctx, err)
	}
	cancel()

	ss.mu.Lock()
	defer ss.mu.Unlock()
	reply := finish(err)
	if ss.req != r {
		return // the socket was replaced meanwhile
	}
	ss.req = nil
	if !r.replied {
		switch {
		case pe != nil:
			pe.Re = env.ID
			ss.sendLocked(protocol.ErrorReply("", pe))
		case reply != nil:
			ss.sendLocked(protocol.Reply("", env.ID, reply))
		}
	}
	for _, d := range r.deferred {
		ss.sendLocked(d)
	}
}

func conflict(format string) *protocol.Error { return newError(protocol.CodeConflict, format) }

// handle acts on a decoded, ordered, permitted client message.
func (ss *session) handle(c *conn, env protocol.Envelope) {
	calls := ss.s.opts.Calls
	agent := ss.agent
	ack := func(error) protocol.Message { return &protocol.Ack{} }
	switch m := env.Data.(type) {
	case *protocol.Ping:
		ss.send(c, protocol.Reply("", env.ID, &protocol.Pong{}))

	case *protocol.StateSet:
		ss.do(c, env, nil, func(ctx context.Context) error { return calls.SetState(ctx, agent, m.State, m.Reason) },
			func(error) protocol.Message { st := protocol.State(ss.state); return &st })

	case *protocol.OfferAccept:
		var callID CallID
		mediaDown := false
		ss.do(c, env, func() *protocol.Error {
			if ss.offer == nil || ss.offer.OfferID != m.OfferID {
				return conflict("the offer was withdrawn meanwhile")
			}
			if ss.offer.Callback != nil {
				return conflict("a callback connects by itself when the resident answers")
			}
			callID = CallID(ss.offer.CallID)
			if ss.s.opts.Media != nil && (ss.med == nil || ss.medDead) {
				ss.offer, mediaDown = nil, true
				return newError(protocol.CodeMediaFailed, "the softphone is not connected; the call goes to another agent")
			}
			ss.accepting = &accepting{offer: ss.offer, re: env.ID}
			ss.offer = nil
			return nil
		}, func(ctx context.Context) error { return calls.Accept(ctx, agent, callID) },
			func(err error) protocol.Message {
				if err != nil && ss.accepting != nil && ss.accepting.re == env.ID {
					ss.accepting = nil
				}
				return nil // call.connected answers it
			})
		if mediaDown {
			ctx, cancel := context.WithTimeout(c.ctx, ss.s.opts.RequestTimeout)
			if err := calls.Reject(ctx, agent, callID, "media_failed"); err != nil {
				ss.s.log.Warn("returning an offer the softphone cannot take", "agent", agent, "err", err)
			}
			cancel()
		}

	case *protocol.OfferReject:
		var callID CallID
		ss.do(c, env, func() *protocol.Error {
			if ss.offer == nil || ss.offer.OfferID != m.OfferID {
				return conflict("the offer was withdrawn meanwhile")
			}
			if ss.offer.Callback != nil {
				return conflict("a callback being dialled cannot be rejected; it connects when the resident answers")
			}
			callID = CallID(ss.offer.CallID)
			ss.offer = nil
			return nil
		}, func(ctx context.Context) error { return calls.Reject(ctx, agent, callID, m.Reason) }, ack)

	case *protocol.CallHangup:
		ss.callRequest(c, env, m.CallID, func(ctx context.Context, id CallID) error {
			return calls.Hangup(ctx, agent, id, "agent_hangup")
		}, ack)
	case *protocol.CallHold:
		ss.callRequest(c, env, m.CallID, func(ctx context.Context, id CallID) error { return calls.Hold(ctx, agent, id) }, ack)
	case *protocol.CallResume:
		ss.callRequest(c, env, m.CallID, func(ctx context.Context, id CallID) error { return calls.Resume(ctx, agent, id) }, ack)
	case *protocol.CallMute, *protocol.CallUnmute:
		on := env.Type == protocol.TypeCallMute
		callID := callIDOf(env.Data)
		ss.callRequest(c, env, callID, func(ctx context.Context, id CallID) error { return calls.Mute(ctx, agent, id, on) },
			func(err error) protocol.Message {
				if err == nil && ss.call != nil && ss.call.info.CallID == callID {
					ss.call.info.Muted = on
				}
				return &protocol.Ack{}
			})
	case *protocol.CallRecordPause, *protocol.CallRecordResume:
		paused := env.Type == protocol.TypeCallRecordPause
		callID := callIDOf(env.Data)
		ss.callRequest(c, env, callID, func(ctx context.Context, id CallID) error {
			return calls.RecordPause(ctx, agent, id, paused)
		}, func(err error) protocol.Message {
			if err != nil {
				return nil
			}
			if ss.call != nil && ss.call.info.CallID == callID {
				ss.call.info.RecordingPaused = paused
			}
			ev := protocol.CallEvent{CallID: callID, At: ss.s.opts.Now().UTC()}
			if paused {
				return (*protocol.CallRecordPaused)(&ev)
			}
			return (*protocol.CallRecordResumed)(&ev)
		})
	case *protocol.CallDTMF:
		ss.callRequest(c, env, m.CallID, func(ctx context.Context, id CallID) error { return calls.DTMF(ctx, agent, id, m.Digits) }, ack)
	case *protocol.CallTransfer:
		ss.callRequest(c, env, m.CallID, func(ctx context.Context, id CallID) error {
			return calls.Transfer(ctx, agent, id, m.Queue, m.Note)
		}, ack)

	case *protocol.WrapupSubmit:
		ss.do(c, env, func() *protocol.Error {
			if ss.wrapup == nil || ss.wrapup.CallID != m.CallID {
				return conflict("the wrap-up has ended meanwhile")
			}
			ss.submitRe = env.ID
			return nil
		}, func(ctx context.Context) error { return calls.WrapUp(ctx, agent, CallID(m.CallID), *m) },
			func(err error) protocol.Message {
				ss.submitRe = ""
				if err != nil || ss.wrapup == nil || ss.wrapup.CallID != m.CallID {
					return nil
				}
				w := ss.wrapup
				ss.wrapup = nil
				return &protocol.WrapupEnded{CallID: w.CallID, TicketNumber: w.TicketNumber, Reason: "submitted"}
			})

	case *protocol.WebRTCOffer:
		ss.webrtcOffer(c, env, m)
	case *protocol.WebRTCCandidate:
		ss.withMedia(c, env, func(med *media.Session) error {
			return med.AddCandidate(webrtc.ICECandidateInit{Candidate: m.Candidate, SDPMid: m.SDPMid,
				SDPMLineIndex: m.SDPMLineIndex, UsernameFragment: m.UsernameFragment})
		}, ack)
	case *protocol.WebRTCAnswer:
		ss.withMedia(c, env, func(med *media.Session) error { return med.HandleAnswer(m.SDP) }, ack)
	case *protocol.WebRTCRestart:
		ss.withMedia(c, env, func(med *media.Session) error {
			return med.CreateOffer(true, func(offer string) {
				ss.send(c, protocol.Reply("", env.ID, &protocol.WebRTCOffer{SDP: offer, Restart: true}))
			})
		}, func(error) protocol.Message { return nil })
	default:
		ss.send(c, protocol.ErrorReply("", &protocol.Error{Code: protocol.CodeUnknownType,
			Message: string(env.Type) + " is not handled by this server", Re: env.ID}))
	}
}

func callIDOf(m protocol.Message) string {
	switch m := m.(type) {
	case *protocol.CallMute:
		return m.CallID
	case *protocol.CallUnmute:
		return m.CallID
	case *protocol.CallRecordPause:
		return m.CallID
	case *protocol.CallRecordResume:
		return m.CallID
	}
	return ""
}

// callRequest is a call control on the connected call.
func (ss *session) callRequest(c *conn, env protocol.Envelope, callID string, call func(ctx context.Context, id CallID) error,
	finish func(err error) protocol.Message) {
	ss.do(c, env, func() *protocol.Error {
		if ss.call == nil || ss.call.info.CallID != callID {
			return conflict("the call has ended meanwhile")
		}
		return nil
	}, func(ctx context.Context) error { return call(ctx, CallID(callID)) }, finish)
}

func mediaError(err error) *protocol.Error {
	return &protocol.Error{Code: protocol.CodeMediaFailed, Message: "softphone: " + err.Error()}
}

// withMedia runs f on the agent's softphone; without one the answer is media_failed.
func (ss *session) withMedia(c *conn, env protocol.Envelope, f func(*media.Session) error, finish func(error) protocol.Message) {
	var med *media.Session
	ss.do(c, env, func() *protocol.Error {
		if ss.med == nil {
			return newError(protocol.CodeMediaFailed, "no softphone yet: send webrtc.offer first")
		}
		med = ss.med
		return nil
	}, func(context.Context) error {
		if err := f(med); err != nil {
			return mediaError(err)
		}
		return nil
	}, finish)
}

// webrtcOffer answers the browser's offer. The softphone is made at the first offer and kept for
// the sign-in; an ICE restart (restart:true) renegotiates it; a plain offer once it has been
// negotiated means a new peer connection (the page was reloaded, or the old one died), which
// replaces it.
func (ss *session) webrtcOffer(c *conn, env protocol.Envelope, m *protocol.WebRTCOffer) {
	s := ss.s
	if s.opts.Media == nil {
		ss.send(c, protocol.ErrorReply("", &protocol.Error{Code: protocol.CodeMediaFailed, Message: "this server has no softphone media", Re: env.ID}))
		return
	}
	var med, old *media.Session
	var hangup CallID
	ss.do(c, env, func() *protocol.Error {
		if ss.med != nil && !ss.medDead && (m.Restart || !ss.medNegot) {
			med = ss.med
			return nil
		}
		gen := ss.medGen + 1
		n, err := s.opts.Media.NewSession(media.SessionConfig{
			OnCandidate: func(ci *webrtc.ICECandidateInit) { ss.onCandidate(gen, ci) },
			OnDead:      func(err error) { ss.onMediaDead(gen, err) },
			Logger:      s.log.With("agent", ss.agent),
		})
		if err != nil {
			return mediaError(err)
		}
		old = ss.med
		if old != nil && !ss.medDead && ss.call != nil {
			hangup = CallID(ss.call.info.CallID)
		}
		ss.med, ss.medGen, ss.medDead, ss.medNegot, med = n, gen, false, false, n
		return nil
	}, func(ctx context.Context) error {
		if old != nil {
			_ = old.Close()
		}
		if hangup != "" {
			if err := s.opts.Calls.Hangup(ctx, ss.agent, hangup, "media_failed"); err != nil {
				s.log.Warn("hanging up a call whose softphone was replaced", "agent", ss.agent, "err", err)
			}
		}
		if err := med.HandleOffer(m.SDP, func(answer string) {
			ss.send(c, protocol.Reply("", env.ID, &protocol.WebRTCAnswer{SDP: answer}))
		}); err != nil {
			return mediaError(err)
		}
		return nil
	}, func(err error) protocol.Message {
		if err == nil && ss.med == med {
			ss.medNegot = true
		}
		return nil
	})
}

func (ss *session) onCandidate(gen uint64, ci *webrtc.ICECandidateInit) {
	c := protocol.WebRTCCandidate{}
	if ci != nil {
		c = protocol.WebRTCCandidate{Candidate: ci.Candidate, SDPMid: ci.SDPMid, SDPMLineIndex: ci.SDPMLineIndex,
			UsernameFragment: ci.UsernameFragment}
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.medGen == gen && !ss.ended {
		ss.emit(&c, "")
	}
}

// onMediaDead: the softphone's peer connection failed or the browser closed it. A call on it is
// hung up (the call side hangs up the externalMedia channel; call.ended media_failed follows).
func (ss *session) onMediaDead(gen uint64, err error) {
	s := ss.s
	ss.mu.Lock()
	if ss.medGen != gen || ss.ended {
		ss.mu.Unlock()
		return
	}
	ss.medDead = true
	var call CallID
	switch {
	case ss.call != nil:
		call = CallID(ss.call.info.CallID)
	case ss.accepting != nil:
		call = CallID(ss.accepting.offer.CallID)
	}
	ss.mu.Unlock()
	s.m.mediaDead.Inc()
	s.log.Info("softphone died", "agent", ss.agent, "err", err, "call", call)
	if call == "" || !s.track() {
		return
	}
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.RequestTimeout)
		defer cancel()
		if err := s.opts.Calls.Hangup(ctx, ss.agent, call, "media_failed"); err != nil {
			s.log.Warn("hanging up after the softphone died", "agent", ss.agent, "call", call, "err", err)
		}
	}()
}
