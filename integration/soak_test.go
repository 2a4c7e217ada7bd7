package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootwalk/rootwalk/internal/dnstest"
	"github.com/rootwalk/rootwalk/server"
)

// fetchText GETs url and returns its body, for goroutines that cannot
// fail a test themselves.
func fetchText(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), nil
}

// soakEnv names how long TestSoak runs ("10m"); without it the test is
// skipped. `make soak` sets it. Its name must not start with ROOTWALK_:
// the binary refuses unknown ROOTWALK_ variables and inherits ours.
const soakEnv = "RWTEST_SOAK"

// Settings of the soak.
const (
	soakWarmUp       = 2 * time.Minute  // growth is measured after this
	soakEvery        = 10 * time.Second // how often goroutines and RSS are read
	soakColdNames    = 150_000          // distinct cold names in the query file: more than the cache holds
	soakCacheEntries = 20_000           // so that cold names are cold again on dnsperf's next pass
	soakMalformedPPS = 200              // malformed packets a second, beside dnsperf's queries
	// soakGrowth is how much goroutines and resident memory may grow from
	// the end of the warm-up to the end: more is a leak.
	soakGrowth = 1.25
)

// TestSoak drives `rootwalk serve --lab` for RWTEST_SOAK with dnsperf over
// a mix of cached, cold and NXDOMAIN questions, beside a stream of
// malformed packets, against a lab that drops a share of the queries it
// gets, and checks that the server stays up, answers every query dnsperf
// sends, and does not grow in goroutines or memory after the warm-up:
//
//	RWTEST_SOAK=10m go test -timeout 30m -run TestSoak -v ./integration/
func TestSoak(t *testing.T) {
	v := os.Getenv(soakEnv)
	if v == "" {
		t.Skipf("set %s=10m to run the soak test (make soak)", soakEnv)
	}
	length, err := time.ParseDuration(v)
	if err != nil || length < soakWarmUp+time.Minute {
		t.Fatalf("%s=%q: want a duration of at least %v", soakEnv, v, soakWarmUp+time.Minute)
	}
	dnsperf := dnstest.Program(t, "dnsperf")
	bin := buildPlain(t)
	srv := startServeBinary(t, bin, func(labPort int) []string {
		return append([]string{"--lab", "--lab-port", strconv.Itoa(labPort),
			"--cache-size", strconv.Itoa(soakCacheEntries)}, soakLabArgs...)
	})
	pid := srv.p.cmd.Process.Pid
	file := soakQueries(t)

	ctx, cancel := context.WithTimeout(t.Context(), length+time.Minute)
	defer cancel()
	var malformed atomic.Uint64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() { sendMalformed(srv.addr.String(), stop, &malformed) })
	samples := make(chan []soakSample, 1)
	wg.Go(func() { samples <- sampleSoak(t, srv.admin.String(), pid, stop) })

	cmd := exec.CommandContext(ctx, dnsperf, "-s", srv.addr.Addr().String(), "-p", strconv.Itoa(int(srv.addr.Port())),
		"-d", file, "-l", strconv.Itoa(int(length.Seconds())), "-c", "8", "-q", "200", "-t", "5", "-S", "60")
	out, err := cmd.CombinedOutput()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("dnsperf: %v\n%s", err, out)
	}
	t.Logf("dnsperf:\n%s", out)
	if srv.p.exited(0) {
		t.Fatalf("rootwalk died:\n%s", srv.p.log())
	}

	perf := parseDNSPerf(t, string(out))
	st := soakStats(t, srv.admin.String())
	got := <-samples
	t.Logf("%d malformed packets sent", malformed.Load())
	t.Logf("queries: %d sent, %d completed, %d lost; rootwalk answered %d in all (%v)",
		perf.sent, perf.completed, perf.lost, st.Queries.Total, st.Queries.ByRcode)
	for _, s := range got {
		t.Logf("  at %5v: %4d goroutines, RSS %s", s.at.Round(time.Second), s.goroutines, mib(s.rss))
	}
	if perf.lost > 0 {
		t.Errorf("dnsperf lost %d queries: every query must be answered", perf.lost)
	}
	checkGrowth(t, got)
}

// soakLabArgs are the extra serve flags of the soak: every lab server
// drops 5% of its UDP queries.
var soakLabArgs = []string{"--lab-loss", "0.05"}

// soakSample is one reading of the server.
type soakSample struct {
	at         time.Duration
	goroutines int
	rss        int64
}

