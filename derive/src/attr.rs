//! The `#[message(...)]` attribute: `name`, `version`, `crate`, `archived_debug`,
//! `upgrade_from` and `bitcode` on the type, `opaque` on a field.
//!
//! Every key is checked on its own, so one build reports every unknown, duplicate or
//! ill-typed key at once, each pointing at the offending tokens.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Lit, Meta, Token};

use crate::ctxt::Ctxt;

/// The keys `#[message(...)]` accepts, for error messages.
const KEYS: &str = "`name`, `version`, `crate`, `archived_debug`, `upgrade_from` or `bitcode`";

/// What the `#[message(...)]` attributes of one type declare.
#[derive(Default)]
pub(crate) struct MessageAttrs {
    /// `name = "..."`: the message name, when it is not the type's own name.
    pub(crate) name: Option<String>,
    /// `version = N`: the declared schema version.
    pub(crate) version: Option<u32>,
    /// `crate = "..."`: the path the generated code names zerocodec by.
    pub(crate) krate: Option<syn::Path>,
    /// `archived_debug = false`: the attribute macro leaves `Debug` off the archived type.
    pub(crate) archived_debug: Option<bool>,
    /// `upgrade_from = Previous`: the version this type reads and converts with `From`.
    pub(crate) upgrade_from: Option<syn::Type>,
    /// `bitcode`: the attribute macro also derives bitcode's `Encode` and `Decode` (where the
    /// key was written, for the derive's error).
    pub(crate) bitcode: Option<Span>,
    /// The keys already given, to report a repeated one.
    seen: Vec<String>,
}

impl MessageAttrs {
    /// Reads every `#[message(...)]` among `attrs`.
    pub(crate) fn read_attrs(&mut self, cx: &mut Ctxt, attrs: &[Attribute]) {
        for attr in attrs.iter().filter(|attr| attr.path().is_ident("message")) {
            match &attr.meta {
                Meta::List(list) => self.read_list(cx, list.tokens.clone()),
                Meta::Path(_) | Meta::NameValue(_) => cx.error_spanned_by(
                    attr,
                    "expected `#[message(key = value, ...)]` with a key among `name`, \
                     `version`, `crate`, `archived_debug`, `upgrade_from` and `bitcode`",
                ),
            }
        }
    }

    /// Reads a comma-separated `key = value` list (the attribute's or the attribute macro's).
    pub(crate) fn read_list(&mut self, cx: &mut Ctxt, tokens: TokenStream) {
        match Punctuated::<Entry, Token![,]>::parse_terminated.parse2(tokens) {
            Ok(entries) => entries
                .into_iter()
                .for_each(|entry| self.read_entry(cx, entry)),
            Err(error) => cx.syn_error(error),
        }
    }

    fn read_entry(&mut self, cx: &mut Ctxt, entry: Entry) {
        let key = entry.key.unraw().to_string();
        if !matches!(
            key.as_str(),
            "name" | "version" | "crate" | "archived_debug" | "upgrade_from" | "bitcode"
        ) {
            let hint = if key == "opaque" {
                " (`opaque` goes on a field)"
            } else {
                ""
            };
            cx.error_spanned_by(
                &entry.key,
                format!("unknown `message` attribute key `{key}`; expected {KEYS}{hint}"),
            );
            return;
        }
        if self.seen.contains(&key) {
            cx.error_spanned_by(
                &entry.key,
                format!("duplicate `message` attribute key `{key}`"),
            );
            return;
        }
        self.seen.push(key.clone());
        if key == "bitcode" {
            match entry.value {
                None => self.bitcode = Some(entry.key.span()),
                Some(value) => cx.error_spanned_by(
                    &value,
                    format!(
                        "`bitcode` takes no value: write `bitcode` alone, found {}",
                        describe(&value)
                    ),
                ),
            }
            return;
        }
        let expected = match key.as_str() {
            "name" => "a string literal, like `name = \"ChatMessage\"`",
            "version" => "an integer literal, like `version = 2`",
            "archived_debug" => "`true` or `false`",
            "upgrade_from" => "a type, like `upgrade_from = ChatV2`",
            _ => "a path in a string literal, like `crate = \"::zerocodec\"`",
        };
        let Some(value) = entry.value else {
            cx.error_spanned_by(&entry.key, format!("`{key}` needs a value: {expected}"));
            return;
        };
        match (key.as_str(), &value) {
            (
                "name",
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(lit), ..
                }),
            ) => {
                if lit.value().is_empty() {
                    cx.error_spanned_by(lit, "`name` must not be empty");
                } else {
                    self.name = Some(lit.value());
                }
            }
            (
                "version",
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Int(lit), ..
                }),
            ) => match lit.base10_parse::<u32>() {
                Ok(version) => self.version = Some(version),
                Err(_) => {
                    cx.error_spanned_by(lit, format!("`version` must fit in a u32, found `{lit}`"))
                }
            },
            (
                "crate",
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(lit), ..
                }),
            ) => match lit.parse::<syn::Path>() {
                Ok(path) => self.krate = Some(path),
                Err(_) => cx.error_spanned_by(
                    lit,
                    format!("`crate` expects {expected}, found {:?}", lit.value()),
                ),
            },
            (
                "archived_debug",
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Bool(lit),
                    ..
                }),
            ) => self.archived_debug = Some(lit.value),
            ("upgrade_from", Expr::Path(path)) if path.qself.is_none() => {
                self.upgrade_from = Some(syn::Type::Path(syn::TypePath {
                    qself: None,
                    path: path.path.clone(),
                }));
            }
            (
                "upgrade_from",
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(lit), ..
                }),
            ) => match lit.parse::<syn::Type>() {
                Ok(ty) => self.upgrade_from = Some(ty),
                Err(_) => cx.error_spanned_by(
                    lit,
                    format!("`upgrade_from` expects {expected}, found {:?}", lit.value()),
                ),
            },
            _ => cx.error_spanned_by(
                &value,
                format!("`{key}` expects {expected}, found {}", describe(&value)),
            ),
        }
    }
}

