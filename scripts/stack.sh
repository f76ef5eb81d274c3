#!/usr/bin/env bash
# The local stack without Docker: Redis, RabbitMQ and PostgreSQL from Debian's packages and an
# S3-compatible server (a `minio` binary when one is on PATH, otherwise s3rver from
# npm), all on loopback. Used by `npm run dev`, `npm test`, `npm run bench` and CI.
#
#   scripts/stack.sh up [svc...]        install what is missing, start what does not answer, wait until each accepts work
#                                       (svc: redis, rabbitmq, s3, postgres; all four when none is named)
#   scripts/stack.sh down               stop what this script started
#   scripts/stack.sh status             say what answers
#   scripts/stack.sh stop|start|restart redis|rabbitmq|s3|postgres [node]
#                                       fault injection for tests (only services this script started); node: 1, 2, 3
#                                       of a cluster (default 1; Redis: 1 the first master, 2 its replica)
#   scripts/stack.sh kill redis|rabbitmq|sentinel|postgres [node]
#                                       kill -9 of one node (start brings it back, with its data)
#   scripts/stack.sh pause|resume s3    the S3 server stops answering (SIGSTOP) but keeps its connections
#   scripts/stack.sh remove-buckets <name>...
#                                       deletes buckets of the local s3rver with everything in them, on disk
#                                       (the bench's, ~250,000 objects a run: s3rver cannot list that many)
#   scripts/stack.sh vhost add|delete <name>
#                                       a RabbitMQ virtual host for one test file (guest has all rights)
#   scripts/stack.sh leader <queue> [vhost]
#                                       the node number (1, 2, 3) leading a quorum queue
#   scripts/stack.sh quorum-safe <node> succeeds only if stopping that node leaves every quorum queue a majority
#
# Clusters: STACK_RABBITMQ_NODES=3 starts three RabbitMQ nodes clustered on loopback (AMQP on
# AMQP_PORT, +1, +2; quorum queues get three replicas); STACK_REDIS_SENTINEL=1 starts a Redis master
# (REDIS_PORT), a replica (REDIS_PORT+1) and three Sentinels (SENTINEL_PORT, +1, +2) watching it
# under the name `wws`. Every RabbitMQ node serves the management API on MANAGEMENT_PORT (+1, +2).
#
# Safe to run twice: a service that already answers on its port is reused as it is.
# Ports: REDIS_PORT (6379), AMQP_PORT (5672), MANAGEMENT_PORT (AMQP_PORT+10000), SENTINEL_PORT
# (REDIS_PORT+20000), S3_PORT (9000), PG_PORT (5432; user postgres, trust on loopback, database
# wws). State: STACK_DIR, one per machine like the ports
# (~/.local/state/whatsapp-webhook-service/stack), so every checkout can reuse and control the
# services another one started.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_DIR=${STACK_DIR:-${XDG_STATE_HOME:-${HOME:-/tmp}/.local/state}/whatsapp-webhook-service/stack}
REDIS_PORT=${REDIS_PORT:-6379}
AMQP_PORT=${AMQP_PORT:-5672}
S3_PORT=${S3_PORT:-9000}
PG_PORT=${PG_PORT:-5432}
PG_BIN=/usr/lib/postgresql/15/bin
MANAGEMENT_PORT=${MANAGEMENT_PORT:-$((AMQP_PORT + 10000))}
SENTINEL_PORT=${SENTINEL_PORT:-$((REDIS_PORT + 20000))}
RABBIT_NODES=${STACK_RABBITMQ_NODES:-1}
REDIS_SENTINEL=${STACK_REDIS_SENTINEL:-0}
case "$RABBIT_NODES" in 1 | 2 | 3 | 4 | 5) ;; *) printf '[stack] error: STACK_RABBITMQ_NODES must be 1 to 5\n' >&2; exit 1 ;; esac
S3_ACCESS_KEY=${S3_ACCESS_KEY:-minioadmin}
S3_SECRET_KEY=${S3_SECRET_KEY:-minioadmin}
WAIT_SECONDS=${STACK_WAIT_SECONDS:-90}
RABBIT_BIN=/usr/lib/rabbitmq/bin

