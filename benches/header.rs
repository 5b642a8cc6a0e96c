//! The frame header's cost: writing and parsing it alone, the hybrid codec against raw rkyv
//! on one small message (ChatMessage), and what reading an older version of it costs
//! (`chat/hybrid-upgrade/*`).
//!
//! Run with `cargo bench --bench header`. Groups are named `{dataset}/{codec}/{op}`; buffers
//! are built outside the timed loops, and every codec's output is checked to round-trip before
//! it is timed. Compare ratios measured in one run: the machine is shared and noisy.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rkyv::util::AlignedVec;
use zerocodec::CodecId;
use zerocodec::bytes::Bytes;
use zerocodec::frame::{self, Frame, FrameHeader};
use zerocodec::prelude::*;
use zerocodec_codecs::{HybridCodec, HybridMetrics, RkyvCodec};
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
    // Recognizing a whole default hybrid frame (fingerprint, no checksum; ChatMessage-sized):
    // field by field (`Frame::parse`, which replaced the removed `parse_valid`; the id is
    // kept), and by comparing it with the one header it can have (`Frame::raw_payload`).
    let fingerprint = 0x0123_4567_89AB_CDEF;
    let mut default = FrameHeader::new(CodecId::RKYV).with_fingerprint(fingerprint);
    default.payload_len = 152;
    let mut frame = default.to_bytes()[..default.len()].to_vec();
    frame.extend_from_slice(&[0x5A; 152]);
    let parsed = Frame::parse(&frame).unwrap();
    assert_eq!(parsed.header(), &default);
    let expected = parsed.payload();
    assert_eq!(
        Frame::raw_payload(&frame, CodecId::RKYV, Some(fingerprint)),
        Some(expected)
    );
    g.bench_function("frame/parse-valid-168B", |b| {
        b.iter(|| Frame::parse(black_box(&frame)).ok().map(|f| f.payload()))
    });
    g.bench_function("frame/raw-v2-payload-168B", |b| {
        b.iter(|| Frame::raw_payload(black_box(&frame), CodecId::RKYV, Some(fingerprint)))
    });
    g.finish();
}

/// The hybrid configurations compared with raw rkyv.
struct Configs {
    /// No checksum, no fingerprint: a 16-byte header.
    compact: HybridCodec<ChatMessage>,
    /// The default: fingerprint, no checksum (a 16-byte header).
    default: HybridCodec<ChatMessage>,
    /// Fingerprint and CRC-32C.
    checksum: HybridCodec<ChatMessage>,
    /// The default with its metrics on (`HybridMetrics`).
    metered: HybridCodec<ChatMessage>,
}

impl Configs {
    fn new() -> Self {
        Self {
            compact: HybridCodec::compact(),
            default: HybridCodec::new(),
            checksum: HybridCodec::new().with_checksum(true),
            metered: HybridCodec::new().with_metrics(Arc::new(HybridMetrics::new())),
        }
    }

