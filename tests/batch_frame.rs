//! A whole batch as one frame: `BatchCodec`, alone and compressed as a unit.

use std::sync::Arc;

use zerocodec::frame::{FrameHeader, MAX_HEADER_LEN};
use zerocodec::prelude::*;
use zerocodec::{CodecId, CompressionId, ErrorKind, Message};
use zerocodec_codecs::{
    BATCH_CONTENT_TYPE, Batch, BatchBuilder, BatchCodec, Compression, DictionaryRegistry,
    HybridCodec, Policy, RkyvCodec, ZstdDictionary,
};
use zerocodec_datasets::messages::chat_messages;
use zerocodec_datasets::{ChatMessage, RpcRequest};

fn batch(n: usize) -> (Vec<ChatMessage>, Batch<ChatMessage>) {
    let msgs = chat_messages(0xBA7C, n);
    let mut builder = BatchBuilder::new();
    for m in &msgs {
        builder.append(m).unwrap();
    }
    (msgs, builder.finish().unwrap())
}

fn same(batch: &Batch<ChatMessage>, msgs: &[ChatMessage]) {
    assert_eq!(batch.len(), msgs.len());
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(batch.deserialize(i).unwrap(), *m);
    }
}

#[test]
fn a_batch_round_trips_as_one_frame() {
    let (msgs, batch) = batch(2000);
    for checksum in [false, true] {
        let codec = BatchCodec::<ChatMessage>::new().with_checksum(checksum);
        // The codec writes a frame; the frame's payload is a batch.
        assert_eq!(codec.codec_id(), CodecId::FRAME);
        assert_eq!(codec.content_type(), BATCH_CONTENT_TYPE);
        let frame = codec.encode(&batch).unwrap();
        let header = FrameHeader::parse(&frame).unwrap();
        assert_eq!(header.codec, CodecId::BATCH);
        assert_eq!(header.checksum.is_some(), checksum);
        assert_eq!(header.fingerprint, Some(ChatMessage::SCHEMA_FINGERPRINT));
        assert_eq!(header.compression, CompressionId::NONE);
        assert_eq!(header.payload_len as usize, batch.as_bytes().len());
        same(&codec.decode(&frame).unwrap(), &msgs);
        // Unaligned input is copied once into a pooled buffer.
        let mut shifted = vec![0u8; frame.len() + 3];
        shifted[3..].copy_from_slice(&frame);
        same(&codec.decode(&shifted[3..]).unwrap(), &msgs);
    }
    // The checksum is on by default: batches are what gets stored.
    assert!(BatchCodec::<ChatMessage>::new().checksum());
}

/// Bytes of a LEB128 length field.
fn leb128_len(mut n: u32) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn compressed_round_trip(
    compression: Compression,
    registry: &DictionaryRegistry,
) -> (usize, usize) {
    let (msgs, batch) = batch(2000);
    let stack = BatchCodec::<ChatMessage>::new()
        .with_checksum(true)
        .with_compression(compression.clone());
    let frame = stack.encode(&batch).unwrap();
    let header = FrameHeader::parse(&frame).unwrap();
    assert_ne!(header.compression, CompressionId::NONE);
    assert_eq!(header.dictionary, compression.dictionary_id());
    // Version 2 leaves the decompressed size to the compressed format: the header is exactly
    // magic, version, codec, flags, compression id, checksum, length, fingerprint and
    // dictionary id, unpadded.
    let fields = 5
        + 4
        + leb128_len(header.payload_len)
        + 8
        + if header.dictionary.is_some() { 4 } else { 0 };
    assert_eq!(header.len(), fields, "{header:?}");
    assert!(header.len() < MAX_HEADER_LEN);
    assert!((header.payload_len as usize) < batch.as_bytes().len());
    same(&stack.decode(&frame).unwrap(), &msgs);
    // A plain BatchCodec reads every algorithm; a dictionary it must know.
    let plain = BatchCodec::<ChatMessage>::new();
    match header.dictionary {
        None => same(&plain.decode(&frame).unwrap(), &msgs),
        Some(id) => {
            let err = plain.decode(&frame).map(drop).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnknownDictionary, "{err}");
            assert!(err.to_string().contains(&id.to_string()), "{err}");
            let reader = plain.with_dictionaries(registry.clone());
            same(&reader.decode(&frame).unwrap(), &msgs);
        }
    }
    (frame.len(), batch.as_bytes().len())
}

