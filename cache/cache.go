package cache

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/miekg/dns"
)

// Defaults for Options fields left zero.
const (
	// DefaultMaxEntries bounds the number of entries (DESIGN: cache.size).
	DefaultMaxEntries = 100_000
	// DefaultMaxBytes bounds the estimated memory of all entries (DESIGN: cache.memory).
	DefaultMaxBytes = 128 << 20
	// DefaultMaxTTL caps how long anything is kept, whatever its TTL says;
	// one day, as Unbound's cache-max-ttl.
	DefaultMaxTTL = 24 * time.Hour
	// DefaultNegativeMaxTTL caps negative entries; RFC 2308 section 5
	// suggests one to three hours.
	DefaultNegativeMaxTTL = time.Hour
)

// Options configures a Cache. The zero value is usable and means the defaults.
type Options struct {
	MaxEntries     int           // at most this many entries; 0: DefaultMaxEntries
	MaxBytes       int64         // at most this many estimated bytes; 0: DefaultMaxBytes
	MaxTTL         time.Duration // longest time an entry is kept; 0: DefaultMaxTTL
	NegativeMaxTTL time.Duration // longest time a negative entry is kept; 0: DefaultNegativeMaxTTL
}

// Stats are the cache's counters since it was created, per kind of entry.
type Stats struct {
	Bytes       int64 // estimated bytes held now, all kinds
	Answers     KindStats
	Delegations KindStats
	NameErrors  KindStats
}

// KindStats counts one kind of entry. The resolver looks up a delegation
// once per ancestor of a name until it finds one, so delegation misses
// are many by design; the hit ratio operators watch is the answers'.
type KindStats struct {
	Entries   int // held now
	Hits      uint64
	Misses    uint64 // includes finding only an expired entry
	Inserts   uint64
	Evictions uint64 // live entries pushed out by the entry or byte bound
	Expired   uint64 // entries removed because their TTL ran out
}

// kind keeps answers and delegations apart in the key space.
type kind uint8

const (
	kindAnswer     kind = iota
	kindDelegation      // a zone cut: NS and glue from the parent
	kindNameError       // a name that does not exist, whatever the type
	kinds               // how many kinds there are
)

// key identifies an entry. Names are stored lower-cased (RFC 4343).
type key struct {
	name  string
	qtype uint16
	class uint16
	kind  kind
}

type entry struct {
	msg     *dns.Msg
	stored  time.Time
	expires time.Time
	size    int64
}

// Cache is a TTL-aware LRU of answers and delegations.
type Cache struct {
	opts Options

	mu    sync.Mutex
	lru   *simplelru.LRU[key, *entry]
	bytes int64
	kinds [kinds]KindStats // by kind; Entries kept up to date
	// removal says why the LRU is letting go of entries, for onRemove.
	removal removal
}

// removal is why an entry leaves the cache.
type removal uint8

const (
	removedEvicted  removal = iota // pushed out by a bound
	removedExpired                 // its TTL ran out
	removedReplaced                // a new entry took its key
)

// New returns an empty cache bounded as opts says.
func New(opts Options) (*Cache, error) {
	if opts.MaxEntries < 0 || opts.MaxBytes < 0 || opts.MaxTTL < 0 || opts.NegativeMaxTTL < 0 {
		return nil, fmt.Errorf("new cache: negative bound in %+v", opts)
	}
	if opts.MaxEntries == 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxTTL == 0 {
		opts.MaxTTL = DefaultMaxTTL
	}
	if opts.NegativeMaxTTL == 0 {
		opts.NegativeMaxTTL = DefaultNegativeMaxTTL
	}
	c := &Cache{opts: opts}
	lru, err := simplelru.NewLRU(opts.MaxEntries, c.onRemove)
	if err != nil {
		return nil, fmt.Errorf("new cache: %w", err)
	}
	c.lru = lru
	return c, nil
}

// onRemove runs, with c.mu held, whenever the LRU lets go of an entry;
// c.removal says why.
func (c *Cache) onRemove(k key, e *entry) {
	c.bytes -= e.size
	ks := &c.kinds[k.kind]
	ks.Entries--
	switch c.removal {
	case removedEvicted:
		ks.Evictions++
	case removedExpired:
		ks.Expired++
	}
}

// Answer returns the cached reply to q, with remaining TTLs, if there is one.
func (c *Cache) Answer(q dns.Question, now time.Time) (*dns.Msg, bool) {
	return c.get(key{name: canonical(q.Name), qtype: q.Qtype, class: q.Qclass, kind: kindAnswer}, now)
}

// StoreAnswer caches m as the reply to q and returns the reply as the
// cache will serve it (a copy, with TTLs capped by the cache's limits), so
// that the first client sees the same TTLs as the next one. Replies that
// must not be cached are returned as they are: truncated ones, rcodes
// other than NOERROR and NXDOMAIN, negative ones without an SOA, and those
// whose smallest TTL is zero.
func (c *Cache) StoreAnswer(q dns.Question, m *dns.Msg, now time.Time) *dns.Msg {
	if m.Truncated || (m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError) {
		return m
	}
	ttl, ok := c.answerTTL(m)
	if !ok {
		return m
	}
	e := c.put(key{name: canonical(q.Name), qtype: q.Qtype, class: q.Qclass, kind: kindAnswer}, m, ttl, now)
	return withRemainingTTL(e, now)
}

