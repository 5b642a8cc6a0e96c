//! Compression in frames: round trips for every algorithm over every type through
//! `Compressed<JsonCodec>` and `Compressed<RkyvCodec>`, the adaptive policy, dictionaries,
//! and bad input.

mod common;
mod compress_data;

use std::fmt::Debug;
use std::sync::Arc;

use common::*;
use compress_data::*;
use zerocodec::bytes::Bytes;
use zerocodec::frame::{Frame, FrameHeader, FrameWriter, MAX_HEADER_LEN};
use zerocodec::prelude::*;
use zerocodec::{CodecId, CompressionId, ErrorKind};
use zerocodec_codecs::{
    Compressed, Compression, DictionaryRegistry, FRAME_CONTENT_TYPE, JsonCodec, Policy, RkyvCodec,
    ZstdDict, ZstdDictionary,
};
use zerocodec_datasets::{ChatMessage, RpcRequest};

/// Always try to compress, keep any saving: exercises the compressed paths on small values.
const EAGER: Policy = Policy::new().with_min_size(0).with_min_saving_percent(0);

fn chat_dictionary() -> Arc<ZstdDictionary> {
    Arc::new(
        ZstdDictionary::train_with(
            &JsonCodec::<ChatMessage>::new(),
            &chat_messages(TRAIN_SEED, 1000),
            8 << 10,
        )
        .unwrap(),
    )
}

/// The header of a frame.
fn header(frame: &[u8]) -> FrameHeader {
    *Frame::parse(frame).unwrap().header()
}

/// The payload of a frame, as stored.
fn payload(frame: &[u8]) -> &[u8] {
    Frame::parse(frame).unwrap().payload()
}

/// A frame holding `payload` as stored, its header naming `codec`, `compression` and
/// `dictionary`: what a writer makes, or what a forger does.
fn frame_with(
    codec: CodecId,
    compression: CompressionId,
    dictionary: Option<u32>,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    let writer = FrameWriter::begin(&mut out, MAX_HEADER_LEN);
    out.extend_from_slice(payload);
    let header = FrameHeader::new(codec).with_compression(compression, dictionary);
    writer.finish(&mut out, header).unwrap();
    out
}

/// The length of the frame that stores a `len`-byte `codec` payload raw, without a checksum
/// or fingerprint (what `Compressed` writes when compressing does not pay).
fn raw_frame_len(codec: CodecId, len: usize) -> usize {
    let mut header = FrameHeader::new(codec);
    header.payload_len = len as u32;
    header.frame_len()
}

trait Value:
    serde::Serialize
    + serde::de::DeserializeOwned
    + zerocodec_codecs::ZeroCopyEncode
    + zerocodec::ZeroCopyDecode
    + PartialEq
    + Debug
{
}
impl<T> Value for T where
    T: serde::Serialize
        + serde::de::DeserializeOwned
        + zerocodec_codecs::ZeroCopyEncode
        + zerocodec::ZeroCopyDecode
        + PartialEq
        + Debug
{
}

/// Round-trips `value` through `Compressed<Json>` and `Compressed<Rkyv>`, by decode and by
/// access_owned; returns the compression ids used (json, rkyv).
fn round_trip<T: Value>(
    value: &T,
    compression: &Compression,
    policy: Policy,
) -> [CompressionId; 2] {
    let json = Compressed::new(JsonCodec::new(), compression.clone()).with_policy(policy);
    let bytes = json.encode(value).unwrap();
    assert_eq!(&json.decode(&bytes).unwrap(), value);
    let raw_json = JsonCodec::new().encode(value).unwrap();
    let h = header(&bytes);
    assert_eq!(h.codec, CodecId::JSON, "the header names the inner codec");
    assert_eq!(h.fingerprint, None);
    assert_eq!(h.checksum, None);
    assert!(
        bytes.len() <= raw_frame_len(CodecId::JSON, raw_json.len()),
        "never larger than raw + header: {} for {} raw",
        bytes.len(),
        raw_json.len()
    );
    if !h.is_compressed() {
        assert_eq!(payload(&bytes), &raw_json[..], "stored raw, unchanged");
    }

    let rkyv = Compressed::new(RkyvCodec::new(), compression.clone()).with_policy(policy);
    let rbytes = rkyv.encode(value).unwrap();
    assert_eq!(&rkyv.decode(&rbytes).unwrap(), value);
    let owned = rkyv.access_owned(rbytes.clone()).unwrap();
    assert_eq!(&owned.deserialize().unwrap(), value);
    let raw_rkyv = RkyvCodec::new().encode(value).unwrap();
    let rh = header(&rbytes);
    assert_eq!(rh.codec, CodecId::RKYV);
    assert!(rbytes.len() <= raw_frame_len(CodecId::RKYV, raw_rkyv.len()));
    if !rh.is_compressed() {
        assert_eq!(payload(&rbytes), &raw_rkyv[..]);
        // A raw payload is read in place.
        assert!(rkyv.access(&rbytes).is_ok());
    }

    // encode_into appends after existing bytes and leaves them alone.
    let mut buf = b"keep".to_vec();
    json.encode_into(value, &mut buf).unwrap();
    assert_eq!(&buf[..4], b"keep");
    assert_eq!(&json.decode(&buf[4..]).unwrap(), value);
    [h.compression, rh.compression]
}

