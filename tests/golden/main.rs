//! Golden frames: the wire format of version 2, held still by committed bytes.
//!
//! Version 2 is the first released format, and it is frozen. Each `tests/golden/v2-*.bin` is
//! one frame; the test asserts that today's encoder still produces it byte for byte and that
//! today's decoder still reads it. (Version 1 was never released: its frames are rejected with
//! `ErrorKind::UnknownVersion`, which the tests here also check.)
//!
//! # Adding golden files
//!
//! ```text
//! ZEROCODEC_BLESS=1 cargo test -p zerocodec --test golden
//! ```
//!
//! writes the files that are *missing* and then checks them all. Existing files are never
//! rewritten, blessed or not: if the encoder's output changed, either the change is a bug, or
//! it is a deliberate format change, which needs a new format version and new `v3-*` files
//! beside the old ones (which readers must keep reading).
//!
//! The message types here are local mirrors of the dataset types with fingerprints fixed by
//! hand, so the frames do not change when the dataset types' fingerprints are regenerated.

mod evolution;

use std::path::PathBuf;

use rkyv::util::AlignedVec;
use serde::{Deserialize, Serialize};
use zerocodec::frame::{Frame, FrameHeader, FrameWriter};
use zerocodec::prelude::*;
use zerocodec::{CodecId, CompressionId, ErrorKind, Message};
use zerocodec_codecs::{AsJson, BitcodeCodec, Compression, HybridCodec, Primary, RkyvCodec};

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
    Debug, PartialEq, Serialize, Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
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

fn chat() -> Chat {
    Chat {
        id: "msg-000042".into(),
        content: "Hello from zerocodec! Shall we meet at 10:30 in room 4?".into(),
        timestamp: 1_763_700_000_123,
        sender: "user-1337".into(),
        room_id: "room-general".into(),
    }
}

/// A chat message whose bitcode payload zstd compresses (its content repeats).
fn long_chat() -> Chat {
    Chat {
        content: "the quick brown fox jumps over the lazy dog; ".repeat(6),
        ..chat()
    }
}

fn rpc() -> Rpc {
    Rpc {
        id: "req-7".into(),
        method: "rooms.post".into(),
        params: serde_json::json!({"room": "general", "limit": 50, "flags": [true, null]}),
        kind: 1,
    }
}

/// The golden "xor" frame's compression: every payload byte XORed with 0xA5, id 0xE0,
/// dictionary 0xD1C7. It was written (before the redesign) by a test-only compression
/// transform to exercise the header's compression fields; no build of zerocodec knows
/// algorithm 0xE0, so a reader must refuse the frame with `UnknownCompression`.
const XOR_KEY: u8 = 0xA5;
const XOR_ID: CompressionId = CompressionId(0xE0);
const XOR_DICT: u32 = 0xD1C7;

fn xor(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().map(|b| b ^ XOR_KEY).collect()
}

/// How a golden frame is written and read back.
enum Golden {
    Chat(HybridCodec<Chat>),
    /// A chat message long and repetitive enough that zstd compresses it.
    LongChat(HybridCodec<Chat>),
    /// The compressed frame: written by today's frame writer (the header fields a compressing
    /// writer sets), read by a hybrid codec that must refuse its unknown algorithm.
    ChatXor(HybridCodec<Chat>),
    Rpc(HybridCodec<Rpc>),
}

