package bench

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// metric is one row of the summary table.
type metric struct {
	name   string
	value  func(runResult) (float64, bool) // false: not measured
	format string                          // for fmt, of the value
	none   string                          // shown when not measured
}

// The metrics the scenarios report.
var (
	mQPS = metric{name: "QPS", format: "%.0f", none: "-",
		value: func(r runResult) (float64, bool) { return r.perf.qps, true }}
	mAvg = metric{name: "avg latency (ms, dnsperf)", format: "%.3f", none: "-",
		value: func(r runResult) (float64, bool) { return ms(r.perf.avgLatency), r.perf.completed > 0 }}
	mP50 = metric{name: "p50 latency (ms)", format: "%.3f", none: "lost",
		value: func(r runResult) (float64, bool) { return ms(r.p50), r.p50ok }}
	mP99 = metric{name: "p99 latency (ms)", format: "%.3f", none: "lost",
		value: func(r runResult) (float64, bool) { return ms(r.p99), r.p99ok }}
	mLost = metric{name: "lost queries", format: "%.0f", none: "-",
		value: func(r runResult) (float64, bool) { return float64(r.perf.lost), true }}
	mCPU = metric{name: "CPU per answer (us)", format: "%.1f", none: "-",
		value: func(r runResult) (float64, bool) { return r.cpuPerAnswer() }}
	mUpstream = metric{name: "upstream queries per cold answer", format: "%.2f", none: "-",
		value: func(r runResult) (float64, bool) { return r.upstreamPerCold() }}
)

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// cpuPerAnswer returns the resolver's CPU time per answered query, in
// microseconds.
func (r runResult) cpuPerAnswer() (float64, bool) {
	if r.perf.completed == 0 {
		return 0, false
	}
	return float64(r.cpu) / float64(time.Microsecond) / float64(r.perf.completed), true
}

// upstreamPerCold returns the queries the lab got per answered cold query:
// the answered queries times the file's cold share (exact for cold runs,
// close for mixed ones, whose file dnsperf reads in order).
func (r runResult) upstreamPerCold() (float64, bool) {
	cold := float64(r.perf.completed) * r.coldShare
	if cold == 0 {
		return 0, false
	}
	return float64(r.upstream) / cold, true
}

// cell formats m's value for r.
func (m metric) cell(r runResult) string {
	v, ok := m.value(r)
	if !ok {
		return m.none
	}
	return fmt.Sprintf(m.format, v)
}

// ratio formats m's value for a over its value for b.
func (m metric) ratio(a, b runResult) string {
	va, oka := m.value(a)
	vb, okb := m.value(b)
	if !oka || !okb || vb == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", va/vb)
}

// summary is the one line a run logs as it ends.
func (r runResult) summary() string {
	s := fmt.Sprintf("%8.0f QPS, %d/%d answered, %d lost, %d errors, CPU %v",
		r.perf.qps, r.perf.completed, r.perf.sent, r.perf.lost, r.perf.failures(), r.cpu)
	if r.p50ok || r.p99ok {
		s += fmt.Sprintf(", p50 %s ms, p99 %s ms", mP50.cell(r), mP99.cell(r))
	}
	return s + fmt.Sprintf(", %d upstream", r.upstream)
}

// best returns the best of the runs of resolver: the one with the lowest
// p99 latency if paced (a lost p99 is the worst), else the highest QPS.
// The earlier run wins a tie.
func best(runs []runResult, resolver string, paced bool) runResult {
	var out runResult
	found := false
	for _, r := range runs {
		if r.resolver != resolver {
			continue
		}
		if !found || better(r, out, paced) {
			out, found = r, true
		}
	}
	return out
}

// better reports whether a beats b.
func better(a, b runResult, paced bool) bool {
	if !paced {
		return a.perf.qps > b.perf.qps
	}
	if a.p99ok != b.p99ok {
		return a.p99ok
	}
	return a.p99ok && a.p99 < b.p99
}

// report is the outcome of a benchmark, with what describes it.
type report struct {
	machine   machine
	cores     int
	warmNames int
	pace      int // the paced runs' QPS
	scenarios []scenario
	runs      []runResult
}

// summary returns the table of the best run of each resolver in each
// scenario, metric by metric, with the ratio rootwalk/Unbound.
func (rep report) summary() table {
	tb := table{head: []string{"scenario", "metric", "rootwalk", "Unbound", "rootwalk/Unbound"}, left: 2}
	for _, s := range rep.scenarios {
		var runs []runResult
		for _, r := range rep.runs {
			if r.scenario == s.name {
				runs = append(runs, r)
			}
		}
		rw, ub := best(runs, "rootwalk", s.paced), best(runs, "Unbound", s.paced)
		for _, m := range s.metrics {
			tb.rows = append(tb.rows, []string{s.name, m.name, m.cell(rw), m.cell(ub), m.ratio(rw, ub)})
		}
	}
	return tb
}

