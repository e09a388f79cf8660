#!/usr/bin/env bash
# Millrace's main job on this machine: installs Redis from apt when it is missing, starts it on
# 127.0.0.1:6390 (deploy/redis/topology.sh), builds, and runs `millrace server --workers --demo`:
# the HTTP API and dashboard on http://127.0.0.1:8080, demo workers (echo, sleep, fail) and a demo
# producer, all in one process, in the foreground until Ctrl-C. It prints the dashboard URL and the
# admin key generated for this run (sign in with it). Extra arguments go to `millrace server`
# (e.g. --urls http://0.0.0.0:8080, --demo-rate 200, --fail-rate 0.2).
set -euo pipefail
cd "$(dirname "$0")"

deploy/redis/topology.sh start standalone

export REDIS_ADDRS="${REDIS_ADDRS:-127.0.0.1:6390}"
# Task records on, so the dashboard's task views have something to show (costs a script call per change).
export MILLRACE__TASKSTATE__ENABLED="${MILLRACE__TASKSTATE__ENABLED:-true}"

configuration="${MILLRACE_CONFIGURATION:-Release}"   # the tests use Debug, which test.sh has built already
echo "run.sh: building ($configuration)..." >&2
dotnet build src/Millrace.Cli -c "$configuration" -nologo -v quiet -clp:ErrorsOnly

# exec: Ctrl-C goes straight to the server, which stops its workers gracefully.
exec dotnet "src/Millrace.Cli/bin/$configuration/net10.0/Millrace.Cli.dll" server --workers --demo --quiet "$@"
