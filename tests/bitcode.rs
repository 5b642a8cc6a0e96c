//! bitcode: `BitcodeCodec` and the hybrid frame's bitcode payload (`Primary::Bitcode`): round
//! trips alone and compressed, every reader's view of a bitcode frame, the limits, and what a
//! hostile input can make the decoder allocate (a per-thread counting allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use serde::{Deserialize, Serialize};
use zerocodec::bytes::Bytes;
use zerocodec::frame::Frame;
use zerocodec::prelude::*;
use zerocodec::{CodecId, CompressionId, ErrorKind, Message};
use zerocodec_codecs::{
    BITCODE_CONTENT_TYPE, BitcodeCodec, Compressed, Compression, DEFAULT_MAX_BITCODE_LEN,
    HybridCodec, Policy, Primary,
};
use zerocodec_datasets::log::Logs;
use zerocodec_datasets::minecraft::Players;
use zerocodec_datasets::mk48::Updates;
use zerocodec_datasets::{Rng, SEED};

// ---------------------------------------------------------------------------------------------
// A per-thread peak-bytes allocator: what one decode holds at its worst.

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().wrapping_add_signed(delta);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

/// Tracks the bytes the current thread holds.
struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the counters are const-initialized thread locals without a
// destructor, so touching them never allocates or re-enters the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this type.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize));
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this type.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The most bytes held at once while `f` ran, over what was held before it.
fn peak_during(f: impl FnOnce()) -> usize {
    let before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(before));
    f();
    PEAK.with(Cell::get) - before
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A message with bitcode's derives beside serde's and rkyv's (what `#[message(bitcode)]`
/// declares; written out here so the test does not depend on the derive feature).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
)]
struct Event {
    id: u64,
    source: String,
    tags: Vec<String>,
    level: Level,
    reading: Option<f64>,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
)]
enum Level {
    Debug,
    Warn,
    Error { code: u16 },
}

impl Message for Event {
    const NAME: &'static str = "Event";
    const SCHEMA_FINGERPRINT: u64 = 0xE7E7_0000_0000_0021;
}

/// The same shape under another name: a frame written for `Event` is not one.
#[derive(
    Debug,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
)]
struct Other {
    id: u64,
}

impl Message for Other {
    const NAME: &'static str = "Other";
    const SCHEMA_FINGERPRINT: u64 = 0x07E7_0000_0000_0021;
}

fn events(n: u64) -> Vec<Event> {
    (0..n)
        .map(|i| Event {
            id: i,
            source: format!("sensor-{}", i % 7),
            tags: (0..i % 4).map(|t| format!("tag{t}")).collect(),
            level: match i % 3 {
                0 => Level::Debug,
                1 => Level::Warn,
                _ => Level::Error { code: i as u16 },
            },
            reading: (i % 2 == 0).then_some(i as f64 * 0.25),
        })
        .collect()
}

fn event() -> Event {
    events(6).pop().unwrap()
}

/// Writes bitcode payloads.
fn writer() -> HybridCodec<Event> {
    HybridCodec::new()
        .with_bitcode()
        .with_primary(Primary::Bitcode)
}

/// A frame that compresses (many repetitive tags).
fn long_event() -> Event {
    Event {
        tags: (0..40).map(|i| format!("tag-{}", i % 5)).collect(),
        ..event()
    }
}

// ---------------------------------------------------------------------------------------------
// BitcodeCodec

#[test]
fn bitcode_codec_round_trips_and_writes_bitcodes_own_bytes() {
    let codec = BitcodeCodec::new();
    for e in events(20) {
        let bytes = codec.encode(&e).unwrap();
        assert_eq!(
            &bytes[..],
            &bitcode::encode(&e)[..],
            "the payload is bitcode's own"
        );
        assert_eq!(codec.decode(&bytes).unwrap(), e);
    }
    // encode_into appends after what the buffer holds.
    let mut buf = b"prefix".to_vec();
    codec.encode_into(&event(), &mut buf).unwrap();
    assert_eq!(codec.decode(&buf[6..]).unwrap(), event());
    assert_eq!(codec.codec_id(), CodecId::BITCODE);
    assert_eq!(CodecId::BITCODE, CodecId(5));
    assert_eq!(CodecId::BITCODE.to_string(), "5 (bitcode)");
    assert_eq!(codec.content_type(), BITCODE_CONTENT_TYPE);
    assert_eq!(codec.max_len(), DEFAULT_MAX_BITCODE_LEN);
    assert_eq!(DEFAULT_MAX_BITCODE_LEN, 16 << 20);
    assert!(format!("{codec:?}").contains("max_len"));
}

