#!/usr/bin/env bash
# Set-up of the benchmark's contenders (bench/README.md); idempotent and quick on reruns.
#  1. Debian packages that are missing (apt-get update only when one is missing):
#     redis-server, php8.2-redis, postgresql, php8.2-pgsql, php-symfony-lock (symfony/lock 5.4
#     on Debian 12), php-symfony-semaphore (symfony/semaphore 5.4, scenario 7),
#     python3-matplotlib (plots; bench/run.py runs under /usr/bin/python3).
#  2. redis-server on 127.0.0.1:6379 (no persistence), started when nothing answers there.
#  3. PostgreSQL 15 cluster "main" on 127.0.0.1:5432, started when down, with a role and a
#     database "kafka_lock_bench" (password "bench") for symfony's PostgreSqlStore.
# Runs as root (CI) or through sudo when available.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/packages.sh
. "$ROOT/scripts/packages.sh"
cd "$ROOT"

DEB_PACKAGES=(redis-server php8.2-redis postgresql php8.2-pgsql php-symfony-lock php-symfony-semaphore python3-matplotlib)
DB=kafka_lock_bench
REDIS_PORT=6379

log() { printf 'bench-setup: %s\n' "$*"; }

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"
  else sudo -u postgres "$@"
  fi
}

# ---- 1. Debian packages -------------------------------------------------------
install_missing_packages log "${DEB_PACKAGES[@]}"

# ---- 2. Redis -----------------------------------------------------------------------
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
if redis_up; then
  log "redis: answering on 127.0.0.1:$REDIS_PORT"
else
  mkdir -p "$ROOT/.run/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
    --dir "$ROOT/.run/redis" --logfile "$ROOT/.run/redis/redis.log" \
    --pidfile "$ROOT/.run/redis/redis.pid"
  for _ in $(seq 100); do redis_up && break; sleep 0.05; done
  redis_up || { echo "bench-setup: redis-server did not answer (log: .run/redis/redis.log)" >&2; exit 1; }
  log "redis: started on 127.0.0.1:$REDIS_PORT (no persistence; log .run/redis/redis.log)"
fi

# ---- 3. PostgreSQL ----------------------------------------------------------------
PG_VERSION="$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1}')"
PG_CLUSTER="$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $2}')"
if [ -z "$PG_VERSION" ]; then
  as_root pg_createcluster 15 main >/dev/null
  PG_VERSION=15 PG_CLUSTER=main
fi
pg_status="$(pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $4}')"
PG_PORT="$(pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $3}')"
if [ "$pg_status" = online ]; then
  log "postgresql: $PG_VERSION/$PG_CLUSTER online on port $PG_PORT"
else
  as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
  log "postgresql: started $PG_VERSION/$PG_CLUSTER on port $PG_PORT"
fi
role_exists="$(as_postgres psql -p "$PG_PORT" -tAc "SELECT 1 FROM pg_roles WHERE rolname='$DB'" 2>/dev/null || true)"
if [ "$role_exists" != 1 ]; then
  as_postgres psql -p "$PG_PORT" -qc "CREATE ROLE $DB LOGIN PASSWORD 'bench'" >/dev/null
fi
db_exists="$(as_postgres psql -p "$PG_PORT" -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" 2>/dev/null || true)"
if [ "$db_exists" != 1 ]; then
  as_postgres createdb -p "$PG_PORT" -O "$DB" "$DB"
fi
log "postgresql: role and database '$DB' ready (127.0.0.1:$PG_PORT)"
# bench/run.py reads the port from here (BENCH_PG_PORT overrides).
mkdir -p "$ROOT/.run"
echo "$PG_PORT" >"$ROOT/.run/pg_port"
