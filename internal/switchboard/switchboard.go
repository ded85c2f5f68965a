// Package switchboard is Kontakt's ARI side. It owns the event websocket to Asterisk (read by
// Kontakt itself, never blocking, unknown event types kept opaque), routes every event to the
// goroutine of the call it concerns through an unbounded mailbox, uses ari/v5 for the REST side,
// reconnects with backoff, and reconciles with Asterisk's own list of channels after every
// reconnect and periodically.
package switchboard

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configures a Switchboard.
type Options struct {
	ARI            ARIOptions
	Store          Store
	Flow           Flow
	MessagesDir    string
	ReconcileEvery time.Duration
	ReconnectMin   time.Duration
	ReconnectMax   time.Duration
	Log            *slog.Logger
	Registerer     prometheus.Registerer
}

// ownPrefix marks channels, bridges and playbacks Kontakt creates itself, so that their
// StasisStart is never taken for a resident's new call.
const ownPrefix = "kontakt-"

// Switchboard connects Kontakt to Asterisk and runs one goroutine per call.
type Switchboard struct {
	o       Options
	ari     *native.Client
	rest    *rest
	log     *slog.Logger
	m       *metrics
	connOK  atomic.Bool
	drain   atomic.Bool
	callCtx context.Context
	force   context.CancelFunc

	mu     sync.Mutex
	calls  map[string]*Call // by channel id
	routes map[string]*Call // "kind:id" → call
	wg     sync.WaitGroup
	jwg    sync.WaitGroup

	journals    atomic.Int64 // calls whose rows are not all written yet
	openChecked bool         // calls left open by an earlier process have been closed
}

