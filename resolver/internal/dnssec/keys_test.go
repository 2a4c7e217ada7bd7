package dnssec

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestTrustedKeys(t *testing.T) {
	k := keys()
	set := dnskeyRRset(k.ksk.key, k.zsk.key)
	byKSK := []*dns.RRSIG{sign(set, k.ksk)}
	byZSK := []*dns.RRSIG{sign(set, k.zsk)}

	ds := func(key *dns.DNSKEY, digest uint8) *dns.DS { return key.ToDS(digest) }
	wrong := func(d *dns.DS) *dns.DS {
		c := *d
		c.Digest = strings.Repeat("0", len(d.Digest))
		return &c
	}
	upper := func(d *dns.DS) *dns.DS {
		c := *d
		c.Digest = strings.ToUpper(d.Digest)
		return &c
	}
	// A DS record of algorithm alg and digest type digest for the KSK's
	// key tag; its digest matches nothing.
	odd := func(alg, digest uint8) *dns.DS {
		return &dns.DS{
			Hdr:       dns.RR_Header{Name: "example.", Rrtype: dns.TypeDS, Class: dns.ClassINET, Ttl: 3600},
			KeyTag:    k.ksk.key.KeyTag(),
			Algorithm: alg, DigestType: digest,
			Digest: strings.Repeat("ab", 32),
		}
	}
	anchor := *k.ksk.key // a trust anchor is configured, not taken from the reply
	otherZoneDS := ds(k.sub.key, dns.SHA256)

	revokedSet := dnskeyRRset(k.revokedKSK.key, k.zsk.key)
	unrevoked := *k.revokedKSK.key
	unrevoked.Flags &^= dns.REVOKE
	mixedSet := dnskeyRRset(k.ksk.key, k.zsk.key, k.nonZone.key, k.unsupported, k.revokedKSK.key)

	for _, tc := range []struct {
		name    string
		dnskeys []dns.RR
		sigs    []*dns.RRSIG
		ds      []*dns.DS
		anchors []*dns.DNSKEY
		ok      bool
		reason  Reason
		want    []*dns.DNSKEY
	}{
		{name: "DS SHA-256", dnskeys: set, sigs: byKSK, ds: []*dns.DS{ds(k.ksk.key, dns.SHA256)}, ok: true},
		{name: "DS SHA-1 alone", dnskeys: set, sigs: byKSK, ds: []*dns.DS{ds(k.ksk.key, dns.SHA1)}, ok: true},
		{name: "DS SHA-384 as a trust anchor", dnskeys: set, sigs: byKSK, ds: []*dns.DS{ds(k.ksk.key, dns.SHA384)}, ok: true},
		{name: "DS digest in upper case", dnskeys: set, sigs: byKSK, ds: []*dns.DS{upper(ds(k.ksk.key, dns.SHA256))}, ok: true},
		{name: "anchor DNSKEY", dnskeys: set, sigs: byKSK, anchors: []*dns.DNSKEY{&anchor}, ok: true},
		{name: "anchor DNSKEY not in the RRset", dnskeys: set, sigs: byKSK, anchors: []*dns.DNSKEY{k.other.key}, reason: ReasonDNSKEYMissing},
		{name: "DS matching no key", dnskeys: set, sigs: byKSK, ds: []*dns.DS{ds(k.other.key, dns.SHA256)}, reason: ReasonDNSKEYMissing},
		{name: "DNSKEY RRset signed only by the ZSK", dnskeys: set, sigs: byZSK, ds: []*dns.DS{ds(k.ksk.key, dns.SHA256)}, reason: ReasonBogus},
		{name: "DNSKEY RRset not signed", dnskeys: set, ds: []*dns.DS{ds(k.ksk.key, dns.SHA256)}, reason: ReasonRRSIGsMissing},
		{name: "DS for the ZSK that signs", dnskeys: set, sigs: byZSK, ds: []*dns.DS{ds(k.zsk.key, dns.SHA256)}, ok: true},
		{name: "only unsupported algorithms", dnskeys: set, sigs: byKSK,
			ds: []*dns.DS{odd(dns.ED448, dns.SHA256), odd(dns.DSA, dns.SHA1)}, reason: ReasonUnsupportedAlgorithm},
		{name: "only GOST digests", dnskeys: set, sigs: byKSK, ds: []*dns.DS{odd(dns.ECDSAP256SHA256, dns.GOST94)}, reason: ReasonUnsupportedDigest},
		{name: "unsupported DS next to a good one", dnskeys: set, sigs: byKSK,
			ds: []*dns.DS{odd(dns.ECDSAP256SHA256, dns.GOST94), odd(dns.ED448, dns.SHA256), ds(k.ksk.key, dns.SHA256)}, ok: true},
		{name: "SHA-256 wrong, SHA-1 right: SHA-256 preferred", dnskeys: set, sigs: byKSK,
			ds: []*dns.DS{ds(k.ksk.key, dns.SHA1), wrong(ds(k.ksk.key, dns.SHA256))}, reason: ReasonDNSKEYMissing},
		{name: "SHA-384 wrong, SHA-1 right: SHA-384 preferred", dnskeys: set, sigs: byKSK,
			ds: []*dns.DS{ds(k.ksk.key, dns.SHA1), wrong(ds(k.ksk.key, dns.SHA384))}, reason: ReasonDNSKEYMissing},
		{name: "SHA-256 of an unsupported algorithm does not hide SHA-1", dnskeys: set, sigs: byKSK,
			ds: []*dns.DS{odd(dns.ED448, dns.SHA256), ds(k.ksk.key, dns.SHA1)}, ok: true},
		{name: "no DS and no anchor", dnskeys: set, sigs: byKSK, reason: ReasonBogus},
		{name: "DS of another zone", dnskeys: set, sigs: byKSK, ds: []*dns.DS{otherZoneDS}, reason: ReasonBogus},
		{name: "no DNSKEY RRset", sigs: byKSK, ds: []*dns.DS{ds(k.ksk.key, dns.SHA256)}, reason: ReasonDNSKEYMissing},
		{name: "revoked KSK matches no DS of its revoked form", dnskeys: revokedSet, sigs: []*dns.RRSIG{sign(revokedSet, k.revokedKSK)},
			ds: []*dns.DS{ds(k.revokedKSK.key, dns.SHA256)}, reason: ReasonDNSKEYMissing},
		{name: "revoked KSK matches no DS of its former form", dnskeys: revokedSet, sigs: []*dns.RRSIG{sign(revokedSet, k.revokedKSK)},
			ds: []*dns.DS{ds(&unrevoked, dns.SHA256)}, reason: ReasonDNSKEYMissing},
		{name: "revoked anchor", dnskeys: revokedSet, sigs: []*dns.RRSIG{sign(revokedSet, k.revokedKSK)},
			anchors: []*dns.DNSKEY{k.revokedKSK.key}, reason: ReasonDNSKEYMissing},
		{name: "expired RRSIG", dnskeys: set, sigs: []*dns.RRSIG{sign(set, k.ksk, valid(-48*time.Hour, -time.Hour))},
			ds: []*dns.DS{ds(k.ksk.key, dns.SHA256)}, reason: ReasonSignatureExpired},
		{name: "only usable keys returned", dnskeys: mixedSet, sigs: []*dns.RRSIG{sign(mixedSet, k.ksk)},
			ds: []*dns.DS{ds(k.ksk.key, dns.SHA256)}, ok: true, want: []*dns.DNSKEY{k.ksk.key, k.zsk.key}},
		{name: "a record that is not a DNSKEY", dnskeys: append(dnskeyRRset(k.ksk.key), rrs("example. 3600 IN A 192.0.2.1")...),
			sigs: byKSK, ds: []*dns.DS{ds(k.ksk.key, dns.SHA256)}, reason: ReasonBogus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBudget(MaxSignatureValidations, MaxNSEC3Hashes)
			got, v, err := TrustedKeys("example.", tc.dnskeys, tc.sigs, tc.ds, tc.anchors, testNow, b)
			wantReason(t, err, tc.ok, tc.reason)
			if r, _ := ReasonOf(err); err != nil && r.Insecure() != (r == ReasonUnsupportedAlgorithm || r == ReasonUnsupportedDigest) {
				t.Errorf("Insecure() = %v for %v", r.Insecure(), r)
			}
			if !tc.ok {
				return
			}
			want := tc.want
			if want == nil {
				want = []*dns.DNSKEY{k.ksk.key, k.zsk.key}
			}
			if !slices.Equal(got, want) {
				t.Errorf("keys = %v, want %v", got, want)
			}
			if v.TTL != 3600 || v.Wildcard != "" {
				t.Errorf("Verified = %+v, want TTL 3600 and no wildcard", v)
			}
			if b.SignaturesUsed() != 1 {
				t.Errorf("SignaturesUsed = %d, want 1", b.SignaturesUsed())
			}
		})
	}
}