fn every_type(compression: &Compression, policy: Policy) -> Vec<CompressionId> {
    let mut ids = Vec::new();
    ids.extend(round_trip(&chat(), compression, policy));
    ids.extend(round_trip(&rpc(), compression, policy));
    ids.extend(round_trip(&nested(), compression, policy));
    ids.extend(round_trip(&Level::High, compression, policy));
    ids.extend(round_trip(
        &vec![
            Shape::Point,
            Shape::Circle(2.5),
            Shape::Poly(vec![(1, 2); 40]),
        ],
        compression,
        policy,
    ));
    ids.extend(round_trip(&String::new(), compression, policy));
    ids.extend(round_trip(&"zerocodec ".repeat(500), compression, policy));
    ids.extend(round_trip(&Some(7u64), compression, policy));
    for msg in chat_messages(HELD_OUT_SEED, 40) {
        ids.extend(round_trip(&msg, compression, policy));
    }
    for req in rpc_requests(HELD_OUT_SEED, 40) {
        ids.extend(round_trip(&req, compression, policy));
    }
    ids
}

#[test]
fn lz4_round_trips_every_type() {
    for policy in [Policy::new(), EAGER] {
        let ids = every_type(&Compression::Lz4, policy);
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
            let ids = every_type(&Compression::Zstd(level), policy);
            assert!(ids.contains(&CompressionId::ZSTD), "level {level}");
            assert!(ids.contains(&CompressionId::NONE), "level {level}");
        }
    }
}

#[test]
fn zstd_dict_round_trips_every_type() {
    let dict = chat_dictionary();
    for policy in [Policy::new(), EAGER] {
        let ids = every_type(&Compression::zstd_dict(dict.clone(), 3).unwrap(), policy);
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
            let h = header(&frame);
            assert_eq!(h.compression, CompressionId::NONE, "len {len}");
            assert_eq!(h.dictionary, None, "raw payloads carry no dictionary id");
            // The frame grows by exactly the header: a raw payload's, 16 bytes.
            assert_eq!(h.len(), 16, "len {len}");
            assert_eq!(frame.len(), raw.len() + h.len(), "len {len}");
            assert_eq!(payload(&frame), &raw[..], "len {len}");
        };
        for compression in [
            Compression::Lz4,
            Compression::Zstd(3),
            Compression::zstd(),
            Compression::zstd_dict(dict.clone(), 3).unwrap(),
        ] {
            check(
                Compressed::new(RkyvCodec::new(), compression)
                    .encode(&noise)
                    .unwrap(),
            );
        }
    }
}

