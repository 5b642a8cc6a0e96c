#!/usr/bin/env bash
# Runs the tests of every module that holds `unsafe` under Miri (nightly), which checks them
# for undefined behaviour: out-of-bounds or misaligned reads, use after free, invalid values,
# aliasing violations (Stacked Borrows).
#
#   ci/miri.sh          # needs: rustup toolchain install nightly --profile minimal
#                       #        rustup +nightly component add miri rust-src
#
# The `unsafe` blocks (docs/security.md lists them) are OwnedArchive's Deref (src/archive.rs)
# and BatchRef's unchecked reads (src/batch.rs: get and the iterator). Their tests:
#
# - the core crate's unit tests (`-p zerocodec --lib`: batch, pool, buf, frame, transform,
#   metrics, error, message), except frame::tests::fast_and_diagnosing_parsers_agree, which
#   parses 2.5 million headers (safe code only; hours under Miri);
# - integration tests that build and read OwnedArchive and batches: tests/batch.rs,
#   tests/pool.rs, tests/codecs.rs (rkyv access, access_owned, aligned and unaligned input),
#   tests/hybrid.rs (hybrid access, access_owned and access_transformed over a test-only
#   transform) and tests/golden/.
#
# Left out: tests that reach zstd (C code, which Miri cannot run: tests/compress.rs,
# compress_bomb.rs, limits.rs, malformed.rs, proptest.rs), the tokio frame codecs
# (framed.rs: no unsafe of ours) and the derive's trybuild tests (they run rustc).
#
# Aliasing model: Tree Borrows. rkyv's relative pointers reach from a field to bytes outside
# it, which Stacked Borrows (Miri's default) rejects inside rkyv/bytecheck on any archive with
# a string; rkyv's maintainer tests under Tree Borrows and states it supports them
# (rkyv/rkyv#436). Override with MIRIFLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."

export MIRIFLAGS=${MIRIFLAGS:--Zmiri-tree-borrows}
miri=(cargo +nightly miri test --target-dir target/miri)

echo "== miri: zerocodec unit tests"
"${miri[@]}" -p zerocodec --lib -- --skip frame::tests::fast_and_diagnosing_parsers_agree

echo "== miri: integration tests of the unsafe-bearing modules"
"${miri[@]}" -p zerocodec --test batch --test pool --test codecs --test hybrid --test golden \
  --test alloc
