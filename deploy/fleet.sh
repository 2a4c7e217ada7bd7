#!/usr/bin/env bash
# make fleet: the lab, Redis, three rootwalk instances sharing it, and
# dnsdist in front of them, all on loopback; prints where to point dig and
# runs until Ctrl-C (or SIGTERM), then stops everything it started.
#
# Every address can be changed from the environment (the defaults below);
# the integration tests run this script on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin/rootwalk}
LAB_PORT=${LAB_PORT:-10053}
FLEET_LISTEN=${FLEET_LISTEN:-127.0.0.1:5300}
FLEET_WEB=${FLEET_WEB:-127.0.0.1:8083}
FLEET_API_KEY=${FLEET_API_KEY:-rootwalk-fleet}
REDIS_PORT=${REDIS_PORT:-6390}
INSTANCES=${INSTANCES:-"127.0.0.1:5301/127.0.0.1:9161 127.0.0.1:5302/127.0.0.1:9162 127.0.0.1:5303/127.0.0.1:9163"}
SEED=${SEED:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}

find_program() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true; }
REDIS=$(find_program redis-server)
DNSDIST=$(find_program dnsdist)
if [ -z "$REDIS" ] || [ -z "$DNSDIST" ]; then
	echo "make fleet needs redis-server and dnsdist; on Debian, as root:" >&2
	echo "  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d" >&2
	echo "  apt-get install -y --no-install-recommends redis-server dnsdist; rm /usr/sbin/policy-rc.d" >&2
	echo "(policy-rc.d keeps the packages' own services from starting)" >&2
	exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/rootwalk-fleet.XXXXXX")
pids=()
stop() {
	trap - EXIT INT TERM
	echo "stopping the fleet"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$dir"
}
trap stop EXIT
trap 'exit 0' INT TERM

# wait_for FILE TEXT: until FILE has a line with TEXT, for 60 s at most.
wait_for() {
	for _ in $(seq 600); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no '$2' in $1 after 60 s:" >&2
	cat "$1" >&2
	exit 1
}

"$BIN" lab --lab-port "$LAB_PORT" --anchor-out "$dir/lab.anchor" >"$dir/lab.root" 2>"$dir/lab.log" &
pids+=($!)
wait_for "$dir/lab.root" "ROOT-SERVERS\|root-servers\|NS"
wait_for "$dir/lab.anchor" "DS"

"$REDIS" --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >"$dir/redis.log" 2>&1 &
pids+=($!)
wait_for "$dir/redis.log" "Ready to accept connections"

backends=()
n=0
for pair in $INSTANCES; do
	n=$((n + 1))
	listen=${pair%/*} admin=${pair#*/}
	"$BIN" serve --root-hints "$dir/lab.root" --upstream-port "$LAB_PORT" --dnssec-trust-anchor "$dir/lab.anchor" \
		--server-identity "rw$n" --listen "$listen" --admin-listen "$admin" \
		--cache-redis-addr "127.0.0.1:$REDIS_PORT" --cache-redis-seed "$SEED" >"$dir/rw$n.log" 2>&1 &
	pids+=($!)
	backends+=("$listen")
done
for i in $(seq "$n"); do wait_for "$dir/rw$i.log" "roots primed"; done

FLEET_LISTEN=$FLEET_LISTEN FLEET_WEB=$FLEET_WEB FLEET_API_KEY=$FLEET_API_KEY \
	FLEET_BACKENDS=$(IFS=,; echo "${backends[*]}") \
	"$DNSDIST" --supervised --disable-syslog -C deploy/dnsdist.conf >"$dir/dnsdist.log" 2>&1 &
pids+=($!)
for i in $(seq "$n"); do wait_for "$dir/dnsdist.log" "rootwalk$i (.*) as 'up'"; done

host=${FLEET_LISTEN%:*} port=${FLEET_LISTEN##*:}
first_admin=$(echo "$INSTANCES" | cut -d' ' -f1 | cut -d/ -f2)
cat <<INFO
fleet ready: dnsdist (chashed) in front of $n rootwalk instances sharing Redis, against the lab

  dig @$host -p $port www.example.com
  dig @$host -p $port id.server CH TXT        # which instance answered

instances (DNS / admin API): $INSTANCES
  curl -s http://$first_admin/stats            # each instance's /stats has a "redis" section
  curl -s -X POST -H 'X-Rootwalk-Console: 1' 'http://$first_admin/cache/flush?name=example.com&subtree=1'   # flushes the whole fleet
dnsdist API:  curl -s -H 'X-API-Key: $FLEET_API_KEY' http://$FLEET_WEB/api/v1/servers/localhost
redis:        redis-cli -p $REDIS_PORT
logs:         $dir
Ctrl-C stops everything.
INFO
wait -n "${pids[@]}" || true
echo "a part of the fleet exited; the last lines of each log:" >&2
tail -n 20 "$dir"/*.log >&2
exit 1
