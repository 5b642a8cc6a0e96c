//! Validated zero-copy access to rkyv archives, and [`OwnedArchive`], a validated-once archive
//! that owns (or shares) its aligned bytes.
//!
//! This module holds `unsafe` code: [`OwnedArchive`]'s `Deref` reads its archive without
//! re-validating it. That is sound because the bytes were validated when the value was built
//! and are never mutated afterwards (see the `SAFETY:` comments).

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, Range};

use bytes::Bytes;
use rkyv::api::high::HighDeserializer;
use rkyv::bytecheck::CheckBytes;
use rkyv::rancor::{BoxedError, Failure, Source, Strategy};
use rkyv::validation::Validator;
use rkyv::validation::shared::SharedValidator;
use rkyv::{Archive, Deserialize, Portable};

use crate::buf::{ARCHIVE_ALIGN, EncodeBuf};
use crate::error::{Error, ErrorKind, Result};
use crate::pool::{BufferPool, PooledBuf};
use crate::scratch::with_scratch;
use crate::validator::CappedValidator;

/// Default cap on how deeply nested an archive may be when validated.
///
/// Validation walks nested boxes, vectors and strings, recursing once per level; the cap
/// bounds that recursion (and so the stack) on adversarial input, which matters for recursive
/// archived types (a JSON tree can nest a level every 16 bytes). The validator's total work
/// is already bounded by the input's length. The archive's root is one level. Real messages
/// nest a handful of levels deep; what checking the cap costs is measured in
/// [`access_with_depth`].
pub const DEFAULT_MAX_DEPTH: usize = 128;

// Measured when this was chosen: checking with `BoxedError` on the success path cost a fixed
// ~7 ns per call and 15-80% on large archives (mk48: 2.2 ms against 1.3 ms); rkyv's own capped
// validator cost 3% in instructions on `log`, which `CappedValidator` brings to raw rkyv's.

/// The validator zerocodec checks archives with: rkyv's checks (bytecheck, rkyv's bounds and
/// shared-pointer validators) with the depth cap of [`CappedValidator`], and error type `E`.
type ArchiveValidation<'a, E> = Strategy<Validator<CappedValidator<'a>, SharedValidator>, E>;
/// The validator zerocodec explains invalid archives with (keeping rkyv's error messages and
/// traces).
type ArchiveCheck<'a> = ArchiveValidation<'a, BoxedError>;
/// The validator zerocodec checks archives with first: the same checks, with rancor's
/// zero-sized `Failure` as the error type (see [`access_with_depth`] for why).
type ArchiveFastCheck<'a> = ArchiveValidation<'a, Failure>;
/// The rkyv deserializer zerocodec reads owned values with.
type ArchiveDeserializer = HighDeserializer<BoxedError>;

/// A type whose rkyv archive can be validated and read in place.
///
/// Implemented for every `T: rkyv::Archive` whose archived form is checkable with bytecheck
/// under any rancor error type (`#[derive(rkyv::Archive)]` gives that): zerocodec validates
/// with rancor's zero-sized `Failure` and explains failures with `BoxedError`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read in place as a validated rkyv archive",
    label = "`{Self}` is not a checkable rkyv `Archive`",
    note = "derive `rkyv::Archive` (rkyv's `bytecheck` feature, on by default, makes it checkable), or declare the type with `#[zerocodec::message]` (zerocodec's `derive` feature)"
)]
pub trait ZeroCopy:
    Archive<
    Archived: Portable
                  + for<'a> CheckBytes<ArchiveFastCheck<'a>>
                  + for<'a> CheckBytes<ArchiveCheck<'a>>,
>
{
}
impl<T> ZeroCopy for T where
    T: Archive<
        Archived: Portable
                      + for<'a> CheckBytes<ArchiveFastCheck<'a>>
                      + for<'a> CheckBytes<ArchiveCheck<'a>>,
    >
{
}

/// A [`ZeroCopy`] type whose archive can be deserialized back into an owned value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be decoded from an rkyv archive",
    label = "`{Self}` does not implement `rkyv::Archive` and `rkyv::Deserialize`",
    note = "derive `rkyv::Archive` and `rkyv::Deserialize`, or declare the type with `#[zerocodec::message]` (zerocodec's `derive` feature)"
)]
pub trait ZeroCopyDecode:
    ZeroCopy<Archived: Deserialize<Self, ArchiveDeserializer>> + Sized
{
}
impl<T> ZeroCopyDecode for T where T: ZeroCopy<Archived: Deserialize<T, ArchiveDeserializer>> {}

