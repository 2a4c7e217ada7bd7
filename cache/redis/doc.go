// Package redis is the cache tier a fleet of rootwalk instances shares, in
// Redis, beside each instance's own in-process cache (package cache), and
// the fleet-wide flush that goes with it.
//
// The resolver asks the tier when its own cache misses a client's
// question, and hands it every answer a walk found. It is modelled on
// Unbound's cachedb module, without its known flaws:
//
//   - The key is a hash of the question (lower-cased name, type, class)
//     with the query's DO and CD bits and a secret seed the fleet shares
//     (Key), so that answers with and without DNSSEC records, or checked
//     and unchecked, never stand for one another, and a Redis shared by
//     several fleets keeps them apart.
//   - The value (see codec.go) holds the whole question beside the packed
//     answer, its stored-at time and its expiry; a read compares the
//     question, so a hash collision or a value planted under another key
//     is a miss, never a wrong answer.
//   - Entries are written with SET ... EX (the answer's TTL plus the
//     serve-stale window), never for SERVFAIL, truncated, TTL-0 or bogus
//     answers (bogus answers are errors and never reach the tier).
//   - Every call has a strict deadline (Options.Timeout, tens of
//     milliseconds) and goes through a circuit breaker: a slow or dead
//     Redis costs a query at most one deadline, then none while the
//     breaker is open, and the fleet degrades to in-process caching.
//   - Writes go to a bounded queue drained by one goroutine, so a client
//     never waits for one; when the queue is full, the write is dropped
//     and counted.
//
// Flush deletes a name, a subtree or everything from Redis and publishes
// the flush on a channel every instance subscribes to; each of the others
// then drops it from its own cache (Options.OnFlush). A name's keys are
// found through an index set per name; a subtree's and everything's by
// scanning the fleet's keys, which is slower but needs no bookkeeping on
// the write path.
//
// A Tier is safe for concurrent use; Close stops its goroutines.
package redis