    fn all(&self) -> [(&'static str, &HybridCodec<ChatMessage>); 4] {
        [
            ("hybrid-compact", &self.compact),
            ("hybrid", &self.default),
            ("hybrid-checksum", &self.checksum),
            ("hybrid-metrics", &self.metered),
        ]
    }
}

fn chat_hybrid_vs_rkyv(c: &mut Criterion) {
    let msg = chat();
    let rkyv = RkyvCodec::<ChatMessage>::new();
    let configs = Configs::new();

    // Round-trip checks before timing, so a fast wrong codec cannot win.
    let raw = rkyv.encode(&msg).unwrap();
    assert_eq!(rkyv.decode(&raw).unwrap(), msg);
    let frames: Vec<_> = configs
        .all()
        .iter()
        .map(|(name, codec)| {
            let frame = codec.encode(&msg).unwrap();
            assert_eq!(codec.decode(&frame).unwrap(), msg);
            assert_eq!(codec.access(&frame).unwrap().content, msg.content);
            assert!(Frame::parse(&frame).is_ok());
            eprintln!("chat size: {name} {} B (rkyv {} B)", frame.len(), raw.len());
            frame
        })
        .collect();

    let mut g = c.benchmark_group("chat");
    g.throughput(Throughput::Bytes(raw.len() as u64));
    let mut buf = AlignedVec::<16>::with_capacity(1024);

    g.bench_function("rkyv/encode", |b| {
        b.iter(|| {
            buf.clear();
            rkyv.encode_into(black_box(&msg), &mut buf).unwrap();
            black_box(buf.len())
        })
    });
    for (name, codec) in configs.all() {
        g.bench_function(format!("{name}/encode"), |b| {
            b.iter(|| {
                buf.clear();
                codec.encode_into(black_box(&msg), &mut buf).unwrap();
                black_box(buf.len())
            })
        });
    }
    g.bench_function("rkyv/access", |b| {
        b.iter(|| black_box(rkyv.access(black_box(&raw)).unwrap().timestamp))
    });
    for ((name, codec), frame) in configs.all().into_iter().zip(&frames) {
        g.bench_function(format!("{name}/access"), |b| {
            b.iter(|| black_box(codec.access(black_box(frame)).unwrap().timestamp))
        });
    }
    g.bench_function("rkyv/decode", |b| {
        b.iter(|| rkyv.decode(black_box(&raw)).unwrap())
    });
    g.bench_function("hybrid/decode", |b| {
        b.iter(|| configs.default.decode(black_box(&frames[1])).unwrap())
    });
    g.finish();

    interleaved_overhead(&msg, &rkyv, &configs, &frames, &raw);
}

/// Times `a` and `b` alternately, in blocks of `BLOCK` calls, and returns the median of the
/// per-block ratios `b / a`. Both sides see the same machine load, so the ratio holds on a
/// shared, noisy machine where sequential benchmarks drift apart.
fn median_ratio(mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64, f64) {
    const BLOCK: u32 = 2_000;
    const BLOCKS: usize = 301;
    let time = |f: &mut dyn FnMut()| {
        let t = std::time::Instant::now();
        for _ in 0..BLOCK {
            f();
        }
        t.elapsed().as_nanos() as f64 / f64::from(BLOCK)
    };
    let mut samples = Vec::with_capacity(BLOCKS);
    for i in 0..BLOCKS {
        // Alternate which side goes first, so neither always runs on a warmer cache.
        let (ta, tb) = if i % 2 == 0 {
            let ta = time(&mut a);
            (ta, time(&mut b))
        } else {
            let tb = time(&mut b);
            (time(&mut a), tb)
        };
        samples.push((tb / ta, ta, tb));
    }
    samples.sort_by(|x, y| x.0.total_cmp(&y.0));
    samples[BLOCKS / 2]
}

/// Prints the hybrid codec's overhead over raw rkyv, measured interleaved (see
/// [`median_ratio`]).
fn interleaved_overhead(
    msg: &ChatMessage,
    rkyv: &RkyvCodec<ChatMessage>,
    configs: &Configs,
    frames: &[zerocodec::bytes::Bytes],
    raw: &[u8],
) {
    let mut buf_a = AlignedVec::<16>::with_capacity(1024);
    let mut buf_b = AlignedVec::<16>::with_capacity(1024);
    for (name, codec) in configs.all() {
        let (ratio, ta, tb) = median_ratio(
            || {
                buf_a.clear();
                rkyv.encode_into(black_box(msg), &mut buf_a).unwrap();
                black_box(buf_a.len());
            },
            || {
                buf_b.clear();
                codec.encode_into(black_box(msg), &mut buf_b).unwrap();
                black_box(buf_b.len());
            },
        );
        eprintln!(
            "interleaved chat/{name}/encode vs chat/rkyv/encode: {tb:.1} ns vs {ta:.1} ns = \
             {ratio:.2}x (+{:.1} ns)",
            tb - ta
        );
    }
    for ((name, codec), frame) in configs.all().into_iter().zip(frames) {
        let (ratio, ta, tb) = median_ratio(
            || {
                black_box(rkyv.access(black_box(raw)).unwrap().timestamp);
            },
            || {
                black_box(codec.access(black_box(frame)).unwrap().timestamp);
            },
        );
        eprintln!(
            "interleaved chat/{name}/access vs chat/rkyv/access: {tb:.1} ns vs {ta:.1} ns = \
             {ratio:.2}x (+{:.1} ns)",
            tb - ta
        );
    }
}

/// `ChatMessage` before `room_id` was added: an older version the current type upgrades from.
#[zerocodec::message(name = "ChatMessage", version = 1)]
struct ChatMessageV1 {
    id: String,
    content: String,
    timestamp: u64,
    sender: String,
}

impl From<ChatMessageV1> for ChatMessage {
    fn from(v1: ChatMessageV1) -> Self {
        ChatMessage {
            id: v1.id,
            content: v1.content,
            timestamp: v1.timestamp,
            sender: v1.sender,
            room_id: "room-general".into(),
        }
    }
}

/// Reading a frame of an older version (decoded as it, converted with `From`; for
/// `access_owned`, archived again) against reading the current version, with one reader that
/// upgrades from the older one.
fn chat_upgrade(c: &mut Criterion) {
    let msg = chat();
    let old = ChatMessageV1 {
        id: msg.id.clone(),
        content: msg.content.clone(),
        timestamp: msg.timestamp,
        sender: msg.sender.clone(),
    };
    let reader = HybridCodec::<ChatMessage>::new().upgrade_from::<ChatMessageV1>();
    let current = reader.encode(&msg).unwrap();
    let older = HybridCodec::new().encode(&old).unwrap();
    // Round-trip checks before timing.
    assert_eq!(reader.decode(&current).unwrap(), msg);
    assert_eq!(reader.decode(&older).unwrap(), msg);
    assert!(reader.access_owned(current.clone()).unwrap().is_shared());
    let owned = reader.access_owned(older.clone()).unwrap();
    assert_eq!(owned.deserialize().unwrap(), msg);

    let mut g = c.benchmark_group("chat/hybrid-upgrade");
    g.throughput(Throughput::Bytes(current.len() as u64));
    for (name, frame) in [("current", &current), ("v1", &older)] {
        g.bench_function(format!("decode-{name}"), |b| {
            b.iter(|| reader.decode(black_box(frame)).unwrap())
        });
        g.bench_function(format!("access_owned-{name}"), |b| {
            b.iter(|| {
                let frame: Bytes = black_box(frame).clone();
                black_box(reader.access_owned(frame).unwrap().timestamp)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, header_alone, chat_hybrid_vs_rkyv, chat_upgrade);
criterion_main!(benches);
