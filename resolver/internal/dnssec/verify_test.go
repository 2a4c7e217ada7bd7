package dnssec

import (
	"math"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestVerifyRRset(t *testing.T) {
	k := keys()
	zoneKeys := []*dns.DNSKEY{k.zsk.key, k.ed.key, k.rsa.key}
	aSet := func() []dns.RR { return rrs("a.example. 3600 IN A 192.0.2.1", "a.example. 3600 IN A 192.0.2.2") }

	// The same set, with the case of its owner changed: RFC 4034 section
	// 6.2 lower-cases it before signing and verifying.
	upper := aSet()
	for _, rr := range upper {
		rr.Header().Name = "A.EXAMPLE."
	}

	tampered := aSet()
	tampered[1].(*dns.A).A[3] = 9

	// A wildcard: the RRset signed at *.w.example. and returned for
	// q.w.example., as a server expands it.
	wild := rrs("*.w.example. 3600 IN TXT \"wild\"")
	wildSig := sign(wild, k.zsk)
	expanded := rrs("q.w.example. 3600 IN TXT \"wild\"")
	expandedSig := *wildSig
	expandedSig.Hdr.Name = "q.w.example."

	subSet := rrs("x.sub.example. 3600 IN A 192.0.2.7")
	revoked := newRevoked(k.zsk)

	for _, tc := range []struct {
		name     string
		rrset    []dns.RR
		sigs     []*dns.RRSIG
		keys     []*dns.DNSKEY
		zone     string
		ok       bool
		reason   Reason
		wildcard string
	}{
		{name: "ECDSAP256SHA256", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), k.zsk)}, keys: zoneKeys, zone: "example.", ok: true},
		{name: "ED25519", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), k.ed)}, keys: zoneKeys, zone: "example.", ok: true},
		{name: "RSASHA256", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), k.rsa)}, keys: zoneKeys, zone: "example.", ok: true},
		{name: "owner and zone in another case", rrset: upper, sigs: []*dns.RRSIG{sign(aSet(), k.zsk)}, keys: zoneKeys, zone: "EXAMPLE", ok: true},
		{name: "a bad signature, then a good one", rrset: aSet(),
			sigs: []*dns.RRSIG{sign(tampered, k.ed), sign(aSet(), k.zsk)}, keys: zoneKeys, zone: "example.", ok: true},
		{name: "expired", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), k.zsk, valid(-48*time.Hour, -time.Second))},
			keys: zoneKeys, zone: "example.", reason: ReasonSignatureExpired},
		{name: "not yet valid", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), k.zsk, valid(time.Second, 48*time.Hour))},
			keys: zoneKeys, zone: "example.", reason: ReasonSignatureNotYetValid},
		{name: "expired and not yet valid: expired", rrset: aSet(),
			sigs: []*dns.RRSIG{sign(aSet(), k.zsk, valid(time.Hour, 48*time.Hour)), sign(aSet(), k.ed, valid(-48*time.Hour, -time.Hour))},
			keys: zoneKeys, zone: "example.", reason: ReasonSignatureExpired},
		{name: "an expired signature is skipped for a valid one", rrset: aSet(),
			sigs: []*dns.RRSIG{sign(aSet(), k.zsk, valid(-48*time.Hour, -time.Hour)), sign(aSet(), k.ed)},
			keys: zoneKeys, zone: "example.", ok: true},
		{name: "signer name is not the zone", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), k.zsk, signer("a.example."))},
			keys: zoneKeys, zone: "example.", reason: ReasonBogus},
		{name: "signer is the parent, not the zone", rrset: subSet, sigs: []*dns.RRSIG{sign(subSet, k.zsk)},
			keys: []*dns.DNSKEY{k.sub.key}, zone: "sub.example.", reason: ReasonBogus},
		{name: "signer zone is not an ancestor of the owner", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), k.sub)},
			keys: []*dns.DNSKEY{k.sub.key}, zone: "sub.example.", reason: ReasonBogus},
		{name: "tampered rdata", rrset: tampered, sigs: []*dns.RRSIG{sign(aSet(), k.zsk)}, keys: zoneKeys, zone: "example.", reason: ReasonBogus},
		{name: "no signatures", rrset: aSet(), keys: zoneKeys, zone: "example.", reason: ReasonRRSIGsMissing},
		{name: "signatures of another type only", rrset: aSet(), sigs: []*dns.RRSIG{sign(rrs("a.example. 3600 IN TXT \"t\""), k.zsk)},
			keys: zoneKeys, zone: "example.", reason: ReasonRRSIGsMissing},
		{name: "key tag no key has", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), k.zsk, func(s *dns.RRSIG) { s.KeyTag++ })},
			keys: zoneKeys, zone: "example.", reason: ReasonDNSKEYMissing},
		{name: "signed by a key that is not trusted", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), k.other)},
			keys: zoneKeys, zone: "example.", reason: ReasonDNSKEYMissing},
		{name: "no keys", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), k.zsk)}, zone: "example.", reason: ReasonDNSKEYMissing},
		{name: "revoked key", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), revoked)},
			keys: []*dns.DNSKEY{revoked.key}, zone: "example.", reason: ReasonDNSKEYMissing},
		{name: "key without the ZONE flag", rrset: aSet(), sigs: []*dns.RRSIG{sign(aSet(), k.nonZone)},
			keys: []*dns.DNSKEY{k.nonZone.key}, zone: "example.", reason: ReasonDNSKEYMissing},
		{name: "Labels above the owner's count", rrset: aSet(),
			sigs: []*dns.RRSIG{withLabels(sign(aSet(), k.zsk), 3)}, keys: zoneKeys, zone: "example.", reason: ReasonBogus},
		{name: "wildcard expansion", rrset: expanded, sigs: []*dns.RRSIG{&expandedSig}, keys: zoneKeys, zone: "example.",
			ok: true, wildcard: "*.w.example."},
		{name: "the wildcard itself is no expansion", rrset: wild, sigs: []*dns.RRSIG{wildSig}, keys: zoneKeys, zone: "example.", ok: true},
		{name: "wildcard above the zone", rrset: subSet,
			sigs: []*dns.RRSIG{withLabels(sign(subSet, k.sub), 1)}, keys: []*dns.DNSKEY{k.sub.key}, zone: "sub.example.", reason: ReasonBogus},
		{name: "records of two RRsets", rrset: append(aSet(), rrs("c.example. 3600 IN A 192.0.2.3")...),
			sigs: []*dns.RRSIG{sign(aSet(), k.zsk)}, keys: zoneKeys, zone: "example.", reason: ReasonBogus},
		{name: "empty RRset", zone: "example.", reason: ReasonBogus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBudget(MaxSignatureValidations, MaxNSEC3Hashes)
			v, err := VerifyRRset(tc.rrset, tc.sigs, tc.keys, tc.zone, testNow, b)
			wantReason(t, err, tc.ok, tc.reason)
			if tc.ok && v.Wildcard != tc.wildcard {
				t.Errorf("Wildcard = %q, want %q", v.Wildcard, tc.wildcard)
			}
		})
	}
}

