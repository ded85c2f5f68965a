package media

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
)

// SessionConfig holds a Session's callbacks. They are called from pion's goroutines (or the
// caller's, for candidates held back during a negotiation) and must not block.
type SessionConfig struct {
	// OnCandidate receives each local ICE candidate to send to the browser as webrtc.candidate;
	// nil means gathering is complete (send {"candidate":""}). Candidates found while HandleOffer
	// or CreateOffer runs are passed on only after its send function has returned, so the server
	// never sends a candidate ahead of the description it belongs to.
	OnCandidate func(*webrtc.ICECandidateInit)
	// OnDead is called once when the peer connection fails or the browser closes it (not after
	// Close). The server hangs up the agent's externalMedia channel and ends the call.
	OnDead func(error)
	// OnStateChange, optional, sees every peer-connection state (for logs and metrics).
	OnStateChange func(webrtc.PeerConnectionState)
	// Logger, optional, gets the session's own logs; it defaults to the Engine's.
	Logger *slog.Logger
}

// Session is one signed-in agent's softphone: a peer connection negotiated at sign-in and kept
// until sign-out, with one outgoing PCMU track (toward the browser) and the browser's incoming
// track. Calls come and go with Attach/Detach; sequence numbers and timestamps continue across
// them. All methods are safe for concurrent use.
type Session struct {
	*negotiator // pc, log, signalling
	track       *webrtc.TrackLocalStaticRTP
	engine      *Engine
	cfg         SessionConfig

	mu      sync.Mutex // serialises Attach, Detach's bookkeeping and Close
	leg     atomic.Pointer[Leg]
	legs    uint64      // legs attached so far
	closing atomic.Bool // Close was called
	isDead  atomic.Bool
	dead    sync.Once

	toAgent   rewriter // owned by the current leg's reader goroutine
	fromAgent rewriter // owned by the browser-track reader goroutine
	stats     counters
	wg        sync.WaitGroup
}

// NewSession creates the peer connection of one agent's softphone. Negotiate it with
// HandleOffer (the browser offers; recommended) or CreateOffer/HandleAnswer.
func (e *Engine) NewSession(cfg SessionConfig) (*Session, error) {
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("media: new peer connection: %w", err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(PCMU, "audio", "kontakt")
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = e.log
	}
	s := &Session{track: track, engine: e, cfg: cfg}
	s.negotiator = newNegotiator(pc, cfg.OnCandidate, log, &s.closing, e.remoteOK)
	pc.OnConnectionStateChange(s.onState)
	pc.OnTrack(func(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if remote.Kind() != webrtc.RTPCodecTypeAudio {
			return
		}
		s.wg.Add(1)
		go s.readAgent(remote)
	})
	// Read RTCP from the browser so pion's interceptors see receiver reports.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	return s, nil
}

func (s *Session) onState(st webrtc.PeerConnectionState) {
	if s.cfg.OnStateChange != nil {
		s.cfg.OnStateChange(st)
	}
	if s.closing.Load() {
		return
	}
	switch st {
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		s.dead.Do(func() {
			s.isDead.Store(true)
			s.log.Info("softphone connection died", "state", st.String())
			if l := s.leg.Load(); l != nil {
				go l.Detach() // Detach waits for the relay goroutine; not on pion's
			}
			if s.cfg.OnDead != nil {
				s.cfg.OnDead(fmt.Errorf("media: peer connection %s", st))
			}
			if st == webrtc.PeerConnectionStateFailed {
				go func() { _ = s.pc.Close() }()
			}
		})
	}
}

// State returns the peer connection's state.
func (s *Session) State() webrtc.PeerConnectionState { return s.pc.ConnectionState() }

// Close detaches the current call and closes the peer connection (sign-out). OnDead is not
// called. Close waits for the session's goroutines and is idempotent.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closing.Swap(true) {
		s.mu.Unlock()
		return nil
	}
	leg := s.leg.Load()
	s.mu.Unlock()
	if leg != nil {
		leg.Detach()
	}
	err := s.pc.GracefulClose()
	s.wg.Wait()
	return err
}
