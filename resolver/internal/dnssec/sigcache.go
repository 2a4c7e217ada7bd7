package dnssec

import (
	"crypto/sha256"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// SigCache remembers signatures that verified, so that the same signed
// data is checked once, not once per answer: the NSEC record proving a
// wildcard's expansions, and the wildcard RRset itself, whose signed form
// is the same for every name it is expanded to (RFC 4035 section 5.3.2),
// are met again with each new name under the wildcard, as are a zone's
// DNSKEY and DS RRsets whenever their validated keys are fetched again.
//
// An entry is keyed by a hash of all that the verification read: the
// RRSIG's RDATA (its signature bytes included), the DNSKEY (algorithm, flags and
// public key) and the RRset as it is signed, its owner name lower-cased
// and, for an expansion, put back to the wildcard's, its records sorted.
// Equal keys mean equal inputs, hence an equal verdict; RDATA that differ
// only in letter case make different keys, a miss, never a false hit.
// Only successes are kept: a failure costs an attacker the budget each
// time. The validity window is checked by VerifyRRset before the cache is
// asked, at every use. A hit costs no budget: the work it saves is what
// the budget bounds.
//
// A SigCache holds at most its size in entries, dropping an arbitrary
// tenth when full; it is safe for concurrent use.
type SigCache struct {
	mu      sync.Mutex
	max     int
	entries map[[sha256.Size]byte]struct{}
}

// NewSigCache returns a cache of at most size verified signatures.
func NewSigCache(size int) *SigCache {
	return &SigCache{max: max(size, 1), entries: make(map[[sha256.Size]byte]struct{})}
}

// Len returns how many verified signatures the cache holds.
func (c *SigCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *SigCache) has(k [sha256.Size]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[k]
	return ok
}

func (c *SigCache) add(k [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for old := range c.entries { // map order: arbitrary
			if len(c.entries) < c.max*9/10 {
				break
			}
			delete(c.entries, old)
		}
	}
	c.entries[k] = struct{}{}
}

// sigKey is the cache key of verifying sig over rrset with key.
func sigKey(sig *dns.RRSIG, key *dns.DNSKEY, rrset []dns.RR) [sha256.Size]byte {
	owner := strings.ToLower(dns.Fqdn(rrset[0].Header().Name))
	if labels := dns.SplitDomainName(owner); int(sig.Labels) < len(labels) {
		owner = "*." + dns.Fqdn(strings.Join(labels[len(labels)-int(sig.Labels):], "."))
	}
	records := make([]string, 0, len(rrset))
	for _, rr := range rrset {
		h := rr.Header()
		records = append(records, strings.TrimPrefix(rr.String(), h.String()))
	}
	slices.Sort(records)
	var b strings.Builder
	// The RRSIG's RDATA: its owner is the RRset's (above), and its TTL
	// counts down in caches, which changes nothing that was signed.
	b.WriteString(strings.TrimPrefix(sig.String(), sig.Hdr.String()))
	b.WriteString("\x00")
	b.WriteString(strconv.Itoa(int(key.Algorithm)) + " " + strconv.Itoa(int(key.Flags)) + " " + key.PublicKey)
	b.WriteString("\x00")
	b.WriteString(owner + " " + strconv.Itoa(int(rrset[0].Header().Class)) + " " + strconv.Itoa(int(rrset[0].Header().Rrtype)))
	for _, r := range records {
		b.WriteString("\x00")
		b.WriteString(r)
	}
	return sha256.Sum256([]byte(b.String()))
}
