//! Code generation: the `Message` impl, and the attribute macro's derives.

use proc_macro2::{Literal, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, GenericArgument, Ident, Meta, PathArguments, Type, parse_quote};

use crate::ast::{Container, Data, Field};
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
    // Field `#[message(opaque = ...)]` is read above; no derive the attribute adds knows it.
    let mut output = input.clone();
    strip_field_attrs(&mut output);
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
            return quote!(#output #error);
        }
        (Ok(()), None) => return quote!(#output),
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
    output.attrs.splice(0..0, derives);
    quote! {
        #output
        #message_impl
    }
}

/// Removes `#[message(...)]` from every field of `input`.
fn strip_field_attrs(input: &mut DeriveInput) {
    let strip = |fields: &mut syn::Fields| {
        for field in fields.iter_mut() {
            field.attrs.retain(|attr| !attr.path().is_ident("message"));
        }
    };
    match &mut input.data {
        syn::Data::Struct(data) => strip(&mut data.fields),
        syn::Data::Enum(data) => data
            .variants
            .iter_mut()
            .for_each(|variant| strip(&mut variant.fields)),
        syn::Data::Union(_) => {}
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

/// The `impl Schema`, `impl Message` and `impl Versioned`, inside `const _: () = { ... };`.
fn impl_message(container: &Container<'_>) -> TokenStream {
    let krate = container.attrs.krate.clone().unwrap_or_else(default_crate);
    let ident = container.ident;
    let name = container.name();
    let version = container.attrs.version.unwrap_or(0);
    // Hashed at compile time by zerocodec's own `const fn`, the one FNV-1a implementation.
    let description = Literal::byte_string(canon::describe(container).as_bytes());
    let base = quote!(#krate::fnv1a_64(#description));

    let type_params: Vec<&Ident> = container
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect();
    let mut generics = container.generics.clone();
    let mut parts = Vec::new();
    // One uninhabited marker type per field, named after it, so that the error for a field
    // type without a fingerprint says which field it is (`FieldSchema<Field>` names `Field`).
    let mut markers = Vec::new();
    let mut variant_markers: Vec<(&Ident, Vec<Ident>)> = Vec::new();
    for (variant, field, index) in fields_with_names(container) {
        if field.opaque.is_some() {
            continue;
        }
        let ty = replace_self(field.ty, ident, &krate);
        if mentions_any(&ty, &type_params) {
            generics
                .make_where_clause()
                .predicates
                .push(parse_quote!(#ty: #krate::Schema));
        }
        let marker = match field.ident {
            Some(name) => name.clone(),
            None => format_ident!("_{}", index),
        };
        let path = match variant {
            Some(variant) => {
                match variant_markers
                    .iter_mut()
                    .find(|(name, _)| *name == variant)
                {
                    Some((_, list)) => list.push(marker.clone()),
                    None => variant_markers.push((variant, vec![marker.clone()])),
                }
                quote!(__zerocodec_fields::#variant::#marker)
            }
            None => {
                markers.push(quote!(pub(super) enum #marker {}));
                quote!(__zerocodec_fields::#marker)
            }
        };
        // Spanned at the field's type, so the error points at it.
        let span = field.ty.span();
        let field_schema = quote_spanned!(span=> #krate::__private::FieldSchema<#path>);
        parts.push(quote_spanned!(span=> <#ty as #field_schema>::FINGERPRINT));
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
    let (older, upgrade_check) = match &container.attrs.upgrade_from {
        Some(previous) => {
            let span = previous.span();
            let versioned = quote_spanned!(span=> #krate::Versioned);
            let check = quote_spanned! {span=>
                // `upgrade_from` needs the conversion the chain walks: a compile error here
                // says which `From` impl is missing.
                #[allow(dead_code)]
                fn __zerocodec_upgrade_from #impl_generics () #where_clause {
                    fn upgrade_from<Previous, Next: ::core::convert::From<Previous>>() {}
                    upgrade_from::<#previous, #ident #ty_generics>();
                }
            };
            (quote!((#previous, <#previous as #versioned>::Older)), check)
        }
        None => (quote!(()), TokenStream::new()),
    };
    for (variant, list) in variant_markers {
        markers.push(quote! {
            pub(super) mod #variant {
                #(pub(in super::super) enum #list {})*
            }
        });
    }
    let markers = (!markers.is_empty()).then(|| {
        quote! {
            #[allow(non_camel_case_types, non_snake_case, dead_code)]
            mod __zerocodec_fields {
                #(#markers)*
            }
        }
    });
    quote! {
        const _: () = {
            #markers
            #[automatically_derived]
            impl #impl_generics #krate::Schema for #ident #ty_generics #where_clause {
                const FINGERPRINT: u64 = #fingerprint;
            }
            #[automatically_derived]
            impl #impl_generics #krate::Message for #ident #ty_generics #where_clause {
                const NAME: &'static str = #name;
                const VERSION: u32 = #version;
                const SCHEMA_FINGERPRINT: u64 = <Self as #krate::Schema>::FINGERPRINT;
            }
            #[automatically_derived]
            impl #impl_generics #krate::Versioned for #ident #ty_generics #where_clause {
                type Older = #older;
            }
            #upgrade_check
        };
    }
}

/// Every field of `container` in fingerprint order, with its variant (for enums) and its
/// index among its siblings.
fn fields_with_names<'c, 'a>(
    container: &'c Container<'a>,
) -> Vec<(Option<&'a Ident>, &'c Field<'a>, usize)> {
    match &container.data {
        Data::Struct(_, fields) => fields
            .iter()
            .enumerate()
            .map(|(index, field)| (None, field, index))
            .collect(),
        Data::Enum(variants) => variants
            .iter()
            .flat_map(|variant| {
                variant
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(index, field)| (Some(variant.ident), field, index))
            })
            .collect(),
    }
}

/// `ty` with every mention of the type being defined (`Self`, or its own name as a
/// one-segment path, with or without arguments) replaced by zerocodec's stand-in for a
/// recursive reference: a type's fingerprint cannot contain its own.
fn replace_self(ty: &Type, ident: &Ident, krate: &syn::Path) -> Type {
    let mut ty = ty.clone();
    replace_in(&mut ty, ident, krate);
    ty
}

fn replace_in(ty: &mut Type, ident: &Ident, krate: &syn::Path) {
    match ty {
        Type::Path(path) => {
            if let Some(qself) = &mut path.qself {
                replace_in(&mut qself.ty, ident, krate);
            }
            let segments = &path.path.segments;
            if path.qself.is_none()
                && path.path.leading_colon.is_none()
                && segments.len() == 1
                && (segments[0].ident == *ident || segments[0].ident == "Self")
            {
                *ty = parse_quote!(#krate::__private::Recursive);
                return;
            }
            for segment in &mut path.path.segments {
                if let PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    for arg in &mut args.args {
                        if let GenericArgument::Type(ty) = arg {
                            replace_in(ty, ident, krate);
                        }
                    }
                }
            }
        }
        Type::Array(array) => replace_in(&mut array.elem, ident, krate),
        Type::Slice(slice) => replace_in(&mut slice.elem, ident, krate),
        Type::Reference(reference) => replace_in(&mut reference.elem, ident, krate),
        Type::Ptr(ptr) => replace_in(&mut ptr.elem, ident, krate),
        Type::Paren(paren) => replace_in(&mut paren.elem, ident, krate),
        Type::Group(group) => replace_in(&mut group.elem, ident, krate),
        Type::Tuple(tuple) => tuple
            .elems
            .iter_mut()
            .for_each(|elem| replace_in(elem, ident, krate)),
        _ => {}
    }
}

/// Whether `ty`'s tokens name any of `params` (so its `Schema` bound goes in the where
/// clause of a generic impl).
fn mentions_any(ty: &Type, params: &[&Ident]) -> bool {
    fn walk(tokens: TokenStream, params: &[&Ident]) -> bool {
        tokens.into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => params.iter().any(|param| ident == **param),
            TokenTree::Group(group) => walk(group.stream(), params),
            _ => false,
        })
    }
    !params.is_empty() && walk(ty.to_token_stream(), params)
}
