// Package failcache remembers recent resolution failures by question
// (RFC 9520), so that a broken zone does not turn every client retry into
// a new walk: for a second at first, doubling with each failure in a row,
// up to five minutes. A Cache is safe for concurrent use.
package failcache

import (
	"sync"
	"time"
)

// Resolution failures are remembered (RFC 9520) so that a broken zone does
// not turn every client retry into a new walk: for MinTTL at first,
// doubling with each failure in a row, up to MaxTTL.
const (
	MinTTL     = time.Second
	MaxTTL     = 5 * time.Minute
	maxEntries = 10_000
)

// Cache remembers recent resolution failures by question: the key the
// caller makes of it (the resolver's: name, type, class, DO and CD).
type Cache struct {
	mu      sync.Mutex
	entries map[string]failedQuestion
}

type failedQuestion struct {
	err   error
	until time.Time
	count int // failures in a row
}

// New returns an empty Cache.
func New() *Cache { return &Cache{entries: make(map[string]failedQuestion)} }

// Check returns the remembered failure of q and how long it has left, if
// it has not expired.
func (f *Cache) Check(q string, now time.Time) (left time.Duration, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[q]
	if !ok || !now.Before(e.until) {
		return 0, nil
	}
	return e.until.Sub(now), e.err
}

// Add remembers that q failed with err, for longer if it failed just
// before too.
func (f *Cache) Add(q string, err error, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[q]
	if !ok && len(f.entries) >= maxEntries {
		f.prune(now)
	}
	ttl := MinTTL
	if ok && now.Sub(e.until) < MaxTTL { // failing again soon after: back off
		e.count++
		ttl = min(MinTTL<<min(e.count, 16), MaxTTL)
	} else {
		e.count = 0
	}
	f.entries[q] = failedQuestion{err: err, until: now.Add(ttl), count: e.count}
}

// Hold makes q count as failed with err until at least until, however
// long its own backoff would have lasted: the recheck timer of RFC 8767
// while q is answered stale. It keeps the count of failures in a row.
func (f *Cache) Hold(q string, err error, until time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[q]
	if !ok && len(f.entries) >= maxEntries {
		f.prune(until)
	}
	if !ok || e.until.Before(until) {
		f.entries[q] = failedQuestion{err: err, until: until, count: e.count}
	}
}

// Forget drops q's failure once q resolves again.
func (f *Cache) Forget(q string) {
	f.mu.Lock()
	delete(f.entries, q)
	f.mu.Unlock()
}

// prune drops expired entries, or all if none had expired. The caller
// holds mu.
func (f *Cache) prune(now time.Time) {
	for q, e := range f.entries {
		if now.Sub(e.until) > MaxTTL {
			delete(f.entries, q)
		}
	}
	if len(f.entries) >= maxEntries {
		clear(f.entries)
	}
}
