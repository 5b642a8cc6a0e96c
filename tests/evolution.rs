//! Schema evolution: older versions read through an upgrade chain, pinned writers, legacy
//! JSON declared to be an old version, batches of old versions, and the property that a V1
//! value written in any frame configuration reads as its upgrade through every reader.
//!
//! The property test runs 64 cases by default; set `PROPTEST_CASES` for more (or fewer).

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use zerocodec::bytes::Bytes;
use zerocodec::frame::{Frame, FrameHeader};
use zerocodec::prelude::*;
use zerocodec::{ErrorKind, Message, Schema, Versioned};
use zerocodec_codecs::{
    BatchBuilder, BatchCodec, Compression, HybridCodec, HybridMetrics, JsonCodec, Policy, Primary,
    ZstdDict, ZstdDictionary,
};

// The message versions and their conversions are the example's: one definition, which the
// example and these tests share.
#[path = "../examples/evolution.rs"]
#[allow(dead_code, reason = "the example's `main` calls the same steps")]
mod example;

use example::{ChatV1, ChatV2, ChatV3, User};

/// The pinned writer's conversion to the first version (the example pins to V2 only).
impl From<&ChatV3> for ChatV1 {
    fn from(v3: &ChatV3) -> Self {
        ChatV1 {
            id: v3.id,
            sender: v3.sender.name.clone(),
            text: v3.text.clone(),
        }
    }
}

/// What a V1 value becomes when read as a V3.
fn upgrade(v1: &ChatV1) -> ChatV3 {
    ChatV3::from(ChatV2::from(v1.clone()))
}

fn v1() -> ChatV1 {
    ChatV1 {
        id: 7,
        sender: "ada".into(),
        text: "hello".into(),
    }
}

fn v2() -> ChatV2 {
    ChatV2 {
        id: 8,
        sender: "grace".into(),
        text: "edited".into(),
        edited_at: Some(1_763_700_000_000),
    }
}

fn v3() -> ChatV3 {
    ChatV3 {
        id: 9,
        sender: User {
            name: "linus".into(),
            verified: true,
        },
        text: "new".into(),
        edited_at: None,
        reactions: vec!["+1".into()],
    }
}

/// The error of `result`, which must be one (an archived view has no `Debug` to unwrap_err).
fn error_of<T>(result: zerocodec::Result<T>) -> zerocodec::Error {
    match result {
        Ok(_) => panic!("expected an error, found a value"),
        Err(err) => err,
    }
}

#[test]
fn the_chain_is_declared_by_the_derive() {
    assert_eq!(
        <<ChatV1 as Versioned>::Older as zerocodec::OlderVersions>::LEN,
        0
    );
    assert_eq!(
        <<ChatV3 as Versioned>::Older as zerocodec::OlderVersions>::LEN,
        2
    );
    let fingerprints = [
        ChatV1::SCHEMA_FINGERPRINT,
        ChatV2::SCHEMA_FINGERPRINT,
        ChatV3::SCHEMA_FINGERPRINT,
    ];
    assert_ne!(fingerprints[0], fingerprints[1]);
    assert_ne!(fingerprints[1], fingerprints[2]);
    assert_eq!(
        HybridCodec::<ChatV3>::new().with_upgrades().upgrades_from(),
        [fingerprints[1], fingerprints[0]]
    );
    assert!(HybridCodec::<ChatV3>::new().upgrades_from().is_empty());
    // The nested type's fingerprint is part of V3's.
    assert_ne!(<User as Schema>::FINGERPRINT, 0);
}

#[test]
fn every_later_reader_decodes_every_older_frame() {
    let frames_v1 = HybridCodec::new().encode(&v1()).unwrap();
    let frames_v2 = HybridCodec::new().encode(&v2()).unwrap();
    let frames_v3 = HybridCodec::new().encode(&v3()).unwrap();

    let reader_v2 = HybridCodec::<ChatV2>::new().with_upgrades();
    assert_eq!(reader_v2.decode(&frames_v1).unwrap(), ChatV2::from(v1()));
    assert_eq!(reader_v2.decode(&frames_v2).unwrap(), v2());
    let err = reader_v2.decode(&frames_v3).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeMismatch, "{err}");

    let reader_v3 = HybridCodec::<ChatV3>::new().with_upgrades();
    assert_eq!(reader_v3.decode(&frames_v1).unwrap(), upgrade(&v1()));
    assert_eq!(reader_v3.decode(&frames_v2).unwrap(), ChatV3::from(v2()));
    assert_eq!(reader_v3.decode(&frames_v3).unwrap(), v3());
    // The current version is still read in place.
    assert_eq!(reader_v3.access(&frames_v3).unwrap().text, "new");
}

