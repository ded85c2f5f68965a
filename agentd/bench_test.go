package agentd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kontakt/agentd/agent"
	"kontakt/agentd/media"
	"kontakt/agentd/protocol"
)

// TestMain lets the idle-agent benchmark run its agents in a child process (this test binary),
// so the parent's CPU time is the server's alone.
func TestMain(m *testing.M) {
	if spec := os.Getenv("KONTAKT_AGENTD_BENCH_AGENTS"); spec != "" {
		os.Exit(runBenchAgents(spec))
	}
	os.Exit(m.Run())
}

// runBenchAgents signs in N agents ("url n media") and keeps them until stdin closes.
func runBenchAgents(spec string) int {
	f := strings.Fields(spec)
	url, withMedia := f[0], f[2] == "media"
	n, _ := strconv.Atoi(f[1])
	eng, err := media.New(loopbackMedia)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logins := []string{"anna", "bruno", "sara"}
	var agents []*agent.Agent
	for i := range n {
		a, err := agent.Dial(ctx, url, logins[i%3]+"#"+strconv.Itoa(i), agent.Options{Engine: eng, NoMedia: !withMedia})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if withMedia {
			if err := a.WaitMedia(ctx); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		agents = append(agents, a)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, a := range agents {
		a.Close()
	}
	return 0
}

// BenchmarkOfferToScreenPop: Server.Offer → the offer frame decoded by a headless agent over a
// real WebSocket on loopback, with 200 other agents connected. Reports p50 and p99.
func BenchmarkOfferToScreenPop(b *testing.B) {
	e := newEnv(b, Options{})
	for i := range 200 {
		e.dial(b, "bruno#"+strconv.Itoa(i), agent.Options{NoMedia: true})
	}
	a := e.dial(b, "anna", agent.Options{NoMedia: true})
	lat := make([]time.Duration, 0, b.N)
	o := sampleOffer(1)
	b.ResetTimer()
	for i := range b.N {
		o.OfferID, o.CallID = "o-"+strconv.Itoa(i), "call-"+strconv.Itoa(i)
		start := time.Now()
		if err := e.srv.Offer("u-17", o); err != nil {
			b.Fatal(err)
		}
		for env := range a.Events() {
			if env.Type == protocol.TypeOffer {
				break
			}
		}
		lat = append(lat, time.Since(start))
		if err := e.srv.CancelOffer("u-17", CallID(o.CallID), "rerouted"); err != nil {
			b.Fatal(err)
		}
		for env := range a.Events() {
			if env.Type == protocol.TypeOfferCancelled {
				break
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkIdleAgentCPU: the server's CPU per connected idle agent, signalling only (pings) and
// with the softphone up (its ICE keep-alives and the browser's silent 50 packets/s, which a live
// microphone track sends between calls). The agents run in a child process; one iteration is one
// second of idleness.
func BenchmarkIdleAgentCPU(b *testing.B) {
	for _, tc := range []struct {
		name  string
		n     int
		media bool
	}{{"signalling", 500, false}, {"softphone", 100, true}} {
		b.Run(tc.name, func(b *testing.B) {
			e := newEnv(b, Options{})
			ts := e.ts // agents sign in as "anna#n", … (distinct users, see stubAuth)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("KONTAKT_AGENTD_BENCH_AGENTS=%s %d %s", ts.URL, tc.n, map[bool]string{true: "media", false: "nomedia"}[tc.media]))
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
			if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
				b.Fatalf("agents: %q %v", line, err)
			}
			if got := metricValue(e.srv.m.connected); got != float64(tc.n) {
				b.Fatalf("connected %v, want %d", got, tc.n)
			}
			cpu0 := cpuTime()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				time.Sleep(time.Second) // measuring idleness: nothing to wait for
			}
			wall := time.Since(start)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(cpu.Microseconds())/wall.Seconds()/float64(tc.n), "cpu-µs/s/agent")
			b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%-of-a-core")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
