// Package packet answers repeated plain queries from stored packed
// replies, without unpacking or packing a message and without allocating:
// the hot path in front of server's full miekg/dns handler.
//
// # Data flow
//
// The UDP front end reads a datagram and calls ParseQuery, which reads
// only the header, the question and an optional OPT record. If the query
// is plain (see ParseQuery), the front end asks Store.Answer for a stored
// reply to it; on a hit it sends the bytes Answer wrote. Anything else,
// and every miss, goes to the full handler (ACL, rate limit, resolver,
// EDNS, truncation). When that handler has sent a reply over UDP, the front
// end gives the packed bytes to Store.Put with the Query parsed from the
// client's datagram, and Put stores them if they are safe to replay.
//
//	datagram → ParseQuery ─plain─→ Store.Answer ─hit─→ patched copy → client
//	              │                     │miss
//	              └─not plain───────────┴─→ full handler → client
//	                                               └─→ Store.Put (packed reply)
//
// A Store is sharded by a seeded hash of the key (the question name lower-
// cased in ASCII, QTYPE, QCLASS, and whether the query had EDNS, DO and CD);
// each entry keeps its key, so a hash collision never answers the wrong
// question. Entries are immutable once stored: Answer holds a shard's
// read lock only to fetch a pointer and copies outside it. Each shard
// evicts with CLOCK, expired entries first.
//
// # What is replayed, and why it is safe
//
// A stored reply is replayed with exactly three kinds of change, each at
// an offset Put found once:
//   - the ID and the RD bit are the query's (RFC 1035 section 4.1.1);
//   - the question name is copied from the query, keeping the client's
//     case: clients and forwarders that randomise the case of the
//     question ("0x20", draft-vixie-dnsext-dns0x20, one more guess for a
//     forger on top of RFC 5452's ID and port) check their reply echoes
//     it. As the question sits at offset 12 with the same length, and
//     names compressed to it (RFC 1035 section 4.1.4) point into it, no
//     offset in the reply moves and compressed owner names show the
//     client's case too, as a freshly packed reply would;
//   - every TTL is lowered by the whole seconds since Put.
//
// For that to hold, no name may be read through a rewritten byte. RFC
// 1035 section 4.1.4 means a pointer to lead to a prior name, but decoders
// follow it anywhere, even into the header or a TTL; so Put re-packs each
// reply with miekg/dns, which points only at names it wrote, before
// finding the TTLs' offsets.
//
// Put refuses what is not the same for every client asking the same key:
//   - rcodes other than NOERROR and NXDOMAIN (a SERVFAIL is one failed
//     resolution, a REFUSED one client's policy), truncated replies, and
//     replies longer than 1232 bytes, which no UDP client is sent;
//   - OPT records with options (RFC 6891 section 6.1.2): a COOKIE is per
//     client (RFC 7873), an Extended DNS Error describes one resolution
//     (RFC 8914; a stale answer served under RFC 8767 carries one), as
//     do queries with options, which ParseQuery sends down the full path;
//   - replies without a TTL to count down, or with a TTL of 0, which
//     must not be cached at all (RFC 1035 section 3.2.1).
//
// An entry lives for the smallest TTL less its last tenth. The full
// path's cache prefetches an entry asked for in the last tenth of its
// TTL, and serves expired ones stale (RFC 8767) with an EDE; if the store
// kept answering through that tenth, the full cache would see no queries
// for a hot name, never refresh it, and its clients would meet a cold
// resolution when the store expired. So the store steps aside early, the
// full path refreshes, and the next reply it sends is stored again. This
// holds also for a reply whose TTLs the full cache had already counted
// down from T to r: the store expires it at r/10 left, within the full
// cache's last tenth of T.
//
// The OPT record of a reply is replayed as it was: its payload size is
// the server's, and its DO bit is the query's, which the key includes.
// The length limit is checked on every hit against the asking client's
// buffer (512 bytes without EDNS; its advertised size within 512..1232),
// so a client is never sent more than it can take and a reply too long
// for it is a miss, for the full path to truncate.
//
// Access control and rate limiting are not this package's business: the
// front end applies them before calling Answer.
package packet
