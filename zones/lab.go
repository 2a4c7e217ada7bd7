package zones

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/netip"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnscookie"
)

//go:embed lab/*.zone
var labFiles embed.FS

// labFaults are the lab addresses that misbehave on purpose. An address
// listed with FaultRefuse or FaultSilent serves no zone, whatever NS records
// point at it; every other address, faulty or not, serves the zones whose
// apex NS names resolve to it in the lab.
var labFaults = map[netip.Addr]Fault{
	netip.MustParseAddr("127.53.2.8"):  FaultRefuse,      // ns1.partly-lame.com: lame beside the good ns2
	netip.MustParseAddr("127.53.2.10"): FaultSilent,      // ns1.partly-dead.com: dead beside the good ns2
	netip.MustParseAddr("127.53.2.12"): FaultRefuse,      // ns1.lame.com: the only server, lame
	netip.MustParseAddr("127.53.2.13"): FaultSilent,      // ns1.dead.com: the only server, dead
	netip.MustParseAddr("127.53.2.17"): FaultSlow,        // ns2.fast-slow.com: 150 ms slower than the good ns1
	netip.MustParseAddr("127.53.2.18"): FaultNoCase,      // ns1.nocase.net: the only server, no 0x20 echo
	netip.MustParseAddr("127.53.2.19"): FaultEDNSFormErr, // ns1.edns-formerr.org: the only server, FORMERR to EDNS
	netip.MustParseAddr("127.53.2.20"): FaultEDNSDrop,    // ns1.edns-drop.org: the only server, drops EDNS
	netip.MustParseAddr("127.53.2.21"): FaultUpward,      // ns1.upward.com: refers upward, beside the good ns2
	netip.MustParseAddr("127.53.2.23"): FaultNoAA,        // ns1.noaa.com: no AA, beside the good ns2
	netip.MustParseAddr("127.53.2.25"): FaultENTNXDOMAIN, // ns1.brokenent.net: the only server, NXDOMAIN for ENTs
	labIPv6:                            FaultSilent,      // ns1.v6broken.com's AAAA: dead, its A is good

	// Fault tolerance: each fault beside a good server, and alone.
	netip.MustParseAddr("127.53.2.28"): FaultLossy,    // ns1.lossy.com: drops every second UDP query, beside the good ns2
	netip.MustParseAddr("127.53.2.30"): FaultLossy,    // ns1.lossy-only.com: the only server, drops every second UDP query
	netip.MustParseAddr("127.53.2.31"): FaultTCPReset, // ns1.tcp-reset.com: TC over UDP, resets TCP, beside the good ns2
	netip.MustParseAddr("127.53.2.33"): FaultTCPReset, // ns1.tcp-reset-only.com: the only server, TC over UDP, resets TCP
	netip.MustParseAddr("127.53.2.34"): FaultGarbage,  // ns1.garbage.com: replies cut short, beside the good ns2
	netip.MustParseAddr("127.53.2.36"): FaultGarbage,  // ns1.garbage-only.com: the only server, replies cut short

	// Cache-poisoning attackers, each the only server of its zone
	// (poison-ttl.org.'s attack, its TTLs, is in its data).
	netip.MustParseAddr("127.53.2.37"): FaultOutOfBailiwick, // ns1.poison-oob.org: records outside its zone
	netip.MustParseAddr("127.53.2.38"): FaultParentClaim,    // ns1.poison-parent.org: records for org.
	netip.MustParseAddr("127.53.2.40"): FaultForge,          // ns1.poison-race.org: a forged reply from labForgeFrom first

	// DNS cookies: every lab server answers them; this one insists.
	netip.MustParseAddr("127.53.2.41"): FaultBadCookie, // ns1.cookie-strict.com: BADCOOKIE without its server cookie, the only server
}

// labForgeFrom maps each FaultForge address of labFaults to the address
// its forged replies come from. Those addresses serve nothing and belong
// to no name; the lab binds them, on its port, for the forgers only.
var labForgeFrom = map[netip.Addr]netip.Addr{
	netip.MustParseAddr("127.53.2.40"): netip.MustParseAddr("127.53.3.1"), // ns1.poison-race.org forges from here
}

// labUnserved are the zones nobody serves because their apex NS names do
// not exist in the lab: nxns.com., delegated to 20 names under victim.org.
// that victim.org. does not have (the NXNS attack, CVE-2020-12662). Every
// other zone's NS names must have addresses in the lab.
var labUnserved = map[string]bool{
	"nxns.com.": true,
}

