//! The full stack: `Compressed<HybridCodec<T>, X>` with the real lz4, zstd and zstd-dictionary
//! transforms, read back as owned values and as zero-copy views.

use std::sync::Arc;

use zerocodec::bytes::Bytes;
use zerocodec::frame::FrameHeader;
use zerocodec::{Codec, CompressionId, ErrorKind, Message, Transform};
use zerocodec_codecs::{
    Compressed, DictionaryRegistry, HybridCodec, JsonCodec, Lz4, Policy, Zstd, ZstdDict,
    ZstdDictionary,
};
use zerocodec_datasets::messages::{chat_messages, rpc_requests};
use zerocodec_datasets::{ChatMessage, RpcRequest};

fn dictionary() -> Arc<ZstdDictionary> {
    let samples = chat_messages(0xD1C7, 1000);
    Arc::new(
        ZstdDictionary::train_with(&HybridCodec::<ChatMessage>::new(), &samples, 8 * 1024).unwrap(),
    )
}

/// Every message survives `decode` and `access_owned` through the stack, and the header records
/// how each payload was stored.
fn round_trip<X: Transform + Clone>(transform: X, expect_compressed: Option<bool>) {
    for checksum in [false, true] {
        let stack = Compressed::new(
            HybridCodec::<ChatMessage>::new().with_checksum(checksum),
            transform.clone(),
        );
        let mut compressed = 0;
        for msg in chat_messages(7, 200) {
            let frame = stack.encode(&msg).unwrap();
            let header = FrameHeader::parse(&frame).unwrap();
            assert_eq!(header.fingerprint, Some(ChatMessage::SCHEMA_FINGERPRINT));
            assert_eq!(header.checksum.is_some(), checksum);
            if header.compression != CompressionId::NONE {
                compressed += 1;
                // Version 2: no repeated uncompressed length, an unpadded header.
                assert_eq!(header.uncompressed_len, None);
                assert!(
                    header.len() < zerocodec::frame::EXTENDED_HEADER_LEN,
                    "{header:?}"
                );
            }
            assert_eq!(Codec::<ChatMessage>::decode(&stack, &frame).unwrap(), msg);
            let view = stack.access_owned(frame.clone()).unwrap();
            assert_eq!(view.content, msg.content);
            assert_eq!(view.deserialize().unwrap(), msg);
        }
        if let Some(expected) = expect_compressed {
            assert_eq!(compressed > 0, expected, "compressed {compressed} of 200");
        }
    }
    let rpc = Compressed::new(HybridCodec::<RpcRequest>::new(), transform);
    for req in rpc_requests(8, 100) {
        let frame = rpc.encode(&req).unwrap();
        assert_eq!(Codec::<RpcRequest>::decode(&rpc, &frame).unwrap(), req);
    }
}

#[test]
fn lz4_zstd_and_dictionary_stacks_round_trip() {
    // lz4 pays only on some ~150-byte messages and stores the rest raw; zstd and zstd with a
    // dictionary compress them.
    round_trip(Lz4::new(), None);
    round_trip(Zstd::new(3), Some(true));
    round_trip(ZstdDict::new(dictionary(), 3).unwrap(), Some(true));
    // A low minimum size forces lz4 to try; some messages then compress.
    round_trip(
        Lz4::new().with_policy(Policy::new().with_min_size(0).with_min_saving_percent(0)),
        Some(true),
    );
}

#[test]
fn compressed_frames_are_never_larger_than_uncompressed_ones() {
    let plain = HybridCodec::<ChatMessage>::new();
    let stacks = (
        Compressed::new(plain.clone(), Lz4::new()),
        Compressed::new(plain.clone(), Zstd::new(3)),
        Compressed::new(plain.clone(), ZstdDict::new(dictionary(), 3).unwrap()),
    );
    let mut rng = zerocodec_datasets::Rng::new(3);
    for len in [0, 10, 100, 1000, 10_000] {
        // Random (incompressible) content.
        let msg = ChatMessage {
            content: (0..len)
                .map(|_| char::from(b'!' + (rng.next_u64() % 90) as u8))
                .collect(),
            ..chat_messages(1, 1).remove(0)
        };
        let raw = plain.encode(&msg).unwrap().len();
        for frame in [
            stacks.0.encode(&msg).unwrap(),
            stacks.1.encode(&msg).unwrap(),
            stacks.2.encode(&msg).unwrap(),
        ] {
            // The compression fields need the 32-byte header, which a fingerprinted frame
            // already uses, so a raw-stored payload costs nothing extra.
            assert!(
                frame.len() <= raw,
                "{} > {raw} for content of {len}",
                frame.len()
            );
        }
    }
}

