#!/usr/bin/env bash
# The local stack without Docker: Redis and RabbitMQ from Debian's packages and an
# S3-compatible server (a `minio` binary when one is on PATH, otherwise s3rver from
# npm), all on loopback. Used by `npm run dev`, `npm test`, `npm run bench` and CI.
#
#   scripts/stack.sh up                 install what is missing, start what does not answer, wait until each accepts work
#   scripts/stack.sh down               stop what this script started
#   scripts/stack.sh status             say what answers
#   scripts/stack.sh stop|start|restart redis|rabbitmq|s3
#                                       fault injection for tests (only services this script started)
#   scripts/stack.sh pause|resume s3    the S3 server stops answering (SIGSTOP) but keeps its connections
#   scripts/stack.sh remove-buckets <name>...
#                                       deletes buckets of the local s3rver with everything in them, on disk
#                                       (the bench's, ~250,000 objects a run: s3rver cannot list that many)
#   scripts/stack.sh vhost add|delete <name>
#                                       a RabbitMQ virtual host for one test file (guest has all rights)
#
# Safe to run twice: a service that already answers on its port is reused as it is.
# Ports: REDIS_PORT (6379), AMQP_PORT (5672), S3_PORT (9000). State: STACK_DIR, one per machine
# like the ports (~/.local/state/whatsapp-webhook-service/stack), so every checkout can reuse
# and control the services another one started.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_DIR=${STACK_DIR:-${XDG_STATE_HOME:-${HOME:-/tmp}/.local/state}/whatsapp-webhook-service/stack}
REDIS_PORT=${REDIS_PORT:-6379}
AMQP_PORT=${AMQP_PORT:-5672}
S3_PORT=${S3_PORT:-9000}
S3_ACCESS_KEY=${S3_ACCESS_KEY:-minioadmin}
S3_SECRET_KEY=${S3_SECRET_KEY:-minioadmin}
WAIT_SECONDS=${STACK_WAIT_SECONDS:-90}
RABBIT_BIN=/usr/lib/rabbitmq/bin

