package sign

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"testing"

	"github.com/miekg/dns"
)

func TestNewKey(t *testing.T) {
	for _, alg := range algorithms {
		ksk, zsk := testKeys(t, alg)
		for _, tc := range []struct {
			k     *Key
			flags uint16
		}{{ksk, 257}, {zsk, 256}} {
			k := tc.k.DNSKEY
			if k.Hdr.Name != "example." || k.Hdr.Rrtype != dns.TypeDNSKEY || k.Hdr.Class != dns.ClassINET || k.Hdr.Ttl != 3600 {
				t.Errorf("%s: header %v, want example. 3600 IN DNSKEY", dns.AlgorithmToString[alg], k.Hdr)
			}
			if k.Flags != tc.flags || k.Protocol != 3 || k.Algorithm != alg || k.KeyTag() == 0 {
				t.Errorf("%s: %s, want flags %d, protocol 3, a key tag", dns.AlgorithmToString[alg], k, tc.flags)
			}
			switch pub := tc.k.Signer.Public().(type) {
			case *rsa.PublicKey:
				if alg != dns.RSASHA256 || pub.N.BitLen() != 2048 {
					t.Errorf("%s: RSA key of %d bits", dns.AlgorithmToString[alg], pub.N.BitLen())
				}
			case *ecdsa.PublicKey:
				if alg != dns.ECDSAP256SHA256 || pub.Curve.Params().BitSize != 256 {
					t.Errorf("%s: ECDSA key on %s", dns.AlgorithmToString[alg], pub.Curve.Params().Name)
				}
			case ed25519.PublicKey:
				if alg != dns.ED25519 {
					t.Errorf("%s: Ed25519 key", dns.AlgorithmToString[alg])
				}
			default:
				t.Errorf("%s: public key of type %T", dns.AlgorithmToString[alg], pub)
			}
		}
	}
}

// The zone name may come in any case, with or without its final dot.
func TestNewKeyCanonicalOwner(t *testing.T) {
	for zone, want := range map[string]string{"Example.ORG": "example.org.", "example.org.": "example.org.", ".": "."} {
		k, err := NewKey(zone, dns.ED25519, false)
		if err != nil {
			t.Fatal(err)
		}
		if k.DNSKEY.Hdr.Name != want {
			t.Errorf("NewKey(%q) owner %q, want %q", zone, k.DNSKEY.Hdr.Name, want)
		}
	}
}

func TestNewKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		zone string
		alg  uint8
		want error
	}{
		{"example.", dns.RSASHA1, errAlgorithm},
		{"example.", dns.RSASHA512, errAlgorithm},
		{"example.", dns.ECDSAP384SHA384, errAlgorithm},
		{"example.", 0, errAlgorithm},
		{"example.", 200, errAlgorithm},
		{"", dns.ED25519, errName},
		{"a..example.", dns.ED25519, errName},
	} {
		k, err := NewKey(tc.zone, tc.alg, true)
		if !errors.Is(err, tc.want) || k != nil {
			t.Errorf("NewKey(%q, %d) = %v, %v; want error %v", tc.zone, tc.alg, k, err, tc.want)
		}
	}
}

func TestKeyDS(t *testing.T) {
	for _, alg := range algorithms {
		ksk, _ := testKeys(t, alg)
		ds := ksk.DS()
		want := ksk.DNSKEY.ToDS(dns.SHA256)
		if ds == nil || ds.String() != want.String() {
			t.Fatalf("%s: DS %v, want %v", dns.AlgorithmToString[alg], ds, want)
		}
		if ds.KeyTag != ksk.DNSKEY.KeyTag() || ds.DigestType != dns.SHA256 || ds.Algorithm != alg ||
			ds.Hdr.Ttl != 3600 || ds.Hdr.Name != "example." || len(ds.Digest) != 64 {
			t.Errorf("%s: DS %s", dns.AlgorithmToString[alg], ds)
		}
	}
	if (*Key)(nil).DS() != nil || (&Key{}).DS() != nil {
		t.Error("DS of a nil key is not nil")
	}
}
