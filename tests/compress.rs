//! Compression stacks: round trips for every algorithm over every type through JsonCodec and
//! RkyvCodec, the adaptive policy, dictionaries, and bad input.

mod common;
mod compress_data;

use std::fmt::Debug;
use std::sync::Arc;

use common::*;
use compress_data::*;
use zerocodec::bytes::Bytes;
use zerocodec::transform::read_prefix;
use zerocodec::{Codec, CompressionId, ErrorKind, Transform, ZeroCopyCodec};
use zerocodec_codecs::{
    Compressed, DictionaryRegistry, JsonCodec, Lz4, Policy, RkyvCodec, Zstd, ZstdDict,
    ZstdDictionary,
};
use zerocodec_datasets::{ChatMessage, RpcRequest};

/// Always try to compress, keep any saving: exercises the compressed paths on small values.
const EAGER: Policy = Policy::new().with_min_size(0).with_min_saving_percent(0);

fn chat_dictionary() -> Arc<ZstdDictionary> {
    Arc::new(
        ZstdDictionary::train_with(&JsonCodec, &chat_messages(TRAIN_SEED, 1000), 8 << 10).unwrap(),
    )
}

trait Value:
    serde::Serialize
    + serde::de::DeserializeOwned
    + zerocodec::ZeroCopyEncode
    + zerocodec::ZeroCopyDecode
    + PartialEq
    + Debug
{
}
impl<T> Value for T where
    T: serde::Serialize
        + serde::de::DeserializeOwned
        + zerocodec::ZeroCopyEncode
        + zerocodec::ZeroCopyDecode
        + PartialEq
        + Debug
{
}

/// Round-trips `value` through `Compressed<Json, X>` and `Compressed<Rkyv, X>`, by decode and
/// by access_owned; returns the compression ids used (json, rkyv).
fn round_trip<T: Value, X: Transform + Clone>(value: &T, transform: &X) -> [CompressionId; 2] {
    let json = Compressed::new(JsonCodec, transform.clone());
    let bytes = json.encode(value).unwrap();
    assert_eq!(&json.decode::<T>(&bytes).unwrap(), value);
    let raw_json = JsonCodec.encode(value).unwrap();
    let prefix = read_prefix(&bytes).unwrap();
    assert!(
        bytes.len() <= raw_json.len() + prefix.len,
        "never larger than raw + prefix"
    );

    let rkyv = Compressed::new(RkyvCodec::new(), transform.clone());
    let rbytes = rkyv.encode(value).unwrap();
    assert_eq!(&rkyv.decode::<T>(&rbytes).unwrap(), value);
    let owned = rkyv.access_owned::<T>(rbytes.clone()).unwrap();
    assert_eq!(&owned.deserialize().unwrap(), value);
    let raw_rkyv = RkyvCodec::new().encode(value).unwrap();
    let rprefix = read_prefix(&rbytes).unwrap();
    assert!(rbytes.len() <= raw_rkyv.len() + rprefix.len);

    // encode_into appends after existing bytes and leaves them alone.
    let mut buf = b"keep".to_vec();
    json.encode_into(value, &mut buf).unwrap();
    assert_eq!(&buf[..4], b"keep");
    assert_eq!(&json.decode::<T>(&buf[4..]).unwrap(), value);
    [prefix.compression, rprefix.compression]
}

fn every_type<X: Transform + Clone>(transform: &X) -> Vec<CompressionId> {
    let mut ids = Vec::new();
    ids.extend(round_trip(&chat(), transform));
    ids.extend(round_trip(&rpc(), transform));
    ids.extend(round_trip(&nested(), transform));
    ids.extend(round_trip(&Level::High, transform));
    ids.extend(round_trip(
        &vec![
            Shape::Point,
            Shape::Circle(2.5),
            Shape::Poly(vec![(1, 2); 40]),
        ],
        transform,
    ));
    ids.extend(round_trip(&String::new(), transform));
    ids.extend(round_trip(&"zerocodec ".repeat(500), transform));
    ids.extend(round_trip(&Some(7u64), transform));
    for msg in chat_messages(HELD_OUT_SEED, 40) {
        ids.extend(round_trip(&msg, transform));
    }
    for req in rpc_requests(HELD_OUT_SEED, 40) {
        ids.extend(round_trip(&req, transform));
    }
    ids
}

