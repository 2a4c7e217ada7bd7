package bench

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootwalk/rootwalk/zones"
)

// The unit tests here run without RWTEST_BENCH and without the network.
// The samples in testdata were captured from the real tools on a Debian
// machine: dnsperf 2.10.0 against Unbound 1.17.1 (and against a closed
// port), /proc/PID/stat of Unbound and of rootwalk serve.

// readSample returns the text of testdata/name.
func readSample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseDNSPerf(t *testing.T) {
	for _, c := range []struct {
		file    string
		want    dnsperfResult
		answers int // latencies read from -v lines
		first   time.Duration
		last    time.Duration
	}{
		{
			file: "dnsperf-saturated.txt",
			want: dnsperfResult{sent: 274907, completed: 274900, lost: 7, qps: 91503.520339,
				runTime: 3004256 * time.Microsecond, avgLatency: 1590 * time.Microsecond,
				rcodes: map[string]int{"NOERROR": 206176, "NXDOMAIN": 68724}, stopped: "time limit"},
		},
		{
			file: "dnsperf-verbose.txt",
			want: dnsperfResult{sent: 8, completed: 6, lost: 2, qps: 2962.962963,
				runTime: 2025 * time.Microsecond, avgLatency: 337 * time.Microsecond,
				rcodes: map[string]int{"NOERROR": 6}, stopped: "end of file", timedOut: 2},
			answers: 6, first: 159 * time.Microsecond, last: 761 * time.Microsecond,
		},
		{
			file: "dnsperf-all-lost.txt",
			want: dnsperfResult{sent: 4, completed: 0, lost: 4, qps: 0, runTime: 2686 * time.Microsecond,
				rcodes: map[string]int{}, stopped: "end of file", timedOut: 4},
		},
	} {
		t.Run(c.file, func(t *testing.T) {
			got, err := parseDNSPerf(strings.NewReader(readSample(t, c.file)))
			if err != nil {
				t.Fatal(err)
			}
			if got.sent != c.want.sent || got.completed != c.want.completed || got.lost != c.want.lost ||
				got.qps != c.want.qps || got.runTime != c.want.runTime || got.avgLatency != c.want.avgLatency ||
				got.stopped != c.want.stopped || got.timedOut != c.want.timedOut || !maps.Equal(got.rcodes, c.want.rcodes) {
				t.Errorf("got  %+v\nwant %+v", withoutLatencies(got), c.want)
			}
			if len(got.latencies) != c.answers {
				t.Fatalf("%d latencies, want %d", len(got.latencies), c.answers)
			}
			if c.answers > 0 && (got.latencies[0] != c.first || got.latencies[c.answers-1] != c.last) {
				t.Errorf("latencies from %v to %v, want sorted from %v to %v", got.latencies[0], got.latencies[c.answers-1], c.first, c.last)
			}
		})
	}
}

// withoutLatencies returns r without its latencies, for printing.
func withoutLatencies(r dnsperfResult) dnsperfResult {
	r.latencies = nil
	return r
}

