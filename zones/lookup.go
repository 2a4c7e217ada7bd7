package zones

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// maxChain bounds how many CNAME and DNAME links one lookup follows inside
// its zone, so a CNAME loop in the data cannot make a server spin. Loops
// are also cut as soon as a name repeats.
const maxChain = 8

// Response is the outcome of one authoritative lookup in one zone: an
// RCODE, the AA bit and the three sections of a reply, holding fresh
// copies the caller may change.
type Response struct {
	// Rcode is dns.RcodeSuccess, dns.RcodeNameError (NXDOMAIN),
	// dns.RcodeYXDomain (a DNAME substitution too long, RFC 6672 section
	// 2.2) or dns.RcodeRefused (the name is outside the zone).
	Rcode int
	// Authoritative is the AA bit: set on everything answered from the
	// zone's own data, NXDOMAIN and NODATA included; clear on a bare
	// referral.
	Authoritative bool
	// Answer holds CNAME and DNAME links, then the answer RRset(s).
	Answer []dns.RR
	// Authority holds the SOA of a negative answer or the NS RRset of a
	// referral.
	Authority []dns.RR
	// Additional holds glue for a referral, or the A and AAAA records the
	// zone has for MX, SRV and NS targets in the answer.
	Additional []dns.RR
}

// Lookup answers a question of type qtype for qname from the zone's data,
// following RFC 1034 section 4.3.2 with DNAME (RFC 6672) and wildcards
// (RFC 4592):
//
//   - below a delegation point: a referral (NS in Authority, glue in
//     Additional, AA clear); a DS question at the cut itself is answered
//     from this, the parent, side;
//   - a DNAME at an ancestor: the DNAME and a synthesized CNAME, then the
//     lookup continues at the new name if it is in the zone;
//   - a CNAME at the name (unless qtype is CNAME or ANY): the CNAME, then
//     the lookup continues at its target if it is in the zone;
//   - the RRset of type qtype, or every RRset for ANY, or NODATA;
//   - an empty non-terminal: NODATA; else a wildcard at the closest
//     encloser, expanded to qname; else NXDOMAIN.
//
// Negative answers carry the SOA with TTL min(SOA TTL, MINIMUM) (RFC 2308
// section 3). qname is compared case-insensitively; owner names in the
// reply are lower-case. A name outside the zone gives REFUSED.
func (z *Zone) Lookup(qname string, qtype uint16) Response {
	r, _ := z.lookup(qname, qtype)
	return r
}

// LookupDNSSEC is Lookup for a query with the DO bit (RFC 3225): from a
// signed zone, every RRset comes with its RRSIGs, a referral with the DS
// RRset or the NSEC or NSEC3 proof that there is none, and a name error,
// NODATA or wildcard expansion with the NSEC or NSEC3 records that prove
// it (RFC 4035 section 3.1, RFC 5155 section 7.2). From an unsigned zone
// it is Lookup.
func (z *Zone) LookupDNSSEC(qname string, qtype uint16) Response {
	r, proofs := z.lookup(qname, qtype)
	z.sign(&r, proofs)
	return r
}

// lookup is Lookup, with what each step of it must prove to a validator.
func (z *Zone) lookup(qname string, qtype uint16) (Response, []proof) {
	name := canonicalName(qname)
	if !dns.IsSubDomain(z.origin, name) {
		return Response{Rcode: dns.RcodeRefused}, nil
	}
	var chain []dns.RR
	var proofs []proof
	seen := make(map[string]bool)
	for links := 0; ; links++ {
		seen[name] = true
		st := z.lookupName(name, qtype)
		chain = append(chain, st.chain...)
		if st.proof.kind != proofNone {
			proofs = append(proofs, st.proof)
		}
		if st.next == "" {
			return z.complete(chain, st.resp), proofs
		}
		if links >= maxChain || seen[st.next] {
			// A loop or an over-long chain in our own data: give the
			// links found so far, as BIND and NSD do.
			return z.complete(chain, Response{Rcode: dns.RcodeSuccess, Authoritative: true}), proofs
		}
		name = st.next
	}
}

