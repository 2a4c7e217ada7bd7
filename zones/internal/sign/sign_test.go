package sign

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/canonical"
)

// The authoritative RRsets of testZone, which must each have one RRSIG.
var testZoneSigned = []setKey{
	key("example.", dns.TypeSOA),
	key("example.", dns.TypeNS),
	key("example.", dns.TypeA),
	key("example.", dns.TypeDNSKEY),
	key("ns1.example.", dns.TypeA),
	key("www.example.", dns.TypeA),
	key("www.example.", dns.TypeAAAA),
	key("*.wild.example.", dns.TypeTXT),
	key("a.b.c.example.", dns.TypeA),
	key("multi.example.", dns.TypeTXT),
	key("secure.example.", dns.TypeDS),
}

// The RRsets of testZone that are not authoritative: NS at cuts, glue,
// data at or below a cut.
var testZoneUnsigned = []setKey{
	key("secure.example.", dns.TypeNS),
	key("secure.example.", dns.TypeA),
	key("ns.secure.example.", dns.TypeA),
	key("insecure.example.", dns.TypeNS),
	key("ns.insecure.example.", dns.TypeA),
	key("deep.insecure.example.", dns.TypeTXT),
	key("deleg.ent.example.", dns.TypeNS),
}

func TestSignVerifies(t *testing.T) {
	records := parseZone(t, testZone, "example.")
	for _, alg := range algorithms {
		for _, denial := range []Denial{NSEC, NSEC3} {
			t.Run(dns.AlgorithmToString[alg]+"/"+denial.String(), func(t *testing.T) {
				t.Parallel()
				ksk, zsk := testKeys(t, alg)
				out, err := Sign("example.", records, options(ksk, zsk, denial))
				if err != nil {
					t.Fatal(err)
				}
				sigs := verifyAll(t, "example.", records, out, ksk, zsk)
				roundTrip(t, out)
				checkSignedSets(t, out, sigs)
				checkDNSKEYs(t, out, ksk, zsk)
			})
		}
	}
}

// checkSignedSets checks that exactly the authoritative RRsets, the new
// ones included, have one RRSIG each.
func checkSignedSets(t *testing.T, out []dns.RR, sigs map[setKey][]*dns.RRSIG) {
	t.Helper()
	want := slices.Clone(testZoneSigned)
	for _, rr := range out {
		switch rr.Header().Rrtype {
		case dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM:
			want = append(want, key(rr.Header().Name, rr.Header().Rrtype))
		}
	}
	for _, k := range want {
		if len(sigs[k]) != 1 {
			t.Errorf("%s has %d RRSIGs, want 1", k, len(sigs[k]))
		}
	}
	if len(sigs) != len(want) {
		t.Errorf("%d RRsets signed, want %d", len(sigs), len(want))
	}
	for _, k := range testZoneUnsigned {
		if len(sigs[k]) > 0 {
			t.Errorf("%s is signed; it is not authoritative", k)
		}
	}
}

// checkDNSKEYs checks that the DNSKEY RRset is the two keys at the apex.
func checkDNSKEYs(t *testing.T, out []dns.RR, ksk, zsk *Key) {
	t.Helper()
	keys := ofType[*dns.DNSKEY](out)
	if len(keys) != 2 || !dns.IsDuplicate(keys[0], ksk.DNSKEY) || !dns.IsDuplicate(keys[1], zsk.DNSKEY) {
		t.Errorf("DNSKEY RRset %v, want the KSK and the ZSK", keys)
	}
}

// sortKey places a returned record: owner, type (for an RRSIG, the type
// covered), then RRSIG after the records.
func sortKey(rr dns.RR) (string, uint16, bool) {
	if sig, ok := rr.(*dns.RRSIG); ok {
		return sig.Hdr.Name, sig.TypeCovered, true
	}
	return rr.Header().Name, rr.Header().Rrtype, false
}

