package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/resolver"
	"github.com/rootwalk/rootwalk/zones"
)

// dnssecCase is one question about the signed lab and what a validating
// resolver must answer: the rcode and whether the answer is secure (AD).
type dnssecCase struct {
	name   string
	qname  string
	qtype  uint16
	rcode  int
	secure bool
	ede    uint16 // for a bogus case, the Extended DNS Error rootwalk gives
}

// dnssecCases covers every kind of signed, insecure and broken data the
// lab has (zones/labsign.go).
var dnssecCases = []dnssecCase{
	{name: "secure answer (ECDSA, NSEC zone)", qname: "www.example.com.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure name error (NSEC)", qname: "nope.example.com.", qtype: dns.TypeA, rcode: dns.RcodeNameError, secure: true},
	{name: "secure NODATA (NSEC)", qname: "ipv4only.example.com.", qtype: dns.TypeAAAA, rcode: dns.RcodeSuccess, secure: true},
	// A zone's own keys, asked by the client: validated from the reply in
	// hand, not by asking for them again inside the walk that asks.
	{name: "a zone's DNSKEY RRset", qname: "example.com.", qtype: dns.TypeDNSKEY, rcode: dns.RcodeSuccess, secure: true},
	{name: "a TLD's DNSKEY RRset", qname: "org.", qtype: dns.TypeDNSKEY, rcode: dns.RcodeSuccess, secure: true},
	{name: "an expired DNSKEY RRset", qname: "sig-expired.org.", qtype: dns.TypeDNSKEY, rcode: dns.RcodeServerFailure, ede: dns.ExtendedErrorCodeSignatureExpired},
	{name: "secure wildcard answer (NSEC)", qname: "x.wild.example.com.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure wildcard NODATA (NSEC)", qname: "x.wild.example.com.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure answer three cuts deep (Ed25519, NSEC3)", qname: "host.sub.example.com.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure answer (RSA/SHA-256, NSEC3) behind a glueless delegation", qname: "www.example.net.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure CNAME chain across three zones", qname: "alias.example.com.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure DNAME", qname: "www.legacy.example.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure name under six empty non-terminals", qname: "a.b.c.d.e.f.g.example.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure NODATA at an empty non-terminal", qname: "b.c.d.e.f.g.example.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure name error in a TLD (NSEC3)", qname: "nope.net.", qtype: dns.TypeA, rcode: dns.RcodeNameError, secure: true},
	{name: "secure name error in a TLD (NSEC)", qname: "nope.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError, secure: true},
	{name: "secure DS", qname: "example.com.", qtype: dns.TypeDS, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure no-DS proof (NSEC3)", qname: "nocase.net.", qtype: dns.TypeDS, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure no-DS proof (NSEC)", qname: "insecure.org.", qtype: dns.TypeDS, rcode: dns.RcodeSuccess, secure: true},
	{name: "secure answer needing TCP", qname: "big.example.com.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, secure: true},
	{name: "the RRSIG-less zone's signed TXT", qname: "www.rrsig-missing.org.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, secure: true},
	{name: "the forged zone's genuine answer", qname: "www.nsec-forged.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},

	{name: "insecure: unsigned zone, no DS proven by NSEC", qname: "www.insecure.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess},
	{name: "insecure: unsigned zone, no DS proven by NSEC3", qname: "www.nocase.net.", qtype: dns.TypeA, rcode: dns.RcodeSuccess},
	{name: "insecure: unsigned zone under an NSEC3 opt-out span", qname: "www.partly-lame.com.", qtype: dns.TypeA, rcode: dns.RcodeSuccess},
	{name: "insecure: name error under an opt-out span", qname: "nope.com.", qtype: dns.TypeA, rcode: dns.RcodeNameError},
	{name: "insecure: no-DS proof under an opt-out span", qname: "lame.com.", qtype: dns.TypeDS, rcode: dns.RcodeSuccess},
	{name: "insecure: algorithm RSA/MD5", qname: "www.unknown-algo.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess},
	{name: "secure answer from a zone of 151 NSEC3 iterations", qname: "www.nsec3-iterations.org.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, secure: true},
	{name: "insecure: a name error proven with 151 NSEC3 iterations", qname: "nope.nsec3-iterations.org.", qtype: dns.TypeA, rcode: dns.RcodeNameError},

	{name: "bogus: expired signatures", qname: "www.sig-expired.org.", qtype: dns.TypeA, rcode: dns.RcodeServerFailure,
		ede: dns.ExtendedErrorCodeSignatureExpired},
	{name: "bogus: DS matching no key", qname: "www.ds-mismatch.org.", qtype: dns.TypeA, rcode: dns.RcodeServerFailure,
		ede: dns.ExtendedErrorCodeDNSKEYMissing},
	{name: "bogus: RRSIG missing", qname: "www.rrsig-missing.org.", qtype: dns.TypeA, rcode: dns.RcodeServerFailure,
		ede: dns.ExtendedErrorCodeRRSIGsMissing},
	{name: "bogus: forged NSEC", qname: "gone.nsec-forged.org.", qtype: dns.TypeA, rcode: dns.RcodeServerFailure,
		ede: dns.ExtendedErrorCodeDNSBogus},
}

// askDO asks name with the DO bit over UDP, then TCP if truncated.
func askDO(t *testing.T, addr string, name string, qtype uint16) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(1232, true)
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 10 * time.Second}
		reply, _, err := c.Exchange(q, addr)
		if err != nil {
			t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], network, err)
		}
		if !reply.Truncated {
			return reply
		}
	}
	t.Fatalf("%s %s: truncated over TCP", name, dns.TypeToString[qtype])
	return nil
}

// TestUnboundValidatesLab checks the signed lab against a real validator,
// and rootwalk's validator against it: Unbound, given the lab's trust
// anchor, finds every case as secure, insecure or bogus as the lab means it
// to be, and rootwalk, given the same anchor on the same lab, agrees with
// it on the rcode and the AD bit of each (the differential test).
func TestUnboundValidatesLab(t *testing.T) {
	unbound := dnstest.Program(t, "unbound")
	lab := startLab53(t)
	ubAddr, _ := startUnbound(t, unbound, lab, true)
	rw := startStack(t, lab, withLabAnchor(t))
	for _, c := range dnssecCases {
		t.Run(c.name, func(t *testing.T) {
			reply := askDO(t, ubAddr.String(), c.qname, c.qtype)
			if reply.Rcode != c.rcode || reply.AuthenticatedData != c.secure {
				t.Errorf("unbound: %s %s: rcode %s, AD %v; want %s, AD %v", c.qname, dns.TypeToString[c.qtype],
					dns.RcodeToString[reply.Rcode], reply.AuthenticatedData, dns.RcodeToString[c.rcode], c.secure)
			}
			got := askDO(t, rw.addr.String(), c.qname, c.qtype)
			if got.Rcode != reply.Rcode || got.AuthenticatedData != reply.AuthenticatedData {
				t.Errorf("rootwalk: rcode %s, AD %v; unbound: rcode %s, AD %v", dns.RcodeToString[got.Rcode], got.AuthenticatedData,
					dns.RcodeToString[reply.Rcode], reply.AuthenticatedData)
			}
		})
	}
}

// labKeys returns every DNSKEY of the signed lab, by zone.
func labKeys(t *testing.T) map[string][]*dns.DNSKEY {
	t.Helper()
	all, err := zones.LabZones()
	if err != nil {
		t.Fatal(err)
	}
	keys := make(map[string][]*dns.DNSKEY)
	for _, z := range all {
		for _, rr := range z.RRset(z.Origin(), dns.TypeDNSKEY) {
			keys[z.Origin()] = append(keys[z.Origin()], rr.(*dns.DNSKEY))
		}
	}
	return keys
}

// verifySection checks every RRSIG of rrs over its RRset in rrs with the
// lab's keys, and returns the "owner/TYPE" of each RRset that has a
// signature that verifies.
func verifySection(t *testing.T, keys map[string][]*dns.DNSKEY, rrs []dns.RR) map[string]bool {
	t.Helper()
	sets := make(map[string][]dns.RR)
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeRRSIG {
			k := strings.ToLower(rr.Header().Name) + "/" + dns.TypeToString[rr.Header().Rrtype]
			sets[k] = append(sets[k], rr)
		}
	}
	signed := make(map[string]bool)
	for _, rr := range rrs {
		sig, ok := rr.(*dns.RRSIG)
		if !ok {
			continue
		}
		k := strings.ToLower(sig.Hdr.Name) + "/" + dns.TypeToString[sig.TypeCovered]
		ok = false
		for _, key := range keys[strings.ToLower(sig.SignerName)] {
			ok = ok || (key.KeyTag() == sig.KeyTag && sig.Verify(key, sets[k]) == nil)
		}
		if !ok {
			t.Errorf("the RRSIG over %s does not verify with %s's keys: %v", k, sig.SignerName, sig)
		}
		signed[k] = signed[k] || ok
	}
	return signed
}

// TestDNSSECRecordsPassThrough: rootwalk does not validate yet, but is
// security-aware (RFC 4035 section 3.2.1): a client that sets DO gets the
// RRSIGs over every RRset of a signed zone, and the NSEC or NSEC3 records
// that prove a denial, each signature still verifying with the lab's keys;
// a client that does not set DO gets none of them.
func TestDNSSECRecordsPassThrough(t *testing.T) {
	lab := startLab(t, labPort())
	rw := startStack(t, lab)
	keys := labKeys(t)
	for _, c := range dnssecCases {
		if !c.secure {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			for range 2 { // the walk, then the cache
				reply := askDO(t, rw.addr.String(), c.qname, c.qtype)
				if reply.Rcode != c.rcode {
					t.Fatalf("rcode %s, want %s", dns.RcodeToString[reply.Rcode], dns.RcodeToString[c.rcode])
				}
				signed := verifySection(t, keys, reply.Answer)
				for _, rr := range reply.Answer {
					h := rr.Header()
					k := strings.ToLower(h.Name) + "/" + dns.TypeToString[h.Rrtype]
					if h.Rrtype != dns.TypeRRSIG && !signed[k] && !synthesized(reply.Answer, rr) {
						t.Errorf("answer RRset %s has no RRSIG", k)
					}
				}
				verifySection(t, keys, reply.Ns)
				if len(reply.Answer) == 0 && !slices.ContainsFunc(reply.Ns, func(rr dns.RR) bool {
					return rr.Header().Rrtype == dns.TypeNSEC || rr.Header().Rrtype == dns.TypeNSEC3
				}) {
					t.Errorf("a denial without NSEC or NSEC3: %v", reply.Ns)
				}
			}
			plain := askFull(t, rw.addr, c.qname, c.qtype)
			checkPlain(t, plain)
		})
	}
	// The other order: a name error cached without DO, then asked with DO
	// (name errors are cached by name alone, RFC 8020).
	for _, name := range []string{"other.example.com.", "x.y.other.example.net."} {
		t.Run("DO after plain: "+name, func(t *testing.T) {
			checkPlain(t, askFull(t, rw.addr, name, dns.TypeA))
			reply := askDO(t, rw.addr.String(), name, dns.TypeA)
			if reply.Rcode != dns.RcodeNameError || !slices.ContainsFunc(reply.Ns, func(rr dns.RR) bool {
				return rr.Header().Rrtype == dns.TypeNSEC || rr.Header().Rrtype == dns.TypeNSEC3
			}) {
				t.Errorf("%s with DO after a plain query: rcode %s, authority %v; want NXDOMAIN with its proof",
					name, dns.RcodeToString[reply.Rcode], reply.Ns)
			}
			verifySection(t, keys, reply.Ns)
		})
	}
}

