//! [`BatchCodec`]: a whole [`Batch`] as one frame, checksummed and compressed as a unit.

use std::fmt;
use std::marker::PhantomData;

use crate::archive::{DEFAULT_MAX_DEPTH, ZeroCopy};
use crate::batch::Batch;
use crate::buf::EncodeBuf;
use crate::codec::{Codec, CodecId};
use crate::error::{Error, ErrorKind, Result};
use crate::frame::{self, Frame, FrameHeader, FrameWriter};
use crate::message::Message;
use crate::pool::BufferPool;
use crate::transform::{CompressionId, Transform};

/// Writes a [`Batch`] as the payload of one frame (codec id [`CodecId::BATCH`]), and reads it
/// back with one validation pass.
///
/// The frame records the message type's schema fingerprint (a batch of `ChatMessage` is never
/// read as a batch of anything else) and, when enabled, a CRC-32C over the whole batch. Wrap
/// it in `Compressed<BatchCodec<T>, X>` (zerocodec-codecs) to compress the batch as a unit:
/// the compression is recorded in the frame header, so a stored segment says how to read it.
///
/// Decoding copies the payload once into a pooled, aligned buffer (or decompresses into one),
/// then validates the index and every message once; reads after that are O(1).
///
/// # Examples
///
/// ```
/// use zerocodec::{BatchBuilder, BatchCodec, Codec, Message};
///
/// #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
/// struct Event { seq: u64 }
/// impl Message for Event {
///     const NAME: &'static str = "Event";
///     const SCHEMA_FINGERPRINT: u64 = 0x5eed;
/// }
///
/// let mut builder = BatchBuilder::<Event>::new();
/// for seq in 0..100 {
///     builder.append(&Event { seq })?;
/// }
/// let codec = BatchCodec::<Event>::new();
/// let frame = codec.encode(&builder.finish()?)?;
/// let batch = codec.decode(&frame)?;
/// assert_eq!(batch.get(42)?.seq, 42);
/// # Ok::<(), zerocodec::Error>(())
/// ```
pub struct BatchCodec<T> {
    checksum: bool,
    version: u8,
    max_depth: usize,
    _type: PhantomData<fn() -> T>,
}

/// The MIME type of a [`BatchCodec`] frame.
pub const BATCH_CONTENT_TYPE: &str = "application/x-zerocodec-batch";

impl<T> BatchCodec<T> {
    /// A codec writing frames with the schema fingerprint and a CRC-32C checksum.
    ///
    /// Batches are what gets stored: on disk and in queues a flipped bit is not caught by a
    /// transport, and without a checksum about one corrupted frame in ten still validates as
    /// a batch of different values. The checksum is on by default; turn it off with
    /// [`with_checksum(false)`](Self::with_checksum) only where something else guards the
    /// bytes.
    pub const fn new() -> Self {
        Self {
            checksum: true,
            version: frame::VERSION,
            max_depth: DEFAULT_MAX_DEPTH,
            _type: PhantomData,
        }
    }

    /// Adds (or drops) a CRC-32C over the header and the whole batch.
    #[must_use]
    pub const fn with_checksum(mut self, on: bool) -> Self {
        self.checksum = on;
        self
    }

    /// Writes frames in format `version` (one of [`frame::VERSIONS`]; the current one by
    /// default). Readers read every version.
    ///
    /// # Panics
    ///
    /// If `version` is not one of [`frame::VERSIONS`].
    #[must_use]
    pub const fn with_format_version(mut self, version: u8) -> Self {
        self.version = frame::writable_version(version);
        self
    }

    /// Caps how deeply nested each message may be when the batch is validated.
    #[must_use]
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }
}

impl<T: Message> BatchCodec<T> {
    fn header(&self) -> FrameHeader {
        let header = FrameHeader::new(CodecId::BATCH)
            .with_version(self.version)
            .with_fingerprint(T::SCHEMA_FINGERPRINT);
        if self.checksum {
            header.with_checksum()
        } else {
            header
        }
    }

