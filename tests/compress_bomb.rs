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
use zerocodec::rkyv::util::AlignedVec;
use zerocodec::transform::read_prefix;
use zerocodec::{Codec, CompressionId, ErrorKind, Transform};
use zerocodec_codecs::{
    Compressed, DEFAULT_MAX_DECOMPRESSED_LEN, JsonCodec, Lz4, Policy, RkyvCodec, Zstd, ZstdDict,
    ZstdDictionary,
};

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
    for frame in [
        Compressed::new(JsonCodec, Zstd::default())
            .encode(&text)
            .unwrap(),
        Compressed::new(JsonCodec, Lz4::new())
            .encode(&text)
            .unwrap(),
    ] {
        let back: String = Compressed::new(JsonCodec, Zstd::default())
            .decode(&frame)
            .unwrap();
        assert_eq!(back, text);
    }
}

/// Every way to read `frame`: decode through JSON and rkyv stacks over each transform, and
/// the zero-copy owned access.
fn read_all_ways(frame: &Bytes, dict: &ZstdDict, policy: Policy) -> Vec<zerocodec::Error> {
    let dict = dict.clone().with_policy(policy);
    let mut errors = Vec::new();
    macro_rules! read {
        ($x:expr) => {{
            let json = Compressed::new(JsonCodec, $x);
            errors.extend(json.decode::<String>(frame).err());
            let rkyv = Compressed::new(RkyvCodec::new(), $x);
            errors.extend(rkyv.decode::<Vec<u8>>(frame).err());
            errors.extend(rkyv.access_owned::<Vec<u8>>(frame.clone()).err());
        }};
    }
    read!(Lz4::new().with_policy(policy));
    read!(Zstd::default().with_policy(policy));
    read!(dict.clone());
    errors
}

