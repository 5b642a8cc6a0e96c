//! Four everyday tasks, one short section each, every result checked:
//!
//! - (a) a JSON and an rkyv round trip of your own type;
//! - (b) a hybrid frame compressed with zstd, written and read back;
//! - (c) a zero-copy read of a frame that arrived as `Bytes`;
//! - (d) a batch of 1,000 messages sent as one compressed frame, reading item 500.
//!
//! The fifth, a tokio `Framed` server that reads archived request views and answers them, is
//! the `rpc` example. `tests/tasks.rs` runs each task below as a test.
//!
//! Run with `cargo run --example tasks`.

use zerocodec::bytes::Bytes;
use zerocodec::prelude::*;
use zerocodec::{CompressionId, ErrorKind, frame::Frame};
use zerocodec_codecs::{BatchBuilder, BatchCodec, Compression, HybridCodec, JsonCodec, RkyvCodec};

/// The message of every task.
#[zerocodec::message(name = "shop.Order")]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Order {
    id: u64,
    customer: String,
    items: Vec<String>,
}

fn order(id: u64) -> Order {
    Order {
        id,
        customer: format!("customer-{}", id % 17),
        items: vec!["tea".into(), "scones".into(), format!("gift card #{id}")],
    }
}

/// (a) A JSON and an rkyv round trip of a user type.
pub(crate) fn json_and_rkyv_round_trip() -> Result<(), zerocodec::Error> {
    let value = order(1);

    let json = JsonCodec::new();
    let text = json.encode(&value)?;
    assert!(text.starts_with(b"{\"id\":1,"));
    assert_eq!(json.decode(&text)?, value);

    let rkyv = RkyvCodec::new();
    let archive = rkyv.encode(&value)?;
    assert_eq!(rkyv.decode(&archive)?, value);
    assert_eq!(rkyv.access(&archive)?.customer, "customer-1"); // read in place
    Ok(())
}

/// (b) A hybrid frame compressed with zstd, written and read back.
pub(crate) fn zstd_hybrid_frame() -> Result<(), zerocodec::Error> {
    let value = Order {
        items: (0..50).map(|i| format!("item {}", i % 5)).collect(),
        ..order(2)
    };
    let codec = HybridCodec::new().with_compression(Compression::zstd());
    let frame = codec.encode(&value)?;
    assert_eq!(codec.decode(&frame)?, value);

    // The header says how the payload is stored, so any reader reads it.
    assert_eq!(
        Frame::parse(&frame)?.header().compression,
        CompressionId::ZSTD
    );
    let plain = HybridCodec::new();
    assert!(frame.len() < plain.encode(&value)?.len());
    assert_eq!(plain.decode(&frame)?, value);
    // A compressed payload has no archive to borrow; `access_owned` decompresses it once.
    assert_eq!(
        plain.access(&frame).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(plain.access_owned(frame)?.items.len(), 50);
    Ok(())
}

/// (c) A zero-copy read of a frame that arrived as `Bytes`.
pub(crate) fn zero_copy_read_of_bytes() -> Result<(), zerocodec::Error> {
    let codec = HybridCodec::new();
    // What a transport hands over: `encode` returns 16-byte aligned `Bytes`, as a receive
    // buffer from a `BufferPool` is.
    let arrived: Bytes = codec.encode(&order(3))?;

    // Borrowed: validated, then read where it lies.
    let view = codec.access(&arrived)?;
    assert_eq!(view.id, 3);
    assert_eq!(view.items[1], "scones");

    // Owned: validated once, and sharing the same `Bytes` (no copy) because they are aligned.
    let owned = codec.access_owned(arrived.clone())?;
    assert!(owned.is_shared());
    assert_eq!(owned.customer, "customer-3");
    assert_eq!(owned.deserialize()?, order(3));
    Ok(())
}

/// (d) A batch of 1,000 messages sent as one compressed frame; reading item 500.
pub(crate) fn compressed_batch_of_1000() -> Result<(), zerocodec::Error> {
    let mut builder = BatchBuilder::new();
    for id in 0..1000 {
        builder.append(&order(id))?;
    }
    let batch = builder.finish()?;
    assert_eq!(batch.len(), 1000);
    assert_eq!(batch.get(500)?.id, 500);

    // One frame: the type's fingerprint, a CRC-32C, and the whole batch compressed as a unit.
    let codec = BatchCodec::new().with_compression(Compression::zstd());
    let frame = codec.encode(&batch)?;
    assert!(frame.len() < batch.as_bytes().len() / 4);

    let received = codec.decode(&frame)?; // validated once; each read after that is O(1)
    assert_eq!(received.len(), 1000);
    assert_eq!(received.get(500)?.customer, "customer-7"); // 500 % 17
    assert_eq!(received.deserialize(500)?, order(500));
    Ok(())
}

fn main() -> Result<(), zerocodec::Error> {
    json_and_rkyv_round_trip()?;
    println!("(a) JSON and rkyv round trips: ok");
    zstd_hybrid_frame()?;
    println!("(b) a zstd-compressed hybrid frame, written and read back: ok");
    zero_copy_read_of_bytes()?;
    println!("(c) a zero-copy read of `Bytes`, shared without a copy: ok");
    compressed_batch_of_1000()?;
    println!("(d) 1,000 messages in one compressed batch frame, item 500 read: ok");
    Ok(())
}