/// True if `bytes` starts at an address aligned for zero-copy access.
#[inline]
pub fn is_aligned(bytes: &[u8]) -> bool {
    (bytes.as_ptr() as usize) % ARCHIVE_ALIGN == 0
}

/// Validates `bytes` as the archive of a `T` and returns a reference to it, with no copy.
///
/// # Errors
///
/// - [`ErrorKind::Unaligned`] if `bytes` does not start on a 16-byte boundary (copy it into
///   an aligned buffer, or use [`OwnedArchive::from_bytes`], which does that once);
/// - [`ErrorKind::Incomplete`] if it is shorter than the archived root;
/// - [`ErrorKind::Corrupt`] if validation fails or nesting exceeds [`DEFAULT_MAX_DEPTH`].
#[inline]
pub fn access<T: ZeroCopy>(bytes: &[u8]) -> Result<&T::Archived> {
    access_with_depth::<T>(bytes, DEFAULT_MAX_DEPTH)
}

/// [`access`] with an explicit nesting cap.
///
/// # Cost
///
/// Validation costs what raw `rkyv::access` costs, and runs twice only on failure. The
/// archive is first checked with rancor's zero-sized `Failure` as the error type, as raw
/// `rkyv::access` does in release builds; only if that fails is it checked again with
/// `BoxedError` to build the message (checking with `BoxedError` on the success path makes
/// every check return a pointer-sized `Result` and carry the code that wraps errors in
/// traces). The depth cap is a plain countdown per nested box, vector or string
/// (zerocodec's own bounds context, `CappedValidator`, with rkyv's checks), which costs what
/// raw rkyv's test for an optional cap does: callgrind counts `log`'s access at 255,980
/// instructions against raw `rkyv::access`'s 255,963, where rkyv's own capped validator
/// cost 3.1% more. docs/benchmarks.md shows the times.
///
/// # Why a depth cap
///
/// Validation is bounded by the input's length in total work (every subtree claims bytes of
/// its own), but not in *recursion*: a recursive archived type (a JSON tree, a linked list
/// of boxes) can nest one level per few bytes, and the validator recurses once per level, so
/// a short adversarial input could exhaust the stack. The cap bounds that recursion, and
/// every later walk over a validated view. Non-recursive types never come near it. So the cap
/// stays, on by default, rather than being dropped for the speed of raw `rkyv::access`.
///
/// # Errors
///
/// As [`access`].
#[inline]
pub fn access_with_depth<T: ZeroCopy>(bytes: &[u8], max_depth: usize) -> Result<&T::Archived> {
    if bytes.len() < size_of::<T::Archived>() {
        return Err(too_short::<T>(bytes.len()));
    }
    if !is_aligned(bytes) {
        return Err(unaligned(bytes));
    }
    match check::<T::Archived, Failure>(bytes, max_depth) {
        Ok(archived) => Ok(archived),
        Err(Failure) => Err(explain::<T>(bytes, max_depth)),
    }
}

/// Validates `bytes` as an `A` with error type `E` and the nesting cap `max_depth`.
#[inline(always)]
fn check<'a, A, E>(bytes: &'a [u8], max_depth: usize) -> Result<&'a A, E>
where
    A: Portable + for<'b> CheckBytes<ArchiveValidation<'b, E>>,
    E: Source,
{
    let mut validator = Validator::new(
        CappedValidator::new(bytes, max_depth),
        SharedValidator::new(),
    );
    rkyv::api::access_with_context::<A, _, E>(bytes, &mut validator)
}

/// Why `bytes` failed validation: validates again, keeping rkyv's messages.
#[cold]
#[inline(never)]
fn explain<T: ZeroCopy>(bytes: &[u8], max_depth: usize) -> Error {
    match check::<T::Archived, BoxedError>(bytes, max_depth) {
        Err(err) => invalid_archive_at_depth::<T>(err, max_depth, bytes),
        // A `CheckBytes` impl that accepts with one error type and rejects with another.
        Ok(_) => Error::new(
            ErrorKind::Corrupt,
            format!(
                "invalid archive of `{}`: expected a valid archive, found one that failed \
                 validation without a reason",
                std::any::type_name::<T>()
            ),
        ),
    }
}

