package dnssec

import (
	"strings"

	"github.com/miekg/dns"
)

// nsec3HashLen is the length of a SHA-1 NSEC3 hash in base32hex without
// padding (RFC 5155 section 3.3): 20 octets, 160 bits, 32 characters.
const nsec3HashLen = 32

// nsec3OptOut is the Opt-Out flag of an NSEC3 record (RFC 5155 section
// 3.1.2.1), the only flag defined.
const nsec3OptOut = 1

// nsec3Rec is one usable NSEC3 record: its owner's hash label and next
// hashed owner name, both upper-case base32hex, so that comparing them as
// strings orders them as the hashes they stand for. A record whose next
// hash is malformed (nextOK false) still shows that its owner exists, but
// covers nothing.
type nsec3Rec struct {
	owner, next string
	nextOK      bool
	optOut      bool
	types       []uint16
}

// covers reports whether hash falls strictly between r's owner and next
// hash; the last record of the chain wraps around to the first (RFC 5155
// section 8.3, "covers").
func (r nsec3Rec) covers(hash string) bool {
	if !r.nextOK {
		return false
	}
	if r.owner < r.next {
		return r.owner < hash && hash < r.next
	}
	return hash > r.owner || hash < r.next
}

// nsec3Chain is the NSEC3 records of one proof that can belong to zone's
// chain, all with the same parameters, and the hashes computed so far.
type nsec3Chain struct {
	zone   string
	iter   uint16
	salt   string
	recs   []nsec3Rec
	b      *Budget
	hashes map[string]string // lower-cased name -> hash
}

// newNSEC3Chain keeps the records of nsec3 that can belong to zone's
// chain (see the package documentation) and share the first
// such record's parameters. It returns nil when none can, and
// ReasonNSEC3Iterations when those parameters' iterations exceed
// MaxNSEC3Iterations: the zone is then insecure, and nothing is hashed.
func newNSEC3Chain(zone string, nsec3 []*dns.NSEC3, b *Budget) (*nsec3Chain, error) {
	var c *nsec3Chain
	for _, n := range nsec3 {
		if n == nil || n.Hash != dns.SHA1 || n.Flags&^nsec3OptOut != 0 {
			continue // RFC 5155 section 8.2: unknown hash or flags
		}
		owner, err := checkName("owner", n.Hdr.Name)
		if err != nil || labelCount(owner) != labelCount(zone)+1 || !sameName(parent(owner), zone) {
			continue
		}
		label := strings.ToUpper(firstLabel(owner))
		next := strings.ToUpper(n.NextDomain)
		if !validHash(label) {
			continue
		}
		if c == nil {
			if n.Iterations > MaxNSEC3Iterations {
				return nil, fail(ReasonNSEC3Iterations, "the NSEC3 records of %s use %d iterations, more than %d",
					zone, n.Iterations, MaxNSEC3Iterations)
			}
			c = &nsec3Chain{zone: zone, iter: n.Iterations, salt: n.Salt, b: b, hashes: make(map[string]string)}
		} else if n.Iterations != c.iter || !strings.EqualFold(n.Salt, c.salt) {
			continue
		}
		c.recs = append(c.recs, nsec3Rec{owner: label, next: next, nextOK: validHash(next), optOut: n.Flags&nsec3OptOut != 0, types: n.TypeBitMap})
	}
	return c, nil
}

// validHash reports whether s is an upper-case base32hex SHA-1 hash.
func validHash(s string) bool {
	if len(s) != nsec3HashLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'A' || c > 'V') {
			return false
		}
	}
	return true
}

// hash returns the NSEC3 hash of name, paying for it from the budget the
// first time name is hashed in this proof.
func (c *nsec3Chain) hash(name string) (string, error) {
	key := asciiLower(name)
	if h, ok := c.hashes[key]; ok {
		return h, nil
	}
	if !c.b.spendHash() {
		return "", fail(ReasonBudget, "NSEC3 hashes for this resolution used up at %s", name)
	}
	h := dns.HashName(name, dns.SHA1, c.iter, c.salt)
	if h == "" {
		return "", fail(ReasonBogus, "cannot NSEC3-hash %s with salt %q", name, c.salt)
	}
	c.hashes[key] = h
	return h, nil
}

