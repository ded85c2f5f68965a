package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"kontakt/acd/sim"
)

func init() {
	commands["simulate"] = command{"run the ACD engine under simulated load and compare with Erlang C", cmdSimulate}
}

// cmdSimulate runs `kontakt simulate`: the real ACD engine under a discrete-event simulation.
func cmdSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	agents := fs.Int("agents", 10, "agents serving the queue")
	rate := fs.Float64("arrivals-per-hour", 160, "mean arrivals per hour (Poisson)")
	aht := fs.Float64("aht", 180, "mean handle time in seconds")
	handle := fs.String("handle", "exp", "handle time distribution: exp or fixed")
	patience := fs.Float64("patience", 0, "mean caller patience in seconds, exponential (0 = infinite)")
	hours := fs.Float64("duration", 100, "simulated hours of arrivals")
	warmup := fs.Float64("warmup", 1, "hours at the start not counted")
	sl := fs.Float64("sl-threshold", 20, "service-level threshold in seconds")
	seed := fs.Uint64("seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "print one JSON object")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: kontakt simulate [flags]\n\nRuns the ACD engine against Poisson arrivals and prints what it measured next to Erlang C.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *handle != "exp" && *handle != "fixed" {
		return errors.New("--handle must be exp or fixed")
	}
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	cfg := sim.Config{
		Agents: *agents, ArrivalsPerHour: *rate, AHT: sec(*aht), FixedHandle: *handle == "fixed",
		Patience: sec(*patience), Duration: sec(*hours * 3600), Warmup: sec(*warmup * 3600),
		SLThreshold: sec(*sl), Seed: *seed,
	}
	res, err := sim.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	pat := "infinite"
	if *patience > 0 {
		pat = fmt.Sprintf("%gs", *patience)
	}
	fmt.Fprintf(stdout, "%d agents, %g calls/h, AHT %gs (%s), patience %s, %gh counted after %gh, seed %d\n",
		*agents, *rate, *aht, *handle, pat, *hours-*warmup, *warmup, *seed)
	fmt.Fprintf(stdout, "load %.2f erlangs; Erlang C needs %d agents for 80%% in %gs\n\n", res.Erlangs, res.AgentsFor80_20, *sl)
	p := res.ErlangC
	asa := "unstable"
	if p.ASASeconds != nil {
		asa = fmt.Sprintf("%.1f s", *p.ASASeconds)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\tsimulated\tErlang C\t\n")
	fmt.Fprintf(tw, "offered\t%d\t\t\n", res.Offered)
	fmt.Fprintf(tw, "answered\t%d\t\t\n", res.Answered)
	fmt.Fprintf(tw, "abandoned\t%d\t\t\n", res.Abandoned)
	fmt.Fprintf(tw, "service level\t%.1f%%\t%.1f%%\t\n", 100*res.ServiceLevel, 100*p.ServiceLevel)
	fmt.Fprintf(tw, "ASA\t%.1f s\t%s\t\n", res.ASASeconds, asa)
	fmt.Fprintf(tw, "P(wait)\t%.1f%%\t%.1f%%\t\n", 100*res.PWait, 100*p.PWait)
	fmt.Fprintf(tw, "occupancy\t%.1f%%\t%.1f%%\t\n", 100*res.Occupancy, 100*p.Occupancy)
	return tw.Flush()
}
