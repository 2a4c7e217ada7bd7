package dnssec

import "github.com/miekg/dns"

// AlgorithmSupported reports whether rootwalk validates signatures of
// DNSKEY algorithm alg: the algorithms RFC 8624 section 3.1 says a
// validator MUST or is RECOMMENDED to validate, which are also those
// miekg/dns can verify. RSASHA1 (5), RSASHA1-NSEC3-SHA1 (7), RSASHA256 (8),
// RSASHA512 (10), ECDSAP256SHA256 (13), ECDSAP384SHA384 (14) and ED25519
// (15) are; RSAMD5 (1) and DSA (3, 6) MUST NOT be, ECC-GOST (12) need not
// be, ED448 (16) cannot be (miekg/dns has no verifier for it), and neither
// can unknown or private ones. Data signed only with those is insecure,
// not bogus.
func AlgorithmSupported(alg uint8) bool {
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512,
		dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519:
		return true
	}
	return false
}

// DigestSupported reports whether rootwalk computes DS digest type digest:
// SHA-1 (1, RFC 4034), SHA-256 (2, RFC 4509) and SHA-384 (4, RFC 6605),
// the ones RFC 8624 section 3.3 says a validator MUST or is RECOMMENDED to
// support. GOST R 34.11-94 (3) is not: RFC 8624 makes it MAY, and the Go
// standard library has no implementation.
func DigestSupported(digest uint8) bool {
	switch digest {
	case dns.SHA1, dns.SHA256, dns.SHA384:
		return true
	}
	return false
}

// strongDigest reports whether digest is a supported DS digest type that,
// when present in a DS RRset, makes a validator ignore the set's SHA-1
// digests (RFC 4509 section 3).
func strongDigest(digest uint8) bool {
	return digest == dns.SHA256 || digest == dns.SHA384
}

// usableKey reports whether k may verify signatures over RRsets of zone:
// a DNSSEC zone key (protocol 3, ZONE flag, RFC 4034 section 2.1.1) owned
// by the zone, not revoked (RFC 5011 section 2.1: a revoked key signs
// nothing but its own revocation), of a supported algorithm.
func usableKey(k *dns.DNSKEY, zone string) bool {
	return k != nil &&
		k.Protocol == 3 &&
		k.Flags&dns.ZONE != 0 &&
		k.Flags&dns.REVOKE == 0 &&
		AlgorithmSupported(k.Algorithm) &&
		sameName(k.Hdr.Name, zone)
}