#[test]
fn lz4_round_trips_every_type() {
    for policy in [Policy::new(), EAGER] {
        let ids = every_type(&Lz4::new().with_policy(policy));
        assert!(ids.contains(&CompressionId::LZ4), "some payloads compress");
        assert!(
            ids.contains(&CompressionId::NONE),
            "tiny payloads are stored raw"
        );
    }
}

#[test]
fn zstd_round_trips_every_type_at_every_level() {
    for level in [-5, 1, 3, 19] {
        for policy in [Policy::new(), EAGER] {
            let ids = every_type(&Zstd::new(level).with_policy(policy));
            assert!(ids.contains(&CompressionId::ZSTD), "level {level}");
            assert!(ids.contains(&CompressionId::NONE), "level {level}");
        }
    }
}

#[test]
fn zstd_dict_round_trips_every_type() {
    let dict = chat_dictionary();
    for policy in [Policy::new(), EAGER] {
        let ids = every_type(&ZstdDict::new(dict.clone(), 3).unwrap().with_policy(policy));
        assert!(ids.contains(&CompressionId::ZSTD));
        assert!(ids.contains(&CompressionId::NONE));
    }
}

#[test]
fn incompressible_input_is_stored_raw() {
    let mut rng = Rng::new(0xBADC0DE);
    let dict = chat_dictionary();
    for len in [0, 1, 63, 64, 65, 200, 4096, 100_000] {
        let noise: Vec<u8> = rng.bytes(len);
        let raw = RkyvCodec::new().encode(&noise).unwrap();
        let check = |frame: Bytes| {
            let prefix = read_prefix(&frame).unwrap();
            assert_eq!(prefix.compression, CompressionId::NONE, "len {len}");
            assert_eq!(
                prefix.dictionary, None,
                "raw payloads carry no dictionary id"
            );
            assert_eq!(frame.len(), raw.len() + 2, "len {len}");
        };
        check(
            Compressed::new(RkyvCodec::new(), Lz4::new())
                .encode(&noise)
                .unwrap(),
        );
        check(
            Compressed::new(RkyvCodec::new(), Zstd::new(3))
                .encode(&noise)
                .unwrap(),
        );
        check(
            Compressed::new(RkyvCodec::new(), ZstdDict::new(dict.clone(), 3).unwrap())
                .encode(&noise)
                .unwrap(),
        );
        // And at the transform level: out grows by exactly the input.
        for id in [
            Lz4::new().compress_into(&noise, &mut Vec::new()).unwrap(),
            Zstd::default()
                .compress_into(&noise, &mut Vec::new())
                .unwrap(),
        ] {
            assert_eq!(id, CompressionId::NONE);
        }
    }
}

#[test]
fn policy_thresholds_decide_raw_or_compressed() {
    let text = "abcabcabcabc".repeat(8); // 96 bytes, very compressible
    for (policy, expect) in [
        (Policy::new(), CompressionId::ZSTD),
        (Policy::new().with_min_size(97), CompressionId::NONE),
        (
            Policy::new().with_min_saving_percent(100),
            CompressionId::NONE,
        ),
        (
            Policy::new().with_min_saving_percent(50),
            CompressionId::ZSTD,
        ),
        (
            Policy::new().with_max_decompressed_len(95),
            CompressionId::NONE,
        ),
    ] {
        let mut out = Vec::new();
        let id = Zstd::new(3)
            .with_policy(policy)
            .compress_into(text.as_bytes(), &mut out)
            .unwrap();
        assert_eq!(id, expect, "{policy:?}");
        if id == CompressionId::NONE {
            assert_eq!(out, text.as_bytes());
        } else {
            let saving = 100 * (text.len() - out.len()) / text.len();
            assert!(saving >= usize::from(policy.min_saving_percent()));
        }
    }
    // A margin the compressor cannot reach stores raw: ~30% saving wanted at 90%.
    let mut rng = Rng::new(11);
    let half: Vec<u8> = rng
        .bytes(400)
        .into_iter()
        .zip(std::iter::repeat(b'x'))
        .flat_map(|(a, b)| [a, b])
        .collect();
    let mut out = Vec::new();
    let strict = Lz4::new().with_policy(Policy::new().with_min_saving_percent(90));
    assert_eq!(
        strict.compress_into(&half, &mut out).unwrap(),
        CompressionId::NONE
    );
    assert_eq!(out, half);
}

