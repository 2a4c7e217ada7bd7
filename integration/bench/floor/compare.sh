#!/bin/bash
# compare.sh: Unbound, rootwalk and the floor program in both of its modes
# on the same lab, under the same dnsperf load, runs alternating. Run from
# the repository's root, as root (the lab takes port 53, since Unbound's
# glue carries no port):
#
#   integration/bench/floor/compare.sh              # cold: CPU per answer
#   SCENARIO=paced integration/bench/floor/compare.sh  # latency percentiles
#
# cold (ROUNDS=3 DUR=5 by default): every name asked is new
# (*.wild.example.com), so each answer takes one upstream exchange with the
# example.com authority; the floor forwards it. paced (ROUNDS=3 DUR=10
# RATE=65000): ten cached lab questions at a fixed rate, dnsperf -v; the
# floor answers each query itself (-echo), the least a server can do.
# Each run prints QPS and CPU per answer, split into user and system time
# (from /proc), and for rootwalk the garbage collector's CPU per answer
# (from GODEBUG=gctrace=1); the servers are long-lived, so rootwalk's
# cache grows from one cold run to the next.
# Needs dnsperf, dig and unbound. Only loopback addresses are used.
set -eu
SCENARIO=${SCENARIO:-cold}
case $SCENARIO in
cold) DUR=${DUR:-5} ;;
paced) DUR=${DUR:-10}; RATE=${RATE:-65000} ;;
*) echo "SCENARIO is cold or paced" >&2; exit 2 ;;
esac
ROUNDS=${ROUNDS:-3}
WHO=${WHO:-unbound floor-netpoll floor-epoll rootwalk}
echo_flag=""
[ "$SCENARIO" = paced ] && echo_flag=-echo
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
go build -o "$dir/rootwalk" ./cmd/rootwalk
go build -o "$dir/floor" ./integration/bench/floor

"$dir/rootwalk" lab --lab-port 53 --anchor-out "$dir/lab.anchor" > "$dir/lab.root" 2> "$dir/lab.err" & pids+=($!)
sleep 1
cat > "$dir/unbound.conf" <<CONF
server:
	verbosity: 0
	interface: 127.0.0.1
	port: 5699
	num-threads: 2
	so-reuseport: yes
	msg-cache-size: 512m
	rrset-cache-size: 1024m
	prefetch: no
	do-ip6: no
	do-not-query-localhost: no
	root-hints: "$dir/lab.root"
	username: ""
	chroot: ""
	directory: "$dir"
	pidfile: ""
	logfile: ""
	use-syslog: no
	module-config: "iterator"
	access-control: 127.0.0.0/8 allow
	discard-timeout: 0
remote-control:
	control-enable: no
CONF
unbound=$(command -v unbound || echo /usr/sbin/unbound)
"$unbound" -d -c "$dir/unbound.conf" 2> "$dir/unbound.err" & ub=$!; pids+=($ub)
GOMAXPROCS=2 "$dir/floor" -listen 127.0.0.1:5599 -upstream 127.53.2.1:53 -mode netpoll -threads 2 $echo_flag > /dev/null & fn=$!; pids+=($fn)
GOMAXPROCS=2 "$dir/floor" -listen 127.0.0.1:5598 -upstream 127.53.2.1:53 -mode epoll -threads 2 $echo_flag > /dev/null & fe=$!; pids+=($fe)
GOMAXPROCS=2 GODEBUG=gctrace=1 "$dir/rootwalk" serve --root-hints "$dir/lab.root" --upstream-port 53 --listen 127.0.0.1:5499 \
	--admin-listen "" --upstream-max-qps-per-server 0 --log-level warn --ratelimit-qps 0 --ipv6=false \
	--cache-size 4000000 --cache-memory 1536MiB > "$dir/rootwalk.log" 2>&1 & rw=$!; pids+=($rw)
sleep 2
for port in 5699 5599 5598 5499; do
	dig +short +tries=3 @127.0.0.1 -p $port k0.wild.example.com A > /dev/null
done

printf '%s\n' "www.example.com A" "www.example.com AAAA" "mail.example.com A" "example.com MX" \
	"www.example.net A" "www.example.org A" "example.com NS" "example.org NS" "www.sub.example.com A" \
	"example.net NS" > "$dir/warm.txt"
for port in 5699 5499; do
	for _ in 1 2 3; do dnsperf -s 127.0.0.1 -p $port -d "$dir/warm.txt" -n 1 > /dev/null 2>&1; done
done

