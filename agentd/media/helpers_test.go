package media

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"kontakt/agentd/media/tone"
)

// loopback is the test engine's config: loopback candidates only.
var loopback = Config{IncludeLoopback: true, Networks: []string{"127.0.0.1/32"}}

func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// queue delivers functions in order on its own goroutine, like a WebSocket's writer and the
// other side's reader: signalling never runs inside the callback that produced it.
type queue struct {
	mu     sync.Mutex
	items  []func()
	wake   chan struct{}
	done   chan struct{}
	closed chan struct{}
}

func newQueue() *queue {
	q := &queue{wake: make(chan struct{}, 1), done: make(chan struct{}), closed: make(chan struct{})}
	go func() {
		defer close(q.closed)
		for {
			q.mu.Lock()
			items := q.items
			q.items = nil
			q.mu.Unlock()
			for _, f := range items {
				f()
			}
			select {
			case <-q.wake:
			case <-q.done:
				return
			}
		}
	}()
	return q
}

func (q *queue) push(f func()) {
	q.mu.Lock()
	q.items = append(q.items, f)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) close() {
	select {
	case <-q.done:
	default:
		close(q.done)
	}
	<-q.closed
}

// pair is a server Session and a Client joined by two signalling queues.
type pair struct {
	s            *Session
	c            *Client
	toServer     *queue
	toClient     *queue
	dead         chan error
	rtpMu        sync.Mutex
	rtp          []rtp.Header  // what the client received
	gotRTP       chan struct{} // signalled (without blocking) on every packet the client receives
	connected    chan struct{}
	connectedSet sync.Once
}

func (p *pair) headers() []rtp.Header {
	p.rtpMu.Lock()
	defer p.rtpMu.Unlock()
	return append([]rtp.Header(nil), p.rtp...)
}

// connect builds a Session and a Client, has the client offer, and waits for both to connect;
// they are closed at the end of the test.
func connect(t testing.TB, e *Engine) *pair {
	t.Helper()
	p := dial(t, e, e)
	t.Cleanup(p.close)
	return p
}

func (p *pair) close() {
	_ = p.c.Close()
	_ = p.s.Close()
	p.toServer.close()
	p.toClient.close()
}

