//! The promises of src/codec.rs and docs/security.md that an outside test suite found broken
//! at 7daf438, one regression test each, named after what it protects: nothing a caller hands
//! over is altered, no encoder writes what its own reader rejects or aborts the process, errors
//! say what is wrong (and never where the heap is), and a small input cannot make a decode
//! hold much memory.
//!
//! The counting allocator counts per thread, so tests running in parallel do not see each
//! other's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use zerocodec::bytes::Bytes;
use zerocodec::frame::{Frame, FrameHeader};
use zerocodec::prelude::*;
use zerocodec::{ErrorKind, Message, Metered, Metrics};
use zerocodec_codecs::{
    AsArchivedJson, BatchBuilder, BatchCodec, Compressed, Compression, HybridCodec, JsonCodec,
    MAX_ENCODE_DEPTH, Policy, Primary, RkyvCodec,
};

struct Counting;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn record(delta: i64) {
    // `try_with`: thread-locals may be gone while a thread shuts down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: delegates every call to `System` unchanged; the bookkeeping touches only
// const-initialized thread-local cells, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size() as i64);
        // SAFETY: forwarded with the caller's layout, which meets `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size() as i64);
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(-(layout.size() as i64));
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size as i64 - layout.size() as i64);
        // SAFETY: `ptr` came from `System` with `layout`; the caller upholds `realloc`'s rules.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The most bytes live at once on this thread while `f` runs, above the level at its start.
fn peak_bytes<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let live = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(live));
    let r = f();
    let peak = PEAK.with(Cell::get) - live;
    (r, peak.max(0) as u64)
}

const MIB: u64 = 1 << 20;

/// A message with a float that JSON cannot always carry.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(Debug))]
struct Reading {
    sensor: String,
    value: Option<f64>,
    history: Vec<f64>,
}

impl Message for Reading {
    const NAME: &'static str = "test.Reading";
    const SCHEMA_FINGERPRINT: u64 = 0x5245_4144_0000_0001;
}

/// A message with no fields: its archive is empty.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(Debug))]
struct Empty {}

impl Message for Empty {
    const NAME: &'static str = "test.Empty";
    const SCHEMA_FINGERPRINT: u64 = 0x454D_5054_0000_0001;
}

/// A message carrying a `serde_json::Value`, archived as a binary JSON tree.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(Debug))]
struct Doc {
    id: u64,
    #[rkyv(with = AsArchivedJson)]
    body: Value,
}

impl Message for Doc {
    const NAME: &'static str = "test.Doc";
    const SCHEMA_FINGERPRINT: u64 = 0x444F_4300_0000_0001;
}

/// `depth` arrays around a string too long to be stored inline in an archive.
fn nested(depth: usize) -> Value {
    let leaf = Value::String("a leaf string longer than eight bytes".into());
    (0..depth).fold(leaf, |inner, _| Value::Array(vec![inner]))
}

/// Takes a deep value apart one level at a time: serde_json's `Drop` recurses once per level,
/// so dropping 200,000 levels at once would overflow the stack in the test itself.
fn drop_deep(mut value: Value) {
    while let Value::Array(mut items) = value {
        match items.pop() {
            Some(inner) => value = inner,
            None => break,
        }
    }
}

#[test]
fn json_never_turns_a_non_finite_float_into_null() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        // serde_json alone writes `null`, and `Some(NaN)` comes back as `None`.
        let err = JsonCodec::new().encode(&Some(bad)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Encode, "{err}");

        let reading = Reading {
            sensor: "t1".into(),
            value: Some(bad),
            history: vec![],
        };
        let err = JsonCodec::new().encode(&reading).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
        assert!(err.message().contains("at `value`"), "{err}");
        assert!(err.message().contains("no JSON representation"), "{err}");

        let history = Reading {
            sensor: "t1".into(),
            value: None,
            history: vec![1.0, 2.0, bad],
        };
        let err = JsonCodec::new().encode(&history).unwrap_err();
        assert!(err.message().contains("at `history[2]`"), "{err}");

        // A failed encode leaves the caller's buffer as it was.
        let mut out = b"kept".to_vec();
        assert!(JsonCodec::new().encode_into(&reading, &mut out).is_err());
        assert_eq!(out, b"kept");

        // The hybrid: a JSON primary refuses, naming the message; rkyv carries the bits.
        let json_frames = HybridCodec::<Reading>::new().with_primary(Primary::Json);
        let err = json_frames.encode(&reading).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
        assert!(err.message().contains("`test.Reading`"), "{err}");
        let hybrid = HybridCodec::<Reading>::new();
        let back = hybrid.decode(&hybrid.encode(&reading).unwrap()).unwrap();
        assert_eq!(
            back.value.map(f64::to_bits),
            reading.value.map(f64::to_bits)
        );
    }
}

