//! [`Batch`]: many rkyv archives of one type in one aligned byte string, O(1) `get(i)`.

use std::fmt;
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::ops::Range;

use zerocodec::archive::{DEFAULT_MAX_DEPTH, access_with_depth, deserialize_archived, is_aligned};
use zerocodec::bytes::Bytes;
use zerocodec::{
    ARCHIVE_ALIGN, BufferPool, EncodeBuf, Error, ErrorKind, PooledBuf, Result, ZeroCopy,
    ZeroCopyDecode,
};

use crate::rkyv::{ZeroCopyEncode, serialize};
use crate::upgrade::OlderVersion;

/// The first four bytes of every batch.
pub const BATCH_MAGIC: [u8; 4] = *b"ZCBA";
/// The batch format version this crate writes and reads.
pub const BATCH_VERSION: u8 = 1;
/// Length of the batch header, in bytes (also the offset of the first message).
pub const BATCH_HEADER_LEN: usize = 16;
/// Length of one index entry, in bytes.
pub const BATCH_INDEX_ENTRY_LEN: usize = 8;
/// The largest batch, in bytes (offsets are `u32`).
pub const MAX_BATCH_LEN: usize = u32::MAX as usize;

/// Appends messages of type `T` into one batch.
///
/// The messages go into one pooled buffer and their index entries into a second one, so a
/// warm builder appends without allocating. The index is copied after the messages when the
/// batch is finished.
pub struct BatchBuilder<T> {
    data: PooledBuf,
    index: PooledBuf,
    count: usize,
    _type: PhantomData<fn() -> T>,
}

impl<T: ZeroCopyEncode> BatchBuilder<T> {
    /// An empty builder with buffers from [`BufferPool::global`].
    pub fn new() -> Self {
        Self::with_pool(BufferPool::global())
    }

    /// An empty builder with buffers from `pool`.
    pub fn with_pool(pool: &BufferPool) -> Self {
        let mut data = pool.take();
        data.resize_zeroed(BATCH_HEADER_LEN);
        Self {
            data,
            index: pool.take(),
            count: 0,
            _type: PhantomData,
        }
    }

    /// Number of messages appended.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if no message has been appended.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The length, in bytes, the batch would have if finished now.
    pub fn batch_len(&self) -> usize {
        self.data.len() + self.index.len()
    }

    /// Appends `value` at the next 16-byte boundary and returns its position in the batch.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`] if rkyv cannot serialize `value`; [`ErrorKind::TooLarge`] if the
    /// batch would exceed [`MAX_BATCH_LEN`]. The builder is unchanged on error.
    pub fn append(&mut self, value: &T) -> Result<usize> {
        let before = self.data.len();
        let offset = before.next_multiple_of(ARCHIVE_ALIGN);
        self.data.resize_zeroed(offset);
        let len = match serialize(value, &mut self.data) {
            Ok(len) => len,
            Err(err) => {
                self.data.truncate(before);
                return Err(err);
            }
        };
        let total = self.data.len() + self.index.len() + BATCH_INDEX_ENTRY_LEN;
        if total > MAX_BATCH_LEN {
            self.data.truncate(before);
            return Err(Error::too_large(
                "batch",
                total as u64,
                MAX_BATCH_LEN as u64,
            ));
        }
        // Both fit in u32: they are below `total`, checked above.
        self.index.extend_from_slice(&(offset as u32).to_le_bytes());
        self.index.extend_from_slice(&(len as u32).to_le_bytes());
        self.count += 1;
        Ok(self.count - 1)
    }

    /// Removes every message, keeping the buffers (and their capacity) for the next batch.
    pub fn clear(&mut self) {
        self.data.truncate(BATCH_HEADER_LEN);
        self.index.clear();
        self.count = 0;
    }

    /// Writes the index and the header and returns the batch as one aligned `Bytes`, without
    /// a copy and without validating it (a reader validates when it opens it).
    pub fn into_bytes(self) -> Bytes {
        self.seal().into_bytes()
    }

    /// Writes the index and the header and opens the result for reading, validating it once.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Corrupt`] if a message does not validate as a `T` (possible only with a
    /// hand-written `Serialize` impl that writes an invalid archive).
    pub fn finish(self) -> Result<Batch<T>> {
        Batch::from_pooled(self.seal())
    }

