// Package zones holds rootwalk's authoritative side: master-file parsing,
// authoritative lookups, the DNS servers that answer from zones, and the
// lab, a small DNS tree on loopback that the resolver and the tests walk.
//
// # Data flow
//
// A master file goes through [Parse], which reads it with miekg/dns's zone
// parser (syntax errors keep file:line; the others name the file, owner and
// type), checks it (SOA and NS at the origin, no records outside the zone,
// a CNAME alone at its name) and indexes it into an immutable [Zone]:
// RRsets by canonical lower-case owner name, the delegation points below
// the apex and the empty non-terminals.
//
// [Zone.Lookup] answers one question from one zone with the algorithm of
// RFC 1034 section 4.3.2, extended for DNAME (RFC 6672) and wildcards
// (RFC 4592): a referral below a zone cut, CNAME and DNAME chains followed
// while they stay inside the zone, NXDOMAIN and NODATA with the SOA whose
// TTL is capped by its MINIMUM field (RFC 2308 section 3). It returns a
// [Response] of fresh copies; it never touches the network.
//
// A [Handler] is a dns.Handler for one address: it validates the query
// (opcode, question count, class, EDNS version), picks the deepest zone it
// serves that contains the name, copies the [Response] into a reply,
// handles EDNS(0) and truncates UDP replies to the client's limit. A
// [Fault] makes it misbehave on purpose, so a resolver meets the servers it
// must cope with on the internet. Two faults serve nothing: [FaultRefuse]
// answers REFUSED to everything, [FaultSilent] never answers. The others
// serve their zones but misbehave: [FaultSlow] holds each reply for 150 ms,
// [FaultNoCase] does not echo the query's 0x20 mixed case,
// [FaultEDNSFormErr] and [FaultEDNSDrop] answer FORMERR to, or drop,
// queries with EDNS(0), [FaultUpward] refers every query up to the root,
// [FaultNoAA] answers without AA and without data, and [FaultENTNXDOMAIN]
// denies empty non-terminals (RFC 9156 section 2.3). Three break the
// transport: [FaultLossy] drops every second UDP query, [FaultTCPReset]
// answers TC over UDP and resets TCP connections, [FaultGarbage] cuts
// every reply short so that it cannot be parsed. Three attack a resolver's
// cache: [FaultOutOfBailiwick] adds records for names outside its zones,
// [FaultParentClaim] adds a DNAME and NS records for its parent zone, and
// [FaultForge] sends a forged reply from another address ahead of each
// real one over UDP. The header checks (opcode, question count, EDNS
// version) come before the faults that replace the answer; the attackers'
// records are added to the answer before it is truncated; the forgery,
// the slow hold and the garbling come last, around the write. A [Server]
// runs one Handler on one explicit address over UDP and TCP (and, for
// FaultForge, binds the second address its forgeries leave from), counts
// the queries it receives, and on Shutdown stops the Handler first, so a
// held reply ends at once.
//
// The lab ([StartLab]) parses the master files embedded from lab/*.zone,
// derives which loopback address serves which zone from the zones' own
// apex NS records and their A and AAAA records (plus a table of faulty
// addresses, each commented with its domain, and the address each forger
// forges from, on 127.53.3.x, which serves nothing), and starts one
// [Server] per address, all on one port. Each fault has a zone where one
// server has it beside a good one (partly-lame.com., lossy.com., ...) or
// where the only server has it (lame.com., lossy-only.com., ...); the
// attackers serve poison-*.org., and poison-ttl.org.'s attack is its data:
// TTLs of 2^31-1 and 2^32-1. One zone, nxns.com., is served by nobody on
// purpose: its 20 name server names do not exist (the NXNS attack). The
// only IPv6 address is [::1], a silent server behind the AAAA glue of
// ns1.v6broken.com.; on a machine without IPv6 the lab logs a Warn and runs
// without it. Its [Lab.Hints] are root hints in named.root format for a
// resolver.
//
// Every lab server answers DNS cookies (RFC 7873, RFC 9018), each under a
// random secret of its own, and counts the cookies it sees by state
// ([Lab.Cookies], [Lab.CookiesTo]); the only server of cookie-strict.com.
// insists on them ([FaultBadCookie]).
//
// Zones, Handlers, Servers and Labs are safe for concurrent use.
package zones
