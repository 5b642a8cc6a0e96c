//! HybridCodec: frames, legacy JSON, fallback, zero-copy, compression hooks, metrics, and
//! every malformed header.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use rkyv::Place;
use rkyv::rancor::{Fallible, Source};
use rkyv::with::{ArchiveWith, DeserializeWith, SerializeWith};
use serde::{Deserialize, Serialize};
use zerocodec::bytes::Bytes;
use zerocodec::frame::{self, Frame, FrameHeader};
use zerocodec::{
    Codec, CodecId, CompressionId, EncodeBuf, Error, ErrorKind, Message, Metrics, Transform,
    ZeroCopyCodec,
};
use zerocodec_codecs::{HybridCodec, JsonCodec, Primary, RkyvCodec};
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

/// A test-only compression id for [`Xor`].
const XOR: CompressionId = CompressionId(0xE0);

/// A trivial reversible transform: XOR every byte with a key; stores inputs shorter than
/// `raw_below` raw. Counts its decompress calls.
struct Xor {
    key: u8,
    max: usize,
    dictionary: Option<u32>,
    raw_below: usize,
    decompressions: AtomicUsize,
}

impl Xor {
    fn new() -> Self {
        Self {
            key: 0x5A,
            max: 1 << 20,
            dictionary: None,
            raw_below: 0,
            decompressions: AtomicUsize::new(0),
        }
    }
}

impl Transform for Xor {
    fn dictionary_id(&self) -> Option<u32> {
        self.dictionary
    }

    fn max_decompressed_len(&self) -> usize {
        self.max
    }

    fn compress_into<B: EncodeBuf>(
        &self,
        input: &[u8],
        out: &mut B,
    ) -> zerocodec::Result<CompressionId> {
        if input.len() < self.raw_below {
            out.extend_from_slice(input);
            return Ok(CompressionId::NONE);
        }
        let xored: Vec<u8> = input.iter().map(|b| b ^ self.key).collect();
        out.extend_from_slice(&xored);
        Ok(XOR)
    }

    fn decompress_into<B: EncodeBuf>(
        &self,
        compression: CompressionId,
        dictionary: Option<u32>,
        input: &[u8],
        out: &mut B,
    ) -> zerocodec::Result<()> {
        self.decompressions.fetch_add(1, Ordering::Relaxed);
        if compression != XOR {
            return Err(zerocodec::transform::unknown_compression(
                compression,
                "224 (test xor)",
            ));
        }
        if dictionary != self.dictionary {
            return Err(Error::new(
                ErrorKind::UnknownDictionary,
                format!(
                    "expected dictionary {:?}, found {dictionary:?}",
                    self.dictionary
                ),
            ));
        }
        if input.len() > self.max {
            return Err(Error::too_large(
                "xor output",
                input.len() as u64,
                self.max as u64,
            ));
        }
        let xored: Vec<u8> = input.iter().map(|b| b ^ self.key).collect();
        out.extend_from_slice(&xored);
        Ok(())
    }
}

fn rkyv_len<T: zerocodec::ZeroCopyEncode + zerocodec::ZeroCopyDecode>(value: &T) -> usize {
    RkyvCodec::new().encode(value).unwrap().len()
}

fn kind<T: std::fmt::Debug>(result: Result<T, Error>) -> ErrorKind {
    result.expect_err("expected an error").kind()
}

// ---------------------------------------------------------------------------------------------
// Round trips and layout

