//! The malformed-input corpus: deterministic mutations of every golden frame and of a valid
//! encoding of every codec and stack, fed to every decoder.
//!
//! Mutations of each valid input:
//!
//! - every single-bit flip in the first 32 bytes (the header, or the start of a header-less
//!   encoding) and in the last 16 (where an rkyv archive keeps its root);
//! - every truncation (each proper prefix, including the empty input);
//! - every length field set to 0, to `u32::MAX`, and one off in each direction (a frame's
//!   LEB128 payload length, the lz4 payload's decompressed-length varint, a batch's count,
//!   index offset and index entries, a stream's length prefix);
//! - checksum and fingerprint corruptions, the compression id and dictionary id changed (and,
//!   in checksummed frames, the same with the checksum recomputed, so that the change reaches
//!   the decompressor);
//! - the input twice in a row (duplicated) and spliced with every other input (the header of
//!   one with the payload of another, and one after the other).
//!
//! Every decoder (JSON, rkyv decode / access / access_owned, bitcode (`BitcodeCodec`, bare and
//! in a compressed frame), the hybrid codec's decode / access / access_owned in several
//! configurations, with and without compression, reading rkyv, JSON and bitcode payloads, each
//! `Compressed` stack, the batch codec, batch open and get, and the length-delimited frame
//! decoders) must return `Ok` or a typed [`zerocodec::Error`] with a lowercase message, never
//! panic, and a counting global allocator checks that no input makes the decoders hold more
//! than [`peak_bound`] bytes at once (`2 × LIMIT + MAX_FRAME + 32 × input length`)
//! (decompression is capped at [`LIMIT`] here, so a forged length can never claim more).
//!
//! Checksummed frames must reject *every* single-bit flip anywhere in the frame.
//!
//! This file also writes and checks the fuzz seeds (`fuzz/seeds/TARGET/`): run
//! `ZEROCODEC_FUZZ_SEEDS=1 cargo test --test malformed fuzz_seeds` to (re)write them from
//! the valid encodings below (removing stale seeds that are no longer generated; `defect-*`
//! seeds are kept); without the variable the test checks that every committed seed is still a
//! valid input of its target.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use tokio_util::bytes::BytesMut;
use tokio_util::codec::Decoder;
use zerocodec::bytes::Bytes;
use zerocodec::frame::{self, FrameHeader, FrameWriter};
use zerocodec::prelude::*;
use zerocodec::rkyv::util::AlignedVec;
use zerocodec::{CodecId, CompressionId, Error, ErrorKind, Message, ZeroCopyDecode};
use zerocodec_codecs::{
    ArchivedFrameDecoder, AsJson, Batch, BatchBuilder, BatchCodec, BatchRef, BitcodeCodec,
    Compressed, Compression, FrameDecoder, HybridCodec, HybridMessage, JsonCodec, Policy, Primary,
    RkyvCodec, ZstdDict, ZstdDictionary,
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
    bitcode::Encode,
    bitcode::Decode,
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

/// Decompression limit of every reader here: a forged length can claim at most this much.
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

/// Every frame reader, built once (so that building them is not counted against an input).
/// Each caps decompression at [`LIMIT`].
struct Decoders {
    /// The `hybrid` fuzz target's dictionary, prepared.
    hybrid_dict: Compression,
    /// The `dict` fuzz target's dictionary, prepared.
    json_dict: Compression,
    /// Hybrid readers of `Chat`: plain, strict, and writers of every compression.
    chat: Vec<HybridCodec<Chat>>,
    /// Hybrid readers of `Chat` that read bitcode payloads: plain, checksummed, zstd.
    chat_bitcode: Vec<HybridCodec<Chat>>,
    /// `BitcodeCodec` readers of `Chat`, bare and in a zstd `Compressed` frame.
    bitcode: (BitcodeCodec<Chat>, Compressed<BitcodeCodec<Chat>>),
    /// Hybrid readers of `Rpc`.
    rpc: Vec<HybridCodec<Rpc>>,
    /// `Compressed` rkyv stacks: lz4, zstd, the JSON dictionary (on rkyv payloads).
    rkyv: Vec<Compressed<RkyvCodec<ChatMessage>>>,
    /// `Compressed` JSON stacks: lz4, zstd, the JSON dictionary.
    json: Vec<Compressed<JsonCodec<ChatMessage>>>,
    /// Batch frames.
    batch: BatchCodec<ChatMessage>,
}

/// The dictionary of the `dict` fuzz target (JSON chat messages).
fn json_dictionary() -> ZstdDictionary {
    ZstdDictionary::train_with(
        &JsonCodec::<ChatMessage>::new(),
        &chat_messages(0xD1C7, 500),
        4096,
    )
    .unwrap()
}

/// The dictionary of the `hybrid` fuzz target (rkyv archives of chat messages: what a hybrid
/// frame compresses).
fn hybrid_dictionary() -> ZstdDictionary {
    let samples: Vec<Chat> = chat_messages(0x4B1D, 300)
        .into_iter()
        .map(to_chat)
        .collect();
    ZstdDictionary::train_with(&RkyvCodec::<Chat>::new(), &samples, 2048).unwrap()
}

fn decoders() -> &'static Decoders {
    static D: OnceLock<Decoders> = OnceLock::new();
    D.get_or_init(|| {
        let hybrid_dict = Compression::ZstdDict(ZstdDict::new(hybrid_dictionary(), 3).unwrap());
        let json_dict = Compression::ZstdDict(ZstdDict::new(json_dictionary(), 3).unwrap());
        let chat = HybridCodec::<Chat>::new().with_policy(policy());
        let rpc = HybridCodec::<Rpc>::new().with_policy(policy());
        let rkyv = Compressed::new(RkyvCodec::new(), Compression::None).with_policy(policy());
        let json = Compressed::new(JsonCodec::new(), Compression::None).with_policy(policy());
        let bitcode_chat = chat.clone().with_bitcode().with_primary(Primary::Bitcode);
        Decoders {
            chat_bitcode: vec![
                bitcode_chat.clone(),
                bitcode_chat.clone().with_checksum(true),
                bitcode_chat.with_compression(Compression::Zstd(3)),
            ],
            bitcode: (
                BitcodeCodec::new().with_max_len(LIMIT),
                Compressed::new(BitcodeCodec::new(), Compression::Zstd(3)).with_policy(policy()),
            ),
            chat: vec![
                chat.clone(),
                HybridCodec::compact()
                    .with_legacy_json(false)
                    .with_policy(policy()),
                chat.clone().with_compression(Compression::Lz4),
                chat.clone().with_compression(Compression::Zstd(3)),
                chat.with_compression(hybrid_dict.clone()),
            ],
            rpc: vec![
                rpc.clone().with_checksum(true),
                rpc.with_compression(Compression::Lz4),
            ],
            rkyv: vec![
                rkyv.clone().with_compression(Compression::Lz4),
                rkyv.clone().with_compression(Compression::Zstd(3)),
                rkyv.with_compression(json_dict.clone()),
            ],
            json: vec![
                json.clone().with_compression(Compression::Lz4),
                json.clone().with_compression(Compression::Zstd(3)),
                json.with_compression(json_dict.clone()),
            ],
            batch: BatchCodec::new().with_policy(policy()),
            hybrid_dict,
            json_dict,
        }
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
    // The aligned buffer itself, not a copy (which `Bytes` would allocate with no alignment).
    Bytes::from_owner(v).slice(1..)
}

fn hybrid_all<T>(codec: &HybridCodec<T>, input: &[u8], aligned: &[u8])
where
    T: HybridMessage + PartialEq + std::fmt::Debug,
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

fn compressed_all<C>(codec: &Compressed<C>, input: &[u8], aligned: &[u8])
where
    C: Decode + Access,
    C::Item: ZeroCopyDecode + PartialEq + std::fmt::Debug,
{
    let decoded = typed(codec.decode(input));
    typed(codec.access(input));
    if let Some(view) = typed(codec.access(aligned)) {
        agree(
            &decoded,
            zerocodec::archive::deserialize_archived::<C::Item>(view),
        );
    }
    for bytes in [Bytes::copy_from_slice(input), unaligned_bytes(input)] {
        if let Some(archive) = typed(codec.access_owned(bytes)) {
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
    typed(JsonCodec::<ChatMessage>::new().decode(input));
    typed(JsonCodec::<RpcRequest>::new().decode(input));
    typed(JsonCodec::<serde_json::Value>::new().decode(input));

    // rkyv.
    let rkyv = RkyvCodec::<ChatMessage>::new();
    let decoded = typed(rkyv.decode(input));
    typed(RkyvCodec::<RpcRequest>::new().decode(input));
    typed(rkyv.access(input));
    if let Some(view) = typed(rkyv.access(&al)) {
        agree(
            &decoded,
            zerocodec::archive::deserialize_archived::<ChatMessage>(view),
        );
    }
    typed(RkyvCodec::<RpcRequest>::new().access_owned(unaligned_bytes(input)));

    // The hybrid codec, plain and compressing (every reader reads every algorithm).
    for codec in &d.chat {
        hybrid_all(codec, input, &al);
    }
    for codec in &d.rpc {
        hybrid_all(codec, input, &al);
    }
    for codec in &d.chat_bitcode {
        hybrid_all(codec, input, &al);
    }

    // bitcode, bare and in a compressed frame.
    let bitcode = typed(d.bitcode.0.decode(input));
    typed(d.bitcode.1.decode(input));
    if let Some(value) = bitcode {
        // Whatever decodes re-encodes to a value that decodes equal.
        let again = d.bitcode.0.encode(&value).unwrap();
        assert_eq!(d.bitcode.0.decode(&again).unwrap(), value);
    }

    // Compressed stacks.
    for codec in &d.rkyv {
        compressed_all(codec, input, &al);
    }
    for codec in &d.json {
        typed(codec.decode(input));
    }

    // Batches, bare and framed.
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
    if let Some(batch) = typed(d.batch.decode(input)) {
        for (i, view) in batch.iter().enumerate() {
            assert_eq!(batch.deserialize(i).unwrap().id, view.id.as_str());
        }
        assert!(batch.get(batch.len()).unwrap_err().is_out_of_range());
    }

    // Length-delimited frame decoders.
    drain(FrameDecoder::with_max_frame_len(rkyv, MAX_FRAME), input);
    drain(
        FrameDecoder::with_max_frame_len(JsonCodec::<ChatMessage>::new(), MAX_FRAME),
        input,
    );
    drain(
        ArchivedFrameDecoder::with_max_frame_len(d.chat[0].clone(), MAX_FRAME),
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

/// What an input is, which says where it keeps its length fields.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A hybrid frame (tagged header, a `Chat` or `Rpc` payload).
    Frame,
    /// A `Compressed<JsonCodec | RkyvCodec | BitcodeCodec>` frame (tagged header, no
    /// fingerprint).
    Compressed,
    /// A `BatchCodec` frame (tagged header, a batch payload).
    BatchFrame,
    /// Header-less JSON or an rkyv archive.
    Plain,
    /// A bare batch.
    Batch,
    /// A length-delimited stream.
    Stream,
}

impl Kind {
    /// True for every kind that starts with a frame header.
    fn is_frame(self) -> bool {
        matches!(self, Kind::Frame | Kind::Compressed | Kind::BatchFrame)
    }
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

fn enc<C: Encode>(codec: &C, value: &C::Item) -> Vec<u8> {
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
    let json = JsonCodec::new();
    let hybrid = HybridCodec::<Chat>::new();
    let v = |name: &str, kind: Kind, bytes: Vec<u8>| Valid {
        name: name.to_string(),
        kind,
        bytes,
    };
    let mut batch = BatchBuilder::<ChatMessage>::new();
    for m in chat_messages(3, 3) {
        batch.append(&m).unwrap();
    }
    let mut long_batch = BatchBuilder::<ChatMessage>::new();
    for _ in 0..4 {
        long_batch.append(&msg).unwrap();
    }
    let long_batch = long_batch.finish().unwrap();
    let mut out = vec![
        v("json-chat", Kind::Plain, enc(&json, &msg)),
        v("json-rpc", Kind::Plain, enc(&JsonCodec::new(), &rpc)),
        v("rkyv-chat", Kind::Plain, enc(&rkyv, &msg)),
        v("rkyv-rpc", Kind::Plain, enc(&RkyvCodec::new(), &rpc)),
        v("hybrid-chat", Kind::Frame, enc(&hybrid, &chat)),
        v(
            "hybrid-chat-checksum",
            Kind::Frame,
            enc(&hybrid.clone().with_checksum(true), &chat),
        ),
        v(
            "hybrid-rpc-json",
            Kind::Frame,
            enc(&HybridCodec::new().with_primary(Primary::Json), &rpc_mirror),
        ),
        v(
            "hybrid-lz4",
            Kind::Frame,
            enc(&hybrid.clone().with_compression(Compression::Lz4), &chat),
        ),
        v(
            "hybrid-zstd-checksum",
            Kind::Frame,
            enc(
                &hybrid
                    .clone()
                    .with_checksum(true)
                    .with_compression(Compression::Zstd(3)),
                &chat,
            ),
        ),
        v(
            "hybrid-dict",
            Kind::Frame,
            enc(
                &hybrid.clone().with_compression(d.hybrid_dict.clone()),
                &chat,
            ),
        ),
        v(
            "rkyv-lz4",
            Kind::Compressed,
            enc(&Compressed::new(rkyv, Compression::Lz4), &msg),
        ),
        v(
            "json-lz4",
            Kind::Compressed,
            enc(&Compressed::new(json, Compression::Lz4), &msg),
        ),
        v(
            "rkyv-zstd",
            Kind::Compressed,
            enc(&Compressed::new(rkyv, Compression::Zstd(3)), &msg),
        ),
        v(
            "json-dict",
            Kind::Compressed,
            enc(&Compressed::new(json, d.json_dict.clone()), &msg),
        ),
        v("batch-chat", Kind::Batch, batch.into_bytes().to_vec()),
        v(
            "batch-frame",
            Kind::BatchFrame,
            enc(&BatchCodec::new(), &long_batch),
        ),
        v(
            "batch-frame-lz4",
            Kind::BatchFrame,
            enc(
                &BatchCodec::new()
                    .with_checksum(false)
                    .with_compression(Compression::Lz4),
                &long_batch,
            ),
        ),
        v("bitcode-chat", Kind::Plain, enc(&d.bitcode.0, &chat)),
        v("bitcode-zstd", Kind::Compressed, enc(&d.bitcode.1, &chat)),
        v(
            "hybrid-bitcode",
            Kind::Frame,
            enc(&d.chat_bitcode[0], &chat),
        ),
        v(
            "hybrid-bitcode-checksum",
            Kind::Frame,
            enc(&d.chat_bitcode[1], &chat),
        ),
        v(
            "hybrid-bitcode-zstd",
            Kind::Frame,
            enc(&d.chat_bitcode[2], &chat),
        ),
        v(
            "stream-rkyv",
            Kind::Stream,
            stream(&[enc(&rkyv, &msg), enc(&rkyv, &chat_messages(4, 1)[0])]),
        ),
        v(
            "stream-hybrid",
            Kind::Stream,
            stream(&[enc(&hybrid, &chat), enc(&HybridCodec::compact(), &chat)]),
        ),
    ];
    // Each compressed stack really compressed its input (else the mutations would not
    // reach the decompressors).
    for name in [
        "hybrid-lz4",
        "hybrid-zstd-checksum",
        "hybrid-dict",
        "rkyv-lz4",
        "json-lz4",
        "rkyv-zstd",
        "json-dict",
        "batch-frame-lz4",
        "bitcode-zstd",
        "hybrid-bitcode-zstd",
    ] {
        let f = out.iter().find(|v| v.name == name).unwrap();
        assert!(
            FrameHeader::parse(&f.bytes).unwrap().is_compressed(),
            "{name} stored its payload raw"
        );
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

/// The LEB128 varint at the start of `bytes` (at most 10 bytes read): its value and length.
fn read_varint(bytes: &[u8]) -> (u64, usize) {
    let mut n = 0u64;
    let mut end = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        n |= u64::from(b & 0x7F) << (7 * i);
        end = i + 1;
        if b & 0x80 == 0 {
            break;
        }
    }
    (n, end)
}

/// The lz4 payload's length varint (at its start) set to 0, max, one off each way and past
/// the limit, overlong and unterminated: each a new payload.
fn lz4_varint_mutations(payload: &[u8]) -> Vec<Vec<u8>> {
    let (n, end) = read_varint(payload);
    let mut out = Vec::new();
    let mut replace = |varint: Vec<u8>| {
        let mut m = varint;
        m.extend_from_slice(&payload[end..]);
        out.push(m);
    };
    for value in [0, u64::MAX, n.wrapping_sub(1), n + 1, LIMIT as u64 + 1] {
        replace(leb128(value));
    }
    // Overlong and unterminated varints.
    replace(vec![0x80 | (n as u8 & 0x7F), 0x80, 0x00]);
    replace(vec![0xFF; 11]);
    out
}

/// Where a frame keeps its fields (a version 2 header has only the fields it uses).
struct Fields {
    header: FrameHeader,
    /// The compression id byte, when compressed.
    compression_at: Option<usize>,
    checksum_at: Option<usize>,
    /// The LEB128 payload length and its size.
    length_at: usize,
    length_len: usize,
    fingerprint_at: Option<usize>,
    dictionary_at: Option<usize>,
}

fn fields(bytes: &[u8]) -> Option<Fields> {
    let header = FrameHeader::parse(bytes).ok()?;
    let compressed = header.is_compressed();
    let mut at = 4;
    let compression_at = compressed.then_some(at);
    at += usize::from(compressed);
    let checksum_at = header.checksum.map(|_| at);
    at += if checksum_at.is_some() { 4 } else { 0 };
    let (length_at, length_len) = (at, leb128(u64::from(header.payload_len)).len());
    at += length_len;
    let fingerprint_at = header.fingerprint.map(|_| at);
    at += if fingerprint_at.is_some() { 8 } else { 0 };
    let dictionary_at = header.dictionary.map(|_| at);
    Some(Fields {
        header,
        compression_at,
        checksum_at,
        length_at,
        length_len,
        fingerprint_at,
        dictionary_at,
    })
}

/// `bytes` with the checksum recomputed, when its header parses and carries one (so that a
/// mutated field reaches what is behind the checksum).
fn resum(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(f) = fields(&bytes) {
        if let Some(at) = f.checksum_at {
            let header_len = f.header.len();
            if bytes.len() >= header_len {
                let crc = frame::checksum(&bytes[..header_len], &bytes[header_len..]);
                bytes[at..at + 4].copy_from_slice(&crc.to_le_bytes());
            }
        }
    }
    bytes
}

/// A frame with `header`'s fields around `payload` (length and checksum recomputed).
fn reframe(header: FrameHeader, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let writer = FrameWriter::begin(&mut out, frame::MAX_HEADER_LEN);
    out.extend_from_slice(payload);
    writer.finish(&mut out, header).unwrap();
    out
}

/// The mutations of a frame's header fields and of its compressed payload.
fn frame_mutations(b: &[u8], out: &mut Vec<Vec<u8>>) {
    let Some(f) = fields(b) else {
        return;
    };
    // Each mutation as is (caught by the checksum, if any) and re-checksummed.
    let mut push = |m: Vec<u8>| {
        if f.checksum_at.is_some() {
            out.push(resum(m.clone()));
        }
        out.push(m);
    };
    // The payload length, in LEB128.
    let len = f.header.payload_len;
    for value in [
        0,
        u32::MAX,
        len.wrapping_sub(1),
        len.wrapping_add(1),
        len.wrapping_mul(2),
    ] {
        let mut m = b[..f.length_at].to_vec();
        m.extend_from_slice(&leb128(u64::from(value)));
        m.extend_from_slice(&b[f.length_at + f.length_len..]);
        push(m);
    }
    // The compression id.
    if let Some(at) = f.compression_at {
        for id in [0, 1, 2, 3, 0xE0, 0xFF] {
            if id != b[at] {
                let mut m = b.to_vec();
                m[at] = id;
                push(m);
            }
        }
    }
    // The dictionary id.
    if let Some(at) = f.dictionary_at {
        let mut ids = Vec::new();
        length_mutations(b, at, false, &mut ids);
        for m in ids {
            push(m);
        }
    }
    // Checksum and fingerprint corruptions.
    for (at, len, x) in [
        (f.checksum_at, 4, 0xFFu8),
        (f.fingerprint_at, 8, 0x01),
        (f.fingerprint_at, 8, 0xFF),
    ] {
        if let Some(at) = at {
            let mut m = b.to_vec();
            m[at..at + len].iter_mut().for_each(|v| *v ^= x);
            out.push(m);
            let mut zero = b.to_vec();
            zero[at..at + len].fill(0);
            out.push(zero);
        }
    }
    // The compressed payload itself, re-framed (valid lengths and checksum) so that every
    // change reaches the decompressor: the lz4 length varint, and bit flips in the first bytes
    // (zstd's frame header and content size, lz4's varint and first sequence).
    if f.header.is_compressed() {
        let payload = &b[f.header.len()..];
        if f.header.compression == CompressionId::LZ4 {
            for m in lz4_varint_mutations(payload) {
                out.push(reframe(f.header, &m));
            }
        }
        for i in 0..payload.len().min(8) {
            for bit in 0..8 {
                let mut m = payload.to_vec();
                m[i] ^= 1 << bit;
                out.push(reframe(f.header, &m));
            }
        }
    }
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
    // Length fields, checksum, fingerprint, compression and dictionary.
    match valid.kind {
        Kind::Frame | Kind::Compressed => frame_mutations(b, &mut out),
        Kind::BatchFrame => {
            frame_mutations(b, &mut out);
            // The batch inside a raw frame: its count, index offset and index entries.
            let f = fields(b).unwrap();
            if !f.header.is_compressed() {
                let start = f.header.len();
                let mut inner = Vec::new();
                batch_mutations(&b[start..], &mut inner);
                for m in inner {
                    out.push(reframe(f.header, &m));
                }
            }
        }
        Kind::Batch => batch_mutations(b, &mut out),
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

/// A batch's count, index offset, and first and last index entries, each mutated.
fn batch_mutations(b: &[u8], out: &mut Vec<Vec<u8>>) {
    length_mutations(b, 8, false, out);
    length_mutations(b, 12, false, out);
    let index = read_u32(b, 12, false).unwrap() as usize;
    for at in [index, index + 4, b.len() - 8, b.len() - 4] {
        length_mutations(b, at, false, out);
    }
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
    let d = decoders();
    let chat = long_chat();
    let msg = long_chat_message();
    // A dictionary reader reads every algorithm; a plain zstd reader all but the dictionary.
    let dict = &d.chat[4];
    let zstd = &d.chat[3];
    for valid in encodings() {
        feed_bounded(&valid.bytes);
        let bytes = &valid.bytes;
        if valid.name.starts_with("hybrid-bitcode") {
            // Every bitcode reader reads every bitcode frame; the others refuse the codec.
            for reader in &d.chat_bitcode {
                assert_eq!(reader.decode(bytes).unwrap(), chat, "{}", valid.name);
            }
            let err = dict.decode(bytes).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnknownCodec, "{}", valid.name);
            continue;
        }
        if valid.name.starts_with("bitcode-") {
            let read = if valid.kind == Kind::Compressed {
                d.bitcode.1.decode(bytes)
            } else {
                d.bitcode.0.decode(bytes)
            };
            assert_eq!(read.unwrap(), chat, "{}", valid.name);
            continue;
        }
        if valid.name.starts_with("hybrid-") && !valid.name.contains("rpc") {
            assert_eq!(dict.decode(bytes).unwrap(), chat, "{}", valid.name);
            if valid.name.starts_with("hybrid-dict") {
                assert_eq!(
                    zstd.decode(bytes).unwrap_err().kind(),
                    ErrorKind::UnknownDictionary
                );
            } else {
                assert_eq!(zstd.decode(bytes).unwrap(), chat, "{}", valid.name);
            }
        }
        if valid.kind == Kind::Compressed {
            let reads = if valid.name.starts_with("rkyv-") {
                d.rkyv.iter().map(|c| c.decode(bytes)).collect::<Vec<_>>()
            } else {
                d.json.iter().map(|c| c.decode(bytes)).collect()
            };
            // The dictionary stack reads every frame; the others all but the dictionary's.
            assert_eq!(reads[2].as_ref().unwrap(), &msg, "{}", valid.name);
            for read in &reads[..2] {
                match read {
                    Ok(read) => assert_eq!(read, &msg, "{}", valid.name),
                    Err(err) => {
                        assert!(valid.name.ends_with("-dict"), "{}: {err}", valid.name);
                        assert_eq!(err.kind(), ErrorKind::UnknownDictionary);
                    }
                }
            }
        }
        if valid.kind == Kind::BatchFrame {
            let batch = d.batch.decode(bytes).unwrap();
            assert_eq!(batch.len(), 4, "{}", valid.name);
            assert_eq!(batch.deserialize(3).unwrap(), msg);
        }
    }
}

fn run_mutations(filter: impl Fn(&Valid) -> bool) -> (usize, usize) {
    let (mut inputs, mut max_peak) = (0, 0);
    // Warm up per-thread contexts and pools so one-time setup is not counted against an input.
    warm_up();
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
    let (inputs, peak) = run_mutations(|v| v.name.starts_with("v2-"));
    assert!(inputs > 7 * 300, "only {inputs} mutations");
    eprintln!("golden frames: {inputs} mutated inputs, peak {peak} bytes");
}

#[test]
fn mutated_hybrid_encodings() {
    let (inputs, peak) = run_mutations(|v| v.name.starts_with("hybrid-"));
    eprintln!("hybrid stacks: {inputs} mutated inputs, peak {peak} bytes");
}

#[test]
fn mutated_plain_and_compressed_encodings() {
    let (inputs, peak) = run_mutations(|v| matches!(v.kind, Kind::Plain | Kind::Compressed));
    eprintln!("json, rkyv and compressed: {inputs} mutated inputs, peak {peak} bytes");
}

#[test]
fn mutated_batches_and_streams() {
    let (inputs, peak) =
        run_mutations(|v| matches!(v.kind, Kind::Batch | Kind::BatchFrame | Kind::Stream));
    eprintln!("batches and streams: {inputs} mutated inputs, peak {peak} bytes");
}

/// True if every frame reader refuses `bytes`.
fn every_frame_reader_refuses(bytes: &[u8]) -> bool {
    let d = decoders();
    d.chat.iter().all(|c| c.decode(bytes).is_err())
        && d.rpc.iter().all(|c| c.decode(bytes).is_err())
        && d.rkyv.iter().all(|c| c.decode(bytes).is_err())
        && d.json.iter().all(|c| c.decode(bytes).is_err())
        && d.batch.decode(bytes).is_err()
}

#[test]
fn spliced_and_duplicated_frames() {
    let valid: Vec<Valid> = encodings()
        .into_iter()
        .filter(|v| v.kind.is_frame())
        .collect();
    let spliced = splices(&valid);
    assert!(spliced.len() > valid.len() * valid.len());
    for m in &spliced {
        feed_bounded(m);
    }
    // A duplicated frame is one frame plus trailing bytes: never read as one message.
    for v in &valid {
        let twice = v.bytes.repeat(2);
        assert!(every_frame_reader_refuses(&twice), "{}", v.name);
    }
}

#[test]
fn checksummed_frames_reject_every_bit_flip() {
    let valid: Vec<Valid> = encodings()
        .into_iter()
        .filter(|v| {
            v.kind.is_frame() && FrameHeader::parse(&v.bytes).is_ok_and(|h| h.checksum.is_some())
        })
        .collect();
    assert!(valid.len() >= 5, "expected checksummed frames");
    for v in &valid {
        for i in 0..v.bytes.len() {
            for bit in 0..8 {
                let mut m = v.bytes.clone();
                m[i] ^= 1 << bit;
                assert!(
                    every_frame_reader_refuses(&m),
                    "{}: flipping bit {bit} of byte {i} went unnoticed",
                    v.name
                );
            }
        }
    }
}

/// Decodes `bytes` with the reader of the valid input `name` (its own codec), if it has one.
fn decode_as(name: &str, bytes: &[u8]) -> Option<Result<(), Error>> {
    let d = decoders();
    Some(if name.starts_with("hybrid-rpc") {
        d.rpc[0].decode(bytes).map(drop)
    } else if name.starts_with("hybrid-") {
        d.chat[4].decode(bytes).map(drop)
    } else if name.starts_with("rkyv-") {
        d.rkyv[2].decode(bytes).map(drop)
    } else if name.starts_with("json-") {
        d.json[2].decode(bytes).map(drop)
    } else if name.starts_with("batch-frame") {
        d.batch.decode(bytes).map(drop)
    } else {
        return None;
    })
}

#[test]
fn forged_lengths_are_rejected_before_allocating() {
    warm_up();
    // An lz4 payload's decompressed length, forged in a frame that is otherwise valid (lengths
    // and checksum): refused as too large before anything is allocated. (zstd's frame content
    // size is forged in tests/compress_bomb.rs.)
    let mut forged_frames = 0;
    for valid in encodings().iter().filter(|v| v.kind.is_frame()) {
        let Some(f) = fields(&valid.bytes) else {
            continue;
        };
        if f.header.compression != CompressionId::LZ4 {
            continue;
        }
        let payload = &valid.bytes[f.header.len()..];
        let block = &payload[read_varint(payload).1..];
        for claim in [u64::from(u32::MAX), u64::MAX, LIMIT as u64 + 1] {
            let mut payload = leb128(claim);
            payload.extend_from_slice(block);
            let forged = reframe(f.header, &payload);
            let peak = peak_during(|| {
                let err = decode_as(&valid.name, &forged).unwrap().unwrap_err();
                assert!(err.is_too_large(), "{}: {err}", valid.name);
            });
            assert!(peak < 4096, "{}: {peak} bytes allocated", valid.name);
        }
        forged_frames += 1;
    }
    assert!(forged_frames >= 3, "only {forged_frames} lz4 frames");
    // A stream announcing a frame past the limit.
    let mut decoder = FrameDecoder::with_max_frame_len(RkyvCodec::<ChatMessage>::new(), 1024);
    let mut buf = BytesMut::from(&[0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3][..]);
    let peak = peak_during(|| assert!(decoder.decode(&mut buf).unwrap_err().is_too_large()));
    assert!(peak < 1024, "{peak}");
}

/// Version 1 was never released: every frame stamped version 1 is refused by every frame
/// reader as an unknown version, whatever follows.
#[test]
fn version_1_frames_are_refused() {
    let d = decoders();
    let mut frames = 0;
    for valid in encodings().iter().filter(|v| v.kind.is_frame()) {
        let mut v1 = valid.bytes.clone();
        v1[1] = 1;
        let al = aligned(&v1);
        let check = |what: &str, err: Option<Error>| {
            let err =
                err.unwrap_or_else(|| panic!("{}: {what} read a version 1 frame", valid.name));
            assert_eq!(
                err.kind(),
                ErrorKind::UnknownVersion,
                "{}, {what}: {err}",
                valid.name
            );
        };
        check("header", FrameHeader::parse(&v1).err());
        for c in &d.chat {
            check("chat decode", c.decode(&al).err());
            check("chat access", c.access(&al).err());
            check(
                "chat access_owned",
                c.access_owned(Bytes::copy_from_slice(&v1)).err(),
            );
        }
        for c in &d.rpc {
            check("rpc decode", c.decode(&al).err());
            check("rpc access", c.access(&al).err());
        }
        for c in &d.rkyv {
            check("rkyv decode", c.decode(&al).err());
            check("rkyv access", c.access(&al).err());
            check(
                "rkyv access_owned",
                c.access_owned(Bytes::copy_from_slice(&v1)).err(),
            );
        }
        for c in &d.json {
            check("json decode", c.decode(&al).err());
        }
        check("batch decode", d.batch.decode(&al).err());
        frames += 1;
    }
    assert!(frames >= 15, "only {frames} frames");
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
    // The schema-evolution goldens are frames of types the hybrid fuzz target does not read
    // (tests/evolution.rs mutates them against readers that upgrade them).
    for v in all
        .iter()
        .filter(|v| v.kind == Kind::Frame && !v.name.starts_with("v2-evolution-"))
    {
        add("hybrid", &v.name, v.bytes.clone());
    }
    add(
        "hybrid",
        "legacy-json",
        enc(&JsonCodec::new(), &long_chat()),
    );
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
    // The first byte picks the decoder family: 4 the `Chat` codecs, 5 the hybrid readers.
    for (pick, name) in [
        (4, "bitcode-chat"),
        (4, "bitcode-zstd"),
        (5, "hybrid-bitcode-zstd"),
    ] {
        let mut picked = vec![pick];
        picked.extend_from_slice(&get(name));
        add("bitcode", name, picked);
    }
    add("batch", "batch-chat", get("batch-chat"));
    // The first byte picks the chunk size.
    let mut rkyv_stream = vec![5];
    rkyv_stream.extend_from_slice(&get("stream-rkyv"));
    add("framed", "stream-rkyv", rkyv_stream);
    let msg = long_chat_message();
    let json = JsonCodec::new();
    let mut json_stream = vec![16];
    json_stream.extend_from_slice(&stream(&[enc(&json, &msg), enc(&json, &msg)]));
    add("framed", "stream-json", json_stream);
    map
}

/// True if `bytes` is a valid input of fuzz target `target` (decodes to a message).
fn seed_decodes(target: &str, bytes: &[u8]) -> bool {
    let d = decoders();
    let rkyv = RkyvCodec::<ChatMessage>::new();
    let json = JsonCodec::<ChatMessage>::new();
    match target {
        "hybrid" => {
            HybridCodec::<Chat>::new().with_bitcode().decode(bytes).is_ok()
                || HybridCodec::<Rpc>::new().decode(bytes).is_ok()
                || d.chat[4].decode(bytes).is_ok()
                // The golden xor frame names a test-only algorithm: a typed error.
                || HybridCodec::<Chat>::new()
                    .decode(bytes)
                    .is_err_and(|e| e.kind() == ErrorKind::UnknownCompression)
        }
        "json" => {
            json.decode(bytes).is_ok() || JsonCodec::<RpcRequest>::new().decode(bytes).is_ok()
        }
        "rkyv_access" => {
            rkyv.decode(bytes).is_ok() || RkyvCodec::<RpcRequest>::new().decode(bytes).is_ok()
        }
        "rkyv_decode" => {
            let rest = &bytes[1..];
            rkyv.decode(rest).is_ok() || RkyvCodec::<RpcRequest>::new().decode(rest).is_ok()
        }
        // Any reader reads every algorithm: a zstd stack reads lz4 frames too.
        "compress" => {
            Compressed::new(rkyv, Compression::Zstd(3))
                .decode(bytes)
                .is_ok()
                || Compressed::new(json, Compression::Zstd(3))
                    .decode(bytes)
                    .is_ok()
        }
        "bitcode" => {
            let rest = &bytes[1..];
            match bytes[0] % 6 {
                4 => d.bitcode.0.decode(rest).is_ok() || d.bitcode.1.decode(rest).is_ok(),
                5 => d.chat_bitcode[2].decode(rest).is_ok(),
                _ => false,
            }
        }
        "dict" => Compressed::new(json, d.json_dict.clone())
            .decode(bytes)
            .is_ok(),
        "batch" => BatchRef::<ChatMessage>::open(&aligned(bytes)).is_ok_and(|b| b.len() == 3),
        "framed" => {
            let stream = &bytes[1..];
            drain(FrameDecoder::new(rkyv), stream) == 2
                || drain(FrameDecoder::new(json), stream) == 2
        }
        _ => false,
    }
}

/// True for a `defect-*` seed: the input of a defect found and fixed (tests/contract.rs).
fn is_defect(file: &Path) -> bool {
    file.file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with("defect-"))
}

#[test]
fn fuzz_seeds() {
    let write = std::env::var_os("ZEROCODEC_FUZZ_SEEDS").is_some();
    let generated = seeds();
    if write {
        for (target, files) in &generated {
            let dir = seeds_dir().join(target);
            fs::create_dir_all(&dir).unwrap();
            let names: Vec<String> = files
                .iter()
                .map(|(name, _)| format!("{name}.bin"))
                .collect();
            // Seeds no longer generated (say, of a retired format) go; defect seeds stay.
            for entry in fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if !is_defect(&path) && !names.contains(&name) {
                    fs::remove_file(&path).unwrap();
                }
            }
            for (name, bytes) in files {
                fs::write(dir.join(format!("{name}.bin")), bytes).unwrap();
            }
        }
    }
    // Every generated seed is a valid input of its target (so writing them makes a valid set).
    for (target, files) in &generated {
        for (name, bytes) in files {
            assert!(bytes.len() <= 4096, "{target}/{name} is not small");
            assert!(
                seed_decodes(target, bytes),
                "{target}/{name}: a generated seed must decode"
            );
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
            // `defect-*` seeds are the inputs of defects found and fixed: each is refused,
            // and starts the fuzzer next to the boundary it crossed.
            let defect = is_defect(&file);
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
    // The input the fuzzer found is a frame of the unreleased version 1 (a 16-byte header:
    // rkyv, raw, no checksum or fingerprint, a 128-byte payload). It is refused as such now;
    // its payload, framed as version 2, is the case.
    let found = include_bytes!("../fuzz/regressions/hybrid-asjson-not-json.bin");
    assert_eq!(&found[..4], &[0xFA, 1, 2, 0]);
    assert_eq!(read_u32(found, 8, false), Some(found.len() as u32 - 16));
    let codec = HybridCodec::<Rpc>::new();
    assert_eq!(
        codec.decode(&aligned(found)).unwrap_err().kind(),
        ErrorKind::UnknownVersion
    );
    feed_bounded(found);
    let input = &reframe(FrameHeader::new(CodecId::RKYV), &found[16..])[..];
    assert_eq!(input.len(), found.len());
    let frame = aligned(input);
    let decode_err = codec.decode(&frame).unwrap_err();
    assert_eq!(decode_err.kind(), ErrorKind::Corrupt, "{decode_err}");
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
    let rkyv = RkyvCodec::<RpcRequest>::new();
    let bytes = aligned(input);
    let view = rkyv.access(&bytes).unwrap();
    let owned = zerocodec::archive::deserialize_archived::<RpcRequest>(view).unwrap();
    assert_eq!(rkyv.decode(&bytes).unwrap(), owned);
    let err = rkyv.encode(&owned).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
    let hybrid = HybridCodec::<RpcRequest>::new();
    let frame = hybrid.encode(&owned).unwrap();
    assert_eq!(FrameHeader::parse(&frame).unwrap().codec, CodecId::JSON);
    assert_eq!(hybrid.decode(&frame).unwrap(), owned);
    feed_bounded(input);
}
