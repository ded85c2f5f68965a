package center

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kontakt/acd"
	"kontakt/internal/auth"
)

// t0 is far ahead of the wall clock: the engine's time never goes back, so Snapshot(time.Now())
// in the handlers counts as t0+…, and the loop's timers (engine deadlines after t0) never fire
// during a test. Every figure is then exact.
var t0 = time.Date(2100, 3, 1, 10, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// newCenter starts a center with the queues waste and roads and drives its engine directly
// (e.Step inside Do, so that no action reaches agentd, which these tests do not have):
//
//	anna (waste), piotr (roads) ready at t0; ewa (waste) configured, offline
//	c1 waste arrives at 0, offered to anna, accepted at 8 (in SL), ends at 70; wrap-up 30 s ends at 100
//	c2 roads arrives at 0, offered to piotr, hangs up at 3 (short abandon)
//	c3 waste arrives at 10, waits; offered to anna at 100, accepted at 105 (waited 95 s)
//	c4 waste arrives at 110 and waits; c5 roads arrives at 110 and rings piotr
//
// The state is read at 120.
func newCenter(t *testing.T) *Center {
	t.Helper()
	c := New(Options{Queues: []string{"waste", "roads"}, WrapUp: 30 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.Run(ctx)
	var invalid []string
	c.Do(func(e *acd.Engine) {
		step := func(s int, ev acd.Event) {
			for _, a := range e.Step(at(s), ev) {
				if a.Kind == acd.ActInvalid {
					invalid = append(invalid, a.Reason)
				}
			}
		}
		agent := func(id, q string) acd.AgentConfig {
			return acd.AgentConfig{ID: acd.AgentID(id), Skills: []acd.SkillLevel{{Skill: q, Level: 1}},
				Languages: []string{"pl"}, Queues: []acd.QueueID{acd.QueueID(q)}}
		}
		step(0, acd.ConfigureAgent{Agent: agent("anna", "waste")})
		step(0, acd.ConfigureAgent{Agent: agent("piotr", "roads")})
		step(0, acd.ConfigureAgent{Agent: agent("ewa", "waste")})
		step(0, acd.AgentReady{Agent: "anna"})
		step(0, acd.AgentReady{Agent: "piotr"})
		step(0, acd.CallArrived{Call: "c1", Queue: "waste"})
		step(0, acd.CallArrived{Call: "c2", Queue: "roads"})
		step(3, acd.CallEnded{Call: "c2"})
		step(8, acd.OfferAccepted{Call: "c1", Agent: "anna"})
		step(10, acd.CallArrived{Call: "c3", Queue: "waste"})
		step(70, acd.CallEnded{Call: "c1"})
		step(100, acd.Tick{})
		step(105, acd.OfferAccepted{Call: "c3", Agent: "anna"})
		step(110, acd.CallArrived{Call: "c4", Queue: "waste"})
		step(110, acd.CallArrived{Call: "c5", Queue: "roads"})
		step(120, acd.Tick{})
	})
	if len(invalid) > 0 {
		t.Fatalf("the engine refused events: %v", invalid)
	}
	return c
}

// withRole signs the request in with the roles named in X-Test-Roles (none: not signed in).
func withRole(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("X-Test-Roles"); v != "" {
			var roles []auth.Role
			for _, s := range strings.Split(v, ",") {
				roles = append(roles, auth.Role(s))
			}
			r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UserID: 7, Login: "u", Roles: roles}))
		}
		next.ServeHTTP(w, r)
	})
}

