//! [`RkyvCodec`]: rkyv archives, validated with bytecheck and readable in place.

use zerocodec::archive::{self, DEFAULT_MAX_DEPTH};
use zerocodec::bytes::Bytes;
use zerocodec::{
    Codec, CodecId, EncodeBuf, OwnedArchive, Result, ZeroCopyCodec, ZeroCopyDecode, ZeroCopyEncode,
};

/// rkyv archives: encoding is a copy of the value's bytes in archived layout, and reading is
/// validation plus a pointer cast, with no parsing.
///
/// - `encode_into` serializes straight into the caller's buffer, with rkyv's per-thread
///   arena reused across calls, so a warm encode allocates nothing when the buffer has room.
/// - `access` validates the archive (bytecheck) and borrows it; it needs 16-byte aligned
///   input and rejects anything else with [`ErrorKind::Unaligned`](zerocodec::ErrorKind).
/// - `access_owned` and `decode` accept any input: unaligned bytes are copied once into an
///   aligned buffer first.
/// - Validation caps nesting at [`DEFAULT_MAX_DEPTH`](zerocodec::archive::DEFAULT_MAX_DEPTH)
///   (configurable with [`RkyvCodec::with_max_depth`]).
///
/// Validation costs what raw `rkyv::access` costs: it runs with rancor's zero-sized error
/// type, and only an archive that fails is validated again with `BoxedError`, so errors
/// keep rkyv's messages in release builds (see
/// [`access_with_depth`](zerocodec::archive::access_with_depth)).
///
/// # Examples
///
/// ```
/// use zerocodec::{Codec, ZeroCopyCodec};
/// use zerocodec_codecs::RkyvCodec;
///
/// #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, Debug, PartialEq)]
/// struct Reading { sensor: String, celsius: f32 }
///
/// let codec = RkyvCodec::new();
/// let bytes = codec.encode(&Reading { sensor: "t1".into(), celsius: 21.5 })?; // aligned
/// let view = codec.access::<Reading>(&bytes)?;
/// assert_eq!(view.sensor, "t1");
/// let owned = codec.decode::<Reading>(&bytes)?;
/// assert_eq!(owned.celsius, 21.5);
/// # Ok::<(), zerocodec::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RkyvCodec {
    max_depth: usize,
}

/// The MIME type of [`RkyvCodec`]'s encoding.
pub const RKYV_CONTENT_TYPE: &str = "application/x-rkyv";

impl RkyvCodec {
    /// A codec with the default validation limits.
    pub const fn new() -> Self {
        Self {
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// Caps how deeply nested an archive may be when validated (the root and each level of
    /// boxes, vectors and strings count; 0 means no cap).
    ///
    /// The cap bounds the validator's recursion on recursive archived types (such as
    /// `AsArchivedJson` trees), and so the stack it needs: raise it
    /// only as far as the threads that read such archives have stack for.
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// The validation nesting cap.
    pub const fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// [`Codec::decode`] with the type named at the call: `codec.decode::<T>(bytes)`.
    ///
    /// # Errors
    ///
    /// As [`Codec::decode`].
    #[inline]
    pub fn decode<T: ZeroCopyEncode + ZeroCopyDecode>(&self, bytes: &[u8]) -> Result<T> {
        <Self as Codec<T>>::decode(self, bytes)
    }

    /// [`ZeroCopyCodec::access`] with the type named at the call: `codec.access::<T>(bytes)`.
    ///
    /// # Errors
    ///
    /// As [`ZeroCopyCodec::access`].
    #[inline]
    pub fn access<'a, T: ZeroCopyEncode + ZeroCopyDecode>(
        &self,
        bytes: &'a [u8],
    ) -> Result<&'a T::Archived> {
        <Self as ZeroCopyCodec<T>>::access(self, bytes)
    }

    /// [`ZeroCopyCodec::access_owned`] with the type named at the call.
    ///
    /// # Errors
    ///
    /// As [`ZeroCopyCodec::access_owned`].
    #[inline]
    pub fn access_owned<T: ZeroCopyEncode + ZeroCopyDecode>(
        &self,
        bytes: Bytes,
    ) -> Result<OwnedArchive<T>> {
        <Self as ZeroCopyCodec<T>>::access_owned(self, bytes)
    }
}

impl Default for RkyvCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: ZeroCopyEncode + ZeroCopyDecode> Codec<T> for RkyvCodec {
    #[inline]
    fn codec_id(&self) -> CodecId {
        CodecId::RKYV
    }

    #[inline]
    fn content_type(&self) -> &'static str {
        RKYV_CONTENT_TYPE
    }

    #[inline]
    fn encode_into<B: EncodeBuf>(&self, value: &T, out: &mut B) -> Result<()> {
        out.append_archive(value).map(drop)
    }

    #[inline]
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        archive::with_aligned(bytes, |aligned| {
            let view = archive::access_with_depth::<T>(aligned, self.max_depth)?;
            archive::deserialize_archived::<T>(view)
        })
    }
}

impl<T: ZeroCopyEncode + ZeroCopyDecode> ZeroCopyCodec<T> for RkyvCodec {
    #[inline]
    fn access<'a>(&self, bytes: &'a [u8]) -> Result<&'a T::Archived> {
        archive::access_with_depth::<T>(bytes, self.max_depth)
    }

    #[inline]
    fn access_owned(&self, bytes: Bytes) -> Result<OwnedArchive<T>> {
        OwnedArchive::from_bytes_with_depth(bytes, self.max_depth)
    }
}
