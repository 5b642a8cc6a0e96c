//! `#[derive(Message)]` and `#[message]` for [zerocodec](https://docs.rs/zerocodec): a message
//! type's stable name and schema fingerprint.
//!
//! Use them through `zerocodec` with its `derive` feature (`zerocodec::Message`,
//! `zerocodec::message`), not from this crate directly: the generated code names
//! `::zerocodec`.
//!
//! # Attributes
//!
//! `#[message(name = "...", version = N, crate = "...", archived_debug = false, upgrade_from =
//! Type, bitcode)]` on the type, every key optional:
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `name` | `Message::NAME`, the name frames and errors use | the type's name |
//! | `version` | `Message::VERSION`, a declared schema version (a `u32`) | `0` |
//! | `crate` | the path the generated code names zerocodec by | `"::zerocodec"` |
//! | `bitcode` | the `#[message]` attribute macro also derives bitcode's `Encode` and `Decode` (from your own `bitcode` 0.6 dependency, with its `derive` feature), for `BitcodeCodec` and hybrid frames with a bitcode payload; `#[derive(Message)]` rejects it (a derive cannot add derives: derive bitcode's traits yourself). It does not change the fingerprint | off |
//! | `archived_debug` | whether the `#[message]` attribute macro derives `Debug` for the archived type (`#[rkyv(derive(Debug))]`), so that views and results holding them print | `true`, unless the type lists its own `#[rkyv(derive(...))]` |
//! | `upgrade_from` | the previous version of this message (a type, or a type in a string literal), which readers that opt in convert with `From`: `Versioned::Older` becomes `(Previous, <Previous as Versioned>::Older)` | none: `Older = ()` |
//!
//! and `#[message(opaque = "...")]` on a field, which leaves the field's type out of the
//! fingerprint and hashes the given name instead (for a type that has no `Schema` and that
//! you cannot give one; change the name when the type's shape changes).
//!
//! `#[derive(Message)]` implements `Message` only: it cannot add attributes to rkyv's derive,
//! nor know whether the type is archived at all (a JSON-only message need not be). With it,
//! write `#[rkyv(derive(Debug))]` yourself to print archived views.
//!
//! Unknown, repeated or ill-typed keys, `#[message]` on a variant, and unions are rejected;
//! every such mistake in one type is reported in the same build, each pointing at its tokens.
//! `upgrade_from = Previous` also checks that `From<Previous>` is implemented for the type.
//!
//! # What the derive implements
//!
//! `zerocodec::Schema` (the deep fingerprint), `zerocodec::Message` (`NAME`, `VERSION` and
//! `SCHEMA_FINGERPRINT`, which is the `Schema` fingerprint) and `zerocodec::Versioned` (the
//! older versions the type reads, from `upgrade_from`).
//!
//! # The fingerprint
//!
//! `SCHEMA_FINGERPRINT` covers the whole shape: the type's own definition and, recursively,
//! the shape of every field's type. It is FNV-1a 64 (offset basis `0xcbf29ce484222325`, prime
//! `0x100000001b3`) of a canonical description of the definition, folded with
//! `zerocodec::combine_fingerprints` with the `Schema` fingerprint of each field's type, in
//! field order (variant by variant for an enum), all in a `const` expression. The description
//! holds:
//!
//! - the message name and version;
//! - struct kind (named, tuple, unit), or each enum variant with its kind and any explicit
//!   discriminant;
//! - every field in order: its name (or index), and the name of an opaque field's shape;
//! - `#[repr(...)]`, and the `#[rkyv(...)]` and `#[serde(...)]` entries that change the
//!   archived layout or the JSON shape, on the type, its variants and its fields (`with`,
//!   `as`, `niche`, `attr`, `rename`, `rename_all`, `tag`, `flatten`, `skip`, `default`, ...).
//!   Entries known to change neither are left out: rkyv's `crate`, `derive`, `compare`,
//!   `bytecheck`, `archived`, `resolver`, `*_bounds`, `omit_bounds` and `getter`, and serde's
//!   `crate`, `bound`, `expecting`, `borrow` and `getter`. Any other entry counts.
//!
//! Field types are seen through their fingerprints, not as written: `u64` and an alias of it
//! agree, as do `String` and `std::string::String`, and a type moved to another module keeps
//! its fingerprint, while a change inside a field's type (two fields of a nested struct
//! swapped, a field retyped three levels down, a variant added to a nested enum) changes the
//! fingerprint of every message that holds it. A nested type's declared name is part of its
//! shape: renaming it changes the fingerprint unless `#[message(name = "...")]` keeps the old
//! name. Std types have fingerprints (see `zerocodec::Schema`); a field whose type has none
//! is a compile error that names the field.
//!
//! Left out: doc comments, visibility, generic parameter names, lifetimes, bounds and where
//! clauses, the `crate`, `archived_debug` and `upgrade_from` keys, and every other attribute
//! (`derive`, `allow`, ...).
//!
//! The same source gives the same fingerprint on every build, compiler and platform: no
//! `TypeId`, no addresses, no `std` hasher.
//!
//! # Recursive types
//!
//! A field that names the type itself (`Box<Self>`, `Vec<Tree>`, `Option<Box<List<T>>>`: the
//! type's own name as a one-segment path, or `Self`) is fingerprinted with a fixed stand-in
//! for the recursion, since a fingerprint cannot contain itself. Types that contain each other
//! (`A` holds a `B` that holds an `A`) make a cycle the compiler reports as such; break it with
//! `#[message(opaque = "...")]` on one of the fields.
//!
//! # Generics
//!
//! A generic type's fingerprint follows from its arguments through its fields: `Envelope<Chat>`
//! and `Envelope<Rpc>` differ because the field of type `T` does, and the impls require
//! `FieldType: Schema` for every field type that names a type parameter. `NAME` stays the
//! type's own name (`"Envelope"`).

// The README's example runs as a doctest, so the README cannot drift from the macros.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod ast;
mod attr;
mod canon;
mod ctxt;
mod expand;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `zerocodec::Message`: a stable `NAME`, a declared `VERSION` and a
/// `SCHEMA_FINGERPRINT` of the type's wire shape. See the crate docs for the attributes and
/// what the fingerprint covers.
#[proc_macro_derive(Message, attributes(message))]
pub fn derive_message(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_message(&input).into()
}

/// Declares a message in one line: adds `#[derive(serde::Serialize, serde::Deserialize,
/// rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]` and `#[rkyv(derive(Debug))]`, and
/// implements `Message`.
///
/// Its arguments are those of `#[message(...)]` (`name`, `version`, `crate`,
/// `archived_debug`, `bitcode`). With `bitcode` it also adds `#[derive(bitcode::Encode,
/// bitcode::Decode)]`, from the user's own `bitcode` dependency. serde is the
/// user's own `serde` dependency (with its `derive` feature); rkyv is zerocodec's re-export
/// (`#[rkyv(crate = zerocodec::rkyv)]` is added unless the type names its own rkyv crate).
/// Place it above the type's other attributes, including `#[derive]`.
#[proc_macro_attribute]
pub fn message(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::message_attribute(args.into(), item.into()).into()
}
