package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/histogram"
)

// Metrics counts the queries the handler answered. It is safe for
// concurrent use; the zero value is not, use NewMetrics.
type Metrics struct {
	start   time.Time
	latency *histogram.Histogram
	// stale counts replies that carried an expired cached answer (RFC 8767).
	stale atomic.Uint64

	mu     sync.Mutex
	counts map[typeRcode]uint64
}

// typeRcode labels a query count.
type typeRcode struct{ qtype, rcode string }

// NewMetrics returns empty counters; uptime counts from now.
func NewMetrics() *Metrics {
	return &Metrics{
		start:   time.Now(),
		latency: histogram.New(histogram.DefaultBounds),
		counts:  make(map[typeRcode]uint64),
	}
}

func (m *Metrics) observe(qtype uint16, rcode int, took time.Duration) {
	k := typeRcode{qtype: dns.TypeToString[qtype], rcode: rcodeName(rcode)}
	if k.qtype == "" {
		k.qtype = "OTHER" // unknown types would let clients grow the map without bound
	}
	m.latency.Observe(took)
	m.mu.Lock()
	m.counts[k]++
	m.mu.Unlock()
}

// QueryStats is a snapshot of Metrics.
type QueryStats struct {
	Uptime  time.Duration
	Total   uint64
	Counts  map[typeRcode]uint64
	ByType  map[string]uint64
	ByRcode map[string]uint64
	Stale   uint64 // replies that carried an expired cached answer (RFC 8767)
	Latency histogram.Snapshot
}

// Snapshot returns the counters so far.
func (m *Metrics) Snapshot() QueryStats {
	s := QueryStats{
		Uptime:  time.Since(m.start),
		Counts:  make(map[typeRcode]uint64),
		ByType:  make(map[string]uint64),
		ByRcode: make(map[string]uint64),
		Stale:   m.stale.Load(),
		Latency: m.latency.Snapshot(),
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.counts {
		s.Counts[k] = v
		s.ByType[k.qtype] += v
		s.ByRcode[k.rcode] += v
		s.Total += v
	}
	return s
}

func rcodeName(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return "OTHER"
}
