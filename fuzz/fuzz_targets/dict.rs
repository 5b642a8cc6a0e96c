//! The zstd dictionary path: frames naming known, unknown and wrong dictionaries.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use zerocodec::prelude::*;
use zerocodec_codecs::{Compressed, Compression, JsonCodec, ZstdDictionary};
use zerocodec_datasets::ChatMessage;
use zerocodec_datasets::messages::chat_messages;

fn codec() -> &'static Compressed<JsonCodec<ChatMessage>> {
    static CODEC: OnceLock<Compressed<JsonCodec<ChatMessage>>> = OnceLock::new();
    CODEC.get_or_init(|| {
        let json = JsonCodec::new();
        let samples = chat_messages(0xD1C7, 500);
        let dict = ZstdDictionary::train_with(&json, &samples, 4096).unwrap();
        Compressed::new(json, Compression::zstd_dict(dict, 3).unwrap())
    })
}

fuzz_target!(|data: &[u8]| {
    let codec = codec();
    if let Ok(msg) = codec.decode(data) {
        let again = codec.encode(&msg).unwrap();
        assert_eq!(codec.decode(&again).unwrap(), msg);
    }
});
