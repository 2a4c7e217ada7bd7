// Package server is rootwalk's face to its clients: the DNS handler that
// validates each query, applies the access list and the per-client rate
// limit, asks the resolver and shapes the reply (RA, the client's question
// echoed, EDNS0 with DNS cookies, truncation to the client's buffer,
// SERVFAIL with an Extended DNS Error when resolution fails, with a Stale
// Answer EDE when the answer is an expired one served under RFC 8767); the
// UDP and TCP listeners that run it; and the admin HTTP API (statistics,
// metrics, traces, the cache's entries and flushing).
//
// Data flow: a query arrives on a listener. UDP is read by our own
// server (udp.go), one socket per core bound with SO_REUSEPORT, datagrams
// read and replies sent in batches (recvmmsg, sendmmsg); TCP by our own
// too (tcp.go), which answers a connection's queries side by side, times
// idle connections out and caps them per client.
//
// A UDP datagram first meets the fast path (replay.go): a plain query
// from a client within the ACL and its rate whose question the full path
// has answered before from the cache is answered at once from the packed
// reply kept for it (server/internal/packet), its ID, RD bit, question
// case and TTLs patched, on the reading goroutine, without unpacking
// anything or allocating. Everything else takes the full path, on a
// goroutine of its own: an outer recover → Handler.ServeDNS → the policy
// (ACL, rate limit; swapped whole by SetPolicy on a reload) → validation
// (opcode, one question, EDNS version, the COOKIE option) → ANY (RFC 8482)
// and CHAOS answered here → the cap on resolutions in progress →
// Resolver.ResolveQuery (with the query's DO and CD bits and the
// per-client deadline) → reply, truncated for UDP → the client, and a
// reply from the cache or a walk is kept for the fast path. Counters for
// the admin API are kept in Metrics and the listener's Stats; the core
// packages keep their own counters, which the admin API reads.
package server
