package integration

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/integration/fleettest"
	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/internal/proctest"
)

// fleetTimeout is how long a test client waits for a fleet's answer: the
// resolver's own deadline is well within it, so a query not answered by
// then was lost or hung.
const fleetTimeout = 5 * time.Second

// fleetAsk sends one query with DO set, over UDP, and returns the reply
// or the error, with how long it took.
func fleetAsk(addr netip.AddrPort, name string, qtype uint16) (*dns.Msg, time.Duration, error) {
	m := new(dns.Msg).SetQuestion(name, qtype)
	m.SetEdns0(1232, true)
	c := &dns.Client{Net: "udp", Timeout: fleetTimeout, UDPSize: 1232}
	start := time.Now()
	reply, _, err := c.Exchange(m, addr.String())
	return reply, time.Since(start), err
}

// waitWritten waits until in has written n answers to Redis.
func waitWritten(t *testing.T, in *fleettest.Instance, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := in.Stats(t)
		if s.Redis != nil && s.Redis.Writes.Written >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s wrote %+v to Redis after 10 s, want %d answers", in.Name, s.Redis, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFleetSharesThroughRedis: an answer resolved through instance A is
// answered by instance B from Redis, with no query to the lab, the same
// records and the same AD bit, for a plain answer, a CNAME chain across
// three zones, and a name error.
func TestFleetSharesThroughRedis(t *testing.T) {
	lab := startLab(t, 0)
	f := fleettest.Start(t, fleettest.Options{Rootwalk: rootwalkBin, Lab: lab, Instances: 2, Redis: true, Seed: "integration"})
	a, b := f.Instances[0], f.Instances[1]
	questions := []struct {
		name  string
		qtype uint16
		rcode int
	}{
		{"www.example.com.", dns.TypeA, dns.RcodeSuccess},
		{"alias.example.com.", dns.TypeA, dns.RcodeSuccess},
		{"nope.example.com.", dns.TypeA, dns.RcodeNameError},
	}
	for i, q := range questions {
		fromA, _, err := fleetAsk(a.Addr, q.name, q.qtype)
		if err != nil || fromA.Rcode != q.rcode {
			t.Fatalf("%s via %s: %v, %v; want rcode %s", q.name, a.Name, fromA, err, dns.RcodeToString[q.rcode])
		}
		waitWritten(t, a, uint64(i+1))
		before, hits := lab.Queries(), b.Stats(t).Redis.Hits
		fromB, _, err := fleetAsk(b.Addr, q.name, q.qtype)
		if err != nil {
			t.Fatalf("%s via %s: %v", q.name, b.Name, err)
		}
		if n := lab.Queries() - before; n != 0 {
			t.Errorf("%s: %s sent %d queries to the lab, want 0 (answered from Redis)", q.name, b.Name, n)
		}
		if got := b.Stats(t).Redis.Hits; got != hits+1 {
			t.Errorf("%s: %s counted %d Redis hits, want %d", q.name, b.Name, got, hits+1)
		}
		if fromB.Rcode != fromA.Rcode || fromB.AuthenticatedData != fromA.AuthenticatedData ||
			!slices.Equal(dnstest.Set(fromB.Answer), dnstest.Set(fromA.Answer)) || !slices.Equal(dnstest.Set(fromB.Ns), dnstest.Set(fromA.Ns)) {
			t.Errorf("%s: %s answered\n%v\nwant what %s answered\n%v", q.name, b.Name, fromB, a.Name, fromA)
		}
	}
}

// TestFleetKeepsAnsweringWhenRedisDies: Redis is killed while clients
// ask an instance for new names; every query is still answered, well
// within the resolver's deadline, and the instance counts the failures
// and opens its breaker.
func TestFleetKeepsAnsweringWhenRedisDies(t *testing.T) {
	lab := startLab(t, 0)
	f := fleettest.Start(t, fleettest.Options{Rootwalk: rootwalkBin, Lab: lab, Instances: 1, Redis: true, Seed: "integration"})
	in := f.Instances[0]
	const clients, perClient = 4, 60
	var (
		wg       sync.WaitGroup
		answered atomic.Int64
		mu       sync.Mutex
		problems []string
		slowest  time.Duration
	)
	sent := make(chan struct{}, clients*perClient)
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				name := fmt.Sprintf("redis-dies-%d-%d.wild.example.com.", c, i)
				reply, took, err := fleetAsk(in.Addr, name, dns.TypeA)
				sent <- struct{}{}
				mu.Lock()
				slowest = max(slowest, took)
				if err != nil || reply.Rcode != dns.RcodeSuccess || len(reply.Answer) == 0 {
					problems = append(problems, fmt.Sprintf("%s: %v %v", name, reply, err))
				} else {
					answered.Add(1)
				}
				mu.Unlock()
			}
		})
	}
	for range clients * perClient / 3 {
		<-sent
	}
	f.Redis.Stop(t) // SIGKILL, mid-run
	wg.Wait()
	if len(problems) > 0 {
		t.Errorf("%d of %d queries failed after Redis died, first: %s", len(problems), clients*perClient, problems[0])
	}
	// Generous: a resolution's deadline is seconds; a call to Redis, 50 ms.
	if slowest > 3*time.Second {
		t.Errorf("the slowest answer took %v", slowest)
	}
	s := in.Stats(t).Redis
	if s.Errors+s.Rejected+s.Writes.Failed == 0 {
		t.Errorf("no failed call to Redis was counted: %+v", s)
	}
	if s.Breaker == "closed" && s.Rejected == 0 {
		t.Errorf("the breaker never opened: %+v", s)
	}
	t.Logf("%d answered; slowest %v; redis %+v", answered.Load(), slowest, s)
}

