//! The decoders' limits: each has a documented default, is configurable, and is enforced on
//! every path that reads untrusted bytes (docs/security.md lists them).
//!
//! | limit | default | configured with |
//! |---|---|---|
//! | rkyv validation nesting depth | `archive::DEFAULT_MAX_DEPTH` (128) | `with_max_depth` on `RkyvCodec`, `HybridCodec` and `BatchCodec`, `BatchRef::open_with_depth` |
//! | JSON nesting depth | serde_json's recursion limit (128) | fixed by serde_json |
//! | length-delimited frame | `DEFAULT_MAX_FRAME_LEN` (8 MiB) | `with_max_frame_len` on the frame codecs |
//! | decompressed size | `DEFAULT_MAX_DECOMPRESSED_LEN` (16 MiB) | `Policy::with_max_decompressed_len` |

use serde::{Deserialize, Serialize};
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};
use zerocodec::archive::DEFAULT_MAX_DEPTH;
use zerocodec::bytes::Bytes;
use zerocodec::frame::{FrameHeader, FrameWriter, MAX_HEADER_LEN};
use zerocodec::prelude::*;
use zerocodec::{BufferPool, CodecId, CompressionId, ErrorKind, Message};
use zerocodec_codecs::{
    Batch, BatchBuilder, BatchCodec, BatchRef, Compressed, Compression,
    DEFAULT_MAX_DECOMPRESSED_LEN, DEFAULT_MAX_FRAME_LEN, DEFAULT_MAX_RATIO, FrameDecoder,
    FrameEncoder, HybridCodec, JsonCodec, Policy, RkyvCodec,
};

/// A linked list: each link is one more level of nesting for the rkyv validator.
#[derive(
    Debug, PartialEq, Serialize, Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
#[rkyv(serialize_bounds(
    __S: rkyv::ser::Writer + rkyv::ser::Allocator,
    __S::Error: rkyv::rancor::Source,
))]
#[rkyv(deserialize_bounds(__D::Error: rkyv::rancor::Source))]
#[rkyv(bytecheck(bounds(
    __C: rkyv::validation::ArchiveContext,
    __C::Error: rkyv::rancor::Source,
)))]
struct Chain {
    value: u32,
    #[rkyv(omit_bounds)]
    next: Option<Box<Chain>>,
}

impl Message for Chain {
    const NAME: &'static str = "Chain";
    const SCHEMA_FINGERPRINT: u64 = 0xC4A1_0000_0000_0001;
}

fn chain(links: u32) -> Chain {
    let mut c = Chain {
        value: 0,
        next: None,
    };
    for value in 1..links {
        c = Chain {
            value,
            next: Some(Box::new(c)),
        };
    }
    c
}

impl Drop for Chain {
    // Unlinks iteratively, so dropping a long chain cannot overflow the stack.
    fn drop(&mut self) {
        let mut next = self.next.take();
        while let Some(mut link) = next {
            next = link.next.take();
        }
    }
}

fn kind<T>(r: zerocodec::Result<T>) -> Option<ErrorKind> {
    r.err().map(|e| e.kind())
}

fn depth_error<T>(r: zerocodec::Result<T>) {
    let err = r.err().expect("nesting past the cap is rejected");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("depth"), "{err}");
    // The message names the overrun once, not once per nesting level.
    assert!(
        err.message().len() < 1024,
        "{} byte message",
        err.message().len()
    );
}

/// A frame holding `payload` as stored, its header naming `codec` and `compression`.
fn frame_with(codec: CodecId, compression: CompressionId, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let writer = FrameWriter::begin(&mut out, MAX_HEADER_LEN);
    out.extend_from_slice(payload);
    let header = FrameHeader::new(codec).with_compression(compression, None);
    writer.finish(&mut out, header).unwrap();
    out
}

fn is_compressed(frame: &[u8]) -> bool {
    FrameHeader::parse(frame).unwrap().is_compressed()
}

