#!/usr/bin/env bash
# An example PostgreSQL cluster with automatic failover, all on this machine: one etcd, three
# PostgreSQL 15 nodes managed by Patroni (synchronous replication), and HAProxy routing to the
# current primary. For tests and for trying Roster out on a cluster.
#
#   cluster.sh start [--roster N]   start everything (and N Roster instances behind HAProxy)
#   cluster.sh status               Patroni's view of the nodes
#   cluster.sh primary              the current primary's node name
#   cluster.sh kill-primary         SIGKILL the primary's Patroni agent and postmaster
#   cluster.sh stop                 stop everything and delete the cluster's files
#
# Settings (environment): CLUSTER_DIR (/tmp/roster-cluster), PORT_BASE (5440: HAProxy there,
# nodes on the next three ports, their REST APIs at PORT_BASE+3000+N, etcd at PORT_BASE+20000),
# ROSTER_BIN (target/release/roster, then target/debug/roster).
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

# PostgreSQL refuses to run as root: when root, the nodes run as the postgres user.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
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

members() { curl -fsS "http://127.0.0.1:$(api_port 1)/cluster" 2>/dev/null ||
  curl -fsS "http://127.0.0.1:$(api_port 2)/cluster" 2>/dev/null ||
  curl -fsS "http://127.0.0.1:$(api_port 3)/cluster"; }

primary() {
  members | python3 -c 'import json,sys; print(next(m["name"] for m in json.load(sys.stdin)["members"] if m["role"] == "leader"))'
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
  sed -e "s|@NAME@|$name|g" -e "s|@PG_PORT@|$(pg_port "$i")|g" \
    -e "s|@API_PORT@|$(api_port "$i")|g" -e "s|@DIR@|$node|g" -e "s|@ETCD@|$ETCD|g" \
    "$HERE/patroni.yml.template" >"$node/patroni.yml"
  chown -R postgres:postgres "$node" 2>/dev/null || true
  chmod 700 "$node"
  as_postgres setsid patroni "$node/patroni.yml" >>"$node/patroni.log" 2>&1 </dev/null &
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
}

haproxy_config() { # roster count
  local servers="" i
  for i in 1 2 3; do
    servers+="    server ${NODES[$((i - 1))]} 127.0.0.1:$(pg_port $i) check port $(api_port $i)"$'\n'
  done
  sed -e "s|@HAPROXY_PORT@|$HAPROXY_PORT|" "$HERE/haproxy.cfg.template" |
    python3 -c 'import sys; print(sys.stdin.read().replace("@SERVERS@\n", sys.argv[1]), end="")' "$servers"
  if [ "$1" -gt 0 ]; then
    # The Roster instances, behind one address; an instance not ready gets no traffic.
    printf '\nlisten roster\n    mode http\n    bind 127.0.0.1:%s\n' "$ROSTER_PORT"
    printf '    timeout client 60s\n    timeout server 60s\n'
    printf '    option httpchk GET /api/ready\n    default-server inter 1s fall 2 rise 1\n'
    for i in $(seq 1 "$1"); do
      printf '    server roster%s 127.0.0.1:%s check\n' "$i" $((ROSTER_PORT + i))
    done
  fi
}

start() {
  local rosters=0
  if [ "${1:-}" = --roster ]; then rosters=${2:?--roster takes a count}; fi
  need
  [ ! -e "$DIR" ] || { echo "$DIR exists: cluster.sh stop first" >&2; exit 1; }
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  setsid etcd --name etcd1 --data-dir "$DIR/etcd" \
    --listen-client-urls "http://$ETCD" --advertise-client-urls "http://$ETCD" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "etcd1=http://127.0.0.1:$((ETCD_PORT + 1))" \
    >>"$DIR/etcd.log" 2>&1 </dev/null &
  echo $! >"$DIR/etcd.pid"
  wait_for 20 etcd curl -fsS "http://$ETCD/health"
  # The first node bootstraps the cluster; the others then clone it.
  start_node 1
  wait_for 60 "the first node to lead" curl -fsS "http://127.0.0.1:$(api_port 1)/primary"
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
  rm -rf "$DIR"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  status) members | python3 -m json.tool ;;
  primary) primary ;;
  kill-primary) kill_primary ;;
  stop) stop ;;
  *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