#[test]
fn dictionary_stack_beats_plain_zstd_on_held_out_messages() {
    let held_out = chat_messages(0xBEEF, 300);
    let plain = Compressed::new(HybridCodec::<ChatMessage>::new(), Zstd::new(3));
    let dict = Compressed::new(
        HybridCodec::<ChatMessage>::new(),
        ZstdDict::new(dictionary(), 3).unwrap(),
    );
    let size = |f: &dyn Fn(&ChatMessage) -> usize| held_out.iter().map(f).sum::<usize>();
    let plain_bytes = size(&|m| plain.encode(m).unwrap().len());
    let dict_bytes = size(&|m| dict.encode(m).unwrap().len());
    assert!(
        dict_bytes * 10 < plain_bytes * 8,
        "dictionary {dict_bytes} B vs plain zstd {plain_bytes} B"
    );
}

#[test]
fn legacy_json_still_decodes_through_a_compressed_stack() {
    let stack = Compressed::new(HybridCodec::<ChatMessage>::new(), Zstd::new(3));
    let msg = chat_messages(2, 1).remove(0);
    let legacy = JsonCodec.encode(&msg).unwrap();
    assert_eq!(Codec::<ChatMessage>::decode(&stack, &legacy).unwrap(), msg);
    let mut padded = b" \n\t".to_vec();
    padded.extend_from_slice(&legacy);
    assert_eq!(Codec::<ChatMessage>::decode(&stack, &padded).unwrap(), msg);
}

#[test]
fn every_bit_flip_in_a_checksummed_compressed_frame_is_caught() {
    let stack = Compressed::new(
        HybridCodec::<ChatMessage>::new().with_checksum(true),
        ZstdDict::new(dictionary(), 3).unwrap(),
    );
    let msg = chat_messages(5, 1).remove(0);
    let frame = stack.encode(&msg).unwrap().to_vec();
    assert_ne!(
        FrameHeader::parse(&frame).unwrap().compression,
        CompressionId::NONE
    );
    for bit in 0..frame.len() * 8 {
        let mut bad = frame.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let err = Codec::<ChatMessage>::decode(&stack, &bad).expect_err("a flipped bit decoded");
        assert!(
            !matches!(err.kind(), ErrorKind::Io | ErrorKind::Encode),
            "bit {bit}: unexpected kind {err}"
        );
        assert!(stack.access_owned(Bytes::from(bad)).is_err(), "bit {bit}");
    }
}

#[test]
fn every_truncation_of_a_compressed_frame_is_an_error() {
    let stack = Compressed::new(HybridCodec::<ChatMessage>::new(), Zstd::new(3));
    let msg = ChatMessage {
        content: "compress me ".repeat(20),
        ..chat_messages(5, 1).remove(0)
    };
    let frame = stack.encode(&msg).unwrap();
    assert_ne!(
        FrameHeader::parse(&frame).unwrap().compression,
        CompressionId::NONE
    );
    for cut in 0..frame.len() {
        assert!(
            Codec::<ChatMessage>::decode(&stack, &frame[..cut]).is_err(),
            "cut {cut}"
        );
    }
}

