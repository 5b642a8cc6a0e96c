//! Decompression bombs and steady-state allocations, measured with a counting allocator.
//!
//! The allocator counts per thread, so tests running in parallel do not see each other's
//! allocations.

mod common;
mod compress_data;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use compress_data::*;
use zerocodec::bytes::Bytes;
use zerocodec::frame::{Frame, FrameHeader, FrameWriter, MAX_HEADER_LEN};
use zerocodec::prelude::*;
use zerocodec::rkyv::util::AlignedVec;
use zerocodec::{CodecId, CompressionId, EncodeBuf, ErrorKind, fnv1a_64};
use zerocodec_codecs::{
    BatchBuilder, BatchCodec, Compressed, Compression, DEFAULT_MAX_DECOMPRESSED_LEN, HybridCodec,
    JsonCodec, Policy, RkyvCodec, ZstdDictionary,
};
use zerocodec_datasets::ChatMessage;

struct Counting;

thread_local! {
    static COUNT: Cell<u64> = const { Cell::new(0) };
    static TOTAL: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn record_alloc(size: usize) {
    // `try_with`: thread-locals may be gone while a thread shuts down.
    let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    let _ = TOTAL.try_with(|t| t.set(t.get() + size as u64));
    let _ = LIVE.try_with(|live| {
        let now = live.get() + size as i64;
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

fn record_free(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get() - size as i64));
}

// SAFETY: delegates every call to `System` unchanged; the bookkeeping touches only
// const-initialized thread-local cells, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record_alloc(layout.size());
        // SAFETY: forwarded with the caller's layout, which meets `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record_alloc(layout.size());
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record_free(layout.size());
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record_free(layout.size());
        record_alloc(new_size);
        // SAFETY: `ptr` came from `System` with `layout`; the caller upholds `realloc`'s rules.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// What `f` allocated on this thread: (allocations, total bytes, peak bytes live above the
/// level at the start).
fn measure<R>(f: impl FnOnce() -> R) -> (R, u64, u64, u64) {
    let count = COUNT.with(Cell::get);
    let total = TOTAL.with(Cell::get);
    let live = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(live));
    let r = f();
    let peak = PEAK.with(Cell::get) - live;
    (
        r,
        COUNT.with(Cell::get) - count,
        TOTAL.with(Cell::get) - total,
        peak.max(0) as u64,
    )
}

/// Decodes a valid frame first, so per-thread contexts and scratch exist before measuring.
fn warm_up() {
    let text = "warm up the contexts, warm up the contexts".repeat(4);
    let json = JsonCodec::<String>::new();
    for frame in [
        Compressed::new(json, Compression::zstd())
            .encode(&text)
            .unwrap(),
        Compressed::new(json, Compression::Lz4)
            .encode(&text)
            .unwrap(),
    ] {
        let back = Compressed::new(json, Compression::zstd())
            .decode(&frame)
            .unwrap();
        assert_eq!(back, text);
    }
}

/// The header of a frame.
fn header(frame: &[u8]) -> FrameHeader {
    *Frame::parse(frame).unwrap().header()
}

/// A frame holding `data` as stored, its header naming `codec` and `compression`.
fn frame_with(codec: CodecId, compression: CompressionId, data: &[u8]) -> Bytes {
    let mut out = AlignedVec::<16>::new();
    let writer = FrameWriter::begin(&mut out, MAX_HEADER_LEN);
    out.extend_from_slice(data);
    let header = FrameHeader::new(codec).with_compression(compression, None);
    writer.finish(&mut out, header).unwrap();
    Bytes::from_owner(out)
}

/// The same compressed data framed for each kind of reader: a JSON, an rkyv and a batch
/// payload.
fn reframed(compression: CompressionId, data: &[u8]) -> [Bytes; 3] {
    [CodecId::JSON, CodecId::RKYV, CodecId::BATCH].map(|codec| frame_with(codec, compression, data))
}

/// How many ways [`read_all_ways`] reads.
const WAYS: usize = 21;

/// Every way to read the frames (JSON, rkyv and batch payloads): decode through `Compressed`
/// over JsonCodec and RkyvCodec, the owned zero-copy access, the hybrid codec's decode and
/// access, and the batch codec, each configured with each compression (its own algorithm and
/// dictionary change nothing about what it reads).
fn read_all_ways(
    [json_frame, rkyv_frame, batch_frame]: &[Bytes; 3],
    dict: &Compression,
    policy: Policy,
) -> Vec<zerocodec::Error> {
    let mut errors = Vec::new();
    for compression in [Compression::Lz4, Compression::zstd(), dict.clone()] {
        let json =
            Compressed::new(JsonCodec::<String>::new(), compression.clone()).with_policy(policy);
        errors.extend(json.decode(json_frame).err());
        let rkyv =
            Compressed::new(RkyvCodec::<Vec<u8>>::new(), compression.clone()).with_policy(policy);
        errors.extend(rkyv.decode(rkyv_frame).err());
        errors.extend(rkyv.access_owned(rkyv_frame.clone()).err());
        let hybrid = HybridCodec::<ChatMessage>::new()
            .with_compression(compression.clone())
            .with_policy(policy);
        errors.extend(hybrid.decode(json_frame).err());
        errors.extend(hybrid.decode(rkyv_frame).err());
        errors.extend(hybrid.access_owned(rkyv_frame.clone()).err());
        let batch = BatchCodec::<ChatMessage>::new()
            .with_compression(compression)
            .with_policy(policy);
        errors.extend(batch.decode(batch_frame).err());
    }
    errors
}

fn dictionary() -> ZstdDictionary {
    ZstdDictionary::train_with(
        &JsonCodec::<ChatMessage>::new(),
        &chat_messages(TRAIN_SEED, 500),
        4096,
    )
    .unwrap()
}

const KIB: u64 = 1024;

fn encode_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[test]
fn a_few_bytes_claiming_a_terabyte_are_refused_before_allocating() {
    warm_up();
    let dict = Compression::zstd_dict(dictionary(), 3).unwrap();
    // zstd: single-segment frame header with an 8-byte content size of 1 TiB, then one RLE
    // block (the byte 'a' repeated 128 KiB times).
    let mut zstd = vec![0x28, 0xB5, 0x2F, 0xFD, 0xE0];
    zstd.extend_from_slice(&(1u64 << 40).to_le_bytes());
    zstd.extend_from_slice(&[0x03, 0x00, 0x10, b'a']);
    // lz4: a varint claiming u64::MAX bytes, then a token.
    let mut lz4 = Vec::new();
    encode_varint(u64::MAX, &mut lz4);
    lz4.push(0x00);
    // lz4 claiming exactly the limit from 3 bytes of block: more than lz4 can expand to, and
    // more than the ratio limit lets 7 bytes claim.
    let mut lz4_at_limit = Vec::new();
    encode_varint(DEFAULT_MAX_DECOMPRESSED_LEN as u64, &mut lz4_at_limit);
    lz4_at_limit.extend_from_slice(&[0xF0, 0x00, 0x00]);

    for (name, compression, bomb, kind) in [
        ("zstd", CompressionId::ZSTD, zstd, ErrorKind::TooLarge),
        ("lz4", CompressionId::LZ4, lz4, ErrorKind::TooLarge),
        (
            "lz4 at the limit",
            CompressionId::LZ4,
            lz4_at_limit,
            ErrorKind::TooLarge,
        ),
    ] {
        let frames = reframed(compression, &bomb);
        for frame in &frames {
            assert!(frame.len() < 24, "{name}: {} bytes", frame.len());
        }
        let (errors, _, total, peak) = measure(|| read_all_ways(&frames, &dict, Policy::new()));
        assert_eq!(errors.len(), WAYS, "{name}: every way fails");
        for err in &errors {
            assert_eq!(err.kind(), kind, "{name}: {err}");
        }
        // Error messages and the error vector are all that is allocated.
        assert!(peak < 16 * KIB, "{name}: peak {peak} bytes");
        assert!(total < 32 * KIB, "{name}: total {total} bytes");
    }
}

#[test]
fn a_real_payload_over_the_limit_is_refused_before_allocating() {
    warm_up();
    let dict = Compression::zstd_dict(dictionary(), 3).unwrap();
    let big = "a".repeat(DEFAULT_MAX_DECOMPRESSED_LEN + 1);
    // No ratio limit on either side: this is about the absolute limit.
    let generous = Policy::new()
        .with_max_decompressed_len(64 << 20)
        .with_max_ratio(usize::MAX);
    let reader = Policy::new().with_max_ratio(usize::MAX);
    let json = JsonCodec::<String>::new();
    for (name, compression) in [("lz4", Compression::Lz4), ("zstd", Compression::Zstd(1))] {
        let frame = Compressed::new(json, compression)
            .with_policy(generous)
            .encode(&big)
            .unwrap();
        let h = header(&frame);
        assert!(h.is_compressed(), "{name}");
        assert!(frame.len() < 128 << 10, "{name}: {} bytes", frame.len());
        let frames = reframed(h.compression, Frame::parse(&frame).unwrap().payload());
        assert_eq!(frames[0], frame, "{name}: as the writer framed it");
        let (errors, _, _, peak) = measure(|| read_all_ways(&frames, &dict, reader));
        assert_eq!(errors.len(), WAYS, "{name}");
        for err in &errors {
            assert_eq!(err.kind(), ErrorKind::TooLarge, "{name}: {err}");
            assert!(
                err.to_string()
                    .contains(&DEFAULT_MAX_DECOMPRESSED_LEN.to_string()),
                "{err}"
            );
        }
        assert!(peak < 16 * KIB, "{name}: peak {peak} bytes");
    }
}

#[test]
fn a_configured_limit_is_enforced_and_payloads_within_it_decode() {
    warm_up();
    let limit = 1 << 20;
    // Repetitive text compresses far past the ratio limit, which is tested on its own below.
    let policy = Policy::new()
        .with_max_decompressed_len(limit)
        .with_max_ratio(usize::MAX);
    let at_limit = "b".repeat(limit - 2); // its JSON is exactly `limit` bytes
    let over = "b".repeat(limit - 1);
    let json = JsonCodec::<String>::new();
    let codec = Compressed::new(json, Compression::Zstd(3)).with_policy(policy);
    let frame = codec.encode(&at_limit).unwrap();
    assert_eq!(header(&frame).compression, CompressionId::ZSTD);
    let (back, _, _, peak) = measure(|| codec.decode(&frame).unwrap());
    assert_eq!(back, at_limit);
    // The decompressed scratch (rounded up by the buffer's growth) plus the String.
    assert!(peak <= 3 * limit as u64, "peak {peak} bytes");
    // One byte more is stored raw by this writer (its reader would refuse it)...
    let raw = codec.encode(&over).unwrap();
    assert_eq!(header(&raw).compression, CompressionId::NONE);
    // ...and refused by this reader when a more generous writer compresses it.
    let unbounded = Policy::new().with_max_ratio(usize::MAX);
    let generous = Compressed::new(json, Compression::Zstd(3))
        .with_policy(unbounded)
        .encode(&over)
        .unwrap();
    let err = codec.decode(&generous).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    let lz4 = Compressed::new(json, Compression::Lz4).with_policy(policy);
    let frame = lz4.encode(&at_limit).unwrap();
    assert_eq!(lz4.decode(&frame).unwrap(), at_limit);
    let generous = Compressed::new(json, Compression::Lz4)
        .with_policy(unbounded)
        .encode(&over)
        .unwrap();
    assert_eq!(
        lz4.decode(&generous).unwrap_err().kind(),
        ErrorKind::TooLarge
    );
}

#[test]
fn a_lying_content_size_cannot_make_zstd_write_more() {
    warm_up();
    let data = "c".repeat(100 << 10);
    let unbounded = Policy::new().with_max_ratio(usize::MAX);
    let codec =
        Compressed::new(JsonCodec::<String>::new(), Compression::zstd()).with_policy(unbounded);
    let mut frame = codec.encode(&data).unwrap().to_vec();
    // The frame header, then the zstd descriptor (zerocodec drops the magic number): single
    // segment, 4-byte content size.
    let start = header(&frame).len();
    let descriptor = frame[start];
    assert_eq!(descriptor >> 6, 2, "4-byte content size");
    assert_ne!(descriptor & 0x20, 0, "single segment: no window descriptor");
    let dict_len = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let at = start + 1 + dict_len;
    frame[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
    let (result, _, _, peak) = measure(|| codec.decode(&frame));
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(peak < 16 * KIB, "peak {peak} bytes");
}

/// A codec that writes its bytes as they are: a frame around it hands the compressor exactly
/// the input.
#[derive(Clone, Copy)]
struct Verbatim;

impl Codec for Verbatim {
    type Item = Vec<u8>;
    fn codec_id(&self) -> CodecId {
        CodecId::FIRST_PRIVATE
    }
    fn content_type(&self) -> &'static str {
        "application/octet-stream"
    }
}

impl Encode for Verbatim {
    fn encode_into<B: EncodeBuf>(&self, item: &Vec<u8>, out: &mut B) -> zerocodec::Result<()> {
        out.extend_from_slice(item);
        Ok(())
    }
}

/// Reads [`Verbatim`]'s payloads as their hash: checks what was decompressed without
/// allocating an owned copy of it.
#[derive(Clone, Copy)]
struct Digest;

impl Codec for Digest {
    type Item = u64;
    fn codec_id(&self) -> CodecId {
        CodecId::FIRST_PRIVATE
    }
    fn content_type(&self) -> &'static str {
        "application/octet-stream"
    }
}