// checkPlain fails if a reply to a query without DO holds DNSSEC records.
func checkPlain(t *testing.T, plain *dns.Msg) {
	t.Helper()
	for _, rr := range slices.Concat(plain.Answer, plain.Ns) {
		switch rr.Header().Rrtype {
		case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
			t.Errorf("without DO: %v", rr)
		}
	}
}

// synthesized reports whether rr is a CNAME made from a DNAME in answer
// (RFC 6672): it carries no signature of its own.
func synthesized(answer []dns.RR, rr dns.RR) bool {
	c, ok := rr.(*dns.CNAME)
	if !ok {
		return false
	}
	for _, a := range answer {
		if d, ok := a.(*dns.DNAME); ok && dns.IsSubDomain(d.Hdr.Name, c.Hdr.Name) && !strings.EqualFold(d.Hdr.Name, c.Hdr.Name) {
			return true
		}
	}
	return false
}

// withLabAnchor has the stack's resolver validate from the lab's anchor.
func withLabAnchor(t *testing.T) func(*resolver.Options) {
	t.Helper()
	text, err := zones.LabAnchor()
	if err != nil {
		t.Fatal(err)
	}
	rrs, err := resolver.ParseTrustAnchors(strings.NewReader(text), "lab")
	if err != nil {
		t.Fatal(err)
	}
	return func(o *resolver.Options) { o.TrustAnchors = rrs }
}

