//! Property tests: for arbitrary values of a nested message type (enums with every variant
//! shape, strings of any Unicode, empty and large collections, maps, options, a
//! `serde_json::Value` field), every codec and stack round-trips exactly, and zero-copy access
//! agrees with decode; bitcode, alone and as a hybrid payload, round-trips the same values
//! less the `Value` field.
//!
//! Each property runs 64 cases by default; set `PROPTEST_CASES` for more (or fewer).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde::{Deserialize, Serialize};
use zerocodec::archive::deserialize_archived;
use zerocodec::bytes::Bytes;
use zerocodec::prelude::*;
use zerocodec::{BufferPool, Message};
use zerocodec_codecs::{
    AsJson, Batch, BatchBuilder, BatchCodec, BitcodeCodec, Compressed, Compression, HybridCodec,
    JsonCodec, Policy, Primary, RkyvCodec, ZstdDict, ZstdDictionary,
};

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
enum Body {
    Empty,
    Text(String),
    Pair { a: i32, b: u64 },
    List(Vec<i16>),
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
    bitcode::Encode,
    bitcode::Decode,
)]
struct Leaf {
    name: String,
    flag: bool,
    level: Option<u8>,
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
struct Doc {
    id: u64,
    title: String,
    tags: Vec<String>,
    body: Body,
    children: Vec<Leaf>,
    parent: Option<Box<Leaf>>,
    scores: BTreeMap<String, i64>,
    ratio: f64,
    blob: Vec<u8>,
    #[rkyv(with = AsJson)]
    extra: serde_json::Value,
}

impl Message for Doc {
    const NAME: &'static str = "Doc";
    const SCHEMA_FINGERPRINT: u64 = 0x0D0C_0000_0000_0001;
}

/// [`Doc`] without its `serde_json::Value` field (bitcode's derives have no `Value`), with
/// bitcode's derives: what the bitcode codec and payload carry.
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
struct Record {
    id: u64,
    title: String,
    tags: Vec<String>,
    body: Body,
    children: Vec<Leaf>,
    parent: Option<Box<Leaf>>,
    scores: BTreeMap<String, i64>,
    ratio: f64,
    blob: Vec<u8>,
}

impl Message for Record {
    const NAME: &'static str = "Record";
    const SCHEMA_FINGERPRINT: u64 = 0x0D0C_0000_0000_0002;
}

fn record() -> impl Strategy<Value = Record> {
    doc().prop_map(|d| Record {
        id: d.id,
        title: d.title,
        tags: d.tags,
        body: d.body,
        children: d.children,
        parent: d.parent,
        scores: d.scores,
        ratio: d.ratio,
        blob: d.blob,
    })
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn leaf() -> impl Strategy<Value = Leaf> {
    (any::<String>(), any::<bool>(), any::<Option<u8>>()).prop_map(|(name, flag, level)| Leaf {
        name,
        flag,
        level,
    })
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        Just(Body::Empty),
        any::<String>().prop_map(Body::Text),
        (any::<i32>(), any::<u64>()).prop_map(|(a, b)| Body::Pair { a, b }),
        prop::collection::vec(any::<i16>(), 0..64).prop_map(Body::List),
    ]
}

/// Mostly small blobs, sometimes large (tens of KiB, which the compressors really compress).
fn blob() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..64),
        1 => (any::<u8>(), 1_000usize..70_000).prop_map(|(b, n)| {
            (0..n).map(|i| b.wrapping_add((i % 7) as u8)).collect()
        }),
    ]
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        (
            any::<u64>(),
            any::<String>(),
            prop::collection::vec(any::<String>(), 0..8),
            body(),
            prop::collection::vec(leaf(), 0..6),
        ),
        (
            prop::option::of(leaf().prop_map(Box::new)),
            prop::collection::btree_map(any::<String>(), any::<i64>(), 0..6),
            any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()),
            blob(),
            json_value(),
        ),
    )
        .prop_map(
            |((id, title, tags, body, children), (parent, scores, ratio, blob, extra))| Doc {
                id,
                title,
                tags,
                body,
                children,
                parent,
                scores,
                ratio,
                blob,
                extra,
            },
        )
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        // Regressions are reported in the failure message; no files are written.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A dictionary trained once on generated documents.
fn dict() -> &'static ZstdDict {
    static DICT: OnceLock<ZstdDict> = OnceLock::new();
    DICT.get_or_init(|| {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let samples: Vec<Doc> = (0..300)
            .map(|_| doc().new_tree(&mut runner).unwrap().current())
            .collect();
        let dictionary =
            ZstdDictionary::train_with(&JsonCodec::<Doc>::new(), &samples, 4096).unwrap();
        ZstdDict::new(dictionary, 3).unwrap()
    })
}

