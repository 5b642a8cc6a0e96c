//! HybridCodec: frames, legacy JSON, fallback, zero-copy, compression, metrics, and every
//! malformed header.

mod common;

use std::sync::{Arc, OnceLock};

use common::*;
use rkyv::Place;
use rkyv::rancor::{Fallible, Source};
use rkyv::with::{ArchiveWith, DeserializeWith, SerializeWith};
use serde::{Deserialize, Serialize};
use zerocodec::bytes::Bytes;
use zerocodec::frame::{self, Frame, FrameHeader, FrameWriter};
use zerocodec::prelude::*;
use zerocodec::{
    BufferPool, CodecId, CompressionId, Error, ErrorKind, Message, Metered, Metrics, PoolConfig,
};
use zerocodec_codecs::{
    Compression, DictionaryRegistry, HybridCodec, HybridMetrics, JsonCodec, Policy, Primary,
    RkyvCodec, ZeroCopyEncode, ZstdDictionary,
};
use zerocodec_datasets::messages::chat_messages;
use zerocodec_datasets::{ChatMessage, RpcRequest};

// ---------------------------------------------------------------------------------------------
// Fixtures

/// An rkyv `with` wrapper that refuses odd numbers, so the primary codec fails on demand.
struct OddFails;

#[derive(Debug)]
struct OddError(u32);

impl std::fmt::Display for OddError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "odd value {} refused", self.0)
    }
}
impl std::error::Error for OddError {}

impl ArchiveWith<u32> for OddFails {
    type Archived = rkyv::Archived<u32>;
    type Resolver = ();
    fn resolve_with(field: &u32, resolver: (), out: Place<Self::Archived>) {
        rkyv::Archive::resolve(field, resolver, out);
    }
}

impl<S: Fallible + ?Sized> SerializeWith<u32, S> for OddFails
where
    S::Error: Source,
{
    fn serialize_with(field: &u32, _: &mut S) -> Result<(), S::Error> {
        if field % 2 == 1 {
            Err(S::Error::new(OddError(*field)))
        } else {
            Ok(())
        }
    }
}

impl<D: Fallible + ?Sized> DeserializeWith<rkyv::Archived<u32>, u32, D> for OddFails {
    fn deserialize_with(field: &rkyv::Archived<u32>, _: &mut D) -> Result<u32, D::Error> {
        Ok(field.to_native())
    }
}

fn json_refuses_13<S: serde::Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
    if *v == 13 {
        Err(serde::ser::Error::custom("13 refused"))
    } else {
        s.serialize_u32(*v)
    }
}

/// rkyv fails on odd `x`; JSON fails on `x == 13`.
#[derive(
    Debug, PartialEq, Serialize, Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
struct Flaky {
    name: String,
    #[rkyv(with = OddFails)]
    #[serde(serialize_with = "json_refuses_13")]
    x: u32,
}

impl Message for Flaky {
    const NAME: &'static str = "Flaky";
    const SCHEMA_FINGERPRINT: u64 = 0xF1A4_F1A4_0000_0001;
}

/// Serializes as a bare JSON array.
#[derive(
    Debug, PartialEq, Serialize, Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
#[serde(transparent)]
struct Numbers {
    items: Vec<u32>,
}

impl Message for Numbers {
    const NAME: &'static str = "Numbers";
    const SCHEMA_FINGERPRINT: u64 = 0x4E55_4D42_0000_0001;
}

/// Serializes as a bare JSON string.
#[derive(
    Debug, PartialEq, Serialize, Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
#[serde(transparent)]
struct Text {
    text: String,
}

impl Message for Text {
    const NAME: &'static str = "Text";
    const SCHEMA_FINGERPRINT: u64 = 0x5445_5854_0000_0001;
}

fn rkyv_len<T: ZeroCopyEncode>(value: &T) -> usize {
    RkyvCodec::new().encode(value).unwrap().len()
}

fn kind<T: std::fmt::Debug>(result: Result<T, Error>) -> ErrorKind {
    result.expect_err("expected an error").kind()
}

/// The error of `result`, which must be one (for results whose value has no `Debug`, such as
/// an archived view).
fn error_of<T>(result: Result<T, Error>) -> Error {
    match result {
        Ok(_) => panic!("expected an error, found a value"),
        Err(err) => err,
    }
}

/// The length of `n` as an unsigned LEB128 varint.
fn leb128_len(n: usize) -> usize {
    let bits = usize::BITS - n.leading_zeros();
    (bits.max(1) as usize).div_ceil(7)
}

/// A chat message long and repetitive enough that every algorithm really compresses it.
fn long_chat() -> ChatMessage {
    ChatMessage {
        content: "the quick brown fox jumps over the lazy dog; ".repeat(12),
        ..chat()
    }
}

/// A zstd dictionary trained on the rkyv encodings of chat messages (what a compressed
/// hybrid frame's payload is), trained once.
fn chat_dictionary() -> Arc<ZstdDictionary> {
    static DICT: OnceLock<Arc<ZstdDictionary>> = OnceLock::new();
    DICT.get_or_init(|| {
        let dict = ZstdDictionary::train_with(
            &RkyvCodec::<ChatMessage>::new(),
            &chat_messages(0xD1C7, 300),
            2048,
        )
        .unwrap();
        Arc::new(dict)
    })
    .clone()
}

