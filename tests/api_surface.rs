//! The public surface the other suites do not reach: accessors return what was configured,
//! `Debug` names the type and its settings, wrappers forward every trait method, error
//! predicates and conversions keep the kind, and failing encodes inside a frame leave buffers
//! untouched.

use std::io;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};
use zerocodec::archive::{self, with_aligned};
use zerocodec::bytes::Bytes;
use zerocodec::frame::{Frame, FrameHeader};
use zerocodec::prelude::*;
use zerocodec::rkyv::util::AlignedVec;
use zerocodec::{
    BufferPool, CodecId, CompressionId, EncodeBuf, Error, ErrorKind, Message, Metered, Metrics,
    OwnedArchive, PoolConfig,
};
use zerocodec_codecs::{
    ArchivedFrameDecoder, Batch, BatchBuilder, BatchRef, Compressed, Compression,
    DictionaryRegistry, FrameCodec, FrameDecoder, FrameEncoder, HybridCodec, HybridMetrics,
    JsonCodec, Policy, Primary, RkyvCodec, ZstdDict, ZstdDictionary,
};
use zerocodec_datasets::ChatMessage;
use zerocodec_datasets::messages::chat_messages;

#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(Debug))]
struct Note {
    id: u32,
    text: String,
}

impl Message for Note {
    const NAME: &'static str = "Note";
    const SCHEMA_FINGERPRINT: u64 = 0x4E07_E000_0000_0001;
}

fn note() -> Note {
    Note {
        id: 7,
        text: "a note that is long enough to be worth compressing, a note that is long enough"
            .into(),
    }
}

/// `bytes` one byte past a 16-byte boundary (in an aligned buffer: a `Vec<u8>` promises no
/// alignment, and under Miri its address can be anything).
fn unaligned(bytes: &[u8]) -> Bytes {
    let mut v = AlignedVec::<16>::with_capacity(bytes.len() + 1);
    v.push(0);
    v.extend_from_slice(bytes);
    let b = Bytes::from_owner(v).slice(1..);
    assert!(!archive::is_aligned(&b));
    b
}

/// Every error kind (`ErrorKind` is `#[non_exhaustive]`; this lists the kinds of this release).
const ERROR_KINDS: [ErrorKind; 14] = [
    ErrorKind::Incomplete,
    ErrorKind::Corrupt,
    ErrorKind::UnknownVersion,
    ErrorKind::UnknownCodec,
    ErrorKind::UnknownCompression,
    ErrorKind::UnknownDictionary,
    ErrorKind::ChecksumMismatch,
    ErrorKind::TypeMismatch,
    ErrorKind::TooLarge,
    ErrorKind::Unaligned,
    ErrorKind::OutOfRange,
    ErrorKind::Encode,
    ErrorKind::Unsupported,
    ErrorKind::Io,
];

#[test]
fn error_kinds_predicates_and_io_conversions() {
    // Each kind has a name of its own.
    let names: std::collections::HashSet<_> = ERROR_KINDS.iter().map(|k| k.as_str()).collect();
    assert_eq!(names.len(), ERROR_KINDS.len());
    for kind in ERROR_KINDS {
        let err = Error::new(kind, "expected x, found y");
        assert_eq!(kind.to_string(), kind.as_str());
        assert!(!kind.as_str().is_empty());
        assert_eq!(err.is_too_large(), kind == ErrorKind::TooLarge);
        assert_eq!(err.is_type_mismatch(), kind == ErrorKind::TypeMismatch);
        assert_eq!(
            err.is_checksum_mismatch(),
            kind == ErrorKind::ChecksumMismatch
        );
        assert_eq!(err.is_encode(), kind == ErrorKind::Encode);
        assert_eq!(err.is_io(), kind == ErrorKind::Io);
        assert_eq!(
            err.is_unknown(),
            matches!(
                kind,
                ErrorKind::UnknownVersion
                    | ErrorKind::UnknownCodec
                    | ErrorKind::UnknownCompression
                    | ErrorKind::UnknownDictionary
            )
        );
        // Through io::Error and back, the kind and message survive.
        let io_err: io::Error = err.into();
        let expected_io = match kind {
            ErrorKind::Incomplete => io::ErrorKind::UnexpectedEof,
            ErrorKind::Unsupported => io::ErrorKind::Unsupported,
            ErrorKind::Encode => io::ErrorKind::InvalidInput,
            ErrorKind::Io => io::ErrorKind::Other,
            _ => io::ErrorKind::InvalidData,
        };
        assert_eq!(io_err.kind(), expected_io, "{kind}");
        let back = Error::from(io_err);
        assert_eq!(back.kind(), kind);
        assert_eq!(back.message(), "expected x, found y");
    }
    // An Io error keeps the kind of the io::Error it wraps.
    let wrapped = Error::new(ErrorKind::Io, "reading a frame")
        .with_source(io::Error::new(io::ErrorKind::BrokenPipe, "gone"));
    let debug = format!("{wrapped:?}");
    assert!(
        debug.contains("source") && debug.contains("gone"),
        "{debug}"
    );
    assert_eq!(io::Error::from(wrapped).kind(), io::ErrorKind::BrokenPipe);
}