// labPrefix holds every lab server address but labIPv6: the lab never
// binds, and its glue never points, anywhere else.
var labPrefix = netip.MustParsePrefix("127.53.0.0/16")

// labIPv6 is the lab's only IPv6 address, the loopback, where a silent
// server makes a resolver that tries IPv6 time out. It is bound only if
// the machine has IPv6.
var labIPv6 = netip.IPv6Loopback()

// labAddr reports whether a is an address the lab may bind and its NS
// records may point to.
func labAddr(a netip.Addr) bool { return labPrefix.Contains(a) || a == labIPv6 }

// The range a free lab port is drawn from when LabOptions.Port is 0: below
// Linux's ephemeral range (32768-60999), so client sockets rarely hold it.
const (
	labPortMin      = 20000
	labPortMax      = 32767
	labPortAttempts = 50 // ports tried before giving up
)

// labShutdownTimeout bounds how long Close waits for the servers to stop.
const labShutdownTimeout = 10 * time.Second

// LabOptions configures StartLab.
type LabOptions struct {
	// Port is the one port every lab server listens on. 0 picks a free
	// port in a high range, retrying while any address's port is taken.
	Port int
	// Loss is the share of UDP queries every lab server drops, as a lossy
	// network would: 0.05 drops every 20th. 0 drops none; at most 0.5.
	Loss float64
	// Logger receives lifecycle lines at Info and a line per query at
	// Debug; nil discards.
	Logger *slog.Logger
}

// LabServer describes one lab server.
type LabServer struct {
	// Addr is the server's address and port.
	Addr netip.AddrPort
	// Zones are the origins of the zones it serves, sorted; none for a
	// faulty server.
	Zones []string
	// Fault is how it misbehaves.
	Fault Fault
	// ForgeFrom is where a FaultForge server's forged replies come from;
	// the zero AddrPort for the others.
	ForgeFrom netip.AddrPort
}

// Lab is the running lab: one Server per lab address, all on one port. It
// is safe for concurrent use.
type Lab struct {
	port    int
	servers []*Server // sorted by address
	hints   string
	log     *slog.Logger
}

// LabZones returns the lab's zones as the lab serves them, sorted by
// origin: parsed from the embedded master files (lab/<zone>.zone holds the
// zone <zone>., root.zone the root), and signed as labsign.go says. They
// are made once per process.
func LabZones() ([]*Zone, error) {
	l, err := labOnce()
	if err != nil {
		return nil, err
	}
	return l.zones, nil
}