    fn seal(self) -> PooledBuf {
        let Self {
            mut data,
            index,
            count,
            ..
        } = self;
        let index_at = data.len();
        data.extend_from_slice(&index);
        let header = &mut data.as_mut_slice()[..BATCH_HEADER_LEN];
        header[0..4].copy_from_slice(&BATCH_MAGIC);
        header[4] = BATCH_VERSION;
        header[5..8].fill(0);
        // `append` kept the whole batch, and so both numbers, within u32.
        header[8..12].copy_from_slice(&(count as u32).to_le_bytes());
        header[12..16].copy_from_slice(&(index_at as u32).to_le_bytes());
        data
    }
}

impl<T: ZeroCopyEncode> Default for BatchBuilder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for BatchBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchBuilder")
            .field("len", &self.count)
            .field("bytes", &(self.data.len() + self.index.len()))
            .finish()
    }
}

/// Where a validated batch's header says its index is.
#[derive(Debug, Clone, Copy)]
struct Layout {
    count: usize,
    index: usize,
}

#[inline]
fn read_u32(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
}

impl Layout {
    /// The byte range of message `i`. `i < count` and a validated layout keep it in bounds.
    #[inline]
    fn range(&self, bytes: &[u8], i: usize) -> Range<usize> {
        let at = self.index + i * BATCH_INDEX_ENTRY_LEN;
        let offset = read_u32(bytes, at);
        offset..offset + read_u32(bytes, at + 4)
    }

    /// Checks the header, the index and every message of `bytes`: the one validation pass.
    fn validate<T: ZeroCopy>(bytes: &[u8], max_depth: usize) -> Result<Layout> {
        Self::validate_with(bytes, |message| {
            access_with_depth::<T>(message, max_depth).map(drop)
        })
    }

    /// Checks the header and the index of `bytes`, and runs `check` on every message's bytes
    /// in order (its error names the message).
    fn validate_with(bytes: &[u8], mut check: impl FnMut(&[u8]) -> Result<()>) -> Result<Layout> {
        let Some(header) = bytes.get(..BATCH_HEADER_LEN) else {
            return Err(Error::incomplete(
                "batch header",
                BATCH_HEADER_LEN,
                bytes.len(),
            ));
        };
        if header[0..4] != BATCH_MAGIC {
            return Err(Error::corrupt(format!(
                "batch: expected magic \"ZCBA\", found {:?}",
                header[0..4].escape_ascii().to_string()
            )));
        }
        if header[4] != BATCH_VERSION {
            return Err(Error::new(
                ErrorKind::UnknownVersion,
                format!(
                    "batch format version {} is unknown: this reader handles version \
                     {BATCH_VERSION}",
                    header[4]
                ),
            ));
        }
        if header[5..8] != [0, 0, 0] {
            return Err(Error::corrupt(format!(
                "batch: flags and reserved bytes must be 0, found {:02x?}",
                &header[5..8]
            )));
        }
        let count = read_u32(header, 8);
        let index = read_u32(header, 12);
        if index < BATCH_HEADER_LEN {
            return Err(Error::corrupt(format!(
                "batch: expected the index at or after offset {BATCH_HEADER_LEN}, found it at \
                 {index}, inside the header"
            )));
        }
        // Both are below 2^32, so this cannot overflow a u64.
        let expected = index as u64 + count as u64 * BATCH_INDEX_ENTRY_LEN as u64;
        let found = bytes.len() as u64;
        if found < expected {
            return Err(Error::new(
                ErrorKind::Incomplete,
                format!(
                    "batch of {count} messages with its index at {index}: expected {expected} \
                     bytes, found {found}"
                ),
            ));
        }
        if found > expected {
            return Err(Error::corrupt(format!(
                "batch of {count} messages with its index at {index}: expected {expected} \
                 bytes, found {found} (trailing bytes after the index)"
            )));
        }
        let layout = Layout { count, index };
        let mut prev_end = BATCH_HEADER_LEN;
        for i in 0..count {
            let at = index + i * BATCH_INDEX_ENTRY_LEN;
            let offset = read_u32(bytes, at);
            let len = read_u32(bytes, at + 4);
            if offset % ARCHIVE_ALIGN != 0 {
                return Err(Error::corrupt(format!(
                    "batch index entry {i}: expected a message offset that is a multiple of \
                     {ARCHIVE_ALIGN}, found {offset}"
                )));
            }
            if offset < prev_end {
                return Err(Error::corrupt(if i == 0 {
                    format!(
                        "batch index entry 0: expected a message at or after offset \
                         {BATCH_HEADER_LEN}, found {offset}, inside the header"
                    )
                } else {
                    format!(
                        "batch index entry {i}: expected a message at or after offset \
                         {prev_end}, where message {} ends, found {offset} (overlapping or out \
                         of order)",
                        i - 1
                    )
                }));
            }
            // Checked: on 32-bit targets two u32 offsets can overflow a usize.
            let end = offset.checked_add(len).filter(|&end| end <= index);
            let Some(end) = end else {
                return Err(Error::corrupt(format!(
                    "batch index entry {i}: expected a message ending by offset {index}, where \
                     the index starts, found {offset}+{len} bytes, past it"
                )));
            };
            check(&bytes[offset..end]).map_err(|err| invalid_message(i, err))?;
            prev_end = end;
        }
        Ok(layout)
    }
}

