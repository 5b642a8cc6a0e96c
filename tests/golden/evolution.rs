//! Golden frames of three versions of one message, read by every later version.
//!
//! `ChatV1`, `ChatV2` (a field added) and `ChatV3` (the sender became a nested `User`, a field
//! added) chain with `From` (V1 -> V2 -> V3), as `tests/evolution.rs` and
//! `examples/evolution.rs` declare them with `#[zerocodec::message(upgrade_from = ...)]`.
//! Here the `Message` and `Versioned` impls are written by hand with fixed fingerprints, like
//! the other golden types, so the frames do not depend on how the derive computes
//! fingerprints. Each file is written by the encoder of its version and must stay readable:
//! by its own version and, through the upgrade chain, by every later one.

use std::path::Path;

use serde::{Deserialize, Serialize};
use zerocodec::prelude::*;
use zerocodec::{Message, Versioned};
use zerocodec_codecs::{BatchBuilder, BatchCodec, HybridCodec, JsonCodec, Primary};

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
pub(crate) struct ChatV1 {
    id: u64,
    sender: String,
    text: String,
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
pub(crate) struct ChatV2 {
    id: u64,
    sender: String,
    text: String,
    #[serde(default)]
    edited_at: Option<u64>,
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
pub(crate) struct User {
    name: String,
    verified: bool,
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
pub(crate) struct ChatV3 {
    id: u64,
    sender: User,
    text: String,
    edited_at: Option<u64>,
    reactions: Vec<String>,
}

impl Message for ChatV1 {
    const NAME: &'static str = "Chat";
    const VERSION: u32 = 1;
    const SCHEMA_FINGERPRINT: u64 = 0xC4A7_0000_0000_0001;
}

impl Message for ChatV2 {
    const NAME: &'static str = "Chat";
    const VERSION: u32 = 2;
    const SCHEMA_FINGERPRINT: u64 = 0xC4A7_0000_0000_0002;
}

impl Message for ChatV3 {
    const NAME: &'static str = "Chat";
    const VERSION: u32 = 3;
    const SCHEMA_FINGERPRINT: u64 = 0xC4A7_0000_0000_0003;
}

impl Versioned for ChatV1 {
    type Older = ();
}

impl Versioned for ChatV2 {
    type Older = (ChatV1, <ChatV1 as Versioned>::Older);
}

impl Versioned for ChatV3 {
    type Older = (ChatV2, <ChatV2 as Versioned>::Older);
}

impl From<ChatV1> for ChatV2 {
    fn from(v1: ChatV1) -> Self {
        ChatV2 {
            id: v1.id,
            sender: v1.sender,
            text: v1.text,
            edited_at: None,
        }
    }
}

impl From<ChatV2> for ChatV3 {
    fn from(v2: ChatV2) -> Self {
        ChatV3 {
            id: v2.id,
            sender: User {
                name: v2.sender,
                verified: false,
            },
            text: v2.text,
            edited_at: v2.edited_at,
            reactions: Vec::new(),
        }
    }
}

fn v1(id: u64) -> ChatV1 {
    ChatV1 {
        id,
        sender: "ada".into(),
        text: format!("hello #{id} from version 1"),
    }
}

fn v2() -> ChatV2 {
    ChatV2 {
        id: 2,
        sender: "grace".into(),
        text: "edited in version 2".into(),
        edited_at: Some(1_763_700_000_000),
    }
}

fn v3() -> ChatV3 {
    ChatV3 {
        id: 3,
        sender: User {
            name: "linus".into(),
            verified: true,
        },
        text: "written by version 3".into(),
        edited_at: None,
        reactions: vec!["+1".into(), "🎉".into()],
    }
}

/// Which version wrote a golden frame, and how.
pub(crate) enum Written {
    V1(HybridCodec<ChatV1>),
    V2(HybridCodec<ChatV2>),
    V3(HybridCodec<ChatV3>),
    /// A batch of three `ChatV1` (ids 0, 1, 2), as a stored log segment holds them.
    V1Batch(BatchCodec<ChatV1>),
}

/// A writer with checksum and fingerprint (what upgrades are keyed on), spelled out.
fn checksum<T>(primary: Primary) -> HybridCodec<T> {
    HybridCodec::new()
        .with_checksum(true)
        .with_fingerprint(true)
        .with_primary(primary)
}

/// The evolution cases: `(file name without .bin, writer)`.
pub(crate) fn cases() -> Vec<(String, Written)> {
    vec![
        ("chat-v1-rkyv", Written::V1(checksum(Primary::Rkyv))),
        ("chat-v1-json", Written::V1(checksum(Primary::Json))),
        ("chat-v2-rkyv", Written::V2(checksum(Primary::Rkyv))),
        ("chat-v2-json", Written::V2(checksum(Primary::Json))),
        ("chat-v3-rkyv", Written::V3(checksum(Primary::Rkyv))),
        ("chat-v1-batch", Written::V1Batch(BatchCodec::new())),
    ]
    .into_iter()
    .map(|(name, written)| (format!("v2-evolution-{name}"), written))
    .collect()
}

impl Written {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Written::V1(c) => c.encode_into(&v1(1), &mut out).unwrap(),
            Written::V2(c) => c.encode_into(&v2(), &mut out).unwrap(),
            Written::V3(c) => c.encode_into(&v3(), &mut out).unwrap(),
            Written::V1Batch(c) => {
                let mut builder = BatchBuilder::new();
                for id in 0..3 {
                    builder.append(&v1(id)).unwrap();
                }
                c.encode_into(&builder.finish().unwrap(), &mut out).unwrap();
            }
        }
        out
    }