fn policy() -> Policy {
    // Compress everything that saves anything, so small values take the compressed path too.
    Policy::new().with_min_size(0).with_min_saving_percent(0)
}

/// `codec` round-trips `doc`, and (for zero-copy codecs) the archived view agrees.
fn round_trip<C>(codec: &C, doc: &C::Item) -> Result<Bytes, TestCaseError>
where
    C: Encode + Decode,
    C::Item: PartialEq + std::fmt::Debug,
{
    let bytes = codec
        .encode(doc)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back = codec
        .decode(&bytes)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, doc);
    // encode_into a non-empty buffer appends the same bytes.
    let mut out = vec![0xAB; 3];
    codec
        .encode_into(doc, &mut out)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&out[..3], &[0xAB; 3]);
    prop_assert_eq!(&out[3..], &bytes[..]);
    Ok(bytes)
}

fn owned_agrees<C>(codec: &C, bytes: Bytes, doc: &C::Item) -> Result<(), TestCaseError>
where
    C: Access,
    C::Item: zerocodec::ZeroCopyDecode + PartialEq + std::fmt::Debug,
{
    // Aligned (shared) and unaligned (copied once).
    let mut shifted = vec![0u8];
    shifted.extend_from_slice(&bytes);
    for input in [bytes, Bytes::from(shifted).slice(1..)] {
        let owned = codec
            .access_owned(input)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&owned.deserialize().unwrap(), doc);
    }
    Ok(())
}

fn access_agrees<C: Access<Item = Doc>>(
    codec: &C,
    bytes: Bytes,
    doc: &Doc,
) -> Result<(), TestCaseError> {
    let view = codec
        .access(&bytes)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&deserialize_archived::<Doc>(view).unwrap(), doc);
    prop_assert_eq!(view.id, doc.id);
    prop_assert_eq!(view.title.as_str(), doc.title.as_str());
    prop_assert_eq!(view.blob.as_slice(), doc.blob.as_slice());
    owned_agrees(codec, bytes, doc)
}

