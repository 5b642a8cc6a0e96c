//! [`BitcodeCodec`]: bitcode's own format (its `Encode`/`Decode` derives), the smallest
//! encoding and the fastest writer; and the bitcode payload of hybrid frames
//! ([`HybridCodec::with_bitcode`]).

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use zerocodec::{Codec, CodecId, Decode, Encode, EncodeBuf, Error, ErrorKind, Result};

use crate::compress::DEFAULT_MAX_DECOMPRESSED_LEN;

/// The MIME type of [`BitcodeCodec`]'s encoding.
pub const BITCODE_CONTENT_TYPE: &str = "application/x-bitcode";

/// The largest input [`BitcodeCodec`] decodes by default: 16 MiB, the frame codecs' default
/// decompressed limit.
pub const DEFAULT_MAX_BITCODE_LEN: usize = DEFAULT_MAX_DECOMPRESSED_LEN;

thread_local! {
    /// bitcode's encoder and decoder state, reused for every message on this thread (a
    /// `bitcode::Buffer` keeps one column buffer per field, which a fresh one allocates anew).
    /// Taken out while in use, so a nested use (an `Encode` impl that encodes another message
    /// inside its own) gets a fresh one.
    static BUFFER: Cell<Option<bitcode::Buffer>> = const { Cell::new(None) };
}

