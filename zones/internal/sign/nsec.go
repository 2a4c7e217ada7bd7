package sign

import "github.com/miekg/dns"

// nsecChain returns the zone's NSEC records (RFC 4034 section 4, RFC 4035
// section 2.3), one per authoritative name and per cut, each pointing to
// the next name in canonical order and the last one back to the apex.
// Empty non-terminals get none: an NSEC whose next name is below the
// missing name already proves that it exists without data.
func nsecChain(z *zone, ttl uint32) []*rrset {
	out := make([]*rrset, 0, len(z.names))
	for i, name := range z.names {
		next := z.names[(i+1)%len(z.names)]
		nsec := &dns.NSEC{
			Hdr:        dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
			NextDomain: next,
			TypeBitMap: nsecTypes(z, z.nodes[name]),
		}
		out = append(out, &rrset{owner: name, rrtype: dns.TypeNSEC, rrs: []dns.RR{nsec}, added: true})
	}
	return out
}

// nsecTypes returns the bitmap of n's NSEC: the types listed for its data,
// the NSEC itself and its RRSIG (every NSEC is signed, even at an unsigned
// cut), and the DNSKEY at the apex.
func nsecTypes(z *zone, n *node) []uint16 {
	types := bitmap(n.listedTypes(), dns.TypeNSEC, dns.TypeRRSIG)
	if n.name == z.apex {
		types = bitmap(types, dns.TypeDNSKEY)
	}
	return types
}
