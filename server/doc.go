// Package server is rootwalk's face to its clients: the DNS handler that
// validates each query, applies the access list, asks the resolver and
// shapes the reply (RA, the client's question echoed, EDNS0, truncation to
// the client's buffer, SERVFAIL with an Extended DNS Error when resolution
// fails, with a Stale Answer EDE when the answer is an expired one served
// under RFC 8767); the UDP and TCP listeners that run it; and the admin
// HTTP API (statistics, metrics, traces, the cache's entries and flushing).
//
// Data flow: a query arrives on a listener → Handler.ServeDNS → ACL →
// validation → Resolver.ResolveQuery (with the query's DO and CD bits and
// the per-client deadline) → reply, truncated for UDP → the client.
// Counters for the admin API are kept in Metrics; the core packages keep
// their own counters, which the admin API reads.
package server
