package dnssec

import (
	"testing"

	"github.com/miekg/dns"
)

// The proofs with NSEC records, over the chain of example. (zone_test.go).

// proofCase is one proof and its expected outcome.
type proofCase struct {
	name   string
	qname  string
	qtype  uint16 // ProveNoData
	wild   string // ProveWildcardAnswer
	zone   string // "" is example.
	nsec   []*dns.NSEC
	nsec3  []*dns.NSEC3
	ok     bool
	reason Reason
	optOut bool // the optOut result
}

func (tc proofCase) zoneOr() string {
	if tc.zone == "" {
		return "example."
	}
	return tc.zone
}

func runNameError(t *testing.T, cases []proofCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			optOut, err := ProveNameError(tc.qname, tc.zoneOr(), tc.nsec, tc.nsec3, NewBudget(0, MaxNSEC3Hashes))
			wantReason(t, err, tc.ok, tc.reason)
			if optOut != tc.optOut {
				t.Errorf("optOut = %v, want %v", optOut, tc.optOut)
			}
		})
	}
}

func runNoData(t *testing.T, cases []proofCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			optOut, err := ProveNoData(tc.qname, tc.qtype, tc.zoneOr(), tc.nsec, tc.nsec3, NewBudget(0, MaxNSEC3Hashes))
			wantReason(t, err, tc.ok, tc.reason)
			if optOut != tc.optOut {
				t.Errorf("optOut = %v, want %v", optOut, tc.optOut)
			}
		})
	}
}

func runWildcard(t *testing.T, cases []proofCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			optOut, err := ProveWildcardAnswer(tc.qname, tc.wild, tc.zoneOr(), tc.nsec, tc.nsec3, NewBudget(0, MaxNSEC3Hashes))
			wantReason(t, err, tc.ok, tc.reason)
			if optOut != tc.optOut {
				t.Errorf("optOut = %v, want %v", optOut, tc.optOut)
			}
		})
	}
}

func runInsecure(t *testing.T, cases []proofCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			optOut, err := ProveInsecureDelegation(tc.qname, tc.zoneOr(), tc.nsec, tc.nsec3, NewBudget(0, MaxNSEC3Hashes))
			wantReason(t, err, tc.ok, tc.reason)
			if optOut != tc.optOut {
				t.Errorf("optOut = %v, want %v", optOut, tc.optOut)
			}
		})
	}
}

// ns lists NSEC records.
func ns(recs ...*dns.NSEC) []*dns.NSEC { return recs }

func TestNSECNameError(t *testing.T) {
	runNameError(t, []proofCase{
		{name: "covered, wildcard covered", qname: "b.example.", nsec: ns(nsecA, nsecApex), ok: true},
		{name: "any case, no final dot", qname: "B.Example", zone: "EXAMPLE", nsec: ns(nsecA, nsecApex), ok: true},
		{name: "below an existing name: the NSEC covers *.a.example. too", qname: "q.r.a.example.", nsec: ns(nsecA), ok: true},
		{name: "covered by the last NSEC", qname: "z.example.", nsec: ns(nsecXY, nsecApex), ok: true},
		{name: "one NSEC covers both", qname: "0.example.", nsec: ns(nsecApex), ok: true},
		{name: "wildcard proof missing", qname: "b.example.", nsec: ns(nsecA), reason: ReasonNSECMissing},
		{name: "NSEC does not cover the name", qname: "b.example.", nsec: ns(nsecXY, nsecApex), reason: ReasonNSECMissing},
		{name: "the name exists", qname: "a.example.", nsec: ns(nsecA, nsecApex), reason: ReasonBogus},
		{name: "the wildcard exists", qname: "q.w.example.", nsec: ns(nsecWild), reason: ReasonBogus},
		{name: "an empty non-terminal exists", qname: "y.example.", nsec: ns(nsecWild, nsecApex), reason: ReasonBogus},
		{name: "below a delegation, the parent cannot deny", qname: "a.sub.example.", nsec: ns(nsecSub, nsecApex), reason: ReasonNSECMissing},
		{name: "below a DNAME", qname: "x.d.example.",
			nsec: nsecs("d.example. example. DNAME RRSIG NSEC", "example. a.example. NS SOA RRSIG NSEC DNSKEY"), reason: ReasonNSECMissing},
		{name: "an NSEC at the name with a next name outside the zone", qname: "a.example.",
			nsec: ns(nsecApex, mkNSEC("a.example.", "\\.example.", dns.TypeA), nsecs("0.example. b.example. A")[0]), reason: ReasonBogus},
		{name: "next name outside the zone covers nothing", qname: "b.example.",
			nsec: nsecs("a.example. zz.other. A RRSIG NSEC", "example. a.example. NS SOA RRSIG NSEC DNSKEY"), reason: ReasonNSECMissing},
		{name: "no records", qname: "b.example.", reason: ReasonNSECMissing},
		{name: "name outside the zone", qname: "b.other.", nsec: ns(nsecA, nsecApex), reason: ReasonBogus},
	})
}