// sampleSoak reads the server's goroutines (from /metrics) and resident
// memory every soakEvery until stop is closed.
func sampleSoak(t *testing.T, admin string, pid int, stop <-chan struct{}) []soakSample {
	var out []soakSample
	start := time.Now()
	tick := time.NewTicker(soakEvery)
	defer tick.Stop()
	goroutines := regexp.MustCompile(`(?m)^go_goroutines (\d+)`)
	for {
		select {
		case <-stop:
			return out
		case <-tick.C:
		}
		rss, err := readProcStatus(pid, "VmRSS")
		if err != nil {
			t.Errorf("read RSS: %v", err)
			return out
		}
		body, err := fetchText("http://" + admin + "/metrics")
		if err != nil {
			t.Errorf("read /metrics: %v", err)
			return out
		}
		m := goroutines.FindStringSubmatch(body)
		if m == nil {
			t.Error("/metrics has no go_goroutines")
			return out
		}
		n, _ := strconv.Atoi(m[1]) // the regexp matched digits only
		out = append(out, soakSample{at: time.Since(start), goroutines: n, rss: rss})
	}
}

// checkGrowth compares the readings at the end of the warm-up with the
// last ones.
func checkGrowth(t *testing.T, samples []soakSample) {
	t.Helper()
	var warm *soakSample
	for i := range samples {
		if samples[i].at >= soakWarmUp {
			warm = &samples[i]
			break
		}
	}
	if warm == nil || len(samples) < 2 {
		t.Fatalf("too few samples (%d) to judge growth", len(samples))
	}
	last := samples[len(samples)-1]
	t.Logf("after the warm-up: goroutines %d -> %d, RSS %s -> %s", warm.goroutines, last.goroutines, mib(warm.rss), mib(last.rss))
	if float64(last.goroutines) > soakGrowth*float64(warm.goroutines)+10 {
		t.Errorf("goroutines grew from %d to %d after the warm-up", warm.goroutines, last.goroutines)
	}
	if float64(last.rss) > soakGrowth*float64(warm.rss) {
		t.Errorf("resident memory grew from %s to %s after the warm-up", mib(warm.rss), mib(last.rss))
	}
}

// soakQueries writes dnsperf's query file, shuffled: half cached names
// (the lab cases that resolve, asked over and over), three in eight cold
// names under the lab's wildcard, and one in eight names that do not
// exist.
func soakQueries(t *testing.T) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	var cached []string
	for _, c := range labCases {
		if c.rcode == dns.RcodeSuccess {
			cached = append(cached, strings.TrimSuffix(c.qname, ".")+" "+dns.TypeToString[c.qtype])
		}
	}
	var lines []string
	for i := range soakColdNames {
		lines = append(lines, fmt.Sprintf("soak%d-%x.wild.example.com A", i, rng.Uint32()))
		if i%3 == 0 {
			lines = append(lines, fmt.Sprintf("nope%d-%x.example.org A", i, rng.Uint32()))
			continue
		}
		lines = append(lines, cached[i%len(cached)], cached[(i+7)%len(cached)])
	}
	rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	path := filepath.Join(t.TempDir(), "queries.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// sendMalformed sends soakMalformedPPS packets a second that no resolver
// should answer normally, over UDP and TCP, until stop is closed.
func sendMalformed(addr string, stop <-chan struct{}, sent *atomic.Uint64) {
	junk := [][]byte{
		{0x12},                               // shorter than a header
		{0x12, 0x34, 0x01, 0x00, 0x00, 0x01}, // a header cut short
		{0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1},                // a response
		{0x12, 0x34, 0x01, 0x00, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1}, // two questions
		{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1},       // a pointer to itself
		{0x12, 0x34, 0x79, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1},                // opcode 15
	}
	rng := rand.New(rand.NewPCG(9, 9))
	tick := time.NewTicker(time.Second / soakMalformedPPS)
	defer tick.Stop()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return
	}
	defer conn.Close()
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		p := junk[i%len(junk)]
		if i%len(junk) == 0 {
			p = make([]byte, 12+rng.IntN(500)) // random bytes
			for j := range p {
				p[j] = byte(rng.Uint32())
			}
		}
		if _, err := conn.Write(p); err == nil {
			sent.Add(1)
		}
		if i%50 == 0 { // a TCP frame that promises more than it sends, left open a while
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				_, _ = c.Write([]byte{0x01, 0x00, 0x12, 0x34}) // the server's read timeout is what is tested
				open = append(open, c)
				sent.Add(1)
			}
			if len(open) > 4 {
				open[0].Close()
				open = open[1:]
			}
		}
	}
}

// dnsperfResult is what parseDNSPerf reads of dnsperf's summary.
type dnsperfResult struct{ sent, completed, lost int }

func parseDNSPerf(t *testing.T, out string) dnsperfResult {
	t.Helper()
	num := func(label string) int {
		m := regexp.MustCompile(label + `:\s+(\d+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("dnsperf output lacks %q", label)
		}
		n, _ := strconv.Atoi(m[1]) // digits only
		return n
	}
	return dnsperfResult{sent: num("Queries sent"), completed: num("Queries completed"), lost: num("Queries lost")}
}

func soakStats(t *testing.T, admin string) server.Stats {
	t.Helper()
	var st server.Stats
	if err := json.Unmarshal(httpGet(t, "http://"+admin+"/stats"), &st); err != nil {
		t.Fatal(err)
	}
	return st
}
