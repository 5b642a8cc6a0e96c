//! JsonCodec::decode on arbitrary bytes; whatever decodes re-encodes and decodes equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zerocodec::prelude::*;
use zerocodec_codecs::JsonCodec;
use zerocodec_datasets::{ChatMessage, RpcRequest};

fn check<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let codec = JsonCodec::<T>::new();
    if let Ok(value) = codec.decode(data) {
        let again = codec.encode(&value).expect("a decoded value re-encodes");
        let back = codec.decode(&again).expect("a re-encoding decodes");
        assert_eq!(back, value);
    }
}

fuzz_target!(|data: &[u8]| {
    check::<ChatMessage>(data);
    check::<RpcRequest>(data);
    check::<serde_json::Value>(data);
});
