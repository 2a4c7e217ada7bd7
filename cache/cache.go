package cache

import (
	"fmt"
	"slices"
	"time"

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
	// StaleTTL is the TTL of a stale answer (RFC 8767 section 4).
	StaleTTL = 30
	// maxShards is how many shards each store has, unless the entry bound
	// is so small that shards would hold too few entries each.
	maxShards = 16
	// minShardEntries is the fewest entries a shard is made for.
	minShardEntries = 64
	// prefetchShare: an entry asked for in the last 1/prefetchShare of
	// its TTL should be refreshed (as Unbound's prefetch: 10%).
	prefetchShare = 10
)

// Options configures a Cache. The zero value is usable and means the defaults.
type Options struct {
	MaxEntries     int           // at most this many entries; 0: DefaultMaxEntries
	MaxBytes       int64         // at most this many estimated bytes; 0: DefaultMaxBytes
	MinTTL         time.Duration // nothing cached is kept for less, TTL 0 aside
	MaxTTL         time.Duration // longest time an entry is kept; 0: DefaultMaxTTL
	NegativeMaxTTL time.Duration // longest time a negative entry is kept; 0: DefaultNegativeMaxTTL
	Policy         Policy        // which entry a bound evicts; "": LRU
	// StaleMaxAge is how long an expired answer is kept to be served
	// stale (RFC 8767) when its authorities cannot be reached; 0 keeps
	// nothing past its TTL.
	StaleMaxAge time.Duration
}

// Stats are the cache's counters since it was created.
type Stats struct {
	Entries    int   // held now, all kinds
	Bytes      int64 // estimated bytes held now, all kinds
	Answers    KindStats
	NameErrors KindStats
	RRsets     KindStats
}

// KindStats counts one kind of entry. Answers are replies to questions
// (negative ones too); NameErrors say a name does not exist, whatever
// the type; RRsets hold single record sets with their trust, and answer
// what Answers do not hold when their trust allows, and delegations.
// The resolver looks for a name error and a delegation at each ancestor
// of a name until it finds one, so their misses are many by design; the
// hit ratio operators watch is the answers'.
type KindStats struct {
	Entries    int // held now
	Hits       uint64
	Misses     uint64
	Stale      uint64 // stale answers served (Answers only)
	Prefetches uint64 // refreshes asked for before expiry (Answers only)
	Inserts    uint64
	Evictions  uint64 // live entries pushed out by the entry or byte bound
	Expired    uint64 // entries removed because their TTL (and stale window) ran out
	Refused    uint64 // updates refused because the cached data was more trusted
	Flushed    uint64 // entries removed by an operator
}

// Cache is a TTL-aware cache of answers and RRsets, in two stores: the
// messages (whole replies, for fast answers) and the RRsets (with their
// trust, for delegations and for answers pieced together). Each store has
// half of the bounds. It is safe for concurrent use.
type Cache struct {
	opts   Options
	msgs   *store // answers and name errors
	rrsets *store
}

