//! [`Schema`]: the deep schema fingerprint of a type, and its implementations for std types.
//!
//! A message's fingerprint covers its whole shape: `#[derive(Message)]` folds the fingerprint
//! of every field's type into the message's own, and each field type's fingerprint covers
//! *its* fields, down to the std types implemented here. So a change anywhere inside a
//! message (two fields of a nested struct swapped, a `u32` widened three levels down) changes
//! the outer fingerprint, and a reader refuses the frame instead of reading garbage.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::num::{
    NonZeroI8, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI128, NonZeroIsize, NonZeroU8,
    NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU128, NonZeroUsize,
};
use std::rc::Rc;
use std::sync::Arc;

use crate::message::{Message, combine_fingerprints, fnv1a_64};

/// A type's deep schema fingerprint: a 64-bit hash of everything its encoding depends on,
/// its fields' types included, recursively.
///
/// `#[derive(Message)]` implements it (and sets [`Message::SCHEMA_FINGERPRINT`] to it); std
/// types have it ([below](#how-std-types-are-fingerprinted)). A field whose type has no
/// `Schema` is a compile error; implement it for the type, or declare the field opaque with
/// `#[message(opaque = "a name")]` (then only that name is hashed, and changing the name is
/// how you say the field's shape changed).
///
/// # How std types are fingerprinted
///
/// Every fingerprint here is FNV-1a 64 ([`fnv1a_64`]) of `zerocodec-type/1 ` followed by the
/// type's name as listed below, folded with [`combine_fingerprints`] with the fingerprint of
/// each type argument in order (and, for arrays, the length as a `u64`):
///
/// | types | name |
/// |---|---|
/// | `u8` .. `u128`, `usize`, `i8` .. `i128`, `isize`, `f32`, `f64`, `bool`, `char`, `()` | as written (`()` is `unit`) |
/// | `NonZeroU8` .. `NonZeroI128` (`std::num`) | as written |
/// | `String`, `str` | `String`, `str` |
/// | `Box<T>`, `Arc<T>`, `Rc<T>`, `Option<T>`, `Vec<T>`, `VecDeque<T>`, `[T]` | `Box`, `Arc`, `Rc`, `Option`, `Vec`, `VecDeque`, `slice` |
/// | `Result<T, E>` | `Result` |
/// | `&T` (a message that is only written, as JSON) | `ref` |
/// | `[T; N]` | `array`, then `T`, then `N` |
/// | tuples of 1 to 12 elements | `tuple N`, then each element |
/// | `HashMap<K, V, S>`, `BTreeMap<K, V>`, `HashSet<T, S>`, `BTreeSet<T>` | `HashMap`, `BTreeMap`, `HashSet`, `BTreeSet` (the hasher is not on the wire) |
/// | `PhantomData<T>` | `PhantomData` (no bytes on the wire, whatever `T` is) |
/// | `serde_json::Value` (feature `serde_json`) | `serde_json::Value` |
///
/// Types whose archived layouts differ have different fingerprints even where their JSON is
/// the same (`Vec<T>` and `[T; N]`, `HashMap` and `BTreeMap`, `Box<T>` and `T`).
///
/// # Contract
///
/// The fingerprint is the same on every build and platform for the same definition (compute
/// it with [`fnv1a_64`] and [`combine_fingerprints`], never with `TypeId` or a std hasher),
/// and changes whenever a change to the type would change its encoding.
///
/// # Examples
///
/// A type from another crate, or one with a hand-written rkyv `Archive`, gets a fingerprint
/// by hand:
///
/// ```
/// use zerocodec::{Schema, fnv1a_64};
///
/// /// Seconds since the epoch, archived as a little-endian `u64`.
/// struct Timestamp(u64);
///
/// impl Schema for Timestamp {
///     const FINGERPRINT: u64 = fnv1a_64(b"myapp.Timestamp u64 seconds");
/// }
///
/// assert_ne!(Timestamp::FINGERPRINT, <u64 as Schema>::FINGERPRINT);
/// assert_ne!(<Vec<u8> as Schema>::FINGERPRINT, <[u8; 4] as Schema>::FINGERPRINT);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no zerocodec schema fingerprint",
    label = "the type of a field of a message must implement `zerocodec::Schema`",
    note = "derive `zerocodec::Message` for `{Self}` (or declare it with `#[zerocodec::message]`), implement `zerocodec::Schema` for it by hand, or mark the field `#[message(opaque = \"a name\")]` to leave its type out of the fingerprint"
)]
pub trait Schema {
    /// The fingerprint of the type's shape.
    const FINGERPRINT: u64;
}