// LabAnchor returns the lab's trust anchor: the DS records of its root's
// key-signing key, in master-file form, one per line.
func LabAnchor() (string, error) {
	l, err := labOnce()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, ds := range l.anchor {
		b.WriteString(ds.String())
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// parseLabZones parses the lab's embedded master files, sorted by origin.
func parseLabZones() ([]*Zone, error) {
	files, err := fs.Glob(labFiles, "lab/*.zone")
	if err != nil {
		return nil, fmt.Errorf("list lab zones: %w", err)
	}
	var out []*Zone
	for _, file := range files {
		data, err := labFiles.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read lab zone %s: %w", file, err)
		}
		z, err := Parse(strings.NewReader(string(data)), labOrigin(path.Base(file)), file)
		if err != nil {
			return nil, err
		}
		out = append(out, z)
	}
	slices.SortFunc(out, func(a, b *Zone) int { return strings.Compare(a.origin, b.origin) })
	return out, nil
}

// labOrigin returns the origin a lab file name stands for.
func labOrigin(base string) string {
	name := strings.TrimSuffix(base, ".zone")
	if name == "root" {
		return "."
	}
	return name + "."
}

// StartLab parses the lab zones, derives which address serves which zone
// and starts every server. When it returns, every server listens on UDP and
// TCP. Close stops them. If the machine has no IPv6, so the silent server
// on [::1] cannot be bound, StartLab logs a Warn and goes on without it.
func StartLab(ctx context.Context, opts LabOptions) (*Lab, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("start lab: port %d: want 0 (any free port) or 1-65535", opts.Port)
	}
	zones, err := LabZones()
	if err != nil {
		return nil, fmt.Errorf("start lab: %w", err)
	}
	if !(opts.Loss >= 0 && opts.Loss <= 0.5) {
		return nil, fmt.Errorf("start lab: loss %v: want a share from 0 to 0.5", opts.Loss)
	}
	plan, err := labPlan(zones)
	if err != nil {
		return nil, fmt.Errorf("start lab: %w", err)
	}
	if opts.Loss > 0 {
		for i := range plan {
			plan[i].LossEvery = int(math.Round(1 / opts.Loss))
		}
	}
	l := &Lab{log: log}
	if opts.Port != 0 {
		l.servers, err = startLabServers(ctx, plan, opts.Port, log)
		l.port = opts.Port
	} else {
		for range labPortAttempts {
			l.port = labPortMin + rand.IntN(labPortMax-labPortMin+1)
			l.servers, err = startLabServers(ctx, plan, l.port, log)
			if !errors.Is(err, syscall.EADDRINUSE) {
				break
			}
			log.Debug("lab port taken, trying another", "port", l.port, "err", err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("start lab: %w", err)
	}
	if l.hints, err = labHints(zones, l.port); err != nil {
		// Unreachable with valid lab data, which labPlan has checked; stop cleanly anyway.
		return nil, errors.Join(fmt.Errorf("start lab: %w", err), l.Close())
	}
	log.Info("lab started", "port", l.port, "servers", len(l.servers), "zones", len(zones))
	return l, nil
}

// startLabServers binds every planned address on port, and only if all
// binds succeed starts them; on any failure nothing is left running. An
// IPv6 address the machine lacks is skipped with a Warn.
func startLabServers(ctx context.Context, plan []ServerOptions, port int, log *slog.Logger) ([]*Server, error) {
	var bound []*Server
	unbindAll := func() {
		for _, s := range bound {
			s.unbind()
		}
	}
	for _, opts := range plan {
		opts.Addr = netip.AddrPortFrom(opts.Addr.Addr(), uint16(port))
		opts.Logger = log
		s, err := newServer(opts)
		if err != nil {
			unbindAll()
			return nil, err
		}
		if err := s.listen(ctx); err != nil {
			if noIPv6(opts.Addr.Addr(), err) {
				log.Warn("no IPv6 on this machine: the lab goes on without its IPv6 server",
					"server", opts.Addr.String(), "err", err)
				continue
			}
			unbindAll()
			return nil, err
		}
		bound = append(bound, s)
	}
	for i, s := range bound {
		if err := s.serve(ctx); err != nil {
			// s cleaned up after itself: stop the ones before it, unbind the rest.
			for _, rest := range bound[i+1:] {
				rest.unbind()
			}
			return nil, errors.Join(err, stopServers(bound[:i]))
		}
	}
	return bound, nil
}

// noIPv6 reports whether err, from binding the IPv6 address a, says the
// machine has no IPv6 (the address is not configured, or the kernel lacks
// the family), rather than that the port is taken.
func noIPv6(a netip.Addr, err error) bool {
	return a.Is6() && (errors.Is(err, syscall.EADDRNOTAVAIL) ||
		errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EPROTONOSUPPORT))
}

// stopServers shuts servers down, bounded by labShutdownTimeout.
func stopServers(servers []*Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), labShutdownTimeout)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Port returns the port every lab server listens on.
func (l *Lab) Port() int { return l.port }

// Hints returns root hints for the lab in the format of IANA's named.root
// (NS and A lines), readable by Unbound's root-hints and by
// dns.NewZoneParser. Glue carries no port: a resolver must send every
// query to Port.
func (l *Lab) Hints() string { return l.hints }

// Queries returns the total number of queries all lab servers have
// received so far.
func (l *Lab) Queries() uint64 {
	var n uint64
	for _, s := range l.servers {
		n += s.Queries()
	}
	return n
}

// QueriesTo returns how many queries the lab server at addr has received
// so far (0 for an address the lab does not serve).
func (l *Lab) QueriesTo(addr netip.Addr) uint64 {
	for _, s := range l.servers {
		if s.Addr().Addr() == addr {
			return s.Queries()
		}
	}
	return 0
}

// Cookies returns how many queries with EDNS all lab servers together
// have received so far with a cookie in state.
func (l *Lab) Cookies(state dnscookie.State) uint64 {
	var n uint64
	for _, s := range l.servers {
		n += s.Cookies(state)
	}
	return n
}

// CookiesTo returns how many queries with EDNS the lab server at addr has
// received so far with a cookie in state (0 for an address the lab does
// not serve).
func (l *Lab) CookiesTo(addr netip.Addr, state dnscookie.State) uint64 {
	for _, s := range l.servers {
		if s.Addr().Addr() == addr {
			return s.Cookies(state)
		}
	}
	return 0
}

