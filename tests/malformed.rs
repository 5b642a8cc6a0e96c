//! The malformed-input corpus: deterministic mutations of every golden frame and of a valid
//! encoding of every codec and stack, fed to every decoder.
//!
//! Mutations of each valid input:
//!
//! - every single-bit flip in the first 32 bytes (the header, or the start of a header-less
//!   encoding) and in the last 16 (where an rkyv archive keeps its root);
//! - every truncation (each proper prefix, including the empty input);
//! - every length field set to 0, to `u32::MAX`, and one off in each direction (frame payload
//!   and uncompressed lengths, the lz4 length varint, a batch's count, index offset and index
//!   entries, a stream's length prefix);
//! - checksum and fingerprint corruptions, and a dictionary id changed;
//! - the input twice in a row (duplicated) and spliced with every other input (the header of
//!   one with the payload of another, and one after the other).
//!
//! Every decoder (JSON, rkyv decode / access / access_owned, the hybrid codec's decode /
//! access / access_owned in several configurations, each `Compressed` stack, batch open and
//! get, and the length-delimited frame decoders) must return `Ok` or a typed
//! [`zerocodec::Error`] with a lowercase message, never panic, and a counting global allocator
//! checks that no input makes the decoders hold more than [`peak_bound`] bytes at once
//! (`2 × LIMIT + MAX_FRAME + 32 × input length`)
//! (decompression is capped at [`LIMIT`] here, so a forged length can never claim more).
//!
//! Checksummed frames must reject *every* single-bit flip anywhere in the frame.
//!
//! This file also writes and checks the fuzz seeds (`fuzz/seeds/TARGET/`): run
//! `ZEROCODEC_FUZZ_SEEDS=1 cargo test --test malformed fuzz_seeds` to (re)write them from
//! the valid encodings below; without the variable the test checks that every committed seed
//! is still a valid input of its target.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use tokio_util::bytes::BytesMut;
use tokio_util::codec::Decoder;
use zerocodec::batch::BatchRef;
use zerocodec::bytes::Bytes;
use zerocodec::rkyv::util::AlignedVec;
use zerocodec::{Batch, BatchBuilder, Codec, Error, Message, ZeroCopyCodec};
use zerocodec_codecs::{
    ArchivedFrameDecoder, AsJson, Compressed, FrameDecoder, HybridCodec, JsonCodec, Lz4, Policy,
    Primary, RkyvCodec, Zstd, ZstdDict, ZstdDictionary,
};
use zerocodec_datasets::messages::{chat_messages, rpc_requests};
use zerocodec_datasets::{ChatMessage, RpcRequest};

// ---------------------------------------------------------------------------------------
// A per-thread counting allocator: each test thread sees only its own allocations, so tests
// running in parallel do not disturb each other's figures.

struct Counting;