    /// Parses the frame and checks it holds a batch of `T`.
    fn open<'a>(&self, bytes: &'a [u8]) -> Result<Frame<'a>> {
        let frame = Frame::parse(bytes)?;
        let header = frame.header();
        if header.codec != CodecId::BATCH {
            return Err(Error::new(
                ErrorKind::UnknownCodec,
                format!(
                    "expected a batch frame (codec {}), found codec {}",
                    CodecId::BATCH,
                    header.codec
                ),
            ));
        }
        if let Some(found) = header.fingerprint {
            if found != T::SCHEMA_FINGERPRINT {
                return Err(Error::new(
                    ErrorKind::TypeMismatch,
                    format!(
                        "expected a batch of `{}` (schema fingerprint {:#018x}), found a batch \
                         with schema fingerprint {found:#018x}",
                        T::NAME,
                        T::SCHEMA_FINGERPRINT
                    ),
                ));
            }
        }
        Ok(frame)
    }

    fn finish_open(&self, buf: crate::pool::PooledBuf) -> Result<Batch<T>>
    where
        T: ZeroCopy,
    {
        Batch::from_pooled_with_depth(buf, self.max_depth)
    }
}

impl<T> Default for BatchCodec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for BatchCodec<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for BatchCodec<T> {}

impl<T> fmt::Debug for BatchCodec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchCodec")
            .field("type", &std::any::type_name::<T>())
            .field("checksum", &self.checksum)
            .field("format_version", &self.version)
            .field("max_depth", &self.max_depth)
            .finish()
    }
}

impl<T: ZeroCopy + Message> Codec<Batch<T>> for BatchCodec<T> {
    fn codec_id(&self) -> CodecId {
        CodecId::BATCH
    }

    fn content_type(&self) -> &'static str {
        BATCH_CONTENT_TYPE
    }

    fn encode_into<B: EncodeBuf>(&self, batch: &Batch<T>, out: &mut B) -> Result<()> {
        let header = self.header();
        let writer = FrameWriter::begin(out, header.reserve_len());
        out.extend_from_slice(batch.as_bytes());
        writer.finish(out, header).map(drop)
    }

    fn decode(&self, bytes: &[u8]) -> Result<Batch<T>> {
        let frame = self.open(bytes)?;
        if frame.header().compression != CompressionId::NONE {
            return Err(Error::new(
                ErrorKind::UnknownCompression,
                format!(
                    "batch frame is compressed with algorithm {}: read it through \
                     Compressed<BatchCodec<_>, _> with that algorithm",
                    frame.header().compression
                ),
            ));
        }
        let mut buf = BufferPool::global().take();
        buf.extend_from_slice(frame.payload());
        self.finish_open(buf)
    }

    fn encode_transformed_into<X, B>(
        &self,
        batch: &Batch<T>,
        transform: &X,
        out: &mut B,
    ) -> Result<()>
    where
        X: Transform,
        B: EncodeBuf,
    {
        let raw = batch.as_bytes();
        let Ok(raw_len) = u32::try_from(raw.len()) else {
            return Err(Error::too_large(
                "batch",
                raw.len() as u64,
                frame::MAX_PAYLOAD_LEN as u64,
            ));
        };
        let reserve = self
            .header()
            .reserve_len_compressed(transform.dictionary_id(), raw_len);
        let writer = FrameWriter::begin(out, reserve);
        let compression = match transform.compress_into(raw, out) {
            Ok(compression) => compression,
            Err(err) => {
                writer.abort(out);
                return Err(err);
            }
        };
        let dictionary = transform.dictionary_id();
        let header = self
            .header()
            .with_compression(compression, dictionary, raw_len);
        writer.finish(out, header).map(drop)
    }

    fn decode_transformed<X>(&self, bytes: &[u8], transform: &X) -> Result<Batch<T>>
    where
        X: Transform,
    {
        let frame = self.open(bytes)?;
        let mut buf = BufferPool::global().take();
        if frame.header().compression == CompressionId::NONE {
            buf.extend_from_slice(frame.payload());
        } else {
            frame::decompress_payload(&frame, transform, &mut buf)?;
        }
        self.finish_open(buf)
    }
}