// newRevoked returns k with the REVOKE flag set, as RFC 5011 revokes a
// key: the same key pair, another key tag.
func newRevoked(k testKey) testKey {
	r := *k.key
	r.Flags |= dns.REVOKE
	return testKey{key: &r, priv: k.priv}
}

// withLabels sets the Labels field of sig after signing (the signature no
// longer verifies, but the field is checked before that).
func withLabels(sig *dns.RRSIG, n uint8) *dns.RRSIG {
	sig.Labels = n
	return sig
}

func TestVerifyRRsetTTL(t *testing.T) {
	k := keys()
	for _, tc := range []struct {
		name    string
		rrTTL   uint32
		origTTL uint32
		expires time.Duration
		want    uint32
	}{
		{"records' TTL", 300, 3600, 24 * time.Hour, 300},
		{"original TTL", 7200, 3600, 24 * time.Hour, 3600},
		{"time to expiration", 3600, 3600, 100 * time.Second, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := rrs("a.example. 60 IN A 192.0.2.1", "a.example. 60 IN A 192.0.2.2")
			sig := sign(set, k.zsk, valid(-time.Hour, tc.expires), func(s *dns.RRSIG) { s.OrigTtl = tc.origTTL })
			for _, rr := range set {
				rr.Header().Ttl = tc.rrTTL
			}
			set[1].Header().Ttl = tc.rrTTL + 5 // the least TTL of the set counts
			v, err := VerifyRRset(set, []*dns.RRSIG{sig}, []*dns.DNSKEY{k.zsk.key}, "example.", testNow, NewBudget(1, 0))
			if err != nil {
				t.Fatal(err)
			}
			if v.TTL != tc.want {
				t.Errorf("TTL = %d, want %d", v.TTL, tc.want)
			}
		})
	}
}

