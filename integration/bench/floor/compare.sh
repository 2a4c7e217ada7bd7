#!/bin/bash
# compare.sh: the CPU per cold answer of Unbound, of the floor forwarder in
# both modes and of rootwalk, on the same lab and under the same dnsperf
# load, runs alternating. Run from the repository's root, as root (the lab
# takes port 53, since Unbound's glue carries no port):
#
#   integration/bench/floor/compare.sh        # ROUNDS=3 DUR=5 by default
#
# Every name asked is new (*.wild.example.com), so each answer takes one
# upstream exchange with the example.com authority. Needs dnsperf, dig
# and unbound. Only loopback addresses are used.
set -eu
DUR=${DUR:-5}
ROUNDS=${ROUNDS:-3}
WHO=${WHO:-unbound floor-netpoll floor-epoll rootwalk}
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
go build -o "$dir/rootwalk" ./cmd/rootwalk
go build -o "$dir/floor" ./integration/bench/floor

"$dir/rootwalk" lab --lab-port 53 > "$dir/lab.root" 2> "$dir/lab.err" & pids+=($!)
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
GOMAXPROCS=2 "$dir/floor" -listen 127.0.0.1:5599 -upstream 127.53.2.1:53 -mode netpoll -threads 2 > /dev/null & fn=$!; pids+=($fn)
GOMAXPROCS=2 "$dir/floor" -listen 127.0.0.1:5598 -upstream 127.53.2.1:53 -mode epoll -threads 2 > /dev/null & fe=$!; pids+=($fe)
GOMAXPROCS=2 "$dir/rootwalk" serve --root-hints "$dir/lab.root" --upstream-port 53 --listen 127.0.0.1:5499 \
	--admin-listen "" --upstream-max-qps-per-server 0 --log-level warn --ratelimit-qps 0 --ipv6=false \
	--cache-size 4000000 --cache-memory 1536MiB > "$dir/rootwalk.log" 2>&1 & rw=$!; pids+=($rw)
sleep 2
for port in 5699 5599 5598 5499; do
	dig +short +tries=3 @127.0.0.1 -p $port k0.wild.example.com A > /dev/null
done

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # name port pid
	python3 -c "
import random
with open('$dir/q.txt', 'w') as f:
    for i in range(400000): f.write('k%d-%d.wild.example.com A\n' % (random.randint(0, 1 << 30), i))
"
	local t0 t1 qps
	t0=$(cpu "$3")
	dnsperf -s 127.0.0.1 -p "$2" -d "$dir/q.txt" -c 8 -q 100 -n 1 -l "$DUR" > "$dir/dnsperf.txt" 2>&1
	t1=$(cpu "$3")
	qps=$(awk '/Queries per second/{print $4}' "$dir/dnsperf.txt")
	# clock ticks are 10 ms: CPU us per answer = ticks * 10000 / answers
	echo "$1 qps=$qps cpu_us=$(python3 -c "print(round(($t1 - $t0) * 10000 / ($qps * $DUR), 1))")"
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
    m = re.match(r'(\S+) qps=(\S+) cpu_us=(\S+)', line)
    if m:
        runs[m.group(1)].append((float(m.group(2)), float(m.group(3))))
for name, v in runs.items():
    print(f"{name:14s} median QPS {statistics.median(q for q, _ in v):8.0f}   median CPU per answer {statistics.median(c for _, c in v):6.1f} us   ({len(v)} runs)")
PY
