//! RkyvCodec::access on arbitrary (aligned) bytes: validation must reject or accept without
//! UB; an accepted archive deserializes, re-encodes (see `common::reencodes`) and decodes to the
//! same value.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use zerocodec::prelude::*;
use zerocodec::rkyv::util::AlignedVec;
use zerocodec_codecs::RkyvCodec;
use zerocodec_datasets::{ChatMessage, RpcRequest};

fuzz_target!(|data: &[u8]| {
    let mut aligned = AlignedVec::<16>::with_capacity(data.len());
    aligned.extend_from_slice(data);
    let chat = RkyvCodec::<ChatMessage>::new();
    if let Ok(view) = chat.access(&aligned) {
        let _ = (view.id.len(), view.content.as_str(), view.timestamp);
        if let Ok(owned) = zerocodec::archive::deserialize_archived::<ChatMessage>(view) {
            let again = chat.encode(&owned).unwrap();
            assert_eq!(chat.decode(&again).unwrap(), owned);
        }
    }
    let rpc = RkyvCodec::<RpcRequest>::new();
    if let Ok(view) = rpc.access(&aligned) {
        let _ = (view.method.as_str(), view.params.as_str());
        if let Ok(owned) = zerocodec::archive::deserialize_archived::<RpcRequest>(view) {
            common::reencodes(&rpc, &owned);
        }
    }
});