/// Every compression a writer can choose, by name (the dictionary trained once).
fn compressions() -> Vec<(&'static str, Compression)> {
    vec![
        ("lz4", Compression::Lz4),
        ("zstd", Compression::zstd()),
        ("zstd-1", Compression::Zstd(1)),
        (
            "zstd-dict",
            Compression::zstd_dict(chat_dictionary(), 3).unwrap(),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Round trips and layout

#[test]
fn round_trips_with_every_option() {
    let mut codecs = vec![
        HybridCodec::<ChatMessage>::new(),
        HybridCodec::compact(),
        HybridCodec::new().with_checksum(true),
        HybridCodec::new().with_fingerprint(false),
        HybridCodec::new().with_primary(Primary::Json),
    ];
    for (_, compression) in compressions() {
        codecs.push(HybridCodec::new().with_compression(compression.clone()));
        codecs.push(
            HybridCodec::new()
                .with_compression(compression)
                .with_checksum(true)
                .with_primary(Primary::Json),
        );
    }
    for codec in &codecs {
        for msg in [chat(), long_chat()] {
            let frame = codec.encode(&msg).unwrap();
            assert!(frame::is_frame(&frame));
            assert_eq!(codec.decode(&frame).unwrap(), msg, "{codec:?}");
            // Appended after other bytes, at an unaligned offset: still decodes (one copy).
            let mut buf = b"xyz".to_vec();
            codec.encode_into(&msg, &mut buf).unwrap();
            assert_eq!(&buf[..3], b"xyz");
            assert_eq!(codec.decode(&buf[3..]).unwrap(), msg);
        }
    }
    let rpc_codec = HybridCodec::<RpcRequest>::new();
    let frame = rpc_codec.encode(&rpc()).unwrap();
    assert_eq!(rpc_codec.decode(&frame).unwrap(), rpc());
}

#[test]
fn header_sizes_are_16_or_32_and_payload_is_the_raw_encoding() {
    let raw = rkyv_len(&chat());
    let compact = HybridCodec::<ChatMessage>::compact()
        .encode(&chat())
        .unwrap();
    assert_eq!(compact.len(), 16 + raw);
    // Magic, version, codec, flags, a LEB128 length and the fingerprint fit in 16.
    let default = HybridCodec::<ChatMessage>::new().encode(&chat()).unwrap();
    assert_eq!(default.len(), 16 + raw);
    assert_eq!(default[1], 2, "writers write version 2");
    // Version 1 was never released: a frame that says version 1 is refused.
    let mut v1 = default.to_vec();
    v1[1] = 1;
    assert_eq!(
        kind(HybridCodec::<ChatMessage>::new().decode(&v1)),
        ErrorKind::UnknownVersion
    );
    let header = *Frame::parse(&default).unwrap().header();
    assert_eq!(header.fingerprint, Some(ChatMessage::SCHEMA_FINGERPRINT));
    assert_eq!(header.checksum, None, "checksum is off by default");
    assert_eq!(
        header.compression,
        CompressionId::NONE,
        "no compression by default"
    );
    let checksum_only = HybridCodec::<ChatMessage>::compact()
        .with_checksum(true)
        .encode(&chat())
        .unwrap();
    assert_eq!(checksum_only.len(), 16 + raw);
    let full = HybridCodec::<ChatMessage>::new()
        .with_checksum(true)
        .encode(&chat())
        .unwrap();
    assert_eq!(full.len(), 32 + raw);
    let frame = Frame::parse(&full).unwrap();
    assert_eq!(frame.header().codec, CodecId::RKYV);
    assert!(frame.header().checksum.is_some());
    assert_eq!(
        frame.payload(),
        &RkyvCodec::new().encode(&chat()).unwrap()[..]
    );

    let json = HybridCodec::<ChatMessage>::compact()
        .with_primary(Primary::Json)
        .encode(&chat())
        .unwrap();
    assert_eq!(&json[16..], &JsonCodec::new().encode(&chat()).unwrap()[..]);
    assert_eq!(Frame::parse(&json).unwrap().header().codec, CodecId::JSON);
}

#[test]
fn codec_metadata() {
    let codec = HybridCodec::<ChatMessage>::new();
    assert_eq!(codec.codec_id(), CodecId::FRAME);
    assert_eq!(codec.content_type(), "application/vnd.zerocodec");
    assert_eq!(codec.primary(), Primary::Rkyv);
    assert!(codec.metrics().is_none());
    assert!(!codec.checksum());
    assert!(matches!(codec.compression(), Compression::None));
    let lz4 = HybridCodec::<ChatMessage>::new().with_compression(Compression::Lz4);
    assert!(matches!(lz4.compression(), Compression::Lz4));
    assert_eq!(lz4.codec_id(), CodecId::FRAME);
}

// ---------------------------------------------------------------------------------------------
// Zero-copy

#[test]
fn access_borrows_the_payload_of_an_aligned_frame() {
    for codec in [
        HybridCodec::<ChatMessage>::new(),
        HybridCodec::<ChatMessage>::compact(),
    ] {
        let frame = codec.encode(&chat()).unwrap();
        assert!(zerocodec::archive::is_aligned(&frame));
        let view = codec.access(&frame).unwrap();
        assert_eq!(view.content, chat().content);
        assert_eq!(view.timestamp, chat().timestamp);
        // The view points into the frame: no copy was made.
        let addr = view as *const _ as usize;
        let range = frame.as_ptr() as usize..frame.as_ptr() as usize + frame.len();
        assert!(range.contains(&addr));

        let owned = codec.access_owned(frame.clone()).unwrap();
        assert!(owned.is_shared(), "aligned bytes are shared, not copied");
        assert_eq!(owned.sender, chat().sender);
    }
}

#[test]
fn unaligned_frames_are_rejected_in_place_and_copied_once_when_owned() {
    let codec = HybridCodec::<ChatMessage>::new();
    let frame = codec.encode(&chat()).unwrap();
    for offset in 1..16 {
        let (buf, range) = at_offset(&frame, offset);
        let err = codec.access(&buf[range.clone()]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unaligned, "{err}");
        let bytes = Bytes::copy_from_slice(&buf).slice(range.clone());
        let owned = codec.access_owned(bytes).unwrap();
        assert_eq!(owned.id, chat().id);
        assert_eq!(codec.decode(&buf[range]).unwrap(), chat());
    }
    // The one copy lands in the codec's pool, and the archive keeps no handle on the
    // caller's buffer.
    let pool = BufferPool::new(PoolConfig::new());
    let pooled = HybridCodec::<ChatMessage>::new().with_pool(pool.clone());
    let (buf, range) = at_offset(&frame, 5);
    let caller = Bytes::copy_from_slice(&buf);
    let owned = pooled.access_owned(caller.slice(range)).unwrap();
    assert!(!owned.is_shared());
    assert_eq!(
        pool.stats().outstanding(),
        1,
        "copied into the codec's pool"
    );
    assert!(
        caller.is_unique(),
        "the archive holds no handle on the input"
    );
    assert_eq!(owned.content, chat().content);
    drop(owned);
    assert_eq!(pool.stats().outstanding(), 0);
}

#[test]
fn json_payloads_are_not_accessible_in_place_but_access_owned_reencodes_them() {
    let codec = HybridCodec::<ChatMessage>::new();
    let json_frame = HybridCodec::<ChatMessage>::new()
        .with_primary(Primary::Json)
        .encode(&chat())
        .unwrap();
    let err = codec.access(&json_frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("JSON payload"), "{err}");
    let owned = codec.access_owned(json_frame).unwrap();
    assert_eq!(owned.content, chat().content);
    assert!(!owned.is_shared());

    let legacy = JsonCodec::new().encode(&chat()).unwrap();
    assert_eq!(kind(codec.access(&legacy)), ErrorKind::Unsupported);
    assert_eq!(codec.access_owned(legacy).unwrap().room_id, chat().room_id);
}

#[test]
fn compressed_frames_are_not_accessible_in_place_but_access_owned_decompresses_them() {
    let reader = HybridCodec::<ChatMessage>::new();
    for (name, compression) in compressions() {
        for primary in [Primary::Rkyv, Primary::Json] {
            let writer = HybridCodec::<ChatMessage>::new()
                .with_compression(compression.clone())
                .with_primary(primary);
            let frame = writer.encode(&long_chat()).unwrap();
            assert!(
                Frame::parse(&frame).unwrap().header().is_compressed(),
                "{name} stored the payload raw"
            );
            // A plain reader reads every algorithm; the dictionary is the writer's own.
            let own = if name == "zstd-dict" {
                &writer
            } else {
                &reader
            };
            assert_eq!(own.decode(&frame).unwrap(), long_chat(), "{name}");
            let err = error_of(own.access(&frame));
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{name}: {err}");
            assert!(err.message().contains("access_owned"), "{name}: {err}");
            let owned = own.access_owned(frame.clone()).unwrap();
            assert_eq!(owned.content, long_chat().content, "{name}");
            assert!(!owned.is_shared(), "{name}: decompressed, not shared");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Legacy JSON

#[test]
fn legacy_json_of_every_shape_decodes() {
    let chat_codec = HybridCodec::<ChatMessage>::new();
    let object = serde_json::to_vec(&chat()).unwrap();
    assert_eq!(chat_codec.decode(&object).unwrap(), chat());
    let mut spaced = b" \t\r\n  ".to_vec();
    spaced.extend_from_slice(&serde_json::to_vec_pretty(&chat()).unwrap());
    assert_eq!(chat_codec.decode(&spaced).unwrap(), chat());

    let unicode = ChatMessage {
        content: "grüße, 世界 ✓ \u{1F600}".into(),
        ..chat()
    };
    let text = serde_json::to_string(&unicode).unwrap();
    assert!(!text.is_ascii() && !text.starts_with('\u{FEFF}'));
    assert_eq!(chat_codec.decode(text.as_bytes()).unwrap(), unicode);

    let numbers = HybridCodec::<Numbers>::new();
    assert_eq!(
        numbers.decode(b"[1, 2,3]").unwrap(),
        Numbers {
            items: vec![1, 2, 3]
        }
    );
    assert_eq!(numbers.decode(b"\n[]").unwrap(), Numbers { items: vec![] });
    let text_codec = HybridCodec::<Text>::new();
    assert_eq!(
        text_codec.decode("\"héllo\"".as_bytes()).unwrap(),
        Text {
            text: "héllo".into()
        }
    );
    // And the same values still round-trip through frames.
    let frame = numbers.encode(&Numbers { items: vec![9] }).unwrap();
    assert_eq!(numbers.decode(&frame).unwrap().items, [9]);
}

#[test]
fn bad_legacy_json_is_typed_and_legacy_can_be_turned_off() {
    let codec = HybridCodec::<ChatMessage>::new();
    assert_eq!(kind(codec.decode(b"")), ErrorKind::Incomplete);
    assert_eq!(kind(codec.decode(b"{\"id\":")), ErrorKind::Incomplete);
    assert_eq!(kind(codec.decode(b"{]")), ErrorKind::Corrupt);
    assert_eq!(kind(codec.decode(b"[1,2]")), ErrorKind::TypeMismatch);
    // A UTF-8 BOM is not JSON (RFC 8259 forbids it): a typed error, never a frame.
    assert_eq!(kind(codec.decode(b"\xEF\xBB\xBF{}")), ErrorKind::Corrupt);

    let strict = HybridCodec::<ChatMessage>::new().with_legacy_json(false);
    let err = strict
        .decode(&serde_json::to_vec(&chat()).unwrap())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(
        err.message().contains("0xfa") && err.message().contains("0x7b"),
        "{err}"
    );
    assert_eq!(kind(strict.decode(b"")), ErrorKind::Corrupt);
    assert_eq!(
        strict.decode(&strict.encode(&chat()).unwrap()).unwrap(),
        chat()
    );
}

// ---------------------------------------------------------------------------------------------
// Fallback

#[test]
fn fallback_to_json_is_used_and_counted() {
    let hybrid = Arc::new(HybridMetrics::new());
    let metrics = Arc::new(Metrics::new());
    let codec = Metered::with_metrics(
        HybridCodec::<Flaky>::new().with_metrics(hybrid.clone()),
        metrics.clone(),
    );
    let even = Flaky {
        name: "even".into(),
        x: 2,
    };
    let odd = Flaky {
        name: "odd".into(),
        x: 3,
    };
    let even_frame = codec.encode(&even).unwrap();
    let odd_frame = codec.encode(&odd).unwrap();
    assert_eq!(
        Frame::parse(&even_frame).unwrap().header().codec,
        CodecId::RKYV
    );
    assert_eq!(
        Frame::parse(&odd_frame).unwrap().header().codec,
        CodecId::JSON
    );
    assert_eq!(codec.decode(&even_frame).unwrap(), even);
    assert_eq!(codec.decode(&odd_frame).unwrap(), odd);

    let counted = hybrid.snapshot();
    assert_eq!(counted.rkyv_encodes, 1);
    assert_eq!(counted.fallbacks, 1);
    assert_eq!(counted.json_fallback_rate(), Some(0.5));
    assert_eq!(counted.legacy_reads, 0);
    assert_eq!(
        (counted.raw_bytes, counted.stored_bytes),
        (0, 0),
        "no compression"
    );
    assert_eq!(counted.compression_ratio(), None);
    let snap = metrics.snapshot();
    assert_eq!(snap.messages_encoded, 2);
    assert_eq!(
        snap.bytes_encoded,
        (even_frame.len() + odd_frame.len()) as u64
    );
    assert_eq!(snap.messages_decoded, 2);
    assert_eq!(snap.total_errors(), 0);

    // A JSON-only value cannot be archived, so even access_owned cannot give a view of it:
    // a read-side error that says to decode instead.
    assert_eq!(
        kind(codec.access_owned(odd_frame).map(drop)),
        ErrorKind::Unsupported,
        "re-encoding an rkyv-refused value fails typed"
    );
    assert_eq!(metrics.snapshot().errors_of(ErrorKind::Unsupported), 1);
}

#[test]
fn when_both_codecs_fail_the_error_names_both_and_the_buffer_is_untouched() {
    let hybrid = Arc::new(HybridMetrics::new());
    let metrics = Arc::new(Metrics::new());
    let codec = Metered::with_metrics(
        HybridCodec::<Flaky>::new().with_metrics(hybrid.clone()),
        metrics.clone(),
    );
    let mut buf = b"keep".to_vec();
    let err = codec
        .encode_into(
            &Flaky {
                name: "n".into(),
                x: 13,
            },
            &mut buf,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert!(
        err.message().contains("odd value 13 refused") && err.message().contains("13 refused"),
        "{err}"
    );
    assert_eq!(buf, b"keep");
    assert_eq!(hybrid.snapshot().fallbacks, 1);
    assert_eq!(hybrid.snapshot().rkyv_encodes, 0);
    let snap = metrics.snapshot();
    assert_eq!(snap.messages_encoded, 0);
    assert_eq!(snap.errors_of(ErrorKind::Encode), 1);
    // The same through a compressing codec: nothing written, nothing counted as compressed.
    let compressing = HybridCodec::<Flaky>::new()
        .with_compression(Compression::Lz4)
        .with_metrics(hybrid.clone());
    let err = compressing
        .encode_into(
            &Flaky {
                name: "n".repeat(200),
                x: 13,
            },
            &mut buf,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert_eq!(buf, b"keep");
    assert_eq!(hybrid.snapshot().raw_bytes, 0);
}

// ---------------------------------------------------------------------------------------------
// Type safety

#[test]
fn a_frame_of_one_type_decoded_as_another_is_a_fingerprint_mismatch() {
    let chat_frame = HybridCodec::<ChatMessage>::new().encode(&chat()).unwrap();
    let rpc_codec = HybridCodec::<RpcRequest>::new();
    for result in [
        rpc_codec.decode(&chat_frame).map(drop),
        rpc_codec.access(&chat_frame).map(drop),
        rpc_codec.access_owned(chat_frame.clone()).map(drop),
    ] {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TypeMismatch);
        let msg = err.message();
        assert!(msg.contains("`RpcRequest`"), "{msg}");
        assert!(
            msg.contains(&format!("{:#018x}", RpcRequest::SCHEMA_FINGERPRINT)),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("{:#018x}", ChatMessage::SCHEMA_FINGERPRINT)),
            "{msg}"
        );
    }
    // Without a fingerprint there is nothing to check: the rkyv validator is the last line.
    let bare = HybridCodec::<ChatMessage>::compact()
        .encode(&chat())
        .unwrap();
    assert!(rpc_codec.decode(&bare).is_err());
}

// ---------------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------------
// Malformed headers

fn decode_aligned(codec: &HybridCodec<ChatMessage>, bytes: &[u8]) -> Result<ChatMessage, Error> {
    let (buf, range) = at_offset(bytes, 0);
    codec.decode(&buf[range])
}

/// A reader that knows [`chat_dictionary`] (and every algorithm).
fn dict_reader() -> HybridCodec<ChatMessage> {
    let registry = DictionaryRegistry::new();
    registry.insert(chat_dictionary());
    HybridCodec::new().with_dictionaries(registry)
}

/// Each field of the header writers write by default (`FA 02 02 02`, the LEB128 payload
/// length (2 bytes), the fingerprint (8), 2 bytes of padding), corrupted: each gives its own
/// kind, from decode, access and access_owned alike.
#[test]
fn each_header_field_corrupted_gives_its_own_kind() {
    let codec = HybridCodec::<ChatMessage>::new();
    let strict = HybridCodec::<ChatMessage>::new().with_legacy_json(false);
    let good = HybridCodec::<ChatMessage>::new()
        .encode(&chat())
        .unwrap()
        .to_vec();
    assert_eq!(good.len(), 16 + rkyv_len(&chat()));
    assert_eq!(&good[..4], &[0xFA, 2, 2, 0b010]);
    assert_eq!(decode_aligned(&codec, &good).unwrap(), chat());
    let payload_len = rkyv_len(&chat()) as u32;
    assert!(
        (0x80..0x4000).contains(&payload_len),
        "a 2-byte LEB128 length"
    );
    let leb = |n: u32| [(n as u8) | 0x80, (n >> 7) as u8];
    let patch = |at: usize, bytes: &[u8]| {
        let mut f = good.clone();
        f[at..at + bytes.len()].copy_from_slice(bytes);
        f
    };
    let cases: Vec<(&str, Vec<u8>, ErrorKind)> = vec![
        // magic: no longer a frame, so legacy JSON, which it is not
        ("magic", patch(0, &[0xFB]), ErrorKind::Corrupt),
        ("version 0", patch(1, &[0]), ErrorKind::UnknownVersion),
        // Version 1 was never released.
        ("version 1", patch(1, &[1]), ErrorKind::UnknownVersion),
        ("version 3", patch(1, &[3]), ErrorKind::UnknownVersion),
        ("version 255", patch(1, &[255]), ErrorKind::UnknownVersion),
        ("codec 0", patch(2, &[0]), ErrorKind::UnknownCodec),
        ("codec frame", patch(2, &[3]), ErrorKind::UnknownCodec),
        ("codec batch", patch(2, &[4]), ErrorKind::UnknownCodec),
        ("codec private", patch(2, &[200]), ErrorKind::UnknownCodec),
        (
            "codec json on rkyv bytes",
            patch(2, &[1]),
            ErrorKind::Corrupt,
        ),
        ("reserved flag", patch(3, &[0b1_0010]), ErrorKind::Corrupt),
        (
            "reserved high flag",
            patch(3, &[0b1000_0010]),
            ErrorKind::Corrupt,
        ),
        (
            "fingerprint flag cleared",
            patch(3, &[0]),
            ErrorKind::Corrupt,
        ),
        (
            "dictionary flag on raw payload",
            patch(3, &[0b110]),
            ErrorKind::Corrupt,
        ),
        (
            "length + 1",
            patch(4, &leb(payload_len + 1)),
            ErrorKind::Incomplete,
        ),
        (
            "length 16383",
            patch(4, &leb(0x3FFF)),
            ErrorKind::Incomplete,
        ),
        (
            "length - 1",
            patch(4, &leb(payload_len - 1)),
            ErrorKind::Corrupt,
        ),
        (
            "length in a longer form",
            patch(4, &[0x80, 0x00]),
            ErrorKind::Corrupt,
        ),
        ("fingerprint", patch(6, &[0xFF]), ErrorKind::TypeMismatch),
        ("padding", patch(15, &[1]), ErrorKind::Corrupt),
        ("padding high bit", patch(14, &[0x80]), ErrorKind::Corrupt),
    ];
    for (what, frame, expected) in cases {
        let err = decode_aligned(&codec, &frame).unwrap_err();
        assert_eq!(err.kind(), expected, "{what}: {err}");
        assert!(
            err.message().starts_with(|c: char| c.is_ascii_lowercase()),
            "{what}: messages start lowercase: {err}"
        );
        // access and access_owned agree on the kind (a bad magic is legacy JSON, which has
        // no archive to borrow, and JSON bytes that are rkyv fail differently per path).
        let (buf, range) = at_offset(&frame, 0);
        if what != "magic" && what != "codec json on rkyv bytes" {
            assert_eq!(
                kind(codec.access(&buf[range.clone()])),
                expected,
                "access, {what}"
            );
            let owned = codec.access_owned(Bytes::copy_from_slice(&buf[range]));
            assert_eq!(kind(owned), expected, "access_owned, {what}");
        }
    }
    // With legacy JSON off, a bad magic is named as such.
    let err = strict.decode(&patch(0, &[0xFB])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains("magic"), "{err}");
}

/// The same for a compressed frame's header (`FA 02 02 0E`, compression id, LEB128 length,
/// fingerprint, dictionary id): a corrupted header field gives its own kind everywhere; an
/// unreadable compression gives its kind from decode and access_owned, and `Unsupported` from
/// access, which never decompresses.
#[test]
fn each_compressed_header_field_corrupted_gives_its_own_kind() {
    let reader = dict_reader();
    let dict = chat_dictionary();
    let writer = HybridCodec::<ChatMessage>::new()
        .with_compression(Compression::zstd_dict(dict.clone(), 3).unwrap());
    let good = writer.encode(&long_chat()).unwrap().to_vec();
    let header = *Frame::parse(&good).unwrap().header();
    assert_eq!(&good[..5], &[0xFA, 2, 2, 0b1110, 2]);
    assert_eq!(header.dictionary, Some(dict.id()));
    assert_eq!(decode_aligned(&reader, &good).unwrap(), long_chat());
    let payload_len = header.payload_len as usize;
    let leb_len = leb128_len(payload_len);
    let (fingerprint_at, dictionary_at) = (5 + leb_len, 5 + leb_len + 8);
    assert_eq!(header.len(), dictionary_at + 4);
    let patch = |at: usize, bytes: &[u8]| {
        let mut f = good.clone();
        f[at..at + bytes.len()].copy_from_slice(bytes);
        f
    };
    let mut leb_plus_1 = Vec::new();
    let mut n = payload_len + 1;
    while n >= 0x80 {
        leb_plus_1.push(n as u8 | 0x80);
        n >>= 7;
    }
    leb_plus_1.push(n as u8);
    assert_eq!(
        leb_plus_1.len(),
        leb_len,
        "length + 1 keeps its LEB128 size"
    );
    // (what, frame, kind, true if the header itself is bad: access reports it too)
    let cases: Vec<(&str, Vec<u8>, ErrorKind, bool)> = vec![
        ("compression id 0", patch(4, &[0]), ErrorKind::Corrupt, true),
        (
            "compression id 3",
            patch(4, &[3]),
            ErrorKind::UnknownCompression,
            false,
        ),
        (
            "compression id 0xe0",
            patch(4, &[0xE0]),
            ErrorKind::UnknownCompression,
            false,
        ),
        (
            "lz4 with a dictionary",
            patch(4, &[1]),
            ErrorKind::Corrupt,
            false,
        ),
        (
            "compressed flag cleared",
            patch(3, &[0b0110]),
            ErrorKind::Corrupt,
            true,
        ),
        (
            "dictionary flag cleared",
            patch(3, &[0b1010]),
            ErrorKind::Corrupt,
            true,
        ),
        (
            "reserved flag",
            patch(3, &[0b1_1110]),
            ErrorKind::Corrupt,
            true,
        ),
        (
            "length + 1",
            patch(5, &leb_plus_1),
            ErrorKind::Incomplete,
            true,
        ),
        (
            "fingerprint",
            patch(fingerprint_at, &[0xFF]),
            ErrorKind::TypeMismatch,
            true,
        ),
        (
            "dictionary id",
            patch(dictionary_at, &(dict.id() ^ 1).to_le_bytes()),
            ErrorKind::UnknownDictionary,
            false,
        ),
    ];
    for (what, frame, expected, header_level) in cases {
        let err = decode_aligned(&reader, &frame).unwrap_err();
        assert_eq!(err.kind(), expected, "{what}: {err}");
        assert!(
            err.message().starts_with(|c: char| c.is_ascii_lowercase()),
            "{what}: messages start lowercase: {err}"
        );
        let (buf, range) = at_offset(&frame, 0);
        let access = kind(reader.access(&buf[range.clone()]));
        let in_place = if header_level {
            expected
        } else {
            ErrorKind::Unsupported
        };
        assert_eq!(access, in_place, "access, {what}");
        let owned = reader.access_owned(Bytes::copy_from_slice(&buf[range]));
        assert_eq!(kind(owned), expected, "access_owned, {what}");
    }
    // A reader without the dictionary: its own kind, naming the dictionary.
    let err = decode_aligned(&HybridCodec::new(), &good).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownDictionary, "{err}");
    assert!(err.message().contains(&dict.id().to_string()), "{err}");
}

#[test]
fn error_messages_name_expected_and_found() {
    let codec = HybridCodec::<ChatMessage>::new();
    let good = codec.encode(&chat()).unwrap().to_vec();
    let mut v3 = good.clone();
    v3[1] = 3;
    let err = decode_aligned(&codec, &v3).unwrap_err();
    assert_eq!(
        err.message(),
        "frame format version 3 is unknown: this reader reads version 2"
    );
    let mut unknown = good.clone();
    unknown[2] = 9;
    let err = decode_aligned(&codec, &unknown).unwrap_err();
    assert_eq!(
        err.message(),
        "frame payload codec 9 is unknown: this reader handles 1 (json) and 2 (rkyv)"
    );
    let err = decode_aligned(&codec, &good[..40]).unwrap_err();
    assert_eq!(
        err.message(),
        format!(
            "frame with a 16-byte header and a {}-byte payload: expected at least {} bytes, \
             found 40",
            good.len() - 16,
            good.len()
        )
    );
    let mut unknown_algorithm = HybridCodec::<ChatMessage>::new()
        .with_compression(Compression::Lz4)
        .encode(&long_chat())
        .unwrap()
        .to_vec();
    assert_eq!(unknown_algorithm[4], 1, "lz4");
    unknown_algorithm[4] = 0xE0;
    let err = decode_aligned(&codec, &unknown_algorithm).unwrap_err();
    assert_eq!(
        err.message(),
        "payload is compressed with algorithm 224, this reader handles none (0), lz4 (1) and \
         zstd (2)"
    );
    for bad in [&v3, &unknown, &unknown_algorithm] {
        let msg = decode_aligned(&codec, bad).unwrap_err().to_string();
        assert_eq!(msg, msg.to_lowercase(), "messages are lowercase");
    }
}

#[test]
fn every_truncation_is_incomplete() {
    let dict = Compression::zstd_dict(chat_dictionary(), 3).unwrap();
    let frames = [
        HybridCodec::<ChatMessage>::new().encode(&chat()).unwrap(),
        HybridCodec::<ChatMessage>::compact()
            .encode(&chat())
            .unwrap(),
        HybridCodec::<ChatMessage>::new()
            .with_primary(Primary::Json)
            .encode(&chat())
            .unwrap(),
        HybridCodec::<ChatMessage>::new()
            .with_compression(Compression::Lz4)
            .encode(&long_chat())
            .unwrap(),
        HybridCodec::<ChatMessage>::new()
            .with_compression(dict)
            .with_checksum(true)
            .encode(&long_chat())
            .unwrap(),
    ];
    let codec = dict_reader();
    for frame in &frames {
        for cut in 0..frame.len() {
            let err = decode_aligned(&codec, &frame[..cut]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Incomplete, "cut at {cut}: {err}");
            let owned = codec.access_owned(frame.slice(..cut));
            assert_eq!(kind(owned), ErrorKind::Incomplete, "cut at {cut}");
        }
    }
}

#[test]
fn every_bit_flip_in_a_checksummed_frame_is_caught() {
    let dict = Compression::zstd_dict(chat_dictionary(), 3).unwrap();
    let writers = [
        HybridCodec::<ChatMessage>::new().with_checksum(true),
        HybridCodec::<ChatMessage>::new()
            .with_checksum(true)
            .with_compression(Compression::Lz4),
        HybridCodec::<ChatMessage>::new()
            .with_checksum(true)
            .with_compression(dict),
    ];
    let codec = dict_reader();
    for writer in &writers {
        let good = writer.encode(&long_chat()).unwrap().to_vec();
        for at in 0..good.len() {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[at] ^= 1 << bit;
                let err = decode_aligned(&codec, &bad).unwrap_err();
                if at >= 2 {
                    // Everything past magic and version is covered by the CRC, and a CRC
                    // catches every single-bit error (unless a structural check fires first).
                    assert!(
                        matches!(
                            err.kind(),
                            ErrorKind::ChecksumMismatch
                                | ErrorKind::Corrupt
                                | ErrorKind::Incomplete
                                | ErrorKind::UnknownCodec
                        ),
                        "{writer:?}: byte {at} bit {bit}: {err}"
                    );
                }
            }
        }
        // Flipping a payload bit specifically is a checksum mismatch.
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 0x01;
        let err = decode_aligned(&codec, &bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ChecksumMismatch);
        assert!(err.message().contains("crc32c"), "{err}");
    }
}

#[test]
fn random_and_mutated_input_never_panics() {
    let codec = HybridCodec::<ChatMessage>::new();
    let dict = dict_reader();
    let rpc_codec = HybridCodec::<RpcRequest>::compact();
    let mut rng = Rng::new(7);
    let mut seeds = vec![
        HybridCodec::<ChatMessage>::new()
            .with_checksum(false)
            .encode(&chat())
            .unwrap()
            .to_vec(),
        HybridCodec::<ChatMessage>::compact()
            .encode(&chat())
            .unwrap()
            .to_vec(),
        rpc_codec.encode(&rpc()).unwrap().to_vec(),
    ];
    for (_, compression) in compressions() {
        seeds.push(
            HybridCodec::<ChatMessage>::new()
                .with_compression(compression)
                .encode(&long_chat())
                .unwrap()
                .to_vec(),
        );
    }
    for round in 0..3000 {
        let mut bytes = seeds[round % seeds.len()].clone();
        for _ in 0..1 + rng.next_u64() % 4 {
            let at = (rng.next_u64() as usize) % bytes.len();
            bytes[at] = rng.next_u64() as u8;
        }
        if round % 5 == 0 {
            let len = (rng.next_u64() % 64) as usize;
            bytes = rng.bytes(len);
            if let Some(b) = bytes.first_mut() {
                *b = frame::MAGIC;
            }
        }
        let (buf, range) = at_offset(&bytes, 0);
        let input = &buf[range];
        let _ = codec.decode(input);
        let _ = codec.access(input);
        let _ = codec.access_owned(Bytes::copy_from_slice(input));
        let _ = rpc_codec.decode(input);
        let _ = dict.decode(input);
        let _ = dict.access_owned(Bytes::copy_from_slice(input));
    }
}

// ---------------------------------------------------------------------------------------------
// Compression

/// zstd's frame magic number, which a zstd payload leaves out (the header names the
/// algorithm).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// Reads an unsigned LEB128 varint: its value and length.
fn read_leb128(bytes: &[u8]) -> (usize, usize) {
    let mut n = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        n |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return (n, i + 1);
        }
    }
    panic!("unterminated LEB128");
}

fn write_leb128(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[test]
fn compressed_frames_record_compression_in_the_header() {
    let dict = chat_dictionary();
    let codec = HybridCodec::<ChatMessage>::new()
        .with_compression(Compression::zstd_dict(dict.clone(), 3).unwrap());
    let mut out = Vec::new();
    codec.encode_into(&long_chat(), &mut out).unwrap();
    let frame = Frame::parse(&out).unwrap();
    let raw = RkyvCodec::new().encode(&long_chat()).unwrap();
    let header = frame.header();
    assert_eq!(header.compression, CompressionId::ZSTD);
    assert_eq!(header.dictionary, Some(dict.id()));
    assert_eq!(header.codec, CodecId::RKYV);
    assert_eq!(header.fingerprint, Some(ChatMessage::SCHEMA_FINGERPRINT));
    assert_eq!(header.checksum, None);
    // Magic, version, codec, flags, compression id, LEB128 length, fingerprint, dictionary
    // id: no padding, nothing but the header in front of the payload.
    let stored = frame.payload().len();
    assert_eq!(header.len(), 4 + 1 + leb128_len(stored) + 8 + 4);
    assert_eq!(out.len(), header.len() + stored);
    assert!(stored < raw.len() / 2, "{stored} of {} bytes", raw.len());
    // The payload is one zstd frame without its magic number, compressed with the dictionary:
    // the rkyv encoding, exactly.
    let mut zstd_frame = ZSTD_MAGIC.to_vec();
    zstd_frame.extend_from_slice(frame.payload());
    let unpacked = zstd::bulk::Decompressor::with_dictionary(dict.as_bytes())
        .unwrap()
        .decompress(&zstd_frame, raw.len())
        .unwrap();
    assert_eq!(unpacked, &raw[..]);

    // The writer reads its own dictionary; a reader that registered it reads it too.
    assert_eq!(codec.decode(&out).unwrap(), long_chat());
    let reader = dict_reader();
    assert_eq!(reader.decode(&out).unwrap(), long_chat());
    let view = reader.access_owned(Bytes::from(out.clone())).unwrap();
    assert_eq!(view.content, long_chat().content);
    // A compressed payload has no archive to borrow in place.
    assert_eq!(kind(reader.access(&out)), ErrorKind::Unsupported);
    // A plain reader knows the algorithm but not the dictionary: its own kind.
    let plain = HybridCodec::<ChatMessage>::new();
    assert_eq!(kind(plain.decode(&out)), ErrorKind::UnknownDictionary);
    assert_eq!(
        kind(plain.access_owned(Bytes::from(out.clone()))),
        ErrorKind::UnknownDictionary
    );
    // Another dictionary: the same kind.
    let other = ZstdDictionary::train_with(
        &RkyvCodec::<ChatMessage>::new(),
        &chat_messages(0xBEEF, 300),
        2048,
    )
    .unwrap();
    assert_ne!(other.id(), dict.id());
    let other_writer = HybridCodec::<ChatMessage>::new()
        .with_compression(Compression::zstd_dict(other, 3).unwrap());
    assert_eq!(
        kind(other_writer.decode(&out)),
        ErrorKind::UnknownDictionary
    );
}

/// A plain `HybridCodec`, built with no compression, reads frames of every algorithm: the
/// header says which.
#[test]
fn a_plain_reader_reads_every_compression() {
    let plain = HybridCodec::<ChatMessage>::new();
    let compact = HybridCodec::<ChatMessage>::compact();
    for (name, compression) in [
        ("lz4", Compression::Lz4),
        ("zstd", Compression::zstd()),
        ("zstd-19", Compression::Zstd(19)),
        ("zstd-negative", Compression::Zstd(-5)),
    ] {
        for writer in [
            HybridCodec::new().with_compression(compression.clone()),
            HybridCodec::new()
                .with_compression(compression.clone())
                .with_checksum(true)
                .with_primary(Primary::Json),
            HybridCodec::compact().with_compression(compression.clone()),
        ] {
            let frame = writer.encode(&long_chat()).unwrap();
            let header = *Frame::parse(&frame).unwrap().header();
            assert!(header.is_compressed(), "{name}: {writer:?}");
            assert_eq!(header.dictionary, None);
            assert_eq!(plain.decode(&frame).unwrap(), long_chat(), "{name}");
            assert_eq!(compact.decode(&frame).unwrap(), long_chat(), "{name}");
            let owned = plain.access_owned(frame.clone()).unwrap();
            assert_eq!(owned.content, long_chat().content, "{name}");
            assert_eq!(kind(plain.access(&frame)), ErrorKind::Unsupported, "{name}");
        }
    }
}

#[test]
fn raw_stored_payloads_stay_in_place_and_readable() {
    // A policy that never finds compressing worth it: every payload is stored raw.
    let never = Policy::new().with_min_size(usize::MAX);
    for (name, compression) in compressions() {
        for codec in [
            HybridCodec::<ChatMessage>::new(),
            HybridCodec::<ChatMessage>::compact(),
        ] {
            let metrics = Arc::new(HybridMetrics::new());
            let writer = codec
                .clone()
                .with_compression(compression.clone())
                .with_policy(never)
                .with_metrics(metrics.clone());
            let mut out = rkyv::util::AlignedVec::<16>::new();
            writer.encode_into(&long_chat(), &mut out).unwrap();
            // Exactly what the plain encoder writes: the header shrank back when stored raw.
            assert_eq!(
                out.as_slice(),
                &codec.encode(&long_chat()).unwrap()[..],
                "{name}"
            );
            let header = *Frame::parse(&out).unwrap().header();
            assert_eq!(header.compression, CompressionId::NONE);
            assert_eq!(header.dictionary, None);
            assert_eq!(writer.access(&out).unwrap().id, long_chat().id);
            assert_eq!(codec.access(&out).unwrap().id, long_chat().id);
            assert_eq!(writer.decode(&out).unwrap(), long_chat());
            let bytes = Bytes::from_owner(out);
            let owned = writer.access_owned(bytes).unwrap();
            assert!(owned.is_shared(), "a raw payload is read in place");
            // Counted as a compressing writer's payload, stored at its raw size.
            let snap = metrics.snapshot();
            let raw = rkyv_len(&long_chat()) as u64;
            assert_eq!((snap.raw_bytes, snap.stored_bytes), (raw, raw), "{name}");
            assert_eq!(snap.compression_ratio(), Some(1.0));
        }
    }
    // A payload below the default minimum size is stored raw too.
    let small = Text { text: "hi".into() };
    let frame = HybridCodec::<Text>::new()
        .with_compression(Compression::zstd())
        .encode(&small)
        .unwrap();
    assert!(!Frame::parse(&frame).unwrap().header().is_compressed());
    assert_eq!(frame, HybridCodec::<Text>::new().encode(&small).unwrap());
}

#[test]
fn the_decompression_limit_is_checked_before_decompressing() {
    let raw = rkyv_len(&long_chat());
    for (name, compression) in compressions() {
        let writer = HybridCodec::<ChatMessage>::new().with_compression(compression);
        let frame = writer.encode(&long_chat()).unwrap();
        let stored = Frame::parse(&frame).unwrap().payload().len();
        assert!(stored < raw, "{name}");
        let reader = |policy: Policy| dict_reader().with_policy(policy);
        // The size the compressed format claims is checked against the limit.
        let tight = reader(Policy::new().with_max_decompressed_len(raw - 1));
        let err = tight.decode(&frame).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{name}: {err}");
        assert!(
            err.message().contains(&format!("{raw} bytes")),
            "{name}: {err}"
        );
        assert_eq!(
            kind(tight.access_owned(frame.clone())),
            ErrorKind::TooLarge,
            "{name}"
        );
        // Exactly at the limit is fine.
        let exact = reader(Policy::new().with_max_decompressed_len(raw));
        assert_eq!(exact.decode(&frame).unwrap(), long_chat(), "{name}");
        assert_eq!(
            exact.access_owned(frame.clone()).unwrap().id,
            long_chat().id
        );
        // So is the ratio limit: at most `ratio` bytes per compressed byte.
        let ratio = reader(Policy::new().with_max_ratio(raw / stored - 1));
        let err = ratio.decode(&frame).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{name}: {err}");
        assert!(err.message().contains("with_max_ratio"), "{name}: {err}");
    }

    // An lz4 payload whose length prefix lies: far too large is refused before allocating
    // (a terabyte could not be allocated at all); a near miss either way is caught after
    // decompressing into a buffer of the claimed size.
    let writer = HybridCodec::<ChatMessage>::new().with_compression(Compression::Lz4);
    let frame = writer.encode(&long_chat()).unwrap();
    let parsed = Frame::parse(&frame).unwrap();
    let (claimed, prefix) = read_leb128(parsed.payload());
    assert_eq!(claimed, raw);
    let block = &parsed.payload()[prefix..];
    let forge = |claim: u64| {
        let mut payload = Vec::new();
        write_leb128(claim, &mut payload);
        payload.extend_from_slice(block);
        let header = FrameHeader::new(CodecId::RKYV)
            .with_fingerprint(ChatMessage::SCHEMA_FINGERPRINT)
            .with_compression(CompressionId::LZ4, None);
        let mut out = Vec::new();
        let w = FrameWriter::begin(&mut out, frame::MAX_HEADER_LEN);
        out.extend_from_slice(&payload);
        w.finish(&mut out, header).unwrap();
        out
    };
    assert_eq!(writer.decode(&forge(raw as u64)).unwrap(), long_chat());
    for (claim, expected) in [
        (1u64 << 40, ErrorKind::TooLarge),
        (u64::MAX, ErrorKind::TooLarge),
        (raw as u64 - 8, ErrorKind::Corrupt),
        (raw as u64 + 8, ErrorKind::Corrupt),
    ] {
        let forged = forge(claim);
        let err = writer.decode(&forged).unwrap_err();
        assert_eq!(err.kind(), expected, "claim {claim}: {err}");
        assert_eq!(
            kind(writer.access_owned(Bytes::from(forged))),
            expected,
            "claim {claim}"
        );
    }
}

#[test]
fn compressed_json_and_legacy_inputs() {
    let json_codec = HybridCodec::<ChatMessage>::compact()
        .with_primary(Primary::Json)
        .with_compression(Compression::Lz4);
    let out = json_codec.encode(&long_chat()).unwrap();
    let header = *Frame::parse(&out).unwrap().header();
    assert_eq!(
        (header.codec, header.compression),
        (CodecId::JSON, CompressionId::LZ4)
    );
    // No fingerprint, no checksum: magic, version, codec, flags, compression id, length.
    assert_eq!(
        header.len(),
        5 + leb128_len(header.payload_len as usize),
        "a compressed payload's header is not padded"
    );
    assert_eq!(json_codec.decode(&out).unwrap(), long_chat());
    let owned = json_codec.access_owned(out.clone()).unwrap();
    assert_eq!(owned.sender, long_chat().sender);
    assert_eq!(kind(json_codec.access(&out)), ErrorKind::Unsupported);
    // Header-less JSON read by a compressing codec is still legacy JSON.
    let legacy = JsonCodec::new().encode(&long_chat()).unwrap();
    assert_eq!(json_codec.decode(&legacy).unwrap(), long_chat());
    // Every truncation of a compressed frame is incomplete.
    for cut in 0..out.len() {
        assert_eq!(
            kind(json_codec.decode(&out[..cut])),
            ErrorKind::Incomplete,
            "cut {cut}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics

#[test]
fn metrics_count_messages_bytes_errors_and_legacy() {
    let hybrid = Arc::new(HybridMetrics::new());
    let metrics = Arc::new(Metrics::new());
    // Two codecs counting into the same metrics: a plain one and a compressing one.
    let codec = Metered::with_metrics(
        HybridCodec::<ChatMessage>::new().with_metrics(hybrid.clone()),
        metrics.clone(),
    );
    let lz4 = Metered::with_metrics(
        HybridCodec::<ChatMessage>::new()
            .with_compression(Compression::Lz4)
            .with_metrics(hybrid.clone()),
        metrics.clone(),
    );
    let frame = codec.encode(&chat()).unwrap();
    let legacy = JsonCodec::new().encode(&chat()).unwrap();
    codec.decode(&frame).unwrap();
    codec.access(&frame).unwrap();
    codec.decode(&legacy).unwrap();
    codec.decode(&frame[..10]).unwrap_err();
    let mut bad = frame.to_vec();
    bad[1] = 9;
    codec.decode(&bad).unwrap_err();
    let packed = lz4.encode(&long_chat()).unwrap();
    lz4.decode(&packed).unwrap();

    let snap = metrics.snapshot();
    assert_eq!(snap.messages_encoded, 2);
    assert_eq!(snap.bytes_encoded, (frame.len() + packed.len()) as u64);
    assert_eq!(snap.messages_decoded, 3);
    assert_eq!(
        snap.bytes_decoded,
        (frame.len() + legacy.len() + packed.len()) as u64
    );
    assert_eq!(snap.messages_accessed, 1);
    assert_eq!(snap.bytes_accessed, frame.len() as u64);
    assert_eq!(snap.errors_of(ErrorKind::Incomplete), 1);
    assert_eq!(snap.errors_of(ErrorKind::UnknownVersion), 1);
    assert_eq!(snap.total_errors(), 2);
    assert_eq!(snap.encode_nanos, None, "timing is opt-in");
    assert_eq!(snap.decode_nanos, None, "timing is opt-in");

    let counted = hybrid.snapshot();
    assert_eq!(counted.legacy_reads, 1);
    assert_eq!(counted.rkyv_encodes, 2);
    assert_eq!(counted.fallbacks, 0);
    assert_eq!(counted.json_fallback_rate(), Some(0.0));
    // Only the compressing codec's payload is counted, before and after compression.
    let raw = rkyv_len(&long_chat()) as u64;
    let stored = Frame::parse(&packed).unwrap().payload().len() as u64;
    assert!(stored < raw);
    assert_eq!((counted.raw_bytes, counted.stored_bytes), (raw, stored));
    assert_eq!(
        counted.compression_ratio(),
        Some(stored as f64 / raw as f64)
    );
}

#[test]
fn timing_is_recorded_only_when_asked() {
    let metrics = Arc::new(Metrics::with_timing());
    let codec = Metered::with_metrics(HybridCodec::<ChatMessage>::new(), metrics.clone());
    let frame = codec.encode(&chat()).unwrap();
    codec.decode(&frame).unwrap();
    let snap = metrics.snapshot();
    assert!(snap.encode_nanos.is_some() && snap.decode_nanos.is_some());
}

#[test]
fn public_types_are_send_sync_and_small() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<HybridCodec<ChatMessage>>();
    assert_send_sync::<Metrics>();
    assert_send_sync::<HybridMetrics>();
    assert_send_sync::<Compression>();
    assert_send_sync::<Metered<JsonCodec<ChatMessage>>>();
    assert_send_sync::<Metered<HybridCodec<ChatMessage>>>();
    assert_send_sync::<FrameHeader>();
    assert!(std::mem::size_of::<FrameHeader>() <= 48);
}

#[test]
fn metered_wraps_a_compressing_codec_transparently() {
    let compression = Compression::zstd();
    let metered =
        Metered::new(HybridCodec::<ChatMessage>::new().with_compression(compression.clone()));
    let plain = HybridCodec::<ChatMessage>::new().with_compression(compression);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    metered.encode_into(&long_chat(), &mut a).unwrap();
    plain.encode_into(&long_chat(), &mut b).unwrap();
    assert_eq!(a, b, "the wrapper is transparent on the wire");
    assert_eq!(
        Frame::parse(&a).unwrap().header().compression,
        CompressionId::ZSTD,
        "the wrapped codec compressed"
    );
    assert_eq!(metered.codec_id(), plain.codec_id());
    assert_eq!(metered.content_type(), plain.content_type());
    assert_eq!(metered.decode(&a).unwrap(), long_chat());
    assert!(metered.decode(&a[..5]).is_err());
    let snap = metered.metrics().snapshot();
    assert_eq!(
        (snap.messages_encoded, snap.bytes_encoded),
        (1, a.len() as u64)
    );
    assert_eq!(snap.messages_decoded, 1);
    assert_eq!(snap.errors_of(ErrorKind::Incomplete), 1);
}

// ---------------------------------------------------------------------------------------------
// Allocations

mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    /// Counts allocations made by the current thread (other tests run on other threads).
    pub(super) struct Counting;

    thread_local! {
        static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    }

    // SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
    // const-initialized thread-local that never allocates.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: as for `alloc`.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            // SAFETY: as for `alloc`.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// Allocations the current thread makes while running `f`.
    pub(super) fn count(f: impl FnOnce()) -> u64 {
        let before = ALLOCATIONS.with(Cell::get);
        f();
        ALLOCATIONS.with(Cell::get) - before
    }
}

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

#[test]
fn warm_encode_into_and_access_allocate_nothing() {
    let metrics = Arc::new(HybridMetrics::new());
    let codec = HybridCodec::<ChatMessage>::new().with_metrics(metrics.clone());
    let msg = chat();
    let mut buf = rkyv::util::AlignedVec::<16>::with_capacity(4096);
    // The counter works: the owned form allocates its output.
    assert!(counting::count(|| drop(codec.encode(&msg).unwrap())) >= 1);
    // Warm up rkyv's per-thread arena.
    codec.encode_into(&msg, &mut buf).unwrap();
    let encode = counting::count(|| {
        for _ in 0..100 {
            buf.clear();
            codec.encode_into(&msg, &mut buf).unwrap();
        }
    });
    assert_eq!(encode, 0, "encode_into a buffer with room");
    let access = counting::count(|| {
        for _ in 0..100 {
            assert_eq!(codec.access(&buf).unwrap().timestamp, msg.timestamp);
        }
    });
    assert_eq!(access, 0, "access of an aligned frame");
    // The compressing path reuses its per-thread scratch buffer (and compressor state) too:
    // once warm, a payload stored raw or compressed costs no allocation.
    let never = Policy::new().with_min_size(usize::MAX);
    let long = long_chat();
    for (name, compression) in compressions() {
        for policy in [never, Policy::new()] {
            let compressing = codec
                .clone()
                .with_compression(compression.clone())
                .with_policy(policy);
            let mut out = Vec::with_capacity(4096);
            compressing.encode_into(&long, &mut out).unwrap();
            assert_eq!(
                Frame::parse(&out).unwrap().header().is_compressed(),
                policy != never,
                "{name}"
            );
            let framed = counting::count(|| {
                for _ in 0..10 {
                    out.clear();
                    compressing.encode_into(&long, &mut out).unwrap();
                }
            });
            assert_eq!(
                framed, 0,
                "{name} ({policy:?}): a warm compressing encode_into a buffer with room"
            );
        }
    }
}

/// `decode`, `access` and `access_owned` take a fast path for the frame a reader writes itself
/// (one comparison with its own header) and a full path for everything else. Over valid and
/// mutated frames of every shape, readers whose fast paths differ (fingerprint on or off), and
/// a reader with metrics on, all give identical results: the same value or the same error.
#[test]
fn access_fast_and_full_paths_agree() {
    let readers = [
        HybridCodec::<ChatMessage>::new(),
        HybridCodec::<ChatMessage>::new().with_metrics(Arc::new(HybridMetrics::new())),
        HybridCodec::<ChatMessage>::compact(),
        HybridCodec::<ChatMessage>::new().with_checksum(true),
    ];
    let mut rng = Rng::new(11);
    let mut seeds: Vec<Vec<u8>> = [
        HybridCodec::<ChatMessage>::new(),
        HybridCodec::<ChatMessage>::compact(),
        HybridCodec::<ChatMessage>::new().with_checksum(true),
        HybridCodec::<ChatMessage>::new().with_primary(Primary::Json),
        HybridCodec::<ChatMessage>::new().with_compression(Compression::Lz4),
        HybridCodec::<ChatMessage>::compact().with_compression(Compression::zstd()),
    ]
    .iter()
    .map(|codec| codec.encode(&long_chat()).unwrap().to_vec())
    .chain([HybridCodec::<RpcRequest>::new()
        .encode(&rpc())
        .unwrap()
        .to_vec()])
    .collect();
    // A version 1 frame, refused.
    let mut v1 = seeds[0].clone();
    v1[1] = 1;
    seeds.push(v1);
    let (mut agreed_ok, mut agreed_err) = (0, 0);
    for round in 0..20_000 {
        let mut bytes = seeds[round % seeds.len()].clone();
        if round >= seeds.len() {
            for _ in 0..1 + rng.next_u64() % 3 {
                let at = (rng.next_u64() as usize) % bytes.len().min(40);
                bytes[at] ^= 1 << (rng.next_u64() % 8);
            }
            if rng.next_u64() % 4 == 0 {
                bytes.truncate((rng.next_u64() as usize) % bytes.len());
            }
        }
        let (buf, range) = at_offset(&bytes, 0);
        let input = &buf[range];
        let (first, others) = readers.split_first().unwrap();
        let decoded = first.decode(input);
        let owned = Bytes::copy_from_slice(&bytes);
        let archived = first.access_owned(owned.clone());
        let accessed = first.access(input);
        for other in others {
            match (&decoded, other.decode(input)) {
                (Ok(a), Ok(b)) => assert_eq!(a, &b, "round {round}"),
                (Err(a), Err(b)) => {
                    assert_eq!(a.kind(), b.kind(), "round {round}: {a} / {b}");
                    assert_eq!(a.message(), b.message(), "round {round}");
                }
                (a, b) => panic!("round {round}: decode {a:?}, {other:?}: {b:?}"),
            }
            match (&archived, other.access_owned(owned.clone())) {
                (Ok(a), Ok(b)) => assert_eq!(a.id, b.id, "round {round}"),
                (Err(a), Err(b)) => {
                    assert_eq!(a.kind(), b.kind(), "round {round}: {a} / {b}");
                    assert_eq!(a.message(), b.message(), "round {round}");
                }
                (a, b) => panic!(
                    "round {round}: access_owned {:?}, {other:?}: {:?}",
                    a.as_ref().map(drop),
                    b.map(drop)
                ),
            }
            match (&accessed, other.access(input)) {
                (Ok(a), Ok(b)) => assert!(std::ptr::eq(*a, b), "round {round}"),
                (Err(a), Err(b)) => {
                    assert_eq!(a.kind(), b.kind(), "round {round}: {a} / {b}");
                    assert_eq!(a.message(), b.message(), "round {round}");
                }
                (a, b) => panic!(
                    "round {round}: access {:?}, {other:?}: {:?}",
                    a.as_ref().map(drop),
                    b.map(drop)
                ),
            }
        }
        match accessed {
            Ok(_) => agreed_ok += 1,
            Err(_) => agreed_err += 1,
        }
    }
    assert!(
        agreed_ok >= 3 && agreed_err > 10_000,
        "{agreed_ok} ok, {agreed_err} errors"
    );
}

/// A hybrid frame of `chat` whose payload is `zstd` as given: docs/wire-format.md says
/// writers leave zstd's magic number and dictionary id out, and readers MUST accept frames
/// with them.
fn zstd_frame(zstd: &[u8], dictionary: u32) -> rkyv::util::AlignedVec {
    let header = FrameHeader::new(CodecId::RKYV)
        .with_fingerprint(ChatMessage::SCHEMA_FINGERPRINT)
        .with_compression(CompressionId::ZSTD, Some(dictionary));
    let mut out = rkyv::util::AlignedVec::<16>::new();
    let writer = FrameWriter::begin(&mut out, header.reserve_len());
    out.extend_from_slice(zstd);
    writer.finish(&mut out, header).unwrap();
    out
}

#[test]
fn zstd_payloads_with_magic_and_dictionary_id_are_read_and_another_id_is_refused() {
    let dictionary = chat_dictionary();
    let raw = RkyvCodec::<ChatMessage>::new()
        .encode(&long_chat())
        .unwrap();
    // What the zstd library writes by default: magic number, dictionary id, content size.
    let standard = zstd::bulk::Compressor::with_dictionary(3, dictionary.as_bytes())
        .unwrap()
        .compress(&raw)
        .unwrap();
    assert_eq!(standard[..4], [0x28, 0xB5, 0x2F, 0xFD]);
    let reader = dict_reader();
    let frame = zstd_frame(&standard, dictionary.id());
    assert_eq!(reader.decode(&frame).unwrap(), long_chat());
    let owned = reader.access_owned(Bytes::copy_from_slice(&frame)).unwrap();
    assert_eq!(owned.content, long_chat().content);

    // The header names one dictionary, the zstd frame records another: refused, naming both.
    // The other is the same dictionary under another id (a dictionary's id is its bytes 4..8).
    let other = dictionary.id().wrapping_add(1);
    let mut renamed = dictionary.as_bytes().to_vec();
    renamed[4..8].copy_from_slice(&other.to_le_bytes());
    let registry = DictionaryRegistry::new();
    registry.insert(chat_dictionary());
    registry.insert(Arc::new(ZstdDictionary::from_bytes(renamed).unwrap()));
    let reader = HybridCodec::<ChatMessage>::new().with_dictionaries(registry);
    let err = reader.decode(&zstd_frame(&standard, other)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(
        err.message().contains(&format!("names dictionary {other}"))
            && err.message().contains(&dictionary.id().to_string()),
        "{err}"
    );
}
