package media

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// ErrAttached is returned by Attach while another call is attached to the session.
var ErrAttached = errors.New("media: a call is already attached")

// Leg is one call's media: a UDP socket on the relay IP that Asterisk's externalMedia channel
// sends to (its external_host) and receives from, relayed to and from the session's peer
// connection until Detach.
type Leg struct {
	s        *Session
	conn     *net.UDPConn
	remote   atomic.Pointer[netip.AddrPort]
	attached time.Time
	stats    counters
	first    chan struct{}
	onFirst  func(time.Duration)
	muted    atomic.Bool
	done     chan struct{}
	once     sync.Once
	stopMu   sync.Mutex
	stopCtx  func() bool
	n        uint64 // the session's leg number, for the rewriters
	outSSRC  uint32
	outBuf   []byte // reader of the browser's track only
}

// LegOption configures Attach.
type LegOption func(*Leg)

// OnFirstPacketToAgent calls f once, from the relay goroutine, with the time from Attach to the
// first packet sent toward the agent (the "accept → first audio" measurement). f must not block
// or call Detach.
func OnFirstPacketToAgent(f func(sinceAttach time.Duration)) LegOption {
	return func(l *Leg) { l.onFirst = f }
}

// Attach starts relaying one call: it binds a UDP socket on the relay IP (give LocalAddr to
// Asterisk as externalMedia's external_host) and relays RTP between it and the browser until
// Detach, until ctx is done, or until the peer connection dies. remote is Asterisk's side of the
// externalMedia channel (UNICASTRTP_LOCAL_ADDRESS:UNICASTRTP_LOCAL_PORT); it may be nil and set
// later with SetRemote, and until it is known the first source that sends to the socket is
// taken as remote. Only one call is attached at a time (ErrAttached).
func (s *Session) Attach(ctx context.Context, remote *net.UDPAddr, opts ...LegOption) (*Leg, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() || s.isDead.Load() {
		return nil, ErrClosed
	}
	if s.leg.Load() != nil {
		return nil, ErrAttached
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.engine.relayIP, 0)))
	if err != nil {
		return nil, fmt.Errorf("media: relay socket: %w", err)
	}
	_ = conn.SetReadBuffer(256 << 10)
	l := &Leg{s: s, conn: conn, attached: time.Now(), first: make(chan struct{}), done: make(chan struct{}),
		outSSRC: rand.Uint32(), outBuf: make([]byte, 1500)}
	for _, o := range opts {
		o(l)
	}
	s.legs++
	l.n = s.legs
	if remote != nil {
		l.SetRemote(remote)
	}
	s.leg.Store(l)
	s.wg.Add(1)
	go l.readAsterisk()
	l.stopMu.Lock()
	l.stopCtx = context.AfterFunc(ctx, l.Detach)
	l.stopMu.Unlock()
	return l, nil
}

// LocalAddr is the relay socket's address: externalMedia's external_host.
func (l *Leg) LocalAddr() *net.UDPAddr { return l.conn.LocalAddr().(*net.UDPAddr) }

// SetRemote sets Asterisk's RTP address for the call, where the browser's audio is sent.
func (l *Leg) SetRemote(a *net.UDPAddr) {
	ap := a.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	l.remote.Store(&ap)
}

// SetMuted mutes the agent: while muted, the browser's packets still go to Asterisk but carry
// µ-law silence, so the caller's side and the recording keep a steady stream.
func (l *Leg) SetMuted(m bool) { l.muted.Store(m) }

// FirstPacketToAgent is closed when the first packet of the call is sent toward the agent.
func (l *Leg) FirstPacketToAgent() <-chan struct{} { return l.first }

// Done is closed when the leg is detached.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Stats returns the call's counters.
func (l *Leg) Stats() Stats { return l.stats.snapshot() }

// Detach stops relaying the call and closes its socket; it waits for the relay goroutine and is
// idempotent. Call it at the end of the call (ctx's end does it too).
func (l *Leg) Detach() {
	l.once.Do(func() {
		l.stopMu.Lock()
		if l.stopCtx != nil {
			l.stopCtx()
		}
		l.stopMu.Unlock()
		_ = l.conn.Close()
		<-l.done
		l.s.mu.Lock()
		l.s.leg.CompareAndSwap(l, nil)
		l.s.mu.Unlock()
	})
}

func (l *Leg) drop() {
	l.stats.dropped.Add(1)
	l.s.stats.dropped.Add(1)
}

// readAsterisk relays Asterisk → browser until the socket is closed.
func (l *Leg) readAsterisk() {
	defer l.s.wg.Done()
	defer close(l.done)
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	s := l.s
	for {
		n, from, err := l.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if r := l.remote.Load(); r == nil {
			l.remote.CompareAndSwap(nil, &from) // latch the first source until told otherwise
		} else if *r != from {
			l.drop()
			continue
		}
		if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 0 {
			l.drop() // not RTP, or not PCMU (comfort noise, telephone-event)
			continue
		}
		now := time.Now()
		if !s.toAgent.rewrite(&pkt.Header, l.n, len(pkt.Payload), now) {
			l.drop()
			continue
		}
		pkt.Extension, pkt.Extensions, pkt.Padding, pkt.PaddingSize = false, nil, false, 0
		if err := s.track.WriteRTP(&pkt); err != nil {
			l.drop()
			continue
		}
		l.stats.toAgent.add(n, now)
		s.stats.toAgent.add(n, now)
		if l.stats.toAgent.packets.Load() == 1 {
			close(l.first)
			if l.onFirst != nil {
				l.onFirst(now.Sub(l.attached))
			}
		}
	}
}

