//! Typed messages through interchangeable, stackable codecs.
//!
//! `zerocodec` is the core of the zerocodec family: the [`Codec`] and [`ZeroCopyCodec`]
//! traits, the shared [`Error`] type, the buffers codecs append to ([`EncodeBuf`]), validated
//! zero-copy access to rkyv archives ([`OwnedArchive`], [`archive::access`]), the byte
//! [`Transform`] seam that compression plugs into, and the [`Message`] identity trait.
//! Concrete codecs live in `zerocodec-codecs`, the way serde_json lives beside serde.
//!
//! # Examples
//!
//! Encode into a caller's buffer and read the value back in place, with no parsing:
//!
//! ```
//! use zerocodec::archive;
//!
//! #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, Debug, PartialEq)]
//! struct Ping { seq: u64, note: String }
//!
//! let mut buf = rkyv::util::AlignedVec::<16>::new();
//! # use zerocodec::EncodeBuf;
//! buf.append_archive(&Ping { seq: 7, note: "hi".into() })?;
//!
//! let view = archive::access::<Ping>(&buf)?; // validated, borrows `buf`
//! assert_eq!(view.seq, 7);
//! assert_eq!(view.note, "hi");
//!
//! let owned: Ping = archive::deserialize(&buf)?;
//! assert_eq!(owned.note, "hi");
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

pub mod archive;
pub mod batch;
mod batch_codec;
mod buf;
mod codec;
mod error;
pub mod frame;
mod message;
pub mod metrics;
mod pool;
pub mod transform;

pub use archive::{OwnedArchive, ZeroCopy, ZeroCopyDecode, ZeroCopyEncode};
pub use batch::{Batch, BatchBuilder, BatchIter, BatchRef};
pub use batch_codec::{BATCH_CONTENT_TYPE, BatchCodec};
pub use buf::{ARCHIVE_ALIGN, Appender, EncodeBuf, VecAppender};
pub use codec::{Codec, CodecId, ZeroCopyCodec};
pub use error::{Error, ErrorKind, Result};
pub use frame::{Frame, FrameHeader};
pub use message::Message;
pub use message::{combine_fingerprints, fnv1a_64};
pub use metrics::{Metered, Metrics, MetricsSnapshot};
pub use pool::{
    BufferPool, DEFAULT_INITIAL_CAPACITY, DEFAULT_MAX_BUFFERS, DEFAULT_MAX_RETAINED_CAPACITY,
    PoolConfig, PoolStats, PooledBuf,
};
pub use transform::{CompressionId, Transform};

/// Re-exported for [`Codec::encode`]'s return type.
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
/// `version` and `crate`. Put it above the type's other attributes. Write
/// `#[derive(Message)]` yourself when you choose your own derives.
///
/// # Fingerprints
///
/// `SCHEMA_FINGERPRINT` hashes what the encoding depends on: the name and version, field
/// names, types as written and order, enum variants and discriminants, `#[repr]`, and the
/// `#[rkyv]` and `#[serde]` options that change the bytes. Doc comments, visibility and other
/// attributes are left out. A generic type folds in its parameters' fingerprints (each type
/// parameter must be a [`Message`]). The zerocodec-derive crate docs list every rule.
///
/// # Examples
///
/// ```
/// use zerocodec::{Codec, Message};
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
/// let json = JsonCodec.encode(&ping)?;
/// assert_eq!(JsonCodec.decode::<Ping>(&json)?, ping);
/// let bytes = RkyvCodec::new().encode(&ping)?;
/// assert_eq!(RkyvCodec::new().access::<Ping>(&bytes)?.seq, 7);
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
