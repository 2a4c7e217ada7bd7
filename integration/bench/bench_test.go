package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/zones"
)

// benchEnv turns TestBench on; `make bench` sets it. Its name must not
// start with ROOTWALK_: the binary refuses unknown ROOTWALK_ variables.
const benchEnv = "RWTEST_BENCH"

// resultsFile is where TestBench writes its table, in this directory.
const resultsFile = "results.md"

// Settings of the comparison, the same for both resolvers.
const (
	// runLength is how long each dnsperf run lasts.
	runLength = 20 * time.Second
	// rounds is how many runs each scenario gets per resolver, rootwalk
	// and Unbound alternating (A B A B).
	rounds = 2
	// cacheMiB is the cache budget of each resolver: rootwalk's
	// cache.memory, Unbound's msg-cache-size plus rrset-cache-size. It
	// holds every name the runs ask (cold ones included) many times over.
	cacheMiB = 1536
	// cacheEntries is rootwalk's cache.size, which Unbound lacks: high
	// enough that cacheMiB is the bound that matters.
	cacheEntries = 4_000_000
	// coldPerRun is the length of a cold run's query file: more names than
	// a resolver can resolve in runLength, each asked once.
	coldPerRun = 1_000_000
	// mixedPerRun and mixedColdEvery shape a mixed run's query file: every
	// tenth question cold, never repeated, the others warm.
	mixedPerRun    = 3_000_000
	mixedColdEvery = 10
)

// The loads. Saturating: 8 sockets, 200 queries outstanding, enough to keep
// dnsperf (which takes about one core itself) busy against either
// resolver. Cold: fewer outstanding, since each cold query waits on a walk
// to the lab, and more would only make both resolvers queue and drop.
var (
	saturating = load{clients: 8, outstanding: 200}
	coldLoad   = load{clients: 8, outstanding: 100, once: true}
	mixedLoad  = load{clients: 8, outstanding: 200, once: true}
)

// tools are the programs the benchmark runs.
type tools struct {
	rootwalk, unbound, unboundCheckconf, dnsperf string
}

// scenario is one kind of run.
type scenario struct {
	name string
	load load
	// file returns the query file of the benchmark's run-th run.
	file func(run int) (string, error)
	// coldShare is the share of the file's questions that are cold.
	coldShare float64
	// paced scenarios are judged by their p99 latency, the others by QPS.
	paced   bool
	metrics []metric
}

// runResult is what one run measured.
type runResult struct {
	scenario, resolver string
	round              int
	perf               dnsperfResult
	cpu                time.Duration // the resolver's user+system CPU during the run
	upstream           uint64        // queries the lab's servers got during the run
	coldShare          float64
	p50, p99           time.Duration
	p50ok, p99ok       bool
}

// bench is one benchmark in progress.
type bench struct {
	t         *testing.T
	tools     tools
	lab       *zones.Lab
	dir       string        // query files and dnsperf's output
	tick      time.Duration // of /proc/PID/stat
	resolvers []*resolver   // in the order they run: rootwalk, Unbound
	runs      int           // runs so far, numbering cold names
	ran       []scenario    // in order
	results   []runResult   // every run of every scenario, in order
}

// TestBench compares rootwalk with Unbound; see the package doc.
func TestBench(t *testing.T) {
	if os.Getenv(benchEnv) == "" {
		t.Skipf("set %s=1 to compare rootwalk with Unbound (make bench)", benchEnv)
	}
	if os.Geteuid() != 0 {
		t.Fatal("the lab needs port 53 (glue carries no port), which needs root")
	}
	b := &bench{t: t, tools: findTools(t), dir: t.TempDir()}
	var err error
	if b.tick, err = clockTick(t.Context()); err != nil {
		t.Fatal(err)
	}
	m := describeMachine(t.Context(), b.tools)
	if b.lab, err = zones.StartLab(t.Context(), zones.LabOptions{Port: 53}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.lab.Close(); err != nil {
			t.Error(err)
		}
	})
	hints := filepath.Join(b.dir, "lab.root")
	if err := os.WriteFile(hints, []byte(b.lab.Hints()), 0o644); err != nil {
		t.Fatalf("write the lab's hints: %v", err)
	}
	cores := runtime.NumCPU()
	b.resolvers = []*resolver{startRootwalk(t, b.tools.rootwalk, hints, cores), startUnbound(t, b.tools, hints, cores)}
	warm := b.warm()
	t.Logf("%d warm names, cached in both; %d cores; runs of %v, %d rounds", len(warm), cores, runLength, rounds)

	warmFile := filepath.Join(b.dir, "warm.txt")
	if err := writeWarm(warmFile, warm); err != nil {
		t.Fatal(err)
	}
	warmQueries := func(int) (string, error) { return warmFile, nil }
	warmRuns := b.scenario(scenario{name: "warm", load: saturating, file: warmQueries,
		metrics: []metric{mQPS, mAvg, mLost, mCPU}})
	pace := int(best(warmRuns, "Unbound", false).perf.qps / 2)
	if pace < 1 {
		t.Fatal("Unbound answered nothing in the warm runs: no pace for the paced runs")
	}
	paced := saturating
	paced.qps, paced.verbose = pace, true
	b.scenario(scenario{name: "paced", load: paced, file: warmQueries, paced: true,
		metrics: []metric{mQPS, mP50, mP99, mLost, mCPU}})
	b.scenario(scenario{name: "cold", load: coldLoad, coldShare: 1,
		file: func(run int) (string, error) {
			path := filepath.Join(b.dir, "cold.txt")
			return path, writeCold(path, strconv.Itoa(run), coldPerRun)
		}, metrics: []metric{mQPS, mAvg, mLost, mCPU, mUpstream}})
	b.scenario(scenario{name: "mixed", load: mixedLoad, coldShare: 1.0 / mixedColdEvery,
		file: func(run int) (string, error) {
			path := filepath.Join(b.dir, "mixed.txt")
			return path, writeMixed(path, warm, strconv.Itoa(run), mixedPerRun, mixedColdEvery)
		}, metrics: []metric{mQPS, mAvg, mLost, mCPU, mUpstream}})

	rep := report{machine: m, cores: cores, warmNames: len(warm), pace: pace, scenarios: b.ran, runs: b.results}
	fmt.Fprint(t.Output(), "\n"+rep.text())
	if err := os.WriteFile(resultsFile, []byte(rep.markdown()), 0o644); err != nil {
		t.Fatalf("write %s: %v", resultsFile, err)
	}
	t.Logf("table written to integration/bench/%s", resultsFile)
}

