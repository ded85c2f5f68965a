// Package app wires Kontakt's parts into one process: the store, the switchboard, and the HTTP
// server (health, readiness, metrics). It starts in order, stops in reverse order, binds its
// listener before serving (Addr), and drains like a phone system: first no new calls while the
// active ones finish, then force.
package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kontakt/agentd"
	"kontakt/agentd/media"
	"kontakt/internal/auth"
	"kontakt/internal/center"
	"kontakt/internal/config"
	"kontakt/internal/crm"
	"kontakt/internal/crm/open311"
	"kontakt/internal/menus"
	"kontakt/internal/store"
	"kontakt/internal/switchboard"
	"kontakt/ivr"
	"kontakt/ivr/prompt"
	"kontakt/recording"
)

// Version is set at build time (-ldflags "-X kontakt/internal/app.Version=…").
var Version = "dev"

// Options are what a caller (main or a test) gives the app besides the configuration.
type Options struct {
	Log *slog.Logger
	// Flow overrides the call flow (tests); nil runs the published 19115 menu.
	Flow switchboard.Flow
}

// App is one running Kontakt.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	reg      *prometheus.Registry
	pool     *pgxpool.Pool
	Store    *store.Store
	Board    *switchboard.Switchboard
	Menus    *menus.Service
	Auth     *auth.Service
	CRM      *crm.Service
	Archive  *recording.Archive
	Center   *center.Center
	Agents   *agentd.Server
	media    *media.Engine
	Renderer *prompt.Renderer
	flow     switchboard.Flow
	listener net.Listener
	server   *http.Server
	cancel   context.CancelFunc
	cleanup  []func()
	runDone  chan struct{}
	stopOnce sync.Once
}

// New checks the configuration and builds the app; nothing is started yet.
func New(cfg config.Config, o Options) (*App, error) {
	if probs := cfg.Validate(); len(probs) > 0 {
		return nil, probs
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, log: o.Log, reg: prometheus.NewRegistry(), runDone: make(chan struct{})}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.flow = o.Flow
	a.Board = switchboard.New(switchboard.Options{
		ARI: switchboard.ARIOptions{URL: cfg.ARI.URL, User: cfg.ARI.User, Password: cfg.ARI.Password, App: cfg.ARI.App,
			MaxConns: cfg.ARI.MaxConns, RequestTimeout: cfg.ARI.RequestTimeout.D()},
		Flow:           o.Flow,
		MessagesDir:    cfg.Calls.MessagesDir,
		ReconcileEvery: cfg.Calls.ReconcileEvery.D(),
		ReconnectMin:   cfg.ARI.ReconnectMin.D(),
		ReconnectMax:   cfg.ARI.ReconnectMax.D(),
		Log:            o.Log,
		Registerer:     a.reg,
	})
	return a, nil
}

// Start connects the pool, applies migrations, binds the listener and starts serving and the
// switchboard. On error, whatever started is stopped.
func (a *App) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			a.runCleanup()
		}
	}()
	pool, err := store.Open(ctx, a.cfg.Database.URL, a.cfg.Database.MaxConns)
	if err != nil {
		return err
	}
	a.pool = pool
	a.cleanup = append(a.cleanup, pool.Close)
	a.Store = store.New(pool, a.cfg.Location())
	mctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	applied, err := store.Migrate(mctx, pool)
	cancel()
	if err != nil {
		return fmt.Errorf("database %s: %w", redact(a.cfg.Database.URL), err)
	}
	if len(applied) > 0 {
		a.log.Info("migrations applied", "versions", applied)
	}
	a.Auth = auth.NewService(pool, auth.Options{Log: a.log})
	a.CRM = crm.New(pool, crm.Options{Location: a.cfg.Location(), Log: a.log})
	a.Board.WithStore(callStore{Store: a.Store, crm: a.CRM})
	if err := os.MkdirAll(a.cfg.Recording.ArchiveDir, 0o755); err != nil {
		return fmt.Errorf("recording.archive_dir: %w", err)
	}
	a.Archive, err = recording.New(pool, recording.Options{Root: a.cfg.Recording.ArchiveDir,
		Policy: recording.Policy{Months: a.cfg.Recording.RetentionMonths, Zone: a.cfg.Location()},
		Logger: a.log, Actor: "kontakt serve (scheduled purge)", ConsultantsOwnCalls: a.cfg.Recording.ConsultantsOwnCalls})
	if err != nil {
		return fmt.Errorf("recordings: %w", err)
	}
	if err := a.startAgents(); err != nil {
		return err
	}
	if err := a.startIVR(ctx); err != nil {
		return err
	}
	l, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %s: %w", a.cfg.Listen, err)
	}
	a.listener = l
	a.server = &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := a.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server stopped", "err", err)
		}
	}()
	a.cleanup = append(a.cleanup, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.server.Shutdown(sctx)
	})
	rctx, rcancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = rcancel
	storage := recording.NewStorage(a.reg, a.Archive, recording.StorageOptions{})
	hour, minute, _ := a.cfg.PurgeTime()
	go storage.Run(rctx, 5*time.Minute)
	go a.Archive.RunDaily(rctx, hour, minute, storage)
	go a.purgeSessions(rctx)
	go a.escalate(rctx)
	if n, err := a.Center.RestoreCallbacks(ctx); err != nil {
		a.log.Error("kept callbacks not restored", "err", err)
	} else if n > 0 {
		a.log.Info("kept callbacks back in their queues", "callbacks", n)
	}
	go a.Center.Run(rctx)
	go func() {
		defer close(a.runDone)
		a.Board.Run(rctx)
	}()
	a.log.Info("kontakt started", "version", Version, "listen", l.Addr().String(), "ari", a.cfg.ARI.URL)
	return nil
}

