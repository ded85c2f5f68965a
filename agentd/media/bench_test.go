package media

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRelay runs N concurrent relayed calls with 50 packets/s each way (a fake Asterisk
// sending a tone into the relay, the Go client sending a tone from the "browser") for b.N
// 20 ms ticks, and reports the process's CPU per relayed packet and per call. The process also
// runs both far ends (the clients' pion stacks decrypt and encrypt as much as the server's), so
// the figures are an upper bound of the relay's own cost, roughly twice it.
func BenchmarkRelay(b *testing.B) {
	for _, calls := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) {
			e := newEngine(b, loopback)
			var pairs []*pair
			for range calls {
				p := connect(b, e)
				p.c.Play(1000)
				ast := newFakeAsterisk(b, 440)
				leg, err := p.s.Attach(context.Background(), ast.addr())
				if err != nil {
					b.Fatal(err)
				}
				ast.start(leg.LocalAddr())
				pairs = append(pairs, p)
			}
			relayed := func() (n uint64) {
				for _, p := range pairs {
					st := p.s.Stats()
					n += st.ToAgent.Packets + st.FromAgent.Packets
				}
				return n
			}
			time.Sleep(200 * time.Millisecond) // let every call's media start
			pkts0, cpu0, wall0 := relayed(), cpuTime(), time.Now()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			b.ResetTimer()
			for b.Loop() {
				<-tick.C
			}
			b.StopTimer()
			pkts, cpu, wall := relayed()-pkts0, cpuTime()-cpu0, time.Since(wall0)
			if pkts == 0 {
				b.Fatal("nothing relayed")
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(pkts), "cpu-ns/pkt")
			b.ReportMetric(100*cpu.Seconds()/wall.Seconds()/float64(calls), "cpu-%/call")
			b.ReportMetric(float64(pkts)/wall.Seconds()/float64(calls), "pkts/s/call")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkAttachFirstPacket measures Attach → the first packet sent toward the agent (the
// relay's share of "accept → first audio"; Asterisk sends the moment it is told where), and
// reports the time until the client has it too.
func BenchmarkAttachFirstPacket(b *testing.B) {
	e := newEngine(b, loopback)
	p := connect(b, e)
	ast := newFakeAsterisk(b, 440)
	var toClient time.Duration
	for b.Loop() {
		start := time.Now()
		leg, err := p.s.Attach(context.Background(), ast.addr())
		if err != nil {
			b.Fatal(err)
		}
		select { // drain a stale signal
		case <-p.gotRTP:
		default:
		}
		ast.target = leg.LocalAddr()
		ast.sendOne()
		select {
		case <-leg.FirstPacketToAgent():
		case <-time.After(5 * time.Second):
			b.Fatal("no first packet")
		}
		select {
		case <-p.gotRTP:
			toClient += time.Since(start)
		case <-time.After(5 * time.Second):
			b.Fatal("client got nothing")
		}
		leg.Detach()
	}
	b.ReportMetric(float64(toClient.Nanoseconds())/float64(b.N), "ns-to-client/op")
}
