package sign

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

var errNSEC3 = errors.New("cannot build the NSEC3 chain")

// nsec3Params are the chain's parameters, shared by every NSEC3 record
// and the NSEC3PARAM.
type nsec3Params struct {
	iterations uint16
	salt       string // lower-case hex, "" for none
	optOut     bool
}

// hashed is one name of an NSEC3 chain.
type hashed struct {
	hash  string // base32hex, upper case as dns.HashName gives it
	name  string
	types []uint16
}

// nsec3Chain returns the zone's NSEC3 records (RFC 5155 section 7.1) and
// its NSEC3PARAM, each as its own RRset to sign.
func nsec3Chain(z *zone, p nsec3Params, ttl uint32) ([]*rrset, error) {
	entries, err := hashNames(z, p)
	if err != nil {
		return nil, err
	}
	flags := uint8(0)
	if p.optOut {
		flags = 1
	}
	out := make([]*rrset, 0, len(entries)+1)
	for i, e := range entries {
		owner, err := canonicalName(child(strings.ToLower(e.hash), z.apex))
		if err != nil {
			return nil, fmt.Errorf("%w: owner for %s: %w", errNSEC3, e.name, err)
		}
		if _, ok := z.nodes[owner]; ok {
			return nil, fmt.Errorf("%w: the NSEC3 owner for %s is a name of the zone", errNSEC3, e.name)
		}
		nsec3 := &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: ttl},
			Hash:       dns.SHA1,
			Flags:      flags,
			Iterations: p.iterations,
			SaltLength: uint8(len(p.salt) / 2),
			Salt:       p.salt,
			HashLength: 20,
			// Upper case, as miekg/dns's NSEC3.Cover compares it with
			// the upper-case output of dns.HashName.
			NextDomain: entries[(i+1)%len(entries)].hash,
			TypeBitMap: e.types,
		}
		out = append(out, &rrset{owner: owner, rrtype: dns.TypeNSEC3, rrs: []dns.RR{nsec3}, added: true})
	}
	param := &dns.NSEC3PARAM{
		Hdr:        dns.RR_Header{Name: z.apex, Rrtype: dns.TypeNSEC3PARAM, Class: dns.ClassINET, Ttl: ttl},
		Hash:       dns.SHA1,
		Iterations: p.iterations,
		SaltLength: uint8(len(p.salt) / 2),
		Salt:       p.salt,
	}
	return append(out, &rrset{owner: z.apex, rrtype: dns.TypeNSEC3PARAM, rrs: []dns.RR{param}, added: true}), nil
}

// hashNames returns the chain's names in hash order with their bitmaps.
func hashNames(z *zone, p nsec3Params) ([]hashed, error) {
	var entries []hashed
	for name, types := range nsec3Names(z, p.optOut) {
		h := dns.HashName(name, dns.SHA1, p.iterations, p.salt)
		if h == "" {
			return nil, fmt.Errorf("%w: cannot hash %s", errNSEC3, name)
		}
		entries = append(entries, hashed{hash: h, name: name, types: types})
	}
	slices.SortFunc(entries, func(a, b hashed) int { return strings.Compare(a.hash, b.hash) })
	for i := 1; i < len(entries); i++ {
		if entries[i].hash == entries[i-1].hash {
			return nil, fmt.Errorf("%w: %s and %s hash to %s", errNSEC3, entries[i-1].name, entries[i].name, entries[i].hash)
		}
	}
	return entries, nil
}

// nsec3Names returns the names of the chain with their bitmaps: every
// authoritative name and cut, less the cuts without DS with opt-out, and
// the empty non-terminals above them (RFC 5155 section 7.1), which have
// an empty bitmap.
func nsec3Names(z *zone, optOut bool) map[string][]uint16 {
	out := make(map[string][]uint16)
	for _, name := range z.names {
		n := z.nodes[name]
		signed := n.signedTypes()
		if optOut && n.cut && len(signed) == 0 {
			// Opt-out: the chain says nothing about unsigned delegations,
			// nor about empty non-terminals only they would make.
			continue
		}
		out[name] = nsec3Types(z, n, len(signed) > 0)
		for _, a := range ancestors(name, z.apex) {
			if _, ok := z.nodes[a]; !ok {
				out[a] = nil
			}
		}
	}
	return out
}

// nsec3Types returns the bitmap of n's NSEC3: the types listed for its
// data, RRSIG if any RRset there is signed, and at the apex the DNSKEY and
// NSEC3PARAM. Unlike an NSEC, an NSEC3 is not at the name it describes, so
// it lists neither itself nor its signature.
func nsec3Types(z *zone, n *node, signed bool) []uint16 {
	types := n.listedTypes()
	if signed {
		types = bitmap(types, dns.TypeRRSIG)
	}
	if n.name == z.apex {
		types = bitmap(types, dns.TypeRRSIG, dns.TypeDNSKEY, dns.TypeNSEC3PARAM)
	}
	return types
}

// child returns the name of label under parent.
func child(label, parent string) string {
	if parent == "." {
		return label + "."
	}
	return label + "." + parent
}
