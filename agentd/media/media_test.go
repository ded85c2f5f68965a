package media

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestRelayBothWays: the caller (fake Asterisk) plays 440 Hz, the agent (client) 1 kHz; each
// hears the other's tone through the relay.
func TestRelayBothWays(t *testing.T) {
	e := newEngine(t, loopback)
	p := connect(t, e)
	p.c.Play(1000)
	ast := newFakeAsterisk(t, 440)

	firstHook := make(chan time.Duration, 1)
	leg, err := p.s.Attach(context.Background(), ast.addr(), OnFirstPacketToAgent(func(d time.Duration) { firstHook <- d }))
	if err != nil {
		t.Fatal(err)
	}
	if got := leg.LocalAddr().IP.String(); got != "127.0.0.1" {
		t.Errorf("relay socket on %s, want 127.0.0.1", got)
	}
	ast.start(leg.LocalAddr())

	ctx := timeout(t, 10*time.Second)
	if err := p.c.WaitTone(ctx, 440, 0.8); err != nil {
		t.Error(err)
	}
	if err := ast.waitTone(ctx, 1000); err != nil {
		t.Error(err)
	}
	select {
	case d := <-firstHook:
		t.Logf("attach → first packet toward the agent: %v", d)
	case <-ctx.Done():
		t.Error("first-packet hook not called")
	}
	select {
	case <-leg.FirstPacketToAgent():
	default:
		t.Error("FirstPacketToAgent not closed")
	}
	// Asterisk gets PCMU (PT 0) under the relay's own SSRC.
	ast.mu.Lock()
	h := ast.headers[len(ast.headers)-1]
	ast.mu.Unlock()
	if h.PayloadType != 0 || h.SSRC != leg.outSSRC || h.Extension {
		t.Errorf("to Asterisk: pt=%d ssrc=%d ext=%v", h.PayloadType, h.SSRC, h.Extension)
	}
	st := leg.Stats()
	if st.ToAgent.Packets == 0 || st.FromAgent.Packets == 0 || st.ToAgent.Bytes < 172*st.ToAgent.Packets || st.ToAgent.Last.IsZero() {
		t.Errorf("leg stats %+v", st)
	}
	leg.Detach()
	leg.Detach() // idempotent
	if p.s.Attached() != nil {
		t.Error("still attached after Detach")
	}
	if ss := p.s.Stats(); ss.ToAgent.Packets < st.ToAgent.Packets {
		t.Errorf("session stats %+v < leg stats %+v", ss, st)
	}
}

