//! Golden frames: the wire format of versions 1 and 2, held still by committed bytes.
//!
//! Each `tests/golden/v1-*.bin` and `v2-*.bin` is one frame. The test asserts that today's encoder still
//! produces it byte for byte and that today's decoder still reads it.
//!
//! # Adding golden files
//!
//! ```text
//! ZEROCODEC_BLESS=1 cargo test -p zerocodec --test golden
//! ```
//!
//! writes the files that are *missing* and then checks them all. Existing files are never
//! rewritten, blessed or not: if the encoder's output changed, either the change is a bug, or
//! it is a deliberate format change, which needs a new format version and new `v2-*` files
//! beside the old ones (which readers must keep reading).
//!
//! The message types here are local mirrors of the dataset types with fingerprints fixed by
//! hand, so the frames do not change when the dataset types' fingerprints are regenerated.

use std::path::PathBuf;

use rkyv::util::AlignedVec;
use serde::{Deserialize, Serialize};
use zerocodec::frame::Frame;
use zerocodec::{Codec, CompressionId, EncodeBuf, Error, ErrorKind, Message, Transform};
use zerocodec_codecs::{AsJson, HybridCodec, Primary};

#[derive(
    Debug, PartialEq, Serialize, Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
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

fn rpc() -> Rpc {
    Rpc {
        id: "req-7".into(),
        method: "rooms.post".into(),
        params: serde_json::json!({"room": "general", "limit": 50, "flags": [true, null]}),
        kind: 1,
    }
}

/// The golden compression: XOR with 0xA5, id 0xE0, dictionary 0xD1C7 (test-only; it
/// exercises the header's compression fields, not a real algorithm).
struct Xor;

const XOR_ID: CompressionId = CompressionId(0xE0);
const XOR_DICT: u32 = 0xD1C7;

impl Transform for Xor {
    fn dictionary_id(&self) -> Option<u32> {
        Some(XOR_DICT)
    }
    fn max_decompressed_len(&self) -> usize {
        1 << 16
    }
    fn compress_into<B: EncodeBuf>(
        &self,
        input: &[u8],
        out: &mut B,
    ) -> zerocodec::Result<CompressionId> {
        let x: Vec<u8> = input.iter().map(|b| b ^ 0xA5).collect();
        out.extend_from_slice(&x);
        Ok(XOR_ID)
    }
    fn decompress_into<B: EncodeBuf>(
        &self,
        compression: CompressionId,
        dictionary: Option<u32>,
        input: &[u8],
        out: &mut B,
    ) -> zerocodec::Result<()> {
        if compression != XOR_ID || dictionary != Some(XOR_DICT) {
            return Err(Error::new(
                ErrorKind::UnknownCompression,
                format!(
                    "expected xor with dictionary {XOR_DICT}, found {compression} {dictionary:?}"
                ),
            ));
        }
        if input.len() > self.max_decompressed_len() {
            return Err(Error::too_large("xor output", input.len() as u64, 1 << 16));
        }
        let x: Vec<u8> = input.iter().map(|b| b ^ 0xA5).collect();
        out.extend_from_slice(&x);
        Ok(())
    }
}

/// How a golden frame is written and read back.
enum Golden {
    Chat(HybridCodec<Chat>),
    ChatXor(HybridCodec<Chat>),
    Rpc(HybridCodec<Rpc>),
}

impl Golden {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Golden::Chat(c) => c.encode_into(&chat(), &mut out),
            Golden::ChatXor(c) => c.encode_transformed_into(&chat(), &Xor, &mut out),
            Golden::Rpc(c) => c.encode_into(&rpc(), &mut out),
        }
        .unwrap();
        out
    }

    /// Decodes (and, for rkyv payloads, accesses in place) the frame in an aligned buffer.
    fn check_decodes(&self, frame: &AlignedVec) {
        match self {
            Golden::Chat(c) => {
                assert_eq!(c.decode(frame).unwrap(), chat());
                if c.primary() == Primary::Rkyv {
                    assert_eq!(c.access(frame).unwrap().content, chat().content);
                }
            }
            Golden::ChatXor(c) => assert_eq!(c.decode_transformed(frame, &Xor).unwrap(), chat()),
            Golden::Rpc(c) => assert_eq!(c.decode(frame).unwrap(), rpc()),
        }
    }
}

