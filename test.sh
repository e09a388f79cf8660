#!/usr/bin/env bash
# Runs every test project against real Redis topologies (standalone, ACL, TLS, Sentinel, Cluster)
# started by deploy/redis/topology.sh, which installs Redis from apt when it is missing.
# The last line is the total over all test projects: "N passed, N failed, N skipped".
# Exit code: 0 only when every project ran and nothing failed.
set -uo pipefail
cd "$(dirname "$0")"

results=".test-results"
rm -rf "$results"
mkdir -p "$results"

if ! deploy/redis/topology.sh start standalone acl tls sentinel cluster; then
  echo "test.sh: could not start the Redis topologies (see above)" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# The dashboard's browser tests drive Debian's headless chromium (installed from apt when missing).
if ! deploy/browser/install.sh; then
  echo "test.sh: could not install chromium for the dashboard's browser tests (see above)" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

if ! dotnet build Millrace.slnx -c Debug -nologo -v quiet; then
  echo "test.sh: the build failed (see above)" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

passed=0 failed=0 skipped=0 crashed=0
for project in tests/*/*.Tests.csproj; do   # test projects only (tests/ also holds helper apps)
  name=$(basename "$project" .csproj)
  echo "== $name" >&2
  # --blame-hang-timeout turns a hung test into a failure with a dump instead of a stuck CI run.
  dotnet test "$project" --no-build -c Debug -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" --blame-hang-timeout 5m
  code=$?
  trx="$results/$name.trx"
  counters=$(grep -o '<Counters [^>]*>' "$trx" 2>/dev/null | head -n 1)
  if [ -z "$counters" ]; then
    echo "test.sh: $name produced no results (exit code $code): counted as one failure" >&2
    crashed=$((crashed + 1))
    continue
  fi
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed)
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + total - executed))
  if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "test.sh: $name exited with $code though no test failed: counted as one failure" >&2
    crashed=$((crashed + 1))
  fi
done

failed=$((failed + crashed))
if [ "${KEEP_REDIS:-}" != "1" ] && [ "${CI:-}" = "true" ]; then
  deploy/redis/topology.sh stop >/dev/null 2>&1 || true
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
