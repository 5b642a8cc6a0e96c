//! Changing a message type with no flag day: deep fingerprints, upgrade chains on read, and a
//! pinned writer during a rolling deploy.
//!
//! Three versions of a chat message: `ChatV1` as first shipped, `ChatV2` with a field added,
//! `ChatV3` whose sender became a nested `User`. Each names its predecessor
//! (`upgrade_from`) and converts from it with `From`; a reader built `with_upgrades()`
//! recognises every older version by the schema fingerprint in the frame header and upgrades
//! it, walking the chain in order.
//!
//! 1. A V1 writer and a V2 writer share one stream; one V2 reader reads both (and header-less
//!    JSON from a writer older still, declared to be V1).
//! 2. A V3 service reads a stored batch of V1 messages.
//! 3. The rolling deploy of V3: readers first, writers pinned to V2 meanwhile, then writers
//!    switch.
//!
//! `docs/evolution.md` is the playbook. Run with `cargo run --example evolution`.

use zerocodec::frame::Frame;
use zerocodec::prelude::*;
use zerocodec::{Message, Result};
use zerocodec_codecs::{BatchBuilder, BatchCodec, Compression, HybridCodec, JsonCodec};

/// The chat message as first shipped.
#[zerocodec::message(name = "Chat", version = 1)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChatV1 {
    pub(crate) id: u64,
    pub(crate) sender: String,
    pub(crate) text: String,
}

/// Version 2: a field added. `#[serde(default)]` lets JSON without it read as well.
#[zerocodec::message(name = "Chat", version = 2, upgrade_from = ChatV1)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChatV2 {
    pub(crate) id: u64,
    pub(crate) sender: String,
    pub(crate) text: String,
    #[serde(default)]
    pub(crate) edited_at: Option<u64>,
}

/// Who sent a message, from version 3 on. Its shape is part of `ChatV3`'s fingerprint.
#[zerocodec::message]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct User {
    pub(crate) name: String,
    pub(crate) verified: bool,
}

/// Version 3: the sender is a `User`, and messages have reactions.
#[zerocodec::message(name = "Chat", version = 3, upgrade_from = ChatV2)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChatV3 {
    pub(crate) id: u64,
    pub(crate) sender: User,
    pub(crate) text: String,
    pub(crate) edited_at: Option<u64>,
    pub(crate) reactions: Vec<String>,
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

/// What a V3 writer pinned to V2 writes: the new value in the old shape.
impl From<&ChatV3> for ChatV2 {
    fn from(v3: &ChatV3) -> Self {
        ChatV2 {
            id: v3.id,
            sender: v3.sender.name.clone(),
            text: v3.text.clone(),
            edited_at: v3.edited_at,
        }
    }
}

fn v1(id: u64) -> ChatV1 {
    ChatV1 {
        id,
        sender: format!("user-{}", id % 3),
        text: format!("message {id}, written by version 1"),
    }
}

/// 1. One stream, three writers (legacy JSON, V1 frames, V2 frames), one V2 reader.
pub(crate) fn one_stream() -> Result<Vec<ChatV2>> {
    let legacy_writer = JsonCodec::<ChatV1>::new();
    let v1_writer = HybridCodec::<ChatV1>::new();
    let v2_writer = HybridCodec::<ChatV2>::new();

    // Frames and JSON texts, each behind a u32 length, as a length-delimited transport has
    // them.
    let mut stream = Vec::new();
    let mut push = |bytes: &[u8]| {
        stream.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        stream.extend_from_slice(bytes);
    };
    push(&legacy_writer.encode(&v1(0))?);
    push(&v1_writer.encode(&v1(1))?);
    push(&v2_writer.encode(&ChatV2 {
        id: 2,
        sender: "grace".into(),
        text: "written by version 2".into(),
        edited_at: Some(1_763_700_000_000),
    })?);

    let reader = HybridCodec::<ChatV2>::new()
        .with_upgrades()
        .legacy_json_as::<ChatV1>();
    let mut read = Vec::new();
    let mut rest = &stream[..];
    while let Some((len, tail)) = rest.split_first_chunk::<4>() {
        let (record, tail) = tail.split_at(u32::from_le_bytes(*len) as usize);
        read.push(reader.decode(record)?);
        rest = tail;
    }
    assert_eq!(read[0], ChatV2::from(v1(0)));
    assert_eq!(read[1], ChatV2::from(v1(1)));
    assert_eq!(read[2].edited_at, Some(1_763_700_000_000));
    Ok(read)
}

