package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/resolver/trace"
	"github.com/rootwalk/rootwalk/zones"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestTraceGolden")

// rttPattern matches the times in a trace, which vary from run to run.
var rttPattern = regexp.MustCompile(`\d+(\.\d+)? ms`)

// serverPattern matches which of a zone's servers was asked: the seed
// fixes the first choice, but later ones follow the RTTs measured, which
// vary from run to run, and the chain of trust asks the root and the TLDs
// several times. checkWalk checks each server against the lab instead.
var serverPattern = regexp.MustCompile(`ask \S+ \(127\.53\.\d+\.\d+\)`)

// traceCases are the walks the golden files show.
var traceCases = []struct {
	file, name, qtype string
	wantTCP           bool
	wantSubResolve    bool
	wantRcode         string
}{
	{file: "plain-a", name: "www.example.com", qtype: "A", wantRcode: "NOERROR"},
	{file: "cname-chain", name: "alias.example.com", qtype: "A", wantRcode: "NOERROR"},
	{file: "glueless", name: "www.example.net", qtype: "A", wantSubResolve: true, wantRcode: "NOERROR"},
	{file: "nxdomain", name: "nope.example.com", qtype: "A", wantRcode: "NXDOMAIN"},
	{file: "tc-then-tcp", name: "big.example.com", qtype: "TXT", wantTCP: true, wantRcode: "NOERROR"},
}

func labTrace(t *testing.T, args ...string) string {
	t.Helper()
	t.Setenv("ROOTWALK_CONFIG", "")
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), append([]string{"trace", "--lab", "--seed", "1"}, args...), &stdout, &stderr); code != exitOK {
		t.Fatalf("rootwalk trace %v: exit %d\n%s", args, code, stderr.String())
	}
	return stdout.String()
}

