package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// entry is one cached message or RRset. Its fields other than used and
// refreshing never change after it is stored, so it may be read outside
// the shard's lock.
type entry struct {
	// The reply's sections (for an RRset, its records in answer) and
	// header: kept without a dns.Msg around them, which would cost each
	// entry a sixth of its memory.
	answer, ns, extra []dns.RR
	rcode             int
	authoritative     bool
	authenticated     bool   // the AD bit: validated as secure (for an RRset: in an answer that was)
	trust             Trust  // RRsets only
	stored            int64  // when it was stored, in Unix nanoseconds
	expires           int64  // when its TTL runs out, in Unix nanoseconds
	ttl               uint32 // the TTL it was stored with, after the clamps
	size              int64  // estimated bytes
	// used is when it was last moved up its policy's order or served
	// stale (Unix nanoseconds), and moved the shard's move count then;
	// both under the shard's lock.
	used  int64
	moved uint64
	// refreshing is set once a caller has been told to refresh it
	// before it expires (prefetch), so that one refresh runs at a time.
	refreshing atomic.Bool
}

// message returns e as a message, for reading only: the reply, or the
// RRset in the answer section.
func (e *entry) message() *dns.Msg {
	m := &dns.Msg{Answer: e.answer, Ns: e.ns, Extra: e.extra}
	m.Rcode, m.Authoritative, m.AuthenticatedData = e.rcode, e.authoritative, e.authenticated
	return m
}

// copyMessage returns a copy of e as a message, the caller's to modify.
func (e *entry) copyMessage() *dns.Msg {
	m := &dns.Msg{Answer: copyRRs(e.answer), Ns: copyRRs(e.ns), Extra: copyRRs(e.extra)}
	m.Rcode, m.Authoritative, m.AuthenticatedData = e.rcode, e.authoritative, e.authenticated
	return m
}

// copyRRs returns deep copies of rrs, nil for none.
func copyRRs(rrs []dns.RR) []dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

// state is what a lookup found.
type state uint8

const (
	missing state = iota // nothing, or nothing worth keeping
	fresh                // within its TTL
	stale                // expired, kept for serve-stale
)

// removal is why an entry leaves the cache.
type removal uint8

const (
	removedEvicted  removal = iota // pushed out by a bound
	removedExpired                 // expired and not worth keeping
	removedReplaced                // a new entry took its key
	removedFlushed                 // an operator flushed it
)

// Sweeps: a shard drops its expired entries at most this often, and
// sooner, but at most every pressureSweepEvery, when it is full. A sweep
// reads every entry of the shard, so the unpressed one is rare: until
// the shard fills, expired entries cost only memory within the bounds.
// (Every minute, it took a twentieth of the CPU of cold resolutions at
// 7,000 a second.)
const (
	sweepEvery         = 5 * time.Minute
	pressureSweepEvery = time.Second
)

// store is one sharded cache (the messages, or the RRsets): each shard
// has its own lock, eviction policy and share of the bounds, so that
// clients on all cores do not queue on one lock.
type store struct {
	seed     maphash.Seed
	shards   []shard
	staleFor time.Duration // how long an expired entry is kept to serve stale
}

type shard struct {
	mu sync.Mutex
	// counts follows mu so that a hit writes one cache line of the
	// shard's, not two.
	counts      [kinds]counters
	ev          evictor
	bytes       int64
	maxEntries  int
	maxBytes    int64
	lastSweep   time.Time // of any kind
	lastSqueeze time.Time // the last sweep under pressure
	// moves counts the entries put at the front of the policy's order:
	// stored, or moved up by a read.
	moves uint64
	_     [64]byte // keep shards' locks on separate cache lines
}

// counters are one shard's for one kind of entry, summed into KindStats.
type counters struct {
	hits, misses, stale, prefetches               uint64
	entries                                       int
	inserts, evictions, expired, refused, flushed uint64
}

// promoteShare: a read moves an entry back to the front of its policy's
// order only once at least 1/promoteShare of the shard's entries have
// been put in front of it since it was last there. An entry can sink no
// further than that between two reads, so a popular one is never
// evicted for it; and reads mostly leave the shared lists alone, which
// is what lets lookups on all cores run side by side. An entry's first
// read always moves it (2Q's second use).
const promoteShare = 8

// use marks e as read at n, moving it up the policy's order if it has
// sunk far enough, or has never been read.
func (sh *shard) use(k key, e *entry, n int64) {
	if e.moved != 0 && sh.moves-e.moved < uint64(max(1, sh.ev.Len()/promoteShare)) {
		return
	}
	sh.ev.Get(k)
	sh.moves++
	e.moved, e.used = sh.moves, n
}

func newStore(n, maxEntries int, maxBytes int64, p Policy, staleFor time.Duration) (*store, error) {
	s := &store{seed: maphash.MakeSeed(), shards: make([]shard, n), staleFor: staleFor}
	for i := range s.shards {
		ev, err := newEvictor(p)
		if err != nil {
			return nil, err
		}
		sh := &s.shards[i]
		sh.ev = ev
		sh.maxEntries = max(1, maxEntries/n)
		sh.maxBytes = max(1, maxBytes/int64(n))
	}
	return s, nil
}

func (s *store) shard(k key) *shard { return &s.shards[shardOf(s.seed, k, len(s.shards))] }

// get returns the entry for k and whether it is fresh or stale; an entry
// past even the stale window is removed. A fresh entry counts as a hit;
// the caller counts a miss (see count), for it may yet find an answer
// elsewhere.
func (s *store) get(k key, now time.Time) (*entry, state) {
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.ev.Peek(k)
	if !ok {
		return nil, missing
	}
	if n := now.UnixNano(); n < e.expires {
		sh.counts[k.kind].hits++
		sh.use(k, e, n)
		return e, fresh
	}
	if s.keep(e, now) {
		return e, stale
	}
	sh.remove(k, e, removedExpired)
	return nil, missing
}

