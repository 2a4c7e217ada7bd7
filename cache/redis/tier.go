package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	goredis "github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/rootwalk/rootwalk/internal/histogram"
)

// DefaultTimeout bounds one call to Redis when Options.Timeout is 0: far
// above a loopback or same-rack round trip (well under a millisecond),
// far below what a client waits for an answer.
const DefaultTimeout = 50 * time.Millisecond

// The circuit breaker opens after breakerTrips consecutive failed calls
// and stays open breakerCooldown; then one call probes Redis, and its
// success closes the breaker again.
const (
	breakerTrips    = 5
	breakerCooldown = 2 * time.Second
)

// writeQueue is how many answers may wait to be written; past it, writes
// are dropped (and counted) rather than held in memory or waited for.
const writeQueue = 4096

// writeBatch is how many queued writes share one pipelined round trip.
const writeBatch = 64

// Options configures a Tier.
type Options struct {
	// Addr is Redis's address, host:port, or a redis:// or rediss:// URL
	// (with a password, a database number or TLS). Required.
	Addr string
	// Seed is the secret every instance of the fleet shares: it is hashed
	// into every key, so answers cannot be looked up or planted by anyone
	// without it, and fleets with different seeds never meet.
	Seed string
	// Timeout bounds each call to Redis; 0: DefaultTimeout.
	Timeout time.Duration
	// StaleWindow is how long past its expiry an answer is kept, for
	// serve-stale (RFC 8767); 0: it goes when it expires.
	StaleWindow time.Duration
	// OnFlush, when set, is called when another instance of the fleet
	// flushed name ("" for everything), with subtree set when the names
	// below it went too. It runs on the subscriber's goroutine.
	OnFlush func(name string, subtree bool)
	Logger  *slog.Logger // nil: discard
}

// Tier is the fleet's cache in Redis. It is safe for concurrent use.
type Tier struct {
	client  *goredis.Client
	keys    keys
	timeout time.Duration
	stale   time.Duration
	id      string // this instance, so that it ignores its own flushes
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	log     *slog.Logger

	writes  chan write
	stop    context.CancelFunc
	wg      sync.WaitGroup
	closing sync.Once
	pubsub  *goredis.PubSub

	stats struct {
		hits, stale, misses, errors, rejected, bad atomic.Uint64
		writes, writeErrors, dropped, skipped      atomic.Uint64
		flushes, flushesReceived                   atomic.Uint64
		get, set                                   *histogram.Histogram
	}
}

// write is one answer waiting to be stored.
type write struct {
	key, name string // the answer's key and its name's index
	value     []byte
	ttl       time.Duration // for EX
}

// New returns a Tier for opts. It does not wait for Redis: a Redis down
// at start is the same as one that goes down later (Ping tells).
func New(opts Options) (*Tier, error) {
	ro, err := clientOptions(opts.Addr)
	if err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// Every wait is bounded by the call's deadline; no retries, since a
	// retry would only spend the same deadline again.
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout, ro.PoolTimeout = timeout, timeout, timeout, timeout
	ro.ContextTimeoutEnabled = true
	ro.MaxRetries = -1
	ro.DisableIdentity = true // CLIENT SETINFO is Redis 7.2's; older servers refuse it

	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id) // crypto/rand.Read never fails (Go 1.24)
	t := &Tier{
		client:  goredis.NewClient(ro),
		keys:    newKeys(opts.Seed),
		timeout: timeout,
		stale:   max(opts.StaleWindow, 0),
		id:      hex.EncodeToString(id),
		log:     log,
		writes:  make(chan write, writeQueue),
	}
	t.stats.get = histogram.New(histogram.DefaultBounds)
	t.stats.set = histogram.New(histogram.DefaultBounds)
	t.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1,
		Timeout:     breakerCooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= breakerTrips },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				log.Warn("shared cache unreachable: answering from this instance's cache alone", "addr", ro.Addr, "retry_in", breakerCooldown)
			} else {
				log.Info("shared cache breaker", "from", from.String(), "to", to.String())
			}
		},
	})
	ctx, stop := context.WithCancel(context.Background())
	t.stop = stop
	t.wg.Go(func() { t.writer(ctx) })
	if opts.OnFlush != nil {
		t.pubsub = t.client.Subscribe(ctx, t.keys.channel())
		t.wg.Go(func() { t.listen(t.pubsub, opts.OnFlush) })
	}
	return t, nil
}

