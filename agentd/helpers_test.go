package agentd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"kontakt/agentd/agent"
	"kontakt/agentd/media"
	"kontakt/agentd/media/tone"
	"kontakt/agentd/protocol"
	"kontakt/internal/auth"
)

// principals are the stub sign-in's users: the cookie kontakt_session carries the login.
var principals = map[string]auth.Principal{
	"anna":  {UserID: 17, Login: "anna", Name: "Anna Nowak", Roles: []auth.Role{auth.RoleConsultant}},
	"bruno": {UserID: 18, Login: "bruno", Name: "Bruno Broker", Roles: []auth.Role{auth.RoleBroker}},
	"sara":  {UserID: 19, Login: "sara", Name: "Sara Supervisor", Roles: []auth.Role{auth.RoleSupervisor}},
	"wiola": {UserID: 20, Login: "wiola", Name: "Wiola Unit", Roles: []auth.Role{auth.RoleUnitWorker}},
	"adam":  {UserID: 21, Login: "adam", Name: "Adam Admin", Roles: []auth.Role{auth.RoleAdministrator}},
}

// stubAuth stands in for internal/auth's session middleware.
func stubAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("kontakt_session"); err == nil {
			login, n, numbered := strings.Cut(c.Value, "#") // "anna#7": another user with anna's roles
			if p, ok := principals[login]; ok {
				if numbered {
					i, _ := strconv.Atoi(n)
					p.UserID, p.Login = int64(1000+i), c.Value
				}
				r = r.WithContext(auth.WithPrincipal(r.Context(), p))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// call is one recorded call of the fake call side.
type call struct {
	Method string
	Agent  AgentID
	Call   CallID
	Arg    string
}

func (c call) String() string { return fmt.Sprintf("%s %s %s %s", c.Method, c.Agent, c.Call, c.Arg) }

// fakeCalls records every call and behaves like a small call side: state changes are reported
// back, accept connects, hold/resume are confirmed, hang-up and transfer end the call and start
// wrap-up. fail makes a method return an error.
type fakeCalls struct {
	srv   *Server
	calls chan call
	gone  chan call
	mu    sync.Mutex
	fail  map[string]error
	async bool // Accept connects from another goroutine, after returning
}

func newFakeCalls() *fakeCalls {
	return &fakeCalls{calls: make(chan call, 10000), gone: make(chan call, 10000), fail: map[string]error{}}
}

func (f *fakeCalls) record(method string, agent AgentID, c CallID, arg string) error {
	f.calls <- call{method, agent, c, arg}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail[method]
}

func (f *fakeCalls) setFail(method string, err error) {
	f.mu.Lock()
	f.fail[method] = err
	f.mu.Unlock()
}

func (f *fakeCalls) SetState(_ context.Context, a AgentID, st protocol.AgentState, reason string) error {
	if err := f.record("SetState", a, "", string(st)+"/"+reason); err != nil {
		return err
	}
	return f.srv.StateChanged(a, st, reason, time.Now())
}

func (f *fakeCalls) Accept(_ context.Context, a AgentID, c CallID) error {
	if err := f.record("Accept", a, c, ""); err != nil {
		return err
	}
	if f.async {
		go func() { _ = f.srv.CallConnected(a, c) }()
		return nil
	}
	_ = f.srv.StateChanged(a, protocol.StateOnCall, "", time.Now())
	return f.srv.CallConnected(a, c)
}

func (f *fakeCalls) Reject(_ context.Context, a AgentID, c CallID, reason string) error {
	return f.record("Reject", a, c, reason)
}

func (f *fakeCalls) end(a AgentID, c CallID, reason string) {
	_ = f.srv.CallEnded(a, c, reason)
	_ = f.srv.WrapupStarted(a, c, time.Now().Add(2*time.Minute))
	_ = f.srv.StateChanged(a, protocol.StateWrapup, "", time.Now())
}

func (f *fakeCalls) Hangup(_ context.Context, a AgentID, c CallID, reason string) error {
	if err := f.record("Hangup", a, c, reason); err != nil {
		return err
	}
	f.end(a, c, reason)
	return nil
}

func (f *fakeCalls) Hold(_ context.Context, a AgentID, c CallID) error {
	if err := f.record("Hold", a, c, ""); err != nil {
		return err
	}
	return f.srv.CallHeld(a, c)
}

func (f *fakeCalls) Resume(_ context.Context, a AgentID, c CallID) error {
	if err := f.record("Resume", a, c, ""); err != nil {
		return err
	}
	return f.srv.CallResumed(a, c)
}

func (f *fakeCalls) Mute(_ context.Context, a AgentID, c CallID, on bool) error {
	return f.record("Mute", a, c, fmt.Sprint(on))
}

func (f *fakeCalls) RecordPause(_ context.Context, a AgentID, c CallID, paused bool) error {
	return f.record("RecordPause", a, c, fmt.Sprint(paused))
}

func (f *fakeCalls) DTMF(_ context.Context, a AgentID, c CallID, digits string) error {
	return f.record("DTMF", a, c, digits)
}

func (f *fakeCalls) Transfer(_ context.Context, a AgentID, c CallID, queue, note string) error {
	if err := f.record("Transfer", a, c, queue+"/"+note); err != nil {
		return err
	}
	f.end(a, c, "transferred")
	return nil
}

func (f *fakeCalls) WrapUp(_ context.Context, a AgentID, c CallID, w protocol.WrapupSubmit) error {
	arg := ""
	if w.Update != nil {
		arg = string(w.Update.Kind) + "/" + w.Update.Category
	}
	if err := f.record("WrapUp", a, c, arg); err != nil {
		return err
	}
	_ = f.srv.StateChanged(a, protocol.StatePaused, "after_call", time.Now())
	return nil
}

func (f *fakeCalls) AgentGone(a AgentID, reason string) {
	_ = f.record("AgentGone", a, "", reason)
	f.gone <- call{"AgentGone", a, "", reason}
}

// expect waits for the next recorded call with that method (others are skipped) and returns it.
func (f *fakeCalls) expect(t testing.TB, method string) call {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case c := <-f.calls:
			if c.Method == method {
				return c
			}
		case <-deadline:
			t.Fatalf("no %s call", method)
		}
	}
}