thread_local! {
    /// Bytes currently allocated by this thread (frees of another thread's blocks count
    /// against the thread that frees them).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The highest `LIVE` seen since the last reset.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// bookkeeping touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize));
        // SAFETY: `ptr` came from `System` with this layout (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize);
        // SAFETY: as `dealloc`; the caller upholds `realloc`'s contract for `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns the most bytes it held allocated at once (above what was live when it
/// started).
fn peak_during(f: impl FnOnce()) -> usize {
    let start = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    f();
    (PEAK.with(Cell::get) - start).max(0) as usize
}

// ---------------------------------------------------------------------------------------
// Message types: the golden-frame mirrors (same fields and fingerprints as tests/golden and
// the `hybrid` fuzz target) and the dataset types the other fuzz targets use.

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
struct Chat {
    id: String,
    content: String,
    timestamp: u64,
    sender: String,
    room_id: String,
}

impl Message for Chat {
    const NAME: &'static str = "Chat";
    const SCHEMA_FINGERPRINT: u64 = 0x0123_4567_89AB_CDEF;
}

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
struct Rpc {
    id: String,
    method: String,
    #[rkyv(with = AsJson)]
    params: serde_json::Value,
    kind: u8,
}

impl Message for Rpc {
    const NAME: &'static str = "Rpc";
    const SCHEMA_FINGERPRINT: u64 = 0xFEDC_BA98_7654_3210;
}

fn to_chat(m: ChatMessage) -> Chat {
    Chat {
        id: m.id,
        content: m.content,
        timestamp: m.timestamp,
        sender: m.sender,
        room_id: m.room_id,
    }
}

/// A chat message long and repetitive enough that every algorithm really compresses it.
fn long_chat() -> Chat {
    Chat {
        id: "msg-000043".into(),
        content: "the quick brown fox jumps over the lazy dog; ".repeat(12),
        timestamp: 1_763_700_000_456,
        sender: "user-1337".into(),
        room_id: "room-general".into(),
    }
}

fn long_chat_message() -> ChatMessage {
    let c = long_chat();
    ChatMessage {
        id: c.id,
        content: c.content,
        timestamp: c.timestamp,
        sender: c.sender,
        room_id: c.room_id,
    }
}

// ---------------------------------------------------------------------------------------
// The decoders.

/// Decompression limit of every stack here: a forged length can claim at most this much.
const LIMIT: usize = 256 << 10;
/// Frame limit of the length-delimited decoders here.
const MAX_FRAME: usize = 64 << 10;
/// The most bytes all decoders together may hold at once for one input: one decompression
/// up to [`LIMIT`] plus its aligned copy, one frame reservation up to [`MAX_FRAME`], and
/// 32 bytes per input byte for copies, re-alignments and owned values (measured peaks are
/// well below; see the `allocation_bound_is_tight_enough` test).
const PEAK_BOUND_BASE: usize = 2 * LIMIT + MAX_FRAME;
/// See [`PEAK_BOUND_BASE`].
const PEAK_PER_INPUT_BYTE: usize = 32;

fn peak_bound(input_len: usize) -> usize {
    PEAK_BOUND_BASE + PEAK_PER_INPUT_BYTE * input_len
}

fn policy() -> Policy {
    Policy::new().with_max_decompressed_len(LIMIT)
}

struct Decoders {
    hybrid_dict: ZstdDict,
    json_dict: ZstdDict,
}

/// The dictionary of the `dict` fuzz target (JSON chat messages).
fn json_dictionary() -> ZstdDictionary {
    ZstdDictionary::train_with(&JsonCodec, &chat_messages(0xD1C7, 500), 4096).unwrap()
}

/// The dictionary of the `hybrid` fuzz target (compact hybrid frames of chat messages).
fn hybrid_dictionary() -> ZstdDictionary {
    let samples: Vec<Chat> = chat_messages(0x4B1D, 300)
        .into_iter()
        .map(to_chat)
        .collect();
    ZstdDictionary::train_with(&HybridCodec::<Chat>::compact(), &samples, 2048).unwrap()
}

fn decoders() -> &'static Decoders {
    static D: OnceLock<Decoders> = OnceLock::new();
    D.get_or_init(|| Decoders {
        hybrid_dict: ZstdDict::new(hybrid_dictionary(), 3)
            .unwrap()
            .with_policy(policy()),
        json_dict: ZstdDict::new(json_dictionary(), 3)
            .unwrap()
            .with_policy(policy()),
    })
}

/// Checks that an error is typed and worded as the rules say.
fn typed<T>(result: Result<T, Error>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(err) => {
            let msg = err.message();
            assert!(
                !msg.is_empty(),
                "{:?} error with an empty message",
                err.kind()
            );
            // Lowercase, except for an acronym ("JSON ...").
            let mut chars = msg.chars();
            let (first, second) = (chars.next().unwrap(), chars.next());
            assert!(
                !first.is_uppercase() || second.is_some_and(char::is_uppercase),
                "error message should start lowercase: {msg}"
            );
            None
        }
    }
}

/// A view that validated deserializes to what decode returned: both a value, equal, or both
/// an error (validation only checks that an `AsJson` field is a string; its JSON is parsed
/// when deserializing, so a validated view can still fail to deserialize, as decode does).
fn agree<T: PartialEq + std::fmt::Debug>(decoded: &Option<T>, owned: Result<T, Error>) {
    match (decoded, typed(owned)) {
        (Some(decoded), Some(owned)) => assert_eq!(decoded, &owned, "view disagrees with decode"),
        (None, None) => {}
        (decoded, owned) => panic!("view and decode disagree: {decoded:?} vs {owned:?}"),
    }
}

fn aligned(input: &[u8]) -> AlignedVec {
    let mut v = AlignedVec::<16>::with_capacity(input.len());
    v.extend_from_slice(input);
    v
}

/// `input` as `Bytes` that start one byte past a 16-byte boundary.
fn unaligned_bytes(input: &[u8]) -> Bytes {
    let mut v = aligned(&[0]);
    v.extend_from_slice(input);
    Bytes::copy_from_slice(&v).slice(1..)
}

fn hybrid_all<T>(codec: &HybridCodec<T>, input: &[u8], aligned: &[u8])
where
    T: zerocodec_codecs::HybridMessage + PartialEq + std::fmt::Debug,
{
    let decoded = typed(codec.decode(input));
    typed(codec.access(input));
    if let Some(view) = typed(codec.access(aligned)) {
        agree(
            &decoded,
            zerocodec::archive::deserialize_archived::<T>(view),
        );
    }
    for bytes in [Bytes::copy_from_slice(aligned), unaligned_bytes(input)] {
        if let Some(archive) = typed(codec.access_owned(bytes)) {
            agree(&decoded, archive.deserialize());
        }
    }
}

fn compressed_all<T, C, X>(codec: &Compressed<C, X>, input: &[u8])
where
    T: zerocodec::ZeroCopyDecode + PartialEq + std::fmt::Debug,
    C: ZeroCopyCodec<T>,
    X: zerocodec::Transform,
{
    let decoded = typed(Codec::<T>::decode(codec, input));
    for bytes in [Bytes::copy_from_slice(input), unaligned_bytes(input)] {
        if let Some(archive) = typed(ZeroCopyCodec::<T>::access_owned(codec, bytes)) {
            agree(&decoded, archive.deserialize());
        }
    }
}

