//! [`GrpcCodec`]: a tonic [`Codec`](tonic::codec::Codec) over zerocodec codecs.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use bytes::{Buf, BufMut};
use serde::Serialize;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use zerocodec::__private::with_scratch;
use zerocodec::frame;
use zerocodec::{Access, Decode, Encode, EncodeBuf as ZcBuf, OwnedArchive, Result};
use zerocodec_codecs::{
    BatchCodec, Compressed, HybridCodec, HybridMessage, JsonCodec, RkyvCodec, ZeroCopyEncode,
};

use crate::status::{MessageType, decode_status, encode_status};

/// A zerocodec codec that writes gRPC messages: any [`Encode`] codec that can be cloned into
/// each call's encoder.
///
/// [`encode_legacy_into`](GrpcEncode::encode_legacy_into) is how a server answers a client
/// that sent header-less legacy JSON: [`HybridCodec`] answers it in JSON (which is all such a
/// client reads), the other codecs in their own format.
pub trait GrpcEncode: Encode + Clone + Send + 'static {
    /// Appends the encoding of `item` for a peer that sent legacy JSON, or returns `None` to
    /// write the codec's own encoding. `None` unless the codec overrides it.
    ///
    /// # Errors
    ///
    /// As [`Encode::encode_into`].
    fn encode_legacy_into<B: ZcBuf>(&self, item: &Self::Item, out: &mut B) -> Option<Result<()>> {
        let _ = (item, out);
        None
    }
}

impl<T> GrpcEncode for HybridCodec<T>
where
    T: HybridMessage + ZeroCopyEncode + Send + 'static,
{
    /// JSON, uncompressed: what a client from before the migration reads.
    fn encode_legacy_into<B: ZcBuf>(&self, item: &T, out: &mut B) -> Option<Result<()>> {
        Some(JsonCodec::new().encode_into(item, out))
    }
}

impl<T: Serialize + Send + 'static> GrpcEncode for JsonCodec<T> {}
impl<T: ZeroCopyEncode + Send + 'static> GrpcEncode for RkyvCodec<T> where RkyvCodec<T>: Encode {}
impl<T: Send + 'static> GrpcEncode for BatchCodec<T> where BatchCodec<T>: Encode {}
impl<C> GrpcEncode for Compressed<C> where Compressed<C>: Encode + Clone + Send + 'static {}

mod sealed {
    pub trait Sealed {}
}

/// How a [`GrpcCodec`] reads each message: into an owned value ([`Owned`]) or a validated
/// archived view ([`Archived`]). Implemented by those two only.
pub trait ReadMode: sealed::Sealed + Clone + Send + 'static {
    /// What each message decodes to.
    type Output: Send + 'static;

    /// Reads the one message in `src` (all of it).
    #[doc(hidden)]
    fn read(&self, src: &mut DecodeBuf<'_>, types: &[[MessageType; 2]]) -> Read<Self::Output>;
}

/// A message read by a [`ReadMode`], and whether it came as header-less legacy JSON.
#[doc(hidden)]
#[derive(Debug)]
pub struct Read<T> {
    result: std::result::Result<T, Status>,
    legacy: bool,
}

/// Decodes each message into an owned `C::Item` with codec `C` ([`Decode::decode`]).
///
/// The message is decoded straight from tonic's buffer: no copy before decoding.
#[derive(Debug, Clone, Default)]
pub struct Owned<C>(pub C);

/// Reads each message as a validated archived view, [`OwnedArchive<C::Item>`] (which is
/// `'static`: it owns or shares its bytes), with codec `C` ([`Access::access_owned`]).
///
/// # On tonic's buffers
///
/// tonic hands each message over as `Bytes` cut from its receive buffer without a copy.
/// The archive is shared (no copy, [`OwnedArchive::is_shared`]) when the payload inside
/// starts 16-byte aligned, and copied once into a pooled aligned buffer otherwise. An
/// uncompressed message follows gRPC's 5-byte prefix in that buffer, so it is aligned only by
/// chance (never for the first message of a call, which sits at offset 5 of a fresh buffer):
/// expect one copy of the message, about what a memcpy of its size costs. A message that
/// tonic decompressed (its gzip or zstd) starts its own buffer, and is shared. A frame that
/// zerocodec compressed is decompressed into a pooled aligned buffer: that is its one copy.
#[derive(Debug, Clone, Default)]
pub struct Archived<C>(pub C);

impl<C> sealed::Sealed for Owned<C> {}
impl<C> sealed::Sealed for Archived<C> {}

impl<C> ReadMode for Owned<C>
where
    C: Decode + Clone + Send + 'static,
    C::Item: Send + 'static,
{
    type Output = C::Item;

    #[inline]
    fn read(&self, src: &mut DecodeBuf<'_>, types: &[[MessageType; 2]]) -> Read<C::Item> {
        let len = src.remaining();
        if src.chunk().len() == len {
            // tonic's buffer is one `BytesMut`: the message is contiguous, decode it in place.
            let bytes = src.chunk();
            let read = read_with(bytes, |b| self.0.decode(b), types);
            src.advance(len);
            read
        } else {
            let bytes = src.copy_to_bytes(len);
            read_with(&bytes, |b| self.0.decode(b), types)
        }
    }
}

