//! Byte transforms (compression) that stack on any codec.
//!
//! A [`Transform`] turns an encoding into smaller bytes and back, within a size limit. Codecs
//! record which transform a payload went through: the hybrid frame in its header, every
//! other codec in the minimal *transform prefix* written by [`encode_prefixed`]:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | compression id ([`CompressionId`]; 0 = stored raw) |
//! | 1 | 1 | flags: bit 0 = dictionary id follows; other bits are reserved and must be 0 |
//! | 2 | 4 | dictionary id, little-endian (only when flag bit 0 is set) |
//! | 2 or 6 | .. | the payload: the inner codec's encoding, transformed |
//!
//! A payload stored raw (compression id 0) is written without a dictionary id, so a raw
//! payload costs exactly 2 bytes of prefix; readers accept, and ignore, one if present.

use std::cell::RefCell;
use std::fmt;

use bytes::Bytes;
use rkyv::util::AlignedVec;

use crate::archive::{OwnedArchive, ZeroCopy};
use crate::buf::EncodeBuf;
use crate::codec::{Codec, ZeroCopyCodec};
use crate::error::{Error, ErrorKind, Result};

/// A stable numeric id for a compression algorithm, written in frames and prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompressionId(pub u8);

impl CompressionId {
    /// Stored as is.
    pub const NONE: CompressionId = CompressionId(0);
    /// lz4 block format.
    pub const LZ4: CompressionId = CompressionId(1);
    /// zstd frame format (with or without a dictionary).
    pub const ZSTD: CompressionId = CompressionId(2);

    /// A short name for the algorithms zerocodec assigns, `None` for others.
    pub const fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("none"),
            1 => Some("lz4"),
            2 => Some("zstd"),
            _ => None,
        }
    }
}

impl fmt::Display for CompressionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A reversible, bounded byte transform: compression.
///
/// # Contract
///
/// - [`compress_into`](Transform::compress_into) appends to `out` and returns the algorithm
///   it actually used: it may store the input raw (returning [`CompressionId::NONE`]) when
///   compressing does not pay. It never touches `out` below its length at the call.
/// - [`decompress_into`](Transform::decompress_into) treats its input as untrusted: it never
///   produces, nor allocates for, more than
///   [`max_decompressed_len`](Transform::max_decompressed_len) bytes, whatever sizes the input
///   claims, and fails with [`ErrorKind::TooLarge`] instead. It is never called with
///   [`CompressionId::NONE`]; raw payloads are read in place by the caller.
pub trait Transform {
    /// The dictionary this transform compresses with, recorded beside the payload.
    fn dictionary_id(&self) -> Option<u32> {
        None
    }

    /// The largest output [`decompress_into`](Transform::decompress_into) will produce.
    fn max_decompressed_len(&self) -> usize;

    /// The largest output [`decompress_into`](Transform::decompress_into) will produce from
    /// `compressed_len` input bytes: [`max_decompressed_len`](Transform::max_decompressed_len),
    /// or less when the transform also bounds the ratio (zerocodec-codecs' transforms do).
    fn decompressed_limit(&self, compressed_len: usize) -> usize {
        let _ = compressed_len;
        self.max_decompressed_len()
    }

    /// Appends the transformed `input` to `out`, returning the algorithm used.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`] if the compressor fails.
    fn compress_into<B: EncodeBuf>(&self, input: &[u8], out: &mut B) -> Result<CompressionId>;

    /// Appends the original bytes of `input`, stored with `compression` and `dictionary`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownCompression`] for an algorithm this transform cannot read,
    /// [`ErrorKind::UnknownDictionary`] for a dictionary it does not know,
    /// [`ErrorKind::TooLarge`] past the limit, [`ErrorKind::Corrupt`] for bad data.
    fn decompress_into<B: EncodeBuf>(
        &self,
        compression: CompressionId,
        dictionary: Option<u32>,
        input: &[u8],
        out: &mut B,
    ) -> Result<()>;
}