log() { printf '[stack] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

probe() { node "$ROOT/scripts/stack-probe.js" "$@" >/dev/null 2>&1; }
redis_ok() { probe redis "redis://127.0.0.1:$((REDIS_PORT + ${1:-1} - 1))"; }
amqp_ok() { probe amqp "amqp://guest:guest@127.0.0.1:$((AMQP_PORT + ${1:-1} - 1))"; }
amqp_all_ok() { local n; for n in $(seq 1 "$RABBIT_NODES"); do amqp_ok "$n" || return 1; done; }
redis_answers() { [ "$(redis-cli -p "$((REDIS_PORT + ${1:-1} - 1))" ping 2>/dev/null)" = PONG ]; }
# With Sentinels: both servers answer, so do the Sentinels, and the master they name accepts writes.
redis_all_ok() {
  [ "$REDIS_SENTINEL" = 1 ] || { redis_ok 1; return; }
  redis_answers 1 && redis_answers 2 || return 1
  local n master; for n in 1 2 3; do sentinel_cli "$n" ping >/dev/null 2>&1 || return 1; done
  master=$(sentinel_cli 1 sentinel get-master-addr-by-name wws 2>/dev/null | sed -n 2p)
  [ -n "$master" ] && probe redis "redis://127.0.0.1:$master"
}
pg_ok() { probe postgres "postgres://postgres@127.0.0.1:$PG_PORT/wws"; }
s3_ok() { S3_ACCESS_KEY=$S3_ACCESS_KEY S3_SECRET_KEY=$S3_SECRET_KEY probe s3 "http://127.0.0.1:$S3_PORT"; }

wait_for() { # name check-function
  local name=$1 check=$2 deadline=$((SECONDS + WAIT_SECONDS))
  until $check; do
    [ $SECONDS -lt $deadline ] || die "$name did not accept work within ${WAIT_SECONDS}s (logs in $STACK_DIR/$name)"
    sleep 0.5
  done
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"; fi
}

APT_UPDATED=0
ensure_package() { # binary package
  [ -x "$1" ] || command -v "$1" >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || die "$2 is not installed and apt-get is not available: install $2 yourself"
  log "installing $2 from Debian's packages"
  if [ $APT_UPDATED = 0 ]; then as_root apt-get update -qq >&2; APT_UPDATED=1; fi
  # A policy-rc.d that answers 101 keeps the package from starting a system-wide service (on our
  # ports, with a cookie we do not have). Machine images often ship one; if not, one is put in place
  # for the install only.
  local policy=/usr/sbin/policy-rc.d placed=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod 755 "$policy" && placed=1
  fi
  local status=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >&2 || status=$?
  if [ $placed = 1 ]; then as_root rm -f "$policy"; fi
  [ $status = 0 ] || die "could not install $2 (apt-get exit $status)"
}

# ---- Redis -------------------------------------------------------------------
# Node 1 on REDIS_PORT; with STACK_REDIS_SENTINEL=1, node 2 (REDIS_PORT+1) replicates it and three
# Sentinels watch them.
redis_dir() { if [ "$1" = 1 ]; then echo "$STACK_DIR/redis"; else echo "$STACK_DIR/redis-$1"; fi; }
redis_start() { # [node]
  local n=${1:-1} dir; dir=$(redis_dir "$n")
  ensure_package redis-server redis-server
  mkdir -p "$dir"
  local extra=()
  # A node that has been a master (or a replica) before is told its role by the Sentinels on start.
  if [ "$n" != 1 ] && [ ! -f "$dir/.started" ]; then extra=(--replicaof 127.0.0.1 "$REDIS_PORT"); fi
  redis-server --bind 127.0.0.1 --port "$((REDIS_PORT + n - 1))" --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --appendonly yes --appendfsync everysec --save '' "${extra[@]}" >/dev/null
  touch "$dir/.started"
}
redis_stop() { # [node]
  local n=${1:-1} dir; dir=$(redis_dir "$n")
  [ -f "$dir/redis.pid" ] || die "redis node $n was not started by this script"
  redis-cli -p "$((REDIS_PORT + n - 1))" shutdown >/dev/null 2>&1 || true
  local pid; pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
  while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$dir/redis.pid"
}
sentinel_cli() { local n=$1; shift; redis-cli -p "$((SENTINEL_PORT + n - 1))" "$@"; }
sentinel_start() { # node
  local n=$1 dir="$STACK_DIR/sentinel-$1"
  mkdir -p "$dir"
  # A Sentinel rewrites its own file (what it learnt of the others): written once, kept after.
  [ -f "$dir/sentinel.conf" ] || cat >"$dir/sentinel.conf" <<CONF
bind 127.0.0.1
port $((SENTINEL_PORT + n - 1))
dir $dir
sentinel monitor wws 127.0.0.1 $REDIS_PORT 2
sentinel down-after-milliseconds wws 1000
sentinel failover-timeout wws 5000
sentinel parallel-syncs wws 1
CONF
  redis-server "$dir/sentinel.conf" --sentinel --daemonize yes --pidfile "$dir/sentinel.pid" --logfile "$dir/sentinel.log" >/dev/null
}
sentinel_stop() { # node
  local dir="$STACK_DIR/sentinel-$1" pid
  [ -f "$dir/sentinel.pid" ] || return 0
  pid=$(cat "$dir/sentinel.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$dir/sentinel.pid"
}
redis_up() {
  local n
  if [ "$REDIS_SENTINEL" != 1 ]; then
    if redis_ok 1; then log "redis: reusing the one that answers"; else log "redis: starting"; redis_start 1; fi
    return 0
  fi
  for n in 1 2; do
    if redis_answers "$n"; then log "redis node $n: reusing the one that answers"; else log "redis node $n: starting"; redis_start "$n"; fi
  done
  for n in 1 2 3; do sentinel_cli "$n" ping >/dev/null 2>&1 || { log "redis sentinel $n: starting"; sentinel_start "$n"; }; done
}

# ---- RabbitMQ ----------------------------------------------------------------
# Node n (1..STACK_RABBITMQ_NODES): AMQP on AMQP_PORT+n-1, its own name, directories and ports,
# and one Erlang cookie for all (node 1's directory holds it; the others get a copy).
rabbit_dir() { if [ "$1" = 1 ]; then echo "$STACK_DIR/rabbitmq"; else echo "$STACK_DIR/rabbitmq-$1"; fi; }
# Node names are unique on the host (one epmd serves every node): from the AMQP port, except the
# default single node's (wws@localhost, as earlier versions of this script named it).
rabbit_name() { local port=$((AMQP_PORT + $1 - 1)); if [ "$port" = 5672 ]; then echo wws@localhost; else echo "wws$port@localhost"; fi; }
rabbit_env() { # node
  local n=${1:-1} dir; dir=$(rabbit_dir "${1:-1}")
  export HOME="$dir" # the Erlang cookie lives here, shared by server and rabbitmqctl
  export RABBITMQ_NODENAME; RABBITMQ_NODENAME=$(rabbit_name "$n")
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$((AMQP_PORT + n - 1))
  export RABBITMQ_DIST_PORT=$((AMQP_PORT + 20000 + n - 1))
  export RABBITMQ_MNESIA_BASE="$dir/mnesia"
  export RABBITMQ_LOG_BASE="$dir/log"
  export RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
  export RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
  export RABBITMQ_PID_FILE="$dir/rabbitmq.pid"
}
rabbitmqctl_() { # node args...
  local n=$1; shift
  [ -f "$(rabbit_dir "$n")/.erlang.cookie" ] ||
    die "the RabbitMQ on port $((AMQP_PORT + n - 1)) was not started from $STACK_DIR, so it cannot be controlled from here (set STACK_DIR to the directory that started it, or stop that broker)"
  (rabbit_env "$n"; "$RABBIT_BIN/rabbitmqctl" -q "$@")
}
rabbit_node_up() { local dir; dir=$(rabbit_dir "$1"); [ -f "$dir/rabbitmq.pid" ] && [ -f "$dir/.erlang.cookie" ] && rabbitmqctl_ "$1" ping >/dev/null 2>&1; }
rabbit_cookie() { # node: every node gets node 1's cookie (made here when there is none yet)
  local dir; dir=$(rabbit_dir "$1")
  local first; first=$(rabbit_dir 1)
  mkdir -p "$first" "$dir"
  if [ ! -f "$first/.erlang.cookie" ]; then
    (umask 077; head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr 'a-f' 'A-F' | head -c 20 >"$first/.erlang.cookie")
    chmod 400 "$first/.erlang.cookie"
  fi
  if [ "$1" != 1 ] && ! cmp -s "$first/.erlang.cookie" "$dir/.erlang.cookie" 2>/dev/null; then
    rm -f "$dir/.erlang.cookie"; cp "$first/.erlang.cookie" "$dir/.erlang.cookie"; chmod 400 "$dir/.erlang.cookie"
  fi
}
rabbit_start() { # [node]
  local n=${1:-1} dir; dir=$(rabbit_dir "${1:-1}")
  ensure_package "$RABBIT_BIN/rabbitmq-server" rabbitmq-server
  if rabbit_node_up "$n"; then rabbitmqctl_ "$n" start_app >/dev/null; return; fi
  rabbit_cookie "$n"
  mkdir -p "$dir/log"
  printf 'loopback_users = none\ndisk_free_limit.absolute = 50MB\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' \
    "$((MANAGEMENT_PORT + n - 1))" >"$dir/rabbitmq.conf"
  # The management API: the service applies its queue policies through it (RABBITMQ_MANAGEMENT_URL).
  printf '[rabbitmq_management].\n' >"$dir/enabled_plugins"
  : >"$dir/rabbitmq-env.conf"
  (rabbit_env "$n"; nohup "$RABBIT_BIN/rabbitmq-server" >"$dir/log/stdout.log" 2>&1 &)
}
# A node started on its own joins node 1's cluster once (it then comes back into it by itself).
rabbit_join() { # node
  local n=$1 first; first=$(rabbit_name 1)
  if rabbitmqctl_ "$n" eval "lists:member('$first', rabbit_nodes:all())." 2>/dev/null | grep -q true; then return; fi
  log "rabbitmq node $n: joining $first"
  rabbitmqctl_ "$n" stop_app >/dev/null
  rabbitmqctl_ "$n" join_cluster "$first" >/dev/null
  rabbitmqctl_ "$n" start_app >/dev/null
}
# stop_app drops every client connection and closes the port like a broker restart,
# but keeps the Erlang node, so `start` brings it back in about a second.
rabbit_stop() { rabbit_node_up "${1:-1}" || die "rabbitmq node ${1:-1} was not started by this script"; rabbitmqctl_ "${1:-1}" stop_app >/dev/null; }
rabbit_shutdown() { # node
  rabbit_node_up "$1" && rabbitmqctl_ "$1" shutdown >/dev/null 2>&1 || true
  rm -f "$(rabbit_dir "$1")/rabbitmq.pid"
}
rabbit_up() {
  local n
  for n in $(seq 1 "$RABBIT_NODES"); do
    if amqp_ok "$n"; then log "rabbitmq node $n: reusing the one that answers"; else log "rabbitmq node $n: starting"; rabbit_start "$n"; fi
  done
}
rabbit_cluster() {
  local n
  for n in $(seq 2 "$RABBIT_NODES"); do rabbit_join "$n"; done
  # A broker started by an earlier version of this script runs without the management API.
  for n in $(seq 1 "$RABBIT_NODES"); do
    if [ -f "$(rabbit_dir "$n")/.erlang.cookie" ] && ! grep -q rabbitmq_management "$(rabbit_dir "$n")/enabled_plugins" 2>/dev/null; then
      log "rabbitmq node $n: enabling the management API"
      printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' "$((MANAGEMENT_PORT + n - 1))" >>"$(rabbit_dir "$n")/rabbitmq.conf"
      (rabbit_env "$n"; "$RABBIT_BIN/rabbitmq-plugins" -q enable rabbitmq_management >/dev/null)
    fi
  done
}
management_ok() { curl -fsS -u guest:guest "http://127.0.0.1:$MANAGEMENT_PORT/api/overview" >/dev/null 2>&1 || node -e "
  require('http').get('http://guest:guest@127.0.0.1:$MANAGEMENT_PORT/api/overview', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1));" 2>/dev/null; }

# ---- PostgreSQL --------------------------------------------------------------
# initdb and pg_ctl refuse root: as root they run as the package's postgres user, on a data dir it
# can reach (root's home is closed to it), one per port. STACK_DIR/postgres.started says this stack
# started it, so that `down` of another stack (another STACK_DIR) leaves it alone.
pg_dir() { if [ "$(id -u)" = 0 ]; then echo "/var/lib/whatsapp-webhook-service/postgres-$PG_PORT"; else echo "$STACK_DIR/postgres"; fi; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_start() {
  ensure_package "$PG_BIN/initdb" postgresql
  local dir; dir=$(pg_dir)
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" != 0 ] || chown postgres:postgres "$dir"
    as_pg "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >"$dir/initdb.log" 2>&1 || die "initdb failed (see $dir/initdb.log)"
  fi
  mkdir -p "$STACK_DIR" && touch "$STACK_DIR/postgres.started"
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t "$WAIT_SECONDS" \
    -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null || die "postgres did not start (see $dir/postgres.log)"
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'wws'" | grep -q 1 ||
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc 'CREATE DATABASE wws' >/dev/null
}
pg_stop() {
  local dir; dir=$(pg_dir)
  [ -f "$dir/data/postmaster.pid" ] || die "postgres was not started by this script"
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  rm -f "$STACK_DIR/postgres.started"
}
pg_up() {
  if pg_ok; then log "postgres: reusing the one that answers"; return; fi
  log "postgres: starting"
  local dir; dir=$(pg_dir)
  # Left behind by a kill -9: pg_ctl would refuse to start while it names a live pid.
  if [ -f "$dir/data/postmaster.pid" ] && ! kill -0 "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null; then rm -f "$dir/data/postmaster.pid"; fi
  pg_start
}

# ---- S3 ----------------------------------------------------------------------
s3_start() {
  mkdir -p "$STACK_DIR/s3"
  if command -v minio >/dev/null 2>&1; then
    (MINIO_ROOT_USER=$S3_ACCESS_KEY MINIO_ROOT_PASSWORD=$S3_SECRET_KEY nohup minio server "$STACK_DIR/s3/data" \
      --address "127.0.0.1:$S3_PORT" --console-address "127.0.0.1:$((S3_PORT + 1))" >"$STACK_DIR/s3/server.log" 2>&1 &
      echo $! >"$STACK_DIR/s3/server.pid")
  else
    (S3_ACCESS_KEY=$S3_ACCESS_KEY S3_SECRET_KEY=$S3_SECRET_KEY nohup node "$ROOT/scripts/s3-server.js" \
      "$STACK_DIR/s3/data" "$S3_PORT" 127.0.0.1 >"$STACK_DIR/s3/server.log" 2>&1 &
      echo $! >"$STACK_DIR/s3/server.pid")
  fi
}
s3_stop() {
  [ -f "$STACK_DIR/s3/server.pid" ] || die "the S3 server was not started by this script"
  local pid; pid=$(cat "$STACK_DIR/s3/server.pid")
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$STACK_DIR/s3/server.pid"
}

# ---- commands ----------------------------------------------------------------
cmd_up() { # [svc...]
  [ -d "$ROOT/node_modules" ] || die "run 'npm ci' first (the readiness probes use the project's clients)"
  local services=("$@") svc ready=()
  [ ${#services[@]} -gt 0 ] || services=(redis rabbitmq s3 postgres)
  for svc in "${services[@]}"; do
    case "$svc" in
      redis) redis_up ;;
      rabbitmq) rabbit_up ;;
      s3) if s3_ok; then log "s3: reusing the one that answers"; else log "s3: starting"; s3_start; fi ;;
      postgres) pg_up ;;
      *) die "unknown service '$svc' (redis, rabbitmq, s3 or postgres)" ;;
    esac
  done
  for svc in "${services[@]}"; do
    case "$svc" in
      redis)
        wait_for redis redis_all_ok
        if [ "$REDIS_SENTINEL" = 1 ]; then
          ready+=("redis master 127.0.0.1:$REDIS_PORT, replica :$((REDIS_PORT + 1)), sentinels :$SENTINEL_PORT-$((SENTINEL_PORT + 2)) (name wws)")
        else ready+=("redis 127.0.0.1:$REDIS_PORT"); fi
        ;;
      rabbitmq)
        wait_for rabbitmq amqp_all_ok
        rabbit_cluster
        wait_for rabbitmq-management management_ok
        ready+=("rabbitmq 127.0.0.1:$AMQP_PORT$([ "$RABBIT_NODES" = 1 ] || echo "-$((AMQP_PORT + RABBIT_NODES - 1)) ($RABBIT_NODES nodes)") (management :$MANAGEMENT_PORT)")
        ;;
      s3) wait_for s3 s3_ok; ready+=("s3 127.0.0.1:$S3_PORT") ;;
      postgres) wait_for postgres pg_ok; ready+=("postgres 127.0.0.1:$PG_PORT (database wws)") ;;
    esac
  done
  log "ready: $(IFS=';'; echo "${ready[*]}")"
}

