#!/usr/bin/env bash
# Local Apache Kafka (KRaft) for development and CI, from the jars that
# scripts/setup.sh put in .cache/kafka/libs.
#
#   scripts/kafka.sh start | stop            one node (broker+controller) on localhost:9092
#   scripts/kafka.sh cluster-start | cluster-stop
#                                            three nodes on localhost:19092/29092/39092
#   scripts/kafka.sh node-stop N | node-start N | node-kill N
#                                            one cluster node (N = 1..3); kill = SIGKILL
#   scripts/kafka.sh status
#
# Data and logs: .run/kafka/ (single node), .run/cluster/nodeN/ (cluster); each node's
# broker log is server.log there. Environment:
#   KAFKA_HEAP_OPTS   default "-Xms128m -Xmx256m"
#   KAFKA_JVM_OPTS    default "-XX:+UseSerialGC -XX:-UsePerfData -Xss512k -XX:+ExitOnOutOfMemoryError"
#                     (C1-only, -XX:TieredStopAtLevel=1, starts ~0.2 s faster but makes
#                     the broker slower once warm, so it is not the default)
#   KAFKA_READY_TIMEOUT  seconds to wait for readiness (default 60)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIBS="$ROOT/.cache/kafka/libs"
RUN="$ROOT/.run"
SINGLE_DIR="$RUN/kafka"
CLUSTER_DIR="$RUN/cluster"
TEMPLATE="$ROOT/kafka/server.properties.in"
LOG4J="$ROOT/kafka/log4j2.properties"
READY="$ROOT/scripts/kafka_ready.py"

KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx256m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:-UsePerfData -Xss512k -XX:+ExitOnOutOfMemoryError}"
READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-60}"
STOP_TIMEOUT=30

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

need_libs() {
  ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1 \
    || die "no Kafka jars in $LIBS: run scripts/setup.sh (make setup) first"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# A Kafka cluster id, made like Kafka's Uuid.randomUuid() (never one starting with '-'), by the
# generator chaos/brokers.py uses and chaos/selftest.py tests.
new_cluster_id() { python3 "$ROOT/chaos/brokers.py" cluster-id; }

# render DIR NODE_ID BROKER_PORT CONTROLLER_PORT VOTERS RF MIN_ISR
render() {
  local dir=$1
  mkdir -p "$dir/data" "$dir/logs"
  sed -e "s|@NODE_ID@|$2|g" -e "s|@BROKER_PORT@|$3|g" -e "s|@CONTROLLER_PORT@|$4|g" \
      -e "s|@VOTERS@|$5|g" -e "s|@RF@|$6|g" -e "s|@MIN_ISR@|$7|g" \
      -e "s|@LOG_DIR@|$dir/data|g" "$TEMPLATE" >"$dir/server.properties.new"
  mv "$dir/server.properties.new" "$dir/server.properties"
}

java_cmd() { # DIR
  local dir=$1
  # shellcheck disable=SC2086 # the option strings are word lists on purpose
  echo java $KAFKA_HEAP_OPTS $KAFKA_JVM_OPTS -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$LOG4J" "-Dkafka.logs.dir=$dir/logs"
}

# format DIR CLUSTER_ID: formats the node's storage once (static voters: no quorum flag).
# --cluster-id=ID, not -t ID: an id that starts with '-' (one in 64 of the ids written before
# the generator avoided them) is then still taken as the option's value.
format() {
  local dir=$1 cid=$2
  [ -f "$dir/data/meta.properties" ] && return 0
  $(java_cmd "$dir") -cp "$LIBS/*" kafka.tools.StorageTool format \
    "--cluster-id=$cid" -c "$dir/server.properties" >"$dir/logs/format.log" 2>&1 \
    || { cat "$dir/logs/format.log" >&2; die "formatting $dir failed"; }
}

pid_of() { # DIR -> pid of the node's java process if it is alive, else nothing
  local dir=$1 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  # Alive, and really our broker for this folder (not a reused pid).
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] \
     && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$dir/server.properties"; then
    echo "$pid"
  fi
}

