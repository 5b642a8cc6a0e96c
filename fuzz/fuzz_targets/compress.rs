//! Compressed<RkyvCodec | JsonCodec, Lz4 | Zstd> decode on arbitrary bytes: any input gives Ok
//! or a typed error; nothing allocates past the decompression limit; what decodes round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zerocodec::Codec;
use zerocodec::Transform;
use zerocodec_codecs::{Compressed, JsonCodec, Lz4, Policy, RkyvCodec, Zstd};
use zerocodec_datasets::ChatMessage;

const LIMIT: usize = 1 << 20;

fn check<X: Transform + Copy>(transform: X, data: &[u8]) {
    let rkyv = Compressed::new(RkyvCodec::new(), transform);
    if let Ok(msg) = Codec::<ChatMessage>::decode(&rkyv, data) {
        let again = rkyv.encode(&msg).unwrap();
        assert_eq!(Codec::<ChatMessage>::decode(&rkyv, &again).unwrap(), msg);
    }
    let json = Compressed::new(JsonCodec, transform);
    if let Ok(msg) = Codec::<ChatMessage>::decode(&json, data) {
        let again = json.encode(&msg).unwrap();
        assert_eq!(Codec::<ChatMessage>::decode(&json, &again).unwrap(), msg);
    }
    // The transform alone, for every algorithm id the input names.
    let mut out = Vec::new();
    if let Some((&id, rest)) = data.split_first() {
        let r = transform.decompress_into(zerocodec::CompressionId(id % 4), None, rest, &mut out);
        if r.is_ok() {
            assert!(out.len() <= LIMIT);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let policy = Policy::new().with_max_decompressed_len(LIMIT);
    check(Lz4::new().with_policy(policy), data);
    check(Zstd::new(3).with_policy(policy), data);
});
