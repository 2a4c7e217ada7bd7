// Package sign DNSSEC-signs the lab's zones at start-up. [NewKey] makes
// the keys; [Sign] takes a zone's records and returns the DNSSEC records
// to add to them: the apex DNSKEY RRset, an NSEC chain (RFC 4034 section
// 4, RFC 4035 section 2.3) or an NSEC3 chain with its NSEC3PARAM (RFC 5155
// section 7.1), and an RRSIG (RFC 4034 section 3) over every
// authoritative RRset. It never uses the network, and its output is the
// same for the same input except for the bytes of randomised (ECDSA)
// signatures.
//
// # What is signed
//
// Every authoritative RRset is signed (RFC 4035 section 2.2): the DNSKEY
// RRset by the key-signing key alone, everything else, the new NSEC,
// NSEC3 and NSEC3PARAM records included, by the zone-signing key. A name
// below the apex with an NS RRset is a zone cut, where only the DS RRset
// is authoritative: the NS RRset there is not signed, and the names below
// it (glue, and any data the cut hides) are neither signed nor in the
// chain. DNAME does not hide names in this way; zones are expected not to
// have data below a DNAME (RFC 6672 section 2.4). The RRSIG over a
// wildcard RRset does not count the '*' label in its Labels field (RFC
// 4034 section 3.1.3), so that it validates the answers expanded from it.
//
// # Denial of existence
//
// An NSEC chain links every authoritative name and every cut in canonical
// order (RFC 4034 section 6.1). An NSEC3 chain also holds the empty
// non-terminals, and with opt-out leaves out the cuts without DS and the
// empty non-terminals that only they make. RFC 9276 recommends 0 extra
// iterations and no salt. NSEC, NSEC3 and NSEC3PARAM records get the TTL
// min(SOA TTL, SOA MINIMUM) (RFC 9077).
//
// # TTLs
//
// An RRset whose records disagree on their TTL is signed as if they all
// had the smallest (RFC 2181 section 5.2): that is the RRSIG's TTL and
// Original TTL. The caller's records are not changed; validators cap the
// TTL at the Original TTL (RFC 4035 section 5.3.3), so the signatures hold
// whatever TTLs the records are served with.
//
// # Input
//
// Only class IN is signed. The records must not include DNSSEC records
// that Sign makes (DNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM), a DS anywhere
// but at a cut, or an owner whose first label starts with '*' without
// being the wildcard label: miekg/dns would sign it as a wildcard.
package sign

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/canonical"
)

// Denial chooses how a zone proves that names and types do not exist.
type Denial uint8

// The denial-of-existence methods.
const (
	NSEC  Denial = iota // RFC 4034
	NSEC3               // RFC 5155, SHA-1
)

// String returns the record type the denial method makes, for messages.
func (d Denial) String() string {
	switch d {
	case NSEC:
		return "NSEC"
	case NSEC3:
		return "NSEC3"
	}
	return fmt.Sprintf("Denial(%d)", uint8(d))
}

// Options say how to sign one zone.
type Options struct {
	KSK, ZSK              *Key      // required; both must be keys of the zone being signed
	Inception, Expiration time.Time // the RRSIGs' validity window (required, Inception < Expiration)
	Denial                Denial
	Iterations            uint16 // NSEC3 extra iterations (RFC 9276 recommends 0)
	Salt                  string // NSEC3 salt in hex; "" for none ("-" in presentation)
	OptOut                bool   // NSEC3 only: leave unsigned delegations out of the chain and set the Opt-Out flag
}

var errOptions = errors.New("bad options")

// maxWindow is the longest validity window: RFC 4034 section 3.1.5
// compares the times in serial number arithmetic, which orders two
// values only when they are less than 2^31 seconds apart.
const maxWindow = (1<<31 - 1) * time.Second

