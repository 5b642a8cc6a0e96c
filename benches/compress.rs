//! Compression benchmarks (filled in below).

fn main() {}
