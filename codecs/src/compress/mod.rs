//! Compression, chosen at run time: the [`Compression`] a frame is written with, the adaptive
//! [`Policy`] and decompression limits, zstd dictionaries ([`ZstdDictionary`], looked up in a
//! [`DictionaryRegistry`]), and [`Compressed`], the codec that compresses any other codec's
//! encoding inside a frame.
//!
//! The guarantees and payload formats are documented in the crate docs (`lib.rs`,
//! "Compression"), which users read.

mod compressed;
#[cfg(feature = "zstd")]
mod dict;
#[cfg(feature = "lz4")]
mod lz4;
mod policy;
#[cfg(feature = "zstd")]
mod zstd;

#[cfg(feature = "zstd")]
use std::sync::Arc;

use zerocodec::{CompressionId, EncodeBuf, Error, ErrorKind, Result};

pub use compressed::Compressed;
#[cfg(feature = "json")]
pub(crate) use compressed::compressed_not_accessible;
#[cfg(feature = "zstd")]
pub use dict::{DEFAULT_DICTIONARY_SIZE, DictionaryRegistry, ZstdDict, ZstdDictionary};
pub use policy::{
    DEFAULT_MAX_DECOMPRESSED_LEN, DEFAULT_MAX_RATIO, DEFAULT_MIN_SAVING_PERCENT, DEFAULT_MIN_SIZE,
    Policy,
};

/// The zstd level [`Compression::zstd`] compresses at (zstd's own default).
#[cfg(feature = "zstd")]
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

/// How a frame's payload is compressed: chosen at run time, recorded in each frame's header.
///
/// Whatever a writer chooses, a reader reads every algorithm this build has (and every
/// dictionary in its [`DictionaryRegistry`]), so changing the compression needs no change on
/// the reading side.
///
/// - [`None`](Compression::None) (the default): payloads are stored raw, and rkyv payloads
///   stay readable in place.
/// - [`Lz4`](Compression::Lz4) (feature `lz4`): fast, modest ratios; pure safe Rust
///   (lz4_flex).
/// - [`Zstd`](Compression::Zstd) (feature `zstd`): zstd at a level (1 fastest to 22, negative
///   levels trade ratio for speed, 0 means zstd's default).
/// - [`ZstdDict`](Compression::ZstdDict) (feature `zstd`): zstd with a trained dictionary;
///   small messages compress several times better.
///
/// Compression is adaptive ([`Policy`]): a payload too small to gain, or one the compressor
/// does not shrink enough, is stored raw and marked so in the header.
///
/// # Examples
///
/// ```
/// use zerocodec::prelude::*;
/// use zerocodec_codecs::{Compressed, Compression, JsonCodec};
///
/// let codec = Compressed::new(JsonCodec::new(), Compression::zstd());
/// let value: Vec<String> = (0..100).map(|i| format!("item-{}", i % 7)).collect();
/// let bytes = codec.encode(&value)?;
/// assert!(bytes.len() < 500);
/// assert_eq!(codec.decode(&bytes)?, value);
/// # Ok::<(), zerocodec::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Default)]
pub enum Compression {
    /// Stored raw.
    #[default]
    None,
    /// lz4 block compression.
    #[cfg(feature = "lz4")]
    Lz4,
    /// zstd at a level.
    #[cfg(feature = "zstd")]
    Zstd(i32),
    /// zstd with a trained dictionary, prepared for its level.
    #[cfg(feature = "zstd")]
    ZstdDict(ZstdDict),
}

impl Compression {
    /// zstd at [`DEFAULT_ZSTD_LEVEL`].
    #[cfg(feature = "zstd")]
    pub const fn zstd() -> Self {
        Self::Zstd(DEFAULT_ZSTD_LEVEL)
    }

    /// zstd with `dictionary` at `level` (prepared once, here).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`] if zstd cannot prepare the dictionary.
    #[cfg(feature = "zstd")]
    pub fn zstd_dict(dictionary: impl Into<Arc<ZstdDictionary>>, level: i32) -> Result<Self> {
        ZstdDict::new(dictionary, level).map(Self::ZstdDict)
    }

    /// The dictionary compressed payloads are written with, if any.
    pub fn dictionary_id(&self) -> Option<u32> {
        match self {
            #[cfg(feature = "zstd")]
            Self::ZstdDict(dict) => Some(dict.dictionary().id()),
            _ => None,
        }
    }
}

/// The algorithms this build reads, for error messages.
const KNOWN_ALGORITHMS: &str = if cfg!(all(feature = "lz4", feature = "zstd")) {
    "none (0), lz4 (1) and zstd (2)"
} else if cfg!(feature = "lz4") {
    "none (0) and lz4 (1)"
} else if cfg!(feature = "zstd") {
    "none (0) and zstd (2)"
} else {
    "none (0)"
};

/// The compression logic every frame codec shares: what to write with, when it pays
/// ([`Policy`]), and the dictionaries a reader knows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compressor {
    pub(crate) compression: Compression,
    pub(crate) policy: Policy,
    /// Further dictionaries a reader knows (`None`: only the one it writes with).
    #[cfg(feature = "zstd")]
    pub(crate) registry: Option<DictionaryRegistry>,
}

impl Compressor {
    /// Raw payloads, the default policy, no dictionaries.
    pub(crate) const fn new() -> Self {
        Self {
            compression: Compression::None,
            policy: Policy::new(),
            #[cfg(feature = "zstd")]
            registry: None,
        }
    }

    /// True if payloads are written raw.
    #[inline]
    pub(crate) fn is_none(&self) -> bool {
        matches!(self.compression, Compression::None)
    }

