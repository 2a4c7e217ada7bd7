package zones

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/canonical"
)

// DNSSEC in a zone: a signed zone holds, beside its data, the signatures
// over each RRset (kept by owner and the type they cover, not as an RRSIG
// RRset, since RRSIGs over different types are not one RRset), its NSEC
// records at their owners, or its NSEC3 records apart from the names (an
// NSEC3 owner is a hash, not a name that exists) with the NSEC3PARAM at
// the apex. A query with the DO bit gets them as RFC 4035 section 3.1
// says: the RRSIGs of every RRset sent, the DS RRset or the proof of its
// absence in a referral, and the NSEC or NSEC3 records that prove a name
// error, a NODATA or a wildcard expansion.

// nsec3Entry is one NSEC3 record of the zone with its signatures.
type nsec3Entry struct {
	hash string // the owner's first label, lower case: the hashed name
	rr   *dns.NSEC3
	sigs []dns.RR
}

// WithDNSSEC returns a copy of z with the DNSSEC records added (DNSKEY,
// RRSIG, NSEC, NSEC3 and NSEC3PARAM, as a signer makes them). Records of
// other types are refused: signing adds no data.
func (z *Zone) WithDNSSEC(records []dns.RR) (*Zone, error) {
	return buildSigned(z.origin, z.file, z.Records(), records)
}

// buildSigned builds the zone at origin, read from file, from its data and
// its DNSSEC records; only the latter may be of the DNSSEC types.
func buildSigned(origin, file string, data, records []dns.RR) (*Zone, error) {
	b := newBuilder(origin, file)
	for _, rr := range data {
		if err := b.add(dns.Copy(rr)); err != nil {
			return nil, fmt.Errorf("sign zone %s: %w", origin, err)
		}
	}
	var nsec3 []*dns.NSEC3
	var nsec3Sigs []*dns.RRSIG
	for _, rr := range records {
		rr = dns.Copy(rr)
		switch rr := rr.(type) {
		case *dns.NSEC3:
			nsec3 = append(nsec3, rr)
			continue
		case *dns.RRSIG:
			if rr.TypeCovered == dns.TypeNSEC3 {
				nsec3Sigs = append(nsec3Sigs, rr)
				continue
			}
		case *dns.DNSKEY, *dns.NSEC, *dns.NSEC3PARAM:
		default:
			return nil, fmt.Errorf("sign zone %s: %s record is not DNSSEC data", origin, dns.Type(rr.Header().Rrtype))
		}
		if err := b.add(rr); err != nil {
			return nil, fmt.Errorf("sign zone %s: %w", origin, err)
		}
	}
	if err := b.finish(); err != nil {
		return nil, fmt.Errorf("sign zone %s: %w", origin, err)
	}
	s := b.zone
	s.indexDNSSEC(nsec3, nsec3Sigs)
	return s, nil
}

// indexDNSSEC moves the RRSIGs of each node under the types they cover,
// lists the NSEC owners in canonical order and sorts the NSEC3 records by
// hash.
func (z *Zone) indexDNSSEC(nsec3 []*dns.NSEC3, nsec3Sigs []*dns.RRSIG) {
	for name, nd := range z.nodes {
		if sigs := nd.rrsets[dns.TypeRRSIG]; len(sigs) > 0 {
			nd.sigs = make(map[uint16][]dns.RR)
			for _, rr := range sigs {
				sig := rr.(*dns.RRSIG)
				nd.sigs[sig.TypeCovered] = append(nd.sigs[sig.TypeCovered], sig)
			}
			delete(nd.rrsets, dns.TypeRRSIG)
			z.signed = true
		}
		if len(nd.rrsets[dns.TypeNSEC]) > 0 {
			z.nsec = append(z.nsec, name)
		}
	}
	canonical.Sort(z.nsec)
	for _, rr := range nsec3 {
		e := nsec3Entry{hash: strings.ToLower(strings.SplitN(rr.Hdr.Name, ".", 2)[0]), rr: rr}
		for _, sig := range nsec3Sigs {
			if strings.EqualFold(sig.Hdr.Name, rr.Hdr.Name) {
				e.sigs = append(e.sigs, sig)
			}
		}
		z.nsec3 = append(z.nsec3, e)
	}
	slices.SortFunc(z.nsec3, func(a, b nsec3Entry) int { return strings.Compare(a.hash, b.hash) })
	if p := z.nodes[z.origin].rrsets[dns.TypeNSEC3PARAM]; len(p) > 0 {
		z.nsec3param = p[0].(*dns.NSEC3PARAM)
	}
}