#[cold]
fn invalid_message(i: usize, err: Error) -> Error {
    Error::corrupt(format!("batch message {i}: {}", err.message())).with_source(err)
}

#[cold]
fn out_of_range(i: usize, len: usize) -> Error {
    Error::new(
        ErrorKind::OutOfRange,
        format!("batch index {i} is out of range: expected an index below {len}"),
    )
}

/// A validated batch borrowed from a byte slice.
///
/// Built only by [`open`](BatchRef::open), which validates everything once; every read after
/// that is O(1) and re-validates nothing.
pub struct BatchRef<'a, T> {
    bytes: &'a [u8],
    layout: Layout,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for BatchRef<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for BatchRef<'_, T> {}

impl<'a, T: ZeroCopy> BatchRef<'a, T> {
    /// Validates `bytes` as a batch of `T` (header, index, and every message) and borrows it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unaligned`] if `bytes` (at least a header long) does not start on a
    /// 16-byte boundary (use [`Batch::open`], which copies once); otherwise as described in
    /// the [`Batch`] docs: `Incomplete`, `UnknownVersion` or `Corrupt`.
    pub fn open(bytes: &'a [u8]) -> Result<Self> {
        Self::open_with_depth(bytes, DEFAULT_MAX_DEPTH)
    }

    /// [`open`](BatchRef::open) with an explicit validation nesting cap for each message.
    ///
    /// # Errors
    ///
    /// As [`open`](BatchRef::open).
    pub fn open_with_depth(bytes: &'a [u8], max_depth: usize) -> Result<Self> {
        // Input too short for a header is reported as incomplete (by `validate`) whatever
        // its address: an empty slice's dangling pointer says nothing about alignment.
        if bytes.len() >= BATCH_HEADER_LEN && !is_aligned(bytes) {
            return Err(unaligned(bytes));
        }
        let layout = Layout::validate::<T>(bytes, max_depth)?;
        Ok(Self {
            bytes,
            layout,
            _type: PhantomData,
        })
    }

    /// Number of messages.
    #[inline]
    pub fn len(&self) -> usize {
        self.layout.count
    }

    /// True if the batch holds no message.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.layout.count == 0
    }

    /// The whole batch, header and index included.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The archived view of message `i`, in O(1), without re-validating it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::OutOfRange`] if `i >= len()`.
    #[inline]
    pub fn get(&self, i: usize) -> Result<&'a T::Archived> {
        if i >= self.layout.count {
            return Err(out_of_range(i, self.layout.count));
        }
        Ok(self.archived(i))
    }

    /// The checked twin of [`get`](BatchRef::get): re-validates message `i` before returning
    /// it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::OutOfRange`] if `i >= len()`; [`ErrorKind::Corrupt`] if the message no
    /// longer validates (impossible for a batch opened by this crate).
    pub fn get_validated(&self, i: usize) -> Result<&'a T::Archived> {
        let bytes = self.message_bytes(i)?;
        access_with_depth::<T>(bytes, DEFAULT_MAX_DEPTH).map_err(|err| invalid_message(i, err))
    }

    /// The archive bytes of message `i`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::OutOfRange`] if `i >= len()`.
    pub fn message_bytes(&self, i: usize) -> Result<&'a [u8]> {
        if i >= self.layout.count {
            return Err(out_of_range(i, self.layout.count));
        }
        Ok(&self.bytes[self.layout.range(self.bytes, i)])
    }

    /// Deserializes message `i` into an owned `T`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::OutOfRange`] if `i >= len()`; otherwise as
    /// [`deserialize_archived`].
    pub fn deserialize(&self, i: usize) -> Result<T>
    where
        T: ZeroCopyDecode,
    {
        deserialize_archived::<T>(self.get(i)?)
    }

    /// Iterates over the archived messages in order.
    pub fn iter(&self) -> BatchIter<'a, T> {
        BatchIter {
            batch: *self,
            front: 0,
            back: self.layout.count,
        }
    }

    /// Message `i`, which the caller has checked is below `len()`.
    #[inline]
    fn archived(&self, i: usize) -> &'a T::Archived {
        debug_assert!(i < self.layout.count);
        let bytes = &self.bytes[self.layout.range(self.bytes, i)];
        // SAFETY: a `BatchRef` is only constructed by `open_with_depth` (or by `Batch::view`
        // over bytes that went through it), which ran `Layout::validate`: that validated
        // exactly this range (read from the same index entry of the same bytes) as a
        // `T::Archived` with bytecheck, alignment included. The bytes are borrowed immutably
        // for `'a`, so they are unchanged and unmoved since, and `T` is fixed by the type.
        unsafe { rkyv::access_unchecked::<T::Archived>(bytes) }
    }
}