// TestVerifyRRsetKeyTrap gives VerifyRRset the shape of KeyTrap
// (CVE-2023-50387): 50 keys sharing one key tag and 50 signatures naming
// it, none of which verifies. Without a limit that is 2,500
// verifications; the budget stops it at MaxSignatureValidations.
func TestVerifyRRsetKeyTrap(t *testing.T) {
	k := keys()
	set := rrs("a.example. 3600 IN A 192.0.2.1")
	// The real key first, so that some verifications are real ones.
	colliding := append([]*dns.DNSKEY{k.zsk.key}, collidingKeys(t, k.zsk.key, 49)...)

	var sigs []*dns.RRSIG
	for i := range 50 {
		sig := sign(rrs("a.example. 3600 IN A 192.0.2.99"), k.zsk, func(s *dns.RRSIG) {
			s.Inception = uint32(testNow.Add(-time.Duration(i+1) * time.Minute).Unix())
		})
		sigs = append(sigs, sig)
	}

	b := NewBudget(MaxSignatureValidations, MaxNSEC3Hashes)
	start := time.Now()
	_, err := VerifyRRset(set, sigs, colliding, "example.", testNow, b)
	wantReason(t, err, false, ReasonBudget)
	if got := b.SignaturesUsed(); got != MaxSignatureValidations {
		t.Errorf("SignaturesUsed = %d, want %d", got, MaxSignatureValidations)
	}
	t.Logf("stopped after %d verifications in %v", b.SignaturesUsed(), time.Since(start))

	// A spent budget stays spent, even for a good signature.
	good := sign(set, k.zsk)
	_, err = VerifyRRset(set, []*dns.RRSIG{good}, []*dns.DNSKEY{k.zsk.key}, "example.", testNow, b)
	wantReason(t, err, false, ReasonBudget)

	// Below the budget, every key-signature pair with the tag is tried once.
	b = NewBudget(MaxSignatureValidations, MaxNSEC3Hashes)
	_, err = VerifyRRset(set, sigs[:2], colliding[1:4], "example.", testNow, b)
	wantReason(t, err, false, ReasonBogus)
	if got := b.SignaturesUsed(); got != 6 {
		t.Errorf("SignaturesUsed = %d, want 6 (2 signatures x 3 keys)", got)
	}
}

// collidingKeys returns n public keys of k's algorithm with k's key tag:
// the key tag is a checksum of 16-bit words, so adding d to one byte of
// the public key and subtracting it from the byte two further keeps it.
// They are not valid keys; no signature verifies with them.
func collidingKeys(t *testing.T, k *dns.DNSKEY, n int) []*dns.DNSKEY {
	t.Helper()
	pub := mustBase64(t, k.PublicKey)
	out := make([]*dns.DNSKEY, 0, n)
	for i := 0; len(out) < n; i++ {
		p := append([]byte(nil), pub...)
		j := (2 * i) % (len(p) - 2)
		d := byte(1 + i/(len(p)/2))
		if p[j] > 255-d || p[j+2] < d {
			continue
		}
		p[j] += d
		p[j+2] -= d
		c := *k
		c.PublicKey = toBase64(p)
		if c.KeyTag() != k.KeyTag() {
			t.Fatalf("key %d: tag %d, want %d", i, c.KeyTag(), k.KeyTag())
		}
		out = append(out, &c)
	}
	return out
}

func TestVerifyRRsetNoBudget(t *testing.T) {
	k := keys()
	set := rrs("a.example. 3600 IN A 192.0.2.1")
	sigs := []*dns.RRSIG{sign(set, k.zsk)}
	for name, b := range map[string]*Budget{"zero": NewBudget(0, 0), "nil": nil, "zero value": new(Budget)} {
		_, err := VerifyRRset(set, sigs, []*dns.DNSKEY{k.zsk.key}, "example.", testNow, b)
		if r, _ := ReasonOf(err); r != ReasonBudget {
			t.Errorf("%s budget: err = %v, want ReasonBudget", name, err)
		}
	}
}

// TestValiditySerial checks the serial number arithmetic of RFC 4034
// section 3.1.5 across the wrap of the 32-bit time in 2106.
func TestValiditySerial(t *testing.T) {
	wrap := time.Unix(math.MaxUint32, 0) // 2106-02-07
	sig := &dns.RRSIG{
		Inception:  uint32(wrap.Add(-time.Hour).Unix()),
		Expiration: uint32(wrap.Add(time.Hour).Unix()), // wraps past zero
	}
	for _, tc := range []struct {
		at   time.Time
		want sigState
		left int64
	}{
		{wrap, sigValid, 3600},
		{wrap.Add(30 * time.Minute), sigValid, 1800}, // after the wrap
		{wrap.Add(2 * time.Hour), sigExpired, 0},
		{wrap.Add(-2 * time.Hour), sigNotYetValid, 0},
	} {
		left, st := validity(sig, tc.at)
		if st != tc.want || left != tc.left {
			t.Errorf("at %v: state %d, left %d; want %d, %d", tc.at, st, left, tc.want, tc.left)
		}
	}
}
