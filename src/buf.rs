//! [`EncodeBuf`]: the growable byte buffers a codec can append an encoding to.
//!
//! Codecs write into whatever buffer the caller already has: a `Vec<u8>`, a `bytes::BytesMut`
//! handed over by a transport, an rkyv [`AlignedVec`], or a pooled buffer. Only appends are
//! allowed, plus rewriting bytes this encode appended (to patch a header once the payload
//! length is known) and truncating back to where the encode started (on failure).

use std::cell::RefCell;

use bytes::BytesMut;
use rkyv::util::AlignedVec;

use crate::archive::{ZeroCopyEncode, serialize_into, serialize_into_vec};
use crate::error::Result;

/// Alignment, in bytes, that zero-copy (rkyv) payloads need for in-place access.
pub const ARCHIVE_ALIGN: usize = 16;

/// A growable byte buffer a codec appends to.
///
/// # Contract
///
/// Implementations behave like `Vec<u8>`: `len` counts initialized bytes, `extend_from_slice`
/// appends, `truncate` never grows, `reserve` makes room for at least `additional` more bytes
/// without changing `len`. None of them may reorder or alter bytes below `len`, except through
/// [`as_mut_slice`](EncodeBuf::as_mut_slice).
pub trait EncodeBuf {
    /// Number of bytes in the buffer.
    fn len(&self) -> usize;
    /// True if the buffer holds no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Appends `bytes`.
    fn extend_from_slice(&mut self, bytes: &[u8]);
    /// Reserves room for at least `additional` more bytes.
    fn reserve(&mut self, additional: usize);
    /// Shortens the buffer to `len` bytes; no effect if it is already shorter.
    fn truncate(&mut self, len: usize);
    /// Grows the buffer to `new_len` bytes, filling with zeros (no effect if already longer).
    fn resize_zeroed(&mut self, new_len: usize) {
        let len = self.len();
        if new_len > len {
            self.reserve(new_len - len);
            const ZEROS: [u8; 64] = [0; 64];
            let mut left = new_len - len;
            while left > 0 {
                let n = left.min(ZEROS.len());
                self.extend_from_slice(&ZEROS[..n]);
                left -= n;
            }
        }
    }
    /// The bytes written so far.
    fn as_slice(&self) -> &[u8];
    /// The bytes written so far, mutably (to patch a header in place).
    fn as_mut_slice(&mut self) -> &mut [u8];

    /// Appends the rkyv archive of `value`, laid out relative to the current end of the
    /// buffer, and returns its length.
    ///
    /// The buffers zerocodec knows (`Vec<u8>`, `BytesMut`, `AlignedVec`, pooled buffers)
    /// serialize straight into themselves. The default, for other buffer types, serializes
    /// into a reused per-thread buffer and copies once.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`](crate::ErrorKind::Encode) if serialization fails; the buffer is
    /// left as it was.
    fn append_archive<T: ZeroCopyEncode>(&mut self, value: &T) -> Result<usize> {
        thread_local! {
            static SCRATCH: RefCell<AlignedVec> = RefCell::new(AlignedVec::new());
        }
        SCRATCH.with(|cell| {
            let mut fresh = AlignedVec::new();
            let mut borrowed = cell.try_borrow_mut();
            let scratch = match &mut borrowed {
                Ok(scratch) => &mut **scratch,
                Err(_) => &mut fresh,
            };
            scratch.clear();
            let len = serialize_into(value, scratch)?;
            self.extend_from_slice(scratch);
            Ok(len)
        })
    }
}

macro_rules! append_archive_in_place {
    () => {
        #[inline]
        fn append_archive<T: ZeroCopyEncode>(&mut self, value: &T) -> Result<usize> {
            serialize_into(value, self)
        }
    };
}