#[test]
fn without_upgrades_an_older_frame_is_a_type_mismatch() {
    let frame = HybridCodec::new().encode(&v1()).unwrap();
    let err = HybridCodec::<ChatV3>::new().decode(&frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeMismatch);
    assert_eq!(
        err.message(),
        format!(
            "frame was written for another message type: expected `Chat` with schema \
             fingerprint {:#018x}, found fingerprint {:#018x}",
            ChatV3::SCHEMA_FINGERPRINT,
            ChatV1::SCHEMA_FINGERPRINT
        )
    );
}

#[test]
fn an_unknown_fingerprint_names_every_fingerprint_the_reader_knows() {
    #[zerocodec::message(name = "Other")]
    struct Other {
        id: u64,
    }
    let frame = HybridCodec::new().encode(&Other { id: 1 }).unwrap();
    let reader = HybridCodec::<ChatV3>::new().with_upgrades();
    for err in [
        reader.decode(&frame).unwrap_err(),
        error_of(reader.access(&frame)),
        error_of(reader.access_owned(frame.clone())),
    ] {
        assert_eq!(err.kind(), ErrorKind::TypeMismatch);
        assert_eq!(
            err.message(),
            format!(
                "frame was written for another message type: expected `Chat` with schema \
                 fingerprint {:#018x} or an older version this reader upgrades from (`Chat` v2 \
                 ({:#018x}), `Chat` v1 ({:#018x})), found fingerprint {:#018x}",
                ChatV3::SCHEMA_FINGERPRINT,
                ChatV2::SCHEMA_FINGERPRINT,
                ChatV1::SCHEMA_FINGERPRINT,
                Other::SCHEMA_FINGERPRINT
            )
        );
    }
}

#[test]
fn borrowed_access_of_an_older_frame_says_to_use_the_owned_form() {
    let frame = HybridCodec::new().encode(&v1()).unwrap();
    let reader = HybridCodec::<ChatV3>::new().with_upgrades();
    let err = error_of(reader.access(&frame));
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("`Chat` v1"), "{err}");
    assert!(err.message().contains("use access_owned"), "{err}");

    let owned = reader.access_owned(frame).unwrap();
    assert!(!owned.is_shared(), "an upgraded archive is a new one");
    assert_eq!(owned.sender.name, "ada");
    assert!(!owned.sender.verified);
    assert_eq!(owned.deserialize().unwrap(), upgrade(&v1()));
}

#[test]
fn json_payloads_and_compressed_frames_upgrade_too() {
    let dict = dict();
    let reader = HybridCodec::<ChatV3>::new()
        .with_upgrades()
        .with_compression(Compression::ZstdDict(dict.clone()));
    for writer in writers() {
        let frame = writer.encode(&v1()).unwrap();
        assert_eq!(reader.decode(&frame).unwrap(), upgrade(&v1()), "{writer:?}");
        let owned = reader.access_owned(frame).unwrap();
        assert_eq!(owned.deserialize().unwrap(), upgrade(&v1()), "{writer:?}");
    }
}

#[test]
fn a_json_payload_keeps_serdes_leniency() {
    // A V2 writer whose JSON lacks the `#[serde(default)]` field: read as V2, then upgraded.
    let json = br#"{"id":3,"sender":"ada","text":"hi"}"#;
    let header =
        FrameHeader::new(zerocodec::CodecId::JSON).with_fingerprint(ChatV2::SCHEMA_FINGERPRINT);
    let mut frame = Vec::new();
    let writer = zerocodec::frame::FrameWriter::begin(&mut frame, header.reserve_len());
    frame.extend_from_slice(json);
    writer.finish(&mut frame, header).unwrap();
    assert!(Frame::parse(&frame).is_ok());
    let read = HybridCodec::<ChatV3>::new()
        .with_upgrades()
        .decode(&frame)
        .unwrap();
    assert_eq!(read.edited_at, None);
    assert_eq!(read.sender.name, "ada");
}