#[test]
fn metered_forwards_every_operation_and_counts_it() {
    let metrics = Arc::new(Metrics::with_timing());
    assert!(metrics.timing());
    assert!(!Metrics::new().timing());
    let codec = Metered::with_metrics(RkyvCodec::<Note>::new(), metrics.clone());
    assert!(Arc::ptr_eq(codec.metrics(), &metrics));
    assert_eq!(codec.codec_id(), CodecId::RKYV);
    assert_eq!(codec.content_type(), "application/x-rkyv");

    let bytes = codec.encode(&note()).unwrap();
    assert_eq!(codec.decode(&bytes).unwrap(), note());
    assert_eq!(codec.access(&bytes).unwrap().id, 7);
    assert_eq!(
        codec.access_owned(unaligned(&bytes)).unwrap().text,
        note().text
    );
    // A compressing frame codec wrapped the same way, counting into the same metrics.
    let lz4 = Metered::with_metrics(
        Compressed::new(RkyvCodec::<Note>::new(), Compression::Lz4)
            .with_policy(Policy::new().with_min_size(0)),
        metrics.clone(),
    );
    assert_eq!(lz4.codec_id(), CodecId::FRAME);
    let mut packed = Vec::new();
    lz4.encode_into(&note(), &mut packed).unwrap();
    assert_eq!(
        FrameHeader::parse(&packed).unwrap().compression,
        CompressionId::LZ4
    );
    assert_eq!(lz4.decode(&packed).unwrap(), note());
    let owned: OwnedArchive<Note> = lz4.access_owned(Bytes::from(packed.clone())).unwrap();
    assert_eq!(owned.id, 7);
    assert!(codec.decode(b"\x01").is_err());

    let snap = metrics.snapshot();
    assert_eq!(snap.messages_encoded, 2);
    assert_eq!(snap.bytes_encoded, (bytes.len() + packed.len()) as u64);
    // Decodes and accesses are counted apart (an access followed by a decode of the same
    // message counts once in each).
    assert_eq!(snap.messages_decoded, 2);
    assert_eq!(snap.messages_accessed, 3);
    assert_eq!(snap.total_errors(), 1);
    assert!(snap.errors_of(ErrorKind::Incomplete) + snap.errors_of(ErrorKind::Corrupt) == 1);
    assert!(snap.encode_nanos.is_some() && snap.decode_nanos.is_some());
    let text = snap.to_string();
    assert!(text.contains("encoded 2 messages"), "{text}");
    assert!(text.contains("errors 1"), "{text}");
    assert!(text.contains("time encoding"), "{text}");

    // The compression ratio is the hybrid's own counter.
    let hybrid_metrics = Arc::new(HybridMetrics::new());
    assert_eq!(hybrid_metrics.snapshot().compression_ratio(), None);
    let hybrid = HybridCodec::<Note>::new()
        .with_compression(Compression::Lz4)
        .with_policy(Policy::new().with_min_size(0))
        .with_metrics(hybrid_metrics.clone());
    hybrid.encode(&note()).unwrap();
    let hsnap = hybrid_metrics.snapshot();
    assert!(
        hsnap.raw_bytes > hsnap.stored_bytes && hsnap.stored_bytes > 0,
        "{hsnap:?}"
    );
    assert_eq!(
        hsnap.compression_ratio(),
        Some(hsnap.stored_bytes as f64 / hsnap.raw_bytes as f64)
    );

    let plain = Metered::new(JsonCodec::<Note>::new());
    assert_eq!(plain.inner().codec_id(), CodecId::JSON);
    let inner: JsonCodec<Note> = plain.into_inner();
    assert!(format!("{inner:?}").contains("JsonCodec"));
}