// touch returns k's entry if it is fresh, as a use but not counted as a
// hit: for lookups that are part of another (glue for a delegation).
func (s *store) touch(k key, now time.Time) (*entry, bool) {
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.ev.Peek(k)
	n := now.UnixNano()
	if !ok || n >= e.expires {
		return nil, false
	}
	sh.use(k, e, n)
	return e, true
}

// outcome is a lookup's result as counted by count.
type outcome uint8

const (
	countMiss     outcome = iota // nothing found
	countHit                     // found elsewhere than under k itself
	countPrefetch                // a caller was told to refresh k's entry
)

// count adds one lookup of k to its shard's counters.
func (s *store) count(k key, o outcome) {
	sh := s.shard(k)
	sh.mu.Lock()
	c := &sh.counts[k.kind]
	switch o {
	case countMiss:
		c.misses++
	case countHit:
		c.hits++
	case countPrefetch:
		c.prefetches++
	}
	sh.mu.Unlock()
}

// getStale returns k's entry if it has expired but is kept to serve
// stale, and counts it as served stale.
func (s *store) getStale(k key, now time.Time) (*entry, bool) {
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.ev.Peek(k)
	if !ok || now.UnixNano() < e.expires || !s.keep(e, now) {
		return nil, false
	}
	sh.counts[k.kind].stale++
	sh.ev.Get(k) // served stale: in use, however far it has sunk
	sh.moves++
	e.moved, e.used = sh.moves, now.UnixNano()
	return e, true
}

// keep reports whether an expired entry is still within the stale window.
func (s *store) keep(e *entry, now time.Time) bool {
	return s.staleFor > 0 && now.UnixNano() < e.expires+int64(s.staleFor)
}

// put stores e under k, replacing what was there unless that is a fresh
// RRset of higher trust, and evicts what the bounds require.
func (s *store) put(k key, e *entry, now time.Time) bool {
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now.Sub(sh.lastSweep) >= sweepEvery {
		s.sweep(sh, now, false)
	}
	if old, ok := sh.ev.Peek(k); ok {
		if k.kind == kindRRset && now.UnixNano() < old.expires && e.trust < old.trust {
			sh.counts[k.kind].refused++
			return false
		}
		sh.release(k, old, removedReplaced) // Add replaces it in place
	}
	sh.ev.Add(k, e)
	sh.moves++
	sh.bytes += e.size
	sh.counts[k.kind].inserts++
	sh.counts[k.kind].entries++
	if sh.full() && now.Sub(sh.lastSqueeze) >= pressureSweepEvery {
		sh.lastSqueeze = now
		s.sweep(sh, now, true)
	}
	for sh.full() {
		k, old, ok := sh.ev.RemoveOldest()
		if !ok {
			break
		}
		sh.release(k, old, removedEvicted)
	}
	return true
}

func (sh *shard) full() bool {
	return sh.ev.Len() > sh.maxEntries || (sh.bytes+sh.ev.ghostBytes() > sh.maxBytes && sh.ev.Len() > 1)
}

// remove takes k out of the policy and accounts for it.
func (sh *shard) remove(k key, e *entry, why removal) {
	sh.ev.Remove(k)
	sh.release(k, e, why)
}

// release accounts for an entry the policy no longer holds.
func (sh *shard) release(k key, e *entry, why removal) {
	sh.bytes -= e.size
	c := &sh.counts[k.kind]
	c.entries--
	switch why {
	case removedEvicted:
		c.evictions++
	case removedExpired:
		c.expired++
	case removedFlushed:
		c.flushed++
	}
}

// sweep drops the shard's entries that have expired beyond the stale
// window; under pressure also the expired ones nobody asked for since
// they expired, so that old entries do not crowd out live ones.
func (s *store) sweep(sh *shard, now time.Time, pressure bool) {
	sh.lastSweep = now
	for _, k := range sh.ev.Keys() {
		e, _ := sh.ev.Peek(k)
		if now.UnixNano() < e.expires {
			continue
		}
		if !s.keep(e, now) || (pressure && e.used < e.expires) {
			sh.remove(k, e, removedExpired)
		}
	}
}

// drop removes the entries for which match is true and returns how many.
func (s *store) drop(match func(k key) bool) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, k := range sh.ev.Keys() {
			if match(k) {
				e, _ := sh.ev.Peek(k)
				sh.remove(k, e, removedFlushed)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// each calls f for every entry, oldest first within each shard, with the
// shard locked; f must not call back into the store.
func (s *store) each(f func(k key, e *entry) bool) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, k := range sh.ev.Keys() {
			e, _ := sh.ev.Peek(k)
			if !f(k, e) {
				sh.mu.Unlock()
				return
			}
		}
		sh.mu.Unlock()
	}
}

// stats adds the shards' counters to per, by kind, and returns the bytes
// the store holds.
func (s *store) stats(per *[kinds]KindStats) int64 {
	var bytes int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		bytes += sh.bytes + sh.ev.ghostBytes()
		counts := sh.counts
		sh.mu.Unlock()
		for k, c := range counts {
			st := &per[k]
			st.Entries += c.entries
			st.Hits += c.hits
			st.Misses += c.misses
			st.Stale += c.stale
			st.Prefetches += c.prefetches
			st.Inserts += c.inserts
			st.Evictions += c.evictions
			st.Expired += c.expired
			st.Refused += c.refused
			st.Flushed += c.flushed
		}
	}
	return bytes
}
