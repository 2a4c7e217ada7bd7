package zones

import (
	"bufio"
	"io/fs"
	"net/netip"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

var (
	docV4 = netip.MustParsePrefix("192.0.2.0/24")
	docV6 = netip.MustParsePrefix("2001:db8::/32")
)

func TestLabFilesNamedAfterOrigin(t *testing.T) {
	files, err := fs.Glob(labFiles, "lab/*.zone")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded lab files: %v, %v", files, err)
	}
	for _, file := range files {
		t.Run(path.Base(file), func(t *testing.T) {
			data, err := labFiles.ReadFile(file)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			base := strings.TrimSuffix(path.Base(file), ".zone")
			want := "$ORIGIN " + base + "."
			if base == "root" {
				want = "$ORIGIN ."
			}
			if first != want {
				t.Errorf("first line = %q, want %q", first, want)
			}
			if got := labOrigin(path.Base(file)); got != strings.TrimPrefix(want, "$ORIGIN ") {
				t.Errorf("labOrigin = %q, want %q", got, strings.TrimPrefix(want, "$ORIGIN "))
			}
		})
	}
	if got, want := len(labZoneSet(t)), len(files); got != want {
		t.Errorf("LabZones parsed %d zones, want %d (one per file)", got, want)
	}
}

// labServedBy maps each zone origin to the non-faulty addresses serving it.
func labServedBy(t *testing.T) map[string][]netip.Addr {
	t.Helper()
	plan, err := labPlan(labZoneSet(t))
	if err != nil {
		t.Fatalf("labPlan: %v", err)
	}
	out := make(map[string][]netip.Addr)
	for _, s := range plan {
		for _, z := range s.Zones {
			out[z.Origin()] = append(out[z.Origin()], s.Addr.Addr())
		}
	}
	return out
}

// TestLabEveryZoneServed checks that a zone is served by nobody only on
// purpose, for one of two reasons: every address of its name servers has a
// fault that serves nothing (refuse, silent), as for lame.com. and
// dead.com.; or its name servers' names do not exist at all, as for the
// NXNS delegation of nxns.com., which labUnserved lists. Such a zone is
// accepted when every one of its NS names has no address in the lab and is
// NXDOMAIN in the lab zone that would hold it.
func TestLabEveryZoneServed(t *testing.T) {
	zones := labZoneSet(t)
	served := labServedBy(t)
	addrs := labAddresses(zones)
	for _, z := range zones {
		t.Run(z.Origin(), func(t *testing.T) {
			nobodyServes := true // every NS address has a fault that serves nothing
			for _, ns := range z.NS() {
				for _, a := range addrs[ns.Ns] {
					if labFaults[a].servesZones() {
						nobodyServes = false
					}
				}
			}
			if labUnserved[z.Origin()] {
				for _, ns := range z.NS() {
					if list := addrs[ns.Ns]; len(list) != 0 {
						t.Errorf("listed as unserved, but its name server %s has addresses %v", ns.Ns, list)
					}
					checkNXDOMAIN(t, zones, ns.Ns)
				}
			} else if len(z.NS()) == 0 || !hasAddresses(addrs, z.NS()) {
				t.Errorf("not listed as unserved, but a name server has no address")
			}
			got := served[z.Origin()]
			if !nobodyServes && len(got) == 0 {
				t.Errorf("served by no address, but not all of its name servers are faults that serve nothing")
			}
			if nobodyServes && len(got) != 0 {
				t.Errorf("served by %v, want nobody: none of its name servers serves zones", got)
			}
		})
	}
}

// hasAddresses reports whether every name server has an address in addrs.
func hasAddresses(addrs map[string][]netip.Addr, ns []*dns.NS) bool {
	for _, rr := range ns {
		if len(addrs[dns.CanonicalName(rr.Ns)]) == 0 {
			return false
		}
	}
	return true
}

// checkNXDOMAIN checks that name does not exist: the deepest lab zone
// holding it answers NXDOMAIN.
func checkNXDOMAIN(t *testing.T, zones []*Zone, name string) {
	t.Helper()
	var z *Zone
	for _, c := range zones {
		if dns.IsSubDomain(c.Origin(), name) && (z == nil || dns.CountLabel(c.Origin()) > dns.CountLabel(z.Origin())) {
			z = c
		}
	}
	if z == nil {
		t.Errorf("%s: no lab zone holds it", name)
		return
	}
	if r := z.Lookup(name, dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("%s A in %s: rcode %s, want NXDOMAIN", name, z.Origin(), dns.RcodeToString[r.Rcode])
	}
}

