#!/usr/bin/env bash
# `npm test` several times in a row while busy loops keep every core at 100 %: proves that no
# test depends on the machine's speed. Starts and stops the load itself.
#
#   scripts/test-under-load.sh [runs=3] [-- jest args…]
#   BUSY=4 scripts/test-under-load.sh 1 -- --selectProjects integration
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
shift $(( $# > 0 ? 1 : 0 ))
[ "${1:-}" = "--" ] && shift
busy=${BUSY:-2}

loops=()
stop_load() { [ ${#loops[@]} -eq 0 ] || kill "${loops[@]}" 2>/dev/null || true; }
trap stop_load EXIT INT TERM
for _ in $(seq "$busy"); do
  node -e 'for (;;) {}' &
  loops+=($!)
done
echo "load: $busy busy loops (pids ${loops[*]}) on $(nproc) cores"

failed=0
for run in $(seq "$runs"); do
  started=$SECONDS
  if npm test -- "$@"; then outcome=passed; else outcome=FAILED; failed=$((failed + 1)); fi
  echo "::: under load, run $run of $runs $outcome in $((SECONDS - started)) s"
done
echo "::: under load: $((runs - failed)) of $runs runs passed"
[ "$failed" -eq 0 ]
