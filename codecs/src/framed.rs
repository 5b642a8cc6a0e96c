//! Length-delimited tokio-util frame codecs over any zerocodec codec.
//!
//! Each frame on the stream is a 4-byte big-endian payload length followed by the payload:
//! tokio-util's `LengthDelimitedCodec`, which the decoders use, so a peer that frames JSON by
//! hand with `LengthDelimitedCodec` + serde_json interoperates with a JSON-reading codec
//! (and, through the hybrid codec, with every zerocodec writer).
//!
//! - [`FrameEncoder`] encodes a value straight into the `BytesMut` the transport hands over:
//!   no intermediate buffer once the transport's buffer has room.
//! - [`FrameDecoder`] yields owned values; [`ArchivedFrameDecoder`] yields
//!   [`OwnedArchive`]s, validated once and read in place, so a server can look at a
//!   request without deserializing it.
//! - [`FrameCodec`] pairs a decoder and an encoder for `Framed` (the request and response
//!   types may differ).
//!
//! The length prefix is untrusted: `LengthDelimitedCodec` checks it against the maximum frame
//! length ([`DEFAULT_MAX_FRAME_LEN`] unless configured) *before* any memory is reserved for
//! the frame. `Ok(None)` from a decoder means more bytes are needed. Errors are
//! [`zerocodec::Error`]s; a transport that needs `std::io::Error` converts with `From`, which
//! keeps the kind recoverable.

use std::borrow::Borrow;
use std::fmt;

use tokio_util::bytes::{BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};
use zerocodec::{Access, Decode, Encode, Error, ErrorKind, OwnedArchive, Result};

/// Default cap on a frame's payload length: 8 MiB, as tokio-util's `LengthDelimitedCodec`.
pub const DEFAULT_MAX_FRAME_LEN: usize = 8 * 1024 * 1024;

/// Bytes in the length prefix.
pub const LENGTH_PREFIX_LEN: usize = 4;

/// The stream's framing: `LengthDelimitedCodec` with a 4-byte big-endian length.
#[derive(Debug, Clone)]
struct Lengths {
    codec: LengthDelimitedCodec,
    max_frame_len: usize,
    /// The codec has taken a frame's length prefix off the buffer and waits for its payload
    /// (so an end of stream now is inside a frame, even with nothing buffered).
    in_frame: bool,
}

impl Lengths {
    fn new(max_frame_len: usize) -> Self {
        let codec = LengthDelimitedCodec::builder()
            .length_field_length(LENGTH_PREFIX_LEN)
            .max_frame_length(max_frame_len)
            .new_codec();
        Self {
            codec,
            max_frame_len,
            in_frame: false,
        }
    }

    /// The next frame's payload, or `Ok(None)` if it is not all there yet.
    #[inline]
    fn next(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>> {
        // The codec reads a prefix as soon as one is buffered, then waits for the payload.
        let prefix_buffered = src.len() >= LENGTH_PREFIX_LEN;
        // The codec's only error is a length over the cap (an `io::Error` wrapping its
        // `LengthDelimitedCodecError`), reported before anything is reserved.
        let frame = self
            .codec
            .decode(src)
            .map_err(|_| too_long(self.max_frame_len))?;
        self.in_frame = frame.is_none() && (self.in_frame || prefix_buffered);
        Ok(frame)
    }

    /// What a decoder returns at the end of the stream: the last item, nothing if the stream
    /// ended between frames, or `Incomplete` if it ended inside one.
    fn at_eof<I>(&self, item: Option<I>, rest: &BytesMut) -> Result<Option<I>> {
        match item {
            Some(item) => Ok(Some(item)),
            None if rest.is_empty() && !self.in_frame => Ok(None),
            None => Err(Error::new(
                ErrorKind::Incomplete,
                format!(
                    "stream ended inside a frame: {} bytes of an unfinished frame remain",
                    rest.len()
                ),
            )),
        }
    }
}

#[cold]
fn too_long(max_frame_len: usize) -> Error {
    Error::new(
        ErrorKind::TooLarge,
        format!("frame payload: its length prefix exceeds the limit of {max_frame_len} bytes"),
    )
}

/// The shared half of every frame codec: the codec payloads go through, and the length cap.
macro_rules! frame_codec {
    ($(#[$doc:meta])* $name:ident, $field:ident: $ty:ty, $init:expr) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name<C> {
            codec: C,
            $field: $ty,
        }

        impl<C> $name<C> {
            /// With the default maximum frame length ([`DEFAULT_MAX_FRAME_LEN`]).
            pub fn new(codec: C) -> Self {
                Self::with_max_frame_len(codec, DEFAULT_MAX_FRAME_LEN)
            }

            /// With a cap on the payload length a frame may have (at most `u32::MAX`).
            pub fn with_max_frame_len(codec: C, max: usize) -> Self {
                let init: fn(usize) -> $ty = $init;
                Self {
                    codec,
                    $field: init(max.min(u32::MAX as usize)),
                }
            }

            /// The codec frame payloads go through.
            pub fn codec(&self) -> &C {
                &self.codec
            }
        }

        impl<C: fmt::Debug> fmt::Debug for $name<C> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("codec", &self.codec)
                    .field("max_frame_len", &self.max_frame_len())
                    .finish()
            }
        }
    };
}

