package resolver

import (
	"strings"

	"github.com/miekg/dns"
)

// QNAME minimisation (RFC 9156): a zone's servers are asked about one
// label more than the zone is known to hold, with QTYPE A, until a
// referral shows the next zone cut or the full name is reached; only the
// servers of the name's own zone see the full name and type.
const (
	// maxMinimiseCount bounds the minimised queries for one name (RFC 9156
	// section 2.3, MAX_MINIMISE_COUNT).
	maxMinimiseCount = 10
	// minimiseOneLab is how many of them add a single label before later
	// ones add several, to stay under maxMinimiseCount for long names
	// (RFC 9156 section 2.3, MINIMISE_ONE_LAB).
	minimiseOneLab = 4
)

// minimiser walks one name's labels down for one lookup.
type minimiser struct {
	q     dns.Question
	on    bool
	total int // labels in the full name
	known int // labels of the deepest name known to exist: a zone cut, or a name that answered
	sent  int // minimised queries so far
	// asked is the label count of the name the last minimised query
	// carried.
	asked int
}

func newMinimiser(q dns.Question, zone string, on bool) *minimiser {
	// DS belongs to the parent side of a cut; the walk already starts at
	// the parent, and there is nothing to minimise.
	on = on && q.Qtype != dns.TypeDS
	return &minimiser{q: q, on: on, total: dns.CountLabel(q.Name), known: dns.CountLabel(zone)}
}

// next returns the question to send now, and whether it is minimised.
func (m *minimiser) next() (dns.Question, bool) {
	if !m.on || m.sent >= maxMinimiseCount {
		return m.q, false
	}
	add := 1
	if m.sent >= minimiseOneLab {
		left := maxMinimiseCount - m.sent
		add = max(1, (m.total-m.known+left-1)/left)
	}
	labels := m.known + add
	if labels >= m.total {
		return m.q, false
	}
	m.sent++
	m.asked = labels
	return dns.Question{Name: suffix(m.q.Name, labels), Qtype: dns.TypeA, Qclass: m.q.Qclass}, true
}

// enter records a referral to zone.
func (m *minimiser) enter(zone string) {
	m.known = max(m.known, dns.CountLabel(zone))
}

// learned records the reply to a minimised query that was not a referral.
// NOERROR (data or NODATA) means the name exists in this zone: go one
// label further. NXDOMAIN, a CNAME or DNAME, or anything else odd about an
// intermediate name: some servers get empty non-terminals wrong, so in
// relaxed mode the full name is asked instead (RFC 9156 section 3).
func (m *minimiser) learned(out outcome) {
	if out.kind == kindNODATA || out.kind == kindAnswer && !hasAlias(out.msg) {
		m.known = m.asked
		return
	}
	m.off()
}

// off stops minimising: the rest of the lookup asks the full name.
func (m *minimiser) off() { m.on = false }

func hasAlias(msg *dns.Msg) bool {
	for _, rr := range msg.Answer {
		if t := rr.Header().Rrtype; t == dns.TypeCNAME || t == dns.TypeDNAME {
			return true
		}
	}
	return false
}

// suffix returns the last n labels of name.
func suffix(name string, n int) string {
	labels := dns.SplitDomainName(name)
	if n >= len(labels) {
		return dns.Fqdn(name)
	}
	return dns.Fqdn(strings.Join(labels[len(labels)-n:], "."))
}
