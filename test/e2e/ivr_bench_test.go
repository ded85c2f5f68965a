package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"kontakt/internal/resident"
	"kontakt/internal/store"
	"kontakt/internal/switchboard"
)

// benchMenu is a small version of menu 19115 with short prompts: a greeting, a topics menu
// waiting for one key, and queues that say one word before routing.
const benchMenu = `{
  "format": 1, "id": "19115", "version": 1,
  "languages": ["pl"], "default_language": "pl", "timezone": "Europe/Warsaw",
  "start": "welcome",
  "nodes": {
    "welcome": {"kind": "play", "next": "topics", "prompt": {"pl": "Dzień dobry."}},
    "topics": {"kind": "menu", "timeout": "10s", "retries": 1, "fallback": "general",
      "prompt": {"pl": "Jeden albo dwa."}, "invalid": {"pl": "Nie."},
      "options": [{"digit": "1", "next": "waste"}, {"digit": "2", "next": "roads"}]},
    "waste": {"kind": "queue", "queue": "waste", "prompt": {"pl": "Odpady."}},
    "roads": {"kind": "queue", "queue": "roads", "prompt": {"pl": "Drogi."}},
    "general": {"kind": "queue", "queue": "general", "prompt": {"pl": "Konsultant."}}
  }
}`

// ivrTimes are one call's latencies taken from its call events.
type ivrTimes struct {
	startToPrompt time.Duration // stasis_start → first prompt_started
	dtmfToPrompt  time.Duration // dtmf → the next prompt_started
	controller    time.Duration // dtmf → ivr_play (Kontakt decided and is about to send the play request)
	// answered → the first ivr_play: Kontakt's own part of the start (the menu starts, the first
	// play is decided); the rest of StasisStart → first prompt is ARI requests (bridge, answer, play).
	startController time.Duration
}

// ivrCallTimes reads a call's latencies from its events.
func ivrCallTimes(evs []store.CallEvent) (ivrTimes, error) {
	var t ivrTimes
	var start, answered, firstPlay, firstPrompt, dtmf, play, next time.Time
	for _, e := range evs {
		switch e.Type {
		case "stasis_start":
			start = e.At
		case "answered":
			answered = e.At
		case "prompt_started":
			if firstPrompt.IsZero() {
				firstPrompt = e.At
			}
			if !dtmf.IsZero() && next.IsZero() {
				next = e.At
			}
		case "dtmf":
			if dtmf.IsZero() {
				dtmf = e.At
			}
		case "ivr_play":
			if firstPlay.IsZero() {
				firstPlay = e.At
			}
			if !dtmf.IsZero() && play.IsZero() {
				play = e.At
			}
		}
	}
	if start.IsZero() || answered.IsZero() || firstPrompt.IsZero() || dtmf.IsZero() || play.IsZero() || next.IsZero() {
		return t, fmt.Errorf("incomplete events: stasis_start %v, first prompt %v, dtmf %v, ivr_play %v, next prompt %v",
			!start.IsZero(), !firstPrompt.IsZero(), !dtmf.IsZero(), !play.IsZero(), !next.IsZero())
	}
	return ivrTimes{startToPrompt: firstPrompt.Sub(start), dtmfToPrompt: next.Sub(dtmf), controller: play.Sub(dtmf),
		startController: firstPlay.Sub(answered)}, nil
}