func compareOutput(a, b dns.RR) int {
	ao, at, as := sortKey(a)
	bo, bt, bs := sortKey(b)
	if c := canonical.Compare(ao, bo); c != 0 {
		return c
	}
	if c := cmp.Compare(at, bt); c != 0 {
		return c
	}
	switch {
	case as == bs:
		return 0
	case as:
		return 1
	}
	return -1
}

// Ed25519 signatures are deterministic, so the whole output must be.
func TestSignDeterministicOrder(t *testing.T) {
	records := parseZone(t, testZone, "example.")
	ksk, zsk := testKeys(t, dns.ED25519)
	for _, denial := range []Denial{NSEC, NSEC3} {
		first, err := Sign("example.", records, options(ksk, zsk, denial))
		if err != nil {
			t.Fatal(err)
		}
		reversed := slices.Clone(records)
		slices.Reverse(reversed)
		second, err := Sign("example.", reversed, options(ksk, zsk, denial))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(first) != fmt.Sprint(second) {
			t.Errorf("%s: output depends on the input order", denial)
		}
		if !slices.IsSortedFunc(first, compareOutput) {
			t.Errorf("%s: output not by owner, type, RRSIG last:\n%v", denial, first)
		}
	}
}

// RFC 2181 section 5.2: an RRset with several TTLs is signed with the
// smallest; the caller's records are left as they were.
func TestSignKeepsInputAndUsesSmallestTTL(t *testing.T) {
	records := parseZone(t, testZone, "example.")
	before := fmt.Sprint(records)
	ksk, zsk := testKeys(t, dns.ED25519)
	out, err := Sign("example.", records, options(ksk, zsk, NSEC))
	if err != nil {
		t.Fatal(err)
	}
	if after := fmt.Sprint(records); after != before {
		t.Errorf("Sign changed its input:\n%s\nwas\n%s", after, before)
	}
	sigs := verifyAll(t, "example.", records, out, ksk, zsk)
	for _, sig := range sigs[key("multi.example.", dns.TypeTXT)] {
		if sig.OrigTtl != 300 || sig.Hdr.Ttl != 300 {
			t.Errorf("RRSIG over TTLs 300 and 600 has TTL %d, original TTL %d; want 300", sig.Hdr.Ttl, sig.OrigTtl)
		}
	}
	for _, nsec := range ofType[*dns.NSEC](out) {
		if nsec.Hdr.Ttl != 300 { // min(SOA TTL 3600, MINIMUM 300), RFC 9077
			t.Errorf("%s: TTL %d, want 300", nsec.Hdr.Name, nsec.Hdr.Ttl)
		}
	}
}

func TestSignWildcardLabels(t *testing.T) {
	records := parseZone(t, testZone, "example.")
	ksk, zsk := testKeys(t, dns.ECDSAP256SHA256)
	out, err := Sign("example.", records, options(ksk, zsk, NSEC))
	if err != nil {
		t.Fatal(err)
	}
	sigs := verifyAll(t, "example.", records, out, ksk, zsk)
	for k, want := range map[setKey]uint8{
		key("*.wild.example.", dns.TypeTXT):  2, // the '*' is not counted
		key("*.wild.example.", dns.TypeNSEC): 2,
		key("a.b.c.example.", dns.TypeA):     4,
		key("www.example.", dns.TypeA):       2,
		key("example.", dns.TypeSOA):         1,
	} {
		if len(sigs[k]) != 1 || sigs[k][0].Labels != want {
			t.Errorf("RRSIG over %s: %v, want Labels %d", k, sigs[k], want)
		}
	}
	// A validator checks an answer synthesized from the wildcard against
	// the wildcard's signature (RFC 4035 section 5.3.2).
	txt, err := dns.NewRR(`x.y.wild.example. 3600 IN TXT "wildcard"`)
	if err != nil {
		t.Fatal(err)
	}
	sig := dns.Copy(sigs[key("*.wild.example.", dns.TypeTXT)][0]).(*dns.RRSIG)
	sig.Hdr.Name = txt.Header().Name
	if err := sig.Verify(zsk.DNSKEY, []dns.RR{txt}); err != nil {
		t.Errorf("expanded wildcard answer does not verify: %v", err)
	}
}

