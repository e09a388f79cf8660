#!/usr/bin/env bash
# Start/stop local Redis topologies on loopback for Millrace tests and benchmarks.
#
#   deploy/redis/topology.sh start  [NAME...]   # NAME: standalone acl tls sentinel cluster bench all
#   deploy/redis/topology.sh stop   [NAME...]   # no NAME = every topology except bench
#   deploy/redis/topology.sh status [NAME...]
#   deploy/redis/topology.sh install            # only ensure the Debian packages
#
# All state lives under ${MILLRACE_REDIS_DIR:-/tmp/millrace-redis}/<name>/. See README.md.
set -euo pipefail

readonly HOST=127.0.0.1
readonly START_TIMEOUT=20   # seconds for one instance to answer PING
readonly TOPO_TIMEOUT=30    # seconds for sentinel/cluster to become healthy
readonly STOP_TIMEOUT=10    # seconds for SHUTDOWN before falling back to kill
readonly LOCK_TIMEOUT=180   # seconds to wait for a concurrent invocation

readonly PORT_STANDALONE=6390 PORT_ACL=6391 PORT_TLS=6392 PORT_BENCH=6395
readonly SENTINEL_REDIS_PORTS=(6400 6401)
readonly SENTINEL_PORTS=(26400 26401 26402)
readonly SENTINEL_MASTER=millrace-master
readonly CLUSTER_PORTS=(7000 7001 7002 7003 7004 7005)
readonly ACL_USER=millrace ACL_PASS=millrace-secret

readonly DEFAULT_NAMES=(standalone acl tls sentinel cluster)
readonly ALL_NAMES=(standalone acl tls sentinel cluster bench)

BASE=${MILLRACE_REDIS_DIR:-/tmp/millrace-redis}
TLS_CERT_DIR=""   # set by init_base

# ---------------------------------------------------------------------------
# helpers

log() { printf 'redis: %s\n' "$*" >&2; }
die() { printf 'redis: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat >&2 <<'EOF'
usage: topology.sh start  [NAME...]
       topology.sh stop   [NAME...]
       topology.sh status [NAME...]
       topology.sh install
NAME: standalone acl tls sentinel cluster bench all
      (no NAME = all but bench; "all" includes bench)
EOF
  exit 2
}

have() { command -v "$1" >/dev/null 2>&1; }