/// The fingerprint of a std type named `name` with no type arguments.
const fn leaf(name: &[u8]) -> u64 {
    // `zerocodec-type/1 ` then the name, hashed as one byte string without allocating.
    const PREFIX: &[u8] = b"zerocodec-type/1 ";
    let mut bytes = [0u8; 64];
    let mut i = 0;
    while i < PREFIX.len() {
        bytes[i] = PREFIX[i];
        i += 1;
    }
    let mut j = 0;
    while j < name.len() {
        bytes[PREFIX.len() + j] = name[j];
        j += 1;
    }
    let (used, _) = bytes.split_at(PREFIX.len() + name.len());
    fnv1a_64(used)
}

macro_rules! leaves {
    ($($ty:ty => $name:literal),* $(,)?) => {
        $(impl Schema for $ty {
            const FINGERPRINT: u64 = leaf($name);
        })*
    };
}

leaves! {
    u8 => b"u8", u16 => b"u16", u32 => b"u32", u64 => b"u64", u128 => b"u128",
    usize => b"usize",
    i8 => b"i8", i16 => b"i16", i32 => b"i32", i64 => b"i64", i128 => b"i128",
    isize => b"isize",
    f32 => b"f32", f64 => b"f64", bool => b"bool", char => b"char", () => b"unit",
    NonZeroU8 => b"NonZeroU8", NonZeroU16 => b"NonZeroU16", NonZeroU32 => b"NonZeroU32",
    NonZeroU64 => b"NonZeroU64", NonZeroU128 => b"NonZeroU128",
    NonZeroUsize => b"NonZeroUsize",
    NonZeroI8 => b"NonZeroI8", NonZeroI16 => b"NonZeroI16", NonZeroI32 => b"NonZeroI32",
    NonZeroI64 => b"NonZeroI64", NonZeroI128 => b"NonZeroI128",
    NonZeroIsize => b"NonZeroIsize",
    String => b"String", str => b"str",
}

#[cfg(feature = "serde_json")]
leaves! { serde_json::Value => b"serde_json::Value" }

macro_rules! containers {
    ($($name:literal => $ty:ident<$($param:ident),+> $(, $extra:ident)?);* $(;)?) => {
        $(impl<$($param: Schema + ?Sized,)+ $($extra)?> Schema for $ty<$($param,)+ $($extra)?> {
            const FINGERPRINT: u64 = {
                let fingerprint = leaf($name);
                $(let fingerprint = combine_fingerprints(fingerprint, $param::FINGERPRINT);)+
                fingerprint
            };
        })*
    };
}

containers! {
    b"Box" => Box<T>;
    b"Arc" => Arc<T>;
    b"Rc" => Rc<T>;
}

macro_rules! sized_containers {
    ($($name:literal => $ty:ident<$($param:ident),+> $(, $extra:ident)?);* $(;)?) => {
        $(impl<$($param: Schema,)+ $($extra)?> Schema for $ty<$($param,)+ $($extra)?> {
            const FINGERPRINT: u64 = {
                let fingerprint = leaf($name);
                $(let fingerprint = combine_fingerprints(fingerprint, $param::FINGERPRINT);)+
                fingerprint
            };
        })*
    };
}

sized_containers! {
    b"Option" => Option<T>;
    b"Vec" => Vec<T>;
    b"VecDeque" => VecDeque<T>;
    b"Result" => Result<T, E>;
    b"BTreeMap" => BTreeMap<K, V>;
    b"BTreeSet" => BTreeSet<T>;
    b"HashMap" => HashMap<K, V>, S;
    b"HashSet" => HashSet<T>, S;
}

impl<T: Schema> Schema for [T] {
    const FINGERPRINT: u64 = combine_fingerprints(leaf(b"slice"), T::FINGERPRINT);
}

impl<T: Schema, const N: usize> Schema for [T; N] {
    const FINGERPRINT: u64 = combine_fingerprints(
        combine_fingerprints(leaf(b"array"), T::FINGERPRINT),
        N as u64,
    );
}

impl<T: Schema + ?Sized> Schema for &T {
    const FINGERPRINT: u64 = combine_fingerprints(leaf(b"ref"), T::FINGERPRINT);
}

impl<T: ?Sized> Schema for PhantomData<T> {
    const FINGERPRINT: u64 = leaf(b"PhantomData");
}

macro_rules! tuples {
    ($($name:literal => ($($param:ident),+));* $(;)?) => {
        $(impl<$($param: Schema),+> Schema for ($($param,)+) {
            const FINGERPRINT: u64 = {
                let fingerprint = leaf($name);
                $(let fingerprint = combine_fingerprints(fingerprint, $param::FINGERPRINT);)+
                fingerprint
            };
        })*
    };
}

tuples! {
    b"tuple 1" => (A);
    b"tuple 2" => (A, B);
    b"tuple 3" => (A, B, C);
    b"tuple 4" => (A, B, C, D);
    b"tuple 5" => (A, B, C, D, E);
    b"tuple 6" => (A, B, C, D, E, F);
    b"tuple 7" => (A, B, C, D, E, F, G);
    b"tuple 8" => (A, B, C, D, E, F, G, H);
    b"tuple 9" => (A, B, C, D, E, F, G, H, I);
    b"tuple 10" => (A, B, C, D, E, F, G, H, I, J);
    b"tuple 11" => (A, B, C, D, E, F, G, H, I, J, K);
    b"tuple 12" => (A, B, C, D, E, F, G, H, I, J, K, L);
}

