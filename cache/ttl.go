package cache

import (
	"time"

	"github.com/miekg/dns"
)

// answerTTL is how long m may be cached as an answer, after the clamps,
// and whether it may be cached at all.
func (c *Cache) answerTTL(m *dns.Msg) (uint32, bool) {
	negative := m.Rcode == dns.RcodeNameError || len(m.Answer) == 0
	if !negative {
		ttl, ok := minTTL(m.Answer, m.Ns)
		if !ok || ttl == 0 {
			return 0, false
		}
		return c.clamp(ttl, c.opts.MaxTTL), true
	}
	soa := findSOA(m.Ns)
	if soa == nil {
		return 0, false // RFC 2308 section 5: no SOA, no negative caching
	}
	ttl := min(soa.Hdr.Ttl, soa.Minttl)
	// Records in the answer section (a CNAME chain leading to the
	// negative answer) bound the entry too.
	if chain, ok := minTTL(m.Answer); ok {
		ttl = min(ttl, chain)
	}
	if ttl == 0 {
		return 0, false
	}
	return c.clamp(ttl, c.opts.NegativeMaxTTL), true
}

// clamp raises ttl to the cache's minimum and lowers it to limit. A TTL
// of 0 is never raised: such data is answered but not cached.
func (c *Cache) clamp(ttl uint32, limit time.Duration) uint32 {
	ttl = max(ttl, seconds(c.opts.MinTTL))
	return min(ttl, seconds(limit))
}

func seconds(d time.Duration) uint32 { return uint32(min(d/time.Second, 1<<31-1)) }

func findSOA(rrs []dns.RR) *dns.SOA {
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa
		}
	}
	return nil
}

// minTTL is the smallest TTL in the given sections, ignoring OPT
// pseudo-records; ok is false when there are no records.
func minTTL(sections ...[]dns.RR) (ttl uint32, ok bool) {
	for _, rrs := range sections {
		for _, rr := range rrs {
			h := rr.Header()
			if h.Rrtype == dns.TypeOPT {
				continue
			}
			if !ok || h.Ttl < ttl {
				ttl, ok = h.Ttl, true
			}
		}
	}
	return ttl, ok
}

// setTTLs gives every record of m the TTL ttl: an entry's records all
// count down together, from the TTL it was stored with.
func setTTLs(m *dns.Msg, ttl uint32) {
	for _, rrs := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range rrs {
			if h := rr.Header(); h.Rrtype != dns.TypeOPT {
				h.Ttl = ttl
			}
		}
	}
}

// remaining returns a copy of e's message with every TTL reduced by the
// whole seconds elapsed since it was stored.
func remaining(e *entry, now time.Time) *dns.Msg {
	m := e.copyMessage()
	setTTLs(m, ttlLeft(e, now))
	return m
}

// ttlLeft is e's TTL less the whole seconds elapsed since it was stored.
func ttlLeft(e *entry, now time.Time) uint32 {
	elapsed := time.Duration(now.UnixNano()-e.stored) / time.Second
	if elapsed < 0 {
		return e.ttl
	}
	if elapsed >= time.Duration(e.ttl) {
		return 0
	}
	return e.ttl - uint32(elapsed)
}