fn dictionary() -> ZstdDictionary {
    ZstdDictionary::train_with(&JsonCodec, &chat_messages(TRAIN_SEED, 500), 4096).unwrap()
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
    let dict = ZstdDict::new(dictionary(), 3).unwrap();
    // zstd: single-segment frame header with an 8-byte content size of 1 TiB, then one RLE
    // block (the byte 'a' repeated 128 KiB times).
    let mut zstd = vec![CompressionId::ZSTD.0, 0, 0x28, 0xB5, 0x2F, 0xFD, 0xE0];
    zstd.extend_from_slice(&(1u64 << 40).to_le_bytes());
    zstd.extend_from_slice(&[0x03, 0x00, 0x10, b'a']);
    // lz4: a varint claiming u64::MAX bytes, then a token.
    let mut lz4 = vec![CompressionId::LZ4.0, 0];
    encode_varint(u64::MAX, &mut lz4);
    lz4.push(0x00);
    // lz4 claiming exactly the limit from 3 bytes of block: more than lz4 can expand to, and
    // more than the ratio limit lets 7 bytes claim.
    let mut lz4_at_limit = vec![CompressionId::LZ4.0, 0];
    encode_varint(DEFAULT_MAX_DECOMPRESSED_LEN as u64, &mut lz4_at_limit);
    lz4_at_limit.extend_from_slice(&[0xF0, 0x00, 0x00]);

    for (name, bomb, kind) in [
        ("zstd", zstd, ErrorKind::TooLarge),
        ("lz4", lz4, ErrorKind::TooLarge),
        ("lz4 at the limit", lz4_at_limit, ErrorKind::TooLarge),
    ] {
        assert!(bomb.len() < 24, "{name}: {} bytes", bomb.len());
        let bomb = Bytes::from(bomb);
        let (errors, _, total, peak) = measure(|| read_all_ways(&bomb, &dict, Policy::new()));
        assert_eq!(errors.len(), 9, "{name}: every way fails");
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
    let dict = ZstdDict::new(dictionary(), 3).unwrap();
    let big = "a".repeat(DEFAULT_MAX_DECOMPRESSED_LEN + 1);
    // No ratio limit on either side: this is about the absolute limit.
    let generous = Policy::new()
        .with_max_decompressed_len(64 << 20)
        .with_max_ratio(usize::MAX);
    let reader = Policy::new().with_max_ratio(usize::MAX);
    for (name, frame) in [
        (
            "lz4",
            Compressed::new(JsonCodec, Lz4::new().with_policy(generous))
                .encode(&big)
                .unwrap(),
        ),
        (
            "zstd",
            Compressed::new(JsonCodec, Zstd::new(1).with_policy(generous))
                .encode(&big)
                .unwrap(),
        ),
    ] {
        assert_ne!(
            read_prefix(&frame).unwrap().compression,
            CompressionId::NONE
        );
        assert!(frame.len() < 128 << 10, "{name}: {} bytes", frame.len());
        let (errors, _, _, peak) = measure(|| read_all_ways(&frame, &dict, reader));
        assert_eq!(errors.len(), 9, "{name}");
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
    let codec = Compressed::new(JsonCodec, Zstd::new(3).with_policy(policy));
    let frame = codec.encode(&at_limit).unwrap();
    assert_eq!(
        read_prefix(&frame).unwrap().compression,
        CompressionId::ZSTD
    );
    let (back, _, _, peak) = measure(|| codec.decode::<String>(&frame).unwrap());
    assert_eq!(back, at_limit);
    // The decompressed scratch (rounded up by the buffer's growth) plus the String.
    assert!(peak <= 3 * limit as u64, "peak {peak} bytes");
    // One byte more is stored raw by this writer (its reader would refuse it)...
    let raw = codec.encode(&over).unwrap();
    assert_eq!(read_prefix(&raw).unwrap().compression, CompressionId::NONE);
    // ...and refused by this reader when a more generous writer compresses it.
    let unbounded = Policy::new().with_max_ratio(usize::MAX);
    let generous = Compressed::new(JsonCodec, Zstd::new(3).with_policy(unbounded))
        .encode(&over)
        .unwrap();
    let err = codec.decode::<String>(&generous).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    let lz4 = Compressed::new(JsonCodec, Lz4::new().with_policy(policy));
    let frame = lz4.encode(&at_limit).unwrap();
    assert_eq!(lz4.decode::<String>(&frame).unwrap(), at_limit);
    let generous = Compressed::new(JsonCodec, Lz4::new().with_policy(unbounded))
        .encode(&over)
        .unwrap();
    assert_eq!(
        lz4.decode::<String>(&generous).unwrap_err().kind(),
        ErrorKind::TooLarge
    );
}

#[test]
fn a_lying_content_size_cannot_make_zstd_write_more() {
    warm_up();
    let data = "c".repeat(100 << 10);
    let unbounded = Policy::new().with_max_ratio(usize::MAX);
    let codec = Compressed::new(JsonCodec, Zstd::default().with_policy(unbounded));
    let mut frame = codec.encode(&data).unwrap().to_vec();
    // prefix (2) + descriptor (zerocodec drops the magic number): single segment, 4-byte
    // content size.
    let descriptor = frame[2];
    assert_eq!(descriptor >> 6, 2, "4-byte content size");
    assert_ne!(descriptor & 0x20, 0, "single segment: no window descriptor");
    let dict_len = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let at = 3 + dict_len;
    frame[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
    let (result, _, _, peak) = measure(|| codec.decode::<String>(&frame));
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(peak < 16 * KIB, "peak {peak} bytes");
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
        .map(|m| JsonCodec.encode(m).unwrap().to_vec())
        .collect();
    let eager = Policy::new().with_min_size(0).with_min_saving_percent(0);
    fn cycle<X: Transform>(x: &X, messages: &[Vec<u8>], bufs: &mut (Vec<u8>, Vec<u8>)) -> usize {
        let (out, back) = bufs;
        let mut compressed = 0;
        for input in messages {
            out.clear();
            let id = x.compress_into(input, out).unwrap();
            if id != CompressionId::NONE {
                compressed += 1;
                back.clear();
                x.decompress_into(id, x.dictionary_id(), out, back).unwrap();
                assert_eq!(back, input);
            }
        }
        compressed
    }
    fn check<X: Transform>(name: &str, x: &X, messages: &[Vec<u8>], at_least: usize) {
        let mut bufs = (Vec::with_capacity(64 << 10), Vec::with_capacity(64 << 10));
        cycle(x, messages, &mut bufs); // warm up: contexts, tables, scratch
        let (compressed, count, bytes, _) = measure(|| cycle(x, messages, &mut bufs));
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
    check("lz4", &Lz4::new().with_policy(eager), &messages, 20);
    check("zstd", &Zstd::new(3).with_policy(eager), &messages, 100);
    let dict = ZstdDict::new(dictionary(), 3).unwrap().with_policy(eager);
    check("zstd-dict", &dict, &messages, 200);
}

#[test]
fn encoding_through_a_compressed_stack_allocates_nothing_in_steady_state() {
    let messages = chat_messages(HELD_OUT_SEED, 100);
    let dict = ZstdDict::new(dictionary(), 3).unwrap();
    fn cycle<C: Codec<zerocodec_datasets::ChatMessage>>(
        codec: &C,
        messages: &[zerocodec_datasets::ChatMessage],
        buf: &mut AlignedVec,
    ) {
        for msg in messages {
            buf.clear();
            codec.encode_into(msg, buf).unwrap();
        }
    }
    let mut buf = AlignedVec::with_capacity(64 << 10);
    let json = Compressed::new(JsonCodec, dict.clone());
    let rkyv = Compressed::new(RkyvCodec::new(), dict);
    cycle(&json, &messages, &mut buf);
    cycle(&rkyv, &messages, &mut buf);
    let ((), count, _, _) = measure(|| cycle(&json, &messages, &mut buf));
    assert_eq!(count, 0, "json + zstd-dict encode allocations");
    let ((), count, _, _) = measure(|| cycle(&rkyv, &messages, &mut buf));
    assert_eq!(count, 0, "rkyv + zstd-dict encode allocations");
}

#[test]
fn reused_buffers_never_leak_an_earlier_message() {
    // A long message, then short ones: every decode is exactly its own message.
    let codec = Compressed::new(JsonCodec, Zstd::default());
    let long = "secret ".repeat(10_000);
    let long_frame = codec.encode(&long).unwrap();
    assert_eq!(codec.decode::<String>(&long_frame).unwrap(), long);
    for msg in chat_messages(HELD_OUT_SEED, 20) {
        let frame = Compressed::new(JsonCodec, Lz4::new())
            .encode(&msg.content)
            .unwrap();
        let back: String = codec.decode(&frame).unwrap();
        assert_eq!(back, msg.content);
        assert!(!back.contains("secret"));
    }
}
