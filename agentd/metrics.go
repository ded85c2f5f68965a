package agentd

import (
	"github.com/prometheus/client_golang/prometheus"

	"kontakt/agentd/protocol"
)

// Metrics are the agent server's Prometheus metrics. Label values come from closed sets:
// message types, error codes, drop reasons.
type Metrics struct {
	connected prometheus.Gauge
	sessions  prometheus.Gauge
	messages  *prometheus.CounterVec // direction, type
	errors    *prometheus.CounterVec // code
	drops     *prometheus.CounterVec // reason
	refused   *prometheus.CounterVec // reason (upgrades refused)
	logouts   prometheus.Counter
	resumes   prometheus.Counter
	offers    prometheus.Counter
	mediaDead prometheus.Counter
}

// DropReasons are the values of the drops' reason label.
var DropReasons = []string{"slow_client", "write_failed", "network", "ping_timeout", "hello_timeout", "too_large", "too_many_errors", "drain"}

// NewMetrics builds the metrics and registers them with reg (if not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kontakt_agent_connections",
			Help: "Agent WebSockets open and welcomed."}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kontakt_agent_sessions",
			Help: "Signed-in agents, including those within the grace period after a dropped socket."}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kontakt_agent_messages_total",
			Help: "Protocol messages on agent WebSockets, by direction (in, out) and type."}, []string{"direction", "type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kontakt_agent_errors_total",
			Help: "Error messages sent to agents, by code."}, []string{"code"}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kontakt_agent_connections_dropped_total",
			Help: "Agent WebSockets ended by the server or the network, by reason."}, []string{"reason"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kontakt_agent_upgrades_refused_total",
			Help: "WebSocket upgrades refused, by reason (unauthenticated, forbidden, origin, closing, upgrade)."}, []string{"reason"}),
		logouts: prometheus.NewCounter(prometheus.CounterOpts{Name: "kontakt_agent_disconnect_logouts_total",
			Help: "Agents signed out because they stayed away longer than the grace period."}),
		resumes: prometheus.NewCounter(prometheus.CounterOpts{Name: "kontakt_agent_resumes_total",
			Help: "Sessions resumed on a new socket within the grace period."}),
		offers: prometheus.NewCounter(prometheus.CounterOpts{Name: "kontakt_agent_offers_total",
			Help: "Offers (screen-pops) sent to agents."}),
		mediaDead: prometheus.NewCounter(prometheus.CounterOpts{Name: "kontakt_agent_softphone_failures_total",
			Help: "Softphone peer connections that failed or were closed by the browser."}),
	}
	for _, c := range protocol.Codes() {
		m.errors.WithLabelValues(string(c))
	}
	for _, r := range DropReasons {
		m.drops.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.connected, m.sessions, m.messages, m.errors, m.drops, m.refused, m.logouts, m.resumes, m.offers, m.mediaDead)
	}
	return m
}

func (m *Metrics) in(t protocol.Type) { m.messages.WithLabelValues("in", string(t)).Inc() }

func (m *Metrics) out(env protocol.Envelope) {
	m.messages.WithLabelValues("out", string(env.Type)).Inc()
	if e, ok := env.Data.(*protocol.Error); ok {
		m.errors.WithLabelValues(string(e.Code)).Inc()
	}
}