// startAgents builds the ACD coordinator, the WebRTC media engine and the agents' server.
func (a *App) startAgents() error {
	m := a.cfg.Media
	eng, err := media.New(media.Config{UDPMux: m.UDPMux, PortMin: uint16(m.PortMin), PortMax: uint16(m.PortMax),
		Networks: m.Networks, PublicIPs: m.PublicIPs, IncludeLoopback: m.IncludeLoopback, Logger: a.log})
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	a.media = eng
	a.cleanup = append(a.cleanup, func() { eng.Close() })
	a.Center = center.New(center.Options{Queues: ivr.DefaultQueues(), WrapUp: a.cfg.ACD.WrapUp.D(), Ring: a.cfg.ACD.Ring.D(),
		Users: a.Auth, CRM: a.CRM, Store: a.Store, Log: a.log,
		Recordings: a.Archive, RecordingSpool: a.cfg.Recording.SpoolDir,
		AnnounceFirst: a.cfg.ACD.AnnounceFirst.D(), AnnounceEvery: a.cfg.ACD.AnnounceEvery.D(),
		Dialer: a.Board, Callback: center.CallbackOptions{OfferAfter: a.cfg.ACD.Callback.OfferAfter.D(),
			Endpoint: a.cfg.ACD.Callback.Endpoint, CallerID: a.cfg.ACD.Callback.CallerID, Attempts: a.cfg.ACD.Callback.Attempts,
			Retry: a.cfg.ACD.Callback.Retry.D(), Ring: a.cfg.ACD.Callback.Ring.D()}})
	a.Center.RegisterMetrics(a.reg)
	a.Agents = agentd.NewServer(agentd.Options{Calls: a.Center, Media: eng, Log: a.log, Registerer: a.reg,
		ServerName: "kontakt " + Version})
	a.Center.SetAgents(a.Agents)
	return nil
}

// startIVR prepares the prompt renderer and the menus (publishing the default 19115 menu on a
// new database: its prompts are rendered now, never on the call path) and makes the menu the
// call flow unless a test gave its own.
func (a *App) startIVR(ctx context.Context) error {
	r, err := prompt.New(ctx, filepath.Join(a.cfg.Calls.PromptsDir, "cache"),
		prompt.Options{AudioDir: filepath.Join(a.cfg.Calls.PromptsDir, "uploads")})
	if err != nil {
		return fmt.Errorf("prompts: %w", err)
	}
	a.Renderer = r
	a.Center.SetSpeaker(r)
	a.Menus = menus.New(a.pool, menus.Options{Renderer: r, Log: a.log})
	if err := a.Menus.EnsureDefault(ctx); err != nil {
		return fmt.Errorf("menus: %w", err)
	}
	if a.flow == nil {
		a.Board.SetFlow(&switchboard.IVRFlow{MenuID: "19115", Menus: a.Menus, Speaker: r,
			Tickets: switchboard.StoreLookup{Store: a.Store}, Router: a.Center, Callbacks: a.Center})
	}
	return nil
}

// escalate runs the overdue-ticket escalation every minute: the owning consultant first, then
// the supervisor (internal/ticket's policy).
func (a *App) escalate(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			esc, err := a.CRM.RunEscalations(ctx, now)
			if err != nil && ctx.Err() == nil {
				a.log.Warn("ticket escalation failed", "err", err)
			}
			for _, e := range esc {
				a.log.Info("overdue ticket escalated", "escalation", fmt.Sprintf("%+v", e))
			}
		}
	}
}

