// Package dnssec holds the validation primitives of rootwalk's DNSSEC
// validator: pure functions over records and a time, with no network, no
// cache and no clock of their own. The resolver builds the chain of trust
// with them while it walks; this package only answers "does this hold?".
//
// The model, from the trust anchor down to an answer:
//
//	trust anchors (DS or DNSKEY) ──┐
//	                               ├─ TrustedKeys(zone, DNSKEY RRset + RRSIGs, DS or anchors)
//	DS RRset verified in parent ───┘        │ the zone's keys              (RFC 4035 section 5.2)
//	                                        ▼
//	VerifyRRset(RRset, RRSIGs, keys, zone) ── any RRset of the zone: a child's DS RRset,
//	                                        │  an answer, each NSEC/NSEC3 RRset  (section 5.3)
//	                                        ▼
//	ProveNameError / ProveNoData / ProveWildcardAnswer / ProveInsecureDelegation
//	             with the verified NSEC/NSEC3 records (section 5.4; RFC 5155 section 8)
//
// What the caller does around each call:
//
//   - TrustedKeys takes a zone's DNSKEY RRset with its RRSIGs and either
//     the zone's DS RRset, which the caller has verified with VerifyRRset
//     and the parent's keys, or the configured trust anchors. The keys it
//     returns are those to pass to VerifyRRset for the zone; cache them for
//     no longer than the returned TTL and the DS RRset's.
//   - VerifyRRset takes one RRset and the RRSIGs that came with it, and
//     the zone whose keys should have signed it: the deepest zone cut the
//     caller knows at or above the owner, or for a DS RRset the parent's.
//     When it reports a Wildcard, the answer is secure only once
//     ProveWildcardAnswer holds. Cache the RRset for at most the TTL.
//   - A referral without DS needs ProveInsecureDelegation before the child
//     is treated as unsigned; a referral with DS leads to TrustedKeys for
//     the child.
//
// # Denial of existence
//
// The Prove functions take the NSEC and the NSEC3 records of a reply's
// authority section, every one of whose RRSIGs the caller has already
// verified with VerifyRRset (each NSEC or NSEC3 record is an RRset of its
// own) for zone, the signer. They read the records' names and bitmaps and
// trust them. A record whose VerifyRRset reported a wildcard expansion
// must not be passed: it says nothing about the name it was expanded to.
//
// A proof is tried with the NSEC records, then, if there are none or it
// fails, with the NSEC3 records; when both fail, the NSEC3 failure is
// returned. Records that cannot belong to zone's chain are ignored: NSEC
// records whose owner is outside zone; NSEC3 records whose owner is not a
// hash label right below zone, whose hash algorithm is not SHA-1 or whose
// flags have bits other than opt-out (RFC 5155 section 8.2), and those
// whose parameters (iterations, salt) differ from the first usable NSEC3
// record's. A record whose next name is outside zone (or not a hash)
// covers nothing, but still shows that its owner exists. If that first
// NSEC3 record has more than
// MaxNSEC3Iterations iterations, the proof fails with
// ReasonNSEC3Iterations (insecure) before anything is hashed.
//
// Every proof returns optOut, true when it holds only through an NSEC3
// record with the Opt-Out flag covering the next closer name: the name
// may then exist as an unsigned delegation that the chain does not list.
// RFC 5155 section 9.2 forbids setting the AD bit on such a reply, as
// Unbound and Knot Resolver implement it: the caller treats the answer as
// insecure, not bogus. NSEC proofs never set it.
//
// Failures are *Error: ReasonNSECMissing when the records are not enough
// for the proof; ReasonBogus when they contradict it (the name or the type
// exists, a wildcard would have answered, the record is from the wrong
// side of a zone cut: RFC 6840 section 4); ReasonNSEC3Iterations;
// ReasonBudget when the NSEC3 hashes of the Budget are spent.
//
// # Errors and work limits
//
// Failures are *Error values whose Reason gives the Extended DNS Error
// (RFC 8914) to return. Reasons for which Insecure reports true (an
// unsupported algorithm or digest, too many NSEC3 iterations) mean the
// data cannot be validated and is treated as unsigned; every other reason
// means bogus: SERVFAIL.
//
// Work is bounded by a Budget per resolution (budget.go): every RRSIG
// verification and every NSEC3 name hash is paid for, so that a reply
// crafted with colliding key tags (KeyTrap, CVE-2023-50387) or a proof
// demanding many NSEC3 hashes (CVE-2023-50868) costs a bounded amount of
// CPU and ends in ReasonBudget.
//
// Names are compared in canonical DNS order (internal/canonical), so case
// and escapes do not matter; inputs may omit the final dot.
package dnssec