impl<C> ReadMode for Archived<C>
where
    C: Access + Clone + Send + 'static,
    OwnedArchive<C::Item>: Send + 'static,
{
    type Output = OwnedArchive<C::Item>;

    #[inline]
    fn read(
        &self,
        src: &mut DecodeBuf<'_>,
        types: &[[MessageType; 2]],
    ) -> Read<OwnedArchive<C::Item>> {
        // `copy_to_bytes` on tonic's `BytesMut` splits it: no copy.
        let bytes = src.copy_to_bytes(src.remaining());
        let legacy = is_legacy(&bytes);
        // What an error message needs of the input (the frame header, to name the type a
        // frame of another type holds), kept on the stack: `access_owned` takes the `Bytes`,
        // and a clone of them would cost two atomic reference-count updates per message.
        let head = Head::of(&bytes);
        match self.0.access_owned(bytes) {
            Ok(archive) => Read {
                result: Ok(archive),
                legacy,
            },
            Err(err) => Read {
                result: Err(decode_status(&err, head.as_slice(), types)),
                legacy,
            },
        }
    }
}

/// The first bytes of a message, up to a frame header's largest size: all that
/// [`decode_status`] reads.
struct Head {
    bytes: [u8; frame::MAX_HEADER_LEN],
    len: usize,
}

impl Head {
    #[inline]
    fn of(input: &[u8]) -> Self {
        let len = input.len().min(frame::MAX_HEADER_LEN);
        let mut bytes = [0; frame::MAX_HEADER_LEN];
        bytes[..len].copy_from_slice(&input[..len]);
        Self { bytes, len }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[inline]
fn read_with<T>(
    bytes: &[u8],
    decode: impl FnOnce(&[u8]) -> Result<T>,
    types: &[[MessageType; 2]],
) -> Read<T> {
    Read {
        result: decode(bytes).map_err(|err| decode_status(&err, bytes, types)),
        legacy: is_legacy(bytes),
    }
}

/// A message that is not a zerocodec frame: header-less legacy JSON, for a hybrid reader
/// (the frame magic can never begin a JSON text). An empty message is neither.
#[inline]
fn is_legacy(bytes: &[u8]) -> bool {
    !bytes.is_empty() && !frame::is_frame(bytes)
}

/// What the messages of one call arrived as, so the answers go back the same way: shared by
/// the call's decoder (which records it) and encoder (which reads it). 0 until a message has
/// been read.
#[derive(Debug, Clone, Default)]
struct Flavor(Arc<AtomicU8>);

impl Flavor {
    const FRAME: u8 = 1;
    const LEGACY: u8 = 2;

    /// Records what a message arrived as. A store only when that changes (once per call, as
    /// a rule), so that each message of a stream does not write the cache line the call's
    /// encoder reads.
    #[inline]
    fn record(&self, legacy: bool) {
        let flavor = if legacy { Self::LEGACY } else { Self::FRAME };
        if self.0.load(Relaxed) != flavor {
            self.0.store(flavor, Relaxed);
        }
    }

    #[inline]
    fn is_legacy(&self) -> bool {
        self.0.load(Relaxed) == Self::LEGACY
    }
}

/// A tonic [`Codec`] that writes messages with zerocodec codec `E` and reads them with read
/// mode `D` ([`Owned`] or [`Archived`] around a zerocodec codec), as tonic-prost's
/// `ProstCodec` does for prost.
///
/// With [`HybridCodec`]s (the usual choice, [`HybridGrpcCodec`] and [`ArchivedGrpcCodec`]),
/// each gRPC message is one hybrid frame: rkyv payload, schema fingerprint, and the
/// compression, dictionary and checksum the codec was built with; a reader reads whatever
/// each frame's header names, and header-less legacy JSON too.
///
/// # Legacy JSON clients
///
/// A client that still sends JSON through a JSON codec is answered in JSON: the call's
/// decoder records whether its messages came as frames or as legacy JSON, and the encoder of
/// the same call writes its answers that way ([`GrpcEncode::encode_legacy_into`]). So a
/// service migrates as the TCP example does: modern clients get frames, old ones get JSON, on
/// one port and one method path. Before a call has read any message (a bidirectional call
/// that answers first), answers are frames.
///
/// # Errors
///
/// A message that fails to decode becomes a [`Status`] ([`to_status`](crate::to_status)
/// lists the codes): malformed input is `InvalidArgument`, a frame of another message type is
/// `InvalidArgument` naming the expected type and, when the codec knows the service's message
/// types ([`with_message_types`](Self::with_message_types)), the type the frame holds; a size
/// over a limit is `ResourceExhausted`; an unknown dictionary is `FailedPrecondition`. A
/// server's decode error answers the call with that status; the server keeps serving.
///
/// # Examples
///
/// ```
/// use zerocodec_tonic::HybridGrpcCodec;
///
/// #[zerocodec::message]
/// struct Ping { seq: u64 }
/// #[zerocodec::message]
/// struct Pong { seq: u64 }
///
/// // A server's codec for a `Ping -> Pong` method: writes `Pong`s, reads `Ping`s. It is what
/// // tonic-build's manual builder would name as the method's `codec_path`, too.
/// let codec = HybridGrpcCodec::<Pong, Ping>::default();
/// # let _ = codec;
/// ```
pub struct GrpcCodec<E, D> {
    encoder: E,
    decoder: D,
    types: &'static [[MessageType; 2]],
    flavor: Flavor,
}

/// The usual codec: hybrid frames both ways, messages read into owned values.
pub type HybridGrpcCodec<E, D> = GrpcCodec<HybridCodec<E>, Owned<HybridCodec<D>>>;

/// Hybrid frames both ways, messages read as validated archived views
/// ([`OwnedArchive<D>`]).
pub type ArchivedGrpcCodec<E, D> = GrpcCodec<HybridCodec<E>, Archived<HybridCodec<D>>>;

impl<E, D> GrpcCodec<E, D> {
    /// A codec that writes with `encoder` and reads with `decoder`.
    pub fn new(encoder: E, decoder: D) -> Self {
        Self {
            encoder,
            decoder,
            types: &[],
            flavor: Flavor::default(),
        }
    }

    /// Names, in type-mismatch errors, the message type whose fingerprint a frame carries,
    /// when it is one of `types` (a service's request and response types, in pairs).
    #[must_use]
    pub fn with_message_types(mut self, types: &'static [[MessageType; 2]]) -> Self {
        self.types = types;
        self
    }

    /// The codec messages are written with.
    pub fn encoder_codec(&self) -> &E {
        &self.encoder
    }

    /// The read mode, and the codec messages are read with.
    pub fn read_mode(&self) -> &D {
        &self.decoder
    }
}

impl<E: Default, D: Default> Default for GrpcCodec<E, D> {
    fn default() -> Self {
        Self::new(E::default(), D::default())
    }
}

impl<E: Clone, D: Clone> Clone for GrpcCodec<E, D> {
    /// A codec for another call: the same codecs, and no record of what this call's messages
    /// arrived as.
    fn clone(&self) -> Self {
        Self {
            encoder: self.encoder.clone(),
            decoder: self.decoder.clone(),
            types: self.types,
            flavor: Flavor::default(),
        }
    }
}

impl<E: fmt::Debug, D: fmt::Debug> fmt::Debug for GrpcCodec<E, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcCodec")
            .field("encoder", &self.encoder)
            .field("decoder", &self.decoder)
            .field("message_types", &self.types.len())
            .finish()
    }
}