// purgeSessions removes long-ended sessions and sign-in attempts past retention, hourly.
func (a *App) purgeSessions(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			// Sign-in attempts are the audit trail of sign-ins: kept as long as the retention rule.
			keep := now.AddDate(0, -(a.cfg.Recording.RetentionMonths + 1), 0)
			if _, _, err := a.Auth.Purge(ctx, keep); err != nil && ctx.Err() == nil {
				a.log.Warn("session purge failed", "err", err)
			}
		}
	}
}

// Addr is the address the HTTP server listens on (useful with port 0).
func (a *App) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// Drain stops taking new calls; active calls continue.
func (a *App) Drain() {
	a.Board.Drain()
	a.log.Info("draining: no new calls; active calls continue", "active_calls", a.Board.Active())
}

// Stop ends the app. With force false it first waits (up to drain.timeout, or until ctx ends)
// for active calls to finish; then it hangs up what remains, waits a bounded time for the
// calls' rows to be written, and stops the switchboard, the server and the pool.
func (a *App) Stop(ctx context.Context, force bool) {
	a.stopOnce.Do(func() {
		a.Board.Drain()
		if !force {
			dctx, cancel := context.WithTimeout(ctx, a.cfg.Drain.Timeout.D())
			if err := a.Board.WaitCalls(dctx); err != nil {
				a.log.Warn("drain ended with calls still active", "active_calls", a.Board.Active())
			}
			cancel()
		}
		fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if a.Agents != nil {
			a.Agents.Close(fctx)
		}
		a.Board.Force(fctx)
		cancel()
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if n := a.Board.WaitWrites(wctx); n > 0 {
			a.log.Error("stopping with call rows not yet written (the database is unavailable)", "calls", n)
		}
		if a.Center != nil && a.Center.Wait(wctx) != nil {
			a.log.Error("stopping with recordings or ticket notes not yet written")
		}
		cancel()
		if a.cancel != nil {
			a.cancel()
			<-a.runDone
		}
		a.runCleanup()
		a.log.Info("kontakt stopped")
	})
}

func (a *App) runCleanup() {
	for i := len(a.cleanup) - 1; i >= 0; i-- {
		a.cleanup[i]()
	}
	a.cleanup = nil
}

// Ready reports why the app is not ready, or nil.
func (a *App) Ready(ctx context.Context) error {
	var errs []error
	if !a.Board.Connected() {
		errs = append(errs, errors.New("asterisk: ARI not connected"))
	}
	if a.Board.Draining() {
		errs = append(errs, errors.New("draining"))
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.Store.Ping(pctx); err != nil {
		errs = append(errs, fmt.Errorf("postgres: %v", err))
	}
	return errors.Join(errs...)
}

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := a.Ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	a.Auth.Register(mux)
	a.Menus.Register(mux)
	crm.NewHandler(a.CRM).Register(mux)
	open311.NewHandler(a.CRM, open311.Options{Log: a.log}).Register(mux)
	recording.NewHandler(a.Archive).Register(mux)
	a.Center.Register(mux)
	mux.Handle("GET /api/v1/agent/ws", a.Agents)
	mux.Handle("/agent/", http.StripPrefix("/agent", a.Agents.UI()))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, indexPage, Version)
	})
	return instrument(a.reg, mux, a.Auth.Middleware)
}

const indexPage = `<!doctype html><html lang="pl"><head><meta charset="utf-8"><title>Kontakt 19115</title></head>
<body><h1>Kontakt — centrum kontaktu 19115</h1><p>Wersja %s.</p>
<ul><li><a href="/agent/">stanowisko konsultanta (agent desktop)</a></li>
<li><a href="/api/v1/openapi.yaml">API (OpenAPI)</a></li><li><a href="/open311/v2/services.json">Open311 GeoReport v2</a></li>
<li><a href="/readyz">gotowość (readyz)</a></li><li><a href="/metrics">metryki (metrics)</a></li></ul></body></html>`

// instrument measures every request; wrap (the session middleware) runs inside the measurement.
func instrument(reg prometheus.Registerer, mux *http.ServeMux, wrap func(http.Handler) http.Handler) http.Handler {
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kontakt_http_request_duration_seconds",
		Help: "HTTP request latency, by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route", "code"})
	reg.MustRegister(dur)
	h := wrap(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: 200}
		h.ServeHTTP(sw, r)
		route := "other"
		if _, p := mux.Handler(r); p != "" {
			route = p
		}
		dur.WithLabelValues(route, fmt.Sprint(sw.code)).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Hijack lets the agents' WebSocket upgrade through the measurement.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be taken over")
	}
	w.code = http.StatusSwitchingProtocols
	return h.Hijack()
}

// Flush passes streaming (recordings) through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func redact(u string) string {
	if at := strings.LastIndex(u, "@"); at > 0 {
		return "postgres://…" + u[at:]
	}
	return u
}