#[test]
fn pool_frame_and_compression_id_accessors() {
    let config = PoolConfig::default();
    let pool = BufferPool::new(config);
    assert_eq!(pool.config().max_buffers, config.max_buffers);
    let mut buf = pool.take();
    buf.extend_from_slice(b"abc");
    let debug = format!("{buf:?}");
    assert!(
        debug.contains("PooledBuf") && debug.contains("len: 3"),
        "{debug}"
    );
    assert!(format!("{pool:?}").contains("BufferPool"));

    let frame_bytes = HybridCodec::<Note>::new().encode(&note()).unwrap();
    let frame = Frame::parse(&frame_bytes).unwrap();
    assert_eq!(frame.as_bytes(), &frame_bytes[..]);
    assert_eq!(frame.header_bytes().len(), 16);
    assert_eq!(
        frame.header_bytes().len() + frame.payload().len(),
        frame_bytes.len()
    );

    let names: Vec<_> = (0..5).map(|id| CompressionId(id).name()).collect();
    assert_eq!(names, [Some("none"), Some("lz4"), Some("zstd"), None, None]);
}

#[test]
fn owned_archive_constructors_debug_and_clone() {
    let bytes = RkyvCodec::new().encode(&note()).unwrap();
    assert_eq!(archive::access::<Note>(&bytes).unwrap().id, 7);
    assert_eq!(archive::deserialize::<Note>(&bytes).unwrap(), note());
    assert_eq!(
        archive::deserialize::<Note>(&unaligned(&bytes)).unwrap(),
        note()
    );

    let shared = OwnedArchive::<Note>::from_bytes(bytes.clone()).unwrap();
    assert!(shared.is_shared());
    let copied = OwnedArchive::<Note>::from_bytes(unaligned(&bytes)).unwrap();
    assert!(
        !copied.is_shared(),
        "unaligned bytes are copied into a pooled buffer"
    );
    // An archive 16 bytes into an aligned buffer is aligned too: shared, not copied.
    let mut framed = AlignedVec::<16>::new();
    framed.extend_from_slice(&[0; 16]);
    framed.extend_from_slice(&bytes);
    let owned = OwnedArchive::<Note>::from_bytes(Bytes::from_owner(framed).slice(16..)).unwrap();
    assert!(owned.is_shared());
    assert_eq!(owned.as_bytes(), &bytes[..]);
    // Fewer bytes than the archived root.
    let err = OwnedArchive::<Note>::from_slice(&bytes[..4]).unwrap_err();
    assert!(err.is_incomplete(), "{err}");
    let pool = BufferPool::new(PoolConfig::new());
    let mut buf = pool.take();
    buf.extend_from_slice(&bytes);
    let pooled = OwnedArchive::<Note>::from_pooled(buf, archive::DEFAULT_MAX_DEPTH).unwrap();
    assert!(!pooled.is_shared());
    assert_eq!(
        pool.stats().outstanding(),
        1,
        "the archive keeps the pooled buffer"
    );
    drop(pooled);
    assert_eq!(pool.stats().outstanding(), 0);
    let sliced = OwnedArchive::<Note>::from_slice_in(&bytes, 8, &pool).unwrap();
    assert!(!sliced.is_shared());
    assert_eq!(sliced.as_bytes(), &bytes[..]);
    assert_eq!(pool.stats().outstanding(), 1, "copied into the given pool");
    drop(sliced);
    assert!(
        OwnedArchive::<Note>::from_slice_in(&bytes[..4], 8, &pool)
            .unwrap_err()
            .is_incomplete()
    );

    let padded = Bytes::from(framed_bytes(&bytes, 16));
    let in_place = OwnedArchive::<Note>::from_bytes(padded.slice(16..));
    assert_eq!(in_place.unwrap().id, 7);
    let odd = Bytes::from(framed_bytes(&bytes, 3));
    let copied = OwnedArchive::<Note>::from_bytes_in(odd.slice(3..), 8, &pool).unwrap();
    assert!(!copied.is_shared());
    assert_eq!(copied.text, note().text);
    assert!(
        OwnedArchive::<Note>::from_bytes(odd.slice(3..7))
            .unwrap_err()
            .is_incomplete()
    );

    for archive in [shared, copied, owned] {
        let clone = archive.clone();
        assert_eq!(clone.as_bytes(), archive.as_bytes());
        assert_eq!(clone.deserialize().unwrap(), note());
        let debug = format!("{clone:?}");
        assert!(
            debug.contains("ArchivedNote") && debug.contains("7"),
            "{debug}"
        );
    }
}

