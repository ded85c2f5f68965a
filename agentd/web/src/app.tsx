import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { AgentClient, agentSocketURL } from './client';
import { type Lang, t } from './i18n';
import { type Candidate, type Envelope, type Offer, RequestError, type WrapupSubmit } from './protocol';
import { Softphone } from './softphone';
import { type UIState, callerText, initialState, mmss, recordToggle, reduce } from './state';

const signedInKey = 'kontakt.signed_in';
const langKey = 'kontakt.lang';
const pauseReasons = ['break', 'lunch', 'training', 'technical'];

export function App() {
  const [lang, setLang] = useState<Lang>(() => (localStorage.getItem(langKey) === 'en' ? 'en' : 'pl'));
  const [signedIn, setSignedIn] = useState(() => sessionStorage.getItem(signedInKey) === '1');
  const [notice, setNotice] = useState('');
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = t(lang, 'title');
    localStorage.setItem(langKey, lang);
  }, [lang]);
  const toggle = (
    <button type="button" class="link" lang={lang === 'pl' ? 'en' : 'pl'} aria-label={t(lang, 'otherLangName')} onClick={() => setLang(lang === 'pl' ? 'en' : 'pl')}>
      {t(lang, 'otherLang')}
    </button>
  );
  if (!signedIn) {
    return (
      <SignIn
        lang={lang}
        toggle={toggle}
        notice={notice}
        onSignedIn={() => {
          sessionStorage.setItem(signedInKey, '1');
          setNotice('');
          setSignedIn(true);
        }}
      />
    );
  }
  return (
    <Desk
      lang={lang}
      toggle={toggle}
      onSignedOut={(msg) => {
        sessionStorage.removeItem(signedInKey);
        setNotice(msg ?? '');
        setSignedIn(false);
      }}
    />
  );
}

function SignIn(props: { lang: Lang; toggle: JSX.Element; notice: string; onSignedIn: () => void }) {
  const { lang } = props;
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(props.notice);
  const loginRef = useRef<HTMLInputElement>(null);
  useEffect(() => loginRef.current?.focus(), []);
  async function submit(ev: Event) {
    ev.preventDefault();
    setBusy(true);
    setError('');
    try {
      const resp = await fetch('/api/v1/auth/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ login, password }),
      });
      if (resp.ok) {
        props.onSignedIn();
        return;
      }
      setError(resp.status === 401 ? t(lang, 'wrongPassword') : t(lang, 'signInFailed', { message: `${resp.status} ${resp.statusText}` }));
    } catch (err) {
      setError(t(lang, 'signInFailed', { message: String(err) }));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="signin">
      <div class="topbar">
        <h1>{t(lang, 'title')}</h1>
        {props.toggle}
      </div>
      <form onSubmit={submit} aria-labelledby="signin-title" data-testid="signin">
        <h2 id="signin-title">{t(lang, 'signInTitle')}</h2>
        <label for="login">{t(lang, 'login')}</label>
        <input id="login" name="login" autocomplete="username" required ref={loginRef} value={login} onInput={(e) => setLogin(e.currentTarget.value)} />
        <label for="password">{t(lang, 'password')}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        {error && (
          <p role="alert" class="error" id="signin-error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t(lang, 'signingIn') : t(lang, 'signIn')}
        </button>
      </form>
    </main>
  );
}

// useNow re-renders every second (waiting times, durations, deadlines).
function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(h);
  }, []);
  return now;
}