#[test]
fn legacy_json_can_be_declared_an_old_version() {
    let legacy = JsonCodec::new().encode(&v1()).unwrap();
    // By default header-less JSON is read as the current type, which V1's JSON is not.
    let err = HybridCodec::<ChatV3>::new()
        .with_upgrades()
        .decode(&legacy)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeMismatch, "{err}");

    let metrics = Arc::new(HybridMetrics::new());
    let reader = HybridCodec::<ChatV3>::new()
        .legacy_json_as::<ChatV1>()
        .with_upgrades()
        .with_metrics(metrics.clone());
    assert_eq!(reader.decode(&legacy).unwrap(), upgrade(&v1()));
    let owned = reader.access_owned(legacy.clone()).unwrap();
    assert_eq!(owned.deserialize().unwrap(), upgrade(&v1()));
    // Frames are unaffected by the declaration.
    let frame = HybridCodec::new().encode(&v2()).unwrap();
    assert_eq!(reader.decode(&frame).unwrap(), ChatV3::from(v2()));
    let snapshot = metrics.snapshot();
    assert_eq!(snapshot.legacy_reads, 2);
    assert_eq!(snapshot.upgrades, 3);

    // Bytes that cannot be JSON say so, as for the current type.
    let err = reader.decode(&[0x00, 0x01]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("neither a frame"), "{err}");
    assert!(reader.decode(&[]).unwrap_err().is_incomplete());

    // A declared version the reader does not upgrade from is refused, and says why.
    let err = HybridCodec::<ChatV3>::new()
        .legacy_json_as::<ChatV1>()
        .decode(&legacy)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeMismatch);
    assert!(err.message().contains("does not upgrade from"), "{err}");
}

#[test]
fn a_builder_adds_versions_the_type_does_not_declare() {
    // V3 as if it declared nothing: the reader adds V2 (and so V1, through V2's own chain).
    let reader = HybridCodec::<ChatV3>::new().upgrade_from::<ChatV2>();
    let frame = HybridCodec::new().encode(&v1()).unwrap();
    assert_eq!(reader.decode(&frame).unwrap(), upgrade(&v1()));
    // Declared and built twice: each version is kept once.
    let both = reader.with_upgrades().with_upgrades();
    assert_eq!(both.upgrades_from().len(), 2);
}

#[test]
fn a_batch_builder_adds_versions_the_type_does_not_declare() {
    // The batch reader's builder form, as the hybrid's above: V3 reads a V1 batch through V2.
    let mut builder = BatchBuilder::<ChatV1>::new();
    builder.append(&v1()).unwrap();
    let frame = BatchCodec::new()
        .encode(&builder.finish().unwrap())
        .unwrap();
    let reader = BatchCodec::<ChatV3>::new().upgrade_from::<ChatV2>();
    let upgraded = reader.decode(&frame).unwrap();
    assert_eq!(upgraded.deserialize(0).unwrap(), upgrade(&v1()));
    assert_eq!(reader.upgrades_from().len(), 2, "V2 and, through it, V1");
    // A clone reads the same; declared and built twice, each version is kept once.
    let both = reader.clone().with_upgrades().with_upgrades();
    assert_eq!(both.upgrades_from(), reader.upgrades_from());
    assert_eq!(both.decode(&frame).unwrap().len(), 1);
    assert!(format!("{reader:?}").contains("upgrades_from"));
    assert!(BatchCodec::<ChatV3>::default().upgrades_from().is_empty());
}

