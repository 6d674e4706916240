package server

import (
	"context"
	"net/http"
	"time"

	"github.com/flowd/flowd/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are a service's Prometheus metrics, on a registry of their own:
// what the engine does (a runtime.Meter), what the webhook takes and
// refuses, and the outbox's depth, read from the store when scraped.
type Metrics struct {
	reg      *prometheus.Registry
	events   *prometheus.CounterVec
	commits  prometheus.Histogram
	carried  *prometheus.CounterVec
	lag      *prometheus.HistogramVec
	inbound  *prometheus.CounterVec
	refused  *prometheus.CounterVec
	statuses *prometheus.CounterVec
	reloads  *prometheus.CounterVec
	stale    prometheus.Gauge
}

// NewMetrics makes the metrics; depth reads the outbox's depth.
func NewMetrics(depth func(context.Context) (int, error)) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowd_events_total",
			Help: "Events the engine handled (a turn each), by outcome: committed or failed."}, []string{"outcome"}),
		commits: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flowd_commit_seconds",
			Help:    "How long a transaction of events took, handled and committed.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}),
		carried: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowd_outbound_total",
			Help: "Outbox items carried out, by lane (message, http, sheet, ai) and result: delivered, retried or failed."}, []string{"lane", "result"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "flowd_timer_lag_seconds",
			Help:    "How late timers fired, by kind.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 5, 10, 60}}, []string{"kind"}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowd_inbound_events_total",
			Help: "Webhook events taken, by channel and type."}, []string{"channel", "type"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowd_inbound_rejected_total",
			Help: "Webhook requests refused, by reason: unauthorized, too_large, bad_request, unknown_channel, rate_limited, failed."}, []string{"reason"}),
		statuses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowd_message_status_total",
			Help: "Status reports of delivered messages, by status: sent, delivered, read, failed."}, []string{"status"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowd_flow_reloads_total",
			Help: "Reloads of the flows' directory, by result: ok, refused (the engine kept what served), error."}, []string{"result"}),
		stale: prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowd_flows_with_errors",
			Help: "Flow files with errors, whose last good version (if any) serves."}),
	}
	depthGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "flowd_outbox_depth",
		Help: "Outbox items waiting to be carried out."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := depth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	m.reg.MustRegister(m.events, m.commits, m.carried, m.lag, m.inbound, m.refused, m.statuses, m.reloads, m.stale, depthGauge,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// reloaded counts a reload of the flows and the files with errors.
func (m *Metrics) reloaded(ld *Loaded, err error) {
	switch {
	case ld == nil:
		m.reloads.WithLabelValues("error").Inc()
		return
	case err != nil:
		m.reloads.WithLabelValues("refused").Inc()
	default:
		m.reloads.WithLabelValues("ok").Inc()
	}
	failed := 0
	for _, f := range ld.Files {
		if f.Failed() {
			failed++
		}
	}
	m.stale.Set(float64(failed))
}

// Handled implements runtime.Meter.
func (m *Metrics) Handled(events, failed int, took time.Duration) {
	m.events.WithLabelValues("committed").Add(float64(events - failed))
	if failed > 0 {
		m.events.WithLabelValues("failed").Add(float64(failed))
	}
	m.commits.Observe(took.Seconds())
}

// Carried implements runtime.Meter.
func (m *Metrics) Carried(lane, result string) { m.carried.WithLabelValues(lane, result).Inc() }

// Fired implements runtime.Meter.
func (m *Metrics) Fired(kind string, lag time.Duration) {
	m.lag.WithLabelValues(kind).Observe(max(lag, 0).Seconds())
}

// taken counts a webhook's events.
func (m *Metrics) taken(channel string, evs []runtime.Event) {
	if m == nil {
		return
	}
	for _, ev := range evs {
		in := ev.(runtime.Inbound)
		m.inbound.WithLabelValues(channel, in.Type).Inc()
		if in.Type == runtime.InStatus {
			m.statuses.WithLabelValues(in.Status).Inc()
		}
	}
}

// rejected counts a refused webhook request by the reason its status says.
func (m *Metrics) rejected(code int) {
	if m == nil {
		return
	}
	reason := map[int]string{401: "unauthorized", 413: "too_large", 400: "bad_request", 404: "unknown_channel", 429: "rate_limited"}[code]
	if reason == "" {
		reason = "failed"
	}
	m.refused.WithLabelValues(reason).Inc()
}

var _ runtime.Meter = (*Metrics)(nil)
