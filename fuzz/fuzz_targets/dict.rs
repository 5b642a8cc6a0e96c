//! The zstd dictionary path: frames naming known, unknown and wrong dictionaries.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use zerocodec::Codec;
use zerocodec_codecs::{Compressed, JsonCodec, ZstdDict, ZstdDictionary};
use zerocodec_datasets::ChatMessage;
use zerocodec_datasets::messages::chat_messages;

fn codec() -> &'static Compressed<JsonCodec, ZstdDict> {
    static CODEC: OnceLock<Compressed<JsonCodec, ZstdDict>> = OnceLock::new();
    CODEC.get_or_init(|| {
        let samples = chat_messages(0xD1C7, 500);
        let dict = ZstdDictionary::train_with(&JsonCodec, &samples, 4096).unwrap();
        Compressed::new(JsonCodec, ZstdDict::new(dict, 3).unwrap())
    })
}

fuzz_target!(|data: &[u8]| {
    let codec = codec();
    if let Ok(msg) = Codec::<ChatMessage>::decode(codec, data) {
        let again = codec.encode(&msg).unwrap();
        assert_eq!(Codec::<ChatMessage>::decode(codec, &again).unwrap(), msg);
    }
});
