//! HybridCodec on arbitrary bytes: decode, access (aligned and not) and access_owned, raw and
//! through Compressed<HybridCodec<_>, X> with lz4, zstd and a zstd dictionary. Any input gives
//! Ok or a typed error; whatever decodes agrees with access and re-encodes to the same value.
//!
//! The message types mirror the golden-frame types of `tests/golden/` (same fields, same
//! hand-fixed fingerprints), so the golden frames in `fuzz/seeds/hybrid/` decode as seeds.
#![no_main]

use std::fmt::Debug;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use zerocodec::bytes::Bytes;
use zerocodec::rkyv::util::AlignedVec;
use zerocodec::{Codec, Message, Result, Transform, ZeroCopyCodec};
use zerocodec_codecs::{
    AsJson, Compressed, HybridCodec, HybridMessage, Lz4, Policy, Zstd, ZstdDict, ZstdDictionary,
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

const LIMIT: usize = 1 << 20;

fn policy() -> Policy {
    Policy::new().with_max_decompressed_len(LIMIT)
}

fn dict() -> &'static ZstdDict {
    static DICT: OnceLock<ZstdDict> = OnceLock::new();
    DICT.get_or_init(|| {
        let samples: Vec<Chat> = zerocodec_datasets::messages::chat_messages(0x4B1D, 300)
            .into_iter()
            .map(|m| Chat {
                id: m.id,
                content: m.content,
                timestamp: m.timestamp,
                sender: m.sender,
                room_id: m.room_id,
            })
            .collect();
        let dict = ZstdDictionary::train_with(&HybridCodec::<Chat>::compact(), &samples, 2048)
            .expect("dictionary trains");
        ZstdDict::new(dict, 3)
            .expect("dictionary loads")
            .with_policy(policy())
    })
}

/// A view that validated deserializes to what decode returned: both a value, equal, or both
/// an error (validation checks an `AsJson` field is a string; its JSON is parsed on
/// deserialization, so a validated view can still fail to deserialize, as decode does).
fn agree<T: PartialEq + Debug>(decoded: &Result<T>, owned: Result<T>, what: &str) {
    match (decoded, owned) {
        (Ok(decoded), Ok(owned)) => assert_eq!(decoded, &owned, "{what} disagrees with decode"),
        (Err(_), Err(_)) => {}
        (decoded, owned) => panic!("{what} and decode disagree: {decoded:?} vs {owned:?}"),
    }
}

/// The raw hybrid codec: decode, access and access_owned agree, and decoded values round-trip.
fn raw<T: HybridMessage + PartialEq + Debug>(codec: &HybridCodec<T>, data: &[u8], aligned: &[u8]) {
    let decoded = codec.decode(data);
    // Borrowed access needs alignment; an unaligned slice must be rejected, never read.
    let _ = codec.access(data);
    if let Ok(view) = codec.access(aligned) {
        agree(
            &decoded,
            zerocodec::archive::deserialize_archived::<T>(view),
            "access",
        );
    }
    if let Ok(archive) = codec.access_owned(Bytes::copy_from_slice(data)) {
        agree(&decoded, archive.deserialize(), "access_owned");
    }
    if let Ok(value) = decoded {
        let again = codec.encode(&value).expect("a decoded value encodes");
        assert_eq!(
            codec.decode(&again).expect("re-encoded frame decodes"),
            value
        );
    }
}

/// A compressed hybrid stack: decode and access_owned agree; decoded values round-trip.
fn compressed<T, X>(codec: &Compressed<HybridCodec<T>, X>, data: &[u8])
where
    T: HybridMessage + PartialEq + Debug,
    X: Transform,
{
    let decoded = Codec::<T>::decode(codec, data);
    if let Ok(archive) = ZeroCopyCodec::<T>::access_owned(codec, Bytes::copy_from_slice(data)) {
        agree(&decoded, archive.deserialize(), "access_owned");
    }
    if let Ok(value) = decoded {
        let again = codec.encode(&value).expect("a decoded value encodes");
        assert_eq!(
            Codec::<T>::decode(codec, &again).expect("re-encoded frame decodes"),
            value
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut aligned = AlignedVec::<16>::with_capacity(data.len());
    aligned.extend_from_slice(data);

    raw(&HybridCodec::<Chat>::new(), data, &aligned);
    raw(
        &HybridCodec::<Chat>::compact().with_legacy_json(false),
        data,
        &aligned,
    );
    raw(
        &HybridCodec::<Rpc>::new().with_checksum(true),
        data,
        &aligned,
    );

    let chat = HybridCodec::<Chat>::new();
    compressed(
        &Compressed::new(chat.clone(), Lz4::new().with_policy(policy())),
        data,
    );
    compressed(
        &Compressed::new(chat.clone(), Zstd::new(3).with_policy(policy())),
        data,
    );
    compressed(&Compressed::new(chat, dict().clone()), data);
    let rpc = HybridCodec::<Rpc>::new();
    compressed(
        &Compressed::new(rpc, Zstd::new(1).with_policy(policy())),
        data,
    );
});
