//! HybridCodec on arbitrary bytes: decode, access (aligned and not) and access_owned, with
//! compression off and with lz4, zstd and a zstd dictionary (a plain reader reads them all),
//! reading bitcode payloads too (`with_bitcode`; the `bitcode` target has more of them),
//! and through `Compressed<HybridCodec<_>>` (a hybrid frame nested in a compressed frame). Any
//! input gives Ok or a typed error; whatever decodes agrees with access and re-encodes to the
//! same value.
//!
//! The message types mirror the golden-frame types of `tests/golden/` (same fields, same
//! hand-fixed fingerprints), so the golden frames in `fuzz/seeds/hybrid/` decode as seeds.
#![no_main]

use std::fmt::Debug;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use zerocodec::bytes::Bytes;
use zerocodec::prelude::*;
use zerocodec::rkyv::util::AlignedVec;
use zerocodec::{Message, Result};
use zerocodec_codecs::{
    AsJson, Compressed, Compression, HybridCodec, HybridMessage, Policy, RkyvCodec, ZstdDictionary,
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

/// zstd with a dictionary trained on chat payloads (rkyv archives, what a frame compresses).
fn dict() -> &'static Compression {
    static DICT: OnceLock<Compression> = OnceLock::new();
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
        let dict = ZstdDictionary::train_with(&RkyvCodec::<Chat>::new(), &samples, 2048)
            .expect("dictionary trains");
        Compression::zstd_dict(dict, 3).expect("dictionary loads")
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

/// A hybrid codec: decode, access and access_owned agree, and decoded values round-trip.
fn hybrid<T: HybridMessage + PartialEq + Debug>(
    codec: &HybridCodec<T>,
    data: &[u8],
    aligned: &[u8],
) {
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

/// A hybrid frame nested in a compressed frame: decode, access (raw outer frames only) and
/// access_owned agree; decoded values round-trip.
fn nested<T: HybridMessage + PartialEq + Debug>(
    codec: &Compressed<HybridCodec<T>>,
    data: &[u8],
    aligned: &[u8],
) {
    let decoded = codec.decode(data);
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

fuzz_target!(|data: &[u8]| {
    let mut aligned = AlignedVec::<16>::with_capacity(data.len());
    aligned.extend_from_slice(data);

    hybrid(&HybridCodec::<Chat>::new(), data, &aligned);
    hybrid(&HybridCodec::<Chat>::new().with_bitcode(), data, &aligned);
    hybrid(
        &HybridCodec::<Chat>::compact().with_legacy_json(false),
        data,
        &aligned,
    );
    hybrid(
        &HybridCodec::<Rpc>::new().with_checksum(true),
        data,
        &aligned,
    );

    for compression in [Compression::Lz4, Compression::Zstd(3), dict().clone()] {
        hybrid(
            &HybridCodec::<Chat>::new()
                .with_compression(compression)
                .with_policy(policy()),
            data,
            &aligned,
        );
    }
    hybrid(
        &HybridCodec::<Rpc>::new()
            .with_compression(Compression::Zstd(1))
            .with_policy(policy()),
        data,
        &aligned,
    );
    nested(
        &Compressed::new(HybridCodec::<Chat>::new(), Compression::Zstd(3)).with_policy(policy()),
        data,
        &aligned,
    );
});