// TestTraceGolden compares `rootwalk trace --lab` with golden files (RTTs
// masked, randomness seeded), then checks the walk against the lab's own
// zone data: every lookup asks the zones from the root down to the name's
// zone, in order, each of them through one of its own name servers at
// one of that server's addresses.
func TestTraceGolden(t *testing.T) {
	labZones, err := zones.LabZones()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range traceCases {
		t.Run(tc.file, func(t *testing.T) {
			got := rttPattern.ReplaceAllString(labTrace(t, tc.name, tc.qtype), "RTT")
			got = serverPattern.ReplaceAllString(got, "ask SERVER")
			golden := filepath.Join("testdata", "trace", tc.file+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("trace differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}

			var tr trace.Trace
			if err := json.Unmarshal([]byte(labTrace(t, "--json", tc.name, tc.qtype)), &tr); err != nil {
				t.Fatal(err)
			}
			if tr.Rcode != tc.wantRcode {
				t.Errorf("rcode %s, want %s", tr.Rcode, tc.wantRcode)
			}
			checkWalk(t, labZones, &tr)
			kinds := make([]string, 0, len(tr.Steps))
			for _, s := range tr.Steps {
				if s.Outcome == "dnssec" {
					continue // the chain of trust's fetches: glueless lookups are what sub-resolve counts here
				}
				kinds = append(kinds, s.Kind)
			}
			if slices.Contains(kinds, "tcp-retry") != tc.wantTCP {
				t.Errorf("tcp-retry in the steps: %v, want %v", slices.Contains(kinds, "tcp-retry"), tc.wantTCP)
			}
			if slices.Contains(kinds, "sub-resolve") != tc.wantSubResolve {
				t.Errorf("sub-resolve in the steps: %v, want %v", slices.Contains(kinds, "sub-resolve"), tc.wantSubResolve)
			}
		})
	}
}

// checkWalk checks tr's steps against the lab's zone data.
func checkWalk(t *testing.T, labZones []*zones.Zone, tr *trace.Trace) {
	t.Helper()
	byOrigin := make(map[string]*zones.Zone)
	for _, z := range labZones {
		byOrigin[z.Origin()] = z
	}
	type lookup struct {
		name  string
		chain []string // zones from the start zone down to the name's own
		next  int      // index in chain of the zone to be asked next
	}
	walks := map[int]*lookup{}
	for i, s := range tr.Steps {
		switch s.Kind {
		case "start":
			chain := zoneChain(labZones, s.Name)
			if s.Type == "DS" && len(chain) > 1 && chain[len(chain)-1] == strings.ToLower(dns.Fqdn(s.Name)) {
				chain = chain[:len(chain)-1] // a DS RRset is the parent's (RFC 4035 section 3.1.4.1)
			}
			start := slices.Index(chain, strings.ToLower(s.Zone))
			if start < 0 {
				t.Fatalf("step %d: lookup of %s starts at %s, which is not above it in the lab", i, s.Name, s.Zone)
			}
			walks[s.Depth] = &lookup{name: s.Name, chain: chain, next: start}
		case "query":
			w := walks[s.Depth]
			if w == nil || w.next >= len(w.chain) {
				t.Fatalf("step %d: query %+v outside a lookup", i, s)
			}
			if want := w.chain[w.next]; s.Zone != want {
				t.Errorf("step %d: asked zone %s for %s, want %s (zones in order: %v)", i, s.Zone, w.name, want, w.chain)
			}
			checkServer(t, i, labZones, byOrigin[s.Zone], s)
		case "reply":
			w := walks[s.Depth]
			if s.Outcome == "referral" {
				w.next++
				if w.next >= len(w.chain) || s.Target != w.chain[w.next] {
					t.Errorf("step %d: referral to %s, want the next zone of %v", i, s.Target, w.chain)
				}
			} else if want := w.chain[len(w.chain)-1]; s.Zone != want {
				t.Errorf("step %d: %s came from %s, want the name's own zone %s", i, s.Outcome, s.Zone, want)
			}
		}
	}
	if len(walks) == 0 {
		t.Error("no lookup in the trace")
	}
}

// zoneChain lists the lab's zones at or above name, root first.
func zoneChain(labZones []*zones.Zone, name string) []string {
	var chain []string
	for _, z := range labZones {
		if dns.IsSubDomain(z.Origin(), dns.Fqdn(name)) {
			chain = append(chain, z.Origin())
		}
	}
	slices.SortFunc(chain, func(a, b string) int { return dns.CountLabel(a) - dns.CountLabel(b) })
	return chain
}

// checkServer checks that s asked one of zone's own name servers, at one of
// the addresses the lab gives that server.
func checkServer(t *testing.T, i int, labZones []*zones.Zone, zone *zones.Zone, s trace.Step) {
	t.Helper()
	if zone == nil {
		t.Errorf("step %d: zone %s is not in the lab", i, s.Zone)
		return
	}
	var names []string
	for _, ns := range zone.NS() {
		names = append(names, strings.ToLower(ns.Ns))
	}
	if !slices.Contains(names, strings.ToLower(s.Server)) {
		t.Errorf("step %d: asked %s for zone %s, whose name servers are %v", i, s.Server, s.Zone, names)
		return
	}
	host := s.Addr[:strings.LastIndexByte(s.Addr, ':')]
	for _, z := range labZones {
		for _, rr := range z.RRset(s.Server, dns.TypeA) {
			if rr.(*dns.A).A.String() == host {
				return
			}
		}
	}
	t.Errorf("step %d: asked %s at %s, which the lab does not give it", i, s.Server, host)
}

// TestTraceChainOfTrust: the trace of a name in each kind of zone ends its
// DNSSEC steps with the verdict the lab means: secure, insecure (no DS,
// proven by the parent), bogus (expired signatures, with why).
func TestTraceChainOfTrust(t *testing.T) {
	for _, tc := range []struct {
		name, rcode, verdict, why string
	}{
		{"www.example.com", "NOERROR", "secure", ""},
		{"www.insecure.org", "NOERROR", "insecure", ""},
		{"www.sig-expired.org", "SERVFAIL", "bogus", "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("ROOTWALK_CONFIG", "")
			var stdout, stderr bytes.Buffer
			// A failed resolution exits 1 and still prints its trace.
			_ = run(t.Context(), []string{"trace", "--lab", "--seed", "1", "--json", tc.name}, &stdout, &stderr)
			var tr trace.Trace
			if err := json.Unmarshal(stdout.Bytes(), &tr); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if tr.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", tr.Rcode, tc.rcode)
			}
			var last *trace.Step
			keys := 0
			for i := range tr.Steps {
				if s := &tr.Steps[i]; s.Kind == "dnssec" {
					last = s
					if strings.HasPrefix(s.Target, "keys: ") {
						keys++
					}
				}
			}
			if last == nil || keys == 0 {
				t.Fatalf("no DNSSEC verdicts on keys and the answer in %+v", tr.Steps)
			}
			if last.Outcome != tc.verdict || !strings.Contains(last.Error, tc.why) {
				t.Errorf("last verdict %q (%s: %s), want %q mentioning %q", last.Outcome, last.Target, last.Error, tc.verdict, tc.why)
			}
		})
	}
}
