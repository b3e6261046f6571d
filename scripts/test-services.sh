#!/usr/bin/env bash
# Real services for the fleet tests and bench/fleet.sh (docs/fleet.md): a PostgreSQL cluster in a
# temporary directory and a one-node Slurm (munged, slurmctld, slurmd on localhost).
#
#   eval "$(scripts/test-services.sh start)"   # installs what is missing, starts both, prints
#                                              # export PROBITY_TEST_STORE=postgresql://... and
#                                              # export SLURM_CONF=... (and PROBITY_SERVICES_DIR)
#   scripts/test-services.sh stop              # ends exactly what start started, removes the dir
#
# Everything lives in $PROBITY_SERVICES_DIR (default /tmp/probity-services-$UID): data, sockets,
# logs and the pid files `stop` reads. Nothing system-wide is started or changed besides
# installing the Debian packages postgresql, slurm-wlm and munge when they are missing.
set -euo pipefail

DIR=${PROBITY_SERVICES_DIR:-/tmp/probity-services-$(id -u)}
cmd=${1:-}

log() { echo "test-services: $*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a command as USER (the daemons refuse root, or should not run as root).
as() {
  local user=$1
  shift
  if [ "$(id -un)" = "$user" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

install_missing() {
  local missing=()
  for p in postgresql slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || { log "missing ${missing[*]} (install them as root)"; exit 2; }
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

start_postgres() {
  local bin port
  bin=$(pg_bin)
  port=$(free_port)
  mkdir -p "$DIR/pg"
  chown postgres: "$DIR/pg"
  as postgres "$bin/initdb" -D "$DIR/pg/data" -U probity --auth=trust -E UTF8 >"$DIR/pg/initdb.log" 2>&1
  # fsync off: a throw-away test cluster; the store's own transactions are what is tested.
  as postgres "$bin/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/server.log" -w -t 60 \
    -o "-p $port -k $DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  as postgres "$bin/psql" -q -h 127.0.0.1 -p "$port" -U probity -d postgres \
    -c "CREATE DATABASE probity" >/dev/null
  echo "$port" >"$DIR/pg/port"
}

start_slurm() {
  local host ctld_port d_port cpus mem
  host=$(hostname -s)
  ctld_port=$(free_port)
  d_port=$(free_port)
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
  mkdir -p "$DIR/munge" "$DIR/slurm/state" "$DIR/slurm/spool"
  chown munge: "$DIR/munge"
  chmod 755 "$DIR/munge"  # munged wants its socket directory searchable by all
  as munge /usr/sbin/munged --socket="$DIR/munge/munge.socket" --pid-file="$DIR/munge/munged.pid" \
    --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed" \
    --key-file=/etc/munge/munge.key
  cat >"$DIR/slurm/slurm.conf" <<CONF
# One-node Slurm for probity's tests (scripts/test-services.sh).
ClusterName=probity-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$DIR/slurm/state
SlurmdSpoolDir=$DIR/slurm/spool
SlurmctldPidFile=$DIR/slurm/slurmctld.pid
SlurmdPidFile=$DIR/slurm/slurmd.pid
SlurmctldLogFile=$DIR/slurm/slurmctld.log
SlurmdLogFile=$DIR/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=1
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  export SLURM_CONF="$DIR/slurm/slurm.conf"
  /usr/sbin/slurmctld -f "$SLURM_CONF"
  /usr/sbin/slurmd -f "$SLURM_CONF"
  for _ in $(seq 1 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then return 0; fi
    sleep 1
  done
  log "slurm did not become ready; see $DIR/slurm/*.log"
  sinfo >&2 || true
  return 1
}

print_env() {
  echo "export PROBITY_SERVICES_DIR='$DIR'"
  echo "export PROBITY_TEST_STORE='postgresql://probity@127.0.0.1:$(cat "$DIR/pg/port")/probity'"
  echo "export SLURM_CONF='$DIR/slurm/slurm.conf'"
}

kill_pidfile() {
  local f=$1
  [ -f "$f" ] || return 0
  local pid
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
}

stop_all() {
  [ -d "$DIR" ] || { log "nothing started in $DIR"; return 0; }
  kill_pidfile "$DIR/slurm/slurmd.pid"
  kill_pidfile "$DIR/slurm/slurmctld.pid"
  kill_pidfile "$DIR/munge/munged.pid"
  if [ -f "$DIR/pg/data/postmaster.pid" ]; then
    as postgres "$(pg_bin)/pg_ctl" -D "$DIR/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
}

case "$cmd" in
  start)
    if [ -f "$DIR/pg/port" ] && [ -f "$DIR/slurm/slurmctld.pid" ] &&
      kill -0 "$(cat "$DIR/slurm/slurmctld.pid")" 2>/dev/null; then
      print_env  # already running: the same environment again
      exit 0
    fi
    stop_all >/dev/null 2>&1 || true
    install_missing
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    trap 'log "start failed; stopping what was started"; stop_all' ERR
    start_postgres
    start_slurm
    trap - ERR
    print_env
    ;;
  stop)
    stop_all
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
