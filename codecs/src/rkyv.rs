//! [`RkyvCodec`]: rkyv archives, validated with bytecheck and readable in place; and rkyv
//! encoding, which lives here and nowhere else.

use std::fmt;
use std::marker::PhantomData;

use rkyv::api::high::HighSerializer;
use rkyv::rancor::{BoxedError, Failure};
use rkyv::ser::allocator::ArenaHandle;
use rkyv::ser::sharing::Share;
use rkyv::util::AlignedVec;
use zerocodec::__private::{rkyv_message, with_scratch};
use zerocodec::archive::{self, DEFAULT_MAX_DEPTH};
use zerocodec::bytes::Bytes;
use zerocodec::{
    ARCHIVE_ALIGN, Access, Codec, CodecId, Decode, Encode, EncodeBuf, Error, ErrorKind,
    OwnedArchive, Result, ZeroCopy, ZeroCopyDecode,
};

/// The MIME type of [`RkyvCodec`]'s encoding.
pub const RKYV_CONTENT_TYPE: &str = "application/x-rkyv";

mod sealed {
    use super::*;

    /// The rkyv serializer zerocodec writes archives with: rancor's zero-sized `Failure` as
    /// the error type (see [`serialize`](super::serialize) for why).
    pub(super) type FastSerializer<'a> = HighSerializer<VecAppender, ArenaHandle<'a>, Failure>;
    /// The same serializer keeping rkyv's messages, run only to explain a failure.
    pub(super) type ExplainingSerializer<'a> =
        HighSerializer<VecAppender, ArenaHandle<'a>, BoxedError>;

    /// The writer archives are serialized into: an aligned vector held by value while an
    /// archive is written, positions counted from the start of the vector.
    ///
    /// rkyv asks its writer for the position and writes a few bytes at a time (every field,
    /// string and padding run). Held by value, the vector's length and capacity sit in the
    /// serializer itself rather than behind a reference, and the position is the vector's
    /// length with nothing subtracted: 5% fewer instructions than a writer over a borrowed
    /// buffer on the log dataset, which encodes at raw rkyv's cost this way. Positions only
    /// matter modulo the alignment of what is written next, so counting from the vector's
    /// start lays out the same bytes as counting from the archive's start whenever the
    /// archive starts at a multiple of [`ARCHIVE_ALIGN`], the largest alignment zerocodec's
    /// archives use; [`serialize_into_vec`](super::serialize_into_vec) only starts one there.
    #[derive(Debug, Default)]
    pub struct VecAppender {
        pub(super) vec: AlignedVec,
        pub(super) start: usize,
    }

    impl rkyv::ser::Positional for VecAppender {
        #[inline]
        fn pos(&self) -> usize {
            self.vec.len()
        }
    }

    impl<E> rkyv::ser::Writer<E> for VecAppender {
        #[inline]
        fn write(&mut self, bytes: &[u8]) -> Result<(), E> {
            self.vec.extend_from_slice(bytes);
            Ok(())
        }
    }

    /// Seals [`ZeroCopyEncode`](super::ZeroCopyEncode): its bounds name zerocodec's private
    /// serializer, which no other crate can name.
    pub trait Sealed {}
    impl<T> Sealed for T where
        T: for<'a> rkyv::Serialize<FastSerializer<'a>>
            + for<'a> rkyv::Serialize<ExplainingSerializer<'a>>
    {
    }
}

use sealed::{ExplainingSerializer, FastSerializer, VecAppender};

/// A [`ZeroCopy`] type that zerocodec can encode as an rkyv archive.
///
/// Implemented for every type that derives `rkyv::Archive` and `rkyv::Serialize` (or is
/// declared with `#[zerocodec::message]`); sealed, because its bounds name zerocodec's own
/// rkyv serializer, which may change in any release.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be encoded as an rkyv archive",
    label = "`{Self}` does not implement `rkyv::Archive` and `rkyv::Serialize`",
    note = "derive `rkyv::Archive` and `rkyv::Serialize`, or declare the type with `#[zerocodec::message]` (zerocodec's `derive` feature)"
)]
pub trait ZeroCopyEncode:
    ZeroCopy
    + sealed::Sealed
    + for<'a> rkyv::Serialize<FastSerializer<'a>>
    + for<'a> rkyv::Serialize<ExplainingSerializer<'a>>
{
}
impl<T> ZeroCopyEncode for T where
    T: ZeroCopy
        + for<'a> rkyv::Serialize<FastSerializer<'a>>
        + for<'a> rkyv::Serialize<ExplainingSerializer<'a>>
{
}

