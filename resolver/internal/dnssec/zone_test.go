package dnssec

import (
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The test signer and the test zone, example.:
//
//	example.        SOA NS DNSKEY        apex
//	a.example.      A TXT
//	c.example.      CNAME
//	ins.example.    NS                   unsigned delegation
//	sub.example.    NS DS                signed delegation
//	w.example.                           empty non-terminal
//	*.w.example.    TXT                  wildcard
//	y.example.                           empty non-terminal
//	x.y.example.    A
//
// Its NSEC chain, its NSEC3 chain (iterations 0, no salt, RFC 9276) and an
// opt-out NSEC3 chain without ins.example. are built once. The records of
// the chains are not signed: the proofs trust what the caller verified.

// testNow is the validation time of every test.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKey is a DNSKEY with its private key.
type testKey struct {
	key  *dns.DNSKEY
	priv crypto.Signer
}

// newTestKey generates a key of zone.
func newTestKey(zone string, flags uint16, alg uint8, bits int) testKey {
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
	}
	priv, err := k.Generate(bits)
	if err != nil {
		panic(fmt.Sprintf("generating a %s key: %v", dns.AlgorithmToString[alg], err))
	}
	return testKey{key: k, priv: priv.(crypto.Signer)}
}

// keyring is the keys of the tests, generated once per test binary.
type keyring struct {
	ksk, zsk    testKey // example., ECDSAP256SHA256
	ed, rsa     testKey // example. ZSKs, ED25519 and RSASHA256
	other       testKey // example. KSK no DS points to
	sub         testKey // sub.example.
	revokedKSK  testKey // example., REVOKE flag set
	nonZone     testKey // example., flags 0: not a zone key
	unsupported *dns.DNSKEY
}

var keys = sync.OnceValue(func() *keyring {
	r := &keyring{
		ksk:        newTestKey("example.", dns.ZONE|dns.SEP, dns.ECDSAP256SHA256, 256),
		zsk:        newTestKey("example.", dns.ZONE, dns.ECDSAP256SHA256, 256),
		ed:         newTestKey("example.", dns.ZONE, dns.ED25519, 256),
		rsa:        newTestKey("example.", dns.ZONE, dns.RSASHA256, 1024),
		other:      newTestKey("example.", dns.ZONE|dns.SEP, dns.ECDSAP256SHA256, 256),
		sub:        newTestKey("sub.example.", dns.ZONE|dns.SEP, dns.ECDSAP256SHA256, 256),
		revokedKSK: newTestKey("example.", dns.ZONE|dns.SEP|dns.REVOKE, dns.ECDSAP256SHA256, 256),
		nonZone:    newTestKey("example.", 0, dns.ED25519, 256),
	}
	// An ED448 key (miekg/dns cannot verify it): its bytes are random.
	r.unsupported = &dns.DNSKEY{
		Hdr:   dns.RR_Header{Name: "example.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: dns.ZONE, Protocol: 3, Algorithm: dns.ED448,
		PublicKey: "ZG9uJ3QgdHJ5IHRvIHZlcmlmeSB3aXRoIHRoaXMga2V5LCBpdCBpcyBub3QgYW4gRUQ0NDgga2V5IGF0IGFsbA==",
	}
	return r
})

// sigOpt changes an RRSIG before it is signed.
type sigOpt func(*dns.RRSIG)

// valid sets the validity period of a signature relative to testNow.
func valid(from, until time.Duration) sigOpt {
	return func(s *dns.RRSIG) {
		s.Inception = uint32(testNow.Add(from).Unix())
		s.Expiration = uint32(testNow.Add(until).Unix())
	}
}

// signer sets the signer name of a signature.
func signer(name string) sigOpt { return func(s *dns.RRSIG) { s.SignerName = name } }

// sign signs rrset with k as zone's key, valid from an hour before
// testNow to a day after unless opts say otherwise.
func sign(rrset []dns.RR, k testKey, opts ...sigOpt) *dns.RRSIG {
	sig := &dns.RRSIG{
		Algorithm:  k.key.Algorithm,
		KeyTag:     k.key.KeyTag(),
		SignerName: k.key.Hdr.Name,
		Inception:  uint32(testNow.Add(-time.Hour).Unix()),
		Expiration: uint32(testNow.Add(24 * time.Hour).Unix()),
	}
	for _, o := range opts {
		o(sig)
	}
	if err := sig.Sign(k.priv, rrset); err != nil {
		panic(fmt.Sprintf("signing %v: %v", rrset, err))
	}
	return sig
}

// rrs parses records in zone-file format.
func rrs(lines ...string) []dns.RR {
	out := make([]dns.RR, len(lines))
	for i, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			panic(fmt.Sprintf("%q: %v", l, err))
		}
		out[i] = rr
	}
	return out
}

// dnskeyRRset returns ks as an RRset.
func dnskeyRRset(ks ...*dns.DNSKEY) []dns.RR {
	out := make([]dns.RR, len(ks))
	for i, k := range ks {
		out[i] = k
	}
	return out
}

// nsecs parses NSEC records written "owner next TYPE...".
func nsecs(lines ...string) []*dns.NSEC {
	out := make([]*dns.NSEC, len(lines))
	for i, l := range lines {
		f := strings.Fields(l)
		out[i] = mkNSEC(f[0], f[1], types(f[2:]...)...)
	}
	return out
}

