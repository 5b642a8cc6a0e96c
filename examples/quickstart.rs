//! Quick start: one message type, two codecs, and a zero-copy read.
//!
//! Run with `cargo run --release --example quickstart`.

use zerocodec::prelude::*;
use zerocodec_codecs::{JsonCodec, RkyvCodec};

// One line for serde, rkyv (through `zerocodec::rkyv`) and `zerocodec::Message`.
#[zerocodec::message]
#[derive(Debug, PartialEq)]
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

    // JSON, for interop and debugging. The codec's type comes from what it encodes.
    let json = JsonCodec::new();
    let text = json.encode(&msg)?;
    assert_eq!(json.decode(&text)?, msg);

    // rkyv: the encoding *is* the in-memory layout, so reading it is validation plus a cast.
    let rkyv = RkyvCodec::new();
    let bytes = rkyv.encode(&msg)?;
    let view = rkyv.access(&bytes)?; // &ArchivedChatMessage, borrows `bytes`
    assert_eq!(view.content, "hello, zero-copy world");
    assert_eq!(rkyv.decode(&bytes)?, msg); // a full deserialization, when needed

    // Hot path: append into a buffer you reuse, so a warm encode allocates nothing.
    let mut buf = Vec::with_capacity(256);
    for _ in 0..3 {
        buf.clear();
        rkyv.encode_into(&msg, &mut buf)?;
    }
    assert_eq!(buf, bytes);

    println!(
        "json: {} bytes, {}",
        text.len(),
        String::from_utf8_lossy(&text)
    );
    println!(
        "rkyv: {} bytes, read in place: sender={}",
        bytes.len(),
        view.sender
    );
    Ok(())
}
