#!/usr/bin/env bash
# An example PostgreSQL cluster with automatic failover, all on this machine: one etcd, three
# PostgreSQL 15 nodes managed by Patroni (synchronous replication), and HAProxy routing to the
# current primary. For tests and for trying Roster out on a cluster.
#
#   cluster.sh start [--netns] [--roster N]
#                           start everything (and N Roster instances behind HAProxy); with
#                           --netns (root only) each node runs in a network namespace of its
#                           own, on a bridge, so that it can be cut off
#   cluster.sh status       Patroni's view of the nodes
#   cluster.sh primary      the current primary's node name
#   cluster.sh healthy      exits 0 when all three nodes run, one leads and one is in sync
#   cluster.sh kill-primary SIGKILL the primary's Patroni agent and postmaster; prints its name
#   cluster.sh start-node N start node N (pg1, pg2, pg3) again, say after kill-primary
#   cluster.sh partition N  cut node N off from everything else (--netns clusters)
#   cluster.sh heal N       connect node N again
#   cluster.sh stop         stop everything and delete the cluster's files
#
# Settings (environment): CLUSTER_DIR (/tmp/roster-cluster), PORT_BASE (5440: HAProxy there,
# nodes on the next three ports, their REST APIs at PORT_BASE+3000+N, etcd at PORT_BASE+20000),
# ROSTER_BIN (target/release/roster, then target/debug/roster). A --netns cluster puts its nodes
# at 10.77.(PORT_BASE % 250).11-13 on the bridge rbr<PORT_BASE>.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="${CLUSTER_DIR:-/tmp/roster-cluster}"
BASE="${PORT_BASE:-5440}"
NODES=(pg1 pg2 pg3)
ETCD_PORT=$((BASE + 20000))
ETCD="127.0.0.1:${ETCD_PORT}"
HAPROXY_PORT="$BASE"
ROSTER_PORT=$((BASE - 2000))
PG_BIN=/usr/lib/postgresql/15/bin

pg_port() { echo $((BASE + $1)); }
api_port() { echo $((BASE + 3000 + $1)); }

# Network namespaces (--netns): one per node, each joined to one bridge by a veth pair.
SUBNET="10.77.$((BASE % 250))"
BRIDGE="rbr$BASE"
netns_mode() { [ -e "$DIR/netns" ]; }
namespace() { echo "roster-$BASE-pg$1"; }
veth() { echo "rv${BASE}p$1"; }
node_host() { if netns_mode; then echo "$SUBNET.$((10 + $1))"; else echo 127.0.0.1; fi; }
node_index() { # name
  case "$1" in pg1) echo 1 ;; pg2) echo 2 ;; pg3) echo 3 ;; *) echo "no node $1" >&2; exit 2 ;; esac
}

setup_net() {
  command -v ip >/dev/null || { echo "missing ip: apt-get install iproute2" >&2; exit 1; }
  # What a cluster killed without `stop` left behind on these names.
  teardown_net
  ip link add "$BRIDGE" type bridge
  ip addr add "$SUBNET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  for i in 1 2 3; do
    local ns
    ns=$(namespace "$i")
    ip netns add "$ns"
    ip link add "$(veth "$i")" type veth peer name eth0 netns "$ns"
    ip link set "$(veth "$i")" master "$BRIDGE" up
    ip netns exec "$ns" ip addr add "$(node_host "$i")/24" dev eth0
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip link set lo up
  done
}

teardown_net() {
  for i in 1 2 3; do ip netns del "$(namespace "$i")" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
}


need() {
  for tool in etcd patroni haproxy "$PG_BIN/postgres"; do
    command -v "$tool" >/dev/null || {
      echo "missing $tool: apt-get install etcd-server patroni haproxy postgresql-15" >&2
      exit 1
    }
  done
}

wait_for() { # seconds, description, command...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq 1 $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "timed out after ${seconds}s waiting for $what" >&2
  return 1
}

members() {
  local i
  for i in 1 2 3; do
    curl -fsS -m 2 "http://$(node_host "$i"):$(api_port "$i")/cluster" 2>/dev/null && return 0
  done
  return 1
}

primary() {
  members | python3 -c 'import json,sys; print(next(m["name"] for m in json.load(sys.stdin)["members"] if m["role"] == "leader"))'
}

healthy() {
  members | python3 -c 'import json,sys; m=json.load(sys.stdin)["members"]; sys.exit(0 if len(m) == 3 and any(x["role"] == "leader" for x in m) and all(x["state"] in ("streaming", "running") for x in m) and any(x["role"] == "sync_standby" for x in m) else 1)'
}

