package e2e

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"kontakt/internal/resident"
	"kontakt/internal/switchboard"
)

// percentile returns the p-th percentile (0..1) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func report(b *testing.B, unit string, scale time.Duration, ds []time.Duration) {
	b.ReportMetric(float64(percentile(ds, 0.5))/float64(scale), "p50-"+unit)
	b.ReportMetric(float64(percentile(ds, 0.99))/float64(scale), "p99-"+unit)
}

// BenchmarkARIRoundTrip measures one ARI REST request (GET /ari/channels) over a kept-alive
// connection to the package's Asterisk.
func BenchmarkARIRoundTrip(b *testing.B) {
	cfg := testConfig()
	client := &http.Client{}
	req, _ := http.NewRequest("GET", cfg.ARI.URL+"/ari/channels", nil)
	req.SetBasicAuth(cfg.ARI.User, cfg.ARI.Password)
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var buf [512]byte
		for {
			if _, err := resp.Body.Read(buf[:]); err != nil {
				break
			}
		}
		resp.Body.Close()
		ds = append(ds, time.Since(t))
	}
	report(b, "µs", time.Microsecond, ds)
}

// BenchmarkStasisStartToGreeting places b.N residents' calls, up to 10 at once, and measures
// from Kontakt receiving StasisStart to Kontakt receiving PlaybackStarted of the greeting (the
// call's own events), which includes Asterisk's handling of bridge, answer and play.
func BenchmarkStasisStartToGreeting(b *testing.B) {
	cfg := testConfig()
	a, err := newAppB(b, cfg, switchboard.GreetingFlow{Prompts: []string{env.hello}})
	if err != nil {
		b.Fatal(err)
	}
	cl, err := resident.Dial(context.Background(), resident.Options{ARI: switchboard.ARIOptions{
		URL: cfg.ARI.URL, User: cfg.ARI.User, Password: cfg.ARI.Password}})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	refs := make([]string, b.N)
	sem := make(chan struct{}, 10)
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := cl.Place(context.Background(), resident.Call{CallerID: "+48600100900", Stay: 30 * time.Second})
			if err != nil {
				b.Error(err)
				return
			}
			refs[i] = res.Ref
		}()
	}
	wg.Wait()
	b.StopTimer()
	var ds []time.Duration
	for _, ref := range refs {
		if ref == "" {
			continue
		}
		var start, prompt time.Time
		deadline := time.Now().Add(20 * time.Second)
		for prompt.IsZero() && time.Now().Before(deadline) {
			if c, err := a.Store.CallByRef(context.Background(), ref); err == nil && c.EndedAt != nil {
				evs, _ := a.Store.CallEvents(context.Background(), c.ID)
				for _, e := range evs {
					switch e.Type {
					case "stasis_start":
						start = e.At
					case "prompt_started":
						if prompt.IsZero() {
							prompt = e.At
						}
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if prompt.IsZero() {
			b.Fatalf("call %s: no prompt_started", ref)
		}
		ds = append(ds, prompt.Sub(start))
	}
	report(b, "ms", time.Millisecond, ds)
}