fn drain<D: Decoder<Error = Error>>(mut decoder: D, input: &[u8]) -> usize {
    let mut buf = BytesMut::from(input);
    let mut n = 0;
    loop {
        match decoder.decode(&mut buf) {
            Ok(Some(_)) => n += 1,
            Ok(None) => {
                typed(decoder.decode_eof(&mut buf));
                return n;
            }
            Err(err) => {
                typed::<()>(Err(err));
                return n;
            }
        }
    }
}

/// Feeds `input` to every decoder.
fn feed(input: &[u8]) {
    let d = decoders();
    let al = aligned(input);

    // JSON.
    typed(JsonCodec.decode::<ChatMessage>(input));
    typed(JsonCodec.decode::<RpcRequest>(input));
    typed(JsonCodec.decode::<serde_json::Value>(input));

    // rkyv.
    let rkyv = RkyvCodec::new();
    let decoded = typed(rkyv.decode::<ChatMessage>(input));
    typed(rkyv.decode::<RpcRequest>(input));
    typed(rkyv.access::<ChatMessage>(input));
    if let Some(view) = typed(rkyv.access::<ChatMessage>(&al)) {
        agree(
            &decoded,
            zerocodec::archive::deserialize_archived::<ChatMessage>(view),
        );
    }
    typed(rkyv.access_owned::<RpcRequest>(unaligned_bytes(input)));

    // The hybrid codec.
    hybrid_all(&HybridCodec::<Chat>::new(), input, &al);
    hybrid_all(
        &HybridCodec::<Chat>::compact().with_legacy_json(false),
        input,
        &al,
    );
    hybrid_all(&HybridCodec::<Rpc>::new().with_checksum(true), input, &al);

    // Compressed stacks.
    let hybrid = HybridCodec::<Chat>::new();
    compressed_all::<Chat, _, _>(
        &Compressed::new(hybrid.clone(), Lz4::new().with_policy(policy())),
        input,
    );
    compressed_all::<Chat, _, _>(
        &Compressed::new(hybrid.clone(), Zstd::new(3).with_policy(policy())),
        input,
    );
    compressed_all::<Chat, _, _>(&Compressed::new(hybrid, &d.hybrid_dict), input);
    compressed_all::<Rpc, _, _>(
        &Compressed::new(HybridCodec::<Rpc>::new(), Lz4::new().with_policy(policy())),
        input,
    );
    compressed_all::<ChatMessage, _, _>(
        &Compressed::new(rkyv, Lz4::new().with_policy(policy())),
        input,
    );
    compressed_all::<ChatMessage, _, _>(
        &Compressed::new(rkyv, Zstd::new(3).with_policy(policy())),
        input,
    );
    compressed_all::<ChatMessage, _, _>(&Compressed::new(rkyv, &d.json_dict), input);
    for json in [
        Compressed::new(JsonCodec, Lz4::new().with_policy(policy())).decode::<ChatMessage>(input),
        Compressed::new(JsonCodec, Zstd::new(3).with_policy(policy())).decode(input),
        Compressed::new(JsonCodec, &d.json_dict).decode(input),
    ] {
        typed(json);
    }

    // Batches.
    if let Some(batch) = typed(BatchRef::<ChatMessage>::open(&al)) {
        for (i, view) in batch.iter().enumerate() {
            assert!(std::ptr::eq(batch.get(i).unwrap(), view));
            assert_eq!(batch.deserialize(i).unwrap().id, view.id.as_str());
        }
        assert!(batch.get(batch.len()).unwrap_err().is_out_of_range());
    }
    typed(BatchRef::<ChatMessage>::open(input));
    if let Some(batch) = typed(Batch::<ChatMessage>::open(unaligned_bytes(input))) {
        assert_eq!(batch.iter().count(), batch.len());
    }

    // Length-delimited frame decoders.
    drain(
        FrameDecoder::<_, ChatMessage>::new(rkyv).max_frame_len(MAX_FRAME),
        input,
    );
    drain(
        FrameDecoder::<_, ChatMessage>::new(JsonCodec).max_frame_len(MAX_FRAME),
        input,
    );
    drain(
        ArchivedFrameDecoder::<_, Chat>::new(HybridCodec::<Chat>::new()).max_frame_len(MAX_FRAME),
        input,
    );
}

/// Feeds `input` with the allocation check.
fn feed_bounded(input: &[u8]) -> usize {
    let peak = peak_during(|| feed(input));
    assert!(
        peak <= peak_bound(input.len()),
        "a {}-byte input made the decoders hold {peak} bytes at once, over the bound {}",
        input.len(),
        peak_bound(input.len())
    );
    peak
}

// ---------------------------------------------------------------------------------------
// Valid inputs and their mutations.