#[test]
fn rkyv_depth_default_is_enforced_and_configurable() {
    assert_eq!(DEFAULT_MAX_DEPTH, 128);
    assert_eq!(RkyvCodec::<Chain>::new().max_depth(), DEFAULT_MAX_DEPTH);
    let shallow = chain(DEFAULT_MAX_DEPTH as u32 / 2);
    let deep = chain(DEFAULT_MAX_DEPTH as u32 * 2);
    let rkyv = RkyvCodec::<Chain>::new();
    let deep_bytes = rkyv.encode(&deep).unwrap();

    assert_eq!(
        rkyv.decode(&rkyv.encode(&shallow).unwrap()).unwrap(),
        shallow
    );
    depth_error(rkyv.decode(&deep_bytes));
    depth_error(rkyv.access(&deep_bytes));
    depth_error(rkyv.access_owned(deep_bytes.clone()));

    let generous = RkyvCodec::<Chain>::new().with_max_depth(4 * DEFAULT_MAX_DEPTH);
    assert_eq!(generous.decode(&deep_bytes).unwrap(), deep);
    assert_eq!(generous.access(&deep_bytes).unwrap().value, deep.value);
    // A tighter cap rejects what the default accepts.
    depth_error(
        RkyvCodec::<Chain>::new()
            .with_max_depth(8)
            .decode(&rkyv.encode(&shallow).unwrap()),
    );
}

#[test]
fn hybrid_and_compressed_stacks_use_the_configured_depth() {
    let deep = chain(DEFAULT_MAX_DEPTH as u32 * 2);
    let strict = HybridCodec::<Chain>::new();
    let generous = HybridCodec::<Chain>::new().with_max_depth(1024);
    let frame = generous.encode(&deep).unwrap();

    depth_error(strict.decode(&frame));
    depth_error(strict.access(&frame));
    depth_error(strict.access_owned(frame.clone()));
    assert_eq!(generous.decode(&frame).unwrap(), deep);
    assert_eq!(generous.access(&frame).unwrap().value, deep.value);
    assert_eq!(generous.access_owned(frame).unwrap().value, deep.value);

    // Compressed payloads are validated with the same cap (regression: access_owned of a
    // compressed hybrid frame used to validate with the default depth whatever the codec's).
    for compression in [Compression::Zstd(3), Compression::Zstd(1)] {
        let loose = generous.clone().with_compression(compression.clone());
        let tight = HybridCodec::<Chain>::new()
            .with_max_depth(16)
            .with_compression(compression.clone());
        let bytes = loose.encode(&chain(64)).unwrap();
        assert!(is_compressed(&bytes), "the payload was compressed");
        assert_eq!(loose.access_owned(bytes.clone()).unwrap().value, 63);
        depth_error(tight.access_owned(bytes.clone()));
        depth_error(tight.decode(&bytes));
        let deep_bytes = loose.encode(&deep).unwrap();
        assert!(is_compressed(&deep_bytes));
        assert_eq!(loose.decode(&deep_bytes).unwrap(), deep);
        depth_error(
            strict
                .clone()
                .with_compression(compression)
                .access_owned(deep_bytes.clone()),
        );
        // A reader without compression reads compressed frames, with its own cap.
        depth_error(strict.access_owned(deep_bytes.clone()));
        depth_error(strict.decode(&deep_bytes));
    }

    // Compressed rkyv in the generic frame codec.
    let loose = Compressed::new(
        RkyvCodec::<Chain>::new().with_max_depth(1024),
        Compression::Zstd(3),
    );
    let tight = Compressed::new(RkyvCodec::<Chain>::new(), Compression::Zstd(3));
    let bytes = loose.encode(&deep).unwrap();
    assert!(is_compressed(&bytes));
    assert_eq!(loose.access_owned(bytes.clone()).unwrap().value, deep.value);
    depth_error(tight.access_owned(bytes.clone()));
    depth_error(tight.decode(&bytes));
    // And stored raw, read in place.
    let raw_loose = Compressed::new(
        RkyvCodec::<Chain>::new().with_max_depth(1024),
        Compression::None,
    );
    let raw_tight = Compressed::new(RkyvCodec::<Chain>::new(), Compression::None);
    let bytes = raw_loose.encode(&deep).unwrap();
    assert_eq!(raw_loose.access(&bytes).unwrap().value, deep.value);
    depth_error(raw_tight.access(&bytes));
    depth_error(raw_tight.access_owned(bytes.clone()));
    depth_error(raw_tight.decode(&bytes));
}