    /// Appends `input` compressed (or raw, when compressing does not pay under the policy) to
    /// `out` and returns the algorithm used; on error `out` is left as it was.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`] if the compressor fails.
    #[cfg_attr(
        not(any(feature = "lz4", feature = "zstd")),
        allow(
            unused_variables,
            unreachable_code,
            reason = "no algorithm in this build"
        )
    )]
    pub(crate) fn compress_into<B: EncodeBuf>(
        &self,
        input: &[u8],
        out: &mut B,
    ) -> Result<CompressionId> {
        let Some(budget) = self.policy.budget(input.len()) else {
            return Ok(store_raw(input, out));
        };
        let start = out.len();
        let id = match &self.compression {
            Compression::None => return Ok(store_raw(input, out)),
            #[cfg(feature = "lz4")]
            Compression::Lz4 => {
                lz4::compress_block(input, budget, out).then_some(CompressionId::LZ4)
            }
            #[cfg(feature = "zstd")]
            Compression::Zstd(level) => {
                zstd::compress_frame(input, budget, zstd::With::Level(*level), out)?
                    .then_some(CompressionId::ZSTD)
            }
            #[cfg(feature = "zstd")]
            Compression::ZstdDict(dict) => {
                zstd::compress_frame(input, budget, zstd::With::Dictionary(dict.cdict()), out)?
                    .then_some(CompressionId::ZSTD)
            }
        };
        Ok(match id {
            // Kept only when a reader with this policy would decompress it: a payload that
            // compresses past the ratio limit is stored raw, never written as something the
            // reader refuses.
            Some(id) if self.policy.admits(input.len(), out.len() - start) => id,
            _ => {
                out.truncate(start);
                store_raw(input, out)
            }
        })
    }

    /// Appends the decompressed `input`, stored with `compression` and `dictionary`, to `out`;
    /// on error `out` is left as it was.
    ///
    /// Sizes read from the input are untrusted: they are checked against the policy's
    /// [`decompressed_limit`](Policy::decompressed_limit) before anything is allocated.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownCompression`] for an algorithm this build cannot read,
    /// [`ErrorKind::UnknownDictionary`] for a dictionary it does not know,
    /// [`ErrorKind::TooLarge`] past the limit, [`ErrorKind::Corrupt`] for bad data.
    pub(crate) fn decompress_into<B: EncodeBuf>(
        &self,
        compression: CompressionId,
        dictionary: Option<u32>,
        input: &[u8],
        out: &mut B,
    ) -> Result<()> {
        let start = out.len();
        let limit = self.policy.decompressed_limit(input.len());
        let result = self.dispatch(compression, dictionary, input, out, limit);
        if let Err(err) = result {
            out.truncate(start);
            return Err(self.explain_limit(err, input.len(), limit));
        }
        Ok(())
    }

    /// A `TooLarge` error caused by the ratio limit says so: the size a short input claimed
    /// may be far below the absolute limit.
    #[cold]
    fn explain_limit(&self, err: Error, compressed_len: usize, limit: usize) -> Error {
        if err.kind() != ErrorKind::TooLarge || limit == self.policy.max_decompressed_len() {
            return err;
        }
        Error::new(
            ErrorKind::TooLarge,
            format!(
                "{} ({compressed_len} compressed bytes may decompress to at most {limit}: {} \
                 bytes per compressed byte, raised with the policy's `with_max_ratio`)",
                err.message(),
                self.policy.max_ratio()
            ),
        )
    }

    #[cfg_attr(
        not(any(feature = "lz4", feature = "zstd")),
        allow(
            unused_variables,
            reason = "without an algorithm only raw payloads are read"
        )
    )]
    fn dispatch<B: EncodeBuf>(
        &self,
        compression: CompressionId,
        dictionary: Option<u32>,
        input: &[u8],
        out: &mut B,
        limit: usize,
    ) -> Result<()> {
        // Never `CompressionId::NONE`: a frame flagged compressed names an algorithm (the
        // header parser refuses id 0), and raw payloads are read in place.
        match compression {
            #[cfg(feature = "lz4")]
            CompressionId::LZ4 => match dictionary {
                None => lz4::decompress_block(input, out, limit),
                Some(id) => Err(Error::corrupt(format!(
                    "lz4 payloads take no dictionary, found dictionary id {id}"
                ))),
            },
            #[cfg(feature = "zstd")]
            CompressionId::ZSTD => match dictionary {
                None => zstd::decompress_frame(input, None, out, limit),
                Some(id) => {
                    let dict = self.dictionary(id)?;
                    zstd::decompress_frame(input, Some(&dict), out, limit)
                }
            },
            other => Err(unknown_compression(other)),
        }
    }

    /// The dictionary `id`: the one this compressor writes with, or one in its registry.
    #[cfg(feature = "zstd")]
    #[inline]
    fn dictionary(&self, id: u32) -> Result<Arc<ZstdDictionary>> {
        if let Compression::ZstdDict(own) = &self.compression {
            if own.dictionary().id() == id {
                return Ok(own.dictionary().clone());
            }
        }
        match self.registry.as_ref().and_then(|registry| registry.get(id)) {
            Some(dict) => Ok(dict),
            None => Err(dict::unknown_dictionary(
                id,
                &self.compression,
                self.registry.as_ref(),
            )),
        }
    }
}

/// Appends `input` unchanged and reports it stored raw.
#[inline]
fn store_raw<B: EncodeBuf>(input: &[u8], out: &mut B) -> CompressionId {
    out.extend_from_slice(input);
    CompressionId::NONE
}

#[cold]
fn unknown_compression(found: CompressionId) -> Error {
    Error::new(
        ErrorKind::UnknownCompression,
        format!(
            "payload is compressed with algorithm {found}, this reader handles {KNOWN_ALGORITHMS}"
        ),
    )
}