#[cold]
fn unaligned(bytes: &[u8]) -> Error {
    Error::new(
        ErrorKind::Unaligned,
        format!(
            "a borrowed batch must be aligned to {ARCHIVE_ALIGN} bytes, found an address {} \
             bytes past a boundary; open it with Batch::open, which copies once",
            bytes.as_ptr() as usize % ARCHIVE_ALIGN
        ),
    )
}

impl<T> fmt::Debug for BatchRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchRef")
            .field("len", &self.layout.count)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl<'a, T: ZeroCopy> IntoIterator for BatchRef<'a, T>
where
    T::Archived: 'a,
{
    type Item = &'a T::Archived;
    type IntoIter = BatchIter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over a batch's archived messages, from [`BatchRef::iter`] or [`Batch::iter`].
pub struct BatchIter<'a, T> {
    batch: BatchRef<'a, T>,
    front: usize,
    back: usize,
}

impl<'a, T: ZeroCopy> Iterator for BatchIter<'a, T>
where
    T::Archived: 'a,
{
    type Item = &'a T::Archived;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.front == self.back {
            return None;
        }
        let item = self.batch.archived(self.front);
        self.front += 1;
        Some(item)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl<'a, T: ZeroCopy> DoubleEndedIterator for BatchIter<'a, T>
where
    T::Archived: 'a,
{
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(self.batch.archived(self.back))
    }
}

impl<'a, T: ZeroCopy> ExactSizeIterator for BatchIter<'a, T> where T::Archived: 'a {}
impl<'a, T: ZeroCopy> FusedIterator for BatchIter<'a, T> where T::Archived: 'a {}

impl<T> fmt::Debug for BatchIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchIter")
            .field("remaining", &(self.back - self.front))
            .finish()
    }
}

/// Where a [`Batch`] keeps its bytes.
enum Storage {
    /// Shared, already aligned bytes: no copy was made.
    Shared(Bytes),
    /// A pooled buffer: built here, decompressed into, or an aligned copy of unaligned input.
    Pooled(PooledBuf),
}

impl Storage {
    #[inline]
    fn as_slice(&self) -> &[u8] {
        match self {
            Storage::Shared(bytes) => bytes,
            Storage::Pooled(buf) => buf.as_slice(),
        }
    }
}