// TestTrustedKeysChain validates a delegation the way the resolver will:
// the parent's keys from its DS, the child's DS RRset with the parent's
// keys, the child's keys from that DS, and an answer with those.
func TestTrustedKeysChain(t *testing.T) {
	k := keys()
	b := NewBudget(MaxSignatureValidations, MaxNSEC3Hashes)
	parentSet := dnskeyRRset(k.ksk.key, k.zsk.key)
	parentKeys, _, err := TrustedKeys("example.", parentSet, []*dns.RRSIG{sign(parentSet, k.ksk)},
		[]*dns.DS{k.ksk.key.ToDS(dns.SHA256)}, nil, testNow, b)
	if err != nil {
		t.Fatal(err)
	}

	dsSet := []dns.RR{k.sub.key.ToDS(dns.SHA256)}
	if _, err := VerifyRRset(dsSet, []*dns.RRSIG{sign(dsSet, k.zsk)}, parentKeys, "example.", testNow, b); err != nil {
		t.Fatal(err)
	}

	childSet := dnskeyRRset(k.sub.key)
	childKeys, _, err := TrustedKeys("sub.example.", childSet, []*dns.RRSIG{sign(childSet, k.sub)},
		[]*dns.DS{dsSet[0].(*dns.DS)}, nil, testNow, b)
	if err != nil {
		t.Fatal(err)
	}

	answer := rrs("www.sub.example. 300 IN AAAA 2001:db8::1")
	if _, err := VerifyRRset(answer, []*dns.RRSIG{sign(answer, k.sub)}, childKeys, "sub.example.", testNow, b); err != nil {
		t.Fatal(err)
	}
	// The parent's keys do not speak for the child.
	_, err = VerifyRRset(answer, []*dns.RRSIG{sign(answer, k.zsk, signer("sub.example."))}, parentKeys, "sub.example.", testNow, b)
	wantReason(t, err, false, ReasonDNSKEYMissing)
	if got := b.SignaturesUsed(); got != 4 {
		t.Errorf("SignaturesUsed = %d, want 4", got)
	}
}

