// Package cache holds what the resolver has learned, for as long as the
// records' TTLs allow, and a while longer to serve stale.
//
// Two stores, each sharded 16 ways (a lock, an eviction policy and a share
// of the bounds per shard, so clients on all cores seldom meet on a lock):
//
//   - messages: the resolver's reply to one question, keyed by name, type,
//     class and the query's DO and CD bits, positive or negative, for fast
//     answers. A negative entry (NXDOMAIN or NODATA) lives for the SOA's
//     negative TTL, min(SOA TTL, SOA MINIMUM) (RFC 2308 section 5), and is
//     never stored without an SOA. Name errors are kept apart too, keyed by
//     name alone, so that one NXDOMAIN answers every type at that name and
//     below it (RFC 8020).
//   - RRsets: each RRset of every reply stored, with its trust (RFC 2181
//     section 5.4.1): answer-section data of an authoritative reply ranks
//     highest, glue lowest. A cached RRset is replaced only by one at least
//     as trusted, until it expires. The delegations the resolver walks from
//     are read here (a zone's NS RRset and its servers' addresses, whatever
//     taught them), and answer-section RRsets answer questions the message
//     store misses (a CNAME's target asked directly). Glue and referral
//     data never answer a client.
//
// Each store has half of the entry and byte bounds. The byte bound counts
// estimated bytes, checked against the heap by a test (size_test.go).
// Which entry a bound evicts is the policy's choice: LRU, or 2Q, which keeps
// names asked once apart so that a flood of them cannot push out the
// popular ones.
//
// Every entry stores a private copy of the message, the time it was stored
// and the TTL it was stored with (after the clamps of Options); a read
// returns a fresh copy whose TTLs are the remaining ones, so callers may
// modify what they get. An answer past its TTL is kept StaleMaxAge longer
// for StaleAnswer (RFC 8767), unless the shard runs short of room, when
// expired entries nobody has asked for since they expired go first. An
// answer read in the last tenth of its TTL tells one caller to refresh it
// (prefetch). Time is always passed in by the caller, so tests move a clock
// by hand instead of sleeping.
//
// Entries lists what is held, Flush, FlushName and FlushSubtree remove it,
// and Save and Load carry the cache across a restart, the time in between
// counted against the TTLs.
//
// A Cache is safe for concurrent use.
package cache
