package agentd

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"kontakt/agentd/protocol"
	"kontakt/internal/auth"
)

// conn is one WebSocket: this goroutine reads (run), one writer goroutine writes from the buffered
// send channel. A client whose channel is full is dropped, never waited for.
type conn struct {
	s       *Server
	ws      *websocket.Conn
	p       auth.Principal
	started time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	send    chan []byte
	checker *protocol.Checker
	ids     atomic.Uint64

	closeOnce sync.Once
	closeReq  chan struct{} // closed when a close frame is to be sent
	closeCode int
	closeText string
	closeSent atomic.Bool // a close frame went out (by us, or by gorilla for 1009)
	killed    atomic.Bool

	readerDone chan struct{}
	writerDone chan struct{}
	finished   chan struct{} // run returned and the session knows

	// reader goroutine only
	sess      *session
	welcomed  bool
	refused   int  // refused frames in a row
	signedOut bool // the client closed with 1000
}

func newConn(s *Server, ws *websocket.Conn, p auth.Principal) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{s: s, ws: ws, p: p, started: time.Now(), ctx: ctx, cancel: cancel,
		send: make(chan []byte, s.opts.SendBuffer), checker: protocol.NewChecker(),
		closeReq: make(chan struct{}), readerDone: make(chan struct{}), writerDone: make(chan struct{}),
		finished: make(chan struct{})}
}

// enqueue encodes env with the connection's next id, records it with the Checker and queues it.
// It never blocks: a full queue drops the connection. Callers that send a session's frames hold
// the session's lock, so frames leave in the order the session produced them.
func (c *conn) enqueue(env protocol.Envelope) error {
	env.ID = "s" + strconv.FormatUint(c.ids.Add(1), 10)
	b, err := protocol.Encode(env)
	if err != nil {
		c.s.log.Error("refusing to send an invalid message (a bug)", "type", env.Type, "err", err)
		return err
	}
	c.checker.Sent(env)
	select {
	case c.send <- b:
		c.s.m.out(env)
	default:
		c.kill("slow_client")
	}
	return nil
}

// close asks the writer to send the queued frames, then a close frame with code, and to stop.
func (c *conn) close(code int, text string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.closeReq)
	})
}

// closeNow writes a close frame directly (before the writer runs) and stops.
func (c *conn) closeNow(code int, text string) {
	c.close(code, text)
	if c.closeSent.CompareAndSwap(false, true) {
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	}
}

// kill drops the connection at once (slow client, drain deadline): the reader fails and the
// session goes into its grace period.
func (c *conn) kill(reason string) {
	if c.killed.Swap(true) {
		return
	}
	c.s.m.drops.WithLabelValues(reason).Inc()
	c.s.log.Info("agent connection dropped", "reason", reason, "login", c.p.Login)
	c.cancel() // a request waiting on the call side gives up
	_ = c.ws.NetConn().Close()
}

func (c *conn) writer() {
	defer close(c.writerDone)
	ping := time.NewTicker(c.s.opts.PingInterval)
	defer ping.Stop()
	write := func(b []byte) bool {
		_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
		if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
			c.kill("write_failed")
			return false
		}
		return true
	}
	closing := func() {
		for { // what was queued before the close goes first (e.g. the error before 4005)
			select {
			case b := <-c.send:
				if !write(b) {
					return
				}
				continue
			default:
			}
			break
		}
		if c.closeSent.CompareAndSwap(false, true) {
			_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, c.closeText),
				time.Now().Add(c.s.opts.WriteTimeout))
		}
		// Wait a little for the client's close frame, then the reader gives up.
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * time.Second))
	}
	for {
		select {
		case <-c.closeReq:
			closing()
			return
		default:
		}
		select {
		case b := <-c.send:
			if !write(b) {
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.s.opts.WriteTimeout)); err != nil {
				c.kill("write_failed")
				return
			}
		case <-c.closeReq:
			closing()
			return
		case <-c.readerDone:
			select {
			case <-c.closeReq:
				closing()
			default:
			}
			return
		}
	}
}

// extend moves the read deadline: the hello timeout before the welcome, then twice the ping
// interval after every frame (a WebSocket pong counts too).
func (c *conn) extend() {
	if c.welcomed {
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * c.s.opts.PingInterval))
	}
}

