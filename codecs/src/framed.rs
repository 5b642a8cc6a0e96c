//! Length-delimited tokio-util frame codecs over any zerocodec codec stack.
//!
//! Each frame on the stream is a 4-byte big-endian payload length followed by the payload,
//! the default layout of tokio-util's `LengthDelimitedCodec`, so a peer that frames JSON by
//! hand with `LengthDelimitedCodec` + serde_json interoperates with a JSON-reading stack
//! (and, through the hybrid codec, with every zerocodec writer).
//!
//! - [`FrameEncoder`] encodes a value straight into the `BytesMut` the transport hands over:
//!   no intermediate buffer or allocation per message once the transport's buffer has room.
//! - [`FrameDecoder`] yields owned values; [`ArchivedFrameDecoder`] yields
//!   [`OwnedArchive`]s, validated once and read in place, so a server can look at a
//!   request without deserializing it.
//! - [`FrameCodec`] pairs a decoder and an encoder for `Framed` (the request and response
//!   types may differ).
//!
//! The length prefix is untrusted: it is checked against the maximum frame length
//! ([`DEFAULT_MAX_FRAME_LEN`] unless configured) *before* any memory is reserved for the
//! frame. `Ok(None)` from a decoder means more bytes are needed. Errors are
//! [`zerocodec::Error`]s; a transport that needs `std::io::Error` converts with `From`, which
//! keeps the kind recoverable.

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;

use tokio_util::bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};
use zerocodec::{Codec, Error, ErrorKind, OwnedArchive, Result, ZeroCopy, ZeroCopyCodec};

/// Default cap on a frame's payload length: 8 MiB, as tokio-util's `LengthDelimitedCodec`.
pub const DEFAULT_MAX_FRAME_LEN: usize = 8 * 1024 * 1024;

/// Bytes in the length prefix.
pub const LENGTH_PREFIX_LEN: usize = 4;

/// Reads the next frame's payload out of `src`, or `Ok(None)` if it is not all there yet.
fn next_frame(src: &mut BytesMut, max_frame_len: usize) -> Result<Option<BytesMut>> {
    let Some(prefix) = src.get(..LENGTH_PREFIX_LEN) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    if len > max_frame_len {
        return Err(Error::too_large(
            "frame payload",
            len as u64,
            max_frame_len as u64,
        ));
    }
    let total = LENGTH_PREFIX_LEN + len;
    if src.len() < total {
        // Bounded by `max_frame_len`, checked above.
        src.reserve(total - src.len());
        return Ok(None);
    }
    src.advance(LENGTH_PREFIX_LEN);
    Ok(Some(src.split_to(len)))
}

/// What a decoder returns at the end of the stream: the last item, nothing if the stream ended
/// between frames, or `Incomplete` if it ended inside one.
fn at_eof<I>(item: Option<I>, rest: &BytesMut) -> Result<Option<I>> {
    match item {
        Some(item) => Ok(Some(item)),
        None if rest.is_empty() => Ok(None),
        None => Err(eof_mid_frame(rest.len())),
    }
}

#[cold]
fn eof_mid_frame(buffered: usize) -> Error {
    Error::new(
        ErrorKind::Incomplete,
        format!("stream ended inside a frame: {buffered} bytes of an unfinished frame remain"),
    )
}

macro_rules! frame_settings {
    () => {
        /// Caps the payload length a frame may announce.
        #[must_use]
        pub fn max_frame_len(mut self, max: usize) -> Self {
            self.max_frame_len = max.min(u32::MAX as usize);
            self
        }

        /// The current payload length cap.
        pub fn max_frame_length(&self) -> usize {
            self.max_frame_len
        }

        /// The codec frame payloads go through.
        pub fn codec(&self) -> &C {
            &self.codec
        }
    };
}

/// Decodes length-delimited frames into owned values of `T` with codec `C`.
pub struct FrameDecoder<C, T> {
    codec: C,
    max_frame_len: usize,
    _type: PhantomData<fn() -> T>,
}

impl<C, T> FrameDecoder<C, T> {
    /// A decoder with the default maximum frame length.
    pub fn new(codec: C) -> Self {
        Self {
            codec,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            _type: PhantomData,
        }
    }
    frame_settings!();
}

