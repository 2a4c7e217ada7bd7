package server

import (
	"math"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// maxRateClients bounds the rate limiter's table of clients. A flood with
// forged source addresses brings a new client with every packet; past
// this many, the client seen longest ago is forgotten. Each client costs
// about 230 bytes (its bucket, a rate.Limiter, and its map entry:
// measured, 23 MB for a full table); 100,000 clients each active within
// their bucket's refill time is more than a resolver of this size serves.
// A forgotten client comes back with a full bucket, so a flood that
// churns the table makes the limit looser for real clients, never
// stricter.
const maxRateClients = 100_000

// ipv6ClientBits is the prefix length that makes one IPv6 client. A host
// is given a whole /64 and may pick any address in it (RFC 8981 temporary
// addresses, or at will), so limiting each /128 would let one host
// multiply its rate without end and fill the table; as Knot Resolver and
// Unbound do for IPv6 sources, its /64 is the client. An IPv4 client is
// its address.
const ipv6ClientBits = 64

// pruneBatch is how many idle clients each query may forget, taken from
// the end of the table that was seen longest ago; amortised, the table
// shrinks back to the clients active lately without a goroutine of its
// own.
const pruneBatch = 2

// RateLimit configures per-client rate limiting, a token bucket for each
// client: an IPv4 address, or an IPv6 /64.
type RateLimit struct {
	QPS    float64 // average queries a second a client may send; 0: no limit
	Burst  int     // queries a client may send at once; 0: twice QPS, rounded up
	Action Action  // what a query over the rate gets
}

// Enabled reports whether r limits anything.
func (r RateLimit) Enabled() bool { return r.QPS > 0 }

// burst is the bucket's size: Burst, or twice QPS, and at least 1 so that
// a client can ask at all.
func (r RateLimit) burst() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return max(1, int(math.Min(math.Ceil(2*r.QPS), math.MaxInt32)))
}

// rateLimiter keeps a token bucket for each client, in a table bounded by
// maxClients and ordered by last use. It is safe for concurrent use.
type rateLimiter struct {
	limit      rate.Limit
	burst      int
	maxClients int
	clock      Clock
	size       *atomic.Int64 // the number of clients in the table, for the metrics

	mu      sync.Mutex
	clients map[netip.Addr]*bucket
	// newest and oldest end the list of buckets ordered by last use.
	newest, oldest *bucket
}

// bucket is one client's token bucket, linked into the list by last use.
type bucket struct {
	key          netip.Addr
	lim          *rate.Limiter
	newer, older *bucket
}

// newRateLimiter returns a limiter of r's rate for at most maxClients
// clients at once, that reads the time from clock and keeps size at the
// number of clients it tracks.
func newRateLimiter(r RateLimit, maxClients int, clock Clock, size *atomic.Int64) *rateLimiter {
	return &rateLimiter{
		limit:      rate.Limit(r.QPS),
		burst:      r.burst(),
		maxClients: max(1, maxClients),
		clock:      clock,
		size:       size,
		clients:    make(map[netip.Addr]*bucket),
	}
}

// allow reports whether addr may be answered now, taking a token from its
// client's bucket if so.
func (l *rateLimiter) allow(addr netip.Addr) bool {
	key := rateKey(addr)
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneIdle(now)
	b := l.clients[key]
	if b != nil {
		l.unlink(b)
	} else {
		if len(l.clients) >= l.maxClients {
			l.forget(l.oldest)
		}
		b = &bucket{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[key] = b
	}
	l.pushNewest(b)
	l.size.Store(int64(len(l.clients)))
	return b.lim.AllowN(now, 1)
}

// pruneIdle forgets up to pruneBatch of the clients seen longest ago whose
// buckets have filled up again: a full bucket is what a new client gets,
// so forgetting it changes no answer.
func (l *rateLimiter) pruneIdle(now time.Time) {
	for range pruneBatch {
		b := l.oldest
		if b == nil || b.lim.TokensAt(now) < float64(l.burst) {
			return
		}
		l.forget(b)
	}
}

// forget removes b from the table.
func (l *rateLimiter) forget(b *bucket) {
	l.unlink(b)
	delete(l.clients, b.key)
}

// unlink takes b out of the list by last use.
func (l *rateLimiter) unlink(b *bucket) {
	if b.newer != nil {
		b.newer.older = b.older
	} else {
		l.newest = b.older
	}
	if b.older != nil {
		b.older.newer = b.newer
	} else {
		l.oldest = b.newer
	}
	b.newer, b.older = nil, nil
}

// pushNewest puts b at the newest end of the list by last use.
func (l *rateLimiter) pushNewest(b *bucket) {
	b.older = l.newest
	if l.newest != nil {
		l.newest.newer = b
	}
	l.newest = b
	if l.oldest == nil {
		l.oldest = b
	}
}

// rateKey is the client that addr belongs to: the address itself for
// IPv4 (an IPv4-mapped IPv6 address counts as IPv4), its /64 for IPv6.
func rateKey(addr netip.Addr) netip.Addr {
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		if p, err := addr.Prefix(ipv6ClientBits); err == nil {
			return p.Addr()
		}
	}
	return addr
}
