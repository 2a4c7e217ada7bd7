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
	Redis         *RedisJSON      `json:"redis,omitempty"` // the fleet's shared cache, with cache.redis.addr
	LatencyMS     Percentiles     `json:"latency_ms"`
	QueryLog      bool            `json:"query_log"`
}

// QueriesJSON counts client queries. Total and its breakdowns count
// replies; queries dropped on purpose are only in ACL and RateLimited.
type QueriesJSON struct {
	Total       uint64            `json:"total"`
	ByType      map[string]uint64 `json:"by_type"`
	ByRcode     map[string]uint64 `json:"by_rcode"`
	Stale       uint64            `json:"stale"`        // answered with an expired cached answer (RFC 8767)
	Replayed    uint64            `json:"replayed"`     // answered by the fast path, from a reply kept for the same question
	ACL         TurnedAwayJSON    `json:"acl"`          // from clients outside the ACL (acl.action)
	RateLimited RateLimitJSON     `json:"ratelimited"`  // over their client's rate (ratelimit.action)
	Recursions  RecursionsJSON    `json:"recursions"`   // the cap on resolutions at once (limits.max_recursions)
	Cookies     CookiesJSON       `json:"cookies"`      // queries by their DNS cookie (RFC 7873)
	ByTransport map[string]uint64 `json:"by_transport"` // replies by transport: udp, tcp, dot, doh, doq
}

// CookiesJSON counts queries by their DNS cookie.
type CookiesJSON struct {
	None      uint64 `json:"none"`
	Malformed uint64 `json:"malformed"`
	New       uint64 `json:"new"`
	Valid     uint64 `json:"valid"`
}

// TurnedAwayJSON counts queries the server would not serve, by what they
// got: a REFUSED reply, or none.
type TurnedAwayJSON struct {
	Refused uint64 `json:"refused"`
	Dropped uint64 `json:"dropped"`
}

// RateLimitJSON counts queries over their client's rate.
type RateLimitJSON struct {
	TurnedAwayJSON
	Clients int64 `json:"clients"` // clients (IPv4 addresses, IPv6 /64s) tracked now
}

// RecursionsJSON is the cap on client queries resolved at once, and what
// the queries that found every slot taken got.
type RecursionsJSON struct {
	Active   int64  `json:"active"`   // being resolved now
	Max      int64  `json:"max"`      // the cap
	Cached   uint64 `json:"cached"`   // over the cap, answered from the cache
	Stale    uint64 `json:"stale"`    // over the cap, answered with an expired cached answer
	ServFail uint64 `json:"servfail"` // over the cap, answered SERVFAIL
}

func queriesJSON(q QueryStats) QueriesJSON {
	r := q.Recursions
	return QueriesJSON{
		Total: q.Total, ByType: q.ByType, ByRcode: q.ByRcode, Stale: q.Stale, Replayed: q.Replayed,
		ACL:         TurnedAwayJSON(q.ACL),
		RateLimited: RateLimitJSON{TurnedAwayJSON: TurnedAwayJSON(q.RateLimited), Clients: q.RateClients},
		Recursions:  RecursionsJSON{Active: r.Active, Max: r.Max, Cached: r.Cache, Stale: r.Stale, ServFail: r.ServFail},
		Cookies:     CookiesJSON(q.Cookies),
		ByTransport: q.ByTransport,
	}
}

// CacheJSON is the cache's counters: at the top, those DESIGN.md lists,
// where hits and misses are the answers' (what a client's hit or miss
// means) and entries and evictions count every kind; below, each kind's.
type CacheJSON struct {
	Entries    int      `json:"entries"` // all kinds
	Bytes      int64    `json:"bytes"`
	Hits       uint64   `json:"hits"`
	Misses     uint64   `json:"misses"`
	Inserts    uint64   `json:"inserts"`
	Evictions  uint64   `json:"evictions"` // all kinds
	Expired    uint64   `json:"expired"`
	HitRatio   float64  `json:"hit_ratio"`
	Answers    KindJSON `json:"answers"`  // replies to questions, negative ones too
	NameErrors KindJSON `json:"nxdomain"` // names known not to exist (RFC 8020)
	RRsets     KindJSON `json:"rrsets"`   // single RRsets with their trust, delegations among them
}