/// Every frame codec, compressing with `compression`, round-trips `doc`; the zero-copy ones
/// also read it back through `access_owned`.
fn stacks(compression: Compression, doc: &Doc) -> Result<(), TestCaseError> {
    let hybrid = HybridCodec::<Doc>::new()
        .with_compression(compression.clone())
        .with_policy(policy());
    let bytes = round_trip(&hybrid, doc)?;
    owned_agrees(&hybrid, bytes, doc)?;
    let checked = HybridCodec::<Doc>::compact()
        .with_checksum(true)
        .with_compression(compression.clone())
        .with_policy(policy());
    let bytes = round_trip(&checked, doc)?;
    owned_agrees(&checked, bytes, doc)?;
    let json_primary = HybridCodec::<Doc>::new()
        .with_primary(Primary::Json)
        .with_compression(compression.clone())
        .with_policy(policy());
    let bytes = round_trip(&json_primary, doc)?;
    owned_agrees(&json_primary, bytes, doc)?;
    let rkyv = Compressed::new(RkyvCodec::new(), compression.clone()).with_policy(policy());
    let bytes = round_trip(&rkyv, doc)?;
    owned_agrees(&rkyv, bytes, doc)?;
    round_trip(
        &Compressed::new(JsonCodec::new(), compression).with_policy(policy()),
        doc,
    )?;
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn json_round_trips(doc in doc()) {
        round_trip(&JsonCodec::new(), &doc)?;
    }

    #[test]
    fn rkyv_round_trips_and_access_agrees(doc in doc()) {
        let codec = RkyvCodec::new();
        let bytes = round_trip(&codec, &doc)?;
        access_agrees(&codec, bytes, &doc)?;
    }

    #[test]
    fn hybrid_round_trips_in_every_configuration(doc in doc()) {
        for codec in [
            HybridCodec::<Doc>::new(),
            HybridCodec::compact(),
            HybridCodec::new().with_checksum(true),
            HybridCodec::compact().with_checksum(true),
        ] {
            let bytes = round_trip(&codec, &doc)?;
            access_agrees(&codec, bytes, &doc)?;
            let json = codec.clone().with_primary(Primary::Json);
            let bytes = round_trip(&json, &doc)?;
            owned_agrees(&json, bytes, &doc)?;
        }
        // Header-less legacy JSON reads the same value.
        let legacy = JsonCodec::new().encode(&doc).unwrap();
        prop_assert_eq!(&HybridCodec::<Doc>::new().decode(&legacy).unwrap(), &doc);
    }

    #[test]
    fn bitcode_round_trips_alone_and_in_every_frame(record in record()) {
        round_trip(&BitcodeCodec::new(), &record)?;
        let reader = HybridCodec::<Record>::new().with_bitcode();
        for compression in [Compression::None, Compression::Lz4, Compression::Zstd(3)] {
            round_trip(
                &Compressed::new(BitcodeCodec::new(), compression.clone()).with_policy(policy()),
                &record,
            )?;
            for checksum in [false, true] {
                let codec = HybridCodec::<Record>::new()
                    .with_bitcode()
                    .with_primary(Primary::Bitcode)
                    .with_checksum(checksum)
                    .with_compression(compression.clone())
                    .with_policy(policy());
                let bytes = round_trip(&codec, &record)?;
                prop_assert_eq!(&reader.decode(&bytes).unwrap(), &record);
                owned_agrees(&codec, bytes, &record)?;
            }
        }
    }

    #[test]
    fn lz4_stacks_round_trip(doc in doc()) {
        stacks(Compression::Lz4, &doc)?;
    }

    #[test]
    fn zstd_stacks_round_trip(doc in doc()) {
        stacks(Compression::Zstd(3), &doc)?;
    }

    #[test]
    fn zstd_dictionary_stacks_round_trip(doc in doc()) {
        stacks(Compression::ZstdDict(dict().clone()), &doc)?;
    }

    #[test]
    fn batches_round_trip(docs in prop::collection::vec(doc(), 0..12)) {
        let mut builder = BatchBuilder::<Doc>::with_pool(&BufferPool::new(Default::default()));
        for (i, doc) in docs.iter().enumerate() {
            prop_assert_eq!(builder.append(doc).unwrap(), i);
        }
        prop_assert_eq!(builder.len(), docs.len());
        let bytes = builder.into_bytes();
        let batch = Batch::<Doc>::open(bytes.clone()).unwrap();
        prop_assert_eq!(batch.len(), docs.len());
        for (i, doc) in docs.iter().enumerate() {
            prop_assert_eq!(&batch.deserialize(i).unwrap(), doc);
            prop_assert_eq!(&deserialize_archived::<Doc>(batch.get_validated(i).unwrap()).unwrap(), doc);
        }
        prop_assert_eq!(batch.iter().count(), docs.len());
        prop_assert!(batch.get(docs.len()).is_err_and(|e| e.is_out_of_range()));

        // The batch as one compressed unit: a batch frame compresses its bytes, and reading it
        // decompresses into a pooled buffer and opens the batch once.
        let codec = BatchCodec::<Doc>::new()
            .with_compression(Compression::Zstd(3))
            .with_policy(policy());
        let packed = codec.encode(&batch).unwrap();
        let reopened = codec.decode(&packed).unwrap();
        prop_assert_eq!(reopened.as_bytes(), &bytes[..]);
        for (i, doc) in docs.iter().enumerate() {
            prop_assert_eq!(&reopened.deserialize(i).unwrap(), doc);
        }
    }
}
