//! Compression that stacks on any codec: [`Compressed`], the transforms [`Lz4`], [`Zstd`] and
//! [`ZstdDict`] (zstd with a trained [`ZstdDictionary`] looked up in a
//! [`DictionaryRegistry`]), and the adaptive [`Policy`] they share.
//!
//! The guarantees and payload formats are documented in the crate docs (`lib.rs`,
//! "Compression"), which users read.

#![cfg_attr(
    not(any(feature = "lz4", feature = "zstd")),
    allow(
        dead_code,
        unused_variables,
        reason = "without an algorithm feature only Compressed and Policy are in use"
    )
)]

mod compressed;
#[cfg(feature = "zstd")]
mod dict;
#[cfg(feature = "lz4")]
mod lz4;
mod policy;
#[cfg(feature = "zstd")]
mod zstd;

use std::marker::PhantomData;

use zerocodec::transform::unknown_compression;
use zerocodec::{CompressionId, EncodeBuf, Error, ErrorKind, Result};

pub use compressed::Compressed;
#[cfg(feature = "zstd")]
pub use dict::{DEFAULT_DICTIONARY_SIZE, DictionaryRegistry, ZstdDict, ZstdDictionary};
#[cfg(feature = "lz4")]
pub use lz4::Lz4;
pub use policy::{
    DEFAULT_MAX_DECOMPRESSED_LEN, DEFAULT_MAX_RATIO, DEFAULT_MIN_SAVING_PERCENT, DEFAULT_MIN_SIZE,
    Policy,
};
#[cfg(feature = "zstd")]
pub use zstd::{DEFAULT_ZSTD_LEVEL, Zstd};

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

/// Appends `input` unchanged and reports it stored raw.
#[inline]
pub(crate) fn store_raw<B: EncodeBuf>(input: &[u8], out: &mut B) -> CompressionId {
    out.extend_from_slice(input);
    CompressionId::NONE
}

/// Keeps the compressed form of `input` that was appended to `out` after `start` (as `id`)
/// when a reader with `policy` would decompress it, else replaces it with the raw bytes: a
/// payload that compresses past the policy's ratio limit is stored raw, never written as
/// something the reader refuses.
#[inline]
pub(crate) fn keep_admitted<B: EncodeBuf>(
    policy: &Policy,
    input: &[u8],
    out: &mut B,
    start: usize,
    id: CompressionId,
) -> CompressionId {
    if policy.admits(input.len(), out.len() - start) {
        id
    } else {
        out.truncate(start);
        store_raw(input, out)
    }
}

/// What a transform can decompress: its limits and, for zstd, the dictionaries it knows.
#[derive(Clone, Copy)]
pub(crate) struct Decoders<'a> {
    policy: Policy,
    #[cfg(feature = "zstd")]
    own: Option<&'a ZstdDictionary>,
    #[cfg(feature = "zstd")]
    registry: Option<&'a DictionaryRegistry>,
    _borrow: PhantomData<&'a ()>,
}

impl<'a> Decoders<'a> {
    /// Every algorithm of this build, no dictionaries, output capped by `policy`'s limits.
    pub(crate) fn new(policy: &Policy) -> Self {
        Self {
            policy: *policy,
            #[cfg(feature = "zstd")]
            own: None,
            #[cfg(feature = "zstd")]
            registry: None,
            _borrow: PhantomData,
        }
    }

    /// Also reads zstd frames compressed with `own` or with a dictionary in `registry`.
    #[cfg(feature = "zstd")]
    pub(crate) fn with_dictionaries(
        mut self,
        own: &'a ZstdDictionary,
        registry: &'a DictionaryRegistry,
    ) -> Self {
        self.own = Some(own);
        self.registry = Some(registry);
        self
    }

    /// Appends the decompressed `input` to `out`; on error `out` is left as it was.
    pub(crate) fn decompress<B: EncodeBuf>(
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

    fn dispatch<B: EncodeBuf>(
        &self,
        compression: CompressionId,
        dictionary: Option<u32>,
        input: &[u8],
        out: &mut B,
        limit: usize,
    ) -> Result<()> {
        match compression {
            CompressionId::NONE => {
                if input.len() > limit {
                    return Err(Error::too_large(
                        "raw payload",
                        input.len() as u64,
                        limit as u64,
                    ));
                }
                out.extend_from_slice(input);
                Ok(())
            }
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
                Some(id) => self.with_dictionary(id, |dict| {
                    zstd::decompress_frame(input, Some(dict), out, limit)
                }),
            },
            other => Err(unknown_compression(other, KNOWN_ALGORITHMS)),
        }
    }

    #[cfg(feature = "zstd")]
    fn with_dictionary<R>(
        &self,
        id: u32,
        f: impl FnOnce(&ZstdDictionary) -> Result<R>,
    ) -> Result<R> {
        if let Some(own) = self.own.filter(|own| own.id() == id) {
            return f(own);
        }
        match self.registry.and_then(|registry| registry.get(id)) {
            Some(dict) => f(&dict),
            None => Err(dict::unknown_dictionary(id, self.own, self.registry)),
        }
    }
}