// warm builds the warm questions from the lab's data, asks each resolver
// every one of them (so that all are cached), and checks that a cold name
// resolves in both.
func (b *bench) warm() []question {
	t := b.t
	all, err := zones.LabZones()
	if err != nil {
		t.Fatal(err)
	}
	candidates := warmCandidates(all, healthyZones(b.lab.Servers()))
	warm, err := warmUp(t.Context(), b.resolvers, candidates)
	if err != nil {
		t.Fatal(err)
	}
	if len(warm) < len(candidates)/2 {
		t.Fatalf("only %d of %d lab questions got an answer from both resolvers", len(warm), len(candidates))
	}
	probe := question{name: coldName("probe", 0), qtype: dns.TypeA}
	if ok, err := warmUp(t.Context(), b.resolvers, []question{probe}); err != nil || len(ok) != 1 {
		t.Fatalf("a cold name (%s) does not resolve in both resolvers (%v)", probe.line(), err)
	}
	return warm
}

// scenario runs s rounds times against each resolver, alternating them,
// and returns its runs.
func (b *bench) scenario(s scenario) []runResult {
	b.ran = append(b.ran, s)
	var out []runResult
	for round := 1; round <= rounds; round++ {
		for _, r := range b.resolvers {
			b.runs++
			file, err := s.file(b.runs)
			if err != nil {
				b.t.Fatal(err)
			}
			res := b.measure(s, r, file, round)
			b.t.Logf("%-5s round %d %-8s %s", s.name, round, r.name, res.summary())
			out = append(out, res)
		}
	}
	b.results = append(b.results, out...)
	return out
}

// measure runs dnsperf once against r and reads r's CPU time and the
// lab's query count before and after.
func (b *bench) measure(s scenario, r *resolver, file string, round int) runResult {
	t := b.t
	cpu0, err := r.proc.cpuTicks()
	if err != nil {
		t.Fatal(err)
	}
	up0 := b.lab.Queries()
	perf, err := runDNSPerf(t.Context(), b.tools.dnsperf, b.dir, s.load.args(r.addr, file, runLength))
	if err != nil {
		t.Fatal(err)
	}
	up1 := b.lab.Queries()
	cpu1, err := r.proc.cpuTicks()
	if err != nil {
		t.Fatal(err)
	}
	if r.proc.exited() {
		t.Fatalf("%s exited (%v) during the %s run:\n%s", r.name, r.proc.err, s.name, r.proc.out)
	}
	res := runResult{scenario: s.name, resolver: r.name, round: round, perf: perf,
		cpu: time.Duration(cpu1-cpu0) * b.tick, upstream: up1 - up0, coldShare: s.coldShare}
	if s.load.verbose {
		res.p50, res.p50ok = percentile(perf.latencies, perf.lost, 0.50)
		res.p99, res.p99ok = percentile(perf.latencies, perf.lost, 0.99)
		res.perf.latencies = nil // up to a million of them: keep only the percentiles
	}
	return res
}

// findTools returns the programs the benchmark needs, failing the test if
// one is missing: `make bench` installs dnsperf and Unbound and builds
// bin/rootwalk.
func findTools(t *testing.T) tools {
	t.Helper()
	return tools{rootwalk: rootwalkBinary(t), unbound: findTool(t, "unbound"),
		unboundCheckconf: findTool(t, "unbound-checkconf"), dnsperf: findTool(t, "dnsperf")}
}

// findTool returns the path of a program, failing the test without it.
func findTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if errors.Is(err, exec.ErrNotFound) {
		path, err = exec.LookPath(filepath.Join("/usr/sbin", name)) // root's PATH may lack it
	}
	if err != nil {
		t.Fatalf("%s is needed (make bench installs it): %v", name, err)
	}
	return path
}

// rootwalkBinary returns bin/rootwalk, which make builds first.
func rootwalkBinary(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "..", "bin", "rootwalk"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("bin/rootwalk is needed (make bench builds it): %v", err)
	}
	return bin
}