#[test]
fn round_trips_with_every_option() {
    let codecs = [
        HybridCodec::<ChatMessage>::new(),
        HybridCodec::compact(),
        HybridCodec::new().with_checksum(true),
        HybridCodec::new().with_fingerprint(false),
        HybridCodec::new().with_primary(Primary::Json),
    ];
    for codec in &codecs {
        let frame = codec.encode(&chat()).unwrap();
        assert!(frame::is_frame(&frame));
        assert_eq!(codec.decode(&frame).unwrap(), chat(), "{codec:?}");
        // Appended after other bytes, at an unaligned offset: still decodes (one copy).
        let mut buf = b"xyz".to_vec();
        codec.encode_into(&chat(), &mut buf).unwrap();
        assert_eq!(&buf[..3], b"xyz");
        assert_eq!(codec.decode(&buf[3..]).unwrap(), chat());
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
    // Version 2: magic, version, codec, flags, a LEB128 length and the fingerprint fit in 16.
    let default = HybridCodec::<ChatMessage>::new().encode(&chat()).unwrap();
    assert_eq!(default.len(), 16 + raw);
    let v1 = HybridCodec::<ChatMessage>::new()
        .with_format_version(1)
        .encode(&chat())
        .unwrap();
    assert_eq!(v1.len(), 32 + raw);
    assert_eq!(
        HybridCodec::<ChatMessage>::new().decode(&v1).unwrap(),
        chat()
    );
    let header = *Frame::parse(&default).unwrap().header();
    assert_eq!(header.fingerprint, Some(ChatMessage::SCHEMA_FINGERPRINT));
    assert_eq!(header.checksum, None, "checksum is off by default");
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
    assert_eq!(&json[16..], &JsonCodec.encode(&chat()).unwrap()[..]);
    assert_eq!(Frame::parse(&json).unwrap().header().codec, CodecId::JSON);
}

#[test]
fn codec_metadata() {
    let codec = HybridCodec::<ChatMessage>::new();
    assert_eq!(Codec::<ChatMessage>::codec_id(&codec), CodecId::FRAME);
    assert_eq!(
        Codec::<ChatMessage>::content_type(&codec),
        "application/x-zerocodec-frame"
    );
    assert_eq!(codec.primary(), Primary::Rkyv);
    assert!(codec.metrics().is_none());
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

    let legacy = JsonCodec.encode(&chat()).unwrap();
    assert_eq!(kind(codec.access(&legacy)), ErrorKind::Unsupported);
    assert_eq!(codec.access_owned(legacy).unwrap().room_id, chat().room_id);
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
    let metrics = Arc::new(Metrics::new());
    let codec = HybridCodec::<Flaky>::new().with_metrics(metrics.clone());
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

    let snap = metrics.snapshot();
    assert_eq!(snap.rkyv_encodes, 1);
    assert_eq!(snap.fallbacks, 1);
    assert_eq!(snap.rkyv_success_rate(), Some(0.5));
    assert_eq!(snap.json_fallback_rate(), Some(0.5));
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
}

#[test]
fn when_both_codecs_fail_the_error_names_both_and_the_buffer_is_untouched() {
    let metrics = Arc::new(Metrics::new());
    let codec = HybridCodec::<Flaky>::new().with_metrics(metrics.clone());
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
    let snap = metrics.snapshot();
    assert_eq!(snap.fallbacks, 1);
    assert_eq!(snap.messages_encoded, 0);
    assert_eq!(snap.errors_of(ErrorKind::Encode), 1);
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
// Malformed headers

/// A version 1 frame without checksum, so each corrupted field reports its own kind.
fn unchecked_frame() -> Vec<u8> {
    HybridCodec::<ChatMessage>::new()
        .with_format_version(1)
        .with_checksum(false)
        .encode(&chat())
        .unwrap()
        .to_vec()
}

fn decode_aligned(codec: &HybridCodec<ChatMessage>, bytes: &[u8]) -> Result<ChatMessage, Error> {
    let (buf, range) = at_offset(bytes, 0);
    codec.decode(&buf[range])
}

#[test]
fn each_header_field_corrupted_gives_its_own_kind() {
    let codec = HybridCodec::<ChatMessage>::new();
    let strict = HybridCodec::<ChatMessage>::new().with_legacy_json(false);
    let good = unchecked_frame();
    assert_eq!(good.len(), 32 + rkyv_len(&chat()));
    assert_eq!(decode_aligned(&codec, &good).unwrap(), chat());
    let patch = |at: usize, bytes: &[u8]| {
        let mut f = good.clone();
        f[at..at + bytes.len()].copy_from_slice(bytes);
        f
    };
    let payload_len = u32::from_le_bytes(good[8..12].try_into().unwrap());
    let cases: Vec<(&str, Vec<u8>, ErrorKind)> = vec![
        // magic: no longer a frame, so legacy JSON, which it is not
        ("magic", patch(0, &[0xFB]), ErrorKind::Corrupt),
        ("version 0", patch(1, &[0]), ErrorKind::UnknownVersion),
        ("version 3", patch(1, &[3]), ErrorKind::UnknownVersion),
        ("version 255", patch(1, &[255]), ErrorKind::UnknownVersion),
        ("codec 0", patch(2, &[0]), ErrorKind::UnknownCodec),
        ("codec frame", patch(2, &[3]), ErrorKind::UnknownCodec),
        ("codec private", patch(2, &[200]), ErrorKind::UnknownCodec),
        (
            "codec json on rkyv bytes",
            patch(2, &[1]),
            ErrorKind::Corrupt,
        ),
        ("compression", patch(3, &[2]), ErrorKind::UnknownCompression),
        (
            "reserved flag",
            patch(4, &[0b1000_0010]),
            ErrorKind::Corrupt,
        ),
        (
            "checksum flag without checksum",
            patch(4, &[0b011]),
            ErrorKind::ChecksumMismatch,
        ),
        (
            "fingerprint flag cleared",
            patch(4, &[0]),
            ErrorKind::Corrupt,
        ),
        (
            "dictionary flag on raw payload",
            patch(4, &[0b110]),
            ErrorKind::Corrupt,
        ),
        ("reserved byte 5", patch(5, &[1]), ErrorKind::Corrupt),
        ("reserved byte 7", patch(7, &[0x80]), ErrorKind::Corrupt),
        (
            "length + 1",
            patch(8, &(payload_len + 1).to_le_bytes()),
            ErrorKind::Incomplete,
        ),
        (
            "length max",
            patch(8, &u32::MAX.to_le_bytes()),
            ErrorKind::Incomplete,
        ),
        (
            "length - 1",
            patch(8, &(payload_len - 1).to_le_bytes()),
            ErrorKind::Corrupt,
        ),
        (
            "length 0",
            patch(8, &0u32.to_le_bytes()),
            ErrorKind::Corrupt,
        ),
        (
            "checksum without flag",
            patch(12, &[1, 0, 0, 0]),
            ErrorKind::Corrupt,
        ),
        ("fingerprint", patch(16, &[0xFF]), ErrorKind::TypeMismatch),
        (
            "dictionary without flag",
            patch(24, &[7]),
            ErrorKind::Corrupt,
        ),
        (
            "uncompressed length on raw",
            patch(28, &[1]),
            ErrorKind::Corrupt,
        ),
    ];
    for (what, frame, expected) in cases {
        let err = decode_aligned(&codec, &frame).unwrap_err();
        assert_eq!(err.kind(), expected, "{what}: {err}");
        assert!(
            err.message().starts_with(|c: char| c.is_ascii_lowercase()),
            "{what}: messages start lowercase: {err}"
        );
        // access and access_owned agree on the kind.
        let (buf, range) = at_offset(&frame, 0);
        let access_kind = kind(codec.access(&buf[range.clone()]));
        let owned_kind = kind(codec.access_owned(Bytes::copy_from_slice(&buf[range])));
        if what != "magic" && what != "codec json on rkyv bytes" {
            assert_eq!(access_kind, expected, "access, {what}");
            assert_eq!(owned_kind, expected, "access_owned, {what}");
        }
    }
    // With legacy JSON off, a bad magic is named as such.
    let err = strict.decode(&patch(0, &[0xFB])).unwrap_err();
    assert!(err.message().contains("magic"), "{err}");
}

/// The same, for the version 2 header writers write by default: `FA 02 02 02`, the LEB128
/// payload length (2 bytes), the fingerprint (8), 2 bytes of padding.
#[test]
fn each_v2_header_field_corrupted_gives_its_own_kind() {
    let codec = HybridCodec::<ChatMessage>::new();
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
        ("version 0", patch(1, &[0]), ErrorKind::UnknownVersion),
        ("version 3", patch(1, &[3]), ErrorKind::UnknownVersion),
        ("codec 0", patch(2, &[0]), ErrorKind::UnknownCodec),
        ("codec private", patch(2, &[200]), ErrorKind::UnknownCodec),
        (
            "codec json on rkyv bytes",
            patch(2, &[1]),
            ErrorKind::Corrupt,
        ),
        ("reserved flag", patch(3, &[0b1_0010]), ErrorKind::Corrupt),
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
    ];
    for (what, frame, expected) in cases {
        let err = decode_aligned(&codec, &frame).unwrap_err();
        assert_eq!(err.kind(), expected, "{what}: {err}");
        let (buf, range) = at_offset(&frame, 0);
        if what != "codec json on rkyv bytes" {
            assert_eq!(
                kind(codec.access(&buf[range.clone()])),
                expected,
                "access, {what}"
            );
        }
        let owned = codec.access_owned(Bytes::copy_from_slice(&buf[range]));
        if what != "codec json on rkyv bytes" {
            assert_eq!(kind(owned), expected, "access_owned, {what}");
        }
    }
}

#[test]
fn error_messages_name_expected_and_found() {
    let codec = HybridCodec::<ChatMessage>::new();
    let good = unchecked_frame();
    let mut v2 = good.clone();
    v2[1] = 3;
    let err = decode_aligned(&codec, &v2).unwrap_err();
    assert_eq!(
        err.message(),
        "frame format version 3 is unknown: this reader reads versions 1 and 2"
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
            "frame with a 32-byte header and a {}-byte payload: expected at least {} bytes, \
             found 40",
            good.len() - 32,
            good.len()
        )
    );
    for bad in [&v2, &unknown] {
        let msg = decode_aligned(&codec, bad).unwrap_err().to_string();
        assert_eq!(msg, msg.to_lowercase(), "messages are lowercase");
    }
}