impl<X: Transform + ?Sized> Transform for &X {
    fn dictionary_id(&self) -> Option<u32> {
        (**self).dictionary_id()
    }
    fn max_decompressed_len(&self) -> usize {
        (**self).max_decompressed_len()
    }
    fn decompressed_limit(&self, compressed_len: usize) -> usize {
        (**self).decompressed_limit(compressed_len)
    }
    fn compress_into<B: EncodeBuf>(&self, input: &[u8], out: &mut B) -> Result<CompressionId> {
        (**self).compress_into(input, out)
    }
    fn decompress_into<B: EncodeBuf>(
        &self,
        compression: CompressionId,
        dictionary: Option<u32>,
        input: &[u8],
        out: &mut B,
    ) -> Result<()> {
        (**self).decompress_into(compression, dictionary, input, out)
    }
}

/// Flag bit in the transform prefix: a 4-byte dictionary id follows.
pub const PREFIX_FLAG_DICTIONARY: u8 = 0b0000_0001;
const PREFIX_RESERVED_FLAGS: u8 = !PREFIX_FLAG_DICTIONARY;

/// The parsed transform prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// How the payload is stored.
    pub compression: CompressionId,
    /// The dictionary it was compressed with.
    pub dictionary: Option<u32>,
    /// Length of the prefix in bytes (where the payload starts).
    pub len: usize,
}

/// Reads the transform prefix at the start of `bytes`.
///
/// # Errors
///
/// [`ErrorKind::Incomplete`] if `bytes` is shorter than the prefix it announces,
/// [`ErrorKind::Corrupt`] if reserved flag bits are set.
pub fn read_prefix(bytes: &[u8]) -> Result<Prefix> {
    let [compression, flags, ..] = *bytes else {
        return Err(Error::incomplete("transform prefix", 2, bytes.len()));
    };
    if flags & PREFIX_RESERVED_FLAGS != 0 {
        return Err(Error::corrupt(format!(
            "transform prefix: reserved flag bits must be 0, found flags {flags:#010b}"
        )));
    }
    let (dictionary, len) = if flags & PREFIX_FLAG_DICTIONARY != 0 {
        let Some(id) = bytes.get(2..6) else {
            return Err(Error::incomplete(
                "transform prefix with dictionary id",
                6,
                bytes.len(),
            ));
        };
        (Some(u32::from_le_bytes([id[0], id[1], id[2], id[3]])), 6)
    } else {
        (None, 2)
    };
    Ok(Prefix {
        compression: CompressionId(compression),
        dictionary,
        len,
    })
}

/// Appends a transform prefix; returns the offset of its compression-id byte.
pub fn write_prefix<B: EncodeBuf>(dictionary: Option<u32>, out: &mut B) -> usize {
    let at = out.len();
    match dictionary {
        Some(id) => {
            let id = id.to_le_bytes();
            out.extend_from_slice(&[0, PREFIX_FLAG_DICTIONARY, id[0], id[1], id[2], id[3]]);
        }
        None => out.extend_from_slice(&[0, 0]),
    }
    at
}

thread_local! {
    static SCRATCH: RefCell<AlignedVec> = RefCell::new(AlignedVec::new());
}

/// Largest per-thread scratch buffer kept between calls; larger ones are freed.
const MAX_RETAINED_SCRATCH: usize = 4 << 20;

/// Runs `f` with a cleared, reused per-thread aligned buffer (a fresh one if re-entered).
pub fn with_scratch<R>(f: impl FnOnce(&mut AlignedVec) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            scratch.clear();
            let result = f(&mut scratch);
            // Clear so no message's bytes linger between calls.
            scratch.clear();
            if scratch.capacity() > MAX_RETAINED_SCRATCH {
                *scratch = AlignedVec::new();
            }
            result
        }
        Err(_) => f(&mut AlignedVec::new()),
    })
}