#[test]
fn an_empty_archive_reads_from_any_address_on_a_fresh_thread() {
    // A fresh thread has no per-thread scratch buffer yet: copying zero bytes into it used to
    // leave its dangling (misaligned) pointer as the "aligned" input.
    std::thread::spawn(|| {
        let storage = [0u8; 64];
        for offset in 0..16 {
            let empty = &storage[offset..offset];
            let rkyv = RkyvCodec::<Empty>::new();
            assert_eq!(rkyv.decode(empty).unwrap(), Empty {});
            let owned = rkyv
                .access_owned(Bytes::copy_from_slice(empty).slice(0..0))
                .unwrap();
            assert_eq!(owned.deserialize().unwrap(), Empty {});
            let cloned = owned.clone();
            assert_eq!(cloned.deserialize().unwrap(), Empty {});
        }

        let hybrid = HybridCodec::<Empty>::new();
        let frame = hybrid.encode(&Empty {}).unwrap();
        assert_eq!(frame.len(), 16);
        let mut shifted = vec![0u8; frame.len() + 16];
        for offset in 0..16 {
            shifted[offset..offset + frame.len()].copy_from_slice(&frame);
            let at = &shifted[offset..offset + frame.len()];
            assert_eq!(hybrid.decode(at).unwrap(), Empty {}, "offset {offset}");
            let bytes = Bytes::copy_from_slice(&shifted).slice(offset..offset + frame.len());
            assert!(hybrid.access_owned(bytes).is_ok(), "offset {offset}");
        }
    })
    .join()
    .unwrap();
}

#[test]
fn the_hybrid_never_writes_a_frame_its_own_reader_rejects() {
    let hybrid = HybridCodec::<Doc>::new();
    let json_primary = HybridCodec::<Doc>::new().with_primary(Primary::Json);
    let mut encoded = 0;
    for depth in (0..=140).chain([200, 512, 600]) {
        let doc = Doc {
            id: depth as u64,
            body: nested(depth),
        };
        for codec in [&hybrid, &json_primary] {
            match codec.encode(&doc) {
                Ok(frame) => {
                    encoded += 1;
                    assert_eq!(codec.decode(&frame).unwrap(), doc, "depth {depth}");
                    let owned = codec.access_owned(frame.clone());
                    assert!(
                        owned.is_ok() || owned.unwrap_err().kind() == ErrorKind::Unsupported,
                        "depth {depth}"
                    );
                }
                Err(err) => {
                    assert_eq!(err.kind(), ErrorKind::Encode, "depth {depth}: {err}");
                    assert!(err.message().contains("`test.Doc`"), "{err}");
                }
            }
        }
    }
    // rkyv up to its cap, JSON (as the fallback and as the primary) up to serde_json's limit
    // of 127 levels, less the message's own object.
    assert_eq!(encoded, 2 * 127);
    let frame = hybrid.encode(&Doc {
        id: 0,
        body: nested(MAX_ENCODE_DEPTH + 1),
    });
    assert_eq!(
        FrameHeader::parse(&frame.unwrap()).unwrap().codec,
        zerocodec::CodecId::JSON,
        "past rkyv's cap the hybrid falls back to JSON"
    );
}

#[test]
fn no_value_can_overflow_the_stack_when_encoding() {
    // A thread with the default 2 MiB stack, as tokio's workers have.
    std::thread::spawn(|| {
        let doc = Doc {
            id: 0,
            body: nested(200_000),
        };
        for result in [
            HybridCodec::<Doc>::new().encode(&doc),
            HybridCodec::<Doc>::new()
                .with_primary(Primary::Json)
                .encode(&doc),
            RkyvCodec::new().encode(&doc),
            JsonCodec::new().encode(&doc),
        ] {
            assert_eq!(result.unwrap_err().kind(), ErrorKind::Encode);
        }
        drop_deep(doc.body);

        // A recursive type of the caller's own, nested without any JSON nesting.
        #[derive(Serialize, Deserialize)]
        struct Chain(Option<Box<Chain>>);
        let mut chain = Chain(None);
        for _ in 0..200_000 {
            chain = Chain(Some(Box::new(chain)));
        }
        assert_eq!(
            JsonCodec::new().encode(&chain).unwrap_err().kind(),
            ErrorKind::Encode
        );
        while let Some(inner) = chain.0.take() {
            chain = *inner;
        }
    })
    .join()
    .unwrap();
}

