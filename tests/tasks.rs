//! The everyday tasks of `examples/tasks.rs`, run as tests: each task is the example's own
//! function, so the example cannot drift from what CI checks. (The fifth task, a tokio
//! `Framed` server reading archived request views, is the `rpc` example, which
//! `tests/rpc.rs` runs.)

#[path = "../examples/tasks.rs"]
#[allow(dead_code, reason = "the example's `main` calls the same tasks")]
mod tasks;

#[test]
fn a_json_and_rkyv_round_trip() {
    tasks::json_and_rkyv_round_trip().unwrap();
}

#[test]
fn b_zstd_hybrid_frame_written_and_read_back() {
    tasks::zstd_hybrid_frame().unwrap();
}

#[test]
fn c_zero_copy_read_of_a_frame_that_arrived_as_bytes() {
    tasks::zero_copy_read_of_bytes().unwrap();
}

#[test]
fn d_batch_of_1000_as_one_compressed_frame() {
    tasks::compressed_batch_of_1000().unwrap();
}