/// Checksum and fingerprint, spelled out: the cases never depend on the codec's defaults.
fn both<T>(v: u8) -> HybridCodec<T> {
    HybridCodec::new()
        .with_format_version(v)
        .with_checksum(true)
        .with_fingerprint(true)
}

/// The cases of one format version; `v` pins the writer to it.
fn cases_of(v: u8) -> Vec<(String, Golden)> {
    let cases = vec![
        (
            "chat-rkyv-compact",
            Golden::Chat(HybridCodec::compact().with_format_version(v)),
        ),
        ("chat-rkyv-checksum-fingerprint", Golden::Chat(both(v))),
        (
            "chat-json-compact",
            Golden::Chat(
                HybridCodec::compact()
                    .with_format_version(v)
                    .with_primary(Primary::Json),
            ),
        ),
        (
            "chat-json-checksum-fingerprint",
            Golden::Chat(both(v).with_primary(Primary::Json)),
        ),
        (
            "rpc-rkyv-checksum",
            Golden::Rpc(
                HybridCodec::new()
                    .with_format_version(v)
                    .with_checksum(true)
                    .with_fingerprint(false),
            ),
        ),
        (
            "rpc-json-fingerprint",
            Golden::Rpc(
                HybridCodec::new()
                    .with_format_version(v)
                    .with_checksum(false)
                    .with_fingerprint(true)
                    .with_primary(Primary::Json),
            ),
        ),
        (
            "chat-rkyv-xor-dictionary-checksum-fingerprint",
            Golden::ChatXor(both(v)),
        ),
    ];
    cases
        .into_iter()
        .map(|(name, golden)| (format!("v{v}-{name}"), golden))
        .collect()
}

/// Every golden case: version 1 frames (still read, still writable for rolling upgrades) and
/// version 2 frames (written by default).
fn cases() -> Vec<(String, Golden)> {
    let mut all = cases_of(1);
    all.extend(cases_of(2));
    all
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
        golden.check_decodes(&aligned);
    }
}

/// The example in docs/wire-format.md, field by field.
#[test]
fn documented_example_header_matches_the_golden_frame() {
    let stored = std::fs::read(golden_path("v1-chat-rkyv-checksum-fingerprint")).unwrap();
    let frame = Frame::parse(&stored).unwrap();
    let payload_len = frame.payload().len() as u32;
    let crc = frame.header().checksum.unwrap();
    let mut expected = vec![0xFA, 0x01, 0x02, 0x00, 0b011, 0, 0, 0];
    expected.extend_from_slice(&payload_len.to_le_bytes());
    expected.extend_from_slice(&crc.to_le_bytes());
    expected.extend_from_slice(&0x0123_4567_89AB_CDEFu64.to_le_bytes());
    expected.extend_from_slice(&[0; 8]);
    assert_eq!(&stored[..32], &expected[..]);
    assert_eq!(payload_len, 128);
    assert_eq!(crc, 0x15DF_F714, "crc32c {crc:#010x}");
    assert_eq!(
        zerocodec::frame::checksum(&stored[..32], frame.payload()),
        crc
    );
}

/// The version 2 example in docs/wire-format.md, field by field: the same message as the
/// version 1 example, 16 bytes shorter.
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
    // A compressed frame is not padded: 4 + compression id + LEB128 length + fingerprint +
    // dictionary id.
    let xor = std::fs::read(golden_path(
        "v2-chat-rkyv-xor-dictionary-checksum-fingerprint",
    ))
    .unwrap();
    let frame = Frame::parse(&xor).unwrap();
    assert_eq!(frame.header_bytes().len(), 4 + 1 + 4 + 2 + 8 + 4);
    assert_eq!(frame.header().dictionary, Some(XOR_DICT));
    assert_eq!(frame.header().uncompressed_len, None);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
