package bench

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/integration/fleettest"
	"github.com/rootwalk/rootwalk/server"
	"github.com/rootwalk/rootwalk/zones"
)

// fleetBenchEnv turns TestBenchFleet on; `make bench-fleet` sets it.
const fleetBenchEnv = "RWTEST_BENCH_FLEET"

// fleetResultsFile is where TestBenchFleet writes its tables.
const fleetResultsFile = "fleet-results.md"

// The fleet's mixed workload: fleetQueries questions read once, every
// tenth a new name under the lab's wildcard, the others cycling through
// the lab's warm questions, sent by dnsperf through dnsdist to a fleet
// that starts empty.
//
// The repeated workload: repeatedNames new names, each asked
// repeatedPasses times, one pass after the other, as names a site's
// clients ask a few times each; with roundrobin, the passes of a name go
// to different instances (repeatedNames is not a multiple of 3).
const (
	fleetQueries   = 400_000
	repeatedNames  = 20_000
	repeatedPasses = 3
	fleetRunLength = 60 * time.Second
	// l2Names is how many names the L2-latency measurement resolves.
	l2Names = 300
)

var fleetLoad = load{clients: 8, outstanding: 50, once: true}

// fleetRun is one configuration's outcome.
type fleetRun struct {
	workload string
	policy   string
	redis    bool
	perf     dnsperfResult
	upstream uint64 // queries the lab got
	// hits and lookups of the instances' own caches (replayed replies
	// count as hits, as /stats counts them); l2 answers from Redis.
	hits, lookups, l2 uint64
}