    /// Its own version and every later one read the frame (decode and the owned archive;
    /// borrowed access for the current version's rkyv frames).
    pub(crate) fn check_decodes(&self, name: &str, frame: &[u8]) {
        let reader_v2 = HybridCodec::<ChatV2>::new().with_upgrades();
        let reader_v3 = HybridCodec::<ChatV3>::new().with_upgrades();
        let bytes = || zerocodec::bytes::Bytes::copy_from_slice(frame);
        match self {
            Written::V1(c) => {
                let expected = v1(1);
                assert_eq!(c.decode(frame).unwrap(), expected, "{name}");
                let as_v2 = ChatV2::from(expected);
                assert_eq!(reader_v2.decode(frame).unwrap(), as_v2, "{name}");
                let as_v3 = ChatV3::from(as_v2);
                assert_eq!(reader_v3.decode(frame).unwrap(), as_v3, "{name}");
                let owned = reader_v3.access_owned(bytes()).unwrap();
                assert_eq!(owned.deserialize().unwrap(), as_v3, "{name}");
            }
            Written::V2(c) => {
                assert_eq!(c.decode(frame).unwrap(), v2(), "{name}");
                assert_eq!(reader_v2.decode(frame).unwrap(), v2(), "{name}");
                let as_v3 = ChatV3::from(v2());
                assert_eq!(reader_v3.decode(frame).unwrap(), as_v3, "{name}");
                let owned = reader_v3.access_owned(bytes()).unwrap();
                assert_eq!(owned.deserialize().unwrap(), as_v3, "{name}");
            }
            Written::V3(c) => {
                assert_eq!(c.decode(frame).unwrap(), v3(), "{name}");
                assert_eq!(reader_v3.decode(frame).unwrap(), v3(), "{name}");
                assert_eq!(
                    reader_v3.access(frame).unwrap().sender.name,
                    "linus",
                    "{name}"
                );
                // An older reader cannot read a newer version: a typed refusal.
                let err = reader_v2.decode(frame).unwrap_err();
                assert!(err.is_type_mismatch(), "{name}: {err}");
            }
            Written::V1Batch(c) => {
                let batch = c.decode(frame).unwrap();
                let batch_v2 = BatchCodec::<ChatV2>::new()
                    .with_upgrades()
                    .decode(frame)
                    .unwrap();
                let batch_v3 = BatchCodec::<ChatV3>::new()
                    .with_upgrades()
                    .decode(frame)
                    .unwrap();
                assert_eq!(batch.len(), 3, "{name}");
                for id in 0..3 {
                    let i = id as usize;
                    assert_eq!(batch.deserialize(i).unwrap(), v1(id), "{name}");
                    let as_v2 = ChatV2::from(v1(id));
                    assert_eq!(batch_v2.deserialize(i).unwrap(), as_v2, "{name}");
                    assert_eq!(
                        batch_v3.deserialize(i).unwrap(),
                        ChatV3::from(as_v2),
                        "{name}"
                    );
                }
            }
        }
    }
}

/// The legacy JSON golden file: `ChatV1` id 1 as a pre-frame writer sent it (plain JSON, no
/// header), read as the current type by a reader that declares legacy JSON to be version 1.
pub(crate) fn check_legacy_json(path: &Path, bless: bool) {
    let encoded = JsonCodec::new().encode(&v1(1)).unwrap();
    if !path.exists() {
        assert!(
            bless,
            "{} is missing: bless it (see main.rs)",
            path.display()
        );
        std::fs::write(path, &encoded).unwrap();
    }
    let stored = std::fs::read(path).unwrap();
    assert_eq!(stored, encoded.as_ref(), "{}", path.display());
    let as_v3 = ChatV3::from(ChatV2::from(v1(1)));
    let reader = HybridCodec::<ChatV3>::new()
        .with_upgrades()
        .legacy_json_as::<ChatV1>();
    assert_eq!(reader.decode(&stored).unwrap(), as_v3);
    let reader_v2 = HybridCodec::<ChatV2>::new()
        .legacy_json_as::<ChatV1>()
        .with_upgrades();
    assert_eq!(reader_v2.decode(&stored).unwrap(), ChatV2::from(v1(1)));
    // Without the declaration, V1's JSON is read as V2 itself: `edited_at` is
    // `#[serde(default)]`, so serde's leniency reads it.
    assert_eq!(
        HybridCodec::<ChatV2>::new().decode(&stored).unwrap(),
        ChatV2::from(v1(1))
    );
}