// TestValidation: rootwalk, validating from the lab's anchor, finds every
// signed, unsigned and broken case of the lab as Unbound does
// (TestUnboundValidatesLab): AD on secure answers for a client that asks
// with DO, SERVFAIL with the Extended DNS Error that says why for bogus
// ones, and the data without validation when the client sets CD.
func TestValidation(t *testing.T) {
	lab := startLab(t, labPort())
	rw := startStack(t, lab, withLabAnchor(t))
	for _, c := range dnssecCases {
		t.Run(c.name, func(t *testing.T) {
			for round := range 2 { // the walk, then the cache
				reply := askDO(t, rw.addr.String(), c.qname, c.qtype)
				if reply.Rcode != c.rcode || reply.AuthenticatedData != c.secure {
					t.Errorf("round %d: %s %s: rcode %s, AD %v; want %s, AD %v", round, c.qname, dns.TypeToString[c.qtype],
						dns.RcodeToString[reply.Rcode], reply.AuthenticatedData, dns.RcodeToString[c.rcode], c.secure)
				}
				if c.ede != 0 {
					if got := edeCodes(reply); !slices.Contains(got, c.ede) {
						t.Errorf("round %d: Extended DNS Errors %v, want %d (%s)", round, got, c.ede, dns.ExtendedErrorCodeToString[c.ede])
					}
				}
			}
			// Without DO, AD only when the client set it (RFC 6840 section 5.8).
			q := new(dns.Msg)
			q.SetQuestion(c.qname, c.qtype)
			if r := exchangeTCP(t, rw.addr.String(), q); r.AuthenticatedData {
				t.Errorf("AD set for a client that asked with neither AD nor DO")
			}
			q.AuthenticatedData = true
			if r := exchangeTCP(t, rw.addr.String(), q); r.AuthenticatedData != c.secure {
				t.Errorf("AD %v for a client that set AD, want %v", r.AuthenticatedData, c.secure)
			}
			if c.rcode == dns.RcodeServerFailure {
				// Checking disabled: the data as the servers gave it.
				q := new(dns.Msg)
				q.SetQuestion(c.qname, c.qtype)
				q.SetEdns0(1232, true)
				q.CheckingDisabled = true
				if r := exchangeTCP(t, rw.addr.String(), q); r.Rcode == dns.RcodeServerFailure || r.AuthenticatedData {
					t.Errorf("with CD: rcode %s, AD %v; want the unchecked data without AD", dns.RcodeToString[r.Rcode], r.AuthenticatedData)
				}
			}
		})
	}
}