#[test]
fn a_short_frame_of_an_unknown_version_is_unknown_version_not_incomplete() {
    let err = Frame::parse(&[0xFA, 3, 2, 0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownVersion, "{err}");
    let mut checked = 0;
    for version in (0..=u8::MAX).filter(|v| *v != 2) {
        for len in 2..=15 {
            let mut bytes = vec![0u8; len];
            bytes[0] = 0xFA;
            bytes[1] = version;
            for parse in [
                Frame::parse(&bytes).map(drop),
                FrameHeader::parse(&bytes).map(drop),
                HybridCodec::<Reading>::new().decode(&bytes).map(drop),
            ] {
                let err = parse.unwrap_err();
                // Version 1 (never released) is unknown like any other but 2.
                assert_eq!(err.kind(), ErrorKind::UnknownVersion, "{bytes:02x?}: {err}");
                if version == 1 {
                    assert!(err.message().contains("reads version 2"), "{err}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 255 * 14 * 3);
    // One byte cannot say its version yet: that is incomplete.
    assert_eq!(
        Frame::parse(&[0xFA]).unwrap_err().kind(),
        ErrorKind::Incomplete
    );
}

/// `len` bytes of `[{"a":0},...]` in `body`: 16 MiB compress to about a kilobyte.
fn bomb_doc(len: usize) -> Doc {
    let entry = serde_json::json!({ "a": 0 });
    Doc {
        id: 1,
        body: Value::Array(vec![entry; len / 8]),
    }
}

/// zstd with neither a ratio limit nor the default size limit: the attacker's writer.
fn attacker() -> Policy {
    Policy::new()
        .with_max_decompressed_len(256 << 20)
        .with_max_ratio(usize::MAX)
}

/// Every way a service with default settings reads a compressed `Doc` frame: hybrid decode and
/// owned access (a plain hybrid reads every compression), and the compressed JSON and rkyv
/// frame codecs (the compression they would write does not matter to reading).
fn read_every_way(frame: &Bytes) -> Vec<zerocodec::Result<()>> {
    let hybrid = HybridCodec::<Doc>::new();
    vec![
        hybrid.decode(frame).map(drop),
        hybrid.access_owned(frame.clone()).map(drop),
        Compressed::new(JsonCodec::<Doc>::new(), Compression::None)
            .decode(frame)
            .map(drop),
        Compressed::new(RkyvCodec::<Doc>::new(), Compression::None)
            .decode(frame)
            .map(drop),
        Compressed::new(RkyvCodec::<Doc>::new(), Compression::None)
            .access_owned(frame.clone())
            .map(drop),
    ]
}

#[test]
fn a_small_input_never_makes_a_decode_hold_more_than_64_mib() {
    let doc = bomb_doc(16 << 20);
    let reader = HybridCodec::<Doc>::new();
    assert_eq!(reader.policy().max_decompressed_len(), 16 << 20);
    assert_eq!(Policy::default().max_decompressed_len(), 16 << 20);

    // The JSON bomb of the report (1,439 bytes; 1,346 MiB peak before), through every framing
    // that compresses. Its archived twin does not compress below 4 KiB (it was 315 KB, its
    // archive 16 MiB); at 83 MB this one is refused by the absolute limit.
    let json_frame = HybridCodec::<Doc>::new()
        .with_primary(Primary::Json)
        .with_compression(Compression::Zstd(3))
        .with_policy(attacker())
        .encode(&doc)
        .unwrap();
    // The archive takes about 40 bytes per entry: 20 MiB, over the absolute limit.
    let twin = bomb_doc(4 << 20);
    let rkyv_frame = HybridCodec::<Doc>::new()
        .with_compression(Compression::Zstd(3))
        .with_policy(attacker())
        .encode(&twin)
        .unwrap();
    let compressed_json = Compressed::new(JsonCodec::new(), Compression::Zstd(3))
        .with_policy(attacker())
        .encode(&doc)
        .unwrap();
    let compressed_rkyv = Compressed::new(RkyvCodec::new(), Compression::Zstd(3))
        .with_policy(attacker())
        .encode(&twin)
        .unwrap();
    drop((doc, twin));
    for (name, frame, small) in [
        ("hybrid json", json_frame, true),
        ("hybrid rkyv", rkyv_frame, false),
        ("compressed json", compressed_json, true),
        ("compressed rkyv", compressed_rkyv, false),
    ] {
        assert_eq!(frame.len() < 4096, small, "{name}: {} bytes", frame.len());
        let (results, peak) = peak_bytes(|| read_every_way(&frame));
        for result in results {
            if let Err(err) = result {
                assert!(
                    matches!(
                        err.kind(),
                        ErrorKind::TooLarge | ErrorKind::UnknownCodec | ErrorKind::Corrupt
                    ),
                    "{name}: {err}"
                );
            }
        }
        assert!(peak < 64 * MIB, "{name}: peak {peak} bytes");
    }

    // The worst input under 4 KiB that the default limits admit: incompressible text for the
    // compressed size, then as many `{"a":0}` as the ratio limit lets it claim.
    let mut noise = String::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while noise.len() < 6000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.push(char::from(b'a' + (x % 26) as u8));
    }
    let writer = HybridCodec::<Doc>::new()
        .with_primary(Primary::Json)
        .with_compression(Compression::Zstd(19));
    let mut entries = 2048;
    let mut admitted = None;
    loop {
        let mut items = vec![Value::String(noise.clone())];
        items.extend(std::iter::repeat_n(serde_json::json!({"a": 0}), entries));
        let doc = Doc {
            id: 2,
            body: Value::Array(items),
        };
        let frame = writer.encode(&doc).unwrap();
        let header = FrameHeader::parse(&frame).unwrap();
        if header.compression == zerocodec::CompressionId::NONE {
            break;
        }
        assert!(frame.len() < 4096, "{} bytes", frame.len());
        admitted = Some(frame);
        entries += 2048;
    }
    let frame = admitted.expect("a compressed frame");
    let (back, peak) = peak_bytes(|| reader.decode(&frame).unwrap());
    let Value::Array(items) = &back.body else {
        panic!("an array")
    };
    assert!(items.len() > 25_000, "{} entries", items.len());
    assert!(peak < 64 * MIB, "peak {peak} bytes");
    println!(
        "worst admitted input: {} bytes, {} entries, peak {:.1} MiB",
        frame.len(),
        items.len(),
        peak as f64 / MIB as f64
    );
}

#[test]
fn access_owned_of_a_json_fallback_frame_is_a_read_error_that_says_decode() {
    let hybrid = HybridCodec::<Doc>::new();
    // rkyv refuses this value, so the writer falls back to JSON.
    let doc = Doc {
        id: 3,
        body: nested(MAX_ENCODE_DEPTH + 5),
    };
    let frame = hybrid.encode(&doc).unwrap();
    assert_eq!(hybrid.decode(&frame).unwrap(), doc);
    let err = hybrid.access_owned(frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.message().contains("read it with decode"), "{err}");
    assert!(err.message().contains("`test.Doc`"), "{err}");
}

#[test]
fn metrics_count_accesses_apart_from_decodes() {
    // Generic message counts come from the `Metered` wrapper, around any codec.
    let metrics = Arc::new(Metrics::new());
    let hybrid = Metered::with_metrics(HybridCodec::<Reading>::new(), metrics.clone());
    let frame = hybrid
        .encode(&Reading {
            sensor: "t".into(),
            value: Some(1.0),
            history: vec![],
        })
        .unwrap();
    hybrid.access(&frame).unwrap();
    hybrid.decode(&frame).unwrap();
    hybrid.access_owned(frame.clone()).unwrap();
    let snap = metrics.snapshot();
    assert_eq!(snap.messages_decoded, 1);
    assert_eq!(snap.messages_accessed, 2);
    assert_eq!(snap.bytes_accessed, 2 * frame.len() as u64);
}

/// True if `text` holds a hexadecimal number of address size.
fn holds_an_address(text: &str) -> bool {
    text.match_indices("0x").any(|(at, _)| {
        let digits = text[at + 2..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count();
        digits > 4
    })
}

#[test]
fn error_text_never_holds_a_heap_address() {
    let reading = Reading {
        sensor: "a sensor name past the inline size".into(),
        value: Some(2.5),
        history: vec![1.0; 8],
    };
    let rkyv = RkyvCodec::new();
    let bytes = rkyv.encode(&reading).unwrap();
    let mut corrupt = bytes.to_vec();
    let mut messages = 0;
    for at in 0..corrupt.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            corrupt[at] ^= flip;
            let mut aligned = zerocodec::rkyv::util::AlignedVec::<16>::new();
            aligned.extend_from_slice(&corrupt);
            if let Err(err) = rkyv.access(&aligned) {
                messages += 1;
                let mut text = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(cause) = source {
                    text.push_str(&cause.to_string());
                    source = cause.source();
                }
                assert!(!holds_an_address(&text), "{text}");
            }
            corrupt[at] ^= flip;
        }
    }
    assert!(messages > 10, "{messages} rejected mutations");
}

#[test]
fn errors_say_what_a_new_user_needs_to_read() {
    let hybrid = HybridCodec::<Reading>::new();
    let err = hybrid.decode(b"").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Incomplete);
    assert!(err.message().starts_with("empty input"), "{err}");

    let err = hybrid.decode(&[0x00, 0x9F, 0x13, 0x77]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(
        err.message()
            .contains("neither a frame (its first byte 0x00 is not the frame magic 0xfa)"),
        "{err}"
    );

    // One name for the message, whichever layer reports: the frame, JSON, or the archive.
    let fingerprinted = HybridCodec::<Empty>::new().encode(&Empty {}).unwrap();
    let frame_err = hybrid.decode(&fingerprinted).unwrap_err();
    let json_err = hybrid.decode(br#"{"sensor": 7}"#).unwrap_err();
    let frame = HybridCodec::<Reading>::new()
        .with_fingerprint(false)
        .encode(&Reading {
            sensor: "s".into(),
            value: None,
            history: vec![],
        })
        .unwrap();
    // The last four bytes of the archive are the root's relative pointer to its string.
    let mut corrupt = frame.to_vec();
    let end = corrupt.len();
    corrupt[end - 8..].fill(0xEE);
    let archive_err = hybrid.decode(&corrupt);
    assert!(archive_err.is_err());
    for err in [Some(frame_err), Some(json_err), archive_err.err()]
        .into_iter()
        .flatten()
    {
        assert!(err.message().contains("`test.Reading`"), "{err}");
        assert!(!err.message().contains("contract::Reading"), "{err}");
    }
}

/// README, "Integrity and limits": message frames carry no checksum unless asked.
#[test]
fn message_frames_carry_a_checksum_only_when_asked() {
    let reading = Reading {
        sensor: "t".into(),
        value: None,
        history: vec![],
    };
    let plain = HybridCodec::<Reading>::new().encode(&reading).unwrap();
    assert_eq!(FrameHeader::parse(&plain).unwrap().checksum, None);
    let checked = HybridCodec::<Reading>::new()
        .with_checksum(true)
        .encode(&reading)
        .unwrap();
    assert!(FrameHeader::parse(&checked).unwrap().checksum.is_some());
}

#[test]
fn batch_frames_carry_a_checksum_by_default() {
    let mut builder = BatchBuilder::<Reading>::new();
    for i in 0..10 {
        builder
            .append(&Reading {
                sensor: format!("s{i}"),
                value: Some(f64::from(i)),
                history: vec![],
            })
            .unwrap();
    }
    let codec = BatchCodec::<Reading>::new();
    let frame = codec.encode(&builder.finish().unwrap()).unwrap();
    assert!(FrameHeader::parse(&frame).unwrap().checksum.is_some());
    let mut flipped = frame.to_vec();
    let mut rejected = 0;
    for at in 0..flipped.len() {
        flipped[at] ^= 0x04;
        let bytes = Bytes::copy_from_slice(&flipped);
        if codec.decode(&bytes).is_err() {
            rejected += 1;
        }
        flipped[at] ^= 0x04;
    }
    assert_eq!(rejected, flipped.len(), "every flipped bit is caught");
}