// New returns a switchboard; Run connects it.
func New(o Options) *Switchboard {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Flow == nil {
		o.Flow = HangupFlow{}
	}
	if o.ReconcileEvery == 0 {
		o.ReconcileEvery = 30 * time.Second
	}
	if o.ReconnectMin == 0 {
		o.ReconnectMin = 200 * time.Millisecond
	}
	if o.ReconnectMax == 0 {
		o.ReconnectMax = 5 * time.Second
	}
	if o.ARI.MaxConns == 0 {
		o.ARI.MaxConns = 32
	}
	if o.ARI.RequestTimeout == 0 {
		o.ARI.RequestTimeout = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Switchboard{
		o: o, ari: NewARIClient(o.ARI), rest: newREST(o.ARI), log: o.Log.With("component", "switchboard"),
		m: newMetrics(o.Registerer), callCtx: ctx, force: cancel,
		calls: map[string]*Call{}, routes: map[string]*Call{},
	}
}

// Connected reports whether the event websocket is up.
func (s *Switchboard) Connected() bool { return s.connOK.Load() }

// Active is the number of calls in progress.
func (s *Switchboard) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Drain stops taking new calls: a call arriving now is sent back to the dialplan, which
// apologises and retries until a Kontakt takes it. Calls in progress continue.
func (s *Switchboard) Drain() { s.drain.Store(true) }

// Draining reports whether Drain was called.
func (s *Switchboard) Draining() bool { return s.drain.Load() }

// Force ends every call in progress now (each is hung up, outcome failed) and waits for the
// call goroutines, at most until ctx ends.
func (s *Switchboard) Force(ctx context.Context) {
	s.force()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// WaitCalls waits until no call is in progress or ctx ends.
func (s *Switchboard) WaitCalls(ctx context.Context) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for s.Active() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// WaitWrites waits until every call's rows are written or ctx ends; it returns how many calls
// still had writes pending.
func (s *Switchboard) WaitWrites(ctx context.Context) int {
	done := make(chan struct{})
	go func() { s.jwg.Wait(); close(done) }()
	select {
	case <-done:
		return 0
	case <-ctx.Done():
		return int(s.journals.Load())
	}
}

// Run connects to Asterisk and keeps connected until ctx ends: if Asterisk is not running it
// waits for it, and after a lost connection it reconnects with backoff and reconciles.
func (s *Switchboard) Run(ctx context.Context) error {
	b := backoff{min: s.o.ReconnectMin, max: s.o.ReconnectMax}
	failures := 0
	for ctx.Err() == nil {
		conn, err := DialEvents(ctx, s.o.ARI)
		if err != nil {
			failures++
			d := b.next()
			if failures == 1 || failures%20 == 0 {
				s.log.Warn("asterisk not reachable; will retry", "err", err, "retry_in", d, "attempts", failures)
			}
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
			continue
		}
		failures = 0
		b.reset()
		s.connOK.Store(true)
		s.m.ariConnected.Set(1)
		s.m.ariReconnects.Inc()
		s.log.Info("connected to asterisk", "url", s.o.ARI.URL, "app", s.o.ARI.App)
		cctx, cancel := context.WithCancel(ctx)
		go s.afterConnect(cctx)
		err = conn.Read(cctx, s.route, func(b []byte, err error) {
			s.m.eventsBad.Inc()
			s.log.Warn("undecodable ari event skipped", "err", err, "bytes", len(b))
		})
		cancel()
		conn.Close()
		s.connOK.Store(false)
		s.m.ariConnected.Set(0)
		if ctx.Err() == nil {
			s.log.Warn("lost the asterisk connection; reconnecting", "err", err)
		}
	}
	return nil
}

// afterConnect sets the event filter and reconciles, then reconciles periodically.
func (s *Switchboard) afterConnect(ctx context.Context) {
	if err := s.rest.setEventFilter(ctx, s.o.ARI.App, []string{"ChannelDialplan", "ChannelVarset"}); err != nil && ctx.Err() == nil {
		s.log.Warn("could not set the event filter", "err", err)
	}
	t := time.NewTicker(s.o.ReconcileEvery)
	defer t.Stop()
	for {
		if err := s.reconcile(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reconcile failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reconcile compares Kontakt's calls with what Asterisk says the application owns: channels
// Kontakt does not know are taken over, calls whose channel is gone are ended, and calls left
// open in the database by an earlier process are closed. Voice messages are imported.
func (s *Switchboard) reconcile(ctx context.Context) error {
	app, err := s.rest.application(ctx, s.o.ARI.App)
	if err != nil {
		return fmt.Errorf("application state: %w", err)
	}
	present := map[string]bool{}
	for _, id := range app.ChannelIDs {
		present[id] = true
	}
	var adopt []string
	var lost []*Call
	s.mu.Lock()
	for _, id := range app.ChannelIDs {
		if _, ok := s.calls[id]; !ok && !strings.HasPrefix(id, ownPrefix) {
			adopt = append(adopt, id)
		}
	}
	for id, c := range s.calls {
		if !present[id] {
			lost = append(lost, c)
		}
	}
	s.mu.Unlock()
	for _, c := range lost {
		c.mb.put(Event{Type: string(EvLost)})
	}
	if len(adopt) > 0 {
		chans, err := s.rest.channels(ctx)
		if err != nil {
			return err
		}
		for _, ch := range chans {
			for _, id := range adopt {
				if ch.ID == id {
					s.startCall(ch, true)
				}
			}
		}
	}
	if !s.openChecked && s.o.Store != nil {
		open, err := s.o.Store.OpenCalls(ctx)
		if err != nil {
			return fmt.Errorf("open calls: %w", err)
		}
		for _, c := range open {
			s.mu.Lock()
			_, live := s.calls[c.ChannelID]
			s.mu.Unlock()
			if live || present[c.ChannelID] {
				continue
			}
			s.log.Info("closing a call left open while kontakt was away", "call_id", c.ID, "channel", c.ChannelID)
			if err := s.o.Store.EndCall(ctx, c.ID, time.Now(), string(OutcomeFailed), 0); err != nil {
				return err
			}
		}
		s.openChecked = true
	}
	if s.o.MessagesDir != "" && s.o.Store != nil {
		if err := s.importMessages(ctx, present); err != nil {
			return fmt.Errorf("voice messages: %w", err)
		}
	}
	return nil
}

// route hands one event to the call it concerns; it never blocks.
func (s *Switchboard) route(ev Event) {
	if ev.ARI != nil {
		s.m.eventsKnown.Inc()
	} else {
		s.m.eventsOpaque.Inc()
	}
	if st, ok := ev.ARI.(*ari.StasisStart); ok {
		s.mu.Lock()
		c := s.calls[st.Channel.ID]
		if c == nil {
			c = s.routes[ari.ChannelKey+":"+st.Channel.ID]
		}
		s.mu.Unlock()
		if c != nil {
			c.mb.put(ev)
			return
		}
		if strings.HasPrefix(st.Channel.ID, ownPrefix) {
			s.log.Debug("own channel with no owner", "channel", st.Channel.ID)
			return
		}
		if s.drain.Load() {
			go s.refuse(st.Channel.ID)
			return
		}
		s.startCall(st.Channel, false)
		return
	}
	s.mu.Lock()
	var target *Call
	for _, k := range ev.keys() {
		if c := s.routes[k]; c != nil {
			target = c
			break
		}
	}
	s.mu.Unlock()
	if target != nil {
		target.mb.put(ev)
		return
	}
	if ev.Type == "ApplicationReplaced" {
		s.log.Error("another connection took over the stasis application; two controllers are consuming one app", "app", s.o.ARI.App)
	}
}

// refuse sends a call that arrived while draining back to the dialplan's retry loop.
func (s *Switchboard) refuse(channelID string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.o.ARI.RequestTimeout)
	defer cancel()
	if err := s.rest.continueTo(ctx, channelID, "hotline", "retry", 1); err != nil && !isNotFound(err) {
		s.log.Warn("could not return a call to the dialplan while draining", "channel", channelID, "err", err)
	}
}

// register routes events about key ("kind:id") to c. Register before creating the object in
// Asterisk so that no event about it is missed.
func (s *Switchboard) register(c *Call, key string) {
	s.mu.Lock()
	s.routes[key] = c
	s.mu.Unlock()
}

func (s *Switchboard) unregister(key string) {
	s.mu.Lock()
	delete(s.routes, key)
	s.mu.Unlock()
}

// startCall creates the call's goroutine for a channel (once).
func (s *Switchboard) startCall(ch ari.ChannelData, adopted bool) {
	s.mu.Lock()
	if _, ok := s.calls[ch.ID]; ok {
		s.mu.Unlock()
		return
	}
	c := newCall(s, ch, adopted)
	s.calls[ch.ID] = c
	s.routes[ari.ChannelKey+":"+ch.ID] = c
	s.wg.Add(1)
	s.jwg.Add(1)
	s.mu.Unlock()
	s.m.callsStarted.Inc()
	s.m.callsActive.Inc()
	s.journals.Add(1)
	go func() {
		defer s.jwg.Done()
		defer s.journals.Add(-1)
		c.journal.run(context.WithoutCancel(s.callCtx))
	}()
	go func() {
		defer s.wg.Done()
		c.run(s.callCtx)
		s.mu.Lock()
		delete(s.calls, ch.ID)
		for k, v := range s.routes {
			if v == c {
				delete(s.routes, k)
			}
		}
		s.mu.Unlock()
		s.m.callsActive.Dec()
	}()
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// SetFlow sets the flow calls run (before Run).
func (s *Switchboard) SetFlow(f Flow) { s.o.Flow = f }

// WithStore sets the store (before Run) and returns s.
func (s *Switchboard) WithStore(st Store) *Switchboard {
	s.o.Store = st
	return s
}
