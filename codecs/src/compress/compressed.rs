//! [`Compressed`]: any codec's encoding, compressed inside a frame.

use std::fmt;

use zerocodec::bytes::Bytes;
use zerocodec::frame::Frame;
use zerocodec::{
    Access, Codec, CodecId, Decode, Encode, EncodeBuf, Error, ErrorKind, OwnedArchive, Result,
};

use crate::layer::{FRAME_CONTENT_TYPE, FrameLayer, Payload, frame_options};

use super::Compression;

/// Any codec, with its encoding compressed: the inner codec's bytes become the payload of a
/// zerocodec frame (`docs/wire-format.md`) whose header names the inner codec, the
/// compression algorithm and dictionary, and optionally a checksum.
///
/// The compression logic is here, not in the inner codec, which knows nothing of it: any
/// [`Encode`] or [`Decode`] codec can be wrapped. The frame carries no schema fingerprint
/// (the inner codec's item need not be a [`Message`](zerocodec::Message)) and a fingerprint
/// found in a frame is not checked; use [`HybridCodec`](crate::HybridCodec), which has the
/// same compression options, for typed frames.
///
/// - **Never larger than needed.** Compression is adaptive ([`Policy`](crate::Policy)): a
///   payload that does not shrink enough is stored raw and marked so, and a frame is at most
///   the raw payload plus its header.
/// - **Reads whatever the header names**: any algorithm this build has, with the dictionary
///   looked up in the [registry](Self::with_dictionaries), within the policy's limits.
/// - **Zero-copy when raw.** [`access`](Access::access) reads a payload stored raw in place;
///   a compressed one fails with [`ErrorKind::Unsupported`]. [`access_owned`](Access::access_owned)
///   reads every frame (decompressing once into a pooled, aligned buffer).
///
/// # Examples
///
/// ```
/// use zerocodec::prelude::*;
/// use zerocodec_codecs::{Compressed, Compression, RkyvCodec};
///
/// let codec = Compressed::new(RkyvCodec::new(), Compression::Lz4);
/// let value: Vec<u32> = (0..1000).map(|i| i % 100).collect();
/// let bytes = codec.encode(&value)?;
/// assert!(bytes.len() < 1000);
/// assert_eq!(codec.decode(&bytes)?, value);
/// assert_eq!(codec.access_owned(bytes)?.len(), 1000);
/// # Ok::<(), zerocodec::Error>(())
/// ```
#[derive(Clone)]
pub struct Compressed<C> {
    inner: C,
    frame: FrameLayer,
}

impl<C> Compressed<C> {
    /// Wraps `inner`, compressing its encodings with `compression` (no checksum).
    pub fn new(inner: C, compression: Compression) -> Self {
        let mut frame = FrameLayer::new(false);
        frame.compressor.compression = compression;
        Self { inner, frame }
    }

    frame_options!();

    /// The wrapped codec.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// Unwraps the codec.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl<C: fmt::Debug> fmt::Debug for Compressed<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compressed")
            .field("inner", &self.inner)
            .field("compression", &self.frame.compressor.compression)
            .field("policy", &self.frame.compressor.policy)
            .field("checksum", &self.frame.checksum)
            .finish()
    }
}

impl<C: Codec> Compressed<C> {
    /// Parses the frame and checks it holds the inner codec's payload.
    fn open<'a>(&self, bytes: &'a [u8]) -> Result<Frame<'a>> {
        let frame = Frame::parse(bytes)?;
        let found = frame.header().codec;
        if found != self.inner.codec_id() {
            return Err(wrong_codec(self.inner.codec_id(), found));
        }
        Ok(frame)
    }
}

/// The inner codec's encoding of one item, as a frame payload.
struct Inner<'a, C: Codec>(&'a C, &'a C::Item);

impl<C: Encode> Payload for Inner<'_, C> {
    #[inline]
    fn write_to<B: EncodeBuf>(&self, out: &mut B) -> Result<CodecId> {
        self.0.encode_into(self.1, out)?;
        Ok(self.0.codec_id())
    }
}

impl<C: Codec> Codec for Compressed<C> {
    type Item = C::Item;

    #[inline]
    fn codec_id(&self) -> CodecId {
        CodecId::FRAME
    }

    #[inline]
    fn content_type(&self) -> &'static str {
        FRAME_CONTENT_TYPE
    }
}

impl<C: Encode> Encode for Compressed<C> {
    #[inline]
    fn encode_into<B: EncodeBuf>(&self, item: &C::Item, out: &mut B) -> Result<()> {
        self.frame
            .write(&Inner(&self.inner, item), None, out)
            .map(drop)
    }
}

impl<C: Decode> Decode for Compressed<C> {
    fn decode(&self, bytes: &[u8]) -> Result<C::Item> {
        let frame = self.open(bytes)?;
        self.frame
            .read(&frame, |payload| self.inner.decode(payload))
    }
}

impl<C: Access> Access for Compressed<C> {
    fn access<'a>(&self, bytes: &'a [u8]) -> Result<&'a rkyv::Archived<C::Item>> {
        let frame = self.open(bytes)?;
        if frame.header().is_compressed() {
            return Err(compressed_not_accessible(&frame));
        }
        self.inner.access(frame.payload())
    }

    fn access_owned(&self, bytes: Bytes) -> Result<OwnedArchive<C::Item>> {
        let frame = self.open(&bytes)?;
        if !frame.header().is_compressed() {
            let range = frame.header().payload_range();
            return self.inner.access_owned(bytes.slice(range));
        }
        let buf = self.frame.decompress_pooled(&frame)?;
        self.inner.access_owned(buf.into_bytes())
    }
}

#[cold]
fn wrong_codec(expected: CodecId, found: CodecId) -> Error {
    Error::new(
        ErrorKind::UnknownCodec,
        format!("frame payload codec {found} is not this reader's: expected codec {expected}"),
    )
}

#[cold]
pub(crate) fn compressed_not_accessible(frame: &Frame<'_>) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "expected a payload stored raw for in-place access, found one compressed with {}; \
             use access_owned, which decompresses once into an aligned buffer",
            frame.header().compression
        ),
    )
}
