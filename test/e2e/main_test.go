// Package e2e runs Kontakt end to end against real Postgres and Asterisk: the stack is started
// once for the package, each test runs kontakt in-process and calls it as a resident would.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v5"

	"kontakt/internal/app"
	"kontakt/internal/config"
	"kontakt/internal/resident"
	"kontakt/internal/stack"
	"kontakt/internal/store"
	"kontakt/internal/switchboard"
	"kontakt/internal/testenv"
)

var env struct {
	st    *stack.Stack
	dir   string
	hello string // a short prompt (sound: URI)
}

func TestMain(m *testing.M) {
	if skip := testenv.RequireMain(); skip != "" {
		fmt.Println("e2e: skipped:", skip)
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "kontakt-e2e-")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	env.dir = dir
	env.st, err = stack.Start(ctx, stack.Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stack:", err)
		os.Exit(1)
	}
	hello := filepath.Join(dir, "hello.wav")
	if err := stack.RenderSpeech(ctx, "pl", "Dzień dobry.", hello); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: prompt:", err)
		env.st.Stop()
		os.Exit(1)
	}
	env.hello = "sound:" + hello[:len(hello)-len(".wav")]
	cancel()
	code := m.Run()
	env.st.Stop()
	if code == 0 {
		os.RemoveAll(dir)
	} else {
		fmt.Fprintln(os.Stderr, "e2e: runtime kept for inspection in", dir)
	}
	os.Exit(code)
}

// testConfig is kontakt's configuration for the package's stack.
func testConfig() config.Config {
	cfg := env.st.KontaktConfig("127.0.0.1:0")
	cfg.ARI.ReconnectMin = config.Duration(100 * time.Millisecond)
	cfg.ARI.ReconnectMax = config.Duration(500 * time.Millisecond)
	cfg.Calls.ReconcileEvery = config.Duration(time.Second)
	cfg.Drain.Timeout = config.Duration(30 * time.Second)
	return cfg
}

// startApp runs kontakt in-process and waits until it is connected to Asterisk.
func startApp(t *testing.T, cfg config.Config, flow switchboard.Flow) *app.App {
	t.Helper()
	a, err := app.New(cfg, app.Options{Log: testLogger(t), Flow: flow})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(ctx, true) })
	waitFor(t, 20*time.Second, "kontakt connected to asterisk", a.Board.Connected)
	return a
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dialResident(t *testing.T, cfg config.Config) *resident.Client {
	t.Helper()
	cl, err := resident.Dial(context.Background(), resident.Options{ARI: switchboard.ARIOptions{
		URL: cfg.ARI.URL, User: cfg.ARI.User, Password: cfg.ARI.Password}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// endedCall waits until the call carrying ref is closed in the database.
func endedCall(t *testing.T, st *store.Store, ref string) store.Call {
	t.Helper()
	var c store.Call
	waitFor(t, 20*time.Second, "call "+ref+" closed in the database", func() bool {
		var err error
		c, err = st.CallByRef(context.Background(), ref)
		return err == nil && c.EndedAt != nil
	})
	return c
}

func eventTypes(t *testing.T, st *store.Store, id store.CallID) []string {
	t.Helper()
	evs, err := st.CallEvents(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, e := range evs {
		if i > 0 && e.Seq <= evs[i-1].Seq {
			t.Fatalf("events out of order: %+v", evs)
		}
		out = append(out, e.Type)
	}
	return out
}

func digit(ev switchboard.Event) string {
	if d, ok := ev.ARI.(*ari.ChannelDtmfReceived); ok {
		return d.Digit
	}
	return ""
}

// newApp starts kontakt without waiting for Asterisk.
func newApp(t *testing.T, cfg config.Config, flow switchboard.Flow) (*app.App, error) {
	a, err := app.New(cfg, app.Options{Log: testLogger(t), Flow: flow})
	if err != nil {
		return nil, err
	}
	if err := a.Start(context.Background()); err != nil {
		return nil, err
	}
	t.Cleanup(func() { a.Stop(context.Background(), true) })
	return a, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func portOf(u string) int {
	p, _ := strconv.Atoi(u[strings.LastIndex(u, ":")+1:])
	return p
}

// newAppB starts kontakt for a benchmark and waits until it is connected.
func newAppB(b *testing.B, cfg config.Config, flow switchboard.Flow) (*app.App, error) {
	a, err := app.New(cfg, app.Options{Flow: flow})
	if err != nil {
		return nil, err
	}
	if err := a.Start(context.Background()); err != nil {
		return nil, err
	}
	b.Cleanup(func() { a.Stop(context.Background(), true) })
	deadline := time.Now().Add(20 * time.Second)
	for !a.Board.Connected() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return a, nil
}

// waitQueued waits until a call from caller, started at or after since, is waiting in a queue.
func waitQueued(t *testing.T, st *store.Store, caller string, since time.Time) {
	t.Helper()
	waitFor(t, 30*time.Second, "the call of "+caller+" queued", func() bool {
		var n int
		st.DB().QueryRow(context.Background(), `SELECT count(*) FROM calls c JOIN call_events e ON e.call_id = c.id
			WHERE c.caller = $1 AND c.started_at >= $2 AND e.type = 'queued'`, caller, since).Scan(&n)
		return n > 0
	})
}
