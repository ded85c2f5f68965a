package sim

import (
	"context"
	"math"
	"testing"
	"time"
)

// TestAgreesWithErlangC runs the real engine under M/M/n load with infinite patience and
// checks the measured P(wait), service level and ASA against Erlang C.
//
// The tolerance is statistical, not tuned to a seed: the counted period is cut into 20 batches
// (each hundreds of mean busy periods long, so nearly independent), the batch means give the
// standard error of each measure, and the run agrees when |measured − predicted| ≤ 4.5 standard
// errors (for a t distribution with 19 degrees of freedom a false alarm is rarer than 1 in
// 5,000 per comparison). The test also requires the standard errors to be small (the simulated
// volume is large enough to be a real check): P(wait) and service level within ±0.01, ASA
// within 6% of the prediction. Occupancy, a single total, is checked against a/n with 5 times
// its standard error ρ·sqrt(2/N) for N calls (Poisson count, exponential handle times).
func TestAgreesWithErlangC(t *testing.T) {
	cases := []struct {
		name   string
		agents int
		load   float64 // occupancy a/n
		hours  float64
	}{
		{"10 agents at 80%", 10, 0.80, 2000},
		{"10 agents at 90%", 10, 0.90, 3000},
		{"50 agents at 95%", 50, 0.95, 2000},
	}
	seFactor := 1.0
	if testing.Short() { // a quarter of the volume: standard errors twice as large
		seFactor = 2
		for i := range cases {
			cases[i].hours /= 4
		}
	}
	const aht = 180 * time.Second
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := c.load * float64(c.agents)
			cfg := Config{
				Agents: c.agents, ArrivalsPerHour: a * 3600 / aht.Seconds(), AHT: aht,
				Duration: time.Duration(c.hours * float64(time.Hour)), Warmup: 2 * time.Hour,
				SLThreshold: 20 * time.Second, Seed: uint64(1000 + i), Batches: 20,
			}
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Abandoned != 0 || res.Answered != res.Offered {
				t.Fatalf("infinite patience, yet %d of %d not answered", res.Offered-res.Answered, res.Offered)
			}
			p := res.ErlangC
			check := func(what string, measured, predicted float64, pick func(Figures) float64, maxSE float64) {
				t.Helper()
				mean, se := batchMeans(res.Batches, pick)
				t.Logf("%s: measured %.4f (batch mean %.4f ± %.4f), Erlang C %.4f", what, measured, mean, se, predicted)
				if se > maxSE*seFactor {
					t.Errorf("%s: standard error %.4f above %.4f: not enough simulated volume to judge", what, se, maxSE)
				}
				if math.Abs(mean-predicted) > 4.5*se {
					t.Errorf("%s: %.4f vs Erlang C %.4f: off by %.1f standard errors", what, mean, predicted, math.Abs(mean-predicted)/se)
				}
			}
			check("p_wait", res.PWait, p.PWait, func(f Figures) float64 { return f.PWait }, 0.01)
			check("service_level", res.ServiceLevel, p.ServiceLevel, func(f Figures) float64 { return f.ServiceLevel }, 0.01)
			check("asa_seconds", res.ASASeconds, *p.ASASeconds, func(f Figures) float64 { return f.ASASeconds }, 0.06**p.ASASeconds)
			tol := 5 * c.load * math.Sqrt(2/float64(res.Offered))
			t.Logf("occupancy: measured %.4f, predicted %.4f (±%.4f), %d calls", res.Occupancy, p.Occupancy, tol, res.Offered)
			if math.Abs(res.Occupancy-p.Occupancy) > tol {
				t.Errorf("occupancy %.4f vs %.4f beyond %.4f", res.Occupancy, p.Occupancy, tol)
			}
		})
	}
}

// batchMeans is the mean of the batches' values and its standard error.
func batchMeans(bs []Figures, pick func(Figures) float64) (mean, se float64) {
	n := float64(len(bs))
	for _, b := range bs {
		mean += pick(b)
	}
	mean /= n
	var ss float64
	for _, b := range bs {
		d := pick(b) - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / (n - 1) / n)
}

func TestDeterministicAndPatience(t *testing.T) {
	cfg := Config{Agents: 5, ArrivalsPerHour: 120, AHT: 3 * time.Minute, Patience: time.Minute,
		Duration: 50 * time.Hour, Seed: 7}
	r1, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := Run(context.Background(), cfg)
	if r1.Figures != r2.Figures {
		t.Fatalf("same seed, different results:\n%+v\n%+v", r1.Figures, r2.Figures)
	}
	if r1.Abandoned == 0 || r1.Answered+r1.Abandoned != r1.Offered {
		t.Fatalf("with patience: %+v", r1.Figures)
	}
	// 6 erlangs on 5 agents only works because callers give up
	if r1.Occupancy > 1 || r1.Occupancy < 0.8 {
		t.Fatalf("occupancy %.3f", r1.Occupancy)
	}
	cfg.Seed = 8
	r3, _ := Run(context.Background(), cfg)
	if r3.Figures == r1.Figures {
		t.Fatal("different seeds, same results")
	}
	cfg.FixedHandle, cfg.Patience, cfg.ArrivalsPerHour = true, 0, 60
	r4, err := Run(context.Background(), cfg)
	if err != nil || r4.Answered != r4.Offered {
		t.Fatalf("fixed handle times: %+v %v", r4.Figures, err)
	}
	// M/D/n waits less than M/M/n
	if r4.PWait >= r4.ErlangC.PWait {
		t.Errorf("fixed handle times: p_wait %.3f not below Erlang C's %.3f", r4.PWait, r4.ErlangC.PWait)
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []Config{{}, {Agents: 1, ArrivalsPerHour: 1, AHT: time.Second}, {Agents: 1, ArrivalsPerHour: 1, AHT: time.Second, Duration: time.Hour, Warmup: time.Hour}} {
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Config{Agents: 1, ArrivalsPerHour: 10, AHT: time.Second, Duration: time.Hour}); err == nil {
		t.Error("cancelled context ignored")
	}
}
