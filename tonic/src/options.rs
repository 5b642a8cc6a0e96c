//! [`FrameOptions`]: the frame settings a service's codecs are built with, for every message
//! type at once.

use zerocodec::BufferPool;
#[cfg(feature = "zstd")]
use zerocodec_codecs::DictionaryRegistry;
use zerocodec_codecs::{Compression, HybridCodec, Policy};

use crate::codec::{Archived, ArchivedGrpcCodec, GrpcCodec, HybridGrpcCodec, Owned};

/// How a service's messages are framed: compression (with a dictionary or not), the
/// decompression limits, the dictionaries a reader knows, checksums, whether header-less
/// legacy JSON is accepted, and the pool decompressed messages land in.
///
/// A [`HybridCodec`] is typed by its message, and a service has many; these are its options
/// without the type. A server or client made by [`service!`](crate::service!) holds one
/// (`with_frames`) and builds each call's codec from it; [`hybrid`](Self::hybrid) builds one
/// by hand. Cloning is cheap (dictionaries and registries are shared).
///
/// # Which compression
///
/// zerocodec's compression lives in the frame and is chosen here: it is the one that can use
/// a trained zstd dictionary (tonic declined custom algorithms), which is what makes small
/// messages compress at all, and any zerocodec reader reads it whatever it was built with.
/// tonic's own gzip and zstd (`send_compressed` / `accept_compressed`) compress the whole
/// gRPC message and keep working beside it: reach for them for large messages to peers that
/// negotiate `grpc-encoding` (they need no shared dictionary), and turn one of the two off
/// when the other is on, since compressing twice costs time and saves nothing.
///
/// What a dictionary costs: on the report's chat stream (`cargo run --release -p
/// zerocodec-report -- --grpc-only`), zstd level 3 with a trained dictionary cut each message
/// on the wire from about 201 to 103 bytes (prost's: 161), and cost about 1.8 µs of CPU per
/// message, writing and reading, against about 0.4 µs uncompressed: the stream ran at about a
/// quarter of its uncompressed rate on loopback. It pays where bandwidth costs more than CPU
/// (between regions, metered links), not between machines on one fast network.
///
/// # Limits
///
/// tonic's `max_decoding_message_size` (4 MiB by default) bounds a message as it arrives,
/// before tonic buffers it, and answers `OutOfRange`. The [`Policy`] here bounds what a
/// zerocodec-compressed frame may decompress to (16 MiB, and at most 64 bytes per compressed
/// byte, by default), checked before allocating, and answers `ResourceExhausted`. Keep both:
/// tonic's sees the bytes on the wire, ours sees what they claim to become.
///
/// # Examples
///
/// ```
/// use zerocodec_codecs::{Compression, Policy};
/// use zerocodec_tonic::FrameOptions;
///
/// let frames = FrameOptions::new()
///     .with_compression(Compression::Lz4)
///     .with_policy(Policy::new().with_max_decompressed_len(1 << 20));
/// ```
#[derive(Debug, Clone)]
pub struct FrameOptions {
    compression: Compression,
    policy: Policy,
    #[cfg(feature = "zstd")]
    dictionaries: Option<DictionaryRegistry>,
    checksum: bool,
    legacy_json: bool,
    max_depth: Option<usize>,
    pool: Option<BufferPool>,
}

impl Default for FrameOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameOptions {
    /// [`HybridCodec::new`]'s settings: no compression, the default policy, no checksum,
    /// fingerprints on, legacy JSON accepted.
    pub fn new() -> Self {
        Self {
            compression: Compression::default(),
            policy: Policy::new(),
            #[cfg(feature = "zstd")]
            dictionaries: None,
            checksum: false,
            legacy_json: true,
            max_depth: None,
            pool: None,
        }
    }

    /// Compresses every frame written with `compression` ([`HybridCodec::with_compression`]).
    #[must_use]
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// When compressing pays, and how large a decompressed frame may be
    /// ([`HybridCodec::with_policy`]).
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Reads frames compressed with the dictionaries in `registry` as well as the writer's own
    /// ([`HybridCodec::with_dictionaries`]).
    #[cfg(feature = "zstd")]
    #[must_use]
    pub fn with_dictionaries(mut self, registry: DictionaryRegistry) -> Self {
        self.dictionaries = Some(registry);
        self
    }

    /// Writes a CRC-32C in every frame ([`HybridCodec::with_checksum`]; HTTP/2 over TCP
    /// already checks its bytes, so it is off by default).
    #[must_use]
    pub fn with_checksum(mut self, on: bool) -> Self {
        self.checksum = on;
        self
    }

    /// Accepts header-less legacy JSON messages (on by default;
    /// [`HybridCodec::with_legacy_json`]).
    #[must_use]
    pub fn with_legacy_json(mut self, on: bool) -> Self {
        self.legacy_json = on;
        self
    }

