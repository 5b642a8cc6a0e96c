//! The canonical description of a message type, the text its fingerprint starts from.
//!
//! The description is built from tokens as written, never from resolved types, so it is the
//! same on every build and platform. Each piece of user text is written as `LEN:TEXT` (bytes),
//! so no two different shapes can produce the same description. Version 2 of the layout:
//!
//! ```text
//! zerocodec-message/2
//! name LEN:NAME
//! version N
//! attr LEN:ATTR                             one per wire-relevant attribute entry
//! struct named|tuple|unit                   or `enum`, then one block per variant:
//! variant LEN:NAME named|tuple|unit
//! discriminant LEN:EXPR                     when written
//! vattr LEN:ATTR
//! field LEN:NAME                            named fields (`field INDEX` in tuples)
//! opaque LEN:NAME                           for a field marked `#[message(opaque = "NAME")]`
//! fattr LEN:ATTR
//! ```
//!
//! Field *types* are not in the text: the fingerprint is FNV-1a 64 of the description, folded
//! (`combine_fingerprints`) with the `Schema` fingerprint of each field's type, in the order
//! the fields appear, opaque fields skipped. So a type is seen through its own fingerprint,
//! whatever path or alias names it, and a change inside it changes every type that holds it.
//!
//! Token text is normalized: tokens are joined by single spaces and invisible groups (from
//! `macro_rules!` fragments) are flattened, so whitespace, line breaks and comments never
//! matter, while every identifier, punctuation mark and literal does.
//!
//! Wire-relevant attributes are `#[repr(...)]`, and the entries of `#[rkyv(...)]` and
//! `#[serde(...)]` except the ones known not to change bytes (see [`RKYV_NON_WIRE`] and
//! [`SERDE_NON_WIRE`]); an entry this list does not know counts, so a new layout option is
//! never missed. Doc comments, visibility, generic parameters, lifetimes, bounds,
//! `#[message(crate)]`, `upgrade_from` and every other attribute are left out.

use std::fmt::Write as _;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Attribute, Meta};

use crate::ast::{Container, Data, Field, Style};

/// `#[rkyv(...)]` entries that change neither the archived layout nor the bytes: paths,
/// names and bounds of generated items, and extra derives on the archived type.
const RKYV_NON_WIRE: &[&str] = &[
    "crate",
    "derive",
    "compare",
    "bytecheck",
    "archived",
    "resolver",
    "archive_bounds",
    "serialize_bounds",
    "deserialize_bounds",
    "omit_bounds",
    "getter",
];

/// `#[serde(...)]` entries that do not change the JSON a value is written as or read from.
const SERDE_NON_WIRE: &[&str] = &["crate", "bound", "expecting", "borrow", "getter"];

/// The canonical description of `container` (see the module docs).
pub(crate) fn describe(container: &Container<'_>) -> String {
    let mut out = String::from("zerocodec-message/2\n");
    line(&mut out, "name", &[&container.name()]);
    let _ = writeln!(out, "version {}", container.attrs.version.unwrap_or(0));
    attrs(&mut out, "attr", container.item_attrs);
    match &container.data {
        Data::Struct(style, fields) => {
            let _ = writeln!(out, "struct {}", style_name(*style));
            self::fields(&mut out, fields);
        }
        Data::Enum(variants) => {
            out.push_str("enum\n");
            for variant in variants {
                out.push_str("variant");
                atom(&mut out, &unraw(variant.ident));
                let _ = writeln!(out, " {}", style_name(variant.style));
                if let Some(discriminant) = variant.discriminant {
                    line(&mut out, "discriminant", &[&tokens_text(discriminant)]);
                }
                attrs(&mut out, "vattr", variant.attrs);
                self::fields(&mut out, &variant.fields);
            }
        }
    }
    out
}

fn fields(out: &mut String, fields: &[Field<'_>]) {
    for (index, field) in fields.iter().enumerate() {
        match field.ident {
            Some(ident) => line(out, "field", &[&unraw(ident)]),
            None => {
                let _ = writeln!(out, "field {index}");
            }
        }
        if let Some(name) = &field.opaque {
            line(out, "opaque", &[name]);
        }
        attrs(out, "fattr", field.attrs);
    }
}

/// Writes `tag LEN:A LEN:B ...` and a newline.
fn line(out: &mut String, tag: &str, parts: &[&str]) {
    out.push_str(tag);
    for part in parts {
        atom(out, part);
    }
    out.push('\n');
}

fn atom(out: &mut String, text: &str) {
    let _ = write!(out, " {}:{text}", text.len());
}

fn style_name(style: Style) -> &'static str {
    match style {
        Style::Named => "named",
        Style::Tuple => "tuple",
        Style::Unit => "unit",
    }
}