// New returns an empty cache bounded as opts says.
func New(opts Options) (*Cache, error) {
	if opts.MaxEntries < 0 || opts.MaxBytes < 0 || opts.MinTTL < 0 || opts.MaxTTL < 0 ||
		opts.NegativeMaxTTL < 0 || opts.StaleMaxAge < 0 {
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
	if opts.MinTTL > opts.MaxTTL {
		return nil, fmt.Errorf("new cache: min TTL %v above max TTL %v", opts.MinTTL, opts.MaxTTL)
	}
	if opts.Policy == "" {
		opts.Policy = LRU
	}
	entries, bytes := max(1, opts.MaxEntries/2), max(1, opts.MaxBytes/2)
	shards := min(maxShards, max(1, entries/minShardEntries))
	c := &Cache{opts: opts}
	var err error
	if c.msgs, err = newStore(shards, entries, bytes, opts.Policy, opts.StaleMaxAge); err != nil {
		return nil, fmt.Errorf("new cache: %w", err)
	}
	if c.rrsets, err = newStore(shards, entries, bytes, opts.Policy, 0); err != nil {
		return nil, fmt.Errorf("new cache: %w", err)
	}
	return c, nil
}

// Answer returns the cached reply to q, with remaining TTLs, if a fresh
// one is held: a whole reply, or else q's RRset, or its CNAME, when it was
// learned from an answer (for queries without DNSSEC bits). refresh is true, for one caller only, when the
// entry is in the last tenth of its TTL: that caller should refresh it
// now (prefetch), before it expires for everyone.
func (c *Cache) Answer(q Query, now time.Time) (m *dns.Msg, refresh, ok bool) {
	k := answerKey(q)
	e, st := c.msgs.get(k, now)
	if st == fresh {
		if time.Duration(e.expires-now.UnixNano())*prefetchShare <= time.Duration(e.ttl)*time.Second && e.refreshing.CompareAndSwap(false, true) {
			c.msgs.count(k, countPrefetch)
			refresh = true
		}
		return remaining(e, now), refresh, true
	}
	if m, ok := c.answerFromRRsets(q, now); ok {
		c.msgs.count(k, countHit)
		return m, false, true
	}
	c.msgs.count(k, countMiss)
	return nil, false, false
}

// Known returns what Answer would, fresh or not at all, without counting
// a lookup or asking for a refresh: for a resolver checking what it has
// learned (a QNAME minimisation step it need not ask again).
func (c *Cache) Known(q Query, now time.Time) (*dns.Msg, bool) {
	if e, ok := c.msgs.touch(answerKey(q), now); ok {
		return remaining(e, now), true
	}
	return c.answerFromRRsets(q, now)
}

// answerFromRRsets builds a reply to q from an RRset trusted enough to
// answer: q's own, or the CNAME at its name. RRsets carry no DNSSEC
// status, so they answer only queries without the DNSSEC bits.
func (c *Cache) answerFromRRsets(q Query, now time.Time) (*dns.Msg, bool) {
	if q.DO || q.CD {
		return nil, false
	}
	types := []uint16{q.Qtype, dns.TypeCNAME}
	if q.Qtype == dns.TypeCNAME || q.Qtype == dns.TypeANY {
		types = types[:1]
	}
	for _, t := range types {
		if e, ok := c.rrsets.touch(rrsetKey(q.Name, t, q.Qclass), now); ok && e.trust.answers() {
			m := &dns.Msg{Answer: remaining(e, now).Answer}
			m.AuthenticatedData = e.authenticated
			return m, true
		}
	}
	return nil, false
}

// StaleAnswer returns the reply to q that has expired but is still within
// the stale window, with every TTL set to StaleTTL (RFC 8767): for when
// q's authorities cannot be reached.
func (c *Cache) StaleAnswer(q Query, now time.Time) (*dns.Msg, bool) {
	e, ok := c.msgs.getStale(answerKey(q), now)
	if !ok {
		return nil, false
	}
	m := e.copyMessage()
	m.AuthenticatedData = false // served past its signatures' word (RFC 8767)
	setTTLs(m, StaleTTL)
	return m, true
}

// StoreAnswer caches m as the reply to q and returns the reply as the
// cache will serve it (a copy, with TTLs clamped by the cache's limits),
// so that the first client sees the same TTLs as the next one. For a
// query without DO the RRSIG, NSEC and NSEC3 records are left out (but
// for the type asked): clients that did not ask for them never get them
// (RFC 4035 section 3.2.1). The
// RRsets of m are cached too, trusted as the section they came in and m's
// AA bit say, unless q set CD. Replies that must not be cached are returned as they are:
// truncated ones, rcodes other than NOERROR and NXDOMAIN, negative ones
// without an SOA, and those whose smallest TTL is zero.
func (c *Cache) StoreAnswer(q Query, m *dns.Msg, now time.Time) *dns.Msg {
	if m.Truncated || (m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError) {
		return m
	}
	ttl, ok := c.answerTTL(m)
	if !ok {
		return m
	}
	if !q.DO {
		m = withoutDNSSEC(m, q.Qtype)
	}
	e := newEntry(m, ttl, now)
	if !q.CD {
		// What a CD query got was not validated: it stays with its key.
		c.storeRRsets(m, e, now)
	}
	c.msgs.put(answerKey(q), e, now)
	return remaining(e, now)
}

// NameError returns the cached NXDOMAIN for exactly name: the name does
// not exist, whatever the type asked (RFC 2308 section 5), nor anything
// below it (RFC 8020). The SOA is in the authority section.
func (c *Cache) NameError(name string, now time.Time) (*dns.Msg, bool) {
	k := nameErrorKey(name, dns.ClassINET)
	e, st := c.msgs.get(k, now)
	if st != fresh {
		c.msgs.count(k, countMiss)
		return nil, false
	}
	return remaining(e, now), true
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
	c.msgs.put(nameErrorKey(name, dns.ClassINET), newEntry(m, ttl, now), now)
}

// Delegation returns the delegation of exactly zone as a referral: its NS
// RRset in the authority section and whatever addresses of those servers
// are cached, at any trust, in the additional section.
func (c *Cache) Delegation(zone string, now time.Time) (*dns.Msg, bool) {
	k := rrsetKey(zone, dns.TypeNS, dns.ClassINET)
	e, st := c.rrsets.get(k, now)
	if st != fresh {
		c.rrsets.count(k, countMiss)
		return nil, false
	}
	m := &dns.Msg{Ns: remaining(e, now).Answer}
	for _, rr := range m.Ns {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			if a, ok := c.rrsets.touch(rrsetKey(ns.Ns, t, dns.ClassINET), now); ok {
				m.Extra = append(m.Extra, remaining(a, now).Answer...)
			}
		}
	}
	return m, true
}

