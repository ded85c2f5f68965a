package media

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"kontakt/agentd/media/tone"
)

// ClientConfig holds a Client's callbacks; like SessionConfig's they must not block.
type ClientConfig struct {
	// OnCandidate receives the client's ICE candidates for the server (nil: gathering done).
	OnCandidate func(*webrtc.ICECandidateInit)
	// OnStateChange, optional, sees every peer-connection state.
	OnStateChange func(webrtc.PeerConnectionState)
	// OnRTP, optional, sees every RTP packet received from the server (from the reader
	// goroutine; payload is only valid during the call).
	OnRTP func(h *rtp.Header, payload []byte, at time.Time)
	// Logger, optional.
	Logger *slog.Logger
}

// Client is the browser's end of a softphone written in Go, for the headless agent and for
// tests: it offers (or answers) over the same signalling as a browser, sends a continuous PCMU
// stream at 50 packets/s — a sine tone chosen with Play, or silence — from the moment it is
// connected, and keeps the last second of received audio for tone detection.
type Client struct {
	*negotiator // pc, signalling
	track       *webrtc.TrackLocalStaticSample
	cfg         ClientConfig
	gen         atomic.Pointer[tone.Sine]
	closing     atomic.Bool
	stop        chan struct{}
	wg          sync.WaitGroup

	mu       sync.Mutex
	ring     [tone.SampleRate]int16 // the last second received
	ringPos  int
	received uint64
}

// NewClient creates a client peer connection with the Engine's settings. Call Offer (as a
// browser does) and pass the server's answer to HandleAnswer.
func (e *Engine) NewClient(cfg ClientConfig) (*Client, error) {
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("media: new peer connection: %w", err)
	}
	track, err := webrtc.NewTrackLocalStaticSample(PCMU, "audio", "agent")
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		_ = pc.Close()
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = e.log
	}
	c := &Client{track: track, cfg: cfg, stop: make(chan struct{})}
	c.negotiator = newNegotiator(pc, cfg.OnCandidate, log, &c.closing, e.remoteOK)
	if cfg.OnStateChange != nil {
		pc.OnConnectionStateChange(cfg.OnStateChange)
	}
	pc.OnTrack(func(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		c.wg.Add(1)
		go c.receive(remote)
	})
	c.wg.Add(1)
	go c.send()
	return c, nil
}

// Offer makes the initial offer and calls send with it (then candidates follow).
func (c *Client) Offer(send func(offer string)) error { return c.CreateOffer(false, send) }

// RestartICE makes an offer that restarts ICE, as a browser does after a network change.
func (c *Client) RestartICE(send func(offer string)) error { return c.CreateOffer(true, send) }

// Play sends a sine tone of freq Hz at half of full scale from now on; 0 sends silence.
func (c *Client) Play(freq float64) {
	if freq == 0 {
		c.gen.Store(nil)
		return
	}
	c.gen.Store(tone.NewSine(freq, 0.5))
}

func (c *Client) send() {
	defer c.wg.Done()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	frame := make([]byte, tone.FrameSamples)
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if g := c.gen.Load(); g != nil {
			g.Frame(frame)
		} else {
			for i := range frame {
				frame[i] = tone.Silence
			}
		}
		// Before the connection is up, and after it fails, the write is dropped by pion.
		_ = c.track.WriteSample(pmedia.Sample{Data: frame, Duration: 20 * time.Millisecond})
	}
}

func (c *Client) receive(remote *webrtc.TrackRemote) {
	defer c.wg.Done()
	for {
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			return
		}
		now := time.Now()
		if c.cfg.OnRTP != nil {
			c.cfg.OnRTP(&pkt.Header, pkt.Payload, now)
		}
		c.mu.Lock()
		c.received++
		for _, u := range pkt.Payload {
			c.ring[c.ringPos] = tone.Decode(u)
			c.ringPos = (c.ringPos + 1) % len(c.ring)
		}
		c.mu.Unlock()
	}
}

// Received returns the number of RTP packets received so far.
func (c *Client) Received() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.received
}

// Tone returns the dominant frequency (100–3900 Hz, 10 Hz steps) of the last window of received
// audio (at most 1 s) and its share of the energy (see tone.Strength).
func (c *Client) Tone(window time.Duration) (freq, strength float64) {
	n := min(int(window/(time.Second/tone.SampleRate)), len(c.ring))
	buf := make([]int16, n)
	c.mu.Lock()
	for i := range n {
		buf[i] = c.ring[(c.ringPos-n+i+len(c.ring))%len(c.ring)]
	}
	c.mu.Unlock()
	return tone.Dominant(buf, 100, 3900, 10)
}

// WaitTone waits until the last 200 ms received are a tone of freq Hz (±10 Hz) holding at least
// minStrength of the energy, or ctx ends.
func (c *Client) WaitTone(ctx context.Context, freq, minStrength float64) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var f, s float64
	for {
		if f, s = c.Tone(200 * time.Millisecond); f >= freq-10 && f <= freq+10 && s >= minStrength {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("media: no %v Hz tone (last: %v Hz, strength %.2f): %w", freq, f, s, ctx.Err())
		case <-t.C:
		}
	}
}

// State returns the peer connection's state.
func (c *Client) State() webrtc.PeerConnectionState { return c.pc.ConnectionState() }

// Close closes the peer connection (the server's OnDead fires) and waits for the client's
// goroutines.
func (c *Client) Close() error {
	if c.closing.Swap(true) {
		return nil
	}
	close(c.stop)
	err := c.pc.GracefulClose()
	c.wg.Wait()
	return err
}
