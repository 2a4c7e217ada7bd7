package anchors

import (
	"crypto"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const day = 24 * time.Hour

// testClock is the injected clock, moved by hand. It has a lock of its own
// because the concurrency test reads it from several goroutines.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)}
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testKey is a DNSKEY with its private key.
type testKey struct {
	key  *dns.DNSKEY
	priv crypto.Signer
}

// newTestKey generates an ECDSA P-256 key (the fastest to make) for zone.
func newTestKey(t *testing.T, zone string, flags uint16) *testKey {
	t.Helper()
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 172800},
		Flags:     flags,
		Protocol:  3,
		Algorithm: dns.ECDSAP256SHA256,
	}
	priv, err := k.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{key: k, priv: priv.(crypto.Signer)}
}

// revoked returns the key with the REVOKE flag set: another key tag, the
// same private key.
func (k *testKey) revoked() *testKey {
	r := dns.Copy(k.key).(*dns.DNSKEY)
	r.Flags |= dns.REVOKE
	return &testKey{key: r, priv: k.priv}
}

func (k *testKey) tag() uint16 { return k.key.KeyTag() }

// sigParams shape the RRSIGs signSet makes.
type sigParams struct {
	origTTL uint32
	valid   time.Duration // expiration - now
}

var defaultSig = sigParams{origTTL: 172800, valid: 14 * day}

// signSet returns the DNSKEY RRset of publish with an RRSIG by each of
// signers, made at now.
func signSet(t *testing.T, now time.Time, p sigParams, publish []*testKey, signers ...*testKey) ([]*dns.DNSKEY, []*dns.RRSIG) {
	t.Helper()
	var keys []*dns.DNSKEY
	var rrset []dns.RR
	for _, k := range publish {
		c := dns.Copy(k.key).(*dns.DNSKEY)
		keys = append(keys, c)
		rrset = append(rrset, c)
	}
	var sigs []*dns.RRSIG
	for _, s := range signers {
		sig := &dns.RRSIG{
			Hdr:        dns.RR_Header{Name: s.key.Hdr.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: p.origTTL},
			Algorithm:  s.key.Algorithm,
			KeyTag:     s.key.KeyTag(),
			SignerName: s.key.Hdr.Name,
			OrigTtl:    p.origTTL,
			Inception:  uint32(now.Add(-time.Hour).Unix()),
			Expiration: uint32(now.Add(p.valid).Unix()),
		}
		if err := sig.Sign(s.priv, rrset); err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, sig)
	}
	return keys, sigs
}

// env is a Tracker under test with its clock.
type env struct {
	t     *testing.T
	clock *testClock
	tr    *Tracker
	zone  string
}

func newEnv(t *testing.T, zone string, initial *Set, stateFile string) *env {
	t.Helper()
	c := newTestClock()
	tr, err := NewTracker(zone, initial, stateFile, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, clock: c, tr: tr, zone: zone}
}

// observe hands the tracker the RRset of publish signed by signers, now.
func (e *env) observe(publish []*testKey, signers ...*testKey) error {
	e.t.Helper()
	keys, sigs := signSet(e.t, e.clock.now(), defaultSig, publish, signers...)
	return e.tr.Observe(keys, sigs)
}

// mustObserve is observe for an RRset that must validate and save.
func (e *env) mustObserve(publish []*testKey, signers ...*testKey) {
	e.t.Helper()
	if err := e.observe(publish, signers...); err != nil {
		e.t.Fatalf("Observe: %v", err)
	}
}

// wantState checks the state the tracker reports for k's key tag.
func (e *env) wantState(k *testKey, want KeyState) {
	e.t.Helper()
	got, ok := e.tr.State()[k.tag()]
	if !ok {
		e.t.Errorf("key %d: no state, want %s", k.tag(), want)
	} else if got != want {
		e.t.Errorf("key %d: state %s, want %s", k.tag(), got, want)
	}
}

func (e *env) wantNoState(k *testKey) {
	e.t.Helper()
	if got, ok := e.tr.State()[k.tag()]; ok {
		e.t.Errorf("key %d: state %s, want none", k.tag(), got)
	}
}

// wantTrusted checks that Trusted is exactly keys, as DNSKEY anchors.
func (e *env) wantTrusted(keys ...*testKey) {
	e.t.Helper()
	ds, got := e.tr.Trusted().For(e.zone)
	if len(ds) != 0 {
		e.t.Errorf("Trusted has DS %v, want DNSKEYs only", ds)
	}
	var gotTags, wantTags []uint16
	for _, k := range got {
		if k.Flags&dns.REVOKE != 0 {
			e.t.Errorf("Trusted has a revoked key: %v", k)
		}
		gotTags = append(gotTags, k.KeyTag())
	}
	for _, k := range keys {
		wantTags = append(wantTags, k.tag())
	}
	slices.Sort(gotTags)
	slices.Sort(wantTags)
	if !slices.Equal(gotTags, wantTags) {
		e.t.Errorf("Trusted key tags %v, want %v", gotTags, wantTags)
	}
}

// dsSet returns a Set with the SHA-256 DS of each key.
func dsSet(t *testing.T, keys ...*testKey) *Set {
	t.Helper()
	s := NewSet()
	for _, k := range keys {
		if err := s.Add(k.key.ToDS(dns.SHA256)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// keySet returns a Set with each key as a DNSKEY anchor.
func keySet(t *testing.T, keys ...*testKey) *Set {
	t.Helper()
	s := NewSet()
	for _, k := range keys {
		if err := s.Add(k.key); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func set(keys ...*testKey) []*testKey { return keys }
