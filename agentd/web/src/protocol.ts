// The agent protocol's types (agentd/protocol/PROTOCOL.md is the reference).

export const VERSION = 1;

export type AgentState = 'available' | 'paused' | 'offline' | 'offered' | 'on_call' | 'wrapup';

export interface Envelope<T = unknown> {
  v: number;
  type: string;
  id?: string;
  re?: string;
  data?: T;
}

export interface StateInfo {
  state: AgentState;
  reason?: string;
  since: string;
}

export interface Agent {
  id: string;
  name: string;
  roles: string[];
}

export interface Caller {
  number?: string;
  withheld?: boolean;
}

export interface Ticket {
  number: string;
  kind: string;
  status: string;
  channel: string;
  category?: string;
  unit?: string;
  summary?: string;
  created_at: string;
  fields?: Record<string, string>;
}

export interface TicketSummary {
  number: string;
  kind: string;
  status: string;
  category?: string;
  summary?: string;
  created_at: string;
}

export interface IVRStep {
  node: string;
  label: string;
  digits?: string;
}

export interface Article {
  id: string;
  title: string;
}

export interface Offer {
  offer_id: string;
  call_id: string;
  queue: string;
  expires_at: string;
  caller: Caller;
  language: string;
  waited_ms: number;
  ticket: Ticket;
  recent_tickets: TicketSummary[];
  ivr_path: IVRStep[];
  articles: Article[];
  /** A callback being dialled for this agent: no answer/reject; call.connected follows when the resident answers. */
  callback?: { number: string; attempt: number };
}

export interface ActiveCall {
  call_id: string;
  ticket_number: string;
  caller: Caller;
  queue: string;
  connected_at: string;
  held?: boolean;
  muted?: boolean;
  recording_paused?: boolean; // the agent paused the call's recording (call.record_pause)
}

export interface WrapupInfo {
  call_id: string;
  ticket_number: string;
  deadline: string;
}

export interface ICEServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface Welcome {
  protocol: number;
  server: string;
  session: string;
  resume_token: string;
  resumed?: boolean;
  agent: Agent;
  state: StateInfo;
  ping_interval_ms: number;
  grace_ms: number;
  ice_servers?: ICEServer[];
  call?: ActiveCall;
  wrapup?: WrapupInfo;
}

export interface ProtocolError {
  code: string;
  message: string;
  field?: string;
}

export interface TicketUpdate {
  kind: 'information' | 'intervention';
  category: string;
  unit?: string;
  notes?: string;
  articles?: string[];
}

export interface WrapupSubmit {
  call_id: string;
  update?: TicketUpdate;
  link?: { number: string; notes?: string };
}

export interface Candidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

// Close codes (PROTOCOL.md, "Close codes").
export const Close = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  replaced: 4000,
  unauthorized: 4001,
  badVersion: 4002,
  helloTimeout: 4003,
  pingTimeout: 4004,
  tooManyErrors: 4005,
} as const;

// After these the client does not reconnect by itself.
export const finalCloseCodes: ReadonlySet<number> = new Set([
  Close.normal,
  Close.policy,
  Close.replaced,
  Close.unauthorized,
  Close.badVersion,
]);

// RequestError is a request refused by the server (an "error" reply) or lost with the socket.
export class RequestError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly field?: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}