#[cold]
fn invalid_archive_at_depth<T>(err: BoxedError, max_depth: usize, input: &[u8]) -> Error {
    if !is_depth_error(&err) {
        return invalid_archive::<T>(err, Some(input));
    }
    Error::new(
        ErrorKind::Corrupt,
        format!(
            "invalid archive of `{}`: expected at most {} levels of nesting (the root and each \
             level of boxes, vectors and strings below it; cap {}), found deeper nesting: {}",
            std::any::type_name::<T>(),
            max_depth.saturating_sub(1),
            max_depth,
            rkyv_message(&err, Some(input))
        ),
    )
}

#[cold]
fn too_short<T: ZeroCopy>(len: usize) -> Error {
    Error::incomplete(
        &format!("archive of `{}`", std::any::type_name::<T>()),
        size_of::<T::Archived>(),
        len,
    )
}

#[cold]
fn unaligned(bytes: &[u8]) -> Error {
    Error::new(
        ErrorKind::Unaligned,
        format!(
            "zero-copy access needs input aligned to {ARCHIVE_ALIGN} bytes, found an address \
             {} bytes past a boundary; copy it once with OwnedArchive::from_bytes",
            bytes.as_ptr() as usize % ARCHIVE_ALIGN
        ),
    )
}

/// The archive error for `err`; `input` is the archive, when the error is about its bytes.
///
/// rkyv's own error is not kept as the source: its text holds raw pointers, which
/// [`rkyv_message`] rewrites.
#[cold]
fn invalid_archive<T>(err: BoxedError, input: Option<&[u8]>) -> Error {
    Error::new(
        ErrorKind::Corrupt,
        format!(
            "invalid archive of `{}`: {}",
            std::any::type_name::<T>(),
            rkyv_message(&err, input)
        ),
    )
}

/// rkyv's message for `err`, with its trace when it has one, and with no memory address.
///
/// rkyv's validation errors print raw pointers (`ptr 0x000055e83829bb06`), which differ on
/// every run and would hand a remote peer the reader's address-space layout. Each number of
/// address size is rewritten: as an offset when it points into `input`, and withheld
/// otherwise.
///
/// rancor's `BoxedError` shows only the innermost error when displayed, and some failures
/// (the validator's depth limit) live only in the trace, so the trace entries are read from
/// the debug form and listed innermost first. A recursive type nested hundreds of levels deep
/// has a trace as long, so at most `MAX_TRACE_ENTRIES` entries are kept (the innermost,
/// which say what failed, and the outermost, which say where).
pub fn rkyv_message(err: &BoxedError, input: Option<&[u8]>) -> String {
    scrub_addresses(&raw_rkyv_message(err), input)
}

fn raw_rkyv_message(err: &BoxedError) -> String {
    let debug = format!("{err:?}");
    let traces = debug_traces(&debug);
    if traces.is_empty() {
        return err.to_string();
    }
    let mut message = format!("{err} (rkyv trace, innermost first: ");
    if traces.len() <= MAX_TRACE_ENTRIES {
        message.push_str(&traces.join("; "));
    } else {
        let head = MAX_TRACE_ENTRIES - 2;
        message.push_str(&traces[..head].join("; "));
        message.push_str(&format!(
            "; ... {} more ...; ",
            traces.len() - MAX_TRACE_ENTRIES
        ));
        message.push_str(&traces[traces.len() - 2..].join("; "));
    }
    message.push(')');
    message
}

/// Hexadecimal numbers at least this large are taken for addresses (rkyv prints pointers in
/// hex; the small hex numbers it prints are tags and bytes).
const MIN_ADDRESS: u64 = 0x1_0000;