// dial is connect without the cleanup, with the server's and the client's engines.
func dial(t testing.TB, e, ce *Engine) *pair {
	t.Helper()
	p := &pair{toServer: newQueue(), toClient: newQueue(), dead: make(chan error, 1), connected: make(chan struct{}), gotRTP: make(chan struct{}, 1)}
	var err error
	p.s, err = e.NewSession(SessionConfig{
		OnCandidate: func(c *webrtc.ICECandidateInit) {
			p.toClient.push(func() {
				if c == nil {
					c = &webrtc.ICECandidateInit{}
				}
				if err := p.c.AddCandidate(*c); err != nil && !errors.Is(err, ErrClosed) {
					t.Errorf("client AddCandidate: %v", err)
				}
			})
		},
		OnDead: func(err error) { p.dead <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	p.c, err = ce.NewClient(ClientConfig{
		OnCandidate: func(c *webrtc.ICECandidateInit) {
			p.toServer.push(func() {
				if c == nil {
					c = &webrtc.ICECandidateInit{}
				}
				if err := p.s.AddCandidate(*c); err != nil && !errors.Is(err, ErrClosed) {
					t.Errorf("server AddCandidate: %v", err)
				}
			})
		},
		OnStateChange: func(st webrtc.PeerConnectionState) {
			if st == webrtc.PeerConnectionStateConnected {
				p.connectedSet.Do(func() { close(p.connected) })
			}
		},
		OnRTP: func(h *rtp.Header, _ []byte, _ time.Time) {
			p.rtpMu.Lock()
			if len(p.rtp) < 100_000 {
				p.rtp = append(p.rtp, *h)
			}
			p.rtpMu.Unlock()
			select {
			case p.gotRTP <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.c.Offer(p.sendOffer(t)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-p.connected:
		case <-time.After(10 * time.Millisecond):
		}
		if p.c.State() == webrtc.PeerConnectionStateConnected && p.s.State() == webrtc.PeerConnectionStateConnected {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("not connected: client %s, server %s", p.c.State(), p.s.State())
		}
	}
}

// sendOffer returns the client's send function: the offer travels to the server, whose answer
// travels back.
func (p *pair) sendOffer(t testing.TB) func(string) {
	return func(offer string) {
		p.toServer.push(func() {
			err := p.s.HandleOffer(offer, func(answer string) {
				p.toClient.push(func() {
					if err := p.c.HandleAnswer(answer); err != nil {
						t.Errorf("client HandleAnswer: %v", err)
					}
				})
			})
			if err != nil {
				t.Errorf("server HandleOffer: %v", err)
			}
		})
	}
}

// fakeAsterisk is the externalMedia side: it sends a µ-law tone as RTP to the relay's socket
// (external_host) at 50 packets/s, and keeps what it receives.
type fakeAsterisk struct {
	conn    *net.UDPConn
	target  *net.UDPAddr
	gen     atomic.Pointer[tone.Sine]
	sending atomic.Bool
	seq     uint16
	ts      uint32
	ssrc    uint32
	stop    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	pcm      []int16
	headers  []rtp.Header
	received int
}

func newFakeAsterisk(t testing.TB, freq float64) *fakeAsterisk {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeAsterisk{conn: conn, seq: uint16(rand.Uint32()), ts: rand.Uint32(), ssrc: rand.Uint32(), stop: make(chan struct{})}
	a.gen.Store(tone.NewSine(freq, 0.5))
	a.wg.Add(1)
	go a.read()
	t.Cleanup(a.close)
	return a
}

func (a *fakeAsterisk) addr() *net.UDPAddr { return a.conn.LocalAddr().(*net.UDPAddr) }

// start sends to the relay every 20 ms until stop or pause.
func (a *fakeAsterisk) start(target *net.UDPAddr) {
	a.target = target
	a.sending.Store(true)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-a.stop:
				return
			case <-t.C:
				if a.sending.Load() {
					a.sendOne()
				}
			}
		}
	}()
}

func (a *fakeAsterisk) sendOne() {
	payload := make([]byte, tone.FrameSamples)
	a.gen.Load().Frame(payload)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: a.seq, Timestamp: a.ts, SSRC: a.ssrc}, Payload: payload}
	a.seq++
	a.ts += tone.FrameSamples
	b, _ := pkt.Marshal()
	_, _ = a.conn.WriteToUDP(b, a.target)
}

func (a *fakeAsterisk) read() {
	defer a.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := a.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		a.mu.Lock()
		a.received++
		a.headers = append(a.headers, pkt.Header)
		a.pcm = tone.DecodeFrame(a.pcm, pkt.Payload)
		if len(a.pcm) > 2*tone.SampleRate {
			a.pcm = append(a.pcm[:0], a.pcm[len(a.pcm)-tone.SampleRate:]...)
		}
		a.mu.Unlock()
	}
}

// waitTone waits until the last 200 ms received are a tone of freq Hz.
func (a *fakeAsterisk) waitTone(ctx context.Context, freq float64) error {
	var f, s float64
	for {
		a.mu.Lock()
		if n := len(a.pcm); n >= 1600 {
			f, s = tone.Dominant(a.pcm[n-1600:], 100, 3900, 10)
		}
		a.mu.Unlock()
		if f == freq && s > 0.8 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("asterisk heard no %v Hz (last %v Hz, %.2f): %w", freq, f, s, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (a *fakeAsterisk) close() {
	select {
	case <-a.stop:
		return
	default:
	}
	close(a.stop)
	_ = a.conn.Close()
	a.wg.Wait()
}

func timeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