/// `payload` after `pad` zero bytes, in a buffer that starts 16-byte aligned.
fn framed_bytes(payload: &[u8], pad: usize) -> Vec<u8> {
    let mut v = AlignedVec::<16>::new();
    v.extend_from_slice(&vec![0; pad]);
    v.extend_from_slice(payload);
    v.to_vec()
}

#[test]
fn re_aligning_is_reentrant_and_frees_large_scratch() {
    let bytes = RkyvCodec::new().encode(&note()).unwrap();
    let odd = unaligned(&bytes);
    // A nested call (as a deserializer decoding a nested message would make) gets its own
    // buffer.
    let nested = with_aligned(&odd, |outer| {
        assert!(archive::is_aligned(outer));
        with_aligned(&odd, |inner| {
            assert!(archive::is_aligned(inner));
            assert_ne!(inner.as_ptr(), outer.as_ptr());
            inner.to_vec()
        })
    });
    assert_eq!(nested, &bytes[..]);
    // A large input is re-aligned too (and the oversized scratch is not kept).
    let big = vec![5u8; 3 << 20];
    let odd_big = unaligned(&big);
    assert_eq!(with_aligned(&odd_big, |b| b.len()), big.len());
    assert_eq!(with_aligned(&odd, |b| b.to_vec()), &bytes[..]);
}

#[test]
fn batch_accessors_debug_and_iteration() {
    let builder = BatchBuilder::<ChatMessage>::default();
    assert!(format!("{builder:?}").contains("BatchBuilder"));
    let empty = builder.finish().unwrap();
    assert!(empty.is_empty());

    let mut builder = BatchBuilder::<ChatMessage>::new();
    let messages = chat_messages(11, 4);
    for m in &messages {
        builder.append(m).unwrap();
    }
    let bytes = builder.into_bytes();
    let view = BatchRef::<ChatMessage>::open(&bytes).unwrap();
    #[allow(
        clippy::clone_on_copy,
        reason = "exercises BatchRef's hand-written Clone"
    )]
    let copy = view.clone();
    assert!(!copy.is_empty());
    assert_eq!(copy.as_bytes(), &bytes[..]);
    assert!(format!("{copy:?}").contains("len: 4"));
    let iter = copy.iter();
    assert!(format!("{iter:?}").contains("remaining: 4"));
    let ids: Vec<&str> = copy.into_iter().map(|m| m.id.as_str()).collect();
    let expected: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, expected);

    let shared = Batch::<ChatMessage>::open(bytes.clone()).unwrap();
    assert!(format!("{shared:?}").contains("Batch"));
    assert_eq!(shared.into_bytes(), bytes);
    let pooled = Batch::<ChatMessage>::open(unaligned(&bytes)).unwrap();
    assert!(!pooled.is_shared());
    assert_eq!(pooled.into_bytes(), bytes);
}

/// A buffer type zerocodec does not know, to exercise the provided `EncodeBuf` methods.
#[derive(Default)]
struct Foreign(Vec<u8>);

