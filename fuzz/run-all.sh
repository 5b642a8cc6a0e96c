#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) and prints executions per target.
#
#   fuzz/run-all.sh 300            # with a nightly toolchain installed (cargo +nightly fuzz)
#   FUZZ_TOOLCHAIN=stable fuzz/run-all.sh 60   # stable, via RUSTC_BOOTSTRAP=1
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Corpora live in fuzz/corpus/TARGET (not
# committed); they are seeded from fuzz/seeds/TARGET (committed: golden frames and valid
# encodings). Crashes land in fuzz/artifacts/TARGET and make this script exit non-zero.
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
toolchain=${FUZZ_TOOLCHAIN:-nightly}
if [ "$toolchain" = stable ]; then
  run=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
else
  run=(cargo "+$toolchain" fuzz)
fi
status=0
printf '| target | seconds | executions | exec/s | result |\n|---|---|---|---|---|\n'
for target in $("${run[@]}" list); do
  mkdir -p "corpus/$target"
  [ -d "seeds/$target" ] && cp -n seeds/"$target"/* "corpus/$target/" 2>/dev/null
  log=$(mktemp)
  "${run[@]}" run "$target" "corpus/$target" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    -max_len=65536 >"$log" 2>&1
  rc=$?
  # libFuzzer's closing "Done N runs in S second(s)"; after a crash, the last status line.
  execs=$(sed -n 's/^Done \([0-9]*\) runs in.*/\1/p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  rate=$(grep -E '^#[0-9]+' "$log" | grep -oE 'exec/s: [0-9]+' | tail -n 1 | grep -oE '[0-9]+')
  if [ $rc -eq 0 ]; then result=ok; else result="CRASH (see $log)"; status=1; fi
  printf '| %s | %s | %s | %s | %s |\n' "$target" "$secs" "${execs:-0}" "${rate:-0}" "$result"
done
exit $status
