package dnssec

import (
	"math"
	"time"

	"github.com/miekg/dns"
)

// Verified is what a successful VerifyRRset learned besides that the
// RRset holds.
type Verified struct {
	// Wildcard is the wildcard owner name ("*.closest.encloser.", lower
	// case) the RRset was expanded from, or "" if it was not expanded. A
	// wildcard answer is secure only with ProveWildcardAnswer's proof that
	// the name asked for does not exist (RFC 4035 section 5.3.4).
	Wildcard string
	// TTL is the longest the RRset may be cached (RFC 4035 section
	// 5.3.3): the least of the records' TTLs, the signature's Original
	// TTL, and the seconds left until the signature expires.
	TTL uint32
}

// VerifyRRset checks that rrset (one RRset: every record of the same
// owner, type and class) is signed by one of sigs with one of keys, the
// trusted DNSKEYs of zone, at time now. It implements RFC 4035 section
// 5.3: sigs that do not cover rrset (another owner, type or class) are
// ignored; of the others, a signature counts only if its Signer's Name is
// zone, which must be rrset's owner or an ancestor of it, if its Labels
// field is no more than the owner's label count (and no fewer than the
// zone's: a wildcard cannot be above the apex), and if now is inside its
// validity period, compared as RFC 4034 section 3.1.5 says, by serial
// number arithmetic. No allowance is made for clock skew: the caller
// chooses now. A key counts only if it is a zone key of zone that is not
// revoked and has a supported algorithm (usableKey).
//
// Only signatures whose key tag and algorithm match a key are verified,
// each against each such key until one holds; every verification is paid
// for from b, and VerifyRRset stops with ReasonBudget when b is spent
// (KeyTrap). Signatures of unsupported algorithms are skipped (RFC 6840
// section 5.4).
//
// On failure the error is an *Error with the first of these reasons that
// applies: ReasonRRSIGsMissing if no signature covers rrset; ReasonBogus if
// a verification failed; ReasonSignatureExpired or
// ReasonSignatureNotYetValid if a signature by a trusted key was outside
// its validity period (expired if any had expired); ReasonBogus if a
// signature broke the rules above; ReasonDNSKEYMissing when no signature
// was made by a trusted key (a revoked key is not one). ReasonBudget stops
// it at once.
func VerifyRRset(rrset []dns.RR, sigs []*dns.RRSIG, keys []*dns.DNSKEY, zone string, now time.Time, b *Budget) (Verified, error) {
	zone, err := checkName("zone", zone)
	if err != nil {
		return Verified{}, err
	}
	h, err := checkRRset(rrset)
	if err != nil {
		return Verified{}, err
	}
	owner := dns.Fqdn(h.Name)
	if !inZone(owner, zone) {
		return Verified{}, fail(ReasonBogus, "%s is not in zone %s", owner, zone)
	}
	what := owner + "/" + dns.TypeToString[h.Rrtype]

	type taggedKey struct {
		key *dns.DNSKEY
		tag uint16
	}
	usable := make([]taggedKey, 0, len(keys))
	for _, k := range keys {
		if usableKey(k, zone) {
			usable = append(usable, taggedKey{k, k.KeyTag()})
		}
	}

	var (
		covering         int    // signatures over rrset
		expired, notYet  int    // of those by trusted keys, outside their period
		badSig, badCrypt *Error // the first rule broken, the first failed verification
	)
	for _, sig := range sigs {
		if sig == nil || sig.TypeCovered != h.Rrtype || sig.Hdr.Class != h.Class || !sameName(sig.Hdr.Name, owner) {
			continue
		}
		covering++
		if err := checkSig(sig, owner, zone); err != nil {
			if badSig == nil {
				badSig = err
			}
			continue
		}
		if !AlgorithmSupported(sig.Algorithm) {
			continue
		}
		var cands []*dns.DNSKEY
		for _, k := range usable {
			if k.tag == sig.KeyTag && k.key.Algorithm == sig.Algorithm {
				cands = append(cands, k.key)
			}
		}
		if len(cands) == 0 {
			continue
		}
		left, st := validity(sig, now)
		switch st {
		case sigExpired:
			expired++
			continue
		case sigNotYetValid:
			notYet++
			continue
		}
		for _, k := range cands {
			var key [32]byte
			if b != nil && b.cache != nil {
				key = sigKey(sig, k, rrset)
				if b.cache.has(key) {
					return Verified{Wildcard: expandedFrom(owner, sig.Labels), TTL: cacheTTL(rrset, sig, left)}, nil
				}
			}
			if !b.spendSignature() {
				return Verified{}, fail(ReasonBudget, "signature verifications for this resolution used up at %s", what)
			}
			if err := sig.Verify(k, rrset); err != nil {
				if badCrypt == nil {
					badCrypt = fail(ReasonBogus, "RRSIG over %s by key %d (%s) does not verify: %v",
						what, sig.KeyTag, dns.AlgorithmToString[sig.Algorithm], err)
				}
				continue
			}
			if b.cache != nil {
				b.cache.add(key)
			}
			return Verified{Wildcard: expandedFrom(owner, sig.Labels), TTL: cacheTTL(rrset, sig, left)}, nil
		}
	}
	switch {
	case covering == 0:
		return Verified{}, fail(ReasonRRSIGsMissing, "no RRSIG over %s", what)
	case badCrypt != nil:
		return Verified{}, badCrypt
	case expired > 0:
		return Verified{}, fail(ReasonSignatureExpired, "every RRSIG over %s by a trusted key has expired", what)
	case notYet > 0:
		return Verified{}, fail(ReasonSignatureNotYetValid, "no RRSIG over %s by a trusted key is valid yet", what)
	case badSig != nil:
		return Verified{}, badSig
	}
	return Verified{}, fail(ReasonDNSKEYMissing, "no trusted DNSKEY of %s made an RRSIG over %s", zone, what)
}

