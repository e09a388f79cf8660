#!/usr/bin/env bash
# Sets up and runs Millrace's main job on this machine: installs Redis from apt when missing,
# starts it on 127.0.0.1:6390 (deploy/redis/topology.sh), builds, and runs the millrace CLI.
# For now the main job is the smoke run: publish one entry and read it back through a consumer group.
set -euo pipefail
cd "$(dirname "$0")"
deploy/redis/topology.sh start standalone
export REDIS_ADDRS="${REDIS_ADDRS:-127.0.0.1:6390}"
dotnet run --project src/Millrace.Cli -c Release -- smoke "$@"
