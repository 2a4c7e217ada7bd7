#!/bin/sh
# need.sh PROGRAM:PACKAGE...: installs, with apt-get, the Debian package of
# each PROGRAM not found in PATH or /usr/sbin. A policy-rc.d that refuses
# keeps daemon packages (unbound, redis-server, dnsdist) from starting
# their services; the benchmarks start what they need themselves.
set -eu
missing=""
for pair in "$@"; do
	prog=${pair%%:*} pkg=${pair#*:}
	command -v "$prog" >/dev/null 2>&1 || [ -x "/usr/sbin/$prog" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "installing$missing"
policy=/usr/sbin/policy-rc.d saved=""
if [ -e $policy ]; then saved=$(mktemp) && cp -p $policy "$saved"; fi
restore() { if [ -n "$saved" ]; then mv "$saved" $policy; else rm -f $policy; fi; }
trap 'restore' EXIT
trap 'exit 130' INT TERM
printf '#!/bin/sh\n# a benchmark: start no service while packages install\nexit 101\n' > $policy
chmod 755 $policy
apt-get update -q
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