/// 2. A stored batch of V1 messages (a log segment written before V2 existed), read by a V3
///    service: upgraded once when decoded, then an ordinary batch of `ChatV3`.
pub(crate) fn stored_batch() -> Result<Vec<ChatV3>> {
    let mut builder = BatchBuilder::<ChatV1>::new();
    for id in 0..100 {
        builder.append(&v1(id))?;
    }
    let segment = BatchCodec::new()
        .with_compression(Compression::zstd())
        .encode(&builder.finish()?)?;

    let reader = BatchCodec::<ChatV3>::new().with_upgrades();
    let batch = reader.decode(&segment)?;
    assert_eq!(batch.len(), 100);
    assert_eq!(batch.get(42)?.sender.name, "user-0"); // archived views of V3
    let all: Vec<ChatV3> = (0..batch.len())
        .map(|i| batch.deserialize(i))
        .collect::<Result<_>>()?;
    assert_eq!(all[7], ChatV3::from(ChatV2::from(v1(7))));
    Ok(all)
}

/// 3. The rolling deploy of V3 over V2 services.
pub(crate) fn rolling_deploy() -> Result<()> {
    let message = ChatV3 {
        id: 9,
        sender: User {
            name: "linus".into(),
            verified: true,
        },
        text: "hello from the new code".into(),
        edited_at: None,
        reactions: vec!["+1".into()],
    };
    // Not yet deployed: a V2 reader, which knows nothing of V3.
    let old_reader = HybridCodec::<ChatV2>::new().with_upgrades();

    // Step 1: deploy readers that read V3 and still read V2 and V1. Instances on the new
    // code write V2 meanwhile, so the instances not yet upgraded read everything.
    let new_reader = HybridCodec::<ChatV3>::new().with_upgrades();
    let pinned = HybridCodec::<ChatV3>::new().write_as::<ChatV2>();
    let frame = pinned.encode(&message)?;
    assert_eq!(
        Frame::parse(&frame)?.header().fingerprint,
        Some(ChatV2::SCHEMA_FINGERPRINT)
    );
    assert_eq!(old_reader.decode(&frame)?, ChatV2::from(&message));
    assert_eq!(new_reader.decode(&frame)?.sender.name, "linus");

    // Step 2: once every reader runs the new code, writers switch to V3.
    let writer = HybridCodec::<ChatV3>::new();
    let frame = writer.encode(&message)?;
    assert_eq!(new_reader.decode(&frame)?, message);
    assert_eq!(new_reader.access(&frame)?.reactions.len(), 1); // in place, as before
    // An old reader would refuse it with a typed error, never garbage: the reason for step 1.
    assert!(old_reader.decode(&frame).unwrap_err().is_type_mismatch());
    Ok(())
}

fn main() -> Result<()> {
    let read = one_stream()?;
    println!("one stream, one V2 reader:");
    for message in &read {
        println!("  {message:?}");
    }
    let batch = stored_batch()?;
    println!(
        "a stored batch of {} V1 messages read as V3: {:?}",
        batch.len(),
        batch[1]
    );
    rolling_deploy()?;
    println!(
        "rolling deploy: readers first, writers pinned to V2 ({:#018x}), then V3 ({:#018x})",
        ChatV2::SCHEMA_FINGERPRINT,
        ChatV3::SCHEMA_FINGERPRINT
    );
    Ok(())
}
