// Package cache holds what the resolver has learned, for as long as the
// records' TTLs allow.
//
// Two kinds of entries share one LRU and one pair of bounds (entry count and
// bytes):
//
//   - answers: the resolver's reply to one question (name, type, class),
//     positive or negative. A negative entry (NXDOMAIN or NODATA) lives for
//     the SOA's negative TTL, min(SOA TTL, SOA MINIMUM) (RFC 2308 section 5),
//     and is never stored without an SOA.
//   - delegations: the NS RRset of a zone cut plus the glue that came with
//     it, as the parent's referral gave them. They let the resolver start a
//     walk at the deepest zone it knows instead of at the root.
//
// Keeping delegations apart from answers is what stops glue and referral
// data from ever answering a client: only data that came back as an answer
// to a question is returned for that question (RFC 2181 section 5.4.1).
//
// Every entry stores a private copy of the message, the time it was stored
// and the time it expires. A read returns a fresh copy whose TTLs are the
// remaining TTLs, so callers may modify what they get. Time is always passed
// in by the caller, so tests move a clock by hand instead of sleeping.
//
// A Cache is safe for concurrent use.
package cache
