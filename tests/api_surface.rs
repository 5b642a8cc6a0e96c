//! The public surface the other suites do not reach: accessors return what was configured,
//! `Debug` names the type and its settings, wrappers forward every trait method, error
//! predicates and conversions keep the kind, and failing transforms leave buffers untouched.

use std::io;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};
use zerocodec::archive::{self, with_aligned};
use zerocodec::batch::BatchRef;
use zerocodec::bytes::Bytes;
use zerocodec::frame::Frame;
use zerocodec::rkyv::util::AlignedVec;
use zerocodec::{
    Batch, BatchBuilder, BufferPool, Codec, CodecId, CompressionId, EncodeBuf, Error, ErrorKind,
    Message, Metered, Metrics, OwnedArchive, PoolConfig, Transform, ZeroCopyCodec,
};
use zerocodec_codecs::{
    ArchivedFrameDecoder, Compressed, DictionaryRegistry, FrameCodec, FrameDecoder, FrameEncoder,
    HybridCodec, JsonCodec, Lz4, Policy, Primary, RkyvCodec, SymmetricFrameCodec, Zstd, ZstdDict,
    ZstdDictionary,
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

fn unaligned(bytes: &[u8]) -> Bytes {
    let mut v = vec![0u8];
    v.extend_from_slice(bytes);
    let b = Bytes::from(v).slice(1..);
    assert!(!archive::is_aligned(&b));
    b
}

#[test]
fn error_kinds_predicates_and_io_conversions() {
    for kind in ErrorKind::ALL {
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
    let codec = Metered::with_metrics(RkyvCodec::new(), metrics.clone());
    assert!(Arc::ptr_eq(codec.metrics(), &metrics));
    assert_eq!(Codec::<Note>::codec_id(&codec), CodecId::RKYV);
    assert_eq!(Codec::<Note>::content_type(&codec), "application/x-rkyv");

    let bytes = codec.encode(&note()).unwrap();
    assert_eq!(Codec::<Note>::decode(&codec, &bytes).unwrap(), note());
    assert_eq!(ZeroCopyCodec::<Note>::access(&codec, &bytes).unwrap().id, 7);
    assert_eq!(
        ZeroCopyCodec::<Note>::access_owned(&codec, unaligned(&bytes))
            .unwrap()
            .text,
        note().text
    );
    let lz4 = Lz4::new().with_policy(Policy::new().with_min_size(0));
    let mut packed = Vec::new();
    codec
        .encode_transformed_into(&note(), &lz4, &mut packed)
        .unwrap();
    assert_eq!(
        Codec::<Note>::decode_transformed(&codec, &packed, &lz4).unwrap(),
        note()
    );
    let owned: OwnedArchive<Note> = codec
        .access_transformed(Bytes::from(packed.clone()), &lz4)
        .unwrap();
    assert_eq!(owned.id, 7);
    assert!(Codec::<Note>::decode(&codec, b"\x01").is_err());

    let snap = metrics.snapshot();
    assert_eq!(snap.messages_encoded, 2);
    // Decodes and accesses are counted apart (an access followed by a decode of the same
    // message counts once in each).
    assert_eq!(snap.messages_decoded, 2);
    assert_eq!(snap.messages_accessed, 3);
    assert_eq!(snap.total_errors(), 1);
    assert!(snap.encode_nanos.is_some() && snap.decode_nanos.is_some());
    let text = snap.to_string();
    assert!(text.contains("encoded 2 messages"), "{text}");
    assert!(text.contains("errors 1"), "{text}");
    assert!(text.contains("time encoding"), "{text}");
    assert_eq!(snap.compression_ratio(), None);
    metrics.record_compression(200, 50);
    assert_eq!(metrics.snapshot().compression_ratio(), Some(0.25));

    let plain = Metered::new(JsonCodec);
    assert_eq!(*plain.inner(), JsonCodec);
    assert_eq!(plain.into_inner(), JsonCodec);
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
    assert!(shared.is_shared() && !shared.is_pooled());
    let copied = OwnedArchive::<Note>::from_bytes(unaligned(&bytes)).unwrap();
    assert!(copied.is_pooled());
    let mut framed = AlignedVec::<16>::new();
    framed.extend_from_slice(&[0; 16]);
    framed.extend_from_slice(&bytes);
    let owned =
        OwnedArchive::<Note>::from_aligned_vec_range(framed.clone(), 16..framed.len()).unwrap();
    assert_eq!(owned.as_bytes(), &bytes[..]);
    let err = OwnedArchive::<Note>::from_aligned_vec_range(framed, 16..10_000).unwrap_err();
    assert!(err.is_incomplete(), "{err}");

    let padded = Bytes::from(framed_bytes(&bytes, 16));
    let in_place = OwnedArchive::<Note>::from_bytes_range(padded.clone(), 16..padded.len());
    assert_eq!(in_place.unwrap().id, 7);
    let odd = Bytes::from(framed_bytes(&bytes, 3));
    let range = 3..odd.len();
    let copied = OwnedArchive::<Note>::from_bytes_range(odd.clone(), range).unwrap();
    assert_eq!(copied.text, note().text);
    assert!(
        OwnedArchive::<Note>::from_bytes_range(odd, 0..1 << 20)
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
    let n = out.append_archive(&note()).unwrap();
    assert_eq!(out.len(), 3 + n);
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

    // Appender as io::Write.
    let mut out = Vec::new();
    let mut w = zerocodec::Appender::new(&mut out);
    io::Write::write_all(&mut w, b"x").unwrap();
    assert_eq!(io::Write::write(&mut w, b"yz").unwrap(), 2);
    io::Write::flush(&mut w).unwrap();
    assert_eq!(out, b"xyz");
}

/// A transform whose compression always fails.
struct Failing;

impl Transform for Failing {
    fn dictionary_id(&self) -> Option<u32> {
        None
    }
    fn max_decompressed_len(&self) -> usize {
        1 << 20
    }
    fn compress_into<B: EncodeBuf>(&self, _: &[u8], _: &mut B) -> zerocodec::Result<CompressionId> {
        Err(Error::new(
            ErrorKind::Encode,
            "compressor refused the input",
        ))
    }
    fn decompress_into<B: EncodeBuf>(
        &self,
        _: CompressionId,
        _: Option<u32>,
        _: &[u8],
        _: &mut B,
    ) -> zerocodec::Result<()> {
        Err(Error::corrupt("decompressor refused the input"))
    }
}

#[test]
fn a_failing_transform_leaves_the_buffer_as_it_was() {
    let mut out = b"keep".to_vec();
    let hybrid = Compressed::new(HybridCodec::<Note>::new(), Failing);
    assert!(
        hybrid
            .encode_into(&note(), &mut out)
            .unwrap_err()
            .is_encode()
    );
    assert_eq!(out, b"keep");
    let json = Compressed::new(JsonCodec, Failing);
    assert!(json.encode_into(&note(), &mut out).unwrap_err().is_encode());
    assert_eq!(out, b"keep");
    assert_eq!(*json.inner(), JsonCodec);
    let (_inner, _transform): (JsonCodec, Failing) = json.into_parts();
    let lz4 = Compressed::new(RkyvCodec::new(), Lz4::new());
    assert_eq!(
        lz4.transform().policy().min_size(),
        Policy::default().min_size()
    );
}

#[test]
fn raw_payloads_over_the_limit_are_refused() {
    let small = Policy::new().with_max_decompressed_len(16);
    let mut out = Vec::new();
    for result in [
        Lz4::new().with_policy(small).decompress_into(
            CompressionId::NONE,
            None,
            &[0; 17],
            &mut out,
        ),
        Zstd::new(1).with_policy(small).decompress_into(
            CompressionId::NONE,
            None,
            &[0; 17],
            &mut out,
        ),
    ] {
        assert!(result.unwrap_err().is_too_large());
    }
    assert!(out.is_empty());
    Lz4::new()
        .with_policy(small)
        .decompress_into(CompressionId::NONE, None, &[1; 16], &mut out)
        .unwrap();
    assert_eq!(out, [1; 16]);
}

#[test]
fn zstd_and_dictionary_accessors() {
    let zstd = Zstd::new(7).with_policy(Policy::new().with_min_saving_percent(9));
    assert_eq!(zstd.level(), 7);
    assert_eq!(zstd.policy().min_saving_percent(), 9);

    let samples: Vec<Vec<u8>> = chat_messages(5, 400)
        .iter()
        .map(|m| JsonCodec.encode(m).unwrap().to_vec())
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

    let dict = ZstdDict::with_default_level(dictionary.clone())
        .unwrap()
        .with_registry(registry)
        .with_policy(Policy::new().with_min_size(0));
    assert_eq!(dict.level(), zerocodec_codecs::DEFAULT_ZSTD_LEVEL);
    assert_eq!(dict.dictionary().id(), dictionary.id());
    assert_eq!(dict.registry().len(), 1);
    assert_eq!(dict.policy().min_size(), 0);
    let debug = format!("{dict:?}");
    assert!(
        debug.contains("ZstdDict") && debug.contains("registry"),
        "{debug}"
    );

    // The registry's dictionary is readable through this transform.
    let writer = Compressed::new(
        JsonCodec,
        ZstdDict::new(other, 3)
            .unwrap()
            .with_policy(Policy::new().with_min_size(0)),
    );
    let msg = chat_messages(6, 1).pop().unwrap();
    let bytes = writer.encode(&msg).unwrap();
    assert_eq!(
        Compressed::new(JsonCodec, dict)
            .decode::<ChatMessage>(&bytes)
            .unwrap(),
        msg
    );
}

#[test]
fn hybrid_accessors_and_debug() {
    let codec = HybridCodec::<Note>::default()
        .with_primary(Primary::Json)
        .with_metrics(Arc::new(Metrics::new()));
    assert_eq!(codec.primary(), Primary::Json);
    assert!(codec.metrics().is_some());
    let debug = format!("{codec:?}");
    assert!(debug.contains("Note") && debug.contains("Json"), "{debug}");
}

#[test]
fn frame_codecs_accessors_debug_clone_and_eof() {
    let decoder = FrameDecoder::<_, Note>::new(JsonCodec).max_frame_len(1000);
    let clone = decoder.clone();
    assert_eq!(clone.max_frame_length(), 1000);
    assert_eq!(*clone.codec(), JsonCodec);
    assert!(format!("{clone:?}").contains("FrameDecoder"));
    let archived = ArchivedFrameDecoder::<_, Note>::new(RkyvCodec::new());
    assert!(format!("{:?}", archived.clone()).contains("ArchivedFrameDecoder"));

    let codec: SymmetricFrameCodec<RkyvCodec, Note> =
        FrameCodec::symmetric(RkyvCodec::new()).max_frame_len(4096);
    assert_eq!(codec.decoder().max_frame_length(), 4096);
    assert_eq!(codec.encoder().max_frame_length(), 4096);
    assert!(format!("{codec:?}").contains("FrameCodec"));
    let (mut dec, mut enc) = codec.into_parts();

    let mut buf = BytesMut::new();
    enc.encode(note(), &mut buf).unwrap();
    enc.encode(&note(), &mut buf).unwrap();
    let mut archived = ArchivedFrameDecoder::<_, Note>::new(RkyvCodec::new());
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
    let mut enc = FrameEncoder::<_, std::collections::BTreeMap<Vec<u8>, u8>>::new(JsonCodec);
    let mut out = BytesMut::from(&b"keep"[..]);
    let bad: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
    assert!(enc.encode(&bad, &mut out).unwrap_err().is_encode());
    assert_eq!(&out[..], b"keep");
}
