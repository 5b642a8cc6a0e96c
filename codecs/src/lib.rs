//! Concrete codecs for [`zerocodec`]: JSON and rkyv, the tagged hybrid frame, batches, and
//! compression inside frames.
//!
//! Add `zerocodec` for the traits and this crate for the formats, as you would add serde and
//! serde_json. Every codec is typed by what it carries (`JsonCodec<Order>`), so calls name no
//! type; bring the traits in with `use zerocodec::prelude::*`. Each heavy dependency sits
//! behind a feature:
//!
//! | feature | codec |
//! |---|---|
//! | always | [`RkyvCodec`], [`BatchCodec`] and [`Batch`], [`Compressed`] with its [`Policy`] |
//! | `json` (default) | [`JsonCodec`], [`HybridCodec`] (tagged frames, rkyv with JSON fallback, legacy JSON), and [`AsArchivedJson`] (binary) and [`AsJson`] (text) for JSON fields inside rkyv archives |
//! | `lz4` (default) | [`Compression::Lz4`] (lz4_flex, pure safe Rust) |
//! | `bitcode` | [`BitcodeCodec`] (bitcode's own derives: the smallest encoding, the fastest writes), and bitcode payloads in hybrid frames ([`Primary::Bitcode`], [`HybridCodec::with_bitcode`]) |
//! | `zstd` (default) | [`Compression::Zstd`] and [`Compression::ZstdDict`], [`ZstdDictionary`] training (builds zstd's C sources) |
//! | `tokio` | [`FrameCodec`] and friends: tokio-util `Encoder`/`Decoder` frames over any codec |
//!
//! The `tokio` and `bitcode` features are not defaults: turn them on for framed transports
//! and bitcode payloads.
//!
//! Schema evolution lives in the frame codecs: [`HybridCodec::with_upgrades`] and
//! [`BatchCodec::with_upgrades`] read older versions of a message, recognised by their schema
//! fingerprints and converted with `From` ([`upgrade`] has the machinery); a writer can be
//! pinned to an older version with [`HybridCodec::write_as`].
//!
//! ```toml
//! [dependencies]
//! zerocodec-codecs = { version = "0.1", features = ["tokio"] }
//! ```
//!
//! # Examples
//!
//! ```
//! use zerocodec::prelude::*;
//! use zerocodec_codecs::{JsonCodec, RkyvCodec};
//!
//! #[derive(serde::Serialize, serde::Deserialize, rkyv::Archive, rkyv::Serialize,
//!          rkyv::Deserialize, Debug, PartialEq)]
//! struct Hello { name: String }
//!
//! let msg = Hello { name: "zerocodec".into() };
//! let (json, rkyv) = (JsonCodec::new(), RkyvCodec::new());
//! let text = json.encode(&msg)?;
//! let archive = rkyv.encode(&msg)?;
//! assert_eq!(json.decode(&text)?, msg);
//! assert_eq!(rkyv.access(&archive)?.name, "zerocodec");
//! # Ok::<(), zerocodec::Error>(())
//! ```
//!
//! # Compression
//!
//! Compression belongs to the frame: [`HybridCodec`], [`BatchCodec`] and [`Compressed`] (which
//! wraps any other codec) take a [`Compression`] at run time and record it in each frame's
//! header, so any reader reads any writer's frames. Every frame codec guarantees:
//!
//! - **Never larger than raw.** Below [`Policy::min_size`], or when the compressed form does
//!   not save [`Policy::min_saving_percent`], the payload is stored raw and marked
//!   [`CompressionId::NONE`](zerocodec::CompressionId::NONE): a frame is at most the raw
//!   payload plus its header.
//! - **Bounded decompression.** Sizes read from the input (lz4's length prefix, zstd's frame
//!   content size) are untrusted: they are checked against [`Policy::decompressed_limit`]
//!   *before* anything is allocated, and the output buffer is sized to the claim, so
//!   decompression cannot write past it either.
//! - **Typed errors.** Truncated, corrupt or oversized input, an unknown algorithm and an
//!   unknown or mismatched dictionary each give a [`zerocodec::Error`] of their own kind.
//! - **Reused state.** zstd contexts and lz4 hash tables live per thread and are reused for
//!   every message; scratch buffers are cleared after each use. In steady state compressing
//!   and decompressing allocate nothing.
//! - **Any reader reads any algorithm this build has.** The header names the algorithm (and
//!   dictionary); the dictionaries a reader knows are its own and those in its
//!   [`DictionaryRegistry`].
//!
//! Integrity is not the compressor's job: lz4 blocks and zstd frames carry no checksum here
//! (4 bytes on a ~90 byte message is a lot), so a bit flip inside literal bytes can decode to
//! different bytes that the payload codec then validates like any other input. Turn on the
//! frame's checksum where corruption must be detected.
//!
//! ## Payload formats
//!
//! | algorithm | payload |
//! |---|---|
//! | [`CompressionId::NONE`](zerocodec::CompressionId::NONE) | the payload codec's encoding, unchanged |
//! | [`CompressionId::LZ4`](zerocodec::CompressionId::LZ4) | decompressed length as an unsigned LEB128 varint (at most 10 bytes, shortest form), then one lz4 block |
//! | [`CompressionId::ZSTD`](zerocodec::CompressionId::ZSTD) | exactly one zstd frame that records its content size, without its magic number and without a dictionary id (the header names the dictionary) |
//!
//! [`zerocodec`]: zerocodec
#![cfg_attr(
    not(feature = "tokio"),
    doc = "[`FrameCodec`]: https://docs.rs/zerocodec-codecs/latest/zerocodec_codecs/struct.FrameCodec.html"
)]
#![cfg_attr(
    not(feature = "bitcode"),
    doc = "[`BitcodeCodec`]: https://docs.rs/zerocodec-codecs/latest/zerocodec_codecs/struct.BitcodeCodec.html"
)]
#![cfg_attr(
    not(all(feature = "bitcode", feature = "json")),
    doc = "[`Primary::Bitcode`]: https://docs.rs/zerocodec-codecs/latest/zerocodec_codecs/enum.Primary.html#variant.Bitcode\n[`HybridCodec::with_bitcode`]: https://docs.rs/zerocodec-codecs/latest/zerocodec_codecs/struct.HybridCodec.html#method.with_bitcode"
)]
#![cfg_attr(
    not(feature = "json"),
    doc = "[`JsonCodec`]: https://docs.rs/zerocodec-codecs/latest/zerocodec_codecs/struct.JsonCodec.html\n[`HybridCodec`]: https://docs.rs/zerocodec-codecs/latest/zerocodec_codecs/struct.HybridCodec.html\n[`AsJson`]: https://docs.rs/zerocodec-codecs/latest/zerocodec_codecs/struct.AsJson.html\n[`AsArchivedJson`]: https://docs.rs/zerocodec-codecs/latest/zerocodec_codecs/struct.AsArchivedJson.html"
)]
// `unsafe` only in the modules that say why (each has an `allow` with its reason).
#![deny(unsafe_code)]

