package zones

import (
	"net"
	"net/netip"
	"slices"

	"github.com/miekg/dns"
)

// The bogus data the lab's attackers plant: documentation addresses that
// no lab name has, with a TTL of one day, so that a test spots any of it
// in a cache or an answer.
var (
	bogusA    = netip.MustParseAddr("192.0.2.66")
	bogusAAAA = netip.MustParseAddr("2001:db8::66")
)

// bogusTTL is the TTL of every record an attacker makes up.
const bogusTTL = 86400

// The target of FaultOutOfBailiwick: a name, its zone and one of that
// zone's name servers, all in example.com., which the attacker does not
// serve. The lab's poison-oob.org. has a CNAME to oobVictim, so that the
// bogus addresses sit right where the chain leads.
const (
	oobVictim     = "www.example.com."
	oobVictimZone = "example.com."
	oobVictimNS   = "ns1.example.com."
)

// tamper adds to m, a reply answered from z, the records an attacking
// server adds: FaultOutOfBailiwick and FaultParentClaim. Other faults
// leave m alone.
func (h *Handler) tamper(m *dns.Msg, z *Zone) {
	switch h.fault {
	case FaultOutOfBailiwick:
		outOfBailiwick(m, z)
	case FaultParentClaim:
		parentClaim(m, z)
	}
}

// outOfBailiwick adds to m what a FaultOutOfBailiwick server serving z
// adds: bogus addresses for oobVictim in the answer section, oobVictimZone
// handed to z's first name server in the authority section, and that
// server's addresses given to oobVictimNS in the additional section.
func outOfBailiwick(m *dns.Msg, z *Zone) {
	m.Answer = append(m.Answer, addressRecord(oobVictim, bogusA), addressRecord(oobVictim, bogusAAAA))
	self, addrs := ownNameServer(z)
	if self == "" {
		return
	}
	m.Ns = append(m.Ns, nsRecord(oobVictimZone, self))
	for _, a := range addrs {
		m.Extra = append(m.Extra, addressRecord(oobVictimNS, a))
	}
}

// parentClaim adds to m what a FaultParentClaim server serving z adds: a
// DNAME at the apex of z's parent zone pointing into z, ahead of the
// answer section's data, and the parent zone handed to z's first name
// server, with that server's addresses, in the authority and additional
// sections.
func parentClaim(m *dns.Msg, z *Zone) {
	parent := parentOf(z.origin)
	dname := &dns.DNAME{
		Hdr:    dns.RR_Header{Name: parent, Rrtype: dns.TypeDNAME, Class: dns.ClassINET, Ttl: bogusTTL},
		Target: z.origin,
	}
	m.Answer = append([]dns.RR{dname}, m.Answer...)
	self, addrs := ownNameServer(z)
	if self == "" {
		return
	}
	m.Ns = append(m.Ns, nsRecord(parent, self))
	for _, a := range addrs {
		glue := addressRecord(self, a)
		if !slices.ContainsFunc(m.Extra, func(rr dns.RR) bool { return dns.IsDuplicate(rr, glue) }) {
			m.Extra = append(m.Extra, glue)
		}
	}
}

// forgedReply is the reply a FaultForge server forges for req: its ID and
// question as sent (mixed case and all), AA and RD as a real reply would
// have them, and a bogus AAAA record for an AAAA question, a bogus A
// record for any other. It is nil for a query without one question.
func forgedReply(req *dns.Msg) *dns.Msg {
	if len(req.Question) != 1 {
		return nil
	}
	q := req.Question[0]
	m := new(dns.Msg)
	m.Id = req.Id
	m.Response = true
	m.Authoritative = true
	m.Opcode = req.Opcode
	m.RecursionDesired = req.RecursionDesired
	m.Question = []dns.Question{q}
	m.Compress = true
	bogus := bogusA
	if q.Qtype == dns.TypeAAAA {
		bogus = bogusAAAA
	}
	m.Answer = []dns.RR{addressRecord(q.Name, bogus)}
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(ednsBufferSize, opt.Do())
	}
	return m
}

// forge sends the querier at to the reply forgedReply makes for req, from
// the handler's forger socket, before the real reply goes out. A failure
// is logged at Debug: the real reply follows all the same.
func (h *Handler) forge(to net.Addr, req *dns.Msg) {
	m := forgedReply(req)
	if m == nil || h.forger == nil {
		return
	}
	b, err := m.Pack()
	if err == nil {
		_, err = h.forger.WriteTo(b, to)
	}
	if err != nil {
		h.log.Debug("send forged reply", "server", h.name, "client", to.String(), "err", err)
		return
	}
	h.log.Debug("forged reply sent", "server", h.name, "client", to.String(), "qname", req.Question[0].Name)
}

// ownNameServer returns the first apex NS name of z and the addresses z
// holds for it, or "" if z has no NS record.
func ownNameServer(z *Zone) (string, []netip.Addr) {
	ns := z.NS()
	if len(ns) == 0 {
		return "", nil
	}
	name := ns[0].Ns
	var addrs []netip.Addr
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		for _, rr := range z.RRset(name, t) {
			if a, ok := rrAddr(rr); ok {
				addrs = append(addrs, a)
			}
		}
	}
	return name, addrs
}

// parentOf returns the name one label above name, "." for a top-level
// name and for the root itself.
func parentOf(name string) string {
	off, end := dns.NextLabel(name, 0)
	if end || name == "." {
		return "."
	}
	return name[off:]
}

// rrAddr returns the address an A or AAAA record holds.
func rrAddr(rr dns.RR) (netip.Addr, bool) {
	switch rr := rr.(type) {
	case *dns.A:
		return netip.AddrFromSlice(rr.A.To4())
	case *dns.AAAA:
		return netip.AddrFromSlice(rr.AAAA.To16())
	}
	return netip.Addr{}, false
}

// addressRecord returns an A record (an AAAA record for an IPv6 address)
// for name with the bogus TTL.
func addressRecord(name string, a netip.Addr) dns.RR {
	if a.Is4() {
		return &dns.A{
			Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: bogusTTL},
			A:   net.IP(a.AsSlice()),
		}
	}
	return &dns.AAAA{
		Hdr:  dns.RR_Header{Name: name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: bogusTTL},
		AAAA: net.IP(a.AsSlice()),
	}
}

// nsRecord returns an NS record for zone naming host, with the bogus TTL.
func nsRecord(zone, host string) dns.RR {
	return &dns.NS{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: bogusTTL}, Ns: host}
}