/// Sum of frame lengths / sum of raw encodings over `values`.
fn ratio<T, C: Codec<T> + Copy, X: Transform + Clone>(inner: C, transform: &X, values: &[T]) -> f64
where
    Compressed<C, X>: Codec<T>,
{
    let codec = Compressed::new(inner, transform.clone());
    let (mut framed, mut raw) = (0usize, 0usize);
    for value in values {
        let frame = codec.encode(value).unwrap();
        assert!(codec.decode(&frame).is_ok());
        framed += frame.len();
        raw += inner.encode(value).unwrap().len();
    }
    framed as f64 / raw as f64
}

#[test]
fn trained_dictionary_beats_plain_zstd_on_held_out_messages() {
    let policy = Policy::new().with_min_size(0);
    let plain = Zstd::new(3).with_policy(policy);
    let chats_train = chat_messages(TRAIN_SEED, 1000);
    let chats = chat_messages(HELD_OUT_SEED, 300);
    let rpcs_train = rpc_requests(TRAIN_SEED, 1000);
    let rpcs = rpc_requests(HELD_OUT_SEED, 300);

    let mut report = Vec::new();
    macro_rules! compare {
        ($name:literal, $codec:expr, $train:expr, $held:expr) => {{
            let dict = ZstdDictionary::train_with(&$codec, &$train, 8 << 10).unwrap();
            let with_dict = ZstdDict::new(dict, 3).unwrap().with_policy(policy);
            let d = ratio($codec, &with_dict, &$held);
            let p = ratio($codec, &plain, &$held);
            report.push(format!("{}: dictionary {d:.3}, plain zstd {p:.3}", $name));
            assert!(d < p, "{}: dictionary {d:.3} vs plain {p:.3}", $name);
            assert!(
                d < 0.75,
                "{}: a dictionary should save a quarter, got {d:.3}",
                $name
            );
        }};
    }
    compare!("chat json", JsonCodec, chats_train, chats);
    compare!("chat rkyv", RkyvCodec::new(), chats_train, chats);
    compare!("rpc json", JsonCodec, rpcs_train, rpcs);
    compare!("rpc rkyv", RkyvCodec::new(), rpcs_train, rpcs);
    eprintln!(
        "held-out frame bytes / raw bytes (300 messages each):\n{}",
        report.join("\n")
    );
}

/// Compressed frames of a few messages for every transform (forced to compress).
fn compressed_frames() -> Vec<(&'static str, Bytes, ZstdDict)> {
    let dict = chat_dictionary();
    let reader = ZstdDict::new(dict.clone(), 3).unwrap();
    let mut frames = Vec::new();
    let mut chatty = chat();
    chatty.content = "see you at the meeting, see you at the meeting! ".repeat(3);
    for msg in chat_messages(HELD_OUT_SEED, 3)
        .iter()
        .chain([&chat(), &chatty])
    {
        let lz4 = Compressed::new(JsonCodec, Lz4::new().with_policy(EAGER));
        let zstd = Compressed::new(JsonCodec, Zstd::new(3).with_policy(EAGER));
        let zdict = Compressed::new(JsonCodec, reader.clone().with_policy(EAGER));
        for (name, frame) in [
            ("lz4", lz4.encode(msg).unwrap()),
            ("zstd", zstd.encode(msg).unwrap()),
            ("zstd-dict", zdict.encode(msg).unwrap()),
        ] {
            // lz4 makes most small messages larger: those are stored raw, and skipped here.
            if read_prefix(&frame).unwrap().compression != CompressionId::NONE {
                frames.push((name, frame, reader.clone()));
            }
        }
    }
    for name in ["lz4", "zstd", "zstd-dict"] {
        assert!(
            frames.iter().any(|(n, ..)| *n == name),
            "no compressed {name} frame"
        );
    }
    frames
}

const TYPED: &[ErrorKind] = &[
    ErrorKind::Incomplete,
    ErrorKind::Corrupt,
    ErrorKind::TypeMismatch,
    ErrorKind::UnknownCompression,
    ErrorKind::UnknownDictionary,
    ErrorKind::TooLarge,
];

#[test]
fn every_truncation_is_a_typed_error() {
    for (name, frame, reader) in compressed_frames() {
        let codec = Compressed::new(JsonCodec, reader);
        for cut in 0..frame.len() {
            let err = codec.decode::<ChatMessage>(&frame[..cut]).unwrap_err();
            assert!(TYPED.contains(&err.kind()), "{name} cut at {cut}: {err}");
            assert_eq!(err.to_string(), err.to_string().to_lowercase(), "{err}");
        }
    }
}

