// Package anchors owns rootwalk's DNSSEC trust anchors: the records a
// validator trusts without a chain of trust above them, where they come
// from, and how the root's are kept current.
//
// # The model
//
// A trust anchor is a DS or a DNSKEY record for a zone (RFC 4033 section
// 2, RFC 4035 section 4.4). A Set holds the anchors of several zones; the
// validator asks it For a zone's anchors and for the Closest zone with
// anchors at or above a name, where the chain of trust starts. Sets come
// from three places:
//
//   - Parse reads them in master-file form (RFC 1035 section 5), as
//     Unbound's trust-anchor-file and BIND's trust-anchors statement in
//     zone form hold them.
//   - IANARoot returns the root's, embedded in the source: the DS records
//     IANA publishes for the root key-signing keys.
//   - A Tracker's Trusted returns the anchors it currently trusts for its
//     zone (see below).
//
// A Set is a value: nothing changes it once it has been handed out (For,
// Records and Trusted return copies), so any number of goroutines may read
// one. Add, which builds a Set, must not run concurrently with anything else
// on that Set.
//
// # Keeping the root current (RFC 5011)
//
// A configured anchor goes stale when the zone rolls its key-signing key,
// as the root did in 2018 (KSK-2010 to KSK-2017) and is doing again
// (KSK-2017 to KSK-2024). RFC 5011 lets a resolver follow such a roll on
// its own, trusting a new key only after it has been published, signed by
// a key already trusted, for 30 days. A Tracker does this for one zone;
// which RFC section each part implements:
//
//   - Section 2.1, revocation: a key that publishes itself with the REVOKE
//     flag and signs the DNSKEY RRset with that revoked form is never
//     trusted again. Only the key's holder can make that signature, so it
//     is honoured even in an RRset that did not otherwise validate; a
//     REVOKE flag without it is ignored (the key is then merely absent).
//   - Sections 2.2 and 2.4.1, the add hold-down: a new SEP key is trusted
//     only once it has been in every validated DNSKEY RRset for AddHoldDown
//     (or the RRset's original TTL, if longer), and its acceptance starts
//     over if every key that vouched for it when it appeared is revoked
//     meanwhile.
//   - Section 2.3, active refresh: NextRefresh says when the zone's DNSKEY
//     RRset should be fetched again, from the original TTL and the RRSIG
//     expiration; Failed switches it to the shorter retry interval.
//   - Section 2.4.2, the remove hold-down: a revoked key is remembered for
//     RemoveHoldDown after its revocation was first seen, then forgotten.
//   - Section 4, the state table: each key is in one of the KeyStates
//     Start, AddPend, Valid, Missing, Revoked and Removed, and moves between
//     them on the events NewKey, AddTime, KeyRem (and its return, KeyPres),
//     RevBit and RemTime as section 4 lays out. Valid and Missing keys are
//     the trusted ones.
//   - Section 5, trust point deletion: when every trusted key has been
//     revoked, Trusted returns an empty Set; RFC 5011 then treats the zone
//     as if it had never been configured, which for the root means
//     insecure. Deleting the state file re-bootstraps from the configured
//     anchors.
//
// A Tracker starts from the zone's configured anchors. DS anchors (what
// IANA publishes for the root) only bootstrap: the first DNSKEY RRset that
// validates through them makes the keys they match Valid, and from then on
// the Tracker trusts DNSKEYs only. DNSKEY anchors are Valid from the start.
// Once a state file exists, it and not the configured anchors says what is
// trusted, as with Unbound's auto-trust-anchor-file and BIND's managed-keys
// database: the configured anchors may be years older than the state.
//
// # The state file
//
// The Tracker saves its keys after every change, atomically (a temporary
// file in the same directory, fsynced, then renamed over the old one), in
// JSON that an operator can read:
//
//	{
//	  "version": 1,
//	  "zone": ".",
//	  "saved": "2026-03-01T12:00:00Z",
//	  "keys": [
//	    {
//	      "tag": 20326,
//	      "state": "valid",
//	      "first_seen": "2026-01-05T08:00:00Z",
//	      "last_change": "2026-01-05T08:00:00Z",
//	      "dnskey": ". 172800 IN DNSKEY 257 3 8 AwEAA... (elided)"
//	    },
//	    {
//	      "tag": 38696,
//	      "state": "addpend",
//	      "first_seen": "2026-02-20T08:00:00Z",
//	      "last_change": "2026-02-20T08:00:00Z",
//	      "accept_at": "2026-03-22T08:00:00Z",
//	      "validated_by": [20326],
//	      "dnskey": ". 172800 IN DNSKEY 257 3 8 AwEAA... (elided)"
//	    }
//	  ]
//	}
//
// "tag" is the key tag of the DNSKEY as published (a revoked key's is that
// of its revoked form) and is there for people; "dnskey" is what counts.
// Unknown fields are ignored, so a later version may add some; a version
// higher than this package knows is refused. Keys whose remove hold-down
// has passed (Revoked to Removed) are dropped from the file, which is how
// RFC 5011 lets a resolver forget them. The times of the refresh timer are
// not saved: after a restart the zone's DNSKEY RRset is due at once.
package anchors
