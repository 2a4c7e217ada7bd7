package packet

import (
	"sync/atomic"
	"time"
)

// maxUDPReply is the largest reply Answer ever writes: the EDNS buffer
// size of DNS Flag Day 2020, which the full path also caps clients' sizes
// to. Put does not store longer replies, as no client would get them.
const maxUDPReply = 1232

// minUDPReply is what a client takes without EDNS, or with a smaller
// advertised size (RFC 1035 section 4.2.1, RFC 6891 section 6.2.5).
const minUDPReply = 512

// entryOverhead is what an entry costs besides its reply's bytes, counted
// against Options.MaxBytes: the entry struct, the map slot, the clock
// ring's pointer and the allocation headers (about 200 bytes), plus a
// typical key and TTL offsets. It is a fixed estimate, as the brief's
// accounting asks, not a measure.
const entryOverhead = 256

// maxEntryCost is the most a single entry can cost.
const maxEntryCost = maxUDPReply + entryOverhead

// entry is one stored reply. Every field but ref and slot is written
// before the entry is published in a shard and never after, so Answer
// reads an entry without a lock.
type entry struct {
	hash     uint64
	key      []byte        // the question's key (makeKey), lower-cased
	reply    []byte        // the packed reply as the full path sent it
	ttls     []uint16      // offsets in reply of every TTL, the OPT record's excluded
	stored   time.Time     // when Put was called
	lifetime time.Duration // how long after stored it is replayed
	cost     int64         // bytes counted against the bound

	ref  atomic.Bool // CLOCK's reference bit: set by hits, cleared by the hand
	slot int         // index in the shard's ring; only under the shard's lock
}

// touch sets the reference bit, writing only when it is clear so that a
// hot entry's cache line is not written by every hit on every core.
func (e *entry) touch() {
	if !e.ref.Load() {
		e.ref.Store(true)
	}
}

// udpLimit is how long a reply q's client takes over UDP: 512 bytes
// without EDNS, else its advertised size within [512, 1232].
func udpLimit(q *Query) int {
	if !q.EDNS {
		return minUDPReply
	}
	return max(minUDPReply, min(int(q.UDPSize), maxUDPReply))
}