// StoreDelegation caches the referral m: its NS RRset for zone in the
// authority section and the glue in the additional section, at the trust
// of a non-authoritative reply's sections, whatever m's AA bit says (some
// servers set it on referrals).
func (c *Cache) StoreDelegation(zone string, m *dns.Msg, now time.Time) {
	ref := &dns.Msg{Ns: m.Ns, Extra: m.Extra}
	c.storeRRsets(ref, nil, now)
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	var per [kinds]KindStats
	bytes := c.msgs.stats(&per) + c.rrsets.stats(&per)
	s := Stats{Bytes: bytes, Answers: per[kindAnswer], NameErrors: per[kindNameError], RRsets: per[kindRRset]}
	s.Entries = s.Answers.Entries + s.NameErrors.Entries + s.RRsets.Entries
	return s
}

func newEntry(m *dns.Msg, ttl uint32, now time.Time) *entry {
	stored := &dns.Msg{Answer: copyRRs(m.Answer), Ns: copyRRs(m.Ns), Extra: copyRRs(m.Extra)}
	setTTLs(stored, ttl)
	return &entry{
		answer:        stored.Answer,
		ns:            stored.Ns,
		extra:         stored.Extra,
		rcode:         m.Rcode,
		authoritative: m.Authoritative,
		authenticated: m.AuthenticatedData,
		stored:        now.UnixNano(),
		expires:       now.Add(time.Duration(ttl) * time.Second).UnixNano(),
		ttl:           ttl,
		size:          estimateSize(stored),
	}
}

// storeRRsets caches each RRset of m at the trust of its section, unless
// a more trusted copy is cached and fresh. When own is not nil it is the
// entry holding a private copy of m, whose records the RRset entries
// share instead of copying them again: no entry's records are ever
// modified.
func (c *Cache) storeRRsets(m *dns.Msg, own *entry, now time.Time) {
	sections := [3][]dns.RR{m.Answer, m.Ns, m.Extra}
	var copies [3][]dns.RR
	if own != nil {
		copies = [3][]dns.RR{own.answer, own.ns, own.extra}
	}
	for section, rrs := range sections {
		trust := sectionTrust(m, section)
		for _, set := range rrsets(rrs) {
			ttl, ok := minTTL(pick(rrs, set))
			if !ok || ttl == 0 {
				continue
			}
			ttl = c.clamp(ttl, c.opts.MaxTTL)
			var e *entry
			if own != nil {
				e = sharedEntry(pick(copies[section], set), ttl, now)
			} else {
				e = rrsetEntry(pick(rrs, set), ttl, now)
			}
			e.trust = trust
			// An answer validated as secure vouches for its RRsets.
			e.authenticated = section == 0 && m.AuthenticatedData
			h := rrs[set[0]].Header()
			c.rrsets.put(rrsetKey(h.Name, h.Rrtype, h.Class), e, now)
		}
	}
}