// Delegation returns the cached delegation (NS RRset in the authority
// section, glue in the additional section) for exactly the zone named.
func (c *Cache) Delegation(zone string, now time.Time) (*dns.Msg, bool) {
	return c.get(key{name: canonical(zone), qtype: dns.TypeNS, class: dns.ClassINET, kind: kindDelegation}, now)
}

// StoreDelegation caches the referral m (NS RRset for zone in the authority
// section, glue in the additional section) as the delegation of zone.
func (c *Cache) StoreDelegation(zone string, m *dns.Msg, now time.Time) {
	ttl, ok := minTTL(m.Ns, m.Extra)
	if !ok || ttl == 0 {
		return
	}
	c.put(key{name: canonical(zone), qtype: dns.TypeNS, class: dns.ClassINET, kind: kindDelegation}, m, clamp(ttl, c.opts.MaxTTL), now)
}

// NameError returns the cached NXDOMAIN for exactly name: the name does
// not exist, whatever the type asked (RFC 2308 section 5), nor anything
// below it (RFC 8020). The SOA is in the authority section.
func (c *Cache) NameError(name string, now time.Time) (*dns.Msg, bool) {
	return c.get(key{name: canonical(name), class: dns.ClassINET, kind: kindNameError}, now)
}

// StoreNameError caches m, an NXDOMAIN with its SOA, as the proof that name
// does not exist, for the SOA's negative TTL. Anything else is ignored.
func (c *Cache) StoreNameError(name string, m *dns.Msg, now time.Time) {
	if m.Rcode != dns.RcodeNameError || len(m.Answer) > 0 {
		return
	}
	ttl, ok := c.answerTTL(m)
	if !ok {
		return
	}
	c.put(key{name: canonical(name), class: dns.ClassINET, kind: kindNameError}, m, ttl, now)
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Bytes: c.bytes, Answers: c.kinds[kindAnswer], Delegations: c.kinds[kindDelegation], NameErrors: c.kinds[kindNameError]}
}

func (c *Cache) get(k key, now time.Time) (*dns.Msg, bool) {
	c.mu.Lock()
	ks := &c.kinds[k.kind]
	e, ok := c.lru.Get(k)
	if ok && !now.Before(e.expires) {
		c.removal = removedExpired
		c.lru.Remove(k)
		ok = false
	}
	if !ok {
		ks.Misses++
		c.mu.Unlock()
		return nil, false
	}
	ks.Hits++
	c.mu.Unlock()
	// The stored message is never modified after put, so copying it
	// outside the lock is safe.
	return withRemainingTTL(e, now), true
}

func (c *Cache) put(k key, m *dns.Msg, ttl uint32, now time.Time) *entry {
	stored := m.Copy()
	capTTLs(stored, ttl)
	e := &entry{
		msg:     stored,
		stored:  now,
		expires: now.Add(time.Duration(ttl) * time.Second),
		size:    estimateSize(stored),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Remove first so the byte count of a replaced entry is released.
	c.removal = removedReplaced
	c.lru.Remove(k)
	c.removal = removedEvicted
	c.lru.Add(k, e)
	c.bytes += e.size
	c.kinds[k.kind].Inserts++
	c.kinds[k.kind].Entries++
	for c.bytes > c.opts.MaxBytes && c.lru.Len() > 1 {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
	return e
}

// answerTTL is how long m may be cached as an answer, and whether it may be
// cached at all.
func (c *Cache) answerTTL(m *dns.Msg) (uint32, bool) {
	negative := m.Rcode == dns.RcodeNameError || len(m.Answer) == 0
	if !negative {
		ttl, ok := minTTL(m.Answer, m.Ns)
		if !ok || ttl == 0 {
			return 0, false
		}
		return clamp(ttl, c.opts.MaxTTL), true
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
	return clamp(ttl, c.opts.NegativeMaxTTL), true
}

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

func clamp(ttl uint32, limit time.Duration) uint32 {
	return min(ttl, uint32(limit/time.Second))
}

// capTTLs lowers every TTL in m to at most ttl, so that no record outlives
// the entry that holds it.
func capTTLs(m *dns.Msg, ttl uint32) {
	for _, rrs := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range rrs {
			if h := rr.Header(); h.Rrtype != dns.TypeOPT && h.Ttl > ttl {
				h.Ttl = ttl
			}
		}
	}
}

// withRemainingTTL returns a copy of e's message with every TTL reduced by
// the whole seconds elapsed since it was stored.
func withRemainingTTL(e *entry, now time.Time) *dns.Msg {
	m := e.msg.Copy()
	elapsed := uint32(now.Sub(e.stored) / time.Second)
	for _, rrs := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range rrs {
			h := rr.Header()
			if h.Rrtype == dns.TypeOPT {
				continue
			}
			if h.Ttl > elapsed {
				h.Ttl -= elapsed
			} else {
				h.Ttl = 0
			}
		}
	}
	return m
}

// entryOverhead approximates the bytes an entry costs beyond its records:
// the LRU element, the key, the entry and the dns.Msg header.
const entryOverhead = 320

// rrOverhead approximates the bytes of one decoded record beyond its wire
// form: the RR_Header, the interface value and the slice slot.
const rrOverhead = 96

// estimateSize approximates the memory an entry holds. It is an estimate
// (decoded records are larger than their wire form), good enough to make
// cache.memory a real bound.
func estimateSize(m *dns.Msg) int64 {
	size := int64(entryOverhead)
	for _, rrs := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range rrs {
			size += int64(dns.Len(rr)) + rrOverhead
		}
	}
	return size
}

func canonical(name string) string {
	return strings.ToLower(dns.Fqdn(name))
}