// TestFleetBehindDnsdist: with dnsdist's chashed policy each name goes to
// one instance, so a name asked again is answered from that instance's
// own cache; after one instance stops and dnsdist's health check notices,
// no query is lost, and the stopped instance's names are answered from
// Redis by the others, without asking the lab again.
func TestFleetBehindDnsdist(t *testing.T) {
	lab := startLab(t, 0)
	f := fleettest.Start(t, fleettest.Options{Rootwalk: rootwalkBin, Lab: lab, Redis: true, Seed: "integration", Dnsdist: true})
	var names []string
	for i := range 60 {
		names = append(names, fmt.Sprintf("fleet-%d.wild.example.com.", i))
	}
	askAll := func(round string, names []string) {
		t.Helper()
		for _, name := range names {
			reply, _, err := fleetAsk(f.Addr, name, dns.TypeA)
			if err != nil || reply.Rcode != dns.RcodeSuccess || len(reply.Answer) == 0 {
				t.Fatalf("%s: %s through dnsdist: %v, %v", round, name, reply, err)
			}
		}
	}
	redisHits := func() uint64 {
		var n uint64
		for _, in := range f.Instances {
			if in.Addr.IsValid() {
				n += in.Stats(t).Redis.Hits
			}
		}
		return n
	}
	askAll("first round", names)
	for _, in := range f.Instances {
		waitWritten(t, in, 1)
	}
	lab0, hits0 := lab.Queries(), redisHits()
	askAll("second round", names)
	if n := lab.Queries() - lab0; n != 0 {
		t.Errorf("the second round sent %d queries to the lab, want 0", n)
	}
	if n := redisHits() - hits0; n != 0 {
		t.Errorf("the second round took %d answers from Redis, want 0: chashed sends each name to the instance that has it", n)
	}
	owned := 0
	for _, b := range f.Backends(t) {
		if b.Name == "rootwalk2" {
			owned = int(b.Queries)
		}
	}
	if owned == 0 {
		t.Fatal("dnsdist sent no query to rw2: stopping it would show nothing")
	}

	stopped := f.Instances[1]
	stopped.Stop(t)
	if !f.WaitState(t, stopped, "down", 10*time.Second) {
		t.Fatalf("dnsdist did not mark %s down within 10 s: %+v", stopped.Name, f.Backends(t))
	}
	f.Instances = slices.Delete(f.Instances, 1, 2)
	lab0, hits0 = lab.Queries(), redisHits()
	// Every name again, many times over, and new ones: none may be lost.
	for range 5 {
		askAll("with rw2 down", names)
	}
	if n := lab.Queries() - lab0; n != 0 {
		t.Errorf("after rw2 stopped, its names cost %d queries to the lab, want 0 (they are in Redis)", n)
	}
	if n := redisHits() - hits0; n == 0 {
		t.Error("after rw2 stopped, no answer came from Redis: its names must have moved to the others")
	}
	var fresh []string
	for i := range 30 {
		fresh = append(fresh, fmt.Sprintf("fleet-after-%d.wild.example.com.", i))
	}
	askAll("new names with rw2 down", fresh)
}