// env is a test's server and its surroundings.
type env struct {
	srv   *Server
	calls *fakeCalls
	ts    *httptest.Server
	eng   *media.Engine
}

// loopbackMedia gathers loopback candidates only: tests send nothing beyond 127.0.0.1.
var loopbackMedia = media.Config{IncludeLoopback: true, Networks: []string{"127.0.0.1/32"}}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	e := &env{calls: newFakeCalls()}
	if opts.Media == nil {
		eng, err := media.New(loopbackMedia)
		if err != nil {
			t.Fatal(err)
		}
		e.eng = eng
		opts.Media = eng
	} else {
		e.eng = opts.Media
	}
	opts.Calls = e.calls
	e.srv = NewServer(opts)
	e.calls.srv = e.srv
	e.ts = httptest.NewServer(stubAuth(e.srv.Handler()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.srv.Close(ctx)
		e.ts.Close()
		_ = e.eng.Close()
	})
	return e
}

func (e *env) dial(t testing.TB, login string, o agent.Options) *agent.Agent {
	t.Helper()
	if o.Engine == nil && !o.NoMedia {
		o.Engine = e.eng
	}
	a, err := agent.Dial(ctxT(t, 10*time.Second), e.ts.URL, login, o)
	if err != nil {
		t.Fatalf("dial %s: %v", login, err)
	}
	t.Cleanup(a.Close)
	return a
}

// raw opens a plain WebSocket (for broken frames); it returns the upgrade response on failure.
func (e *env) raw(t testing.TB, login, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if login != "" {
		h.Set("Cookie", "kontakt_session="+login)
	}
	if origin == "" {
		origin = e.ts.URL
	}
	h.Set("Origin", origin)
	u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/api/v1/agent/ws"
	ws, resp, err := websocket.DefaultDialer.Dial(u, h)
	if err == nil {
		t.Cleanup(func() { _ = ws.Close() })
	}
	return ws, resp, err
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// next waits for the agent's next event of type typ (others are skipped).
func next(t testing.TB, a *agent.Agent, typ protocol.Type) protocol.Envelope {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case env, ok := <-a.Events():
			if !ok {
				t.Fatalf("events closed waiting for %s", typ)
			}
			if env.Type == typ {
				return env
			}
		case <-deadline:
			t.Fatalf("no %s event", typ)
		}
	}
}

