//! The codec traits: [`Codec`] names a codec and the type it carries, [`Encode`] writes that
//! type, [`Decode`] reads it back, and [`Access`] reads it in place.

use std::fmt;

use bytes::Bytes;
use rkyv::util::AlignedVec;

use crate::archived::{OwnedArchive, ZeroCopy};
use crate::buf::{ARCHIVE_ALIGN, EncodeBuf};
use crate::error::Result;
use crate::pool::BufferPool;
use crate::scratch::with_scratch;

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
    /// A batch of rkyv archives, as the payload of a frame.
    pub const BATCH: CodecId = CodecId(4);
    /// bitcode 0.6 (its `Encode`/`Decode` derives), as the payload of a frame.
    pub const BITCODE: CodecId = CodecId(5);
    /// The first id free for application-defined codecs.
    pub const FIRST_PRIVATE: CodecId = CodecId(128);

    /// A short name for the codecs zerocodec assigns, `None` for others.
    pub const fn name(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("json"),
            2 => Some("rkyv"),
            3 => Some("frame"),
            4 => Some("batch"),
            5 => Some("bitcode"),
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

/// A stable numeric id for a compression algorithm, written in frame headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompressionId(pub u8);

impl CompressionId {
    /// Stored as is.
    pub const NONE: CompressionId = CompressionId(0);
    /// lz4 block format, after the decompressed length as LEB128.
    pub const LZ4: CompressionId = CompressionId(1);
    /// zstd frame format (with or without a dictionary).
    pub const ZSTD: CompressionId = CompressionId(2);

    /// A short name for the algorithms zerocodec assigns, `None` for others.
    pub const fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("none"),
            1 => Some("lz4"),
            2 => Some("zstd"),
            _ => None,
        }
    }
}

impl fmt::Display for CompressionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A codec: its wire identity and the type of the values it carries.
///
/// The carried type belongs to the codec's type (as tokio-util's `Decoder::Item` and tonic's
/// `Codec::Decode` do), so a call never names it: `JsonCodec<Order>` encodes and decodes
/// `Order`. What a codec can do with the type is in the traits built on this one: [`Encode`],
/// [`Decode`] and [`Access`], each with only the bounds its direction needs.
///
/// Codecs are immutable once built and shared by reference across threads; any per-call
/// scratch space they reuse is their own business (per thread or pooled), never the caller's.
pub trait Codec {
    /// The type of the values this codec writes and reads.
    type Item;

    /// The codec's stable id, written in frame headers.
    fn codec_id(&self) -> CodecId;

    /// The MIME type of the encoding (`application/json`, `application/x-rkyv`, ...).
    fn content_type(&self) -> &'static str;
}

/// A codec that writes its [`Item`](Codec::Item).
///
/// # Contract
///
/// [`encode_into`](Encode::encode_into) *appends* one complete encoding to `out` and touches
/// nothing before `out.len()` at the call. On error it leaves `out` as it found it. It never
/// writes what the codec's own reader rejects.
pub trait Encode: Codec {
    /// Appends the encoding of `item` to `out`. The hot path: it allocates nothing when `out`
    /// has room.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`](crate::ErrorKind::Encode) when the codec cannot represent the
    /// value; `out` is left unchanged.
    fn encode_into<B: EncodeBuf>(&self, item: &Self::Item, out: &mut B) -> Result<()>;

    /// Encodes `item` into owned, 16-byte aligned `Bytes` of exactly its length.
    ///
    /// The encoding is written into a reused per-thread scratch buffer, then copied once into
    /// an allocation of exactly its size: no pool and no lock, and a small message does not
    /// keep a large buffer alive for as long as its `Bytes` live. Use
    /// [`encode_pooled`](Encode::encode_pooled) to take the buffer from a [`BufferPool`]
    /// instead, or [`encode_into`](Encode::encode_into) to reuse your own.
    ///
    /// # Errors
    ///
    /// As [`encode_into`](Encode::encode_into).
    fn encode(&self, item: &Self::Item) -> Result<Bytes> {
        with_scratch(|scratch| {
            self.encode_into(item, scratch)?;
            let mut exact = AlignedVec::<ARCHIVE_ALIGN>::with_capacity(scratch.len());
            exact.extend_from_slice(scratch);
            Ok(Bytes::from_owner(exact))
        })
    }

    /// Encodes `item` into a buffer taken from `pool` and hands it over as 16-byte aligned
    /// `Bytes` without a copy; the buffer returns to `pool` when the last clone of the
    /// `Bytes` is dropped.
    ///
    /// # Errors
    ///
    /// As [`encode_into`](Encode::encode_into).
    fn encode_pooled(&self, item: &Self::Item, pool: &BufferPool) -> Result<Bytes> {
        let mut buf = pool.take();
        self.encode_into(item, &mut buf)?;
        Ok(buf.into_bytes())
    }
}

/// A codec that reads its [`Item`](Codec::Item) back.
///
/// # Contract
///
/// [`decode`](Decode::decode) accepts exactly one complete encoding (trailing bytes are an
/// error unless the format defines them) and treats its input as untrusted: any input gives
/// `Ok` or a typed [`Error`](crate::Error), never a panic or an unbounded allocation. For a
/// codec that also encodes, `decode(encode(v)) == v` for every value it can encode.
pub trait Decode: Codec {
    /// Decodes one value from `bytes`.
    ///
    /// # Errors
    ///
    /// A typed error naming what was expected and what was found: `Incomplete` for truncated
    /// input, `Corrupt` for malformed input, and the frame-level kinds for framed codecs.
    fn decode(&self, bytes: &[u8]) -> Result<Self::Item>;
}

/// A codec whose encoding can be read in place, as a validated `&Archived<Item>`.
///
/// Reading in place needs only what validation needs ([`ZeroCopy`]): an `Access` codec does
/// not have to be able to encode, nor to deserialize an owned value.
pub trait Access: Codec<Item: ZeroCopy> {
    /// Validates `bytes` and returns the archived view, borrowing the input (no copy).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unaligned`](crate::ErrorKind::Unaligned) when the archive inside `bytes`
    /// is not 16-byte aligned (use [`access_owned`](Access::access_owned), which copies once);
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) when the bytes hold no
    /// archive to borrow (a compressed frame, a JSON payload); otherwise as
    /// [`Decode::decode`].
    fn access<'a>(&self, bytes: &'a [u8]) -> Result<&'a rkyv::Archived<Self::Item>>;

    /// Validates `bytes` once and returns an owned view that derefs to the archive. Aligned
    /// input is shared without a copy; anything else (unaligned, compressed) costs one pooled
    /// copy or decompression.
    ///
    /// # Errors
    ///
    /// As [`Decode::decode`].
    fn access_owned(&self, bytes: Bytes) -> Result<OwnedArchive<Self::Item>>;
}
