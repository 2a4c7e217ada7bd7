package zones

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/canonical"
	"github.com/rootwalk/rootwalk/zones/internal/sign"
)

// signTestZone is a zone with every case a DO query can meet: data, a
// wildcard, an empty non-terminal (b.example.), a signed and an unsigned
// delegation.
const signTestZone = `$ORIGIN example.
$TTL 3600
@            IN SOA ns1.example. host.example. 1 7200 3600 1209600 300
@            IN NS  ns1.example.
ns1          IN A   192.0.2.1
www          IN A   192.0.2.10
www          IN TXT "hello"
*.wild       IN A   192.0.2.99
a.b          IN A   192.0.2.20
secure       IN NS  ns1.secure.example.
secure       IN DS  12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns1.secure   IN A   192.0.2.30
insecure     IN NS  ns1.insecure.example.
ns1.insecure IN A   192.0.2.31
`

var testKeys = sync.OnceValues(func() ([2]*sign.Key, error) {
	ksk, err := sign.NewKey("example.", dns.ECDSAP256SHA256, true)
	if err != nil {
		return [2]*sign.Key{}, err
	}
	zsk, err := sign.NewKey("example.", dns.ECDSAP256SHA256, false)
	return [2]*sign.Key{ksk, zsk}, err
})

// signedTestZone parses signTestZone and signs it as denial and optOut say.
func signedTestZone(t *testing.T, denial sign.Denial, optOut bool) (*Zone, *sign.Key) {
	t.Helper()
	z, err := Parse(strings.NewReader(signTestZone), "example.", "test")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	extra, err := sign.Sign(z.origin, z.Records(), sign.Options{
		KSK: keys[0], ZSK: keys[1], Inception: now.Add(-time.Hour), Expiration: now.Add(time.Hour),
		Denial: denial, OptOut: optOut,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := z.WithDNSSEC(extra)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Signed() || z.Signed() {
		t.Fatalf("Signed: %v for the signed copy, %v for the original", s.Signed(), z.Signed())
	}
	return s, keys[1]
}

// rrsets groups rrs by owner and type, RRSIGs by the type they cover.
func rrsets(rrs []dns.RR) (sets map[string][]dns.RR, sigs map[string][]*dns.RRSIG) {
	sets, sigs = make(map[string][]dns.RR), make(map[string][]*dns.RRSIG)
	for _, rr := range rrs {
		h := rr.Header()
		if sig, ok := rr.(*dns.RRSIG); ok {
			k := strings.ToLower(h.Name) + "/" + dns.TypeToString[sig.TypeCovered]
			sigs[k] = append(sigs[k], sig)
			continue
		}
		k := strings.ToLower(h.Name) + "/" + dns.TypeToString[h.Rrtype]
		sets[k] = append(sets[k], rr)
	}
	return sets, sigs
}

// checkSigned fails unless every RRset of rrs but those in unsigned has an
// RRSIG that verifies with key, and returns the RRsets by "owner/TYPE".
func checkSigned(t *testing.T, rrs []dns.RR, key *sign.Key, unsigned ...string) map[string][]dns.RR {
	t.Helper()
	sets, sigs := rrsets(rrs)
	for k, set := range sets {
		skip := false
		for _, u := range unsigned {
			skip = skip || u == k
		}
		if skip {
			if len(sigs[k]) > 0 {
				t.Errorf("%s: signed, want no RRSIG", k)
			}
			continue
		}
		if len(sigs[k]) == 0 {
			t.Errorf("%s: no RRSIG", k)
			continue
		}
		for _, sig := range sigs[k] {
			if err := sig.Verify(key.DNSKEY, set); err != nil {
				t.Errorf("%s: RRSIG does not verify: %v", k, err)
			}
		}
	}
	return sets
}

func TestLookupDNSSECPositive(t *testing.T) {
	z, zsk := signedTestZone(t, sign.NSEC, false)
	r := z.LookupDNSSEC("WWW.example.", dns.TypeA)
	sets := checkSigned(t, r.Answer, zsk)
	if len(sets["www.example./A"]) != 1 || len(r.Answer) != 2 {
		t.Fatalf("answer %v, want the A record and its RRSIG", r.Answer)
	}
	if plain := z.Lookup("www.example.", dns.TypeA); len(plain.Answer) != 1 {
		t.Errorf("without DO: %v, want the A record alone", plain.Answer)
	}
	// A wildcard answer: the signature of *.wild, under the name asked,
	// whose Labels field says so; and the NSEC proving that the name
	// itself does not exist.
	r = z.LookupDNSSEC("x.wild.example.", dns.TypeA)
	checkSigned(t, r.Answer, zsk)
	_, sigs := rrsets(r.Answer)
	if s := sigs["x.wild.example./A"]; len(s) != 1 || s[0].Labels != 2 {
		t.Errorf("wildcard RRSIG %v, want one with Labels 2", s)
	}
	checkSigned(t, r.Authority, zsk)
	if !nsecCovers(r.Authority, "x.wild.example.") {
		t.Errorf("wildcard answer: no NSEC covers x.wild.example. in %v", r.Authority)
	}
}

func TestLookupDNSSECNegativeNSEC(t *testing.T) {
	z, zsk := signedTestZone(t, sign.NSEC, false)
	for _, tc := range []struct {
		name        string
		qname       string
		qtype       uint16
		rcode       int
		cover       []string // names an NSEC in the authority section must cover
		at          string   // the name whose own NSEC must be there
		lacks       uint16   // the type the NSEC at `at` must not list
		referralDS  bool
		referralNSC bool
	}{
		{name: "name error", qname: "nope.example.", qtype: dns.TypeA, rcode: dns.RcodeNameError,
			cover: []string{"nope.example.", "*.example."}},
		{name: "nodata", qname: "www.example.", qtype: dns.TypeMX, at: "www.example.", lacks: dns.TypeMX},
		{name: "empty non-terminal", qname: "b.example.", qtype: dns.TypeA, cover: []string{"b.example."}},
		{name: "wildcard nodata", qname: "x.wild.example.", qtype: dns.TypeMX, cover: []string{"x.wild.example."},
			at: "*.wild.example.", lacks: dns.TypeMX},
		{name: "referral to a signed zone", qname: "www.secure.example.", qtype: dns.TypeA, referralDS: true},
		{name: "referral to an unsigned zone", qname: "www.insecure.example.", qtype: dns.TypeA,
			at: "insecure.example.", lacks: dns.TypeDS},
		{name: "DS of an unsigned zone", qname: "insecure.example.", qtype: dns.TypeDS,
			at: "insecure.example.", lacks: dns.TypeDS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := z.LookupDNSSEC(tc.qname, tc.qtype)
			if r.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			}
			unsigned := []string{}
			if tc.referralDS || tc.at == "insecure.example." && tc.qtype != dns.TypeDS {
				unsigned = append(unsigned, "secure.example./NS", "insecure.example./NS")
			}
			sets := checkSigned(t, r.Authority, zsk, unsigned...)
			for _, name := range tc.cover {
				if !nsecCovers(r.Authority, name) {
					t.Errorf("no NSEC covers %s in %v", name, r.Authority)
				}
			}
			if tc.at != "" {
				nsec := sets[tc.at+"/NSEC"]
				if len(nsec) != 1 {
					t.Fatalf("no NSEC at %s in %v", tc.at, r.Authority)
				}
				for _, typ := range nsec[0].(*dns.NSEC).TypeBitMap {
					if typ == tc.lacks {
						t.Errorf("the NSEC at %s lists %s", tc.at, dns.TypeToString[typ])
					}
				}
			}
			if tc.referralDS && len(sets["secure.example./DS"]) != 1 {
				t.Errorf("referral without the DS: %v", r.Authority)
			}
		})
	}
}