/// The default [`Codec::encode_transformed_into`]: prefix, then the transformed encoding.
///
/// # Errors
///
/// As the codec's `encode_into` and the transform's `compress_into`; `out` is left unchanged
/// on error.
pub fn encode_prefixed<T, C, X, B>(codec: &C, value: &T, transform: &X, out: &mut B) -> Result<()>
where
    C: Codec<T>,
    X: Transform,
    B: EncodeBuf,
{
    with_scratch(|scratch| {
        codec.encode_into(value, scratch)?;
        let start = out.len();
        let dictionary = transform.dictionary_id();
        let at = write_prefix(dictionary, out);
        match transform.compress_into(scratch, out) {
            Ok(CompressionId::NONE) if dictionary.is_some() => {
                // Stored raw: the dictionary id means nothing, so drop it (4 bytes matter on
                // the small messages that are stored raw) and clear its flag.
                let buf = out.as_mut_slice();
                buf.copy_within(at + 6.., at + 2);
                buf[at + 1] = 0;
                let len = out.len();
                out.truncate(len - 4);
                Ok(())
            }
            Ok(compression) => {
                out.as_mut_slice()[at] = compression.0;
                Ok(())
            }
            Err(err) => {
                out.truncate(start);
                Err(err)
            }
        }
    })
}

/// The default [`Codec::decode_transformed`]: read the prefix, undo the transform, decode.
///
/// # Errors
///
/// As [`read_prefix`], the transform's `decompress_into` and the codec's `decode`.
pub fn decode_prefixed<T, C, X>(codec: &C, bytes: &[u8], transform: &X) -> Result<T>
where
    C: Codec<T>,
    X: Transform,
{
    let prefix = read_prefix(bytes)?;
    let payload = &bytes[prefix.len..];
    if prefix.compression == CompressionId::NONE {
        return codec.decode(payload);
    }
    with_scratch(|scratch| {
        transform.decompress_into(prefix.compression, prefix.dictionary, payload, scratch)?;
        codec.decode(scratch)
    })
}

/// The default [`ZeroCopyCodec::access_transformed`]: read the prefix, undo the transform
/// into an aligned buffer the view owns, validate once.
///
/// # Errors
///
/// As [`decode_prefixed`].
pub fn access_prefixed<T, C, X>(codec: &C, bytes: Bytes, transform: &X) -> Result<OwnedArchive<T>>
where
    T: ZeroCopy,
    C: ZeroCopyCodec<T>,
    X: Transform,
{
    let prefix = read_prefix(&bytes)?;
    if prefix.compression == CompressionId::NONE {
        return codec.access_owned(bytes.slice(prefix.len..));
    }
    // Decompressed into a pooled aligned buffer, which returns to the pool when the view drops.
    let mut out = crate::pool::BufferPool::global().take();
    transform.decompress_into(
        prefix.compression,
        prefix.dictionary,
        &bytes[prefix.len..],
        &mut out,
    )?;
    codec.access_owned(out.into_bytes())
}

/// Builds the error for a compression id a transform cannot read.
#[cold]
pub fn unknown_compression(found: CompressionId, known: &str) -> Error {
    Error::new(
        ErrorKind::UnknownCompression,
        format!("payload is compressed with algorithm {found}, this reader handles {known}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_round_trip() {
        let mut out = Vec::new();
        write_prefix(Some(0xDEAD_BEEF), &mut out);
        out[0] = CompressionId::ZSTD.0;
        let p = read_prefix(&out).unwrap();
        assert_eq!(p.compression, CompressionId::ZSTD);
        assert_eq!(p.dictionary, Some(0xDEAD_BEEF));
        assert_eq!(p.len, 6);
        for cut in 0..out.len() {
            assert!(read_prefix(&out[..cut]).unwrap_err().is_incomplete());
        }
    }

    #[test]
    fn reserved_flags_are_rejected() {
        let err = read_prefix(&[1, 0b10, 0, 0]).unwrap_err();
        assert!(err.is_corrupt(), "{err}");
    }
}