#[test]
fn unknown_and_wrong_dictionaries_are_typed_errors() {
    let a = dictionary();
    let b = Arc::new(
        ZstdDictionary::train_with(
            &HybridCodec::<ChatMessage>::new(),
            &chat_messages(0xB, 1000),
            4096,
        )
        .unwrap(),
    );
    assert_ne!(a.id(), b.id());
    let writer = Compressed::new(
        HybridCodec::<ChatMessage>::new(),
        ZstdDict::new(a.clone(), 3).unwrap(),
    );
    let msg = ChatMessage {
        content: "hello ".repeat(10),
        ..chat_messages(9, 1).remove(0)
    };
    let frame = writer.encode(&msg).unwrap();

    // A reader that only knows dictionary b.
    let reader = Compressed::new(
        HybridCodec::<ChatMessage>::new(),
        ZstdDict::new(b.clone(), 3)
            .unwrap()
            .with_registry(DictionaryRegistry::new()),
    );
    let err = Codec::<ChatMessage>::decode(&reader, &frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownDictionary, "{err}");
    assert!(err.to_string().contains(&a.id().to_string()), "{err}");

    // A reader whose registry maps a's id to the right dictionary reads it.
    let registry = DictionaryRegistry::new();
    registry.insert(a.clone());
    let reader = Compressed::new(
        HybridCodec::<ChatMessage>::new(),
        ZstdDict::new(b, 3).unwrap().with_registry(registry),
    );
    assert_eq!(Codec::<ChatMessage>::decode(&reader, &frame).unwrap(), msg);

    // A plain decode of a compressed frame names the compression rather than misreading it.
    let err = Codec::<ChatMessage>::decode(&HybridCodec::<ChatMessage>::new(), &frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownCompression, "{err}");
}

#[test]
fn a_frame_claiming_a_huge_uncompressed_length_is_refused_before_decompressing() {
    // Version 1 records the uncompressed length in the header (version 2 leaves it to the
    // compressed format, whose forged sizes tests/compress_bomb.rs covers).
    let stack = Compressed::new(
        HybridCodec::<ChatMessage>::new().with_format_version(1),
        Zstd::new(3),
    );
    let msg = ChatMessage {
        content: "z".repeat(2000),
        ..chat_messages(5, 1).remove(0)
    };
    let mut frame = stack.encode(&msg).unwrap().to_vec();
    let header = FrameHeader::parse(&frame).unwrap();
    let claimed = header.uncompressed_len.unwrap();
    // Find the recorded uncompressed length in the header and make it huge.
    let pos = frame[..header.len()]
        .windows(4)
        .position(|w| w == claimed.to_le_bytes())
        .expect("uncompressed length is stored little-endian in the header");
    frame[pos..pos + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = Codec::<ChatMessage>::decode(&stack, &frame).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::TooLarge | ErrorKind::Corrupt),
        "{err}"
    );
}

mod v1 {
    /// The first shape of a chat message.
    #[zerocodec::message]
    #[derive(Debug, Clone, PartialEq)]
    pub struct ChatMessageV1 {
        pub id: String,
        pub content: String,
        pub timestamp: u64,
    }
}

mod v2 {
    /// The second shape: a field added.
    #[zerocodec::message]
    #[derive(Debug, Clone, PartialEq)]
    pub struct ChatMessageV2 {
        pub id: String,
        pub content: String,
        pub timestamp: u64,
        pub edited: bool,
    }
}

#[test]
fn a_frame_written_for_v1_read_as_v2_is_a_fingerprint_mismatch_naming_both() {
    use v1::ChatMessageV1;
    use v2::ChatMessageV2;
    let old = ChatMessageV1 {
        id: "m".into(),
        content: "hi".into(),
        timestamp: 1,
    };
    for writer_checksum in [false, true] {
        let frame = HybridCodec::<ChatMessageV1>::new()
            .with_checksum(writer_checksum)
            .encode(&old)
            .unwrap();
        let err = Codec::<ChatMessageV2>::decode(&HybridCodec::<ChatMessageV2>::new(), &frame)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TypeMismatch);
        let text = err.to_string();
        assert!(text.contains("ChatMessageV2"), "{text}");
        assert!(
            text.contains(&format!("{:#018x}", ChatMessageV1::SCHEMA_FINGERPRINT))
                || text.contains(&format!("{:016x}", ChatMessageV1::SCHEMA_FINGERPRINT)),
            "{text}"
        );
        assert!(
            text.contains(&format!("{:#018x}", ChatMessageV2::SCHEMA_FINGERPRINT))
                || text.contains(&format!("{:016x}", ChatMessageV2::SCHEMA_FINGERPRINT)),
            "{text}"
        );
        // And through a compressed stack.
        let stack1 = Compressed::new(HybridCodec::<ChatMessageV1>::new(), Zstd::new(3));
        let stack2 = Compressed::new(HybridCodec::<ChatMessageV2>::new(), Zstd::new(3));
        let frame = stack1.encode(&old).unwrap();
        assert_eq!(
            Codec::<ChatMessageV2>::decode(&stack2, &frame)
                .unwrap_err()
                .kind(),
            ErrorKind::TypeMismatch
        );
    }
}
