package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"kontakt/internal/config"
	"kontakt/internal/resident"
	"kontakt/internal/stack"
	"kontakt/internal/store"
	"kontakt/internal/switchboard"
)

// ownAsterisk starts a second Asterisk for a test that stops and starts it, with a fixed port
// and password so that kontakt's configuration stays valid across restarts.
func ownAsterisk(t *testing.T, start bool, retries int) (*stack.Asterisk, config.Config) {
	t.Helper()
	port, err := stack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	o := stack.AsteriskOptions{Dir: filepath.Join(t.TempDir(), "asterisk"), HTTPPort: port, ARIPassword: "test-secret", Retries: retries}
	cfg := testConfig()
	cfg.ARI.URL = "http://127.0.0.1:" + itoa(port)
	cfg.ARI.Password = o.ARIPassword
	cfg.Calls.MessagesDir = filepath.Join(o.Dir, "spool", "kontakt-messages")
	if !start {
		return &stack.Asterisk{}, cfg
	}
	ast, err := stack.StartAsterisk(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ast.Stop)
	return ast, cfg
}

func TestE2EAsteriskDownAtStartThenUp(t *testing.T) {
	_, cfg := ownAsterisk(t, false, 0)
	a, err := newApp(t, cfg, switchboard.GreetingFlow{Prompts: []string{env.hello}})
	if err != nil {
		t.Fatal(err)
	}
	// kontakt starts without Asterisk: it runs, is not ready, and keeps trying.
	time.Sleep(700 * time.Millisecond) // let a few connection attempts fail
	if a.Board.Connected() {
		t.Fatal("connected with no Asterisk running")
	}
	if err := a.Ready(context.Background()); err == nil {
		t.Fatal("ready with no Asterisk running")
	}
	ast, err := stack.StartAsterisk(context.Background(), stack.AsteriskOptions{Dir: filepath.Join(t.TempDir(), "asterisk"),
		HTTPPort: portOf(cfg.ARI.URL), ARIPassword: cfg.ARI.Password})
	if err != nil {
		t.Fatal(err)
	}
	defer ast.Stop()
	waitFor(t, 20*time.Second, "kontakt connected once Asterisk came up", a.Board.Connected)
	waitFor(t, 5*time.Second, "kontakt ready", func() bool { return a.Ready(context.Background()) == nil })
	res, err := dialResident(t, cfg).Place(context.Background(), resident.Call{CallerID: "+48600100300", Stay: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if c := endedCall(t, a.Store, res.Ref); c.Outcome != "self_service" {
		t.Fatalf("call after connecting: %+v", c)
	}
}

func TestE2EAsteriskRestartReconnectsAndReconciles(t *testing.T) {
	ast, cfg := ownAsterisk(t, true, 0)
	a := startApp(t, cfg, nil) // the real greeting is long enough to be cut by the restart
	cl := dialResident(t, cfg)
	done := make(chan resident.Result, 1)
	go func() {
		res, _ := cl.Place(context.Background(), resident.Call{CallerID: "+48600100301", Stay: 4 * time.Second})
		done <- res
	}()
	waitFor(t, 10*time.Second, "the call in progress", func() bool { return a.Board.Active() == 1 })
	time.Sleep(1500 * time.Millisecond) // into the greeting
	ast.Kill()                          // a crash: no hangup events reach kontakt; reconciliation must notice
	if err := ast.StartAgain(context.Background()); err != nil {
		t.Fatal(err)
	}
	res := <-done
	waitFor(t, 20*time.Second, "kontakt reconnected", a.Board.Connected)
	c := endedCall(t, a.Store, res.Ref)
	if c.Outcome != "failed" {
		t.Fatalf("a call cut by Asterisk's restart ended as %q, want failed", c.Outcome)
	}
	got := eventTypes(t, a.Store, c.ID)
	if !slices.Contains(got, "lost") {
		t.Fatalf("events %v: want the loss recorded", got)
	}
	// A new resident's call works after the restart.
	cl2 := dialResident(t, cfg)
	steps, _ := resident.ParseScript("wait 1s, hangup")
	res2, err := cl2.Place(context.Background(), resident.Call{CallerID: "+48600100302", Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	if c := endedCall(t, a.Store, res2.Ref); c.Outcome != "abandoned" {
		t.Fatalf("call after restart: %+v", c)
	}
}

func TestE2EDrainKeepsActiveCallsAndSendsNewOnesBack(t *testing.T) {
	cfg := testConfig()
	a := startApp(t, cfg, switchboard.GreetingFlow{Prompts: []string{env.hello, env.hello, env.hello, env.hello, env.hello, env.hello}})
	cl := dialResident(t, cfg)
	first := make(chan resident.Result, 1)
	go func() {
		res, _ := cl.Place(context.Background(), resident.Call{CallerID: "+48600100310", Stay: 30 * time.Second})
		first <- res
	}()
	waitFor(t, 10*time.Second, "the first call in progress", func() bool { return a.Board.Active() == 1 })
	a.Drain()
	// A call arriving while draining goes back to the dialplan, which apologises and retries;
	// a new kontakt takes it when it comes.
	second := make(chan resident.Result, 1)
	go func() {
		res, _ := cl.Place(context.Background(), resident.Call{CallerID: "+48600100311", Stay: 40 * time.Second})
		second <- res
	}()
	r1 := <-first
	if c := endedCall(t, a.Store, r1.Ref); c.Outcome != "self_service" {
		t.Fatalf("the active call did not finish normally while draining: %+v", c)
	}
	if a.Board.Active() != 0 {
		t.Fatalf("a new call was taken while draining (active %d)", a.Board.Active())
	}
	a.Stop(context.Background(), false)
	b := startApp(t, cfg, switchboard.GreetingFlow{Prompts: []string{env.hello}})
	r2 := <-second
	c := endedCall(t, b.Store, r2.Ref)
	if c.Outcome != "self_service" {
		t.Fatalf("the call that waited through the drain: %+v", c)
	}
}

func TestE2EVoiceMessageWhileKontaktIsAway(t *testing.T) {
	ast, cfg := ownAsterisk(t, true, 1)
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(ast.Dir, "log", "messages"))
			t.Logf("asterisk log:\n%s", b)
		}
	}()
	// Short prompts keep the test quick; the dialplan reads them at play time.
	hello, err := os.ReadFile(env.hello[len("sound:"):] + ".wav")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"apology", "leave-message"} {
		if err := os.WriteFile(filepath.Join(ast.SoundsDir(), p+".wav"), hello, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// No kontakt: Stasis() fails, the caller hears the apology, one retry, then leaves a message.
	cl := dialResident(t, cfg)
	steps, _ := resident.ParseScript("wait 5s, tone 800 2s, wait 1s, hangup")
	res, err := cl.Place(context.Background(), resident.Call{CallerID: "+48600100320", Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Answered {
		t.Fatalf("the dialplan did not answer while kontakt was away: %+v", res)
	}
	files, _ := filepath.Glob(filepath.Join(cfg.Calls.MessagesDir, "*.wav"))
	if len(files) != 1 {
		t.Fatalf("messages recorded: %v", files)
	}
	a := startApp(t, cfg, nil)
	var c store.Call
	waitFor(t, 20*time.Second, "the message imported as a ticket", func() bool {
		err := a.Store.DB().QueryRow(context.Background(),
			`SELECT id FROM calls WHERE caller = '+48600100320' AND outcome = 'message'`).Scan(&c.ID)
		return err == nil
	})
	c, _ = a.Store.Call(context.Background(), c.ID)
	tk, err := a.Store.Ticket(context.Background(), c.TicketID)
	if err != nil {
		t.Fatal(err)
	}
	if tk.CallerPhone != "+48600100320" || tk.Description == "" {
		t.Fatalf("ticket %+v", tk)
	}
	if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
		t.Fatalf("message file not moved out of the spool: %v", err)
	}
}

func TestE2EForcedStopEndsCallsAsFailed(t *testing.T) {
	cfg := testConfig()
	a := startApp(t, cfg, nil)
	cl := dialResident(t, cfg)
	done := make(chan resident.Result, 1)
	go func() {
		res, _ := cl.Place(context.Background(), resident.Call{CallerID: "+48600100330", Stay: 60 * time.Second})
		done <- res
	}()
	waitFor(t, 10*time.Second, "the call in progress", func() bool { return a.Board.Active() == 1 })
	a.Stop(context.Background(), true)
	res := <-done
	if res.HungUpBy != "kontakt" {
		t.Fatalf("resident saw %+v", res)
	}
	b := startApp(t, cfg, nil)
	if c := endedCall(t, b.Store, res.Ref); c.Outcome != "failed" {
		t.Fatalf("forced stop: %+v, want failed", c)
	}
}