// readAgent relays browser → Asterisk (to the attached leg, if any) for the session's life.
func (s *Session) readAgent(remote *webrtc.TrackRemote) {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	pt := uint8(remote.PayloadType())
	var pkt rtp.Packet
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		l := s.leg.Load()
		if l == nil {
			continue
		}
		dst := l.remote.Load()
		if dst == nil || pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != pt {
			l.drop()
			continue
		}
		now := time.Now()
		if !s.fromAgent.rewrite(&pkt.Header, l.n, len(pkt.Payload), now) {
			l.drop()
			continue
		}
		h := pkt.Header
		h.PayloadType, h.SSRC = 0, l.outSSRC
		h.Extension, h.Extensions, h.Padding, h.PaddingSize, h.CSRC = false, nil, false, 0, nil
		hn, err := h.MarshalTo(l.outBuf)
		if err != nil || hn+len(pkt.Payload) > len(l.outBuf) {
			l.drop()
			continue
		}
		out := l.outBuf[hn:]
		if l.muted.Load() {
			out = out[:len(pkt.Payload)]
			for i := range out {
				out[i] = 0xFF // µ-law silence
			}
		} else {
			copy(out, pkt.Payload)
		}
		size := hn + len(pkt.Payload)
		if _, err := l.conn.WriteToUDPAddrPort(l.outBuf[:size], *dst); err != nil {
			l.drop()
			continue
		}
		l.stats.fromAgent.add(size, now)
		s.stats.fromAgent.add(size, now)
	}
}

// rewriter renumbers one direction's RTP so that sequence numbers and timestamps run on without
// jumps across calls and across the silences between and within them. Within a stream it keeps
// the source's steps (a lost packet still shows as a gap); when the stream changes (a new leg,
// a new SSRC, a jump) or the source's timestamps lag the wall clock by more than a resync
// threshold (a source that stops sending during silence without advancing its clock), the
// timestamp advances by the wall-clock time since the last packet instead. Asterisk's stream is
// never the clock: the gap is measured here. The zero value is ready; it is used by one
// goroutine at a time.
type rewriter struct {
	started       bool
	leg           uint64
	ssrc          uint32
	inSeq, outSeq uint16
	inTS, outTS   uint32
	lastDur       uint32 // samples in the last packet
	last          time.Time
}

const (
	clockRate     = 8000
	resyncSamples = 800            // 100 ms: a larger lag of the source clock behind the wall clock is a gap
	maxTSJump     = 10 * clockRate // a source timestamp step beyond 10 s is a new stream
	maxSeqJump    = 1000           // so is a sequence step beyond this
)

// rewrite renumbers h in place; false means drop the packet (a duplicate or late one).
func (r *rewriter) rewrite(h *rtp.Header, leg uint64, samples int, now time.Time) bool {
	dur := uint32(samples) // PCMU: one byte per sample
	if dur == 0 {
		dur = 160
	}
	if !r.started {
		r.started = true
		r.outSeq, r.outTS = uint16(rand.Uint32()), rand.Uint32()
		h.Marker = true
		return r.commit(h, leg, dur, now)
	}
	wall := uint32(now.Sub(r.last) / (time.Second / clockRate)) // wraps like RTP time after 6 days
	dSeq := int16(h.SequenceNumber - r.inSeq)
	dTS := int32(h.Timestamp - r.inTS)
	newStream := leg != r.leg || h.SSRC != r.ssrc || dSeq >= maxSeqJump || dSeq <= -maxSeqJump || dTS <= -maxTSJump || dTS > maxTSJump
	switch {
	case newStream:
		r.outSeq++
		r.outTS += max(wall, r.lastDur)
		h.Marker = true
	case dSeq <= 0:
		return false // duplicate or reordered late packet
	default:
		r.outSeq += uint16(dSeq)
		if dTS <= 0 || int64(wall)-int64(dTS) > resyncSamples {
			r.outTS += max(wall, r.lastDur)
			h.Marker = true
		} else {
			r.outTS += uint32(dTS)
		}
	}
	return r.commit(h, leg, dur, now)
}

func (r *rewriter) commit(h *rtp.Header, leg uint64, dur uint32, now time.Time) bool {
	r.leg, r.ssrc, r.inSeq, r.inTS, r.lastDur, r.last = leg, h.SSRC, h.SequenceNumber, h.Timestamp, dur, now
	h.SequenceNumber, h.Timestamp = r.outSeq, r.outTS
	return true
}

// Counter counts packets and bytes (whole RTP packets) in one direction.
type Counter struct {
	Packets, Bytes uint64
	Last           time.Time // when the last packet was relayed; zero if none
}

// Stats are a session's or a call's relay counters. ToAgent is Asterisk → browser, FromAgent is
// browser → Asterisk; Dropped counts packets not relayed (wrong source or payload type,
// duplicates, no remote address yet, send errors).
type Stats struct {
	ToAgent, FromAgent Counter
	Dropped            uint64
}

type counter struct {
	packets, bytes atomic.Uint64
	last           atomic.Int64
}

func (c *counter) add(n int, now time.Time) {
	c.packets.Add(1)
	c.bytes.Add(uint64(n))
	c.last.Store(now.UnixNano())
}

func (c *counter) snapshot() Counter {
	out := Counter{Packets: c.packets.Load(), Bytes: c.bytes.Load()}
	if ns := c.last.Load(); ns != 0 {
		out.Last = time.Unix(0, ns)
	}
	return out
}

type counters struct {
	toAgent, fromAgent counter
	dropped            atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{ToAgent: c.toAgent.snapshot(), FromAgent: c.fromAgent.snapshot(), Dropped: c.dropped.Load()}
}

// Stats returns the session's counters over all its calls.
func (s *Session) Stats() Stats { return s.stats.snapshot() }

// Attached returns the call currently attached, or nil.
func (s *Session) Attached() *Leg { return s.leg.Load() }
