//! bitcode on arbitrary bytes: `BitcodeCodec` of the dataset types that carry bitcode's
//! derives (`log`, `mesh`, `minecraft`, `mk48`) and of the golden-frame `Chat` mirror, a zstd
//! `Compressed<BitcodeCodec<_>>` frame, and hybrid readers of bitcode payloads, raw and
//! compressed. Any input gives Ok or a typed error within the limits; whatever decodes
//! re-encodes, and the re-encoding is a fixed point.
//!
//! The first byte picks the decoder family, so each input reaches one bitcode layout deeply
//! instead of every layout shallowly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use zerocodec::bytes::Bytes;
use zerocodec::prelude::*;
use zerocodec::{ErrorKind, Message};
use zerocodec_codecs::{BitcodeCodec, Compressed, Compression, HybridCodec, Policy, Primary};
use zerocodec_datasets::log::Logs;
use zerocodec_datasets::mesh::Mesh;
use zerocodec_datasets::minecraft::Players;
use zerocodec_datasets::mk48::Updates;

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

/// Input and decompression limit: bitcode holds a decoded value to about 8 bytes per input
/// bit per element byte, so this bounds what one input may cost.
const LIMIT: usize = 1 << 16;

fn policy() -> Policy {
    Policy::new().with_max_decompressed_len(LIMIT)
}

/// Decodes with `codec`; an error is typed; a value re-encodes to bytes that decode to a
/// value encoding to the same bytes (compared as bytes: a float may be NaN, which is not
/// equal to itself).
fn plain<T>(data: &[u8])
where
    T: bitcode::Encode + bitcode::DecodeOwned,
{
    let codec = BitcodeCodec::<T>::new().with_max_len(LIMIT);
    match codec.decode(data) {
        Ok(value) => fixed_point(&codec, &value),
        Err(err) => assert!(
            matches!(err.kind(), ErrorKind::Corrupt | ErrorKind::TooLarge),
            "{err}"
        ),
    }
    let compressed = Compressed::new(codec, Compression::Zstd(1)).with_policy(policy());
    if let Ok(value) = compressed.decode(data) {
        fixed_point(&compressed, &value);
    }
}

/// `value` encodes, and its encoding decodes to a value with the same encoding.
fn fixed_point<C: Encode + Decode>(codec: &C, value: &C::Item) {
    let again = codec.encode(value).expect("a decoded value encodes");
    let back = codec.decode(&again).expect("re-encoded bytes decode");
    assert_eq!(codec.encode(&back).expect("encodes again"), again);
}

/// A hybrid reader of bitcode payloads: decode and access_owned agree, access is refused
/// (bitcode has no in-place form) or reads an rkyv payload, decoded values round-trip.
fn hybrid(codec: &HybridCodec<Chat>, data: &[u8]) {
    let decoded = codec.decode(data);
    if let Ok(archive) = codec.access_owned(Bytes::copy_from_slice(data)) {
        assert_eq!(decoded.as_ref().ok(), Some(&archive.deserialize().unwrap()));
    }
    if let Ok(value) = decoded {
        let again = codec.encode(&value).expect("a decoded value encodes");
        assert_eq!(codec.decode(&again).unwrap(), value);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    match pick % 6 {
        0 => plain::<Logs>(data),
        1 => plain::<Mesh>(data),
        2 => plain::<Players>(data),
        3 => plain::<Updates>(data),
        4 => plain::<Chat>(data),
        _ => {
            let writer = HybridCodec::<Chat>::new()
                .with_bitcode()
                .with_primary(Primary::Bitcode)
                .with_policy(policy());
            hybrid(&writer, data);
            hybrid(&writer.clone().with_checksum(true), data);
            hybrid(&writer.with_compression(Compression::Zstd(3)), data);
        }
    }
});