function Desk(props: { lang: Lang; toggle: JSX.Element; onSignedOut: (msg?: string) => void }) {
  const { lang } = props;
  const [s, dispatch] = useReducer(reduce, initialState);
  const audioRef = useRef<HTMLAudioElement>(null);
  const welcomed = useRef(false);
  const { client, phone } = useMemo(() => {
    let phone: Softphone | null = null;
    const client: AgentClient = new AgentClient({
      url: agentSocketURL(location),
      storage: sessionStorage,
      clientName: 'kontakt-web/0.1.0',
      onMessage: (env: Envelope) => {
        switch (env.type) {
          case 'webrtc.candidate':
            void phone?.candidate(env.data as Candidate);
            return;
          case 'webrtc.offer':
            void phone?.serverOffer((env.data as { sdp: string }).sdp);
            return;
          case 'webrtc.restart':
            void phone?.restart();
            return;
          case 'webrtc.answer':
            return;
        }
        dispatch({ kind: 'server', env, now: Date.now() });
      },
      onWelcome: (w) => {
        welcomed.current = true;
        if (w.resumed) void phone?.ensure(w.ice_servers);
        else void phone?.start(w.ice_servers);
      },
      onStatus: (status, code) => {
        dispatch({ kind: 'conn', status, code });
        if (status === 'reconnecting' && !welcomed.current) {
          client.close(); // never got in: the session cookie is missing or expired
          props.onSignedOut();
        } else if (status === 'offline' && (code === 4001 || code === 4000 || code === 1008)) {
          phone?.stop();
          props.onSignedOut();
        }
      },
    });
    phone = new Softphone({
      signalling: client,
      audio: () => audioRef.current,
      onStatus: (status) => dispatch({ kind: 'media', status }),
      log: (msg, err) => console.warn(msg, err),
    });
    return { client, phone };
  }, []);
  useEffect(() => {
    client.connect();
    return () => {
      client.close();
      phone.stop();
    };
  }, []);

  const run = (p: Promise<unknown>) =>
    p.catch((err: unknown) => {
      if (err instanceof RequestError) dispatch({ kind: 'error', error: { code: err.code, message: err.message, field: err.field } });
    });
  const actions: DeskActions = {
    setState: (state, reason) => run(client.request('state.set', reason ? { state, reason } : { state })),
    answer: (o) => {
      phone.play(); // the click lets the page play the caller's audio
      void phone.setSending(true);
      dispatch({ kind: 'error' });
      dispatch({ kind: 'accepting', offerId: o.offer_id });
      run(client.request('offer.accept', { offer_id: o.offer_id })).finally(() => dispatch({ kind: 'accepting' }));
    },
    reject: (o) => run(client.request('offer.reject', { offer_id: o.offer_id, reason: 'not_ready' })),
    call: (type, data) => run(client.request(type, data)),
    mute: (callId, on) =>
      run(client.request(on ? 'call.mute' : 'call.unmute', { call_id: callId }).then(() => dispatch({ kind: 'muted', callId, on }))),
    submit: (w) => run(client.request('wrapup.submit', w)),
  };
  const view = s;
  const onCall = !!s.call;
  useEffect(() => {
    void phone.setSending(onCall || s.accepting !== undefined);
  }, [onCall, s.accepting]);

  async function signOut() {
    client.close();
    phone.stop();
    await fetch('/api/v1/auth/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => {});
    props.onSignedOut();
  }

  const announcement = s.announcement ? t(lang, s.announcement.key, translateParams(lang, s.announcement.params)) : '';
  return (
    <div class="desk">
      <header class="topbar">
        <h1>{t(lang, 'title')}</h1>
        <p class="who">{s.agent ? `${s.agent.name} (${s.agent.roles.join(', ')})` : ''}</p>
        {props.toggle}
        <button type="button" class="link" onClick={signOut}>
          {t(lang, 'signOut')}
        </button>
      </header>
      <div class="sr-only" aria-live="assertive" aria-atomic="true" data-testid="announcer">
        {announcement}
      </div>
      <audio ref={audioRef} autoplay />
      <main>
        <StatusBar lang={lang} s={view} actions={actions} />
        {s.error && (
          <p role="alert" class="error" data-testid="error">
            {t(lang, 'error', { message: `${s.error.message} (${s.error.code})` })}
          </p>
        )}
        {view.offer && <OfferPanel lang={lang} offer={view.offer} offerAt={view.offerAt ?? Date.now()} accepting={view.accepting === view.offer.offer_id} actions={actions} />}
        {view.call && <CallPanel lang={lang} s={view} actions={actions} />}
        {view.wrapup && <WrapupPanel lang={lang} s={view} actions={actions} />}
        {!view.offer && !view.call && !view.wrapup && <p class="idle">{t(lang, 'idle')}</p>}
      </main>
    </div>
  );
}

function translateParams(lang: Lang, p: Record<string, string>): Record<string, string> {
  const out = { ...p };
  if (out.reason) out.reason = t(lang, `reason_${out.reason}`, {}, out.reason.replace(/_/g, ' '));
  return out;
}

interface DeskActions {
  setState: (state: string, reason?: string) => void;
  answer: (o: Offer) => void;
  reject: (o: Offer) => void;
  call: (type: string, data: object) => Promise<unknown>;
  mute: (callId: string, on: boolean) => void;
  submit: (w: WrapupSubmit) => Promise<unknown>;
}

function StatusBar(props: { lang: Lang; s: UIState; actions: DeskActions }) {
  const { lang, s, actions } = props;
  const [reason, setReason] = useState('break');
  const st = s.state;
  const stateText = st ? t(lang, `state_${st.state}`) + (st.reason ? ` — ${t(lang, `reason_${st.reason}`, {}, st.reason)}` : '') : '—';
  const canSet = s.conn === 'online';
  return (
    <section class="status" aria-labelledby="status-title">
      <h2 id="status-title" class="sr-only">
        {t(lang, 'yourState')}
      </h2>
      <dl class="inline">
        <div>
          <dt>{t(lang, 'yourState')}</dt>
          <dd data-testid="state">{stateText}</dd>
        </div>
        <div>
          <dt>{t(lang, 'connection')}</dt>
          <dd data-testid="conn">{t(lang, `conn_${s.conn}`)}</dd>
        </div>
        <div>
          <dt>{t(lang, 'softphone')}</dt>
          <dd data-testid="media" class={s.media === 'failed' ? 'bad' : ''}>
            {t(lang, `media_${s.media}`)}
          </dd>
        </div>
      </dl>
      <div class="controls">
        <button type="button" class="primary" data-testid="available" disabled={!canSet || st?.state === 'available'} onClick={() => actions.setState('available')}>
          {t(lang, 'goAvailable')}
        </button>
        <label for="pause-reason">{t(lang, 'pauseReason')}</label>
        <select id="pause-reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
          {pauseReasons.map((r) => (
            <option value={r} key={r}>
              {t(lang, `reason_${r}`)}
            </option>
          ))}
        </select>
        <button type="button" disabled={!canSet} data-testid="pause" onClick={() => actions.setState('paused', reason)}>
          {t(lang, 'pause')}
        </button>
        <button type="button" disabled={!canSet} onClick={() => actions.setState('offline')}>
          {t(lang, 'goOffline')}
        </button>
      </div>
    </section>
  );
}

function OfferPanel(props: { lang: Lang; offer: Offer; offerAt: number; accepting: boolean; actions: DeskActions }) {
  const { lang, offer: o, actions } = props;
  const now = useNow();
  const answerRef = useRef<HTMLButtonElement>(null);
  useEffect(() => answerRef.current?.focus(), [o.offer_id]);
  const left = Date.parse(o.expires_at) - now;
  if (o.callback) {
    return (
      <section class="panel offer" aria-labelledby="offer-title" data-testid="offer">
        <h2 id="offer-title">{t(lang, 'callbackTitle')}</h2>
        <p data-testid="callback" role="status">
          {t(lang, 'callbackDialling', { number: o.callback.number, attempt: String(o.callback.attempt) })}{' '}
          <span class="muted">{t(lang, 'callbackGivesUp', { time: mmss(left) })}</span>
        </p>
        <ScreenPop lang={lang} offer={o} waitedMS={o.waited_ms + (now - props.offerAt)} />
      </section>
    );
  }
  return (
    <section class="panel offer" aria-labelledby="offer-title" data-testid="offer">
      <h2 id="offer-title">{t(lang, 'incoming')}</h2>
      <div class="actions">
        <button type="button" class="primary big" ref={answerRef} data-testid="answer" disabled={props.accepting} onClick={() => actions.answer(o)}>
          {t(lang, 'answer')}
        </button>
        <button type="button" data-testid="reject" disabled={props.accepting} onClick={() => actions.reject(o)}>
          {t(lang, 'reject')}
        </button>
        <span class="muted">{t(lang, 'expiresIn', { time: mmss(left) })}</span>
      </div>
      <ScreenPop lang={lang} offer={o} waitedMS={o.waited_ms + (now - props.offerAt)} />
    </section>
  );
}

function ScreenPop(props: { lang: Lang; offer: Offer; waitedMS?: number }) {
  const { lang, offer: o } = props;
  const fields = Object.entries(o.ticket.fields ?? {});
  return (
    <div class="screenpop">
      <dl class="grid">
        <div>
          <dt>{t(lang, 'ticket')}</dt>
          <dd data-testid="ticket-number">{o.ticket.number}</dd>
        </div>
        <div>
          <dt>{t(lang, 'caller')}</dt>
          <dd data-testid="caller">{o.caller.withheld || !o.caller.number ? t(lang, 'withheld') : o.caller.number}</dd>
        </div>
        <div>
          <dt>{t(lang, 'queue')}</dt>
          <dd>{o.queue}</dd>
        </div>
        <div>
          <dt>{t(lang, 'language')}</dt>
          <dd>{t(lang, `lang_${o.language}`, {}, o.language)}</dd>
        </div>
        {props.waitedMS !== undefined && (
          <div>
            <dt>{t(lang, 'waited')}</dt>
            <dd>{mmss(props.waitedMS)}</dd>
          </div>
        )}
        <div>
          <dt>{t(lang, 'status')}</dt>
          <dd>
            {o.ticket.status}
            {o.ticket.category ? `, ${o.ticket.category}` : ''}
          </dd>
        </div>
      </dl>
      {o.ticket.summary && <p>{o.ticket.summary}</p>}
      <h3>{t(lang, 'ivrPath')}</h3>
      <ol class="ivr" data-testid="ivr-path">
        {o.ivr_path.map((s) => (
          <li key={s.node}>
            {s.label}
            {s.digits ? ` (${t(lang, 'digits', { digits: s.digits })})` : ''}
          </li>
        ))}
      </ol>
      {fields.length > 0 && (
        <>
          <h3>{t(lang, 'ticketFields')}</h3>
          <dl class="grid">
            {fields.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
      <h3>{t(lang, 'recentTickets')}</h3>
      {o.recent_tickets.length === 0 ? (
        <p class="muted">{t(lang, 'noRecent')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t(lang, 'number')}</th>
              <th scope="col">{t(lang, 'kind')}</th>
              <th scope="col">{t(lang, 'status')}</th>
              <th scope="col">{t(lang, 'summary')}</th>
              <th scope="col">{t(lang, 'created')}</th>
            </tr>
          </thead>
          <tbody>
            {o.recent_tickets.map((r) => (
              <tr key={r.number}>
                <td>{r.number}</td>
                <td>{t(lang, `kind_${r.kind}`, {}, r.kind)}</td>
                <td>{r.status}</td>
                <td>{r.summary ?? r.category ?? ''}</td>
                <td>{new Date(r.created_at).toLocaleDateString(lang === 'pl' ? 'pl-PL' : 'en-GB')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>{t(lang, 'articles')}</h3>
      {o.articles.length === 0 ? (
        <p class="muted">{t(lang, 'noArticles')}</p>
      ) : (
        <ul>
          {o.articles.map((a) => (
            <li key={a.id}>
              {a.title} <span class="muted">({a.id})</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function CallPanel(props: { lang: Lang; s: UIState; actions: DeskActions }) {
  const { lang, s, actions } = props;
  const c = s.call!;
  const now = useNow();
  const [digits, setDigits] = useState('');
  const [queue, setQueue] = useState('');
  const [note, setNote] = useState('');
  const headRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headRef.current?.focus(), [c.call_id]);
  const id = { call_id: c.call_id };
  return (
    <section class="panel call" aria-labelledby="call-title" data-testid="call">
      <h2 id="call-title" tabIndex={-1} ref={headRef}>
        {t(lang, 'onCall')}: {callerText(c.caller) === '—' ? t(lang, 'withheld') : callerText(c.caller)}
      </h2>
      <p>
        {t(lang, 'ticket')} <strong>{c.ticket_number}</strong> · {t(lang, 'duration')} <span data-testid="duration">{mmss(now - Date.parse(c.connected_at))}</span>
        {c.held && <strong class="flag"> · {t(lang, 'held')}</strong>}
        {c.muted && <strong class="flag"> · {t(lang, 'muted')}</strong>}
        {c.recording_paused && <strong class="flag" data-testid="recording-paused"> · {t(lang, 'recordingPaused')}</strong>}
      </p>
      <div class="actions">
        <button type="button" data-testid="hold" onClick={() => actions.call(c.held ? 'call.resume' : 'call.hold', id)}>
          {t(lang, c.held ? 'resume' : 'hold')}
        </button>
        <button type="button" aria-pressed={!!c.muted} onClick={() => actions.mute(c.call_id, !c.muted)}>
          {t(lang, c.muted ? 'unmute' : 'mute')}
        </button>
        <button type="button" data-testid="record" onClick={() => actions.call(recordToggle(c).type, id)}>
          {t(lang, recordToggle(c).label)}
        </button>
        <button type="button" class="danger" data-testid="hangup" onClick={() => actions.call('call.hangup', id)}>
          {t(lang, 'hangup')}
        </button>
      </div>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (digits) actions.call('call.dtmf', { ...id, digits }).then(() => setDigits(''));
        }}
      >
        <label for="dtmf">{t(lang, 'dtmf')}</label>
        <input id="dtmf" inputMode="tel" pattern="[0-9*#A-D]{1,32}" maxLength={32} value={digits} onInput={(e) => setDigits(e.currentTarget.value.toUpperCase())} />
        <button type="submit">{t(lang, 'send')}</button>
      </form>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          if (queue) actions.call('call.transfer', { ...id, queue, note });
        }}
      >
        <h3>{t(lang, 'transfer')}</h3>
        <label for="transfer-queue">{t(lang, 'transferQueue')}</label>
        <input id="transfer-queue" required pattern="[a-z0-9._\-]{1,64}" value={queue} onInput={(e) => setQueue(e.currentTarget.value)} />
        <label for="transfer-note">{t(lang, 'transferNote')}</label>
        <textarea id="transfer-note" maxLength={4000} rows={2} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        <button type="submit">{t(lang, 'transfer')}</button>
      </form>
      {c.offer && (
        <details>
          <summary>{t(lang, 'ticketFields')}</summary>
          <ScreenPop lang={lang} offer={c.offer} />
        </details>
      )}
    </section>
  );
}

function WrapupPanel(props: { lang: Lang; s: UIState; actions: DeskActions }) {
  const { lang, s, actions } = props;
  const w = s.wrapup!;
  const [kind, setKind] = useState<'information' | 'intervention'>('information');
  const [category, setCategory] = useState(w.offer?.ticket.category ?? '');
  const [unit, setUnit] = useState('');
  const [notes, setNotes] = useState('');
  const [used, setUsed] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const headRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (!s.call) headRef.current?.focus();
  }, [w.call_id]);
  const deadline = new Date(w.deadline).toLocaleTimeString(lang === 'pl' ? 'pl-PL' : 'en-GB');
  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    await actions.submit({
      call_id: w.call_id,
      update: { kind, category, ...(unit ? { unit } : {}), ...(notes ? { notes } : {}), ...(used.length ? { articles: used } : {}) },
    });
    setBusy(false);
  }
  return (
    <section class="panel wrapup" aria-labelledby="wrapup-title" data-testid="wrapup">
      <h2 id="wrapup-title" tabIndex={-1} ref={headRef}>
        {t(lang, 'wrapup')}: {t(lang, 'ticket')} {w.ticket_number}
      </h2>
      <p class="muted">{t(lang, 'deadline', { time: deadline })}</p>
      <form class="stack" onSubmit={submit}>
        <fieldset>
          <legend>{t(lang, 'kind')}</legend>
          {(['information', 'intervention'] as const).map((k) => (
            <label class="choice" key={k}>
              <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} /> {t(lang, `kind_${k}`)}
            </label>
          ))}
        </fieldset>
        <label for="category">{t(lang, 'category')}</label>
        <input id="category" required pattern="[a-z0-9._\-]{1,64}" value={category} onInput={(e) => setCategory(e.currentTarget.value)} />
        <label for="unit">{t(lang, 'unit')}</label>
        <input id="unit" pattern="[a-z0-9._\-]{1,64}" value={unit} onInput={(e) => setUnit(e.currentTarget.value)} />
        <label for="notes">{t(lang, 'notes')}</label>
        <textarea id="notes" rows={4} maxLength={4000} value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
        {w.offer && w.offer.articles.length > 0 && (
          <fieldset>
            <legend>{t(lang, 'articlesUsed')}</legend>
            {w.offer.articles.map((a) => (
              <label class="choice" key={a.id}>
                <input
                  type="checkbox"
                  checked={used.includes(a.id)}
                  onChange={(e) => setUsed(e.currentTarget.checked ? [...used, a.id] : used.filter((x) => x !== a.id))}
                />{' '}
                {a.title}
              </label>
            ))}
          </fieldset>
        )}
        <button type="submit" class="primary" data-testid="submit-wrapup" disabled={busy}>
          {t(lang, 'submit')}
        </button>
      </form>
    </section>
  );
}
