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
// [Fault] makes it misbehave on purpose: [FaultRefuse] answers REFUSED to
// everything, [FaultSilent] never answers. A [Server] runs one Handler on
// one explicit address over UDP and TCP and counts the queries it receives.
//
// The lab ([StartLab]) parses the master files embedded from lab/*.zone,
// derives which loopback address serves which zone from the zones' own
// apex NS records and their A records (plus a small table of faulty
// addresses), and starts one [Server] per address, all on one port. Its
// [Lab.Hints] are root hints in named.root format for a resolver.
//
// Zones, Handlers, Servers and Labs are safe for concurrent use.
package zones
