package dnssec

import (
	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/canonical"
)

// nsecRec is one usable NSEC record: its owner and next names, fully
// qualified, and its type bitmap. A record whose next name is not a name
// of the zone (nextOK false) still shows that its owner exists, but covers
// nothing: it would otherwise cover names of other zones.
type nsecRec struct {
	owner, next string
	nextOK      bool
	types       []uint16
}

// nsecChain is the NSEC records of one proof that can belong to zone's
// chain.
type nsecChain struct {
	zone string
	recs []nsecRec
}

// newNSECChain keeps the records of nsec whose owner is a valid name in
// zone, or returns nil if none is.
func newNSECChain(zone string, nsec []*dns.NSEC) *nsecChain {
	var recs []nsecRec
	for _, n := range nsec {
		if n == nil {
			continue
		}
		owner, err := checkName("owner", n.Hdr.Name)
		if err != nil || !inZone(owner, zone) {
			continue
		}
		next, err := checkName("next", n.NextDomain)
		recs = append(recs, nsecRec{owner: owner, next: next, nextOK: err == nil && inZone(next, zone), types: n.TypeBitMap})
	}
	if len(recs) == 0 {
		return nil
	}
	return &nsecChain{zone: zone, recs: recs}
}

// at returns the records owned by name.
func (c *nsecChain) at(name string) []nsecRec {
	var out []nsecRec
	for _, r := range c.recs {
		if sameName(r.owner, name) {
			out = append(out, r)
		}
	}
	return out
}

// cover returns a record that proves name does not exist: name falls
// strictly between its owner and next name in canonical order, and its
// owner is not a zone cut or DNAME above name (cutAbove).
func (c *nsecChain) cover(name string) (nsecRec, bool) {
	for _, r := range c.recs {
		if r.nextOK && canonical.Covers(r.owner, r.next, name) && !r.cutAbove(name) {
			return r, true
		}
	}
	return nsecRec{}, false
}

// cutAbove reports whether r's owner is a proper ancestor of name where
// the zone ends: a delegation (NS without SOA) or a DNAME. The zone knows
// nothing of the names below, though they sort between r's owner and next
// name, so r must not deny them (RFC 6840 section 4.1, "ancestor
// delegation"; RFC 6672 section 5.3.4.1 for DNAME).
func (r nsecRec) cutAbove(name string) bool {
	if !below(name, r.owner) {
		return false
	}
	return (hasType(r.types, dns.TypeNS) && !hasType(r.types, dns.TypeSOA)) || hasType(r.types, dns.TypeDNAME)
}

// closestEncloser returns the closest encloser of name proven by r, which
// covers name: the deeper of the deepest ancestors name shares with r's
// owner and with r's next name (RFC 4035 section 5.4). Both exist, being
// ancestors of names that exist, and every ancestor of name below them
// sorts strictly between owner and next, so it does not exist.
func (r nsecRec) closestEncloser(name string) string {
	a, b := commonAncestor(name, r.owner), commonAncestor(name, r.next)
	if labelCount(a) >= labelCount(b) {
		return a
	}
	return b
}

// nameError proves that qname does not exist, nor the wildcard that
// could have answered for it (RFC 4035 section 5.4).
func (c *nsecChain) nameError(qname string) error {
	if len(c.at(qname)) > 0 {
		return fail(ReasonBogus, "an NSEC at %s shows that it exists", qname)
	}
	r, ok := c.cover(qname)
	if !ok {
		return fail(ReasonNSECMissing, "no NSEC covers %s", qname)
	}
	ce := r.closestEncloser(qname)
	if sameName(ce, qname) {
		// r's next name is below qname: qname is an empty non-terminal.
		return fail(ReasonBogus, "the NSEC at %s shows that %s has names below it, so it exists", r.owner, qname)
	}
	w := wildcardAt(ce)
	if len(c.at(w)) > 0 {
		return fail(ReasonBogus, "the wildcard %s exists, so %s should have been answered", w, qname)
	}
	if _, ok := c.cover(w); !ok {
		return fail(ReasonNSECMissing, "no NSEC covers the wildcard %s", w)
	}
	return nil
}

// noData proves that qname has no qtype: the NSEC at qname, an empty
// non-terminal, or a wildcard without qtype (RFC 4035 section 5.4).
func (c *nsecChain) noData(qname string, qtype uint16) error {
	if recs := c.at(qname); len(recs) > 0 {
		for _, r := range recs {
			if err := noDataBitmap(r.types, qtype, qname, c.zone); err != nil {
				return err
			}
		}
		return nil
	}
	r, ok := c.cover(qname)
	if !ok {
		return fail(ReasonNSECMissing, "no NSEC at or covering %s", qname)
	}
	if below(r.next, qname) {
		return nil // qname is an empty non-terminal: it has no records at all
	}
	w := wildcardAt(r.closestEncloser(qname))
	recs := c.at(w)
	if len(recs) == 0 {
		return fail(ReasonNSECMissing, "no NSEC at %s, nor at the wildcard %s", qname, w)
	}
	for _, r := range recs {
		if err := noDataBitmap(r.types, qtype, w, c.zone); err != nil {
			return err
		}
	}
	return nil
}

// wildcardAnswer proves that qname does not exist and that no name
// between it and ce, the wildcard's closest encloser, does (RFC 4035
// section 5.3.4).
func (c *nsecChain) wildcardAnswer(qname, ce string) error {
	if len(c.at(qname)) > 0 {
		return fail(ReasonBogus, "an NSEC at %s shows that it exists, so no wildcard answers for it", qname)
	}
	r, ok := c.cover(qname)
	if !ok {
		return fail(ReasonNSECMissing, "no NSEC covers %s, answered from a wildcard at %s", qname, ce)
	}
	if closer := r.closestEncloser(qname); labelCount(closer) > labelCount(ce) {
		return fail(ReasonBogus, "%s exists, so the wildcard at %s does not answer for %s", closer, ce, qname)
	}
	return nil
}

// insecureDelegation proves that the delegation at name has no DS (RFC
// 4035 section 5.2).
func (c *nsecChain) insecureDelegation(name string) error {
	recs := c.at(name)
	if len(recs) == 0 {
		if _, ok := c.cover(name); ok {
			return fail(ReasonBogus, "an NSEC shows that the delegation %s does not exist", name)
		}
		return fail(ReasonNSECMissing, "no NSEC at the delegation %s", name)
	}
	for _, r := range recs {
		if err := delegationBitmap(r.types, name); err != nil {
			return err
		}
	}
	return nil
}

// delegationBitmap checks that the bitmap of the NSEC or NSEC3 record at
// name shows an unsigned delegation seen from the parent: NS, no DS, no
// SOA (RFC 4035 section 5.2, RFC 6840 section 4.4).
func delegationBitmap(types []uint16, name string) error {
	switch {
	case hasType(types, dns.TypeDS):
		return fail(ReasonBogus, "the delegation %s has a DS RRset", name)
	case hasType(types, dns.TypeSOA):
		return fail(ReasonBogus, "the record at %s is from the child zone's apex, not its parent", name)
	case !hasType(types, dns.TypeNS):
		return fail(ReasonBogus, "%s is not a delegation (no NS)", name)
	}
	return nil
}
