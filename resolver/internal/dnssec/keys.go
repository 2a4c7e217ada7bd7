package dnssec

import (
	"bytes"
	"encoding/base64"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// TrustedKeys returns the DNSKEYs of zone that can be trusted, and the
// Verified of their RRset (its TTL; Wildcard is always ""). It implements
// RFC 4035 section 5.2: dnskeys, zone's DNSKEY RRset as received, must be
// signed (sigs) by a key that a DS record in ds authenticates, or that is
// one of the trust anchors anchorKeys; the RRSIG is checked as VerifyRRset
// checks any, paid for from b. ds holds the DS RRset validated at the
// parent or the DS-form trust anchors for zone (the two are used alike);
// a DNSKEY is in anchorKeys only if it is configured as a trust anchor.
//
// Only DS records and anchors of zone with a supported algorithm
// (AlgorithmSupported) count, and DS records only with a supported digest
// (DigestSupported); when the DS RRset has a SHA-256 or SHA-384 digest for
// a supported algorithm, its SHA-1 digests are ignored (RFC 4509 section
// 3), so that a key cannot be authenticated through SHA-1 alone. A DS or
// anchor matches only a zone key that is not revoked (RFC 5011 section
// 2.1): a revoked key changes its flags, and so its key tag and digest.
//
// When no DS or anchor counts but some were given, the zone is insecure:
// the error's Reason is ReasonUnsupportedAlgorithm, or
// ReasonUnsupportedDigest if some had a supported algorithm (RFC 4035
// section 5.2, RFC 6840 section 5.2). When some count but match no key of
// the RRset, it is ReasonDNSKEYMissing; when a key matches but did not
// sign the RRset, ReasonBogus.
//
// The keys returned are every DNSKEY of the RRset that can verify
// signatures (usableKey: zone key, not revoked, supported algorithm); the
// caller caches them for the Verified TTL (capped by the DS RRset's own
// TTL, which is the caller's to know) and passes them to VerifyRRset for
// the zone's other RRsets.
func TrustedKeys(zone string, dnskeys []dns.RR, sigs []*dns.RRSIG, ds []*dns.DS, anchorKeys []*dns.DNSKEY, now time.Time, b *Budget) ([]*dns.DNSKEY, Verified, error) {
	zone, err := checkName("zone", zone)
	if err != nil {
		return nil, Verified{}, err
	}
	points, err := trustPoints(zone, ds, anchorKeys)
	if err != nil {
		return nil, Verified{}, err
	}
	if len(dnskeys) == 0 {
		return nil, Verified{}, fail(ReasonDNSKEYMissing, "no DNSKEY RRset for %s", zone)
	}

	keys := make([]*dns.DNSKEY, 0, len(dnskeys))
	for _, rr := range dnskeys {
		k, ok := rr.(*dns.DNSKEY)
		if !ok || !sameName(k.Hdr.Name, zone) {
			return nil, Verified{}, fail(ReasonBogus, "the DNSKEY RRset of %s holds another record: %v", zone, rr)
		}
		keys = append(keys, k)
	}

	var entry []*dns.DNSKEY // the keys a DS or anchor authenticates
	for _, k := range keys {
		if usableKey(k, zone) && points.match(k) {
			entry = append(entry, k)
		}
	}
	if len(entry) == 0 {
		return nil, Verified{}, fail(ReasonDNSKEYMissing, "no DNSKEY of %s matches its DS records or trust anchors", zone)
	}

	v, err := VerifyRRset(dnskeys, sigs, entry, zone, now, b)
	if err != nil {
		if r, _ := ReasonOf(err); r == ReasonDNSKEYMissing {
			// The key is there; it just did not sign its own RRset.
			return nil, Verified{}, fail(ReasonBogus, "the DNSKEY RRset of %s is not signed by a key its DS records or trust anchors authenticate", zone)
		}
		return nil, Verified{}, err
	}
	if v.Wildcard != "" { // unreachable: checkSig refuses a wildcard at or above the apex
		return nil, Verified{}, fail(ReasonBogus, "the DNSKEY RRset of %s is signed as a wildcard expansion", zone)
	}

	trusted := make([]*dns.DNSKEY, 0, len(keys))
	for _, k := range keys {
		if usableKey(k, zone) {
			trusted = append(trusted, k)
		}
	}
	return trusted, v, nil
}

// trustPointSet holds what may authenticate a zone's DNSKEYs: DS records
// and anchor keys, already filtered to those rootwalk can use.
type trustPointSet struct {
	ds      []*dns.DS
	anchors []*dns.DNSKEY
}

// trustPoints filters ds and anchors to those of zone that rootwalk can
// use. It fails when none is left: insecure if some were given but none
// could be used, bogus if none were given at all (the caller should have
// proven the delegation insecure instead of asking for keys).
func trustPoints(zone string, ds []*dns.DS, anchors []*dns.DNSKEY) (trustPointSet, error) {
	var (
		set                    trustPointSet
		given, supportedAlg    bool
		strong                 bool // a SHA-256/384 DS of a supported algorithm is present
		candidates             []*dns.DS
		revokedOrNotZoneAnchor bool
	)
	for _, d := range ds {
		if d == nil || !sameName(d.Hdr.Name, zone) {
			continue
		}
		given = true
		if !AlgorithmSupported(d.Algorithm) {
			continue
		}
		supportedAlg = true
		if !DigestSupported(d.DigestType) {
			continue
		}
		strong = strong || strongDigest(d.DigestType)
		candidates = append(candidates, d)
	}
	for _, d := range candidates {
		if strong && d.DigestType == dns.SHA1 {
			continue // RFC 4509 section 3
		}
		set.ds = append(set.ds, d)
	}
	for _, k := range anchors {
		if k == nil || !sameName(k.Hdr.Name, zone) {
			continue
		}
		given = true
		if !AlgorithmSupported(k.Algorithm) {
			continue
		}
		supportedAlg = true
		if !usableKey(k, zone) {
			revokedOrNotZoneAnchor = true
			continue
		}
		set.anchors = append(set.anchors, k)
	}
	switch {
	case len(set.ds) > 0 || len(set.anchors) > 0:
		return set, nil
	case !given:
		return set, fail(ReasonBogus, "no DS record or trust anchor for %s", zone)
	case revokedOrNotZoneAnchor:
		return set, fail(ReasonDNSKEYMissing, "the trust anchors for %s are revoked or not zone keys", zone)
	case supportedAlg:
		return set, fail(ReasonUnsupportedDigest, "every DS record of %s has an unsupported digest type", zone)
	}
	return set, fail(ReasonUnsupportedAlgorithm, "every DS record or trust anchor of %s has an unsupported algorithm", zone)
}

// match reports whether k is authenticated by one of the DS records (same
// key tag, algorithm and digest: RFC 4035 section 5.2) or is one of the
// anchors (same flags, protocol, algorithm and public key).
func (s trustPointSet) match(k *dns.DNSKEY) bool {
	for _, a := range s.anchors {
		if a.Flags == k.Flags && a.Protocol == k.Protocol && a.Algorithm == k.Algorithm && samePublicKey(a.PublicKey, k.PublicKey) {
			return true
		}
	}
	if len(s.ds) == 0 {
		return false
	}
	tag := k.KeyTag()
	var digests [8]string // computed lazily, by digest type; a key needs at most three
	for _, d := range s.ds {
		if d.KeyTag != tag || d.Algorithm != k.Algorithm {
			continue
		}
		if digests[d.DigestType] == "" {
			kd := k.ToDS(d.DigestType)
			if kd == nil {
				continue
			}
			digests[d.DigestType] = kd.Digest
		}
		if strings.EqualFold(digests[d.DigestType], d.Digest) {
			return true
		}
	}
	return false
}

// samePublicKey compares two base64 public keys as the bytes they encode,
// so that the same key written with different padding or line breaks in a
// configuration file still matches.
func samePublicKey(a, b string) bool {
	if a == b {
		return true
	}
	da, err1 := base64.StdEncoding.DecodeString(stripSpace(a))
	db, err2 := base64.StdEncoding.DecodeString(stripSpace(b))
	return err1 == nil && err2 == nil && bytes.Equal(da, db)
}

// stripSpace removes the white space that may split a base64 key.
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
}