/// Reads a field's `#[message(opaque = "...")]`: the name that stands for the field's type in
/// the fingerprint, or `None`.
pub(crate) fn read_field_attrs(cx: &mut Ctxt, attrs: &[Attribute]) -> Option<String> {
    let mut opaque = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("message")) {
        let Meta::List(list) = &attr.meta else {
            cx.error_spanned_by(
                attr,
                "expected `#[message(opaque = \"a name\")]` on a field",
            );
            continue;
        };
        let entries =
            match Punctuated::<Entry, Token![,]>::parse_terminated.parse2(list.tokens.clone()) {
                Ok(entries) => entries,
                Err(error) => {
                    cx.syn_error(error);
                    continue;
                }
            };
        for entry in entries {
            let key = entry.key.unraw().to_string();
            if key != "opaque" {
                cx.error_spanned_by(
                    &entry.key,
                    format!(
                        "unknown `message` attribute key `{key}` on a field; expected `opaque` \
                         (the type's own keys go on the type)"
                    ),
                );
                continue;
            }
            if opaque.is_some() {
                cx.error_spanned_by(&entry.key, "duplicate `message` attribute key `opaque`");
                continue;
            }
            match &entry.value {
                Some(Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(lit), ..
                })) if !lit.value().is_empty() => opaque = Some(lit.value()),
                Some(Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(lit), ..
                })) => cx.error_spanned_by(lit, "`opaque` must not be empty"),
                Some(value) => cx.error_spanned_by(
                    value,
                    format!(
                        "`opaque` expects a string literal naming the field's shape, like \
                         `opaque = \"geo.Point/1\"`, found {}",
                        describe(value)
                    ),
                ),
                None => cx.error_spanned_by(
                    &entry.key,
                    "`opaque` needs a value: a string literal naming the field's shape, like \
                     `opaque = \"geo.Point/1\"`",
                ),
            }
        }
    }
    opaque
}

/// One `key` or `key = value` inside `#[message(...)]`.
struct Entry {
    key: syn::Ident,
    value: Option<Expr>,
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // `crate` is a keyword, so keys are read as any identifier.
        let key = syn::Ident::parse_any(input)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Entry { key, value })
    }
}

/// What kind of expression a user wrote, for "expected X, found Y" messages.
fn describe(expr: &Expr) -> &'static str {
    match expr {
        Expr::Lit(lit) => match lit.lit {
            Lit::Str(_) => "a string literal",
            Lit::Int(_) => "an integer literal",
            Lit::Float(_) => "a float literal",
            Lit::Bool(_) => "a boolean",
            Lit::Char(_) => "a character literal",
            _ => "a literal of another kind",
        },
        Expr::Path(_) => "a path",
        _ => "an expression",
    }
}

/// Where the generated code names zerocodec when no `crate = "..."` is given.
pub(crate) fn default_crate() -> syn::Path {
    syn::parse_quote_spanned!(Span::call_site()=> ::zerocodec)
}