// SetDown starts (true) or ends (false) an outage of every server of
// zone, as if the zone's authorities had all gone dark, and returns how
// many servers that is.
func (l *Lab) SetDown(zone string, down bool) int {
	n := 0
	for _, s := range l.servers {
		for _, z := range s.Zones() {
			if dns.CanonicalName(z) == dns.CanonicalName(zone) {
				s.SetDown(down)
				n++
				break
			}
		}
	}
	return n
}

// Servers describes the lab's servers, sorted by address.
func (l *Lab) Servers() []LabServer {
	out := make([]LabServer, 0, len(l.servers))
	for _, s := range l.servers {
		out = append(out, LabServer{Addr: s.Addr(), Zones: s.Zones(), Fault: s.Fault(), ForgeFrom: s.ForgeFrom()})
	}
	return out
}

// Close stops every lab server and waits for them.
func (l *Lab) Close() error {
	if err := stopServers(l.servers); err != nil {
		return fmt.Errorf("stop lab: %w", err)
	}
	l.log.Info("lab stopped", "port", l.port)
	return nil
}

// labPlan derives the lab's servers from its data: each address of each
// name in a zone's apex NS RRset (A and AAAA records anywhere in the lab)
// serves that zone, unless labFaults lists the address with a fault that
// serves nothing. The zones of labUnserved are served by nobody. A
// FaultForge server forges from its labForgeFrom address. Ports are left
// 0. The plan is sorted by address.
func labPlan(zones []*Zone) ([]ServerOptions, error) {
	addrs := labAddresses(zones)
	served := make(map[netip.Addr][]*Zone)
	for a := range labFaults {
		served[a] = nil
	}
	for _, z := range zones {
		for _, ns := range z.NS() {
			host := canonicalName(ns.Ns)
			list := addrs[host]
			switch {
			case labUnserved[z.origin] && len(list) != 0:
				return nil, fmt.Errorf("zone %s: name server %s has addresses, but the zone is meant to have none", z.origin, host)
			case !labUnserved[z.origin] && len(list) == 0:
				return nil, fmt.Errorf("zone %s: name server %s has no address in the lab", z.origin, host)
			}
			for _, a := range list {
				if !labAddr(a) {
					return nil, fmt.Errorf("zone %s: name server %s address %s outside %s and %s", z.origin, host, a, labPrefix, labIPv6)
				}
				if labFaults[a].servesZones() && !slices.Contains(served[a], z) {
					served[a] = append(served[a], z)
				}
			}
		}
	}
	plan := make([]ServerOptions, 0, len(served))
	for a, zs := range served {
		if !labAddr(a) {
			return nil, fmt.Errorf("fault address %s outside %s and %s", a, labPrefix, labIPv6)
		}
		forge, ok := labForgeFrom[a]
		if ok != (labFaults[a] == FaultForge) || (ok && !labPrefix.Contains(forge)) {
			return nil, fmt.Errorf("fault address %s (%s): forge address %v: want one in %s for a %s server, none for the others",
				a, labFaults[a], forge, labPrefix, FaultForge)
		}
		plan = append(plan, ServerOptions{Addr: netip.AddrPortFrom(a, 0), Zones: zs, Fault: labFaults[a], ForgeFrom: forge, Cookies: true})
	}
	slices.SortFunc(plan, func(a, b ServerOptions) int { return a.Addr.Compare(b.Addr) })
	return plan, nil
}

// labAddresses maps every owner name with A or AAAA records anywhere in
// zones (authoritative data or glue) to its addresses, deduplicated and
// sorted, IPv4 first.
func labAddresses(zones []*Zone) map[string][]netip.Addr {
	out := make(map[string][]netip.Addr)
	for _, z := range zones {
		for _, rr := range z.Records() {
			var ip []byte
			switch rr := rr.(type) {
			case *dns.A:
				ip = rr.A.To4()
			case *dns.AAAA:
				ip = rr.AAAA.To16()
			default:
				continue
			}
			addr, ok := netip.AddrFromSlice(ip)
			if !ok {
				continue
			}
			name := rr.Header().Name
			if !slices.Contains(out[name], addr) {
				out[name] = append(out[name], addr)
			}
		}
	}
	for _, list := range out {
		slices.SortFunc(list, netip.Addr.Compare)
	}
	return out
}
