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

pub mod archive;
mod buf;
mod codec;
mod error;
pub mod frame;
mod message;
pub mod metrics;
pub mod transform;

pub use archive::{OwnedArchive, ZeroCopy, ZeroCopyDecode, ZeroCopyEncode};
pub use buf::{ARCHIVE_ALIGN, Appender, EncodeBuf};
pub use codec::{Codec, CodecId, ZeroCopyCodec};
pub use error::{Error, ErrorKind, Result};
pub use frame::{Frame, FrameHeader};
pub use message::Message;
pub use metrics::{Metered, Metrics, MetricsSnapshot};
pub use transform::{CompressionId, Transform};

/// Re-exported for [`Codec::encode`]'s return type.
pub use bytes;
/// Re-exported so users name the same rkyv the codecs were built against.
pub use rkyv;
