//! `#[derive(Message)]` and `#[message]` for [zerocodec](https://docs.rs/zerocodec): a message
//! type's stable name and schema fingerprint.
//!
//! Use them through `zerocodec` with its `derive` feature (`zerocodec::Message`,
//! `zerocodec::message`), not from this crate directly: the generated code names
//! `::zerocodec`.
//!
//! # Attributes
//!
//! `#[message(name = "...", version = N, crate = "...", archived_debug = false, bitcode)]`,
//! every key optional:
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `name` | `Message::NAME`, the name frames and errors use | the type's name |
//! | `version` | `Message::VERSION`, a declared schema version (a `u32`) | `0` |
//! | `crate` | the path the generated code names zerocodec by | `"::zerocodec"` |
//! | `bitcode` | the `#[message]` attribute macro also derives bitcode's `Encode` and `Decode` (from your own `bitcode` 0.6 dependency, with its `derive` feature), for `BitcodeCodec` and hybrid frames with a bitcode payload; `#[derive(Message)]` rejects it (a derive cannot add derives: derive bitcode's traits yourself). It does not change the fingerprint | off |
//! | `archived_debug` | whether the `#[message]` attribute macro derives `Debug` for the archived type (`#[rkyv(derive(Debug))]`), so that views and results holding them print | `true`, unless the type lists its own `#[rkyv(derive(...))]` |
//!
//! `#[derive(Message)]` implements `Message` only: it cannot add attributes to rkyv's derive,
//! nor know whether the type is archived at all (a JSON-only message need not be). With it,
//! write `#[rkyv(derive(Debug))]` yourself to print archived views.
//!
//! Unknown, repeated or ill-typed keys, `#[message]` on a field or variant, and unions are
//! rejected; every such mistake in one type is reported in the same build, each pointing at
//! its tokens.
//!
//! # The fingerprint
//!
//! `SCHEMA_FINGERPRINT` is FNV-1a 64 (offset basis `0xcbf29ce484222325`, prime
//! `0x100000001b3`) of a canonical description of the definition, computed when the macro
//! expands and written into the impl as a `u64` literal. The description holds what the wire
//! depends on:
//!
//! - the message name and version;
//! - struct kind (named, tuple, unit), or each enum variant with its kind and any explicit
//!   discriminant;
//! - every field in order: its name and its type as written;
//! - `#[repr(...)]`, and the `#[rkyv(...)]` and `#[serde(...)]` entries that change the
//!   archived layout or the JSON shape, on the type, its variants and its fields (`with`,
//!   `as`, `niche`, `attr`, `rename`, `rename_all`, `tag`, `flatten`, `skip`, `default`, ...).
//!   Entries known to change neither are left out: rkyv's `crate`, `derive`, `compare`,
//!   `bytecheck`, `archived`, `resolver`, `*_bounds`, `omit_bounds` and `getter`, and serde's
//!   `crate`, `bound`, `expecting`, `borrow` and `getter`. Any other entry counts.
//!
//! Left out: doc comments, visibility, lifetimes, bounds and where clauses, the `crate` and
//! `archived_debug` keys,
//! and every other attribute (`derive`, `allow`, ...). Types are compared as written, after
//! normalizing whitespace: `Vec<u8>` and `Vec < u8 >` agree, `String` and
//! `std::string::String` do not, and a change behind a type alias or inside a field's own
//! type is not seen (give that type its own fingerprint and version).
//!
//! The same source gives the same fingerprint on every build, compiler and platform: no
//! `TypeId`, no addresses, no `std` hasher.
//!
//! # Generics
//!
//! A generic type's fingerprint includes its arguments: the literal for the definition is
//! folded, in parameter order, with each type parameter's `<P as Message>::SCHEMA_FINGERPRINT`
//! and each const parameter's value (`N as u64`) by `zerocodec::combine_fingerprints`, in a
//! `const` expression. So `Envelope<Chat>` and `Envelope<Rpc>` differ, and the impl requires
//! `P: Message` for every type parameter. `NAME` stays the type's own name (`"Envelope"`).

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
