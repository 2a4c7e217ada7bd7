package sign

import (
	"crypto"
	"errors"
	"fmt"

	"github.com/miekg/dns"
)

// Key is one DNSSEC signing key: its public DNSKEY record and its private key.
type Key struct {
	DNSKEY *dns.DNSKEY
	Signer crypto.Signer
}

// keyTTL is the DNSKEY TTL: the lab's zones live for one test run, so the
// value only has to be a plausible one.
const keyTTL = 3600

var (
	errAlgorithm = errors.New("unsupported algorithm")
	errKey       = errors.New("bad key")
)

// NewKey generates a key for zone (any case, with or without final dot; the DNSKEY owner is the canonical lower-case FQDN)
// with algorithm dns.RSASHA256 (2048-bit), dns.ECDSAP256SHA256 or dns.ED25519; ksk true sets flags 257 (SEP), false 256.
// Protocol 3, TTL 3600. Any other algorithm is an error.
//
// The key tag of the new key is never 0: miekg/dns refuses to sign with
// such a key, so NewKey draws again in that (1 in 65536) case.
func NewKey(zone string, algorithm uint8, ksk bool) (*Key, error) {
	owner, err := canonicalName(zone)
	if err != nil {
		return nil, fmt.Errorf("new key for %q: %w", zone, err)
	}
	bits, ok := keyBits[algorithm]
	if !ok {
		return nil, fmt.Errorf("new key for %s: %w %d %s (want RSASHA256, ECDSAP256SHA256 or ED25519)",
			owner, errAlgorithm, algorithm, dns.AlgorithmToString[algorithm])
	}
	flags := uint16(dns.ZONE)
	if ksk {
		flags |= dns.SEP
	}
	for range 8 {
		k, err := generate(owner, algorithm, bits, flags)
		if err != nil {
			return nil, fmt.Errorf("new key for %s: %w", owner, err)
		}
		if k.DNSKEY.KeyTag() != 0 {
			return k, nil
		}
	}
	return nil, fmt.Errorf("new key for %s: %w: key tag 0 every time", owner, errKey)
}

// keyBits is the key size of each algorithm NewKey supports; miekg/dns
// wants the curve size for the elliptic ones.
var keyBits = map[uint8]int{
	dns.RSASHA256:       2048,
	dns.ECDSAP256SHA256: 256,
	dns.ED25519:         256,
}

func generate(owner string, algorithm uint8, bits int, flags uint16) (*Key, error) {
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: owner, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: keyTTL},
		Flags:     flags,
		Protocol:  3,
		Algorithm: algorithm,
	}
	priv, err := k.Generate(bits)
	if err != nil {
		return nil, err
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T is not a crypto.Signer", errKey, priv)
	}
	return &Key{DNSKEY: k, Signer: signer}, nil
}

// DS returns the DS record of k with a SHA-256 digest (dns.SHA256), TTL as the DNSKEY's.
// It returns nil if k or its DNSKEY is nil, or the DNSKEY cannot be encoded.
func (k *Key) DS() *dns.DS {
	if k == nil || k.DNSKEY == nil {
		return nil
	}
	return k.DNSKEY.ToDS(dns.SHA256)
}

// check reports why k cannot sign the zone at apex, checking what
// (*dns.RRSIG).Verify would otherwise reject only after the fact. Whether
// the private key matches the DNSKEY is checked on the first signature.
func (k *Key) check(role, apex string) error {
	switch {
	case k == nil:
		return fmt.Errorf("%w: no %s", errKey, role)
	case k.DNSKEY == nil:
		return fmt.Errorf("%w: %s has no DNSKEY", errKey, role)
	case k.Signer == nil:
		return fmt.Errorf("%w: %s has no private key", errKey, role)
	case k.DNSKEY.Hdr.Class != dns.ClassINET:
		return fmt.Errorf("%w: %s DNSKEY has class %s, not IN", errKey, role, dns.Class(k.DNSKEY.Hdr.Class))
	case k.DNSKEY.Protocol != 3:
		return fmt.Errorf("%w: %s DNSKEY has protocol %d, not 3", errKey, role, k.DNSKEY.Protocol)
	case k.DNSKEY.Flags&dns.ZONE == 0:
		return fmt.Errorf("%w: %s DNSKEY lacks the Zone Key flag", errKey, role)
	case k.DNSKEY.KeyTag() == 0:
		// miekg/dns will not sign with key tag 0, and it also gives 0
		// when the public key is not valid base64.
		return fmt.Errorf("%w: %s DNSKEY has key tag 0 or a public key that cannot be encoded", errKey, role)
	}
	owner, err := canonicalName(k.DNSKEY.Hdr.Name)
	if err != nil {
		return fmt.Errorf("%w: %s DNSKEY owner: %w", errKey, role, err)
	}
	if owner != apex {
		return fmt.Errorf("%w: %s is a key of %s, not of %s", errKey, role, owner, apex)
	}
	return nil
}