impl Golden {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Golden::Chat(c) => c.encode_into(&chat(), &mut out).unwrap(),
            Golden::LongChat(c) => c.encode_into(&long_chat(), &mut out).unwrap(),
            Golden::ChatXor(_) => {
                let raw = RkyvCodec::new().encode(&chat()).unwrap();
                let header = FrameHeader::new(CodecId::RKYV)
                    .with_checksum()
                    .with_fingerprint(Chat::SCHEMA_FINGERPRINT)
                    .with_compression(XOR_ID, Some(XOR_DICT));
                let reserve = header.reserve_len_compressed(Some(XOR_DICT), raw.len() as u32);
                let writer = FrameWriter::begin(&mut out, reserve);
                out.extend_from_slice(&xor(&raw));
                writer.finish(&mut out, header).unwrap();
            }
            Golden::Rpc(c) => c.encode_into(&rpc(), &mut out).unwrap(),
        }
        out
    }

    /// Decodes (and, for rkyv payloads, accesses in place) the frame in an aligned buffer.
    fn check_decodes(&self, name: &str, frame: &AlignedVec) {
        match self {
            Golden::Chat(c) => check_chat(c, &chat(), name, frame),
            Golden::LongChat(c) => {
                let parsed = Frame::parse(frame).unwrap();
                assert!(parsed.header().is_compressed(), "{name} is stored raw");
                check_chat(c, &long_chat(), name, frame);
            }
            Golden::ChatXor(c) => {
                // The frame itself is intact (lengths, checksum) and holds the XORed archive.
                let parsed = Frame::parse(frame).unwrap();
                let header = parsed.header();
                assert_eq!(header.codec, CodecId::RKYV);
                assert_eq!(header.compression, XOR_ID);
                assert_eq!(header.dictionary, Some(XOR_DICT));
                assert_eq!(header.fingerprint, Some(Chat::SCHEMA_FINGERPRINT));
                let archive = xor(parsed.payload());
                assert_eq!(RkyvCodec::<Chat>::new().decode(&archive).unwrap(), chat());
                // A reader does not know algorithm 0xE0: a typed refusal, never a misread.
                let err = c.decode(frame).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::UnknownCompression, "{name}: {err}");
                assert!(err.message().contains("224"), "{name}: {err}");
                let err = error_of(c.access_owned(frame.to_vec().into()));
                assert_eq!(err.kind(), ErrorKind::UnknownCompression, "{name}: {err}");
                // In place, a compressed payload has no archive to borrow.
                let err = error_of(c.access(frame));
                assert_eq!(err.kind(), ErrorKind::Unsupported, "{name}: {err}");
            }
            Golden::Rpc(c) => {
                assert_eq!(c.decode(frame).unwrap(), rpc(), "{name}");
                assert_eq!(
                    c.access_owned(frame.to_vec().into()).unwrap().method,
                    rpc().method,
                    "{name}"
                );
            }
        }
    }
}

/// Decodes (and, for rkyv payloads, accesses in place) a chat frame holding `expected`.
fn check_chat(c: &HybridCodec<Chat>, expected: &Chat, name: &str, frame: &AlignedVec) {
    assert_eq!(c.decode(frame).unwrap(), *expected, "{name}");
    assert_eq!(
        c.access_owned(frame.to_vec().into()).unwrap().content,
        expected.content,
        "{name}"
    );
    if c.primary() == Primary::Rkyv {
        assert_eq!(c.access(frame).unwrap().content, expected.content, "{name}");
    }
    let header = *Frame::parse(frame).unwrap().header();
    if header.codec == CodecId::BITCODE {
        // The payload is bitcode's own encoding: what `BitcodeCodec` writes.
        let payload = c.decode(frame).unwrap();
        let plain = BitcodeCodec::new().encode(&payload).unwrap();
        if !header.is_compressed() {
            assert_eq!(Frame::parse(frame).unwrap().payload(), &plain[..], "{name}");
        }
        // No in-place form; a reader without bitcode refuses the codec by name.
        let err = error_of(c.access(frame));
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{name}: {err}");
        assert!(err.message().contains("bitcode"), "{name}: {err}");
        let err = HybridCodec::<Chat>::new().decode(frame).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownCodec, "{name}: {err}");
        assert!(err.message().contains("5 (bitcode)"), "{name}: {err}");
    }
}

/// Checksum and fingerprint, spelled out: the cases never depend on the codec's defaults.
fn both<T>() -> HybridCodec<T> {
    HybridCodec::new()
        .with_checksum(true)
        .with_fingerprint(true)
}