/// Appends the rkyv archive of `value` to `out` and returns its length; on error `out` is left
/// as it was.
///
/// An aligned vector (an `AlignedVec` or a pooled buffer) whose length is a multiple of
/// [`ARCHIVE_ALIGN`] is serialized into directly; any other buffer receives one copy of an
/// archive serialized into a per-thread scratch buffer.
///
/// # Errors
///
/// [`ErrorKind::Encode`] if a field's serializer fails (a `with` wrapper refusing a value).
#[inline]
pub(crate) fn serialize<T: ZeroCopyEncode, B: EncodeBuf>(value: &T, out: &mut B) -> Result<usize> {
    if let Some(vec) = out.as_aligned_vec() {
        if vec.len() % ARCHIVE_ALIGN == 0 {
            return serialize_into_vec(value, vec);
        }
    }
    serialize_copied(value, out)
}

/// [`serialize`] through scratch space, out of line to keep the common path small.
#[inline(never)]
fn serialize_copied<T: ZeroCopyEncode, B: EncodeBuf>(value: &T, out: &mut B) -> Result<usize> {
    with_scratch(|scratch| {
        let len = serialize_into_vec(value, scratch)?;
        out.extend_from_slice(scratch);
        Ok(len)
    })
}

/// Serializes `value` at the end of `out`, whose length is a multiple of [`ARCHIVE_ALIGN`].
///
/// Serialization runs with rancor's zero-sized `Failure` as the error type, as raw
/// `rkyv::to_bytes` with `rancor::Error` does in release builds: threading `BoxedError`
/// through every field's `Result` cost 8% on the log dataset. Only when serialization fails is
/// it run again with `BoxedError`, to build the message.
#[inline]
fn serialize_into_vec<T: ZeroCopyEncode>(value: &T, out: &mut AlignedVec) -> Result<usize> {
    debug_assert_eq!(out.len() % ARCHIVE_ALIGN, 0);
    let start = out.len();
    let writer = VecAppender {
        vec: std::mem::take(out),
        start,
    };
    let (result, writer) = rkyv::util::with_arena(|arena| {
        let mut serializer = rkyv::ser::Serializer::new(writer, arena.acquire(), Share::new());
        let result = rkyv::api::serialize_using::<_, Failure>(value, &mut serializer);
        (result, serializer.into_writer())
    });
    *out = writer.vec;
    match result {
        Ok(_) => Ok(out.len() - writer.start),
        Err(Failure) => {
            out.truncate(start);
            Err(explain_encode(value))
        }
    }
}

/// Serializes again with `BoxedError` to say why serialization failed.
#[cold]
#[inline(never)]
fn explain_encode<T: ZeroCopyEncode>(value: &T) -> Error {
    let result = rkyv::util::with_arena(|arena| {
        let mut serializer =
            rkyv::ser::Serializer::new(VecAppender::default(), arena.acquire(), Share::new());
        rkyv::api::serialize_using::<_, BoxedError>(value, &mut serializer)
    });
    match result {
        Err(err) => Error::new(
            ErrorKind::Encode,
            format!(
                "rkyv could not serialize `{}`: {}",
                std::any::type_name::<T>(),
                rkyv_message(&err, None)
            ),
        ),
        Ok(_) => Error::new(
            ErrorKind::Encode,
            format!(
                "rkyv could not serialize `{}`, then did on a second try: its Serialize \
                 implementation is not deterministic",
                std::any::type_name::<T>()
            ),
        ),
    }
}

