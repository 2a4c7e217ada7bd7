#!/bin/sh
# cost.sh: what DNSSEC validation costs a cold resolution. The lab runs in
# its own process (port 10353); rootwalk resolves names it has never seen
# under *.wild.example.com (a wildcard in an ECDSA-signed zone with NSEC,
# so each answer needs its RRSIG and the NSEC proving the expansion
# checked), with validation on (the lab's trust anchor) and off (no
# anchor), alternating, ROUNDS times DUR seconds each under dnsperf
# -c 8 -q 100. It prints QPS and rootwalk's CPU per answer (user + system,
# from /proc). Run from the repository's root; needs dnsperf and dig, and
# uses loopback only.
set -eu
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-10}
dir=$(mktemp -d)
trap 'kill $(cat "$dir"/*.pid 2>/dev/null) 2>/dev/null; rm -rf "$dir"' EXIT
go build -o "$dir/rootwalk" ./cmd/rootwalk
"$dir/rootwalk" lab --lab-port 10353 --anchor-out "$dir/lab.anchor" > "$dir/lab.root" 2> "$dir/lab.log" &
echo $! > "$dir/lab.pid"
sleep 2
for round in $(seq "$ROUNDS"); do
	for mode in on off; do
		anchor=""
		[ "$mode" = on ] && anchor="--dnssec-trust-anchor $dir/lab.anchor"
		# shellcheck disable=SC2086 # anchor is two words or none
		"$dir/rootwalk" serve --root-hints "$dir/lab.root" --upstream-port 10353 --listen 127.0.0.1:5497 \
			--admin-listen "" --upstream-max-qps-per-server 0 --log-level warn --ratelimit-qps 0 --ipv6=false \
			--cache-size 4000000 --cache-memory 1536MiB $anchor > "$dir/serve.log" 2>&1 &
		pid=$!
		echo $pid > "$dir/serve.pid"
		sleep 1.5
		dig +short +tries=3 @127.0.0.1 -p 5497 www.example.com > /dev/null
		python3 -c "
import random
with open('$dir/q.txt', 'w') as f:
    for i in range(400000): f.write('v%d-%d.wild.example.com A\n' % (random.randint(0, 1 << 30), i))
"
		t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
		dnsperf -s 127.0.0.1 -p 5497 -d "$dir/q.txt" -c 8 -q 100 -n 1 -l "$DUR" > "$dir/perf.txt" 2>&1
		t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
		n=$(awk '/Queries completed/{print $3}' "$dir/perf.txt")
		printf 'validation=%s round=%s qps=%s lost=%s cpu_us_per_answer=%s\n' "$mode" "$round" \
			"$(awk '/Queries per second/{print $4}' "$dir/perf.txt")" "$(awk '/Queries lost/{print $3}' "$dir/perf.txt")" \
			"$(python3 -c "print(round(($t1 - $t0) * 10000 / $n, 1))")"
		kill $pid
		wait $pid 2> /dev/null || true
	done
done