// withoutDNSSEC returns m, or a shallow copy of it without its RRSIG,
// NSEC and NSEC3 records other than those of type qtype; m is unchanged.
func withoutDNSSEC(m *dns.Msg, qtype uint16) *dns.Msg {
	drop := func(rr dns.RR) bool {
		t := rr.Header().Rrtype
		return t != qtype && (t == dns.TypeRRSIG || t == dns.TypeNSEC || t == dns.TypeNSEC3)
	}
	if !slices.ContainsFunc(m.Answer, drop) && !slices.ContainsFunc(m.Ns, drop) && !slices.ContainsFunc(m.Extra, drop) {
		return m
	}
	// The header and new section slices: newEntry copies the records.
	s := &dns.Msg{MsgHdr: m.MsgHdr, Question: m.Question}
	s.Answer = slices.DeleteFunc(slices.Clone(m.Answer), drop)
	s.Ns = slices.DeleteFunc(slices.Clone(m.Ns), drop)
	s.Extra = slices.DeleteFunc(slices.Clone(m.Extra), drop)
	return s
}

// rrsetEntry is an entry for a private copy of set.
func rrsetEntry(set []dns.RR, ttl uint32, now time.Time) *entry {
	rrs := copyRRs(set)
	for _, rr := range rrs {
		rr.Header().Ttl = ttl
	}
	m := &dns.Msg{Answer: rrs}
	return &entry{answer: rrs, stored: now.UnixNano(), expires: now.Add(time.Duration(ttl) * time.Second).UnixNano(), ttl: ttl, size: estimateSize(m)}
}

// sharedEntry is an entry for records another entry holds too: only what
// is its own counts toward the byte bound.
func sharedEntry(set []dns.RR, ttl uint32, now time.Time) *entry {
	return &entry{
		answer:  set,
		stored:  now.UnixNano(),
		expires: now.Add(time.Duration(ttl) * time.Second).UnixNano(),
		ttl:     ttl,
		size:    entryOverhead + sharedRecordSize*int64(len(set)),
	}
}

// rrsets groups the records of one section by name, type and class, as
// lists of their indexes, keeping their order. OPT pseudo-records are left
// out, and so are the DNSSEC records a reply to a DO query carries (RRSIG,
// NSEC, NSEC3): they stay with the whole answer, under its DO key, and
// are never an RRset that answers on its own.
func rrsets(rrs []dns.RR) [][]int {
	if len(rrs) == 1 && !notRRset(rrs[0].Header().Rrtype) {
		return oneRecord
	}
	var sets [][]int
	for i, rr := range rrs {
		h := rr.Header()
		if notRRset(h.Rrtype) {
			continue
		}
		found := false
		for j, set := range sets {
			f := rrs[set[0]].Header()
			if f.Rrtype == h.Rrtype && f.Class == h.Class && canonical(f.Name) == canonical(h.Name) {
				sets[j] = append(set, i)
				found = true
				break
			}
		}
		if !found {
			sets = append(sets, []int{i})
		}
	}
	return sets
}

// notRRset reports whether records of type t are kept out of the RRset
// store.
func notRRset(t uint16) bool {
	switch t {
	case dns.TypeOPT, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
		return true
	}
	return false
}

// oneRecord is rrsets' answer for a section of one record.
var oneRecord = [][]int{{0}}

// pick returns the records of rrs at the indexes set.
func pick(rrs []dns.RR, set []int) []dns.RR {
	if len(set) == len(rrs) {
		return rrs[:len(rrs):len(rrs)] // the whole section, in order: nothing to gather
	}
	out := make([]dns.RR, len(set))
	for i, j := range set {
		out[i] = rrs[j]
	}
	return out
}