func TestNSECNoData(t *testing.T) {
	runNoData(t, []proofCase{
		{name: "NSEC at the name without the type", qname: "a.example.", qtype: dns.TypeMX, nsec: ns(nsecA), ok: true},
		{name: "bitmap has the type", qname: "a.example.", qtype: dns.TypeA, nsec: ns(nsecA), reason: ReasonBogus},
		{name: "bitmap has CNAME", qname: "c.example.", qtype: dns.TypeA, nsec: ns(nsecC), reason: ReasonBogus},
		{name: "apex", qname: "example.", qtype: dns.TypeA, nsec: ns(nsecApex), ok: true},
		{name: "DS at an unsigned delegation, parent side", qname: "ins.example.", qtype: dns.TypeDS, nsec: ns(nsecIns), ok: true},
		{name: "DS at a signed delegation", qname: "sub.example.", qtype: dns.TypeDS, nsec: ns(nsecSub), reason: ReasonBogus},
		{name: "DS denied by the child's apex NSEC", qname: "sub.example.", qtype: dns.TypeDS, zone: "sub.example.",
			nsec: ns(nsecSubApex), reason: ReasonBogus},
		{name: "DS denied by the child's apex NSEC, signer claimed the parent", qname: "sub.example.", qtype: dns.TypeDS,
			nsec: ns(nsecSubApex), reason: ReasonBogus},
		{name: "DS at the zone's own apex", qname: "example.", qtype: dns.TypeDS, nsec: ns(nsecApex), reason: ReasonBogus},
		{name: "DS at the root's apex", qname: ".", qtype: dns.TypeDS, zone: ".",
			nsec: nsecs(". aaa. NS SOA RRSIG NSEC DNSKEY"), ok: true},
		{name: "other type at a delegation, parent side", qname: "ins.example.", qtype: dns.TypeA, nsec: ns(nsecIns), reason: ReasonBogus},
		{name: "empty non-terminal", qname: "y.example.", qtype: dns.TypeA, nsec: ns(nsecWild), ok: true},
		{name: "empty non-terminal above a wildcard", qname: "w.example.", qtype: dns.TypeA, nsec: ns(nsecSub), ok: true},
		{name: "DS at an empty non-terminal", qname: "y.example.", qtype: dns.TypeDS, nsec: ns(nsecWild), ok: true},
		{name: "wildcard NODATA", qname: "q.w.example.", qtype: dns.TypeMX, nsec: ns(nsecWild), ok: true},
		{name: "wildcard has the type", qname: "q.w.example.", qtype: dns.TypeTXT, nsec: ns(nsecWild), reason: ReasonBogus},
		{name: "no wildcard at the closest encloser", qname: "b.example.", qtype: dns.TypeA, nsec: ns(nsecA, nsecApex), reason: ReasonNSECMissing},
		{name: "NSEC neither at nor covering", qname: "b.example.", qtype: dns.TypeA, nsec: ns(nsecXY), reason: ReasonNSECMissing},
		{name: "two NSECs at the name, one with the type", qname: "a.example.", qtype: dns.TypeMX,
			nsec: ns(nsecA, mkNSEC("a.example.", "c.example.", dns.TypeMX)), reason: ReasonBogus},
		{name: "no records", qname: "a.example.", qtype: dns.TypeMX, reason: ReasonNSECMissing},
	})
}

func TestNSECWildcardAnswer(t *testing.T) {
	runWildcard(t, []proofCase{
		{name: "covered", qname: "q.w.example.", wild: "*.w.example.", nsec: ns(nsecWild), ok: true},
		{name: "two labels below the closest encloser", qname: "p.q.w.example.", wild: "*.w.example.", nsec: ns(nsecWild), ok: true},
		{name: "without the covering NSEC", qname: "q.w.example.", wild: "*.w.example.", nsec: ns(nsecApex), reason: ReasonNSECMissing},
		{name: "no records", qname: "q.w.example.", wild: "*.w.example.", reason: ReasonNSECMissing},
		{name: "the name exists", qname: "a.example.", wild: "*.example.", nsec: ns(nsecA), reason: ReasonBogus},
		{name: "a closer name exists", qname: "q.y.example.", wild: "*.example.", nsec: ns(nsecWild), reason: ReasonBogus},
		{name: "not a wildcard", qname: "q.w.example.", wild: "w.example.", nsec: ns(nsecWild), reason: ReasonBogus},
		{name: "name not below the closest encloser", qname: "b.example.", wild: "*.w.example.", nsec: ns(nsecA), reason: ReasonBogus},
		{name: "the wildcard itself", qname: "*.w.example.", wild: "*.w.example.", nsec: ns(nsecWild), reason: ReasonBogus},
	})
}

func TestNSECInsecureDelegation(t *testing.T) {
	runInsecure(t, []proofCase{
		{name: "NS without DS", qname: "ins.example.", nsec: ns(nsecIns), ok: true},
		{name: "with DS", qname: "sub.example.", nsec: ns(nsecSub), reason: ReasonBogus},
		{name: "the child's apex NSEC", qname: "sub.example.", nsec: ns(nsecSubApex), reason: ReasonBogus},
		{name: "not a delegation", qname: "a.example.", nsec: ns(nsecA), reason: ReasonBogus},
		{name: "the name does not exist", qname: "b.example.", nsec: ns(nsecA), reason: ReasonBogus},
		{name: "no NSEC at the name", qname: "ins.example.", nsec: ns(nsecA), reason: ReasonNSECMissing},
		{name: "the zone itself", qname: "example.", nsec: ns(nsecApex), reason: ReasonBogus},
		{name: "no records", qname: "ins.example.", reason: ReasonNSECMissing},
	})
}