/// Encodes `value` and hands the bytes to `sink`.
///
/// # Errors
///
/// [`ErrorKind::TooLarge`] when the encoding is longer than `max_len` (its reader would refuse
/// it); `sink` is then not called.
#[inline]
fn encode_with<T: bitcode::Encode>(
    value: &T,
    max_len: usize,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<()> {
    with_buffer(|buffer| {
        let bytes = buffer.encode(value);
        if bytes.len() > max_len {
            return Err(too_large::<T>(bytes.len(), max_len));
        }
        sink(bytes);
        Ok(())
    })
}

/// Decodes one `T` from `bytes`, which must hold exactly one encoding.
///
/// # Errors
///
/// [`ErrorKind::TooLarge`] for input longer than `max_len`, before decoding;
/// [`ErrorKind::Corrupt`] for anything bitcode refuses.
#[inline]
pub(crate) fn decode<T: bitcode::DecodeOwned>(bytes: &[u8], max_len: usize) -> Result<T> {
    if bytes.len() > max_len {
        return Err(too_large::<T>(bytes.len(), max_len));
    }
    with_buffer(|buffer| buffer.decode(bytes)).map_err(|err| corrupt::<T>(bytes.len(), err))
}

/// Runs `f` with this thread's reused buffer (a fresh one when it is in use, or during thread
/// teardown).
///
/// The buffer keeps its capacity between messages, as bitcode intends; unlike zerocodec's
/// scratch buffers it cannot be cleared, so the last message's encoding stays in it until the
/// thread's next bitcode call.
#[inline]
fn with_buffer<R>(f: impl FnOnce(&mut bitcode::Buffer) -> R) -> R {
    let mut buffer = BUFFER
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_default();
    let result = f(&mut buffer);
    // Ignored during thread teardown, when the buffer is simply freed.
    let _ = BUFFER.try_with(|cell| cell.set(Some(buffer)));
    result
}

#[cfg(feature = "json")]
/// How a [`HybridCodec`](crate::HybridCodec) writes and reads the bitcode payload of its
/// message type: bitcode's functions for `T`, captured where `T`'s bitcode bounds are known
/// ([`HybridCodec::with_bitcode`]), so the hybrid's own bounds stay those of every message.
pub(crate) struct BitcodePayload<T> {
    encode: EncodeFn<T>,
    decode: fn(&[u8], usize) -> Result<T>,
}

/// [`encode_with`] for one `T`: the value, the most bytes to write, where the bytes go.
#[cfg(feature = "json")]
type EncodeFn<T> = fn(&T, usize, &mut dyn FnMut(&[u8])) -> Result<()>;

#[cfg(feature = "json")]
impl<T: bitcode::Encode + bitcode::DecodeOwned> BitcodePayload<T> {
    const fn new() -> Self {
        Self {
            encode: encode_with::<T>,
            decode: decode::<T>,
        }
    }
}

#[cfg(feature = "json")]
impl<T> BitcodePayload<T> {
    /// Appends the encoding of `value` to `out` (at most `max_len` bytes).
    #[inline]
    pub(crate) fn encode_into<B: EncodeBuf>(
        &self,
        value: &T,
        max_len: usize,
        out: &mut B,
    ) -> Result<()> {
        (self.encode)(value, max_len, &mut |bytes| out.extend_from_slice(bytes))
    }

    /// Decodes a payload of at most `max_len` bytes.
    #[inline]
    pub(crate) fn decode(&self, bytes: &[u8], max_len: usize) -> Result<T> {
        (self.decode)(bytes, max_len)
    }
}

#[cfg(feature = "json")]
impl<T> Clone for BitcodePayload<T> {
    fn clone(&self) -> Self {
        *self
    }
}

#[cfg(feature = "json")]
impl<T> Copy for BitcodePayload<T> {}

#[cfg(feature = "json")]
impl<T: bitcode::Encode + bitcode::DecodeOwned> crate::HybridCodec<T> {
    /// Carries bitcode payloads: reads frames whose payload is bitcode, and writes them when
    /// the primary is [`Primary::Bitcode`](crate::Primary::Bitcode) (feature `bitcode`).
    ///
    /// `T` needs bitcode's own derives (`#[derive(bitcode::Encode, bitcode::Decode)]`, or
    /// `#[zerocodec::message(bitcode)]`), whose format is the payload's (codec id 5); a
    /// reader without this call rejects bitcode frames with [`ErrorKind::UnknownCodec`],
    /// naming it. A bitcode payload, raw or compressed, is at most the policy's
    /// [`max_decompressed_len`](crate::Policy::max_decompressed_len) (16 MiB by default);
    /// [`BitcodeCodec`'s hostile-input notes](BitcodeCodec#hostile-input) say what that
    /// bounds. `access` cannot borrow a bitcode payload: it fails with
    /// [`ErrorKind::Unsupported`], naming the payload codec, with or without this call;
    /// `decode` and `access_owned` read it.
    ///
    /// # Examples
    ///
    /// ```
    /// use zerocodec::prelude::*;
    /// use zerocodec_codecs::{Compression, HybridCodec, Primary};
    ///
    /// #[zerocodec::message(bitcode)]
    /// #[derive(Debug, PartialEq)]
    /// struct Line { level: u8, text: String }
    ///
    /// let writer = HybridCodec::new()
    ///     .with_bitcode()
    ///     .with_primary(Primary::Bitcode)
    ///     .with_compression(Compression::zstd());
    /// let frame = writer.encode(&Line { level: 3, text: "disk almost full".into() })?;
    ///
    /// let reader = HybridCodec::<Line>::new().with_bitcode(); // reads rkyv, JSON and bitcode
    /// assert_eq!(reader.decode(&frame)?.text, "disk almost full");
    /// # Ok::<(), zerocodec::Error>(())
    /// ```
    #[must_use]
    pub fn with_bitcode(mut self) -> Self {
        self.bitcode = Some(BitcodePayload::new());
        self
    }
}

/// bitcode of `T` through bitcode's own derives (`bitcode::Encode`, `bitcode::Decode`): the
/// smallest encoding of the formats here, before and after compression, and the fastest to
/// write; reading parses (there is no in-place access).
///
/// - `encode_into` encodes with a per-thread `bitcode::Buffer` reused across calls (bitcode
///   lays a value out column by column, then packs each column), then appends the bytes to
///   the caller's buffer: a warm encode allocates nothing when the buffer has room.
/// - `decode` reads exactly one encoding; input over [`max_len`](Self::max_len) is refused
///   before decoding. The [hostile-input notes](Self#hostile-input) say what bitcode promises about
///   hostile input and what this codec adds.
/// - The format is bitcode 0.6's, which bitcode keeps stable within 0.6 only; it is not
///   bitcode's serde format (`bitcode::serialize`), which differs.
///
/// Encoding needs only `T: bitcode::Encode`, decoding only `T: bitcode::DecodeOwned`.
///
/// # Hostile input
///
/// What bitcode 0.6 promises: little in writing. Its docs say nothing about hostile input
/// beyond returning an error for input it cannot decode. What its code does (0.6.9, which its
/// authors fuzz, and which this crate's `bitcode` fuzz target and malformed-input corpus
/// hold to it): decoding returns an error, never panics, on any input; every length and
/// variant is validated against the input before elements are decoded, and a total length
/// past 2^51 is refused; every element of a collection costs at least one bit of input (it
/// never packs a length or variant into zero bits, by its own comment so that a short input
/// cannot make it allocate without bound). Its errors carry no detail in release builds
/// ("bitcode error").
///
/// What it does not promise, and what this codec adds:
///
/// - **An input bound.** bitcode decodes whatever it is handed. [`BitcodeCodec`] refuses input
///   over [`max_len`](BitcodeCodec::max_len) (16 MiB by default) with
///   [`ErrorKind::TooLarge`] before decoding, and a hybrid frame's bitcode payload is held to
///   its policy's [`max_decompressed_len`](crate::Policy::max_decompressed_len), whether it
///   was stored raw or compressed. No encoder here writes what its own reader refuses.
/// - **A memory bound that follows from it.** With one bit per element, decoding holds at
///   most about `8 × (size_of::<E>() + 1)` bytes per input byte for a collection of `E` (the
///   element, and bitcode's unpacked one-byte length or tag): 200x for a `Vec<String>` of
///   empty strings (measured), so at most about 3.2 GiB from the 16 MiB default (a JSON
///   `Value` costs about 84x). An element type with a large inline size behind a one-bit
///   variant (`Vec<Option<[u8; 4096]>>`) multiplies that: box large fields, or lower the
///   limit, for such types.
/// - **Not bounded: zero-sized elements.** A `Vec<()>` (or of any zero-sized type) costs no
///   memory per element, and bitcode's derive path puts no cap on its length, so a few bytes
///   can make the decoder count to 2^51. Do not give a bitcode message a collection of a
///   zero-sized type.
/// - **Typed errors.** A bitcode failure is [`ErrorKind::Corrupt`], naming the message type
///   and the input's length.
///
/// # Examples
///
/// ```
/// use zerocodec::prelude::*;
/// use zerocodec_codecs::BitcodeCodec;
///
/// #[derive(bitcode::Encode, bitcode::Decode, Debug, PartialEq)]
/// struct Reading { sensor: String, celsius: f32 }
///
/// let codec = BitcodeCodec::new();
/// let bytes = codec.encode(&Reading { sensor: "t1".into(), celsius: 21.5 })?;
/// assert_eq!(codec.decode(&bytes)?, Reading { sensor: "t1".into(), celsius: 21.5 });
/// # Ok::<(), zerocodec::Error>(())
/// ```
pub struct BitcodeCodec<T> {
    max_len: usize,
    _type: PhantomData<fn() -> T>,
}

impl<T> BitcodeCodec<T> {
    /// The bitcode codec of `T`, reading at most [`DEFAULT_MAX_BITCODE_LEN`] bytes.
    pub const fn new() -> Self {
        Self {
            max_len: DEFAULT_MAX_BITCODE_LEN,
            _type: PhantomData,
        }
    }

    /// Caps the input `decode` accepts, and so the memory a decoded value may take (the
    /// [hostile-input notes](Self#hostile-input)); the encoder refuses to write more than this.
    #[must_use]
    pub const fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// The largest input `decode` accepts.
    pub const fn max_len(&self) -> usize {
        self.max_len
    }
}

impl<T> Default for BitcodeCodec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for BitcodeCodec<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for BitcodeCodec<T> {}

impl<T> fmt::Debug for BitcodeCodec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitcodeCodec")
            .field("type", &std::any::type_name::<T>())
            .field("max_len", &self.max_len)
            .finish()
    }
}

