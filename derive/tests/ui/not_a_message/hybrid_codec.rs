// serde and rkyv derives but no `Message`: encoding with the hybrid codec says what is missing.
use zerocodec::prelude::*;
use zerocodec_codecs::HybridCodec;

#[derive(serde::Serialize, serde::Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct OrderPlaced {
    id: u64,
}

fn main() {
    let _ = HybridCodec::new().encode(&OrderPlaced { id: 1 });
}
