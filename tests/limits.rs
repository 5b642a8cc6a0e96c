//! The decoders' limits: each has a documented default, is configurable, and is enforced on
//! every path that reads untrusted bytes (docs/security.md lists them).
//!
//! | limit | default | configured with |
//! |---|---|---|
//! | rkyv validation nesting depth | `archive::DEFAULT_MAX_DEPTH` (128) | `RkyvCodec::with_max_depth`, `HybridCodec::with_rkyv`, `BatchRef::open_with_depth` |
//! | JSON nesting depth | serde_json's recursion limit (128) | fixed by serde_json |
//! | length-delimited frame | `DEFAULT_MAX_FRAME_LEN` (8 MiB) | `max_frame_len` on the frame codecs |
//! | decompressed size | `DEFAULT_MAX_DECOMPRESSED_LEN` (16 MiB) | `Policy::with_max_decompressed_len` |

use serde::{Deserialize, Serialize};
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};
use zerocodec::archive::DEFAULT_MAX_DEPTH;
use zerocodec::batch::BatchRef;
use zerocodec::bytes::Bytes;
use zerocodec::{BatchBuilder, Codec, ErrorKind, Message, Transform, ZeroCopyCodec};
use zerocodec_codecs::{
    Compressed, DEFAULT_MAX_DECOMPRESSED_LEN, DEFAULT_MAX_FRAME_LEN, DEFAULT_MAX_RATIO,
    FrameDecoder, FrameEncoder, HybridCodec, JsonCodec, Lz4, Policy, RkyvCodec, Zstd,
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

#[test]
fn rkyv_depth_default_is_enforced_and_configurable() {
    assert_eq!(DEFAULT_MAX_DEPTH, 128);
    assert_eq!(RkyvCodec::new().max_depth(), DEFAULT_MAX_DEPTH);
    let shallow = chain(DEFAULT_MAX_DEPTH as u32 / 2);
    let deep = chain(DEFAULT_MAX_DEPTH as u32 * 2);
    let rkyv = RkyvCodec::new();
    let deep_bytes = rkyv.encode(&deep).unwrap();

    assert_eq!(
        rkyv.decode::<Chain>(&rkyv.encode(&shallow).unwrap())
            .unwrap(),
        shallow
    );
    depth_error(rkyv.decode::<Chain>(&deep_bytes));
    depth_error(rkyv.access::<Chain>(&deep_bytes));
    depth_error(rkyv.access_owned::<Chain>(deep_bytes.clone()));

    let generous = RkyvCodec::new().with_max_depth(4 * DEFAULT_MAX_DEPTH);
    assert_eq!(generous.decode::<Chain>(&deep_bytes).unwrap(), deep);
    assert_eq!(
        generous.access::<Chain>(&deep_bytes).unwrap().value,
        deep.value
    );
    // A tighter cap rejects what the default accepts.
    depth_error(
        RkyvCodec::new()
            .with_max_depth(8)
            .decode::<Chain>(&rkyv.encode(&shallow).unwrap()),
    );
}

#[test]
fn hybrid_and_compressed_stacks_use_the_configured_depth() {
    let deep = chain(DEFAULT_MAX_DEPTH as u32 * 2);
    let strict = HybridCodec::<Chain>::new();
    let generous = HybridCodec::<Chain>::new().with_rkyv(RkyvCodec::new().with_max_depth(1024));
    let frame = generous.encode(&deep).unwrap();

    depth_error(strict.decode(&frame));
    depth_error(strict.access(&frame));
    depth_error(strict.access_owned(frame.clone()));
    assert_eq!(generous.decode(&frame).unwrap(), deep);
    assert_eq!(generous.access(&frame).unwrap().value, deep.value);
    assert_eq!(generous.access_owned(frame).unwrap().value, deep.value);

    // Compressed payloads are validated with the same cap (regression: access_owned of a
    // compressed hybrid frame used to validate with the default depth whatever the codec's).
    for transform in [Zstd::new(3), Zstd::new(1)] {
        let loose = Compressed::new(generous.clone(), transform);
        let tight = Compressed::new(
            HybridCodec::<Chain>::new().with_rkyv(RkyvCodec::new().with_max_depth(16)),
            transform,
        );
        let bytes = loose.encode(&chain(64)).unwrap();
        assert_ne!(bytes[3], 0, "the payload was compressed");
        assert_eq!(
            loose.access_owned::<Chain>(bytes.clone()).unwrap().value,
            63
        );
        depth_error(tight.access_owned::<Chain>(bytes.clone()));
        depth_error(tight.decode::<Chain>(&bytes));
        let deep_bytes = loose.encode(&deep).unwrap();
        assert_eq!(loose.decode::<Chain>(&deep_bytes).unwrap(), deep);
        depth_error(Compressed::new(strict.clone(), transform).access_owned::<Chain>(deep_bytes));
    }

    // Compressed rkyv without a frame.
    let loose = Compressed::new(RkyvCodec::new().with_max_depth(1024), Zstd::new(3));
    let tight = Compressed::new(RkyvCodec::new(), Zstd::new(3));
    let bytes = loose.encode(&deep).unwrap();
    assert_eq!(
        loose.access_owned::<Chain>(bytes.clone()).unwrap().value,
        deep.value
    );
    depth_error(tight.access_owned::<Chain>(bytes.clone()));
    depth_error(tight.decode::<Chain>(&bytes));
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
}

#[test]
fn json_nesting_is_capped_by_serde_json_on_every_json_path() {
    // serde_json's limit is 128 nested arrays or objects: 127 decode, 200 do not.
    let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(JsonCodec.decode::<serde_json::Value>(ok.as_bytes()).is_ok());
    let err = JsonCodec
        .decode::<serde_json::Value>(deep.as_bytes())
        .unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");

    // The same cap through the hybrid codec (legacy JSON) and a compressed JSON stack.
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
    let err = HybridCodec::<Doc>::new()
        .decode(legacy.as_bytes())
        .unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");
    let compressed = Compressed::new(JsonCodec, Zstd::new(3));
    let mut packed = Vec::new();
    let id = Zstd::new(3)
        .with_policy(Policy::new().with_min_size(0))
        .compress_into(legacy.as_bytes(), &mut packed)
        .unwrap();
    let mut input = vec![id.0, 0];
    input.extend_from_slice(&packed);
    let err = compressed.decode::<Doc>(&input).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");
}

#[test]
fn frame_length_default_is_enforced_and_configurable() {
    let mut decoder = FrameDecoder::<_, Vec<u8>>::new(RkyvCodec::new());
    assert_eq!(decoder.max_frame_length(), DEFAULT_MAX_FRAME_LEN);
    assert_eq!(DEFAULT_MAX_FRAME_LEN, 8 << 20);
    let over = (DEFAULT_MAX_FRAME_LEN as u32 + 1).to_be_bytes();
    let mut buf = BytesMut::from(&over[..]);
    assert_eq!(kind(decoder.decode(&mut buf)), Some(ErrorKind::TooLarge));
    // Exactly the limit is accepted (and waits for the rest).
    let at = (DEFAULT_MAX_FRAME_LEN as u32).to_be_bytes();
    let mut buf = BytesMut::from(&at[..]);
    assert!(decoder.decode(&mut buf).unwrap().is_none());

    let mut small = FrameDecoder::<_, Vec<u8>>::new(RkyvCodec::new()).max_frame_len(64);
    let mut buf = BytesMut::from(&65u32.to_be_bytes()[..]);
    assert_eq!(kind(small.decode(&mut buf)), Some(ErrorKind::TooLarge));
    // The encoder refuses to write what a reader with the same limit would refuse.
    let mut encoder = FrameEncoder::<_, Vec<u8>>::new(RkyvCodec::new()).max_frame_len(64);
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
    assert_eq!(
        Lz4::new().max_decompressed_len(),
        DEFAULT_MAX_DECOMPRESSED_LEN
    );
    assert_eq!(
        Zstd::new(3).max_decompressed_len(),
        DEFAULT_MAX_DECOMPRESSED_LEN
    );
    assert_eq!(DEFAULT_MAX_RATIO, 64);
    assert_eq!(Policy::new().max_ratio(), DEFAULT_MAX_RATIO);
    assert_eq!(Zstd::new(3).decompressed_limit(4096), 4096 * 64);
    assert_eq!(
        Zstd::new(3)
            .with_policy(Policy::new().with_max_ratio(8))
            .decompressed_limit(4096),
        4096 * 8
    );

    // A value just over the default: compresses to a few KiB, refused on the way back.
    let big = vec![0u8; DEFAULT_MAX_DECOMPRESSED_LEN + 1];
    let generous = Policy::new()
        .with_max_decompressed_len(DEFAULT_MAX_DECOMPRESSED_LEN * 2)
        .with_max_ratio(usize::MAX);
    let writer = Compressed::new(RkyvCodec::new(), Zstd::new(1).with_policy(generous));
    let reader = Compressed::new(RkyvCodec::new(), Zstd::new(1));
    let bytes = writer.encode(&big).unwrap();
    assert!(bytes.len() < 1 << 20);
    assert_eq!(writer.decode::<Vec<u8>>(&bytes).unwrap().len(), big.len());
    assert_eq!(
        kind(reader.decode::<Vec<u8>>(&bytes)),
        Some(ErrorKind::TooLarge)
    );
    assert_eq!(
        kind(reader.access_owned::<Vec<u8>>(Bytes::clone(&bytes))),
        Some(ErrorKind::TooLarge)
    );
    let lz4_writer = Compressed::new(RkyvCodec::new(), Lz4::new().with_policy(generous));
    let bytes = lz4_writer.encode(&big).unwrap();
    let reader = Compressed::new(RkyvCodec::new(), Lz4::new());
    assert_eq!(
        kind(reader.decode::<Vec<u8>>(&bytes)),
        Some(ErrorKind::TooLarge)
    );
    assert_eq!(
        kind(reader.access_owned::<Vec<u8>>(Bytes::clone(&bytes))),
        Some(ErrorKind::TooLarge)
    );

    // The ratio limit: a writer with the default policy stores what compresses past it raw,
    // which its reader reads; a writer without the limit compresses it, and the reader refuses.
    let zeros = vec![0u8; 1 << 20];
    let writer = Compressed::new(RkyvCodec::new(), Zstd::new(1));
    let stored = writer.encode(&zeros).unwrap();
    assert!(stored.len() > 1 << 20, "stored raw: {} bytes", stored.len());
    assert_eq!(writer.decode::<Vec<u8>>(&stored).unwrap(), zeros);
    let unlimited = Policy::new().with_max_ratio(usize::MAX);
    let bomb = Compressed::new(RkyvCodec::new(), Zstd::new(1).with_policy(unlimited))
        .encode(&zeros)
        .unwrap();
    assert!(bomb.len() < 1024, "{} bytes", bomb.len());
    let err = writer.decode::<Vec<u8>>(&bomb).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert!(err.message().contains("with_max_ratio"), "{err}");
    let lenient = Compressed::new(RkyvCodec::new(), Zstd::new(1).with_policy(unlimited));
    assert_eq!(lenient.decode::<Vec<u8>>(&bomb).unwrap(), zeros);
}