impl<C: Codec<T>, T> Decoder for FrameDecoder<C, T> {
    type Item = T;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<T>> {
        match next_frame(src, self.max_frame_len)? {
            Some(frame) => self.codec.decode(&frame).map(Some),
            None => Ok(None),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<T>> {
        let item = self.decode(src)?;
        at_eof(item, src)
    }
}

/// Decodes length-delimited frames into validated zero-copy views ([`OwnedArchive`]).
///
/// Each frame is validated once; reading it afterwards is a pointer dereference. The frame's
/// bytes are frozen out of the transport's buffer without a copy when the payload happens to
/// be 16-byte aligned, and copied once into an aligned buffer otherwise.
pub struct ArchivedFrameDecoder<C, T> {
    codec: C,
    max_frame_len: usize,
    _type: PhantomData<fn() -> T>,
}

impl<C, T> ArchivedFrameDecoder<C, T> {
    /// A decoder with the default maximum frame length.
    pub fn new(codec: C) -> Self {
        Self {
            codec,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            _type: PhantomData,
        }
    }
    frame_settings!();
}

impl<C: ZeroCopyCodec<T>, T: ZeroCopy> Decoder for ArchivedFrameDecoder<C, T> {
    type Item = OwnedArchive<T>;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<OwnedArchive<T>>> {
        match next_frame(src, self.max_frame_len)? {
            Some(frame) => self.codec.access_owned(frame.freeze()).map(Some),
            None => Ok(None),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<OwnedArchive<T>>> {
        let item = self.decode(src)?;
        at_eof(item, src)
    }
}

/// Encodes values of `T` with codec `C` as length-delimited frames, straight into the
/// transport's buffer. Accepts `T` or `&T` (anything that borrows as `T`).
pub struct FrameEncoder<C, T> {
    codec: C,
    max_frame_len: usize,
    _type: PhantomData<fn(T)>,
}

impl<C, T> FrameEncoder<C, T> {
    /// An encoder with the default maximum frame length.
    pub fn new(codec: C) -> Self {
        Self {
            codec,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            _type: PhantomData,
        }
    }
    frame_settings!();
}

impl<C: Codec<T>, T, I: Borrow<T>> Encoder<I> for FrameEncoder<C, T> {
    type Error = Error;

    fn encode(&mut self, item: I, dst: &mut BytesMut) -> Result<()> {
        let start = dst.len();
        dst.put_u32(0); // patched below, once the payload length is known
        if let Err(err) = self.codec.encode_into(item.borrow(), dst) {
            dst.truncate(start);
            return Err(err);
        }
        let len = dst.len() - start - LENGTH_PREFIX_LEN;
        if len > self.max_frame_len {
            dst.truncate(start);
            return Err(Error::too_large(
                "encoded frame payload",
                len as u64,
                self.max_frame_len as u64,
            ));
        }
        dst[start..start + LENGTH_PREFIX_LEN].copy_from_slice(&(len as u32).to_be_bytes());
        Ok(())
    }
}

/// A decoder and an encoder in one value, for `tokio_util::codec::Framed`.
///
/// The decoding and encoding halves are independent, so a server can read requests of one
/// type and write responses of another.
///
/// # Examples
///
/// ```
/// use tokio_util::bytes::BytesMut;
/// use tokio_util::codec::{Decoder, Encoder};
/// use zerocodec_codecs::{JsonCodec, SymmetricFrameCodec};
///
/// let mut codec = SymmetricFrameCodec::<_, Vec<u32>>::symmetric(JsonCodec);
/// let mut wire = BytesMut::new();
/// codec.encode(vec![1, 2, 3], &mut wire)?;
/// assert_eq!(&wire[..], b"\0\0\0\x07[1,2,3]");
/// assert_eq!(codec.decode(&mut wire)?, Some(vec![1, 2, 3]));
/// # Ok::<(), zerocodec::Error>(())
/// ```
pub struct FrameCodec<D, E> {
    decoder: D,
    encoder: E,
}

impl<D, E> FrameCodec<D, E> {
    /// Pairs a decoder and an encoder.
    pub fn new(decoder: D, encoder: E) -> Self {
        Self { decoder, encoder }
    }

    /// The decoding half.
    pub fn decoder(&self) -> &D {
        &self.decoder
    }

    /// The encoding half.
    pub fn encoder(&self) -> &E {
        &self.encoder
    }

    /// Splits into the two halves (for `FramedRead` and `FramedWrite`).
    pub fn into_parts(self) -> (D, E) {
        (self.decoder, self.encoder)
    }
}

/// A [`FrameCodec`] that reads and writes one type `T` with one codec `C`.
pub type SymmetricFrameCodec<C, T> = FrameCodec<FrameDecoder<C, T>, FrameEncoder<C, T>>;

impl<C: Clone, T> SymmetricFrameCodec<C, T> {
    /// Reads and writes `T` with one codec.
    pub fn symmetric(codec: C) -> Self {
        FrameCodec::new(FrameDecoder::new(codec.clone()), FrameEncoder::new(codec))
    }

    /// Caps the payload length of frames in both directions.
    #[must_use]
    pub fn max_frame_len(self, max: usize) -> Self {
        FrameCodec::new(
            self.decoder.max_frame_len(max),
            self.encoder.max_frame_len(max),
        )
    }
}

impl<D: Decoder<Error = Error>, E> Decoder for FrameCodec<D, E> {
    type Item = D::Item;
    type Error = Error;

    #[inline]
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<D::Item>> {
        self.decoder.decode(src)
    }

    #[inline]
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<D::Item>> {
        self.decoder.decode_eof(src)
    }
}

impl<D, E: Encoder<I, Error = Error>, I> Encoder<I> for FrameCodec<D, E> {
    type Error = Error;

    #[inline]
    fn encode(&mut self, item: I, dst: &mut BytesMut) -> Result<()> {
        self.encoder.encode(item, dst)
    }
}

macro_rules! debug_impl {
    ($name:ident) => {
        impl<C: fmt::Debug, T> fmt::Debug for $name<C, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("codec", &self.codec)
                    .field("max_frame_len", &self.max_frame_len)
                    .finish()
            }
        }
        impl<C: Clone, T> Clone for $name<C, T> {
            fn clone(&self) -> Self {
                Self {
                    codec: self.codec.clone(),
                    max_frame_len: self.max_frame_len,
                    _type: PhantomData,
                }
            }
        }
    };
}
debug_impl!(FrameDecoder);
debug_impl!(ArchivedFrameDecoder);
debug_impl!(FrameEncoder);

impl<D: fmt::Debug, E: fmt::Debug> fmt::Debug for FrameCodec<D, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameCodec")
            .field("decoder", &self.decoder)
            .field("encoder", &self.encoder)
            .finish()
    }
}
