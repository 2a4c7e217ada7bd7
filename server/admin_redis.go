package server

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rootwalk/rootwalk/cache/redis"
)

// SharedCache is what the admin API needs of the cache a fleet shares in
// Redis: its counters, for /stats and /metrics, and the fleet-wide flush
// that POST /cache/flush sends after flushing this instance's own cache.
type SharedCache interface {
	Stats() redis.Stats
	// Flush deletes name ("" for everything, subtree for the names below
	// it too) from Redis and tells the other instances to drop it, and
	// returns how many answers it deleted from Redis.
	Flush(ctx context.Context, name string, subtree bool) (int, error)
}

// SharedFlushJSON is what a flush did to the fleet's shared cache.
type SharedFlushJSON struct {
	Deleted int    `json:"deleted"`         // answers deleted from Redis
	Error   string `json:"error,omitempty"` // why the fleet may not have been flushed
}

// RedisJSON is the shared cache's part of /stats.
type RedisJSON struct {
	Hits     uint64  `json:"hits"`     // fresh answers found in Redis
	Stale    uint64  `json:"stale"`    // expired answers found within the stale window
	Misses   uint64  `json:"misses"`   // questions Redis had no answer to
	Errors   uint64  `json:"errors"`   // calls that failed or ran out of time
	Rejected uint64  `json:"rejected"` // calls not made while the breaker was open
	Refused  uint64  `json:"refused"`  // values unreadable or for another question
	HitRatio float64 `json:"hit_ratio"`
	Writes   struct {
		Written uint64 `json:"written"`
		Failed  uint64 `json:"failed"`
		Dropped uint64 `json:"dropped"` // the write queue was full
		Skipped uint64 `json:"skipped"` // not to be shared: SERVFAIL, truncated, TTL 0
	} `json:"writes"`
	FlushesSent     uint64      `json:"flushes_sent"`
	FlushesReceived uint64      `json:"flushes_received"`
	Breaker         string      `json:"breaker"` // closed, half-open or open
	GetMS           Percentiles `json:"get_ms"`  // latency of lookups
	SetMS           Percentiles `json:"set_ms"`  // latency of pipelined writes
}

func redisJSON(s redis.Stats) *RedisJSON {
	out := &RedisJSON{Hits: s.Hits, Stale: s.Stale, Misses: s.Misses, Errors: s.Errors, Rejected: s.Rejected,
		Refused: s.Refused, FlushesSent: s.Flushes, FlushesReceived: s.FlushesReceived, Breaker: s.Breaker,
		GetMS: percentiles(s.GetLatency), SetMS: percentiles(s.SetLatency)}
	out.Writes.Written, out.Writes.Failed, out.Writes.Dropped, out.Writes.Skipped = s.Writes, s.WriteErrors, s.Dropped, s.Skipped
	if lookups := s.Hits + s.Stale + s.Misses + s.Errors + s.Rejected + s.Refused; lookups > 0 {
		out.HitRatio = float64(s.Hits) / float64(lookups)
	}
	return out
}

// flushShared sends a flush to the fleet, for POST /cache/flush.
func (a *Admin) flushShared(r *http.Request, name string, subtree bool) *SharedFlushJSON {
	if a.opts.Shared == nil {
		return nil
	}
	n, err := a.opts.Shared.Flush(r.Context(), name, subtree)
	out := &SharedFlushJSON{Deleted: n}
	if err != nil {
		out.Error = err.Error()
		a.opts.Logger.Warn("fleet-wide flush failed", "zone", name, "subtree", subtree, "err", err)
	}
	return out
}

var (
	descRedisHits     = desc("redis_hits_total", "Client questions answered from the fleet's shared cache in Redis.")
	descRedisStale    = desc("redis_stale_total", "Expired answers found in Redis within the stale window (kept for serve-stale).")
	descRedisMisses   = desc("redis_misses_total", "Client questions Redis had no answer to.")
	descRedisErrors   = desc("redis_errors_total", "Calls to Redis that failed or ran out of time (cache.redis.timeout).")
	descRedisRejected = desc("redis_rejected_total", "Calls to Redis not made because the circuit breaker was open.")
	descRedisRefused  = desc("redis_refused_total", "Values in Redis that were unreadable or held another question.")
	descRedisWrites   = desc("redis_writes_total", "Answers handed to the shared cache, by outcome: written, failed, dropped (queue full), skipped (not shareable).", "outcome")
	descRedisFlushes  = desc("redis_flushes_total", "Fleet-wide flushes, sent by this instance or received from others.", "direction")
	descRedisBreaker  = desc("redis_breaker_state", "1 for the circuit breaker's current state (closed, half-open, open), 0 for the others.", "state")
	descRedisDuration = desc("redis_call_duration_seconds", "Time of calls to Redis: get (a lookup) and set (a pipelined batch of writes).", "op")
)

var redisDescs = []*prometheus.Desc{descRedisHits, descRedisStale, descRedisMisses, descRedisErrors, descRedisRejected,
	descRedisRefused, descRedisWrites, descRedisFlushes, descRedisBreaker, descRedisDuration}

// collectRedis sends the shared cache's metrics.
func collectRedis(ch chan<- prometheus.Metric, s redis.Stats) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descRedisHits, s.Hits)
	counter(descRedisStale, s.Stale)
	counter(descRedisMisses, s.Misses)
	counter(descRedisErrors, s.Errors)
	counter(descRedisRejected, s.Rejected)
	counter(descRedisRefused, s.Refused)
	counter(descRedisWrites, s.Writes, "written")
	counter(descRedisWrites, s.WriteErrors, "failed")
	counter(descRedisWrites, s.Dropped, "dropped")
	counter(descRedisWrites, s.Skipped, "skipped")
	counter(descRedisFlushes, s.Flushes, "sent")
	counter(descRedisFlushes, s.FlushesReceived, "received")
	for _, state := range []string{redis.BreakerClosed, redis.BreakerHalfOpen, redis.BreakerOpen} {
		v := 0.0
		if s.Breaker == state {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descRedisBreaker, prometheus.GaugeValue, v, state)
	}
	ch <- constHistogramLabels(descRedisDuration, s.GetLatency, "get")
	ch <- constHistogramLabels(descRedisDuration, s.SetLatency, "set")
}