// BenchmarkIVR100Callers runs 100 simulated residents at once through a small published menu
// on the real stack (Asterisk, Postgres, kontakt in-process): each hears the greeting and the
// topics prompt, keys 1 while the menu waits, and hears the queue's prompt. It reports, from
// the calls' events, StasisStart → first prompt started, DTMF received → next prompt started,
// and the part Kontakt adds: DTMF received → the play request about to be sent (ivr_play), and
// at the start, answered → the first play request. The dtmf event is recorded when the call's
// goroutine takes the event from its mailbox, so the wait in the mailbox is not counted.
func BenchmarkIVR100Callers(b *testing.B) {
	const callers = 100
	ctx := context.Background()
	cfg := testConfig()
	a, err := newAppB(b, cfg, nil) // the IVR flow on menu 19115
	if err != nil {
		b.Fatal(err)
	}
	if !a.Board.Connected() {
		b.Fatal("kontakt did not connect to asterisk")
	}
	prev, hadPrev := a.Menus.Current("19115")
	v, probs, err := a.Menus.SaveDraft(ctx, []byte(benchMenu), "benchmark")
	if err != nil || len(probs) > 0 {
		b.Fatalf("save the benchmark menu: %v %v", err, probs)
	}
	if _, err := a.Menus.Publish(ctx, "19115", v.Version, "benchmark"); err != nil {
		b.Fatal(err)
	}
	if hadPrev {
		b.Cleanup(func() { a.Menus.Rollback(ctx, "19115", prev.Version, "benchmark") })
	}
	cl, err := resident.Dial(ctx, resident.Options{ARI: switchboard.ARIOptions{
		URL: cfg.ARI.URL, User: cfg.ARI.User, Password: cfg.ARI.Password}})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	// The greeting and the topics prompt last about 2 s together; the key comes after them, while
	// the menu waits (10 s), then the resident listens to the queue's prompt and hangs up.
	steps, err := resident.ParseScript("wait 5s, dtmf 1, wait 3s, hangup")
	if err != nil {
		b.Fatal(err)
	}
	var all []ivrTimes
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		refs := make([]string, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				res, err := cl.Place(cctx, resident.Call{CallerID: fmt.Sprintf("+48600%06d", 200000+i), Steps: steps})
				refs[i], errs[i] = res.Ref, err
			}()
		}
		wg.Wait()
		b.StopTimer()
		for i, ref := range refs {
			if errs[i] != nil {
				b.Fatalf("caller %d: %v", i, errs[i])
			}
			c := endedCallB(b, a.Store, ref)
			evs, err := a.Store.CallEvents(ctx, c.ID)
			if err != nil {
				b.Fatal(err)
			}
			t, err := ivrCallTimes(evs)
			if err != nil {
				for _, e := range evs {
					b.Logf("%d %s %s %v", e.Seq, e.At.Format("15:04:05.000"), e.Type, e.Data)
				}
				b.Fatalf("caller %d (%s): %v", i, ref, err)
			}
			all = append(all, t)
		}
		b.StartTimer()
	}
	b.StopTimer()
	pick := func(f func(ivrTimes) time.Duration) []time.Duration {
		ds := make([]time.Duration, len(all))
		for i, t := range all {
			ds[i] = f(t)
		}
		return ds
	}
	ms := func(name string, ds []time.Duration) {
		b.ReportMetric(float64(percentile(ds, 0.5))/float64(time.Millisecond), name+"-p50-ms")
		b.ReportMetric(float64(percentile(ds, 0.99))/float64(time.Millisecond), name+"-p99-ms")
	}
	ms("start-to-prompt", pick(func(t ivrTimes) time.Duration { return t.startToPrompt }))
	ms("dtmf-to-prompt", pick(func(t ivrTimes) time.Duration { return t.dtmfToPrompt }))
	ms("controller", pick(func(t ivrTimes) time.Duration { return t.controller }))
	ms("start-controller", pick(func(t ivrTimes) time.Duration { return t.startController }))
	b.ReportMetric(float64(len(all)), "calls")
}

// endedCallB waits until the call carrying ref is closed in the database.
func endedCallB(b *testing.B, st *store.Store, ref string) store.Call {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := st.CallByRef(context.Background(), ref)
		if err == nil && c.EndedAt != nil {
			return c
		}
		if time.Now().After(deadline) {
			b.Fatalf("call %s not closed in the database after 30 s (last error: %v)", ref, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