// TestMute: a muted agent's packets reach Asterisk as silence.
func TestMute(t *testing.T) {
	e := newEngine(t, loopback)
	p := connect(t, e)
	p.c.Play(1000)
	ast := newFakeAsterisk(t, 440)
	leg, err := p.s.Attach(context.Background(), ast.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Detach()
	ctx := timeout(t, 10*time.Second)
	if err := ast.waitTone(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	leg.SetMuted(true)
	before := leg.Stats().FromAgent.Packets
	for leg.Stats().FromAgent.Packets < before+15 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	ast.mu.Lock()
	tail := ast.pcm[len(ast.pcm)-160*5:]
	var peak int16
	for _, s := range tail {
		peak = max(peak, s, -s)
	}
	ast.mu.Unlock()
	if peak != 0 {
		t.Errorf("muted audio peaks at %d, want silence", peak)
	}
}

// TestContinuityAcrossCalls: two calls with different Asterisk streams (random SSRC, sequence
// and timestamp bases), a silence between them and a silence inside the second during which the
// source clock stands still; the agent sees one stream whose sequence numbers step by one and
// whose timestamps grow with the wall clock.
func TestContinuityAcrossCalls(t *testing.T) {
	e := newEngine(t, loopback)
	p := connect(t, e)

	type mark struct {
		at  time.Time
		seq int
	}
	runCall := func(pause bool) {
		ast := newFakeAsterisk(t, 440)
		leg, err := p.s.Attach(context.Background(), ast.addr())
		if err != nil {
			t.Fatal(err)
		}
		ast.target = leg.LocalAddr()
		for i := 0; i < 10; i++ {
			ast.sendOne()
			time.Sleep(20 * time.Millisecond)
		}
		if pause {
			time.Sleep(300 * time.Millisecond)
			// The fake's clock advances only when it sends: like Asterisk's, it stood still.
			for i := 0; i < 10; i++ {
				ast.sendOne()
				time.Sleep(20 * time.Millisecond)
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		want := uint64(10)
		if pause {
			want = 20
		}
		for leg.Stats().ToAgent.Packets < want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		leg.Detach()
		ast.close()
	}
	runCall(false)
	time.Sleep(500 * time.Millisecond) // silence between calls
	runCall(true)

	deadline := time.Now().Add(5 * time.Second)
	for len(p.headers()) < 30 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	hs := p.headers()
	if len(hs) != 30 {
		t.Fatalf("client received %d packets, want 30", len(hs))
	}
	for i := 1; i < len(hs); i++ {
		if d := hs[i].SequenceNumber - hs[i-1].SequenceNumber; d != 1 {
			t.Errorf("packet %d: sequence step %d", i, d)
		}
		if hs[i].SSRC != hs[0].SSRC {
			t.Errorf("packet %d: SSRC changed", i)
		}
		d := int32(hs[i].Timestamp - hs[i-1].Timestamp)
		switch {
		case i == 10: // ~500 ms between calls
			if d < 4000 || !hs[i].Marker {
				t.Errorf("between calls: timestamp step %d (marker %v), want ≥ 4000 with the marker bit", d, hs[i].Marker)
			}
		case i == 20: // ~300 ms of silence with the source clock standing still
			if d < 2400 || !hs[i].Marker {
				t.Errorf("after the silence: timestamp step %d (marker %v), want ≥ 2400 with the marker bit", d, hs[i].Marker)
			}
		case d != 160 && !(d > 160 && hs[i].Marker):
			// Anything else is a 20 ms step, or a packet the test's own scheduling delayed by
			// more than the resync threshold (seen under -race), which is marked as a gap.
			t.Errorf("packet %d: timestamp step %d (marker %v)", i, d, hs[i].Marker)
		}
	}
}

// TestAttachRules: one call at a time, remote latching, source filtering, ctx ends the call,
// no Attach after Close.
func TestAttachRules(t *testing.T) {
	e := newEngine(t, loopback)
	p := connect(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	leg, err := p.s.Attach(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.s.Attach(context.Background(), nil); !errors.Is(err, ErrAttached) {
		t.Errorf("second Attach: %v, want ErrAttached", err)
	}
	// With no remote given, the first source is latched and the browser's audio goes there.
	ast := newFakeAsterisk(t, 440)
	p.c.Play(1000)
	ast.start(leg.LocalAddr())
	if err := ast.waitTone(timeout(t, 10*time.Second), 1000); err != nil {
		t.Error(err)
	}
	// Another source is not relayed.
	intruder := newFakeAsterisk(t, 2000)
	intruder.target = leg.LocalAddr()
	before := leg.Stats().Dropped
	for i := 0; i < 5; i++ {
		intruder.sendOne()
	}
	deadline := time.Now().Add(5 * time.Second)
	for leg.Stats().Dropped < before+5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if leg.Stats().Dropped < before+5 {
		t.Error("packets from a second source were not dropped")
	}
	cancel() // the call's context ends: the leg detaches itself
	select {
	case <-leg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("leg not detached when ctx ended")
	}
	deadline = time.Now().Add(5 * time.Second)
	for p.s.Attached() != nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := p.s.Attach(context.Background(), ast.addr()); err != nil {
		t.Errorf("Attach after detach: %v", err)
	}
	_ = p.s.Close()
	if _, err := p.s.Attach(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Attach after Close: %v, want ErrClosed", err)
	}
}

// TestOnDead: the browser closing its peer connection fires OnDead and detaches the call.
func TestOnDead(t *testing.T) {
	e := newEngine(t, loopback)
	p := connect(t, e)
	ast := newFakeAsterisk(t, 440)
	leg, err := p.s.Attach(context.Background(), ast.addr())
	if err != nil {
		t.Fatal(err)
	}
	_ = p.c.Close()
	select {
	case err := <-p.dead:
		t.Logf("OnDead: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatalf("OnDead not called; server state %s", p.s.State())
	}
	select {
	case <-leg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("leg not detached after the connection died")
	}
	if _, err := p.s.Attach(context.Background(), ast.addr()); !errors.Is(err, ErrClosed) {
		t.Errorf("Attach on a dead session: %v, want ErrClosed", err)
	}
}

// TestOnDeadNotAfterClose: the server's own Close does not report the session dead.
func TestOnDeadNotAfterClose(t *testing.T) {
	e := newEngine(t, loopback)
	p := connect(t, e)
	_ = p.s.Close()
	select {
	case err := <-p.dead:
		t.Errorf("OnDead after Close: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestICERestart: the client restarts ICE (as a browser does on a network change) and media
// keeps flowing; then the server-initiated restart (client's webrtc.restart) works too.
func TestICERestart(t *testing.T) {
	e := newEngine(t, loopback)
	p := connect(t, e)
	ast := newFakeAsterisk(t, 440)
	leg, err := p.s.Attach(context.Background(), ast.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Detach()
	ast.start(leg.LocalAddr())
	ctx := timeout(t, 20*time.Second)
	if err := p.c.WaitTone(ctx, 440, 0.8); err != nil {
		t.Fatal(err)
	}
	ufrag := func() string { return p.s.pc.RemoteDescription().SDP }
	before := ufrag()

	if err := p.c.RestartICE(p.sendOffer(t)); err != nil {
		t.Fatal(err)
	}
	waitFlowing := func(what string) {
		t.Helper()
		n := p.c.Received()
		for p.c.Received() < n+25 && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		if ctx.Err() != nil {
			t.Fatalf("%s: media stopped (client %s, server %s)", what, p.c.State(), p.s.State())
		}
		if err := p.c.WaitTone(ctx, 440, 0.8); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	waitFlowing("client restart")
	if ufrag() == before {
		t.Error("client restart did not change the remote description")
	}

	// Server-initiated: the server offers with new ICE credentials, the client answers.
	local := p.s.pc.LocalDescription().SDP
	err = p.s.CreateOffer(true, func(offer string) {
		p.toClient.push(func() {
			if err := p.c.HandleOffer(offer, func(answer string) {
				p.toServer.push(func() {
					if err := p.s.HandleAnswer(answer); err != nil {
						t.Errorf("server HandleAnswer: %v", err)
					}
				})
			}); err != nil {
				t.Errorf("client HandleOffer: %v", err)
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFlowing("server restart")
	if p.s.pc.LocalDescription().SDP == local {
		t.Error("server restart did not change the local description")
	}
	for p.s.State() != webrtc.PeerConnectionStateConnected && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if st := p.s.State(); st != webrtc.PeerConnectionStateConnected {
		t.Errorf("server state %s after the restart", st)
	}
}

// TestUDPMux: with a single-port mux every agent's ICE uses that one port.
func TestUDPMux(t *testing.T) {
	cfg := loopback
	cfg.UDPMux = "127.0.0.1:0"
	e := newEngine(t, cfg)
	ce := newEngine(t, loopback) // the browsers are elsewhere, not on the mux
	port := e.MuxAddr().String()
	for i := 0; i < 2; i++ {
		p := dial(t, e, ce)
		t.Cleanup(p.close)
		pair, err := p.s.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			t.Fatalf("no selected pair: %v", err)
		}
		if got := net.JoinHostPort(pair.Local.Address, strconv.Itoa(int(pair.Local.Port))); got != port {
			t.Errorf("agent %d: local candidate %s, want the mux %s", i, got, port)
		}
	}
}

// TestSDPIsPCMUOnly: the answer negotiates PCMU and nothing else, with full ICE.
func TestSDPIsPCMUOnly(t *testing.T) {
	e := newEngine(t, loopback)
	p := connect(t, e)
	sdp := p.s.pc.LocalDescription().SDP
	for _, bad := range []string{"opus", "a=ice-lite", "G722", "telephone-event"} {
		if strings.Contains(sdp, bad) {
			t.Errorf("answer contains %q:\n%s", bad, sdp)
		}
	}
	if !strings.Contains(sdp, "PCMU/8000") {
		t.Errorf("answer lacks PCMU/8000:\n%s", sdp)
	}
}

// TestNoGoroutineLeak: after every session, client, leg and engine is closed, the goroutine
// count returns to where it was.
func TestNoGoroutineLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		e, err := New(loopback)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		p := dial(t, e, e)
		ast := newFakeAsterisk(t, 440)
		leg, err := p.s.Attach(context.Background(), ast.addr())
		if err != nil {
			t.Fatal(err)
		}
		ast.start(leg.LocalAddr())
		p.c.Play(1000)
		if err := p.c.WaitTone(timeout(t, 10*time.Second), 440, 0.8); err != nil {
			t.Fatal(err)
		}
		ast.close()
		p.close()
	}()
	deadline := time.Now().Add(10 * time.Second)
	n := runtime.NumGoroutine()
	for n > base && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > base {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// TestPublicIPs: with NAT 1:1 the server advertises the public address instead of its own. The
// answer is never given to the client, so nothing is sent to the (documentation) address.
func TestPublicIPs(t *testing.T) {
	cfg := loopback
	cfg.PublicIPs = []string{"203.0.113.7"}
	e := newEngine(t, cfg)
	ce := newEngine(t, loopback)
	got := make(chan string, 16)
	s, err := e.NewSession(SessionConfig{OnCandidate: func(c *webrtc.ICECandidateInit) {
		if c != nil {
			got <- c.Candidate
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := ce.NewClient(ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var offer string
	if err := c.Offer(func(sdp string) { offer = sdp }); err != nil {
		t.Fatal(err)
	}
	if err := s.HandleOffer(offer, func(string) {}); err != nil {
		t.Fatal(err)
	}
	select {
	case cand := <-got:
		if !strings.Contains(cand, " 203.0.113.7 ") || strings.Contains(cand, "127.0.0.1") {
			t.Errorf("candidate %q does not advertise the public IP", cand)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no candidate")
	}
}

// With networks configured, ICE never tries a remote address outside them: such candidates,
// trickled or in the description, are dropped.
func TestRemoteCandidatesOutsideTheNetworksAreDropped(t *testing.T) {
	e, err := New(Config{IncludeLoopback: true, Networks: []string{"10.77.0.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	n := &negotiator{remoteOK: e.remoteOK}
	for cand, want := range map[string]bool{
		"candidate:1 1 udp 2122260223 10.77.0.2 50000 typ host":               true,
		"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host":               true,
		"candidate:2 1 udp 2122260223 192.0.2.2 50000 typ host":               false,
		"candidate:3 1 udp 2122260223 abc-def.local 50000 typ host":           false,
		"a=candidate:2 1 udp 2122260223 198.51.100.7 50000 typ srflx raddr 0": false,
		"": true,
	} {
		if got := n.allowed(cand); got != want {
			t.Errorf("%q: allowed %v, want %v", cand, got, want)
		}
	}
	sdp := "v=0\r\na=candidate:1 1 udp 1 10.77.0.2 5 typ host\r\na=candidate:2 1 udp 1 192.0.2.2 5 typ host\r\na=end-of-candidates\r\n"
	got := n.filterSDP(sdp)
	if strings.Contains(got, "192.0.2.2") || !strings.Contains(got, "10.77.0.2") || !strings.Contains(got, "end-of-candidates") {
		t.Fatalf("filtered SDP:\n%s", got)
	}
	all := &negotiator{}
	if !all.allowed("candidate:2 1 udp 2122260223 192.0.2.2 50000 typ host") {
		t.Fatal("without networks every candidate is allowed")
	}
}