fn unraw(ident: &syn::Ident) -> String {
    ident.unraw().to_string()
}

/// One line per wire-relevant attribute entry, in source order.
fn attrs(out: &mut String, tag: &str, attrs: &[Attribute]) {
    for text in wire_attrs(attrs) {
        line(out, tag, &[&text]);
    }
}

/// The wire-relevant entries of `attrs`, each as normalized text like `rkyv(with = AsJson)`.
pub(crate) fn wire_attrs(attrs: &[Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    for attr in attrs {
        let path = attr.path();
        let non_wire = if path.is_ident("repr") {
            &[][..]
        } else if path.is_ident("rkyv") {
            RKYV_NON_WIRE
        } else if path.is_ident("serde") {
            SERDE_NON_WIRE
        } else {
            continue;
        };
        let Meta::List(list) = &attr.meta else {
            out.push(tokens_text(&attr.meta));
            continue;
        };
        let name = tokens_text(&list.path);
        for entry in split_commas(list.tokens.clone()) {
            let key = match entry.first() {
                Some(TokenTree::Ident(ident)) => ident.unraw().to_string(),
                _ => String::new(),
            };
            if !non_wire.contains(&key.as_str()) {
                let entry: TokenStream = entry.into_iter().collect();
                out.push(format!("{name}({})", tokens_text(&entry)));
            }
        }
    }
    out
}

/// Splits an attribute's argument tokens at top-level commas, dropping empty entries.
pub(crate) fn split_commas(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut entries = vec![Vec::new()];
    for tree in tokens {
        match &tree {
            TokenTree::Punct(punct) if punct.as_char() == ',' => entries.push(Vec::new()),
            _ => {
                if let Some(entry) = entries.last_mut() {
                    entry.push(tree);
                }
            }
        }
    }
    entries.retain(|entry| !entry.is_empty());
    entries
}

/// The normalized token text of `node` (see the module docs).
pub(crate) fn tokens_text<T: ToTokens + ?Sized>(node: &T) -> String {
    let mut out = String::new();
    write_tokens(&mut out, node.to_token_stream());
    out
}

fn write_tokens(out: &mut String, tokens: TokenStream) {
    for tree in tokens {
        match tree {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() {
                    space(out);
                    out.push_str(open);
                }
                write_tokens(out, group.stream());
                if !close.is_empty() {
                    space(out);
                    out.push_str(close);
                }
            }
            TokenTree::Ident(ident) => {
                space(out);
                out.push_str(&ident.to_string());
            }
            TokenTree::Punct(punct) => {
                space(out);
                out.push(punct.as_char());
            }
            TokenTree::Literal(literal) => {
                space(out);
                out.push_str(&literal.to_string());
            }
        }
    }
}

fn space(out: &mut String) {
    if !out.is_empty() {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::{tokens_text, wire_attrs};

    #[test]
    fn token_text_ignores_whitespace_and_keeps_every_token() {
        let spaced: syn::Type = parse_quote!(Vec<(u8, Option<i64>)>);
        let tight: syn::Type = parse_quote!(Vec<(u8, Option<i64>)>);
        assert_eq!(tokens_text(&spaced), tokens_text(&tight));
        assert_eq!(tokens_text(&tight), "Vec < ( u8 , Option < i64 > ) >");
        let qualified: syn::Type = parse_quote!(std::string::String);
        assert_eq!(tokens_text(&qualified), "std : : string : : String");
    }

    #[test]
    fn wire_attrs_keep_layout_options_and_drop_the_rest() {
        let attrs: Vec<syn::Attribute> = vec![
            parse_quote!(#[doc = "docs"]),
            parse_quote!(#[derive(Debug)]),
            parse_quote!(#[repr(C, align(8))]),
            parse_quote!(#[rkyv(derive(Debug), crate = ::rkyv, as = Other, compare(PartialEq))]),
            parse_quote!(#[serde(rename = "a,b", bound = "", crate = "serde")]),
            parse_quote!(#[serde]),
        ];
        assert_eq!(
            wire_attrs(&attrs),
            [
                "repr(C)",
                "repr(align ( 8 ))",
                "rkyv(as = Other)",
                "serde(rename = \"a,b\")",
                "serde",
            ]
        );
    }
}
