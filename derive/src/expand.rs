//! Code generation: the `Message` impl, and the attribute macro's derives.

use proc_macro2::{Literal, TokenStream, TokenTree};
use quote::quote;
use syn::{DeriveInput, GenericParam, Meta, parse_quote};

use crate::ast::Container;
use crate::attr::{MessageAttrs, default_crate};
use crate::canon::{self, split_commas};
use crate::ctxt::Ctxt;

/// `#[derive(Message)]`.
pub(crate) fn derive_message(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let mut attrs = MessageAttrs::default();
    attrs.read_attrs(&mut cx, &input.attrs);
    // A derive cannot add derives: `bitcode` is the attribute macro's.
    if let Some(span) = attrs.bitcode {
        cx.error_spanned_by(
            quote::quote_spanned!(span=> bitcode),
            "`bitcode` asks `#[zerocodec::message]` to derive bitcode's `Encode` and `Decode`; \
             `#[derive(Message)]` cannot add derives: add `bitcode::Encode, bitcode::Decode` \
             to the type's `#[derive(...)]` instead",
        );
    }
    let container = Container::from_ast(&mut cx, input, attrs);
    match (cx.check(), container) {
        (Ok(()), Some(container)) => impl_message(&container),
        (Err(error), _) => error.to_compile_error(),
        // `from_ast` returns `None` only after recording an error.
        (Ok(()), None) => TokenStream::new(),
    }
}

/// `#[message(...)]` on an item: the serde and rkyv derives (and bitcode's, when asked) plus
/// the `Message` impl.
pub(crate) fn message_attribute(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut input: DeriveInput = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(_) => {
            let error =
                syn::Error::new_spanned(&item, "`#[message]` applies to a struct or an enum");
            let error = error.to_compile_error();
            return quote!(#item #error);
        }
    };
    let mut cx = Ctxt::default();
    let mut attrs = MessageAttrs::default();
    attrs.read_list(&mut cx, args);
    // `#[message(...)]` lines under the attribute read as its arguments.
    attrs.read_attrs(&mut cx, &input.attrs);
    input.attrs.retain(|attr| !attr.path().is_ident("message"));
    let container = Container::from_ast(&mut cx, &input, attrs);
    let (message_impl, krate, archived_debug, bitcode) = match (cx.check(), container) {
        (Ok(()), Some(container)) => (
            impl_message(&container),
            container.attrs.krate.clone().unwrap_or_else(default_crate),
            container.attrs.archived_debug.unwrap_or(true),
            container.attrs.bitcode.is_some(),
        ),
        (Err(error), _) => {
            // The item as written, so its own uses do not fail too.
            let error = error.to_compile_error();
            return quote!(#input #error);
        }
        (Ok(()), None) => return quote!(#input),
    };
    let mut derives: Vec<syn::Attribute> = vec![parse_quote! {
        #[derive(
            ::serde::Serialize,
            ::serde::Deserialize,
            #krate::rkyv::Archive,
            #krate::rkyv::Serialize,
            #krate::rkyv::Deserialize,
        )]
    }];
    // bitcode's own derives, from the user's `bitcode` dependency (as serde is theirs): the
    // payload of `BitcodeCodec` and of hybrid frames with `Primary::Bitcode`.
    if bitcode {
        derives.push(parse_quote!(#[derive(::bitcode::Encode, ::bitcode::Decode)]));
    }
    if !names_rkyv_key(&input.attrs, "crate") {
        derives.push(parse_quote!(#[rkyv(crate = #krate::rkyv)]));
    }
    // The archived type gets `Debug`, so that results holding views (`unwrap_err` on an
    // access) and the views themselves can be printed, unless told not to or already asked
    // for through rkyv's own `derive(...)`.
    if archived_debug && !names_rkyv_key(&input.attrs, "derive") {
        derives.push(parse_quote!(#[rkyv(derive(Debug))]));
    }
    input.attrs.splice(0..0, derives);
    quote! {
        #input
        #message_impl
    }
}

/// Whether the user already wrote `#[rkyv(key ...)]` (`crate = ...`, `derive(...)`).
fn names_rkyv_key(attrs: &[syn::Attribute], key: &str) -> bool {
    let is_crate_key = |entry: &Vec<TokenTree>| match entry.first() {
        Some(TokenTree::Ident(ident)) => ident == key,
        _ => false,
    };
    attrs.iter().any(|attr| match &attr.meta {
        Meta::List(list) if list.path.is_ident("rkyv") => {
            split_commas(list.tokens.clone()).iter().any(is_crate_key)
        }
        _ => false,
    })
}

/// The `impl Message`, inside `const _: () = { ... };`.
fn impl_message(container: &Container<'_>) -> TokenStream {
    let krate = container.attrs.krate.clone().unwrap_or_else(default_crate);
    let ident = container.ident;
    let name = container.name();
    let version = container.attrs.version.unwrap_or(0);
    // Hashed at compile time by zerocodec's own `const fn`, the one FNV-1a implementation.
    let description = Literal::byte_string(canon::describe(container).as_bytes());
    let base = quote!(#krate::fnv1a_64(#description));

    let mut generics = container.generics.clone();
    let mut parts = Vec::new();
    for param in &container.generics.params {
        match param {
            GenericParam::Type(param) => {
                let param = &param.ident;
                generics
                    .make_where_clause()
                    .predicates
                    .push(parse_quote!(#param: #krate::Message));
                parts.push(quote!(<#param as #krate::Message>::SCHEMA_FINGERPRINT));
            }
            GenericParam::Const(param) => {
                let param = &param.ident;
                parts.push(quote!(#param as u64));
            }
            GenericParam::Lifetime(_) => {}
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let fingerprint = if parts.is_empty() {
        quote!(#base)
    } else {
        quote! {{
            let __fingerprint: u64 = #base;
            #(let __fingerprint = #krate::combine_fingerprints(__fingerprint, #parts);)*
            __fingerprint
        }}
    };
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::Message for #ident #ty_generics #where_clause {
                const NAME: &'static str = #name;
                const VERSION: u32 = #version;
                #[allow(clippy::unnecessary_cast, reason = "const parameters of any integer type")]
                const SCHEMA_FINGERPRINT: u64 = #fingerprint;
            }
        };
    }
}