// nsecCovers reports whether an NSEC in rrs covers name.
func nsecCovers(rrs []dns.RR, name string) bool {
	for _, rr := range rrs {
		if n, ok := rr.(*dns.NSEC); ok && canonical.Covers(n.Hdr.Name, n.NextDomain, name) {
			return true
		}
	}
	return false
}

// nsec3For returns the NSEC3 in rrs that matches name (covering false) or
// covers it.
func nsec3For(rrs []dns.RR, name string, covering bool) *dns.NSEC3 {
	for _, rr := range rrs {
		n, ok := rr.(*dns.NSEC3)
		if !ok {
			continue
		}
		if covering && n.Cover(name) || !covering && n.Match(name) {
			return n
		}
	}
	return nil
}

func TestLookupDNSSECNegativeNSEC3(t *testing.T) {
	for _, optOut := range []bool{false, true} {
		z, zsk := signedTestZone(t, sign.NSEC3, optOut)
		check := func(name string, r Response, match, cover []string, unsigned ...string) {
			t.Helper()
			checkSigned(t, r.Authority, zsk, unsigned...)
			for _, m := range match {
				if nsec3For(r.Authority, m, false) == nil {
					t.Errorf("opt-out %v, %s: no NSEC3 matches %s in %v", optOut, name, m, r.Authority)
				}
			}
			for _, c := range cover {
				if nsec3For(r.Authority, c, true) == nil {
					t.Errorf("opt-out %v, %s: no NSEC3 covers %s in %v", optOut, name, c, r.Authority)
				}
			}
		}
		// RFC 5155 section 7.2.2: closest encloser, next closer, wildcard.
		r := z.LookupDNSSEC("x.nope.example.", dns.TypeA)
		if r.Rcode != dns.RcodeNameError {
			t.Fatalf("rcode %d", r.Rcode)
		}
		check("name error", r, []string{"example."}, []string{"nope.example.", "*.example."})
		check("nodata", z.LookupDNSSEC("www.example.", dns.TypeMX), []string{"www.example."}, nil)
		check("empty non-terminal", z.LookupDNSSEC("b.example.", dns.TypeA), []string{"b.example."}, nil)
		check("wildcard answer", z.LookupDNSSEC("x.wild.example.", dns.TypeA), nil, []string{"x.wild.example."})
		check("wildcard nodata", z.LookupDNSSEC("x.wild.example.", dns.TypeMX),
			[]string{"wild.example.", "*.wild.example."}, []string{"x.wild.example."})
		if optOut {
			// The unsigned delegation has no NSEC3: the opt-out span over
			// it proves there may be no DS (RFC 5155 section 7.2.7).
			check("insecure referral", z.LookupDNSSEC("www.insecure.example.", dns.TypeA),
				[]string{"example."}, []string{"insecure.example."}, "insecure.example./NS")
		} else {
			check("insecure referral", z.LookupDNSSEC("www.insecure.example.", dns.TypeA),
				[]string{"insecure.example."}, nil, "insecure.example./NS")
		}
	}
}
