package zones

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Zone is one parsed master file: its origin, apex SOA and NS, its
// delegation points and every RRset by owner name. Owner names are stored
// in canonical lower-case form, and every method that takes a name compares
// it case-insensitively.
//
// A Zone is immutable once [Parse] returns it, so it is safe for concurrent
// use; its methods return copies that the caller may change.
type Zone struct {
	origin string // canonical, fully qualified
	file   string // as given to Parse, for messages
	labels int    // label count of origin

	soa   *dns.SOA
	nodes map[string]*node    // owner name -> data
	ents  map[string]struct{} // empty non-terminals (RFC 8020): names with no data but data below
	cuts  []string            // delegation points, sorted

	// DNSSEC (dnssec.go): set by WithDNSSEC.
	signed     bool
	nsec       []string     // owners of NSEC records, in canonical order
	nsec3      []nsec3Entry // by hash
	nsec3param *dns.NSEC3PARAM
}

// node is the data at one owner name.
type node struct {
	rrsets map[uint16][]dns.RR
	sigs   map[uint16][]dns.RR // RRSIGs by the type they cover (signed zones)
	cut    bool                // NS below the apex: a delegation point (RFC 1034 section 4.2.1)
}

// Origin returns the zone's origin, fully qualified and lower-case.
func (z *Zone) Origin() string { return z.origin }

// File returns the file name the zone was parsed from, as given to [Parse].
func (z *Zone) File() string { return z.file }

// SOA returns a copy of the zone's apex SOA record.
func (z *Zone) SOA() *dns.SOA { return dns.Copy(z.soa).(*dns.SOA) }

// NS returns copies of the zone's apex NS records, in file order.
func (z *Zone) NS() []*dns.NS {
	rrs := z.nodes[z.origin].rrsets[dns.TypeNS]
	out := make([]*dns.NS, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, dns.Copy(rr).(*dns.NS))
	}
	return out
}

// Delegations returns the zone's delegation points, the owner names of NS
// RRsets below the apex, sorted.
func (z *Zone) Delegations() []string { return slices.Clone(z.cuts) }

// Names returns every owner name that has data in the zone, sorted. Empty
// non-terminals are not listed.
func (z *Zone) Names() []string {
	names := make([]string, 0, len(z.nodes))
	for name := range z.nodes {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// RRset returns copies of the records of type rrtype owned by name, in file
// order, or nil if there are none. It returns data below delegation points
// (glue) too.
func (z *Zone) RRset(name string, rrtype uint16) []dns.RR {
	nd := z.nodes[canonicalName(name)]
	if nd == nil {
		return nil
	}
	return copyRRs(nd.rrsets[rrtype])
}

// Records returns copies of every record in the zone, ordered by owner name
// and then by type; of a signed zone's DNSSEC records, the DNSKEY, NSEC
// and NSEC3PARAM records but not the RRSIGs and NSEC3 records.
func (z *Zone) Records() []dns.RR {
	var out []dns.RR
	for _, name := range z.Names() {
		nd := z.nodes[name]
		for _, t := range nd.types() {
			out = append(out, copyRRs(nd.rrsets[t])...)
		}
	}
	return out
}

// isEmptyNonTerminal reports whether name, compared case-insensitively,
// is an empty non-terminal of the zone: it owns no data, but names below
// it do (RFC 8020).
func (z *Zone) isEmptyNonTerminal(name string) bool {
	_, ok := z.ents[canonicalName(name)]
	return ok
}

// String returns the zone's origin and file, for messages.
func (z *Zone) String() string { return z.origin + " (" + z.file + ")" }

// types returns the types of the node's RRsets in ascending order.
func (nd *node) types() []uint16 {
	types := make([]uint16, 0, len(nd.rrsets))
	for t := range nd.rrsets {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// copyRRs returns deep copies of rrs, or nil if rrs is empty.
func copyRRs(rrs []dns.RR) []dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

// ancestors returns the names from the zone's origin down to name itself,
// origin first; name must be canonical and inside the zone.
func (z *Zone) ancestors(name string) []string {
	idx := dns.Split(name)
	below := max(len(idx)-z.labels, 0)
	out := make([]string, 0, below+1)
	out = append(out, z.origin)
	for j := below - 1; j >= 0; j-- {
		out = append(out, name[idx[j]:])
	}
	return out
}

// canonicalName returns name fully qualified, in its plainest presentation
// form, with ASCII letters lower-cased. DNS compares names without regard
// to ASCII case only (RFC 4343 section 3): strings.ToLower, which
// dns.CanonicalName uses, also rewrites octets that are not valid UTF-8,
// which lengthens labels and breaks them.
func canonicalName(name string) string {
	name = dns.Fqdn(name)
	if strings.IndexByte(name, '\\') >= 0 {
		// Decode escapes and encode again, so that \065 and A compare equal.
		var buf [256]byte
		if n, err := dns.PackDomainName(name, buf[:], 0, nil, false); err == nil {
			if plain, _, err := dns.UnpackDomainName(buf[:n], 0); err == nil {
				name = plain
			}
		}
		// On error the name is not a valid domain name and is compared as written.
	}
	var lower []byte
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			if lower == nil {
				lower = []byte(name)
			}
			lower[i] = c + ('a' - 'A')
		}
	}
	if lower == nil {
		return name
	}
	return string(lower)
}