// run serves the connection until it ends, then hands the session to its grace period (or ends
// it, after a sign-out).
func (c *conn) run() {
	defer close(c.finished)
	defer c.cancel()
	c.ws.SetReadLimit(protocol.MaxMessageSize)
	_ = c.ws.SetReadDeadline(time.Now().Add(c.s.opts.HelloTimeout))
	c.ws.SetPongHandler(func(string) error { c.extend(); return nil }) // runs on this goroutine
	go c.writer()
	for {
		mt, b, err := c.ws.ReadMessage()
		if err != nil {
			c.readFailed(err)
			break
		}
		if c.isClosing() {
			continue // after our close frame only the client's close frame matters
		}
		c.extend()
		if mt != websocket.TextMessage {
			c.refuse(&protocol.Error{Code: protocol.CodeBadJSON, Message: "binary frames are not accepted; send JSON text"})
			continue
		}
		c.frame(b)
	}
	close(c.readerDone)
	<-c.writerDone
	_ = c.ws.Close()
	if c.sess != nil {
		c.sess.detach(c)
	}
}

func (c *conn) isClosing() bool {
	select {
	case <-c.closeReq:
		return true
	default:
		return false
	}
}

func (c *conn) readFailed(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		c.closeSent.Store(true) // gorilla answered the client's close frame
		c.signedOut = ce.Code == websocket.CloseNormalClosure && !c.isClosing()
	case errors.Is(err, websocket.ErrReadLimit):
		c.closeSent.Store(true) // gorilla sent 1009
		c.s.m.drops.WithLabelValues("too_large").Inc()
		c.s.m.errors.WithLabelValues(string(protocol.CodeTooLarge)).Inc()
	case errors.As(err, &ne) && ne.Timeout() && !c.isClosing() && !c.killed.Load():
		if c.welcomed {
			c.s.m.drops.WithLabelValues("ping_timeout").Inc()
			c.close(protocol.ClosePingTimeout, "no frame within twice the ping interval")
		} else {
			c.s.m.drops.WithLabelValues("hello_timeout").Inc()
			c.close(protocol.CloseHelloTimeout, "no hello in time")
		}
	case !c.isClosing() && !c.killed.Load():
		c.s.m.drops.WithLabelValues("network").Inc()
	}
}

// frame handles one text frame: decode, ordering, role, then the message.
func (c *conn) frame(b []byte) {
	env, err := protocol.Decode(b)
	if err != nil {
		c.refuse(err)
		return
	}
	if err := c.checker.Received(env); err != nil {
		c.refuse(err)
		return
	}
	c.s.m.in(env.Type)
	if !c.s.opts.Permit(c.p, env.Type) {
		c.refuse(&protocol.Error{Code: protocol.CodeForbidden, Message: "your role does not allow " + string(env.Type), Re: env.ID})
		return
	}
	c.refused = 0
	if h, ok := env.Data.(*protocol.Hello); ok {
		c.hello(env, h)
		return
	}
	c.sess.handle(c, env)
}

// refuse answers a frame that could not be accepted; too many in a row close the socket (4005).
func (c *conn) refuse(err error) {
	env := protocol.ErrorReply("", err)
	if c.sess != nil {
		c.sess.send(c, env)
	} else {
		_ = c.enqueue(env)
	}
	c.refused++
	if c.refused >= c.s.opts.MaxErrors {
		c.s.m.drops.WithLabelValues("too_many_errors").Inc()
		c.close(protocol.CloseTooManyErrors, "too many refused frames in a row")
	}
}

// hello opens the session: a resume with a valid token, else a fresh sign-in (which replaces a
// session the same agent had).
func (c *conn) hello(env protocol.Envelope, h *protocol.Hello) {
	s := c.s
	agent := s.opts.AgentID(c.p)
	if h.ResumeToken != "" {
		s.mu.Lock()
		ss := s.tokens[h.ResumeToken]
		s.mu.Unlock()
		if ss != nil && ss.agent == agent && ss.attach(c, env.ID, true) {
			s.m.resumes.Inc()
			return
		}
	}
	ss := newSession(s, agent, c.p)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.close(protocol.CloseGoingAway, "server shutting down")
		return
	}
	prev := s.sessions[agent]
	s.sessions[agent] = ss
	s.mu.Unlock()
	s.m.sessions.Inc()
	if prev != nil {
		s.endSession(prev, "replaced", false)
	}
	ctx, cancel := context.WithTimeout(c.ctx, s.opts.RequestTimeout)
	err := s.opts.Calls.SetState(ctx, agent, protocol.StatePaused, "sign_in")
	if err != nil {
		pe := callError(ctx, err)
		cancel()
		pe.Re = env.ID
		_ = c.enqueue(protocol.ErrorReply("", pe))
		s.m.errors.WithLabelValues(string(pe.Code)).Inc()
		s.endSession(ss, "signed_out", false)
		c.close(protocol.CloseInternal, "sign-in failed; try again")
		return
	}
	cancel()
	if !ss.attach(c, env.ID, false) {
		c.close(protocol.CloseReplaced, "signed in elsewhere")
	}
}
