package dnssec

import (
	"github.com/miekg/dns"
)

// The proofs of denial of existence. What they take, which records they
// ignore and how they fail is in the package documentation (doc.go).

// ProveNameError proves that qname does not exist in zone (NXDOMAIN).
//
// With NSEC (RFC 4035 section 5.4): an NSEC covers qname, and an NSEC
// covers the wildcard at the closest encloser, which is derived from the
// covering NSEC as the deepest ancestor qname shares with its owner or its
// next name. No NSEC may be at qname or at that wildcard.
//
// With NSEC3 (RFC 5155 section 8.4): a closest encloser proof (an NSEC3
// matches the closest encloser, one covers the next closer name) and an
// NSEC3 covering the wildcard at the closest encloser. Opt-out on the
// NSEC3 covering the next closer name is accepted, as section 8.4 allows,
// and reported as optOut (see the package documentation).
func ProveNameError(qname, zone string, nsec []*dns.NSEC, nsec3 []*dns.NSEC3, b *Budget) (optOut bool, err error) {
	qname, zone, err = checkQuestion(qname, zone)
	if err != nil {
		return false, err
	}
	return prove(zone, nsec, nsec3, b,
		func(c *nsecChain) error { return c.nameError(qname) },
		func(c *nsec3Chain) (bool, error) { return c.nameError(qname) })
}

// ProveNoData proves that qname exists in zone but has no RRset of type
// qtype, nor a CNAME (NODATA).
//
// With NSEC (RFC 4035 section 5.4, RFC 6840 section 4): an NSEC at qname
// whose bitmap lacks qtype and CNAME; for qtype DS it must come from the
// parent side (no SOA in the bitmap, unless qname is the root), and for
// other types it must not be the parent side of a delegation (NS without
// SOA), since a parent is authoritative for nothing at a cut but the DS
// and NSEC records. Or an empty non-terminal: an NSEC covers qname and
// its next name is below qname. Or a wildcard NODATA: an NSEC covers
// qname, and the NSEC at the wildcard of the closest encloser lacks qtype
// and CNAME.
//
// With NSEC3 (RFC 5155 sections 8.5 to 8.7): an NSEC3 matches qname and
// its bitmap lacks qtype and CNAME, under the same zone-cut rules (this
// covers empty non-terminals, whose NSEC3 bitmaps are empty); for DS also
// a closest encloser proof whose next-closer NSEC3 has opt-out (the DS
// would be at an unsigned delegation); or a wildcard NODATA: a closest
// encloser proof and an NSEC3 matching the wildcard that lacks qtype and
// CNAME. optOut is true for the opt-out DS proof, and for a wildcard
// NODATA whose next closer name is in an opt-out span.
func ProveNoData(qname string, qtype uint16, zone string, nsec []*dns.NSEC, nsec3 []*dns.NSEC3, b *Budget) (optOut bool, err error) {
	qname, zone, err = checkQuestion(qname, zone)
	if err != nil {
		return false, err
	}
	return prove(zone, nsec, nsec3, b,
		func(c *nsecChain) error { return c.noData(qname, qtype) },
		func(c *nsec3Chain) (bool, error) { return c.noData(qname, qtype) })
}

// ProveWildcardAnswer proves that qname, whose answer VerifyRRset found
// expanded from wildcard, does not itself exist, nor any name between it
// and the wildcard's closest encloser, so the expansion was right.
//
// With NSEC (RFC 4035 section 5.3.4): an NSEC covers qname, and the
// closest encloser it implies is the wildcard's or above it. With NSEC3
// (RFC 5155 section 8.8): an NSEC3 covers the next closer name, the
// ancestor of qname one label below the wildcard's closest encloser;
// optOut if that NSEC3 has opt-out. No NSEC or NSEC3 may be at qname.
func ProveWildcardAnswer(qname, wildcard, zone string, nsec []*dns.NSEC, nsec3 []*dns.NSEC3, b *Budget) (optOut bool, err error) {
	qname, zone, err = checkQuestion(qname, zone)
	if err != nil {
		return false, err
	}
	wildcard, err = checkName("wildcard", wildcard)
	if err != nil {
		return false, err
	}
	if !isWildcard(wildcard) || !inZone(wildcard, zone) {
		return false, fail(ReasonBogus, "%s is not a wildcard in zone %s", wildcard, zone)
	}
	ce := parent(wildcard)
	if !below(qname, ce) || sameName(qname, wildcard) {
		return false, fail(ReasonBogus, "%s cannot be expanded from %s", qname, wildcard)
	}
	return prove(zone, nsec, nsec3, b,
		func(c *nsecChain) error { return c.wildcardAnswer(qname, ce) },
		func(c *nsec3Chain) (bool, error) { return c.wildcardAnswer(qname, ce) })
}