#[test]
fn policy_thresholds_decide_raw_or_compressed() {
    let text = "abcabcabcabc".repeat(8); // 96 bytes, very compressible
    let raw = JsonCodec::new().encode(&text).unwrap(); // and its quotes
    for (policy, expect) in [
        (Policy::new(), CompressionId::ZSTD),
        (Policy::new().with_min_size(raw.len()), CompressionId::ZSTD),
        (
            Policy::new().with_min_size(raw.len() + 1),
            CompressionId::NONE,
        ),
        (
            Policy::new().with_min_saving_percent(100),
            CompressionId::NONE,
        ),
        (
            Policy::new().with_min_saving_percent(50),
            CompressionId::ZSTD,
        ),
        (
            Policy::new().with_max_decompressed_len(raw.len() - 1),
            CompressionId::NONE,
        ),
    ] {
        let codec = Compressed::new(JsonCodec::new(), Compression::Zstd(3)).with_policy(policy);
        let frame = codec.encode(&text).unwrap();
        assert_eq!(header(&frame).compression, expect, "{policy:?}");
        let stored = payload(&frame);
        if expect == CompressionId::NONE {
            assert_eq!(stored, &raw[..]);
        } else {
            let saving = 100 * (raw.len() - stored.len()) / raw.len();
            assert!(saving >= usize::from(policy.min_saving_percent()));
        }
        // The writer's own policy never writes what it refuses to read.
        assert_eq!(codec.decode(&frame).unwrap(), text);
    }
    // A margin the compressor cannot reach stores raw: ~30% saving wanted at 90%.
    let mut rng = Rng::new(11);
    let half: Vec<u8> = rng
        .bytes(400)
        .into_iter()
        .zip(std::iter::repeat(b'x'))
        .flat_map(|(a, b)| [a, b])
        .collect();
    let strict = Compressed::new(RkyvCodec::new(), Compression::Lz4)
        .with_policy(Policy::new().with_min_saving_percent(90));
    let frame = strict.encode(&half).unwrap();
    assert_eq!(header(&frame).compression, CompressionId::NONE);
    assert_eq!(
        payload(&frame),
        &RkyvCodec::new().encode(&half).unwrap()[..]
    );
    assert_eq!(strict.decode(&frame).unwrap(), half);
}

/// Sum of frame lengths / sum of raw encodings over `values`.
fn ratio<C>(inner: C, compression: &Compression, policy: Policy, values: &[C::Item]) -> f64
where
    C: Encode + Decode + Clone,
{
    let codec = Compressed::new(inner.clone(), compression.clone()).with_policy(policy);
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
    let plain = Compression::Zstd(3);
    let chats_train = chat_messages(TRAIN_SEED, 1000);
    let chats = chat_messages(HELD_OUT_SEED, 300);
    let rpcs_train = rpc_requests(TRAIN_SEED, 1000);
    let rpcs = rpc_requests(HELD_OUT_SEED, 300);

    let mut report = Vec::new();
    macro_rules! compare {
        ($name:literal, $codec:expr, $train:expr, $held:expr) => {{
            let codec = $codec;
            let dict = ZstdDictionary::train_with(&codec, &$train, 8 << 10).unwrap();
            let with_dict = Compression::zstd_dict(dict, 3).unwrap();
            let d = ratio(codec, &with_dict, policy, &$held);
            let p = ratio(codec, &plain, policy, &$held);
            report.push(format!("{}: dictionary {d:.3}, plain zstd {p:.3}", $name));
            assert!(d < p, "{}: dictionary {d:.3} vs plain {p:.3}", $name);
            assert!(
                d < 0.75,
                "{}: a dictionary should save a quarter, got {d:.3}",
                $name
            );
        }};
    }
    compare!(
        "chat json",
        JsonCodec::<ChatMessage>::new(),
        chats_train,
        chats
    );
    compare!(
        "chat rkyv",
        RkyvCodec::<ChatMessage>::new(),
        chats_train,
        chats
    );
    compare!("rpc json", JsonCodec::<RpcRequest>::new(), rpcs_train, rpcs);
    compare!("rpc rkyv", RkyvCodec::<RpcRequest>::new(), rpcs_train, rpcs);
    eprintln!(
        "held-out frame bytes / raw bytes (300 messages each):\n{}",
        report.join("\n")
    );
}