// exchangeTCP sends q over TCP (no truncation to bother with).
func exchangeTCP(t *testing.T, addr string, q *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
	r, _, err := c.Exchange(q, addr)
	if err != nil {
		t.Fatalf("%s over TCP: %v", q.Question[0].Name, err)
	}
	return r
}

// edeCodes returns the Extended DNS Error codes of m.
func edeCodes(m *dns.Msg) []uint16 {
	var out []uint16
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				out = append(out, e.InfoCode)
			}
		}
	}
	return out
}

// TestValidationAfterCD: what a client with CD was given unchecked stays
// with CD queries. A bogus name error asked with CD first, then without,
// is still SERVFAIL (name errors are cached by name alone, RFC 8020), and
// so is a bogus answer.
func TestValidationAfterCD(t *testing.T) {
	lab := startLab(t, labPort())
	rw := startStack(t, lab, withLabAnchor(t))
	for _, c := range dnssecCases {
		if c.rcode != dns.RcodeServerFailure {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion(c.qname, c.qtype)
			q.SetEdns0(1232, true)
			q.CheckingDisabled = true
			if r := exchangeTCP(t, rw.addr.String(), q); r.Rcode == dns.RcodeServerFailure {
				t.Fatalf("with CD: SERVFAIL")
			}
			for _, do := range []bool{true, false} {
				q := new(dns.Msg)
				q.SetQuestion(c.qname, c.qtype)
				q.SetEdns0(1232, do)
				if r := exchangeTCP(t, rw.addr.String(), q); r.Rcode != dns.RcodeServerFailure {
					t.Errorf("DO %v after a CD query: rcode %s, want SERVFAIL", do, dns.RcodeToString[r.Rcode])
				}
			}
		})
	}
}

