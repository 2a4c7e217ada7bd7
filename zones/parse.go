package zones

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Reasons Parse rejects a zone; wrapped with the file, owner and type.
var (
	errNoOrigin     = errors.New("no valid origin")
	errNoSOA        = errors.New("no SOA record at the origin")
	errManySOA      = errors.New("more than one SOA record at the origin")
	errSOANotApex   = errors.New("SOA record below the origin")
	errNoNS         = errors.New("no NS records at the origin")
	errOutOfZone    = errors.New("record outside the zone")
	errBadClass     = errors.New("class other than IN")
	errMetaType     = errors.New("meta type or pseudo-record not allowed in a zone")
	errNoRDATA      = errors.New("record without RDATA (allowed only in UPDATE, RFC 2136 section 2.5)")
	errCNAMEAndData = errors.New("CNAME beside other data (RFC 1034 section 3.6.2, RFC 2181 section 10.1)")
	errManyCNAME    = errors.New("more than one CNAME record at one name")
	errManyDNAME    = errors.New("more than one DNAME record at one name (RFC 6672 section 2.4)")
)

// Parse reads a master file (RFC 1035 section 5) for the zone at origin.
// filename is used in error messages only; $INCLUDE is not allowed. Syntax
// errors keep the file and line of miekg/dns's parser; the zone is then
// checked: it needs an SOA and NS records at the origin, every record must
// be of class IN and at or below the origin, and a CNAME must be alone at
// its name (RRSIG and NSEC aside). Duplicate records are dropped, and an
// RRset whose TTLs differ takes the lowest (RFC 2181 section 5.2).
func Parse(r io.Reader, origin, filename string) (*Zone, error) {
	canon := canonicalName(origin)
	if _, ok := dns.IsDomainName(canon); origin == "" || !ok {
		return nil, fmt.Errorf("parse zone %q from %s: %w", origin, filename, errNoOrigin)
	}
	b := newBuilder(canon, filename)
	zp := dns.NewZoneParser(r, canon, filename)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if err := b.add(rr); err != nil {
			return nil, fmt.Errorf("parse zone %s: %w", canon, err)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("parse zone %s: %w", canon, err)
	}
	if err := b.finish(); err != nil {
		return nil, fmt.Errorf("parse zone %s: %w", canon, err)
	}
	return b.zone, nil
}

// builder collects records into a Zone and checks them.
type builder struct {
	zone *Zone
	// seen buckets the records added so far by a case-folded key, so
	// spotting a duplicate costs a map look-up and not a scan of the whole
	// RRset: $GENERATE can put 65536 records in one RRset.
	seen map[string][]dns.RR
}

// newBuilder starts an empty zone at origin, canonical, read from file.
func newBuilder(origin, file string) *builder {
	return &builder{seen: make(map[string][]dns.RR), zone: &Zone{
		origin: origin,
		file:   file,
		labels: dns.CountLabel(origin),
		nodes:  make(map[string]*node),
		ents:   make(map[string]struct{}),
	}}
}

// add stores one record from the parser, after the per-record checks.
func (b *builder) add(rr dns.RR) error {
	z := b.zone
	h := rr.Header()
	h.Name = canonicalName(h.Name)
	where := func(err error) error {
		return fmt.Errorf("%s: %s %s: %w", z.file, h.Name, dns.Type(h.Rrtype), err)
	}
	switch {
	case h.Class != dns.ClassINET:
		return where(errBadClass)
	case isMetaType(h.Rrtype):
		return where(errMetaType)
	case !dns.IsSubDomain(z.origin, h.Name):
		return where(errOutOfZone)
	case h.Rrtype == dns.TypeSOA && h.Name != z.origin:
		return where(errSOANotApex)
	}
	rdata := strings.TrimPrefix(rr.String(), h.String())
	if rdata == "" {
		return where(errNoRDATA)
	}
	nd := z.nodes[h.Name]
	if nd == nil {
		nd = &node{rrsets: make(map[uint16][]dns.RR)}
		z.nodes[h.Name] = nd
	}
	// Same owner, class, type and RDATA, TTL aside (RFC 2181 section 5).
	key := h.Name + " " + dns.Type(h.Rrtype).String() + " " + strings.ToLower(rdata)
	for _, have := range b.seen[key] {
		if dns.IsDuplicate(have, rr) {
			return nil
		}
	}
	b.seen[key] = append(b.seen[key], rr)
	nd.rrsets[h.Rrtype] = append(nd.rrsets[h.Rrtype], rr)
	return nil
}

// finish runs the whole-zone checks and builds the indexes.
func (b *builder) finish() error {
	z := b.zone
	apex := z.nodes[z.origin]
	if apex == nil || len(apex.rrsets[dns.TypeSOA]) == 0 {
		return fmt.Errorf("%s: %w", z.file, errNoSOA)
	}
	if len(apex.rrsets[dns.TypeSOA]) > 1 {
		return fmt.Errorf("%s: %w", z.file, errManySOA)
	}
	if len(apex.rrsets[dns.TypeNS]) == 0 {
		return fmt.Errorf("%s: %w", z.file, errNoNS)
	}
	z.soa = apex.rrsets[dns.TypeSOA][0].(*dns.SOA)

	for _, name := range z.Names() {
		nd := z.nodes[name]
		if err := checkSingletons(nd); err != nil {
			return fmt.Errorf("%s: %s: %w", z.file, name, err)
		}
		for t, set := range nd.rrsets {
			if t != dns.TypeRRSIG { // signatures over different types are not one RRset
				lowestTTL(set)
			}
		}
		if name != z.origin && len(nd.rrsets[dns.TypeNS]) > 0 {
			nd.cut = true
			z.cuts = append(z.cuts, name)
		}
		for _, a := range z.ancestors(name) {
			if _, ok := z.nodes[a]; !ok {
				z.ents[a] = struct{}{}
			}
		}
	}
	slices.Sort(z.cuts)
	return nil
}

// checkSingletons enforces the CNAME and DNAME rules at one name.
func checkSingletons(nd *node) error {
	if len(nd.rrsets[dns.TypeDNAME]) > 1 {
		return errManyDNAME
	}
	cnames := nd.rrsets[dns.TypeCNAME]
	if len(cnames) == 0 {
		return nil
	}
	if len(cnames) > 1 {
		return errManyCNAME
	}
	for _, t := range nd.types() {
		// RFC 4035 section 2.5: DNSSEC records may sit beside a CNAME.
		if t != dns.TypeCNAME && t != dns.TypeRRSIG && t != dns.TypeNSEC {
			return fmt.Errorf("%w: %s", errCNAMEAndData, dns.Type(t))
		}
	}
	return nil
}

// lowestTTL gives every record of an RRset the lowest TTL among them, as
// RFC 2181 section 5.2 tells receivers of mixed TTLs to do.
func lowestTTL(set []dns.RR) {
	if len(set) < 2 {
		return
	}
	lowest := set[0].Header().Ttl
	for _, rr := range set[1:] {
		lowest = min(lowest, rr.Header().Ttl)
	}
	for _, rr := range set {
		rr.Header().Ttl = lowest
	}
}

// isMetaType reports whether t is a query-only or pseudo type that cannot
// be stored in a zone (RFC 6895 section 3.1).
func isMetaType(t uint16) bool {
	switch t {
	case dns.TypeNone, dns.TypeOPT, dns.TypeTKEY, dns.TypeTSIG,
		dns.TypeIXFR, dns.TypeAXFR, dns.TypeMAILA, dns.TypeMAILB, dns.TypeANY:
		return true
	}
	return false
}
