#!/usr/bin/env bash
# Counts the instructions a Redis server executes per store operation, with
# valgrind's callgrind: unlike a timing, the count is the same from run to
# run whatever else the machine is doing, so two versions of a script can be
# compared on a noisy VM.
#
#   bash bench/redis-callgrind.sh [benchmark regexp] [iterations]
#
# The default is one refresh exchange (BenchmarkExchangeToken in
# storage/redis). It starts a throwaway redis-server under callgrind on port
# 6390 (CALLGRIND_REDIS_PORT; nothing is saved), runs the benchmark against it a fixed number of
# times, and prints the server's instructions per iteration, which include
# the untimed set-up (a new grant every 16 exchanges) and reading and
# answering each command. Needs valgrind and redis-server.
set -euo pipefail

bench=${1:-'ExchangeToken/Single/ExchangeToken'}
n=${2:-320}
port=${CALLGRIND_REDIS_PORT:-6390}
root=$(cd "$(dirname "$0")/.." && pwd)
# A server already on the port is someone else's: measuring it would count
# nothing (it is not under callgrind) and shutting it down would lose its
# data.
if redis-cli -p "$port" ping >/dev/null 2>&1; then
	echo "redis-callgrind.sh: port $port is in use; set CALLGRIND_REDIS_PORT to a free one" >&2
	exit 1
fi
work=$(mktemp -d)
started=
trap 'if [ -n "$started" ]; then redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; sleep 2; fi; rm -rf "$work"' EXIT

(cd "$root/storage/redis" && go test -c -o "$work/redis.test" .)

valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p.out" \
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$work/valgrind.log" 2>&1 &
started=1
for _ in $(seq 60); do
	redis-cli -p "$port" ping >/dev/null 2>&1 && break
	sleep 0.5
done
# The process callgrind runs in, which need not be the one started above.
vg=$(redis-cli -p "$port" info server | awk -F: '/^process_id:/ { print $2 }' | tr -d '\r')

count() {
	callgrind_control -z "$vg" >/dev/null 2>&1
	OAUTH2_TEST_REDIS_URL="redis://127.0.0.1:$port/0" OAUTH2_TEST_REDIS_CLUSTER_ADDRS='' \
		"$work/redis.test" -test.run '^$' -test.bench "$bench" -test.benchtime "${n}x" >/dev/null
	rm -f "$work"/cg."$vg".out.*
	callgrind_control -d "$vg" >/dev/null 2>&1
	sleep 1
	# shellcheck disable=SC2012 # the newest dump, named by callgrind
	f=$(ls -t "$work"/cg."$vg".out.* | head -1)
	awk -v n="$n" '/^summary:/ { printf "%d\n", $2 / n }' "$f"
}

count >/dev/null # warm: scripts loaded, connections open
echo "$bench: $(count) server instructions per iteration"
