package api

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	refusals   *prometheus.CounterVec
	panics     prometheus.Counter
	panicCount atomic.Int64
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edufund_http_requests_total", Help: "HTTP requests by route pattern and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edufund_http_request_duration_seconds", Help: "HTTP request latency by route pattern and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edufund_refusals_total", Help: "Requests refused by a rule (403, 409, 422) by stable rule code.",
		}, []string{"code"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edufund_http_panics_total", Help: "Requests that ended in a recovered panic.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.refusals, m.panics)
	return m
}
