// Package erlang holds the Erlang B and C formulas for staffing a queue of identical agents
// (M/M/n: Poisson arrivals, exponential handle times, callers who never hang up).
//
// Load is in erlangs (a = arrival rate × mean handle time); times are in seconds. Erlang B is
// computed with the iterative recursion B(0)=1, B(k) = a·B(k−1) / (k + a·B(k−1)), which never
// overflows and stays accurate for thousands of agents; Erlang C is derived from it.
package erlang

import (
	"errors"
	"math"
)

// Load is the offered traffic in erlangs for an arrival rate per hour and a mean handle time.
func Load(arrivalsPerHour, ahtSeconds float64) float64 {
	return arrivalsPerHour * ahtSeconds / 3600
}

// B is the Erlang B blocking probability of n servers offered a erlangs.
func B(n int, a float64) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// cFromB is Erlang C from Erlang B for the same n and a (n > a).
func cFromB(n int, a, b float64) float64 {
	return b / (1 - a/float64(n)*(1-b))
}

// C is the Erlang C probability that a caller has to wait (1 when n <= a: the queue grows
// without bound).
func C(n int, a float64) float64 {
	if float64(n) <= a {
		return 1
	}
	if a <= 0 {
		return 0
	}
	return cFromB(n, a, B(n, a))
}

// ServiceLevel is the probability that a caller waits at most t seconds, with n agents, a
// erlangs and a mean handle time of aht seconds.
func ServiceLevel(n int, a, aht, t float64) float64 {
	if float64(n) <= a {
		return 0
	}
	return slFromC(C(n, a), n, a, aht, t)
}

func slFromC(c float64, n int, a, aht, t float64) float64 {
	return 1 - c*math.Exp(-(float64(n)-a)*t/aht)
}

// ASA is the mean wait in seconds (+Inf when n <= a).
func ASA(n int, a, aht float64) float64 {
	if float64(n) <= a {
		return math.Inf(1)
	}
	return C(n, a) * aht / (float64(n) - a)
}

// Occupancy is the fraction of time agents are busy (capped at 1).
func Occupancy(n int, a float64) float64 {
	if n <= 0 {
		return 1
	}
	return math.Min(1, a/float64(n))
}

// Prediction gathers the Erlang C figures for one staffing level.
type Prediction struct {
	Agents       int     `json:"agents"`
	Erlangs      float64 `json:"erlangs"`
	Stable       bool    `json:"stable"`
	PWait        float64 `json:"p_wait"`
	ServiceLevel float64 `json:"service_level"`
	// ASASeconds is omitted (null) when the queue is unstable (agents <= erlangs).
	ASASeconds *float64 `json:"asa_seconds"`
	Occupancy  float64  `json:"occupancy"`
}

// Predict computes the Erlang C figures for n agents, a erlangs, a mean handle time of aht
// seconds and a service-level threshold of t seconds.
func Predict(n int, a, aht, t float64) Prediction {
	p := Prediction{Agents: n, Erlangs: a, Stable: float64(n) > a, PWait: C(n, a), Occupancy: Occupancy(n, a)}
	if p.Stable {
		p.ServiceLevel = slFromC(p.PWait, n, a, aht, t)
		asa := p.PWait * aht / (float64(n) - a)
		p.ASASeconds = &asa
	}
	return p
}

// ErrTarget reports a staffing target that no number of agents can reach.
var ErrTarget = errors.New("erlang: target must be a service level in (0, 1) and a threshold >= 0")

// Staffing is the smallest number of agents that answers at least the fraction target of
// callers within t seconds, for a erlangs with a mean handle time of aht seconds. It walks the
// Erlang B recursion once, so it costs O(result).
func Staffing(a, aht, t, target float64) (int, error) {
	if !(target > 0 && target < 1) || t < 0 || aht <= 0 || a < 0 || math.IsInf(a, 0) || math.IsNaN(a) {
		return 0, ErrTarget
	}
	if a == 0 {
		return 0, nil
	}
	b := 1.0
	for n := 1; ; n++ {
		b = a * b / (float64(n) + a*b)
		if float64(n) <= a {
			continue
		}
		if slFromC(cFromB(n, a, b), n, a, aht, t) >= target {
			return n, nil
		}
	}
}

// StaffingASA is the smallest number of agents whose mean wait is at most asa seconds.
func StaffingASA(a, aht, asa float64) (int, error) {
	if asa < 0 || aht <= 0 || a < 0 || math.IsInf(a, 0) || math.IsNaN(a) {
		return 0, ErrTarget
	}
	if a == 0 {
		return 0, nil
	}
	b := 1.0
	for n := 1; ; n++ {
		b = a * b / (float64(n) + a*b)
		if float64(n) <= a {
			continue
		}
		if cFromB(n, a, b)*aht/(float64(n)-a) <= asa {
			return n, nil
		}
	}
}
