package packet

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"time"
)

// Defaults for the zero fields of Options.
const (
	// DefaultMaxEntries bounds the stored replies when Options.MaxEntries
	// is 0.
	DefaultMaxEntries = 100_000
	// DefaultMaxBytes bounds the bytes of stored replies when
	// Options.MaxBytes is 0: 64 MiB, room for the default number of
	// entries at an average reply of about 400 bytes.
	DefaultMaxBytes = 64 << 20
)

// errNegativeBound is returned by NewStore for a negative bound.
var errNegativeBound = errors.New("negative; want 0 for the default or a positive bound")

// Options configures a Store.
type Options struct {
	// MaxEntries bounds the stored replies across all shards; 0 means
	// DefaultMaxEntries.
	MaxEntries int
	// MaxBytes bounds the bytes of stored replies, each counted as its
	// length plus a fixed overhead per entry; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Stats counts a Store's work since it was made.
type Stats struct {
	Hits    uint64 // Answer calls that wrote a reply
	Misses  uint64 // Answer calls that did not: no entry, expired, or too long for the client
	Stored  uint64 // Put calls that stored their reply (replacements included)
	Evicted uint64 // entries dropped to stay within the bounds
}

// Store holds packed replies keyed by the lower-cased question name,
// QTYPE, QCLASS, and whether the query had EDNS, DO and CD. It is safe for
// concurrent use. Make one with NewStore.
//
// Each of its shards evicts with CLOCK (see shard) and holds an equal part
// of the bounds, so the whole never passes them.
type Store struct {
	seed   maphash.Seed
	mask   uint64
	shards []shard
}

// NewStore returns an empty Store bounded by opts. It returns an error if
// a bound is negative.
func NewStore(opts Options) (*Store, error) {
	if opts.MaxEntries < 0 {
		return nil, fmt.Errorf("packet store: MaxEntries %d: %w", opts.MaxEntries, errNegativeBound)
	}
	if opts.MaxBytes < 0 {
		return nil, fmt.Errorf("packet store: MaxBytes %d: %w", opts.MaxBytes, errNegativeBound)
	}
	maxEntries := cmp.Or(opts.MaxEntries, DefaultMaxEntries)
	maxBytes := cmp.Or(opts.MaxBytes, DefaultMaxBytes)
	// Fewer shards for small bounds, so that each shard can hold at least
	// one entry of any size.
	n := maxShards
	for n > 1 && (maxEntries < n || maxBytes/int64(n) < maxEntryCost) {
		n /= 2
	}
	s := &Store{seed: maphash.MakeSeed(), mask: uint64(n - 1), shards: make([]shard, n)}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.entries = make(map[uint64]*entry)
		// Share the bounds out exactly: the first shards take the remainder.
		sh.maxEntries = maxEntries / n
		if i < maxEntries%n {
			sh.maxEntries++
		}
		sh.maxBytes = maxBytes / int64(n)
		if int64(i) < maxBytes%int64(n) {
			sh.maxBytes++
		}
	}
	return s, nil
}

// Put stores reply, the packed reply the full path sent to q over UDP (q
// from ParseQuery on that query's packet), at now. It stores only what is
// safe to replay: rcode NOERROR or NXDOMAIN, QR set, TC clear, the reply's
// question equal to q's (case-insensitively), every record parsable, at
// least one record with a TTL, all TTLs above 0, an OPT record (if any)
// without options, and at most 1232 bytes. The entry is replayed until
// now + minTTL - minTTL/10, minTTL being the smallest TTL: the last tenth
// is left to the full path, whose cache refreshes entries asked for then.
//
// Put copies reply, replaces an existing entry for the same key, and
// evicts entries to stay within the Store's bounds.
func (s *Store) Put(q *Query, reply []byte, now time.Time) {
	e, err := newEntry(q, reply, now)
	if err != nil {
		return // not replayable: the full path keeps answering q
	}
	e.hash = s.hash(e.key)
	s.shards[e.hash&s.mask].put(e, now)
}

// Answer writes into out the stored reply to q, asked in pkt (the
// datagram q was parsed from), as of now, and returns its length and
// true; or 0 and false on a miss: no entry, an expired one, or a reply
// longer than the client takes over UDP (512 bytes without EDNS, else its
// advertised size within [512, 1232]) or than out.
//
// The reply written is the stored one with the query's ID and RD bit, the
// question name as pkt has it (the client's 0x20 case), and every TTL
// lowered by the whole seconds elapsed since Put. Answer does not
// allocate and holds a shard's read lock only to fetch an entry.
func (s *Store) Answer(q *Query, pkt []byte, now time.Time, out []byte) (int, bool) {
	var kb [maxKeyLen]byte
	k, ok := makeKey(&kb, q)
	if !ok {
		s.shards[0].misses.Add(1)
		return 0, false
	}
	hash := s.hash(kb[:k])
	sh := &s.shards[hash&s.mask]
	e := sh.get(hash)
	if e == nil || !bytes.Equal(e.key, kb[:k]) {
		sh.misses.Add(1)
		return 0, false
	}
	elapsed := now.Sub(e.stored)
	if elapsed >= e.lifetime || len(e.reply) > udpLimit(q) || len(e.reply) > len(out) {
		sh.misses.Add(1)
		return 0, false
	}
	name, ok := clientName(q, pkt, e.key[:len(q.Name)])
	if !ok {
		sh.misses.Add(1)
		return 0, false
	}
	e.touch()
	n := e.writeTo(out, q, name, elapsed)
	sh.hits.Add(1)
	return n, true
}

// clientName returns the question name as pkt has it, which must fold to
// lowerName, the stored one. q.Name normally points there (ParseQuery
// made q from pkt) and has been compared already; otherwise the bytes
// are checked, so a caller's mix-up is a miss, never a corrupt reply.
func clientName(q *Query, pkt, lowerName []byte) ([]byte, bool) {
	end := headerLen + len(q.Name)
	if len(pkt) < end {
		return nil, false
	}
	name := pkt[headerLen:end]
	if &name[0] == &q.Name[0] || equalFoldASCII(name, lowerName) {
		return name, true
	}
	return nil, false
}

// hash returns the hash of a key, which picks its shard and is its key
// in the shard's map.
func (s *Store) hash(key []byte) uint64 {
	return maphash.Bytes(s.seed, key)
}

// Flush drops every stored reply: the admin API's cache flush, a
// configuration reload.
func (s *Store) Flush() {
	for i := range s.shards {
		s.shards[i].flush()
	}
}

// Len returns the number of stored replies, expired ones not yet evicted
// included.
func (s *Store) Len() int {
	n, _ := s.size()
	return n
}

// size returns the number of entries and the bytes counted for them.
func (s *Store) size() (int, int64) {
	var entries int
	var total int64
	for i := range s.shards {
		n, b := s.shards[i].size()
		entries += n
		total += b
	}
	return entries, total
}

// Stats returns the Store's counters. They are read one by one while
// other goroutines may move them, so they are not a single snapshot.
func (s *Store) Stats() Stats {
	var st Stats
	for i := range s.shards {
		sh := &s.shards[i]
		st.Hits += sh.hits.Load()
		st.Misses += sh.misses.Load()
		st.Stored += sh.stored.Load()
		st.Evicted += sh.evicted.Load()
	}
	return st
}
