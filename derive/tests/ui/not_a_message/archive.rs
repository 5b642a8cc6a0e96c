// serde derives but no rkyv derives: reading an rkyv archive says what is missing.
#[derive(serde::Serialize, serde::Deserialize)]
struct OrderPlaced {
    id: u64,
}

fn main() {
    let _ = zerocodec::archive::deserialize::<OrderPlaced>(&[]);
}