impl<E, D> Codec for GrpcCodec<E, D>
where
    E: GrpcEncode,
    E::Item: Send + 'static,
    D: ReadMode,
{
    type Encode = E::Item;
    type Decode = D::Output;
    type Encoder = GrpcEncoder<E>;
    type Decoder = GrpcDecoder<D>;

    fn encoder(&mut self) -> GrpcEncoder<E> {
        GrpcEncoder {
            codec: self.encoder.clone(),
            flavor: self.flavor.clone(),
        }
    }

    fn decoder(&mut self) -> GrpcDecoder<D> {
        GrpcDecoder {
            mode: self.decoder.clone(),
            types: self.types,
            flavor: self.flavor.clone(),
        }
    }
}

/// The encoder of one call ([`Codec::encoder`]).
#[derive(Debug)]
pub struct GrpcEncoder<E> {
    codec: E,
    flavor: Flavor,
}

impl<E> Encoder for GrpcEncoder<E>
where
    E: GrpcEncode,
{
    type Item = E::Item;
    type Error = Status;

    /// Encodes into a reused per-thread buffer, then copies the message into tonic's: tonic's
    /// `EncodeBuf` only appends, and a frame's header is written after its payload.
    fn encode(
        &mut self,
        item: E::Item,
        dst: &mut EncodeBuf<'_>,
    ) -> std::result::Result<(), Status> {
        with_scratch(|scratch| {
            let written = match self.flavor.is_legacy() {
                true => self
                    .codec
                    .encode_legacy_into(&item, scratch)
                    .unwrap_or_else(|| self.codec.encode_into(&item, scratch)),
                false => self.codec.encode_into(&item, scratch),
            };
            written.map_err(|err| encode_status(&err))?;
            dst.put_slice(scratch);
            Ok(())
        })
    }
}

/// The decoder of one call ([`Codec::decoder`]).
#[derive(Debug)]
pub struct GrpcDecoder<D> {
    mode: D,
    types: &'static [[MessageType; 2]],
    flavor: Flavor,
}

impl<D: ReadMode> Decoder for GrpcDecoder<D> {
    type Item = D::Output;
    type Error = Status;

    fn decode(
        &mut self,
        src: &mut DecodeBuf<'_>,
    ) -> std::result::Result<Option<D::Output>, Status> {
        let read = self.mode.read(src, self.types);
        self.flavor.record(read.legacy);
        read.result.map(Some)
    }
}