func TestLabPlan(t *testing.T) {
	plan, err := labPlan(labZoneSet(t))
	if err != nil {
		t.Fatalf("labPlan: %v", err)
	}
	got := make(map[string]string)
	for _, s := range plan {
		var origins []string
		for _, z := range s.Zones {
			origins = append(origins, z.Origin())
		}
		slices.Sort(origins)
		got[s.Addr.Addr().String()] = s.Fault.String() + " " + strings.Join(origins, ",")
		if s.ForgeFrom.IsValid() {
			got[s.Addr.Addr().String()] += " from " + s.ForgeFrom.String()
		}
	}
	// The derivation spelled out, as DESIGN and the integration tests expect it.
	want := map[string]string{
		"127.53.0.1":  "none .,arpa.,root-servers.net.",
		"127.53.0.2":  "none .,arpa.,root-servers.net.",
		"127.53.1.1":  "none com.,net.",
		"127.53.1.2":  "none com.,net.",
		"127.53.1.3":  "none org.",
		"127.53.1.4":  "none org.",
		"127.53.2.1":  "none 53.127.in-addr.arpa.,example.com.",
		"127.53.2.2":  "none 53.127.in-addr.arpa.,example.com.",
		"127.53.2.3":  "none sub.example.com.",
		"127.53.2.4":  "none dnshost.org.,example.net.",
		"127.53.2.5":  "none dnshost.org.,example.net.",
		"127.53.2.6":  "none example.org.",
		"127.53.2.7":  "none cdnprovider.net.",
		"127.53.2.8":  "refuse ",
		"127.53.2.9":  "none partly-lame.com.",
		"127.53.2.10": "silent ",
		"127.53.2.11": "none partly-dead.com.",
		"127.53.2.12": "refuse ",
		"127.53.2.13": "silent ",
		"127.53.2.14": "none cycle-b.net.",
		"127.53.2.15": "none cycle-a.com.",
		"127.53.2.16": "none fast-slow.com.",
		"127.53.2.17": "slow fast-slow.com.",
		"127.53.2.18": "nocase nocase.net.",
		"127.53.2.19": "edns-formerr edns-formerr.org.",
		"127.53.2.20": "edns-drop edns-drop.org.",
		"127.53.2.21": "upward upward.com.",
		"127.53.2.22": "none upward.com.",
		"127.53.2.23": "noaa noaa.com.",
		"127.53.2.24": "none noaa.com.",
		"127.53.2.25": "ent-nxdomain brokenent.net.",
		"127.53.2.26": "none victim.org.",
		"127.53.2.27": "none v6broken.com.",
		"127.53.2.28": "lossy lossy.com.",
		"127.53.2.29": "none lossy.com.",
		"127.53.2.30": "lossy lossy-only.com.",
		"127.53.2.31": "tcp-reset tcp-reset.com.",
		"127.53.2.32": "none tcp-reset.com.",
		"127.53.2.33": "tcp-reset tcp-reset-only.com.",
		"127.53.2.34": "garbage garbage.com.",
		"127.53.2.35": "none garbage.com.",
		"127.53.2.36": "garbage garbage-only.com.",
		"127.53.2.37": "out-of-bailiwick poison-oob.org.",
		"127.53.2.38": "parent-claim poison-parent.org.",
		"127.53.2.39": "none poison-ttl.org.",
		"127.53.2.41": "bad-cookie cookie-strict.com.",
		"127.53.2.40": "forge poison-race.org. from 127.53.3.1",
		"127.53.2.42": "none sig-expired.org.",
		"127.53.2.43": "none ds-mismatch.org.",
		"127.53.2.44": "none rrsig-missing.org.",
		"127.53.2.45": "none nsec-forged.org.",
		"127.53.2.46": "none insecure.org.",
		"127.53.2.47": "none unknown-algo.org.",
		"127.53.2.48": "none nsec3-iterations.org.",
		"::1":         "silent ",
	}
	for addr, w := range want {
		if got[addr] != w {
			t.Errorf("%s: got %q, want %q", addr, got[addr], w)
		}
	}
	for addr := range got {
		if _, ok := want[addr]; !ok {
			t.Errorf("unexpected server %s: %q", addr, got[addr])
		}
	}
	if !slices.IsSortedFunc(plan, func(a, b ServerOptions) int { return a.Addr.Compare(b.Addr) }) {
		t.Errorf("plan not sorted by address")
	}
}

