//! Framed transports: a round of N small messages through an encoder and a decoder, for our
//! frame codec (rkyv, zero-copy views, the compressed hybrid stack) and for what users reach
//! for today (tokio-serde's JSON format; `LengthDelimitedCodec` + serde_json by hand).
//!
//! Throughput is in messages per second (criterion's elements). Heap allocations per message
//! are counted with a counting global allocator on one warm round before timing and printed.
//!
//! `cargo bench --bench framed`

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio_serde::formats::SymmetricalJson;
use tokio_serde::{Deserializer, Serializer};
use tokio_util::bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};
use zerocodec_codecs::{
    ArchivedFrameDecoder, Compression, FrameDecoder, FrameEncoder, HybridCodec, RkyvCodec,
};
use zerocodec_datasets::ChatMessage;
use zerocodec_datasets::messages::chat_messages;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `dealloc`, and `new_size` is the caller's valid request.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const N: usize = 1000;

/// One round: encode every message into `wire`, then decode them all back; returns a checksum
/// of what was read so nothing is optimized away.
type Round<'a> = Box<dyn FnMut(&[ChatMessage], &mut BytesMut) -> u64 + 'a>;

/// A round through one of our frame encoders and decoders; `read` turns each decoded item
/// into the number summed for the check.
fn frame_round<E, D>(mut enc: E, mut dec: D, read: fn(D::Item) -> u64) -> Round<'static>
where
    E: for<'m> Encoder<&'m ChatMessage, Error = zerocodec::Error> + 'static,
    D: Decoder<Error = zerocodec::Error> + 'static,
{
    Box::new(move |msgs, wire| {
        for m in msgs {
            enc.encode(m, wire).unwrap();
        }
        let mut sum = 0;
        while let Some(item) = dec.decode(wire).unwrap() {
            sum += read(item);
        }
        sum
    })
}

fn rounds() -> Vec<(&'static str, Round<'static>)> {
    let owned = |m: ChatMessage| m.timestamp;
    let rkyv = RkyvCodec::<ChatMessage>::new;
    let hybrid_zstd = || HybridCodec::<ChatMessage>::new().with_compression(Compression::zstd());
    let hybrid_lz4 = || HybridCodec::<ChatMessage>::new().with_compression(Compression::Lz4);
    let mut out: Vec<(&'static str, Round<'static>)> = vec![
        (
            "zerocodec-frame/rkyv",
            frame_round(FrameEncoder::new(rkyv()), FrameDecoder::new(rkyv()), owned),
        ),
        (
            "zerocodec-frame/rkyv-archived",
            frame_round(
                FrameEncoder::new(rkyv()),
                ArchivedFrameDecoder::new(rkyv()),
                |view| view.timestamp.to_native(),
            ),
        ),
        (
            "zerocodec-frame/hybrid+lz4",
            frame_round(
                FrameEncoder::new(hybrid_lz4()),
                FrameDecoder::new(hybrid_lz4()),
                owned,
            ),
        ),
        (
            "zerocodec-frame/hybrid+zstd",
            frame_round(
                FrameEncoder::new(hybrid_zstd()),
                FrameDecoder::new(hybrid_zstd()),
                owned,
            ),
        ),
    ];

    // What users reach for today.
    let mut codec = LengthDelimitedCodec::new();
    let mut json = SymmetricalJson::<ChatMessage>::default();
    out.push((
        "tokio-serde/json",
        Box::new(move |msgs, wire| {
            for m in msgs {
                let bytes: Bytes = Pin::new(&mut json).serialize(m).unwrap();
                codec.encode(bytes, wire).unwrap();
            }
            let mut sum = 0;
            while let Some(frame) = codec.decode(wire).unwrap() {
                let m: ChatMessage = Pin::new(&mut json).deserialize(&frame).unwrap();
                sum += m.timestamp;
            }
            sum
        }),
    ));

    let mut codec = LengthDelimitedCodec::new();
    out.push((
        "length-delimited+serde_json",
        Box::new(move |msgs, wire| {
            for m in msgs {
                codec
                    .encode(Bytes::from(serde_json::to_vec(m).unwrap()), wire)
                    .unwrap();
            }
            let mut sum = 0;
            while let Some(frame) = codec.decode(wire).unwrap() {
                let m: ChatMessage = serde_json::from_slice(&frame).unwrap();
                sum += m.timestamp;
            }
            sum
        }),
    ));
    out
}

fn framed(c: &mut Criterion) {
    let msgs = chat_messages(0xF4A3, N);
    let expected: u64 = msgs.iter().map(|m| m.timestamp).sum();
    let mut group = c.benchmark_group("chat/framed");
    group.throughput(Throughput::Elements(N as u64));
    for (name, mut round) in rounds() {
        let mut wire = BytesMut::with_capacity(1 << 20);
        // Round-trip check, and warm-up so buffers, pools and contexts exist.
        for _ in 0..3 {
            assert_eq!(
                round(&msgs, &mut wire),
                expected,
                "{name} lost or changed messages"
            );
        }
        let before = ALLOCS.load(Ordering::Relaxed);
        assert_eq!(round(&msgs, &mut wire), expected);
        let allocs = ALLOCS.load(Ordering::Relaxed) - before;
        eprintln!(
            "chat/framed/{name}: {:.2} heap allocations per message (encode + decode)",
            allocs as f64 / N as f64
        );
        group.bench_function(name, |b| b.iter(|| black_box(round(&msgs, &mut wire))));
    }
    group.finish();
}

criterion_group!(benches, framed);
criterion_main!(benches);