// step is the outcome of looking up one name: links for the answer
// section, then either a name in the zone to continue at, or the response.
type step struct {
	chain []dns.RR
	next  string
	resp  Response
	proof proof // what DNSSEC must prove of this step (dnssec.go)
}

// lookupName runs one pass of RFC 1034 section 4.3.2 step 3 for a
// canonical name inside the zone: it walks down from the origin, label by
// label, looking for a cut or a DNAME above the name, then matches it.
func (z *Zone) lookupName(name string, qtype uint16) step {
	anc := z.ancestors(name)
	encloser := z.origin // the deepest existing ancestor: the closest encloser of RFC 4592
	for i, a := range anc {
		exact := i == len(anc)-1
		nd, ok := z.nodes[a]
		if !ok {
			if _, ent := z.ents[a]; !ent {
				break // nothing exists at or below a
			}
			encloser = a
			continue
		}
		encloser = a
		if nd.cut && (!exact || qtype != dns.TypeDS) {
			return step{resp: z.referral(nd), proof: proof{kind: proofNoDS, name: a}}
		}
		if !exact {
			if dn := nd.rrsets[dns.TypeDNAME]; len(dn) > 0 {
				return z.substitute(name, dn[0].(*dns.DNAME))
			}
			continue
		}
		return z.match(name, nd, qtype, "")
	}
	if encloser == name { // an empty non-terminal: the name exists (RFC 8020)
		return step{resp: z.negative(dns.RcodeSuccess), proof: proof{kind: proofNoData, name: name, encloser: name}}
	}
	if wc, ok := z.nodes[wildcardAt(encloser)]; ok {
		return z.match(name, wc, qtype, encloser)
	}
	return step{resp: z.negative(dns.RcodeNameError), proof: proof{kind: proofNameError, name: name, encloser: encloser}}
}

// match answers from the node that owns the name, or, when encloser is not
// empty, from the wildcard node below that closest encloser, expanded to
// name (RFC 4592 section 3.3.1).
func (z *Zone) match(name string, nd *node, qtype uint16, encloser string) step {
	wildcard := encloser != ""
	prove := proof{kind: proofNone, name: name, encloser: encloser}
	if wildcard {
		prove.kind = proofWildcardAnswer
	}
	own := func(rrs []dns.RR) []dns.RR {
		out := copyRRs(rrs)
		if wildcard {
			for _, rr := range out {
				rr.Header().Name = name
			}
		}
		return out
	}
	if cn := nd.rrsets[dns.TypeCNAME]; len(cn) > 0 && qtype != dns.TypeCNAME && qtype != dns.TypeANY {
		link := own(cn)
		st := z.follow(link, link[0].(*dns.CNAME).Target)
		st.proof = prove
		return st
	}
	var answer []dns.RR
	if qtype == dns.TypeANY {
		for _, t := range nd.types() {
			if wildcard && t == dns.TypeNSEC {
				continue // the wildcard's own NSEC is not synthesized (RFC 4592 section 4.5)
			}
			answer = append(answer, own(nd.rrsets[t])...)
		}
	} else {
		answer = own(nd.rrsets[qtype])
	}
	if len(answer) == 0 {
		prove.kind = proofNoData
		if wildcard {
			prove.kind = proofWildcardNoData
		}
		return step{resp: z.negative(dns.RcodeSuccess), proof: prove}
	}
	return step{resp: Response{Rcode: dns.RcodeSuccess, Authoritative: true, Answer: answer}, proof: prove}
}

