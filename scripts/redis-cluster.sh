#!/usr/bin/env bash
# redis-cluster.sh starts a throwaway 3-master Redis Cluster on loopback for
# the storage/redis tests, and prints its addresses, comma-separated:
#
#   export OAUTH2_TEST_REDIS_CLUSTER_ADDRS=$(bash scripts/redis-cluster.sh)
#   bash scripts/redis-cluster.sh stop
#
# It is idempotent: nodes already running are reused, and a cluster that is
# already formed (cluster_state:ok) is not created again. Nothing is saved to
# disk (no RDB, no AOF); node state lives in a temp dir under ${TMPDIR:-/tmp}.
#
# Environment:
#   REDIS_CLUSTER_PORTS  space- or comma-separated ports (default 7101 7102 7103)
#   REDIS_CLUSTER_DIR    working dir (default ${TMPDIR:-/tmp}/oauth2-redis-cluster)
#   REDIS_SERVER, REDIS_CLI  binaries (default redis-server, redis-cli)
set -euo pipefail

ports=${REDIS_CLUSTER_PORTS:-7101 7102 7103}
ports=${ports//,/ }
dir=${REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/oauth2-redis-cluster}
server=${REDIS_SERVER:-redis-server}
cli=${REDIS_CLI:-redis-cli}
host=127.0.0.1

log() { echo "redis-cluster: $*" >&2; }

running() { "$cli" -h "$host" -p "$1" ping >/dev/null 2>&1; }

cluster_ok() {
	"$cli" -h "$host" -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}

if [[ ${1:-start} == stop ]]; then
	for p in $ports; do
		if running "$p"; then
			"$cli" -h "$host" -p "$p" shutdown nosave >/dev/null 2>&1 || true
			log "stopped $host:$p"
		fi
		rm -rf -- "${dir:?}/$p"
	done
	rmdir -- "$dir" 2>/dev/null || true # other port sets may share it
	exit 0
fi
if [[ ${1:-start} != start ]]; then
	echo "usage: $0 [start|stop]" >&2
	exit 2
fi

mkdir -p "$dir"
addrs=()
for p in $ports; do
	addrs+=("$host:$p")
	if running "$p"; then
		continue
	fi
	mkdir -p "$dir/$p"
	"$server" --cluster-enabled yes --port "$p" --bind "$host" --daemonize yes \
		--save "" --appendonly no --dir "$dir/$p" \
		--cluster-config-file "nodes-$p.conf" --cluster-node-timeout 5000 \
		--logfile "$dir/$p/redis.log" --pidfile "$dir/$p/redis.pid" >&2
	for _ in $(seq 1 150); do
		running "$p" && break
		sleep 0.1
	done
	running "$p" || { log "node on port $p did not start; see $dir/$p/redis.log"; exit 1; }
done

first=${ports%% *}
if ! cluster_ok "$first"; then
	# Form the cluster only when no node knows of a peer yet; otherwise a
	# previous create is still converging and we just wait below.
	known=$("$cli" -h "$host" -p "$first" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')
	if [[ ${known:-1} -le 1 ]]; then
		"$cli" --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >&2
	fi
fi

for _ in $(seq 1 300); do
	ok=1
	for p in $ports; do
		cluster_ok "$p" || { ok=0; break; }
	done
	[[ $ok == 1 ]] && break
	sleep 0.1
done
[[ $ok == 1 ]] || { log "cluster did not reach cluster_state:ok"; exit 1; }

(IFS=,; echo "${addrs[*]}")
