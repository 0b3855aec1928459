#!/usr/bin/env bash
# Local Apache Kafka (KRaft) for development and CI, from the jars that
# scripts/setup.sh put in .cache/kafka/libs.
#
#   scripts/kafka.sh start | stop            one node (broker+controller) on localhost:9092
#   scripts/kafka.sh cluster-start | cluster-stop
#                                            three nodes on localhost:19092/29092/39092
#   scripts/kafka.sh node-stop N | node-start N | node-kill N
#                                            one cluster node (N = 1..3); kill = SIGKILL
#   scripts/kafka.sh secure-start | secure-stop
#                                            one node with TLS, SASL and ACLs: SASL_SSL on
#                                            localhost:9292 (SCRAM-SHA-512, PLAIN), mTLS on 9293
#   scripts/kafka.sh status
#
# Data and logs: .run/kafka/ (single node), .run/cluster/nodeN/ (cluster), .run/kafka-secure/
# (secure node; its certificates in tls/ and what a client needs in clients.json); each node's
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
SECURE_DIR="$RUN/kafka-secure"
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

# format DIR CLUSTER_ID [STORAGE_TOOL_ARG...]: formats the node's storage once (static voters:
# no quorum flag). --cluster-id=ID, not -t ID: an id that starts with '-' (one in 64 of the ids
# written before the generator avoided them) is then still taken as the option's value.
format() {
  local dir=$1 cid=$2; shift 2
  [ -f "$dir/data/meta.properties" ] && return 0
  $(java_cmd "$dir") -cp "$LIBS/*" kafka.tools.StorageTool format \
    "--cluster-id=$cid" -c "$dir/server.properties" "$@" >"$dir/logs/format.log" 2>&1 \
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

# launch DIR PORT...: start the node's JVM in the background (no wait); PORTs are the node's
# listeners, which must be free.
launch() {
  local dir=$1 p; shift
  for p in "$@"; do
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

# ---- secure node: TLS, SASL and ACLs (kafka/secure.properties.in) ------------------
SECURE_SASL_PORT=9292        # SASL_SSL: SCRAM-SHA-512 or PLAIN
SECURE_MTLS_PORT=9293        # SSL with a client certificate required
SECURE_CONTROLLER_PORT=9294
SECURE_TEMPLATE="$ROOT/kafka/secure.properties.in"
SECURE_TLS="$SECURE_DIR/tls"
# Principals. Each is a SCRAM-SHA-512 user, a PLAIN user (password "<name>-secret") and a client
# certificate (CN=<name>): the same principal User:<name> whichever way it logs in. What each may
# do (each SECURE_ACLS line is passed to Kafka's AclCommand --add), on topics whose name starts
# with "lock":
#   locker      Read, Write, Describe, DescribeConfigs, Create, IdempotentWrite on the cluster,
#               Describe on the group kafka_lock-unused: all the extension uses (creating a
#               missing topic, checking its configuration, producing idempotently, reading back;
#               its consumer looks up the coordinator of a group it never joins)
#   noidem      the topic rights of locker, no IdempotentWrite (since Kafka 3.0, Write on a topic
#               is enough for an idempotent producer: KIP-679)
#   nocreate    locker without Create: locks on an existing topic, cannot create one
#   reader      Read, Describe, DescribeConfigs: may look at the topic, not write a lock record
#   idemreader  reader plus IdempotentWrite: its producer starts, its records are refused
#   writeonly   locker without Read: writes its records, cannot read them back
#   nobody      no ACL at all
SECURE_USERS=(locker noidem nocreate reader idemreader writeonly nobody)
SECURE_ACLS=(
  "--allow-principal User:locker --allow-principal User:noidem --allow-principal User:nocreate --operation Read --operation Write --operation Describe --operation DescribeConfigs --topic lock --resource-pattern-type prefixed"
  "--allow-principal User:locker --allow-principal User:noidem --allow-principal User:writeonly --operation Create --topic lock --resource-pattern-type prefixed"
  "--allow-principal User:reader --allow-principal User:idemreader --operation Read --operation Describe --operation DescribeConfigs --topic lock --resource-pattern-type prefixed"
  "--allow-principal User:writeonly --operation Write --operation Describe --operation DescribeConfigs --topic lock --resource-pattern-type prefixed"
  "--allow-principal User:locker --allow-principal User:nocreate --allow-principal User:idemreader --allow-principal User:writeonly --operation IdempotentWrite --cluster"
  "--allow-principal User:locker --operation Describe --group kafka_lock-unused"
)
# The topic an admin made beforehand, as managed services have it (auto-creation is off).
SECURE_TOPIC=locks

# tls_key NAME: a P-256 key in NAME.key (unencrypted PKCS#8 PEM, which Java and librdkafka read).
tls_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }

# tls_ca NAME CN: a self-signed CA in NAME.pem.
tls_ca() {
  tls_key "$1"
  openssl req -x509 -new -sha256 -days 3650 -key "$1.key" -subj "/CN=$2" -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

# tls_cert CA NAME CN: a certificate for localhost with subject CN in NAME.pem, signed by CA,
# good for servers and clients, and NAME.keystore.pem (key + certificate) for Java.
tls_cert() {
  local ca=$1 name=$2 cn=$3
  tls_key "$name"
  openssl req -new -sha256 -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
    "extendedKeyUsage=serverAuth,clientAuth" >"$name.ext"
  openssl x509 -req -sha256 -days 3650 -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -extfile "$name.ext" -out "$name.pem"
  cat "$name.key" "$name.pem" >"$name.keystore.pem"
  rm -f "$name.csr" "$name.ext"
}

# secure_tls: the CA, the broker's certificate, one per principal and the admin's; and a second,
# untrusted CA with a certificate for CN=locker (a client the broker must refuse). Made once.
secure_tls() {
  [ -f "$SECURE_TLS/complete" ] && return 0
  rm -rf "$SECURE_TLS"
  mkdir -p "$SECURE_TLS"
  (
    cd "$SECURE_TLS"
    tls_ca ca "kafka_lock test CA"
    tls_cert ca broker broker
    tls_cert ca admin admin
    local name
    for name in "${SECURE_USERS[@]}"; do tls_cert ca "$name" "$name"; done
    tls_ca untrusted-ca "kafka_lock untrusted CA"
    tls_cert untrusted-ca untrusted-locker locker
  ) >"$SECURE_DIR/logs/openssl.log" 2>&1 || { cat "$SECURE_DIR/logs/openssl.log" >&2; die "making the certificates failed"; }
  touch "$SECURE_TLS/complete"
}

secure_render() {
  local dir=$SECURE_DIR plain="" u
  render "$dir" 1 "$SECURE_SASL_PORT" "$SECURE_CONTROLLER_PORT" "1@localhost:$SECURE_CONTROLLER_PORT" 1 1
  for u in "${SECURE_USERS[@]}"; do plain+=" user_$u=\"$u-secret\""; done
  sed -e "s|@SASL_PORT@|$SECURE_SASL_PORT|g" -e "s|@MTLS_PORT@|$SECURE_MTLS_PORT|g" \
      -e "s|@CONTROLLER_PORT@|$SECURE_CONTROLLER_PORT|g" -e "s|@TLS_DIR@|$SECURE_TLS|g" \
      -e "s|@PLAIN_USERS@|${plain# }|g" "$SECURE_TEMPLATE" >>"$dir/server.properties"
  # The admin's client settings for Kafka's tools (mTLS, super user).
  printf '%s\n' "security.protocol=SSL" "ssl.truststore.type=PEM" \
    "ssl.truststore.location=$SECURE_TLS/ca.pem" "ssl.keystore.type=PEM" \
    "ssl.keystore.location=$SECURE_TLS/admin.keystore.pem" >"$dir/admin.properties"
  # What the tests (php-tests/helpers/secure_lib.php) need to connect.
  {
    printf '{\n  "sasl_ssl": "localhost:%s",\n  "mtls": "localhost:%s",\n' "$SECURE_SASL_PORT" "$SECURE_MTLS_PORT"
    printf '  "tls": "%s",\n  "topic": "%s",\n  "users": [' "$SECURE_TLS" "$SECURE_TOPIC"
    local sep=""
    for u in "${SECURE_USERS[@]}"; do printf '%s"%s"' "$sep" "$u"; sep=", "; done
    printf ']\n}\n'
  } >"$dir/clients.json"
}

secure_ready() { # TIMEOUT [--quiet]: a Metadata request over mTLS, as the admin
  ready "$SECURE_DIR" "$SECURE_MTLS_PORT" 1 1 "$@" --tls-ca "$SECURE_TLS/ca.pem" \
    --tls-cert "$SECURE_TLS/admin.pem" --tls-key "$SECURE_TLS/admin.key"
}

# kafka_tool CLASS ARG...: one of Kafka's admin tools, as the admin, against the mTLS listener.
# C1 only: a tool's JVM then starts in about half the time (1.2 s instead of 2.2 s here).
kafka_tool() {
  local logs="$SECURE_DIR/admin" class=$1; shift
  mkdir -p "$logs/logs"
  $(java_cmd "$logs") -XX:TieredStopAtLevel=1 -cp "$LIBS/*" "$class" --bootstrap-server "localhost:$SECURE_MTLS_PORT" \
    --command-config "$SECURE_DIR/admin.properties" "$@"
}

# secure_spec: a hash of everything the node is made from; a node made from other users, ACLs or
# settings is made anew (it is a test broker: its data has no value).
secure_spec() {
  { printf '%s\n' "${SECURE_USERS[@]}" "${SECURE_ACLS[@]}" "$SECURE_TOPIC"; cat "$SECURE_TEMPLATE"; } \
    | sha256sum | cut -d' ' -f1
}

# secure_provision: the ACLs and the admin's topic (they live in the metadata log, so once per
# formatted storage). The tools run in parallel: each is a JVM start.
secure_provision() {
  local line pids=() failed=0 p i=0
  for line in "${SECURE_ACLS[@]}"; do
    # shellcheck disable=SC2086 # each line is a list of AclCommand arguments
    kafka_tool org.apache.kafka.tools.AclCommand --add $line >"$SECURE_DIR/logs/acl-$i.log" 2>&1 &
    pids+=($!); i=$((i + 1))
  done
  kafka_tool org.apache.kafka.tools.TopicCommand --create --if-not-exists --topic "$SECURE_TOPIC" \
    --partitions 1 --replication-factor 1 --config message.timestamp.type=LogAppendTime \
    >"$SECURE_DIR/logs/topic.log" 2>&1 &
  pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  if [ "$failed" -ne 0 ]; then
    tail -n 20 "$SECURE_DIR"/logs/acl-*.log "$SECURE_DIR/logs/topic.log" >&2
    die "creating the ACLs or topic '$SECURE_TOPIC' failed"
  fi
}

secure_start() {
  need_libs
  command -v openssl >/dev/null || die "openssl is missing: run scripts/setup.sh (make setup)"
  local dir=$SECURE_DIR t0 u scram=() spec
  spec=$(secure_spec)
  if [ "$(cat "$dir/spec" 2>/dev/null)" != "$spec" ]; then
    if [ -n "$(pid_of "$dir")" ]; then
      say "secure node: made from other users, ACLs or settings: making it anew"
      secure_stop
    fi
    rm -rf "$dir/data" "$SECURE_TLS" "$dir/spec"
  fi
  if [ -n "$(pid_of "$dir")" ]; then
    secure_ready "$READY_TIMEOUT" --quiet \
      || die "secure node running (pid $(cat "$dir/pid")) but not ready; see $dir/logs/server.log"
    say "secure node already running (pid $(cat "$dir/pid")) and ready on localhost:$SECURE_SASL_PORT (SASL_SSL), localhost:$SECURE_MTLS_PORT (mTLS)"
    return 0
  fi
  t0=$(now)
  mkdir -p "$dir/logs"
  secure_tls
  secure_render
  [ -f "$dir/cluster.id" ] || new_cluster_id >"$dir/cluster.id"
  # SCRAM credentials go into the metadata log when the storage is formatted.
  for u in "${SECURE_USERS[@]}"; do scram+=(--add-scram "SCRAM-SHA-512=[name=$u,password=$u-secret]"); done
  format "$dir" "$(cat "$dir/cluster.id")" "${scram[@]}"
  launch "$dir" "$SECURE_SASL_PORT" "$SECURE_MTLS_PORT" "$SECURE_CONTROLLER_PORT"
  if ! secure_ready "$READY_TIMEOUT"; then
    stop_dir "$dir" "secure node" KILL
    die "secure node did not become ready (logs: $dir/logs/)"
  fi
  say "secure node ready in $(elapsed "$t0") s"
  if [ ! -f "$dir/spec" ]; then
    secure_provision
    echo "$spec" >"$dir/spec"
    say "secure node: ${#SECURE_ACLS[@]} ACL sets and topic '$SECURE_TOPIC' created"
  fi
  say "started secure node (pid $(cat "$dir/pid")) on localhost:$SECURE_SASL_PORT (SASL_SSL), localhost:$SECURE_MTLS_PORT (mTLS) in $(elapsed "$t0") s"
}

secure_stop() { stop_dir "$SECURE_DIR" "secure node (localhost:$SECURE_SASL_PORT,$SECURE_MTLS_PORT)"; }

status_line() { # DIR NAME PORT NODE_ID [READY_ARG...]
  local dir=$1 name=$2 port=$3 node=$4 pid state
  shift 4
  pid=$(pid_of "$dir")
  if [ -z "$pid" ]; then
    state="stopped"
  elif ready "$dir" "$port" "$node" 1 0 --quiet "$@" 2>/dev/null; then
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
  status_line "$SECURE_DIR" "secure node" "$SECURE_MTLS_PORT" 1 --tls-ca "$SECURE_TLS/ca.pem" \
    --tls-cert "$SECURE_TLS/admin.pem" --tls-key "$SECURE_TLS/admin.key"
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
  secure-start) secure_start ;;
  secure-stop) secure_stop ;;
  status) status ;;
  *) usage ;;
esac