/// Compressed frames of a few messages for every algorithm (forced to compress), and a
/// compression whose reader knows the dictionary.
fn compressed_frames() -> (Vec<(&'static str, Bytes)>, Compression) {
    let dict = chat_dictionary();
    let reader = Compression::zstd_dict(dict, 3).unwrap();
    let mut frames = Vec::new();
    let mut chatty = chat();
    chatty.content = "see you at the meeting, see you at the meeting! ".repeat(3);
    for msg in chat_messages(HELD_OUT_SEED, 3)
        .iter()
        .chain([&chat(), &chatty])
    {
        let json = JsonCodec::<ChatMessage>::new();
        let lz4 = Compressed::new(json, Compression::Lz4).with_policy(EAGER);
        let zstd = Compressed::new(json, Compression::Zstd(3)).with_policy(EAGER);
        let zdict = Compressed::new(json, reader.clone()).with_policy(EAGER);
        for (name, frame) in [
            ("lz4", lz4.encode(msg).unwrap()),
            ("zstd", zstd.encode(msg).unwrap()),
            ("zstd-dict", zdict.encode(msg).unwrap()),
        ] {
            // lz4 makes most small messages larger: those are stored raw, and skipped here.
            if header(&frame).is_compressed() {
                frames.push((name, frame));
            }
        }
    }
    for name in ["lz4", "zstd", "zstd-dict"] {
        assert!(
            frames.iter().any(|(n, ..)| *n == name),
            "no compressed {name} frame"
        );
    }
    (frames, reader)
}

/// What damaged compressed data gives.
const TYPED: &[ErrorKind] = &[
    ErrorKind::Incomplete,
    ErrorKind::Corrupt,
    ErrorKind::TypeMismatch,
    ErrorKind::UnknownCompression,
    ErrorKind::UnknownDictionary,
    ErrorKind::TooLarge,
];

/// What a damaged frame header may give besides.
const HEADER_KINDS: &[ErrorKind] = &[
    ErrorKind::UnknownVersion,
    ErrorKind::UnknownCodec,
    ErrorKind::ChecksumMismatch,
];

#[test]
fn every_truncation_is_a_typed_error() {
    let (frames, reader) = compressed_frames();
    let codec = Compressed::new(JsonCodec::<ChatMessage>::new(), reader);
    for (name, frame) in frames {
        // A frame cut short: its header says how long it is.
        for cut in 0..frame.len() {
            let err = codec.decode(&frame[..cut]).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Incomplete,
                "{name} cut at {cut}: {err}"
            );
            assert_eq!(err.to_string(), err.to_string().to_lowercase(), "{err}");
        }
        // Compressed data cut short, in a frame whose header agrees: the decompressor's own
        // checks.
        let h = header(&frame);
        let stored = payload(&frame);
        for cut in 0..stored.len() {
            let bad = frame_with(h.codec, h.compression, h.dictionary, &stored[..cut]);
            let err = codec.decode(&bad).unwrap_err();
            assert!(
                TYPED.contains(&err.kind()),
                "{name} payload cut at {cut}: {err}"
            );
            assert_eq!(err.to_string(), err.to_string().to_lowercase(), "{err}");
        }
    }
}

