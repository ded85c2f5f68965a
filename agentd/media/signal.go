package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
)

// negotiator is the signalling half of a peer connection, shared by Session (server) and Client
// (headless agent): offers and answers in either direction, trickled candidates both ways in an
// order that never puts a candidate ahead of its description, and the polite-peer rollback.
type negotiator struct {
	remoteOK func(netip.Addr) bool // nil: every remote candidate
	pc       *webrtc.PeerConnection
	log      *slog.Logger
	closing  *atomic.Bool
	sigMu    sync.Mutex // serialises negotiations
	cand     candidateGate
	pending  []webrtc.ICECandidateInit // remote candidates that came before the remote description
}

func newNegotiator(pc *webrtc.PeerConnection, onCandidate func(*webrtc.ICECandidateInit), log *slog.Logger, closing *atomic.Bool, remoteOK func(netip.Addr) bool) *negotiator {
	n := &negotiator{pc: pc, log: log, closing: closing, remoteOK: remoteOK}
	n.cand.deliver = onCandidate
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			n.cand.push(nil)
			return
		}
		init := c.ToJSON()
		n.cand.push(&init)
	})
	return n
}

// HandleOffer applies the other side's offer (initial, renegotiation, or ICE restart) and calls
// send with the answer, before any candidate gathered for it reaches OnCandidate. If the server
// had an offer of its own outstanding, it is rolled back (the server is the polite peer).
func (s *negotiator) HandleOffer(offer string, send func(answer string)) error {
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	if s.closing.Load() {
		return ErrClosed
	}
	if s.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		if err := s.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); err != nil {
			return fmt.Errorf("media: rollback: %w", err)
		}
	}
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: s.filterSDP(offer)}); err != nil {
		return fmt.Errorf("media: offer: %w", err)
	}
	s.flushPending()
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("media: answer: %w", err)
	}
	s.cand.hold()
	defer s.cand.release()
	if err := s.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("media: answer: %w", err)
	}
	send(answer.SDP)
	return nil
}

// CreateOffer makes a server offer — restarting ICE when restart is true, as asked by a client's
// webrtc.restart — and calls send with it before any candidate gathered for it reaches
// OnCandidate. The browser's webrtc.answer goes to HandleAnswer.
func (s *negotiator) CreateOffer(restart bool, send func(offer string)) error {
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	if s.closing.Load() {
		return ErrClosed
	}
	offer, err := s.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: restart})
	if err != nil {
		return fmt.Errorf("media: offer: %w", err)
	}
	s.cand.hold()
	defer s.cand.release()
	if err := s.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("media: offer: %w", err)
	}
	send(offer.SDP)
	return nil
}

// HandleAnswer applies the other side's answer to the server's offer.
func (s *negotiator) HandleAnswer(answer string) error {
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	if s.closing.Load() {
		return ErrClosed
	}
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: s.filterSDP(answer)}); err != nil {
		return fmt.Errorf("media: answer: %w", err)
	}
	s.flushPending()
	return nil
}

// AddCandidate adds a candidate trickled by the browser; an empty Candidate marks the end of its
// candidates. Candidates that arrive before the other side's offer are kept until it comes.
func (s *negotiator) AddCandidate(c webrtc.ICECandidateInit) error {
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	if s.closing.Load() {
		return ErrClosed
	}
	if !s.allowed(c.Candidate) {
		s.log.Debug("remote candidate outside the media networks ignored", "candidate", c.Candidate)
		return nil
	}
	if s.pc.RemoteDescription() == nil {
		if len(s.pending) >= 64 {
			return errors.New("media: too many candidates before the offer")
		}
		s.pending = append(s.pending, c)
		return nil
	}
	return s.pc.AddICECandidate(c)
}

// allowed says whether ICE may try a remote candidate ("candidate:F C udp P ADDR PORT typ …"):
// an address outside the configured networks is never contacted.
func (s *negotiator) allowed(cand string) bool {
	if s.remoteOK == nil || cand == "" {
		return true
	}
	f := strings.Fields(strings.TrimPrefix(cand, "a="))
	if len(f) < 6 {
		return true // malformed: pion refuses it
	}
	a, err := netip.ParseAddr(f[4])
	if err != nil {
		return false // an mDNS name or garbage: nothing here resolves it
	}
	return s.remoteOK(a)
}

// filterSDP removes candidate lines of a remote description that ICE may not try.
func (s *negotiator) filterSDP(sdp string) string {
	if s.remoteOK == nil || !strings.Contains(sdp, "a=candidate:") {
		return sdp
	}
	lines := strings.SplitAfter(sdp, "\n")
	out := lines[:0]
	for _, l := range lines {
		if strings.HasPrefix(l, "a=candidate:") && !s.allowed(strings.TrimSpace(l)) {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

func (s *negotiator) flushPending() {
	for _, c := range s.pending {
		if err := s.pc.AddICECandidate(c); err != nil {
			s.log.Debug("early candidate refused", "err", err)
		}
	}
	s.pending = nil
}

// candidateGate passes local candidates to the callback, holding them back while a description
// is being made and sent, and keeps their order.
type candidateGate struct {
	deliver   func(*webrtc.ICECandidateInit)
	mu        sync.Mutex
	held      bool
	queue     []*webrtc.ICECandidateInit
	deliverMu sync.Mutex
}

func (g *candidateGate) push(c *webrtc.ICECandidateInit) {
	if g.deliver == nil {
		return
	}
	g.mu.Lock()
	if g.held {
		g.queue = append(g.queue, c)
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	g.deliverMu.Lock()
	defer g.deliverMu.Unlock()
	g.deliver(c)
}

func (g *candidateGate) hold() {
	g.mu.Lock()
	g.held = true
	g.mu.Unlock()
}

func (g *candidateGate) release() {
	g.deliverMu.Lock()
	defer g.deliverMu.Unlock()
	g.mu.Lock()
	q := g.queue
	g.queue, g.held = nil, false
	g.mu.Unlock()
	if g.deliver == nil {
		return
	}
	for _, c := range q {
		g.deliver(c)
	}
}