// Signed reports whether the zone holds signatures.
func (z *Zone) Signed() bool { return z.signed }

// proofKind is what a negative or synthesized response must prove.
type proofKind uint8

const (
	proofNone           proofKind = iota
	proofNameError                // name does not exist, nor a wildcard to expand
	proofNoData                   // name (or the empty non-terminal) exists without the type
	proofWildcardAnswer           // name does not exist; the answer was expanded from the wildcard
	proofWildcardNoData           // as above, and the wildcard lacks the type
	proofNoDS                     // a delegation without DS: the child is unsigned
)

// proof is what a lookup step found that DNSSEC must prove.
type proof struct {
	kind     proofKind
	name     string // the name asked (in a chain, its last link's target)
	encloser string // the closest encloser of name (RFC 5155 section 1.3)
}

// sign adds to r what a DO query gets from a signed zone: the RRSIGs of
// every RRset in it, and in the authority section the records of the
// proofs with theirs (one per link of a chain that needed one). A referral
// gets the DS RRset with its RRSIGs, or the proof that there is none.
func (z *Zone) sign(r *Response, proofs []proof) {
	if !z.signed {
		return
	}
	r.Answer = z.withSigs(r.Answer)
	r.Additional = z.withSigs(r.Additional)
	for i, p := range proofs {
		if p.kind != proofNoDS {
			continue
		}
		if ds := z.nodes[p.name].rrsets[dns.TypeDS]; len(ds) > 0 {
			r.Authority = append(r.Authority, copyRRs(ds)...)
			proofs[i].kind = proofNone
		}
	}
	r.Authority = z.withSigs(r.Authority)
	for _, p := range proofs {
		var extra []dns.RR
		if len(z.nsec3) > 0 {
			extra = z.nsec3Proof(p)
		} else {
			extra = z.nsecProof(p)
		}
		for _, rr := range extra {
			if !slices.ContainsFunc(r.Authority, func(have dns.RR) bool { return dns.IsDuplicate(have, rr) }) {
				r.Authority = append(r.Authority, rr)
			}
		}
	}
}

// withSigs returns rrs with the RRSIGs of each of their RRsets after it.
// An RRset expanded from a wildcard gets the wildcard's signatures under
// its own owner name: their Labels field tells a validator so.
func (z *Zone) withSigs(rrs []dns.RR) []dns.RR {
	if !z.signed || len(rrs) == 0 {
		return rrs
	}
	type set struct {
		name string
		t    uint16
	}
	var out []dns.RR
	done := make(map[set]bool)
	for i, rr := range rrs {
		h := rr.Header()
		out = append(out, rr)
		k := set{canonicalName(h.Name), h.Rrtype}
		last := i == len(rrs)-1 || canonicalName(rrs[i+1].Header().Name) != k.name || rrs[i+1].Header().Rrtype != k.t
		if done[k] || !last {
			continue
		}
		done[k] = true
		out = append(out, z.sigsFor(k.name, k.t)...)
	}
	return out
}

// sigsFor returns copies of the RRSIGs over the RRset of type t at name,
// or at the wildcard that name was expanded from.
func (z *Zone) sigsFor(name string, t uint16) []dns.RR {
	if nd := z.nodes[name]; nd != nil {
		return copyRRs(nd.sigs[t])
	}
	for _, a := range slices.Backward(z.ancestors(name)) {
		wc := z.nodes[wildcardAt(a)]
		if wc == nil || a == name {
			continue
		}
		sigs := copyRRs(wc.sigs[t])
		for _, s := range sigs {
			s.Header().Name = name
		}
		return sigs
	}
	return nil
}

// nsecAt returns the NSEC record at name with its RRSIGs, if there is one.
func (z *Zone) nsecAt(name string) []dns.RR {
	nd := z.nodes[name]
	if nd == nil || len(nd.rrsets[dns.TypeNSEC]) == 0 {
		return nil
	}
	return append(copyRRs(nd.rrsets[dns.TypeNSEC]), copyRRs(nd.sigs[dns.TypeNSEC])...)
}

// nsecCovering returns the NSEC record whose span holds name (the one at
// the last owner at or before it in canonical order) with its RRSIGs.
func (z *Zone) nsecCovering(name string) []dns.RR {
	if len(z.nsec) == 0 {
		return nil
	}
	i, found := slices.BinarySearchFunc(z.nsec, name, canonical.Compare)
	if !found {
		i-- // the owner before name; -1 wraps to the last NSEC
	}
	if i < 0 {
		i = len(z.nsec) - 1
	}
	return z.nsecAt(z.nsec[i])
}

