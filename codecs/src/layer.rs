//! The frame layer: the one place frames are written and read. It owns compression (with the
//! adaptive policy and the dictionaries a reader knows), the checksum, and the pool that
//! decompressed payloads land in; [`HybridCodec`](crate::HybridCodec),
//! [`Compressed`](crate::Compressed) and [`BatchCodec`](crate::BatchCodec) each hold one and
//! add only what is theirs (payload codecs, fingerprints, legacy JSON).

use zerocodec::__private::with_scratch;
use zerocodec::frame::{Frame, FrameHeader, FrameWriter, MAX_PAYLOAD_LEN};
use zerocodec::{BufferPool, CodecId, EncodeBuf, Error, PooledBuf, Result};

use crate::compress::Compressor;

/// The media type of a zerocodec frame ([`HybridCodec`](crate::HybridCodec),
/// [`Compressed`](crate::Compressed)): `application/vnd.zerocodec`, in the vendor tree of
/// RFC 6838 (the `x-` prefix is deprecated by RFC 6648). docs/wire-format.md section 1.1.
pub const FRAME_CONTENT_TYPE: &str = "application/vnd.zerocodec";

/// A frame's payload, written by whichever codec it holds.
pub(crate) trait Payload {
    /// Appends the payload to `out` and returns the id of the codec that wrote it; on error
    /// `out` is left as it was.
    fn write_to<B: EncodeBuf>(&self, out: &mut B) -> Result<CodecId>;
}

/// What a written frame holds.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(
    not(feature = "json"),
    allow(dead_code, reason = "read by the hybrid's metrics")
)]
pub(crate) struct Written {
    /// The payload's length before compression.
    pub(crate) raw_len: usize,
    /// The payload's length as stored.
    pub(crate) stored_len: usize,
}

/// Compression, checksum and pool of one frame codec.
#[derive(Debug, Clone)]
pub(crate) struct FrameLayer {
    pub(crate) compressor: Compressor,
    pub(crate) checksum: bool,
    /// Where decompressed and re-aligned payloads go (`None`: the global pool).
    pub(crate) pool: Option<BufferPool>,
}

impl FrameLayer {
    /// Raw payloads, with or without a checksum, the global pool.
    pub(crate) const fn new(checksum: bool) -> Self {
        Self {
            compressor: Compressor::new(),
            checksum,
            pool: None,
        }
    }

    /// The pool payloads are decompressed into.
    #[inline]
    pub(crate) fn pool(&self) -> &BufferPool {
        self.pool.as_ref().unwrap_or_else(|| BufferPool::global())
    }

    #[inline]
    fn header(&self, codec: CodecId, fingerprint: Option<u64>) -> FrameHeader {
        let mut header = FrameHeader::new(codec);
        if self.checksum {
            header = header.with_checksum();
        }
        if let Some(fingerprint) = fingerprint {
            header = header.with_fingerprint(fingerprint);
        }
        header
    }

    /// Appends one frame holding `payload` (and `fingerprint`) to `out`; on error `out` is
    /// left as it was.
    #[inline]
    pub(crate) fn write<P: Payload, B: EncodeBuf>(
        &self,
        payload: &P,
        fingerprint: Option<u64>,
        out: &mut B,
    ) -> Result<Written> {
        if self.compressor.is_none() {
            self.write_raw(payload, fingerprint, out)
        } else {
            self.write_compressed(payload, fingerprint, out)
        }
    }

    #[inline]
    fn write_raw<P: Payload, B: EncodeBuf>(
        &self,
        payload: &P,
        fingerprint: Option<u64>,
        out: &mut B,
    ) -> Result<Written> {
        // Without a checksum a raw header is 16 bytes, fingerprint or not (for payloads under
        // 256 MiB, `reserve_len`'s assumption): a shortcut past building the header.
        let reserve = if self.checksum {
            self.header(CodecId::RKYV, fingerprint).reserve_len()
        } else {
            16
        };
        let writer = FrameWriter::begin(out, reserve);
        match payload.write_to(out) {
            Ok(codec) => {
                let header = writer.finish(out, self.header(codec, fingerprint))?;
                let len = header.payload_len as usize;
                Ok(Written {
                    raw_len: len,
                    stored_len: len,
                })
            }
            Err(err) => {
                writer.abort(out);
                Err(err)
            }
        }
    }

