package center

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kontakt/acd"
)

// RegisterMetrics exports the ACD's live statistics: per queue (the queue id the only label,
// a set the configuration bounds) and the agents by state (the engine's closed set of states).
// Agent and call ids are never labels. Every scrape takes one snapshot on the loop goroutine.
func (c *Center) RegisterMetrics(reg prometheus.Registerer) {
	reg.MustRegister(newACDCollector(c))
}

// The metrics' names and help; queue metrics carry the label queue.
var (
	queueGauges = []queueMetric{
		{"kontakt_acd_queue_waiting", "Callers waiting in the queue now (callbacks holding a place not counted).", func(q acd.QueueStats) float64 { return float64(q.Waiting) }},
		{"kontakt_acd_queue_callbacks_waiting", "Virtual callers (callbacks) holding a place in the queue now.", func(q acd.QueueStats) float64 { return float64(q.Callbacks) }},
		{"kontakt_acd_queue_longest_wait_seconds", "Wait of the longest-waiting caller in the queue now.", func(q acd.QueueStats) float64 { return q.LongestWaitSeconds }},
		{"kontakt_acd_queue_service_level_ratio", "Answered within the queue's threshold / (answered + abandoned), short abandons left out; 1 before any call.", func(q acd.QueueStats) float64 { return q.ServiceLevel }},
		{"kontakt_acd_queue_sl_threshold_seconds", "The queue's service-level threshold.", func(q acd.QueueStats) float64 { return q.SLThresholdSeconds }},
		{"kontakt_acd_queue_asa_seconds", "Average speed of answer: mean wait of the answered calls.", func(q acd.QueueStats) float64 { return q.ASASeconds }},
		{"kontakt_acd_queue_aht_seconds", "Average handle time: mean talk plus wrap-up of the calls whose wrap-up has ended.", func(q acd.QueueStats) float64 { return q.AHTSeconds }},
		{"kontakt_acd_queue_agents_staffed", "Agents logged in who serve the queue's own rule.", func(q acd.QueueStats) float64 { return float64(q.AgentsStaffed) }},
		{"kontakt_acd_queue_agents_available", "Of the staffed agents, those idle now.", func(q acd.QueueStats) float64 { return float64(q.AgentsAvailable) }},
		{"kontakt_acd_queue_open", "1 when the queue is open now.", func(q acd.QueueStats) float64 { return b2f(q.Open) }},
	}
	queueCounters = []queueMetric{
		{"kontakt_acd_queue_offered_total", "Calls that entered the queue (arrival, overflow, transfer).", func(q acd.QueueStats) float64 { return float64(q.Offered) }},
		{"kontakt_acd_queue_answered_total", "Calls of the queue answered by an agent.", func(q acd.QueueStats) float64 { return float64(q.Answered) }},
		{"kontakt_acd_queue_answered_in_sl_total", "Calls of the queue answered within its service-level threshold.", func(q acd.QueueStats) float64 { return float64(q.AnsweredInSL) }},
		{"kontakt_acd_queue_abandoned_total", "Callers who hung up while waiting or ringing, after the short-abandon limit.", func(q acd.QueueStats) float64 { return float64(q.Abandoned) }},
		{"kontakt_acd_queue_short_abandoned_total", "Callers who hung up within the short-abandon limit (5 s), counted apart.", func(q acd.QueueStats) float64 { return float64(q.ShortAbandoned) }},
		{"kontakt_acd_queue_overflowed_total", "Calls that left the queue for its overflow queue.", func(q acd.QueueStats) float64 { return float64(q.Overflowed) }},
		{"kontakt_acd_queue_rejected_total", "Calls that left the queue without an agent (closed, full, max wait).", func(q acd.QueueStats) float64 { return float64(q.Rejected) }},
		{"kontakt_acd_queue_transferred_out_total", "Calls sent on from the queue to another one.", func(q acd.QueueStats) float64 { return float64(q.TransferredOut) }},
		{"kontakt_acd_queue_handled_total", "Calls of the queue whose wrap-up has ended.", func(q acd.QueueStats) float64 { return float64(q.Handled) }},
	}
	acdUpDesc = prometheus.NewDesc("kontakt_acd_up",
		"1 when the ACD loop answered this scrape (0: it is stopped or busy; no ACD figures follow).", nil, nil)
	agentsDesc = prometheus.NewDesc("kontakt_acd_agents",
		"Agents known to the ACD, by state now.", []string{"state"}, nil)
	agentSecondsDesc = prometheus.NewDesc("kontakt_acd_agent_state_seconds_total",
		"Time all agents together have spent in each state.", []string{"state"}, nil)
	agentHandledDesc = prometheus.NewDesc("kontakt_acd_agent_calls_handled_total",
		"Calls all agents together have been connected with (callbacks included).", nil, nil)
)

// agentStates is the engine's closed set of agent states, in its order.
var agentStates = []acd.AgentState{acd.AgentOffline, acd.AgentAvailable, acd.AgentReserved,
	acd.AgentOnCall, acd.AgentWrapUp, acd.AgentPaused}

type queueMetric struct {
	name, help string
	value      func(acd.QueueStats) float64
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

type acdCollector struct {
	c        *Center
	gauges   []*prometheus.Desc
	counters []*prometheus.Desc
}

func newACDCollector(c *Center) *acdCollector {
	k := &acdCollector{c: c}
	for _, m := range queueGauges {
		k.gauges = append(k.gauges, prometheus.NewDesc(m.name, m.help, []string{"queue"}, nil))
	}
	for _, m := range queueCounters {
		k.counters = append(k.counters, prometheus.NewDesc(m.name, m.help, []string{"queue"}, nil))
	}
	return k
}

func (k *acdCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range k.gauges {
		ch <- d
	}
	for _, d := range k.counters {
		ch <- d
	}
	ch <- acdUpDesc
	ch <- agentsDesc
	ch <- agentSecondsDesc
	ch <- agentHandledDesc
}

func (k *acdCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), loopWait)
	defer cancel()
	var s acd.Snapshot
	if err := k.c.within(ctx, func(e *acd.Engine) { s = e.Snapshot(time.Now()) }); err != nil {
		ch <- prometheus.MustNewConstMetric(acdUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(acdUpDesc, prometheus.GaugeValue, 1)
	for _, q := range s.Queues {
		id := string(q.Queue)
		for i, m := range queueGauges {
			ch <- prometheus.MustNewConstMetric(k.gauges[i], prometheus.GaugeValue, m.value(q), id)
		}
		for i, m := range queueCounters {
			ch <- prometheus.MustNewConstMetric(k.counters[i], prometheus.CounterValue, m.value(q), id)
		}
	}
	count := make(map[acd.AgentState]int, len(agentStates))
	secs := make(map[string]float64, len(agentStates))
	handled := 0
	for _, a := range s.Agents {
		count[a.State]++
		for st, v := range a.Seconds {
			secs[st] += v
		}
		handled += a.Handled
	}
	for _, st := range agentStates {
		ch <- prometheus.MustNewConstMetric(agentsDesc, prometheus.GaugeValue, float64(count[st]), st.String())
		ch <- prometheus.MustNewConstMetric(agentSecondsDesc, prometheus.CounterValue, secs[st.String()], st.String())
	}
	ch <- prometheus.MustNewConstMetric(agentHandledDesc, prometheus.CounterValue, float64(handled))
}