// nsecProof returns the NSEC records, with their RRSIGs, that prove p
// (RFC 4035 section 3.1.3).
func (z *Zone) nsecProof(p proof) []dns.RR {
	switch p.kind {
	case proofNameError:
		return append(z.nsecCovering(p.name), z.nsecCovering(wildcardAt(p.encloser))...)
	case proofNoData, proofNoDS:
		if nsec := z.nsecAt(p.name); nsec != nil {
			return nsec
		}
		return z.nsecCovering(p.name) // an empty non-terminal: the NSEC whose span passes it
	case proofWildcardAnswer:
		return z.nsecCovering(p.name)
	case proofWildcardNoData:
		return append(z.nsecCovering(p.name), z.nsecAt(wildcardAt(p.encloser))...)
	}
	return nil
}

// nsec3Proof returns the NSEC3 records, with their RRSIGs, that prove p
// (RFC 5155 section 7.2).
func (z *Zone) nsec3Proof(p proof) []dns.RR {
	switch p.kind {
	case proofNameError: // 7.2.2: the closest encloser proof and no wildcard
		return slices.Concat(z.closestEncloserProof(p.name, p.encloser), z.nsec3Covering(wildcardAt(p.encloser)))
	case proofNoData, proofNoDS: // 7.2.3, 7.2.4 and 7.2.7: the name's own NSEC3, or an opt-out span over it
		if m := z.nsec3Matching(p.name); m != nil {
			return m
		}
		return z.closestEncloserProof(p.name, z.provableEncloser(p.name))
	case proofWildcardAnswer: // 7.2.6: the next closer name does not exist
		return z.nsec3Covering(nextCloser(p.name, p.encloser))
	case proofWildcardNoData: // 7.2.5
		return slices.Concat(z.closestEncloserProof(p.name, p.encloser), z.nsec3Matching(wildcardAt(p.encloser)))
	}
	return nil
}

// closestEncloserProof is the NSEC3 matching encloser and the one covering
// the next closer name of name (RFC 5155 section 7.2.1).
func (z *Zone) closestEncloserProof(name, encloser string) []dns.RR {
	return append(z.nsec3Matching(encloser), z.nsec3Covering(nextCloser(name, encloser))...)
}

// provableEncloser returns the deepest ancestor of name that has an NSEC3
// record: below an opt-out span, names may have none.
func (z *Zone) provableEncloser(name string) string {
	anc := z.ancestors(name)
	for _, a := range slices.Backward(anc[:len(anc)-1]) {
		if z.nsec3Index(a, true) >= 0 {
			return a
		}
	}
	return z.origin
}

// nsec3Matching returns the NSEC3 record for name with its RRSIGs.
func (z *Zone) nsec3Matching(name string) []dns.RR {
	return z.nsec3Records(z.nsec3Index(name, true))
}

// nsec3Covering returns the NSEC3 record whose span holds name's hash.
func (z *Zone) nsec3Covering(name string) []dns.RR {
	return z.nsec3Records(z.nsec3Index(name, false))
}

// nsec3Index finds name's hash among the NSEC3 records: the one that
// matches it exactly, or else the one before it (wrapping), whose span
// covers it. It returns -1 when there is no such record.
func (z *Zone) nsec3Index(name string, exact bool) int {
	if len(z.nsec3) == 0 || z.nsec3param == nil {
		return -1
	}
	p := z.nsec3param
	h := strings.ToLower(dns.HashName(name, p.Hash, p.Iterations, p.Salt))
	i, found := slices.BinarySearchFunc(z.nsec3, h, func(e nsec3Entry, h string) int { return strings.Compare(e.hash, h) })
	switch {
	case exact && found:
		return i
	case exact || found:
		return -1
	case i == 0:
		return len(z.nsec3) - 1
	}
	return i - 1
}

func (z *Zone) nsec3Records(i int) []dns.RR {
	if i < 0 {
		return nil
	}
	e := z.nsec3[i]
	return append([]dns.RR{dns.Copy(e.rr)}, copyRRs(e.sigs)...)
}

// nextCloser returns the name one label longer than encloser on the way
// to name (RFC 5155 section 1.3); encloser must be an ancestor of name.
func nextCloser(name, encloser string) string {
	idx := dns.Split(name)
	below := dns.CountLabel(name) - dns.CountLabel(encloser)
	if below <= 0 {
		return name
	}
	return name[idx[below-1]:]
}
