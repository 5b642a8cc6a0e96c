//! Per-message compression cost on small messages: lz4, zstd and zstd with a trained
//! dictionary, over JSON and rkyv encodings of held-out chat messages and RPC requests.
//!
//! Groups are `{dataset}/{format}+{algorithm}/{op}`; one iteration compresses (or
//! decompresses) one message, cycling through 300 held-out messages, so the reported time is
//! the mean per-message cost. Compression belongs to the frame: each message's encoding (made
//! beforehand) is written as the payload of a [`Compressed`] frame, so a figure includes the
//! frame header (a few nanoseconds) around the compressor's own cost; decompress reads a frame
//! and decompresses into reused space, keeping no copy. Run with `cargo bench --bench compress`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use zerocodec::frame::Frame;
use zerocodec::prelude::*;
use zerocodec::{CodecId, EncodeBuf, Result};
use zerocodec_codecs::{Compressed, Compression, JsonCodec, Policy, RkyvCodec, ZstdDictionary};

#[path = "../tests/compress_data/mod.rs"]
mod compress_data;

use compress_data::*;

/// Compress every message the algorithm can (the policy's size floor would skip most small
/// messages, which is what production wants but not what this measures).
const POLICY: Policy = Policy::new().with_min_size(0);

/// A message's encoding, made beforehand and written as it is: the inner codec of the
/// compressed frame, so the bench times compression and the frame around it, not the format's
/// encoder. It carries the id of the codec that made the bytes, as that codec would.
#[derive(Debug, Clone, Copy)]
struct Encoded(CodecId);

impl Codec for Encoded {
    type Item = Vec<u8>;
    fn codec_id(&self) -> CodecId {
        self.0
    }
    fn content_type(&self) -> &'static str {
        "application/octet-stream"
    }
}

impl Encode for Encoded {
    #[inline]
    fn encode_into<B: EncodeBuf>(&self, item: &Vec<u8>, out: &mut B) -> Result<()> {
        out.extend_from_slice(item);
        Ok(())
    }
}

impl Decode for Encoded {
    /// The bytes back, for the round-trip check.
    fn decode(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        Ok(bytes.to_vec())
    }
}

/// Reads a decompressed payload without keeping it: the timed decompress copies nothing out
/// of the (reused) space the frame layer decompresses into.
#[derive(Debug, Clone, Copy)]
struct Discard(CodecId);

impl Codec for Discard {
    type Item = usize;
    fn codec_id(&self) -> CodecId {
        self.0
    }
    fn content_type(&self) -> &'static str {
        "application/octet-stream"
    }
}

impl Decode for Discard {
    #[inline]
    fn decode(&self, bytes: &[u8]) -> Result<usize> {
        Ok(black_box(bytes).len())
    }
}

fn encodings<C: Encode>(codec: &C, values: &[C::Item]) -> Vec<Vec<u8>> {
    values
        .iter()
        .map(|v| {
            let mut buf = Vec::new();
            codec.encode_into(v, &mut buf).unwrap();
            buf
        })
        .collect()
}

/// Compresses each of `inputs` (encodings made by the codec `codec`) in a frame with
/// `compression` under [`POLICY`], and decompresses the frames that came out compressed.
fn bench_compression(
    c: &mut Criterion,
    group: &str,
    codec: CodecId,
    compression: Compression,
    inputs: &[Vec<u8>],
) {
    let writer = Compressed::new(Encoded(codec), compression.clone()).with_policy(POLICY);
    let reader = Compressed::new(Discard(codec), compression).with_policy(POLICY);
    // Compress once, check every round trip before timing anything.
    let frames: Vec<(bool, usize, Vec<u8>)> = inputs
        .iter()
        .map(|input| {
            let mut out = Vec::new();
            writer.encode_into(input, &mut out).unwrap();
            assert_eq!(&writer.decode(&out).unwrap(), input, "{group}: round trip");
            assert_eq!(
                reader.decode(&out).unwrap(),
                input.len(),
                "{group}: round trip"
            );
            let frame = Frame::parse(&out).unwrap();
            let (compressed, payload) = (frame.header().is_compressed(), frame.payload().len());
            (compressed, payload, out)
        })
        .collect();
    let raw: usize = inputs.iter().map(Vec::len).sum();
    let stored: usize = frames.iter().map(|(_, payload, _)| payload).sum();
    let framed: usize = frames.iter().map(|(_, _, f)| f.len()).sum();
    let stored_raw = frames.iter().filter(|(compressed, ..)| !compressed).count();
    println!(
        "{group}: {} messages, mean {} raw bytes, ratio {:.3} (payloads; {:.3} with the frame \
         headers), {stored_raw} stored raw",
        inputs.len(),
        raw / inputs.len(),
        stored as f64 / raw as f64,
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
            writer.encode_into(black_box(input), &mut out).unwrap();
            black_box(out.len());
        })
    });
    let compressed: Vec<&[u8]> = frames
        .iter()
        .filter(|(compressed, ..)| *compressed)
        .map(|(_, _, frame)| &frame[..])
        .collect();
    if !compressed.is_empty() {
        let mut i = 0;
        g.bench_function("decompress", |b| {
            b.iter(|| {
                let frame = compressed[i % compressed.len()];
                i += 1;
                black_box(reader.decode(black_box(frame)).unwrap());
            })
        });
    }
    g.finish();
}

fn bench_format<C: Encode>(
    c: &mut Criterion,
    name: &str,
    codec: &C,
    train: &[C::Item],
    held: &[C::Item],
) {
    let inputs = encodings(codec, held);
    let id = codec.codec_id();
    let dict = ZstdDictionary::train_with(codec, train, 8 << 10).unwrap();
    bench_compression(c, &format!("{name}+lz4"), id, Compression::Lz4, &inputs);
    bench_compression(
        c,
        &format!("{name}+zstd3"),
        id,
        Compression::Zstd(3),
        &inputs,
    );
    let with_dict = Compression::zstd_dict(dict, 3).unwrap();
    bench_compression(c, &format!("{name}+zstd3-dict"), id, with_dict, &inputs);
}

fn small_messages(c: &mut Criterion) {
    let chats_train = chat_messages(TRAIN_SEED, 1000);
    let chats = chat_messages(HELD_OUT_SEED, 300);
    let rpcs_train = rpc_requests(TRAIN_SEED, 1000);
    let rpcs = rpc_requests(HELD_OUT_SEED, 300);
    bench_format(c, "chat/json", &JsonCodec::new(), &chats_train, &chats);
    bench_format(c, "chat/rkyv", &RkyvCodec::new(), &chats_train, &chats);
    bench_format(c, "rpc/json", &JsonCodec::new(), &rpcs_train, &rpcs);
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
