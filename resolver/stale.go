package resolver

import (
	"context"
	"time"

	"github.com/miekg/dns"
)

// staleResult returns an expired answer to q from the cache, if the cache
// kept one and serving stale is on, as RFC 8767 allows when the
// authorities fail or are slow. A CNAME chain is followed through the
// cache, fresh or stale, as far as it goes.
func (r *Resolver) staleResult(q Query) (*Result, bool) {
	if !r.serveStale {
		return nil, false
	}
	now := r.clock.Now()
	m, ok := r.cache.staleAnswer(q, now)
	if !ok {
		return nil, false
	}
	out := &dns.Msg{Answer: m.Answer, Ns: m.Ns}
	out.Rcode = m.Rcode
	hop := q
	reply := m
	for range maxChainLength {
		next, more := chainEnd(reply, hop.Question)
		if !more {
			break
		}
		hop.Name = next
		if reply, ok = r.cache.staleAnswer(hop, now); !ok {
			if reply, _, ok = r.cache.lookupAnswer(hop, now); !ok {
				break // the chain as far as the cache knows it
			}
		}
		out.Answer = append(out.Answer, reply.Answer...)
		out.Ns = reply.Ns
		out.Rcode = reply.Rcode
	}
	for _, rrs := range [][]dns.RR{out.Answer, out.Ns} {
		for _, rr := range rrs {
			rr.Header().Ttl = min(rr.Header().Ttl, staleTTL)
		}
	}
	r.stats.resolutions.Add(1)
	r.stats.staleAnswers.Add(1)
	return &Result{Reply: out, Stale: true}, true
}

// staleTTL is the TTL given to the records of a stale answer (RFC 8767
// section 4 suggests 30 s).
const staleTTL = 30

// startPrefetch refreshes the cached answer to q in the background, as
// one walk however many callers ask; a no-op once the resolver is closed.
func (r *Resolver) startPrefetch(q Query) {
	r.spawn(nil, func(base context.Context) {
		// The outcome is counted and logged inside; nobody waits for it.
		_, _, _ = r.flights.Do("prefetch/"+flightName(q), func() (any, error) {
			r.stats.prefetches.Add(1)
			ctx, cancel := context.WithTimeout(base, r.timeout)
			defer cancel()
			w := r.newWalk(ctx)
			w.do, w.cd = q.DO, q.CD
			refresh := flightKey(q.Question)
			w.refresh = &refresh
			start := time.Now()
			m, err := w.lookup(ctx, q.Question)
			if err == nil {
				w.share(q, m)
			}
			if err != nil {
				r.stats.prefetchFailures.Add(1)
				r.log.Debug("prefetch failed", "qname", q.Name, "qtype", dns.TypeToString[q.Qtype], "err", err)
			} else {
				r.log.Debug("prefetched", "qname", q.Name, "qtype", dns.TypeToString[q.Qtype], "duration", time.Since(start))
			}
			return nil, err
		})
	})
}