impl Decode for Digest {
    fn decode(&self, bytes: &[u8]) -> zerocodec::Result<u64> {
        Ok(fnv1a_64(bytes))
    }
}

#[test]
fn compressing_and_decompressing_allocate_nothing_in_steady_state() {
    let messages: Vec<Vec<u8>> = chat_messages(HELD_OUT_SEED, 200)
        .iter()
        .chain(
            &chat_messages(HELD_OUT_SEED + 1, 5)
                .iter()
                .map(|m| {
                    let mut m = m.clone();
                    m.content = m.content.repeat(50); // a few larger ones
                    m
                })
                .collect::<Vec<_>>(),
        )
        .map(|m| JsonCodec::new().encode(m).unwrap().to_vec())
        .collect();
    let eager = Policy::new().with_min_size(0).with_min_saving_percent(0);
    fn cycle(
        writer: &Compressed<Verbatim>,
        reader: &Compressed<Digest>,
        messages: &[Vec<u8>],
        out: &mut Vec<u8>,
    ) -> usize {
        let mut compressed = 0;
        for input in messages {
            out.clear();
            writer.encode_into(input, out).unwrap();
            let frame = Frame::parse(out).unwrap();
            if frame.header().is_compressed() {
                compressed += 1;
                assert!(frame.payload().len() < input.len());
            } else {
                assert_eq!(frame.payload(), input);
            }
            assert_eq!(reader.decode(out).unwrap(), fnv1a_64(input));
        }
        compressed
    }
    fn check(
        name: &str,
        compression: Compression,
        policy: Policy,
        messages: &[Vec<u8>],
        at_least: usize,
    ) {
        let writer = Compressed::new(Verbatim, compression.clone()).with_policy(policy);
        let reader = Compressed::new(Digest, compression).with_policy(policy);
        let mut out = Vec::with_capacity(64 << 10);
        cycle(&writer, &reader, messages, &mut out); // warm up: contexts, tables, scratch
        let (compressed, count, bytes, _) = measure(|| cycle(&writer, &reader, messages, &mut out));
        assert!(
            compressed >= at_least,
            "{name}: only {compressed} compressed"
        );
        assert_eq!(
            (count, bytes),
            (0, 0),
            "{name}: allocations in steady state"
        );
    }
    // lz4 rarely shrinks a small message: the large ones and a few small ones compress.
    check("lz4", Compression::Lz4, eager, &messages, 20);
    check("zstd", Compression::Zstd(3), eager, &messages, 100);
    let dict = Compression::zstd_dict(dictionary(), 3).unwrap();
    check("zstd-dict", dict, eager, &messages, 200);
}

