//! Concrete codecs for [`zerocodec`]: JSON and rkyv, the tagged hybrid frame, and
//! compression that stacks on any codec.
//!
//! Add `zerocodec` for the traits and this crate for the formats, as you would add serde and
//! serde_json. Each heavy dependency sits behind a feature:
//!
//! | feature | codec |
//! |---|---|
//! | `json` (default) | [`JsonCodec`], and [`AsArchivedJson`] (binary) and [`AsJson`] (text) for JSON fields inside rkyv archives |
//! | `rkyv` (default) | [`RkyvCodec`] |
//! | `json` + `rkyv` | [`HybridCodec`]: tagged frames, rkyv with JSON fallback, legacy JSON |
//! | `lz4` (default) | [`Lz4`] compression (lz4_flex, pure safe Rust) |
//! | `zstd` (default) | [`Zstd`] and [`ZstdDict`] compression, [`ZstdDictionary`] training (builds zstd's C sources) |
//! | `tokio` | [`FrameCodec`] and friends: tokio-util `Encoder`/`Decoder` frames over any codec |
//!
//! [`Compressed`] and its [`Policy`] are always available; the algorithms are features.
//!
//! The `tokio` feature is not a default: turn it on for framed transports.
//!
//! ```toml
//! [dependencies]
//! zerocodec-codecs = { version = "0.1", features = ["tokio"] }
//! ```
//!
//! # Examples
//!
//! ```
//! use zerocodec::Codec;
//! use zerocodec_codecs::{JsonCodec, RkyvCodec};
//!
//! #[derive(serde::Serialize, serde::Deserialize, rkyv::Archive, rkyv::Serialize,
//!          rkyv::Deserialize, Debug, PartialEq)]
//! struct Hello { name: String }
//!
//! let msg = Hello { name: "zerocodec".into() };
//! let json = JsonCodec.encode(&msg)?;
//! let rkyv = RkyvCodec::new().encode(&msg)?;
//! assert_eq!(JsonCodec.decode::<Hello>(&json)?, msg);
//! assert_eq!(RkyvCodec::new().access::<Hello>(&rkyv)?.name, "zerocodec");
//! # Ok::<(), zerocodec::Error>(())
//! ```
//!
//! # Compression
//!
//! [`Compressed<C, X>`](Compressed) wraps any codec `C` and passes its encodings through a
//! transform `X`: [`Lz4`], [`Zstd`] or [`ZstdDict`]. Every transform guarantees:
//!
//! - **Never larger than raw.** Below [`Policy::min_size`], or when the compressed form does
//!   not save [`Policy::min_saving_percent`], the payload is stored raw and marked
//!   [`CompressionId::NONE`](zerocodec::CompressionId::NONE): a frame is at most the raw
//!   payload plus its header or prefix.
//! - **Bounded decompression.** Sizes read from the input (lz4's length prefix, zstd's frame
//!   content size) are untrusted: they are checked against
//!   [`Policy::max_decompressed_len`] *before* anything is allocated, and the output buffer is
//!   sized to the claim, so decompression cannot write past it either.
//! - **Typed errors.** Truncated, corrupt or oversized input, an unknown algorithm and an
//!   unknown or mismatched dictionary each give a [`zerocodec::Error`] of
//!   their own kind.
//! - **Reused state.** zstd contexts and lz4 hash tables live per thread and are reused for
//!   every message; scratch buffers are cleared after each use. In steady state compressing
//!   and decompressing allocate nothing.
//! - **Any transform reads any algorithm this build has.** The payload names its algorithm
//!   (and dictionary), so a [`Zstd`] reader also reads lz4 payloads; only the dictionaries a
//!   [`ZstdDict`] knows are readable.
//!
//! Integrity is not the compressor's job: lz4 blocks and zstd frames carry no checksum here
//! (4 bytes on a ~90 byte message is a lot), so a bit flip inside literal bytes can decode to
//! different bytes that the inner codec then validates like any other input. Use the hybrid
//! frame's checksum where corruption must be detected.
//!
//! ## Payload formats
//!
//! | algorithm | payload |
//! |---|---|
//! | [`CompressionId::NONE`](zerocodec::CompressionId::NONE) | the inner encoding, unchanged |
//! | [`CompressionId::LZ4`](zerocodec::CompressionId::LZ4) | decompressed length as an unsigned LEB128 varint (at most 10 bytes, shortest form), then one lz4 block |
//! | [`CompressionId::ZSTD`](zerocodec::CompressionId::ZSTD) | exactly one zstd frame that records its content size, and its dictionary id when the payload names a dictionary (which must match) |
//!
//! [`zerocodec`]: zerocodec
#![cfg_attr(
    not(feature = "tokio"),
    doc = "[`FrameCodec`]: https://docs.rs/zerocodec-codecs/latest/zerocodec_codecs/struct.FrameCodec.html"
)]

// The README's examples run as doctests, so the README cannot drift from the crate.
#[cfg(all(doctest, feature = "json", feature = "rkyv", feature = "lz4"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "json")]
mod as_json;
mod compress;
#[cfg(all(feature = "json", feature = "rkyv"))]
mod hybrid;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "json")]
mod json_value;
#[cfg(feature = "rkyv")]
mod rkyv;

#[cfg(feature = "json")]
pub use as_json::{AsJson, AsJsonResolver};
#[cfg(feature = "lz4")]
pub use compress::Lz4;
pub use compress::{
    Compressed, DEFAULT_MAX_DECOMPRESSED_LEN, DEFAULT_MAX_RATIO, DEFAULT_MIN_SAVING_PERCENT,
    DEFAULT_MIN_SIZE, Policy,
};
#[cfg(feature = "zstd")]
pub use compress::{
    DEFAULT_DICTIONARY_SIZE, DEFAULT_ZSTD_LEVEL, DictionaryRegistry, Zstd, ZstdDict, ZstdDictionary,
};
#[cfg(all(feature = "json", feature = "rkyv"))]
pub use hybrid::{FRAME_CONTENT_TYPE, HybridCodec, HybridMessage, Primary};
#[cfg(feature = "json")]
pub use json::{JSON_CONTENT_TYPE, JsonCodec};
#[cfg(feature = "json")]
pub use json_value::{
    ArchivedJsonEntry, ArchivedJsonValue, AsArchivedJson, JsonValueResolver, MAX_ENCODE_DEPTH,
};
#[cfg(feature = "rkyv")]
pub use rkyv::{RKYV_CONTENT_TYPE, RkyvCodec};
#[cfg(feature = "tokio")]
mod framed;
#[cfg(feature = "tokio")]
pub use framed::{
    ArchivedFrameDecoder, DEFAULT_MAX_FRAME_LEN, FrameCodec, FrameDecoder, FrameEncoder,
    LENGTH_PREFIX_LEN, SymmetricFrameCodec,
};
