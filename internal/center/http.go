package center

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"kontakt/acd"
	"kontakt/acd/erlang"
	"kontakt/internal/auth"
)

// loopWait bounds how long a request or a scrape waits for the loop goroutine: a loop that has
// stopped (shutdown) never answers, and a handler must not hang on it.
var loopWait = 5 * time.Second

// Limits of the staffing calculation's inputs (Staffing walks the Erlang B recursion once per
// agent, so the load must stay bounded: at most 100,000 × 14,400 / 3,600 = 400,000 erlangs).
const (
	maxArrivalsPerHour = 100_000
	maxAHTSeconds      = 4 * 3600
	maxThresholdSecs   = 24 * 3600
)

// errLoopStopped: the loop did not run the function in time.
var errLoopStopped = errors.New("the ACD did not answer")

// within runs f on the loop goroutine, like Do, but gives up when ctx ends. After a give-up f
// may still run later; the caller must then not read what f writes.
func (c *Center) within(ctx context.Context, f func(e *acd.Engine)) error {
	done := make(chan struct{})
	c.post(func() { f(c.eng); close(done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errLoopStopped
	}
}

// Register adds the supervisors' ACD endpoints: live statistics, the explanation of a call's
// routing, and the Erlang C staffing calculation (supervisor or administrator).
func (c *Center) Register(mux *http.ServeMux) {
	supervise := auth.Require(auth.RoleSupervisor, auth.RoleAdministrator)
	mux.Handle("GET /api/v1/acd/stats", supervise(http.HandlerFunc(c.handleStats)))
	mux.Handle("GET /api/v1/acd/calls/{id}/explain", supervise(http.HandlerFunc(c.handleExplain)))
	mux.Handle("GET /api/v1/acd/staffing", supervise(http.HandlerFunc(handleStaffing)))
}

func (c *Center) handleStats(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), loopWait)
	defer cancel()
	var s acd.Snapshot
	if err := c.within(ctx, func(e *acd.Engine) { s = e.Snapshot(time.Now()) }); err != nil {
		auth.WriteError(w, http.StatusServiceUnavailable, auth.CodeUnavailable, err.Error())
		return
	}
	// The snapshot is built afresh (its slices and maps are not the engine's): encoded here,
	// off the loop goroutine.
	writeJSON(w, s)
}

func (c *Center) handleExplain(w http.ResponseWriter, r *http.Request) {
	id := acd.CallID(r.PathValue("id"))
	ctx, cancel := context.WithTimeout(r.Context(), loopWait)
	defer cancel()
	var (
		x  acd.Explanation
		ok bool
	)
	if err := c.within(ctx, func(e *acd.Engine) { x, ok = e.Explain(id) }); err != nil {
		auth.WriteError(w, http.StatusServiceUnavailable, auth.CodeUnavailable, err.Error())
		return
	}
	if !ok {
		auth.WriteError(w, http.StatusNotFound, auth.CodeNotFound,
			fmt.Sprintf("the ACD does not know the call %q (finished calls are kept for a while only)", id))
		return
	}
	writeJSON(w, x)
}

// StaffingResult is the answer of the staffing calculation: the inputs, the agents needed and
// Erlang C's prediction for that many agents.
type StaffingResult struct {
	ArrivalsPerHour  float64 `json:"arrivals_per_hour"`
	AHTSeconds       float64 `json:"aht_seconds"`
	TargetSL         float64 `json:"target_sl"`
	ThresholdSeconds float64 `json:"threshold_seconds"`
	erlang.Prediction
}

// staffingParam is one query parameter of the staffing calculation.
type staffingParam struct {
	name     string
	def      float64 // used when absent and not required
	required bool
	ok       func(float64) bool
	want     string
}

var staffingParams = []staffingParam{
	{name: "arrivals_per_hour", required: true, ok: func(v float64) bool { return v > 0 && v <= maxArrivalsPerHour },
		want: fmt.Sprintf("must be a number of calls per hour above 0 and at most %d", maxArrivalsPerHour)},
	{name: "aht_seconds", required: true, ok: func(v float64) bool { return v > 0 && v <= maxAHTSeconds },
		want: fmt.Sprintf("must be the mean handle time in seconds, above 0 and at most %d", maxAHTSeconds)},
	{name: "target_sl", def: 0.8, ok: func(v float64) bool { return v > 0 && v < 1 },
		want: "must be the target service level, a fraction between 0 and 1 (exclusive), e.g. 0.8"},
	{name: "threshold_seconds", def: 20, ok: func(v float64) bool { return v >= 0 && v <= maxThresholdSecs },
		want: fmt.Sprintf("must be the service-level threshold in seconds, 0 to %d", maxThresholdSecs)},
}

// handleStaffing answers how many agents a queue needs (Erlang C) for an arrival rate, a mean
// handle time and a service-level target; every bad parameter is reported at once.
func handleStaffing(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	vals := make([]float64, len(staffingParams))
	var bad []auth.FieldError
	for i, p := range staffingParams {
		raw, present := q[p.name]
		switch {
		case !present:
			if p.required {
				bad = append(bad, auth.FieldError{Field: p.name, Message: "is required; it " + p.want})
			}
			vals[i] = p.def
		case len(raw) > 1:
			bad = append(bad, auth.FieldError{Field: p.name, Message: "is given more than once"})
		default:
			v, err := strconv.ParseFloat(strings.TrimSpace(raw[0]), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || !p.ok(v) {
				bad = append(bad, auth.FieldError{Field: p.name, Message: fmt.Sprintf("%q: %s", raw[0], p.want)})
			}
			vals[i] = v
		}
	}
	for name := range q {
		known := false
		for _, p := range staffingParams {
			known = known || p.name == name
		}
		if !known {
			bad = append(bad, auth.FieldError{Field: name, Message: "is not a parameter of the staffing calculation (arrivals_per_hour, aht_seconds, target_sl, threshold_seconds)"})
		}
	}
	if len(bad) > 0 {
		sortFields(bad)
		msg := make([]string, len(bad))
		for i, f := range bad {
			msg[i] = f.Field + " " + f.Message
		}
		auth.WriteError(w, http.StatusBadRequest, auth.CodeInvalidRequest, strings.Join(msg, "; "), bad...)
		return
	}
	res := StaffingResult{ArrivalsPerHour: vals[0], AHTSeconds: vals[1], TargetSL: vals[2], ThresholdSeconds: vals[3]}
	a := erlang.Load(res.ArrivalsPerHour, res.AHTSeconds)
	n, err := erlang.Staffing(a, res.AHTSeconds, res.ThresholdSeconds, res.TargetSL)
	if err != nil { // the parameters were checked above
		auth.WriteError(w, http.StatusBadRequest, auth.CodeInvalidRequest, err.Error())
		return
	}
	res.Prediction = erlang.Predict(n, a, res.AHTSeconds, res.ThresholdSeconds)
	writeJSON(w, res)
}

// sortFields orders field errors by the parameters' order, unknown parameters last by name,
// so that the message is the same for the same request.
func sortFields(fs []auth.FieldError) {
	rank := func(name string) int {
		for i, p := range staffingParams {
			if p.name == name {
				return i
			}
		}
		return len(staffingParams)
	}
	slices.SortStableFunc(fs, func(a, b auth.FieldError) int {
		return cmp.Or(cmp.Compare(rank(a.Field), rank(b.Field)), strings.Compare(a.Field, b.Field))
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		auth.WriteError(w, http.StatusInternalServerError, "internal", "the answer could not be encoded")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(append(b, '\n')) //nolint:errcheck // the client went away
}
