//! Batches: round trips of many mixed messages, O(1) random access, the byte layout, and
//! corrupt batches.

mod common;

use common::*;
use zerocodec::bytes::Bytes;
use zerocodec::{BufferPool, ErrorKind, PoolConfig};
use zerocodec_codecs::{BATCH_INDEX_ENTRY_LEN, Batch, BatchBuilder, BatchRef};
use zerocodec_datasets::{ChatMessage, RpcMethod, RpcRequest};

/// One message type that carries every fixture type, so one batch holds them all.
#[derive(Debug, Clone, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
enum Mixed {
    Chat(ChatMessage),
    Rpc(RpcRequest),
    Nested(Nested),
    Shape(Shape),
    Level(Level),
    Text(String),
    Empty,
}

fn mixed(rng: &mut Rng, i: usize) -> Mixed {
    match rng.next_u64() % 7 {
        0 => Mixed::Chat(ChatMessage {
            id: format!("msg-{i:06}"),
            content: "z".repeat((rng.next_u64() % 300) as usize),
            timestamp: rng.next_u64(),
            ..chat()
        }),
        1 => Mixed::Rpc(RpcRequest {
            id: format!("req-{i}"),
            method_type: [
                RpcMethod::Query,
                RpcMethod::Mutation,
                RpcMethod::Subscription,
            ][i % 3],
            params: serde_json::json!({ "i": i, "r": rng.next_u64() % 1000 }),
            ..rpc()
        }),
        2 => Mixed::Nested(Nested {
            maybe: Some(i as u16),
            ..nested()
        }),
        3 => Mixed::Shape(Shape::Poly((0..(i % 9) as i32).map(|k| (k, -k)).collect())),
        4 => Mixed::Level([Level::Low, Level::Mid, Level::High][i % 3]),
        5 => Mixed::Text(format!("text {i} {}", rng.next_u64())),
        _ => Mixed::Empty,
    }
}

fn values(n: usize) -> Vec<Mixed> {
    let mut rng = Rng::new(0x5EED);
    (0..n).map(|i| mixed(&mut rng, i)).collect()
}

fn build(values: &[Mixed]) -> Batch<Mixed> {
    let mut builder = BatchBuilder::<Mixed>::new();
    for (i, v) in values.iter().enumerate() {
        assert_eq!(builder.append(v).unwrap(), i);
    }
    assert_eq!(builder.len(), values.len());
    let expected_len = builder.batch_len();
    let batch = builder.finish().unwrap();
    assert_eq!(batch.as_bytes().len(), expected_len);
    batch
}

#[test]
fn ten_thousand_mixed_messages_round_trip() {
    let values = values(10_000);
    let batch = build(&values);
    assert_eq!(batch.len(), 10_000);
    for (i, v) in values.iter().enumerate() {
        assert_eq!(&batch.deserialize(i).unwrap(), v, "message {i}");
    }

    // Through `Bytes` (as a transport or a segment file would carry it) and back.
    let bytes = batch.into_bytes();
    let reopened = Batch::<Mixed>::open(bytes.clone()).unwrap();
    assert!(reopened.is_shared());
    assert_eq!(reopened.len(), values.len());
    for (view, v) in reopened.iter().zip(&values) {
        let back: Mixed = zerocodec::archive::deserialize_archived::<Mixed>(view).unwrap();
        assert_eq!(&back, v);
    }
    for (view, v) in reopened.iter().rev().zip(values.iter().rev()) {
        if let (ArchivedMixed::Chat(c), Mixed::Chat(m)) = (view, v) {
            assert_eq!(c.id, m.id);
            assert_eq!(c.content, m.content);
        }
    }

    // From an unaligned copy: `Batch::open` copies once, `BatchRef::open` refuses.
    let (shifted, range) = at_offset(&bytes, 1);
    let unaligned = Bytes::from_owner(shifted).slice(range);
    let err = BatchRef::<Mixed>::open(&unaligned).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unaligned, "{err}");
    let copied = Batch::<Mixed>::open(unaligned).unwrap();
    assert!(!copied.is_shared());
    assert_eq!(copied.deserialize(9_999).unwrap(), values[9_999]);
}

#[test]
fn random_access_matches_sequential_iteration() {
    let values = values(2_000);
    let batch = build(&values);
    let view = batch.view();
    let sequential: Vec<&ArchivedMixed> = view.iter().collect();
    assert_eq!(sequential.len(), values.len());
    assert_eq!(view.iter().len(), values.len());
    let mut rng = Rng::new(7);
    for _ in 0..10_000 {
        let i = (rng.next_u64() % values.len() as u64) as usize;
        let got = batch.get(i).unwrap();
        assert!(std::ptr::eq(got, sequential[i]), "message {i}");
        assert!(std::ptr::eq(view.get_validated(i).unwrap(), got));
        let bytes = view.message_bytes(i).unwrap();
        assert_eq!(bytes.as_ptr() as usize % 16, 0, "message {i} is aligned");
        assert_eq!(view.deserialize(i).unwrap(), values[i]);
    }
    // The end of the iterator and the end of the batch agree.
    let mut iter = view.iter();
    assert!(std::ptr::eq(iter.next_back().unwrap(), sequential[1_999]));
    assert_eq!(iter.len(), 1_999);
}

