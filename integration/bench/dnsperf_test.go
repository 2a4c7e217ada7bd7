package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// load is how dnsperf drives a resolver in one scenario.
type load struct {
	clients     int  // -c: sockets dnsperf sends from
	outstanding int  // -q: queries awaiting replies at most
	qps         int  // -Q: a pace; 0 sends as fast as outstanding allows
	once        bool // -n 1: read the query file once, so no name repeats
	verbose     bool // -v: one line per query, with its latency
}

// args returns dnsperf's arguments for a run of length against addr with
// the queries in file.
func (l load) args(addr netip.AddrPort, file string, length time.Duration) []string {
	args := []string{"-s", addr.Addr().String(), "-p", strconv.Itoa(int(addr.Port())), "-d", file,
		"-l", strconv.Itoa(int(length.Seconds())), "-c", strconv.Itoa(l.clients), "-q", strconv.Itoa(l.outstanding)}
	if l.qps > 0 {
		args = append(args, "-Q", strconv.Itoa(l.qps))
	}
	if l.once {
		args = append(args, "-n", "1")
	}
	if l.verbose {
		args = append(args, "-v")
	}
	return args
}

// dnsperfResult is what one dnsperf run reports.
type dnsperfResult struct {
	sent, completed, lost int
	qps                   float64
	runTime               time.Duration
	avgLatency            time.Duration // 0 when nothing was answered
	rcodes                map[string]int
	stopped               string // why it stopped: "time limit" or "end of file"
	// Latencies of every answered query, sorted, and the count of "> T"
	// lines: only with -v.
	latencies []time.Duration
	timedOut  int
}

// failures returns how many replies were neither NOERROR nor NXDOMAIN.
func (r dnsperfResult) failures() int {
	n := 0
	for rcode, count := range r.rcodes {
		if rcode != "NOERROR" && rcode != "NXDOMAIN" {
			n += count
		}
	}
	return n
}

