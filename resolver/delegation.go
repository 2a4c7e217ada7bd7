package resolver

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// delegation is a zone cut: the zone and the servers said to serve it.
type delegation struct {
	zone    string // canonical
	servers []NameServer
	// ns and glue are the records the delegation was built from, kept
	// for the cache; both are nil for the hints.
	ns, glue []dns.RR
	// configured: a forward or stub zone's servers, which the upstream
	// address policy does not filter.
	configured bool
}

// hintsDelegation is the root as the hints describe it.
func hintsDelegation(h Hints) *delegation {
	return &delegation{zone: ".", servers: h}
}

// newDelegation builds a delegation from an NS RRset and the glue that may
// accompany it. Glue for names that are not servers of the zone is ignored.
func newDelegation(zone string, ns []dns.RR, glue []dns.RR) *delegation {
	d := &delegation{zone: canonical(zone)}
	index := make(map[string]int)
	for _, rr := range ns {
		n, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		d.ns = append(d.ns, n)
		name := canonical(n.Ns)
		if _, dup := index[name]; dup {
			continue
		}
		index[name] = len(d.servers)
		d.servers = append(d.servers, NameServer{Name: name})
	}
	for _, rr := range glue {
		i, ok := index[canonical(rr.Header().Name)]
		if !ok {
			continue
		}
		if a, ok := addrOf(rr); ok {
			d.servers[i].Addrs = append(d.servers[i].Addrs, a)
			d.glue = append(d.glue, rr)
		}
	}
	return d
}

// cacheForm is the delegation as the cache stores it: a referral message
// with the NS RRset in the authority section and glue in the additional.
func (d *delegation) cacheForm() *dns.Msg {
	return &dns.Msg{Ns: d.ns, Extra: d.glue}
}

// delegationFromMsg reads a delegation stored as a referral message: the
// NS RRset in the authority section, glue in the additional section.
func delegationFromMsg(zone string, m *dns.Msg) *delegation {
	return newDelegation(zone, m.Ns, m.Extra)
}

// reachable reports whether the delegation can be followed without going
// through itself: some server has an address, or has a name outside the
// zone whose address can be looked up elsewhere. A cached NS RRset whose
// in-zone servers' addresses have expired or been evicted is not: its
// parent must be asked for the glue again.
func (d *delegation) reachable() bool {
	for _, s := range d.servers {
		if len(s.Addrs) > 0 || !dns.IsSubDomain(d.zone, s.Name) {
			return true
		}
	}
	return false
}

// addrOf returns the address an A or AAAA record holds.
func addrOf(rr dns.RR) (netip.Addr, bool) {
	switch rr := rr.(type) {
	case *dns.A:
		return netip.AddrFromSlice(rr.A.To4())
	case *dns.AAAA:
		return netip.AddrFromSlice(rr.AAAA.To16())
	}
	return netip.Addr{}, false
}

// canonical is the lower-cased, fully qualified form of a name (RFC 4343).
func canonical(name string) string {
	return strings.ToLower(dns.Fqdn(name))
}

// parentZone returns the name one label up, or "." for the root.
func parentZone(name string) string {
	if name == "." {
		return "."
	}
	next, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[next:]
}
