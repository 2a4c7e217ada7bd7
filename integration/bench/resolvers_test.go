package bench

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
)

// startTimeout bounds how long a resolver may take to answer its first
// query after it was started.
const startTimeout = 30 * time.Second

// resolver is one of the two resolvers under test, running as its own
// process.
type resolver struct {
	name string         // as the report shows it
	addr netip.AddrPort // where it answers, UDP and TCP
	proc *process
}

// rootwalkFlags are the serve flags of the benchmark beyond those that
// name files and addresses. The rate limit is off (ratelimit.qps 0, its
// default, spelt out) and so is the cap on queries to one upstream server
// (on by default), since Unbound's equivalents (ratelimit, ip-ratelimit)
// are off by default; IPv6 upstream is off, as in the Unbound config.
var rootwalkFlags = []string{
	"--log-level", "warn",
	"--ratelimit-qps", "0",
	"--upstream-max-qps-per-server", "0",
	"--ipv6=false",
}

// startRootwalk runs `rootwalk serve` from bin against the lab's hints,
// with GOMAXPROCS set to cores, and returns once it answers.
func startRootwalk(t *testing.T, bin, hints string, cores int) *resolver {
	t.Helper()
	r := &resolver{name: "rootwalk", addr: dnstest.FreeAddr(t)}
	args := append([]string{"serve",
		"--root-hints", hints,
		"--upstream-port", "53",
		"--listen", r.addr.String(),
		"--admin-listen", "",
		"--cache-size", strconv.Itoa(cacheEntries),
		"--cache-memory", fmt.Sprintf("%dMiB", cacheMiB),
	}, rootwalkFlags...)
	// Its own empty working directory, so that no ./rootwalk.yaml is read.
	r.proc = startProcess(t, t.TempDir(), childEnv("GOMAXPROCS="+strconv.Itoa(cores)), bin, args...)
	waitReady(t, r)
	return r
}

// unboundConf configures Unbound fairly beside rootwalk: a thread per
// core on SO_REUSEPORT sockets, caches as big as rootwalk's budget (one
// third for messages, two for RRsets, Unbound's own advice), no logging,
// no prefetch. The rest lets it run against the lab: its own files only
// (no chroot, no privilege drop, no pidfile), no trust anchor (module
// "iterator" alone), permission to ask 127/8 servers, and the lab's hints.
const unboundConf = `server:
	verbosity: 0
	interface: %[1]s
	port: %[2]d
	num-threads: %[3]d
	so-reuseport: yes
	msg-cache-size: %[4]dm
	rrset-cache-size: %[5]dm
	prefetch: no
	do-ip6: no
	do-not-query-localhost: no
	root-hints: "%[6]s"
	username: ""
	chroot: ""
	directory: "%[7]s"
	pidfile: ""
	logfile: ""
	use-syslog: no
	module-config: "iterator"
	access-control: 127.0.0.0/8 allow
	# Unbound answers 127.in-addr.arpa. itself (RFC 6303); the lab serves
	# 53.127.in-addr.arpa., so let Unbound walk to it.
	local-zone: "127.in-addr.arpa." nodefault
	# Answer a query however long its walk takes, as rootwalk does,
	# rather than drop it after 1.9 s.
	discard-timeout: 0
remote-control:
	control-enable: no
`

// startUnbound runs Unbound, configured by unboundConf, against the lab's
// hints with a thread per core, and returns once it answers.
func startUnbound(t *testing.T, tools tools, hints string, cores int) *resolver {
	t.Helper()
	r := &resolver{name: "Unbound", addr: dnstest.FreeAddr(t)}
	dir := t.TempDir()
	conf := filepath.Join(dir, "unbound.conf")
	text := fmt.Sprintf(unboundConf, r.addr.Addr(), r.addr.Port(), cores, cacheMiB/3, cacheMiB-cacheMiB/3, hints, dir)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatalf("write Unbound's config: %v", err)
	}
	if out, err := exec.CommandContext(t.Context(), tools.unboundCheckconf, conf).CombinedOutput(); err != nil {
		t.Fatalf("unbound-checkconf %s: %v\n%s", conf, err, out)
	}
	r.proc = startProcess(t, dir, os.Environ(), tools.unbound, "-d", "-c", conf)
	waitReady(t, r)
	return r
}

// waitReady asks r for the root's NS records every 100 ms until it
// answers them, and fails the test if it exits or does not answer within
// startTimeout.
func waitReady(t *testing.T, r *resolver) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	q := new(dns.Msg).SetQuestion(".", dns.TypeNS)
	var lastErr error
	for {
		reply, _, err := c.ExchangeContext(ctx, q, r.addr.String())
		switch {
		case err == nil && reply.Rcode == dns.RcodeSuccess && len(reply.Answer) > 0:
			return
		case err == nil:
			lastErr = fmt.Errorf("reply %s with %d answers", dns.RcodeToString[reply.Rcode], len(reply.Answer))
		default:
			lastErr = err
		}
		if r.proc.exited() {
			t.Fatalf("%s exited (%v) before answering:\n%s", r.name, r.proc.err, r.proc.out)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not answer \". NS\" at %s within %v: %v", r.name, r.addr, startTimeout, lastErr)
		case <-tick.C:
		}
	}
}
