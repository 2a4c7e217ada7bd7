package resolver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Resolution failures are remembered (RFC 9520) so that a broken zone does
// not turn every client retry into a new walk: for minFailureTTL at first,
// doubling with each failure in a row, up to maxFailureTTL.
const (
	minFailureTTL     = time.Second
	maxFailureTTL     = 5 * time.Minute
	maxFailureEntries = 10_000
)

// ErrCachedFailure marks an answer that is a remembered failure (RFC 9520
// section 3.1): the question failed moments ago and is not walked again
// until the failure expires. The original error is wrapped too.
var ErrCachedFailure = errors.New("cached resolution failure")

// failures remembers recent resolution failures by question. It is safe
// for concurrent use.
type failures struct {
	mu      sync.Mutex
	entries map[dns.Question]failedQuestion
}

type failedQuestion struct {
	err   error
	until time.Time
	count int // failures in a row
}

func newFailures() *failures { return &failures{entries: make(map[dns.Question]failedQuestion)} }

// check returns the remembered failure of q, if it has not expired.
func (f *failures) check(q dns.Question, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[q]
	if !ok || !now.Before(e.until) {
		return nil
	}
	return fmt.Errorf("%w (%v more): %w", ErrCachedFailure, e.until.Sub(now).Round(time.Millisecond), e.err)
}

// add remembers that q failed with err, for longer if it failed just
// before too.
func (f *failures) add(q dns.Question, err error, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[q]
	if !ok && len(f.entries) >= maxFailureEntries {
		f.prune(now)
	}
	ttl := minFailureTTL
	if ok && now.Sub(e.until) < maxFailureTTL { // failing again soon after: back off
		e.count++
		ttl = min(minFailureTTL<<min(e.count, 16), maxFailureTTL)
	} else {
		e.count = 0
	}
	f.entries[q] = failedQuestion{err: err, until: now.Add(ttl), count: e.count}
}

// forget drops q's failure once q resolves again.
func (f *failures) forget(q dns.Question) {
	f.mu.Lock()
	delete(f.entries, q)
	f.mu.Unlock()
}

// prune drops expired entries, or all if none had expired. The caller
// holds mu.
func (f *failures) prune(now time.Time) {
	for q, e := range f.entries {
		if now.Sub(e.until) > maxFailureTTL {
			delete(f.entries, q)
		}
	}
	if len(f.entries) >= maxFailureEntries {
		clear(f.entries)
	}
}

// flightKey is the question as coalescing and the failure cache see it.
func flightKey(q dns.Question) dns.Question {
	return dns.Question{Name: canonical(q.Name), Qtype: q.Qtype, Qclass: q.Qclass}
}

// shared decides whether a resolution may be shared with, or answered
// from the failures of, others: not when it is being traced or brings a
// cache of its own, for then it must walk by itself.
func shared(ctx context.Context) bool {
	_, ownCache := ContextCache(ctx)
	return ContextTracer(ctx) == nil && !ownCache
}