// Owner names, the origin and the keys' owners may be spelled in any case
// and with escapes; what Sign returns is in canonical form.
func TestSignCanonicalNames(t *testing.T) {
	records := parseZone(t, `$ORIGIN Example.
@ 3600 SOA NS1 HOSTMASTER 1 7200 3600 1209600 300
@ 3600 NS NS1
NS1 3600 A 192.0.2.53
WWW 3600 A 192.0.2.80
\119ww 3600 AAAA 2001:db8::80
\042.Wild 3600 TXT "wildcard"
`, "Example.")
	ksk, zsk := testKeys(t, dns.ED25519)
	for _, denial := range []Denial{NSEC, NSEC3} {
		out, err := Sign("EXAMPLE", records, options(ksk, zsk, denial))
		if err != nil {
			t.Fatal(err)
		}
		sigs := verifyAll(t, "example.", records, out, ksk, zsk)
		for _, rr := range out {
			if name := rr.Header().Name; name != strings.ToLower(name) {
				t.Errorf("owner %s not in lower case", name)
			}
		}
		if s := sigs[key("www.example.", dns.TypeAAAA)]; len(s) != 1 {
			t.Errorf(`\119ww AAAA: %d RRSIGs, want 1`, len(s))
		}
		if s := sigs[key("*.wild.example.", dns.TypeTXT)]; len(s) != 1 || s[0].Labels != 2 {
			t.Errorf(`\042.Wild TXT: RRSIGs %v, want 1 with Labels 2`, s)
		}
	}
}

// One key can be both KSK and ZSK (a combined signing key).
func TestSignOneKey(t *testing.T) {
	records := parseZone(t, testZone, "example.")
	ksk, _ := testKeys(t, dns.ED25519)
	out, err := Sign("example.", records, options(ksk, ksk, NSEC3))
	if err != nil {
		t.Fatal(err)
	}
	verifyAll(t, "example.", records, out, ksk, ksk)
	if keys := ofType[*dns.DNSKEY](out); len(keys) != 1 {
		t.Errorf("DNSKEY RRset %v, want the one key", keys)
	}
}

