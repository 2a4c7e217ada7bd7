package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rootwalk/rootwalk/cache"
	"github.com/rootwalk/rootwalk/internal/dnscookie"
	"github.com/rootwalk/rootwalk/internal/histogram"
	"github.com/rootwalk/rootwalk/resolver"
)

// CacheStats is what the metrics read of the cache.
type CacheStats interface{ Stats() cache.Stats }

// ResolverStats is what the admin API reads of the resolver.
type ResolverStats interface{ Stats() resolver.Stats }

// collector turns the counters the packages keep into Prometheus metrics
// at scrape time, so the query path never touches Prometheus.
type collector struct {
	metrics  *Metrics
	cache    CacheStats
	resolver ResolverStats
	listener ListenerStatser
	shared   SharedCache
}

// ListenerStatser is what the admin API reads of the DNS listener.
type ListenerStatser interface{ Stats() ListenerStats }

var (
	descPanics     = desc("panics_total", "Panics recovered at the DNS listener, each costing one packet or connection.")
	descTCPOpen    = desc("tcp_connections", "Client TCP connections open now.")
	descTCPRefused = desc("tcp_refused_total", "Client TCP connections closed at once because a connection cap was reached.")
	descTCPTimeout = desc("tcp_timeouts_total", "Client TCP connections closed for idleness or a frame not finished in time.")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("rootwalk_"+name, help, labels, nil)
}

