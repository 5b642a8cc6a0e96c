//! The frame header's cost: writing and parsing it alone, and the hybrid codec against raw
//! rkyv on one small message (ChatMessage).
//!
//! Run with `cargo bench --bench header`. Groups are named `{dataset}/{codec}/{op}`; buffers
//! are built outside the timed loops, and every codec's output is checked to round-trip before
//! it is timed. Compare ratios measured in one run: the machine is shared and noisy.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rkyv::util::AlignedVec;
use zerocodec::frame::{self, Frame, FrameHeader};
use zerocodec::{Codec, CodecId, Metrics};
use zerocodec_codecs::{HybridCodec, RkyvCodec};
use zerocodec_datasets::ChatMessage;

fn chat() -> ChatMessage {
    ChatMessage {
        id: "msg-000042".into(),
        content: "Hello from zerocodec! Shall we meet at 10:30 in room 4?".into(),
        timestamp: 1_763_700_000_123,
        sender: "user-1337".into(),
        room_id: "room-general".into(),
    }
}

fn header_alone(c: &mut Criterion) {
    let header = FrameHeader::new(CodecId::RKYV)
        .with_fingerprint(0x0123_4567_89AB_CDEF)
        .with_checksum();
    let mut g = c.benchmark_group("header");
    g.throughput(Throughput::Bytes(header.len() as u64));
    g.bench_function("frame/encode", |b| {
        b.iter(|| black_box(black_box(&header).to_bytes()))
    });
    let bytes = header.to_bytes();
    assert_eq!(FrameHeader::parse(&bytes).unwrap().codec, CodecId::RKYV);
    g.bench_function("frame/parse", |b| {
        b.iter(|| FrameHeader::parse(black_box(&bytes)).unwrap())
    });
    // The checksum over a ChatMessage-sized frame (32-byte header, 128-byte payload).
    let payload = [0x5Au8; 128];
    g.bench_function("frame/crc32c-160B", |b| {
        b.iter(|| frame::checksum(black_box(&bytes), black_box(&payload)))
    });
    g.finish();
}

fn chat_hybrid_vs_rkyv(c: &mut Criterion) {
    let msg = chat();
    let rkyv = RkyvCodec::new();
    let full = HybridCodec::<ChatMessage>::new();
    let compact = HybridCodec::<ChatMessage>::compact();
    let metered = HybridCodec::<ChatMessage>::new().with_metrics(Arc::new(Metrics::new()));

    // Round-trip checks before timing, so a fast wrong codec cannot win.
    let raw = rkyv.encode(&msg).unwrap();
    assert_eq!(rkyv.decode::<ChatMessage>(&raw).unwrap(), msg);
    let full_frame = full.encode(&msg).unwrap();
    let compact_frame = compact.encode(&msg).unwrap();
    for (codec, frame) in [(&full, &full_frame), (&compact, &compact_frame)] {
        assert_eq!(codec.decode(frame).unwrap(), msg);
        assert_eq!(codec.access(frame).unwrap().content, msg.content);
        assert!(Frame::parse(frame).is_ok());
    }
    eprintln!(
        "chat sizes: rkyv {} B, hybrid (checksum + fingerprint) {} B, hybrid compact {} B",
        raw.len(),
        full_frame.len(),
        compact_frame.len()
    );

    let mut g = c.benchmark_group("chat");
    g.throughput(Throughput::Bytes(raw.len() as u64));
    let mut buf = AlignedVec::<16>::with_capacity(1024);

    g.bench_function("rkyv/encode", |b| {
        b.iter(|| {
            buf.clear();
            Codec::<ChatMessage>::encode_into(&rkyv, black_box(&msg), &mut buf).unwrap();
            black_box(buf.len())
        })
    });
    for (name, codec) in [
        ("hybrid/encode", &full),
        ("hybrid-compact/encode", &compact),
        ("hybrid-metrics/encode", &metered),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                buf.clear();
                codec.encode_into(black_box(&msg), &mut buf).unwrap();
                black_box(buf.len())
            })
        });
    }

    g.bench_function("rkyv/access", |b| {
        b.iter(|| {
            black_box(
                rkyv.access::<ChatMessage>(black_box(&raw))
                    .unwrap()
                    .timestamp,
            )
        })
    });
    for (name, codec, frame) in [
        ("hybrid/access", &full, &full_frame),
        ("hybrid-compact/access", &compact, &compact_frame),
        ("hybrid-metrics/access", &metered, &full_frame),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| black_box(codec.access(black_box(frame)).unwrap().timestamp))
        });
    }

    g.bench_function("rkyv/decode", |b| {
        b.iter(|| rkyv.decode::<ChatMessage>(black_box(&raw)).unwrap())
    });
    g.bench_function("hybrid/decode", |b| {
        b.iter(|| full.decode(black_box(&full_frame)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, header_alone, chat_hybrid_vs_rkyv);
criterion_main!(benches);