// runDNSPerf runs dnsperf at path with args, its standard output going to
// a file in dir (a -v run writes a line per query), and parses that file.
func runDNSPerf(ctx context.Context, path, dir string, args []string) (dnsperfResult, error) {
	outFile := filepath.Join(dir, "dnsperf.out")
	f, err := os.Create(outFile)
	if err != nil {
		return dnsperfResult{}, fmt.Errorf("run dnsperf: %w", err)
	}
	defer func() {
		// Best effort: the run's numbers are in hand, and the test's
		// temporary directory goes at its end anyway. A -v run writes
		// tens of MB, so it should not wait until then.
		_ = f.Close()
		_ = os.Remove(outFile)
	}()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := cmd.Run(); err != nil {
		return dnsperfResult{}, fmt.Errorf("dnsperf %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return dnsperfResult{}, fmt.Errorf("read dnsperf's output: %w", err)
	}
	res, err := parseDNSPerf(f)
	if err != nil {
		return dnsperfResult{}, fmt.Errorf("dnsperf %s: %w\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return res, nil
}

// The lines of dnsperf's statistics that parseDNSPerf reads.
var (
	perfSent      = regexp.MustCompile(`^\s*Queries sent:\s+(\d+)`)
	perfCompleted = regexp.MustCompile(`^\s*Queries completed:\s+(\d+)`)
	perfLost      = regexp.MustCompile(`^\s*Queries lost:\s+(\d+)`)
	perfQPS       = regexp.MustCompile(`^\s*Queries per second:\s+([0-9.]+)`)
	perfRunTime   = regexp.MustCompile(`^\s*Run time \(s\):\s+([0-9.]+)`)
	perfLatency   = regexp.MustCompile(`^\s*Average Latency \(s\):\s+([0-9.]+)`)
	perfRcodes    = regexp.MustCompile(`^\s*Response codes:\s*(.*)$`)
	perfRcode     = regexp.MustCompile(`([A-Z0-9]+) (\d+) \(`)
	perfStopped   = regexp.MustCompile(`^\[Status\] Testing complete \((.*)\)`)
)

// parseDNSPerf reads the standard output of dnsperf 2.x: its statistics
// and, from a -v run, the line per query ("> NOERROR name type 0.000123",
// or "> T name type" for a query that timed out).
func parseDNSPerf(r io.Reader) (dnsperfResult, error) {
	res := dnsperfResult{rcodes: map[string]int{}}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "> "); ok {
			if err := res.addQuery(rest); err != nil {
				return dnsperfResult{}, err
			}
			continue
		}
		for _, f := range []struct {
			name string
			re   *regexp.Regexp
			set  func(string) error
		}{
			{"Queries sent", perfSent, intInto(&res.sent)},
			{"Queries completed", perfCompleted, intInto(&res.completed)},
			{"Queries lost", perfLost, intInto(&res.lost)},
			{"Queries per second", perfQPS, func(s string) (err error) { res.qps, err = strconv.ParseFloat(s, 64); return err }},
			{"Run time", perfRunTime, secondsInto(&res.runTime)},
			{"Average Latency", perfLatency, secondsInto(&res.avgLatency)},
			{"Response codes", perfRcodes, res.setRcodes},
			{"Testing complete", perfStopped, func(s string) error { res.stopped = s; return nil }},
		} {
			if m := f.re.FindStringSubmatch(line); m != nil {
				if err := f.set(m[1]); err != nil {
					return dnsperfResult{}, fmt.Errorf("parse dnsperf's %q line %q: %w", f.name, line, err)
				}
				seen[f.name] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return dnsperfResult{}, fmt.Errorf("read dnsperf's output: %w", err)
	}
	for _, need := range []string{"Queries sent", "Queries completed", "Queries lost", "Queries per second", "Run time"} {
		if !seen[need] {
			return dnsperfResult{}, fmt.Errorf("parse dnsperf's output: no %q line", need)
		}
	}
	slices.Sort(res.latencies)
	return res, nil
}

// addQuery records one line of a -v run, without its leading "> ".
func (r *dnsperfResult) addQuery(line string) error {
	fields := strings.Fields(line)
	if len(fields) >= 1 && fields[0] == "T" {
		r.timedOut++
		return nil
	}
	if len(fields) < 4 {
		return fmt.Errorf("parse dnsperf's query line %q: want rcode, name, type and latency", line)
	}
	d, err := parseSeconds(fields[len(fields)-1])
	if err != nil {
		return fmt.Errorf("parse dnsperf's query line %q: %w", line, err)
	}
	r.latencies = append(r.latencies, d)
	return nil
}

// setRcodes reads "NOERROR 150 (75.00%), NXDOMAIN 50 (25.00%)".
func (r *dnsperfResult) setRcodes(s string) error {
	for _, m := range perfRcode.FindAllStringSubmatch(s, -1) {
		n, err := strconv.Atoi(m[2])
		if err != nil {
			return fmt.Errorf("count of %s: %w", m[1], err)
		}
		r.rcodes[m[1]] = n
	}
	return nil
}

// intInto returns a setter that parses a decimal count into dst.
func intInto(dst *int) func(string) error {
	return func(s string) (err error) {
		*dst, err = strconv.Atoi(s)
		return err
	}
}

// secondsInto returns a setter that parses seconds ("0.000123") into dst.
func secondsInto(dst *time.Duration) func(string) error {
	return func(s string) (err error) {
		*dst, err = parseSeconds(s)
		return err
	}
}

// parseSeconds parses a count of seconds with a fraction, as dnsperf
// prints latencies and run times.
func parseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("seconds %q: want a non-negative number", s)
	}
	return time.Duration(math.Round(f * float64(time.Second))), nil
}

// percentile returns the p-th percentile (0 < p <= 1), by nearest rank, of
// the latencies of every query sent: the answered ones' latencies, sorted,
// and lost queries counted as slower than any answer. ok is false when
// that rank falls on a lost query, or when nothing was sent.
func percentile(sorted []time.Duration, lost int, p float64) (d time.Duration, ok bool) {
	n := len(sorted) + lost
	rank := max(int(math.Ceil(p*float64(n))), 1)
	if n == 0 || rank > len(sorted) {
		return 0, false
	}
	return sorted[rank-1], true
}
