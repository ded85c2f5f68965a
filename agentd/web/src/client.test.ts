import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentClient, type SocketLike, agentSocketURL, memoryStore } from './client';
import { type Envelope, RequestError } from './protocol';

// FakeSocket records what the client sends; the test plays the server.
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Envelope[] = [];
  closedWith?: number;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(public url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number) {
    this.closedWith = code;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  deliver(env: object) {
    this.onmessage?.({ data: JSON.stringify({ v: 1, ...env }) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
  last(): Envelope {
    return this.sent[this.sent.length - 1];
  }
}

const welcome = (token: string, extra: object = {}) => ({
  protocol: 1,
  server: 'kontakt',
  session: 'sess-1',
  resume_token: token,
  agent: { id: 'u-17', name: 'Anna Nowak', roles: ['consultant'] },
  state: { state: 'paused', reason: 'sign_in', since: '2026-03-15T09:30:00Z' },
  ping_interval_ms: 15000,
  grace_ms: 30000,
  ...extra,
});

function setup() {
  const sockets: FakeSocket[] = [];
  const messages: Envelope[] = [];
  const statuses: string[] = [];
  const storage = memoryStore();
  const client = new AgentClient({
    url: 'ws://desk.example/api/v1/agent/ws',
    socket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    storage,
    random: () => 0.5,
    onMessage: (env) => messages.push(env),
    onStatus: (s, code) => statuses.push(code ? `${s}:${code}` : s),
  });
  return { client, sockets, messages, statuses, storage };
}

async function signIn(s: FakeSocket, token = 'rt_1') {
  s.open();
  const hello = s.last();
  s.deliver({ type: 'welcome', id: 's1', re: hello.id, data: welcome(token) });
  await Promise.resolve();
  await Promise.resolve();
}

describe('AgentClient', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('says hello, stores the resume token and answers requests by id', async () => {
    const { client, sockets, messages, statuses, storage } = setup();
    client.connect();
    const s = sockets[0];
    s.open();
    const hello = s.last();
    expect(hello).toMatchObject({ v: 1, type: 'hello', data: { protocol: 1 } });
    expect(hello.id).toMatch(/^c\d+$/);
    expect((hello.data as object as Record<string, unknown>).resume_token).toBeUndefined();
    s.deliver({ type: 'welcome', id: 's1', re: hello.id, data: welcome('rt_1') });
    await Promise.resolve();
    await Promise.resolve();
    expect(storage.getItem('kontakt.resume_token')).toBe('rt_1');
    expect(statuses).toEqual(['connecting', 'online']);
    expect(client.online).toBe(true);

    const p = client.request('state.set', { state: 'available' });
    const req = s.last();
    expect(req).toMatchObject({ type: 'state.set', data: { state: 'available' } });
    s.deliver({ type: 'state', id: 's2', re: req.id, data: { state: 'available', since: '2026-03-15T09:30:00Z' } });
    await expect(p).resolves.toMatchObject({ type: 'state', re: req.id });

    const q = client.request('call.hold', { call_id: 'x' });
    s.deliver({ type: 'error', id: 's3', re: s.last().id, data: { code: 'out_of_order', message: 'no call' } });
    await expect(q).rejects.toEqual(new RequestError('out_of_order', 'no call'));

    // acks, pongs and errors that answered a request are not events; the rest are.
    s.deliver({ type: 'offer', id: 's4', data: { offer_id: 'o-1' } });
    expect(messages.map((m) => m.type)).toEqual(['welcome', 'state', 'offer']);
  });

  it('reconnects with back-off and the resume token, and stops after a final close code', async () => {
    const { client, sockets, statuses, storage } = setup();
    client.connect();
    await signIn(sockets[0], 'rt_1');
    const pending = client.request('call.hold', { call_id: 'x' });
    sockets[0].drop(1006);
    await expect(pending).rejects.toMatchObject({ code: 'offline' });
    expect(statuses.at(-1)).toBe('reconnecting:1006');
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(999); // 1 s (jitter 0.5 → ×1.0)
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    sockets[1].open();
    expect(sockets[1].last()).toMatchObject({ type: 'hello', data: { resume_token: 'rt_1' } });
    sockets[1].drop(1006); // fails again before the welcome: 2 s next
    vi.advanceTimersByTime(1999);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(3);
    await signIn(sockets[2], 'rt_2');
    expect(storage.getItem('kontakt.resume_token')).toBe('rt_2');
    sockets[2].drop(4000); // replaced elsewhere: no reconnect, token forgotten
    vi.advanceTimersByTime(60000);
    expect(sockets).toHaveLength(3);
    expect(statuses.at(-1)).toBe('offline:4000');
    expect(storage.getItem('kontakt.resume_token')).toBeNull();
  });

  it('caps the back-off at 30 s', () => {
    const { client } = setup();
    const waits = Array.from({ length: 8 }, () => client.backoff());
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('pings every interval and drops a silent server', async () => {
    const { client, sockets } = setup();
    client.connect();
    await signIn(sockets[0]);
    vi.advanceTimersByTime(15000);
    expect(sockets[0].last().type).toBe('ping');
    sockets[0].deliver({ type: 'pong', id: 's9', re: sockets[0].last().id, data: {} });
    vi.advanceTimersByTime(15000);
    vi.advanceTimersByTime(15000);
    vi.advanceTimersByTime(15000); // nothing heard for more than twice the interval
    expect(sockets[0].closedWith).toBe(4004);
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(2);
  });

  it('signs out with 1000 and forgets the token', async () => {
    const { client, sockets, storage, statuses } = setup();
    client.connect();
    await signIn(sockets[0]);
    client.close();
    expect(sockets[0].closedWith).toBe(1000);
    expect(storage.getItem('kontakt.resume_token')).toBeNull();
    expect(statuses.at(-1)).toBe('offline:1000');
    vi.advanceTimersByTime(60000);
    expect(sockets).toHaveLength(1);
  });

  it('refuses requests while offline', async () => {
    const { client } = setup();
    await expect(client.request('ping')).rejects.toMatchObject({ code: 'offline' });
  });

  it('builds the socket URL from the page origin', () => {
    expect(agentSocketURL({ protocol: 'https:', host: 'desk.example' })).toBe('wss://desk.example/api/v1/agent/ws');
    expect(agentSocketURL({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/api/v1/agent/ws');
  });
});
