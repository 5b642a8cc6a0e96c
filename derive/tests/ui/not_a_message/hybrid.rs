// serde and rkyv derives but no `Message`: a `HybridMessage` bound says which derive is missing.
use zerocodec::prelude::*;
use zerocodec_codecs::{HybridCodec, HybridMessage};

#[derive(serde::Serialize, serde::Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct OrderPlaced {
    id: u64,
}

fn publish<T: HybridMessage>(message: &T) -> zerocodec::Result<zerocodec::bytes::Bytes> {
    HybridCodec::<T>::new().encode(message)
}

fn main() {
    let _ = publish(&OrderPlaced { id: 1 });
}
