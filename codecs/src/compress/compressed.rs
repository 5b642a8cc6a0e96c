//! [`Compressed`]: any codec, with its encoding passed through a [`Transform`].

use zerocodec::bytes::Bytes;
use zerocodec::{
    Codec, CodecId, EncodeBuf, Error, ErrorKind, OwnedArchive, Result, Transform, ZeroCopy,
    ZeroCopyCodec,
};

/// A codec whose encodings go through a byte [`Transform`] (compression).
///
/// `Compressed<C, X>` wraps *any* [`Codec`] `C` (JSON, rkyv, the hybrid frame, your own) and
/// calls its transform hooks, [`Codec::encode_transformed_into`] and
/// [`Codec::decode_transformed`]. Codecs with their own header (the hybrid frame) record
/// the compression id and dictionary id there; every other codec gets the minimal transform
/// prefix of [`zerocodec::transform`] (2 bytes, or 6 with a dictionary id).
///
/// Stacking is by type, with no dynamic dispatch: `Compressed<JsonCodec, Zstd>`,
/// `Compressed<RkyvCodec, ZstdDict>`.
///
/// - [`codec_id`](Codec::codec_id) and [`content_type`](Codec::content_type) are the inner
///   codec's: compression is a content *encoding* of the same format, as in HTTP.
/// - Zero-copy: [`access_owned`](ZeroCopyCodec::access_owned) decompresses once into an
///   aligned buffer the view owns (a payload stored raw is shared without a copy when it is
///   aligned). Borrowed [`access`](ZeroCopyCodec::access) is refused with
///   [`ErrorKind::Unsupported`]: where the inner bytes sit, and whether they are compressed,
///   is the inner codec's header business, which only the owned hook can see.
///
/// # Examples
///
/// ```
/// use zerocodec::Codec;
/// use zerocodec_codecs::{Compressed, JsonCodec, Zstd};
///
/// let codec = Compressed::new(JsonCodec, Zstd::new(3));
/// let text = "a message that repeats, a message that repeats, a message that repeats".repeat(4);
/// let bytes = codec.encode(&text)?;
/// assert!(bytes.len() < text.len());
/// assert_eq!(codec.decode::<String>(&bytes)?, text);
/// # Ok::<(), zerocodec::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compressed<C, X> {
    inner: C,
    transform: X,
}

impl<C, X> Compressed<C, X> {
    /// Wraps `inner`, passing its encodings through `transform`.
    pub const fn new(inner: C, transform: X) -> Self {
        Self { inner, transform }
    }

    /// The wrapped codec.
    pub const fn inner(&self) -> &C {
        &self.inner
    }

    /// The transform.
    pub const fn transform(&self) -> &X {
        &self.transform
    }

    /// The wrapped codec and the transform.
    pub fn into_parts(self) -> (C, X) {
        (self.inner, self.transform)
    }

    /// [`Codec::decode`] with the type named at the call: `codec.decode::<T>(bytes)`.
    ///
    /// # Errors
    ///
    /// As [`Codec::decode_transformed`] of the inner codec.
    #[inline]
    pub fn decode<T>(&self, bytes: &[u8]) -> Result<T>
    where
        Self: Codec<T>,
    {
        <Self as Codec<T>>::decode(self, bytes)
    }

    /// [`ZeroCopyCodec::access_owned`] with the type named at the call.
    ///
    /// # Errors
    ///
    /// As [`ZeroCopyCodec::access_transformed`] of the inner codec.
    #[inline]
    pub fn access_owned<T: ZeroCopy>(&self, bytes: Bytes) -> Result<OwnedArchive<T>>
    where
        Self: ZeroCopyCodec<T>,
    {
        <Self as ZeroCopyCodec<T>>::access_owned(self, bytes)
    }
}

impl<T, C, X> Codec<T> for Compressed<C, X>
where
    C: Codec<T>,
    X: Transform,
{
    #[inline]
    fn codec_id(&self) -> CodecId {
        self.inner.codec_id()
    }

    #[inline]
    fn content_type(&self) -> &'static str {
        self.inner.content_type()
    }

    #[inline]
    fn encode_into<B: EncodeBuf>(&self, value: &T, out: &mut B) -> Result<()> {
        self.inner
            .encode_transformed_into(value, &self.transform, out)
    }

    #[inline]
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        self.inner.decode_transformed(bytes, &self.transform)
    }
}

impl<T, C, X> ZeroCopyCodec<T> for Compressed<C, X>
where
    T: ZeroCopy,
    C: ZeroCopyCodec<T>,
    X: Transform,
{
    fn access<'a>(&self, _bytes: &'a [u8]) -> Result<&'a T::Archived> {
        Err(borrowed_access_unsupported())
    }

    #[inline]
    fn access_owned(&self, bytes: Bytes) -> Result<OwnedArchive<T>> {
        self.inner.access_transformed(bytes, &self.transform)
    }
}

#[cold]
fn borrowed_access_unsupported() -> Error {
    Error::new(
        ErrorKind::Unsupported,
        "borrowed access expects the inner codec's bytes in place, found a compressed stack; \
         use access_owned, which decompresses once into an aligned buffer",
    )
}