/// Every golden case (all version 2).
fn cases() -> Vec<(String, Golden)> {
    let cases = vec![
        ("chat-rkyv-compact", Golden::Chat(HybridCodec::compact())),
        ("chat-rkyv-checksum-fingerprint", Golden::Chat(both())),
        (
            "chat-json-compact",
            Golden::Chat(HybridCodec::compact().with_primary(Primary::Json)),
        ),
        (
            "chat-json-checksum-fingerprint",
            Golden::Chat(both().with_primary(Primary::Json)),
        ),
        (
            "rpc-rkyv-checksum",
            Golden::Rpc(
                HybridCodec::new()
                    .with_checksum(true)
                    .with_fingerprint(false),
            ),
        ),
        (
            "rpc-json-fingerprint",
            Golden::Rpc(
                HybridCodec::new()
                    .with_checksum(false)
                    .with_fingerprint(true)
                    .with_primary(Primary::Json),
            ),
        ),
        (
            "chat-rkyv-xor-dictionary-checksum-fingerprint",
            Golden::ChatXor(both()),
        ),
        // Codec id 5 (issue 21): a bitcode payload, raw and compressed with zstd level 3.
        (
            "chat-bitcode-checksum-fingerprint",
            Golden::Chat(both().with_bitcode().with_primary(Primary::Bitcode)),
        ),
        (
            "chat-long-bitcode-zstd-fingerprint",
            Golden::LongChat(
                HybridCodec::new()
                    .with_bitcode()
                    .with_primary(Primary::Bitcode)
                    .with_compression(Compression::Zstd(3))
                    .with_policy(zerocodec_codecs::Policy::new().with_min_size(16)),
            ),
        ),
    ];
    cases
        .into_iter()
        .map(|(name, golden)| (format!("v2-{name}"), golden))
        .collect()
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.bin"))
}

fn bless() -> bool {
    std::env::var_os("ZEROCODEC_BLESS").is_some_and(|v| v == "1")
}

#[test]
fn encoder_reproduces_and_decoder_reads_every_golden_frame() {
    for (name, golden) in cases() {
        let path = golden_path(&name);
        let encoded = golden.encode();
        if !path.exists() {
            assert!(
                bless(),
                "{} is missing: run `ZEROCODEC_BLESS=1 cargo test -p zerocodec --test golden` \
                 to write it, and commit it",
                path.display()
            );
            std::fs::write(&path, &encoded).unwrap();
        }
        let stored = std::fs::read(&path).unwrap();
        assert!(
            stored == encoded,
            "{name}: the encoder no longer produces the golden bytes.\n golden:  {}\n encoded: \
             {}\nGolden files are never rewritten: fix the encoder, or bump the format version \
             and add new golden files.",
            hex(&stored),
            hex(&encoded)
        );
        let mut aligned = AlignedVec::<16>::new();
        aligned.extend_from_slice(&stored);
        golden.check_decodes(&name, &aligned);
    }
}

/// The schema-evolution frames (`v2-evolution-*`): written by three versions of one message,
/// each still produced byte for byte by its writer and read by its own and every later
/// version (see `evolution.rs`); and a header-less legacy JSON message of the first version,
/// which a reader that declares legacy JSON to be that version upgrades.
#[test]
fn evolution_frames_are_reproduced_and_read_by_every_later_version() {
    for (name, written) in evolution::cases() {
        let path = golden_path(&name);
        let encoded = written.encode();
        if !path.exists() {
            assert!(
                bless(),
                "{} is missing: run `ZEROCODEC_BLESS=1 cargo test -p zerocodec --test golden` \
                 to write it, and commit it",
                path.display()
            );
            std::fs::write(&path, &encoded).unwrap();
        }
        let stored = std::fs::read(&path).unwrap();
        assert!(
            stored == encoded,
            "{name}: the encoder no longer produces the golden bytes.\n golden:  {}\n encoded: \
             {}",
            hex(&stored),
            hex(&encoded)
        );
        let mut aligned = AlignedVec::<16>::new();
        aligned.extend_from_slice(&stored);
        written.check_decodes(&name, &aligned);
    }
    evolution::check_legacy_json(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/evolution-chat-v1-legacy.json"),
        bless(),
    );
}

/// Every file in `tests/golden/` is a version 2 case above: none is left unchecked, and no
/// frame of the unreleased version 1 is kept as if it were part of the format.
#[test]
fn every_golden_file_is_a_checked_version_2_case() {
    let mut names: Vec<String> = cases().into_iter().map(|(name, _)| name).collect();
    names.extend(evolution::cases().into_iter().map(|(name, _)| name));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "bin") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            stem.starts_with("v2-"),
            "{}: not a version 2 frame",
            path.display()
        );
        assert!(
            names.contains(&stem),
            "{}: no golden case checks it",
            path.display()
        );
        assert_eq!(std::fs::read(&path).unwrap()[1], 2, "{}", path.display());
        files += 1;
    }
    assert_eq!(files, names.len());
}