#[test]
fn bit_flips_give_typed_errors_and_never_panic() {
    let (mut flips, mut detected, mut unchanged) = (0, 0, 0);
    let (frames, reader) = compressed_frames();
    let codec = Compressed::new(JsonCodec::<ChatMessage>::new(), reader);
    for (name, frame) in frames {
        let original = codec.decode(&frame).unwrap();
        let header_len = header(&frame).len();
        // The structure: the frame header, then the lz4 length varint or the zstd frame's
        // descriptor (zerocodec writes zstd frames without their magic number; the header
        // names the algorithm).
        let structural = header_len + 1;
        // The descriptor's bit 4 is unused: zstd ignores it.
        let unused_bit = (header_len * 8 + 4, name != "lz4");
        for bit in 0..frame.len() * 8 {
            let mut bad = frame.to_vec();
            bad[bit / 8] ^= 1 << (bit % 8);
            flips += 1;
            match codec.decode(&bad) {
                Err(err) => {
                    detected += 1;
                    let in_header = bit / 8 < header_len;
                    assert!(
                        TYPED.contains(&err.kind())
                            || (in_header && HEADER_KINDS.contains(&err.kind())),
                        "{name} bit {bit}: {err}"
                    );
                }
                // A flip in literal bytes can decode to other bytes, and zstd ignores its
                // descriptor's unused bit: only a checksum (`with_checksum`) could tell.
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
fn every_bit_flip_is_caught_with_a_checksum() {
    let reader = Compression::zstd_dict(chat_dictionary(), 3).unwrap();
    let codec = Compressed::new(JsonCodec::<ChatMessage>::new(), reader).with_checksum(true);
    let msg = chat_messages(HELD_OUT_SEED, 1).remove(0);
    let frame = codec.encode(&msg).unwrap();
    assert!(header(&frame).checksum.is_some());
    assert!(header(&frame).is_compressed());
    assert_eq!(codec.decode(&frame).unwrap(), msg);
    for bit in 0..frame.len() * 8 {
        let mut bad = frame.to_vec();
        bad[bit / 8] ^= 1 << (bit % 8);
        let err = codec.decode(&bad).expect_err("a flipped bit decoded");
        assert!(
            TYPED.contains(&err.kind()) || HEADER_KINDS.contains(&err.kind()),
            "bit {bit}: {err}"
        );
    }
}

#[test]
fn unknown_and_wrong_dictionaries_are_typed_errors() {
    let chat_dict = chat_dictionary();
    let rpc_dict = Arc::new(
        ZstdDictionary::train_with(
            &JsonCodec::<RpcRequest>::new(),
            &rpc_requests(TRAIN_SEED, 1000),
            8 << 10,
        )
        .unwrap(),
    );
    assert_ne!(chat_dict.id(), rpc_dict.id());
    let json = JsonCodec::<ChatMessage>::new();
    let with_dict = |dict: &Arc<ZstdDictionary>| Compression::zstd_dict(dict.clone(), 3).unwrap();
    let writer = Compressed::new(json, with_dict(&chat_dict));
    let msg = chat_messages(HELD_OUT_SEED, 1).remove(0);
    let frame = writer.encode(&msg).unwrap();
    let h = header(&frame);
    assert_eq!(h.compression, CompressionId::ZSTD);
    assert_eq!(h.dictionary, Some(chat_dict.id()));
    assert_eq!(
        writer.decode(&frame).unwrap(),
        msg,
        "a writer knows its own"
    );

    // A reader with another dictionary and no registry: unknown.
    let other = Compressed::new(json, with_dict(&rpc_dict));
    let err = other.decode(&frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownDictionary, "{err}");
    assert!(
        err.to_string().contains(&chat_dict.id().to_string()),
        "{err}"
    );
    assert!(
        err.to_string().contains(&rpc_dict.id().to_string()),
        "{err}"
    );
    // Raw, plain zstd and lz4 readers know no dictionary.
    for compression in [Compression::None, Compression::zstd(), Compression::Lz4] {
        let err = Compressed::new(json, compression)
            .decode(&frame)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownDictionary, "{err}");
    }

    // With the registry it reads it, whatever it writes with.
    let registry = DictionaryRegistry::new();
    registry.insert(chat_dict.clone());
    let reader = Compressed::new(json, with_dict(&rpc_dict)).with_dictionaries(registry.clone());
    assert_eq!(reader.decode(&frame).unwrap(), msg);
    let plain = Compressed::new(json, Compression::None).with_dictionaries(registry.clone());
    assert_eq!(plain.decode(&frame).unwrap(), msg);

    // The header names the rpc dictionary, but the data was compressed with the chat one:
    // the reader knows both. The zstd frame does not repeat the id (the header holds it), so
    // this is caught by zstd's own checks here, and in general by them, the inner codec's
    // validation, or a frame checksum: an error, never a silently different value.
    registry.insert(rpc_dict.clone());
    let wrong = frame_with(
        CodecId::JSON,
        CompressionId::ZSTD,
        Some(rpc_dict.id()),
        payload(&frame),
    );
    let err = reader.decode(&wrong).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("dictionary"), "{err}");

    // The header names no dictionary, but the data needs one.
    let unnamed = frame_with(CodecId::JSON, CompressionId::ZSTD, None, payload(&frame));
    let err = reader.decode(&unnamed).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");

    // Removing a dictionary makes it unknown again.
    registry.remove(chat_dict.id());
    let err = reader.decode(&frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownDictionary, "{err}");
    // The registry is shared: the plain reader's clone sees the removal too.
    let err = plain.decode(&frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownDictionary, "{err}");
}

#[test]
fn dictionaries_load_from_bytes_and_reject_garbage() {
    let dict = chat_dictionary();
    let copy = ZstdDictionary::from_bytes(dict.as_bytes().to_vec()).unwrap();
    assert_eq!(copy.id(), dict.id());
    // A frame written with one instance reads with the other.
    let msg = chat();
    let json = JsonCodec::<ChatMessage>::new();
    let frame = Compressed::new(json, Compression::zstd_dict(dict.clone(), 5).unwrap())
        .encode(&msg)
        .unwrap();
    assert_eq!(header(&frame).dictionary, Some(dict.id()));
    let reader = Compressed::new(json, Compression::zstd_dict(copy, 1).unwrap());
    assert_eq!(reader.decode(&frame).unwrap(), msg);
    // A prepared dictionary reports what it holds.
    let prepared = ZstdDict::new(dict.clone(), 5).unwrap();
    assert_eq!(prepared.dictionary().id(), dict.id());
    assert_eq!(prepared.level(), 5);
    assert_eq!(
        Compression::ZstdDict(prepared).dictionary_id(),
        Some(dict.id())
    );

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
    let json = JsonCodec::<String>::new();
    let dict = chat_dictionary();
    let writers: [(&str, Bytes, CompressionId); 3] = [
        (
            "lz4",
            Compressed::new(json, Compression::Lz4)
                .encode(&msg)
                .unwrap(),
            CompressionId::LZ4,
        ),
        (
            "zstd",
            Compressed::new(json, Compression::Zstd(9))
                .encode(&msg)
                .unwrap(),
            CompressionId::ZSTD,
        ),
        (
            "raw",
            Compressed::new(json, Compression::Zstd(9))
                .with_policy(Policy::new().with_min_size(10_000))
                .encode(&msg)
                .unwrap(),
            CompressionId::NONE,
        ),
    ];
    for (name, frame, id) in &writers {
        assert_eq!(header(frame).compression, *id, "{name}");
        for compression in [
            Compression::None,
            Compression::Lz4,
            Compression::zstd(),
            Compression::zstd_dict(dict.clone(), 3).unwrap(),
        ] {
            let reader = Compressed::new(json, compression.clone());
            assert_eq!(
                reader.decode(frame).unwrap(),
                msg,
                "{name} by {compression:?}"
            );
        }
    }
    // An algorithm id nobody assigned.
    let unknown = frame_with(
        CodecId::JSON,
        CompressionId(9),
        None,
        payload(&writers[1].1),
    );
    let err = Compressed::new(json, Compression::zstd())
        .decode(&unknown)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownCompression, "{err}");
    assert!(err.to_string().contains("9"), "{err}");
    // lz4 never takes a dictionary.
    let lz4_dict = frame_with(
        CodecId::JSON,
        CompressionId::LZ4,
        Some(1),
        payload(&writers[0].1),
    );
    let err = Compressed::new(json, Compression::Lz4)
        .decode(&lz4_dict)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[test]
fn malformed_zstd_frames_are_rejected() {
    let codec = Compressed::new(JsonCodec::<String>::new(), Compression::zstd());
    let msg = "hello hello hello hello hello hello hello hello hello hello hello".to_string();
    let frame = codec.encode(&msg).unwrap();
    assert_eq!(header(&frame).compression, CompressionId::ZSTD);
    let zstd = |data: &[u8]| frame_with(CodecId::JSON, CompressionId::ZSTD, None, data);
    let stored = payload(&frame);
    assert_eq!(codec.decode(&zstd(stored)).unwrap(), msg);

    // Trailing bytes after the zstd frame, inside the frame's payload...
    let mut trailing = stored.to_vec();
    trailing.extend_from_slice(b"junk");
    let err = codec.decode(&zstd(&trailing)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    // ...and after the frame itself.
    let mut after = frame.to_vec();
    after.extend_from_slice(b"junk");
    let err = codec.decode(&after).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    // Two zstd frames.
    let mut two = stored.to_vec();
    two.extend_from_slice(stored);
    assert_eq!(
        codec.decode(&zstd(&two)).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
    // A valid zstd frame without a content size: descriptor 0, window descriptor, one raw
    // block.
    let json = br#""hi""#;
    let mut no_size = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x00];
    no_size.extend_from_slice(&[((json.len() as u8) << 3) | 1, 0, 0]);
    no_size.extend_from_slice(json);
    let err = codec.decode(&zstd(&no_size)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("content size"), "{err}");
    // Not a zstd frame at all.
    let err = codec.decode(&zstd(b"{\"json\": true}")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[test]
fn borrowed_access_reads_raw_frames_and_points_compressed_ones_to_access_owned() {
    let codec = Compressed::new(RkyvCodec::<ChatMessage>::new(), Compression::zstd());
    let mut chatty = chat();
    chatty.content = "see you at the meeting, see you at the meeting! ".repeat(3);
    let (mut compressed, mut raw) = (0, 0);
    for value in [
        chat(),
        chatty,
        chat_messages(HELD_OUT_SEED, 1).remove(0),
        ChatMessage {
            content: String::new(),
            ..chat()
        },
    ] {
        let bytes = codec.encode(&value).unwrap();
        if header(&bytes).is_compressed() {
            compressed += 1;
            let err = codec.access(&bytes).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unsupported);
            assert!(err.to_string().contains("access_owned"), "{err}");
        } else {
            raw += 1;
            let view = codec.access(&bytes).unwrap();
            assert_eq!(view.content, value.content);
        }
        let owned = codec.access_owned(bytes).unwrap();
        assert_eq!(owned.content, value.content);
        assert_eq!(owned.timestamp, value.timestamp);
    }
    assert!(
        compressed > 0 && raw > 0,
        "{compressed} compressed, {raw} raw"
    );
    // Without compression every frame is read in place.
    let plain = Compressed::new(RkyvCodec::<ChatMessage>::new(), Compression::None);
    let bytes = plain.encode(&chat()).unwrap();
    assert_eq!(plain.access(&bytes).unwrap().content, chat().content);
    assert_eq!(codec.access(&bytes).unwrap().content, chat().content);
}

#[test]
fn codec_metadata_is_the_frames_and_the_header_names_the_inner_codec() {
    let c = Compressed::new(JsonCodec::<ChatMessage>::new(), Compression::Lz4);
    assert_eq!(c.codec_id(), CodecId::FRAME);
    assert_eq!(c.content_type(), FRAME_CONTENT_TYPE);
    assert_eq!(c.inner().content_type(), "application/json");
    let r = Compressed::new(RkyvCodec::<ChatMessage>::new(), Compression::zstd());
    assert_eq!(r.codec_id(), CodecId::FRAME);
    let msg = chat();
    let json_frame = c.encode(&msg).unwrap();
    let rkyv_frame = r.encode(&msg).unwrap();
    assert_eq!(header(&json_frame).codec, CodecId::JSON);
    assert_eq!(header(&rkyv_frame).codec, CodecId::RKYV);
    // A reader takes only its inner codec's payloads.
    let err = c.decode(&rkyv_frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownCodec, "{err}");
    let err = r.decode(&json_frame).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownCodec, "{err}");
}

#[test]
fn encode_failure_leaves_the_buffer_intact() {
    let bad: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
    for compression in [Compression::None, Compression::zstd(), Compression::Lz4] {
        let mut buf = b"keep".to_vec();
        let err = Compressed::new(JsonCodec::new(), compression)
            .encode_into(&bad, &mut buf)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Encode);
        assert_eq!(buf, b"keep");
    }
}

#[test]
fn one_dictionary_codec_serves_many_threads() {
    let codec = Arc::new(Compressed::new(
        RkyvCodec::<ChatMessage>::new(),
        Compression::zstd_dict(chat_dictionary(), 3).unwrap(),
    ));
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            let codec = codec.clone();
            std::thread::spawn(move || {
                for msg in chat_messages(HELD_OUT_SEED + t, 100) {
                    let bytes = codec.encode(&msg).unwrap();
                    assert_eq!(codec.decode(&bytes).unwrap(), msg);
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
    assert_send_sync::<Compressed<JsonCodec<ChatMessage>>>();
    assert_send_sync::<Compressed<RkyvCodec<ChatMessage>>>();
    assert_send_sync::<Compression>();
    assert_send_sync::<ZstdDict>();
    assert_send_sync::<ZstdDictionary>();
    assert_send_sync::<DictionaryRegistry>();
    assert_send_sync::<Policy>();
}

#[test]
fn zstd_frames_with_their_magic_number_still_decode() {
    // Writers leave the magic out (the header names zstd); frames written with it, by other
    // writers or the zstd library itself, read the same.
    let msg = chat_messages(3, 1).remove(0);
    let json = JsonCodec::<ChatMessage>::new();
    let text = json.encode(&msg).unwrap();
    let standard = zstd::bulk::compress(&text, 3).unwrap();
    assert_eq!(&standard[..4], &[0x28, 0xB5, 0x2F, 0xFD]);
    let codec = Compressed::new(json, Compression::zstd());
    for data in [&standard[..], &standard[4..]] {
        let framed = frame_with(CodecId::JSON, CompressionId::ZSTD, None, data);
        assert_eq!(codec.decode(&framed).unwrap(), msg);
    }
    // What the writer writes: the same zstd frame, less its magic number.
    let written = Compressed::new(json, Compression::Zstd(3))
        .with_policy(Policy::new().with_min_size(0))
        .encode(&msg)
        .unwrap();
    assert_eq!(header(&written).compression, CompressionId::ZSTD);
    assert_eq!(payload(&written), &standard[4..]);
}