#[test]
fn a_pinned_writer_writes_the_old_version_for_old_readers() {
    let value = v3();
    for writer in [
        HybridCodec::<ChatV3>::new().write_as::<ChatV2>(),
        HybridCodec::<ChatV3>::new()
            .write_as::<ChatV2>()
            .with_compression(Compression::Lz4)
            .with_policy(policy()),
        HybridCodec::<ChatV3>::new()
            .write_as::<ChatV2>()
            .with_primary(Primary::Json)
            .with_checksum(true),
    ] {
        assert_eq!(writer.writes().1, 2);
        let frame = writer.encode(&value).unwrap();
        let header = *Frame::parse(&frame).unwrap().header();
        assert_eq!(header.fingerprint, Some(ChatV2::SCHEMA_FINGERPRINT));
        // An old reader reads it as its own version...
        let old = HybridCodec::<ChatV2>::new().decode(&frame).unwrap();
        assert_eq!(old, ChatV2::from(&value));
        // ...and a new reader upgrades it (losing what V2 cannot hold).
        let new = HybridCodec::<ChatV3>::new()
            .with_upgrades()
            .decode(&frame)
            .unwrap();
        assert_eq!(new, ChatV3::from(ChatV2::from(&value)));
    }
    // Unpinned, the same codec writes V3.
    let frame = HybridCodec::<ChatV3>::new().encode(&value).unwrap();
    assert_eq!(
        Frame::parse(&frame).unwrap().header().fingerprint,
        Some(ChatV3::SCHEMA_FINGERPRINT)
    );
    // Pinned two versions back, through `From<&ChatV3> for ChatV1`.
    let frame = HybridCodec::<ChatV3>::new()
        .write_as::<ChatV1>()
        .encode(&value)
        .unwrap();
    assert_eq!(
        HybridCodec::<ChatV1>::new().decode(&frame).unwrap(),
        ChatV1::from(&value)
    );
}

#[test]
fn an_old_batch_reads_through_the_chain() {
    let values: Vec<ChatV1> = (0..20)
        .map(|i| ChatV1 {
            id: i,
            sender: format!("user-{i}"),
            text: "x".repeat(i as usize),
        })
        .collect();
    let mut builder = BatchBuilder::<ChatV1>::new();
    for value in &values {
        builder.append(value).unwrap();
    }
    let batch = builder.finish().unwrap();
    for compression in [Compression::None, Compression::Lz4, Compression::zstd()] {
        let frame = BatchCodec::new()
            .with_compression(compression)
            .encode(&batch)
            .unwrap();
        let err = BatchCodec::<ChatV3>::new().decode(&frame).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TypeMismatch, "{err}");

        let reader = BatchCodec::<ChatV3>::new().with_upgrades();
        let upgraded = reader.decode(&frame).unwrap();
        assert_eq!(upgraded.len(), values.len());
        for (i, value) in values.iter().enumerate() {
            assert_eq!(upgraded.deserialize(i).unwrap(), upgrade(value));
            assert_eq!(upgraded.get(i).unwrap().sender.name, value.sender);
        }
        assert_eq!(upgraded.iter().count(), values.len());
    }
    // An unknown batch fingerprint names what the reader knows.
    let mut other = BatchBuilder::<User>::new();
    other
        .append(&User {
            name: "x".into(),
            verified: true,
        })
        .unwrap();
    let frame = BatchCodec::new().encode(&other.finish().unwrap()).unwrap();
    let err = BatchCodec::<ChatV3>::new()
        .with_upgrades()
        .decode(&frame)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeMismatch);
    assert!(err.message().contains("`Chat` v1"), "{err}");
}

#[test]
fn a_corrupt_old_batch_is_a_typed_error() {
    let mut builder = BatchBuilder::<ChatV1>::new();
    builder.append(&v1()).unwrap();
    let batch = builder.finish().unwrap();
    let frame = BatchCodec::new()
        .with_checksum(false)
        .encode(&batch)
        .unwrap()
        .to_vec();
    let reader = BatchCodec::<ChatV3>::new().with_upgrades();
    for at in 16..frame.len() {
        let mut bad = frame.clone();
        bad[at] ^= 0xFF;
        // Any result but a panic; a changed value is allowed (no checksum), an error is typed.
        if let Err(err) = reader.decode(&bad) {
            assert!(!err.message().is_empty());
        }
    }
}

#[test]
fn mutated_old_frames_give_a_value_or_a_typed_error() {
    let reader = HybridCodec::<ChatV3>::new()
        .with_upgrades()
        .legacy_json_as::<ChatV1>();
    let mut inputs = 0;
    for writer in writers() {
        let frame = writer.encode(&v1()).unwrap().to_vec();
        for at in 0..frame.len() {
            for flip in [0x01, 0x80, 0xFF] {
                let mut bad = frame.clone();
                bad[at] ^= flip;
                // Any outcome but a panic: without a checksum a flipped payload byte may
                // still decode (to another value); an error is typed and says something.
                if let Err(err) = reader.decode(&bad) {
                    assert!(!err.message().is_empty());
                }
                if let Err(err) = reader.access_owned(Bytes::from(bad.clone())) {
                    assert!(!err.message().is_empty());
                }
                inputs += 1;
            }
        }
        for len in 0..frame.len() {
            assert!(reader.decode(&frame[..len]).is_err(), "cut at {len}");
        }
    }
    assert!(inputs > 1000, "only {inputs} mutated inputs");
}

