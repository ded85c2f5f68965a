// AgentClient speaks the agent protocol over one WebSocket: hello/welcome with the resume token,
// requests with ids and their replies, keep-alive pings, and reconnects with back-off.
import {
  Close,
  type Envelope,
  type ProtocolError,
  RequestError,
  VERSION,
  type Welcome,
  finalCloseCodes,
} from './protocol';

export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface Timers {
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
  setInterval(f: () => void, ms: number): unknown;
  clearInterval(h: unknown): void;
}

export type ConnStatus = 'connecting' | 'online' | 'reconnecting' | 'offline';

export interface ClientOptions {
  url: string;
  clientName?: string;
  socket?: (url: string) => SocketLike;
  storage?: KeyValueStore;
  timers?: Timers;
  random?: () => number;
  // Every server message except acks, pongs and the errors that answered a request.
  onMessage: (env: Envelope) => void;
  onWelcome?: (w: Welcome, firstOnSocket: boolean) => void;
  // The connection's status; code is the close code when it went offline or is reconnecting.
  onStatus?: (status: ConnStatus, code?: number) => void;
}

const OPEN = 1;
const tokenKey = 'kontakt.resume_token';

interface Pending {
  resolve: (env: Envelope) => void;
  reject: (err: RequestError) => void;
}

export class AgentClient {
  private ws: SocketLike | null = null;
  private ids = 0;
  private pending = new Map<string, Pending>();
  private pingTimer: unknown = null;
  private retryTimer: unknown = null;
  private lastHeard = 0;
  private pingInterval = 15000;
  private attempt = 0;
  private stopped = false;
  private welcomed = false;
  private readonly timers: Timers;
  private readonly storage: KeyValueStore;
  private readonly random: () => number;
  private readonly socket: (url: string) => SocketLike;

  constructor(private readonly opts: ClientOptions) {
    this.timers = opts.timers ?? {
      setTimeout: (f, ms) => setTimeout(f, ms),
      clearTimeout: (h) => clearTimeout(h as number),
      setInterval: (f, ms) => setInterval(f, ms),
      clearInterval: (h) => clearInterval(h as number),
    };
    this.storage = opts.storage ?? memoryStore();
    this.random = opts.random ?? Math.random;
    this.socket = opts.socket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
  }

  get resumeToken(): string | null {
    return this.storage.getItem(tokenKey);
  }

  get online(): boolean {
    return this.welcomed && this.ws?.readyState === OPEN;
  }

  connect(): void {
    this.stopped = false;
    this.open();
  }

  private open(): void {
    this.welcomed = false;
    this.opts.onStatus?.(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = this.socket(this.opts.url);
    this.ws = ws;
    ws.onopen = () => {
      const hello: Record<string, unknown> = { protocol: VERSION, client: this.opts.clientName ?? 'kontakt-web/0.1.0' };
      const tok = this.resumeToken;
      if (tok) hello.resume_token = tok;
      this.request<Welcome>('hello', hello).then(
        (env) => this.welcome(ws, env.data as Welcome),
        () => {
          /* the socket's close tells */
        },
      );
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.lastHeard = Date.now();
      let env: Envelope;
      try {
        env = JSON.parse(String(ev.data)) as Envelope;
      } catch {
        return;
      }
      this.receive(env);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.closed(ev.code);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private welcome(ws: SocketLike, w: Welcome): void {
    if (ws !== this.ws) return;
    this.welcomed = true;
    this.attempt = 0;
    this.storage.setItem(tokenKey, w.resume_token);
    this.pingInterval = w.ping_interval_ms > 0 ? w.ping_interval_ms : 15000;
    this.lastHeard = Date.now();
    this.startPings();
    this.opts.onStatus?.('online');
    this.opts.onWelcome?.(w, true);
  }

  private receive(env: Envelope): void {
    const p = env.re ? this.pending.get(env.re) : undefined;
    if (p && env.re) {
      this.pending.delete(env.re);
      if (env.type === 'error') {
        const e = env.data as ProtocolError;
        p.reject(new RequestError(e.code, e.message, e.field));
      } else {
        p.resolve(env);
      }
    }
    if (env.type === 'ack' || env.type === 'pong' || (env.type === 'error' && p)) return;
    this.opts.onMessage(env);
  }

  // request sends a message and resolves with its reply (rejects with RequestError).
  request<T = unknown>(type: string, data: object = {}): Promise<Envelope<T>> {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) {
      return Promise.reject(new RequestError('offline', 'not connected'));
    }
    const id = `c${++this.ids}`;
    return new Promise<Envelope<T>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (env: Envelope) => void, reject });
      ws.send(JSON.stringify({ v: VERSION, type, id, data }));
    });
  }

  // post sends a message whose reply does not matter (trickled candidates).
  post(type: string, data: object = {}): void {
    this.request(type, data).catch(() => {});
  }

  private startPings(): void {
    this.stopPings();
    this.pingTimer = this.timers.setInterval(() => {
      if (Date.now() - this.lastHeard > 2 * this.pingInterval) {
        // The server is silent: drop this socket and reconnect with the token.
        this.ws?.close(Close.pingTimeout, 'no pong');
        this.closed(Close.pingTimeout);
        return;
      }
      this.post('ping');
    }, this.pingInterval);
  }

  private stopPings(): void {
    if (this.pingTimer !== null) this.timers.clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private closed(code: number): void {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onmessage = ws.onclose = ws.onopen = ws.onerror = null;
    }
    this.stopPings();
    this.welcomed = false;
    for (const [, p] of this.pending) p.reject(new RequestError('offline', 'connection lost'));
    this.pending.clear();
    if (this.stopped || finalCloseCodes.has(code)) {
      if (code === Close.unauthorized || code === Close.replaced) this.storage.removeItem(tokenKey);
      this.stopped = true;
      this.opts.onStatus?.('offline', code);
      return;
    }
    this.opts.onStatus?.('reconnecting', code);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.open();
    }, this.backoff());
  }

  // backoff: 1 s, 2 s, 4 s … at most 30 s, with ±20 % jitter.
  backoff(): number {
    const base = Math.min(30000, 1000 * 2 ** this.attempt);
    this.attempt++;
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }

  // close signs out of the socket: close 1000, no reconnect, the resume token forgotten.
  close(): void {
    this.stopped = true;
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.storage.removeItem(tokenKey);
    const ws = this.ws;
    if (ws) {
      ws.close(Close.normal, 'signed out');
      this.closed(Close.normal);
    }
  }
}

export function memoryStore(): KeyValueStore {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  };
}

// agentSocketURL is the WebSocket's URL on the page's own origin.
export function agentSocketURL(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/api/v1/agent/ws`;
}
