#!/usr/bin/env bash
# Runs Docker Compose with the given arguments: the `docker compose` plugin when present, else the
# standalone `docker-compose`, which is installed from apt (Debian's docker-compose) when neither is
# there. The tests use it for `config`; no Docker engine is needed for that.
#
#   deploy/compose/compose.sh -f deploy/docker-compose.yml config
set -euo pipefail

if docker compose version >/dev/null 2>&1; then
  exec docker compose "$@"
fi

if ! command -v docker-compose >/dev/null 2>&1; then
  echo "compose.sh: no Docker Compose found; installing docker-compose from apt" >&2
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo[@]}" apt-get install -y -q docker-compose >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -q >/dev/null 2>&1 || true
    "${sudo[@]}" apt-get install -y -q docker-compose >/dev/null || {
      echo "compose.sh: could not install docker-compose; install the Docker Compose plugin or 'apt-get install docker-compose'" >&2
      exit 127
    }
  fi
fi

exec docker-compose "$@"