// Sign returns the DNSSEC records for the zone at origin whose records are given
// (as parsed from a master file: the apex SOA and NS, data, delegation NS RRsets below the apex with their DS records, and glue).
// It does not modify records. What it returns: the apex DNSKEY RRset (KSK and ZSK), the NSEC chain or the NSEC3 chain
// plus an NSEC3PARAM at the apex, and RRSIGs for every authoritative RRset, those new ones included.
//
// The records come back in canonical order of their owner names, by type
// at each name, each RRSIG after the RRset it covers. With one key as
// both KSK and ZSK the DNSKEY RRset has one record. Salt "-" means no
// salt; Iterations, Salt and OptOut are ignored with NSEC. The first
// signature made with each key is verified, so that a Signer that is not
// the private half of its DNSKEY is an error here rather than a bogus
// zone in every validator.
func Sign(origin string, records []dns.RR, opts Options) ([]dns.RR, error) {
	out, err := sign(origin, records, opts)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", origin, err)
	}
	return out, nil
}

func sign(origin string, records []dns.RR, opts Options) ([]dns.RR, error) {
	apex, err := canonicalName(origin)
	if err != nil {
		return nil, fmt.Errorf("origin: %w", err)
	}
	s, err := newSigner(apex, opts)
	if err != nil {
		return nil, err
	}
	z, err := newZone(apex, records)
	if err != nil {
		return nil, err
	}
	sets := append(z.rrsets(), s.dnskeys())
	chain, err := s.chain(z)
	if err != nil {
		return nil, err
	}
	sets = append(sets, chain...)
	for _, set := range sets {
		if err := s.sign(set); err != nil {
			return nil, err
		}
	}
	return flatten(sets), nil
}

// rrset is one RRset to sign, with its signature once made.
type rrset struct {
	owner  string // canonical
	rrtype uint16
	rrs    []dns.RR
	added  bool // rrs are new records to return, not the caller's
	sig    *dns.RRSIG
}

// rrsets returns the zone's authoritative RRsets.
func (z *zone) rrsets() []*rrset {
	var out []*rrset
	for _, name := range z.names {
		n := z.nodes[name]
		for _, t := range n.signedTypes() {
			out = append(out, &rrset{owner: name, rrtype: t, rrs: n.rrsets[t]})
		}
	}
	return out
}

// flatten lists the records to return in a fixed order, so that the same
// zone signs to the same output.
func flatten(sets []*rrset) []dns.RR {
	slices.SortFunc(sets, func(a, b *rrset) int {
		if c := canonical.Compare(a.owner, b.owner); c != 0 {
			return c
		}
		return cmp.Compare(a.rrtype, b.rrtype)
	})
	var out []dns.RR
	for _, set := range sets {
		if set.added {
			out = append(out, set.rrs...)
		}
		out = append(out, set.sig)
	}
	return out
}

// signer holds what every signature of one zone shares.
type signer struct {
	apex                  string
	opts                  Options
	salt                  string // opts.Salt checked and in lower case
	inception, expiration uint32
	checked               map[*Key]bool // keys whose first signature verified
}

func newSigner(apex string, opts Options) (*signer, error) {
	if err := opts.KSK.check("KSK", apex); err != nil {
		return nil, err
	}
	if err := opts.ZSK.check("ZSK", apex); err != nil {
		return nil, err
	}
	if err := checkWindow(opts.Inception, opts.Expiration); err != nil {
		return nil, err
	}
	s := &signer{
		apex:       apex,
		opts:       opts,
		inception:  serial(opts.Inception),
		expiration: serial(opts.Expiration),
		checked:    make(map[*Key]bool),
	}
	switch opts.Denial {
	case NSEC:
	case NSEC3:
		salt, err := checkSalt(opts.Salt)
		if err != nil {
			return nil, err
		}
		s.salt = salt
	default:
		return nil, fmt.Errorf("%w: %s is neither NSEC nor NSEC3", errOptions, opts.Denial)
	}
	return s, nil
}