/// Version 1 was never released: a frame that says version 1 is refused as an unknown
/// version by every reader, whatever follows byte 1, and the error names the version read.
#[test]
fn a_version_1_frame_is_rejected_as_an_unknown_version() {
    let chat_codecs = [
        HybridCodec::<Chat>::new(),
        HybridCodec::compact(),
        both(),
        both().with_legacy_json(false),
    ];
    for (name, golden) in cases() {
        let mut v1 = std::fs::read(golden_path(&name)).unwrap();
        v1[1] = 1;
        let mut aligned = AlignedVec::<16>::new();
        aligned.extend_from_slice(&v1);
        let check = |what: &str, err: zerocodec::Error| {
            assert_eq!(
                err.kind(),
                ErrorKind::UnknownVersion,
                "{name}, {what}: {err}"
            );
            assert_eq!(
                err.message(),
                "frame format version 1 is unknown: this reader reads version 2",
                "{name}, {what}"
            );
        };
        check("FrameHeader::parse", FrameHeader::parse(&v1).unwrap_err());
        check("Frame::parse", Frame::parse(&v1).unwrap_err());
        // Nothing past the version byte is looked at: two bytes are enough to refuse it.
        check("two bytes", Frame::parse(&v1[..2]).unwrap_err());
        for codec in &chat_codecs {
            check("decode", codec.decode(&aligned).unwrap_err());
            check("access", error_of(codec.access(&aligned)));
            check(
                "access_owned",
                error_of(codec.access_owned(v1.clone().into())),
            );
        }
        let rpc = HybridCodec::<Rpc>::new();
        check("rpc decode", rpc.decode(&aligned).unwrap_err());
        check("rpc access", error_of(rpc.access(&aligned)));
        check(
            "rpc access_owned",
            error_of(rpc.access_owned(v1.clone().into())),
        );
        // The golden frame itself is read.
        aligned[1] = 2;
        golden.check_decodes(&name, &aligned);
    }
}

/// The version 2 example in docs/wire-format.md, field by field.
#[test]
fn documented_v2_example_header_matches_the_golden_frame() {
    let stored = std::fs::read(golden_path("v2-chat-rkyv-checksum-fingerprint")).unwrap();
    let frame = Frame::parse(&stored).unwrap();
    let payload_len = frame.payload().len();
    let crc = frame.header().checksum.unwrap();
    // magic, version, codec rkyv, flags CHECKSUM | FINGERPRINT, checksum, LEB128 length 128
    // (0x80 0x01), fingerprint, then zero padding to 32 (4 + 4 + 2 + 8 = 18 bytes of fields).
    let mut expected = vec![0xFA, 0x02, 0x02, 0b011];
    expected.extend_from_slice(&crc.to_le_bytes());
    expected.extend_from_slice(&[0x80, 0x01]);
    expected.extend_from_slice(&0x0123_4567_89AB_CDEFu64.to_le_bytes());
    expected.resize(32, 0);
    assert_eq!(&stored[..32], &expected[..]);
    assert_eq!(payload_len, 128);
    assert_eq!(stored.len(), 32 + 128);
    assert_eq!(
        zerocodec::frame::checksum(&stored[..32], frame.payload()),
        crc
    );
    // The default header (fingerprint, no checksum) of the same message: 16 bytes, not 32.
    let compact = std::fs::read(golden_path("v2-rpc-json-fingerprint")).unwrap();
    assert_eq!(Frame::parse(&compact).unwrap().header_bytes().len(), 16);
    // A compressed frame is not padded: 4 + compression id + checksum + LEB128 length +
    // fingerprint + dictionary id.
    let xor = std::fs::read(golden_path(
        "v2-chat-rkyv-xor-dictionary-checksum-fingerprint",
    ))
    .unwrap();
    let frame = Frame::parse(&xor).unwrap();
    assert_eq!(frame.header_bytes().len(), 4 + 1 + 4 + 2 + 8 + 4);
    assert_eq!(frame.header().compression, XOR_ID);
    assert_eq!(frame.header().dictionary, Some(XOR_DICT));
    assert_eq!(frame.payload().len(), 128);
}

/// The error of `result`, which must be one (`unwrap_err` needs `Debug` of the value; an
/// archived view has none).
fn error_of<T>(result: zerocodec::Result<T>) -> zerocodec::Error {
    match result {
        Ok(_) => panic!("expected an error, found a value"),
        Err(err) => err,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
