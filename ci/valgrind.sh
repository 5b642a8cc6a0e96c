#!/usr/bin/env bash
# Runs every test binary of the workspace under valgrind memcheck and fails on any definite
# leak or invalid read/write.
#
#   ci/valgrind.sh              # all test binaries (unit and integration tests)
#   ci/valgrind.sh malformed    # only binaries whose name contains "malformed"
#
# Left out: derive/tests/ui.rs (trybuild compiles test crates with rustc in child processes,
# which would put the compiler under valgrind, not zerocodec), doctests (each is its own
# rustc invocation) and benches. Property tests run PROPTEST_CASES=8 (valgrind is ~50x
# slower; the ordinary suite runs 64). Needs valgrind (apt-get install valgrind) and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-}

export CARGO_TERM_COLOR=never
export PROPTEST_CASES=${PROPTEST_CASES:-8}

mapfile -t binaries < <(
  cargo test --workspace --no-run --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .profile.test == true and .executable != null)
           | .executable' |
    sort -u
)

logdir=$(mktemp -d)
status=0
start=$SECONDS
printf '| binary | result | definite leaks | errors | seconds |\n|---|---|---|---|---|\n'
for bin in "${binaries[@]}"; do
  name=$(basename "$bin")
  case "$name" in
    ui-*) continue ;; # trybuild
  esac
  if [ -n "$filter" ] && [[ "$name" != *"$filter"* ]]; then
    continue
  fi
  log="$logdir/$name.log"
  t0=$SECONDS
  rc=0
  valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --error-exitcode=1 --log-file="$log" "$bin" --test-threads=2 -q >"$log.out" 2>&1 || rc=$?
  # "definitely lost: N bytes in M blocks"; absent when nothing leaked at all.
  leaked=$(grep -oE 'definitely lost: [0-9,]+ bytes' "$log" | grep -oE '[0-9,]+' | tail -n 1)
  errors=$(grep -oE 'ERROR SUMMARY: [0-9,]+' "$log" | grep -oE '[0-9,]+' | tail -n 1)
  if [ "$rc" -eq 0 ]; then result=ok; else result="FAILED (exit $rc, see $log)"; status=1; fi
  printf '| %s | %s | %s | %s | %s |\n' "$name" "$result" "${leaked:-0} bytes" "${errors:-?}" \
    "$((SECONDS - t0))"
done
echo
echo "valgrind: $((SECONDS - start)) s in total; logs in $logdir"
exit $status