cmd_down() {
  local n
  [ -f "$STACK_DIR/s3/server.pid" ] && s3_stop
  [ -f "$STACK_DIR/postgres.started" ] && [ -f "$(pg_dir)/data/postmaster.pid" ] && pg_stop
  for n in 5 4 3 2 1; do [ -f "$(rabbit_dir "$n")/.erlang.cookie" ] && rabbit_shutdown "$n"; done
  for n in 1 2 3; do sentinel_stop "$n"; done
  for n in 2 1; do [ -f "$(redis_dir "$n")/redis.pid" ] && redis_stop "$n"; done
  log "stopped what this script started"
}

cmd_status() {
  local rc=0 n
  if redis_ok; then log "redis: up"; else log "redis: down"; rc=1; fi
  for n in $(seq 1 "$RABBIT_NODES"); do
    if amqp_ok "$n"; then log "rabbitmq node $n: up"; else log "rabbitmq node $n: down"; rc=1; fi
  done
  if s3_ok; then log "s3: up"; else log "s3: down"; rc=1; fi
  if pg_ok; then log "postgres: up"; else log "postgres: down"; rc=1; fi
  return $rc
}

service_cmd() { # action service [node]
  local n=${3:-1}
  case "$n" in [1-5]) ;; *) die "node must be 1 to 5, got '$n'" ;; esac
  case "$2" in
    redis) case "$1" in stop) redis_stop "$n" ;; start) redis_start "$n"; wait_for redis "redis_answers $n" ;; esac ;;
    rabbitmq) case "$1" in stop) rabbit_stop "$n" ;; start) rabbit_start "$n"; wait_for rabbitmq "amqp_ok $n" ;; esac ;;
    sentinel) case "$1" in stop) sentinel_stop "$n" ;; start) sentinel_start "$n" ;; esac ;;
    s3) case "$1" in stop) s3_stop ;; start) s3_start; wait_for s3 s3_ok ;; esac ;;
    postgres) case "$1" in stop) pg_stop ;; start) pg_up; wait_for postgres pg_ok ;; esac ;;
    *) die "unknown service '$2' (redis, rabbitmq, sentinel, s3 or postgres)" ;;
  esac
}