/// [`Schema`] seen from a field named by the marker type `Field`: what `#[derive(Message)]`
/// asks for each field, so that a type without a fingerprint is reported with the name of
/// the field that holds it.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "field `{Field}` has type `{Self}`, which has no zerocodec schema fingerprint",
    label = "`{Self}` does not implement `zerocodec::Schema`",
    note = "derive `zerocodec::Message` for `{Self}` (or declare it with `#[zerocodec::message]`), implement `zerocodec::Schema` for it by hand, or mark the field `#[message(opaque = \"a name\")]` to leave its type out of the fingerprint"
)]
pub trait FieldSchema<Field> {
    /// `<Self as Schema>::FINGERPRINT`.
    const FINGERPRINT: u64;
}

impl<T: Schema + ?Sized, Field> FieldSchema<Field> for T {
    const FINGERPRINT: u64 = T::FINGERPRINT;
}

/// What stands for a type inside its own definition (`Box<Self>`, `Vec<Node>` in `Node`):
/// `#[derive(Message)]` fingerprints such a field with this in place of the type, since a
/// type's fingerprint cannot contain itself.
#[doc(hidden)]
pub enum Recursive {}

impl Schema for Recursive {
    const FINGERPRINT: u64 = leaf(b"recursive self");
}

/// A message type that is a new version of an older one, and reads it.
///
/// `#[derive(Message)]` implements it for every message: with `Older = ()` by default, and
/// with `#[message(upgrade_from = ChatV2)]` as `(ChatV2, <ChatV2 as Versioned>::Older)`, so
/// each version names only its predecessor and the chain follows: `ChatV3` reads `ChatV2`
/// and everything `ChatV2` reads. Each step is a `From` conversion (`From<ChatV2> for
/// ChatV3`, `From<ChatV1> for ChatV2`); a frame of `ChatV1` read as a `ChatV3` is decoded as a
/// `ChatV1` and converted twice, in order.
///
/// The chain is only declared here: a reader opts in with zerocodec-codecs'
/// `HybridCodec::with_upgrades` or `BatchCodec::with_upgrades` (and can add versions with
/// their `upgrade_from`), and recognises each older version by its schema fingerprint in the
/// frame header. `docs/evolution.md` in the repository is the playbook.
///
/// # Examples
///
/// By hand, for a message whose `Message` impl is hand-written:
///
/// ```
/// use zerocodec::{Message, Versioned};
///
/// struct PingV1 { seq: u32 }
/// struct PingV2 { seq: u64 }
///
/// impl Message for PingV1 {
///     const NAME: &'static str = "Ping";
///     const VERSION: u32 = 1;
///     const SCHEMA_FINGERPRINT: u64 = 0x5049_4e47_0000_0001;
/// }
/// impl Message for PingV2 {
///     const NAME: &'static str = "Ping";
///     const VERSION: u32 = 2;
///     const SCHEMA_FINGERPRINT: u64 = 0x5049_4e47_0000_0002;
/// }
/// impl Versioned for PingV1 {
///     type Older = ();
/// }
/// impl Versioned for PingV2 {
///     type Older = (PingV1, <PingV1 as Versioned>::Older);
/// }
/// impl From<PingV1> for PingV2 {
///     fn from(v1: PingV1) -> Self {
///         PingV2 { seq: u64::from(v1.seq) }
///     }
/// }
/// ```
pub trait Versioned: Message {
    /// The older versions this type reads, newest first, as a list of pairs ending in `()`:
    /// `(Previous, <Previous as Versioned>::Older)`, or `()` for a first version.
    type Older: OlderVersions;
}

/// The lists [`Versioned::Older`] holds: `()`, or `(H, R)` with `H` a [`Versioned`] message
/// and `R` such a list. Sealed.
pub trait OlderVersions: sealed::Sealed {
    /// How many versions the list holds.
    const LEN: usize;
}

impl OlderVersions for () {
    const LEN: usize = 0;
}

impl<H: Versioned, R: OlderVersions> OlderVersions for (H, R) {
    const LEN: usize = 1 + R::LEN;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for () {}
    impl<H: super::Versioned, R: super::OlderVersions> Sealed for (H, R) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_hashes_the_prefixed_name() {
        assert_eq!(leaf(b"u8"), fnv1a_64(b"zerocodec-type/1 u8"));
        assert_eq!(
            <Vec<u8> as Schema>::FINGERPRINT,
            combine_fingerprints(fnv1a_64(b"zerocodec-type/1 Vec"), leaf(b"u8"))
        );
    }
}
