package server

import (
	"sync"
	"time"

	"github.com/miekg/dns"
)

// latencyBounds are the upper bounds of the client latency histogram's
// buckets; the last bucket has no upper bound.
var latencyBounds = []time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second,
}

// Metrics counts the queries the handler answered. It is safe for
// concurrent use; the zero value is not, use NewMetrics.
type Metrics struct {
	start time.Time

	mu      sync.Mutex
	total   uint64
	byType  map[string]uint64
	byRcode map[string]uint64
	latency []uint64 // len(latencyBounds)+1 buckets
}

// NewMetrics returns empty counters; uptime counts from now.
func NewMetrics() *Metrics {
	return &Metrics{
		start:   time.Now(),
		byType:  make(map[string]uint64),
		byRcode: make(map[string]uint64),
		latency: make([]uint64, len(latencyBounds)+1),
	}
}

func (m *Metrics) observe(qtype uint16, rcode int, took time.Duration) {
	t := dns.TypeToString[qtype]
	if t == "" {
		t = "OTHER"
	}
	r := rcodeName(rcode)
	b := len(latencyBounds)
	for i, bound := range latencyBounds {
		if took <= bound {
			b = i
			break
		}
	}
	m.mu.Lock()
	m.total++
	m.byType[t]++
	m.byRcode[r]++
	m.latency[b]++
	m.mu.Unlock()
}

// QueryStats is a snapshot of Metrics.
type QueryStats struct {
	Uptime  time.Duration
	Total   uint64
	ByType  map[string]uint64
	ByRcode map[string]uint64
	// P50, P90 and P99 are the upper bounds of the latency buckets that
	// hold those percentiles (so at most one bucket too high).
	P50, P90, P99 time.Duration
}

// Snapshot returns the counters so far.
func (m *Metrics) Snapshot() QueryStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := QueryStats{
		Uptime:  time.Since(m.start),
		Total:   m.total,
		ByType:  make(map[string]uint64, len(m.byType)),
		ByRcode: make(map[string]uint64, len(m.byRcode)),
	}
	for k, v := range m.byType {
		s.ByType[k] = v
	}
	for k, v := range m.byRcode {
		s.ByRcode[k] = v
	}
	s.P50 = m.percentile(0.50)
	s.P90 = m.percentile(0.90)
	s.P99 = m.percentile(0.99)
	return s
}

// percentile returns the upper bound of the bucket holding fraction p of
// the observations; beyond the last bound it returns the last bound.
func (m *Metrics) percentile(p float64) time.Duration {
	if m.total == 0 {
		return 0
	}
	want := uint64(p*float64(m.total) + 0.5)
	var seen uint64
	for i, n := range m.latency {
		seen += n
		if seen >= want && seen > 0 {
			if i < len(latencyBounds) {
				return latencyBounds[i]
			}
			break
		}
	}
	return latencyBounds[len(latencyBounds)-1]
}

func rcodeName(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return "OTHER"
}