// ProveInsecureDelegation proves that the delegation from zone to its
// descendant name has no DS RRset, so that name's zone is unsigned.
//
// With NSEC (RFC 4035 section 5.2): the NSEC at name has NS, and neither
// DS nor SOA (which would make it the child's apex NSEC). With NSEC3 (RFC
// 5155 sections 8.6 and 8.9): the NSEC3 matching name has NS and neither
// DS nor SOA; or, when none matches, a closest encloser proof whose NSEC3
// covering the next closer name has opt-out, in which case optOut is true:
// the delegation itself is then unproven, only as trustworthy as an
// unsigned referral.
func ProveInsecureDelegation(name, zone string, nsec []*dns.NSEC, nsec3 []*dns.NSEC3, b *Budget) (optOut bool, err error) {
	name, zone, err = checkQuestion(name, zone)
	if err != nil {
		return false, err
	}
	if !below(name, zone) {
		return false, fail(ReasonBogus, "%s is not below zone %s, so it is no delegation from it", name, zone)
	}
	return prove(zone, nsec, nsec3, b,
		func(c *nsecChain) error { return c.insecureDelegation(name) },
		func(c *nsec3Chain) (bool, error) { return c.insecureDelegation(name) })
}

// checkQuestion checks and qualifies a name and its zone.
func checkQuestion(name, zone string) (string, string, error) {
	name, err := checkName("name", name)
	if err != nil {
		return "", "", err
	}
	if zone, err = checkName("zone", zone); err != nil {
		return "", "", err
	}
	if !inZone(name, zone) {
		return "", "", fail(ReasonBogus, "%s is not in zone %s", name, zone)
	}
	return name, zone, nil
}

// prove runs a proof with the usable NSEC records, then, if there are
// none or it fails, with the NSEC3 records; only NSEC3 has opt-out.
func prove(zone string, nsec []*dns.NSEC, nsec3 []*dns.NSEC3, b *Budget,
	withNSEC func(*nsecChain) error, withNSEC3 func(*nsec3Chain) (bool, error)) (optOut bool, err error) {
	if c := newNSECChain(zone, nsec); c != nil {
		if err = withNSEC(c); err == nil {
			return false, nil
		}
	}
	c3, err3 := newNSEC3Chain(zone, nsec3, b)
	switch {
	case err3 != nil:
		return false, err3
	case c3 != nil:
		optOut, err = withNSEC3(c3)
		if err != nil {
			return false, err
		}
		return optOut, nil
	case err != nil:
		return false, err
	}
	return false, fail(ReasonNSECMissing, "no NSEC or NSEC3 records of zone %s", zone)
}

// noDataBitmap checks that the bitmap of the NSEC or NSEC3 record at owner
// denies qtype there: it lacks qtype (RFC 4035 section 5.4) and CNAME (RFC
// 6840 section 4.3), and the record is from the side of a zone cut that
// is authoritative for qtype: the parent for DS (RFC 4035 section
// 3.1.4.1), the child for everything else, the parent's record at a cut
// listing only the NS, DS and NSEC RRsets it holds there (RFC 4034
// section 4.1.2). zone is the signer.
func noDataBitmap(types []uint16, qtype uint16, owner, zone string) error {
	name := dns.TypeToString[qtype]
	switch {
	case hasType(types, qtype):
		return fail(ReasonBogus, "%s has type %s", owner, name)
	case hasType(types, dns.TypeCNAME):
		return fail(ReasonBogus, "%s has a CNAME", owner)
	case qtype == dns.TypeDS && hasType(types, dns.TypeSOA) && owner != ".":
		// The child's apex record: only the parent can deny a DS.
		return fail(ReasonBogus, "the denial of DS at %s comes from the child zone's apex", owner)
	case qtype != dns.TypeDS && hasType(types, dns.TypeNS) && !hasType(types, dns.TypeSOA) && !sameName(owner, zone):
		// The parent's record at a delegation: it is authoritative for
		// nothing there but DS (and the NSEC itself).
		return fail(ReasonBogus, "%s is a delegation from %s, which cannot deny %s there", owner, zone, name)
	}
	return nil
}
