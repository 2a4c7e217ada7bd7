package zones

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Local answers questions from zones the resolver serves itself: a
// folder of master files (local_zones: a home network's names, a
// blocklist) and the special-use zones that must never be asked of the
// internet (RFC 6761, 6303, 7686, 7793, 8375, and RFC 7534's empty zone).
// The deepest zone containing a name answers for it. It is safe for
// concurrent use; its zones never change.
type Local struct {
	zones    []*Zone          // deepest first
	byOrigin map[string]*Zone // the same, by origin
}

// NewLocal serves the given zones. When two have the same origin, the
// first one given wins, so a user's zone can replace a built-in one.
func NewLocal(sets ...[]*Zone) *Local {
	l := &Local{byOrigin: make(map[string]*Zone)}
	for _, set := range sets {
		for _, z := range set {
			if _, seen := l.byOrigin[z.origin]; !seen {
				l.byOrigin[z.origin] = z
				l.zones = append(l.zones, z)
			}
		}
	}
	slices.SortStableFunc(l.zones, func(a, b *Zone) int { return dns.CountLabel(b.origin) - dns.CountLabel(a.origin) })
	return l
}

// Zones returns the origins served, deepest first.
func (l *Local) Zones() []string {
	out := make([]string, len(l.zones))
	for i, z := range l.zones {
		out[i] = z.origin
	}
	return out
}

// Answer answers q if q's name is in one of the local zones: the reply
// holds the rcode (NOERROR or NXDOMAIN), the answer section and, for a
// negative answer, the SOA; AA is set. The zone's origin is returned
// too. A name below a delegation inside a local zone is not answered
// here.
func (l *Local) Answer(q dns.Question) (*dns.Msg, string, bool) {
	if q.Qclass != dns.ClassINET {
		return nil, "", false
	}
	if z := l.zoneFor(canonicalName(q.Name)); z != nil {
		r := z.Lookup(q.Name, q.Qtype)
		if !r.Authoritative {
			return nil, "", false // a referral: the delegated servers answer
		}
		m := &dns.Msg{Answer: r.Answer}
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
			m.Ns = r.Authority
		}
		m.Rcode = r.Rcode
		m.Authoritative = true
		return m, z.origin, true
	}
	return nil, "", false
}

// zoneFor returns the deepest zone that contains name, a canonical name,
// or nil. It looks up name and each of its ancestors by origin: as many
// map lookups as name has labels, however many zones there are, since
// every resolution asks.
func (l *Local) zoneFor(name string) *Zone {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if z, ok := l.byOrigin[name[off:]]; ok {
			return z
		}
	}
	return l.byOrigin["."]
}

// LoadDir parses every <zone>.zone file in dir (DESIGN.md's naming: the
// file's name, less ".zone", is the zone's origin; "root.zone" is the
// root). All problems are reported together.
func LoadDir(dir string) ([]*Zone, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("local zones: %w", err)
	}
	var (
		out  []*Zone
		errs []error
	)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".zone") {
			continue
		}
		origin := strings.TrimSuffix(e.Name(), ".zone")
		if origin == "root" {
			origin = "."
		}
		path := filepath.Join(dir, e.Name())
		f, err := os.Open(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("local zones: %w", err))
			continue
		}
		z, err := Parse(f, dns.Fqdn(origin), path)
		_ = f.Close() // read-only; what was read is parsed
		if err != nil {
			errs = append(errs, fmt.Errorf("local zones: %w", err))
			continue
		}
		out = append(out, z)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("local zones: no <zone>.zone file in %s", dir)
	}
	return out, nil
}

// BuiltinOptions shape the special-use zones.
type BuiltinOptions struct {
	// KeepLoopbackReverse leaves 127.in-addr.arpa out, for a lab whose
	// servers live in 127.53.0.0/16 and serve 53.127.in-addr.arpa.
	KeepLoopbackReverse bool
}

// Builtin returns the special-use zones a recursive resolver answers
// itself instead of asking the internet:
//
//   - localhost. (RFC 6761 section 6.3): the loopback addresses, for it and
//     every name under it;
//   - invalid., test. (RFC 6761 sections 6.4 and 6.2), onion. (RFC 7686)
//     and home.arpa. (RFC 8375): names that do not exist unless local data
//     says so;
//   - the reverse zones of private, loopback, link-local, shared,
//     documentation and unspecified addresses (RFC 6303, RFC 7793), with
//     PTR localhost. for 127.0.0.1 and ::1;
//   - empty.as112.arpa. (RFC 7534 section 3.4).
func Builtin(opts BuiltinOptions) ([]*Zone, error) {
	var origins []string
	origins = append(origins, "invalid.", "test.", "onion.", "home.arpa.", "empty.as112.arpa.")
	for _, n := range []string{"0", "10", "254.169", "168.192", "2.0.192", "100.51.198", "113.0.203", "255.255.255.255"} {
		origins = append(origins, n+".in-addr.arpa.")
	}
	for i := 16; i <= 31; i++ {
		origins = append(origins, fmt.Sprintf("%d.172.in-addr.arpa.", i))
	}
	for i := 64; i <= 127; i++ {
		origins = append(origins, fmt.Sprintf("%d.100.in-addr.arpa.", i))
	}
	origins = append(origins, "d.f.ip6.arpa.", "8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.",
		"8.b.d.0.1.0.0.2.ip6.arpa.", strings.Repeat("0.", 32)+"ip6.arpa.")

	var out []*Zone
	add := func(origin, extra string) error {
		text := fmt.Sprintf("$ORIGIN %s\n@ 10800 IN SOA @ nobody.invalid. 1 3600 1200 604800 10800\n@ 10800 IN NS @\n%s", origin, extra)
		z, err := Parse(strings.NewReader(text), origin, "built-in "+origin)
		if err != nil {
			return fmt.Errorf("built-in zone: %w", err)
		}
		out = append(out, z)
		return nil
	}
	if err := add("localhost.", "@ 10800 IN A 127.0.0.1\n@ 10800 IN AAAA ::1\n* 10800 IN A 127.0.0.1\n* 10800 IN AAAA ::1\n"); err != nil {
		return nil, err
	}
	if !opts.KeepLoopbackReverse {
		if err := add("127.in-addr.arpa.", "1.0.0 10800 IN PTR localhost.\n"); err != nil {
			return nil, err
		}
	}
	if err := add("1."+strings.Repeat("0.", 31)+"ip6.arpa.", "@ 10800 IN PTR localhost.\n"); err != nil {
		return nil, err
	}
	for _, o := range origins {
		if err := add(o, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}