#[test]
fn batch_depth_default_and_override() {
    let mut builder = BatchBuilder::<Chain>::new();
    builder.append(&chain(3)).unwrap();
    builder
        .append(&chain(DEFAULT_MAX_DEPTH as u32 * 2))
        .unwrap();
    let bytes = builder.into_bytes();
    depth_error(BatchRef::<Chain>::open(&bytes));
    let batch = BatchRef::<Chain>::open_with_depth(&bytes, 1024).unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!(
        batch.get(1).unwrap().value,
        DEFAULT_MAX_DEPTH as u32 * 2 - 1
    );

    // The batch frame codec validates with its own cap, raw or compressed.
    let err = Batch::<Chain>::open(bytes.clone()).unwrap_err();
    depth_error::<()>(Err(err));
    let mut buf = BufferPool::global().take();
    buf.extend_from_slice(&bytes);
    let deep = Batch::<Chain>::from_pooled_with_depth(buf, 1024).unwrap();
    for compression in [Compression::None, Compression::Zstd(3)] {
        let loose = BatchCodec::<Chain>::new()
            .with_max_depth(1024)
            .with_compression(compression.clone());
        let frame = loose.encode(&deep).unwrap();
        assert_eq!(
            is_compressed(&frame),
            !matches!(compression, Compression::None)
        );
        let back = loose.decode(&frame).unwrap();
        assert_eq!(back.get(1).unwrap().value, DEFAULT_MAX_DEPTH as u32 * 2 - 1);
        depth_error(BatchCodec::<Chain>::new().decode(&frame));
        depth_error(
            BatchCodec::<Chain>::new()
                .with_compression(compression)
                .decode(&frame),
        );
    }
}

#[test]
fn json_nesting_is_capped_by_serde_json_on_every_json_path() {
    // serde_json's limit is 128 nested arrays or objects: 127 decode, 200 do not.
    let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let value = JsonCodec::<serde_json::Value>::new();
    assert!(value.decode(ok.as_bytes()).is_ok());
    let err = value.decode(deep.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");

    // The same cap through the hybrid codec (legacy JSON and compressed JSON frames) and a
    // compressed JSON frame codec.
    #[derive(
        Debug, PartialEq, Serialize, Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
    )]
    struct Doc {
        #[rkyv(with = zerocodec_codecs::AsJson)]
        v: serde_json::Value,
    }
    impl Message for Doc {
        const NAME: &'static str = "Doc";
        const SCHEMA_FINGERPRINT: u64 = 1;
    }
    let legacy = format!("{{\"v\":{deep}}}");
    let hybrid = HybridCodec::<Doc>::new();
    let err = hybrid.decode(legacy.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");
    let packed = zstd::bulk::compress(legacy.as_bytes(), 3).unwrap();
    let input = frame_with(CodecId::JSON, CompressionId::ZSTD, &packed);
    let compressed = Compressed::new(JsonCodec::<Doc>::new(), Compression::Zstd(3));
    let err = compressed.decode(&input).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");
    let err = hybrid.decode(&input).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");
}