port_answers() { # PORT: something accepts TCP connections on localhost:PORT
  python3 -c 'import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(0 if s.connect_ex(("localhost", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# ready DIR PORT NODE_ID MIN_BROKERS TIMEOUT [--quiet]
ready() {
  local dir=$1 port=$2 node=$3 minb=$4 timeout=$5; shift 5
  local pidarg=()
  local pid; pid=$(pid_of "$dir")
  [ -n "$pid" ] && pidarg=(--pid "$pid")
  python3 "$READY" --timeout "$timeout" --min-brokers "$minb" --node-id "$node" \
    --log "$dir/logs/server.log" --log "$dir/logs/stdout.log" "${pidarg[@]}" "$@" "localhost:$port"
}

# launch DIR PORT CONTROLLER_PORT: start the node's JVM in the background (no wait).
launch() {
  local dir=$1 port=$2 cport=$3 p
  for p in "$port" "$cport"; do
    port_answers "$p" && die "port $p is in use by another process (not the broker in $dir)"
  done
  rm -f "$dir/pid"
  # Keep the previous run's logs once (handy after a crash); start fresh ones.
  for p in server.log stdout.log; do
    [ -f "$dir/logs/$p" ] && mv -f "$dir/logs/$p" "$dir/logs/$p.prev"
  done
  # New session: the broker outlives this script and make; it ignores the caller's Ctrl-C.
  # shellcheck disable=SC2046
  setsid $(java_cmd "$dir") -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/logs/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
}

# stop_dir DIR NAME [SIGNAL]: SIGTERM (or SIGNAL), wait, then SIGKILL. No-op if not running.
stop_dir() {
  local dir=$1 name=$2 sig=${3:-TERM} pid i
  pid=$(pid_of "$dir")
  if [ -z "$pid" ]; then
    say "$name is not running"
    rm -f "$dir/pid"
    return 0
  fi
  local t0; t0=$(now)
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  if [ -d "/proc/$pid" ]; then
    say "$name (pid $pid) still running after ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while [ -d "/proc/$pid" ]; do sleep 0.1; done
  fi
  rm -f "$dir/pid"
  say "$name stopped (pid $pid, SIG$sig, $(elapsed "$t0") s)"
}

# ---- single node -------------------------------------------------------------------
single_start() {
  need_libs
  local dir=$SINGLE_DIR t0
  if [ -n "$(pid_of "$dir")" ]; then
    if ready "$dir" 9092 1 1 "$READY_TIMEOUT" --quiet; then
      say "already running (pid $(cat "$dir/pid")) and ready on localhost:9092"
      return 0
    fi
    die "running (pid $(cat "$dir/pid")) but not ready; see $dir/logs/server.log"
  fi
  t0=$(now)
  render "$dir" 1 9092 9093 "1@localhost:9093" 1 1
  [ -f "$dir/cluster.id" ] || new_cluster_id >"$dir/cluster.id"
  format "$dir" "$(cat "$dir/cluster.id")"
  launch "$dir" 9092 9093
  if ! ready "$dir" 9092 1 1 "$READY_TIMEOUT"; then
    stop_dir "$dir" "broker" KILL
    die "broker did not become ready (logs: $dir/logs/)"
  fi
  say "started single node (pid $(cat "$dir/pid")) on localhost:9092 in $(elapsed "$t0") s"
}

single_stop() { stop_dir "$SINGLE_DIR" "broker (localhost:9092)"; }

# ---- three-node cluster ------------------------------------------------------------
VOTERS="1@localhost:19093,2@localhost:29093,3@localhost:39093"
node_dir() { echo "$CLUSTER_DIR/node$1"; }
node_port() { echo "${1}9092"; }
check_n() { [[ "${1:-}" =~ ^[123]$ ]] || die "node number must be 1, 2 or 3 (got '${1:-}')"; }

cluster_prepare() { # render + format all three nodes (formats in parallel)
  local n pids=()
  mkdir -p "$CLUSTER_DIR"
  [ -f "$CLUSTER_DIR/cluster.id" ] || new_cluster_id >"$CLUSTER_DIR/cluster.id"
  for n in 1 2 3; do
    render "$(node_dir $n)" "$n" "${n}9092" "${n}9093" "$VOTERS" 3 2
  done
  for n in 1 2 3; do
    format "$(node_dir $n)" "$(cat "$CLUSTER_DIR/cluster.id")" &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || die "formatting the cluster failed"; done
}

cluster_start() {
  need_libs
  local n t0 started=0
  t0=$(now)
  cluster_prepare
  for n in 1 2 3; do
    if [ -z "$(pid_of "$(node_dir $n)")" ]; then
      launch "$(node_dir $n)" "${n}9092" "${n}9093"
      started=$((started + 1))
    fi
  done
  for n in 1 2 3; do
    if ! ready "$(node_dir $n)" "${n}9092" "$n" 3 "$READY_TIMEOUT" --quiet; then
      cluster_stop
      die "cluster node $n did not become ready (logs: $(node_dir $n)/logs/)"
    fi
  done
  if [ "$started" -eq 0 ]; then
    say "cluster already running and ready (localhost:19092,29092,39092)"
  else
    say "started $started cluster node(s); all 3 ready on localhost:19092,29092,39092 in $(elapsed "$t0") s"
  fi
}

cluster_stop() {
  local n pids=()
  # Stop all three at once: a controller quorum that loses its majority makes a
  # one-by-one shutdown of the last nodes slow.
  for n in 1 2 3; do
    stop_dir "$(node_dir $n)" "cluster node $n (localhost:${n}9092)" &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || true; done
}

node_start() {
  check_n "${1:-}"; need_libs
  local n=$1 dir t0
  dir=$(node_dir "$n")
  if [ -n "$(pid_of "$dir")" ]; then
    say "cluster node $n already running (pid $(cat "$dir/pid"))"
    ready "$dir" "${n}9092" "$n" 1 "$READY_TIMEOUT" --quiet || die "node $n is running but not ready"
    return 0
  fi
  [ -f "$dir/data/meta.properties" ] || die "cluster not formatted: run cluster-start first"
  t0=$(now)
  launch "$dir" "${n}9092" "${n}9093"
  ready "$dir" "${n}9092" "$n" 1 "$READY_TIMEOUT" || die "cluster node $n did not become ready"
  say "started cluster node $n (pid $(cat "$dir/pid")) on localhost:${n}9092 in $(elapsed "$t0") s"
}

node_stop() { check_n "${1:-}"; stop_dir "$(node_dir "$1")" "cluster node $1 (localhost:${1}9092)"; }
node_kill() { check_n "${1:-}"; stop_dir "$(node_dir "$1")" "cluster node $1 (localhost:${1}9092)" KILL; }

status_line() { # DIR NAME PORT NODE_ID
  local dir=$1 name=$2 port=$3 node=$4 pid state
  pid=$(pid_of "$dir")
  if [ -z "$pid" ]; then
    state="stopped"
  elif ready "$dir" "$port" "$node" 1 0 --quiet 2>/dev/null; then
    state="running (pid $pid), ready"
  else
    state="running (pid $pid), NOT ready"
  fi
  printf '%-16s localhost:%-6s %s\n' "$name" "$port" "$state"
}

status() {
  status_line "$SINGLE_DIR" "single node" 9092 1
  local n
  for n in 1 2 3; do status_line "$(node_dir $n)" "cluster node $n" "${n}9092" "$n"; done
}

usage() {
  sed -n '2,/^set -e/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'
  exit 2
}

cmd=${1:-}
shift || true
case "$cmd" in
  start) single_start ;;
  stop) single_stop ;;
  cluster-start) cluster_start ;;
  cluster-stop) cluster_stop ;;
  node-start) node_start "${1:-}" ;;
  node-stop) node_stop "${1:-}" ;;
  node-kill) node_kill "${1:-}" ;;
  status) status ;;
  *) usage ;;
esac
