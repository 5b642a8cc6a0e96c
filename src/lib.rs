//! Typed messages through interchangeable codecs.
//!
//! `zerocodec` is the core of the zerocodec family: the codec traits ([`Codec`], [`Encode`],
//! [`Decode`] and [`Access`], all in the [`prelude`]), the shared [`Error`] type, the buffers
//! codecs append to ([`EncodeBuf`], [`BufferPool`]), validated zero-copy access to rkyv
//! archives ([`OwnedArchive`], [`archive`]), the tagged [`frame`] format, and the
//! [`Message`] identity trait. Concrete codecs live in `zerocodec-codecs`, the way serde_json
//! lives beside serde.
//!
//! # Examples
//!
//! Read an rkyv archive in place, validated, with no parsing:
//!
//! ```
//! use zerocodec::{OwnedArchive, archive};
//!
//! #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, Debug, PartialEq)]
//! struct Ping { seq: u64, note: String }
//!
//! let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&Ping { seq: 7, note: "hi".into() })
//!     .unwrap();
//! let view = archive::access::<Ping>(&bytes)?; // validated, borrows `bytes`
//! assert_eq!(view.seq, 7);
//! assert_eq!(view.note, "hi");
//!
//! let owned = OwnedArchive::<Ping>::from_slice(&bytes)?; // validated once, owns a copy
//! assert_eq!(owned.deserialize()?, Ping { seq: 7, note: "hi".into() });
//! # Ok::<(), zerocodec::Error>(())
//! ```
//!
//! # Untrusted input
//!
//! Every decode path returns `Ok` or a typed [`Error`] whose [`ErrorKind`] a caller can act
//! on. Borrowed input that is not 16-byte aligned is never read in place: [`archive::access`]
//! rejects it with [`ErrorKind::Unaligned`], and the owned forms copy it once.

// Where other crates' docs link zerocodec items when these docs are not built beside them
// (`cargo doc -p zerocodec-codecs --no-deps`); kept equal to the package version (checked by
// ci/package.sh).
#![doc(html_root_url = "https://docs.rs/zerocodec/0.1.0")]

mod archived;
mod buf;
mod codec;
mod error;
pub mod frame;
// For zerocodec's own crates (frame lengths, lz4 payloads); not part of the API.
#[doc(hidden)]
pub mod leb128;
mod message;
mod metrics;
mod pool;
mod schema;
mod scratch;
mod validator;

/// Validated, in-place reads of rkyv archives.
pub mod archive {
    pub use crate::archived::{
        DEFAULT_MAX_DEPTH, access, access_with_depth, deserialize, deserialize_archived,
        is_aligned, with_aligned,
    };
}

/// The codec traits, for `use zerocodec::prelude::*;`: every call on a codec needs one of
/// them in scope.
pub mod prelude {
    pub use crate::codec::{Access, Codec, Decode, Encode};
}

pub use archived::{OwnedArchive, ZeroCopy, ZeroCopyDecode};
pub use buf::{ARCHIVE_ALIGN, EncodeBuf};
pub use codec::{Access, Codec, CodecId, CompressionId, Decode, Encode};
pub use error::{Error, ErrorKind, Result};
pub use message::{Message, combine_fingerprints, fnv1a_64};
pub use metrics::{Metered, Metrics, MetricsSnapshot};
pub use pool::{
    BufferPool, DEFAULT_INITIAL_CAPACITY, DEFAULT_MAX_BUFFERS, DEFAULT_MAX_RETAINED_CAPACITY,
    PoolConfig, PoolStats, PooledBuf,
};
pub use schema::{OlderVersions, Schema, Versioned};

/// Helpers for zerocodec's own crates, not part of the API: they may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::archived::rkyv_message;
    pub use crate::schema::{FieldSchema, Recursive};
    pub use crate::scratch::with_scratch;
    pub use crate::validator::CappedValidator;
}

/// Re-exported for [`Encode::encode`]'s return type.
pub use bytes;
/// Re-exported so users name the same rkyv the codecs were built against.
pub use rkyv;
/// `#[derive(Message)]`: see [`message`] for a one-line message declaration.
#[cfg(feature = "derive")]
pub use zerocodec_derive::Message;
/// Declares a message in one line: serde and rkyv derives plus [`Message`].
///
/// `#[zerocodec::message]` adds `#[derive(serde::Serialize, serde::Deserialize,
/// rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]` (serde from your own `serde`
/// dependency, rkyv from [`zerocodec::rkyv`](rkyv)) and implements [`Message`] as
/// `#[derive(Message)]` does. It takes the same arguments as `#[message(...)]`: `name`,
/// `version`, `crate`, `archived_debug`, `upgrade_from`, and `bitcode`, which also derives
/// bitcode's `Encode` and `Decode` (from your own `bitcode` dependency) for zerocodec-codecs'
/// bitcode payloads. Put it above the type's other attributes. Write
/// `#[derive(Message)]` yourself when you choose your own derives.
///
/// # Fingerprints
///
/// `SCHEMA_FINGERPRINT` hashes what the encoding depends on: the name and version, field
/// names and order, enum variants and discriminants, `#[repr]`, the `#[rkyv]` and `#[serde]`
/// options that change the bytes, and the [`Schema`] fingerprint of every field's type, so a
/// change inside a nested type changes it too. Doc comments, visibility and other attributes
/// are left out. A field whose type has no [`Schema`] is a compile error naming the field
/// (mark it `#[message(opaque = "a name")]` to leave its type out). The zerocodec-derive crate
/// docs list every rule.
///
/// # Versions
///
/// `#[message(version = 3, upgrade_from = ChatV2)]` declares the previous version of a
/// message ([`Versioned`]); readers that opt in decode its frames and convert them with
/// `From<ChatV2>`.
///
/// # Examples
///
/// ```
/// use zerocodec::Message;
/// use zerocodec::prelude::*;
/// use zerocodec_codecs::{JsonCodec, RkyvCodec};
///
/// #[zerocodec::message(version = 2)]
/// #[derive(Debug, PartialEq)]
/// struct Ping {
///     seq: u64,
///     note: String,
/// }
///
/// assert_eq!(Ping::NAME, "Ping");
/// assert_eq!(Ping::VERSION, 2);
///
/// let ping = Ping { seq: 7, note: "hi".into() };
/// let json = JsonCodec::new();
/// let text = json.encode(&ping)?;
/// assert_eq!(json.decode(&text)?, ping);
/// let rkyv = RkyvCodec::new();
/// let bytes = rkyv.encode(&ping)?;
/// assert_eq!(rkyv.access(&bytes)?.seq, 7);
///
/// // The plain derive, for types that pick their own derives:
/// #[derive(Message)]
/// #[message(name = "chat.Pong")]
/// struct Pong(u64);
///
/// assert_eq!(Pong::NAME, "chat.Pong");
/// assert_ne!(Pong::SCHEMA_FINGERPRINT, Ping::SCHEMA_FINGERPRINT);
/// # Ok::<(), zerocodec::Error>(())
/// ```
#[cfg(feature = "derive")]
pub use zerocodec_derive::message;