var (
	descQueries       = desc("queries_total", "Client queries answered, by query type and response code.", "qtype", "rcode")
	descQueryDuration = desc("query_duration_seconds", "Time from receiving a client query to sending its reply.")
	descTransport     = desc("replies_by_transport_total", "Replies sent, by transport: udp, tcp, dot, doh, doq.", "transport")

	descCacheHits      = desc("cache_hits_total", "Cache lookups that found a live entry.", "cache")
	descCacheMisses    = desc("cache_misses_total", "Cache lookups that found nothing live.", "cache")
	descCacheInserts   = desc("cache_inserts_total", "Entries stored in the cache.", "cache")
	descCacheEvictions = desc("cache_evictions_total", "Live entries pushed out by the entry or byte bound.", "cache")
	descCacheExpired   = desc("cache_expired_total", "Entries removed because their TTL (and stale window) ran out.", "cache")
	descCacheRefused   = desc("cache_refused_total", "Updates refused because the cached data was more trusted.", "cache")
	descCacheFlushed   = desc("cache_flushed_total", "Entries removed by an operator.", "cache")
	descCacheStale     = desc("cache_stale_total", "Expired entries served stale (RFC 8767).", "cache")
	descCachePrefetch  = desc("cache_prefetches_total", "Refreshes the cache asked for before an entry expired.", "cache")
	descCacheEntries   = desc("cache_entries", "Entries held now.", "cache")
	descCacheBytes     = desc("cache_bytes", "Estimated bytes held by the cache now.")

	descResolutions      = desc("resolutions_total", "Client questions resolved (from the cache or by walking).")
	descResolutionErrors = desc("resolution_failures_total", "Resolutions that ended in an error (SERVFAIL).")
	descInFlight         = desc("resolutions_in_flight", "Resolutions under way now.")
	descPrefetches       = desc("prefetches_total", "Cached answers refreshed before they expired.")
	descPrefetchFailures = desc("prefetch_failures_total", "Refreshes of cached answers that failed.")
	descStaleAnswers     = desc("stale_answers_total", "Expired answers the resolver gave because no fresh one came in time (RFC 8767).")
	descAggressive       = desc("aggressive_nxdomain_total", "Name errors proven by cached, validated NSEC records, without a query upstream (RFC 8198).")
	descStaleReplies     = desc("stale_replies_total", "Client replies that carried an expired cached answer (RFC 8767, EDE 3 or 19).")
	descReplayedReplies  = desc("replayed_replies_total", "Client replies the fast path sent: a stored reply to the same question, replayed with the TTLs lowered.")

	descACLRejected      = desc("acl_rejected_total", "Queries from clients outside the ACL, by what they got (acl.action).", "action")
	descRateLimited      = desc("ratelimited_total", "Queries over their client's rate, by what they got (ratelimit.action).", "action")
	descRateClients      = desc("ratelimit_clients", "Clients (IPv4 addresses, IPv6 /64s) the rate limiter tracks now.")
	descCookies          = desc("cookies_total", "Queries by their DNS cookie (RFC 7873): none, malformed, new, valid.", "state")
	descRecursions       = desc("recursions_active", "Client queries being resolved now, counted against limits.max_recursions.")
	descRecursionsMax    = desc("recursions_max", "The cap on client queries resolved at once (limits.max_recursions).")
	descRecursionLimited = desc("recursion_limited_total", "Queries that found every recursion slot taken, by what they got: cached, stale or servfail.", "outcome")

	descUpstreamQueries  = desc("upstream_queries_total", "Queries sent to authoritative servers.")
	descUpstreamTimeouts = desc("upstream_timeouts_total", "Upstream queries that got no reply in time.")
	descUpstreamTCP      = desc("upstream_tcp_fallbacks_total", "Upstream queries asked again over TCP after a truncated UDP reply.")
	descUpstreamErrors   = desc("upstream_errors_total", "Upstream queries that failed otherwise (network errors, bad replies).")
	descUpstreamRTT      = desc("upstream_rtt_seconds", "Round-trip time of upstream queries that got a reply.")
)

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descQueries, descQueryDuration, descTransport, descStaleReplies, descReplayedReplies,
		descACLRejected, descRateLimited, descRateClients, descCookies, descRecursions, descRecursionsMax, descRecursionLimited,
		descCacheHits, descCacheMisses, descCacheInserts, descCacheEvictions, descCacheExpired,
		descCacheRefused, descCacheFlushed, descCacheStale, descCachePrefetch, descCacheEntries, descCacheBytes,
		descResolutions, descResolutionErrors, descInFlight, descPrefetches, descPrefetchFailures, descStaleAnswers, descAggressive,
		descUpstreamQueries, descUpstreamTimeouts, descUpstreamTCP, descUpstreamErrors, descUpstreamRTT,
		descPanics, descTCPOpen, descTCPRefused, descTCPTimeout,
	} {
		ch <- d
	}
	if c.shared != nil {
		for _, d := range redisDescs {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	if c.listener != nil {
		l := c.listener.Stats()
		counter(descPanics, l.Panics)
		gauge(descTCPOpen, float64(l.TCPOpen))
		counter(descTCPRefused, l.TCPRefused)
		counter(descTCPTimeout, l.TCPTimedOut)
	}
	q := c.metrics.Snapshot()
	for k, v := range q.Counts {
		counter(descQueries, v, k.qtype, k.rcode)
	}
	ch <- constHistogram(descQueryDuration, q.Latency)
	for t, n := range q.ByTransport {
		counter(descTransport, n, t)
	}
	counter(descStaleReplies, q.Stale)
	counter(descReplayedReplies, q.Replayed)
	for _, a := range []struct {
		d      *prometheus.Desc
		counts ActionCounts
	}{{descACLRejected, q.ACL}, {descRateLimited, q.RateLimited}} {
		counter(a.d, a.counts.Refused, ActionRefuse.String())
		counter(a.d, a.counts.Dropped, ActionDrop.String())
	}
	gauge(descRateClients, float64(q.RateClients))
	for i, v := range [dnscookie.NumStates]uint64{dnscookie.Absent: q.Cookies.None, dnscookie.Malformed: q.Cookies.Malformed,
		dnscookie.Unverified: q.Cookies.New, dnscookie.Verified: q.Cookies.Valid} {
		counter(descCookies, v, dnscookie.State(i).String())
	}
	r := q.Recursions
	gauge(descRecursions, float64(r.Active))
	gauge(descRecursionsMax, float64(r.Max))
	for i, v := range [numOverLimit]uint64{overLimitCache: r.Cache, overLimitStale: r.Stale, overLimitServFail: r.ServFail} {
		counter(descRecursionLimited, v, overLimitNames[i])
	}

	if c.cache != nil {
		s := c.cache.Stats()
		for name, k := range map[string]cache.KindStats{"answers": s.Answers, "nxdomain": s.NameErrors, "rrsets": s.RRsets} {
			counter(descCacheHits, k.Hits, name)
			counter(descCacheMisses, k.Misses, name)
			counter(descCacheInserts, k.Inserts, name)
			counter(descCacheEvictions, k.Evictions, name)
			counter(descCacheExpired, k.Expired, name)
			counter(descCacheRefused, k.Refused, name)
			counter(descCacheFlushed, k.Flushed, name)
			counter(descCacheStale, k.Stale, name)
			counter(descCachePrefetch, k.Prefetches, name)
			gauge(descCacheEntries, float64(k.Entries), name)
		}
		gauge(descCacheBytes, float64(s.Bytes))
	}
	if c.resolver != nil {
		r := c.resolver.Stats()
		counter(descResolutions, r.Resolutions)
		counter(descResolutionErrors, r.Failures)
		gauge(descInFlight, float64(r.InFlight))
		counter(descPrefetches, r.Prefetches)
		counter(descPrefetchFailures, r.PrefetchFailures)
		counter(descStaleAnswers, r.StaleAnswers)
		counter(descAggressive, r.AggressiveNXDOMAIN)
		counter(descUpstreamQueries, r.UpstreamQueries)
		counter(descUpstreamTimeouts, r.UpstreamTimeouts)
		counter(descUpstreamTCP, r.TCPFallbacks)
		counter(descUpstreamErrors, r.UpstreamErrors)
		ch <- constHistogram(descUpstreamRTT, r.UpstreamRTT)
	}
	if c.shared != nil {
		collectRedis(ch, c.shared.Stats())
	}
}

// constHistogram converts a snapshot to a Prometheus histogram in seconds.
func constHistogram(d *prometheus.Desc, s histogram.Snapshot) prometheus.Metric {
	return constHistogramLabels(d, s)
}

// constHistogramLabels is constHistogram for a histogram with labels.
func constHistogramLabels(d *prometheus.Desc, s histogram.Snapshot, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(s.Bounds))
	var cumulative uint64
	for i, b := range s.Bounds {
		cumulative += s.Counts[i]
		buckets[b.Seconds()] = cumulative
	}
	return prometheus.MustNewConstHistogram(d, s.Count, s.Sum.Seconds(), buckets, labels...)
}

// newRegistry holds rootwalk's metrics and the Go runtime's and process's
// (go_goroutines among them).
func newRegistry(c *collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