#[test]
fn a_batch_compresses_as_a_unit() {
    let dict = ZstdDictionary::train_with(
        &RkyvCodec::<ChatMessage>::new(),
        &chat_messages(1, 1000),
        16 * 1024,
    )
    .unwrap();
    let dict = Arc::new(dict);
    let registry = DictionaryRegistry::new();
    registry.insert(dict.clone());
    let (lz4, raw) = compressed_round_trip(Compression::Lz4, &registry);
    let (zstd, _) = compressed_round_trip(Compression::Zstd(3), &registry);
    let (dicted, _) = compressed_round_trip(Compression::zstd_dict(dict, 3).unwrap(), &registry);
    // Many messages share structure, so a whole batch compresses far better than one message.
    assert!(lz4 * 10 < raw * 6, "lz4 {lz4} of {raw}");
    assert!(zstd * 10 < raw * 4, "zstd {zstd} of {raw}");
    assert!(
        dicted <= zstd + zstd / 10,
        "dictionary {dicted} vs zstd {zstd}"
    );
}

#[test]
fn a_batch_of_one_type_is_not_read_as_another() {
    let (_, batch) = batch(10);
    for compression in [Compression::None, Compression::Zstd(3)] {
        let codec = BatchCodec::<ChatMessage>::new().with_compression(compression.clone());
        let frame = codec.encode(&batch).unwrap();
        let err = BatchCodec::<RpcRequest>::new()
            .with_compression(compression)
            .decode(&frame)
            .map(drop)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TypeMismatch, "{err}");
        assert!(err.to_string().contains("RpcRequest"), "{err}");
        // Neither is a batch frame a single message.
        let err = HybridCodec::<ChatMessage>::new()
            .decode(&frame)
            .unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::UnknownCodec | ErrorKind::TypeMismatch
            ),
            "{err}"
        );
    }
    // Nor a single message frame a batch.
    let one = HybridCodec::<ChatMessage>::new()
        .encode(&chat_messages(3, 1)[0])
        .unwrap();
    let err = BatchCodec::<ChatMessage>::new()
        .decode(&one)
        .map(drop)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownCodec, "{err}");
}

#[test]
fn corrupt_and_truncated_batch_frames_are_typed_errors() {
    let (_, batch) = batch(40);
    let stack = BatchCodec::<ChatMessage>::new()
        .with_checksum(true)
        .with_compression(Compression::Zstd(3));
    let frame = stack.encode(&batch).unwrap().to_vec();
    assert!(FrameHeader::parse(&frame).unwrap().is_compressed());
    for cut in 0..frame.len() {
        assert!(stack.decode(&frame[..cut]).is_err(), "cut {cut}");
    }
    for bit in (0..frame.len() * 8).step_by(3) {
        let mut bad = frame.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let err = stack
            .decode(&bad)
            .map(drop)
            .expect_err("a flipped bit decoded");
        assert!(
            !matches!(err.kind(), ErrorKind::Io | ErrorKind::Encode),
            "bit {bit}: {err}"
        );
    }
}

#[test]
fn a_claimed_uncompressed_size_over_the_limit_is_refused_first() {
    let (_, batch) = batch(200);
    let small_limit = Policy::new().with_max_decompressed_len(1024);
    let writer = BatchCodec::<ChatMessage>::new().with_compression(Compression::Zstd(3));
    let frame = writer.encode(&batch).unwrap();
    assert!(FrameHeader::parse(&frame).unwrap().is_compressed());
    for reader in [
        BatchCodec::<ChatMessage>::new()
            .with_compression(Compression::Zstd(3))
            .with_policy(small_limit),
        BatchCodec::<ChatMessage>::new().with_policy(small_limit),
    ] {
        let err = reader.decode(&frame).map(drop).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    }
}
