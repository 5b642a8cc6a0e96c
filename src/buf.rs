//! [`EncodeBuf`]: the growable byte buffers a codec can append an encoding to.
//!
//! Codecs write into whatever buffer the caller already has: a `Vec<u8>`, a `bytes::BytesMut`
//! handed over by a transport, an rkyv [`AlignedVec`], or a pooled buffer. Only appends are
//! allowed, plus rewriting bytes this encode appended (to patch a header once the payload
//! length is known) and truncating back to where the encode started (on failure).

use bytes::BytesMut;
use rkyv::util::AlignedVec;

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

    /// The aligned vector behind this buffer, when it is one (an [`AlignedVec`] or a
    /// [`PooledBuf`](crate::PooledBuf)); `None` for other buffers (the default).
    ///
    /// Writers that lay out data relative to an aligned start (rkyv) write straight into it
    /// through this; into other buffers they write elsewhere first and copy once.
    #[inline]
    fn as_aligned_vec(&mut self) -> Option<&mut AlignedVec> {
        None
    }
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
    fn as_aligned_vec(&mut self) -> Option<&mut AlignedVec> {
        Some(self)
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
    fn as_aligned_vec(&mut self) -> Option<&mut AlignedVec> {
        (**self).as_aligned_vec()
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
}