ensure_packages() {
  local -a pkgs=()
  if ! have redis-server || ! have redis-cli || ! have redis-sentinel; then
    pkgs+=(redis-server redis-tools redis-sentinel)
  fi
  have openssl || pkgs+=(openssl)
  ((${#pkgs[@]})) || return 0

  local -a sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    have sudo || die "need root or sudo to install: ${pkgs[*]}"
    sudo=(sudo)
  fi
  log "installing ${pkgs[*]} with apt-get"
  # The Debian packages may start system services on 6379/26379; we never use those ports.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update >&2 \
    && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}" >&2 \
    || die "apt-get install failed"
  have redis-server && have redis-cli && have redis-sentinel \
    || die "redis-server/redis-cli/redis-sentinel still missing after install"
}

init_base() {
  local repo
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
  check_outside() {
    case "$1/" in
      "$repo"/*) die "MILLRACE_REDIS_DIR ($1) is inside the repository ($repo); use a path outside it" ;;
    esac
  }
  check_outside "$(realpath -m "$BASE" 2>/dev/null || echo "$BASE")"
  mkdir -p "$BASE" || die "cannot create $BASE"
  BASE=$(cd "$BASE" && pwd -P)
  check_outside "$BASE"
  TLS_CERT_DIR="$BASE/tls/tls"
}

acquire_lock() {
  have flock || return 0
  exec 9>"$BASE/.lock"
  flock -w "$LOCK_TIMEOUT" 9 || die "another topology.sh is still running (lock $BASE/.lock)"
}

# redis-cli against one of our ports, with the right auth / TLS options.
rcli() {
  local port=$1; shift
  local -a extra=()
  case $port in
    "$PORT_ACL") extra=(--user "$ACL_USER" --pass "$ACL_PASS" --no-auth-warning) ;;
    "$PORT_TLS") extra=(--tls --cacert "$TLS_CERT_DIR/ca.crt") ;;
  esac
  timeout 5 redis-cli -h "$HOST" -p "$port" "${extra[@]}" "$@" 2>/dev/null 9>&-
}

is_up() { [[ "$(rcli "$1" PING | tr -d '\r')" == PONG ]]; }

# TCP listener present on the port (whatever it is)?
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# value of "field:value" from INFO output on stdin
info_field() { tr -d '\r' | awk -F: -v k="$1" '$1 == k { print $2; exit }'; }

# value following key line in a flat key/value reply (SENTINEL master ...) on stdin
kv_field() { tr -d '\r' | awk -v k="$1" 'NR % 2 == 1 && $0 == k { getline v; print v; exit }'; }

pid_from() { local f=$1 p=""; [[ -f $f ]] && p=$(tr -dc '0-9' <"$f"); printf '%s' "$p"; }

# Is pid alive (a zombie counts as dead: PID 1 in containers may reap late)?
pid_running() {
  [[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 1
  [[ $(awk '$1 == "State:" { print $2 }' "/proc/$1/status" 2>/dev/null) != Z ]]
}

# Is pid alive and a redis process?
pid_is_redis() {
  local pid=$1
  pid_running "$pid" || return 1
  grep -q redis "/proc/$pid/comm" 2>/dev/null || grep -qa redis "/proc/$pid/cmdline" 2>/dev/null
}

# print_log_tail FILE [BYTE_OFFSET]: last lines of a log (only what was written after OFFSET)
print_log_tail() {
  local f=$1 off=${2:-0}
  [[ -s $f ]] || return 0
  (($(stat -c %s "$f" 2>/dev/null || echo 0) > off)) || off=0
  printf -- '--- last lines of %s:\n' "$f" >&2
  tail -c +$((off + 1)) "$f" | tail -n 20 >&2
}

# ---------------------------------------------------------------------------
# config writers

# write_server_conf FILE PORT DIR  (extra directives on stdin)
write_server_conf() {
  local file=$1 port=$2 dir=$3
  {
    cat <<EOF
# Generated by deploy/redis/topology.sh (rewritten on every start).
daemonize yes
bind 127.0.0.1
protected-mode no
port $port
dir "$dir"
pidfile "$dir/redis.pid"
logfile "$dir/redis.log"
save ""
appendonly no
EOF
    cat
  } >"$file.tmp"
  mv -f "$file.tmp" "$file"
}

# write_sentinel_conf FILE PORT DIR MASTER_PORT [MYID]
write_sentinel_conf() {
  local file=$1 port=$2 dir=$3 master=$4 myid=${5:-}
  {
    cat <<EOF
# Generated by deploy/redis/topology.sh; Sentinel rewrites this file at runtime.
daemonize yes
bind 127.0.0.1
protected-mode no
port $port
dir "$dir"
pidfile "$dir/sentinel.pid"
logfile "$dir/sentinel.log"
save ""
appendonly no
sentinel resolve-hostnames no
sentinel announce-ip 127.0.0.1
EOF
    [[ -n $myid ]] && echo "sentinel myid $myid"
    cat <<EOF
sentinel monitor $SENTINEL_MASTER 127.0.0.1 $master 2
sentinel down-after-milliseconds $SENTINEL_MASTER 2000
sentinel failover-timeout $SENTINEL_MASTER 10000
sentinel parallel-syncs $SENTINEL_MASTER 1
EOF
  } >"$file.tmp"
  mv -f "$file.tmp" "$file"
}

ensure_tls_certs() {
  local d=$TLS_CERT_DIR
  mkdir -p "$d"
  [[ -s $d/ca.crt && -s $d/ca.key && -s $d/server.crt && -s $d/server.key ]] && return 0

  local tmp out
  tmp=$(mktemp -d "$d/.gen.XXXXXX")
  out="$tmp/openssl.out"
  cat >"$tmp/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = Millrace Test CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF
  (
    set -e
    umask 077
    if [[ -s $d/ca.crt && -s $d/ca.key ]]; then
      cp "$d/ca.crt" "$d/ca.key" "$tmp/"
    else
      openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/CN=Millrace Test CA" -config "$tmp/openssl.cnf" -extensions v3_ca \
        -keyout "$tmp/ca.key" -out "$tmp/ca.crt"
    fi
    openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
      -config "$tmp/openssl.cnf" -keyout "$tmp/server.key" -out "$tmp/server.csr"
    openssl x509 -req -sha256 -days 3650 -in "$tmp/server.csr" \
      -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
      -extfile "$tmp/openssl.cnf" -extensions v3_server -out "$tmp/server.crt"
    openssl verify -CAfile "$tmp/ca.crt" "$tmp/server.crt"
  ) >"$out" 2>&1 || { cat "$out" >&2; rm -rf "$tmp"; die "tls: certificate generation failed"; }
  chmod 644 "$tmp/ca.crt" "$tmp/server.crt"
  chmod 600 "$tmp/ca.key" "$tmp/server.key"
  mv -f "$tmp/ca.key" "$tmp/ca.crt" "$tmp/server.key" "$tmp/server.crt" "$d/"
  rm -rf "$tmp"
}

# ---------------------------------------------------------------------------
# generic instance control.  KIND is "redis" or "sentinel"; files are DIR/KIND.{conf,pid,log}

BUSY_PORTS=""      # ports found taken by something not answering PING
declare -A LOG_OFFSET=()   # log size before launch, per port

# launch LABEL PORT DIR KIND   (config already written)
launch() {
  local label=$1 port=$2 dir=$3 kind=$4 bin=redis-server
  [[ $kind == sentinel ]] && bin=redis-sentinel
  if port_busy "$port"; then
    log "$label: port $port is already in use but does not answer PING; waiting"
    BUSY_PORTS+=" $port "
    return 0
  fi
  rm -f "$dir/$kind.pid"
  LOG_OFFSET[$port]=$(stat -c %s "$dir/$kind.log" 2>/dev/null || echo 0)
  # close the lock fd so the daemon does not hold it
  if ! "$bin" "$dir/$kind.conf" >"$dir/launch.out" 2>&1 </dev/null 9>&-; then
    cat "$dir/launch.out" >&2
    print_log_tail "$dir/$kind.log"
    die "$label: $bin failed to start on $HOST:$port"
  fi
}

# wait_up LABEL PORT DIR KIND
wait_up() {
  local label=$1 port=$2 dir=$3 kind=$4 end=$((SECONDS + START_TIMEOUT)) pid
  until is_up "$port"; do
    pid=$(pid_from "$dir/$kind.pid")
    if ((SECONDS >= end)) || { [[ -n $pid ]] && ! pid_running "$pid"; }; then
      printf 'redis: error: %s did not answer PING on %s:%s within %ss\n' \
        "$label" "$HOST" "$port" "$START_TIMEOUT" >&2
      if [[ $BUSY_PORTS == *" $port "* ]]; then
        printf 'redis: error: port %s was already taken by another process; stop it or free the port\n' "$port" >&2
      else
        [[ -s $dir/launch.out ]] && cat "$dir/launch.out" >&2
        print_log_tail "$dir/$kind.log" "${LOG_OFFSET[$port]:-0}"
      fi
      exit 1
    fi
    sleep 0.2
  done
}

# stop_instance LABEL PORT DIR KIND
stop_instance() {
  local label=$1 port=$2 dir=$3 kind=$4 pid end
  pid=$(pid_from "$dir/$kind.pid")
  pid_is_redis "$pid" || pid=""
  if [[ -z $pid ]] && ! port_busy "$port"; then
    rm -f "$dir/$kind.pid"
    return 0
  fi
  if is_up "$port"; then
    rcli "$port" SHUTDOWN NOSAVE >/dev/null || true
  fi
  end=$((SECONDS + STOP_TIMEOUT))
  while { port_busy "$port" || { pid_running "$pid"; }; } && ((SECONDS < end)); do
    sleep 0.1
  done
  if pid_running "$pid"; then
    log "$label: SHUTDOWN did not stop pid $pid; sending SIGTERM"
    kill -TERM "$pid" 2>/dev/null || true
    end=$((SECONDS + 5))
    while pid_running "$pid" && ((SECONDS < end)); do sleep 0.1; done
    if pid_running "$pid"; then
      log "$label: sending SIGKILL to pid $pid"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  end=$((SECONDS + 5))
  while port_busy "$port" && ((SECONDS < end)); do sleep 0.1; done
  if port_busy "$port"; then
    if [[ -z $pid ]]; then
      log "warning: $label: port $port is held by a process this script did not start; left alone"
      return 0
    fi
    die "$label: port $HOST:$port is still in use after stopping"
  fi
  rm -f "$dir/$kind.pid"
  log "$label stopped ($HOST:$port)"
}

status_line() {
  local label=$1 port=$2 kind=$3 role="-" state=down info
  if is_up "$port"; then
    state=up
    if [[ $kind == sentinel ]]; then
      role=sentinel
    else
      info=$(rcli "$port" INFO replication || true)
      role=$(info_field role <<<"$info")
      [[ $role == slave ]] && role=replica
      [[ -n $role ]] || role="?"
    fi
  elif port_busy "$port"; then
    role="not-answering"
  fi
  printf '%-24s %-16s %-10s %s\n' "$label" "$HOST:$port" "$role" "$state"
}

# ---------------------------------------------------------------------------
# single-instance topologies: standalone, acl, tls, bench

single_port() {
  case $1 in
    standalone) echo "$PORT_STANDALONE" ;;
    acl) echo "$PORT_ACL" ;;
    tls) echo "$PORT_TLS" ;;
    bench) echo "$PORT_BENCH" ;;
  esac
}

start_single() {
  local name=$1 port dir
  port=$(single_port "$name")
  dir="$BASE/$name"
  mkdir -p "$dir"
  [[ $name == tls ]] && ensure_tls_certs
  if is_up "$port"; then
    log "$name already up on $HOST:$port"
    return 0
  fi
  case $name in
    standalone | bench)
      write_server_conf "$dir/redis.conf" "$port" "$dir" </dev/null ;;
    acl)
      write_server_conf "$dir/redis.conf" "$port" "$dir" <<EOF
user default off
user $ACL_USER on >$ACL_PASS ~* &* +@all
EOF
      ;;
    tls)
      write_server_conf "$dir/redis.conf" 0 "$dir" <<EOF
tls-port $port
tls-cert-file "$TLS_CERT_DIR/server.crt"
tls-key-file "$TLS_CERT_DIR/server.key"
tls-ca-cert-file "$TLS_CERT_DIR/ca.crt"
tls-auth-clients no
EOF
      ;;
  esac
  launch "$name" "$port" "$dir" redis
  wait_up "$name" "$port" "$dir" redis
  log "$name up on $HOST:$port"
}

stop_single() {
  local name=$1 port
  port=$(single_port "$name")
  stop_instance "$name" "$port" "$BASE/$name" redis
}

status_single() {
  local name=$1
  status_line "$name" "$(single_port "$name")" redis
}

# ---------------------------------------------------------------------------
# sentinel: primary 6400, replica 6401, sentinels 26400-26402

s_redis_dir() { echo "$BASE/sentinel/redis-$1"; }
s_sent_dir() { echo "$BASE/sentinel/sentinel-$1"; }

# Current primary port as seen by running sentinels / nodes (6400 if unknown).
sentinel_current_master() {
  local p out info role
  for p in "${SENTINEL_PORTS[@]}"; do
    out=$(rcli "$p" SENTINEL get-master-addr-by-name "$SENTINEL_MASTER" | tr -d '\r' | sed -n 2p || true)
    case $out in 6400 | 6401) echo "$out"; return 0 ;; esac
  done
  for p in "${SENTINEL_REDIS_PORTS[@]}"; do
    info=$(rcli "$p" INFO replication || true)
    role=$(info_field role <<<"$info")
    if [[ $role == master ]]; then echo "$p"; return 0; fi
    if [[ $role == slave ]]; then
      out=$(info_field master_port <<<"$info")
      case $out in 6400 | 6401) echo "$out"; return 0 ;; esac
    fi
  done
  echo 6400
}

write_sentinel_redis_conf() {
  local port=$1 master=$2 dir
  dir=$(s_redis_dir "$port")
  mkdir -p "$dir"
  if [[ $port == "$master" ]]; then
    write_server_conf "$dir/redis.conf" "$port" "$dir" <<<"replica-announce-ip 127.0.0.1"
  else
    write_server_conf "$dir/redis.conf" "$port" "$dir" <<EOF
replica-announce-ip 127.0.0.1
replicaof 127.0.0.1 $master
EOF
  fi
}

# Returns 0 when healthy; otherwise sets SENTINEL_WHY.
SENTINEL_WHY=""
sentinel_healthy() {
  local p addr first="" master replica info out
  for p in "${SENTINEL_PORTS[@]}"; do
    addr=$(rcli "$p" SENTINEL get-master-addr-by-name "$SENTINEL_MASTER" | tr -d '\r' | paste -sd' ' || true)
    if [[ -z $addr ]]; then SENTINEL_WHY="sentinel $p does not report $SENTINEL_MASTER"; return 1; fi
    if [[ -z $first ]]; then first=$addr
    elif [[ $addr != "$first" ]]; then SENTINEL_WHY="sentinels disagree on the primary ($first vs $addr)"; return 1
    fi
  done
  master=${first#* }
  case $first in
    "127.0.0.1 6400") replica=6401 ;;
    "127.0.0.1 6401") replica=6400 ;;
    *) SENTINEL_WHY="unexpected primary address: $first"; return 1 ;;
  esac
  info=$(rcli "$master" INFO replication || true)
  if [[ $(info_field role <<<"$info") != master ]]; then
    SENTINEL_WHY="node $master (primary per sentinels) is not a master yet"; return 1
  fi
  info=$(rcli "$replica" INFO replication || true)
  if [[ $(info_field role <<<"$info") != slave || $(info_field master_port <<<"$info") != "$master" ]]; then
    SENTINEL_WHY="node $replica is not a replica of $master yet"; return 1
  fi
  if [[ $(info_field master_link_status <<<"$info") != up ]]; then
    SENTINEL_WHY="replica $replica: master_link_status is not up"; return 1
  fi
  for p in "${SENTINEL_PORTS[@]}"; do
    out=$(rcli "$p" SENTINEL master "$SENTINEL_MASTER" || true)
    if [[ $(kv_field flags <<<"$out") != master ]]; then
      SENTINEL_WHY="sentinel $p: master flags are '$(kv_field flags <<<"$out")'"; return 1
    fi
    if [[ $(kv_field num-other-sentinels <<<"$out") != 2 ]]; then
      SENTINEL_WHY="sentinel $p sees $(kv_field num-other-sentinels <<<"$out") other sentinels (want 2)"; return 1
    fi
    if [[ $(kv_field num-slaves <<<"$out") != 1 ]]; then
      SENTINEL_WHY="sentinel $p knows $(kv_field num-slaves <<<"$out") replicas (want 1)"; return 1
    fi
  done
  SENTINEL_MASTER_PORT=$master
  return 0
}

start_sentinel() {
  local p dir any_up=0 master myid started=0
  mkdir -p "$BASE/sentinel"
  for p in "${SENTINEL_REDIS_PORTS[@]}" "${SENTINEL_PORTS[@]}"; do
    is_up "$p" && any_up=1
  done

  if ((any_up)); then
    master=$(sentinel_current_master)
  else
    master=6400   # fresh start: canonical layout, fresh sentinel state
  fi

  # data nodes: primary first
  local -a order=("$master")
  for p in "${SENTINEL_REDIS_PORTS[@]}"; do [[ $p == "$master" ]] || order+=("$p"); done
  for p in "${order[@]}"; do
    is_up "$p" && continue
    dir=$(s_redis_dir "$p")
    write_sentinel_redis_conf "$p" "$master"
    launch "sentinel/redis-$p" "$p" "$dir" redis
    started=1
  done
  for p in "${order[@]}"; do wait_up "sentinel/redis-$p" "$p" "$(s_redis_dir "$p")" redis; done

  for p in "${SENTINEL_PORTS[@]}"; do
    is_up "$p" && continue
    dir=$(s_sent_dir "$p")
    mkdir -p "$dir"
    myid=""
    # keep a sentinel's identity when it rejoins a running topology
    if ((any_up)) && [[ -f $dir/sentinel.conf ]]; then
      myid=$(awk '$1 == "sentinel" && $2 == "myid" { print $3; exit }' "$dir/sentinel.conf")
    fi
    write_sentinel_conf "$dir/sentinel.conf" "$p" "$dir" "$master" "$myid"
    launch "sentinel/sentinel-$p" "$p" "$dir" sentinel
    started=1
  done
  for p in "${SENTINEL_PORTS[@]}"; do wait_up "sentinel/sentinel-$p" "$p" "$(s_sent_dir "$p")" sentinel; done

  local end=$((SECONDS + TOPO_TIMEOUT))
  SENTINEL_MASTER_PORT=""
  until sentinel_healthy; do
    if ((SECONDS >= end)); then
      for p in "${SENTINEL_PORTS[@]}"; do print_log_tail "$(s_sent_dir "$p")/sentinel.log"; done
      die "sentinel topology not healthy after ${TOPO_TIMEOUT}s: $SENTINEL_WHY"
    fi
    sleep 0.5
  done
  if ((started)); then
    log "sentinel up: primary $HOST:$SENTINEL_MASTER_PORT, sentinels on ${SENTINEL_PORTS[*]} (master name $SENTINEL_MASTER)"
  else
    log "sentinel already up: primary $HOST:$SENTINEL_MASTER_PORT, sentinels on ${SENTINEL_PORTS[*]}"
  fi
}

stop_sentinel() {
  local p
  # sentinels first so they do not fail over while the data nodes go down
  for p in "${SENTINEL_PORTS[@]}"; do
    stop_instance "sentinel/sentinel-$p" "$p" "$(s_sent_dir "$p")" sentinel
  done
  for p in 6401 6400; do
    stop_instance "sentinel/redis-$p" "$p" "$(s_redis_dir "$p")" redis
  done
}

status_sentinel() {
  local p
  for p in "${SENTINEL_REDIS_PORTS[@]}"; do status_line "sentinel/redis-$p" "$p" redis; done
  for p in "${SENTINEL_PORTS[@]}"; do status_line "sentinel/sentinel-$p" "$p" sentinel; done
}

# ---------------------------------------------------------------------------
# cluster: 7000-7005, 3 primaries + 3 replicas

c_dir() { echo "$BASE/cluster/$1"; }

cluster_start_nodes() {
  local p dir started=0
  for p in "${CLUSTER_PORTS[@]}"; do
    is_up "$p" && continue
    dir=$(c_dir "$p")
    mkdir -p "$dir"
    write_server_conf "$dir/redis.conf" "$p" "$dir" <<EOF
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 5000
cluster-announce-ip 127.0.0.1
EOF
    launch "cluster/$p" "$p" "$dir" redis
    started=1
  done
  for p in "${CLUSTER_PORTS[@]}"; do wait_up "cluster/$p" "$p" "$(c_dir "$p")" redis; done
  CLUSTER_STARTED_NODES=$started
}

# prints: formed | fresh | broken
cluster_classify() {
  local p info ids="" nodes fresh=1 formed=1
  for p in "${CLUSTER_PORTS[@]}"; do
    ids+=$(rcli "$p" CLUSTER MYID | tr -d '\r')$'\n'
  done
  ids=$(sort <<<"$ids" | sed '/^$/d')
  for p in "${CLUSTER_PORTS[@]}"; do
    info=$(rcli "$p" CLUSTER INFO || true)
    [[ $(info_field cluster_known_nodes <<<"$info") == 1 && $(info_field cluster_slots_assigned <<<"$info") == 0 ]] || fresh=0
    [[ $(info_field cluster_known_nodes <<<"$info") == 6 && $(info_field cluster_slots_assigned <<<"$info") == 16384 ]] || formed=0
    nodes=$(rcli "$p" CLUSTER NODES | awk '{ print $1 }' | sort | sed '/^$/d' || true)
    [[ $nodes == "$ids" ]] || formed=0
  done
  if ((fresh)); then echo fresh
  elif ((formed)) && [[ $(wc -l <<<"$ids") == 6 ]]; then echo formed
  else echo broken
  fi
}

CLUSTER_WHY=""
cluster_healthy() {
  local p info
  for p in "${CLUSTER_PORTS[@]}"; do
    info=$(rcli "$p" CLUSTER INFO || true)
    if [[ $(info_field cluster_state <<<"$info") != ok ]]; then
      CLUSTER_WHY="node $p: cluster_state is '$(info_field cluster_state <<<"$info")'"; return 1
    fi
    if [[ $(info_field cluster_known_nodes <<<"$info") != 6 ]]; then
      CLUSTER_WHY="node $p knows $(info_field cluster_known_nodes <<<"$info") nodes (want 6)"; return 1
    fi
    info=$(rcli "$p" INFO replication || true)
    if [[ $(info_field role <<<"$info") == slave && $(info_field master_link_status <<<"$info") != up ]]; then
      CLUSTER_WHY="replica $p: master_link_status is not up"; return 1
    fi
  done
  return 0
}

cluster_wait_healthy() {
  local end=$((SECONDS + TOPO_TIMEOUT))
  until cluster_healthy; do
    ((SECONDS >= end)) && return 1
    sleep 0.5
  done
}

cluster_create() {
  local -a addrs=()
  local p out="$BASE/cluster/create.log"
  for p in "${CLUSTER_PORTS[@]}"; do addrs+=("$HOST:$p"); done
  log "cluster: creating cluster on ${CLUSTER_PORTS[*]}"
  if ! timeout 120 redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
      >"$out" 2>&1 </dev/null 9>&-; then
    tail -n 30 "$out" >&2
    die "cluster: redis-cli --cluster create failed (full output: $out)"
  fi
}

cluster_wipe() {
  local p
  for p in "${CLUSTER_PORTS[@]}"; do stop_instance "cluster/$p" "$p" "$(c_dir "$p")" redis; done
  rm -rf "$BASE/cluster"
}

cluster_fail() {
  local p
  for p in "${CLUSTER_PORTS[@]}"; do print_log_tail "$(c_dir "$p")/redis.log"; done
  die "cluster not healthy after ${TOPO_TIMEOUT}s: $1"
}

start_cluster() {
  local state
  mkdir -p "$BASE/cluster"
  CLUSTER_STARTED_NODES=0
  cluster_start_nodes
  state=$(cluster_classify)
  case $state in
    formed)
      # Running (or restarted from nodes.conf) cluster: leave its layout alone.
      if ! cluster_wait_healthy; then
        log "cluster: formed but not healthy after ${TOPO_TIMEOUT}s ($CLUSTER_WHY); wiping and recreating"
        cluster_wipe
        mkdir -p "$BASE/cluster"
        cluster_start_nodes
        cluster_create
        cluster_wait_healthy || cluster_fail "$CLUSTER_WHY"
        CLUSTER_STARTED_NODES=1
      fi
      ;;
    fresh)
      cluster_create
      cluster_wait_healthy || cluster_fail "$CLUSTER_WHY"
      CLUSTER_STARTED_NODES=1
      ;;
    broken)
      log "cluster: nodes are not one healthy cluster; wiping state and recreating"
      cluster_wipe
      mkdir -p "$BASE/cluster"
      cluster_start_nodes
      cluster_create
      cluster_wait_healthy || cluster_fail "$CLUSTER_WHY"
      CLUSTER_STARTED_NODES=1
      ;;
  esac
  if ((CLUSTER_STARTED_NODES)); then
    log "cluster up on $HOST:${CLUSTER_PORTS[0]}-${CLUSTER_PORTS[5]} (cluster_state:ok)"
  else
    log "cluster already up on $HOST:${CLUSTER_PORTS[0]}-${CLUSTER_PORTS[5]}"
  fi
}

stop_cluster() {
  local p
  for p in "${CLUSTER_PORTS[@]}"; do stop_instance "cluster/$p" "$p" "$(c_dir "$p")" redis; done
}

status_cluster() {
  local p
  for p in "${CLUSTER_PORTS[@]}"; do status_line "cluster/$p" "$p" redis; done
}

# ---------------------------------------------------------------------------
# main

main() {
  (($#)) || usage
  local cmd=$1; shift
  local -a names=()
  local n
  for n in "$@"; do
    case $n in
      standalone | acl | tls | sentinel | cluster | bench) names+=("$n") ;;
      all) names+=("${ALL_NAMES[@]}") ;;
      *) printf 'redis: error: unknown topology: %s\n' "$n" >&2; usage ;;
    esac
  done
  ((${#names[@]})) || names=("${DEFAULT_NAMES[@]}")

  case $cmd in
    install)
      (($# == 0)) || usage
      ensure_packages
      log "packages present: $(redis-server --version | awk '{ print $3 }')"
      ;;
    start)
      ensure_packages
      init_base
      acquire_lock
      for n in "${names[@]}"; do
        case $n in
          sentinel) start_sentinel ;;
          cluster) start_cluster ;;
          *) start_single "$n" ;;
        esac
      done
      ;;
    stop)
      init_base
      acquire_lock
      local i
      for ((i = ${#names[@]} - 1; i >= 0; i--)); do
        case ${names[i]} in
          sentinel) stop_sentinel ;;
          cluster) stop_cluster ;;
          *) stop_single "${names[i]}" ;;
        esac
      done
      ;;
    status)
      init_base
      have redis-cli || log "warning: redis-cli is not installed; everything reports down"
      for n in "${names[@]}"; do
        case $n in
          sentinel) status_sentinel ;;
          cluster) status_cluster ;;
          *) status_single "$n" ;;
        esac
      done
      ;;
    *) usage ;;
  esac
}

main "$@"