// KindJSON is one kind of cache entry's counters (cache.KindStats).
type KindJSON struct {
	Entries    int    `json:"entries"`
	Hits       uint64 `json:"hits"`
	Misses     uint64 `json:"misses"`
	Inserts    uint64 `json:"inserts"`
	Evictions  uint64 `json:"evictions"`
	Expired    uint64 `json:"expired"`
	Refused    uint64 `json:"refused"`    // updates refused: the cached data was more trusted
	Flushed    uint64 `json:"flushed"`    // removed by an operator
	Stale      uint64 `json:"stale"`      // expired entries served (RFC 8767)
	Prefetches uint64 `json:"prefetches"` // refreshes asked for before expiry
}

// ResolutionJSON counts resolutions.
type ResolutionJSON struct {
	Total            uint64 `json:"total"`
	Failures         uint64 `json:"failures"`
	InFlight         int64  `json:"in_flight"`
	Prefetches       uint64 `json:"prefetches"`        // cached answers refreshed before they expired
	PrefetchFailures uint64 `json:"prefetch_failures"` // of those, the refreshes that failed
	StaleAnswers     uint64 `json:"stale_answers"`     // expired answers given because no fresh one came (RFC 8767)
	// AggressiveNXDOMAIN counts name errors proven by cached, validated
	// NSEC records, with no query upstream (RFC 8198).
	AggressiveNXDOMAIN uint64 `json:"aggressive_nxdomain"`
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
	return KindJSON{Entries: k.Entries, Hits: k.Hits, Misses: k.Misses, Inserts: k.Inserts, Evictions: k.Evictions,
		Expired: k.Expired, Refused: k.Refused, Flushed: k.Flushed, Stale: k.Stale, Prefetches: k.Prefetches}
}

// cacheJSON is the cache's numbers. Its hits, and so its hit ratio,
// count the replies the fast path replayed too: each is an answer from
// the cache that did not have to look it up again.
func cacheJSON(c cache.Stats, replayed uint64) *CacheJSON {
	ans := c.Answers
	ans.Hits += replayed
	out := &CacheJSON{Entries: c.Entries, Bytes: c.Bytes,
		Hits: ans.Hits, Misses: ans.Misses, Inserts: ans.Inserts,
		Evictions: ans.Evictions + c.RRsets.Evictions + c.NameErrors.Evictions, Expired: ans.Expired,
		Answers: kindJSON(ans), NameErrors: kindJSON(c.NameErrors), RRsets: kindJSON(c.RRsets)}
	if lookups := ans.Hits + ans.Misses; lookups > 0 {
		out.HitRatio = float64(ans.Hits) / float64(lookups)
	}
	return out
}

func (a *Admin) stats(w http.ResponseWriter, _ *http.Request) {
	q := a.opts.Metrics.Snapshot()
	out := Stats{
		UptimeSeconds: q.Uptime.Seconds(),
		Queries:       queriesJSON(q),
		LatencyMS:     percentiles(q.Latency),
		QueryLog:      a.opts.QueryLog.Enabled(),
	}
	if a.opts.Cache != nil {
		out.Cache = cacheJSON(a.opts.Cache.Stats(), q.Replayed)
	}
	if a.opts.Resolver != nil {
		r := a.opts.Resolver.Stats()
		out.Resolutions = &ResolutionJSON{Total: r.Resolutions, Failures: r.Failures, InFlight: r.InFlight,
			Prefetches: r.Prefetches, PrefetchFailures: r.PrefetchFailures, StaleAnswers: r.StaleAnswers,
			AggressiveNXDOMAIN: r.AggressiveNXDOMAIN}
		out.Upstream = &UpstreamJSON{Queries: r.UpstreamQueries, Timeouts: r.UpstreamTimeouts,
			TCPFallbacks: r.TCPFallbacks, Errors: r.UpstreamErrors, RTTMS: percentiles(r.UpstreamRTT)}
	}
	if a.opts.Shared != nil {
		out.Redis = redisJSON(a.opts.Shared.Stats())
	}
	writeJSON(w, a.opts.Logger, out)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
