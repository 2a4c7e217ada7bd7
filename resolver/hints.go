package resolver

import (
	_ "embed"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// ianaNamedRoot is IANA's root hints file, named.root, as published at
// https://www.internic.net/domain/named.root.
//
//go:embed named.root
var ianaNamedRoot string

// NameServer is one server of a zone: its name and the addresses known for
// it (none when the delegation came without glue).
type NameServer struct {
	Name  string
	Addrs []netip.Addr
	Port  uint16 // 0: the resolver's upstream port; set for stub and forward servers
}

// Hints are the root servers a walk starts from when nothing is cached.
type Hints []NameServer

// IANAHints returns the root servers of the real internet, from the
// embedded named.root.
func IANAHints() (Hints, error) {
	return ParseHints(strings.NewReader(ianaNamedRoot), "named.root")
}

// ParseHints reads root hints in named.root form: NS records for the root
// and A/AAAA records for their names. Other records are ignored, as other
// resolvers ignore them. source names the input in errors.
func ParseHints(r io.Reader, source string) (Hints, error) {
	zp := dns.NewZoneParser(r, ".", source)
	var names []string
	addrs := make(map[string][]netip.Addr)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		owner := canonical(rr.Header().Name)
		switch rr := rr.(type) {
		case *dns.NS:
			if owner != "." {
				return nil, fmt.Errorf("root hints %s: NS record for %q, want only the root", source, rr.Hdr.Name)
			}
			names = append(names, canonical(rr.Ns))
		case *dns.A:
			if a, ok := netip.AddrFromSlice(rr.A.To4()); ok {
				addrs[owner] = append(addrs[owner], a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(rr.AAAA.To16()); ok {
				addrs[owner] = append(addrs[owner], a)
			}
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("root hints: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("root hints %s: no NS records for the root", source)
	}
	hints := make(Hints, 0, len(names))
	var missing []error
	for _, name := range names {
		if len(addrs[name]) == 0 {
			missing = append(missing, fmt.Errorf("root hints %s: no address for %s", source, name))
			continue
		}
		hints = append(hints, NameServer{Name: name, Addrs: addrs[name]})
	}
	if len(hints) == 0 {
		return nil, joinErrors(missing...)
	}
	return hints, nil
}
