package switchboard

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	callsStarted  prometheus.Counter
	callsEnded    *prometheus.CounterVec
	callsActive   prometheus.Gauge
	ariConnected  prometheus.Gauge
	ariReconnects prometheus.Counter
	ariRequest    *prometheus.HistogramVec
	ariEvents     *prometheus.CounterVec
	eventsKnown   prometheus.Counter // ariEvents{kind="known"}, resolved once: counted per event
	eventsOpaque  prometheus.Counter
	eventsBad     prometheus.Counter
	storeRetries  prometheus.Counter
	storeRefused  prometheus.Counter
	storePending  prometheus.Gauge
	greetingDelay prometheus.Histogram
}

// Outcomes are the only values of the outcome label.
var Outcomes = []Outcome{OutcomeAnswered, OutcomeAbandoned, OutcomeSelfService, OutcomeCallback, OutcomeMessage, OutcomeFailed}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		callsStarted: prometheus.NewCounter(prometheus.CounterOpts{Name: "kontakt_calls_started_total",
			Help: "Calls that entered Kontakt."}),
		callsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kontakt_calls_ended_total",
			Help: "Calls that ended, by outcome."}, []string{"outcome"}),
		callsActive: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kontakt_calls_active",
			Help: "Calls in progress."}),
		ariConnected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kontakt_ari_connected",
			Help: "1 while the ARI event websocket is connected."}),
		ariReconnects: prometheus.NewCounter(prometheus.CounterOpts{Name: "kontakt_ari_connects_total",
			Help: "Successful connections of the ARI event websocket."}),
		ariRequest: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kontakt_ari_request_duration_seconds",
			Help:    "ARI REST request latency, by operation.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 5}}, []string{"op"}),
		ariEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kontakt_ari_events_total",
			Help: "ARI events received, by kind (known or opaque)."}, []string{"kind"}),
		eventsBad: prometheus.NewCounter(prometheus.CounterOpts{Name: "kontakt_ari_events_malformed_total",
			Help: "ARI event messages that could not be decoded."}),
		storeRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "kontakt_store_write_retries_total",
			Help: "Database writes of calls retried (the database was unavailable)."}),
		storeRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "kontakt_store_writes_refused_total",
			Help: "Call writes the database refused for their data (skipped, logged as errors)."}),
		storePending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kontakt_store_writes_pending",
			Help: "Call writes waiting for the database."}),
		greetingDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kontakt_call_first_prompt_seconds",
			Help:    "From StasisStart to the first prompt started.",
			Buckets: []float64{.002, .005, .01, .02, .05, .1, .2, .5, 1}}),
	}
	for _, o := range Outcomes {
		m.callsEnded.WithLabelValues(string(o))
	}
	m.eventsKnown = m.ariEvents.WithLabelValues("known")
	m.eventsOpaque = m.ariEvents.WithLabelValues("opaque")
	if reg != nil {
		reg.MustRegister(m.callsStarted, m.callsEnded, m.callsActive, m.ariConnected, m.ariReconnects,
			m.ariRequest, m.ariEvents, m.eventsBad, m.storeRetries, m.storeRefused, m.storePending, m.greetingDelay)
	}
	return m
}

func (m *metrics) observe(op string, start time.Time) {
	m.ariRequest.WithLabelValues(op).Observe(time.Since(start).Seconds())
}