// every returns the table of every run.
func (rep report) every() table {
	tb := table{head: []string{"scenario", "round", "resolver", "QPS", "answered/sent", "lost", "errors",
		"avg ms", "p50 ms", "p99 ms", "CPU s", "CPU/answer us", "upstream", "run s", "stopped by"}, left: 3}
	for _, r := range rep.runs {
		p50, p99 := "-", "-"
		if r.scenario == "paced" {
			p50, p99 = mP50.cell(r), mP99.cell(r)
		}
		tb.rows = append(tb.rows, []string{r.scenario, strconv.Itoa(r.round), r.resolver, mQPS.cell(r),
			fmt.Sprintf("%d/%d", r.perf.completed, r.perf.sent), strconv.Itoa(r.perf.lost), strconv.Itoa(r.perf.failures()),
			mAvg.cell(r), p50, p99, fmt.Sprintf("%.2f", r.cpu.Seconds()), mCPU.cell(r),
			strconv.FormatUint(r.upstream, 10), fmt.Sprintf("%.1f", r.perf.runTime.Seconds()), r.perf.stopped})
	}
	return tb
}

// method says how the numbers were taken, for both outputs.
func (rep report) method() []string {
	return []string{
		fmt.Sprintf("Each scenario ran %d times per resolver for %v, alternating rootwalk and Unbound (A B A B). "+
			"The summary shows the best of each resolver's runs: the highest QPS, or for paced the lowest p99; every run is listed below. "+
			"A ratio rootwalk/Unbound above 1 favours rootwalk for QPS, and Unbound for every other metric.", rounds, runLength),
		fmt.Sprintf("warm: %d lab questions (A, AAAA, MX, TXT of the healthy zones, TTL >= %v) asked once beforehand, then looped, dnsperf %s.",
			rep.warmNames, warmMinTTL, loadFlags(saturating)),
		fmt.Sprintf("paced: the warm questions at %d QPS (half of Unbound's best warm QPS), dnsperf %s -v. "+
			"dnsperf %s has no latency histogram, so p50 and p99 are nearest-rank percentiles of the latency dnsperf -v prints for each query, "+
			"over every query sent, a lost query counting as slower than any answer (\"lost\" when the percentile falls on one). "+
			"A resolver that cannot keep that pace runs saturated, as its QPS shows.",
			rep.pace, loadFlags(saturating), rep.machine.dnsperf),
		fmt.Sprintf("cold: every query a new name under *.%s (A), each asked once, dnsperf %s -n 1.", coldParent, loadFlags(coldLoad)),
		fmt.Sprintf("mixed: every %dth query a new cold name, the rest warm, dnsperf %s -n 1.", mixedColdEvery, loadFlags(mixedLoad)),
		"CPU per answer: the resolver's utime+stime from /proc/PID/stat (all threads) before and after the run, over the queries answered. " +
			"Upstream queries: the lab's servers' query count before and after the run, over the cold queries answered (for mixed, answered x 1/10).",
		fmt.Sprintf("Both resolvers: %d threads (rootwalk GOMAXPROCS, Unbound num-threads with so-reuseport), a %d MiB cache "+
			"(rootwalk cache.memory, cache.size %d; Unbound msg-cache-size %dm + rrset-cache-size %dm), no logging, the lab's root hints on port 53. "+
			"rootwalk flags beyond those: %s.", rep.cores, cacheMiB, cacheEntries, cacheMiB/3, cacheMiB-cacheMiB/3, strings.Join(rootwalkFlags, " ")),
		"dnsperf, both resolvers and the lab (in the test process) share the machine's cores: QPS reflects CPU per answer as much as speed.",
	}
}

// loadFlags returns dnsperf's load flags of l, for the notes.
func loadFlags(l load) string { return fmt.Sprintf("-c %d -q %d", l.clients, l.outstanding) }

// text returns the report for the terminal.
func (rep report) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rootwalk vs Unbound, %s\n%s\n\n", rep.machine.date, rep.machine.headline())
	b.WriteString(rep.summary().text())
	b.WriteString("\nEvery run:\n")
	b.WriteString(rep.every().text())
	b.WriteString("\n")
	for _, line := range rep.method() {
		b.WriteString("- " + line + "\n")
	}
	return b.String()
}

// markdown returns the report as results.md.
func (rep report) markdown() string {
	var b strings.Builder
	m := rep.machine
	b.WriteString("# rootwalk vs Unbound under dnsperf\n\n")
	fmt.Fprintf(&b, "Written by `make bench` (integration/bench/TestBench) on %s.\n\n", m.date)
	fmt.Fprintf(&b, "- machine: `%s`\n- CPU: %s, %d cores\n- dnsperf %s, Unbound %s, rootwalk %s\n\n",
		m.uname, m.cpu, m.cores, m.dnsperf, m.unbound, m.commit)
	b.WriteString("## Summary (best run of each)\n\n")
	b.WriteString(rep.summary().markdown())
	b.WriteString("\n## Every run\n\n")
	b.WriteString(rep.every().markdown())
	b.WriteString("\n## How\n\n")
	for _, line := range rep.method() {
		b.WriteString("- " + line + "\n")
	}
	return b.String()
}

// table is a header and rows of cells.
type table struct {
	head []string
	left int // how many columns, from the first, hold words, not numbers
	rows [][]string
}

// text returns t aligned in columns.
func (t table) text() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(t.head, "\t"))
	for _, row := range t.rows {
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	// Flush writes into a strings.Builder, which does not fail.
	_ = w.Flush()
	return b.String()
}

// markdown returns t as a Markdown table, numbers aligned right.
func (t table) markdown() string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(t.head, " | ") + " |\n|")
	for i := range t.head {
		if i < t.left {
			b.WriteString(" --- |")
		} else {
			b.WriteString(" ---: |")
		}
	}
	b.WriteString("\n")
	for _, row := range t.rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}
