import { describe, expect, it } from 'vitest';
import type { Envelope, Offer } from './protocol';
import { type Action, type UIState, initialState, mmss, recordToggle, reduce } from './state';
import { t } from './i18n';

const offer: Offer = {
  offer_id: 'o-481',
  call_id: 'call-1',
  queue: 'waste',
  expires_at: '2026-03-15T09:30:12Z',
  caller: { number: '+48600100200' },
  language: 'pl',
  waited_ms: 41250,
  ticket: { number: '2026/03/000123', kind: 'unknown', status: 'new', channel: 'phone', created_at: '2026-03-15T09:29:15Z', fields: { district: 'Mokotów' } },
  recent_tickets: [],
  ivr_path: [{ node: 'welcome', label: 'Powitanie' }, { node: 'topics', label: 'Tematy', digits: '3' }],
  articles: [{ id: 'kb-412', title: 'Odbiór odpadów wielkogabarytowych' }],
};

const srv = (type: string, data: object, re?: string): Action => ({ kind: 'server', env: { v: 1, type, id: 's', re, data } as Envelope, now: 1000 });

function run(...actions: Action[]): UIState {
  return actions.reduce(reduce, initialState);
}

const welcome = (extra: object = {}) =>
  srv('welcome', {
    protocol: 1,
    server: 'kontakt',
    session: 's',
    resume_token: 'rt',
    agent: { id: 'u-17', name: 'Anna Nowak', roles: ['consultant'] },
    state: { state: 'paused', reason: 'sign_in', since: '2026-03-15T09:30:00Z' },
    ping_interval_ms: 15000,
    grace_ms: 30000,
    ...extra,
  });

