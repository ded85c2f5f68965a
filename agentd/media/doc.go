// Package media is the agents' softphone media path: one WebRTC peer connection per signed-in
// agent (pion), and an RTP relay between it and an Asterisk externalMedia channel (ulaw over
// RTP/UDP on loopback) for each call. PCMU end to end, no transcoding.
//
// # Pieces
//
//   - [Engine] (one per process, from [Config]): the pion API — PCMU only (payload type 0,
//     8 kHz), full ICE (never ICE-lite), mDNS off, host candidates on a UDP port range or one
//     shared port (Config.UDPMux), optional NAT 1:1 address rewrite (Config.PublicIPs),
//     interface and address filters, loopback candidates for tests. Close it last.
//   - [Session] (one per signed-in agent, [Engine.NewSession]): the agent's peer connection,
//     negotiated at sign-in and kept until sign-out, so answering a call needs no negotiation.
//   - [Leg] (one per call, [Session.Attach]): a UDP socket on 127.0.0.1 (Config.RelayIP) that
//     is externalMedia's external_host, relayed both ways until [Leg.Detach].
//   - [Client] ([Engine.NewClient]): the browser's side in Go, for the headless agent and
//     tests: offers, sends a PCMU tone or silence at 50 packets/s, detects received tones.
//   - Package tone: µ-law, sine frames and a Goertzel detector.
//
// # Signalling (over the agent WebSocket; see agentd/protocol/PROTOCOL.md)
//
// The browser offers, the server answers — a browser controls its own media and ICE restarts
// best this way:
//
//	webrtc.offer     → sess.HandleOffer(sdp, func(answer string) { send webrtc.answer (re = offer id) })
//	webrtc.candidate → sess.AddCandidate(webrtc.ICECandidateInit(*m))   ("" = end of candidates)
//	SessionConfig.OnCandidate(c) → send protocol.WebRTCCandidate(*c) (nil → {"candidate":""})
//	webrtc.restart   → sess.CreateOffer(true, func(offer string) { send webrtc.offer })
//	webrtc.answer    → sess.HandleAnswer(sdp)
//
// protocol.WebRTCCandidate and webrtc.ICECandidateInit convert into each other directly (a test
// keeps it so). The send functions are called before any candidate belonging to that description reaches
// OnCandidate, so if the server queues frames in order (one writer per connection) the browser
// never sees a candidate ahead of its description. Candidates that arrive before the offer are
// kept until it comes. A browser's ICE restart is just another webrtc.offer (with new ICE
// credentials). If the server's offer and the browser's cross, the server rolls its own back
// (polite peer). Callbacks must not block: hand frames to the connection's writer.
//
// # A call
//
//	leg, err := sess.Attach(callCtx, nil, media.OnFirstPacketToAgent(observeAcceptToAudio))
//	// create externalMedia with external_host = leg.LocalAddr().String(), format ulaw
//	leg.SetRemote(asteriskAddr) // UNICASTRTP_LOCAL_ADDRESS:UNICASTRTP_LOCAL_PORT of that channel
//	…
//	leg.Detach() // at hang-up (callCtx ending does it too)
//
// Asterisk → browser: packets from Asterisk's address (or, until SetRemote, the first source,
// latched) with payload type 0 are renumbered and written to the session's outgoing track;
// pion sets the SSRC and payload type it negotiated. Browser → Asterisk: the browser's PCMU
// packets are renumbered, given payload type 0 and the leg's own SSRC, stripped of header
// extensions, and sent to Asterisk's address; [Leg.SetMuted] replaces their audio with µ-law
// silence. Sequence numbers and timestamps are rewritten in both directions so each side sees
// one continuous stream across calls: within a stream the source's steps are kept; at a new
// call, a new SSRC, a jump, or when the source's clock lags the wall clock by more than 100 ms
// (Asterisk sends nothing while the other party is silent) the timestamp advances by the
// wall-clock time elapsed and the marker bit is set. Asterisk's stream is never the clock.
//
// # Failure
//
// When the peer connection fails (ICE timeout) or the browser closes it, SessionConfig.OnDead
// is called once, the attached leg is detached, and further Attach calls fail with ErrClosed:
// the server hangs up the externalMedia channel (Asterisk keeps it up forever otherwise), ends
// the call with reason media_failed, and makes a new Session when the browser renegotiates.
// OnDead is not called for the server's own Close.
//
// # Metrics
//
// [Session.Stats] and [Leg.Stats] count packets and bytes each way, the time of the last packet,
// and drops. [OnFirstPacketToAgent] and [Leg.FirstPacketToAgent] observe the first packet toward
// the agent after Attach.
//
// Measured on the project's 2-core machine (go test -bench . ./agentd/media): Attach → first
// packet toward the agent ≈ 60–70 µs; CPU for 50 concurrent relayed calls at 50 packets/s each
// way ≈ 0.6 % of one core per call, including both simulated far ends (an upper bound).
package media