// TestNegativeTrustAnchorAndOverrideDate: a negative trust anchor (RFC
// 7646) turns a bogus zone's answers into insecure ones and leaves the
// others validated; an override date makes signatures be checked as of
// then.
func TestNegativeTrustAnchorAndOverrideDate(t *testing.T) {
	lab := startLab(t, labPort())
	anchor := withLabAnchor(t)
	nta := startStack(t, lab, anchor, func(o *resolver.Options) { o.NegativeTrustAnchors = []string{"Sig-Expired.org"} })
	if r := askDO(t, nta.addr.String(), "www.sig-expired.org.", dns.TypeA); r.Rcode != dns.RcodeSuccess || r.AuthenticatedData {
		t.Errorf("under a negative trust anchor: rcode %s, AD %v; want NOERROR without AD", dns.RcodeToString[r.Rcode], r.AuthenticatedData)
	}
	if r := askDO(t, nta.addr.String(), "www.ds-mismatch.org.", dns.TypeA); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("beside the negative trust anchor: rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
	if r := askDO(t, nta.addr.String(), "www.example.com.", dns.TypeA); !r.AuthenticatedData {
		t.Error("beside the negative trust anchor: a secure answer without AD")
	}

	// The lab's signatures are valid for 30 days: 60 days on, all expired.
	later := startStack(t, lab, anchor, func(o *resolver.Options) { o.ValidationTime = time.Now().Add(60 * 24 * time.Hour) })
	r := askDO(t, later.addr.String(), "www.example.com.", dns.TypeA)
	if r.Rcode != dns.RcodeServerFailure || !slices.Contains(edeCodes(r), dns.ExtendedErrorCodeSignatureExpired) {
		t.Errorf("checked 60 days on: rcode %s, EDE %v; want SERVFAIL, Signature Expired", dns.RcodeToString[r.Rcode], edeCodes(r))
	}
}

// TestAnchorStateFile: with an anchor state file, the root's anchors are
// tracked by RFC 5011 (resolver/internal/anchors): the first validated
// root DNSKEY RRset makes the key the DS anchor points to a trusted
// DNSKEY, saved in the file, and a second resolver starting from that
// file alone (its configured anchor a DS that matches nothing) still
// validates.
func TestAnchorStateFile(t *testing.T) {
	lab := startLab(t, labPort())
	state := filepath.Join(t.TempDir(), "root.json")
	anchor := withLabAnchor(t)
	first := startStack(t, lab, anchor, func(o *resolver.Options) { o.AnchorStateFile = state })
	if r := askDO(t, first.addr.String(), "www.example.com.", dns.TypeA); !r.AuthenticatedData {
		t.Fatalf("first resolver: no AD (rcode %s)", dns.RcodeToString[r.Rcode])
	}
	data, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Zone string `json:"zone"`
		Keys []struct {
			State  string `json:"state"`
			DNSKEY string `json:"dnskey"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	valid := 0
	for _, k := range file.Keys {
		if k.State == "valid" && strings.Contains(k.DNSKEY, " 257 3 8 ") {
			valid++
		}
	}
	if file.Zone != "." || valid != 1 {
		t.Fatalf("state file %s: want the root's KSK, valid", data)
	}

	// A second resolver whose configured anchor is useless: the state
	// file, not the configuration, says what is trusted.
	stale, err := dns.NewRR(". 3600 IN DS 1 8 2 0000000000000000000000000000000000000000000000000000000000000000")
	if err != nil {
		t.Fatal(err)
	}
	second := startStack(t, lab, func(o *resolver.Options) {
		o.TrustAnchors = []dns.RR{stale}
		o.AnchorStateFile = state
	})
	if r := askDO(t, second.addr.String(), "www.example.org.", dns.TypeA); !r.AuthenticatedData {
		t.Errorf("second resolver, from the state file: no AD (rcode %s)", dns.RcodeToString[r.Rcode])
	}
}

// TestAggressiveNSEC: once a secure name error has brought the NSEC
// records that cover a span of example.com. (mail to ns1) and its
// wildcard, another name in that span is answered NXDOMAIN from them,
// secure, with no query to the lab (RFC 8198), and counted; a name outside
// every cached span is still asked.
func TestAggressiveNSEC(t *testing.T) {
	lab := startLab(t, labPort())
	rw := startStack(t, lab, withLabAnchor(t))
	if r := askDO(t, rw.addr.String(), "nope.example.com.", dns.TypeA); r.Rcode != dns.RcodeNameError || !r.AuthenticatedData {
		t.Fatalf("nope.example.com: rcode %s, AD %v", dns.RcodeToString[r.Rcode], r.AuthenticatedData)
	}
	before := lab.Queries()
	for _, name := range []string{"n.example.com.", "nothing-here.example.com.", "x.nope.example.com."} {
		r := askDO(t, rw.addr.String(), name, dns.TypeAAAA)
		if r.Rcode != dns.RcodeNameError || !r.AuthenticatedData {
			t.Errorf("%s: rcode %s, AD %v; want a secure NXDOMAIN", name, dns.RcodeToString[r.Rcode], r.AuthenticatedData)
		}
		if !slices.ContainsFunc(r.Ns, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeNSEC }) {
			t.Errorf("%s: no NSEC in %v", name, r.Ns)
		}
	}
	if n := lab.Queries() - before; n != 0 {
		t.Errorf("%d queries to the lab for names the cached NSEC records cover, want 0", n)
	}
	if got := rw.resolver.Stats().AggressiveNXDOMAIN; got < 2 {
		t.Errorf("AggressiveNXDOMAIN = %d, want at least 2", got)
	}
	// Outside the spans: asked upstream (and answered as it is).
	before = lab.Queries()
	if r := askDO(t, rw.addr.String(), "zzz.example.com.", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("zzz.example.com: rcode %s", dns.RcodeToString[r.Rcode])
	}
	if lab.Queries() == before {
		t.Error("zzz.example.com., outside the cached spans, was not asked upstream")
	}
}

// TestSecureTTLCappedBySignatures: a secure answer is given, and cached,
// for no longer than its signatures stay valid (RFC 4035 section 5.3.3).
// Checked as of ten minutes before the lab's signatures expire (30 days
// after it signed), the 3600 s A record of www.example.com comes with at
// most 600 s.
func TestSecureTTLCappedBySignatures(t *testing.T) {
	lab := startLab(t, labPort())
	soon := time.Now().Add(30*24*time.Hour - 10*time.Minute)
	rw := startStack(t, lab, withLabAnchor(t), func(o *resolver.Options) { o.ValidationTime = soon })
	r := askDO(t, rw.addr.String(), "www.example.com.", dns.TypeA)
	if !r.AuthenticatedData || len(r.Answer) == 0 {
		t.Fatalf("rcode %s, AD %v, answer %v", dns.RcodeToString[r.Rcode], r.AuthenticatedData, r.Answer)
	}
	for _, rr := range r.Answer {
		if rr.Header().Ttl > 600 {
			t.Errorf("TTL %d for %v, want at most 600: the signature expires in 10 minutes", rr.Header().Ttl, rr)
		}
	}
}