impl<T> Codec for BitcodeCodec<T> {
    type Item = T;

    #[inline]
    fn codec_id(&self) -> CodecId {
        CodecId::BITCODE
    }

    #[inline]
    fn content_type(&self) -> &'static str {
        BITCODE_CONTENT_TYPE
    }
}

impl<T: bitcode::Encode> Encode for BitcodeCodec<T> {
    /// Appends the encoding of `item`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TooLarge`] when the encoding is longer than [`max_len`](Self::max_len);
    /// `out` is then left as it was.
    #[inline]
    fn encode_into<B: EncodeBuf>(&self, item: &T, out: &mut B) -> Result<()> {
        encode_with(item, self.max_len, &mut |bytes| {
            out.extend_from_slice(bytes)
        })
    }
}

impl<T: bitcode::DecodeOwned> Decode for BitcodeCodec<T> {
    /// Decodes one encoding, which must span all of `bytes`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TooLarge`] for input over [`max_len`](Self::max_len), before decoding;
    /// [`ErrorKind::Corrupt`] for input bitcode refuses (truncated, trailing bytes, an invalid
    /// length, variant, packing or UTF-8 string).
    #[inline]
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        decode(bytes, self.max_len)
    }
}

#[cold]
#[inline(never)]
fn too_large<T>(len: usize, max_len: usize) -> Error {
    Error::too_large(
        &format!("bitcode encoding of `{}`", std::any::type_name::<T>()),
        len as u64,
        max_len as u64,
    )
}

#[cold]
#[inline(never)]
fn corrupt<T>(len: usize, err: bitcode::Error) -> Error {
    Error::new(
        ErrorKind::Corrupt,
        format!(
            "invalid bitcode for `{}` ({len} bytes): {err}",
            std::any::type_name::<T>()
        ),
    )
}
