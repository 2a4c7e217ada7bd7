package integration

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/zones"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// unboundConf configures Unbound for the lab: its own files only, no
// chroot, no privilege drop, permission to ask 127/8 servers, and the
// lab's root hints; its modules and trust anchor (or none: no validation)
// come last.
const unboundConf = `server:
	verbosity: 1
	interface: 127.0.0.1
	port: %d
	do-ip6: no
	do-not-query-localhost: no
	root-hints: "%s"
	username: ""
	chroot: ""
	directory: "%s"
	pidfile: "%s"
	logfile: ""
	use-syslog: no
	module-config: "%s"
	%s
	access-control: 127.0.0.0/8 allow
	num-threads: 1
	# Unbound answers 127.in-addr.arpa. itself (RFC 6303); the lab serves
	# 53.127.in-addr.arpa., so let Unbound walk to it.
	local-zone: "127.in-addr.arpa." nodefault
	# Unbound 1.17 drops a client's query that took over 1.9 s (while it
	# works around a silent server, say); answer it however long it takes.
	discard-timeout: 0
remote-control:
	control-enable: no
`

// startLab53 starts the lab on port 53, which another resolver needs (glue
// carries no port): it needs root, so the test is skipped without it, and
// fails without it under CI=true.
func startLab53(t *testing.T) *zones.Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the lab needs port 53, which needs root")
		}
		t.Skip("the lab needs port 53, which needs root")
	}
	return startLab(t, 53)
}

// startUnbound runs Unbound, configured by unboundConf, against lab and
// returns where it answers once it has started; the test's end stops it.
// With validate, Unbound validates DNSSEC from the lab's trust anchor.
func startUnbound(t *testing.T, unbound string, lab *zones.Lab, validate bool) (netip.AddrPort, *process) {
	t.Helper()
	dir := t.TempDir()
	hints := filepath.Join(dir, "lab.root")
	if err := os.WriteFile(hints, []byte(lab.Hints()), 0o644); err != nil {
		t.Fatal(err)
	}
	modules, anchorLine := "iterator", ""
	if validate {
		anchor, err := zones.LabAnchor()
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "lab.anchor")
		if err := os.WriteFile(file, []byte(anchor), 0o644); err != nil {
			t.Fatal(err)
		}
		modules, anchorLine = "validator iterator", fmt.Sprintf("trust-anchor-file: %q", file)
	}
	addr := dnstest.FreeAddr(t)
	conf := filepath.Join(dir, "unbound.conf")
	text := fmt.Sprintf(unboundConf, addr.Port(), hints, dir, filepath.Join(dir, "unbound.pid"), modules, anchorLine)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCommand(t.Context(), "unbound-checkconf", conf); err != nil {
		t.Fatalf("unbound-checkconf: %v\n%s", err, out)
	}
	p := startProcess(t, true, unbound, "-d", "-c", conf)
	p.waitFor(t, "start of service", 30*time.Second)
	return addr, p
}

// TestUnboundAgrees is the differential test: Unbound and rootwalk, both
// pointed at the same lab (on port 53, as glue carries no port), must give
// the same rcode and the same answer section, compared as a set of
// (name, type, rdata) with TTLs ignored, for every case of the lab.
func TestUnboundAgrees(t *testing.T) {
	unbound := dnstest.Program(t, "unbound")
	lab := startLab53(t)
	ubAddr, _ := startUnbound(t, unbound, lab, false)

	rw := startStack(t, lab)
	for _, c := range labCases {
		t.Run(c.name, func(t *testing.T) {
			if c.notUnbound != "" {
				t.Skip(c.notUnbound)
			}
			want := askFull(t, ubAddr, c.qname, c.qtype)
			got := askFull(t, rw.addr, c.qname, c.qtype)
			if got.Rcode != want.Rcode {
				t.Errorf("rcode: rootwalk %s, unbound %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[want.Rcode])
			}
			if g, w := dnstest.Set(got.Answer), dnstest.Set(want.Answer); !slices.Equal(g, w) {
				t.Errorf("answer\n rootwalk %q\n  unbound %q", g, w)
			}
			// Both must also be right, not merely agree.
			if want.Rcode != c.rcode {
				t.Errorf("unbound's rcode %s differs from the case's %s", dns.RcodeToString[want.Rcode], dns.RcodeToString[c.rcode])
			}
		})
	}
	t.Logf("lab on port %s: %d queries", strconv.Itoa(lab.Port()), lab.Queries())
}

// TestUpstreamQueriesPerColdResolution resolves the lab's whole name set
// once with a fresh Unbound and once with a fresh rootwalk, on the same
// lab, and counts the queries each sent to the lab's servers (after
// stopping it, so that background fetches are counted too). rootwalk must
// not need more.
func TestUpstreamQueriesPerColdResolution(t *testing.T) {
	unbound := dnstest.Program(t, "unbound")
	lab := startLab53(t)
	var cases []labCase
	for _, c := range labCases {
		if c.notUnbound == "" {
			cases = append(cases, c)
		}
	}

	before := lab.Queries()
	ubAddr, ub := startUnbound(t, unbound, lab, false)
	for _, c := range cases {
		askFull(t, ubAddr, c.qname, c.qtype)
	}
	if err := ub.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if !ub.exited(15 * time.Second) {
		t.Fatal("unbound did not stop")
	}
	unboundQueries := lab.Queries() - before

	before = lab.Queries()
	rw := startStack(t, lab)
	for _, c := range cases {
		askFull(t, rw.addr, c.qname, c.qtype)
	}
	rw.resolver.Close()
	rootwalkQueries := lab.Queries() - before

	t.Logf("cold resolution of %d lab names: rootwalk %d upstream queries (%.2f per name), unbound %d (%.2f per name)",
		len(cases), rootwalkQueries, float64(rootwalkQueries)/float64(len(cases)),
		unboundQueries, float64(unboundQueries)/float64(len(cases)))
	if rootwalkQueries > unboundQueries {
		t.Errorf("rootwalk sent %d upstream queries, more than unbound's %d", rootwalkQueries, unboundQueries)
	}
}
