// Package throttle bounds what the resolver sends upstream, so that no
// stream of client questions can turn it into a flood against a server:
// queries per second to any one server address (a token bucket each), and
// queries outstanding at once in total. It is safe for concurrent use.
package throttle

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// ErrRateLimited is the error of a query not sent because its server has
// been sent its share of queries for now.
var ErrRateLimited = errors.New("upstream rate limit reached")

// maxServers bounds the buckets kept; past it, buckets that are full again
// (the servers have not been asked lately) are dropped.
const maxServers = 50_000

// Options configures a Throttle. The zero value limits nothing.
type Options struct {
	// PerServerQPS is the most queries a second sent to one server
	// address; 0 means no limit.
	PerServerQPS float64
	// PerServerBurst is how many queries may go to one server at once
	// above that rate; 0 means a tenth of a second's worth, at least 1.
	PerServerBurst int
	// MaxOutstanding bounds the queries awaiting replies at once, all
	// servers together; 0 means no bound. A query over it waits for a
	// slot, as long as its context allows.
	MaxOutstanding int
}

// Throttle holds the per-server buckets and the outstanding queries.
type Throttle struct {
	qps   rate.Limit
	burst int
	sem   *semaphore.Weighted // nil: no bound

	mu      sync.Mutex
	servers map[netip.Addr]*rate.Limiter
}

// New returns a Throttle, or an error for negative options.
func New(opts Options) (*Throttle, error) {
	if opts.PerServerQPS < 0 || opts.PerServerBurst < 0 || opts.MaxOutstanding < 0 {
		return nil, fmt.Errorf("new throttle: negative limit in %+v", opts)
	}
	t := &Throttle{qps: rate.Limit(opts.PerServerQPS), burst: opts.PerServerBurst, servers: make(map[netip.Addr]*rate.Limiter)}
	if t.burst == 0 {
		t.burst = max(1, int(opts.PerServerQPS/10))
	}
	if opts.MaxOutstanding > 0 {
		t.sem = semaphore.NewWeighted(int64(opts.MaxOutstanding))
	}
	return t, nil
}

// Acquire admits one query to server at now: it fails at once with
// ErrRateLimited if the server has had its share, and otherwise waits for
// an outstanding slot as long as ctx allows. The caller must call release
// once the query has its reply or has failed.
func (t *Throttle) Acquire(ctx context.Context, server netip.Addr, now time.Time) (release func(), err error) {
	if t.qps > 0 && !t.bucket(server, now).AllowN(now, 1) {
		return nil, fmt.Errorf("%s: %w (%g queries a second)", server, ErrRateLimited, float64(t.qps))
	}
	if t.sem == nil {
		return func() {}, nil
	}
	if err := t.sem.Acquire(ctx, 1); err != nil {
		return nil, fmt.Errorf("wait for an upstream slot: %w", err)
	}
	var once sync.Once
	return func() { once.Do(func() { t.sem.Release(1) }) }, nil
}

// bucket returns server's token bucket, making one if need be.
func (t *Throttle) bucket(server netip.Addr, now time.Time) *rate.Limiter {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l, ok := t.servers[server]; ok {
		return l
	}
	if len(t.servers) >= maxServers {
		t.prune(now)
	}
	l := rate.NewLimiter(t.qps, t.burst)
	t.servers[server] = l
	return l
}

// prune drops the buckets that are full again: they remember nothing a
// new bucket would not. If every bucket is in use, the map is emptied,
// which can only let a few more queries through.
func (t *Throttle) prune(now time.Time) {
	for a, l := range t.servers {
		if l.TokensAt(now) >= float64(t.burst) {
			delete(t.servers, a)
		}
	}
	if len(t.servers) >= maxServers {
		clear(t.servers)
	}
}
