//! Quick start: one message type, two codecs, and a zero-copy read.
//!
//! Run with `cargo run --release --example quickstart`.

use zerocodec::Codec;
use zerocodec_codecs::{JsonCodec, RkyvCodec};

#[derive(
    Debug,
    PartialEq,
    serde::Serialize,
    serde::Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
struct ChatMessage {
    id: String,
    content: String,
    timestamp: u64,
    sender: String,
    room_id: String,
}

fn main() -> Result<(), zerocodec::Error> {
    let msg = ChatMessage {
        id: "msg-1".into(),
        content: "hello, zero-copy world".into(),
        timestamp: 1_763_700_000_000,
        sender: "ada".into(),
        room_id: "general".into(),
    };

    // JSON, for interop and debugging.
    let json = JsonCodec.encode(&msg)?;
    let from_json = JsonCodec.decode::<ChatMessage>(&json)?;
    assert_eq!(from_json, msg);

    // rkyv: the encoding *is* the in-memory layout, so reading it is validation plus a cast.
    let rkyv = RkyvCodec::new();
    let bytes = rkyv.encode(&msg)?;
    let view = rkyv.access::<ChatMessage>(&bytes)?; // &ArchivedChatMessage, borrows `bytes`
    assert_eq!(view.content, "hello, zero-copy world");
    let owned = rkyv.decode::<ChatMessage>(&bytes)?; // a full deserialization, when needed
    assert_eq!(owned, msg);

    // Hot path: append into a buffer you reuse, so a warm encode allocates nothing.
    let mut buf = Vec::with_capacity(256);
    for _ in 0..3 {
        buf.clear();
        rkyv.encode_into(&msg, &mut buf)?;
    }

    println!(
        "json: {} bytes, {}",
        json.len(),
        String::from_utf8_lossy(&json)
    );
    println!(
        "rkyv: {} bytes, read in place: sender={}",
        bytes.len(),
        view.sender
    );
    Ok(())
}
