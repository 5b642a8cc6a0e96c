//! RkyvCodec::decode on arbitrary bytes at arbitrary alignment (the first byte picks the
//! offset): never a panic; what decodes round-trips (see `common::reencodes`).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use zerocodec::Codec;
use zerocodec_codecs::RkyvCodec;
use zerocodec_datasets::{ChatMessage, RpcRequest};

fuzz_target!(|data: &[u8]| {
    let Some((&offset, rest)) = data.split_first() else {
        return;
    };
    let mut buf = vec![0u8; (offset % 16) as usize];
    buf.extend_from_slice(rest);
    let input = &buf[(offset % 16) as usize..];
    let codec = RkyvCodec::new();
    if let Ok(msg) = Codec::<ChatMessage>::decode(&codec, input) {
        let again = codec.encode(&msg).unwrap();
        assert_eq!(codec.decode::<ChatMessage>(&again).unwrap(), msg);
    }
    if let Ok(req) = Codec::<RpcRequest>::decode(&codec, input) {
        common::reencodes(&codec, &req);
    }
});