func server(t *testing.T, c *Center) http.Handler {
	t.Helper()
	mux := http.NewServeMux()
	c.Register(mux)
	return withRole(mux)
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Fields  []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"fields"`
	} `json:"error"`
}

func get(t *testing.T, h http.Handler, roles, target string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if roles != "" {
		req.Header.Set("X-Test-Roles", roles)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET %s as %q: Content-Type %q", target, roles, ct)
	}
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%v in %s", err, rec.Body)
	}
	return v
}

func TestRolesEveryEndpoint(t *testing.T) {
	h := server(t, newCenter(t))
	endpoints := []string{
		"/api/v1/acd/stats",
		"/api/v1/acd/calls/c3/explain",
		"/api/v1/acd/staffing?arrivals_per_hour=200&aht_seconds=180",
	}
	cases := []struct {
		roles string
		code  int
		err   string
	}{
		{"", http.StatusUnauthorized, auth.CodeUnauthenticated},
		{"consultant", http.StatusForbidden, auth.CodeForbidden},
		{"broker", http.StatusForbidden, auth.CodeForbidden},
		{"unit_worker", http.StatusForbidden, auth.CodeForbidden},
		{"consultant,broker,unit_worker", http.StatusForbidden, auth.CodeForbidden},
		{"supervisor", http.StatusOK, ""},
		{"administrator", http.StatusOK, ""},
		{"consultant,supervisor", http.StatusOK, ""},
	}
	for _, ep := range endpoints {
		for _, tc := range cases {
			rec := get(t, h, tc.roles, ep)
			if rec.Code != tc.code {
				t.Errorf("GET %s as %q: %d, want %d (%s)", ep, tc.roles, rec.Code, tc.code, rec.Body)
				continue
			}
			if tc.err != "" {
				if b := decode[errorBody](t, rec); b.Error.Code != tc.err || b.Error.Message == "" {
					t.Errorf("GET %s as %q: error %+v, want code %s with a message", ep, tc.roles, b.Error, tc.err)
				}
			}
		}
	}
	// Only GET is routed.
	req := httptest.NewRequest(http.MethodPost, "/api/v1/acd/stats", nil)
	req.Header.Set("X-Test-Roles", "supervisor")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST stats: %d, want 405", rec.Code)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestStats(t *testing.T) {
	h := server(t, newCenter(t))
	rec := get(t, h, "supervisor", "/api/v1/acd/stats")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	s := decode[acd.Snapshot](t, rec)
	if !s.At.Equal(at(120)) {
		t.Errorf("at %v, want %v", s.At, at(120))
	}
	queues := map[acd.QueueID]acd.QueueStats{}
	var order []acd.QueueID
	for _, q := range s.Queues {
		queues[q.Queue] = q
		order = append(order, q.Queue)
	}
	if got := fmt.Sprint(order); got != "[waste roads broker supervisor]" {
		t.Errorf("queues %s, want the configuration's order", got)
	}
	w := queues["waste"]
	if w.Waiting != 1 || !near(w.LongestWaitSeconds, 10) || w.Offered != 3 || w.Answered != 2 || w.AnsweredInSL != 1 ||
		w.Abandoned != 0 || w.ShortAbandoned != 0 || w.Handled != 1 {
		t.Errorf("waste counts %+v", w)
	}
	// SL = 1 answered within 20 s / (2 answered + 0 abandoned); ASA = (8 + 95) / 2; AHT = 62 s talk + 30 s wrap-up.
	if !near(w.ServiceLevel, 0.5) || !near(w.ASASeconds, 51.5) || !near(w.AHTSeconds, 92) || !near(w.SLThresholdSeconds, 20) {
		t.Errorf("waste ratios: sl %v asa %v aht %v threshold %v", w.ServiceLevel, w.ASASeconds, w.AHTSeconds, w.SLThresholdSeconds)
	}
	r := queues["roads"]
	// The short abandon is counted apart and left out of the service level.
	if r.Waiting != 0 || r.Offered != 2 || r.Answered != 0 || r.Abandoned != 0 || r.ShortAbandoned != 1 || !near(r.ServiceLevel, 1) {
		t.Errorf("roads %+v", r)
	}
	agents := map[acd.AgentID]acd.AgentStats{}
	for _, a := range s.Agents {
		agents[a.Agent] = a
	}
	anna := agents["anna"]
	// anna: available 0–0 and 100–100, ringing 0–8, on call 8–70 and 105–120, wrap-up 70–100, ringing 100–105.
	want := map[string]float64{"offline": 0, "available": 0, "reserved": 13, "on_call": 77, "wrap_up": 30, "paused": 0}
	for st, v := range want {
		if !near(anna.Seconds[st], v) {
			t.Errorf("anna %s %v s, want %v (%v)", st, anna.Seconds[st], v, anna.Seconds)
		}
	}
	if anna.State != acd.AgentOnCall || anna.Handled != 2 { // c1 and c3 (connected now)
		t.Errorf("anna %+v", anna)
	}
	if p := agents["piotr"]; p.State != acd.AgentReserved || !near(p.Seconds["available"], 107) || !near(p.Seconds["reserved"], 13) || p.Handled != 0 {
		t.Errorf("piotr %+v", p)
	}
	if e := agents["ewa"]; e.State != acd.AgentOffline || !near(e.Seconds["offline"], 120) {
		t.Errorf("ewa %+v", e)
	}
}

func TestExplain(t *testing.T) {
	h := server(t, newCenter(t))
	rec := get(t, h, "administrator", "/api/v1/acd/calls/c3/explain")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	x := decode[acd.Explanation](t, rec)
	if x.Call != "c3" || x.State != acd.CallConnected || x.Queue != "waste" || x.Agent != "anna" || !near(x.WaitedSeconds, 90) {
		t.Errorf("c3 explained as %+v", x)
	}
	// anna was freed by the end of her wrap-up and took the best caller she could serve.
	if x.Decision == nil || x.Decision.Rule != "best_caller" || x.Decision.Agent != "anna" || x.Summary == "" || len(x.History) == 0 {
		t.Errorf("c3 decision %+v, summary %q, history %v", x.Decision, x.Summary, x.History)
	}

	// A waiting call: who could take it, and why it waits.
	x = decode[acd.Explanation](t, get(t, h, "supervisor", "/api/v1/acd/calls/c4/explain"))
	if x.State != acd.CallWaiting || x.Position != 1 || x.Decision != nil || len(x.Candidates) != 2 {
		t.Errorf("c4 explained as %+v", x)
	}
	for _, cd := range x.Candidates {
		if cd.Eligible != (cd.Agent == "anna" || cd.Agent == "ewa") || cd.Why == "" {
			t.Errorf("c4 candidate %+v", cd)
		}
	}

	// A finished call stays explainable.
	x = decode[acd.Explanation](t, get(t, h, "supervisor", "/api/v1/acd/calls/c2/explain"))
	if x.State != acd.CallFinished || x.Outcome != acd.OutcomeShortAbandoned {
		t.Errorf("c2 explained as %+v", x)
	}

	for _, id := range []string{"nope", "c%2F1", "C3"} {
		rec := get(t, h, "supervisor", "/api/v1/acd/calls/"+id+"/explain")
		if b := decode[errorBody](t, rec); rec.Code != http.StatusNotFound || b.Error.Code != auth.CodeNotFound || b.Error.Message == "" {
			t.Errorf("unknown call %s: %d %s", id, rec.Code, rec.Body)
		}
	}
}

type staffing struct {
	ArrivalsPerHour  float64  `json:"arrivals_per_hour"`
	AHTSeconds       float64  `json:"aht_seconds"`
	TargetSL         float64  `json:"target_sl"`
	ThresholdSeconds float64  `json:"threshold_seconds"`
	Agents           int      `json:"agents"`
	Erlangs          float64  `json:"erlangs"`
	Stable           bool     `json:"stable"`
	PWait            float64  `json:"p_wait"`
	ServiceLevel     float64  `json:"service_level"`
	ASASeconds       *float64 `json:"asa_seconds"`
	Occupancy        float64  `json:"occupancy"`
}

// The Erlang C textbook example: 200 calls an hour of 180 s are 10 erlangs; 13 agents answer
// 79.6 % within 20 s, 14 agents 88.8 % (P(wait) 0.174, ASA 7.8 s, occupancy 71 %).
func TestStaffingErlangCExample(t *testing.T) {
	h := server(t, newCenter(t))
	for _, tc := range []struct {
		query  string
		agents int
		target float64
		pwait  float64
		sl     float64
		asa    float64
	}{
		{"arrivals_per_hour=200&aht_seconds=180&target_sl=0.8&threshold_seconds=20", 14, 0.8, 0.1741, 0.8884, 7.836},
		{"arrivals_per_hour=200&aht_seconds=180", 14, 0.8, 0.1741, 0.8884, 7.836}, // the defaults: 80/20
		{"arrivals_per_hour=200&aht_seconds=180&target_sl=0.75", 13, 0.75, 0.2853, 0.7956, 17.116},
		{"arrivals_per_hour=200&aht_seconds=180&target_sl=0.9", 15, 0.9, 0.1020, 0.9415, 3.674},
	} {
		rec := get(t, h, "supervisor", "/api/v1/acd/staffing?"+tc.query)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.query, rec.Code, rec.Body)
		}
		s := decode[staffing](t, rec)
		if s.Agents != tc.agents || !near(s.Erlangs, 10) || !s.Stable || s.TargetSL != tc.target || s.ThresholdSeconds != 20 ||
			s.ArrivalsPerHour != 200 || s.AHTSeconds != 180 {
			t.Errorf("%s: %+v", tc.query, s)
		}
		if math.Abs(s.PWait-tc.pwait) > 5e-4 || math.Abs(s.ServiceLevel-tc.sl) > 5e-4 || s.ASASeconds == nil ||
			math.Abs(*s.ASASeconds-tc.asa) > 5e-3 || !near(s.Occupancy, 10/float64(tc.agents)) {
			t.Errorf("%s: p_wait %v service_level %v asa %v occupancy %v", tc.query, s.PWait, s.ServiceLevel, s.ASASeconds, s.Occupancy)
		}
		if s.ServiceLevel < tc.target {
			t.Errorf("%s: %d agents miss the target", tc.query, s.Agents)
		}
	}
}

func TestStaffingParameterErrors(t *testing.T) {
	h := server(t, newCenter(t))
	for _, tc := range []struct {
		query  string
		fields []string
	}{
		{"", []string{"arrivals_per_hour", "aht_seconds"}},
		{"arrivals_per_hour=x&aht_seconds=-1&target_sl=1&threshold_seconds=-5", []string{"arrivals_per_hour", "aht_seconds", "target_sl", "threshold_seconds"}},
		{"arrivals_per_hour=0&aht_seconds=0&target_sl=0", []string{"arrivals_per_hour", "aht_seconds", "target_sl"}},
		{"arrivals_per_hour=NaN&aht_seconds=Inf&target_sl=80", []string{"arrivals_per_hour", "aht_seconds", "target_sl"}},
		{"arrivals_per_hour=1e12&aht_seconds=180", []string{"arrivals_per_hour"}},
		{"arrivals_per_hour=200&aht_seconds=1e9&threshold_seconds=1e9", []string{"aht_seconds", "threshold_seconds"}},
		{"arrivals_per_hour=200&arrivals_per_hour=300&aht_seconds=180", []string{"arrivals_per_hour"}},
		{"arrivals_per_hour=200&aht=180&sl=0.8", []string{"aht_seconds", "aht", "sl"}},
	} {
		rec := get(t, h, "supervisor", "/api/v1/acd/staffing?"+tc.query)
		b := decode[errorBody](t, rec)
		var got []string
		for _, f := range b.Error.Fields {
			got = append(got, f.Field)
			if f.Message == "" || !strings.Contains(b.Error.Message, f.Field+" "+f.Message) {
				t.Errorf("%q: field %s: message %q not in %q", tc.query, f.Field, f.Message, b.Error.Message)
			}
		}
		if rec.Code != http.StatusBadRequest || b.Error.Code != auth.CodeInvalidRequest || strings.Join(got, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("%q: %d %s, want 400 invalid_request naming %v", tc.query, rec.Code, rec.Body, tc.fields)
		}
	}
}

func scrape(t *testing.T, reg prometheus.Gatherer) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}).
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestMetrics(t *testing.T) {
	c := newCenter(t)
	reg := prometheus.NewPedanticRegistry()
	c.RegisterMetrics(reg)
	text := scrape(t, reg)

	var samples []string
	for _, l := range strings.Split(text, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			samples = append(samples, l)
		}
	}
	got := strings.Join(samples, "\n") + "\n"
	if got != wantMetrics {
		t.Errorf("metrics:\n%s\nwant:\n%s", got, wantMetrics)
	}

	// Bounded labels: queue ids and agent states only; never an agent's or a call's id.
	sample := regexp.MustCompile(`^(kontakt_acd_[a-z_]+)(?:\{([^}]*)\})? \S+$`)
	label := regexp.MustCompile(`^(queue|state)="([a-z_]+)"$`)
	queues := map[string]bool{"waste": true, "roads": true, "broker": true, "supervisor": true}
	states := map[string]bool{"offline": true, "available": true, "reserved": true, "on_call": true, "wrap_up": true, "paused": true}
	for _, s := range samples {
		m := sample.FindStringSubmatch(s)
		if m == nil {
			t.Errorf("unexpected sample %q", s)
			continue
		}
		if m[2] == "" {
			continue
		}
		for _, kv := range strings.Split(m[2], ",") {
			l := label.FindStringSubmatch(kv)
			if l == nil || (l[1] == "queue" && !queues[l[2]]) || (l[1] == "state" && !states[l[2]]) {
				t.Errorf("%q: label %q is not a queue or an agent state", s, kv)
			}
		}
	}
	for _, id := range []string{"anna", "piotr", "ewa", "c1", "c2", "c3", "c4", "c5"} {
		if strings.Contains(text, `"`+id+`"`) {
			t.Errorf("the exposition names %s", id)
		}
	}
	for _, name := range []string{"waiting", "longest_wait_seconds", "offered_total", "answered_total", "abandoned_total",
		"short_abandoned_total", "service_level_ratio", "asa_seconds", "aht_seconds"} {
		if !strings.Contains(text, "# TYPE kontakt_acd_queue_"+name+" ") {
			t.Errorf("no kontakt_acd_queue_%s", name)
		}
	}
	if !strings.Contains(text, "# TYPE kontakt_acd_queue_offered_total counter") || !strings.Contains(text, "# TYPE kontakt_acd_queue_waiting gauge") {
		t.Errorf("metric types:\n%s", text)
	}

	// The figures follow the engine: one more abandon (after the 5 s limit) in waste.
	c.Do(func(e *acd.Engine) { e.Step(at(130), acd.CallEnded{Call: "c4"}) })
	text = scrape(t, reg)
	for _, want := range []string{
		`kontakt_acd_queue_abandoned_total{queue="waste"} 1`,
		`kontakt_acd_queue_waiting{queue="waste"} 0`,
		`kontakt_acd_queue_service_level_ratio{queue="waste"} 0.3333333333333333`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("after c4 hung up, no %s in\n%s", want, text)
		}
	}
}

func TestMetricsWhenTheLoopHasStopped(t *testing.T) {
	c := New(Options{Queues: []string{"waste"}, WrapUp: 30 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	cancel()
	<-done
	defer func(d time.Duration) { loopWait = d }(loopWait)
	loopWait = time.Millisecond // the loop will never answer: do not wait for it
	reg := prometheus.NewPedanticRegistry()
	c.RegisterMetrics(reg)
	text := scrape(t, reg)
	if !strings.Contains(text, "kontakt_acd_up 0\n") || strings.Contains(text, "kontakt_acd_queue_") {
		t.Errorf("a stopped loop: %s", text)
	}
}

// wantMetrics: the figures of newCenter at 120 s, each checked by hand against the story there.
const wantMetrics = `kontakt_acd_agent_calls_handled_total 2
kontakt_acd_agent_state_seconds_total{state="available"} 107
kontakt_acd_agent_state_seconds_total{state="offline"} 120
kontakt_acd_agent_state_seconds_total{state="on_call"} 77
kontakt_acd_agent_state_seconds_total{state="paused"} 0
kontakt_acd_agent_state_seconds_total{state="reserved"} 26
kontakt_acd_agent_state_seconds_total{state="wrap_up"} 30
kontakt_acd_agents{state="available"} 0
kontakt_acd_agents{state="offline"} 1
kontakt_acd_agents{state="on_call"} 1
kontakt_acd_agents{state="paused"} 0
kontakt_acd_agents{state="reserved"} 1
kontakt_acd_agents{state="wrap_up"} 0
kontakt_acd_queue_abandoned_total{queue="broker"} 0
kontakt_acd_queue_abandoned_total{queue="roads"} 0
kontakt_acd_queue_abandoned_total{queue="supervisor"} 0
kontakt_acd_queue_abandoned_total{queue="waste"} 0
kontakt_acd_queue_agents_available{queue="broker"} 0
kontakt_acd_queue_agents_available{queue="roads"} 0
kontakt_acd_queue_agents_available{queue="supervisor"} 0
kontakt_acd_queue_agents_available{queue="waste"} 0
kontakt_acd_queue_agents_staffed{queue="broker"} 0
kontakt_acd_queue_agents_staffed{queue="roads"} 1
kontakt_acd_queue_agents_staffed{queue="supervisor"} 0
kontakt_acd_queue_agents_staffed{queue="waste"} 1
kontakt_acd_queue_aht_seconds{queue="broker"} 0
kontakt_acd_queue_aht_seconds{queue="roads"} 0
kontakt_acd_queue_aht_seconds{queue="supervisor"} 0
kontakt_acd_queue_aht_seconds{queue="waste"} 92
kontakt_acd_queue_answered_in_sl_total{queue="broker"} 0
kontakt_acd_queue_answered_in_sl_total{queue="roads"} 0
kontakt_acd_queue_answered_in_sl_total{queue="supervisor"} 0
kontakt_acd_queue_answered_in_sl_total{queue="waste"} 1
kontakt_acd_queue_answered_total{queue="broker"} 0
kontakt_acd_queue_answered_total{queue="roads"} 0
kontakt_acd_queue_answered_total{queue="supervisor"} 0
kontakt_acd_queue_answered_total{queue="waste"} 2
kontakt_acd_queue_asa_seconds{queue="broker"} 0
kontakt_acd_queue_asa_seconds{queue="roads"} 0
kontakt_acd_queue_asa_seconds{queue="supervisor"} 0
kontakt_acd_queue_asa_seconds{queue="waste"} 51.5
kontakt_acd_queue_callbacks_waiting{queue="broker"} 0
kontakt_acd_queue_callbacks_waiting{queue="roads"} 0
kontakt_acd_queue_callbacks_waiting{queue="supervisor"} 0
kontakt_acd_queue_callbacks_waiting{queue="waste"} 0
kontakt_acd_queue_handled_total{queue="broker"} 0
kontakt_acd_queue_handled_total{queue="roads"} 0
kontakt_acd_queue_handled_total{queue="supervisor"} 0
kontakt_acd_queue_handled_total{queue="waste"} 1
kontakt_acd_queue_longest_wait_seconds{queue="broker"} 0
kontakt_acd_queue_longest_wait_seconds{queue="roads"} 0
kontakt_acd_queue_longest_wait_seconds{queue="supervisor"} 0
kontakt_acd_queue_longest_wait_seconds{queue="waste"} 10
kontakt_acd_queue_offered_total{queue="broker"} 0
kontakt_acd_queue_offered_total{queue="roads"} 2
kontakt_acd_queue_offered_total{queue="supervisor"} 0
kontakt_acd_queue_offered_total{queue="waste"} 3
kontakt_acd_queue_open{queue="broker"} 1
kontakt_acd_queue_open{queue="roads"} 1
kontakt_acd_queue_open{queue="supervisor"} 1
kontakt_acd_queue_open{queue="waste"} 1
kontakt_acd_queue_overflowed_total{queue="broker"} 0
kontakt_acd_queue_overflowed_total{queue="roads"} 0
kontakt_acd_queue_overflowed_total{queue="supervisor"} 0
kontakt_acd_queue_overflowed_total{queue="waste"} 0
kontakt_acd_queue_rejected_total{queue="broker"} 0
kontakt_acd_queue_rejected_total{queue="roads"} 0
kontakt_acd_queue_rejected_total{queue="supervisor"} 0
kontakt_acd_queue_rejected_total{queue="waste"} 0
kontakt_acd_queue_service_level_ratio{queue="broker"} 1
kontakt_acd_queue_service_level_ratio{queue="roads"} 1
kontakt_acd_queue_service_level_ratio{queue="supervisor"} 1
kontakt_acd_queue_service_level_ratio{queue="waste"} 0.5
kontakt_acd_queue_short_abandoned_total{queue="broker"} 0
kontakt_acd_queue_short_abandoned_total{queue="roads"} 1
kontakt_acd_queue_short_abandoned_total{queue="supervisor"} 0
kontakt_acd_queue_short_abandoned_total{queue="waste"} 0
kontakt_acd_queue_sl_threshold_seconds{queue="broker"} 20
kontakt_acd_queue_sl_threshold_seconds{queue="roads"} 20
kontakt_acd_queue_sl_threshold_seconds{queue="supervisor"} 20
kontakt_acd_queue_sl_threshold_seconds{queue="waste"} 20
kontakt_acd_queue_transferred_out_total{queue="broker"} 0
kontakt_acd_queue_transferred_out_total{queue="roads"} 0
kontakt_acd_queue_transferred_out_total{queue="supervisor"} 0
kontakt_acd_queue_transferred_out_total{queue="waste"} 0
kontakt_acd_queue_waiting{queue="broker"} 0
kontakt_acd_queue_waiting{queue="roads"} 0
kontakt_acd_queue_waiting{queue="supervisor"} 0
kontakt_acd_queue_waiting{queue="waste"} 1
kontakt_acd_up 1
`