frame_codec!(
    /// Decodes length-delimited frames into owned values with codec `C`.
    FrameDecoder, lengths: Lengths, Lengths::new
);
frame_codec!(
    /// Decodes length-delimited frames into validated zero-copy views ([`OwnedArchive`]).
    ///
    /// Each frame is validated once; reading it afterwards is a pointer dereference. On a
    /// stream, reading costs one pooled copy: frames are laid end to end after 4-byte length
    /// prefixes, so a payload starts 16-byte aligned in the transport's buffer only by chance
    /// (it is then shared without a copy).
    ArchivedFrameDecoder, lengths: Lengths, Lengths::new
);
frame_codec!(
    /// Encodes values with codec `C` as length-delimited frames, straight into the
    /// transport's buffer. Accepts the codec's item or a reference to it.
    ///
    /// The prefix is written here rather than by `LengthDelimitedCodec`'s encoder, which takes
    /// a finished payload: writing it first lets the codec encode into the transport's buffer
    /// with no copy. The layout is the same (tests read these frames with
    /// `LengthDelimitedCodec`).
    FrameEncoder, max_frame_len: usize, |max| max
);

impl<C> FrameDecoder<C> {
    /// The payload length cap.
    pub fn max_frame_len(&self) -> usize {
        self.lengths.max_frame_len
    }
}

impl<C> ArchivedFrameDecoder<C> {
    /// The payload length cap.
    pub fn max_frame_len(&self) -> usize {
        self.lengths.max_frame_len
    }
}

impl<C> FrameEncoder<C> {
    /// The payload length cap.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }
}

impl<C: Decode> Decoder for FrameDecoder<C> {
    type Item = C::Item;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<C::Item>> {
        match self.lengths.next(src)? {
            Some(frame) => self.codec.decode(&frame).map(Some),
            None => Ok(None),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<C::Item>> {
        let item = self.decode(src)?;
        self.lengths.at_eof(item, src)
    }
}

impl<C: Access> Decoder for ArchivedFrameDecoder<C> {
    type Item = OwnedArchive<C::Item>;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>> {
        match self.lengths.next(src)? {
            Some(frame) => self.codec.access_owned(frame.freeze()).map(Some),
            None => Ok(None),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>> {
        let item = self.decode(src)?;
        self.lengths.at_eof(item, src)
    }
}

impl<C: Encode, I: Borrow<C::Item>> Encoder<I> for FrameEncoder<C> {
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
/// use zerocodec_codecs::{FrameCodec, JsonCodec};
///
/// let mut codec = FrameCodec::symmetric(JsonCodec::<Vec<u32>>::new());
/// let mut wire = BytesMut::new();
/// codec.encode(vec![1, 2, 3], &mut wire)?;
/// assert_eq!(&wire[..], b"\0\0\0\x07[1,2,3]");
/// assert_eq!(codec.decode(&mut wire)?, Some(vec![1, 2, 3]));
/// # Ok::<(), zerocodec::Error>(())
/// ```
#[derive(Debug, Clone)]
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

impl<C: Clone> FrameCodec<FrameDecoder<C>, FrameEncoder<C>> {
    /// Reads and writes the items of one codec.
    pub fn symmetric(codec: C) -> Self {
        FrameCodec::new(FrameDecoder::new(codec.clone()), FrameEncoder::new(codec))
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