kill_cmd() { # service [node]: kill -9, no goodbye
  local n=${2:-1} pidfile pid
  case "$1" in
    redis) pidfile="$(redis_dir "$n")/redis.pid" ;;
    rabbitmq) pidfile="$(rabbit_dir "$n")/rabbitmq.pid" ;;
    sentinel) pidfile="$STACK_DIR/sentinel-$n/sentinel.pid" ;;
    postgres) pidfile="$(pg_dir)/data/postmaster.pid" ;;
    *) die "kill: redis, rabbitmq, sentinel or postgres, got '$1'" ;;
  esac
  [ -f "$pidfile" ] || die "$1 node $n was not started by this script"
  pid=$(head -1 "$pidfile")
  kill -9 "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$pidfile"
  # RabbitMQ's pid file names the Erlang VM; its helper processes (epmd stays, it serves every node) go with it.
}

leader_cmd() { # queue [vhost]: the node number leading a quorum queue
  [ -n "${1:-}" ] || die "usage: stack.sh leader <queue> [vhost]"
  local n leader
  for n in $(seq 1 "$RABBIT_NODES"); do
    rabbit_node_up "$n" || continue
    leader=$(rabbitmqctl_ "$n" list_queues -p "${2:-/}" --no-table-headers name leader 2>/dev/null | awk -v q="$1" '$1 == q { print $2 }')
    [ -n "$leader" ] || continue
    for n in $(seq 1 "$RABBIT_NODES"); do [ "$(rabbit_name "$n")" = "$leader" ] && { echo "$n"; return 0; }; done
  done
  die "no node knows a leader of queue '$1'"
}