/// `EncodeBuf` for a `Vec`-like type whose inherent methods have the same names.
macro_rules! encode_buf_for_vec_like {
    ($ty:ty) => {
        impl EncodeBuf for $ty {
            #[inline]
            fn len(&self) -> usize {
                <$ty>::len(self)
            }
            #[inline]
            fn extend_from_slice(&mut self, bytes: &[u8]) {
                <$ty>::extend_from_slice(self, bytes);
            }
            #[inline]
            fn reserve(&mut self, additional: usize) {
                <$ty>::reserve(self, additional);
            }
            #[inline]
            fn truncate(&mut self, len: usize) {
                <$ty>::truncate(self, len);
            }
            #[inline]
            fn resize_zeroed(&mut self, new_len: usize) {
                if new_len > self.len() {
                    self.resize(new_len, 0);
                }
            }
            #[inline]
            fn as_slice(&self) -> &[u8] {
                self
            }
            #[inline]
            fn as_mut_slice(&mut self) -> &mut [u8] {
                self
            }
            append_archive_in_place!();
        }
    };
}

encode_buf_for_vec_like!(Vec<u8>);
encode_buf_for_vec_like!(BytesMut);

impl EncodeBuf for AlignedVec {
    #[inline]
    fn len(&self) -> usize {
        AlignedVec::len(self)
    }
    #[inline]
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        AlignedVec::extend_from_slice(self, bytes);
    }
    #[inline]
    fn reserve(&mut self, additional: usize) {
        AlignedVec::reserve(self, additional);
    }
    #[inline]
    fn truncate(&mut self, len: usize) {
        if len < AlignedVec::len(self) {
            // `resize` to a shorter length only moves the length down.
            self.resize(len, 0);
        }
    }
    #[inline]
    fn resize_zeroed(&mut self, new_len: usize) {
        if new_len > AlignedVec::len(self) {
            self.resize(new_len, 0);
        }
    }
    #[inline]
    fn as_slice(&self) -> &[u8] {
        AlignedVec::as_slice(self)
    }
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [u8] {
        AlignedVec::as_mut_slice(self)
    }
    #[inline]
    fn append_archive<T: ZeroCopyEncode>(&mut self, value: &T) -> Result<usize> {
        serialize_into_vec(value, self)
    }
}

impl<B: EncodeBuf + ?Sized> EncodeBuf for &mut B {
    #[inline]
    fn len(&self) -> usize {
        (**self).len()
    }
    #[inline]
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        (**self).extend_from_slice(bytes);
    }
    #[inline]
    fn reserve(&mut self, additional: usize) {
        (**self).reserve(additional);
    }
    #[inline]
    fn truncate(&mut self, len: usize) {
        (**self).truncate(len);
    }
    #[inline]
    fn resize_zeroed(&mut self, new_len: usize) {
        (**self).resize_zeroed(new_len);
    }
    #[inline]
    fn as_slice(&self) -> &[u8] {
        (**self).as_slice()
    }
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [u8] {
        (**self).as_mut_slice()
    }
    #[inline]
    fn append_archive<T: ZeroCopyEncode>(&mut self, value: &T) -> Result<usize> {
        (**self).append_archive(value)
    }
}

/// An appender over an [`EncodeBuf`] that implements [`std::io::Write`] and rkyv's
/// [`Writer`](rkyv::ser::Writer), positioned relative to where it started.
///
/// Positions are relative so an rkyv archive appended after other bytes (a header, a length
/// prefix) is laid out as if it started at offset 0: it is valid wherever it is later copied
/// to an aligned address, and in place when `start` itself is aligned.
#[derive(Debug)]
pub struct Appender<'a, B: EncodeBuf + ?Sized> {
    buf: &'a mut B,
    start: usize,
}

impl<'a, B: EncodeBuf + ?Sized> Appender<'a, B> {
    /// Starts appending at the current end of `buf`.
    #[inline]
    pub fn new(buf: &'a mut B) -> Self {
        let start = buf.len();
        Self { buf, start }
    }

    /// Offset in the buffer where this appender started.
    #[inline]
    pub fn start(&self) -> usize {
        self.start
    }

