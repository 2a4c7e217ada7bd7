package resolver

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	dnsorder "github.com/rootwalk/rootwalk/internal/canonical"
	"github.com/rootwalk/rootwalk/resolver/internal/dnssec"
)

// Aggressive use of the DNSSEC-validated cache (RFC 8198). An NSEC record
// that validated as part of a secure name error or NODATA says that no
// name between its owner and its next name exists, not only the one that
// was asked. The validating resolver keeps such records, with the zone's
// SOA, and before walking for a name checks whether they already prove
// that it does not exist (dnssec.ProveNameError with the cached records
// that cover the name and the wildcard of each of its ancestors): if so,
// it answers NXDOMAIN itself, secure, without a query upstream, and counts
// it (Stats.AggressiveNXDOMAIN). That is what stops a flood of random
// names under a signed zone from reaching its servers. NSEC3 records are
// not used so (RFC 8198 allows it; their hashed ranges help less), and
// neither are NODATA proofs for other types.

// Bounds of the NSEC records kept: per zone, and zones.
const (
	maxNSECPerZone = 1000
	maxNSECZones   = 1000
)

// nsecCache holds validated NSEC records by zone, in canonical order of
// their owners.
type nsecCache struct {
	mu    sync.Mutex
	zones map[string]*nsecZone
}

type nsecZone struct {
	soa     []dns.RR // the zone's SOA and its RRSIGs, from the last reply that brought NSECs
	records []nsecEntry
}

type nsecEntry struct {
	nsec    *dns.NSEC
	sigs    []dns.RR
	expires time.Time
}

// keep stores the NSEC records of m, a secure negative answer from zone
// (validated: nsecs are the records verifiedDenial returned), each for
// min(its TTL, the SOA's negative TTL) (RFC 8198 section 5.4 via RFC 2308).
func (c *nsecCache) keep(zone string, m *dns.Msg, nsecs []*dns.NSEC, now time.Time) {
	if len(nsecs) == 0 {
		return
	}
	var soa []dns.RR
	neg := uint32(0)
	for _, rr := range m.Ns {
		switch rr := rr.(type) {
		case *dns.SOA:
			soa = append(soa, rr)
			neg = min(rr.Hdr.Ttl, rr.Minttl)
		case *dns.RRSIG:
			if rr.TypeCovered == dns.TypeSOA {
				soa = append(soa, rr)
			}
		}
	}
	if len(soa) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.zones == nil {
		c.zones = make(map[string]*nsecZone)
	}
	z := c.zones[zone]
	if z == nil {
		if len(c.zones) >= maxNSECZones {
			for k := range c.zones { // an arbitrary one
				delete(c.zones, k)
				break
			}
		}
		z = &nsecZone{}
		c.zones[zone] = z
	}
	z.soa = soa
	for _, n := range nsecs {
		e := nsecEntry{nsec: n, expires: now.Add(time.Duration(min(n.Hdr.Ttl, neg)) * time.Second)}
		for _, rr := range m.Ns {
			if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeNSEC && strings.EqualFold(sig.Hdr.Name, n.Hdr.Name) {
				e.sigs = append(e.sigs, sig)
			}
		}
		byOwner := func(e nsecEntry, name string) int { return dnsorder.Compare(e.nsec.Hdr.Name, name) }
		i, found := slices.BinarySearchFunc(z.records, n.Hdr.Name, byOwner)
		if found {
			z.records[i] = e
			continue
		}
		if len(z.records) >= maxNSECPerZone {
			// Full: an expired record goes, or else the first.
			j := max(slices.IndexFunc(z.records, func(e nsecEntry) bool { return !now.Before(e.expires) }), 0)
			z.records = slices.Delete(z.records, j, j+1)
			i, _ = slices.BinarySearchFunc(z.records, n.Hdr.Name, byOwner)
		}
		z.records = slices.Insert(z.records, i, e)
	}
}

// covering returns the fresh records of zone whose span holds name, or
// whose owner is name.
func (c *nsecCache) covering(zone, name string, now time.Time) []nsecEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	z := c.zones[zone]
	if z == nil || len(z.records) == 0 {
		return nil
	}
	i, found := slices.BinarySearchFunc(z.records, name, func(e nsecEntry, name string) int {
		return dnsorder.Compare(e.nsec.Hdr.Name, name)
	})
	if !found {
		i--
	}
	if i < 0 {
		i = len(z.records) - 1 // the last one may wrap to the apex
	}
	e := z.records[i]
	if !now.Before(e.expires) {
		return nil
	}
	return []nsecEntry{e}
}

// closest returns the deepest zone at or above name with NSEC records kept.
func (c *nsecCache) closest(name string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for a := name; ; a = parentZone(a) {
		if c.zones[a] != nil {
			return a, true
		}
		if a == "." {
			return "", false
		}
	}
}

// soaOf returns the SOA kept for zone, with its RRSIGs.
func (c *nsecCache) soaOf(zone string) []dns.RR {
	c.mu.Lock()
	defer c.mu.Unlock()
	if z := c.zones[zone]; z != nil {
		return z.soa
	}
	return nil
}

// aggressiveNXDOMAIN answers q with a secure NXDOMAIN from the cached NSEC
// records of the closest zone that has some, when they prove it.
func (w *walk) aggressiveNXDOMAIN(ctx context.Context, q dns.Question) (*dns.Msg, bool) {
	if !w.validating() || w.r.underNTA(q.Name) {
		return nil, false
	}
	name := canonical(q.Name)
	now := w.r.clock.Now()
	zone, ok := w.nsecs.closest(name)
	if !ok {
		return nil, false
	}
	var entries []nsecEntry
	entries = append(entries, w.nsecs.covering(zone, name, now)...)
	for a := name; a != zone; a = parentZone(a) {
		entries = append(entries, w.nsecs.covering(zone, "*."+a, now)...)
	}
	entries = append(entries, w.nsecs.covering(zone, "*."+zone, now)...)
	var nsecs []*dns.NSEC
	var proof []dns.RR
	seen := make(map[*dns.NSEC]bool)
	for _, e := range entries {
		if seen[e.nsec] {
			continue
		}
		seen[e.nsec] = true
		nsecs = append(nsecs, e.nsec)
		proof = append(append(proof, e.nsec), e.sigs...)
	}
	if len(nsecs) == 0 {
		return nil, false
	}
	if _, err := dnssec.ProveNameError(name, zone, nsecs, nil, w.workBudget()); err != nil {
		return nil, false
	}
	m := new(dns.Msg)
	m.Rcode = dns.RcodeNameError
	m.AuthenticatedData = true
	m.Ns = append(copyAll(w.nsecs.soaOf(zone)), copyAll(proof)...)
	if !w.query(q).DO {
		m.Ns = withoutDNSSEC(m.Ns)
	}
	w.r.stats.aggressive.Add(1)
	if w.tracing() {
		w.emit(ctx, Event{Kind: EventCacheHit, Question: q, Reply: m, Target: "NXDOMAIN proven by cached NSEC records of " + zone})
	}
	return m, true
}

// copyAll returns deep copies of rrs.
func copyAll(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}
