package packet

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxShards is the number of shards of a Store with room for at least
// one entry in each; fewer are used for tiny bounds.
const maxShards = 64

// shard is one of a Store's independent parts, picked by a key's hash.
// Its RWMutex guards the map and the ring only: Answer holds the read
// lock just to fetch a pointer, Put the write lock to insert and evict.
//
// Eviction is CLOCK (second chance) over a ring of the shard's entries: a
// hit sets an entry's reference bit; when the shard is over its bounds,
// the hand walks the ring, clearing set bits and evicting the first entry
// found expired or with a clear bit. An entry's slot in the ring is
// filled by the last one when it leaves.
type shard struct {
	mu sync.RWMutex
	// hits and misses sit beside mu: a lookup writes mu's reader count
	// anyway, so the counters cost no extra cache line.
	hits, misses atomic.Uint64

	entries map[uint64]*entry
	ring    []*entry
	hand    int
	bytes   int64 // sum of the entries' cost

	maxEntries int
	maxBytes   int64

	stored, evicted atomic.Uint64 // written under mu, read by Stats without it

	_ [64]byte // keeps neighbouring shards' hot words off each other's cache lines
}

// get returns the entry stored under hash, or nil.
func (sh *shard) get(hash uint64) *entry {
	sh.mu.RLock()
	e := sh.entries[hash]
	sh.mu.RUnlock()
	return e
}

// put stores e, replacing the entry of the same hash, and evicts entries
// until the shard is within its bounds again. An entry that cannot fit in
// an empty shard is not stored.
func (sh *shard) put(e *entry, now time.Time) {
	if sh.maxEntries == 0 || e.cost > sh.maxBytes {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.entries[e.hash]; ok {
		e.slot = old.slot
		sh.ring[e.slot] = e
		sh.bytes += e.cost - old.cost
	} else {
		e.slot = len(sh.ring)
		sh.ring = append(sh.ring, e)
		sh.bytes += e.cost
	}
	sh.entries[e.hash] = e
	sh.stored.Add(1)
	for len(sh.ring) > sh.maxEntries || sh.bytes > sh.maxBytes {
		sh.evictOne(e, now)
	}
}

// evictOne moves the clock hand to an entry other than keep that is
// expired or unreferenced and evicts it. Hits may set bits again while
// the hand goes round, so after two turns the hand takes what it points
// at.
func (sh *shard) evictOne(keep *entry, now time.Time) {
	for step := 0; ; step++ {
		if sh.hand >= len(sh.ring) {
			sh.hand = 0
		}
		e := sh.ring[sh.hand]
		switch {
		case e == keep:
		case now.Sub(e.stored) >= e.lifetime || !e.ref.Load() || step >= 2*len(sh.ring):
			sh.remove(e)
			sh.evicted.Add(1)
			return
		default:
			e.ref.Store(false)
		}
		sh.hand++
	}
}

// remove takes e out of the map and the ring; the ring's last entry takes
// its slot, so the hand, left where it is, looks at that one next.
func (sh *shard) remove(e *entry) {
	last := len(sh.ring) - 1
	moved := sh.ring[last]
	sh.ring[e.slot] = moved
	moved.slot = e.slot
	sh.ring[last] = nil
	sh.ring = sh.ring[:last]
	delete(sh.entries, e.hash)
	sh.bytes -= e.cost
}

// flush drops every entry.
func (sh *shard) flush() {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.entries = make(map[uint64]*entry)
	sh.ring = nil
	sh.hand = 0
	sh.bytes = 0
}

// size returns the number of entries and the bytes they are counted as.
func (sh *shard) size() (int, int64) {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return len(sh.entries), sh.bytes
}