impl EncodeBuf for Foreign {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
    fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }
    fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }
    fn as_slice(&self) -> &[u8] {
        &self.0
    }
    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

fn through_generic<B: EncodeBuf>(mut out: B) -> Vec<u8> {
    out.reserve(8);
    out.extend_from_slice(b"ab");
    out.resize_zeroed(70);
    out.resize_zeroed(3); // shorter: no effect
    assert_eq!(out.len(), 70);
    out.as_mut_slice()[2] = b'c';
    out.truncate(3);
    RkyvCodec::new().encode_into(&note(), &mut out).unwrap();
    assert!(out.len() > 3);
    out.as_slice().to_vec()
}

#[test]
fn encode_buf_provided_methods_and_forwarding() {
    let expected = through_generic(Vec::new());
    assert_eq!(&expected[..3], b"abc");
    let mut foreign = Foreign::default();
    assert_eq!(through_generic(&mut foreign), expected);
    assert_eq!(foreign.0, expected);
    let mut vec = Vec::new();
    assert_eq!(through_generic(&mut vec), expected);
    assert_eq!(through_generic(BytesMut::new()), expected);
    assert_eq!(through_generic(AlignedVec::<16>::new()), expected);
    // The archive appended through the default method reads back.
    let mut aligned = AlignedVec::<16>::new();
    aligned.extend_from_slice(&foreign.0[3..]);
    assert_eq!(archive::deserialize::<Note>(&aligned).unwrap(), note());
}

/// A codec whose encoding always fails (and, as the contract asks, leaves `out` alone).
#[derive(Debug, Clone, Copy)]
struct Failing;

impl Codec for Failing {
    type Item = Note;
    fn codec_id(&self) -> CodecId {
        CodecId::FIRST_PRIVATE
    }
    fn content_type(&self) -> &'static str {
        "application/x-failing"
    }
}

impl Encode for Failing {
    fn encode_into<B: EncodeBuf>(&self, _: &Note, _: &mut B) -> zerocodec::Result<()> {
        Err(Error::new(ErrorKind::Encode, "the payload codec refused"))
    }
}

#[test]
fn a_failing_encode_inside_a_frame_leaves_the_buffer_as_it_was() {
    // The frame layer reserves room for a header before the payload is written (raw), or
    // writes the payload to scratch space first (compressed): either way a failed payload
    // leaves the caller's buffer exactly as it was.
    let mut out = b"keep".to_vec();
    for compression in [Compression::None, Compression::Lz4, Compression::Zstd(3)] {
        for checksum in [false, true] {
            let codec = Compressed::new(Failing, compression.clone())
                .with_checksum(checksum)
                .with_policy(Policy::new().with_min_size(0));
            assert!(
                codec
                    .encode_into(&note(), &mut out)
                    .unwrap_err()
                    .is_encode()
            );
            assert_eq!(out, b"keep");
            let mut aligned = AlignedVec::<16>::new();
            aligned.extend_from_slice(b"keep");
            assert!(
                codec
                    .encode_into(&note(), &mut aligned)
                    .unwrap_err()
                    .is_encode()
            );
            assert_eq!(aligned.as_slice(), b"keep");
        }
    }
    // A JSON payload that serde_json refuses, in a compressed frame.
    let json = Compressed::new(
        JsonCodec::<std::collections::BTreeMap<Vec<u8>, u8>>::new(),
        Compression::Lz4,
    );
    let bad = [(vec![1], 1)].into();
    assert!(json.encode_into(&bad, &mut out).unwrap_err().is_encode());
    assert_eq!(out, b"keep");
    assert_eq!(json.inner().codec_id(), CodecId::JSON);
    assert!(format!("{json:?}").contains("Lz4"));
    let _inner: JsonCodec<_> = json.into_inner();

    let lz4 = Compressed::new(RkyvCodec::<Note>::new(), Compression::Lz4);
    assert_eq!(lz4.policy().min_size(), Policy::default().min_size());
    assert!(matches!(lz4.compression(), Compression::Lz4));
    assert!(!lz4.checksum());
    assert_eq!(lz4.codec_id(), CodecId::FRAME);
    assert_eq!(lz4.content_type(), zerocodec_codecs::FRAME_CONTENT_TYPE);
}