// matching returns the records whose owner is hash.
func (c *nsec3Chain) matching(hash string) []nsec3Rec {
	var out []nsec3Rec
	for _, r := range c.recs {
		if r.owner == hash {
			out = append(out, r)
		}
	}
	return out
}

// covering returns the records that cover hash.
func (c *nsec3Chain) covering(hash string) []nsec3Rec {
	var out []nsec3Rec
	for _, r := range c.recs {
		if r.covers(hash) {
			out = append(out, r)
		}
	}
	return out
}

// allOptOut reports whether recs is not empty and every one has opt-out.
// Where opt-out lets a proof pass, a chain that contradicts itself gets no
// benefit of the doubt.
func allOptOut(recs []nsec3Rec) bool {
	for _, r := range recs {
		if !r.optOut {
			return false
		}
	}
	return len(recs) > 0
}

// anyOptOut reports whether one of recs has opt-out. Where opt-out makes a
// proof weaker (RFC 5155 section 9.2), one is enough.
func anyOptOut(recs []nsec3Rec) bool {
	for _, r := range recs {
		if r.optOut {
			return true
		}
	}
	return false
}

// closestEncloser finds the closest encloser proof for name (RFC 5155
// section 8.3): an ancestor ce of name that an NSEC3 matches, and the
// NSEC3 records that cover the next closer name nc, ce's child on the way
// to name. The caller has found that no NSEC3 matches name itself.
//
// RFC 5155 searches from name upwards, hashing every ancestor until one
// matches; a name of many labels then costs a hash per label
// (CVE-2023-50868). This search goes from the zone down and stops at the
// first covered name, so it hashes the closest encloser's depth below the
// zone plus one: for records of a consistent chain it finds the same proof,
// since an ancestor of a name that exists is never covered. Names that
// neither match nor are covered (their record was not sent) are passed
// over.
func (c *nsec3Chain) closestEncloser(name string) (ce, nc string, ncCover []nsec3Rec, err error) {
	zl, nl := labelCount(c.zone), labelCount(name)
	matched := -1 // depth of the deepest ancestor matched so far
	for d := zl; d <= nl; d++ {
		a := ancestor(name, d)
		h, err := c.hash(a)
		if err != nil {
			return "", "", nil, err
		}
		if ms := c.matching(h); len(ms) > 0 {
			if d == nl {
				return "", "", nil, fail(ReasonBogus, "an NSEC3 matches %s, so it exists", name)
			}
			for _, m := range ms {
				// RFC 5155 section 8.3: the zone ends at a delegation
				// or DNAME, and says nothing of the names below.
				if hasType(m.types, dns.TypeDNAME) || (hasType(m.types, dns.TypeNS) && !hasType(m.types, dns.TypeSOA)) {
					return "", "", nil, fail(ReasonBogus, "%s is a delegation or DNAME, so %s is not in zone %s", a, name, c.zone)
				}
			}
			matched = d
			continue
		}
		if cs := c.covering(h); len(cs) > 0 {
			if d == zl {
				// The apex exists; a chain whose span holds its hash
				// contradicts itself.
				return "", "", nil, fail(ReasonBogus, "an NSEC3 covers the apex %s", c.zone)
			}
			if matched != d-1 {
				return "", "", nil, fail(ReasonNSECMissing, "no NSEC3 matches %s, the closest encloser of %s", parent(a), name)
			}
			return parent(a), a, cs, nil
		}
	}
	return "", "", nil, fail(ReasonNSECMissing, "no NSEC3 covers a next closer name of %s", name)
}