func checkWindow(inception, expiration time.Time) error {
	switch {
	case inception.IsZero() || expiration.IsZero():
		return fmt.Errorf("%w: inception and expiration are required", errOptions)
	case !inception.Before(expiration):
		return fmt.Errorf("%w: expiration %s is not after inception %s", errOptions,
			expiration.UTC().Format(time.RFC3339), inception.UTC().Format(time.RFC3339))
	case expiration.Sub(inception) > maxWindow:
		return fmt.Errorf("%w: validity window of %s is longer than 2^31 seconds", errOptions, expiration.Sub(inception))
	}
	return nil
}

// serial returns t as an RRSIG time field: seconds since the epoch modulo
// 2^32 (RFC 4034 section 3.1.5), so the wrap-around is intended.
func serial(t time.Time) uint32 { return uint32(t.Unix()) }

// checkSalt returns the salt in lower-case hex, the way miekg/dns gives
// an NSEC3 salt it reads from the wire, so that the records compare equal
// to what a client unpacks.
func checkSalt(salt string) (string, error) {
	if salt == "-" {
		return "", nil
	}
	b, err := hex.DecodeString(salt)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: NSEC3 salt %q: %w", errOptions, salt, err)
	case len(b) > 255:
		return "", fmt.Errorf("%w: NSEC3 salt of %d octets, more than 255", errOptions, len(b))
	}
	return strings.ToLower(salt), nil
}

// dnskeys returns the apex DNSKEY RRset.
func (s *signer) dnskeys() *rrset {
	set := &rrset{owner: s.apex, rrtype: dns.TypeDNSKEY, added: true}
	for _, k := range []*Key{s.opts.KSK, s.opts.ZSK} {
		rr := dns.Copy(k.DNSKEY)
		rr.Header().Name = s.apex
		if !slices.ContainsFunc(set.rrs, func(o dns.RR) bool { return dns.IsDuplicate(o, rr) }) {
			set.rrs = append(set.rrs, rr)
		}
	}
	return set
}

// chain returns the denial-of-existence records the options ask for.
func (s *signer) chain(z *zone) ([]*rrset, error) {
	ttl := min(z.soa.Hdr.Ttl, z.soa.Minttl)
	if s.opts.Denial == NSEC {
		return nsecChain(z, ttl), nil
	}
	return nsec3Chain(z, nsec3Params{iterations: s.opts.Iterations, salt: s.salt, optOut: s.opts.OptOut}, ttl)
}

// sign signs set with the KSK if it is the DNSKEY RRset and with the ZSK
// otherwise. It verifies the first signature of each key, so that a
// private key that does not belong to its DNSKEY fails here rather than
// in every validator.
func (s *signer) sign(set *rrset) error {
	k := s.opts.ZSK
	if set.rrtype == dns.TypeDNSKEY {
		k = s.opts.KSK
	}
	ttl := minTTL(set.rrs)
	// Copies, so that the caller's records keep their own owner spelling
	// and TTLs; the signature is over the canonical owner and one TTL.
	rrs := make([]dns.RR, len(set.rrs))
	for i, rr := range set.rrs {
		rrs[i] = dns.Copy(rr)
		rrs[i].Header().Name = set.owner
		rrs[i].Header().Ttl = ttl
	}
	sig := &dns.RRSIG{
		Hdr:        dns.RR_Header{Name: set.owner, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: ttl},
		Algorithm:  k.DNSKEY.Algorithm,
		KeyTag:     k.DNSKEY.KeyTag(),
		SignerName: s.apex,
		OrigTtl:    ttl,
		Inception:  s.inception,
		Expiration: s.expiration,
	}
	what := set.owner + " " + dns.Type(set.rrtype).String()
	if err := sig.Sign(k.Signer, rrs); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !s.checked[k] {
		if err := sig.Verify(k.DNSKEY, rrs); err != nil {
			return fmt.Errorf("%w: %s: private key does not match its DNSKEY: %w", errKey, what, err)
		}
		s.checked[k] = true
	}
	set.sig = sig
	return nil
}

func minTTL(rrs []dns.RR) uint32 {
	ttl := rrs[0].Header().Ttl
	for _, rr := range rrs[1:] {
		ttl = min(ttl, rr.Header().Ttl)
	}
	return ttl
}