#[test]
fn decompressed_payloads_over_the_limit_are_refused() {
    // What the reader's policy allows a compressed payload to decompress to is checked
    // against the size the payload claims, before anything is allocated.
    let value = vec![0u8; 100];
    let mut writer = Compressed::new(JsonCodec::<Vec<u8>>::new(), Compression::Lz4)
        .with_policy(Policy::new().with_min_size(0));
    let raw_len = JsonCodec::new().encode(&value).unwrap().len();
    for compression in [Compression::Lz4, Compression::Zstd(1)] {
        writer = writer.with_compression(compression);
        let frame = writer.encode(&value).unwrap();
        assert!(FrameHeader::parse(&frame).unwrap().is_compressed());
        let small = Compressed::new(JsonCodec::<Vec<u8>>::new(), Compression::None)
            .with_policy(Policy::new().with_max_decompressed_len(raw_len - 1));
        assert!(small.decode(&frame).unwrap_err().is_too_large());
        let enough = small
            .clone()
            .with_policy(Policy::new().with_max_decompressed_len(raw_len));
        assert_eq!(enough.decode(&frame).unwrap(), value);
    }
}

#[test]
fn zstd_and_dictionary_accessors() {
    let zstd = Compressed::new(JsonCodec::<ChatMessage>::new(), Compression::Zstd(7))
        .with_policy(Policy::new().with_min_saving_percent(9));
    assert!(matches!(zstd.compression(), Compression::Zstd(7)));
    assert_eq!(zstd.policy().min_saving_percent(), 9);
    assert!(matches!(
        Compression::zstd(),
        Compression::Zstd(zerocodec_codecs::DEFAULT_ZSTD_LEVEL)
    ));

    let samples: Vec<Vec<u8>> = chat_messages(5, 400)
        .iter()
        .map(|m| JsonCodec::new().encode(m).unwrap().to_vec())
        .collect();
    let dictionary = Arc::new(ZstdDictionary::train(&samples, 2048).unwrap());
    assert!(dictionary.as_bytes().len() <= 2048);
    let debug = format!("{dictionary:?}");
    assert!(debug.contains(&dictionary.id().to_string()), "{debug}");

    let registry = DictionaryRegistry::new();
    assert!(registry.is_empty());
    let other = Arc::new(ZstdDictionary::train(&samples[..200], 1024).unwrap());
    assert!(registry.insert(other.clone()).is_none());
    assert_eq!(registry.len(), 1);
    assert!(format!("{registry:?}").contains(&other.id().to_string()));

    let dict = ZstdDict::new(dictionary.clone(), zerocodec_codecs::DEFAULT_ZSTD_LEVEL).unwrap();
    assert_eq!(dict.level(), zerocodec_codecs::DEFAULT_ZSTD_LEVEL);
    assert_eq!(dict.dictionary().id(), dictionary.id());
    assert!(format!("{dict:?}").contains("ZstdDict"));
    let compression = Compression::ZstdDict(dict);
    assert_eq!(compression.dictionary_id(), Some(dictionary.id()));
    assert_eq!(Compression::Lz4.dictionary_id(), None);
    let reader = Compressed::new(JsonCodec::<ChatMessage>::new(), compression)
        .with_dictionaries(registry.clone())
        .with_policy(Policy::new().with_min_size(0));
    assert_eq!(reader.policy().min_size(), 0);
    let debug = format!("{reader:?}");
    assert!(
        debug.contains("ZstdDict") && debug.contains("policy"),
        "{debug}"
    );

    // The registry's dictionary is readable through this codec.
    let writer = Compressed::new(
        JsonCodec::<ChatMessage>::new(),
        Compression::zstd_dict(other.clone(), 3).unwrap(),
    )
    .with_policy(Policy::new().with_min_size(0));
    let msg = chat_messages(6, 1).pop().unwrap();
    let bytes = writer.encode(&msg).unwrap();
    assert_eq!(
        FrameHeader::parse(&bytes).unwrap().dictionary,
        Some(other.id())
    );
    assert_eq!(reader.decode(&bytes).unwrap(), msg);
    // Clones of a registry share it: a dictionary removed through one is gone for the reader.
    assert!(registry.remove(other.id()).is_some());
    assert_eq!(
        reader.decode(&bytes).unwrap_err().kind(),
        ErrorKind::UnknownDictionary
    );
}

