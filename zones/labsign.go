package zones

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/zones/internal/sign"
)

// How the lab signs its zones (issue 8). The root, the TLDs and the
// healthy domains are signed with a mix of the algorithms a validator must
// know (RSA/SHA-256, ECDSA P-256, Ed25519) and of NSEC, NSEC3 and NSEC3
// with opt-out; the zones of the faulty and attacking servers stay
// unsigned, so their parents prove them insecure. Six zones under org. are
// there for DNSSEC alone, each broken in one way (labBreak). Keys are made
// and zones signed once per process, when the lab is first needed: an RSA
// key takes a while to make, and every lab of a process serves the same
// signed data, valid from an hour before it was signed for labSigValidity.

// labSigValidity is how long the lab's signatures stay valid.
const labSigValidity = 30 * 24 * time.Hour

// labBreak is how a signed lab zone is broken on purpose.
type labBreak uint8

const (
	breakNone         labBreak = iota
	breakExpired               // every RRSIG expired before the lab started
	breakDSMismatch            // the parent's DS is for a key the zone does not have
	breakRRSIGMissing          // www's A RRset is served without its RRSIG
	breakForgedNSEC            // gone exists when signing, then is served as NXDOMAIN behind a tampered NSEC
	breakAlgorithm             // keys and signatures claim RSA/MD5, which no validator may use
)

// labSigning is how one lab zone is signed.
type labSigning struct {
	algorithm  uint8
	denial     sign.Denial
	optOut     bool
	iterations uint16 // NSEC3 extra iterations
	broken     labBreak
}

// labSigned lists the signed lab zones; the others are not signed.
var labSigned = map[string]labSigning{
	".":                     {algorithm: dns.RSASHA256, denial: sign.NSEC},
	"arpa.":                 {algorithm: dns.ECDSAP256SHA256, denial: sign.NSEC},
	"53.127.in-addr.arpa.":  {algorithm: dns.ED25519, denial: sign.NSEC3},
	"com.":                  {algorithm: dns.ECDSAP256SHA256, denial: sign.NSEC3, optOut: true},
	"net.":                  {algorithm: dns.ECDSAP256SHA256, denial: sign.NSEC3},
	"org.":                  {algorithm: dns.ED25519, denial: sign.NSEC},
	"example.com.":          {algorithm: dns.ECDSAP256SHA256, denial: sign.NSEC},
	"sub.example.com.":      {algorithm: dns.ED25519, denial: sign.NSEC3},
	"example.net.":          {algorithm: dns.RSASHA256, denial: sign.NSEC3},
	"example.org.":          {algorithm: dns.ED25519, denial: sign.NSEC},
	"cdnprovider.net.":      {algorithm: dns.ECDSAP256SHA256, denial: sign.NSEC3},
	"dnshost.org.":          {algorithm: dns.RSASHA256, denial: sign.NSEC},
	"sig-expired.org.":      {algorithm: dns.ECDSAP256SHA256, denial: sign.NSEC, broken: breakExpired},
	"ds-mismatch.org.":      {algorithm: dns.ECDSAP256SHA256, denial: sign.NSEC, broken: breakDSMismatch},
	"rrsig-missing.org.":    {algorithm: dns.ECDSAP256SHA256, denial: sign.NSEC, broken: breakRRSIGMissing},
	"nsec-forged.org.":      {algorithm: dns.ECDSAP256SHA256, denial: sign.NSEC, broken: breakForgedNSEC},
	"unknown-algo.org.":     {algorithm: dns.ECDSAP256SHA256, denial: sign.NSEC, broken: breakAlgorithm},
	"nsec3-iterations.org.": {algorithm: dns.ECDSAP256SHA256, denial: sign.NSEC3, iterations: 151},
}

// signedLab is the lab's zones as signed once per process, and the
// root's trust anchor.
type signedLab struct {
	zones  []*Zone
	anchor []*dns.DS
}

var labOnce = sync.OnceValues(func() (*signedLab, error) {
	zones, err := parseLabZones()
	if err != nil {
		return nil, err
	}
	return signLab(zones, time.Now())
})

// zoneKeys are the keys of one signed lab zone, and the DS records its
// parent publishes for it.
type zoneKeys struct {
	ksk, zsk *sign.Key
	ds       []*dns.DS
}

// signLab signs the zones listed in labSigned, with the time now, and adds
// each one's DS records to its parent.
func signLab(zones []*Zone, now time.Time) (*signedLab, error) {
	keys := make(map[string]*zoneKeys)
	for _, z := range zones {
		how, ok := labSigned[z.origin]
		if !ok {
			continue
		}
		k, err := labKeys(z.origin, how)
		if err != nil {
			return nil, err
		}
		keys[z.origin] = k
	}
	out := &signedLab{anchor: keys["."].ds}
	for _, z := range zones {
		how, ok := labSigned[z.origin]
		if !ok {
			out.zones = append(out.zones, z)
			continue
		}
		var ds []dns.RR
		for _, child := range z.cuts {
			if k := keys[child]; k != nil {
				for _, d := range k.ds {
					ds = append(ds, d)
				}
			}
		}
		s, err := signLabZone(z, how, keys[z.origin], ds, now)
		if err != nil {
			return nil, err
		}
		out.zones = append(out.zones, s)
	}
	return out, nil
}

