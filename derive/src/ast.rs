//! The parsed shape of a message type: what the fingerprint is computed from.

use syn::{Attribute, DeriveInput, Expr, Generics, Ident, Type};

use crate::attr::{MessageAttrs, read_field_attrs};
use crate::ctxt::Ctxt;

/// A struct or enum that derives `Message`.
pub(crate) struct Container<'a> {
    /// The type's name.
    pub(crate) ident: &'a Ident,
    /// Its `#[message(...)]` attributes.
    pub(crate) attrs: MessageAttrs,
    /// Its other attributes (`repr`, `rkyv`, `serde`, ...), in source order.
    pub(crate) item_attrs: &'a [Attribute],
    /// Its generic parameters.
    pub(crate) generics: &'a Generics,
    /// Its fields or variants.
    pub(crate) data: Data<'a>,
}

/// A struct's fields or an enum's variants.
pub(crate) enum Data<'a> {
    /// A struct.
    Struct(Style, Vec<Field<'a>>),
    /// An enum.
    Enum(Vec<Variant<'a>>),
}

/// How fields are written.
#[derive(Clone, Copy)]
pub(crate) enum Style {
    /// `{ a: A, b: B }`
    Named,
    /// `(A, B)`
    Tuple,
    /// No fields.
    Unit,
}

/// One enum variant.
pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: &'a [Attribute],
    pub(crate) style: Style,
    pub(crate) fields: Vec<Field<'a>>,
    /// `= 3`, when written.
    pub(crate) discriminant: Option<&'a Expr>,
}

/// One field.
pub(crate) struct Field<'a> {
    /// The name, for named fields.
    pub(crate) ident: Option<&'a Ident>,
    pub(crate) attrs: &'a [Attribute],
    pub(crate) ty: &'a Type,
    /// `#[message(opaque = "...")]`: the name hashed instead of the type's fingerprint.
    pub(crate) opaque: Option<String>,
}

impl<'a> Container<'a> {
    /// Builds the model, recording an error for a union, for every `#[message]` on a variant
    /// and for every field `#[message]` other than `opaque`. Returns `None` only for a union.
    pub(crate) fn from_ast(
        cx: &mut Ctxt,
        input: &'a DeriveInput,
        attrs: MessageAttrs,
    ) -> Option<Self> {
        let data = match &input.data {
            syn::Data::Struct(data) => Data::Struct(style(&data.fields), fields(cx, &data.fields)),
            syn::Data::Enum(data) => Data::Enum(
                data.variants
                    .iter()
                    .map(|variant| {
                        reject_misplaced(cx, &variant.attrs, "an enum variant");
                        Variant {
                            ident: &variant.ident,
                            attrs: &variant.attrs,
                            style: style(&variant.fields),
                            fields: fields(cx, &variant.fields),
                            discriminant: variant.discriminant.as_ref().map(|(_, expr)| expr),
                        }
                    })
                    .collect(),
            ),
            syn::Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`Message` cannot be derived for a union: its bytes have no single shape \
                     to fingerprint; use a struct or an enum",
                );
                return None;
            }
        };
        Some(Container {
            ident: &input.ident,
            attrs,
            item_attrs: &input.attrs,
            generics: &input.generics,
            data,
        })
    }

    /// The message name: `#[message(name = "...")]`, or the type's own name.
    pub(crate) fn name(&self) -> String {
        use syn::ext::IdentExt;
        self.attrs
            .name
            .clone()
            .unwrap_or_else(|| self.ident.unraw().to_string())
    }
}

fn style(fields: &syn::Fields) -> Style {
    match fields {
        syn::Fields::Named(_) => Style::Named,
        syn::Fields::Unnamed(_) => Style::Tuple,
        syn::Fields::Unit => Style::Unit,
    }
}

fn fields<'a>(cx: &mut Ctxt, fields: &'a syn::Fields) -> Vec<Field<'a>> {
    fields
        .iter()
        .map(|field| Field {
            ident: field.ident.as_ref(),
            attrs: &field.attrs,
            ty: &field.ty,
            opaque: read_field_attrs(cx, &field.attrs),
        })
        .collect()
}

/// `#[message(...)]` describes the whole type (or, with `opaque`, a field); on a variant it
/// would be silently ignored.
fn reject_misplaced(cx: &mut Ctxt, attrs: &[Attribute], place: &str) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("message")) {
        cx.error_spanned_by(
            attr,
            format!("`#[message(...)]` belongs on the type, not on {place}"),
        );
    }
}
