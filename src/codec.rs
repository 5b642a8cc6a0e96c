//! The codec traits: [`Codec`] for any encoding, [`ZeroCopyCodec`] for encodings that can be
//! read in place.

use std::fmt;

use crate::archive::{OwnedArchive, ZeroCopy};
use crate::buf::EncodeBuf;
use crate::error::Result;
use crate::pool::BufferPool;
use crate::transform::{self, Transform};
use bytes::Bytes;

/// A stable numeric codec id, written in frame headers.
///
/// Ids 1-127 are assigned by zerocodec; 128-255 are free for applications' own codecs.
/// 0 is never a valid id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodecId(pub u8);

impl CodecId {
    /// JSON text (serde_json).
    pub const JSON: CodecId = CodecId(1);
    /// An rkyv archive.
    pub const RKYV: CodecId = CodecId(2);
    /// A zerocodec tagged frame (the hybrid codec), which names its payload codec inside.
    pub const FRAME: CodecId = CodecId(3);
    /// The first id free for application-defined codecs.
    pub const FIRST_PRIVATE: CodecId = CodecId(128);

    /// A short name for the codecs zerocodec assigns, `None` for others.
    pub const fn name(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("json"),
            2 => Some("rkyv"),
            3 => Some("frame"),
            _ => None,
        }
    }
}

impl fmt::Display for CodecId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// Turns values of `T` into bytes and back.
///
/// Codecs are immutable once built and shared by reference across threads; any per-call
/// scratch space they reuse is their own business (per-thread or pooled), never the caller's.
///
/// # Contract
///
/// - [`encode_into`](Codec::encode_into) *appends* one complete encoding to `out` and touches
///   nothing before `out.len()` at the call. On error it leaves `out` as it found it.
/// - [`decode`](Codec::decode) accepts exactly one complete encoding (trailing bytes are an
///   error unless the format defines them) and treats its input as untrusted: any input gives
///   `Ok` or a typed [`Error`](crate::Error), never a panic or an unbounded allocation.
/// - `decode(encode(v)) == v` for every value the codec can encode.
pub trait Codec<T> {
    /// The codec's stable id, written in frame headers.
    fn codec_id(&self) -> CodecId;

    /// The MIME type of the encoding (`application/json`, `application/x-rkyv`, ...).
    fn content_type(&self) -> &'static str;

    /// Appends the encoding of `value` to `out`. The hot path: it allocates nothing when `out`
    /// has room.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`](crate::ErrorKind::Encode) when the codec cannot represent the
    /// value; `out` is left unchanged.
    fn encode_into<B: EncodeBuf>(&self, value: &T, out: &mut B) -> Result<()>;

    /// Encodes `value` into owned, 16-byte aligned `Bytes`.
    ///
    /// The default takes a buffer from [`BufferPool::global`], encodes into it and hands it
    /// over as `Bytes` without a copy ([`PooledBuf::into_bytes`](crate::PooledBuf::into_bytes));
    /// the buffer returns to the pool when the last clone of the `Bytes` is dropped. In steady
    /// state that costs one small allocation (the `Bytes` reference count), not a buffer.
    ///
    /// # Errors
    ///
    /// As [`encode_into`](Codec::encode_into).
    fn encode(&self, value: &T) -> Result<Bytes> {
        let mut buf = BufferPool::global().take();
        self.encode_into(value, &mut buf)?;
        Ok(buf.into_bytes())
    }

    /// Decodes one value from `bytes`.
    ///
    /// # Errors
    ///
    /// A typed error naming what was expected and what was found: `Incomplete` for truncated
    /// input, `Corrupt` for malformed input, and the frame-level kinds for framed codecs.
    fn decode(&self, bytes: &[u8]) -> Result<T>;

    /// Appends `value` encoded by this codec and then compressed by `transform`.
    ///
    /// This is the hook [`Compressed`](crate::transform) stacks use. The default writes the
    /// minimal prefix of [`transform::write_prefix`] followed by the transformed encoding;
    /// codecs with their own header (the hybrid frame) override it to record the compression
    /// there instead.
    ///
    /// # Errors
    ///
    /// As [`encode_into`](Codec::encode_into), plus the transform's errors.
    fn encode_transformed_into<X, B>(&self, value: &T, transform: &X, out: &mut B) -> Result<()>
    where
        X: Transform,
        B: EncodeBuf,
        Self: Sized,
    {
        transform::encode_prefixed(self, value, transform, out)
    }

    /// Decodes a value written by [`encode_transformed_into`](Codec::encode_transformed_into).
    ///
    /// # Errors
    ///
    /// As [`decode`](Codec::decode), plus the transform's errors (unknown algorithm or
    /// dictionary, corrupt compressed data, a decompressed size over the limit).
    fn decode_transformed<X>(&self, bytes: &[u8], transform: &X) -> Result<T>
    where
        X: Transform,
        Self: Sized,
    {
        transform::decode_prefixed(self, bytes, transform)
    }
}

/// A codec whose encoding can be read in place, as a validated `&T::Archived`.
pub trait ZeroCopyCodec<T: ZeroCopy>: Codec<T> {
    /// Validates `bytes` and returns the archived view, borrowing the input (no copy).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unaligned`](crate::ErrorKind::Unaligned) when the archive inside `bytes`
    /// is not 16-byte aligned (use [`access_owned`](ZeroCopyCodec::access_owned), which copies
    /// once); otherwise as [`Codec::decode`].
    fn access<'a>(&self, bytes: &'a [u8]) -> Result<&'a T::Archived>;

    /// Validates `bytes` once and returns an owned view that derefs to the archive. Aligned
    /// input is shared without a copy; unaligned input is copied once.
    ///
    /// # Errors
    ///
    /// As [`Codec::decode`].
    fn access_owned(&self, bytes: Bytes) -> Result<OwnedArchive<T>>;

    /// Decompresses a value written by
    /// [`encode_transformed_into`](Codec::encode_transformed_into) into an aligned buffer
    /// and returns the validated view of it.
    ///
    /// # Errors
    ///
    /// As [`Codec::decode_transformed`].
    fn access_transformed<X>(&self, bytes: Bytes, transform: &X) -> Result<OwnedArchive<T>>
    where
        X: Transform,
        Self: Sized,
    {
        transform::access_prefixed(self, bytes, transform)
    }
}