#[test]
fn bitcode_codec_errors_are_typed() {
    let codec = BitcodeCodec::<Event>::new();
    let bytes = codec.encode(&event()).unwrap();
    // Every truncation and a trailing byte: `Corrupt`, naming the type and the length.
    for len in 0..bytes.len() {
        let err = codec.decode(&bytes[..len]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{len}: {err}");
        assert!(err.message().contains("Event"), "{err}");
        assert!(err.message().contains(&format!("({len} bytes)")), "{err}");
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert_eq!(
        codec.decode(&longer).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
    // Input over the limit is refused before decoding, and the encoder never writes it.
    let small = BitcodeCodec::<Event>::new().with_max_len(bytes.len() - 1);
    let err = small.decode(&bytes).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    let mut out = b"kept".to_vec();
    let err = small.encode_into(&event(), &mut out).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    assert_eq!(out, b"kept", "a refused encode leaves the buffer as it was");
    assert!(
        BitcodeCodec::<Event>::new()
            .with_max_len(bytes.len())
            .decode(&bytes)
            .is_ok()
    );
}

#[test]
fn bitcode_codec_carries_the_large_datasets() {
    let mut rng = Rng::new(SEED);
    let logs = Logs::generate(&mut rng, 200);
    let players = Players::generate(&mut rng, 20);
    let updates = Updates::generate(&mut rng, 10);
    let check = |bytes: Bytes, len: usize| {
        assert!(len > 0 && bytes.len() == len);
    };
    let c = BitcodeCodec::new();
    let b = c.encode(&logs).unwrap();
    check(b.clone(), bitcode::encode(&logs).len());
    assert_eq!(c.decode(&b).unwrap(), logs);
    let c = BitcodeCodec::new();
    let b = c.encode(&players).unwrap();
    check(b.clone(), bitcode::encode(&players).len());
    assert_eq!(c.decode(&b).unwrap(), players);
    let c = BitcodeCodec::new();
    let b = c.encode(&updates).unwrap();
    check(b.clone(), bitcode::encode(&updates).len());
    assert_eq!(c.decode(&b).unwrap(), updates);
}

#[test]
fn a_compressed_bitcode_codec_round_trips() {
    let codec = Compressed::new(BitcodeCodec::new(), Compression::zstd());
    let frame = codec.encode(&long_event()).unwrap();
    let header = *Frame::parse(&frame).unwrap().header();
    assert_eq!(header.codec, CodecId::BITCODE);
    assert_eq!(header.compression, CompressionId::ZSTD);
    assert_eq!(codec.decode(&frame).unwrap(), long_event());
}

// ---------------------------------------------------------------------------------------------
// Hybrid frames with a bitcode payload

#[test]
fn hybrid_bitcode_frames_round_trip_alone_and_compressed() {
    let plain = writer();
    assert_eq!(plain.primary(), Primary::Bitcode);
    assert!(plain.reads_bitcode());
    assert!(!HybridCodec::<Event>::new().reads_bitcode());
    let stacks = [
        plain.clone(),
        plain.clone().with_checksum(true),
        HybridCodec::compact()
            .with_bitcode()
            .with_primary(Primary::Bitcode),
        plain.clone().with_compression(Compression::Lz4),
        plain.clone().with_compression(Compression::zstd()),
        plain
            .clone()
            .with_checksum(true)
            .with_compression(Compression::Zstd(9)),
    ];
    // One reader reads them all, and rkyv and JSON frames beside them.
    let reader = HybridCodec::<Event>::new().with_bitcode();
    for (i, stack) in stacks.iter().enumerate() {
        for e in events(12).into_iter().chain([long_event()]) {
            let frame = stack.encode(&e).unwrap();
            let header = *Frame::parse(&frame).unwrap().header();
            assert_eq!(header.codec, CodecId::BITCODE, "stack {i}");
            assert_eq!(stack.decode(&frame).unwrap(), e, "stack {i}");
            assert_eq!(reader.decode(&frame).unwrap(), e, "stack {i}");
            // access_owned reads it too: decoded, then archived once.
            let owned = reader.access_owned(frame.clone()).unwrap();
            assert_eq!(owned.deserialize().unwrap(), e, "stack {i}");
        }
        let long = stack.encode(&long_event()).unwrap();
        let compressed = Frame::parse(&long).unwrap().header().is_compressed();
        assert_eq!(
            compressed,
            !matches!(stack.compression(), Compression::None),
            "stack {i}"
        );
    }
    for other in [
        HybridCodec::<Event>::new(),
        HybridCodec::new().with_primary(Primary::Json),
    ] {
        let frame = other.encode(&event()).unwrap();
        assert_eq!(reader.decode(&frame).unwrap(), event());
    }
}

#[test]
fn bitcode_frames_are_the_smallest_and_hold_bitcodes_own_bytes() {
    let e = long_event();
    let bitcode_frame = writer().encode(&e).unwrap();
    let rkyv_frame = HybridCodec::new().encode(&e).unwrap();
    let json_frame = HybridCodec::new()
        .with_primary(Primary::Json)
        .encode(&e)
        .unwrap();
    assert!(bitcode_frame.len() < rkyv_frame.len());
    assert!(bitcode_frame.len() < json_frame.len());
    let frame = Frame::parse(&bitcode_frame).unwrap();
    assert_eq!(frame.payload(), &bitcode::encode(&e)[..]);
    assert_eq!(frame.header().fingerprint, Some(Event::SCHEMA_FINGERPRINT));
}

#[test]
fn access_on_a_bitcode_frame_is_unsupported_naming_the_payload_codec() {
    let reader = HybridCodec::<Event>::new().with_bitcode();
    for stack in [writer(), writer().with_compression(Compression::zstd())] {
        let frame = stack.encode(&long_event()).unwrap();
        let err = reader.access(&frame).map(|_| ()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert!(err.message().contains("bitcode payload"), "{err}");
        assert!(err.message().contains("decode"), "{err}");
        // The same from a reader that does not read bitcode at all (its decode refuses the
        // codec as unknown), and a frame for another type is still a type mismatch.
        let err = HybridCodec::<Event>::new()
            .access(&frame)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert!(err.message().contains("bitcode payload"), "{err}");
        let err = HybridCodec::<Other>::new()
            .access(&frame)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TypeMismatch, "{err}");
    }
}

#[test]
fn a_reader_without_bitcode_refuses_the_codec_and_says_how_to_read_it() {
    let frame = writer().encode(&event()).unwrap();
    let reader = HybridCodec::<Event>::new();
    let err = reader.decode(&frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownCodec, "{err}");
    assert!(err.message().contains("5 (bitcode)"), "{err}");
    assert!(err.message().contains("with_bitcode"), "{err}");
    assert!(err.message().contains("Event"), "{err}");
    let err = reader.access_owned(frame).map(|_| ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownCodec, "{err}");
}

#[test]
fn bitcode_primary_without_bitcode_support_is_an_unsupported_encode() {
    let codec = HybridCodec::<Event>::new().with_primary(Primary::Bitcode);
    let mut out = b"kept".to_vec();
    let err = codec.encode_into(&event(), &mut out).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.message().contains("with_bitcode"), "{err}");
    assert!(err.message().contains("Event"), "{err}");
    assert_eq!(out, b"kept", "a refused encode leaves the buffer as it was");
}

#[test]
fn a_bitcode_frame_for_another_type_is_a_type_mismatch() {
    let frame = writer().encode(&event()).unwrap();
    let err = HybridCodec::<Other>::new()
        .with_bitcode()
        .decode(&frame)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeMismatch, "{err}");
}

/// Two versions of one message, both with bitcode's derives.
#[zerocodec::message(name = "Reading", version = 1, bitcode)]
#[derive(Debug, PartialEq)]
struct ReadingV1 {
    id: u64,
}

#[zerocodec::message(name = "Reading", version = 2, upgrade_from = ReadingV1, bitcode)]
#[derive(Debug, PartialEq)]
struct ReadingV2 {
    id: u64,
    unit: String,
}

impl From<ReadingV1> for ReadingV2 {
    fn from(old: ReadingV1) -> Self {
        Self {
            id: old.id,
            unit: "celsius".into(),
        }
    }
}

#[test]
fn an_older_version_in_a_bitcode_payload_is_unsupported_not_misread() {
    let old = ReadingV1 { id: 7 };
    let reader = HybridCodec::<ReadingV2>::new()
        .with_bitcode()
        .with_upgrades();
    // Upgrades read the older version's rkyv and JSON payloads...
    let rkyv_frame = HybridCodec::<ReadingV1>::new().encode(&old).unwrap();
    assert_eq!(reader.decode(&rkyv_frame).unwrap().unit, "celsius");
    // ...and name a bitcode payload of it as what they cannot read, rather than parse it as
    // JSON.
    let bitcode_frame = HybridCodec::<ReadingV1>::new()
        .with_bitcode()
        .with_primary(Primary::Bitcode)
        .encode(&old)
        .unwrap();
    for err in [
        reader.decode(&bitcode_frame).unwrap_err(),
        reader
            .access_owned(Bytes::from(bitcode_frame.to_vec()))
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("Reading` v1") && text.contains("bitcode"),
            "{text}"
        );
    }
}

