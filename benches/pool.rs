//! Pooled vs unpooled encoding of small messages, and batch append / get throughput.
//!
//! Run with `cargo bench --bench pool`. Compare ratios within one run: the machines are
//! shared and noisy.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rkyv::util::AlignedVec;
use zerocodec::bytes::Bytes;
use zerocodec::prelude::*;
use zerocodec::{BufferPool, PoolConfig};
use zerocodec_codecs::{Batch, BatchBuilder, BatchRef, RkyvCodec};
use zerocodec_datasets::ChatMessage;

const BATCH: usize = 1_000;

fn chat(i: usize) -> ChatMessage {
    ChatMessage {
        id: format!("msg-{i:06}"),
        content: format!(
            "Hello from zerocodec! Shall we meet at 10:{:02} in room {i}?",
            i % 60
        ),
        timestamp: 1_763_700_000_000 + i as u64,
        sender: format!("user-{}", i % 97),
        room_id: "room-general".into(),
    }
}

/// `unpooled_bytes` is `encode` (a fresh aligned buffer per message, handed over without a
/// copy); `pooled_bytes` is `encode_pooled` with the global pool (what `encode` did before).
fn encode(c: &mut Criterion) {
    let codec = RkyvCodec::<ChatMessage>::new();
    let global = BufferPool::global();
    let msg = chat(42);
    let pooled = codec.encode_pooled(&msg, global).unwrap();
    let unpooled = codec.encode(&msg).unwrap();
    assert_eq!(pooled, unpooled);
    assert_eq!(codec.decode(&pooled).unwrap(), msg);

    let mut group = c.benchmark_group("chat/rkyv/encode");
    group.throughput(Throughput::Bytes(pooled.len() as u64));
    group.bench_function("unpooled_bytes", |b| {
        b.iter(|| codec.encode(black_box(&msg)).unwrap())
    });
    group.bench_function("pooled_bytes", |b| {
        b.iter(|| codec.encode_pooled(black_box(&msg), global).unwrap())
    });
    let pool = BufferPool::new(PoolConfig::new());
    group.bench_function("pooled_guard", |b| {
        b.iter(|| {
            let mut buf = pool.take();
            codec.encode_into(black_box(&msg), &mut buf).unwrap();
            black_box(buf.len())
        })
    });
    let mut reused = AlignedVec::<16>::new();
    group.bench_function("reused_buffer", |b| {
        b.iter(|| {
            reused.clear();
            codec.encode_into(black_box(&msg), &mut reused).unwrap();
            black_box(reused.len())
        })
    });
    group.finish();

    // A larger message (64 chat messages, ~12 KB): a fresh buffer grows by reallocation
    // while a pooled one already has the capacity.
    let codec = RkyvCodec::<Vec<ChatMessage>>::new();
    let many: Vec<ChatMessage> = (0..64).map(chat).collect();
    let pooled = codec.encode_pooled(&many, global).unwrap();
    let mut buf = AlignedVec::<16>::new();
    codec.encode_into(&many, &mut buf).unwrap();
    assert_eq!(&pooled[..], &buf[..]);
    let mut group = c.benchmark_group("chat64/rkyv/encode");
    group.throughput(Throughput::Bytes(pooled.len() as u64));
    group.bench_function("unpooled_bytes", |b| {
        b.iter(|| codec.encode(black_box(&many)).unwrap())
    });
    group.bench_function("pooled_bytes", |b| {
        b.iter(|| codec.encode_pooled(black_box(&many), global).unwrap())
    });
    group.finish();
}

fn batch(c: &mut Criterion) {
    let codec = RkyvCodec::<ChatMessage>::new();
    let msgs: Vec<ChatMessage> = (0..BATCH).map(chat).collect();
    let pool = BufferPool::new(PoolConfig::new().max_retained_capacity(4 << 20));
    let build = |msgs: &[ChatMessage]| {
        let mut builder = BatchBuilder::<ChatMessage>::with_pool(&pool);
        for m in msgs {
            builder.append(m).unwrap();
        }
        builder
    };
    let batch: Batch<ChatMessage> = build(&msgs).finish().unwrap();
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(&batch.deserialize(i).unwrap(), m);
    }
    let bytes = batch.into_bytes();

    let mut group = c.benchmark_group("chat/batch");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("append", |b| {
        b.iter(|| black_box(build(black_box(&msgs)).into_bytes()))
    });
    group.bench_function("append_finish", |b| {
        b.iter(|| black_box(build(black_box(&msgs)).finish().unwrap()))
    });
    group.bench_function("open", |b| {
        b.iter(|| {
            BatchRef::<ChatMessage>::open(black_box(&bytes))
                .unwrap()
                .len()
        })
    });
    let opened = BatchRef::<ChatMessage>::open(&bytes).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let order: Vec<usize> = (0..BATCH)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % BATCH as u64) as usize
        })
        .collect();
    group.bench_function("get_random", |b| {
        b.iter(|| {
            order
                .iter()
                .map(|&i| opened.get(i).unwrap().timestamp.to_native())
                .fold(0u64, u64::wrapping_add)
        })
    });
    group.bench_function("iter", |b| {
        b.iter(|| {
            opened
                .iter()
                .map(|m| m.timestamp.to_native())
                .fold(0u64, u64::wrapping_add)
        })
    });
    // The alternative to a batch: each message its own buffer, validated on every read.
    let singles: Vec<Bytes> = msgs.iter().map(|m| codec.encode(m).unwrap()).collect();
    group.bench_function("access_each_single", |b| {
        b.iter(|| {
            order
                .iter()
                .map(|&i| codec.access(&singles[i]).unwrap().timestamp.to_native())
                .fold(0u64, u64::wrapping_add)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = encode, batch
}
criterion_main!(benches);