/// `text` with every hexadecimal number that could be an address rewritten: `input offset N`
/// when it points into (or just past) `input`, `an address` otherwise.
fn scrub_addresses(text: &str, input: Option<&[u8]>) -> String {
    let range = input.map(|bytes| {
        let start = bytes.as_ptr() as u64;
        start..=start + bytes.len() as u64
    });
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("0x") {
        let (before, number) = rest.split_at(at);
        out.push_str(before);
        let digits = number[2..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(number.len() - 2);
        let hex = &number[2..2 + digits];
        match u64::from_str_radix(hex, 16) {
            Ok(value) if value >= MIN_ADDRESS || digits > 8 => match &range {
                Some(range) if range.contains(&value) => {
                    out.push_str(&format!("input offset {}", value - range.start()));
                }
                _ => out.push_str("an address"),
            },
            _ => out.push_str(&number[..2 + digits]),
        }
        rest = &number[2 + digits..];
    }
    out.push_str(rest);
    out
}

/// Most rkyv trace entries an error message lists.
const MAX_TRACE_ENTRIES: usize = 8;

/// The `trace: ...` entries of a rancor `BoxedError`'s debug form, innermost first (the
/// innermost error is nested deepest, and its trace is printed first).
fn debug_traces(debug: &str) -> Vec<&str> {
    const KEY: &str = "trace: ";
    let mut traces = Vec::new();
    let mut rest = debug;
    while let Some(at) = rest.find(KEY) {
        let entry = &rest[at + KEY.len()..];
        // The entry ends at the first `}` that closes something it did not open.
        let mut open = 0usize;
        let mut end = entry.len();
        for (i, c) in entry.char_indices() {
            match c {
                '{' => open += 1,
                '}' if open == 0 => {
                    end = i;
                    break;
                }
                '}' => open -= 1,
                _ => {}
            }
        }
        traces.push(entry[..end].trim_end());
        rest = &entry[end..];
    }
    traces
}

/// True if validation failed on the validator's nesting cap.
fn is_depth_error(err: &BoxedError) -> bool {
    format!("{err:?}").contains("ExceededMaximumSubtreeDepth")
}

/// An empty slice at an address aligned to [`ARCHIVE_ALIGN`].
///
/// The archive of a zero-sized type is empty, and an empty buffer's pointer is dangling, so
/// it need not be aligned: copying zero bytes into an unallocated buffer "re-aligns" nothing.
/// Empty input is read from here instead.
#[inline]
fn aligned_empty() -> &'static [u8] {
    #[repr(C, align(16))]
    struct AlignedEmpty([u8; 0]);
    const _: () = assert!(std::mem::align_of::<AlignedEmpty>() == ARCHIVE_ALIGN);
    static EMPTY: AlignedEmpty = AlignedEmpty([]);
    &EMPTY.0
}

/// Runs `f` on `bytes` re-aligned to [`ARCHIVE_ALIGN`]: in place when already aligned,
/// otherwise after one copy into a reused per-thread buffer.
pub fn with_aligned<R>(bytes: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    if is_aligned(bytes) {
        return f(bytes);
    }
    if bytes.is_empty() {
        return f(aligned_empty());
    }
    with_scratch(|scratch| {
        scratch.extend_from_slice(bytes);
        f(scratch)
    })
}

/// Validates `bytes` as the archive of a `T` and deserializes an owned `T`.
///
/// Unaligned input is copied once into an aligned per-thread buffer first.
///
/// # Errors
///
/// As [`access`] (except [`ErrorKind::Unaligned`]), plus [`ErrorKind::Corrupt`] when a field's
/// deserializer rejects its archived form.
pub fn deserialize<T: ZeroCopyDecode>(bytes: &[u8]) -> Result<T> {
    with_aligned(bytes, |aligned| {
        let archived = access::<T>(aligned)?;
        deserialize_archived::<T>(archived)
    })
}

/// Deserializes an owned `T` from an already validated archive.
///
/// # Errors
///
/// [`ErrorKind::Corrupt`] when a field's deserializer rejects its archived form (for example
/// an `AsJson` field whose text is not valid JSON).
pub fn deserialize_archived<T: ZeroCopyDecode>(archived: &T::Archived) -> Result<T> {
    rkyv::api::deserialize_using::<T, _, BoxedError>(archived, &mut rkyv::de::Pool::new())
        .map_err(|err| invalid_archive::<T>(err, None))
}

/// What an [`OwnedArchive`] owns besides its bytes: no `T` (`fn() -> T`), and shared access to
/// a `T::Archived`, so that it is `Send` and `Sync` only when the archived type may be shared
/// between threads (`Arc<T::Archived>` is both exactly when `T::Archived` is; see the type's
/// docs).
type Marker<T> = PhantomData<(fn() -> T, std::sync::Arc<<T as Archive>::Archived>)>;