/// rkyv archives of `T`: encoding is a copy of the value's bytes in archived layout, and
/// reading is validation plus a pointer cast, with no parsing.
///
/// - `encode_into` serializes straight into an aligned buffer (an `AlignedVec` or a pooled
///   buffer), with rkyv's per-thread arena reused across calls, so a warm encode allocates
///   nothing when the buffer has room; other buffers get one copy.
/// - `access` validates the archive (bytecheck) and borrows it; it needs 16-byte aligned
///   input and rejects anything else with [`ErrorKind::Unaligned`].
/// - `access_owned` and `decode` accept any input: unaligned bytes are copied once into an
///   aligned buffer first.
/// - Validation caps nesting at [`DEFAULT_MAX_DEPTH`] (configurable with
///   [`with_max_depth`](Self::with_max_depth)).
///
/// Validation costs what raw `rkyv::access` costs: it runs with rancor's zero-sized error
/// type, and only an archive that fails is validated again with `BoxedError`, so errors keep
/// rkyv's messages in release builds (see [`archive::access_with_depth`]).
///
/// # Examples
///
/// ```
/// use zerocodec::prelude::*;
/// use zerocodec_codecs::RkyvCodec;
///
/// #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, Debug, PartialEq)]
/// struct Reading { sensor: String, celsius: f32 }
///
/// let codec = RkyvCodec::new();
/// let bytes = codec.encode(&Reading { sensor: "t1".into(), celsius: 21.5 })?; // aligned
/// let view = codec.access(&bytes)?;
/// assert_eq!(view.sensor, "t1");
/// let owned = codec.decode(&bytes)?;
/// assert_eq!(owned.celsius, 21.5);
/// # Ok::<(), zerocodec::Error>(())
/// ```
pub struct RkyvCodec<T> {
    max_depth: usize,
    _type: PhantomData<fn() -> T>,
}

impl<T> RkyvCodec<T> {
    /// A codec with the default validation limits.
    pub const fn new() -> Self {
        Self {
            max_depth: DEFAULT_MAX_DEPTH,
            _type: PhantomData,
        }
    }

    /// Caps how deeply nested an archive may be when validated: a cap of `n` admits `n - 1`
    /// levels (the root and each level of boxes, vectors and strings count; 0 means no cap).
    ///
    /// The cap bounds the validator's recursion on recursive archived types (such as
    /// `AsArchivedJson` trees), and so the stack it needs: raise it only as far as the threads
    /// that read such archives have stack for.
    #[must_use]
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// The validation nesting cap.
    pub const fn max_depth(&self) -> usize {
        self.max_depth
    }
}

impl<T> Default for RkyvCodec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for RkyvCodec<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for RkyvCodec<T> {}

impl<T> fmt::Debug for RkyvCodec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RkyvCodec")
            .field("type", &std::any::type_name::<T>())
            .field("max_depth", &self.max_depth)
            .finish()
    }
}

impl<T> Codec for RkyvCodec<T> {
    type Item = T;

    #[inline]
    fn codec_id(&self) -> CodecId {
        CodecId::RKYV
    }

    #[inline]
    fn content_type(&self) -> &'static str {
        RKYV_CONTENT_TYPE
    }
}

impl<T: ZeroCopyEncode> Encode for RkyvCodec<T> {
    #[inline]
    fn encode_into<B: EncodeBuf>(&self, item: &T, out: &mut B) -> Result<()> {
        serialize(item, out).map(drop)
    }
}

impl<T: ZeroCopyDecode> Decode for RkyvCodec<T> {
    #[inline]
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        archive::with_aligned(bytes, |aligned| {
            let view = archive::access_with_depth::<T>(aligned, self.max_depth)?;
            archive::deserialize_archived::<T>(view)
        })
    }
}

impl<T: ZeroCopy> Access for RkyvCodec<T> {
    #[inline]
    fn access<'a>(&self, bytes: &'a [u8]) -> Result<&'a T::Archived> {
        archive::access_with_depth::<T>(bytes, self.max_depth)
    }

    #[inline]
    fn access_owned(&self, bytes: Bytes) -> Result<OwnedArchive<T>> {
        OwnedArchive::from_bytes_in(bytes, self.max_depth, zerocodec::BufferPool::global())
    }
}
