package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"kontakt/internal/resident"
	"kontakt/internal/switchboard"
)

// BenchmarkRecordingCPU measures what recording a call costs Asterisk: the same calls (each
// playing prompts for about 20 s) with and without a snoop-channel recording of the caller,
// reported as Asterisk CPU seconds per call-minute.
func BenchmarkRecordingCPU(b *testing.B) {
	const calls = 10
	run := func(record bool) (cpuPerMinute float64) {
		cfg := testConfig()
		flow := flowFunc(func(ctx context.Context, c *switchboard.Call) (switchboard.Outcome, error) {
			if record {
				snoop, err := c.StartRecording(ctx, fmt.Sprintf("bench-%s", c.ID))
				if err != nil {
					return switchboard.OutcomeFailed, err
				}
				defer c.StopRecording(snoop)
			}
			for range 16 {
				if err := c.PlayAndWait(ctx, env.hello); err != nil {
					return switchboard.OutcomeUnknown, err
				}
			}
			return switchboard.OutcomeSelfService, nil
		})
		a, err := newAppB(b, cfg, flow)
		if err != nil {
			b.Fatal(err)
		}
		defer a.Stop(context.Background(), true)
		cl, err := resident.Dial(context.Background(), resident.Options{ARI: switchboard.ARIOptions{
			URL: cfg.ARI.URL, User: cfg.ARI.User, Password: cfg.ARI.Password}})
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		before, err := env.st.Asterisk.CPUTime()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var talk time.Duration
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := cl.Place(context.Background(), resident.Call{CallerID: "+48600100990", Stay: time.Minute})
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				talk += res.Duration
				mu.Unlock()
			}()
		}
		wg.Wait()
		after, _ := env.st.Asterisk.CPUTime()
		b.Logf("record=%v: %d calls, %s of calls in %s wall, Asterisk CPU %s", record, calls, talk.Round(time.Second),
			time.Since(start).Round(time.Second), after-before)
		return (after - before).Seconds() / talk.Minutes()
	}
	for i := 0; i < b.N; i++ {
		without := run(false)
		with := run(true)
		b.ReportMetric(without, "cpu-s/call-min")
		b.ReportMetric(with, "cpu-s/recorded-call-min")
		b.ReportMetric(with-without, "recording-cpu-s/call-min")
	}
}