/// Where an input keeps its length fields.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A hybrid frame (tagged header).
    Frame,
    /// A `Compressed<JsonCodec | RkyvCodec, Lz4>` encoding: transform prefix, lz4 varint.
    PrefixedLz4,
    /// A `Compressed<_, Zstd | ZstdDict>` encoding: transform prefix, zstd frame.
    PrefixedZstd,
    /// Header-less JSON or an rkyv archive.
    Plain,
    /// A batch.
    Batch,
    /// A length-delimited stream.
    Stream,
}

struct Valid {
    name: String,
    kind: Kind,
    bytes: Vec<u8>,
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn goldens() -> Vec<Valid> {
    let mut out: Vec<Valid> = fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .map(|p| Valid {
            name: p.file_stem().unwrap().to_string_lossy().into_owned(),
            kind: Kind::Frame,
            bytes: fs::read(&p).unwrap(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(out.len() >= 7, "expected the golden frames in tests/golden");
    out
}

fn enc<T, C: Codec<T>>(codec: &C, value: &T) -> Vec<u8> {
    codec.encode(value).unwrap().to_vec()
}

fn stream(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        out.extend_from_slice(&(f.len() as u32).to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// One valid encoding of every codec and stack.
fn encodings() -> Vec<Valid> {
    let d = decoders();
    let chat = long_chat();
    let msg = long_chat_message();
    let rpc = rpc_requests(7, 1).pop().unwrap();
    let rpc_mirror = Rpc {
        id: rpc.id.clone(),
        method: rpc.method.clone(),
        params: rpc.params.clone(),
        kind: 2,
    };
    let rkyv = RkyvCodec::new();
    let v = |name: &str, kind: Kind, bytes: Vec<u8>| Valid {
        name: name.to_string(),
        kind,
        bytes,
    };
    let mut batch = BatchBuilder::<ChatMessage>::new();
    for m in chat_messages(3, 3) {
        batch.append(&m).unwrap();
    }
    let mut out = vec![
        v("json-chat", Kind::Plain, enc(&JsonCodec, &msg)),
        v("json-rpc", Kind::Plain, enc(&JsonCodec, &rpc)),
        v("rkyv-chat", Kind::Plain, enc(&rkyv, &msg)),
        v("rkyv-rpc", Kind::Plain, enc(&rkyv, &rpc)),
        v("hybrid-chat", Kind::Frame, enc(&HybridCodec::new(), &chat)),
        v(
            "hybrid-chat-checksum",
            Kind::Frame,
            enc(&HybridCodec::new().with_checksum(true), &chat),
        ),
        v(
            "hybrid-rpc-json",
            Kind::Frame,
            enc(&HybridCodec::new().with_primary(Primary::Json), &rpc_mirror),
        ),
        v(
            "hybrid-lz4",
            Kind::Frame,
            enc(&Compressed::new(HybridCodec::new(), Lz4::new()), &chat),
        ),
        v(
            "hybrid-zstd-checksum",
            Kind::Frame,
            enc(
                &Compressed::new(HybridCodec::new().with_checksum(true), Zstd::new(3)),
                &chat,
            ),
        ),
        v(
            "hybrid-dict",
            Kind::Frame,
            enc(&Compressed::new(HybridCodec::new(), &d.hybrid_dict), &chat),
        ),
        // Version 1 frames, which readers keep reading.
        v(
            "hybrid-chat-checksum-v1",
            Kind::Frame,
            enc(
                &HybridCodec::new()
                    .with_format_version(1)
                    .with_checksum(true),
                &chat,
            ),
        ),
        v(
            "hybrid-zstd-checksum-v1",
            Kind::Frame,
            enc(
                &Compressed::new(
                    HybridCodec::new()
                        .with_format_version(1)
                        .with_checksum(true),
                    Zstd::new(3),
                ),
                &chat,
            ),
        ),
        v(
            "hybrid-dict-v1",
            Kind::Frame,
            enc(
                &Compressed::new(HybridCodec::new().with_format_version(1), &d.hybrid_dict),
                &chat,
            ),
        ),
        v(
            "rkyv-lz4",
            Kind::PrefixedLz4,
            enc(&Compressed::new(rkyv, Lz4::new()), &msg),
        ),
        v(
            "json-lz4",
            Kind::PrefixedLz4,
            enc(&Compressed::new(JsonCodec, Lz4::new()), &msg),
        ),
        v(
            "rkyv-zstd",
            Kind::PrefixedZstd,
            enc(&Compressed::new(rkyv, Zstd::new(3)), &msg),
        ),
        v(
            "json-dict",
            Kind::PrefixedZstd,
            enc(&Compressed::new(JsonCodec, &d.json_dict), &msg),
        ),
        v("batch-chat", Kind::Batch, batch.into_bytes().to_vec()),
        v(
            "stream-rkyv",
            Kind::Stream,
            stream(&[enc(&rkyv, &msg), enc(&rkyv, &chat_messages(4, 1)[0])]),
        ),
        v(
            "stream-hybrid",
            Kind::Stream,
            stream(&[
                enc(&HybridCodec::new(), &chat),
                enc(&HybridCodec::compact(), &chat),
            ]),
        ),
    ];
    // Each compressed stack really compressed its input (else the mutations would not
    // reach the decompressors).
    for name in ["hybrid-lz4", "hybrid-zstd-checksum", "hybrid-dict"] {
        let f = out.iter().find(|v| v.name == name).unwrap();
        assert_ne!(f.bytes[3], 0, "{name} stored its payload raw");
    }
    for name in ["rkyv-lz4", "json-lz4", "rkyv-zstd", "json-dict"] {
        let f = out.iter().find(|v| v.name == name).unwrap();
        assert_ne!(f.bytes[0], 0, "{name} stored its payload raw");
    }
    out.extend(goldens());
    out
}

fn with_u32(bytes: &[u8], at: usize, value: u32, big_endian: bool) -> Option<Vec<u8>> {
    bytes.get(at..at + 4)?;
    let mut out = bytes.to_vec();
    let raw = if big_endian {
        value.to_be_bytes()
    } else {
        value.to_le_bytes()
    };
    out[at..at + 4].copy_from_slice(&raw);
    Some(out)
}

fn read_u32(bytes: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let f: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(f)
    } else {
        u32::from_le_bytes(f)
    })
}

/// The four length mutations of the u32 at `at`: 0, max, one less and one more.
fn length_mutations(bytes: &[u8], at: usize, big_endian: bool, out: &mut Vec<Vec<u8>>) {
    let Some(orig) = read_u32(bytes, at, big_endian) else {
        return;
    };
    for value in [
        0,
        u32::MAX,
        orig.wrapping_sub(1),
        orig.wrapping_add(1),
        orig.wrapping_mul(2),
    ] {
        out.extend(with_u32(bytes, at, value, big_endian));
    }
}

fn leb128(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// The lz4 payload's length varint set to 0, max, and one off each way.
fn lz4_varint_mutations(bytes: &[u8], out: &mut Vec<Vec<u8>>) {
    let start = if bytes[1] & 1 != 0 { 6 } else { 2 };
    let mut n = 0u64;
    let mut end = start;
    for (i, &b) in bytes[start..].iter().enumerate().take(10) {
        n |= u64::from(b & 0x7F) << (7 * i);
        end = start + i + 1;
        if b & 0x80 == 0 {
            break;
        }
    }
    let mut replace = |varint: Vec<u8>| {
        let mut m = bytes[..start].to_vec();
        m.extend_from_slice(&varint);
        m.extend_from_slice(&bytes[end..]);
        out.push(m);
    };
    for value in [0, u64::MAX, n.wrapping_sub(1), n + 1, LIMIT as u64 + 1] {
        replace(leb128(value));
    }
    // Overlong and unterminated varints.
    replace(vec![0x80 | (n as u8 & 0x7F), 0x80, 0x00]);
    replace(vec![0xFF; 11]);
}

/// Every mutation of one valid input.
fn mutations(valid: &Valid) -> Vec<Vec<u8>> {
    let b = &valid.bytes;
    let mut out = Vec::new();
    // Single-bit flips at the start and at the end.
    let len = b.len();
    let positions: Vec<usize> = (0..len.min(32))
        .chain(len.saturating_sub(16).max(32)..len)
        .collect();
    for i in positions {
        for bit in 0..8 {
            let mut m = b.clone();
            m[i] ^= 1 << bit;
            out.push(m);
        }
    }
    // Every truncation.
    for n in 0..len {
        out.push(b[..n].to_vec());
    }
    // Length fields, checksum, fingerprint and dictionary.
    match valid.kind {
        Kind::Frame => {
            length_mutations(b, 8, false, &mut out);
            length_mutations(b, 28, false, &mut out);
            length_mutations(b, 24, false, &mut out);
            for (range, x) in [(12..16, 0xFFu8), (16..24, 0x01), (16..24, 0xFF)] {
                if b.len() >= range.end {
                    let mut m = b.clone();
                    m[range.clone()].iter_mut().for_each(|v| *v ^= x);
                    out.push(m);
                    let mut zero = b.clone();
                    zero[range].fill(0);
                    out.push(zero);
                }
            }
        }
        Kind::PrefixedLz4 => lz4_varint_mutations(b, &mut out),
        Kind::PrefixedZstd => {
            if b[1] & 1 != 0 {
                length_mutations(b, 2, false, &mut out); // the dictionary id
            }
        }
        Kind::Batch => {
            length_mutations(b, 8, false, &mut out);
            length_mutations(b, 12, false, &mut out);
            let index = read_u32(b, 12, false).unwrap() as usize;
            for at in [index, index + 4, b.len() - 8, b.len() - 4] {
                length_mutations(b, at, false, &mut out);
            }
        }
        Kind::Stream => {
            length_mutations(b, 0, true, &mut out);
            let second = 4 + read_u32(b, 0, true).unwrap() as usize;
            length_mutations(b, second, true, &mut out);
        }
        Kind::Plain => {}
    }
    // Duplicated.
    out.push(b.repeat(2));
    out
}

/// Frames spliced with each other: one's header with another's payload, and back to back.
fn splices(valid: &[Valid]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for a in valid {
        for b in valid {
            if std::ptr::eq(a, b) {
                continue;
            }
            for at in [16, 32] {
                if a.bytes.len() > at && b.bytes.len() > at {
                    let mut m = a.bytes[..at].to_vec();
                    m.extend_from_slice(&b.bytes[at..]);
                    out.push(m);
                }
            }
            let mut both = a.bytes.clone();
            both.extend_from_slice(&b.bytes);
            out.push(both);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The tests.

#[test]
fn every_valid_input_decodes() {
    let chat = long_chat();
    for valid in encodings() {
        feed_bounded(&valid.bytes);
        if valid.name.starts_with("hybrid-") && !valid.name.contains("rpc") {
            let codec = Compressed::new(HybridCodec::<Chat>::new(), &decoders().hybrid_dict)
                .decode::<Chat>(&valid.bytes);
            let zstd = Compressed::new(HybridCodec::<Chat>::new(), Zstd::new(3));
            // A dictionary reader reads every algorithm; a plain zstd reader all but the
            // dictionary.
            assert_eq!(codec.unwrap(), chat, "{}", valid.name);
            if !valid.name.starts_with("hybrid-dict") {
                assert_eq!(zstd.decode::<Chat>(&valid.bytes).unwrap(), chat);
            }
        }
    }
}

fn run_mutations(filter: impl Fn(&Valid) -> bool) -> (usize, usize) {
    let (mut inputs, mut max_peak) = (0, 0);
    // Warm up per-thread contexts and pools so one-time setup is not counted against an input.
    for valid in encodings() {
        feed(&valid.bytes);
    }
    for valid in encodings().iter().filter(|v| filter(v)) {
        for m in mutations(valid) {
            max_peak = max_peak.max(feed_bounded(&m));
            inputs += 1;
        }
    }
    (inputs, max_peak)
}

#[test]
fn mutated_golden_frames() {
    let (inputs, peak) = run_mutations(|v| v.name.starts_with("v1-"));
    assert!(inputs > 7 * 300, "only {inputs} mutations");
    eprintln!("golden frames: {inputs} mutated inputs, peak {peak} bytes");
}

#[test]
fn mutated_hybrid_encodings() {
    let (inputs, peak) = run_mutations(|v| v.name.starts_with("hybrid-"));
    eprintln!("hybrid stacks: {inputs} mutated inputs, peak {peak} bytes");
}

#[test]
fn mutated_plain_and_prefixed_encodings() {
    let (inputs, peak) =
        run_mutations(|v| matches!(v.kind, Kind::Plain | Kind::PrefixedLz4 | Kind::PrefixedZstd));
    eprintln!("json, rkyv and compressed: {inputs} mutated inputs, peak {peak} bytes");
}

#[test]
fn mutated_batches_and_streams() {
    let (inputs, peak) = run_mutations(|v| matches!(v.kind, Kind::Batch | Kind::Stream));
    eprintln!("batches and streams: {inputs} mutated inputs, peak {peak} bytes");
}

#[test]
fn spliced_and_duplicated_frames() {
    let valid: Vec<Valid> = encodings()
        .into_iter()
        .filter(|v| v.kind == Kind::Frame)
        .collect();
    let spliced = splices(&valid);
    assert!(spliced.len() > valid.len() * valid.len());
    for m in &spliced {
        feed_bounded(m);
    }
    // A duplicated frame is one frame plus trailing bytes: never read as one message.
    for v in &valid {
        let twice = v.bytes.repeat(2);
        assert!(
            HybridCodec::<Chat>::new().decode(&twice).is_err(),
            "{}",
            v.name
        );
    }
}

#[test]
fn checksummed_frames_reject_every_bit_flip() {
    let valid: Vec<Valid> = encodings()
        .into_iter()
        .filter(|v| {
            v.kind == Kind::Frame
                && zerocodec::frame::FrameHeader::parse(&v.bytes)
                    .is_ok_and(|h| h.checksum.is_some())
        })
        .collect();
    assert!(valid.len() >= 5, "expected checksummed frames");
    let d = decoders();
    for v in &valid {
        for i in 0..v.bytes.len() {
            for bit in 0..8 {
                let mut m = v.bytes.clone();
                m[i] ^= 1 << bit;
                let chat = Compressed::new(HybridCodec::<Chat>::new(), &d.hybrid_dict);
                let rpc = HybridCodec::<Rpc>::new();
                assert!(
                    Codec::<Chat>::decode(&chat, &m).is_err() && rpc.decode(&m).is_err(),
                    "{}: flipping bit {bit} of byte {i} went unnoticed",
                    v.name
                );
            }
        }
    }
}

#[test]
fn forged_lengths_are_rejected_before_allocating() {
    warm_up();
    for valid in encodings().iter().filter(|v| v.kind == Kind::Frame) {
        // Version 1 compressed frames record the uncompressed length at bytes 28..32 (version
        // 2 leaves it to the compressed format, forged in tests/compress_bomb.rs).
        if valid.bytes[1] != 1 || valid.bytes[3] == 0 {
            continue;
        }
        // Uncompressed length far past the limit: refused as too large.
        let forged = with_u32(&valid.bytes, 28, u32::MAX, false).unwrap();
        let codec = Compressed::new(HybridCodec::<Chat>::new(), &decoders().hybrid_dict);
        let peak = peak_during(|| {
            let err = Codec::<Chat>::decode(&codec, &forged).unwrap_err();
            assert!(err.is_too_large() || err.is_checksum_mismatch(), "{err}");
        });
        assert!(peak < 4096, "{}: {peak} bytes allocated", valid.name);
    }
    // A stream announcing a frame past the limit.
    let mut decoder = FrameDecoder::<_, ChatMessage>::new(RkyvCodec::new()).max_frame_len(1024);
    let mut buf = BytesMut::from(&[0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3][..]);
    let peak = peak_during(|| assert!(decoder.decode(&mut buf).unwrap_err().is_too_large()));
    assert!(peak < 1024, "{peak}");
}

fn warm_up() {
    for valid in encodings() {
        feed(&valid.bytes);
    }
}

#[test]
fn allocation_bound_is_tight_enough() {
    // The bound must be meaningful: far below what a forged u32 length would demand.
    assert!(peak_bound(64 << 10) < u32::MAX as usize / 1000);
    // And the counter must see allocations at all.
    let peak = peak_during(|| drop(std::hint::black_box(vec![0u8; 10_000])));
    assert!(peak >= 10_000);
}

// ---------------------------------------------------------------------------------------
// Fuzz seeds.

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds")
}

/// The seeds of every fuzz target, generated from the valid encodings.
fn seeds() -> BTreeMap<&'static str, Vec<(String, Vec<u8>)>> {
    let mut map: BTreeMap<&'static str, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    let all = encodings();
    let get = |name: &str| all.iter().find(|v| v.name == name).unwrap().bytes.clone();
    let mut add = |target: &'static str, name: &str, bytes: Vec<u8>| {
        map.entry(target)
            .or_default()
            .push((name.to_string(), bytes));
    };
    for v in all.iter().filter(|v| v.kind == Kind::Frame) {
        add("hybrid", &v.name, v.bytes.clone());
    }
    add("hybrid", "legacy-json", enc(&JsonCodec, &long_chat()));
    for name in ["json-chat", "json-rpc"] {
        add("json", name, get(name));
    }
    for name in ["rkyv-chat", "rkyv-rpc"] {
        add("rkyv_access", name, get(name));
        // The first byte picks the misalignment.
        let mut shifted = vec![3];
        shifted.extend_from_slice(&get(name));
        add("rkyv_decode", name, shifted);
    }
    for name in ["rkyv-lz4", "json-lz4", "rkyv-zstd"] {
        add("compress", name, get(name));
    }
    add("dict", "json-dict", get("json-dict"));
    add("batch", "batch-chat", get("batch-chat"));
    // The first byte picks the chunk size.
    let mut rkyv_stream = vec![5];
    rkyv_stream.extend_from_slice(&get("stream-rkyv"));
    add("framed", "stream-rkyv", rkyv_stream);
    let msg = long_chat_message();
    let mut json_stream = vec![16];
    json_stream.extend_from_slice(&stream(&[enc(&JsonCodec, &msg), enc(&JsonCodec, &msg)]));
    add("framed", "stream-json", json_stream);
    map
}

/// True if `bytes` is a valid input of fuzz target `target` (decodes to a message).
fn seed_decodes(target: &str, bytes: &[u8]) -> bool {
    let d = decoders();
    let rkyv = RkyvCodec::new();
    match target {
        "hybrid" => {
            HybridCodec::<Chat>::new().decode(bytes).is_ok()
                || HybridCodec::<Rpc>::new().decode(bytes).is_ok()
                || Compressed::new(HybridCodec::<Chat>::new(), &d.hybrid_dict)
                    .decode::<Chat>(bytes)
                    .is_ok()
                // The golden xor frame names a test-only algorithm: a typed error.
                || Compressed::new(HybridCodec::<Chat>::new(), Zstd::new(3))
                    .decode::<Chat>(bytes)
                    .is_err_and(|e| e.kind() == zerocodec::ErrorKind::UnknownCompression)
        }
        "json" => {
            JsonCodec.decode::<ChatMessage>(bytes).is_ok()
                || JsonCodec.decode::<RpcRequest>(bytes).is_ok()
        }
        "rkyv_access" => {
            rkyv.decode::<ChatMessage>(bytes).is_ok() || rkyv.decode::<RpcRequest>(bytes).is_ok()
        }
        "rkyv_decode" => {
            let rest = &bytes[1..];
            rkyv.decode::<ChatMessage>(rest).is_ok() || rkyv.decode::<RpcRequest>(rest).is_ok()
        }
        "compress" => {
            Compressed::new(rkyv, Zstd::new(3))
                .decode::<ChatMessage>(bytes)
                .is_ok()
                || Compressed::new(JsonCodec, Zstd::new(3))
                    .decode::<ChatMessage>(bytes)
                    .is_ok()
        }
        "dict" => Compressed::new(JsonCodec, &d.json_dict)
            .decode::<ChatMessage>(bytes)
            .is_ok(),
        "batch" => BatchRef::<ChatMessage>::open(&aligned(bytes)).is_ok_and(|b| b.len() == 3),
        "framed" => {
            let stream = &bytes[1..];
            drain(FrameDecoder::<_, ChatMessage>::new(rkyv), stream) == 2
                || drain(FrameDecoder::<_, ChatMessage>::new(JsonCodec), stream) == 2
        }
        _ => false,
    }
}

#[test]
fn fuzz_seeds() {
    let write = std::env::var_os("ZEROCODEC_FUZZ_SEEDS").is_some();
    let generated = seeds();
    if write {
        for (target, files) in &generated {
            let dir = seeds_dir().join(target);
            fs::create_dir_all(&dir).unwrap();
            for (name, bytes) in files {
                fs::write(dir.join(format!("{name}.bin")), bytes).unwrap();
            }
        }
    }
    // Every target has seeds, and every committed seed is a valid input of its target.
    let mut checked = 0;
    for target in generated.keys() {
        let dir = seeds_dir().join(target);
        let files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        assert!(!files.is_empty(), "no seeds for {target}");
        for file in files {
            let bytes = fs::read(&file).unwrap();
            assert!(bytes.len() <= 4096, "{} is not small", file.display());
            // `defect-*` seeds are the inputs of defects found and fixed (tests/contract.rs):
            // each is refused, and starts the fuzzer next to the boundary it crossed.
            let defect = file
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("defect-"));
            assert_eq!(
                seed_decodes(target, &bytes),
                !defect,
                "{}: a seed decodes, a defect seed does not",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} seeds");
}

// ---------------------------------------------------------------------------------------
// Fuzz findings, one regression test each (inputs in fuzz/regressions/).

/// `hybrid` target, first run: an `Rpc` frame whose archive validates (the `AsJson` field is
/// a valid string) but whose text is not JSON. `access` succeeds, and deserializing the view
/// fails with the same typed error as `decode`: the harness had assumed a validated view
/// always deserializes. The library was right; the harness and these tests now compare both.
#[test]
fn fuzz_hybrid_validated_view_with_invalid_json_text() {
    let input = include_bytes!("../fuzz/regressions/hybrid-asjson-not-json.bin");
    let codec = HybridCodec::<Rpc>::new();
    let frame = aligned(input);
    let decode_err = codec.decode(&frame).unwrap_err();
    assert_eq!(
        decode_err.kind(),
        zerocodec::ErrorKind::Corrupt,
        "{decode_err}"
    );
    let view = codec.access(&frame).unwrap();
    let err = zerocodec::archive::deserialize_archived::<Rpc>(view).unwrap_err();
    assert_eq!(err.kind(), decode_err.kind());
    let owned = codec.access_owned(Bytes::copy_from_slice(input)).unwrap();
    assert_eq!(owned.deserialize().unwrap_err().kind(), decode_err.kind());
    feed_bounded(input);
}

/// `rkyv_access` target, after the hardening: an `RpcRequest` archive whose `params` value
/// nests more levels than rkyv's encoder writes (`MAX_ENCODE_DEPTH`, 100 since the hardening,
/// so that everything it writes is readable) but fewer than the reader's validation cap
/// allows. Readers accept it, as they must for archives from writers with another cap; rkyv
/// refuses to re-encode the value with a typed error, and the hybrid codec carries it as JSON.
/// The harness had assumed every decoded value re-encodes as rkyv; the library behaved as
/// specified, and the harness now checks exactly this.
#[test]
fn fuzz_rkyv_access_value_deeper_than_the_encoder_cap() {
    let input =
        include_bytes!("../fuzz/regressions/rkyv_access-value-deeper-than-the-encoder-cap.bin");
    let rkyv = RkyvCodec::new();
    let bytes = aligned(input);
    let view = rkyv.access::<RpcRequest>(&bytes).unwrap();
    let owned = zerocodec::archive::deserialize_archived::<RpcRequest>(view).unwrap();
    assert_eq!(rkyv.decode::<RpcRequest>(&bytes).unwrap(), owned);
    let err = rkyv.encode(&owned).unwrap_err();
    assert_eq!(err.kind(), zerocodec::ErrorKind::Encode, "{err}");
    let hybrid = HybridCodec::<RpcRequest>::new();
    let frame = hybrid.encode(&owned).unwrap();
    assert_eq!(
        zerocodec::frame::FrameHeader::parse(&frame).unwrap().codec,
        zerocodec::CodecId::JSON
    );
    assert_eq!(hybrid.decode(&frame).unwrap(), owned);
    feed_bounded(input);
}
