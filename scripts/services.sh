#!/usr/bin/env bash
# Makes sure the services the tests talk to exist and run: PostgreSQL on
# 127.0.0.1:5432 (database "test"), Redis on 127.0.0.1:6379 and a 3-master
# Redis Cluster on loopback ports. Installs them from Debian's packages when
# absent. Prints the environment to export (eval "$(bash scripts/services.sh)").
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "services: $*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then log "need root to install $*"; return 1; fi
  if [ -z "${APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

wait_for() { # wait_for <seconds> <command...>
  local n=$(( $1 * 10 )); shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# --- PostgreSQL -------------------------------------------------------------
PGURL="postgres://postgres:postgres@127.0.0.1:5432/test?sslmode=disable"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing PostgreSQL"
    apt_install postgresql postgresql-client
  fi
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >&2 || true
  wait_for 30 pg_isready -q -h 127.0.0.1 -p 5432 || { log "PostgreSQL did not start"; exit 1; }
fi
# Trust auth or a known password, whichever the server has.
if ! psql "$PGURL" -qAtc 'select 1' >/dev/null 2>&1; then
  su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >&2 || true
  su postgres -c "psql -qAtc \"select 1 from pg_database where datname='test'\"" | grep -q 1 ||
    su postgres -c "createdb test" >&2
fi
psql "$PGURL" -qAtc 'select 1' >/dev/null || { log "cannot reach PostgreSQL database test"; exit 1; }

# --- Redis ------------------------------------------------------------------
if ! command -v redis-server >/dev/null; then
  log "installing Redis"
  apt_install redis-server redis-tools
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "${TMPDIR:-/tmp}" --logfile "${TMPDIR:-/tmp}/redis-6379.log" >&2
  wait_for 30 sh -c 'redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG' || { log "Redis did not start"; exit 1; }
fi

CLUSTER=""
if [ -f scripts/redis-cluster.sh ]; then
  CLUSTER=$(bash scripts/redis-cluster.sh | tail -n1)
fi

echo "export OAUTH2_TEST_POSTGRES_URL='$PGURL'"
echo "export OAUTH2_TEST_REDIS_URL='redis://127.0.0.1:6379/0'"
[ -n "$CLUSTER" ] && echo "export OAUTH2_TEST_REDIS_CLUSTER_ADDRS='$CLUSTER'"
exit 0