/// Where an [`OwnedArchive`] keeps its bytes.
enum Storage {
    /// Shared bytes that were already aligned: no copy was made.
    Shared(Bytes),
    /// A buffer on loan from a [`BufferPool`], returned when the archive drops.
    Pooled(PooledBuf),
    /// No bytes (the archive of a zero-sized type), at an aligned address.
    Empty,
}

impl Storage {
    #[inline]
    fn as_slice(&self) -> &[u8] {
        match self {
            Storage::Shared(bytes) => bytes,
            Storage::Pooled(buf) => buf.as_slice(),
            Storage::Empty => aligned_empty(),
        }
    }
}

/// A validated archive of a `T` that owns its bytes and derefs to `T::Archived`.
///
/// Validation happens once, in the constructor; every later read is a plain pointer
/// dereference. Aligned `Bytes` are kept as they are (no copy); anything else is copied once
/// into an aligned buffer from a [`BufferPool`] ([`BufferPool::global`] unless you pass your
/// own), which goes back to the pool when the archive is dropped.
///
/// Archived types aligned to more than 16 bytes are refused at compile time: the buffers
/// zerocodec reads from are aligned to 16.
///
/// `OwnedArchive<T>` is `Send` and `Sync` exactly when `T::Archived` is both: clones of one
/// `Bytes` share their memory, so moving an archive to another thread can share
/// `&T::Archived` between threads (rkyv's archived types hold offsets, not pointers, and are
/// both unless they wrap a type that is not).
///
/// # Examples
///
/// ```
/// use zerocodec::OwnedArchive;
///
/// #[derive(rkyv::Archive, rkyv::Serialize)]
/// struct Point { x: u32, y: u32 }
///
/// let bytes = rkyv::to_bytes::<rkyv::rancor::BoxedError>(&Point { x: 1, y: 2 }).unwrap();
/// let owned = OwnedArchive::<Point>::from_slice(&bytes).unwrap();
/// assert_eq!(owned.y, 2);
/// ```
pub struct OwnedArchive<T: ZeroCopy> {
    storage: Storage,
    range: Range<usize>,
    _type: Marker<T>,
}

impl<T: ZeroCopy> OwnedArchive<T> {
    /// Validates `bytes`, keeping them without a copy when they are aligned and copying them
    /// once into a buffer from [`BufferPool::global`] otherwise.
    ///
    /// # Errors
    ///
    /// As [`access`](crate::archive::access), except that unaligned input is copied rather
    /// than rejected.
    pub fn from_bytes(bytes: Bytes) -> Result<Self> {
        Self::from_bytes_in(bytes, DEFAULT_MAX_DEPTH, BufferPool::global())
    }

    /// [`from_bytes`](Self::from_bytes) with a validation nesting cap, copying unaligned
    /// input into a buffer from `pool`.
    ///
    /// # Errors
    ///
    /// As [`access_with_depth`], except that unaligned input is copied rather than rejected.
    pub fn from_bytes_in(bytes: Bytes, max_depth: usize, pool: &BufferPool) -> Result<Self> {
        let len = bytes.len();
        if is_aligned(&bytes) {
            Self::new(Storage::Shared(bytes), 0..len, max_depth)
        } else {
            Self::from_slice_in(&bytes, max_depth, pool)
        }
    }