#[test]
fn bit_flips_give_typed_errors_and_never_panic() {
    let (mut flips, mut detected, mut unchanged) = (0, 0, 0);
    for (name, frame, reader) in compressed_frames() {
        let codec = Compressed::new(JsonCodec, reader);
        let original = codec.decode::<ChatMessage>(&frame).unwrap();
        let prefix = read_prefix(&frame).unwrap();
        // The structure: prefix, lz4 length varint or the zstd frame's descriptor (zerocodec
        // writes zstd frames without their magic number; the prefix names the algorithm).
        let structural = prefix.len + 1;
        // The descriptor's bit 4 is unused: zstd ignores it.
        let unused_bit = (prefix.len * 8 + 4, name != "lz4");
        for bit in 0..frame.len() * 8 {
            let mut bad = frame.to_vec();
            bad[bit / 8] ^= 1 << (bit % 8);
            flips += 1;
            match codec.decode::<ChatMessage>(&bad) {
                Err(err) => {
                    detected += 1;
                    assert!(TYPED.contains(&err.kind()), "{name} bit {bit}: {err}");
                }
                // A flip in literal bytes can decode to other bytes, and zstd ignores its
                // descriptor's unused bit: only a checksum (the hybrid frame's) could tell.
                // What decodes is still a whole, validated value.
                Ok(value) => {
                    assert!(
                        bit / 8 >= structural || unused_bit == (bit, true),
                        "{name}: flip of header bit {bit} went unseen"
                    );
                    if value == original {
                        unchanged += 1;
                    }
                }
            }
        }
    }
    eprintln!("bit flips detected: {detected} of {flips}; {unchanged} decoded unchanged");
    assert!(
        detected * 2 > flips,
        "most flips are detected: {detected} of {flips}"
    );
}

#[test]
fn unknown_and_wrong_dictionaries_are_typed_errors() {
    let chat_dict = chat_dictionary();
    let rpc_dict = Arc::new(
        ZstdDictionary::train_with(&JsonCodec, &rpc_requests(TRAIN_SEED, 1000), 8 << 10).unwrap(),
    );
    assert_ne!(chat_dict.id(), rpc_dict.id());
    let writer = Compressed::new(JsonCodec, ZstdDict::new(chat_dict.clone(), 3).unwrap());
    let msg = chat_messages(HELD_OUT_SEED, 1).remove(0);
    let frame = writer.encode(&msg).unwrap();
    assert_eq!(
        read_prefix(&frame).unwrap().dictionary,
        Some(chat_dict.id())
    );

    // A reader with another dictionary and an empty registry: unknown.
    let other = Compressed::new(JsonCodec, ZstdDict::new(rpc_dict.clone(), 3).unwrap());
    let err = other.decode::<ChatMessage>(&frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownDictionary, "{err}");
    assert!(
        err.to_string().contains(&chat_dict.id().to_string()),
        "{err}"
    );
    assert!(
        err.to_string().contains(&rpc_dict.id().to_string()),
        "{err}"
    );
    // Plain zstd and lz4 readers know no dictionary.
    for err in [
        Compressed::new(JsonCodec, Zstd::default())
            .decode::<ChatMessage>(&frame)
            .unwrap_err(),
        Compressed::new(JsonCodec, Lz4::new())
            .decode::<ChatMessage>(&frame)
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::UnknownDictionary, "{err}");
    }

    // With the registry it reads it.
    let registry = DictionaryRegistry::new();
    registry.insert(chat_dict.clone());
    let reader = Compressed::new(
        JsonCodec,
        ZstdDict::new(rpc_dict.clone(), 3)
            .unwrap()
            .with_registry(registry.clone()),
    );
    assert_eq!(reader.decode::<ChatMessage>(&frame).unwrap(), msg);

    // The payload names the rpc dictionary, but the frame was made with the chat one: the
    // reader knows both. The zstd frame does not repeat the id (the prefix holds it), so this
    // is caught by zstd's own checks here, and in general by them, the inner codec's
    // validation, or a frame checksum: an error, never a silently different value.
    registry.insert(rpc_dict.clone());
    let mut wrong = frame.to_vec();
    wrong[2..6].copy_from_slice(&rpc_dict.id().to_le_bytes());
    let err = reader.decode::<ChatMessage>(&wrong).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("dictionary"), "{err}");

    // The payload names no dictionary, but the frame needs one.
    let mut unnamed = vec![CompressionId::ZSTD.0, 0];
    unnamed.extend_from_slice(&frame[6..]);
    let err = reader.decode::<ChatMessage>(&unnamed).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");

    // Removing a dictionary makes it unknown again.
    registry.remove(chat_dict.id());
    let err = reader.decode::<ChatMessage>(&frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownDictionary, "{err}");
}

