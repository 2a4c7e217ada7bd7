// Package resolver answers DNS questions by iteration: it starts at the
// root servers (or the deepest zone cut it has cached), follows referrals
// down the tree, and chases CNAME and DNAME records across zones, exactly as
// RFC 1034 section 5.3.3 describes a resolver.
//
// Data flow for one question:
//
//	Resolve ── resolve (CNAME/DNAME chase) ── lookup (one name)
//	                                            │ cache hit? return it
//	                                            │ start at the deepest cached delegation, else the hints
//	                                            └─ askZone: try the zone's servers in turn
//	                                                 ├─ addresses: glueless server names are resolved first
//	                                                 ├─ ask: one exchange through the Exchanger
//	                                                 └─ classify + scrub the reply:
//	                                                    answer, NXDOMAIN, NODATA, referral, or lame
//
// Decisions are kept apart from network I/O: the walk works on messages and
// asks an Exchanger to talk to the network, so tests replace the network
// with a table of fake servers. The resolver also declares the Cache it
// needs; it never imports a cache implementation.
//
// Every upstream reply is scrubbed before anything is believed or cached:
// records outside the bailiwick of the zone that was asked, and records not
// on the path from the question to the answer, are dropped (the idea of
// Unbound's iterator/iter_scrub.c). Glue is used only when it is inside the
// zone that sent it.
//
// Budgets (limits.go) bound every loop: referrals per name, CNAME hops,
// upstream queries and glueless sub-resolutions per client question, and a
// deadline per resolution. Outcomes that callers branch on are the
// sentinel errors in errors.go; NXDOMAIN and NODATA are answers, not errors.
//
// Which server of a zone is asked, and how long to wait for it, is the
// infrastructure cache's business (internal/selection); recent failures
// are remembered in internal/failcache. Identical questions and upstream
// queries in flight are shared (flight.go); QNAME minimisation is in
// qmin.go; local, stub and forward zones in local.go. The real Exchanger,
// NetExchanger (exchange.go), asks over UDP from a fresh socket each time
// (a new random port, RFC 5452) and falls back to TCP on truncation,
// keeping TCP connections open for the next query to the same server
// (internal/tcpconns, RFC 7766 section 6.2.1).
//
// A Tracer attached to the context with WithTracer receives one Event per
// step of the walk; with debug logging on, the same events are logged.
package resolver