    /// Copies `bytes` once into an aligned buffer from [`BufferPool::global`] and validates
    /// it.
    ///
    /// # Errors
    ///
    /// As [`access`](crate::archive::access), except that unaligned input is copied rather
    /// than rejected.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        Self::from_slice_in(bytes, DEFAULT_MAX_DEPTH, BufferPool::global())
    }

    /// [`from_slice`](Self::from_slice) with a validation nesting cap, copying into a buffer
    /// from `pool`: the one copy [`from_bytes_in`](Self::from_bytes_in) makes of unaligned
    /// input, for a caller that holds the bytes only as a slice (or would make a `Bytes`
    /// handle only to drop it).
    ///
    /// # Errors
    ///
    /// As [`access_with_depth`].
    pub fn from_slice_in(bytes: &[u8], max_depth: usize, pool: &BufferPool) -> Result<Self> {
        let mut buf = pool.take();
        buf.extend_from_slice(bytes);
        Self::from_pooled(buf, max_depth)
    }

    /// Validates a pooled buffer (from any pool) with the nesting cap `max_depth` and keeps
    /// it; it returns to its pool when the archive is dropped.
    ///
    /// # Errors
    ///
    /// As [`access_with_depth`].
    pub fn from_pooled(buf: PooledBuf, max_depth: usize) -> Result<Self> {
        let len = buf.len();
        Self::new(Storage::Pooled(buf), 0..len, max_depth)
    }

    fn new(storage: Storage, range: Range<usize>, max_depth: usize) -> Result<Self> {
        const {
            assert!(
                align_of::<T::Archived>() <= ARCHIVE_ALIGN,
                "OwnedArchive holds archives in 16-byte aligned buffers: this archived type \
                 needs more"
            );
        }
        let Some(slice) = storage.as_slice().get(range.clone()) else {
            return Err(out_of_range(&range, storage.as_slice().len()));
        };
        if slice.is_empty() && !is_aligned(slice) {
            // An empty range of an empty buffer sits at its dangling pointer.
            return Self::new(Storage::Empty, 0..0, max_depth);
        }
        access_with_depth::<T>(slice, max_depth)?;
        Ok(Self {
            storage,
            range,
            _type: PhantomData,
        })
    }

    /// The archive's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        // The range was checked in `new`.
        &self.storage.as_slice()[self.range.clone()]
    }

    /// True if the archive shares the caller's `Bytes` rather than owning a copy.
    pub fn is_shared(&self) -> bool {
        matches!(self.storage, Storage::Shared(_))
    }

    /// Deserializes an owned `T`.
    ///
    /// # Errors
    ///
    /// As [`deserialize_archived`].
    pub fn deserialize(&self) -> Result<T>
    where
        T: ZeroCopyDecode,
    {
        deserialize_archived::<T>(self)
    }
}

#[cold]
fn out_of_range(range: &Range<usize>, len: usize) -> Error {
    Error::incomplete(
        &format!("archive at {}..{}", range.start, range.end),
        range.end,
        len,
    )
}

impl<T: ZeroCopy> Deref for OwnedArchive<T> {
    type Target = T::Archived;

    #[inline]
    fn deref(&self) -> &T::Archived {
        // SAFETY: `new` validated exactly these bytes as a `T::Archived` with bytecheck (which
        // also checked their alignment), and nothing mutates them afterwards: `Bytes` is
        // immutable and the `PooledBuf` is never exposed mutably. Their heap allocation does
        // not move when `self` moves.
        unsafe { rkyv::access_unchecked::<T::Archived>(self.as_bytes()) }
    }
}

impl<T: ZeroCopy> fmt::Debug for OwnedArchive<T>
where
    T::Archived: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ZeroCopy> Clone for OwnedArchive<T> {
    fn clone(&self) -> Self {
        let storage = match &self.storage {
            // A copy of nothing is an empty, unallocated buffer whose pointer is dangling.
            _ if self.range.is_empty() => {
                return Self {
                    storage: Storage::Empty,
                    range: 0..0,
                    _type: PhantomData,
                };
            }
            Storage::Empty => Storage::Empty,
            Storage::Shared(bytes) => Storage::Shared(bytes.clone()),
            // A pooled buffer is 16-byte aligned, and so is the copy's; `new` refused archived
            // types aligned above 16, so the copy is as valid as the original.
            Storage::Pooled(buf) => {
                let mut copy = buf.pool().take();
                copy.extend_from_slice(buf.as_slice());
                Storage::Pooled(copy)
            }
        };
        Self {
            storage,
            range: self.range.clone(),
            _type: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_offsets_into_the_input_or_are_withheld() {
        let input = [0u8; 64];
        let base = input.as_ptr() as u64;
        let text = format!(
            "subtree pointer overran range: ptr {:#018x} size 8, range {:#x}..{:#x}, tag 0x1f, \
             elsewhere {:#x}",
            base + 40,
            base,
            base + 64,
            0x7fff_1234_5678_u64
        );
        assert_eq!(
            scrub_addresses(&text, Some(&input)),
            "subtree pointer overran range: ptr input offset 40 size 8, range input offset \
             0..input offset 64, tag 0x1f, elsewhere an address"
        );
        assert_eq!(
            scrub_addresses("at 0x55e83829bb06 and 0xdead", None),
            "at an address and 0xdead"
        );
        assert_eq!(scrub_addresses("0x", None), "0x");
        assert_eq!(scrub_addresses("no numbers", None), "no numbers");
    }
}