func TestAlgorithms(t *testing.T) {
	for alg := range 256 {
		want := slices.Contains([]int{5, 7, 8, 10, 13, 14, 15}, alg)
		if got := AlgorithmSupported(uint8(alg)); got != want {
			t.Errorf("AlgorithmSupported(%d) = %v, want %v", alg, got, want)
		}
		want = slices.Contains([]int{1, 2, 4}, alg)
		if got := DigestSupported(uint8(alg)); got != want {
			t.Errorf("DigestSupported(%d) = %v, want %v", alg, got, want)
		}
	}
}

func TestReasons(t *testing.T) {
	for _, tc := range []struct {
		r        Reason
		ede      uint16
		insecure bool
	}{
		{ReasonBogus, 6, false},
		{ReasonSignatureExpired, 7, false},
		{ReasonSignatureNotYetValid, 8, false},
		{ReasonDNSKEYMissing, 9, false},
		{ReasonRRSIGsMissing, 10, false},
		{ReasonNSECMissing, 12, false},
		{ReasonUnsupportedAlgorithm, 1, true},
		{ReasonUnsupportedDigest, 2, true},
		{ReasonNSEC3Iterations, 27, true},
		{ReasonBudget, 6, false},
		{Reason(200), 6, false}, // unknown: bogus
	} {
		if got := tc.r.EDE(); got != tc.ede {
			t.Errorf("%v.EDE() = %d, want %d", tc.r, got, tc.ede)
		}
		if got := tc.r.Insecure(); got != tc.insecure {
			t.Errorf("%v.Insecure() = %v, want %v", tc.r, got, tc.insecure)
		}
	}
	err := error(&Error{Reason: ReasonNSECMissing, Detail: "no NSEC covers b.example."})
	if got, want := err.Error(), "NSEC missing: no NSEC covers b.example."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if r, ok := ReasonOf(err); !ok || r != ReasonNSECMissing {
		t.Errorf("ReasonOf = %v, %v", r, ok)
	}
	if _, ok := ReasonOf(nil); ok {
		t.Error("ReasonOf(nil) found a reason")
	}
}
