package dnssec

import "sync/atomic"

// Work limits. A validator that tries every combination the RFCs allow can
// be made to spend seconds of CPU on one reply: many DNSKEYs sharing a key
// tag times many RRSIGs (KeyTrap, CVE-2023-50387), or a long QNAME whose
// every ancestor must be NSEC3-hashed with many iterations (CVE-2023-50868).
// The resolvers patched in February 2024 bound that work, and so does
// rootwalk, with a Budget per resolution.
const (
	// MaxSignatureValidations is the default number of RRSIG verifications
	// (calls to (*dns.RRSIG).Verify) one resolution may make, successful
	// or not.
	//
	// What the others chose: BIND 9.20 allows 16 per fetch
	// (max-validations-per-fetch) and one failure (max-validation-
	// failures-per-fetch); Knot Resolver 32 per sub-query
	// (KR_VLD_LIMIT_CRYPTO_DEFAULT); PowerDNS Recursor 30 per client query
	// (max-signature-validations-per-query); Unbound 8 per RRset
	// (MAX_VALIDATE_RRSIGS) and 8 at a time before it suspends the query,
	// at most 16 times (MAX_VALIDATE_AT_ONCE, MAX_VALIDATION_SUSPENDS).
	//
	// rootwalk's budget covers a whole resolution, every zone cut and
	// CNAME hop, as PowerDNS's does, not one fetch as BIND's and Knot's
	// do, so it is PowerDNS's size rather than BIND's 16: a cold chain
	// such as a name behind a CNAME into another TLD and an unsigned CDN
	// zone needs a dozen or more verifications when nothing fails (one
	// per DS and DNSKEY RRset of each cut, one per answer RRset, one per
	// NSEC3 record of each insecure-delegation proof). Measured with
	// miekg/dns on the machine these tests were written on, 32 of them
	// cost about 2.5 ms of CPU with P-256 keys and 20 ms with P-384, the
	// slowest (0.65 ms each; RSA-4096 0.3 ms), against the seconds per
	// reply KeyTrap showed without a limit.
	MaxSignatureValidations = 32

	// MaxNSEC3Hashes is the default number of distinct names one
	// resolution may NSEC3-hash. rootwalk's closest-encloser search hashes
	// from the zone down (nsec3.go), so a proof costs one hash per name
	// from the apex down to the closest encloser, plus the next closer
	// name, QNAME and the wildcard, whatever the length of QNAME: four
	// for a name right below the apex. 32 covers several such proofs in
	// one resolution. Each hash is at most MaxNSEC3Iterations+1 SHA-1
	// rounds (13 us), so the budget bounds the hashing at about 0.4 ms.
	// (Unbound hashes 8 names at a time before suspending the query,
	// MAX_NSEC3_CALCULATIONS; PowerDNS allows 600 SHA-1 computations per
	// query, iterations counted, max-nsec3-hash-computations-per-query;
	// Knot Resolver skips the hashing of labels beyond a depth of 128
	// divided by the cost of the parameters.)
	MaxNSEC3Hashes = 32

	// MaxNSEC3Iterations is the highest NSEC3 iteration count rootwalk
	// will hash with. A zone using more is treated as insecure
	// (ReasonNSEC3Iterations, EDE 27), as RFC 9276 section 3.2 allows and
	// as Unbound and BIND do at this same value (Knot Resolver has gone
	// down to 50). RFC 9276 asks zones for 0 iterations.
	MaxNSEC3Iterations = 150
)

// Budget bounds the validation work of one resolution: signature
// verifications and NSEC3 hashes. Every function of this package that does
// such work takes the budget and fails with ReasonBudget once it is spent;
// a spent budget stays spent. It is safe for concurrent use, so parallel
// sub-resolutions may share their parent's budget.
//
// The zero Budget, like a nil *Budget, allows no work at all (failing
// closed); use NewBudget.
type Budget struct {
	maxSigs, maxHashes int64
	sigs, hashes       atomic.Int64 // spent, including refused attempts
	cache              *SigCache    // verified signatures, shared; nil: none
}

// NewBudget returns a budget of maxSignatures signature verifications and
// maxHashes NSEC3 name hashes; the resolver normally passes
// MaxSignatureValidations and MaxNSEC3Hashes. A limit of zero or less
// allows none.
func NewBudget(maxSignatures, maxHashes int) *Budget {
	return &Budget{maxSigs: int64(maxSignatures), maxHashes: int64(maxHashes)}
}

// WithCache has the budget's verifications consult and fill c, a cache
// shared by every resolution, and returns b.
func (b *Budget) WithCache(c *SigCache) *Budget {
	b.cache = c
	return b
}

// SignaturesUsed returns how many signature verifications the budget has
// paid for.
func (b *Budget) SignaturesUsed() int {
	if b == nil {
		return 0
	}
	return int(min(b.sigs.Load(), max(b.maxSigs, 0)))
}

// HashesUsed returns how many NSEC3 name hashes the budget has paid for.
func (b *Budget) HashesUsed() int {
	if b == nil {
		return 0
	}
	return int(min(b.hashes.Load(), max(b.maxHashes, 0)))
}

// spendSignature takes one signature verification from b and reports
// whether it was there to take.
func (b *Budget) spendSignature() bool {
	return b != nil && b.sigs.Add(1) <= b.maxSigs
}

// spendHash takes one NSEC3 name hash from b and reports whether it was
// there to take.
func (b *Budget) spendHash() bool {
	return b != nil && b.hashes.Add(1) <= b.maxHashes
}