// TestFleetWideFlush: flushing a subtree through one instance's admin API
// empties every instance's cache and Redis of it.
func TestFleetWideFlush(t *testing.T) {
	lab := startLab(t, 0)
	f := fleettest.Start(t, fleettest.Options{Rootwalk: rootwalkBin, Lab: lab, Redis: true, Seed: "integration"})
	const name = "www.example.com."
	for i, in := range f.Instances {
		if reply, _, err := fleetAsk(in.Addr, name, dns.TypeA); err != nil || len(reply.Answer) == 0 {
			t.Fatalf("%s via %s: %v, %v", name, in.Name, reply, err)
		}
		if i == 0 {
			waitWritten(t, in, 1)
		}
	}
	for _, in := range f.Instances {
		if in.Cached(t, name) == 0 {
			t.Fatalf("%s did not cache %s", in.Name, name)
		}
	}
	out := f.Instances[0].Flush(t, "name=example.com&subtree=1")
	if out.Shared == nil || out.Shared.Deleted == 0 || out.Shared.Error != "" {
		t.Errorf("flush reply %+v: want answers deleted from Redis", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, in := range f.Instances {
		for in.Cached(t, name) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s still caches %s 10 s after the fleet-wide flush", in.Name, name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Redis is empty of it too: the next instance to be asked walks.
	before := lab.Queries()
	if reply, _, err := fleetAsk(f.Instances[2].Addr, name, dns.TypeA); err != nil || len(reply.Answer) == 0 {
		t.Fatalf("%s after the flush: %v, %v", name, reply, err)
	}
	if lab.Queries() == before {
		t.Error("after the flush, the answer still came from Redis")
	}
	if s := f.Instances[2].Stats(t).Redis; s.FlushesReceived != 1 {
		t.Errorf("rw3 received %d flushes, want 1", s.FlushesReceived)
	}
}

// TestMakeFleet runs deploy/fleet.sh (make fleet) on free ports, asks
// through the dnsdist it starts, then stops it as Ctrl-C would and checks
// that it took its fleet down with it.
func TestMakeFleet(t *testing.T) {
	for _, p := range []string{"redis-server", "dnsdist"} {
		dnstest.Program(t, p)
	}
	listen, web := dnstest.FreeAddr(t), dnstest.FreeAddr(t)
	var instances []string
	var dnsAddrs []netip.AddrPort
	for range 3 {
		a, admin := dnstest.FreeAddr(t), dnstest.FreeAddr(t)
		instances = append(instances, a.String()+"/"+admin.String())
		dnsAddrs = append(dnsAddrs, a)
	}
	env := []string{"BIN=" + rootwalkBin, "LAB_PORT=" + fmt.Sprint(labPort()), "FLEET_LISTEN=" + listen.String(),
		"FLEET_WEB=" + web.String(), "REDIS_PORT=" + fmt.Sprint(dnstest.FreeAddr(t).Port()),
		"INSTANCES=" + strings.Join(instances, " ")}
	p := proctest.Start(t, env, "../deploy/fleet.sh")
	if !p.WaitFor("fleet ready", 90*time.Second) {
		t.Fatalf("make fleet did not get ready:\n%s", p.Output())
	}
	if !strings.Contains(p.Output(), fmt.Sprintf("dig @%s -p %d www.example.com", listen.Addr(), listen.Port())) {
		t.Errorf("make fleet did not say where to point dig:\n%s", p.Output())
	}
	reply, _, err := fleetAsk(listen, "www.example.com.", dns.TypeA)
	if err != nil || len(reply.Answer) == 0 || !reply.AuthenticatedData {
		t.Fatalf("www.example.com through the fleet: %v, %v; want a validated answer", reply, err)
	}
	p.Stop(t)
	if !strings.Contains(p.Output(), "stopping the fleet") {
		t.Errorf("the script did not stop its fleet:\n%s", p.Output())
	}
	for _, a := range append(dnsAddrs, listen) {
		m := new(dns.Msg).SetQuestion("id.server.", dns.TypeTXT)
		m.Question[0].Qclass = dns.ClassCHAOS
		c := &dns.Client{Net: "tcp", Timeout: time.Second}
		if _, _, err := c.Exchange(m, a.String()); err == nil {
			t.Errorf("%v still answers after the fleet stopped", a)
		}
	}
}
