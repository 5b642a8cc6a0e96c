//! Upgrade chains: reading the frames of older versions of a message, recognised by their
//! schema fingerprints, and converting them with `From`.
//!
//! A message type declares the versions it reads with [`Versioned`] (`#[message(upgrade_from
//! = ChatV2)]`); a frame codec that opts in ([`HybridCodec::with_upgrades`],
//! [`BatchCodec::with_upgrades`], or one version at a time with their `upgrade_from`) turns
//! that type-level list into a table of [`OlderVersion`]s once, when it is built. Reading a
//! frame whose fingerprint is not the current type's then looks the fingerprint up in the
//! table, decodes the payload as that version, and walks the `From` conversions in order, up
//! to the current type.
//!
//! Nothing here runs for a frame of the current version: the codecs' fast paths compare the
//! header with the one they expect, and only a frame that differs reaches the lookup.
//!
//! [`HybridCodec::with_upgrades`]: crate::HybridCodec::with_upgrades
//! [`BatchCodec::with_upgrades`]: crate::BatchCodec::with_upgrades

use std::fmt;
use std::marker::PhantomData;

use zerocodec::{Message, Result, Versioned, ZeroCopyDecode};

use crate::rkyv::RkyvCodec;
use zerocodec::prelude::*;

/// One older version of `T` that a reader accepts: its identity, and how to read its payloads
/// as a `T` (decode as the older type, then convert along the chain). Built by
/// [`UpgradeChain`]; not part of the API.
#[doc(hidden)]
pub struct OlderVersion<T> {
    /// `Message::NAME` of the older type.
    pub(crate) name: &'static str,
    /// `Message::VERSION` of the older type.
    pub(crate) version: u32,
    /// `Message::SCHEMA_FINGERPRINT` of the older type: what its frames carry.
    pub(crate) fingerprint: u64,
    /// Decodes an rkyv archive of the older type (any alignment, validated with the given
    /// nesting cap) and upgrades it.
    pub(crate) rkyv: fn(&[u8], usize) -> Result<T>,
    /// Decodes a JSON text of the older type and upgrades it, when the chain was built for a
    /// codec that reads JSON.
    #[cfg_attr(
        not(feature = "json"),
        allow(dead_code, reason = "read by the hybrid codec")
    )]
    pub(crate) json: Option<ReadJson<T>>,
}

/// Reads a JSON text of an older version as a `T`.
pub(crate) type ReadJson<T> = fn(&[u8]) -> Result<T>;

impl<T> Clone for OlderVersion<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for OlderVersion<T> {}

impl<T> fmt::Debug for OlderVersion<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` v{} ({:#018x})",
            self.name, self.version, self.fingerprint
        )
    }
}

/// The older versions a reader accepts, newest first, and what it reads legacy JSON as.
pub(crate) struct Upgrades<T> {
    pub(crate) older: Vec<OlderVersion<T>>,
}

impl<T> Upgrades<T> {
    pub(crate) const fn new() -> Self {
        Self { older: Vec::new() }
    }

    /// The older version whose frames carry `fingerprint`.
    pub(crate) fn find(&self, fingerprint: u64) -> Option<&OlderVersion<T>> {
        self.older
            .iter()
            .find(|older| older.fingerprint == fingerprint)
    }

    /// Adds `versions` after the ones already known, skipping fingerprints already there
    /// (the first registration of a fingerprint wins, so a chain declared twice is read once).
    pub(crate) fn extend(&mut self, versions: Vec<OlderVersion<T>>) {
        for version in versions {
            if self.find(version.fingerprint).is_none() {
                self.older.push(version);
            }
        }
    }

    /// Which version a frame whose header carries `found` (a fingerprint that is not the
    /// current version's) holds, among `upgrades`: the older version, or, when none matches,
    /// the text a `TypeMismatch` adds after the expected type (`" or an older version this
    /// reader upgrades from (...)"`, empty without upgrades). One lookup for every frame codec.
    pub(crate) fn resolve(upgrades: Option<&Self>, found: u64) -> Result<OlderVersion<T>, String>
    where
        OlderVersion<T>: Copy,
    {
        match upgrades {
            Some(upgrades) => match upgrades.find(found) {
                Some(older) => Ok(*older),
                None => Err(format!(
                    " or an older version this reader upgrades from ({})",
                    upgrades.describe()
                )),
            },
            None => Err(String::new()),
        }
    }

    /// `` `Chat` v2 (0x...), `Chat` v1 (0x...) ``, for error messages.
    pub(crate) fn describe(&self) -> String {
        self.older
            .iter()
            .map(|older| format!("{older:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl<T> Clone for Upgrades<T> {
    fn clone(&self) -> Self {
        Self {
            older: self.older.clone(),
        }
    }
}

impl<T> fmt::Debug for Upgrades<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.older).finish()
    }
}

/// What a chain's versions must be able to do for a codec: decode archives only (batches),
/// or archives and JSON (hybrid frames).
pub trait ReadMode: private::Sealed {}

/// The [`ReadMode`] of batches: each older version is read from rkyv archives.
#[derive(Debug)]
pub enum Archives {}

/// The [`ReadMode`] of hybrid frames: each older version is read from rkyv archives and from
/// JSON (JSON payloads and legacy JSON).
#[cfg(feature = "json")]
#[derive(Debug)]
pub enum Frames {}