// TestBenchFleet measures what the Redis tier changes for a fleet of three
// instances behind dnsdist: the cache hit ratio and the queries sent to
// the lab, for dnsdist's chashed and roundrobin policies, with and
// without Redis, each on a fresh fleet; then the latency a client sees
// for an answer from Redis against one from the instance's own cache.
func TestBenchFleet(t *testing.T) {
	if os.Getenv(fleetBenchEnv) == "" {
		t.Skipf("set %s=1 to measure the fleet (make bench-fleet)", fleetBenchEnv)
	}
	bin, dnsperf := rootwalkBinary(t), findTool(t, "dnsperf")
	dir := t.TempDir()
	lab, err := zones.StartLab(t.Context(), zones.LabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Error(err)
		}
	})
	all, err := zones.LabZones()
	if err != nil {
		t.Fatal(err)
	}
	warm := warmCandidates(all, healthyZones(lab.Servers()))

	var runs []fleetRun
	configs := []struct {
		policy string
		redis  bool
	}{{"chashed", false}, {"chashed", true}, {"roundrobin", false}, {"roundrobin", true}}
	for i := range 2 * len(configs) {
		c := configs[i%len(configs)]
		file := filepath.Join(dir, "fleet.txt")
		workload := "mixed"
		tag := fmt.Sprintf("fleet%d", i)
		if i < len(configs) {
			err = writeMixed(file, warm, tag, fleetQueries, mixedColdEvery)
		} else {
			workload = "repeated"
			err = writeQueries(file, repeatedNames*repeatedPasses, func(i int) string { return coldName(tag, i%repeatedNames) + " A" })
		}
		if err != nil {
			t.Fatal(err)
		}
		f := fleettest.Start(t, fleettest.Options{Rootwalk: bin, Lab: lab, Redis: c.redis, Seed: "bench",
			Dnsdist: true, Policy: c.policy})
		run := fleetRun{workload: workload, policy: c.policy, redis: c.redis}
		up0 := lab.Queries()
		run.perf, err = runDNSPerf(t.Context(), dnsperf, dir, fleetLoad.args(f.Addr, file, fleetRunLength))
		if err != nil {
			t.Fatal(err)
		}
		run.upstream = lab.Queries() - up0
		for _, in := range f.Instances {
			s := in.Stats(t)
			run.hits += s.Cache.Hits
			run.lookups += s.Cache.Hits + s.Cache.Misses
			if s.Redis != nil {
				run.l2 += s.Redis.Hits
			}
		}
		t.Logf("%s %s redis=%v: %d answered at %.0f q/s, %d lost; %d lab queries; own-cache hits %d of %d; Redis hits %d",
			workload, c.policy, c.redis, run.perf.completed, run.perf.qps, run.perf.lost, run.upstream, run.hits, run.lookups, run.l2)
		runs = append(runs, run)
		for _, in := range f.Instances {
			in.Stop(t) // before the next fleet starts: two fleets would share the machine's cores
		}
	}
	l2 := measureL2(t, bin, lab, warm)
	text := fleetReport(runs, l2, len(warm))
	fmt.Fprint(t.Output(), "\n"+text)
	if err := os.WriteFile(fleetResultsFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// l2Latency is what measureL2 found: client-side latencies, sorted.
type l2Latency struct {
	walk, l2, l1 []time.Duration
	redisGet     server.Percentiles // the instance's own measure of its GETs
}

// measureL2 resolves names through instance A of a two-instance fleet,
// then asks instance B for each (an answer from Redis), then asks B again
// (from B's own cache), timing each query from the client.
func measureL2(t *testing.T, bin string, lab *zones.Lab, warm []question) l2Latency {
	f := fleettest.Start(t, fleettest.Options{Rootwalk: bin, Lab: lab, Instances: 2, Redis: true, Seed: "bench"})
	a, b := f.Instances[0], f.Instances[1]
	var qs []question
	for i := range l2Names {
		if i < len(warm) && i%2 == 0 {
			qs = append(qs, warm[i])
		} else {
			qs = append(qs, question{name: coldName("l2", i), qtype: dns.TypeA})
		}
	}
	var out l2Latency
	timed := func(addr netip.AddrPort, q question) time.Duration {
		c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
		start := time.Now()
		if _, _, err := c.ExchangeContext(t.Context(), new(dns.Msg).SetQuestion(q.name, q.qtype), addr.String()); err != nil {
			t.Fatalf("%s: %v", q.line(), err)
		}
		return time.Since(start)
	}
	for _, q := range qs {
		out.walk = append(out.walk, timed(a.Addr, q))
	}
	deadline := time.Now().Add(30 * time.Second)
	for a.Stats(t).Redis.Writes.Written < uint64(len(qs)) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	for _, q := range qs {
		out.l2 = append(out.l2, timed(b.Addr, q))
	}
	for _, q := range qs {
		out.l1 = append(out.l1, timed(b.Addr, q))
	}
	s := b.Stats(t).Redis
	if s.Hits < uint64(len(qs))*9/10 {
		t.Fatalf("instance B found only %d of %d answers in Redis", s.Hits, len(qs))
	}
	out.redisGet = s.GetMS
	for _, l := range [][]time.Duration{out.walk, out.l2, out.l1} {
		slices.Sort(l)
	}
	return out
}

// fleetReport renders the runs and the L2 latencies as Markdown.
func fleetReport(runs []fleetRun, l2 l2Latency, warmNames int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Fleet benchmark\n\n3 rootwalk instances behind dnsdist, each configuration on a fresh fleet and an empty Redis; "+
		"dnsperf %s reads each query file once. Workloads:\n\n"+
		"- mixed: %d questions, every %dth a new name under the lab's wildcard, the others cycling through %d warm lab questions;\n"+
		"- repeated: %d new names under the wildcard, asked %d times each, one pass after the other.\n\n",
		strings.Join(fleetLoad.args(netip.AddrPort{}, "FILE", fleetRunLength)[4:], " "),
		fleetQueries, mixedColdEvery, warmNames, repeatedNames, repeatedPasses)
	b.WriteString("| workload | policy | Redis | answered | lost | q/s | own-cache hit ratio | answers from Redis | fleet hit ratio | lab queries |\n")
	b.WriteString("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range runs {
		own, fleet := 0.0, 0.0
		if r.lookups > 0 {
			own = float64(r.hits) / float64(r.lookups)
			fleet = float64(r.hits+r.l2) / float64(r.lookups)
		}
		onOff := "off"
		if r.redis {
			onOff = "on"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %.0f | %.4f | %d | %.4f | %d |\n",
			r.workload, r.policy, onOff, r.perf.completed, r.perf.lost, r.perf.qps, own, r.l2, fleet, r.upstream)
	}
	b.WriteString("\nOwn-cache hit ratio: the instances' cache hits over lookups, summed over the three (/stats). " +
		"Fleet hit ratio counts answers from Redis as hits too. Lab queries: every query the lab's servers got during the run.\n\n")
	fmt.Fprintf(&b, "## Latency of an answer from Redis\n\n%d names resolved through instance A, then asked of instance B (from Redis), "+
		"then of B again (from its own cache); one query at a time over UDP, timed by the client.\n\n", len(l2.l2))
	b.WriteString("| answer | p50 (ms) | p90 (ms) | p99 (ms) |\n| --- | ---: | ---: | ---: |\n")
	for _, row := range []struct {
		name string
		l    []time.Duration
	}{{"walked by A (cold)", l2.walk}, {"B from Redis", l2.l2}, {"B from its own cache", l2.l1}} {
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f |\n", row.name, ms(at(row.l, 0.50)), ms(at(row.l, 0.90)), ms(at(row.l, 0.99)))
	}
	fmt.Fprintf(&b, "\nB's own measure of its Redis GETs (/stats redis.get_ms, bucket estimates): p50 %.3f ms, p90 %.3f ms, p99 %.3f ms.\n",
		l2.redisGet.P50, l2.redisGet.P90, l2.redisGet.P99)
	return b.String()
}

// at is the nearest-rank p-quantile of sorted.
func at(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