#[test]
fn hybrid_accessors_and_debug() {
    let codec = HybridCodec::<Note>::default()
        .with_primary(Primary::Json)
        .with_metrics(Arc::new(HybridMetrics::new()));
    assert_eq!(codec.primary(), Primary::Json);
    assert!(codec.metrics().is_some());
    let debug = format!("{codec:?}");
    assert!(debug.contains("Note") && debug.contains("Json"), "{debug}");
}

#[test]
fn frame_codecs_accessors_debug_clone_and_eof() {
    let decoder = FrameDecoder::with_max_frame_len(JsonCodec::<Note>::new(), 1000);
    let clone = decoder.clone();
    assert_eq!(clone.max_frame_len(), 1000);
    assert_eq!(clone.codec().codec_id(), CodecId::JSON);
    assert!(format!("{clone:?}").contains("FrameDecoder"));
    let archived = ArchivedFrameDecoder::new(RkyvCodec::<Note>::new());
    assert_eq!(
        archived.max_frame_len(),
        zerocodec_codecs::DEFAULT_MAX_FRAME_LEN
    );
    assert!(format!("{:?}", archived.clone()).contains("ArchivedFrameDecoder"));

    let symmetric = FrameCodec::symmetric(RkyvCodec::<Note>::new());
    assert_eq!(
        symmetric.decoder().max_frame_len(),
        zerocodec_codecs::DEFAULT_MAX_FRAME_LEN
    );
    assert_eq!(
        symmetric.encoder().max_frame_len(),
        zerocodec_codecs::DEFAULT_MAX_FRAME_LEN
    );
    let codec = FrameCodec::new(
        FrameDecoder::with_max_frame_len(RkyvCodec::<Note>::new(), 4096),
        FrameEncoder::with_max_frame_len(RkyvCodec::<Note>::new(), 4096),
    );
    assert_eq!(codec.decoder().max_frame_len(), 4096);
    assert_eq!(codec.encoder().max_frame_len(), 4096);
    assert!(format!("{codec:?}").contains("FrameCodec"));
    let (mut dec, mut enc) = codec.into_parts();

    let mut buf = BytesMut::new();
    enc.encode(note(), &mut buf).unwrap();
    enc.encode(&note(), &mut buf).unwrap();
    let mut archived = ArchivedFrameDecoder::new(RkyvCodec::<Note>::new());
    let mut copy = buf.clone();
    assert_eq!(archived.decode_eof(&mut copy).unwrap().unwrap().id, 7);
    assert_eq!(archived.decode_eof(&mut copy).unwrap().unwrap().id, 7);
    assert!(archived.decode_eof(&mut copy).unwrap().is_none());
    assert_eq!(dec.decode_eof(&mut buf).unwrap(), Some(note()));
    assert_eq!(dec.decode_eof(&mut buf).unwrap(), Some(note()));
    assert_eq!(dec.decode_eof(&mut buf).unwrap(), None);
    // A stream cut inside a frame.
    let mut cut = BytesMut::from(&[0, 0, 0, 9, 1][..]);
    assert!(dec.decode_eof(&mut cut).unwrap_err().is_incomplete());
    let mut cut = BytesMut::from(&[0, 0, 0, 9, 1][..]);
    assert!(archived.decode_eof(&mut cut).unwrap_err().is_incomplete());

    // An encode that fails leaves the transport's buffer as it was.
    let mut enc = FrameEncoder::new(JsonCodec::<std::collections::BTreeMap<Vec<u8>, u8>>::new());
    let mut out = BytesMut::from(&b"keep"[..]);
    let bad: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
    assert!(enc.encode(&bad, &mut out).unwrap_err().is_encode());
    assert_eq!(&out[..], b"keep");
}
