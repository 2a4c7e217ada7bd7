package server

import (
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/resolver"
)

// DefaultMaxRecursions caps the client queries resolved at once when
// HandlerOptions.MaxRecursions is zero (limits.max_recursions). Each
// holds a goroutine, its walk's state and, often, upstream sockets for
// up to DefaultClientTimeout; 2000 of them take some tens of MiB. Busy
// resolvers allow as many: Unbound 1024 per thread (two threads on our
// two-core machines), BIND 1000 recursive clients. A flood of cold names
// past it costs SERVFAILs, not memory, while cached names are still
// answered.
const DefaultMaxRecursions = 2000

// tooManyRecursions is the EXTRA-TEXT of the SERVFAIL a query gets when
// every recursion slot is taken.
const tooManyRecursions = "too many recursions in progress"

// fullWarnEvery spaces the warnings that every recursion slot is taken:
// a flood must not flood the log too.
const fullWarnEvery = time.Minute

// CacheReader is what the handler reads of the cache when it may not start
// a resolution: *cache.Cache has it.
type CacheReader interface {
	// Known returns a fresh cached reply to q, without counting a lookup
	// or asking for a refresh (the handler could not do one).
	Known(q resolver.Query, now time.Time) (*dns.Msg, bool)
	// StaleAnswer returns an expired reply to q kept to be served stale
	// (RFC 8767), with its TTLs set for that.
	StaleAnswer(q resolver.Query, now time.Time) (*dns.Msg, bool)
}

// recursionLimit caps the client queries resolved at once: a semaphore
// around the resolver, as Unbound's num-queries-per-thread and BIND's
// recursive-clients are. A flood of questions for cold names then cannot
// hold more goroutines and walks than the cap.
type recursionLimit struct {
	max      int64
	cache    CacheReader  // answers what it can past the cap; may be nil
	active   atomic.Int64 // slots taken
	lastWarn atomic.Int64 // when the log last said the slots were all taken, in Unix nanoseconds
}

// acquire takes a slot if one is free. A query that finds none gives its
// increment back, so the count can pass max only for a moment and only
// by queries that are turned away: at most max hold a slot.
func (l *recursionLimit) acquire(m *Metrics) bool {
	if l.active.Add(1) > l.max {
		l.active.Add(-1)
		return false
	}
	m.recursions.Add(1)
	return true
}

// release gives back a slot that acquire took.
func (l *recursionLimit) release(m *Metrics) {
	m.recursions.Add(-1)
	l.active.Add(-1)
}

// overLimit answers q, whose query found every recursion slot taken,
// without resolving: with a fresh cached answer, else an expired one
// (RFC 8767 section 4 allows it when resolution is impossible, with a
// Stale Answer EDE), else SERVFAIL.
//
// The SERVFAIL's Extended DNS Error is 0, Other, with the reason in its
// EXTRA-TEXT: no code of RFC 8914 fits. 14, Not Ready, is for a server
// that has not finished starting (section 4.15), which would mislead an
// operator reading it; 13, Cached Error, is for a failure remembered from
// an earlier resolution (section 4.14), and this one was never tried.
func (h *Handler) overLimit(q resolver.Query, reply *dns.Msg, opt *dns.OPT) (*dns.Msg, string) {
	l := &h.recursion
	now := h.clock.Now()
	if l.cache != nil {
		if m, ok := l.cache.Known(q, now); ok {
			h.metrics.overLimit[overLimitCache].Add(1)
			reply.Rcode, reply.Answer, reply.Ns = m.Rcode, m.Answer, m.Ns
			return reply, fromCache
		}
		if m, ok := l.cache.StaleAnswer(q, now); ok {
			h.metrics.overLimit[overLimitStale].Add(1)
			reply.Rcode, reply.Answer, reply.Ns = m.Rcode, m.Answer, m.Ns
			if opt != nil {
				addEDE(replyOPT(reply, opt), staleEDE(reply.Rcode), "")
			}
			return reply, fromStale
		}
	}
	h.metrics.overLimit[overLimitServFail].Add(1)
	h.warnFull(now)
	reply.Rcode = dns.RcodeServerFailure
	if opt != nil {
		addEDE(replyOPT(reply, opt), dns.ExtendedErrorCodeOther, tooManyRecursions)
	}
	return reply, fromNowhere
}

// warnFull logs, at most once every fullWarnEvery, that queries are
// getting SERVFAIL because every slot is taken: the server is degraded,
// and the operator may want a larger limits.max_recursions.
func (h *Handler) warnFull(now time.Time) {
	l := &h.recursion
	last := l.lastWarn.Load()
	if now.UnixNano()-last < int64(fullWarnEvery) || !l.lastWarn.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	h.log.Warn("every recursion slot is taken; answering SERVFAIL to what the cache cannot answer",
		"max_recursions", l.max)
}
