package anchors

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/canonical"
)

// Errors about anchors themselves. Parse and Set.Add wrap them with the file,
// line and record, so callers can tell the cases apart with errors.Is.
var (
	// ErrEmpty is returned by Parse for input with no anchor in it.
	ErrEmpty = errors.New("no trust anchors")
	// ErrNotAnchor is returned for a record of a type other than DS and
	// DNSKEY: whatever it is, trusting it would be a configuration mistake.
	ErrNotAnchor = errors.New("record type cannot be a trust anchor (only DS and DNSKEY can)")
	// ErrRevoked is returned for a DNSKEY with the REVOKE flag (RFC 5011
	// section 2.1): its owner has said it must never be trusted again.
	ErrRevoked = errors.New("DNSKEY has the REVOKE flag (RFC 5011 section 2.1)")
	// ErrNotZoneKey is returned for a DNSKEY without the Zone Key flag,
	// which RFC 4034 section 2.1.1 forbids using to verify RRSIGs.
	ErrNotZoneKey = errors.New("DNSKEY lacks the Zone Key flag (RFC 4034 section 2.1.1)")
	// ErrBadAnchor is returned for a DS or DNSKEY that cannot be used: not
	// class IN, a bad owner name, a digest or key that does not decode, a
	// DNSKEY protocol other than 3.
	ErrBadAnchor = errors.New("malformed trust anchor")
)

// Set is the trust anchors of several zones: DS and DNSKEY records, each
// zone's owner kept as its canonical (lower-case, fully qualified) name.
// The zero value is an empty Set ready for Add. Reading methods may be
// called from any number of goroutines; Add may not run alongside them.
type Set struct {
	zones map[string]*zoneAnchors
	n     int // records in all zones
}

type zoneAnchors struct {
	ds   []*dns.DS
	keys []*dns.DNSKEY
}

// NewSet returns an empty Set.
func NewSet() *Set { return &Set{} }

// Add checks rr and adds a copy of it to the set: a DS, or a DNSKEY with
// the Zone Key flag and protocol 3 and without the REVOKE flag, class IN.
// The owner name is made canonical and a DS digest upper-case; a record
// already in the set (same owner and data, whatever the TTL) is not added
// twice. The error wraps ErrNotAnchor, ErrRevoked, ErrNotZoneKey or
// ErrBadAnchor.
func (s *Set) Add(rr dns.RR) error {
	rr, err := normalize(rr)
	if err != nil {
		return err
	}
	if s.zones == nil {
		s.zones = make(map[string]*zoneAnchors)
	}
	owner := rr.Header().Name
	z := s.zones[owner]
	if z == nil {
		z = &zoneAnchors{}
		s.zones[owner] = z
	}
	switch r := rr.(type) {
	case *dns.DS:
		for _, have := range z.ds {
			if dns.IsDuplicate(have, r) {
				return nil
			}
		}
		z.ds = append(z.ds, r)
	case *dns.DNSKEY:
		for _, have := range z.keys {
			if dns.IsDuplicate(have, r) {
				return nil
			}
		}
		z.keys = append(z.keys, r)
	}
	s.n++
	return nil
}

// For returns copies of zone's DS and DNSKEY anchors, in the order they
// were added. zone may be in any case, with or without the final dot.
func (s *Set) For(zone string) (ds []*dns.DS, keys []*dns.DNSKEY) {
	if s == nil {
		return nil, nil
	}
	name, err := canonicalName(zone)
	if err != nil {
		return nil, nil
	}
	z := s.zones[name]
	if z == nil {
		return nil, nil
	}
	for _, d := range z.ds {
		ds = append(ds, dns.Copy(d).(*dns.DS))
	}
	for _, k := range z.keys {
		keys = append(keys, dns.Copy(k).(*dns.DNSKEY))
	}
	return ds, keys
}

// Zones returns the canonical names of the zones with anchors, in DNSSEC's
// canonical order (RFC 4034 section 6.1): the root first, a zone before
// the zones below it.
func (s *Set) Zones() []string {
	if s == nil {
		return nil
	}
	zones := make([]string, 0, len(s.zones))
	for z := range s.zones {
		zones = append(zones, z)
	}
	canonical.Sort(zones)
	return zones
}

// Closest returns the deepest zone with an anchor at or above name: where
// the validator's chain of trust for name starts. ok is false when no
// anchor covers name (or name is not a valid domain name): then nothing at
// name can be validated and it is insecure.
func (s *Set) Closest(name string) (zone string, ok bool) {
	if s == nil || len(s.zones) == 0 {
		return "", false
	}
	name, err := canonicalName(name)
	if err != nil {
		return "", false
	}
	for {
		if _, ok := s.zones[name]; ok {
			return name, true
		}
		if name == "." {
			return "", false
		}
		// NextLabel skips escaped dots, so "a\.b.example." goes to "example.".
		off, end := dns.NextLabel(name, 0)
		if end {
			name = "."
		} else {
			name = name[off:]
		}
	}
}