has_sync_standby() {
  members | python3 -c 'import json,sys; sys.exit(0 if any(m["role"] == "sync_standby" and m["state"] in ("streaming", "running") for m in json.load(sys.stdin)["members"]) else 1)'
}

writable() {
  [ "$(psql -XAtq -h 127.0.0.1 -p "$HAPROXY_PORT" -U postgres -d postgres -c 'SELECT NOT pg_is_in_recovery()')" = t ]
}

start_node() { # index
  local i=$1 name=${NODES[$(($1 - 1))]} node="$DIR/${NODES[$(($1 - 1))]}"
  mkdir -p "$node"
  local etcd=$ETCD clients=127.0.0.1/32
  if netns_mode; then etcd="$SUBNET.1:$ETCD_PORT" clients="$SUBNET.0/24"; fi
  sed -e "s|@NAME@|$name|g" -e "s|@PG_PORT@|$(pg_port "$i")|g" -e "s|@HOST@|$(node_host "$i")|g" \
    -e "s|@API_PORT@|$(api_port "$i")|g" -e "s|@DIR@|$node|g" -e "s|@ETCD@|$etcd|g" \
    -e "s|@CLIENTS@|$clients|g" "$HERE/patroni.yml.template" >"$node/patroni.yml"
  chown -R postgres:postgres "$node" 2>/dev/null || true
  chmod 700 "$node"
  local agent=(setsid patroni "$node/patroni.yml")
  # PostgreSQL refuses to run as root: when root, the nodes run as the postgres user.
  if [ "$(id -u)" = 0 ]; then agent=(runuser -u postgres -- "${agent[@]}"); fi
  if netns_mode; then agent=(ip netns exec "$(namespace "$i")" "${agent[@]}"); fi
  "${agent[@]}" >>"$node/patroni.log" 2>&1 </dev/null &
}

# The node's Patroni agent (not the runuser around it).
agent_pids() { pgrep -f "^[^ ]*python[^ ]* [^ ]*patroni $DIR/$1/patroni.yml" || true; }

start_roster() { # count
  local bin="${ROSTER_BIN:-}"
  if [ -z "$bin" ]; then
    for candidate in "$HERE/../../target/release/roster" "$HERE/../../target/debug/roster"; do
      if [ -x "$candidate" ]; then bin=$candidate; break; fi
    done
  fi
  [ -n "$bin" ] || { echo "no roster binary: cargo build --release, or set ROSTER_BIN" >&2; exit 1; }
  local key
  key=$(head -c 32 /dev/urandom | base64)
  for i in $(seq 1 "$1"); do
    ROSTER_DATABASE_URL="postgres://postgres@127.0.0.1:$HAPROXY_PORT/roster" \
      ROSTER_ADDR="127.0.0.1:$((ROSTER_PORT + i))" ROSTER_SECRET_KEY="$key" \
      setsid "$bin" serve >>"$DIR/roster$i.log" 2>&1 </dev/null &
    echo $! >"$DIR/roster$i.pid"
  done
  for i in $(seq 1 "$1"); do
    wait_for 30 "roster $i" curl -fsS "http://127.0.0.1:$((ROSTER_PORT + i))/api/ready"
  done
  # HAProxy marked them down while they started; its next checks bring them back.
  wait_for 30 "roster behind HAProxy" curl -fsS "http://127.0.0.1:$ROSTER_PORT/api/ready"
}

haproxy_config() { # roster count
  local servers="" i
  for i in 1 2 3; do
    servers+="    server ${NODES[$((i - 1))]} $(node_host $i):$(pg_port $i) check port $(api_port $i)"$'\n'
  done
  sed -e "s|@HAPROXY_PORT@|$HAPROXY_PORT|" "$HERE/haproxy.cfg.template" |
    python3 -c 'import sys; print(sys.stdin.read().replace("@SERVERS@\n", sys.argv[1]), end="")' "$servers"
  if [ "$1" -gt 0 ]; then
    # The Roster instances, behind one address; an instance not ready gets no traffic.
    printf '\nlisten roster\n    mode http\n    bind 127.0.0.1:%s\n' "$ROSTER_PORT"
    printf '    timeout client 60s\n    timeout server 60s\n'
    printf '    option httpchk GET /api/ready\n    default-server inter 1s fall 2 rise 1\n'
    # With no instance ready (no primary, say), HAProxy answers itself, in the API's shape.
    printf '    errorfile 503 %s\n' "$HERE/roster-503.http"
    for i in $(seq 1 "$1"); do
      printf '    server roster%s 127.0.0.1:%s check\n' "$i" $((ROSTER_PORT + i))
    done
  fi
}