// checkRRset checks that rrset is one non-empty RRset that may be signed
// and returns the header its records share.
func checkRRset(rrset []dns.RR) (*dns.RR_Header, error) {
	if len(rrset) == 0 || rrset[0] == nil {
		return nil, fail(ReasonBogus, "empty RRset")
	}
	h := rrset[0].Header()
	if _, err := checkName("owner", h.Name); err != nil {
		return nil, err
	}
	if h.Rrtype == dns.TypeRRSIG {
		return nil, fail(ReasonBogus, "an RRSIG RRset is not signed")
	}
	for _, rr := range rrset[1:] {
		if rr == nil {
			return nil, fail(ReasonBogus, "nil record in RRset %s", h.Name)
		}
		if x := rr.Header(); x.Rrtype != h.Rrtype || x.Class != h.Class || !sameName(x.Name, h.Name) {
			return nil, fail(ReasonBogus, "records of different RRsets (%s, %s) given as one", h.Name, x.Name)
		}
	}
	return h, nil
}

// checkSig applies the rules of RFC 4035 section 5.3.1 that do not need a
// key or a clock to a signature over an RRset of owner, for zone.
func checkSig(sig *dns.RRSIG, owner, zone string) *Error {
	if _, ok := dns.IsDomainName(sig.SignerName); !ok || !sameName(sig.SignerName, zone) {
		return fail(ReasonBogus, "RRSIG over %s has signer %s, not the zone %s", owner, sig.SignerName, zone)
	}
	if n := labelCount(owner); int(sig.Labels) > n {
		return fail(ReasonBogus, "RRSIG over %s has Labels %d, more than the owner's %d", owner, sig.Labels, n)
	}
	if n := labelCount(zone); int(sig.Labels) < n {
		return fail(ReasonBogus, "RRSIG over %s has Labels %d, a wildcard above the zone %s", owner, sig.Labels, zone)
	}
	return nil
}

// sigState says where now is relative to a signature's validity period.
type sigState uint8

const (
	sigValid sigState = iota
	sigExpired
	sigNotYetValid
)

// validity places now in sig's validity period and returns the seconds
// left until it expires. RFC 4034 section 3.1.5: the 32-bit times are
// compared with serial number arithmetic (RFC 1982), so they wrap in 2106
// without harm.
func validity(sig *dns.RRSIG, now time.Time) (int64, sigState) {
	t := uint32(now.Unix())
	if int32(t-sig.Inception) < 0 {
		return 0, sigNotYetValid
	}
	left := int32(sig.Expiration - t)
	if left < 0 {
		return 0, sigExpired
	}
	return int64(left), sigValid
}

// cacheTTL returns the TTL of RFC 4035 section 5.3.3 for rrset verified by
// sig, which expires in left seconds.
func cacheTTL(rrset []dns.RR, sig *dns.RRSIG, left int64) uint32 {
	ttl := int64(sig.OrigTtl)
	for _, rr := range rrset {
		ttl = min(ttl, int64(rr.Header().Ttl))
	}
	return uint32(min(ttl, left, math.MaxUint32))
}

// expandedFrom returns the wildcard that an RRset owned by owner and
// signed with Labels labels was expanded from, or "". The Labels field
// does not count a leading asterisk (RFC 4034 section 3.1.3), so a
// literal wildcard owner with one label more than Labels is the wildcard
// itself, not an expansion.
func expandedFrom(owner string, labels uint8) string {
	n := labelCount(owner)
	if int(labels) >= n || (isWildcard(owner) && int(labels) == n-1) {
		return ""
	}
	return asciiLower(wildcardAt(ancestor(owner, int(labels))))
}