// Len returns the number of anchor records in the set, over all zones.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Records returns copies of every anchor, zone by zone in canonical order,
// each zone's DS records before its DNSKEYs.
func (s *Set) Records() []dns.RR {
	var rrs []dns.RR
	for _, zone := range s.Zones() {
		ds, keys := s.For(zone)
		for _, d := range ds {
			rrs = append(rrs, d)
		}
		for _, k := range keys {
			rrs = append(rrs, k)
		}
	}
	return rrs
}

// String returns the set in master-file form, one record a line, which
// Parse reads back into the same set.
func (s *Set) String() string {
	var b strings.Builder
	for _, rr := range s.Records() {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Digest lengths in octets of the DS digest types whose length is fixed
// (RFC 4034 section 5.1.4, RFC 4509, RFC 6605). A truncated digest, as a
// bad copy and paste makes, is caught at load time rather than as a
// validation failure much later. Other digest types are only checked to be
// hexadecimal: the validator ignores types it does not know.
var digestLen = map[uint8]int{
	dns.SHA1:   20,
	dns.SHA256: 32,
	dns.SHA384: 48,
}

// normalize checks that rr may be a trust anchor and returns a canonical
// copy of it.
func normalize(rr dns.RR) (dns.RR, error) {
	if rr == nil {
		return nil, fmt.Errorf("%w: no record", ErrBadAnchor)
	}
	h := rr.Header()
	if h.Rrtype != dns.TypeDS && h.Rrtype != dns.TypeDNSKEY {
		return nil, fmt.Errorf("%w: %s record for %s", ErrNotAnchor, dns.Type(h.Rrtype), h.Name)
	}
	if h.Class != dns.ClassINET {
		return nil, fmt.Errorf("%w: class %s, not IN: %s", ErrBadAnchor, dns.Class(h.Class), rr)
	}
	owner, err := canonicalName(h.Name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAnchor, err)
	}
	switch r := rr.(type) {
	case *dns.DS:
		c := dns.Copy(r).(*dns.DS)
		c.Hdr.Name = owner
		c.Digest = strings.ToUpper(c.Digest)
		digest, err := hex.DecodeString(c.Digest)
		if err != nil || len(digest) == 0 {
			return nil, fmt.Errorf("%w: DS digest is not hexadecimal: %s", ErrBadAnchor, rr)
		}
		if want, ok := digestLen[c.DigestType]; ok && len(digest) != want {
			return nil, fmt.Errorf("%w: DS digest of type %d has %d octets, not %d: %s",
				ErrBadAnchor, c.DigestType, len(digest), want, rr)
		}
		return c, nil
	case *dns.DNSKEY:
		if r.Flags&dns.ZONE == 0 {
			return nil, fmt.Errorf("%w: %s", ErrNotZoneKey, rr)
		}
		if r.Flags&dns.REVOKE != 0 {
			return nil, fmt.Errorf("%w: %s", ErrRevoked, rr)
		}
		if r.Protocol != 3 { // RFC 4034 section 2.1.2: any other value makes the key invalid
			return nil, fmt.Errorf("%w: DNSKEY protocol %d, not 3: %s", ErrBadAnchor, r.Protocol, rr)
		}
		key, err := base64.StdEncoding.DecodeString(r.PublicKey)
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("%w: DNSKEY public key is not base64: %s", ErrBadAnchor, rr)
		}
		c := dns.Copy(r).(*dns.DNSKEY)
		c.Hdr.Name = owner
		// Re-encoded, the key has one spelling, which keyID and the
		// duplicate check can compare.
		c.PublicKey = base64.StdEncoding.EncodeToString(key)
		return c, nil
	default:
		// A type whose header says DS or DNSKEY but is not one (an RFC 3597
		// unknown-type record, say) has no fields to check.
		return nil, fmt.Errorf("%w: %s record for %s", ErrNotAnchor, dns.Type(h.Rrtype), h.Name)
	}
}

// canonicalName returns name in canonical form (RFC 4034 section 6.2):
// fully qualified, ASCII letters lower-case, escapes spelled one way. Going
// through the wire form makes `\065.` and `a.` the same name, which
// lower-casing the text would not.
func canonicalName(name string) (string, error) {
	var wire [256]byte // room for the longest wire name, 255 octets
	n, err := dns.PackDomainName(dns.Fqdn(name), wire[:], 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("bad domain name %q: %w", name, err)
	}
	for off := 0; off < n && wire[off] != 0; off += int(wire[off]) + 1 {
		for i := off + 1; i <= off+int(wire[off]); i++ {
			if 'A' <= wire[i] && wire[i] <= 'Z' {
				wire[i] += 'a' - 'A'
			}
		}
	}
	s, _, err := dns.UnpackDomainName(wire[:n], 0)
	if err != nil {
		return "", fmt.Errorf("bad domain name %q: %w", name, err)
	}
	return s, nil
}