#[test]
fn out_of_range_indexes_are_errors() {
    let batch = build(&values(3));
    for i in [3, 4, usize::MAX] {
        let err = batch.get(i).err().expect("index out of range");
        assert_eq!(err.kind(), ErrorKind::OutOfRange);
        assert_eq!(
            err.message(),
            format!("batch index {i} is out of range: expected an index below 3")
        );
        assert!(batch.get_validated(i).is_err());
        assert!(batch.view().message_bytes(i).is_err());
        assert!(batch.deserialize(i).is_err());
    }
}

/// The byte layout, held still: two `u32` messages (each archive is the 4-byte value).
#[test]
fn golden_layout() {
    let mut builder = BatchBuilder::<u32>::with_pool(&BufferPool::new(PoolConfig::new()));
    builder.append(&0x0403_0201).unwrap();
    builder.append(&0x0807_0605).unwrap();
    let bytes = builder.into_bytes();
    #[rustfmt::skip]
    let expected: &[u8] = &[
        b'Z', b'C', b'B', b'A', 1, 0, 0, 0,      // magic, version 1, flags, reserved
        2, 0, 0, 0, 36, 0, 0, 0,                 // count 2, index at 36
        1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // message 0 at 16, padding
        5, 6, 7, 8,                              // message 1 at 32
        16, 0, 0, 0, 4, 0, 0, 0,                 // index: (16, 4)
        32, 0, 0, 0, 4, 0, 0, 0,                 // index: (32, 4)
    ];
    assert_eq!(&bytes[..], expected);
    let batch = BatchRef::<u32>::open(&bytes).unwrap();
    let all: Vec<u32> = batch.iter().map(|v| v.to_native()).collect();
    assert_eq!(all, [0x0403_0201, 0x0807_0605]);
}

/// A small batch of chat messages and where its index is.
fn sample() -> (Vec<u8>, usize) {
    let mut builder = BatchBuilder::<ChatMessage>::new();
    for i in 0..3 {
        builder
            .append(&ChatMessage {
                content: format!("message {i}"),
                ..chat()
            })
            .unwrap();
    }
    let bytes = builder.into_bytes().to_vec();
    let index = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), index + 3 * BATCH_INDEX_ENTRY_LEN);
    (bytes, index)
}

fn set_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn get_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// Opens `bytes` both ways and returns the error, which must be the same both ways.
fn open_err(bytes: &[u8]) -> zerocodec::Error {
    let mut aligned = rkyv::util::AlignedVec::<16>::new();
    aligned.extend_from_slice(bytes);
    let borrowed = BatchRef::<ChatMessage>::open(&aligned).unwrap_err();
    let owned = Batch::<ChatMessage>::open(Bytes::copy_from_slice(bytes)).unwrap_err();
    assert_eq!(borrowed.kind(), owned.kind());
    assert_eq!(borrowed.message(), owned.message());
    let first = borrowed.message().chars().next().unwrap();
    assert!(first.is_lowercase(), "lowercase message: {borrowed}");
    assert!(!borrowed.message().ends_with('.'));
    borrowed
}

fn mutated(edit: impl FnOnce(&mut Vec<u8>, usize)) -> zerocodec::Error {
    let (mut bytes, index) = sample();
    edit(&mut bytes, index);
    open_err(&bytes)
}

#[test]
fn the_sample_opens() {
    let (bytes, _) = sample();
    let mut aligned = rkyv::util::AlignedVec::<16>::new();
    aligned.extend_from_slice(&bytes);
    let batch = BatchRef::<ChatMessage>::open(&aligned).unwrap();
    assert_eq!(batch.get(2).unwrap().content, "message 2");
}

