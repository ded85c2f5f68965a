// The page's state, derived from the server's messages by a pure reducer (tested without a DOM).
import type { ConnStatus } from './client';
import type {
  ActiveCall,
  Agent,
  Envelope,
  Offer,
  ProtocolError,
  StateInfo,
  WrapupInfo,
  Welcome,
} from './protocol';
import type { MediaStatus } from './softphone';

export interface CallView extends ActiveCall {
  offer?: Offer; // the screen-pop it came with (absent after a resume on a new page)
}

export interface WrapupView extends WrapupInfo {
  offer?: Offer;
}

// Announcement is what the live region says: a message key and its values, with a counter so the
// same message twice is announced twice.
export interface Announcement {
  key: string;
  params: Record<string, string>;
  seq: number;
}

export interface UIState {
  conn: ConnStatus;
  closeCode?: number;
  media: MediaStatus;
  agent?: Agent;
  state?: StateInfo;
  offer?: Offer;
  offerAt?: number; // when the offer arrived (ms, the page's clock)
  accepting?: string; // offer id being accepted
  call?: CallView;
  wrapup?: WrapupView;
  lastOffer?: Offer; // the offer of the call in progress or last ended
  announcement?: Announcement;
  error?: ProtocolError;
}

export const initialState: UIState = { conn: 'offline', media: 'none' };

export type Action =
  | { kind: 'server'; env: Envelope; now: number }
  | { kind: 'conn'; status: ConnStatus; code?: number }
  | { kind: 'media'; status: MediaStatus }
  | { kind: 'accepting'; offerId?: string }
  | { kind: 'error'; error?: ProtocolError }
  | { kind: 'muted'; callId: string; on: boolean }
  | { kind: 'reset' };

function announce(s: UIState, key: string, params: Record<string, string> = {}): Announcement {
  return { key, params, seq: (s.announcement?.seq ?? 0) + 1 };
}

export function callerText(c: { number?: string; withheld?: boolean }): string {
  return c.withheld || !c.number ? '—' : c.number;
}

export function reduce(s: UIState, a: Action): UIState {
  switch (a.kind) {
    case 'reset':
      return { ...initialState, announcement: s.announcement };
    case 'conn':
      return { ...s, conn: a.status, closeCode: a.code };
    case 'media':
      return { ...s, media: a.status };
    case 'accepting':
      return { ...s, accepting: a.offerId };
    case 'error':
      return { ...s, error: a.error, announcement: a.error ? announce(s, 'error', { message: a.error.message }) : s.announcement };
    case 'muted':
      return setMuted(s, a.callId, a.on);
    case 'server':
      return server(s, a.env, a.now);
  }
}

function server(s: UIState, env: Envelope, now: number): UIState {
  const d = env.data as never;
  switch (env.type) {
    case 'welcome': {
      const w = d as Welcome;
      const out: UIState = { ...s, agent: w.agent, state: w.state, error: undefined };
      if (w.resumed) {
        out.call = w.call ? { ...w.call, offer: s.lastOffer?.call_id === w.call.call_id ? s.lastOffer : undefined } : undefined;
        out.wrapup = w.wrapup ? { ...w.wrapup, offer: s.lastOffer?.call_id === w.wrapup.call_id ? s.lastOffer : undefined } : undefined;
      } else {
        out.call = undefined;
        out.wrapup = undefined;
      }
      out.offer = undefined; // an offer outstanding at a drop went to someone else
      out.accepting = undefined;
      return out;
    }
    case 'state':
      return { ...s, state: d as StateInfo };
    case 'offer': {
      const o = d as Offer;
      return {
        ...s,
        offer: o,
        offerAt: now,
        lastOffer: o,
        error: undefined,
        announcement: announce(s, 'announceOffer', { ticket: o.ticket.number, caller: callerText(o.caller), queue: o.queue }),
      };
    }
    case 'offer.cancelled': {
      const c = d as { offer_id: string; reason: string };
      if (s.offer?.offer_id !== c.offer_id && s.accepting !== c.offer_id) return s;
      return { ...s, offer: undefined, accepting: undefined, announcement: announce(s, 'announceCancelled', { reason: c.reason }) };
    }
    case 'call.connected': {
      const c = d as { call_id: string; offer_id: string; at: string };
      const o = s.offer?.offer_id === c.offer_id ? s.offer : s.lastOffer?.offer_id === c.offer_id ? s.lastOffer : undefined;
      const call: CallView = {
        call_id: c.call_id,
        ticket_number: o?.ticket.number ?? '',
        caller: o?.caller ?? {},
        queue: o?.queue ?? '',
        connected_at: c.at,
        offer: o,
      };
      return { ...s, call, offer: undefined, accepting: undefined, announcement: announce(s, 'announceConnected', { caller: callerText(call.caller) }) };
    }
    case 'call.held':
    case 'call.resumed': {
      const c = d as { call_id: string };
      if (s.call?.call_id !== c.call_id) return s;
      const held = env.type === 'call.held';
      return { ...s, call: { ...s.call, held }, announcement: announce(s, held ? 'announceHeld' : 'announceResumed') };
    }
    case 'call.record_paused':
    case 'call.record_resumed': {
      const c = d as { call_id: string };
      if (s.call?.call_id !== c.call_id) return s;
      const paused = env.type === 'call.record_paused';
      return { ...s, call: { ...s.call, recording_paused: paused }, announcement: announce(s, paused ? 'announceRecordPaused' : 'announceRecordResumed') };
    }
    case 'call.ended': {
      const c = d as { call_id: string; reason: string };
      if (s.call?.call_id !== c.call_id) return s;
      return { ...s, call: undefined, lastOffer: s.call.offer ?? s.lastOffer, announcement: announce(s, 'announceEnded', { reason: c.reason }) };
    }
    case 'wrapup.started': {
      const w = d as WrapupInfo;
      const o = s.lastOffer?.call_id === w.call_id ? s.lastOffer : undefined;
      return { ...s, wrapup: { ...w, offer: o }, announcement: announce(s, 'announceWrapup', { ticket: w.ticket_number }) };
    }
    case 'wrapup.ended': {
      const w = d as { call_id: string; reason: string };
      if (s.wrapup?.call_id !== w.call_id) return s;
      return { ...s, wrapup: undefined, announcement: announce(s, 'announceWrapupEnded', { reason: w.reason }) };
    }
    case 'error': {
      const e = d as ProtocolError;
      return { ...s, error: e, announcement: announce(s, 'error', { message: e.message }) };
    }
    default:
      return s;
  }
}

// setMuted records the agent's own mute (the server only acks it).
export function setMuted(s: UIState, callId: string, muted: boolean): UIState {
  if (s.call?.call_id !== callId) return s;
  return { ...s, call: { ...s.call, muted } };
}

// recordToggle is the pause/resume recording button of the call in progress: the request it sends
// and its label (the caller dictates sensitive data: the agent pauses, then resumes).
export function recordToggle(c: { recording_paused?: boolean }): { type: 'call.record_pause' | 'call.record_resume'; label: string } {
  return c.recording_paused ? { type: 'call.record_resume', label: 'recordResume' } : { type: 'call.record_pause', label: 'recordPause' };
}

// mmss formats a duration in milliseconds as m:ss.
export function mmss(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
}