// substitute applies the DNAME d at a strict ancestor of name (RFC 6672
// section 3.2): it synthesizes a CNAME from name to name with d's owner
// replaced by d's target, TTL the DNAME's.
func (z *Zone) substitute(name string, d *dns.DNAME) step {
	owner := d.Hdr.Name
	prefix := strings.TrimSuffix(name, owner) // name's labels below owner, with a final dot
	if owner == "." {
		prefix = name
	}
	target := canonicalName(d.Target)
	synth := prefix + target
	if target == "." {
		synth = prefix
	}
	dname := dns.Copy(d)
	if _, ok := dns.IsDomainName(synth); !ok {
		// Longer than 255 octets: RFC 6672 section 2.2.
		return step{resp: Response{Rcode: dns.RcodeYXDomain, Authoritative: true, Answer: []dns.RR{dname}}}
	}
	cname := &dns.CNAME{
		Hdr:    dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: d.Hdr.Ttl},
		Target: synth,
	}
	return z.follow([]dns.RR{dname, cname}, synth)
}

// follow ends a step with the links of a CNAME or DNAME: the lookup
// continues at target if the zone holds it, else the answer stops here.
func (z *Zone) follow(links []dns.RR, target string) step {
	target = canonicalName(target)
	if dns.IsSubDomain(z.origin, target) {
		return step{chain: links, next: target}
	}
	return step{chain: links, resp: Response{Rcode: dns.RcodeSuccess, Authoritative: true}}
}

// complete puts the chain in front of the final step's answer and adds the
// additional-section data. A chain of this zone's own links makes even a
// referral at its end authoritative for the question's name.
func (z *Zone) complete(chain []dns.RR, r Response) Response {
	if len(chain) > 0 {
		r.Answer = append(chain, r.Answer...)
		r.Authoritative = true
	}
	have := append(slices.Clone(r.Answer), r.Additional...)
	r.Additional = append(r.Additional, z.addresses(targets(r.Answer), have)...)
	return r
}

// referral builds the referral for a delegation point (RFC 1034 section
// 4.3.2 step 3b): its NS RRset, and as glue every A and AAAA record the
// zone holds for the NS names, below the cut or not.
func (z *Zone) referral(cut *node) Response {
	ns := copyRRs(cut.rrsets[dns.TypeNS])
	var hosts []string
	for _, rr := range ns {
		hosts = append(hosts, rr.(*dns.NS).Ns)
	}
	return Response{Rcode: dns.RcodeSuccess, Authority: ns, Additional: z.addresses(hosts, nil)}
}

// negative builds NXDOMAIN or NODATA: the SOA in the authority section with
// its TTL capped by its MINIMUM field (RFC 2308 section 3).
func (z *Zone) negative(rcode int) Response {
	soa := z.SOA()
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	return Response{Rcode: rcode, Authoritative: true, Authority: []dns.RR{soa}}
}

// addresses returns copies of the A and AAAA records the zone holds for
// hosts, once per host, skipping hosts whose addresses are already in have.
func (z *Zone) addresses(hosts []string, have []dns.RR) []dns.RR {
	done := make(map[string]bool)
	for _, rr := range have {
		if t := rr.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
			done[rr.Header().Name] = true
		}
	}
	var out []dns.RR
	for _, h := range hosts {
		h = canonicalName(h)
		if done[h] || !dns.IsSubDomain(z.origin, h) {
			continue
		}
		done[h] = true
		if nd := z.nodes[h]; nd != nil {
			out = append(out, copyRRs(nd.rrsets[dns.TypeA])...)
			out = append(out, copyRRs(nd.rrsets[dns.TypeAAAA])...)
		}
	}
	return out
}

// targets returns the host names that MX, SRV and NS records in rrs point
// to, for additional-section processing (RFC 1035 section 3.3.9, RFC 2782).
func targets(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		switch rr := rr.(type) {
		case *dns.MX:
			out = append(out, rr.Mx)
		case *dns.SRV:
			out = append(out, rr.Target)
		case *dns.NS:
			out = append(out, rr.Ns)
		}
	}
	return out
}

// wildcardAt returns the wildcard name directly below name.
func wildcardAt(name string) string {
	if name == "." {
		return "*."
	}
	return "*." + name
}
