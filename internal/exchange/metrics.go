package exchange

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts what the node does, per service, for Prometheus and for
// the monitoring page. The in-memory side keeps one small record per
// service seen and a fixed latency histogram, so it stays bounded.
type metrics struct {
	messages  *prometheus.CounterVec   // direction, service, outcome
	requests  *prometheus.CounterVec   // role, service, outcome
	latency   *prometheus.HistogramVec // role, service
	backlog   *prometheus.GaugeVec     // destination node
	link      *prometheus.GaugeVec     // peer node: 1 connected, 0 not
	linkSince *prometheus.GaugeVec     // peer node: unix time of the last change
	confLeft  prometheus.Gauge         // seconds until the configuration expires

	mu    sync.Mutex
	stats map[string]*ServiceStats // by service id; guarded by mu
}

// latencyBuckets are the upper bounds, in seconds, of the latency
// histogram, shared by Prometheus and the page's percentiles.
var latencyBuckets = []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5, 10, 30}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chancery_exchange_messages_total",
			Help: "Asynchronous messages by direction (out, in), service and outcome (sent, delivered, refused, duplicate)."},
			[]string{"direction", "service", "outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chancery_exchange_requests_total",
			Help: "Synchronous requests by role (caller, provider), service and outcome (ok, error, refused, timeout)."},
			[]string{"role", "service", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "chancery_exchange_request_seconds",
			Help: "Latency of synchronous requests by role and service.", Buckets: latencyBuckets},
			[]string{"role", "service"}),
		backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chancery_exchange_backlog_messages",
			Help: "Batches waiting on this node for a destination node."}, []string{"destination"}),
		link: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chancery_exchange_link_up",
			Help: "Whether the link to a peer node is connected (1) or not (0)."}, []string{"peer"}),
		linkSince: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chancery_exchange_link_changed_timestamp_seconds",
			Help: "When the link to a peer node last connected or disconnected."}, []string{"peer"}),
		confLeft: prometheus.NewGauge(prometheus.GaugeOpts{Name: "chancery_exchange_conf_expiry_seconds",
			Help: "Seconds until the global configuration this node holds expires (negative: expired)."}),
		stats: map[string]*ServiceStats{},
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.messages, m.requests, m.latency, m.backlog, m.link, m.linkSince, m.confLeft} {
			// A second node in one process (tests) would collide with
			// the first one's collectors; it keeps its counts for its
			// own page only.
			_ = reg.Register(c)
		}
	}
	return m
}

// ServiceStats is what the node has counted for one service since it
// started.
type ServiceStats struct {
	Service   string
	Sent      int64 // asynchronous messages sent
	Delivered int64 // asynchronous messages delivered to a local inbox
	Refused   int64 // messages or requests refused
	Requests  int64 // synchronous requests, as caller or provider
	Errors    int64 // synchronous requests that failed
	// Latency percentiles of synchronous requests, from the histogram
	// buckets (upper bounds).
	P50, P99 time.Duration
	buckets  []int64
}

func (m *metrics) statLocked(service string) *ServiceStats {
	s, ok := m.stats[service]
	if !ok {
		s = &ServiceStats{Service: service, buckets: make([]int64, len(latencyBuckets)+1)}
		m.stats[service] = s
	}
	return s
}

// message counts an asynchronous message.
func (m *metrics) message(direction string, service ServiceID, outcome string, n int) {
	svc := service.String()
	m.messages.WithLabelValues(direction, svc, outcome).Add(float64(n))
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.statLocked(svc)
	switch outcome {
	case "sent":
		s.Sent += int64(n)
	case "delivered":
		s.Delivered += int64(n)
	case "refused":
		s.Refused += int64(n)
	}
}

// request counts a synchronous request and its latency.
func (m *metrics) request(role string, service ServiceID, outcome string, d time.Duration) {
	svc := service.String()
	m.requests.WithLabelValues(role, svc, outcome).Inc()
	m.latency.WithLabelValues(role, svc).Observe(d.Seconds())
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.statLocked(svc)
	s.Requests++
	switch outcome {
	case "ok":
	case "refused":
		s.Refused++
	default:
		s.Errors++
	}
	i, _ := slices.BinarySearch(latencyBuckets, d.Seconds())
	s.buckets[i]++
}

// Stats returns the per-service counts, sorted by service id.
func (m *metrics) Stats() []ServiceStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ServiceStats, 0, len(m.stats))
	for _, s := range m.stats {
		c := *s
		c.P50, c.P99 = percentile(s.buckets, 0.50), percentile(s.buckets, 0.99)
		c.buckets = nil
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b ServiceStats) int { return strings.Compare(a.Service, b.Service) })
	return out
}

// percentile returns the upper bound of the bucket holding quantile q.
func percentile(buckets []int64, q float64) time.Duration {
	var total int64
	for _, c := range buckets {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := int64(q*float64(total) + 0.5)
	var seen int64
	for i, c := range buckets {
		seen += c
		if seen >= rank && c > 0 {
			if i == len(latencyBuckets) {
				return time.Duration(latencyBuckets[i-1] * float64(time.Second) * 2)
			}
			return time.Duration(latencyBuckets[i] * float64(time.Second))
		}
	}
	return 0
}