quorum_cmd() { # node: exits 0 only when stopping that node leaves every quorum queue a majority
  local n=${1:-1}
  rabbit_node_up "$n" || die "rabbitmq node $n is not up"
  (rabbit_env "$n"; "$RABBIT_BIN/rabbitmq-queues" -q check_if_node_is_quorum_critical >/dev/null)
}

pause_cmd() { # SIGSTOP|SIGCONT service
  [ "$2" = s3 ] || die "only s3 can be paused"
  [ -f "$STACK_DIR/s3/server.pid" ] || die "the S3 server was not started by this script"
  kill -s "$1" "$(cat "$STACK_DIR/s3/server.pid")"
}

remove_buckets_cmd() { # bucket...
  local data="$STACK_DIR/s3/data" bucket
  [ -f "$STACK_DIR/s3/server.pid" ] || die "the S3 server was not started by this script"
  if [ -d "$data/.minio.sys" ]; then
    log "not removed: MinIO keeps its own metadata; use 'mc rb --force' for: $*"
    return 0
  fi
  for bucket in "$@"; do
    case "$bucket" in '' | */* | .*) die "not a bucket name: '$bucket'" ;; esac
    rm -rf -- "${data:?}/$bucket"
  done
}

vhost_cmd() { # add|delete name
  [ -n "${2:-}" ] || die "usage: stack.sh vhost add|delete <name>"
  case "$1" in
    add) rabbitmqctl_ 1 add_vhost "$2" >/dev/null && rabbitmqctl_ 1 set_permissions -p "$2" guest '.*' '.*' '.*' >/dev/null ;;
    delete) rabbitmqctl_ 1 delete_vhost "$2" >/dev/null 2>&1 || true ;;
    *) die "usage: stack.sh vhost add|delete <name>" ;;
  esac
}

# Debian's Chromium (and a font) for the console's browser tests, installed when missing.
browser_cmd() {
  ensure_package /usr/bin/chromium chromium
  ensure_package /usr/share/fonts/truetype/dejavu fonts-dejavu-core
  log "browser: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
}

case "${1:-up}" in
  up) shift || true; cmd_up "$@" ;;
  browser) browser_cmd ;;
  down) cmd_down ;;
  status) cmd_status ;;
  stop | start) service_cmd "$1" "${2:-}" "${3:-}" ;;
  restart) service_cmd stop "${2:-}" "${3:-}"; service_cmd start "${2:-}" "${3:-}" ;;
  kill) kill_cmd "${2:-}" "${3:-1}" ;;
  leader) leader_cmd "${2:-}" "${3:-}" ;;
  quorum-safe) quorum_cmd "${2:-1}" ;;
  remove-buckets) shift; remove_buckets_cmd "$@" ;;
  pause) pause_cmd STOP "${2:-}" ;;
  resume) pause_cmd CONT "${2:-}" ;;
  vhost) vhost_cmd "${2:-}" "${3:-}" ;;
  *) die "usage: stack.sh up [svc...]|browser|down|status|stop <svc> [node]|start <svc> [node]|restart <svc> [node]|kill <svc> [node]|leader <queue> [vhost]|quorum-safe <node>|pause s3|resume s3|remove-buckets <name>...|vhost add|delete <name>" ;;
esac
