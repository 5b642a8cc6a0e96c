//! [`JsonCodec`]: JSON text through serde_json.

use serde::Serialize;
use serde::de::DeserializeOwned;
use zerocodec::{Appender, Codec, CodecId, EncodeBuf, Error, ErrorKind, Result};

/// JSON through serde_json: the interop and debugging codec, and the legacy format the hybrid
/// codec accepts without a header.
///
/// Encoding streams straight into the caller's buffer (no intermediate `Vec`). Decoding uses
/// `serde_json::from_slice`, whose recursion limit (128 nested arrays or objects) bounds the
/// stack on adversarial input; trailing non-whitespace after the value is an error.
///
/// Exact float round trips need serde_json's `float_roundtrip` feature, which this crate
/// enables.
///
/// # Examples
///
/// ```
/// use zerocodec::Codec;
/// use zerocodec_codecs::JsonCodec;
///
/// let mut buf = Vec::new();
/// JsonCodec.encode_into(&vec![1u32, 2, 3], &mut buf)?;
/// assert_eq!(buf, b"[1,2,3]");
/// let back = JsonCodec.decode::<Vec<u32>>(&buf)?;
/// assert_eq!(back, [1, 2, 3]);
/// # Ok::<(), zerocodec::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonCodec;

/// The MIME type of [`JsonCodec`]'s encoding.
pub const JSON_CONTENT_TYPE: &str = "application/json";

impl JsonCodec {
    /// [`Codec::decode`] with the type named at the call: `JsonCodec.decode::<T>(bytes)`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Incomplete`] for truncated JSON, [`ErrorKind::Corrupt`] for a syntax error
    /// (or nesting past serde_json's recursion limit), [`ErrorKind::TypeMismatch`] for valid
    /// JSON of another shape.
    #[inline]
    pub fn decode<T: Serialize + DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        <Self as Codec<T>>::decode(self, bytes)
    }
}

impl<T: Serialize + DeserializeOwned> Codec<T> for JsonCodec {
    #[inline]
    fn codec_id(&self) -> CodecId {
        CodecId::JSON
    }

    #[inline]
    fn content_type(&self) -> &'static str {
        JSON_CONTENT_TYPE
    }

    #[inline]
    fn encode_into<B: EncodeBuf>(&self, value: &T, out: &mut B) -> Result<()> {
        let start = out.len();
        serde_json::to_writer(Appender::new(&mut *out), value).map_err(|err| {
            out.truncate(start);
            encode_error::<T>(err)
        })
    }

    #[inline]
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes).map_err(decode_error::<T>)
    }
}

#[cold]
fn encode_error<T>(err: serde_json::Error) -> Error {
    Error::new(
        ErrorKind::Encode,
        format!(
            "serde_json could not encode `{}`: {err}",
            std::any::type_name::<T>()
        ),
    )
    .with_source(err)
}

/// Maps a serde_json decode error to a zerocodec error, keeping serde_json's category as the
/// kind: EOF is incomplete input, a syntax error is corrupt input, and well-formed JSON of the
/// wrong shape is a type mismatch.
#[cold]
pub(crate) fn decode_error<T>(err: serde_json::Error) -> Error {
    use serde_json::error::Category;
    let (kind, what) = match err.classify() {
        Category::Eof => (ErrorKind::Incomplete, "truncated JSON"),
        Category::Syntax => (ErrorKind::Corrupt, "invalid JSON"),
        Category::Data => (ErrorKind::TypeMismatch, "JSON of another shape"),
        Category::Io => (ErrorKind::Io, "I/O error reading JSON"),
    };
    Error::new(
        kind,
        format!("{what}: expected `{}`, {err}", std::any::type_name::<T>()),
    )
    .with_source(err)
}
