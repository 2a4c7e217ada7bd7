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

func TestLabEveryZoneServed(t *testing.T) {
	served := labServedBy(t)
	addrs := labAddresses(labZoneSet(t))
	for _, z := range labZoneSet(t) {
		t.Run(z.Origin(), func(t *testing.T) {
			allFaulty := true
			for _, ns := range z.NS() {
				for _, a := range addrs[ns.Ns] {
					if _, faulty := labFaults[a]; !faulty {
						allFaulty = false
					}
				}
			}
			if got := len(served[z.Origin()]); got == 0 && !allFaulty {
				t.Errorf("served by no address, but not all of its name servers are faults")
			}
			if allFaulty && len(served[z.Origin()]) != 0 {
				t.Errorf("served by %v, want nobody: all its name servers are faults", served[z.Origin()])
			}
		})
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
	// Each address-bearing name has one address set across the whole lab:
	// glue in parents equals the A records of the zone that owns the name.
	zones := labZoneSet(t)
	seen := make(map[string][]string) // name -> addresses, as first seen
	where := make(map[string]string)
	for _, z := range zones {
		for _, name := range z.Names() {
			var list []string
			for _, rr := range z.RRset(name, dns.TypeA) {
				list = append(list, rr.(*dns.A).A.String())
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
}

func TestLabNameServerAddresses(t *testing.T) {
	zones := labZoneSet(t)
	addrs := labAddresses(zones)
	hosts := make(map[string]bool)
	for _, z := range zones {
		for _, rr := range z.Records() {
			if ns, ok := rr.(*dns.NS); ok {
				hosts[dns.CanonicalName(ns.Ns)] = true
			}
		}
	}
	for host := range hosts {
		if len(addrs[host]) == 0 {
			t.Errorf("name server %s has no A record in the lab", host)
		}
		for _, a := range addrs[host] {
			if !labPrefix.Contains(a) {
				t.Errorf("name server %s has address %s outside %s", host, a, labPrefix)
			}
		}
		for _, z := range zones {
			if aaaa := z.RRset(host, dns.TypeAAAA); len(aaaa) > 0 {
				t.Errorf("name server %s has AAAA records in %s: %v", host, z.Origin(), aaaa)
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
			case nameServer && !labPrefix.Contains(addr):
				t.Errorf("%s: name server address outside %s", rr, labPrefix)
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
