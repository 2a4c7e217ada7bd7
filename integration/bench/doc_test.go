// Package bench compares rootwalk with Unbound under the same dnsperf load,
// side by side on one machine (issue 7, point 1). `make bench` runs it:
//
//	RWTEST_BENCH=1 go test -count=1 -timeout 40m -run '^TestBench$' -v ./integration/bench/
//
// TestBench starts the lab in-process on port 53 of 127.53.0.0/16 (glue
// carries no port, so Unbound needs 53, which needs root), then bin/rootwalk
// and Unbound as separate processes, each with as many threads as the
// machine has cores and the same cache budget. It warms both with the lab's
// names and runs four dnsperf scenarios against each, alternating rootwalk
// and Unbound (A B A B): warm (cached names, saturating), paced (cached
// names at half of Unbound's warm rate, for latency percentiles), cold
// (every query a new name under the lab's wildcard) and mixed (90% cached,
// 10% cold). For each run it records dnsperf's rate, latency and losses, the
// resolver's CPU per answer (from /proc/PID/stat) and the queries the lab's
// servers got, prints a table with the ratios rootwalk/Unbound and writes
// it, with the machine's description, to results.md.
//
// Without RWTEST_BENCH only the parsers' unit tests run, with no network.
// Nothing here sends a packet outside 127.0.0.0/8.
package bench