// labKeys makes a zone's keys and the DS its parent will publish.
func labKeys(origin string, how labSigning) (*zoneKeys, error) {
	ksk, err := sign.NewKey(origin, how.algorithm, true)
	if err != nil {
		return nil, fmt.Errorf("lab keys for %s: %w", origin, err)
	}
	zsk, err := sign.NewKey(origin, how.algorithm, false)
	if err != nil {
		return nil, fmt.Errorf("lab keys for %s: %w", origin, err)
	}
	k := &zoneKeys{ksk: ksk, zsk: zsk, ds: []*dns.DS{ksk.DS()}}
	switch how.broken {
	case breakDSMismatch:
		// The parent vouches for a key that signs nothing here.
		other, err := sign.NewKey(origin, how.algorithm, true)
		if err != nil {
			return nil, fmt.Errorf("lab keys for %s: %w", origin, err)
		}
		k.ds = []*dns.DS{other.DS()}
	case breakAlgorithm:
		k.ds = []*dns.DS{asAlgorithm(ksk.DNSKEY, dns.RSAMD5).ToDS(dns.SHA256)}
	}
	return k, nil
}

// signLabZone signs z, with ds added for its signed delegations, and
// breaks it as how says.
func signLabZone(z *Zone, how labSigning, k *zoneKeys, ds []dns.RR, now time.Time) (*Zone, error) {
	opts := sign.Options{
		KSK: k.ksk, ZSK: k.zsk,
		Inception:  now.Add(-time.Hour),
		Expiration: now.Add(labSigValidity),
		Denial:     how.denial,
		OptOut:     how.optOut,
		Iterations: how.iterations,
	}
	if how.broken == breakExpired {
		opts.Inception, opts.Expiration = now.Add(-60*24*time.Hour), now.Add(-30*24*time.Hour)
	}
	data := append(z.Records(), ds...)
	extra, err := sign.Sign(z.origin, data, opts)
	if err != nil {
		return nil, fmt.Errorf("sign lab zone %s: %w", z.origin, err)
	}
	switch how.broken {
	case breakRRSIGMissing:
		www := "www." + z.origin
		extra = slices.DeleteFunc(extra, func(rr dns.RR) bool {
			sig, ok := rr.(*dns.RRSIG)
			return ok && sig.Hdr.Name == www && sig.TypeCovered == dns.TypeA
		})
	case breakForgedNSEC:
		data, extra = forgeDenial(z.origin, data, extra)
	case breakAlgorithm:
		extra = claimAlgorithm(extra, dns.RSAMD5)
	}
	return buildSigned(z.origin, z.file, data, extra)
}

// forgeDenial removes gone.<origin> from the zone's data and DNSSEC
// records, and makes the NSEC that pointed to it point past it: a denial
// of gone whose signature, made over the old next name, fails.
func forgeDenial(origin string, data, extra []dns.RR) ([]dns.RR, []dns.RR) {
	gone := "gone." + origin
	isGone := func(rr dns.RR) bool { return strings.EqualFold(rr.Header().Name, gone) }
	past := origin
	for _, rr := range extra {
		if nsec, ok := rr.(*dns.NSEC); ok && isGone(nsec) {
			past = nsec.NextDomain
		}
	}
	data = slices.DeleteFunc(slices.Clone(data), isGone)
	extra = slices.DeleteFunc(slices.Clone(extra), isGone)
	for _, rr := range extra {
		if nsec, ok := rr.(*dns.NSEC); ok && strings.EqualFold(nsec.NextDomain, gone) {
			nsec.NextDomain = past
		}
	}
	return data, extra
}

// asAlgorithm returns a copy of key that claims algorithm alg.
func asAlgorithm(key *dns.DNSKEY, alg uint8) *dns.DNSKEY {
	k := dns.Copy(key).(*dns.DNSKEY)
	k.Algorithm = alg
	return k
}

// claimAlgorithm makes a signed zone's DNSKEYs and RRSIGs claim algorithm
// alg: the keys keep their bytes, the signatures get random ones with the
// new keys' tags. A validator that does not implement alg never looks
// inside them.
func claimAlgorithm(extra []dns.RR, alg uint8) []dns.RR {
	tags := make(map[uint16]uint16) // old key tag -> new
	for _, rr := range extra {
		if k, ok := rr.(*dns.DNSKEY); ok {
			old := k.KeyTag()
			k.Algorithm = alg
			tags[old] = k.KeyTag()
		}
	}
	for _, rr := range extra {
		if sig, ok := rr.(*dns.RRSIG); ok {
			sig.Algorithm = alg
			sig.KeyTag = tags[sig.KeyTag]
			junk := make([]byte, 128)
			_, _ = rand.Read(junk)
			sig.Signature = base64.StdEncoding.EncodeToString(junk)
		}
	}
	return extra
}