func TestLabDelegationsMatchChildren(t *testing.T) {
	zones := labZoneSet(t)
	byOrigin := make(map[string]*Zone)
	for _, z := range zones {
		byOrigin[z.Origin()] = z
	}
	// Every delegation to a lab zone carries the child's apex NS set.
	for _, parent := range zones {
		for _, cut := range parent.Delegations() {
			child := byOrigin[cut]
			if child == nil {
				t.Errorf("%s delegates %s, which has no lab zone", parent.Origin(), cut)
				continue
			}
			got, want := nsNames(parent.RRset(cut, dns.TypeNS)), nsNames(rrsOf(child.NS()))
			if !slices.Equal(got, want) {
				t.Errorf("%s delegates %s to %v, child's apex NS is %v", parent.Origin(), cut, got, want)
			}
		}
	}
	// Every zone but the root is delegated by its closest enclosing lab zone.
	for _, child := range zones {
		if child.Origin() == "." {
			continue
		}
		parent := enclosingZone(zones, child.Origin())
		if parent == nil || !slices.Contains(parent.Delegations(), child.Origin()) {
			t.Errorf("%s is not delegated by its parent %v", child.Origin(), parent)
		}
	}
}

// enclosingZone returns the deepest zone strictly above name.
func enclosingZone(zones []*Zone, name string) *Zone {
	var best *Zone
	for _, z := range zones {
		if z.Origin() != name && dns.IsSubDomain(z.Origin(), name) &&
			(best == nil || dns.CountLabel(z.Origin()) > dns.CountLabel(best.Origin())) {
			best = z
		}
	}
	return best
}

func TestLabGlueMatchesAuthoritativeData(t *testing.T) {
	// Each address-bearing name has one address set per type across the
	// whole lab: glue in parents equals the A and AAAA records of the zone
	// that owns the name.
	zones := labZoneSet(t)
	for _, rrtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		t.Run(dns.Type(rrtype).String(), func(t *testing.T) {
			seen := make(map[string][]string) // name -> addresses, as first seen
			where := make(map[string]string)
			for _, z := range zones {
				for _, name := range z.Names() {
					var list []string
					for _, rr := range z.RRset(name, rrtype) {
						list = append(list, strings.TrimPrefix(rr.String(), rr.Header().String()))
					}
					if len(list) == 0 {
						continue
					}
					slices.Sort(list)
					if prev, ok := seen[name]; ok && !slices.Equal(prev, list) {
						t.Errorf("%s: %v in %s but %v in %s", name, prev, where[name], list, z.Origin())
					}
					seen[name], where[name] = list, z.Origin()
				}
			}
		})
	}
}

func TestLabAddressesNotShared(t *testing.T) {
	// Every lab server address belongs to one name server name, so two
	// delegations never meet on one socket by accident (a new row that
	// reuses an address shows up here).
	owner := make(map[netip.Addr]string)
	for name, list := range labAddresses(labZoneSet(t)) {
		for _, a := range list {
			if !labAddr(a) {
				continue // host data, checked by TestLabNameServerAddresses
			}
			if prev, ok := owner[a]; ok && prev != name {
				t.Errorf("%s belongs to both %s and %s", a, prev, name)
			}
			owner[a] = name
		}
	}
	for a := range labFaults {
		if _, ok := owner[a]; !ok {
			t.Errorf("fault address %s (%s) belongs to no name server name", a, labFaults[a])
		}
	}
}