log() { printf '[stack] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

probe() { node "$ROOT/scripts/stack-probe.js" "$@" >/dev/null 2>&1; }
redis_ok() { probe redis "redis://127.0.0.1:$REDIS_PORT"; }
amqp_ok() { probe amqp "amqp://guest:guest@127.0.0.1:$AMQP_PORT"; }
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
redis_start() {
  ensure_package redis-server redis-server
  mkdir -p "$STACK_DIR/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
    --dir "$STACK_DIR/redis" --pidfile "$STACK_DIR/redis/redis.pid" --logfile "$STACK_DIR/redis/redis.log" \
    --appendonly yes --appendfsync everysec --save '' >/dev/null
}
redis_stop() {
  [ -f "$STACK_DIR/redis/redis.pid" ] || die "redis was not started by this script"
  redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
  local pid; pid=$(cat "$STACK_DIR/redis/redis.pid" 2>/dev/null || true)
  while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$STACK_DIR/redis/redis.pid"
}

# ---- RabbitMQ ----------------------------------------------------------------
rabbit_env() {
  export HOME="$STACK_DIR/rabbitmq" # the Erlang cookie lives here, shared by server and rabbitmqctl
  export RABBITMQ_NODENAME=wws@localhost
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$AMQP_PORT
  export RABBITMQ_DIST_PORT=$((AMQP_PORT + 20000))
  export RABBITMQ_MNESIA_BASE="$STACK_DIR/rabbitmq/mnesia"
  export RABBITMQ_LOG_BASE="$STACK_DIR/rabbitmq/log"
  export RABBITMQ_CONFIG_FILE="$STACK_DIR/rabbitmq/rabbitmq.conf"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$STACK_DIR/rabbitmq/enabled_plugins"
  export RABBITMQ_CONF_ENV_FILE="$STACK_DIR/rabbitmq/rabbitmq-env.conf"
  export RABBITMQ_PID_FILE="$STACK_DIR/rabbitmq/rabbitmq.pid"
}
rabbitmqctl_() {
  [ -f "$STACK_DIR/rabbitmq/.erlang.cookie" ] ||
    die "the RabbitMQ on port $AMQP_PORT was not started from $STACK_DIR, so it cannot be controlled from here (set STACK_DIR to the directory that started it, or stop that broker)"
  (rabbit_env; "$RABBIT_BIN/rabbitmqctl" -q "$@")
}
rabbit_node_up() { [ -f "$STACK_DIR/rabbitmq/rabbitmq.pid" ] && [ -f "$STACK_DIR/rabbitmq/.erlang.cookie" ] && rabbitmqctl_ ping >/dev/null 2>&1; }
rabbit_start() {
  ensure_package "$RABBIT_BIN/rabbitmq-server" rabbitmq-server
  if rabbit_node_up; then rabbitmqctl_ start_app >/dev/null; return; fi
  mkdir -p "$STACK_DIR/rabbitmq/log"
  printf 'loopback_users = none\ndisk_free_limit.absolute = 50MB\n' >"$STACK_DIR/rabbitmq/rabbitmq.conf"
  printf '[].\n' >"$STACK_DIR/rabbitmq/enabled_plugins"
  : >"$STACK_DIR/rabbitmq/rabbitmq-env.conf"
  (rabbit_env; nohup "$RABBIT_BIN/rabbitmq-server" >"$STACK_DIR/rabbitmq/log/stdout.log" 2>&1 &)
}
# stop_app drops every client connection and closes the port like a broker restart,
# but keeps the Erlang node, so `start` brings it back in about a second.
rabbit_stop() { rabbit_node_up || die "rabbitmq was not started by this script"; rabbitmqctl_ stop_app >/dev/null; }
rabbit_shutdown() { rabbit_node_up && rabbitmqctl_ shutdown >/dev/null 2>&1 || true; rm -f "$STACK_DIR/rabbitmq/rabbitmq.pid"; }

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
up_one() { # name check start
  if $2; then log "$1: reusing the one that answers"; return; fi
  log "$1: starting"
  $3
}

cmd_up() {
  [ -d "$ROOT/node_modules" ] || die "run 'npm ci' first (the readiness probes use the project's clients)"
  up_one redis redis_ok redis_start
  up_one rabbitmq amqp_ok rabbit_start
  up_one s3 s3_ok s3_start
  wait_for redis redis_ok
  wait_for rabbitmq amqp_ok
  wait_for s3 s3_ok
  log "ready: redis 127.0.0.1:$REDIS_PORT, rabbitmq 127.0.0.1:$AMQP_PORT, s3 127.0.0.1:$S3_PORT"
}

cmd_down() {
  [ -f "$STACK_DIR/s3/server.pid" ] && s3_stop
  rabbit_shutdown
  [ -f "$STACK_DIR/redis/redis.pid" ] && redis_stop
  log "stopped what this script started"
}

cmd_status() {
  local rc=0
  if redis_ok; then log "redis: up"; else log "redis: down"; rc=1; fi
  if amqp_ok; then log "rabbitmq: up"; else log "rabbitmq: down"; rc=1; fi
  if s3_ok; then log "s3: up"; else log "s3: down"; rc=1; fi
  return $rc
}

service_cmd() { # action service
  case "$2" in
    redis) case "$1" in stop) redis_stop ;; start) redis_start; wait_for redis redis_ok ;; esac ;;
    rabbitmq) case "$1" in stop) rabbit_stop ;; start) rabbit_start; wait_for rabbitmq amqp_ok ;; esac ;;
    s3) case "$1" in stop) s3_stop ;; start) s3_start; wait_for s3 s3_ok ;; esac ;;
    *) die "unknown service '$2' (redis, rabbitmq or s3)" ;;
  esac
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
    add) rabbitmqctl_ add_vhost "$2" >/dev/null && rabbitmqctl_ set_permissions -p "$2" guest '.*' '.*' '.*' >/dev/null ;;
    delete) rabbitmqctl_ delete_vhost "$2" >/dev/null 2>&1 || true ;;
    *) die "usage: stack.sh vhost add|delete <name>" ;;
  esac
}

case "${1:-up}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  stop | start) service_cmd "$1" "${2:-}" ;;
  restart) service_cmd stop "${2:-}"; service_cmd start "${2:-}" ;;
  remove-buckets) shift; remove_buckets_cmd "$@" ;;
  pause) pause_cmd STOP "${2:-}" ;;
  resume) pause_cmd CONT "${2:-}" ;;
  vhost) vhost_cmd "${2:-}" "${3:-}" ;;
  *) die "usage: stack.sh up|down|status|stop <svc>|start <svc>|restart <svc>|pause s3|resume s3|remove-buckets <name>...|vhost add|delete <name>" ;;
esac
