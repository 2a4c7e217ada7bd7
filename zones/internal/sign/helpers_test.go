package sign

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testZone has every kind of name the signer treats differently.
const testZone = `$ORIGIN example.
$TTL 3600
@             SOA   ns1 hostmaster 1 7200 3600 1209600 300
@             NS    ns1
@             A     192.0.2.1
ns1           A     192.0.2.53
www           A     192.0.2.80
www           AAAA  2001:db8::80
*.wild        TXT   "wildcard"
a.b.c         A     192.0.2.3
multi     300 TXT   "short"
multi     600 TXT   "long"
secure        NS    ns.secure
secure        DS    12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
secure        A     192.0.2.98
ns.secure     A     192.0.2.10
insecure      NS    ns.insecure
ns.insecure   A     192.0.2.11
deep.insecure TXT   "occluded"
deleg.ent     NS    ns.elsewhere.net.
`

// The validity window of the tests' signatures, and a time inside it.
var (
	inception  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	expiration = inception.Add(30 * 24 * time.Hour)
	during     = inception.Add(24 * time.Hour)
)

var algorithms = []uint8{dns.RSASHA256, dns.ECDSAP256SHA256, dns.ED25519}

// Keys for example., made once per test binary: RSA key generation takes
// a good part of a second.
var (
	keysOnce sync.Once
	keys     map[uint8][2]*Key
	errKeys  error
)

func testKeys(t testing.TB, alg uint8) (ksk, zsk *Key) {
	t.Helper()
	keysOnce.Do(func() {
		keys = make(map[uint8][2]*Key)
		for _, a := range algorithms {
			k, err := NewKey("example.", a, true)
			if err != nil {
				errKeys = err
				return
			}
			z, err := NewKey("example.", a, false)
			if err != nil {
				errKeys = err
				return
			}
			keys[a] = [2]*Key{k, z}
		}
	})
	if errKeys != nil {
		t.Fatal(errKeys)
	}
	return keys[alg][0], keys[alg][1]
}

func parseZone(t testing.TB, text, origin string) []dns.RR {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "test")
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func options(ksk, zsk *Key, denial Denial) Options {
	return Options{KSK: ksk, ZSK: zsk, Inception: inception, Expiration: expiration, Denial: denial}
}

// setKey names one RRset.
type setKey struct {
	owner  string
	rrtype uint16
}

func (k setKey) String() string { return k.owner + " " + dns.Type(k.rrtype).String() }

func key(owner string, rrtype uint16) setKey { return setKey{dns.CanonicalName(owner), rrtype} }

// rrsets groups copies of rrs by canonical owner and type, as a validator
// gets them: RRSIGs are left out.
func rrsets(t testing.TB, rrs []dns.RR) map[setKey][]dns.RR {
	t.Helper()
	out := make(map[setKey][]dns.RR)
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeRRSIG {
			continue
		}
		owner, err := canonicalName(rr.Header().Name)
		if err != nil {
			t.Fatal(err)
		}
		c := dns.Copy(rr)
		c.Header().Name = owner
		k := setKey{owner, rr.Header().Rrtype}
		out[k] = append(out[k], c)
	}
	return out
}

// verifyAll checks every RRSIG in out against its RRset from records and
// out: it verifies with the KSK over the DNSKEY RRset and with the ZSK
// elsewhere, carries the RRset's smallest TTL, and is valid during the
// test window only. It returns the signatures by the RRset they cover.
func verifyAll(t testing.TB, apex string, records, out []dns.RR, ksk, zsk *Key) map[setKey][]*dns.RRSIG {
	t.Helper()
	sets := rrsets(t, append(slices.Clone(records), out...))
	sigs := make(map[setKey][]*dns.RRSIG)
	for _, rr := range out {
		sig, ok := rr.(*dns.RRSIG)
		if !ok {
			continue
		}
		k := key(sig.Hdr.Name, sig.TypeCovered)
		sigs[k] = append(sigs[k], sig)
		if err := checkSig(sig, apex, sets[k], ksk, zsk); err != nil {
			t.Errorf("RRSIG over %s: %v", k, err)
		}
	}
	return sigs
}

func checkSig(sig *dns.RRSIG, apex string, set []dns.RR, ksk, zsk *Key) error {
	if len(set) == 0 {
		return errors.New("no such RRset")
	}
	k := zsk
	if sig.TypeCovered == dns.TypeDNSKEY {
		k = ksk
	}
	ttl := set[0].Header().Ttl
	for _, rr := range set {
		ttl = min(ttl, rr.Header().Ttl)
	}
	switch {
	case sig.KeyTag != k.DNSKEY.KeyTag():
		return fmt.Errorf("key tag %d, want %d", sig.KeyTag, k.DNSKEY.KeyTag())
	case sig.SignerName != apex:
		return fmt.Errorf("signer %s, want %s", sig.SignerName, apex)
	case sig.Hdr.Ttl != ttl || sig.OrigTtl != ttl:
		return fmt.Errorf("TTL %d, original TTL %d, want %d", sig.Hdr.Ttl, sig.OrigTtl, ttl)
	case !sig.ValidityPeriod(during):
		return fmt.Errorf("not valid at %s", during)
	case sig.ValidityPeriod(inception.Add(-time.Second)) || sig.ValidityPeriod(expiration.Add(time.Second)):
		return errors.New("valid outside its window")
	}
	return sig.Verify(k.DNSKEY, set)
}

// roundTrip checks that each record survives the wire: the length fields
// of NSEC3 and NSEC3PARAM are set, and the bitmaps are in order.
func roundTrip(t testing.TB, out []dns.RR) {
	t.Helper()
	for _, rr := range out {
		buf := make([]byte, dns.Len(rr)+1)
		n, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Errorf("pack %s: %v", rr, err)
			continue
		}
		back, _, err := dns.UnpackRR(buf[:n], 0)
		if err != nil {
			t.Errorf("unpack %s: %v", rr, err)
			continue
		}
		if back.String() != rr.String() {
			t.Errorf("round trip changed %s\nto %s", rr, back)
		}
	}
}

// ofType returns the records of out of Go type T.
func ofType[T dns.RR](out []dns.RR) []T {
	var ts []T
	for _, rr := range out {
		if r, ok := rr.(T); ok {
			ts = append(ts, r)
		}
	}
	return ts
}
