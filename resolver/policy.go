package resolver

import "net/netip"

// NonPublic lists the address ranges a resolver walking the public
// internet must never send a query to, whatever glue or NS records say:
// a delegation pointing there is a misconfiguration or an attack on the
// resolver's own network (compare Unbound's do-not-query-localhost and
// private-address). From the IANA special-purpose registries.
var NonPublic = mustPrefixes(
	"0.0.0.0/8",       // "this network", unspecified
	"10.0.0.0/8",      // RFC 1918
	"100.64.0.0/10",   // shared address space (CGN), RFC 6598
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local
	"172.16.0.0/12",   // RFC 1918
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation (TEST-NET-1)
	"192.168.0.0/16",  // RFC 1918
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation (TEST-NET-2)
	"203.0.113.0/24",  // documentation (TEST-NET-3)
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, and 255.255.255.255
	"::/128",          // unspecified
	"::1/128",         // loopback
	"100::/64",        // discard-only
	"2001:db8::/32",   // documentation
	"fc00::/7",        // unique local
	"fe80::/10",       // link-local
	"ff00::/8",        // multicast
)

// Loopback is 127.0.0.0/8 and ::1.
var Loopback = mustPrefixes("127.0.0.0/8", "::1/128")

func mustPrefixes(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}
