//! Concrete codecs for [zerocodec](zerocodec): JSON and rkyv.
//!
//! Add `zerocodec` for the traits and this crate for the formats, as you would add serde and
//! serde_json. Each heavy dependency sits behind a feature:
//!
//! | feature | codec |
//! |---|---|
//! | `json` (default) | [`JsonCodec`], and [`AsJson`] for JSON fields inside rkyv archives |
//! | `rkyv` (default) | [`RkyvCodec`] |
//! | `json` + `rkyv` | [`HybridCodec`]: tagged frames, rkyv with JSON fallback, legacy JSON |
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

#[cfg(feature = "json")]
mod as_json;
#[cfg(all(feature = "json", feature = "rkyv"))]
mod hybrid;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "rkyv")]
mod rkyv;

#[cfg(feature = "json")]
pub use as_json::{AsJson, AsJsonResolver};
#[cfg(all(feature = "json", feature = "rkyv"))]
pub use hybrid::{FRAME_CONTENT_TYPE, HybridCodec, HybridMessage, Primary};
#[cfg(feature = "json")]
pub use json::{JSON_CONTENT_TYPE, JsonCodec};
#[cfg(feature = "rkyv")]
pub use rkyv::{RKYV_CONTENT_TYPE, RkyvCodec};