    /// The payload is written to scratch space first, then compressed into the frame.
    #[inline(never)]
    fn write_compressed<P: Payload, B: EncodeBuf>(
        &self,
        payload: &P,
        fingerprint: Option<u64>,
        out: &mut B,
    ) -> Result<Written> {
        with_scratch(|scratch| {
            let codec = payload.write_to(scratch)?;
            let Ok(raw_len) = u32::try_from(scratch.len()) else {
                return Err(Error::too_large(
                    "frame payload",
                    scratch.len() as u64,
                    MAX_PAYLOAD_LEN as u64,
                ));
            };
            let dictionary = self.compressor.compression.dictionary_id();
            let header = self.header(codec, fingerprint);
            // Room for the header of a payload compressed to at most its raw length (the
            // policy stores it raw otherwise); `finish` moves the payload once if the header
            // turns out shorter (or, stored raw, padded).
            let writer =
                FrameWriter::begin(out, header.reserve_len_compressed(dictionary, raw_len));
            let compression = match self.compressor.compress_into(scratch, out) {
                Ok(id) => id,
                Err(err) => {
                    writer.abort(out);
                    return Err(err);
                }
            };
            let written = writer.finish(out, header.with_compression(compression, dictionary))?;
            Ok(Written {
                raw_len: scratch.len(),
                stored_len: written.payload_len as usize,
            })
        })
    }

    /// Runs `read` on the payload of `frame` as written: in place when it is stored raw,
    /// decompressed into scratch space otherwise.
    ///
    /// # Errors
    ///
    /// The decompression errors (unknown algorithm or dictionary, corrupt data, a size over
    /// the policy's limits), then `read`'s.
    #[inline]
    pub(crate) fn read<R>(
        &self,
        frame: &Frame<'_>,
        read: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<R> {
        let header = frame.header();
        if !header.is_compressed() {
            return read(frame.payload());
        }
        with_scratch(|scratch| {
            self.compressor.decompress_into(
                header.compression,
                header.dictionary,
                frame.payload(),
                scratch,
            )?;
            read(scratch)
        })
    }

    /// The payload of a compressed `frame`, decompressed into a buffer from this layer's pool.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub(crate) fn decompress_pooled(&self, frame: &Frame<'_>) -> Result<PooledBuf> {
        let header = frame.header();
        let mut buf = self.pool().take();
        self.compressor.decompress_into(
            header.compression,
            header.dictionary,
            frame.payload(),
            &mut buf,
        )?;
        Ok(buf)
    }
}

/// The run-time frame options every frame codec offers, as builder methods on its type (each
/// codec has a `frame: FrameLayer` field).
macro_rules! frame_options {
    () => {
        /// Compresses payloads with `compression` (none by default). Readers read every
        /// algorithm whatever this says: the header names the one each frame used.
        #[must_use]
        pub fn with_compression(mut self, compression: $crate::Compression) -> Self {
            self.frame.compressor.compression = compression;
            self
        }

        /// When compressing pays, and how large a decompressed payload may be
        /// ([`Policy`](crate::Policy); its defaults otherwise).
        #[must_use]
        pub fn with_policy(mut self, policy: $crate::Policy) -> Self {
            self.frame.compressor.policy = policy;
            self
        }

        /// Also reads payloads compressed with the dictionaries in `registry` (a writer's
        /// own dictionary, from [`with_compression`](Self::with_compression), is always
        /// known).
        #[cfg(feature = "zstd")]
        #[must_use]
        pub fn with_dictionaries(mut self, registry: $crate::DictionaryRegistry) -> Self {
            self.frame.compressor.registry = Some(registry);
            self
        }

        /// Writes a CRC-32C of each frame, or not. Readers always verify one that is present.
        #[must_use]
        pub fn with_checksum(mut self, on: bool) -> Self {
            self.frame.checksum = on;
            self
        }

        /// Takes the buffers that compressed payloads are decompressed into (and unaligned
        /// ones re-aligned into) from `pool` instead of
        /// [`BufferPool::global`](zerocodec::BufferPool::global).
        #[must_use]
        pub fn with_pool(mut self, pool: zerocodec::BufferPool) -> Self {
            self.frame.pool = Some(pool);
            self
        }

        /// The compression payloads are written with.
        pub fn compression(&self) -> &$crate::Compression {
            &self.frame.compressor.compression
        }

        /// The compression policy and decompression limits.
        pub fn policy(&self) -> &$crate::Policy {
            &self.frame.compressor.policy
        }

        /// True if frames carry a checksum.
        pub fn checksum(&self) -> bool {
            self.frame.checksum
        }
    };
}

pub(crate) use frame_options;
