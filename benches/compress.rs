//! Per-message compression cost on small messages: lz4, zstd and zstd with a trained
//! dictionary, over JSON and rkyv encodings of held-out chat messages and RPC requests.
//!
//! Groups are `{dataset}/{format}+{algorithm}/{op}`; one iteration compresses (or
//! decompresses) one message, cycling through 300 held-out messages, so the reported time is
//! the mean per-message cost. Run with `cargo bench --bench compress`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use zerocodec::{Codec, CompressionId, Transform};
use zerocodec_codecs::{JsonCodec, Lz4, Policy, RkyvCodec, Zstd, ZstdDict, ZstdDictionary};

#[path = "../tests/compress_data/mod.rs"]
mod compress_data;

use compress_data::*;

/// Compress every message the algorithm can (the policy's size floor would skip most small
/// messages, which is what production wants but not what this measures).
const POLICY: Policy = Policy::new().with_min_size(0);

fn encodings<T, C: Codec<T>>(codec: &C, values: &[T]) -> Vec<Vec<u8>> {
    values
        .iter()
        .map(|v| {
            let mut buf = Vec::new();
            codec.encode_into(v, &mut buf).unwrap();
            buf
        })
        .collect()
}

fn bench_transform<X: Transform>(
    c: &mut Criterion,
    group: &str,
    transform: &X,
    inputs: &[Vec<u8>],
) {
    // Compress once, check every round trip before timing anything.
    let frames: Vec<(CompressionId, Vec<u8>)> = inputs
        .iter()
        .map(|input| {
            let mut out = Vec::new();
            let id = transform.compress_into(input, &mut out).unwrap();
            let mut back = Vec::new();
            if id == CompressionId::NONE {
                back.extend_from_slice(&out);
            } else {
                transform
                    .decompress_into(id, transform.dictionary_id(), &out, &mut back)
                    .unwrap();
            }
            assert_eq!(&back, input, "{group}: round trip");
            (id, out)
        })
        .collect();
    let raw: usize = inputs.iter().map(Vec::len).sum();
    let framed: usize = frames.iter().map(|(_, f)| f.len()).sum();
    let stored_raw = frames
        .iter()
        .filter(|(id, _)| *id == CompressionId::NONE)
        .count();
    println!(
        "{group}: {} messages, mean {} raw bytes, ratio {:.3}, {stored_raw} stored raw",
        inputs.len(),
        raw / inputs.len(),
        framed as f64 / raw as f64
    );

    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes((raw / inputs.len()) as u64));
    let mut out = Vec::with_capacity(64 << 10);
    let mut i = 0;
    g.bench_function("compress", |b| {
        b.iter(|| {
            let input = &inputs[i % inputs.len()];
            i += 1;
            out.clear();
            black_box(transform.compress_into(black_box(input), &mut out).unwrap());
        })
    });
    let compressed: Vec<&(CompressionId, Vec<u8>)> = frames
        .iter()
        .filter(|(id, _)| *id != CompressionId::NONE)
        .collect();
    if !compressed.is_empty() {
        let mut i = 0;
        g.bench_function("decompress", |b| {
            b.iter(|| {
                let (id, frame) = compressed[i % compressed.len()];
                i += 1;
                out.clear();
                transform
                    .decompress_into(*id, transform.dictionary_id(), black_box(frame), &mut out)
                    .unwrap();
                black_box(&out);
            })
        });
    }
    g.finish();
}

fn bench_format<T, C: Codec<T>>(c: &mut Criterion, name: &str, codec: &C, train: &[T], held: &[T]) {
    let inputs = encodings(codec, held);
    let dict = ZstdDictionary::train_with(codec, train, 8 << 10).unwrap();
    bench_transform(
        c,
        &format!("{name}+lz4"),
        &Lz4::new().with_policy(POLICY),
        &inputs,
    );
    bench_transform(
        c,
        &format!("{name}+zstd3"),
        &Zstd::new(3).with_policy(POLICY),
        &inputs,
    );
    let with_dict = ZstdDict::new(dict, 3).unwrap().with_policy(POLICY);
    bench_transform(c, &format!("{name}+zstd3-dict"), &with_dict, &inputs);
}

fn small_messages(c: &mut Criterion) {
    let chats_train = chat_messages(TRAIN_SEED, 1000);
    let chats = chat_messages(HELD_OUT_SEED, 300);
    let rpcs_train = rpc_requests(TRAIN_SEED, 1000);
    let rpcs = rpc_requests(HELD_OUT_SEED, 300);
    bench_format(c, "chat/json", &JsonCodec, &chats_train, &chats);
    bench_format(c, "chat/rkyv", &RkyvCodec::new(), &chats_train, &chats);
    bench_format(c, "rpc/json", &JsonCodec, &rpcs_train, &rpcs);
    bench_format(c, "rpc/rkyv", &RkyvCodec::new(), &rpcs_train, &rpcs);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40);
    targets = small_messages
}
criterion_main!(benches);