// clientOptions reads addr as a URL or as host:port.
func clientOptions(addr string) (*goredis.Options, error) {
	switch {
	case addr == "":
		return nil, errors.New("redis: no address")
	case strings.Contains(addr, "://"):
		ro, err := goredis.ParseURL(addr)
		if err != nil {
			return nil, fmt.Errorf("redis: address %q: %w", addr, err)
		}
		return ro, nil
	case !strings.Contains(addr, ":"):
		return nil, fmt.Errorf("redis: address %q: want host:port or a redis:// URL", addr)
	}
	return &goredis.Options{Addr: addr}, nil
}

// Ping checks that Redis answers, within the call deadline.
func (t *Tier) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	if err := t.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping %s: %w", t.client.Options().Addr, err)
	}
	return nil
}

// Answer returns the answer to q stored by any instance, with the time it
// was stored (its TTLs are those at that time), if Redis holds one that
// has not outlived its stale window at now. A slow or unreachable Redis,
// or an open breaker, is a miss.
func (t *Tier) Answer(ctx context.Context, q Query, now time.Time) (*dns.Msg, time.Time, bool) {
	done, err := t.breaker.Allow()
	if err != nil {
		t.stats.rejected.Add(1)
		return nil, time.Time{}, false
	}
	cctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	start := time.Now()
	b, err := t.client.Get(cctx, t.keys.answer(q)).Bytes()
	t.stats.get.Observe(time.Since(start))
	switch {
	case errors.Is(err, goredis.Nil):
		done(nil)
		t.stats.misses.Add(1)
		return nil, time.Time{}, false
	case err != nil && ctx.Err() != nil:
		done(nil) // the caller gave up: no fault of Redis's
		t.stats.misses.Add(1)
		return nil, time.Time{}, false
	case err != nil:
		done(err)
		t.stats.errors.Add(1)
		t.log.Debug("shared cache get", "qname", q.Name, "qtype", dns.TypeToString[q.Qtype], "err", err)
		return nil, time.Time{}, false
	}
	done(nil)
	e, m, err := decode(b)
	if err != nil || !sameQuestion(e.q, q) {
		t.stats.bad.Add(1)
		t.log.Debug("shared cache value refused", "qname", q.Name, "qtype", dns.TypeToString[q.Qtype], "err", err, "stored_name", e.q.Name)
		return nil, time.Time{}, false
	}
	if !now.Before(e.expires) {
		if !now.Before(e.expires.Add(t.stale)) {
			t.stats.misses.Add(1) // expired: Redis has not dropped it yet
			return nil, time.Time{}, false
		}
		t.stats.stale.Add(1)
	} else {
		t.stats.hits.Add(1)
	}
	return m, e.stored, true
}

// Store queues m, the answer to q at now, to be written. It never blocks:
// with the queue full, the answer is dropped. SERVFAIL and other errors,
// truncated answers and answers with a TTL of 0 are not stored.
func (t *Tier) Store(q Query, m *dns.Msg, now time.Time) {
	ttl, ok := minTTL(m)
	if !ok || ttl == 0 || m.Truncated || (m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError) {
		t.stats.skipped.Add(1)
		return
	}
	wire := *m // a shallow copy, so that compression is not switched on in the caller's message
	wire.Compress = true
	packed, err := wire.Pack()
	if err != nil {
		t.stats.skipped.Add(1)
		t.log.Debug("shared cache pack", "qname", q.Name, "err", err)
		return
	}
	life := time.Duration(ttl) * time.Second
	w := write{
		key:   t.keys.answer(q),
		name:  t.keys.name(q.Name),
		value: encode(entry{q: q, stored: now, expires: now.Add(life), packed: packed}),
		ttl:   life + t.stale,
	}
	select {
	case t.writes <- w:
	default:
		t.stats.dropped.Add(1)
	}
}

// writeLinger is how long the writer waits for more answers to share a
// round trip with the first of a batch. Each round trip costs both sides
// system calls; a cold walk takes longer than this anyway.
const writeLinger = 2 * time.Millisecond