#[test]
fn encoding_through_a_compressed_frame_codec_allocates_nothing_in_steady_state() {
    let messages = chat_messages(HELD_OUT_SEED, 100);
    let dict = Compression::zstd_dict(dictionary(), 3).unwrap();
    fn cycle<C: Encode<Item = T>, T>(codec: &C, items: &[T], buf: &mut AlignedVec) {
        for item in items {
            buf.clear();
            codec.encode_into(item, buf).unwrap();
        }
    }
    let mut buf = AlignedVec::with_capacity(64 << 10);
    let json = Compressed::new(JsonCodec::new(), dict.clone());
    let rkyv = Compressed::new(RkyvCodec::new(), dict.clone());
    let hybrid = HybridCodec::new().with_compression(dict.clone());
    let batch_codec = BatchCodec::new().with_compression(dict);
    let batches: Vec<_> = messages
        .chunks(10)
        .map(|chunk| {
            let mut builder = BatchBuilder::<ChatMessage>::new();
            for msg in chunk {
                builder.append(msg).unwrap();
            }
            builder.finish().unwrap()
        })
        .collect();
    cycle(&json, &messages, &mut buf);
    cycle(&rkyv, &messages, &mut buf);
    cycle(&hybrid, &messages, &mut buf);
    cycle(&batch_codec, &batches, &mut buf);
    let ((), count, _, _) = measure(|| cycle(&json, &messages, &mut buf));
    assert_eq!(count, 0, "json + zstd-dict encode allocations");
    let ((), count, _, _) = measure(|| cycle(&rkyv, &messages, &mut buf));
    assert_eq!(count, 0, "rkyv + zstd-dict encode allocations");
    let ((), count, _, _) = measure(|| cycle(&hybrid, &messages, &mut buf));
    assert_eq!(count, 0, "hybrid + zstd-dict encode allocations");
    let ((), count, _, _) = measure(|| cycle(&batch_codec, &batches, &mut buf));
    assert_eq!(count, 0, "batch + zstd-dict encode allocations");
}

#[test]
fn reused_buffers_never_leak_an_earlier_message() {
    // A long message, then short ones: every decode is exactly its own message.
    let json = JsonCodec::<String>::new();
    let codec = Compressed::new(json, Compression::zstd());
    let long = "secret ".repeat(10_000);
    let long_frame = codec.encode(&long).unwrap();
    assert_eq!(codec.decode(&long_frame).unwrap(), long);
    for msg in chat_messages(HELD_OUT_SEED, 20) {
        let frame = Compressed::new(json, Compression::Lz4)
            .encode(&msg.content)
            .unwrap();
        let back = codec.decode(&frame).unwrap();
        assert_eq!(back, msg.content);
        assert!(!back.contains("secret"));
    }
}
