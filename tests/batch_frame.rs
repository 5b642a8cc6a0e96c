//! A whole batch as one frame: `BatchCodec`, alone and compressed as a unit.

use zerocodec::frame::FrameHeader;
use zerocodec::{Batch, BatchBuilder, BatchCodec, Codec, CompressionId, ErrorKind, Transform};
use zerocodec_codecs::{Compressed, HybridCodec, Lz4, Policy, Zstd, ZstdDict, ZstdDictionary};
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
        let frame = codec.encode(&batch).unwrap();
        let header = FrameHeader::parse(&frame).unwrap();
        assert_eq!(header.codec, zerocodec::CodecId::BATCH);
        assert_eq!(header.checksum.is_some(), checksum);
        assert_eq!(header.payload_len as usize, batch.as_bytes().len());
        same(&codec.decode(&frame).unwrap(), &msgs);
        // Unaligned input is copied once into a pooled buffer.
        let mut shifted = vec![0u8; frame.len() + 3];
        shifted[3..].copy_from_slice(&frame);
        same(&codec.decode(&shifted[3..]).unwrap(), &msgs);
    }
}

fn compressed_round_trip<X: Transform>(transform: X) -> (usize, usize) {
    let (msgs, batch) = batch(2000);
    let stack = Compressed::new(
        BatchCodec::<ChatMessage>::new().with_checksum(true),
        transform,
    );
    let frame = stack.encode(&batch).unwrap();
    let header = FrameHeader::parse(&frame).unwrap();
    assert_ne!(header.compression, CompressionId::NONE);
    // Version 2 leaves the decompressed size to the compressed format.
    assert_eq!(header.uncompressed_len, None);
    assert!((header.payload_len as usize) < batch.as_bytes().len());
    same(&stack.decode(&frame).unwrap(), &msgs);
    // A plain BatchCodec names the compression rather than misreading the payload.
    let err = BatchCodec::<ChatMessage>::new().decode(&frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownCompression, "{err}");
    (frame.len(), batch.as_bytes().len())
}

#[test]
fn a_batch_compresses_as_a_unit() {
    let (lz4, raw) = compressed_round_trip(Lz4::new());
    let (zstd, _) = compressed_round_trip(Zstd::new(3));
    let dict = ZstdDictionary::train_with(
        &HybridCodec::<ChatMessage>::new(),
        &chat_messages(1, 1000),
        16 * 1024,
    )
    .unwrap();
    let (dicted, _) = compressed_round_trip(ZstdDict::new(dict, 3).unwrap());
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
    let frame = BatchCodec::<ChatMessage>::new().encode(&batch).unwrap();
    let err = BatchCodec::<RpcRequest>::new()
        .decode(&frame)
        .map(drop)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeMismatch, "{err}");
    assert!(err.to_string().contains("RpcRequest"), "{err}");
    // Neither is a batch frame a single message.
    let err = Codec::<ChatMessage>::decode(&HybridCodec::<ChatMessage>::new(), &frame).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::UnknownCodec | ErrorKind::TypeMismatch
        ),
        "{err}"
    );
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
    let stack = Compressed::new(
        BatchCodec::<ChatMessage>::new().with_checksum(true),
        Zstd::new(3),
    );
    let frame = stack.encode(&batch).unwrap().to_vec();
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
    let writer = Compressed::new(BatchCodec::<ChatMessage>::new(), Zstd::new(3));
    let reader = Compressed::new(
        BatchCodec::<ChatMessage>::new(),
        Zstd::new(3).with_policy(small_limit),
    );
    let frame = writer.encode(&batch).unwrap();
    let err = reader.decode(&frame).map(drop).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
}