#[test]
fn every_truncation_is_incomplete() {
    let frames = [
        HybridCodec::<ChatMessage>::new().encode(&chat()).unwrap(),
        HybridCodec::<ChatMessage>::compact()
            .encode(&chat())
            .unwrap(),
        HybridCodec::<ChatMessage>::new()
            .with_primary(Primary::Json)
            .encode(&chat())
            .unwrap(),
    ];
    let codec = HybridCodec::<ChatMessage>::new();
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
    let codec = HybridCodec::<ChatMessage>::new().with_checksum(true);
    let good = codec.encode(&chat()).unwrap().to_vec();
    for at in 0..good.len() {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[at] ^= 1 << bit;
            let err = decode_aligned(&codec, &bad).unwrap_err();
            if at >= 2 {
                // Everything past magic and version is covered by the CRC, and a CRC catches
                // every single-bit error (unless a structural check fires first).
                assert!(
                    matches!(
                        err.kind(),
                        ErrorKind::ChecksumMismatch
                            | ErrorKind::Corrupt
                            | ErrorKind::Incomplete
                            | ErrorKind::UnknownCodec
                    ),
                    "byte {at} bit {bit}: {err}"
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

#[test]
fn random_and_mutated_input_never_panics() {
    let codec = HybridCodec::<ChatMessage>::new();
    let rpc_codec = HybridCodec::<RpcRequest>::compact();
    let xor = Xor::new();
    let mut rng = Rng::new(7);
    let seeds = [
        unchecked_frame(),
        HybridCodec::<ChatMessage>::compact()
            .encode(&chat())
            .unwrap()
            .to_vec(),
        rpc_codec.encode(&rpc()).unwrap().to_vec(),
    ];
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
        let _ = rpc_codec.decode(input);
        let _ = codec.decode_transformed(input, &xor);
        let _ = codec.access_transformed(Bytes::copy_from_slice(input), &xor);
    }
}

// ---------------------------------------------------------------------------------------------
// Compression hooks

#[test]
fn transformed_frames_record_compression_in_the_header() {
    let xor = Xor {
        dictionary: Some(0xD1C7),
        ..Xor::new()
    };
    let codec = HybridCodec::<ChatMessage>::new();
    let mut out = Vec::new();
    codec
        .encode_transformed_into(&chat(), &xor, &mut out)
        .unwrap();
    let frame = Frame::parse(&out).unwrap();
    let raw = RkyvCodec::new().encode(&chat()).unwrap();
    let header = frame.header();
    assert_eq!(header.compression, XOR);
    assert_eq!(header.dictionary, Some(0xD1C7));
    assert_eq!(
        header.uncompressed_len, None,
        "version 2 does not repeat it"
    );
    assert_eq!(header.codec, CodecId::RKYV);
    // Magic, version, codec, flags, compression id, LEB128 length (2 bytes), fingerprint,
    // dictionary id: no padding, no transform prefix besides the header.
    assert_eq!(header.len(), 4 + 1 + 2 + 8 + 4);
    assert_eq!(out.len(), header.len() + raw.len());
    let unxored: Vec<u8> = frame.payload().iter().map(|b| b ^ 0x5A).collect();
    assert_eq!(unxored, &raw[..]);

    assert_eq!(codec.decode_transformed(&out, &xor).unwrap(), chat());
    let view = codec
        .access_transformed(Bytes::from(out.clone()), &xor)
        .unwrap();
    assert_eq!(view.content, chat().content);
    // Plain decode cannot read a compressed payload, and says so.
    assert_eq!(kind(codec.decode(&out)), ErrorKind::UnknownCompression);
    assert_eq!(kind(codec.access(&out)), ErrorKind::UnknownCompression);
    // Another dictionary: the transform's own kind.
    let other = Xor {
        dictionary: Some(1),
        ..Xor::new()
    };
    assert_eq!(
        kind(codec.decode_transformed(&out, &other)),
        ErrorKind::UnknownDictionary
    );
}

#[test]
fn raw_stored_payloads_stay_in_place_and_readable() {
    let xor = Xor {
        raw_below: usize::MAX,
        ..Xor::new()
    };
    for codec in [
        HybridCodec::<ChatMessage>::new(),
        HybridCodec::<ChatMessage>::compact(),
    ] {
        let mut out = rkyv::util::AlignedVec::<16>::new();
        codec
            .encode_transformed_into(&chat(), &xor, &mut out)
            .unwrap();
        // Exactly what the plain encoder writes: the header shrank back when stored raw.
        assert_eq!(out.as_slice(), &codec.encode(&chat()).unwrap()[..]);
        let header = *Frame::parse(&out).unwrap().header();
        assert_eq!(header.compression, CompressionId::NONE);
        assert_eq!(header.uncompressed_len, None);
        assert_eq!(codec.access(&out).unwrap().id, chat().id);
        assert_eq!(codec.decode_transformed(&out, &xor).unwrap(), chat());
        let bytes = Bytes::from_owner(out);
        let owned = codec.access_transformed(bytes, &xor).unwrap();
        assert!(owned.is_shared(), "a raw payload is read in place");
        assert_eq!(xor.decompressions.load(Ordering::Relaxed), 0);
    }
}

#[test]
fn the_decompression_limit_is_checked_before_decompressing() {
    // Version 2: the transform checks the size its format claims against its limit.
    let writer = Xor::new();
    let raw = rkyv_len(&chat());
    let mut v2 = Vec::new();
    HybridCodec::<ChatMessage>::new()
        .encode_transformed_into(&chat(), &writer, &mut v2)
        .unwrap();
    let tight = Xor {
        max: raw - 1,
        ..Xor::new()
    };
    let codec = HybridCodec::<ChatMessage>::new();
    assert_eq!(
        kind(codec.decode_transformed(&v2, &tight)),
        ErrorKind::TooLarge
    );
    assert_eq!(
        kind(codec.access_transformed(Bytes::from(v2.clone()), &tight)),
        ErrorKind::TooLarge
    );

    // Version 1 records the uncompressed length, checked before the transform runs at all.
    let codec = HybridCodec::<ChatMessage>::new().with_format_version(1);
    let mut out = Vec::new();
    codec
        .encode_transformed_into(&chat(), &writer, &mut out)
        .unwrap();
    let tight = Xor {
        max: raw - 1,
        ..Xor::new()
    };
    let err = codec.decode_transformed(&out, &tight).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert!(err.message().contains(&format!("{raw} bytes")), "{err}");
    assert_eq!(
        kind(codec.access_transformed(Bytes::from(out.clone()), &tight)),
        ErrorKind::TooLarge
    );
    assert_eq!(tight.decompressions.load(Ordering::Relaxed), 0);
    // Exactly at the limit is fine.
    let exact = Xor {
        max: raw,
        ..Xor::new()
    };
    assert_eq!(codec.decode_transformed(&out, &exact).unwrap(), chat());

    // A header that lies about the uncompressed length is caught after decompressing.
    let codec = HybridCodec::<ChatMessage>::new()
        .with_format_version(1)
        .with_checksum(false);
    let mut lying = Vec::new();
    codec
        .encode_transformed_into(&chat(), &writer, &mut lying)
        .unwrap();
    lying[28..32].copy_from_slice(&((raw - 8) as u32).to_le_bytes());
    let err = codec.decode_transformed(&lying, &writer).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains("decompressed payload"), "{err}");
}

#[test]
fn transformed_json_and_legacy_inputs() {
    let xor = Xor::new();
    let json_codec = HybridCodec::<ChatMessage>::compact().with_primary(Primary::Json);
    let mut out = Vec::new();
    json_codec
        .encode_transformed_into(&chat(), &xor, &mut out)
        .unwrap();
    let header = *Frame::parse(&out).unwrap().header();
    assert_eq!((header.codec, header.compression), (CodecId::JSON, XOR));
    // No fingerprint, no checksum: magic, version, codec, flags, compression id, length.
    assert_eq!(
        header.len(),
        7,
        "a compressed payload's header is not padded"
    );
    assert_eq!(json_codec.decode_transformed(&out, &xor).unwrap(), chat());
    let owned = json_codec
        .access_transformed(Bytes::from(out.clone()), &xor)
        .unwrap();
    assert_eq!(owned.sender, chat().sender);
    // Header-less JSON through the transformed path is still legacy JSON.
    let legacy = JsonCodec.encode(&chat()).unwrap();
    assert_eq!(
        json_codec.decode_transformed(&legacy, &xor).unwrap(),
        chat()
    );
    // Every truncation of a transformed frame is incomplete.
    for cut in 0..out.len() {
        assert_eq!(
            kind(json_codec.decode_transformed(&out[..cut], &xor)),
            ErrorKind::Incomplete,
            "cut {cut}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics

#[test]
fn metrics_count_messages_bytes_errors_and_legacy() {
    let metrics = Arc::new(Metrics::new());
    let codec = HybridCodec::<ChatMessage>::new().with_metrics(metrics.clone());
    let frame = codec.encode(&chat()).unwrap();
    let legacy = JsonCodec.encode(&chat()).unwrap();
    codec.decode(&frame).unwrap();
    codec.access(&frame).unwrap();
    codec.decode(&legacy).unwrap();
    codec.decode(&frame[..10]).unwrap_err();
    let mut bad = frame.to_vec();
    bad[1] = 9;
    codec.decode(&bad).unwrap_err();
    let xor = Xor::new();
    let mut out = Vec::new();
    codec
        .encode_transformed_into(&chat(), &xor, &mut out)
        .unwrap();
    codec.decode_transformed(&out, &xor).unwrap();

    let snap = metrics.snapshot();
    assert_eq!(snap.messages_encoded, 2);
    assert_eq!(snap.bytes_encoded, (frame.len() + out.len()) as u64);
    assert_eq!(snap.messages_decoded, 3);
    assert_eq!(
        snap.bytes_decoded,
        (frame.len() + legacy.len() + out.len()) as u64
    );
    assert_eq!(snap.messages_accessed, 1);
    assert_eq!(snap.bytes_accessed, frame.len() as u64);
    assert_eq!(snap.legacy_decodes, 1);
    assert_eq!(snap.legacy_rate(), Some(0.25));
    assert_eq!(snap.errors_of(ErrorKind::Incomplete), 1);
    assert_eq!(snap.errors_of(ErrorKind::UnknownVersion), 1);
    assert_eq!(snap.total_errors(), 2);
    assert_eq!(snap.rkyv_encodes, 2);
    assert_eq!(snap.rkyv_success_rate(), Some(1.0));
    assert_eq!(snap.json_fallback_rate(), Some(0.0));
    let raw = rkyv_len(&chat()) as u64;
    assert_eq!((snap.raw_bytes, snap.stored_bytes), (raw, raw));
    assert_eq!(snap.encode_nanos, None, "timing is opt-in");
}

#[test]
fn timing_is_recorded_only_when_asked() {
    let metrics = Arc::new(Metrics::with_timing());
    let codec = HybridCodec::<ChatMessage>::new().with_metrics(metrics.clone());
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
    assert_send_sync::<zerocodec::Metered<JsonCodec>>();
    assert_send_sync::<FrameHeader>();
    assert!(std::mem::size_of::<FrameHeader>() <= 48);
}

#[test]
fn metered_wraps_any_codec_and_forwards_the_compression_hooks() {
    let metered = zerocodec::Metered::new(HybridCodec::<ChatMessage>::new());
    let plain = HybridCodec::<ChatMessage>::new();
    let xor = Xor::new();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    metered
        .encode_transformed_into(&chat(), &xor, &mut a)
        .unwrap();
    plain
        .encode_transformed_into(&chat(), &xor, &mut b)
        .unwrap();
    assert_eq!(a, b, "the wrapper is transparent on the wire");
    assert_eq!(
        Frame::parse(&a).unwrap().header().compression,
        XOR,
        "the hybrid's own hook ran, not the default prefix"
    );
    assert_eq!(metered.decode_transformed(&a, &xor).unwrap(), chat());
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
    let metrics = Arc::new(Metrics::new());
    let codec = HybridCodec::<ChatMessage>::new().with_metrics(metrics);
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
    // The transformed path reuses its per-thread scratch buffer too.
    let xor = Xor::new();
    let mut out = Vec::with_capacity(4096);
    codec.encode_transformed_into(&msg, &xor, &mut out).unwrap();
    let framed = counting::count(|| {
        out.clear();
        codec
            .encode_transformed_into(&msg, &RawXor, &mut out)
            .unwrap();
    });
    assert_eq!(
        framed, 0,
        "encode_transformed_into with a non-allocating transform"
    );
}

/// A transform that always stores raw (and so allocates nothing itself).
struct RawXor;

impl Transform for RawXor {
    fn max_decompressed_len(&self) -> usize {
        1 << 20
    }
    fn compress_into<B: EncodeBuf>(
        &self,
        input: &[u8],
        out: &mut B,
    ) -> zerocodec::Result<CompressionId> {
        out.extend_from_slice(input);
        Ok(CompressionId::NONE)
    }
    fn decompress_into<B: EncodeBuf>(
        &self,
        compression: CompressionId,
        _: Option<u32>,
        _: &[u8],
        _: &mut B,
    ) -> zerocodec::Result<()> {
        Err(zerocodec::transform::unknown_compression(
            compression,
            "none",
        ))
    }
}

/// `access`, `access_owned` and `decode` have two fast paths, taken without metrics (one for
/// the frame the codec writes by default, one for other valid version 2 frames), and a full
/// path (taken with metrics, and for everything the fast paths decline): over valid and
/// mutated frames of every shape, all give the same value or the same error.
#[test]
fn access_fast_and_full_paths_agree() {
    let fast = HybridCodec::<ChatMessage>::new();
    let full = HybridCodec::<ChatMessage>::new().with_metrics(Arc::new(Metrics::new()));
    let mut rng = Rng::new(11);
    let seeds: Vec<Vec<u8>> = [
        HybridCodec::<ChatMessage>::new(),
        HybridCodec::<ChatMessage>::compact(),
        HybridCodec::<ChatMessage>::new().with_checksum(true),
        HybridCodec::<ChatMessage>::new().with_format_version(1),
        HybridCodec::<ChatMessage>::new().with_primary(Primary::Json),
    ]
    .iter()
    .map(|codec| codec.encode(&chat()).unwrap().to_vec())
    .chain([HybridCodec::<RpcRequest>::new()
        .encode(&rpc())
        .unwrap()
        .to_vec()])
    .collect();
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
        match (
            fast.decode(&buf[range.clone()]),
            full.decode(&buf[range.clone()]),
        ) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "round {round}"),
            (Err(a), Err(b)) => {
                assert_eq!(a.kind(), b.kind(), "round {round}: {a} / {b}");
                assert_eq!(a.message(), b.message(), "round {round}");
            }
            (a, b) => panic!("round {round}: decode fast {a:?}, full {b:?}"),
        }
        let owned = Bytes::copy_from_slice(&bytes);
        match (fast.access_owned(owned.clone()), full.access_owned(owned)) {
            (Ok(a), Ok(b)) => assert_eq!(a.id, b.id, "round {round}"),
            (Err(a), Err(b)) => {
                assert_eq!(a.kind(), b.kind(), "round {round}: {a} / {b}");
                assert_eq!(a.message(), b.message(), "round {round}");
            }
            (a, b) => panic!(
                "round {round}: access_owned fast {:?}, full {:?}",
                a.map(drop),
                b.map(drop)
            ),
        }
        let a = fast.access(&buf[range.clone()]);
        let b = full.access(&buf[range]);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert!(std::ptr::eq(a, b), "round {round}");
                agreed_ok += 1;
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.kind(), b.kind(), "round {round}: {a} / {b}");
                assert_eq!(a.message(), b.message(), "round {round}");
                agreed_err += 1;
            }
            (a, b) => panic!(
                "round {round}: fast {:?}, full {:?}",
                a.map(drop),
                b.map(drop)
            ),
        }
    }
    assert!(
        agreed_ok >= 3 && agreed_err > 10_000,
        "{agreed_ok} ok, {agreed_err} errors"
    );
}