    /// Number of bytes appended so far.
    #[inline]
    pub fn written(&self) -> usize {
        self.buf.len() - self.start
    }
}

impl<B: EncodeBuf + ?Sized> std::io::Write for Appender<'_, B> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(bytes);
        Ok(())
    }
    #[inline]
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<B: EncodeBuf + ?Sized> rkyv::ser::Positional for Appender<'_, B> {
    #[inline]
    fn pos(&self) -> usize {
        self.written()
    }
}

impl<B: EncodeBuf + ?Sized, E> rkyv::ser::Writer<E> for Appender<'_, B> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), E> {
        self.buf.extend_from_slice(bytes);
        Ok(())
    }
}

/// The writer zerocodec serializes into an [`AlignedVec`] with: like [`Appender`], but it
/// holds the vector by value while an archive is written and counts positions from the start
/// of the vector.
///
/// rkyv asks its writer for the position and writes a few bytes at a time (every field,
/// string and padding run). Held by value, the vector's length and capacity sit in the
/// serializer itself rather than behind a reference, and the position is the vector's length
/// with nothing subtracted: together 5% fewer instructions than [`Appender`] on the log
/// dataset, which encodes at raw rkyv's cost this way. Positions only matter modulo the
/// alignment of what is written next (offsets between positions do not depend on the
/// origin), so counting from the vector's start lays out the same bytes as counting from the
/// archive's start whenever the archive starts at a multiple of [`ARCHIVE_ALIGN`], the
/// largest alignment zerocodec's archives use; [`new`](Self::new) takes only such vectors.
/// Reached through [`EncodeBuf::append_archive`] on an `AlignedVec` or a
/// [`PooledBuf`](crate::pool::PooledBuf), which move the vector in and back out (and use an
/// [`Appender`] when their length is not such a multiple).
#[derive(Debug, Default)]
pub struct VecAppender {
    vec: AlignedVec,
    start: usize,
}

impl VecAppender {
    /// Takes `vec` to append an archive at its end, if its length is a multiple of
    /// [`ARCHIVE_ALIGN`]; gives it back otherwise.
    ///
    /// # Errors
    ///
    /// `vec` itself, unchanged, when its length is not a multiple of [`ARCHIVE_ALIGN`].
    #[inline]
    pub fn new(vec: AlignedVec) -> std::result::Result<Self, AlignedVec> {
        let start = vec.len();
        if start % ARCHIVE_ALIGN == 0 {
            Ok(Self { vec, start })
        } else {
            Err(vec)
        }
    }

    /// Number of bytes appended so far.
    #[inline]
    pub fn written(&self) -> usize {
        self.vec.len() - self.start
    }

    /// The vector, with what was appended.
    #[inline]
    pub fn into_inner(self) -> AlignedVec {
        self.vec
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise<B: EncodeBuf + Default>() {
        let mut b = B::default();
        assert!(b.is_empty());
        b.extend_from_slice(b"abc");
        b.resize_zeroed(5);
        assert_eq!(b.as_slice(), b"abc\0\0");
        b.as_mut_slice()[0] = b'x';
        b.truncate(2);
        assert_eq!(b.as_slice(), b"xb");
        b.truncate(10);
        assert_eq!(b.len(), 2);
        b.resize_zeroed(200);
        assert_eq!(b.len(), 200);
        assert!(b.as_slice()[2..].iter().all(|&x| x == 0));
    }

    #[test]
    fn every_buffer_obeys_the_contract() {
        exercise::<Vec<u8>>();
        exercise::<BytesMut>();
        exercise::<AlignedVec>();
    }

    #[test]
    fn appender_positions_are_relative() {
        use rkyv::ser::Positional;
        let mut v = b"header".to_vec();
        let mut a = Appender::new(&mut v);
        assert_eq!(a.pos(), 0);
        std::io::Write::write_all(&mut a, b"xy").unwrap();
        assert_eq!(a.pos(), 2);
        assert_eq!(a.start(), 6);
        assert_eq!(v, b"headerxy");
    }
}