// The lab signs its root zone too, where NSEC3 owners are one label.
func TestSignRoot(t *testing.T) {
	records := parseZone(t, `$ORIGIN .
@ 86400 SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400
@ 518400 NS a.root-servers.net.
com. 172800 NS a.gtld-servers.net.
com. 86400 DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
net. 172800 NS a.gtld-servers.net.
a.gtld-servers.net. 172800 A 192.0.2.30
`, ".")
	ksk, err := NewKey(".", dns.ED25519, true)
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := NewKey(".", dns.ED25519, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, denial := range []Denial{NSEC, NSEC3} {
		out, err := Sign(".", records, options(ksk, zsk, denial))
		if err != nil {
			t.Fatal(err)
		}
		sigs := verifyAll(t, ".", records, out, ksk, zsk)
		roundTrip(t, out)
		if len(sigs[key("com.", dns.TypeDS)]) != 1 || len(sigs[key("net.", dns.TypeNS)]) != 0 {
			t.Errorf("%s: want com. DS signed and net. NS not", denial)
		}
		// Not with NSEC3.Match: miekg/dns's wants an owner of two labels.
		hashes := map[string]bool{}
		for _, name := range []string{".", "com.", "net."} {
			hashes[strings.ToLower(dns.HashName(name, dns.SHA1, 0, ""))+"."] = true
		}
		for _, rr := range ofType[*dns.NSEC3](out) {
			if !hashes[rr.Hdr.Name] {
				t.Errorf("NSEC3 %s: owner is not the hash of ., com. or net.", rr)
			}
		}
		if n := len(ofType[*dns.NSEC3](out)); denial == NSEC3 && n != 3 {
			t.Errorf("%d NSEC3 records, want 3", n)
		}
	}
}

func TestSignErrors(t *testing.T) {
	records := parseZone(t, testZone, "example.")
	ksk, zsk := testKeys(t, dns.ED25519)
	other, err := NewKey("example.org.", dns.ED25519, false)
	if err != nil {
		t.Fatal(err)
	}
	good := options(ksk, zsk, NSEC)
	with := func(f func(o *Options)) Options { o := good; f(&o); return o }
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		origin  string
		records []dns.RR
		opts    Options
		want    error
	}{
		{"no records", "example.", nil, good, errNoSOA},
		{"no SOA", "example.", records[1:], good, errNoSOA},
		{"SOA below the origin", "example.", []dns.RR{rr("sub.example. 300 IN SOA a. b. 1 1 1 1 1"), rr("www.example. 300 IN A 192.0.2.1")}, good, errNoSOA},
		{"record outside", "example.", append(slices.Clone(records), rr("www.example.org. 300 IN A 192.0.2.1")), good, errOutside},
		{"record beside", "example.", append(slices.Clone(records), rr(`a\.example. 300 IN A 192.0.2.1`)), good, errOutside},
		{"nil record", "example.", append(slices.Clone(records), nil), good, errRecord},
		{"typed nil record", "example.", append(slices.Clone(records), (*dns.A)(nil)), good, errRecord},
		{"class CH", "example.", append(slices.Clone(records), rr("www.example. 300 CH TXT x")), good, errRecord},
		{"DNSKEY given", "example.", append(slices.Clone(records), ksk.DNSKEY), good, errRecord},
		{"RRSIG given", "example.", append(slices.Clone(records), rr("www.example. 300 IN RRSIG A 15 2 300 20260201000000 20260101000000 1 example. AAAA")), good, errRecord},
		{"DS not at a cut", "example.", append(slices.Clone(records), rr("www.example. 300 IN DS 1 13 2 00")), good, errRecord},
		{"two SOAs", "example.", append(slices.Clone(records), rr("example. 300 IN SOA a. b. 2 1 1 1 1")), good, errRecord},
		{"star label", "example.", append(slices.Clone(records), rr("*x.example. 300 IN A 192.0.2.1")), good, errRecord},
		{"bad origin", "a..b", records, good, errName},
		{"empty origin", "", records, good, errName},
		{"nil KSK", "example.", records, with(func(o *Options) { o.KSK = nil }), errKey},
		{"nil ZSK", "example.", records, with(func(o *Options) { o.ZSK = nil }), errKey},
		{"nil DNSKEY", "example.", records, with(func(o *Options) { o.ZSK = &Key{Signer: zsk.Signer} }), errKey},
		{"nil signer", "example.", records, with(func(o *Options) { o.ZSK = &Key{DNSKEY: zsk.DNSKEY} }), errKey},
		{"key of another zone", "example.", records, with(func(o *Options) { o.ZSK = other }), errKey},
		{"private key of another key", "example.", records, with(func(o *Options) { o.ZSK = &Key{DNSKEY: zsk.DNSKEY, Signer: other.Signer} }), errKey},
		{"expiration before inception", "example.", records, with(func(o *Options) { o.Inception, o.Expiration = o.Expiration, o.Inception }), errOptions},
		{"empty window", "example.", records, with(func(o *Options) { o.Expiration = o.Inception }), errOptions},
		{"no window", "example.", records, with(func(o *Options) { o.Inception = time.Time{} }), errOptions},
		{"window too long", "example.", records, with(func(o *Options) { o.Expiration = o.Inception.Add(69 * 365 * 24 * time.Hour) }), errOptions},
		{"unknown denial", "example.", records, with(func(o *Options) { o.Denial = 2 }), errOptions},
		{"bad salt", "example.", records, with(func(o *Options) { o.Denial, o.Salt = NSEC3, "xyz" }), errOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Sign(tc.origin, tc.records, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Sign = %d records, error %v; want %v", len(out), err, tc.want)
			}
			if prefix := "sign " + tc.origin + ": "; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			t.Log(err)
		})
	}
}