/// Every frame configuration a V1 writer may use (fingerprints on: they are what upgrades
/// are keyed on).
fn writers() -> Vec<HybridCodec<ChatV1>> {
    let compressions = [
        Compression::None,
        Compression::Lz4,
        Compression::Zstd(3),
        Compression::ZstdDict(dict().clone()),
    ];
    let mut writers = Vec::new();
    for compression in compressions {
        for primary in [Primary::Rkyv, Primary::Json] {
            for checksum in [false, true] {
                writers.push(
                    HybridCodec::new()
                        .with_primary(primary)
                        .with_checksum(checksum)
                        .with_compression(compression.clone())
                        .with_policy(policy()),
                );
            }
        }
    }
    writers
}

fn policy() -> Policy {
    // Compress everything that saves anything, so small values take the compressed path too.
    Policy::new().with_min_size(0).with_min_saving_percent(0)
}

/// A dictionary trained once on V1 archives.
fn dict() -> &'static ZstdDict {
    static DICT: OnceLock<ZstdDict> = OnceLock::new();
    DICT.get_or_init(|| {
        let samples: Vec<ChatV1> = (0..200)
            .map(|i| ChatV1 {
                id: i,
                sender: format!("user-{}", i % 17),
                text: format!("message number {i} in the room"),
            })
            .collect();
        let dictionary = ZstdDictionary::train_with(
            &zerocodec_codecs::RkyvCodec::<ChatV1>::new(),
            &samples,
            2048,
        )
        .unwrap();
        ZstdDict::new(dictionary, 3).unwrap()
    })
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn chat_v1() -> impl Strategy<Value = ChatV1> {
    (any::<u64>(), ".{0,24}", ".{0,200}").prop_map(|(id, sender, text)| ChatV1 { id, sender, text })
}

proptest! {
    #![proptest_config(config())]

    /// `decode_as_v3(encode_v1(x)) == upgrade(x)` through every frame configuration and
    /// compression, by decode and by the owned archive, for hybrid frames, batches and
    /// legacy JSON.
    #[test]
    fn a_v1_value_reads_as_its_upgrade_everywhere(x in chat_v1()) {
        let expected = upgrade(&x);
        let reader = HybridCodec::<ChatV3>::new()
            .with_upgrades()
            .with_compression(Compression::ZstdDict(dict().clone()));
        for writer in writers() {
            let frame: Bytes = writer.encode(&x).unwrap();
            prop_assert_eq!(&reader.decode(&frame).unwrap(), &expected);
            let owned = reader.access_owned(frame).unwrap();
            prop_assert_eq!(&owned.deserialize().unwrap(), &expected);
        }
        let legacy = JsonCodec::new().encode(&x).unwrap();
        let legacy_reader = reader.clone().legacy_json_as::<ChatV1>();
        prop_assert_eq!(&legacy_reader.decode(&legacy).unwrap(), &expected);

        let mut builder = BatchBuilder::<ChatV1>::new();
        builder.append(&x).unwrap();
        builder.append(&x).unwrap();
        let batch = builder.finish().unwrap();
        let batch_reader = BatchCodec::<ChatV3>::new().with_upgrades();
        for compression in [Compression::None, Compression::Lz4, Compression::Zstd(3)] {
            let frame = BatchCodec::new()
                .with_compression(compression)
                .with_policy(policy())
                .encode(&batch)
                .unwrap();
            let upgraded = batch_reader.decode(&frame).unwrap();
            prop_assert_eq!(upgraded.len(), 2);
            prop_assert_eq!(&upgraded.deserialize(1).unwrap(), &expected);
        }
    }
}

// ---- examples/evolution.rs, run as tests, so the example cannot drift from what CI checks.

#[test]
fn example_one_stream_one_reader() {
    assert_eq!(example::one_stream().unwrap().len(), 3);
}

#[test]
fn example_stored_batch_of_v1_read_by_v3() {
    assert_eq!(example::stored_batch().unwrap().len(), 100);
}

#[test]
fn example_rolling_deploy_with_a_pinned_writer() {
    example::rolling_deploy().unwrap();
}