    /// Caps how deeply nested an rkyv payload may be ([`HybridCodec::with_max_depth`]).
    #[must_use]
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = Some(max_depth);
        self
    }

    /// Decompresses and re-aligns messages into buffers from `pool`
    /// ([`HybridCodec::with_pool`]).
    #[must_use]
    pub fn with_pool(mut self, pool: BufferPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// The compression frames are written with.
    pub fn compression(&self) -> &Compression {
        &self.compression
    }

    /// The hybrid codec of `T` with these settings.
    pub fn hybrid<T>(&self) -> HybridCodec<T> {
        let mut codec = HybridCodec::new()
            .with_compression(self.compression.clone())
            .with_policy(self.policy)
            .with_checksum(self.checksum)
            .with_legacy_json(self.legacy_json);
        #[cfg(feature = "zstd")]
        if let Some(registry) = &self.dictionaries {
            codec = codec.with_dictionaries(registry.clone());
        }
        if let Some(depth) = self.max_depth {
            codec = codec.with_max_depth(depth);
        }
        if let Some(pool) = &self.pool {
            codec = codec.with_pool(pool.clone());
        }
        codec
    }

    /// A codec that writes `E`s and reads `D`s into owned values.
    pub fn codec<E, D>(&self) -> HybridGrpcCodec<E, D> {
        GrpcCodec::new(self.hybrid(), Owned(self.hybrid()))
    }

    /// A codec that writes `E`s and reads `D`s as validated archived views.
    pub fn archived_codec<E, D>(&self) -> ArchivedGrpcCodec<E, D> {
        GrpcCodec::new(self.hybrid(), Archived(self.hybrid()))
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use zerocodec::frame::Frame;
    use zerocodec::prelude::*;
    use zerocodec::{BufferPool, ErrorKind, PoolConfig};
    use zerocodec_codecs::{Compression, Policy};

    use super::FrameOptions;

    #[zerocodec::message]
    #[derive(Debug, PartialEq)]
    struct Note {
        text: String,
    }

    fn note() -> Note {
        Note {
            text: "a string long enough to live out of line".into(),
        }
    }

    /// Each option reaches the codecs a service builds: set one, and the codec behaves so.
    #[test]
    fn every_option_reaches_the_codecs_it_builds() {
        let plain = FrameOptions::new().hybrid::<Note>();
        let frame = plain.encode(&note()).unwrap();
        assert!(Frame::parse(&frame).unwrap().header().checksum.is_none());

        let checked = FrameOptions::new().with_checksum(true).hybrid::<Note>();
        let frame = checked.encode(&note()).unwrap();
        assert!(Frame::parse(&frame).unwrap().header().checksum.is_some());

        let legacy = br#"{"text":"from an older client"}"#;
        assert_eq!(plain.decode(legacy).unwrap().text, "from an older client");
        let strict = FrameOptions::new().with_legacy_json(false).hybrid::<Note>();
        assert!(strict.decode(legacy).is_err());

        // The root and the out-of-line string are two levels: a cap of 2 admits one.
        let frame = plain.encode(&note()).unwrap();
        let shallow = FrameOptions::new().with_max_depth(2).hybrid::<Note>();
        let err = shallow.decode(&frame).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
        assert!(err.to_string().contains("depth"), "{err}");
        let deep_enough = FrameOptions::new().with_max_depth(3).hybrid::<Note>();
        assert_eq!(deep_enough.decode(&frame).unwrap(), note());

        // An unaligned message is copied once, into the options' pool.
        let pool = BufferPool::new(PoolConfig::new());
        let pooled = FrameOptions::new().with_pool(pool.clone()).hybrid::<Note>();
        let mut shifted = zerocodec::rkyv::util::AlignedVec::<16>::new();
        shifted.push(0);
        shifted.extend_from_slice(&frame);
        let view = pooled
            .access_owned(Bytes::from_owner(shifted).slice(1..))
            .unwrap();
        assert!(!view.is_shared());
        assert_eq!(view.text, note().text);
        assert_eq!(pool.stats().outstanding(), 1);

        let lz4 = FrameOptions::new()
            .with_compression(Compression::Lz4)
            .with_policy(Policy::new().with_min_size(16));
        assert!(matches!(lz4.compression(), Compression::Lz4));
        let long = Note {
            text: "compressible ".repeat(40),
        };
        let codec = lz4.codec::<Note, Note>();
        let frame = codec.encoder_codec().encode(&long).unwrap();
        assert!(Frame::parse(&frame).unwrap().header().is_compressed());
        assert_eq!(codec.read_mode().0.decode(&frame).unwrap(), long);
        let archived = lz4.archived_codec::<Note, Note>();
        assert_eq!(
            archived.read_mode().0.access_owned(frame).unwrap().text,
            long.text
        );
        assert!(format!("{:?}", archived.clone()).starts_with("GrpcCodec"));
    }
}