describe('reduce', () => {
  it('follows a call from offer to wrap-up', () => {
    let s = run(welcome(), srv('state', { state: 'available', since: '2026-03-15T09:30:00Z' }));
    expect(s.agent?.name).toBe('Anna Nowak');
    expect(s.state?.state).toBe('available');

    s = reduce(s, srv('offer', offer));
    expect(s.offer?.ticket.number).toBe('2026/03/000123');
    expect(s.offerAt).toBe(1000);
    expect(s.announcement).toMatchObject({ key: 'announceOffer', params: { ticket: '2026/03/000123', caller: '+48600100200', queue: 'waste' } });

    s = reduce(s, { kind: 'accepting', offerId: 'o-481' });
    s = reduce(s, srv('call.connected', { call_id: 'call-1', offer_id: 'o-481', at: '2026-03-15T09:30:05Z' }, 'c3'));
    expect(s.offer).toBeUndefined();
    expect(s.accepting).toBeUndefined();
    expect(s.call).toMatchObject({ call_id: 'call-1', ticket_number: '2026/03/000123', caller: { number: '+48600100200' }, queue: 'waste' });
    expect(s.call?.offer?.ivr_path).toHaveLength(2);

    s = reduce(s, srv('call.held', { call_id: 'call-1', at: '2026-03-15T09:30:06Z' }));
    expect(s.call?.held).toBe(true);
    s = reduce(s, srv('call.resumed', { call_id: 'call-1', at: '2026-03-15T09:30:07Z' }));
    expect(s.call?.held).toBe(false);
    s = reduce(s, { kind: 'muted', callId: 'call-1', on: true });
    expect(s.call?.muted).toBe(true);
    s = reduce(s, srv('call.held', { call_id: 'other', at: '2026-03-15T09:30:06Z' }));
    expect(s.call?.held).toBe(false);

    s = reduce(s, srv('call.ended', { call_id: 'call-1', reason: 'caller_hangup', at: '2026-03-15T09:31:00Z', duration_ms: 55000 }));
    expect(s.call).toBeUndefined();
    expect(s.announcement?.key).toBe('announceEnded');
    s = reduce(s, srv('wrapup.started', { call_id: 'call-1', ticket_number: '2026/03/000123', deadline: '2026-03-15T09:33:00Z' }));
    expect(s.wrapup?.offer?.articles[0].id).toBe('kb-412');
    s = reduce(s, srv('wrapup.ended', { call_id: 'call-1', ticket_number: '2026/03/000123', reason: 'submitted' }, 'c12'));
    expect(s.wrapup).toBeUndefined();
  });

  it('connects a callback without an accept when the resident answers', () => {
    const cb: Offer = { ...offer, offer_id: 'o-500', callback: { number: '+48600100200', attempt: 2 } };
    let s = run(welcome(), srv('offer', cb));
    expect(s.offer?.callback?.attempt).toBe(2);
    s = reduce(s, srv('call.connected', { call_id: 'call-1', offer_id: 'o-500', at: '2026-03-15T09:30:05Z' }));
    expect(s.offer).toBeUndefined();
    expect(s.call).toMatchObject({ call_id: 'call-1', ticket_number: '2026/03/000123', caller: { number: '+48600100200' } });
    s = run(welcome(), srv('offer', cb), srv('offer.cancelled', { offer_id: 'o-500', call_id: 'call-1', reason: 'no_answer' }));
    expect(s.offer).toBeUndefined();
    expect(s.announcement).toMatchObject({ key: 'announceCancelled', params: { reason: 'no_answer' } });
  });

  it('drops a cancelled offer and ignores other offers’ cancellations', () => {
    let s = run(welcome(), srv('offer', offer));
    s = reduce(s, srv('offer.cancelled', { offer_id: 'o-999', call_id: 'x', reason: 'timeout' }));
    expect(s.offer).toBeDefined();
    s = reduce(s, srv('offer.cancelled', { offer_id: 'o-481', call_id: 'call-1', reason: 'caller_hangup' }));
    expect(s.offer).toBeUndefined();
    expect(s.announcement).toMatchObject({ key: 'announceCancelled', params: { reason: 'caller_hangup' } });
  });

  it('restores the call after a resume, and forgets it after a fresh welcome', () => {
    let s = run(welcome(), srv('offer', offer), srv('call.connected', { call_id: 'call-1', offer_id: 'o-481', at: '2026-03-15T09:30:05Z' }));
    s = reduce(s, { kind: 'conn', status: 'reconnecting', code: 1006 });
    expect(s.conn).toBe('reconnecting');
    s = reduce(
      s,
      welcome({
        resumed: true,
        state: { state: 'on_call', since: '2026-03-15T09:30:05Z' },
        call: { call_id: 'call-1', ticket_number: '2026/03/000123', caller: { number: '+48600100200' }, queue: 'waste', connected_at: '2026-03-15T09:30:05Z', held: true },
      }),
    );
    expect(s.call).toMatchObject({ call_id: 'call-1', held: true });
    expect(s.call?.offer?.offer_id).toBe('o-481');
    s = reduce(s, welcome());
    expect(s.call).toBeUndefined();
  });

  it('pauses and resumes the recording with one button, in Polish and English', () => {
    let s = run(welcome(), srv('offer', offer), srv('call.connected', { call_id: 'call-1', offer_id: 'o-481', at: '2026-03-15T09:30:05Z' }));
    let b = recordToggle(s.call!);
    expect(b.type).toBe('call.record_pause');
    expect(t('pl', b.label)).toBe('Wstrzymaj nagrywanie');
    expect(t('en', b.label)).toBe('Pause recording');

    s = reduce(s, srv('call.record_paused', { call_id: 'other', at: '2026-03-15T09:30:06Z' }));
    expect(s.call?.recording_paused).toBeUndefined();
    s = reduce(s, srv('call.record_paused', { call_id: 'call-1', at: '2026-03-15T09:30:06Z' }, 'c14'));
    expect(s.call?.recording_paused).toBe(true);
    expect(s.announcement?.key).toBe('announceRecordPaused');
    expect(t('pl', s.announcement!.key)).toBe('Nagrywanie rozmowy wstrzymane.');
    b = recordToggle(s.call!);
    expect(b.type).toBe('call.record_resume');
    expect(t('pl', b.label)).toBe('Wznów nagrywanie');
    expect(t('en', b.label)).toBe('Resume recording');

    s = reduce(s, srv('call.record_resumed', { call_id: 'call-1', at: '2026-03-15T09:30:16Z' }, 'c15'));
    expect(s.call?.recording_paused).toBe(false);
    expect(s.announcement?.key).toBe('announceRecordResumed');
    expect(recordToggle(s.call!).type).toBe('call.record_pause');

    // After a reconnect the server says whether the recording is still paused.
    s = reduce(
      s,
      welcome({
        resumed: true,
        state: { state: 'on_call', since: '2026-03-15T09:30:05Z' },
        call: { call_id: 'call-1', ticket_number: '2026/03/000123', caller: { number: '+48600100200' }, queue: 'waste', connected_at: '2026-03-15T09:30:05Z', recording_paused: true },
      }),
    );
    expect(recordToggle(s.call!).type).toBe('call.record_resume');
  });

  it('announces errors, each time anew', () => {
    const s = run(srv('error', { code: 'conflict', message: 'taken' }), srv('error', { code: 'conflict', message: 'taken' }));
    expect(s.error?.code).toBe('conflict');
    expect(s.announcement?.seq).toBe(2);
  });

  it('formats durations', () => {
    expect(mmss(41250)).toBe('0:41');
    expect(mmss(3_725_000)).toBe('62:05');
    expect(mmss(-5)).toBe('0:00');
  });
});