// eventually waits for cond, checking it every millisecond (a condition, not a sleep).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func sampleOffer(n int) protocol.Offer {
	now := time.Now().UTC().Truncate(time.Second)
	return protocol.Offer{
		OfferID: fmt.Sprintf("o-%d", n), CallID: fmt.Sprintf("call-%d", n), Queue: "waste",
		ExpiresAt: now.Add(15 * time.Second), Caller: protocol.Caller{Number: "+48600100200"}, Language: "pl",
		WaitedMS: 41250,
		Ticket: protocol.Ticket{Number: fmt.Sprintf("2026/03/%06d", n), Kind: protocol.KindUnknown, Status: "new",
			Channel: "phone", CreatedAt: now, Fields: map[string]string{"district": "Mokotów"}},
		RecentTickets: []protocol.TicketSummary{{Number: "2026/02/004411", Kind: protocol.KindIntervention, Status: "forwarded",
			Category: "roads.pothole", Summary: "Pothole at Puławska 12", CreatedAt: now.Add(-30 * 24 * time.Hour)}},
		IVRPath: []protocol.IVRStep{{Node: "welcome", Label: "Powitanie"}, {Node: "language", Label: "Wybór języka", Digits: "1"},
			{Node: "topics", Label: "Tematy", Digits: "3"}},
		Articles: []protocol.Article{{ID: "kb-412", Title: "Odbiór odpadów wielkogabarytowych"}},
	}
}

// fakeAsterisk stands in for an externalMedia channel: it sends a µ-law tone as RTP to the
// relay leg and detects the frequency it receives.
type fakeAsterisk struct {
	conn *net.UDPConn
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	pcm  []int16
}

func newFakeAsterisk(t testing.TB, freq float64, target *net.UDPAddr) *fakeAsterisk {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeAsterisk{conn: conn, stop: make(chan struct{})}
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		buf := make([]byte, 1500)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) == nil {
				a.mu.Lock()
				a.pcm = tone.DecodeFrame(a.pcm, p.Payload)
				if len(a.pcm) > 2*tone.SampleRate {
					a.pcm = append(a.pcm[:0], a.pcm[len(a.pcm)-tone.SampleRate:]...)
				}
				a.mu.Unlock()
			}
		}
	}()
	go func() {
		defer a.wg.Done()
		gen := tone.NewSine(freq, 0.5)
		seq, ts, ssrc := uint16(rand.Uint32()), rand.Uint32(), rand.Uint32()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		payload := make([]byte, tone.FrameSamples)
		for {
			select {
			case <-a.stop:
				return
			case <-tick.C:
			}
			gen.Frame(payload)
			b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}).Marshal()
			seq++
			ts += tone.FrameSamples
			_, _ = conn.WriteToUDP(b, target)
		}
	}()
	t.Cleanup(a.close)
	return a
}

func (a *fakeAsterisk) addr() *net.UDPAddr { return a.conn.LocalAddr().(*net.UDPAddr) }

func (a *fakeAsterisk) waitTone(t testing.TB, freq float64) {
	t.Helper()
	eventually(t, fmt.Sprintf("asterisk hears %v Hz", freq), func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		if len(a.pcm) < 1600 {
			return false
		}
		f, s := tone.Dominant(a.pcm[len(a.pcm)-1600:], 100, 3900, 10)
		return f == freq && s > 0.8
	})
}

func (a *fakeAsterisk) close() {
	select {
	case <-a.stop:
		return
	default:
	}
	close(a.stop)
	_ = a.conn.Close()
	a.wg.Wait()
}

// agentdGoroutines lists goroutines running this package's code (or the headless agent's).
func agentdGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "kontakt/agentd.") || strings.Contains(g, "kontakt/agentd/agent.") {
			if !strings.Contains(g, "agentdGoroutines") && !strings.Contains(g, "testing.tRunner") {
				out = append(out, g)
			}
		}
	}
	return out
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
