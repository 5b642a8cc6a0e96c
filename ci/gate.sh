#!/usr/bin/env bash
# The instruction-count gate: runs benches/instructions.rs under callgrind (gungraun) and fails
# when an overhead limit is missed or one of our figures grows more than 2% over the committed
# baseline, ci/gate-baseline.txt. Instruction counts are deterministic: two runs of one build on
# one toolchain give the same figures.
#
#   bash ci/gate.sh            # check (exit 0: passed, 1: failed, 2: could not run)
#   bash ci/gate.sh --update   # rewrite ci/gate-baseline.txt from this run, then check the
#                              # limits; commit the file on its own, saying why figures moved
#
# Needs valgrind and gungraun-runner at exactly the version of the `gungraun` dev-dependency
# (Cargo.toml); .ci/run installs both on a fresh machine:
#   apt-get install -y valgrind
#   cargo install --locked --version =<version> gungraun-runner
#
# The limits and the baseline logic live in report/src/gate.rs and report/src/targets.rs (the
# report crate, zerocodec-report, reads the same figures); this script builds and runs the
# benches, then runs that check (`cargo run --release -p zerocodec-report -- --gate`).
# Takes about 2 minutes to run on 2 cores, plus the release build of the bench and the report.
set -euo pipefail
cd "$(dirname "$0")/.."

update=()
case "${1:-}" in
  "") ;;
  --update) update=(--update) ;;
  -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "usage: bash ci/gate.sh [--update]" >&2; exit 2 ;;
esac

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
started=$SECONDS

version=$(sed -n 's/^gungraun = "=\([0-9.]*\)"/\1/p' Cargo.toml | head -n 1)
if [ -z "$version" ]; then
  echo "gate: cannot find the pinned gungraun version (gungraun = \"=x.y.z\") in Cargo.toml" >&2
  exit 2
fi
if ! command -v valgrind >/dev/null 2>&1; then
  echo "gate: valgrind is not installed (apt-get install -y valgrind)" >&2
  exit 2
fi
runner_version=$(gungraun-runner --version 2>/dev/null | awk '{print $NF}' || true)
if [ "$runner_version" != "$version" ]; then
  echo "gate: gungraun-runner ${runner_version:-is not installed}; the benches need $version:" >&2
  echo "      cargo install --locked --version =$version gungraun-runner" >&2
  exit 2
fi

# Where cargo builds, and where gungraun writes (its own default, made explicit so the check
# reads exactly this run's summaries).
target_dir=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
export GUNGRAUN_HOME="$target_dir/gungraun"
bench_out="$GUNGRAUN_HOME/zerocodec/instructions"

# What the figures depend on, recorded in the baseline and compared on every check.
export ZEROCODEC_GATE_ENV="$(rustc --version); $(valgrind --version); gungraun $version"

echo "== gate: build (cargo bench --bench instructions --no-run; the report crate)"
cargo bench --bench instructions --no-run
cargo build --release -p zerocodec-report
built=$SECONDS

echo "== gate: run benches/instructions.rs under callgrind"
# Fresh summaries only: a benchmark that no longer runs must not leave an old figure behind.
rm -rf "$bench_out"
cargo bench --bench instructions -- --save-summary=json --nosummary >"$target_dir/gate-bench.log" 2>&1 || {
  status=$?
  tail -n 40 "$target_dir/gate-bench.log" >&2
  echo "gate: the benches failed (status $status); full log: $target_dir/gate-bench.log" >&2
  exit 2
}
ran=$SECONDS

echo "== gate: check (overhead limits; our figures within 2% of ci/gate-baseline.txt)"
status=0
cargo run --release --quiet -p zerocodec-report -- --gate ${update[@]+"${update[@]}"} \
  --gungraun-home "$GUNGRAUN_HOME" || status=$?
echo "gate: build $((built - started)) s, benches $((ran - built)) s, total $((SECONDS - started)) s"
exit "$status"