func TestLabNameServerAddresses(t *testing.T) {
	zones := labZoneSet(t)
	addrs := labAddresses(zones)
	hosts := make(map[string]bool)
	nonexistent := make(map[string]bool) // NS names of the zones nobody serves on purpose
	for _, z := range zones {
		for _, rr := range z.Records() {
			if ns, ok := rr.(*dns.NS); ok {
				hosts[dns.CanonicalName(ns.Ns)] = true
			}
		}
		if labUnserved[z.Origin()] {
			for _, ns := range z.NS() {
				nonexistent[dns.CanonicalName(ns.Ns)] = true
			}
		}
	}
	for host := range hosts {
		switch {
		case nonexistent[host] && len(addrs[host]) != 0:
			t.Errorf("name server %s is meant not to exist, but has addresses %v", host, addrs[host])
		case !nonexistent[host] && !slices.ContainsFunc(addrs[host], netip.Addr.Is4):
			t.Errorf("name server %s has no A record in the lab", host)
		}
		for _, a := range addrs[host] {
			if !labAddr(a) {
				t.Errorf("name server %s has address %s outside %s and %s", host, a, labPrefix, labIPv6)
			}
		}
		// An NS name's only AAAA may be ::1, where the lab's silent IPv6 server listens.
		for _, z := range zones {
			for _, rr := range z.RRset(host, dns.TypeAAAA) {
				if a, ok := netip.AddrFromSlice(rr.(*dns.AAAA).AAAA); !ok || a != labIPv6 {
					t.Errorf("name server %s has %s in %s, want no AAAA but %s", host, rr, z.Origin(), labIPv6)
				}
			}
		}
	}
	// Every other address in the lab is documentation space, never contacted.
	for _, z := range zones {
		for _, rr := range z.Records() {
			var addr netip.Addr
			switch rr := rr.(type) {
			case *dns.A:
				addr, _ = netip.AddrFromSlice(rr.A.To4())
			case *dns.AAAA:
				addr, _ = netip.AddrFromSlice(rr.AAAA)
			default:
				continue
			}
			nameServer := hosts[rr.Header().Name]
			switch {
			case nameServer && !labAddr(addr):
				t.Errorf("%s: name server address outside %s and %s", rr, labPrefix, labIPv6)
			case !nameServer && !docV4.Contains(addr) && !docV6.Contains(addr):
				t.Errorf("%s: host address outside the documentation ranges", rr)
			}
		}
	}
}

func TestLabSOAs(t *testing.T) {
	for _, z := range labZoneSet(t) {
		t.Run(z.Origin(), func(t *testing.T) {
			soa := z.SOA()
			mbox := "hostmaster." + z.Origin()
			if z.Origin() == "." {
				mbox = "hostmaster.lab."
			}
			ns := z.NS()
			if soa.Hdr.Ttl != 3600 || soa.Ns != ns[0].Ns || soa.Mbox != mbox || soa.Serial != 2026112701 ||
				soa.Refresh != 7200 || soa.Retry != 3600 || soa.Expire != 1209600 || soa.Minttl != 300 {
				t.Errorf("SOA = %v, want TTL 3600, MNAME %s, RNAME %s, 2026112701 7200 3600 1209600 300", soa, ns[0].Ns, mbox)
			}
		})
	}
}

func TestLabBigAnswerSize(t *testing.T) {
	r := labZone(t, "example.com.").Lookup("big.example.com.", dns.TypeTXT)
	m := query("big.example.com.", dns.TypeTXT)
	m.Response, m.Authoritative, m.Answer, m.Compress = true, true, r.Answer, true
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("Pack: %v", err)
	}
	if len(b) <= 2*ednsBufferSize || len(b) >= 16*1024 {
		t.Errorf("big.example.com TXT reply packs to %d octets, want well above %d and below 16 KiB", len(b), ednsBufferSize)
	}
}

func TestLabHintsWithoutLab(t *testing.T) {
	hints, err := LabHints(10053)
	if err != nil {
		t.Fatalf("LabHints: %v", err)
	}
	checkHints(t, hints)
	if !strings.Contains(hints, "port 10053") {
		t.Errorf("hints do not mention the port:\n%s", hints)
	}
}

// checkHints parses root hints and checks they name the two lab roots.
func checkHints(t *testing.T, hints string) {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(hints), ".", "hints")
	var got []string
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		got = append(got, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("hints do not parse: %v\n%s", err, hints)
	}
	want := []string{
		". 3600000 IN NS a.root-servers.net.",
		"a.root-servers.net. 3600000 IN A 127.53.0.1",
		". 3600000 IN NS b.root-servers.net.",
		"b.root-servers.net. 3600000 IN A 127.53.0.2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("hints records:\ngot  %q\nwant %q", got, want)
	}
	// Every line is a comment or a record, as in named.root.
	sc := bufio.NewScanner(strings.NewReader(hints))
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, ";") && len(strings.Fields(line)) != 4 {
			t.Errorf("hints line %q: want NAME TTL TYPE DATA", line)
		}
	}
}

// nsNames returns the sorted targets of NS records.
func nsNames(records []dns.RR) []string {
	var out []string
	for _, rr := range records {
		out = append(out, dns.CanonicalName(rr.(*dns.NS).Ns))
	}
	slices.Sort(out)
	return out
}

// rrsOf converts NS records to plain records.
func rrsOf(ns []*dns.NS) []dns.RR {
	out := make([]dns.RR, 0, len(ns))
	for _, rr := range ns {
		out = append(out, rr)
	}
	return out
}
