package zones

import (
	"net"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// Fault is a misbehaviour a server shows on purpose, so resolvers can be
// tested against broken delegations and broken servers.
type Fault int

// The faults a lab server can have. FaultRefuse and FaultSilent serve no
// zone; every other fault serves its zones but misbehaves while doing so.
const (
	// FaultNone: the server answers from its zones.
	FaultNone Fault = iota
	// FaultRefuse: the server answers REFUSED to every query, like a lame
	// server that is not configured for the zones delegated to it.
	FaultRefuse
	// FaultSilent: the server reads queries and never answers, over UDP
	// or TCP, like a host that is down or a firewall that drops packets.
	FaultSilent
	// FaultSlow: the server answers correctly, but holds every reply for
	// slowDelay first, over UDP and TCP, like a distant or overloaded
	// server. A resolver should prefer its faster siblings.
	FaultSlow
	// FaultNoCase: the server answers correctly, but the question section
	// of its reply, like every owner name, is lower-case: it does not echo
	// the mixed case a resolver put in the query name for 0x20
	// (draft-vixie-dnsext-dns0x20).
	FaultNoCase
	// FaultEDNSFormErr: a query with an OPT record gets FORMERR without
	// OPT, as from a server that predates EDNS(0); a query without OPT is
	// answered normally. A resolver should retry without EDNS (RFC 6891
	// section 7).
	FaultEDNSFormErr
	// FaultEDNSDrop: a query with an OPT record gets no reply at all, as
	// behind a firewall that drops EDNS; a query without OPT is answered
	// normally.
	FaultEDNSDrop
	// FaultUpward: every query gets an upward referral to the root
	// (NOERROR, AA clear, no answer, the root's NS in the authority
	// section), which a resolver must treat as lame, not follow.
	FaultUpward
	// FaultNoAA: every query gets NOERROR with AA clear and every section
	// empty, from a server that is not authoritative for the zone it was
	// delegated.
	FaultNoAA
	// FaultENTNXDOMAIN: the server answers from its zones, except that an
	// empty non-terminal gets NXDOMAIN (with the SOA) instead of NODATA,
	// the broken behaviour relaxed QNAME minimisation must work around
	// (RFC 9156 section 2.3; RFC 8020 says NXDOMAIN means nothing below).
	FaultENTNXDOMAIN
	// FaultLossy: the server answers from its zones, but drops every
	// second query that comes over UDP (the first, the third, ...), as a
	// lossy path would; over TCP, which retransmits what the network
	// loses, every query is answered. Of any two queries in a row at least
	// one is answered, so a resolver that retries is sure to get a reply,
	// and tests that count on it are not flaky.
	FaultLossy
	// FaultTCPReset: every UDP query that a zone answers gets an empty
	// reply with TC set, as if the answer were too large, and every TCP
	// connection is reset (RST) when the reply would be written, like a
	// server behind a firewall that blocks TCP. A resolver's retry over
	// TCP (RFC 7766 section 5) fails with a reset connection.
	FaultTCPReset
	// FaultGarbage: every reply, over UDP and TCP, is the real one cut off
	// one octet into its first record (into its question or header when it
	// has no record): the ID, the flags and the question are right, but
	// the message cannot be parsed, like a reply mangled on its way.
	FaultGarbage
	// FaultOutOfBailiwick: a cache-poisoning attacker. The server answers
	// from its zones and adds records about names outside them (RFC 5452
	// section 6; RFC 2181 section 5.4.1 says not to trust them): an A and
	// an AAAA record with bogus addresses (192.0.2.66, 2001:db8::66) for
	// www.example.com. in the answer section, an NS record giving
	// example.com. to its own name server in the authority section, and
	// its own address for ns1.example.com. in the additional section.
	FaultOutOfBailiwick
	// FaultParentClaim: a cache-poisoning attacker that claims the zone
	// above the one it serves. The server answers from its zones and adds
	// a DNAME at the parent zone's apex that redirects the whole parent
	// into its own zone (ahead of the data in the answer section), and an
	// NS record naming its own name server as the parent's (in the
	// authority section, with its address in the additional section).
	FaultParentClaim
	// FaultForge: an off-path attacker racing the real server. The server
	// answers from its zones, but for each query over UDP it first sends
	// the querier a forged reply from another address on the same port
	// ([ServerOptions.ForgeFrom]): the query's ID and question, spelt as
	// asked, AA set, and a bogus address for the name (RFC 5452 section
	// 4). Only a resolver that reads replies from any address believes
	// it; a connected UDP socket never delivers it.
	FaultForge
	// FaultBadCookie: a server that insists on DNS cookies, as one under
	// attack may (RFC 7873 section 5.2.3). It answers from its zones a
	// query without a COOKIE option, or with a server cookie it made; any
	// other query carrying a client cookie gets BADCOOKIE, with a new
	// server cookie and no records. A resolver should ask again once with
	// that cookie (RFC 7873 section 5.3). A server with this fault
	// answers cookies even when its options do not ask it to.
	FaultBadCookie
)

// slowDelay is how long a FaultSlow server holds each reply: long enough
// that a resolver measuring RTTs ranks it well behind a healthy sibling,
// short enough to keep tests quick.
const slowDelay = 150 * time.Millisecond

// The upward referral a FaultUpward server gives: the lab root zone's
// first NS record with its glue, TTLs as in the root zone.
const (
	upwardNS      = "a.root-servers.net."
	upwardNSTTL   = 518400
	upwardGlue    = "127.53.0.1"
	upwardGlueTTL = 172800
)

// faultNames are the names String gives, indexed by Fault.
var faultNames = [...]string{
	FaultNone:           "none",
	FaultRefuse:         "refuse",
	FaultSilent:         "silent",
	FaultSlow:           "slow",
	FaultNoCase:         "nocase",
	FaultEDNSFormErr:    "edns-formerr",
	FaultEDNSDrop:       "edns-drop",
	FaultUpward:         "upward",
	FaultNoAA:           "noaa",
	FaultENTNXDOMAIN:    "ent-nxdomain",
	FaultLossy:          "lossy",
	FaultTCPReset:       "tcp-reset",
	FaultGarbage:        "garbage",
	FaultOutOfBailiwick: "out-of-bailiwick",
	FaultParentClaim:    "parent-claim",
	FaultForge:          "forge",
	FaultBadCookie:      "bad-cookie",
}

// String returns the fault's lower-case name: "none", "refuse", "silent",
// "slow", "nocase", "edns-formerr", "edns-drop", "upward", "noaa",
// "ent-nxdomain", "lossy", "tcp-reset", "garbage", "out-of-bailiwick",
// "parent-claim", "forge" or "bad-cookie"; "fault(N)" for any other value.
func (f Fault) String() string {
	if f >= 0 && int(f) < len(faultNames) {
		return faultNames[f]
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// servesZones reports whether a server with this fault serves the zones
// delegated to it; FaultRefuse and FaultSilent serve nothing.
func (f Fault) servesZones() bool {
	return f != FaultRefuse && f != FaultSilent
}

// upwardReferral fills m with the referral to the root that a FaultUpward
// server gives for every question.
func upwardReferral(m *dns.Msg) {
	m.Rcode = dns.RcodeSuccess
	m.Authoritative = false
	m.Answer = nil
	m.Ns = []dns.RR{&dns.NS{
		Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: upwardNSTTL},
		Ns:  upwardNS,
	}}
	m.Extra = []dns.RR{&dns.A{
		Hdr: dns.RR_Header{Name: upwardNS, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: upwardGlueTTL},
		A:   net.ParseIP(upwardGlue).To4(),
	}}
}

// notAuthoritative fills m as a FaultNoAA server does: NOERROR, AA clear,
// every section empty.
func notAuthoritative(m *dns.Msg) {
	m.Rcode = dns.RcodeSuccess
	m.Authoritative = false
	m.Answer, m.Ns, m.Extra = nil, nil, nil
}

// lowerCaseNames lower-cases the question and every owner name of m, as a
// FaultNoCase server does. Only ASCII letters change (RFC 4343 section 3).
func lowerCaseNames(m *dns.Msg) {
	for i := range m.Question {
		m.Question[i].Name = canonicalName(m.Question[i].Name)
	}
	for _, section := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range section {
			h := rr.Header()
			h.Name = canonicalName(h.Name)
		}
	}
}

// emptyNonTerminalNXDOMAIN turns the NODATA answer r for qname into
// NXDOMAIN when qname is an empty non-terminal of z, as a FaultENTNXDOMAIN
// server does. Every other response is left as it is.
func emptyNonTerminalNXDOMAIN(z *Zone, qname string, r *Response) {
	nodata := r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) == 0
	if nodata && z.isEmptyNonTerminal(qname) {
		r.Rcode = dns.RcodeNameError // the SOA already sits in the authority section
	}
}

// hasOPT reports whether req carries at least one OPT record.
func hasOPT(req *dns.Msg) bool {
	for _, rr := range req.Extra {
		if _, ok := rr.(*dns.OPT); ok {
			return true
		}
	}
	return false
}