start() {
  local rosters=0 netns=false
  while [ $# -gt 0 ]; do
    case "$1" in
      --roster) rosters=${2:?--roster takes a count}; shift 2 ;;
      --netns) netns=true; shift ;;
      *) echo "start: unknown option $1" >&2; exit 2 ;;
    esac
  done
  need
  [ ! -e "$DIR" ] || { echo "$DIR exists: cluster.sh stop first" >&2; exit 1; }
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  local clients="http://$ETCD"
  if $netns; then
    [ "$(id -u)" = 0 ] || { echo "--netns needs root, for ip netns" >&2; rm -rf "$DIR"; exit 1; }
    touch "$DIR/netns"
    setup_net
    clients+=",http://$SUBNET.1:$ETCD_PORT"
  fi
  setsid etcd --name etcd1 --data-dir "$DIR/etcd" \
    --listen-client-urls "$clients" --advertise-client-urls "$clients" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "etcd1=http://127.0.0.1:$((ETCD_PORT + 1))" \
    >>"$DIR/etcd.log" 2>&1 </dev/null &
  echo $! >"$DIR/etcd.pid"
  wait_for 20 etcd curl -fsS "http://$ETCD/health"
  # The first node bootstraps the cluster; the others then clone it.
  start_node 1
  wait_for 60 "the first node to lead" curl -fsS "http://$(node_host 1):$(api_port 1)/primary"
  start_node 2
  start_node 3
  haproxy_config "$rosters" >"$DIR/haproxy.cfg"
  haproxy -D -f "$DIR/haproxy.cfg" -p "$DIR/haproxy.pid"
  wait_for 60 "a writable primary behind HAProxy" writable
  wait_for 60 "a synchronous standby" has_sync_standby
  psql -XAtq -h 127.0.0.1 -p "$HAPROXY_PORT" -U postgres -d postgres -c 'CREATE DATABASE roster'
  if [ "$rosters" -gt 0 ]; then start_roster "$rosters"; fi
  echo "primary: $(primary)"
  echo "database: postgres://postgres@127.0.0.1:$HAPROXY_PORT/roster"
  if [ "$rosters" -gt 0 ]; then echo "roster: http://127.0.0.1:$ROSTER_PORT"; fi
}

kill_primary() {
  local name
  name=$(primary)
  local node="$DIR/$name"
  local agents
  agents=$(agent_pids "$name")
  [ -n "$agents" ] || { echo "no Patroni agent found for $name" >&2; exit 1; }
  # shellcheck disable=SC2086
  kill -KILL $agents "$(head -1 "$node/data/postmaster.pid")"
  echo "$name"
}

stop() {
  local pidfile
  for pidfile in "$DIR"/roster*.pid "$DIR"/haproxy.pid; do
    [ -e "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
  done
  for node in "${NODES[@]}"; do
    # shellcheck disable=SC2046
    kill -TERM $(agent_pids "$node") 2>/dev/null || true
  done
  sleep 1
  for node in "${NODES[@]}"; do
    if [ -e "$DIR/$node/data/postmaster.pid" ]; then
      kill -KILL "$(head -1 "$DIR/$node/data/postmaster.pid")" 2>/dev/null || true
    fi
  done
  for node in "${NODES[@]}"; do
    # shellcheck disable=SC2046
    kill -KILL $(agent_pids "$node") 2>/dev/null || true
  done
  for pidfile in "$DIR"/roster*.pid "$DIR"/etcd.pid; do
    [ -e "$pidfile" ] && kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  done
  if netns_mode; then teardown_net; fi
  rm -rf "$DIR"
}

link() { # up|down, node name
  netns_mode || { echo "$2: not a --netns cluster" >&2; exit 2; }
  local i
  i=$(node_index "$2") || exit 2
  ip link set "$(veth "$i")" "$1"
}

start_named_node() { # node name
  local i
  i=$(node_index "$1") || exit 2
  start_node "$i"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  status) members | python3 -m json.tool ;;
  primary) primary ;;
  healthy) healthy ;;
  kill-primary) kill_primary ;;
  start-node) start_named_node "${2:?start-node takes a node name}" ;;
  partition) link down "${2:?partition takes a node name}" ;;
  heal) link up "${2:?heal takes a node name}" ;;
  stop) stop ;;
  *) sed -n '2,26p' "$0" >&2; exit 2 ;;
esac
