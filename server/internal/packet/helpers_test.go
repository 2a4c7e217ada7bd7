package packet

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// t0 is the fixed time of every Put in the tests.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// queryOpts are the knobs of a test query.
type queryOpts struct {
	id      uint16
	rd, cd  bool
	edns    bool
	do      bool
	udpSize uint16
	qclass  uint16 // 0: IN
}

// newQuery returns a query for name and qtype shaped by o.
func newQuery(name string, qtype uint16, o queryOpts) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = o.id
	m.RecursionDesired = o.rd
	m.CheckingDisabled = o.cd
	if o.qclass != 0 {
		m.Question[0].Qclass = o.qclass
	}
	if o.edns {
		m.SetEdns0(o.udpSize, o.do)
	}
	return m
}

// pack packs m with name compression, failing the test on an error.
func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	m.Compress = true
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("pack %v: %v", m.Question, err)
	}
	return b
}

// parse runs ParseQuery on pkt, failing the test if it is not plain.
func parse(t testing.TB, pkt []byte) *Query {
	t.Helper()
	q := new(Query)
	if !ParseQuery(pkt, q) {
		t.Fatalf("ParseQuery(% x) = false, want true", pkt)
	}
	return q
}

// rrs parses zone-format records, failing the test on an error.
func rrs(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("parse %q: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

// replyTo returns the reply to query with rcode and sections; it carries
// an OPT record (payload 1232, the query's DO) when the query has one.
func replyTo(query *dns.Msg, rcode int, answer, ns, extra []dns.RR) *dns.Msg {
	r := new(dns.Msg)
	r.SetRcode(query, rcode)
	r.RecursionAvailable = true
	r.Answer, r.Ns, r.Extra = answer, ns, extra
	if opt := query.IsEdns0(); opt != nil {
		r.SetEdns0(1232, opt.Do())
	}
	return r
}

// unpack unpacks b, failing the test on an error.
func unpack(t testing.TB, b []byte) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatalf("unpack % x: %v", b, err)
	}
	return m
}

// rrStrings returns the records in zone format, lower-cased, the OPT
// pseudo-record left out (it is compared on its own).
func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, strings.ToLower(rr.String()))
	}
	return out
}

// withTTLs returns copies of rrs with every TTL lowered by by seconds.
func withTTLs(rrs []dns.RR, by uint32) []dns.RR {
	out := make([]dns.RR, 0, len(rrs))
	for _, rr := range rrs {
		c := dns.Copy(rr)
		if c.Header().Rrtype != dns.TypeOPT {
			c.Header().Ttl -= by
		}
		out = append(out, c)
	}
	return out
}

// mustStore returns a new Store with opts, failing the test on an error.
func mustStore(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := NewStore(opts)
	if err != nil {
		t.Fatalf("NewStore(%+v): %v", opts, err)
	}
	return s
}
