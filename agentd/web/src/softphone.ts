// Softphone: the browser's one RTCPeerConnection for the whole sign-in (PCMU only), negotiated
// over the agent WebSocket right after the welcome; calls come and go on it with no negotiation.
import type { Candidate, Envelope, ICEServer } from './protocol';

export type MediaStatus = 'none' | 'connecting' | 'connected' | 'failed';

export interface Signalling {
  request<T>(type: string, data: object): Promise<Envelope<T>>;
  post(type: string, data: object): void;
}

export interface SoftphoneOptions {
  signalling: Signalling;
  audio: () => HTMLAudioElement | null; // the speaker
  onStatus: (s: MediaStatus) => void;
  log?: (msg: string, err?: unknown) => void;
}

export class Softphone {
  private pc: RTCPeerConnection | null = null;
  private mic: MediaStream | null = null;
  private makingOffer = false;
  private sender: RTCRtpSender | null = null;
  private sending = false;
  private iceServers: ICEServer[] = [];

  constructor(private readonly opts: SoftphoneOptions) {}

  get connected(): boolean {
    return this.pc?.connectionState === 'connected';
  }

  // start opens the microphone (once) and negotiates a new peer connection.
  async start(iceServers: ICEServer[] = []): Promise<void> {
    this.iceServers = iceServers;
    this.stopPeer();
    this.opts.onStatus('connecting');
    try {
      if (!this.mic) {
        this.mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: false });
      }
      const pc = new RTCPeerConnection({ iceServers: this.iceServers as RTCIceServer[] });
      this.pc = pc;
      const [track] = this.mic.getAudioTracks();
      const tr = pc.addTransceiver(track, { direction: 'sendrecv', streams: [this.mic] });
      preferPCMU(tr);
      this.sender = tr.sender;
      if (!this.sending) await tr.sender.replaceTrack(null); // silent between calls
      pc.onicecandidate = (ev) => {
        if (pc !== this.pc) return;
        const c: Candidate = ev.candidate ? (ev.candidate.toJSON() as Candidate) : { candidate: '' };
        this.opts.signalling.post('webrtc.candidate', stripNulls(c));
      };
      pc.ontrack = (ev) => {
        if (pc !== this.pc) return;
        const el = this.opts.audio();
        if (el) el.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
      };
      pc.onconnectionstatechange = () => {
        if (pc !== this.pc) return;
        const st = pc.connectionState;
        if (st === 'connected') this.opts.onStatus('connected');
        else if (st === 'failed' || st === 'closed') this.opts.onStatus('failed');
        else if (st === 'connecting' || st === 'new') this.opts.onStatus('connecting');
      };
      pc.oniceconnectionstatechange = () => {
        if (pc === this.pc && (pc.iceConnectionState === 'failed' || pc.iceConnectionState === 'disconnected')) {
          void this.restart();
        }
      };
      await this.offer(pc, false);
    } catch (err) {
      this.opts.log?.('softphone', err);
      this.opts.onStatus('failed');
    }
  }

  private async offer(pc: RTCPeerConnection, restart: boolean): Promise<void> {
    this.makingOffer = true;
    try {
      if (restart) pc.restartIce();
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      const env = await this.opts.signalling.request<{ sdp: string }>('webrtc.offer', { sdp: pc.localDescription?.sdp ?? offer.sdp, ...(restart ? { restart: true } : {}) });
      if (pc !== this.pc) return;
      await pc.setRemoteDescription({ type: 'answer', sdp: env.data?.sdp ?? '' });
    } finally {
      this.makingOffer = false;
    }
  }

  // restart restarts ICE (the network changed); a dead connection is replaced instead.
  async restart(): Promise<void> {
    const pc = this.pc;
    if (!pc || this.makingOffer) return;
    if (pc.connectionState === 'closed' || pc.connectionState === 'failed') {
      await this.start(this.iceServers);
      return;
    }
    try {
      await this.offer(pc, true);
    } catch (err) {
      this.opts.log?.('ICE restart', err);
    }
  }

  // ensure renegotiates after a reconnect if the peer connection died meanwhile.
  async ensure(iceServers: ICEServer[] = []): Promise<void> {
    const st = this.pc?.connectionState;
    if (!this.pc || st === 'failed' || st === 'closed') await this.start(iceServers);
  }

  async candidate(c: Candidate): Promise<void> {
    if (!this.pc) return;
    try {
      await this.pc.addIceCandidate(c as RTCIceCandidateInit); // an empty candidate ends them
    } catch (err) {
      this.opts.log?.('candidate', err);
    }
  }

  // serverOffer answers the server's offer (after a webrtc.restart); ignored while ours is pending
  // (the server is the polite peer and rolls its own back).
  async serverOffer(sdp: string): Promise<void> {
    const pc = this.pc;
    if (!pc || this.makingOffer) return;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.opts.signalling.post('webrtc.answer', { sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' });
  }

  // setSending sends the microphone during calls only: between calls the browser sends no RTP
  // (the server would only decrypt and drop it); replacing the track needs no negotiation.
  async setSending(on: boolean): Promise<void> {
    this.sending = on;
    const track = on ? (this.mic?.getAudioTracks()[0] ?? null) : null;
    if (this.sender && this.sender.track !== track) {
      try {
        await this.sender.replaceTrack(track);
      } catch (err) {
        this.opts.log?.('microphone', err);
      }
    }
  }

  // play starts the speaker; browsers allow it after a click (answering the call is one).
  play(): void {
    this.opts.audio()?.play().catch((err) => this.opts.log?.('speaker', err));
  }

  private stopPeer(): void {
    this.sender = null;
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      pc.close();
    }
  }

  stop(): void {
    this.stopPeer();
    this.mic?.getTracks().forEach((t) => t.stop());
    this.mic = null;
    this.opts.onStatus('none');
  }
}

function preferPCMU(tr: RTCRtpTransceiver): void {
  const caps = typeof RTCRtpReceiver !== 'undefined' ? RTCRtpReceiver.getCapabilities?.('audio') : null;
  const pcmu = caps?.codecs.filter((c) => c.mimeType.toLowerCase() === 'audio/pcmu') ?? [];
  if (pcmu.length > 0 && typeof tr.setCodecPreferences === 'function') {
    try {
      tr.setCodecPreferences(pcmu);
    } catch {
      /* the server answers PCMU only anyway */
    }
  }
}

function stripNulls(c: Candidate): object {
  const out: Record<string, unknown> = { candidate: c.candidate };
  if (c.sdpMid != null) out.sdpMid = c.sdpMid;
  if (c.sdpMLineIndex != null) out.sdpMLineIndex = c.sdpMLineIndex;
  if (c.usernameFragment != null) out.usernameFragment = c.usernameFragment;
  return out;
}