/// A validated batch that owns its bytes (shared `Bytes` or a pooled buffer): many rkyv
/// archives of one type in one contiguous, aligned byte string with an offset index, read in
/// O(1) per message after one validation pass.
///
/// The owned form of [`BatchRef`], for batches that outlive the read: validated once when
/// opened, then O(1) reads through [`view`](Batch::view) or the forwarding methods.
///
/// A batch is what a log segment or a queue stores: a [`BatchBuilder`] appends messages,
/// [`BatchRef::open`] / [`Batch::open`] validate the whole batch once (header, index, and
/// every message), and from then on [`get`](BatchRef::get) is a bounds check, two index
/// reads and a pointer cast.
///
/// # Layout
///
/// All integers are little-endian. Offsets are relative to the first byte of the batch.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic, [`BATCH_MAGIC`] (`"ZCBA"`) |
/// | 4 | 1 | format version, [`BATCH_VERSION`] (1) |
/// | 5 | 1 | flags; none are defined, all bits must be 0 |
/// | 6 | 2 | reserved, must be 0 |
/// | 8 | 4 | `count`: number of messages |
/// | 12 | 4 | `index`: offset of the index |
/// | 16 | .. | the messages: message *i* is the rkyv archive of a `T` at `offset_i .. offset_i + len_i`, `offset_i` a multiple of 16; the builder pads with zeros between messages |
/// | `index` | 8 × `count` | the index: for each message in order, `offset_i` (u32) then `len_i` (u32) |
///
/// The batch ends exactly at `index + 8 × count`. A reader requires, for every entry *i*:
/// `offset_i % 16 == 0`, `offset_i >= 16`, `offset_i >= offset_{i-1} + len_{i-1}` (no overlap,
/// in order) and `offset_i + len_i <= index`; then it validates each message as a `T` with
/// bytecheck, confined to its own range. Anything else is a typed [`Error`]:
/// [`ErrorKind::Incomplete`] for a batch cut short (including an index that lies past the end),
/// [`ErrorKind::UnknownVersion`] for another version, [`ErrorKind::Corrupt`] for the rest.
/// Offsets are `u32`, so a batch is at most [`MAX_BATCH_LEN`] bytes.
///
/// Messages are 16-aligned relative to the batch, so when the batch itself starts at a
/// 16-byte aligned address (a pooled buffer, the `Bytes` a pooled encode returns, or the
/// payload of a frame whose header keeps payloads aligned) every message is read in place.
///
/// # Framing and compression
///
/// A batch is one byte string: [`BatchBuilder::into_bytes`] or [`Batch::into_bytes`] hand it
/// over without a copy. [`BatchCodec`](crate::BatchCodec) writes it as the payload of one
/// frame (with the message type's fingerprint and, optionally, a CRC-32C over the whole
/// batch), compressed as a unit when it is given a [`Compression`](crate::Compression), with
/// the algorithm recorded in the frame header; reading decompresses into a [`PooledBuf`]
/// (aligned) and validates once.
///
/// # Examples
///
/// ```
/// use zerocodec_codecs::{Batch, BatchBuilder};
///
/// #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
/// struct Event { seq: u64, name: String }
///
/// let mut builder = BatchBuilder::<Event>::new();
/// for seq in 0..3 {
///     builder.append(&Event { seq, name: format!("event {seq}") })?;
/// }
/// let bytes = builder.into_bytes(); // one contiguous, aligned byte string
///
/// let batch = Batch::<Event>::open(bytes)?; // validates everything, once
/// assert_eq!(batch.len(), 3);
/// assert_eq!(batch.get(1)?.name, "event 1"); // O(1), no re-validation
/// assert_eq!(batch.iter().map(|e| e.seq.to_native()).sum::<u64>(), 3);
/// assert!(batch.get(3).is_err());
/// # Ok::<(), zerocodec::Error>(())
/// ```
///
/// # `unsafe`
///
/// [`BatchRef::get`] and the iterators read messages with `rkyv::access_unchecked`. That is
/// sound because a [`BatchRef`] or [`Batch`] can only be built by validating every message's
/// exact byte range as a `T::Archived`, and those bytes are immutable afterwards (a shared
/// borrow, immutable `Bytes`, or a pooled buffer the batch never exposes mutably).
/// [`BatchRef::get_validated`] is the checked twin, which re-runs bytecheck.
pub struct Batch<T> {
    storage: Storage,
    layout: Layout,
    _type: PhantomData<fn() -> T>,
}

impl<T: ZeroCopy> Batch<T> {
    /// Validates `bytes` as a batch of `T`, keeping them without a copy when they are
    /// aligned, otherwise copying them once into a buffer from [`BufferPool::global`].
    ///
    /// # Errors
    ///
    /// As [`BatchRef::open`], except that unaligned input is copied rather than rejected.
    pub fn open(bytes: Bytes) -> Result<Self> {
        if is_aligned(&bytes) {
            Self::new(Storage::Shared(bytes))
        } else {
            let mut buf = BufferPool::global().take();
            buf.extend_from_slice(&bytes);
            Self::new(Storage::Pooled(buf))
        }
    }

    /// Validates a pooled buffer as a batch of `T` and keeps it; it returns to its pool when
    /// the batch is dropped.
    ///
    /// # Errors
    ///
    /// As [`BatchRef::open`] (a pooled buffer is always aligned).
    pub fn from_pooled(buf: PooledBuf) -> Result<Self> {
        Self::new(Storage::Pooled(buf))
    }

    /// [`from_pooled`](Self::from_pooled) with an explicit nesting cap for each message.
    ///
    /// # Errors
    ///
    /// As [`BatchRef::open_with_depth`].
    pub fn from_pooled_with_depth(buf: PooledBuf, max_depth: usize) -> Result<Self> {
        Self::new_with_depth(Storage::Pooled(buf), max_depth)
    }

