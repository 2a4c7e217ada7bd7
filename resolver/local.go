package resolver

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/miekg/dns"
)

// LocalZones answers the names the resolver serves itself, before any
// cache or walk: special-use zones that must never reach the internet and
// the operator's own (zones.Local implements it).
type LocalZones interface {
	// Answer returns the reply for q and the zone it came from, or false
	// when q is not in a local zone.
	Answer(q dns.Question) (*dns.Msg, string, bool)
}

// localZones holds a LocalZones for an atomic.Pointer.
type localZones struct{ zones LocalZones }

// SetLocal replaces the local zones, as a configuration reload does; nil
// means none. Every name looked up from then on sees the new zones.
func (r *Resolver) SetLocal(z LocalZones) {
	r.local.Store(&localZones{zones: z})
}

// ZoneServers names the servers for one forward or stub zone.
type ZoneServers struct {
	Zone    string
	Servers []netip.AddrPort
	// TLS holds the servers asked over DNS over TLS (RFC 7858), with the
	// name their certificate must carry ("": their address).
	TLS map[netip.AddrPort]string
}

// configuredZones turns forward or stub zones into delegations keyed by
// their canonical zone name. Their servers are the operator's choice, so
// the upstream address policy does not apply to them.
func configuredZones(zs []ZoneServers, kind string) (map[string]*delegation, error) {
	out := make(map[string]*delegation, len(zs))
	for _, z := range zs {
		name := canonical(z.Zone)
		if _, ok := dns.IsDomainName(name); !ok {
			return nil, fmt.Errorf("%s zone %q: not a domain name", kind, z.Zone)
		}
		if len(z.Servers) == 0 {
			return nil, fmt.Errorf("%s zone %s: no servers", kind, name)
		}
		d := &delegation{zone: name, configured: true}
		for _, s := range z.Servers {
			d.servers = append(d.servers, NameServer{
				Name:  kind + " " + s.Addr().String() + ":" + strconv.Itoa(int(s.Port())),
				Addrs: []netip.Addr{s.Addr()},
				Port:  s.Port(),
			})
		}
		out[name] = d
	}
	return out, nil
}

// zoneFor returns the deepest zone of zones containing name, if any.
func zoneFor(zones map[string]*delegation, name string) *delegation {
	if len(zones) == 0 {
		return nil
	}
	for n := canonical(name); ; n = parentZone(n) {
		if d, ok := zones[n]; ok {
			return d
		}
		if n == "." {
			return nil
		}
	}
}