// writer drains the write queue until ctx ends, a batch per round trip:
// what is queued, or what comes within writeLinger of the first.
func (t *Tier) writer(ctx context.Context) {
	batch := make([]write, 0, writeBatch)
	linger := time.NewTimer(writeLinger)
	defer linger.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case w := <-t.writes:
			batch = append(batch[:0], w)
		}
		linger.Reset(writeLinger)
	fill:
		for len(batch) < writeBatch {
			select {
			case w := <-t.writes:
				batch = append(batch, w)
			case <-linger.C:
				break fill
			case <-ctx.Done():
				return
			}
		}
		t.writeBatch(ctx, batch)
	}
}

// writeBatch stores a batch in one pipeline: each answer with its
// expiry, and its key in its name's index, which lives as long as the
// longest-lived answer in it (EXPIRE NX sets a first expiry, GT only ever
// lengthens it).
func (t *Tier) writeBatch(ctx context.Context, batch []write) {
	done, err := t.breaker.Allow()
	if err != nil {
		t.stats.rejected.Add(uint64(len(batch)))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	start := time.Now()
	_, err = t.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, w := range batch {
			p.Set(ctx, w.key, w.value, w.ttl)
			p.SAdd(ctx, w.name, w.key)
			p.ExpireNX(ctx, w.name, w.ttl)
			p.ExpireGT(ctx, w.name, w.ttl)
		}
		return nil
	})
	t.stats.set.Observe(time.Since(start))
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		done(nil) // shutting down
		return
	}
	done(err)
	if err != nil {
		t.stats.writeErrors.Add(uint64(len(batch)))
		t.log.Debug("shared cache write", "entries", len(batch), "err", err)
		return
	}
	t.stats.writes.Add(uint64(len(batch)))
}

// Close stops the writer and the subscriber and closes the connections.
// Answers still queued are dropped: the cache is a cache.
func (t *Tier) Close() error {
	var err error
	t.closing.Do(func() {
		t.stop()
		if t.pubsub != nil {
			err = t.pubsub.Close()
		}
		t.wg.Wait()
		err = errors.Join(err, t.client.Close())
	})
	return err
}

// Breaker states, as Stats reports them.
const (
	BreakerClosed   = "closed"
	BreakerHalfOpen = "half-open"
	BreakerOpen     = "open"
)

// Stats are a Tier's counters.
type Stats struct {
	Hits     uint64 // fresh answers found
	Stale    uint64 // answers found past their expiry, within the stale window
	Misses   uint64 // questions Redis had no answer to
	Errors   uint64 // calls that failed or ran out of time
	Rejected uint64 // calls not made: the breaker was open
	// Refused counts values that could not be read or held another
	// question than the one asked (a collision or a planted value).
	Refused uint64
	Writes  uint64 // answers written
	// WriteErrors, Dropped and Skipped count answers not written: the
	// write failed; the queue was full; or they may not be stored.
	WriteErrors, Dropped, Skipped uint64
	Flushes                       uint64 // flushes this instance sent to the fleet
	FlushesReceived               uint64 // flushes other instances sent
	Breaker                       string // BreakerClosed, BreakerHalfOpen or BreakerOpen
	GetLatency, SetLatency        histogram.Snapshot
}

// Stats returns a snapshot of the counters.
func (t *Tier) Stats() Stats {
	s := Stats{
		Hits: t.stats.hits.Load(), Stale: t.stats.stale.Load(), Misses: t.stats.misses.Load(),
		Errors: t.stats.errors.Load(), Rejected: t.stats.rejected.Load(), Refused: t.stats.bad.Load(),
		Writes: t.stats.writes.Load(), WriteErrors: t.stats.writeErrors.Load(),
		Dropped: t.stats.dropped.Load(), Skipped: t.stats.skipped.Load(),
		Flushes: t.stats.flushes.Load(), FlushesReceived: t.stats.flushesReceived.Load(),
		GetLatency: t.stats.get.Snapshot(), SetLatency: t.stats.set.Snapshot(),
	}
	switch t.breaker.State() {
	case gobreaker.StateOpen:
		s.Breaker = BreakerOpen
	case gobreaker.StateHalfOpen:
		s.Breaker = BreakerHalfOpen
	default:
		s.Breaker = BreakerClosed
	}
	return s
}
