//! [`AsJson`]: an rkyv `with` wrapper that stores a serde value as JSON text in the archive
//! (see [`AsArchivedJson`](crate::AsArchivedJson) for the binary alternative).

use rkyv::Place;
use rkyv::rancor::{Fallible, Source};
use rkyv::ser::Writer;
use rkyv::string::{ArchivedString, StringResolver};
use rkyv::with::{ArchiveWith, DeserializeWith, SerializeWith};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zerocodec::Result;

/// Archives a field that rkyv cannot archive directly (such as `serde_json::Value`) as its
/// JSON text.
///
/// The archived field is an [`ArchivedString`] holding the JSON: zero-copy readers see the
/// text (and can parse it with [`AsJson::parse`]); `deserialize` parses it back into the
/// field's type. Use it as `#[rkyv(with = AsJson)]`.
///
/// # `AsJson` or [`AsArchivedJson`](crate::AsArchivedJson)?
///
/// - Pick **`AsJson`** (text) when readers pass the value on as JSON text (they get a `&str`
///   with no work), when the field is a serde type other than `serde_json::Value`, or when
///   the archive's size matters more than speed (text is often smaller).
/// - Pick **`AsArchivedJson`** (binary) for a `serde_json::Value` that rkyv readers look
///   into, or whenever encode and decode speed matter: `AsJson` pays all of JSON's costs
///   inside the rkyv archive (formatting into a new `String` on every encode, a full parse on
///   every decode), so a message with a JSON field encodes *slower* than plain JSON would.
///   `AsArchivedJson` writes a binary tree straight from the `Value` and reads it in place.
///
/// # Examples
///
/// ```
/// use zerocodec::prelude::*;
/// use zerocodec_codecs::{AsJson, RkyvCodec};
///
/// #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, Debug, PartialEq)]
/// struct Call {
///     method: String,
///     #[rkyv(with = AsJson)]
///     params: serde_json::Value,
/// }
///
/// let call = Call { method: "add".into(), params: serde_json::json!({"a": 1, "b": [2, 3]}) };
/// let codec = RkyvCodec::new();
/// let bytes = codec.encode(&call)?;
/// let view = codec.access(&bytes)?;
/// assert_eq!(view.params.as_str(), r#"{"a":1,"b":[2,3]}"#);
/// assert_eq!(codec.decode(&bytes)?, call);
/// # Ok::<(), zerocodec::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AsJson;

impl AsJson {
    /// Parses an archived JSON field into an owned value.
    ///
    /// # Errors
    ///
    /// As [`JsonCodec::decode`](crate::JsonCodec).
    pub fn parse<T: DeserializeOwned>(archived: &ArchivedString) -> Result<T> {
        serde_json::from_str(archived.as_str()).map_err(crate::json::decode_error::<T>)
    }
}

/// The resolver of an [`AsJson`] field: the archived text's position and the text itself,
/// which an inline (short) archived string needs again when resolved.
pub struct AsJsonResolver {
    string: StringResolver,
    text: String,
}

impl<F: Serialize> ArchiveWith<F> for AsJson {
    type Archived = ArchivedString;
    type Resolver = AsJsonResolver;

    fn resolve_with(_: &F, resolver: Self::Resolver, out: Place<Self::Archived>) {
        ArchivedString::resolve_from_str(&resolver.text, resolver.string, out);
    }
}

impl<F, S> SerializeWith<F, S> for AsJson
where
    F: Serialize,
    S: Fallible + Writer + ?Sized,
    S::Error: Source,
{
    fn serialize_with(field: &F, serializer: &mut S) -> Result<Self::Resolver, S::Error> {
        let text = crate::json::to_string(field).map_err(S::Error::new)?;
        let string = ArchivedString::serialize_from_str(&text, serializer)?;
        Ok(AsJsonResolver { string, text })
    }
}

impl<F, D> DeserializeWith<ArchivedString, F, D> for AsJson
where
    F: DeserializeOwned,
    D: Fallible + ?Sized,
    D::Error: Source,
{
    fn deserialize_with(field: &ArchivedString, _: &mut D) -> Result<F, D::Error> {
        serde_json::from_str(field.as_str()).map_err(D::Error::new)
    }
}