// nameError proves that qname does not exist, nor the wildcard at its
// closest encloser (RFC 5155 section 8.4); optOut if the next closer name
// is in an opt-out span (section 9.2).
func (c *nsec3Chain) nameError(qname string) (optOut bool, err error) {
	h, err := c.hash(qname)
	if err != nil {
		return false, err
	}
	if len(c.matching(h)) > 0 {
		return false, fail(ReasonBogus, "an NSEC3 matches %s, so it exists", qname)
	}
	ce, _, ncCover, err := c.closestEncloser(qname)
	if err != nil {
		return false, err
	}
	w := wildcardAt(ce)
	if h, err = c.hash(w); err != nil {
		return false, err
	}
	if len(c.matching(h)) > 0 {
		return false, fail(ReasonBogus, "the wildcard %s exists, so %s should have been answered", w, qname)
	}
	if len(c.covering(h)) == 0 {
		return false, fail(ReasonNSECMissing, "no NSEC3 covers the wildcard %s", w)
	}
	return anyOptOut(ncCover), nil
}

// noData proves that qname has no qtype (RFC 5155 sections 8.5 to 8.7);
// optOut if the proof has the next closer name in an opt-out span
// (section 9.2).
func (c *nsec3Chain) noData(qname string, qtype uint16) (optOut bool, err error) {
	h, err := c.hash(qname)
	if err != nil {
		return false, err
	}
	if ms := c.matching(h); len(ms) > 0 {
		for _, m := range ms {
			if err := noDataBitmap(m.types, qtype, qname, c.zone); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	ce, _, ncCover, err := c.closestEncloser(qname)
	if err != nil {
		return false, err
	}
	if qtype == dns.TypeDS && allOptOut(ncCover) {
		return true, nil // section 8.6: an unsigned delegation in an opt-out span
	}
	w := wildcardAt(ce)
	if h, err = c.hash(w); err != nil {
		return false, err
	}
	ms := c.matching(h)
	if len(ms) == 0 {
		return false, fail(ReasonNSECMissing, "no NSEC3 matches %s, nor the wildcard %s", qname, w)
	}
	for _, m := range ms {
		if err := noDataBitmap(m.types, qtype, w, c.zone); err != nil {
			return false, err
		}
	}
	return anyOptOut(ncCover), nil
}

// wildcardAnswer proves that the next closer name of qname, below ce, the
// wildcard's closest encloser, does not exist (RFC 5155 section 8.8), nor
// qname; optOut if the next closer name is in an opt-out span (section
// 9.2).
func (c *nsec3Chain) wildcardAnswer(qname, ce string) (optOut bool, err error) {
	h, err := c.hash(qname)
	if err != nil {
		return false, err
	}
	if len(c.matching(h)) > 0 {
		return false, fail(ReasonBogus, "an NSEC3 matches %s, so no wildcard answers for it", qname)
	}
	nc := ancestor(qname, labelCount(ce)+1)
	if h, err = c.hash(nc); err != nil {
		return false, err
	}
	if len(c.matching(h)) > 0 {
		return false, fail(ReasonBogus, "%s exists, so the wildcard at %s does not answer for %s", nc, ce, qname)
	}
	cs := c.covering(h)
	if len(cs) == 0 {
		return false, fail(ReasonNSECMissing, "no NSEC3 covers %s, the next closer name of %s", nc, qname)
	}
	return anyOptOut(cs), nil
}

// insecureDelegation proves that the delegation at name has no DS: the
// NSEC3 at name, or an opt-out span over it (RFC 5155 sections 8.6 and
// 8.9). optOut says which.
func (c *nsec3Chain) insecureDelegation(name string) (optOut bool, err error) {
	h, err := c.hash(name)
	if err != nil {
		return false, err
	}
	if ms := c.matching(h); len(ms) > 0 {
		for _, m := range ms {
			if err := delegationBitmap(m.types, name); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	_, nc, ncCover, err := c.closestEncloser(name)
	if err != nil {
		return false, err
	}
	if !allOptOut(ncCover) {
		return false, fail(ReasonBogus, "%s does not exist and the NSEC3 covering %s has no opt-out", name, nc)
	}
	return true, nil
}