#[test]
fn truncated_batches_are_incomplete() {
    let (bytes, _) = sample();
    for cut in 0..bytes.len() {
        let err = open_err(&bytes[..cut]);
        assert_eq!(err.kind(), ErrorKind::Incomplete, "cut at {cut}: {err}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let err = open_err(&longer);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("trailing bytes"), "{err}");
}

#[test]
fn corrupt_headers_are_typed_errors() {
    let err = mutated(|b, _| b[0] = b'X');
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains("expected magic"), "{err}");

    let err = mutated(|b, _| b[4] = 2);
    assert_eq!(err.kind(), ErrorKind::UnknownVersion);
    assert_eq!(
        err.message(),
        "batch format version 2 is unknown: this reader handles version 1"
    );

    let err = mutated(|b, _| b[5] = 1);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    let err = mutated(|b, _| b[7] = 1);
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");

    // The index placed past the end of the bytes.
    let err = mutated(|b, index| set_u32(b, 12, (index + 4096) as u32));
    assert_eq!(err.kind(), ErrorKind::Incomplete, "{err}");
    let err = mutated(|b, _| set_u32(b, 12, u32::MAX));
    assert_eq!(err.kind(), ErrorKind::Incomplete, "{err}");
    // ...or inside the header.
    let err = mutated(|b, _| set_u32(b, 12, 8));
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.message().contains("inside the header"), "{err}");
    // A count the bytes cannot hold, and one that leaves bytes over.
    let err = mutated(|b, _| set_u32(b, 8, u32::MAX));
    assert_eq!(err.kind(), ErrorKind::Incomplete, "{err}");
    let err = mutated(|b, _| set_u32(b, 8, 2));
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[test]
fn corrupt_indexes_are_typed_errors() {
    let entry = |i: usize, index: usize| index + i * BATCH_INDEX_ENTRY_LEN;

    // Misaligned offset.
    let err = mutated(|b, index| {
        let at = entry(1, index);
        let offset = get_u32(b, at);
        set_u32(b, at, offset + 4);
    });
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains("multiple of 16, found"), "{err}");

    // Overlapping: message 1 starts where message 0 does.
    let err = mutated(|b, index| {
        let first = get_u32(b, entry(0, index));
        set_u32(b, entry(1, index), first);
    });
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(
        err.message().contains("overlapping or out of order"),
        "{err}"
    );

    // Non-monotonic: entries 0 and 1 swapped.
    let err = mutated(|b, index| {
        let (e0, e1) = (entry(0, index), entry(1, index));
        let first: [u8; 8] = b[e0..e0 + 8].try_into().unwrap();
        b.copy_within(e1..e1 + 8, e0);
        b[e1..e1 + 8].copy_from_slice(&first);
    });
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains("batch index entry 1"), "{err}");

    // A message inside the header.
    let err = mutated(|b, index| set_u32(b, entry(0, index), 0));
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains("inside the header"), "{err}");

    // A message running past the message region (into the index, or past the end).
    for len in [1_000, u32::MAX] {
        let err = mutated(|b, index| set_u32(b, entry(2, index) + 4, len));
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert!(err.message().contains("past it"), "{err}");
    }
    let err = mutated(|b, index| set_u32(b, entry(2, index), !15u32));
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");

    // A message cut short by its index entry no longer validates.
    let err = mutated(|b, index| {
        let at = entry(0, index) + 4;
        let len = get_u32(b, at);
        set_u32(b, at, len - 8);
    });
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().starts_with("batch message 0: "), "{err}");
}

#[test]
fn random_mutations_never_panic() {
    let (bytes, index) = sample();
    let mut rng = Rng::new(42);
    let mut rejected = 0;
    let mut message_errors = 0;
    for round in 0..3_000 {
        let mut b = bytes.clone();
        let edits = 1 + round % 4;
        for _ in 0..edits {
            // Half the edits hit the header and index, where the structure lives.
            let at = if rng.next_u64() % 2 == 0 {
                let structural: Vec<usize> = (0..16).chain(index..b.len()).collect();
                structural[(rng.next_u64() % structural.len() as u64) as usize]
            } else {
                (rng.next_u64() % b.len() as u64) as usize
            };
            b[at] = rng.next_u64() as u8;
        }
        let mut aligned = rkyv::util::AlignedVec::<16>::new();
        aligned.extend_from_slice(&b);
        match BatchRef::<ChatMessage>::open(&aligned) {
            Ok(batch) => {
                // Whatever validated reads back without trouble.
                for view in batch.iter() {
                    let _ = view.content.len();
                }
                for i in 0..batch.len() {
                    assert!(batch.deserialize(i).is_ok());
                }
            }
            Err(err) => {
                rejected += 1;
                if err.message().starts_with("batch message") {
                    message_errors += 1;
                }
            }
        }
    }
    assert!(
        rejected > 1_000,
        "{rejected} of 3000 mutations were rejected"
    );
    assert!(message_errors > 0, "message validation rejected something");
}

#[test]
fn a_builder_that_failed_is_unchanged() {
    // A value rkyv cannot serialize: an `AsJson` field whose map has keys JSON cannot hold.
    #[derive(rkyv::Archive, rkyv::Serialize)]
    struct Bad {
        #[rkyv(with = zerocodec_codecs::AsJson)]
        map: std::collections::BTreeMap<Vec<u8>, u8>,
    }
    let mut builder = BatchBuilder::<Bad>::new();
    builder
        .append(&Bad {
            map: Default::default(),
        })
        .unwrap();
    let len = builder.batch_len();
    let err = builder
        .append(&Bad {
            map: [(vec![1], 1)].into(),
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
    assert_eq!(builder.batch_len(), len);
    assert_eq!(builder.len(), 1);
    let batch = builder.finish().unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch.get(0).unwrap().map.as_str(), "{}");
}
