#!/usr/bin/env bash
# Runs the tests of every module that holds `unsafe` under Miri (nightly), which checks them
# for undefined behaviour: out-of-bounds or misaligned reads, use after free, invalid values,
# aliasing violations (Tree Borrows, see below).
#
#   ci/miri.sh          # needs: rustup toolchain install nightly --profile minimal
#                       #        rustup +nightly component add miri rust-src
#
# The `unsafe` code (docs/security.md lists it): OwnedArchive's Deref (src/archived.rs), the
# CappedValidator's ArchiveContext impl (src/validator.rs), BatchRef's unchecked reads
# (codecs/src/batch.rs: get and the iterator) and the AsArchivedJson encoder
# (codecs/src/json_value.rs). Their tests:
#
# - the core crate's unit tests (`-p zerocodec --lib`), except the frame module's: it has no
#   `unsafe`, and its tests parse hundreds of thousands of random headers and checksum frames
#   of megabytes (hours under Miri; they run natively in `cargo test`);
# - the integration tests that build and read OwnedArchive and batches in every storage and
#   alignment, and validate at the nesting cap's boundary, selected by name (the full suites
#   loop over thousands of messages, bit flips and truncations, which take hours under Miri;
#   they run natively in `cargo test` and under valgrind in ci/valgrind.sh).
#
# Left out: tests that reach zstd (C code, which Miri cannot run), the tokio frame codecs (no
# unsafe of ours) and the derive's trybuild tests (they run rustc).
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
"${miri[@]}" -p zerocodec --lib -- --skip frame::tests::

echo "== miri: integration tests of the unsafe-bearing modules (selected)"
"${miri[@]}" -p zerocodec --test batch -- --exact golden_layout corrupt_headers_are_typed_errors \
  corrupt_indexes_are_typed_errors out_of_range_indexes_are_errors a_builder_that_failed_is_unchanged
"${miri[@]}" -p zerocodec --test pool -- --exact a_guard_is_an_encode_buf_for_every_codec \
  default_encode_returns_aligned_bytes_that_decode owned_archives_keep_pooled_buffers_and_return_them
"${miri[@]}" -p zerocodec --test codecs -- --exact access_reads_fields_without_deserializing \
  owned_archive_shares_aligned_bytes_and_copies_unaligned_once unaligned_input_decodes_or_fails_clearly \
  round_trips_every_shape
"${miri[@]}" -p zerocodec --test hybrid -- --exact access_borrows_the_payload_of_an_aligned_frame \
  unaligned_frames_are_rejected_in_place_and_copied_once_when_owned \
  json_payloads_are_not_accessible_in_place_but_access_owned_reencodes_them
"${miri[@]}" -p zerocodec --test limits -- --exact \
  a_cap_of_n_admits_n_minus_one_levels_as_rkyvs_capped_validator_does
"${miri[@]}" -p zerocodec --test api_surface -- --exact owned_archive_constructors_debug_and_clone \
  batch_accessors_debug_and_iteration

echo "== miri: the AsArchivedJson encoder (codecs/src/json_value.rs)"
"${miri[@]}" -p zerocodec-codecs --lib json_value
"${miri[@]}" -p zerocodec --test json_value -- --exact scalars_strings_and_containers_round_trip \
  float_kinds_and_bits_survive rpc_requests_round_trip_and_read_in_place \
  every_buffer_appends_the_same_archive_and_keeps_its_bytes_on_failure \
  truncations_give_typed_errors
