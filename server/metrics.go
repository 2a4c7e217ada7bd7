package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
	"github.com/rootwalk/rootwalk/internal/histogram"
)

// Metrics counts the queries the handler answered, and those it turned
// away. Handlers that share one Metrics add up their counts; the size of
// the rate limiter's table and the recursion cap are the last writer's.
// It is safe for concurrent use; the zero value is not, use NewMetrics.
type Metrics struct {
	start   time.Time
	latency *histogram.Histogram
	// stale counts replies that carried an expired cached answer (RFC 8767).
	stale atomic.Uint64
	// replayed counts the replies the fast path sent (replay.go).
	replayed atomic.Uint64

	// acl and ratelimited count queries from clients outside the ACL and
	// over their rate, indexed by the Action they got.
	acl, ratelimited [numActions]atomic.Uint64
	// rateClients is the number of clients the rate limiter tracks now.
	rateClients atomic.Int64
	// recursions is the number of client queries being resolved now, and
	// maxRecursions the handler's cap on it.
	recursions, maxRecursions atomic.Int64
	// overLimit counts queries that found every recursion slot taken, by
	// what they got.
	overLimit [numOverLimit]atomic.Uint64
	// cookies counts queries by what their DNS cookie was.
	cookies [dnscookie.NumStates]atomic.Uint64
	// transports counts the replies sent on each transport.
	transports [numTransports]atomic.Uint64

	mu     sync.Mutex
	counts map[typeRcode]uint64
}

// numActions is the number of Action values.
const numActions = int(ActionDrop) + 1

// What a query that found every recursion slot taken got.
const (
	overLimitCache    = iota // a fresh answer from the cache
	overLimitStale           // an expired answer from the cache (RFC 8767)
	overLimitServFail        // SERVFAIL with an Extended DNS Error
	numOverLimit
)

// overLimitNames label the overLimit counters, in the metrics and /stats.
var overLimitNames = [numOverLimit]string{"cached", "stale", "servfail"}

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
	// Replayed counts the replies the fast path sent: stored replies to
	// the same question, replayed without the full path (replay.go).
	Replayed uint64
	Latency  histogram.Snapshot

	ACL         ActionCounts // queries from clients outside the ACL
	RateLimited ActionCounts // queries over their client's rate
	RateClients int64        // clients the rate limiter tracks now
	Recursions  RecursionStats
	Cookies     CookieStats
	// ByTransport counts replies by the transport they went on; UDP's
	// include the fast path's.
	ByTransport map[string]uint64
}

// CookieStats counts queries by their DNS cookie (RFC 7873), when the
// handler answers cookies.
type CookieStats struct {
	None      uint64 // no COOKIE option
	Malformed uint64 // answered FORMERR
	New       uint64 // a client cookie alone, or a server cookie not ours or too old
	Valid     uint64 // a server cookie we made, and recent
}

// ActionCounts counts turned-away queries by the Action they got. Refused
// ones are counted among the replies too; dropped ones only here.
type ActionCounts struct {
	Refused uint64
	Dropped uint64
}

// RecursionStats is the state of the cap on client queries resolved at
// once, and what the queries that found it reached got.
type RecursionStats struct {
	Active   int64  // client queries being resolved now
	Max      int64  // the cap
	Cache    uint64 // answered from the cache all the same
	Stale    uint64 // answered with an expired cached answer (RFC 8767)
	ServFail uint64 // answered SERVFAIL, with an Extended DNS Error
}

// turnedAway counts a query turned away, by the ACL or the rate limit, as
// action says.
func turnedAway(counts *[numActions]atomic.Uint64, action Action) {
	counts[action].Add(1)
}

func actionCounts(counts *[numActions]atomic.Uint64) ActionCounts {
	return ActionCounts{Refused: counts[ActionRefuse].Load(), Dropped: counts[ActionDrop].Load()}
}

// Snapshot returns the counters so far.
func (m *Metrics) Snapshot() QueryStats {
	s := QueryStats{
		Uptime:   time.Since(m.start),
		Counts:   make(map[typeRcode]uint64),
		ByType:   make(map[string]uint64),
		ByRcode:  make(map[string]uint64),
		Stale:    m.stale.Load(),
		Replayed: m.replayed.Load(),
		Latency:  m.latency.Snapshot(),

		ByTransport: make(map[string]uint64, numTransports),
		ACL:         actionCounts(&m.acl),
		RateLimited: actionCounts(&m.ratelimited),
		RateClients: m.rateClients.Load(),
		Recursions: RecursionStats{
			Active:   m.recursions.Load(),
			Max:      m.maxRecursions.Load(),
			Cache:    m.overLimit[overLimitCache].Load(),
			Stale:    m.overLimit[overLimitStale].Load(),
			ServFail: m.overLimit[overLimitServFail].Load(),
		},
		Cookies: CookieStats{
			None:      m.cookies[dnscookie.Absent].Load(),
			Malformed: m.cookies[dnscookie.Malformed].Load(),
			New:       m.cookies[dnscookie.Unverified].Load(),
			Valid:     m.cookies[dnscookie.Verified].Load(),
		},
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.counts {
		s.Counts[k] = v
		s.ByType[k.qtype] += v
		s.ByRcode[k.rcode] += v
		s.Total += v
	}
	for t := range numTransports {
		s.ByTransport[t.String()] = m.transports[t].Load()
	}
	s.ByTransport[TransportUDP.String()] += s.Replayed
	return s
}

// countTransport counts a reply sent on t.
func (m *Metrics) countTransport(t Transport) { m.transports[t].Add(1) }

func rcodeName(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return "OTHER"
}
