//! RkyvCodec::decode on arbitrary bytes at arbitrary alignment (the first byte picks the
//! offset): never a panic; what decodes round-trips (see `common::reencodes`).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use zerocodec::prelude::*;
use zerocodec_codecs::RkyvCodec;
use zerocodec_datasets::{ChatMessage, RpcRequest};

fuzz_target!(|data: &[u8]| {
    let Some((&offset, rest)) = data.split_first() else {
        return;
    };
    let mut buf = vec![0u8; (offset % 16) as usize];
    buf.extend_from_slice(rest);
    let input = &buf[(offset % 16) as usize..];
    let chat = RkyvCodec::<ChatMessage>::new();
    if let Ok(msg) = chat.decode(input) {
        let again = chat.encode(&msg).unwrap();
        assert_eq!(chat.decode(&again).unwrap(), msg);
    }
    let rpc = RkyvCodec::<RpcRequest>::new();
    if let Ok(req) = rpc.decode(input) {
        common::reencodes(&rpc, &req);
    }
});