#[test]
fn frame_length_default_is_enforced_and_configurable() {
    let mut decoder = FrameDecoder::new(RkyvCodec::<Vec<u8>>::new());
    assert_eq!(decoder.max_frame_len(), DEFAULT_MAX_FRAME_LEN);
    assert_eq!(DEFAULT_MAX_FRAME_LEN, 8 << 20);
    let over = (DEFAULT_MAX_FRAME_LEN as u32 + 1).to_be_bytes();
    let mut buf = BytesMut::from(&over[..]);
    assert_eq!(kind(decoder.decode(&mut buf)), Some(ErrorKind::TooLarge));
    // Exactly the limit is accepted (and waits for the rest).
    let at = (DEFAULT_MAX_FRAME_LEN as u32).to_be_bytes();
    let mut buf = BytesMut::from(&at[..]);
    assert!(decoder.decode(&mut buf).unwrap().is_none());

    let mut small = FrameDecoder::with_max_frame_len(RkyvCodec::<Vec<u8>>::new(), 64);
    assert_eq!(small.max_frame_len(), 64);
    let mut buf = BytesMut::from(&65u32.to_be_bytes()[..]);
    assert_eq!(kind(small.decode(&mut buf)), Some(ErrorKind::TooLarge));
    // The encoder refuses to write what a reader with the same limit would refuse.
    let mut encoder = FrameEncoder::with_max_frame_len(RkyvCodec::<Vec<u8>>::new(), 64);
    assert_eq!(encoder.max_frame_len(), 64);
    let mut out = BytesMut::new();
    let err = encoder.encode(vec![7u8; 1000], &mut out).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
}

#[test]
fn decompressed_size_default_is_enforced_and_configurable() {
    assert_eq!(DEFAULT_MAX_DECOMPRESSED_LEN, 16 << 20);
    assert_eq!(
        Policy::new().max_decompressed_len(),
        DEFAULT_MAX_DECOMPRESSED_LEN
    );
    let rkyv = RkyvCodec::<Vec<u8>>::new();
    for policy in [
        Compressed::new(rkyv, Compression::Lz4).policy(),
        Compressed::new(rkyv, Compression::Zstd(3)).policy(),
        HybridCodec::<Chain>::new().policy(),
        BatchCodec::<Chain>::new().policy(),
    ] {
        assert_eq!(policy.max_decompressed_len(), DEFAULT_MAX_DECOMPRESSED_LEN);
        assert_eq!(policy.max_ratio(), DEFAULT_MAX_RATIO);
    }
    assert_eq!(DEFAULT_MAX_RATIO, 64);
    assert_eq!(Policy::new().max_ratio(), DEFAULT_MAX_RATIO);
    let zstd = Compressed::new(rkyv, Compression::Zstd(3));
    assert_eq!(zstd.policy().decompressed_limit(4096), 4096 * 64);
    assert_eq!(
        zstd.clone()
            .with_policy(Policy::new().with_max_ratio(8))
            .policy()
            .decompressed_limit(4096),
        4096 * 8
    );

    // A value just over the default: compresses to a few KiB, refused on the way back.
    let big = vec![0u8; DEFAULT_MAX_DECOMPRESSED_LEN + 1];
    let generous = Policy::new()
        .with_max_decompressed_len(DEFAULT_MAX_DECOMPRESSED_LEN * 2)
        .with_max_ratio(usize::MAX);
    let writer = Compressed::new(rkyv, Compression::Zstd(1)).with_policy(generous);
    let reader = Compressed::new(rkyv, Compression::Zstd(1));
    let bytes = writer.encode(&big).unwrap();
    assert!(bytes.len() < 1 << 20);
    assert_eq!(writer.decode(&bytes).unwrap().len(), big.len());
    assert_eq!(kind(reader.decode(&bytes)), Some(ErrorKind::TooLarge));
    assert_eq!(
        kind(reader.access_owned(Bytes::clone(&bytes))),
        Some(ErrorKind::TooLarge)
    );
    let lz4_writer = Compressed::new(rkyv, Compression::Lz4).with_policy(generous);
    let bytes = lz4_writer.encode(&big).unwrap();
    let reader = Compressed::new(rkyv, Compression::Lz4);
    assert_eq!(kind(reader.decode(&bytes)), Some(ErrorKind::TooLarge));
    assert_eq!(
        kind(reader.access_owned(Bytes::clone(&bytes))),
        Some(ErrorKind::TooLarge)
    );

    // The ratio limit: a writer with the default policy stores what compresses past it raw,
    // which its reader reads; a writer without the limit compresses it, and the reader refuses.
    let zeros = vec![0u8; 1 << 20];
    let writer = Compressed::new(rkyv, Compression::Zstd(1));
    let stored = writer.encode(&zeros).unwrap();
    assert!(stored.len() > 1 << 20, "stored raw: {} bytes", stored.len());
    assert!(!is_compressed(&stored));
    assert_eq!(writer.decode(&stored).unwrap(), zeros);
    let unlimited = Policy::new().with_max_ratio(usize::MAX);
    let bomb = Compressed::new(rkyv, Compression::Zstd(1))
        .with_policy(unlimited)
        .encode(&zeros)
        .unwrap();
    assert!(bomb.len() < 1024, "{} bytes", bomb.len());
    let err = writer.decode(&bomb).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert!(err.message().contains("with_max_ratio"), "{err}");
    let lenient = Compressed::new(rkyv, Compression::Zstd(1)).with_policy(unlimited);
    assert_eq!(lenient.decode(&bomb).unwrap(), zeros);
}