# user and system CPU of a process, in clock ticks
cpu() { awk '{print $14, $15}' "/proc/$1/stat"; }
# gccpu FILE FROM: the CPU milliseconds of the collections gctrace logged
# in FILE after its line FROM (the sum of the five "ms cpu" figures)
gccpu() {
	tail -n +"$(($2 + 1))" "$1" | awk '/^gc [0-9]/ { split($0, p, "clock, "); split(p[2], c, " "); n = split(c[1], f, "[+/]"); for (i = 1; i <= n; i++) t += f[i] } END { print t + 0 }'
}
run() { # name port pid
	local t0 t1 answers gc0
	gc0=$(wc -l < "$dir/rootwalk.log")
	if [ "$SCENARIO" = cold ]; then
		python3 -c "
import random
with open('$dir/q.txt', 'w') as f:
    for i in range(400000): f.write('k%d-%d.wild.example.com A\n' % (random.randint(0, 1 << 30), i))
"
		t0=$(cpu "$3")
		dnsperf -s 127.0.0.1 -p "$2" -d "$dir/q.txt" -c 8 -q 100 -n 1 -l "$DUR" > "$dir/dnsperf.txt" 2>&1
	else
		t0=$(cpu "$3")
		dnsperf -s 127.0.0.1 -p "$2" -d "$dir/warm.txt" -c 8 -q 200 -Q "$RATE" -l "$DUR" -v > "$dir/dnsperf.txt" 2>&1
	fi
	t1=$(cpu "$3")
	answers=$(awk '/Queries completed/{print $3}' "$dir/dnsperf.txt")
	# clock ticks are 10 ms: CPU us per answer = ticks * 10000 / answers
	printf '%s qps=%s %s' "$1" "$(awk '/Queries per second/{print $4}' "$dir/dnsperf.txt")" \
		"$(python3 -c "u0, s0, u1, s1 = map(int, '$t0 $t1'.split()); n = $answers
print('cpu_us=%.1f user_us=%.1f sys_us=%.1f' % ((u1 + s1 - u0 - s0) * 1e4 / n, (u1 - u0) * 1e4 / n, (s1 - s0) * 1e4 / n))")"
	if [ "$1" = rootwalk ]; then
		# the garbage collector's share: rootwalk runs with GODEBUG=gctrace=1
		printf ' gc_us=%s' "$(python3 -c "print(round($(gccpu "$dir/rootwalk.log" "$gc0") * 1000 / $answers, 1))")"
	fi
	if [ "$SCENARIO" = paced ]; then
		# nearest-rank percentiles of the latencies dnsperf -v prints
		python3 - "$dir/dnsperf.txt" <<'PY'
import re, sys
lat = sorted(float(m.group(1)) * 1000 for m in (re.match(r'^> \S+ .* ([0-9.]+)$', l.strip()) for l in open(sys.argv[1])) if m)
n = len(lat)
print(" " + " ".join("%s=%.3f" % (k, lat[min(n - 1, int(n * q))]) for k, q in (("p50", .5), ("p90", .9), ("p99", .99))) if n else " none")
PY
	else
		echo
	fi
}
for _ in $(seq "$ROUNDS"); do
	for w in $WHO; do
		case $w in
		unbound) run unbound 5699 $ub ;;
		floor-netpoll) run floor-netpoll 5599 $fn ;;
		floor-epoll) run floor-epoll 5598 $fe ;;
		rootwalk) run rootwalk 5499 $rw ;;
		esac
	done
done | tee "$dir/results.txt"
python3 - "$dir/results.txt" <<'PY'
import collections, re, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    m = re.match(r'(\S+) qps=(\S+) cpu_us=(\S+) user_us=(\S+) sys_us=(\S+) ?(?:gc_us=(\S+))?(?: p50=(\S+) p90=(\S+) p99=(\S+))?', line)
    if m:
        runs[m.group(1)].append([float(x) if x is not None else -1 for x in m.groups()[1:]])
for name, v in runs.items():
    med = [statistics.median(r[i] for r in v) for i in range(len(v[0]))]
    line = f"{name:14s} median QPS {med[0]:8.0f}   CPU per answer {med[1]:6.1f} us (user {med[2]:.1f}, system {med[3]:.1f}"
    line += f", GC {med[4]:.1f})" if med[4] >= 0 else ")"
    if med[5] >= 0:
        line += f"   p50 {med[5]:.3f}  p90 {med[6]:.3f}  p99 {med[7]:.3f} ms"
    print(line + f"   ({len(v)} runs)")
PY