#[test]
fn dictionaries_load_from_bytes_and_reject_garbage() {
    let dict = chat_dictionary();
    let copy = ZstdDictionary::from_bytes(dict.as_bytes().to_vec()).unwrap();
    assert_eq!(copy.id(), dict.id());
    // A frame written with one instance reads with the other.
    let msg = chat();
    let frame = Compressed::new(JsonCodec, ZstdDict::new(dict.clone(), 5).unwrap())
        .encode(&msg)
        .unwrap();
    let reader = Compressed::new(JsonCodec, ZstdDict::new(copy, 1).unwrap());
    assert_eq!(reader.decode::<ChatMessage>(&frame).unwrap(), msg);

    let err = ZstdDictionary::from_bytes(b"just some raw content".to_vec()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    let mut broken = dict.as_bytes()[..64].to_vec();
    broken.extend_from_slice(&[0xFF; 64]);
    assert!(ZstdDictionary::from_bytes(broken).is_err());
    let err = ZstdDictionary::train(&["too", "few"], 4096).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
    assert!(err.to_string().contains("2 samples"), "{err}");
}

#[test]
fn payloads_name_their_algorithm_and_any_reader_reads_them() {
    let msg = "a message that repeats itself ".repeat(20);
    let dict = chat_dictionary();
    let writers: [(&str, Bytes); 3] = [
        (
            "lz4",
            Compressed::new(JsonCodec, Lz4::new()).encode(&msg).unwrap(),
        ),
        (
            "zstd",
            Compressed::new(JsonCodec, Zstd::new(9))
                .encode(&msg)
                .unwrap(),
        ),
        (
            "raw",
            Compressed::new(
                JsonCodec,
                Zstd::new(9).with_policy(Policy::new().with_min_size(10_000)),
            )
            .encode(&msg)
            .unwrap(),
        ),
    ];
    for (name, frame) in &writers {
        assert_eq!(
            Compressed::new(JsonCodec, Lz4::new())
                .decode::<String>(frame)
                .unwrap(),
            msg,
            "{name}"
        );
        assert_eq!(
            Compressed::new(JsonCodec, Zstd::default())
                .decode::<String>(frame)
                .unwrap(),
            msg,
            "{name}"
        );
        let reader = Compressed::new(JsonCodec, ZstdDict::new(dict.clone(), 3).unwrap());
        assert_eq!(reader.decode::<String>(frame).unwrap(), msg, "{name}");
    }
    // An algorithm id nobody assigned.
    let mut unknown = writers[1].1.to_vec();
    unknown[0] = 9;
    let err = Compressed::new(JsonCodec, Zstd::default())
        .decode::<String>(&unknown)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownCompression, "{err}");
    assert!(err.to_string().contains("9"), "{err}");
    // lz4 never takes a dictionary.
    let mut lz4_dict = vec![CompressionId::LZ4.0, 1, 1, 0, 0, 0];
    lz4_dict.extend_from_slice(&writers[0].1[2..]);
    let err = Compressed::new(JsonCodec, Lz4::new())
        .decode::<String>(&lz4_dict)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[test]
fn malformed_zstd_frames_are_rejected() {
    let codec = Compressed::new(JsonCodec, Zstd::default());
    let msg = "hello hello hello hello hello hello hello hello hello hello hello".to_string();
    let frame = codec.encode(&msg).unwrap();
    assert_eq!(
        read_prefix(&frame).unwrap().compression,
        CompressionId::ZSTD
    );

    // Trailing bytes after the frame.
    let mut trailing = frame.to_vec();
    trailing.extend_from_slice(b"junk");
    let err = codec.decode::<String>(&trailing).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    // Two frames.
    let mut two = frame.to_vec();
    two.extend_from_slice(&frame[2..]);
    assert_eq!(
        codec.decode::<String>(&two).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
    // A valid frame without a content size: descriptor 0, window descriptor, one raw block.
    let json = br#""hi""#;
    let mut no_size = vec![CompressionId::ZSTD.0, 0, 0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x00];
    no_size.extend_from_slice(&[((json.len() as u8) << 3) | 1, 0, 0]);
    no_size.extend_from_slice(json);
    let err = codec.decode::<String>(&no_size).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("content size"), "{err}");
    // Not a zstd frame at all.
    let mut not_zstd = vec![CompressionId::ZSTD.0, 0];
    not_zstd.extend_from_slice(b"{\"json\": true}");
    assert_eq!(
        codec.decode::<String>(&not_zstd).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
}

#[test]
fn borrowed_access_points_to_access_owned() {
    let codec = Compressed::new(RkyvCodec::new(), Zstd::default());
    for value in [chat(), chat_messages(HELD_OUT_SEED, 1).remove(0)] {
        let bytes = codec.encode(&value).unwrap();
        let err = ZeroCopyCodec::<ChatMessage>::access(&codec, &bytes).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert!(err.to_string().contains("access_owned"), "{err}");
        let owned = codec.access_owned::<ChatMessage>(bytes).unwrap();
        assert_eq!(owned.content, value.content);
        assert_eq!(owned.timestamp, value.timestamp);
    }
}

#[test]
fn codec_metadata_is_the_inner_codecs() {
    let c = Compressed::new(JsonCodec, Lz4::new());
    assert_eq!(Codec::<ChatMessage>::codec_id(&c), zerocodec::CodecId::JSON);
    assert_eq!(Codec::<ChatMessage>::content_type(&c), "application/json");
    let r = Compressed::new(RkyvCodec::new(), Zstd::default());
    assert_eq!(Codec::<RpcRequest>::codec_id(&r), zerocodec::CodecId::RKYV);
}

#[test]
fn encode_failure_leaves_the_buffer_intact() {
    let bad: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
    let mut buf = b"keep".to_vec();
    let err = Compressed::new(JsonCodec, Zstd::default())
        .encode_into(&bad, &mut buf)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert_eq!(buf, b"keep");
}

#[test]
fn one_dictionary_transform_serves_many_threads() {
    let codec = Arc::new(Compressed::new(
        RkyvCodec::new(),
        ZstdDict::new(chat_dictionary(), 3).unwrap(),
    ));
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            let codec = codec.clone();
            std::thread::spawn(move || {
                for msg in chat_messages(HELD_OUT_SEED + t, 100) {
                    let bytes = codec.encode(&msg).unwrap();
                    assert_eq!(codec.decode::<ChatMessage>(&bytes).unwrap(), msg);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Compressed<JsonCodec, Lz4>>();
    assert_send_sync::<Compressed<RkyvCodec, Zstd>>();
    assert_send_sync::<Compressed<RkyvCodec, ZstdDict>>();
    assert_send_sync::<ZstdDictionary>();
    assert_send_sync::<DictionaryRegistry>();
    assert_send_sync::<Policy>();
    assert_eq!(size_of::<Compressed<JsonCodec, Lz4>>(), size_of::<Policy>());
}

#[test]
fn zstd_frames_with_their_magic_number_still_decode() {
    // Writers leave the magic out (the prefix names zstd); frames written with it, by
    // earlier writers or the zstd library itself, read the same.
    let msg = chat_messages(3, 1).remove(0);
    let json = JsonCodec.encode(&msg).unwrap();
    let standard = zstd::bulk::compress(&json, 3).unwrap();
    assert_eq!(&standard[..4], &[0x28, 0xB5, 0x2F, 0xFD]);
    let codec = Compressed::new(JsonCodec, Zstd::default());
    for payload in [&standard[..], &standard[4..]] {
        let mut framed = vec![CompressionId::ZSTD.0, 0];
        framed.extend_from_slice(payload);
        assert_eq!(codec.decode::<ChatMessage>(&framed).unwrap(), msg);
    }
    // What the writer writes: the same frame, less its magic number.
    let written = Compressed::new(
        JsonCodec,
        Zstd::new(3).with_policy(Policy::new().with_min_size(0)),
    )
    .encode(&msg)
    .unwrap();
    assert_eq!(written[0], CompressionId::ZSTD.0);
    assert_eq!(&written[2..], &standard[4..]);
}