/// Two levels below the root: a vector of out-of-line strings (three levels with the root).
#[zerocodec::message]
#[derive(Debug)]
struct Labels {
    labels: Vec<String>,
}

#[test]
fn a_cap_of_n_admits_n_minus_one_levels_as_rkyvs_capped_validator_does() {
    let value = Labels {
        labels: vec!["a label long enough to be stored out of line".into(); 3],
    };
    let frame = HybridCodec::<Labels>::new().encode(&value).unwrap();
    let payload = frame.slice(FrameHeader::parse(&frame).unwrap().payload_range());
    // A cap of 3 admits two levels: the root and the vector, not the strings in it.
    let tight = HybridCodec::<Labels>::new().with_max_depth(3);
    depth_error(tight.decode(&frame));
    depth_error(tight.access(&frame));
    depth_error(tight.access_owned(frame.clone()));
    let rkyv_tight = RkyvCodec::<Labels>::new().with_max_depth(3);
    depth_error(rkyv_tight.decode(&payload));
    depth_error(rkyv_tight.access(&payload));
    // rkyv's own validator, with the same cap, draws the line at the same place.
    let rkyv_own = |max_depth| {
        let mut validator = rkyv::validation::Validator::new(
            rkyv::validation::archive::ArchiveValidator::with_max_depth(
                &payload,
                std::num::NonZeroUsize::new(max_depth),
            ),
            rkyv::validation::shared::SharedValidator::new(),
        );
        rkyv::api::access_with_context::<ArchivedLabels, _, rkyv::rancor::Error>(
            &payload,
            &mut validator,
        )
        .is_ok()
    };
    assert!(!rkyv_own(3));
    assert!(rkyv_own(4));
    // A cap of 4 admits all three.
    let fits = HybridCodec::<Labels>::new().with_max_depth(4);
    assert_eq!(fits.decode(&frame).unwrap().labels, value.labels);
    assert_eq!(fits.access(&frame).unwrap().labels.len(), 3);
    assert_eq!(fits.access_owned(frame.clone()).unwrap().labels.len(), 3);
    let rkyv_fits = RkyvCodec::<Labels>::new().with_max_depth(4);
    assert_eq!(rkyv_fits.decode(&payload).unwrap().labels, value.labels);
    assert_eq!(rkyv_fits.access(&payload).unwrap().labels.len(), 3);
}