func TestParseDNSPerfRejects(t *testing.T) {
	for name, out := range map[string]string{
		"empty":            "",
		"no statistics":    "[Status] Testing complete (time limit)\n",
		"bad query line":   "> NOERROR www.example.com A fast\n" + readSample(t, "dnsperf-verbose.txt"),
		"short query line": "> NOERROR 0.0001\n" + readSample(t, "dnsperf-verbose.txt"),
		"no run time":      strings.ReplaceAll(readSample(t, "dnsperf-saturated.txt"), "Run time", "Walltime"),
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := parseDNSPerf(strings.NewReader(out)); err == nil {
				t.Errorf("parsed %+v, want an error", withoutLatencies(got))
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	for _, c := range []struct {
		name, stat string
		want       uint64
	}{
		{name: "unbound", stat: readSample(t, "proc-stat-unbound.txt"), want: 345 + 850},
		{name: "rootwalk", stat: readSample(t, "proc-stat-rootwalk.txt"), want: 990 + 254},
		{name: "command with spaces and parentheses", want: 7 + 9,
			stat: "42 (a) b (c)) S 1 2 3 0 -1 4194304 10 0 0 0 7 9 0 0 20 0 1 0 100 1000 10\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseProcStat(c.stat)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("utime+stime %d ticks, want %d", got, c.want)
			}
		})
	}
	for name, stat := range map[string]string{
		"no command": "42 S 1 2 3",
		"too short":  "42 (x) S 1 2 3 0 -1 4194304 10 0 0 0 7",
		"not number": "42 (x) S 1 2 3 0 -1 4194304 10 0 0 0 seven 9 0",
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := parseProcStat(stat); err == nil {
				t.Errorf("parsed %d, want an error", got)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(i + 1)
	}
	for _, c := range []struct {
		name   string
		sorted []time.Duration
		lost   int
		p      float64
		want   time.Duration
		wantOK bool
	}{
		{"p50 of 1..100 ms", hundred, 0, 0.50, ms(50), true},
		{"p99 of 1..100 ms", hundred, 0, 0.99, ms(99), true},
		{"p100 of 1..100 ms", hundred, 0, 1, ms(100), true},
		{"one answer", hundred[:1], 0, 0.99, ms(1), true},
		{"p99 with one lost in 100", hundred[:99], 1, 0.99, ms(99), true},
		{"p99 with two lost in 100", hundred[:98], 2, 0.99, 0, false},
		{"p50 with half lost", hundred[:50], 50, 0.50, ms(50), true},
		{"p50 with more than half lost", hundred[:49], 51, 0.50, 0, false},
		{"all lost", nil, 4, 0.5, 0, false},
		{"nothing sent", nil, 0, 0.5, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := percentile(c.sorted, c.lost, c.p)
			if got != c.want || ok != c.wantOK {
				t.Errorf("percentile(%d answers, %d lost, %v) = %v, %v; want %v, %v", len(c.sorted), c.lost, c.p, got, ok, c.want, c.wantOK)
			}
		})
	}
}

func TestWriteMixed(t *testing.T) {
	warm := []question{{"a.example.", 1}, {"b.example.", 28}}
	path := filepath.Join(t.TempDir(), "mixed.txt")
	if err := writeMixed(path, warm, "7", 10, 5); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"a.example. A", "b.example. AAAA", "a.example. A", "b.example. AAAA", "c7-0." + coldParent + " A",
		"a.example. A", "b.example. AAAA", "a.example. A", "b.example. AAAA", "c7-1." + coldParent + " A",
	}, "\n") + "\n"
	if got := readFile(t, path); got != want {
		t.Errorf("mixed file\n%s\nwant\n%s", got, want)
	}
}

// readFile returns the text of the file at path.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWarmCandidates(t *testing.T) {
	all, err := zones.LabZones()
	if err != nil {
		t.Fatal(err)
	}
	servers := []zones.LabServer{
		{Zones: []string{"example.com.", "sub.example.com."}},
		{Zones: []string{"example.com."}},
		{Zones: []string{"fast-slow.com."}},
		{Zones: []string{"fast-slow.com."}, Fault: zones.FaultSlow},
	}
	healthy := healthyZones(servers)
	if !healthy["example.com."] || !healthy["sub.example.com."] || healthy["fast-slow.com."] || healthy["example.org."] {
		t.Fatalf("healthy zones %v: want example.com. and sub.example.com. only", healthy)
	}
	got := map[string]bool{}
	for _, q := range warmCandidates(all, healthy) {
		got[q.line()] = true
	}
	for line, want := range map[string]bool{
		"www.example.com. A":           true,
		"www.example.com. AAAA":        true,
		"example.com. MX":              true,
		"example.com. TXT":             true,
		"ns1.sub.example.com. A":       true,  // from sub.example.com., not the glue in example.com.
		"short.example.com. A":         false, // TTL 5
		"*.wild.example.com. A":        false, // a wildcard
		"www.example.com. MX":          false, // no such data
		"ns2.fast-slow.com. A":         false, // a zone with a faulty server
		"a.b.c.d.e.f.g.example.org. A": false, // a zone no listed server serves
	} {
		if got[line] != want {
			t.Errorf("%q chosen %v, want %v", line, got[line], want)
		}
	}
}