    fn new(storage: Storage) -> Result<Self> {
        Self::new_with_depth(storage, DEFAULT_MAX_DEPTH)
    }

    fn new_with_depth(storage: Storage, max_depth: usize) -> Result<Self> {
        let layout = BatchRef::<T>::open_with_depth(storage.as_slice(), max_depth)?.layout;
        Ok(Self {
            storage,
            layout,
            _type: PhantomData,
        })
    }

    /// The borrowed view of this batch.
    #[inline]
    pub fn view(&self) -> BatchRef<'_, T> {
        BatchRef {
            bytes: self.storage.as_slice(),
            layout: self.layout,
            _type: PhantomData,
        }
    }

    /// Number of messages.
    #[inline]
    pub fn len(&self) -> usize {
        self.layout.count
    }

    /// True if the batch holds no message.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.layout.count == 0
    }

    /// The whole batch, header and index included.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.storage.as_slice()
    }

    /// The archived view of message `i`, in O(1), without re-validating it.
    ///
    /// # Errors
    ///
    /// As [`BatchRef::get`].
    #[inline]
    pub fn get(&self, i: usize) -> Result<&T::Archived> {
        self.view().get(i)
    }

    /// Re-validates message `i` and returns it.
    ///
    /// # Errors
    ///
    /// As [`BatchRef::get_validated`].
    pub fn get_validated(&self, i: usize) -> Result<&T::Archived> {
        self.view().get_validated(i)
    }

    /// Deserializes message `i` into an owned `T`.
    ///
    /// # Errors
    ///
    /// As [`BatchRef::deserialize`].
    pub fn deserialize(&self, i: usize) -> Result<T>
    where
        T: ZeroCopyDecode,
    {
        self.view().deserialize(i)
    }

    /// Iterates over the archived messages in order.
    pub fn iter(&self) -> BatchIter<'_, T> {
        self.view().iter()
    }

    /// True if the batch shares the caller's `Bytes` rather than holding a pooled buffer.
    pub fn is_shared(&self) -> bool {
        matches!(self.storage, Storage::Shared(_))
    }

    /// The whole batch as `Bytes`, without a copy (a pooled buffer returns to its pool when
    /// the last clone drops).
    pub fn into_bytes(self) -> Bytes {
        match self.storage {
            Storage::Shared(bytes) => bytes,
            Storage::Pooled(buf) => buf.into_bytes(),
        }
    }
}

impl<'a, T: ZeroCopy> IntoIterator for &'a Batch<T>
where
    T::Archived: 'a,
{
    type Item = &'a T::Archived;
    type IntoIter = BatchIter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> fmt::Debug for Batch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("len", &self.layout.count)
            .field("bytes", &self.storage.as_slice().len())
            .finish()
    }
}

/// The batch of `T` that a batch of an older version becomes: every message validated and
/// decoded as the older version, upgraded, and appended to a new batch built in `pool`.
pub(crate) fn upgrade_batch<T: ZeroCopyEncode>(
    bytes: &[u8],
    older: &OlderVersion<T>,
    max_depth: usize,
    pool: &BufferPool,
) -> Result<Batch<T>> {
    let mut builder = BatchBuilder::<T>::with_pool(pool);
    Layout::validate_with(bytes, |message| {
        let value = (older.rkyv)(message, max_depth)?;
        builder.append(&value).map(drop)
    })?;
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Batch<String>>();
        assert_send_sync::<BatchRef<'static, String>>();
        assert_send_sync::<BatchBuilder<String>>();
        assert_send_sync::<BatchIter<'static, String>>();
    }

    #[test]
    fn empty_batch_is_just_a_header() {
        let batch = BatchBuilder::<u32>::new().finish().unwrap();
        assert!(batch.is_empty());
        assert_eq!(batch.as_bytes(), b"ZCBA\x01\0\0\0\0\0\0\0\x10\0\0\0");
        assert!(batch.get(0).unwrap_err().is_out_of_range());
        assert_eq!(batch.iter().count(), 0);
    }

    #[test]
    fn clear_keeps_the_builder_usable() {
        let mut builder = BatchBuilder::<u64>::new();
        builder.append(&1).unwrap();
        builder.clear();
        assert!(builder.is_empty());
        assert_eq!(builder.batch_len(), BATCH_HEADER_LEN);
        builder.append(&2).unwrap();
        let batch = builder.finish().unwrap();
        assert_eq!(batch.len(), 1);
        assert_eq!(*batch.get(0).unwrap(), 2);
    }
}