// The README's examples run as doctests, so the README cannot drift from the crate.
#[cfg(all(doctest, feature = "json", feature = "lz4"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "json")]
mod as_json;
#[cfg(feature = "bitcode")]
mod bitcode;
// Reads messages with `rkyv::access_unchecked` after validating each one (see its docs).
#[allow(unsafe_code)]
mod batch;
mod batch_codec;
mod compress;
#[cfg(feature = "tokio")]
mod framed;
#[cfg(feature = "json")]
mod hybrid;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "json")]
// The archived JSON tree's hand-written rkyv impls (docs/security.md lists them; Miri runs
// their tests).
#[allow(unsafe_code)]
mod json_value;
mod layer;
mod rkyv;
pub mod upgrade;

#[cfg(feature = "json")]
pub use as_json::{AsJson, AsJsonResolver};
pub use batch::{
    BATCH_HEADER_LEN, BATCH_INDEX_ENTRY_LEN, BATCH_MAGIC, BATCH_VERSION, Batch, BatchBuilder,
    BatchIter, BatchRef, MAX_BATCH_LEN,
};
pub use batch_codec::{BATCH_CONTENT_TYPE, BatchCodec};
#[cfg(feature = "bitcode")]
pub use bitcode::{BITCODE_CONTENT_TYPE, BitcodeCodec, DEFAULT_MAX_BITCODE_LEN};
pub use compress::{
    Compressed, Compression, DEFAULT_MAX_DECOMPRESSED_LEN, DEFAULT_MAX_RATIO,
    DEFAULT_MIN_SAVING_PERCENT, DEFAULT_MIN_SIZE, Policy,
};
#[cfg(feature = "zstd")]
pub use compress::{
    DEFAULT_DICTIONARY_SIZE, DEFAULT_ZSTD_LEVEL, DictionaryRegistry, ZstdDict, ZstdDictionary,
};
#[cfg(feature = "tokio")]
pub use framed::{
    ArchivedFrameDecoder, DEFAULT_MAX_FRAME_LEN, FrameCodec, FrameDecoder, FrameEncoder,
    LENGTH_PREFIX_LEN,
};
#[cfg(feature = "json")]
pub use hybrid::{HybridCodec, HybridMessage, HybridMetrics, HybridSnapshot, Primary};
#[cfg(feature = "json")]
pub use json::{JSON_CONTENT_TYPE, JsonCodec};
#[cfg(feature = "json")]
pub use json_value::{
    ArchivedJsonEntry, ArchivedJsonValue, AsArchivedJson, JsonValueResolver, MAX_ENCODE_DEPTH,
};
pub use layer::FRAME_CONTENT_TYPE;
pub use rkyv::{RKYV_CONTENT_TYPE, RkyvCodec, ZeroCopyEncode};