#[test]
fn a_bitcode_payload_is_held_to_the_policys_limit_raw_or_compressed() {
    let e = long_event();
    let len = bitcode::encode(&e).len();
    let tight = Policy::new().with_max_decompressed_len(len - 1);
    // The writer refuses what its reader would.
    let err = writer().with_policy(tight).encode(&e).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    // The reader refuses a raw payload over its limit before decoding it, and a compressed
    // one before decompressing it.
    for stack in [writer(), writer().with_compression(Compression::zstd())] {
        let frame = stack.encode(&e).unwrap();
        let reader = HybridCodec::<Event>::new()
            .with_bitcode()
            .with_policy(tight);
        let err = reader.decode(&frame).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
        let ok = HybridCodec::<Event>::new()
            .with_bitcode()
            .with_policy(Policy::new().with_max_decompressed_len(len));
        assert_eq!(ok.decode(&frame).unwrap(), e);
    }
}

#[test]
fn every_truncation_and_bit_flip_of_a_bitcode_frame_is_ok_or_typed() {
    let reader = HybridCodec::<Event>::new().with_bitcode();
    for stack in [
        writer(),
        writer().with_checksum(true),
        writer().with_compression(Compression::zstd()),
    ] {
        let frame = stack.encode(&long_event()).unwrap().to_vec();
        for len in 0..frame.len() {
            let err = reader.decode(&frame[..len]).unwrap_err();
            assert!(!err.message().is_empty());
        }
        for bit in 0..frame.len() * 8 {
            let mut bad = frame.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            match reader.decode(&bad) {
                Ok(_) => assert!(!stack.checksum(), "a checksummed frame took a flip"),
                Err(err) => assert!(!err.message().is_empty()),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile input: what bitcode promises (one bit per element), held by measurement

/// A value with as many elements per input byte as bitcode allows: empty strings, whose
/// lengths pack into one bit each.
#[derive(Debug, PartialEq, bitcode::Encode, bitcode::Decode)]
struct Strings(Vec<String>);

#[test]
fn a_decoded_value_costs_at_most_a_bounded_multiple_of_its_input() {
    // Encode the worst honest case, then decode it under the counting allocator: what a
    // hostile input of that size can make the decoder hold, since bitcode validates every
    // length against the input before allocating (a forged length is refused, below).
    let codec = BitcodeCodec::<Strings>::new();
    for n in [1_000usize, 100_000] {
        let bytes = codec.encode(&Strings(vec![String::new(); n])).unwrap();
        assert!(
            bytes.len() <= n / 8 + 16,
            "{n} empty strings in {} bytes",
            bytes.len()
        );
        let peak = peak_during(|| {
            let value = codec.decode(&bytes).unwrap();
            assert_eq!(value.0.len(), n);
        });
        // A 24-byte `String` and bitcode's one-byte unpacked length per bit of input: at most
        // 200x, as BitcodeCodec's docs say (measured: 194x for 1,000, 199.8x for 100,000).
        let per_byte = peak as f64 / bytes.len() as f64;
        assert!(
            per_byte <= 200.0,
            "{n}: {peak} bytes held for {} input bytes",
            bytes.len()
        );
    }
    // A length claiming more elements than the input holds bits for is refused, not
    // allocated for.
    let mut forged = codec
        .encode(&Strings(vec![String::new(); 64]))
        .unwrap()
        .to_vec();
    let peak = peak_during(|| {
        for at in 0..forged.len() {
            for value in [0xFF, 0xFE, 0x80] {
                let old = forged[at];
                forged[at] = value;
                let _ = codec.decode(&forged);
                forged[at] = old;
            }
        }
    });
    assert!(
        peak < 1 << 20,
        "a forged 20-byte input made the decoder hold {peak} bytes"
    );
}

#[test]
fn decoding_the_datasets_costs_no_more_than_a_small_multiple_of_the_input() {
    let mut rng = Rng::new(SEED);
    let logs = Logs::generate(&mut rng, 500);
    let codec = BitcodeCodec::new();
    let bytes = codec.encode(&logs).unwrap();
    let peak = peak_during(|| {
        assert_eq!(codec.decode(&bytes).unwrap(), logs);
    });
    assert!(
        peak <= 16 * bytes.len(),
        "log: {peak} bytes held for {} input bytes",
        bytes.len()
    );
}

#[test]
fn a_warm_bitcode_encode_into_a_buffer_with_room_allocates_nothing() {
    let codec = writer();
    let e = long_event();
    let mut buf = Vec::with_capacity(4096);
    codec.encode_into(&e, &mut buf).unwrap();
    buf.clear();
    let peak = peak_during(|| {
        codec.encode_into(&e, &mut buf).unwrap();
    });
    assert_eq!(peak, 0, "a warm encode allocated");
    assert_eq!(codec.decode(&buf).unwrap(), e);
}
