//! [`JsonCodec`]: JSON text through serde_json.

mod strict;

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zerocodec::{Codec, CodecId, Decode, Encode, EncodeBuf, Error, ErrorKind, Result};

/// JSON of `T` through serde_json: the interop and debugging codec, and the legacy format the
/// hybrid codec accepts without a header.
///
/// Encoding streams straight into the caller's buffer (no intermediate `Vec`) and never writes
/// what its own reader would refuse or read back differently: it fails with
/// [`ErrorKind::Encode`], naming the field, on a NaN or infinite float (which serde_json alone
/// would write as `null`, turning `Some(f64::NAN)` into `None`), and on a value nested deeper
/// than the 127 levels of arrays and objects the reader accepts (which also bounds the
/// encoder's recursion, so no value can overflow the stack). Decoding uses
/// `serde_json::from_slice`, whose recursion limit (at most 127 nested arrays or objects)
/// bounds the stack on adversarial input; trailing non-whitespace after the value is an error.
///
/// Encoding needs only `T: Serialize`, decoding only `T: DeserializeOwned`. Exact float round
/// trips need serde_json's `float_roundtrip` feature, which this crate enables.
///
/// # Examples
///
/// ```
/// use zerocodec::prelude::*;
/// use zerocodec_codecs::JsonCodec;
///
/// let codec = JsonCodec::new();
/// let mut buf = Vec::new();
/// codec.encode_into(&vec![1u32, 2, 3], &mut buf)?;
/// assert_eq!(buf, b"[1,2,3]");
/// assert_eq!(codec.decode(&buf)?, [1, 2, 3]);
/// # Ok::<(), zerocodec::Error>(())
/// ```
pub struct JsonCodec<T> {
    _type: PhantomData<fn() -> T>,
}

/// The MIME type of [`JsonCodec`]'s encoding.
pub const JSON_CONTENT_TYPE: &str = "application/json";

impl<T> JsonCodec<T> {
    /// The JSON codec of `T`.
    pub const fn new() -> Self {
        Self { _type: PhantomData }
    }
}

impl<T> Default for JsonCodec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for JsonCodec<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for JsonCodec<T> {}

impl<T> fmt::Debug for JsonCodec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonCodec")
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T> Codec for JsonCodec<T> {
    type Item = T;

    #[inline]
    fn codec_id(&self) -> CodecId {
        CodecId::JSON
    }

    #[inline]
    fn content_type(&self) -> &'static str {
        JSON_CONTENT_TYPE
    }
}

impl<T: Serialize> Encode for JsonCodec<T> {
    #[inline]
    fn encode_into<B: EncodeBuf>(&self, item: &T, out: &mut B) -> Result<()> {
        encode_into(item, out, std::any::type_name::<T>())
    }
}

impl<T: DeserializeOwned> Decode for JsonCodec<T> {
    /// Decodes one JSON text.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Incomplete`] for truncated JSON, [`ErrorKind::Corrupt`] for a syntax error
    /// (or nesting past serde_json's recursion limit), [`ErrorKind::TypeMismatch`] for valid
    /// JSON of another shape.
    #[inline]
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes).map_err(decode_error::<T>)
    }
}

/// An [`std::io::Write`] over an [`EncodeBuf`]: what serde_json writes JSON text through.
pub(crate) struct Appender<'a, B: EncodeBuf + ?Sized>(pub(crate) &'a mut B);

impl<B: EncodeBuf + ?Sized> std::io::Write for Appender<'_, B> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
    #[inline]
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Appends the JSON text of `value` (a `name`, for errors) to `out`, refusing what the reader
/// would not read back as the same value (see [`JsonCodec`]); on error `out` is left as it was.
#[inline]
pub(crate) fn encode_into<T, B>(value: &T, out: &mut B, name: &str) -> Result<()>
where
    T: Serialize + ?Sized,
    B: EncodeBuf + ?Sized,
{
    let start = out.len();
    let mut serializer = serde_json::Serializer::new(Appender(&mut *out));
    strict::serialize(value, &mut serializer).map_err(|err| {
        out.truncate(start);
        encode_error(value, err, name)
    })
}

/// The JSON text of `value` as a `String`, under [`encode_into`]'s rules.
pub(crate) fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let mut out = Vec::new();
    encode_into(value, &mut out, std::any::type_name::<T>())?;
    // serde_json writes only valid UTF-8.
    String::from_utf8(out).map_err(|err| Error::new(ErrorKind::Encode, err.to_string()))
}

/// Says why `value` could not be encoded and where: the error is built again with the path
/// of the failing field tracked (serde_path_to_error), a second pass that only failures pay.
#[cold]
#[inline(never)]
fn encode_error<T: Serialize + ?Sized>(value: &T, err: serde_json::Error, name: &str) -> Error {
    let at = match strict::failing_path(value) {
        Some(path) if path != "." => format!(" at `{path}`"),
        _ => String::new(),
    };
    Error::new(
        ErrorKind::Encode,
        format!("cannot encode `{name}` as JSON{at}: {err}"),
    )
    .with_source(err)
}

/// Maps a serde_json decode error to a zerocodec error, keeping serde_json's category as the
/// kind: EOF is incomplete input, a syntax error is corrupt input, and well-formed JSON of the
/// wrong shape is a type mismatch.
#[cold]
pub(crate) fn decode_error<T>(err: serde_json::Error) -> Error {
    decode_error_named(err, std::any::type_name::<T>())
}

/// [`decode_error`] naming the expected type `name`.
#[cold]
pub(crate) fn decode_error_named(err: serde_json::Error, name: &str) -> Error {
    use serde_json::error::Category;
    let (kind, what) = match err.classify() {
        Category::Eof => (ErrorKind::Incomplete, "truncated JSON"),
        Category::Syntax => (ErrorKind::Corrupt, "invalid JSON"),
        Category::Data => (ErrorKind::TypeMismatch, "JSON of another shape"),
        Category::Io => (ErrorKind::Io, "I/O error reading JSON"),
    };
    Error::new(kind, format!("{what}: expected `{name}`, {err}")).with_source(err)
}