// mkNSEC builds an NSEC record.
func mkNSEC(owner, next string, bitmap ...uint16) *dns.NSEC {
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 3600},
		NextDomain: next,
		TypeBitMap: bitmap,
	}
}

// types maps type names to their numbers, in order.
func types(names ...string) []uint16 {
	out := make([]uint16, 0, len(names))
	for _, n := range names {
		t, ok := dns.StringToType[n]
		if !ok {
			panic("unknown type " + n)
		}
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// The NSEC chain of example., and the apex NSEC of the child sub.example.
var (
	nsecApex    = nsecs("example. a.example. NS SOA RRSIG NSEC DNSKEY")[0]
	nsecA       = nsecs("a.example. c.example. A TXT RRSIG NSEC")[0]
	nsecC       = nsecs("c.example. ins.example. CNAME RRSIG NSEC")[0]
	nsecIns     = nsecs("ins.example. sub.example. NS RRSIG NSEC")[0]
	nsecSub     = nsecs("sub.example. *.w.example. NS DS RRSIG NSEC")[0]
	nsecWild    = nsecs("*.w.example. x.y.example. TXT RRSIG NSEC")[0]
	nsecXY      = nsecs("x.y.example. example. A RRSIG NSEC")[0]
	nsecSubApex = nsecs("sub.example. sub.example. NS SOA RRSIG NSEC DNSKEY")[0]
)

// zoneNames are the names of example. that have NSEC3 records, with their
// bitmaps (NSEC3 bitmaps do not list NSEC3 itself).
var zoneNames = map[string][]uint16{
	"example.":     types("NS", "SOA", "RRSIG", "DNSKEY", "NSEC3PARAM"),
	"a.example.":   types("A", "TXT", "RRSIG"),
	"c.example.":   types("CNAME", "RRSIG"),
	"ins.example.": types("NS"),
	"sub.example.": types("NS", "DS", "RRSIG"),
	"w.example.":   nil,
	"*.w.example.": types("TXT", "RRSIG"),
	"y.example.":   nil,
	"x.y.example.": types("A", "RRSIG"),
}

// nsec3Params are the parameters of an NSEC3 chain.
type nsec3Params struct {
	iter   uint16
	salt   string
	optOut bool
}

// buildNSEC3 builds the NSEC3 chain of zone for names, which map each name
// with a record to its bitmap.
func buildNSEC3(zone string, names map[string][]uint16, p nsec3Params) []*dns.NSEC3 {
	type entry struct {
		hash  string
		types []uint16
	}
	var es []entry
	for n, ts := range names {
		es = append(es, entry{dns.HashName(n, dns.SHA1, p.iter, p.salt), ts})
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.hash, b.hash) })
	var flags uint8
	if p.optOut {
		flags = 1
	}
	out := make([]*dns.NSEC3, len(es))
	for i, e := range es {
		out[i] = &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: e.hash + "." + zone, Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: 3600},
			Hash:       dns.SHA1,
			Flags:      flags,
			Iterations: p.iter,
			SaltLength: uint8(len(p.salt) / 2),
			Salt:       p.salt,
			HashLength: 20,
			NextDomain: es[(i+1)%len(es)].hash,
			TypeBitMap: e.types,
		}
	}
	return out
}

// The NSEC3 chains of example.: every name; and opt-out, without the
// unsigned delegation ins.example.
var (
	fullChain   = buildNSEC3("example.", zoneNames, nsec3Params{})
	optOutChain = buildNSEC3("example.", without(zoneNames, "ins.example."), nsec3Params{optOut: true})
)

// without returns names without the name drop.
func without(names map[string][]uint16, drop string) map[string][]uint16 {
	out := make(map[string][]uint16, len(names))
	for n, ts := range names {
		if n != drop {
			out[n] = ts
		}
	}
	return out
}

// pick returns, for each name, the record of chain that matches it or, if
// none does, the one that covers it, as a server builds a proof (miekg's
// Match and Cover rehash each time, which is fine in tests). Each record
// appears once.
func pick(chain []*dns.NSEC3, names ...string) []*dns.NSEC3 {
	var out []*dns.NSEC3
	add := func(r *dns.NSEC3) {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, n := range names {
		found := false
		for _, r := range chain {
			if r.Match(n) {
				add(r)
				found = true
			}
		}
		if found {
			continue
		}
		for _, r := range chain {
			if r.Cover(n) {
				add(r)
				found = true
			}
		}
		if !found {
			panic("nothing in the chain matches or covers " + n)
		}
	}
	return out
}

// wantReason checks that err is an *Error with reason want, or nil if ok.
func wantReason(t *testing.T, err error, ok bool, want Reason) {
	t.Helper()
	if ok {
		if err != nil {
			t.Fatalf("err = %v, want success", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("succeeded, want %v", want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want an *Error", err, err)
	}
	if e.Reason != want {
		t.Fatalf("reason = %v (%v), want %v", e.Reason, err, want)
	}
	t.Logf("%v", err)
}

// mustBase64 decodes a base64 public key or signature.
func mustBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// toBase64 encodes a public key or signature.
func toBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
