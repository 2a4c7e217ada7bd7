package server

import (
	"net/http"
	"time"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/internal/histogram"
)

// Stats is the JSON document served at /stats (DESIGN.md lists the
// fields every version has).
type Stats struct {
	UptimeSeconds float64         `json:"uptime_seconds"`
	Queries       QueriesJSON     `json:"queries"`
	Cache         *CacheJSON      `json:"cache,omitempty"`
	Resolutions   *ResolutionJSON `json:"resolutions,omitempty"`
	Upstream      *UpstreamJSON   `json:"upstream,omitempty"`
	LatencyMS     Percentiles     `json:"latency_ms"`
	QueryLog      bool            `json:"query_log"`
}

// QueriesJSON counts client queries.
type QueriesJSON struct {
	Total   uint64            `json:"total"`
	ByType  map[string]uint64 `json:"by_type"`
	ByRcode map[string]uint64 `json:"by_rcode"`
}

// CacheJSON is the cache's counters: those of the answers at the top (what
// a client's hit or miss means), the delegations' beside them.
type CacheJSON struct {
	Entries     int      `json:"entries"` // both kinds
	Bytes       int64    `json:"bytes"`
	Hits        uint64   `json:"hits"`
	Misses      uint64   `json:"misses"`
	Inserts     uint64   `json:"inserts"`
	Evictions   uint64   `json:"evictions"` // both kinds
	Expired     uint64   `json:"expired"`
	HitRatio    float64  `json:"hit_ratio"`
	Delegations KindJSON `json:"delegations"`
	NameErrors  KindJSON `json:"nxdomain"` // names known not to exist (RFC 8020)
}

// KindJSON is one kind of cache entry's counters.
type KindJSON struct {
	Entries   int    `json:"entries"`
	Hits      uint64 `json:"hits"`
	Misses    uint64 `json:"misses"`
	Inserts   uint64 `json:"inserts"`
	Evictions uint64 `json:"evictions"`
	Expired   uint64 `json:"expired"`
}

// ResolutionJSON counts resolutions.
type ResolutionJSON struct {
	Total    uint64 `json:"total"`
	Failures uint64 `json:"failures"`
	InFlight int64  `json:"in_flight"`
}

// UpstreamJSON is the resolver's exchange counters.
type UpstreamJSON struct {
	Queries      uint64      `json:"queries"`
	Timeouts     uint64      `json:"timeouts"`
	TCPFallbacks uint64      `json:"tcp_fallbacks"`
	Errors       uint64      `json:"errors"`
	RTTMS        Percentiles `json:"rtt_ms"`
}

// Percentiles of a latency, in milliseconds, estimated from histogram
// buckets.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

func percentiles(s histogram.Snapshot) Percentiles {
	return Percentiles{P50: ms(s.Quantile(0.50)), P90: ms(s.Quantile(0.90)), P99: ms(s.Quantile(0.99))}
}

func kindJSON(k cache.KindStats) KindJSON {
	return KindJSON{Entries: k.Entries, Hits: k.Hits, Misses: k.Misses, Inserts: k.Inserts, Evictions: k.Evictions, Expired: k.Expired}
}

func (a *Admin) stats(w http.ResponseWriter, _ *http.Request) {
	q := a.opts.Metrics.Snapshot()
	out := Stats{
		UptimeSeconds: q.Uptime.Seconds(),
		Queries:       QueriesJSON{Total: q.Total, ByType: q.ByType, ByRcode: q.ByRcode},
		LatencyMS:     percentiles(q.Latency),
		QueryLog:      a.opts.QueryLog.Enabled(),
	}
	if a.opts.Cache != nil {
		c := a.opts.Cache.Stats()
		ans := c.Answers
		out.Cache = &CacheJSON{Entries: ans.Entries + c.Delegations.Entries + c.NameErrors.Entries, Bytes: c.Bytes,
			Hits: ans.Hits, Misses: ans.Misses, Inserts: ans.Inserts,
			Evictions: ans.Evictions + c.Delegations.Evictions + c.NameErrors.Evictions, Expired: ans.Expired,
			Delegations: kindJSON(c.Delegations), NameErrors: kindJSON(c.NameErrors)}
		if lookups := ans.Hits + ans.Misses; lookups > 0 {
			out.Cache.HitRatio = float64(ans.Hits) / float64(lookups)
		}
	}
	if a.opts.Resolver != nil {
		r := a.opts.Resolver.Stats()
		out.Resolutions = &ResolutionJSON{Total: r.Resolutions, Failures: r.Failures, InFlight: r.InFlight}
		out.Upstream = &UpstreamJSON{Queries: r.UpstreamQueries, Timeouts: r.UpstreamTimeouts,
			TCPFallbacks: r.TCPFallbacks, Errors: r.UpstreamErrors, RTTMS: percentiles(r.UpstreamRTT)}
	}
	writeJSON(w, a.opts.Logger, out)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
