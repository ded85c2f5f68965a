package erlang

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g (±%g)", what, got, want, tol)
	}
}

// cDirect is Erlang C from its textbook sum, in log space (independent of the recursion).
func cDirect(n int, a float64) float64 {
	logTerm := func(k int) float64 { // log(a^k / k!)
		lg, _ := math.Lgamma(float64(k + 1))
		return float64(k)*math.Log(a) - lg
	}
	top := logTerm(n) + math.Log(float64(n)/(float64(n)-a))
	m := top
	for k := 0; k < n; k++ {
		m = math.Max(m, logTerm(k))
	}
	sum := 0.0
	for k := 0; k < n; k++ {
		sum += math.Exp(logTerm(k) - m)
	}
	t := math.Exp(top - m)
	return t / (sum + t)
}

func TestClosedForms(t *testing.T) {
	for _, a := range []float64{0.1, 0.5, 0.9} {
		// M/M/1: P(wait) = rho, mean wait = rho·aht/(1-rho)
		near(t, "C(1)", C(1, a), a, 1e-12)
		near(t, "ASA(1)", ASA(1, a, 100), a*100/(1-a), 1e-9)
		near(t, "B(1)", B(1, a), a/(1+a), 1e-12)
	}
	for _, a := range []float64{0.5, 1, 1.5, 1.9} {
		// M/M/2: P(wait) = a²/(2+a)
		near(t, "C(2)", C(2, a), a*a/(2+a), 1e-12)
	}
	if C(5, 5) != 1 || C(4, 5) != 1 || ServiceLevel(5, 5, 180, 20) != 0 || !math.IsInf(ASA(5, 5, 180), 1) {
		t.Error("unstable queue not reported as such")
	}
	if C(3, 0) != 0 {
		t.Error("no load should never wait")
	}
}

func TestAgainstDirectSum(t *testing.T) {
	for _, c := range []struct {
		n int
		a float64
	}{{10, 8}, {10, 9}, {50, 47.5}, {200, 180}, {1000, 990}} {
		near(t, "C", C(c.n, c.a), cDirect(c.n, c.a), 1e-9)
	}
}

func TestLargeStable(t *testing.T) {
	for _, n := range []int{1000, 3000, 5000} {
		for _, rho := range []float64{0.5, 0.9, 0.99, 0.999} {
			a := rho * float64(n)
			c := C(n, a)
			if !(c >= 0 && c <= 1) || math.IsNaN(c) {
				t.Fatalf("C(%d, %g) = %g", n, a, c)
			}
			sl := ServiceLevel(n, a, 180, 20)
			if !(sl >= 0 && sl <= 1) {
				t.Fatalf("SL(%d, %g) = %g", n, a, sl)
			}
		}
	}
	near(t, "C(3000, 2940)", C(3000, 2940), cDirect(3000, 2940), 1e-9)
}

func TestMonotone(t *testing.T) {
	a := 40.0
	prev := 1.0
	for n := 41; n < 80; n++ {
		c := C(n, a)
		if c >= prev {
			t.Fatalf("C not decreasing in n at %d", n)
		}
		prev = c
	}
}

func TestStaffing(t *testing.T) {
	for _, c := range []struct{ a, aht, t, target float64 }{
		{10, 180, 20, 0.8}, {8, 180, 20, 0.9}, {47.5, 180, 20, 0.8}, {2500, 300, 20, 0.8}, {0.2, 60, 10, 0.95},
	} {
		n, err := Staffing(c.a, c.aht, c.t, c.target)
		if err != nil {
			t.Fatal(err)
		}
		if ServiceLevel(n, c.a, c.aht, c.t) < c.target {
			t.Errorf("%+v: %d agents miss the target", c, n)
		}
		if n-1 > int(c.a) && ServiceLevel(n-1, c.a, c.aht, c.t) >= c.target {
			t.Errorf("%+v: %d agents is not the smallest", c, n)
		}
	}
	// the classic worked example: 100 calls in 30 min, 180 s AHT (10 erlangs), 80% in 20 s:
	// 13 agents give 79.6%, 14 agents P(wait) 17.4%, 88.8% in 20 s, ASA 7.8 s
	near(t, "SL(13)", ServiceLevel(13, 10, 180, 20), 0.7956, 1e-4)
	near(t, "C(14)", C(14, 10), 0.1741, 1e-4)
	near(t, "SL(14)", ServiceLevel(14, 10, 180, 20), 0.8884, 1e-4)
	near(t, "ASA(14)", ASA(14, 10, 180), 7.836, 1e-3)
	if n, _ := Staffing(10, 180, 20, 0.8); n != 14 {
		t.Errorf("10 erlangs 80/20: %d agents, want 14", n)
	}
	if _, err := Staffing(10, 180, 20, 1); err == nil {
		t.Error("target 1 accepted")
	}
	n, err := StaffingASA(10, 180, 30)
	if err != nil || ASA(n, 10, 180) > 30 || ASA(n-1, 10, 180) <= 30 {
		t.Errorf("StaffingASA: %d %v", n, err)
	}
}

func BenchmarkStaffing(b *testing.B) {
	for b.Loop() {
		Staffing(2500, 300, 20, 0.8)
	}
}