impl ReadMode for Archives {}
#[cfg(feature = "json")]
impl ReadMode for Frames {}

/// A message version a codec of mode `M` can read: `Message` and rkyv's `Deserialize` for
/// [`Archives`], plus serde's `Deserialize` for [`Frames`]. Implemented for every such type.
pub trait ReadOlder<M: ReadMode>: Message + Sized {
    #[doc(hidden)]
    fn older_version<P: Path<Self, U>, U>() -> OlderVersion<U>;
}

impl<H: Message + ZeroCopyDecode> ReadOlder<Archives> for H {
    fn older_version<P: Path<Self, U>, U>() -> OlderVersion<U> {
        OlderVersion {
            name: H::NAME,
            version: H::VERSION,
            fingerprint: H::SCHEMA_FINGERPRINT,
            rkyv: read_rkyv::<H, P, U>,
            json: None,
        }
    }
}

#[cfg(feature = "json")]
impl<H: Message + ZeroCopyDecode + serde::de::DeserializeOwned> ReadOlder<Frames> for H {
    fn older_version<P: Path<Self, U>, U>() -> OlderVersion<U> {
        OlderVersion {
            name: H::NAME,
            version: H::VERSION,
            fingerprint: H::SCHEMA_FINGERPRINT,
            rkyv: read_rkyv::<H, P, U>,
            json: Some(read_json::<H, P, U>),
        }
    }
}

fn read_rkyv<H: Message + ZeroCopyDecode, P: Path<H, U>, U>(
    bytes: &[u8],
    max_depth: usize,
) -> Result<U> {
    let old = RkyvCodec::<H>::new()
        .with_max_depth(max_depth)
        .decode(bytes)
        .map_err(|err| err.renaming_type(std::any::type_name::<H>(), H::NAME))?;
    Ok(P::convert(old))
}

#[cfg(feature = "json")]
fn read_json<H: Message + serde::de::DeserializeOwned, P: Path<H, U>, U>(
    bytes: &[u8],
) -> Result<U> {
    let old: H = serde_json::from_slice(bytes)
        .map_err(|err| crate::json::decode_error_named(err, H::NAME))?;
    Ok(P::convert(old))
}

/// A list of older versions that upgrade, step by step, to `T`: `()`, or `(H, R)` where `T:
/// From<H>` and `R` upgrades to `H`. [`Versioned::Older`] is such a list; you never implement
/// this trait, and a missing `From` step shows up as an unmet bound on it.
#[diagnostic::on_unimplemented(
    message = "the older versions `{Self}` do not upgrade to `{T}`",
    note = "each version in the chain needs a `From` conversion from the version before it (`impl From<ChatV1> for ChatV2`), and every older version must be readable: `zerocodec::Message` and rkyv's `Deserialize` (and serde's `Deserialize` for a `HybridCodec`)"
)]
pub trait UpgradeChain<T, M: ReadMode> {
    #[doc(hidden)]
    fn collect<P: Path<T, U>, U>(out: &mut Vec<OlderVersion<U>>);
}

impl<T, M: ReadMode> UpgradeChain<T, M> for () {
    fn collect<P: Path<T, U>, U>(_: &mut Vec<OlderVersion<U>>) {}
}

impl<T, M, H, R> UpgradeChain<T, M> for (H, R)
where
    M: ReadMode,
    H: ReadOlder<M>,
    T: From<H>,
    R: UpgradeChain<H, M>,
{
    fn collect<P: Path<T, U>, U>(out: &mut Vec<OlderVersion<U>>) {
        out.push(H::older_version::<Then<H, T, P>, U>());
        R::collect::<Then<H, T, P>, U>(out);
    }
}

/// The table of `T`'s declared older versions, newest first.
pub(crate) fn declared<T, M>() -> Vec<OlderVersion<T>>
where
    T: Versioned,
    M: ReadMode,
    T::Older: UpgradeChain<T, M>,
{
    let mut out = Vec::new();
    <T::Older as UpgradeChain<T, M>>::collect::<Same, T>(&mut out);
    out
}

/// The table for `Old` and its own declared older versions, all upgrading to `T`.
pub(crate) fn from_version<T, Old, M>() -> Vec<OlderVersion<T>>
where
    Old: Versioned,
    M: ReadMode,
    (Old, Old::Older): UpgradeChain<T, M>,
{
    let mut out = Vec::new();
    <(Old, Old::Older) as UpgradeChain<T, M>>::collect::<Same, T>(&mut out);
    out
}

/// A conversion from `A` to `B` known by type: the composed `From` steps of a chain, so that
/// each table entry is a plain function pointer.
pub trait Path<A, B> {
    #[doc(hidden)]
    fn convert(a: A) -> B;
}

/// The empty path.
#[doc(hidden)]
#[derive(Debug)]
pub enum Same {}

impl<A> Path<A, A> for Same {
    fn convert(a: A) -> A {
        a
    }
}

/// `From<A> for M`, then `P` from `M`.
#[doc(hidden)]
pub struct Then<A, M, P>(PhantomData<fn(A) -> (M, P)>);

impl<A, M: From<A>, B, P: Path<M, B>> Path<A, B> for Then<A, M, P> {
    fn convert(a: A) -> B {
        P::convert(M::from(a))
    }
}

mod private {
    pub trait Sealed {}
    impl Sealed for super::Archives {}
    #[cfg(feature = "json")]
    impl Sealed for super::Frames {}
}
