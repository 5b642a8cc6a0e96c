//! [`AsArchivedJson`]: an rkyv `with` wrapper that archives a `serde_json::Value` as a binary
//! JSON tree ([`ArchivedJsonValue`]) that readers walk in place.
//!
//! This module holds `unsafe` code: writing an archived enum variant needs a cast of the
//! output place to the variant's layout, as rkyv's own derive does (see [`variant`]), and
//! children are written into a scratch slice of rkyv's arena before being written out in one
//! piece (see [`serialize_children`]).

use std::alloc::Layout;
use std::fmt;
use std::mem::MaybeUninit;
use std::ops::Index;

use rkyv::bytecheck::CheckBytes;
use rkyv::munge::munge;
use rkyv::rancor::{Fallible, Source};
use rkyv::ser::{Allocator, Writer, WriterExt};
use rkyv::string::repr::INLINE_CAPACITY;
use rkyv::string::{ArchivedString, StringResolver};
use rkyv::validation::ArchiveContext;
use rkyv::vec::{ArchivedVec, VecResolver};
use rkyv::with::{ArchiveWith, DeserializeWith, SerializeWith};
use rkyv::{Archived, Place, Portable};
use serde_json::{Map, Number, Value};
use zerocodec::{Error, ErrorKind, Result};

/// Archives a `serde_json::Value` as a binary JSON tree: numbers stay binary, strings and
/// containers are rkyv strings and vectors, and a reader walks it in place with no parsing.
///
/// The archived field is an [`ArchivedJsonValue`]. Use it as `#[rkyv(with = AsArchivedJson)]`
/// on a `serde_json::Value` field.
///
/// # `AsArchivedJson` or [`AsJson`](crate::AsJson)?
///
/// - Pick **`AsArchivedJson`** (binary) when rkyv readers look *into* the value: reading a
///   member is a few pointer hops with no parsing, encoding writes numbers and strings
///   straight from the `Value` (no JSON formatting, no intermediate `String`), and decoding
///   builds the `Value` without a JSON parser. Floats round-trip bit for bit, and `u64`,
///   `i64` and `f64` numbers keep their kinds.
/// - Pick **`AsJson`** (text) when the value is passed on as JSON text (a reader that forwards
///   it to a JSON consumer gets a `&str` for free), when the field is any serde type rather
///   than a `Value`, or when compactness of large number-heavy values matters more than speed
///   (text is usually smaller than 16 bytes per node).
///
/// # Layout
///
/// Every node is 16 bytes: a one-byte tag and, after padding, an 8-byte payload (a number, an
/// inline or out-of-line string, or a relative pointer and length to the children). Objects
/// are vectors of [`ArchivedJsonEntry`] (key, value) in the map's iteration order (sorted keys
/// for serde_json's default `BTreeMap`, insertion order with its `preserve_order` feature).
///
/// # Validation
///
/// The archived tree is checked with bytecheck like any other archived field: tags, UTF-8,
/// bounds and alignment of every string and vector. Each nested array or object is one level
/// of the validator's depth cap ([`DEFAULT_MAX_DEPTH`](zerocodec::archive::DEFAULT_MAX_DEPTH),
/// 128, of which the archive's root takes one: a `Value` field of a root struct holds up to
/// 126 levels of arrays and objects), which bounds the recursion of validation, of
/// [`ArchivedJsonValue::to_value`] and of every walk over a validated view.
///
/// Encoding recurses once per level of the `Value`, and refuses values with more than
/// [`MAX_ENCODE_DEPTH`] levels of nested arrays and objects ([`ErrorKind::Encode`]), which
/// keeps the encoder's recursion small and everything it writes within the reader's default
/// cap (see [`MAX_ENCODE_DEPTH`]). A [`HybridCodec`](crate::HybridCodec) then writes the
/// message as JSON, whose reader accepts up to 127 levels; past that it refuses too, so no
/// encoder here writes what its own reader rejects.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use zerocodec::prelude::*;
/// use zerocodec_codecs::{AsArchivedJson, RkyvCodec};
///
/// #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, Debug, PartialEq)]
/// struct Call {
///     method: String,
///     #[rkyv(with = AsArchivedJson)]
///     params: serde_json::Value,
/// }
///
/// let call = Call { method: "add".into(), params: json!({"a": 1, "b": [2.5, "x"]}) };
/// let codec = RkyvCodec::new();
/// let bytes = codec.encode(&call)?;
///
/// // Read in place: no parsing, no allocation.
/// let view = codec.access(&bytes)?;
/// assert_eq!(view.params["a"].as_u64(), Some(1));
/// assert_eq!(view.params["b"][0].as_f64(), Some(2.5));
/// assert_eq!(view.params["b"][1].as_str(), Some("x"));
/// assert!(view.params["missing"].is_null());
///
/// // Or deserialize the whole value.
/// assert_eq!(codec.decode(&bytes)?, call);
/// # Ok::<(), zerocodec::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AsArchivedJson;

/// Most levels of nested arrays and objects [`AsArchivedJson`] encodes.
///
/// Chosen so that a reader with the default validation cap
/// ([`DEFAULT_MAX_DEPTH`](zerocodec::archive::DEFAULT_MAX_DEPTH), 128 levels) accepts every
/// value the encoder writes: the archive's root takes one level, the value's strings one
/// more, and the remaining 26 are left for where the field sits in its message (each `Vec`,
/// `Box` or out-of-line `String` around it is a level). A message type that nests a `Value`
/// more than 26 levels deep, which only a recursive type can, must raise its readers' cap
/// (`RkyvCodec::with_max_depth`).
pub const MAX_ENCODE_DEPTH: usize = 100;

const TAG_NULL: u8 = 0;
const TAG_BOOL: u8 = 1;
const TAG_U64: u8 = 2;
const TAG_I64: u8 = 3;
const TAG_F64: u8 = 4;
const TAG_STRING: u8 = 5;
const TAG_ARRAY: u8 = 6;
const TAG_OBJECT: u8 = 7;

/// A JSON value archived by [`AsArchivedJson`]: a zero-copy view a reader walks in place.
///
/// Accessors mirror `serde_json::Value`'s (`as_str`, `as_u64`, `get`, indexing with `["key"]`
/// and `[i]`, which give [`Null`](ArchivedJsonValue::Null) when absent). It implements
/// `serde::Serialize`, so `serde_json::to_string(view)` writes the JSON text without building
/// a `Value`, and compares equal to the `serde_json::Value` it was archived from.
#[derive(Debug, PartialEq, Portable, CheckBytes)]
#[bytecheck(
    crate = rkyv::bytecheck,
    bounds(__C: ArchiveContext, <__C as Fallible>::Error: Source)
)]
#[repr(u8)]
pub enum ArchivedJsonValue {
    /// `null`.
    Null = TAG_NULL,
    /// `true` or `false`.
    Bool(bool) = TAG_BOOL,
    /// A non-negative integer (serde_json keeps every non-negative integer as a `u64`).
    U64(Archived<u64>) = TAG_U64,
    /// A negative integer.
    I64(Archived<i64>) = TAG_I64,
    /// A floating-point number, bit for bit.
    F64(Archived<f64>) = TAG_F64,
    /// A string.
    String(ArchivedString) = TAG_STRING,
    /// An array.
    Array(#[bytecheck(omit_bounds)] ArchivedVec<ArchivedJsonValue>) = TAG_ARRAY,
    /// An object: its members in the map's order.
    Object(#[bytecheck(omit_bounds)] ArchivedVec<ArchivedJsonEntry>) = TAG_OBJECT,
}

/// One member of an archived JSON object.
#[derive(Debug, PartialEq, Portable, CheckBytes)]
#[bytecheck(
    crate = rkyv::bytecheck,
    bounds(__C: ArchiveContext, <__C as Fallible>::Error: Source)
)]
#[repr(C)]
pub struct ArchivedJsonEntry {
    /// The member's name.
    pub key: ArchivedString,
    /// The member's value.
    pub value: ArchivedJsonValue,
}

impl ArchivedJsonEntry {
    /// The member's name.
    #[inline]
    pub fn key(&self) -> &str {
        self.key.as_str()
    }

    /// The member's value.
    #[inline]
    pub fn value(&self) -> &ArchivedJsonValue {
        &self.value
    }
}

/// What absent members and out-of-range indexes read as.
static NULL: ArchivedJsonValue = ArchivedJsonValue::Null;

impl ArchivedJsonValue {
    /// True for `null`.
    #[inline]
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// The boolean, if this is one.
    #[inline]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// True for any number.
    #[inline]
    pub fn is_number(&self) -> bool {
        matches!(self, Self::U64(_) | Self::I64(_) | Self::F64(_))
    }

    /// The number as a `u64`, if it is an integer that fits (as `serde_json::Value::as_u64`).
    #[inline]
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Self::U64(n) => Some(n.to_native()),
            Self::I64(n) => u64::try_from(n.to_native()).ok(),
            _ => None,
        }
    }

    /// The number as an `i64`, if it is an integer that fits (as `serde_json::Value::as_i64`).
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::U64(n) => i64::try_from(n.to_native()).ok(),
            Self::I64(n) => Some(n.to_native()),
            _ => None,
        }
    }

    /// The number as an `f64`, converting integers (as `serde_json::Value::as_f64`).
    #[inline]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::U64(n) => Some(n.to_native() as f64),
            Self::I64(n) => Some(n.to_native() as f64),
            Self::F64(n) => Some(n.to_native()),
            _ => None,
        }
    }

    /// The string, if this is one.
    #[inline]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The array's elements, if this is an array.
    #[inline]
    pub fn as_array(&self) -> Option<&[ArchivedJsonValue]> {
        match self {
            Self::Array(items) => Some(items.as_slice()),
            _ => None,
        }
    }

    /// The object's members in order, if this is an object.
    #[inline]
    pub fn as_object(&self) -> Option<&[ArchivedJsonEntry]> {
        match self {
            Self::Object(entries) => Some(entries.as_slice()),
            _ => None,
        }
    }

    /// The object member called `key`; `None` if this is not an object or has no such member.
    ///
    /// A linear scan (objects in messages are small). If an archive names a key twice, the
    /// last one wins, as it does in [`to_value`](Self::to_value).
    pub fn get(&self, key: &str) -> Option<&ArchivedJsonValue> {
        self.as_object()?
            .iter()
            .rev()
            .find(|entry| entry.key.as_str() == key)
            .map(|entry| &entry.value)
    }

    /// The array element at `index`; `None` if this is not an array or it is too short.
    #[inline]
    pub fn get_index(&self, index: usize) -> Option<&ArchivedJsonValue> {
        self.as_array()?.get(index)
    }

    /// The object's `(key, value)` members in order; empty if this is not an object.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&str, &ArchivedJsonValue)> {
        self.as_object()
            .unwrap_or_default()
            .iter()
            .map(|entry| (entry.key.as_str(), &entry.value))
    }

    /// The JSON type's name (`null`, `boolean`, `number`, `string`, `array`, `object`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "boolean",
            Self::U64(_) | Self::I64(_) | Self::F64(_) => "number",
            Self::String(_) => "string",
            Self::Array(_) => "array",
            Self::Object(_) => "object",
        }
    }

    /// Deserializes an owned `serde_json::Value`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Corrupt`] if the archive holds a float JSON cannot represent (NaN or an
    /// infinity; [`AsArchivedJson`] never writes one, so the bytes were not made by it).
    pub fn to_value(&self) -> Result<Value> {
        let mut value = Value::Null;
        self.write_to(&mut value)?;
        Ok(value)
    }

    /// Builds the owned value in `out` (which is `Null`).
    ///
    /// Children are built in their final place (a slot pushed onto their array, or the map
    /// entry for their key) rather than returned: a `Value` returned through memory and
    /// moved at once is reloaded wider than it was stored, a CPU stall per node.
    fn write_to(&self, out: &mut Value) -> Result<()> {
        *out = match self {
            Self::Null => return Ok(()),
            Self::Bool(b) => Value::Bool(*b),
            Self::U64(n) => Value::Number(n.to_native().into()),
            Self::I64(n) => Value::Number(n.to_native().into()),
            Self::F64(n) => {
                let n = n.to_native();
                Value::Number(Number::from_f64(n).ok_or_else(|| non_finite(n))?)
            }
            Self::String(s) => Value::String(s.as_str().to_owned()),
            Self::Array(items) => {
                let mut array = Vec::with_capacity(items.len());
                for item in items.iter() {
                    array.push(Value::Null);
                    if let Some(slot) = array.last_mut() {
                        item.write_to(slot)?;
                    }
                }
                Value::Array(array)
            }
            Self::Object(entries) => {
                let mut map = Map::new();
                for entry in entries.iter() {
                    // A key named twice keeps its last value, as `get` reads it. (Collecting
                    // the members into a `Vec` for `BTreeMap`'s bulk build saves the key
                    // searches, about 4% of an rpc decode, for one more allocation per
                    // object than serde_json's own decoder makes.)
                    let slot = map
                        .entry(entry.key.as_str())
                        .and_modify(|value| *value = Value::Null)
                        .or_insert(Value::Null);
                    entry.value.write_to(slot)?;
                }
                Value::Object(map)
            }
        };
        Ok(())
    }

    /// This value as a `serde_json::Number`, if it is a number JSON can hold.
    fn to_number(&self) -> Option<Number> {
        match self {
            Self::U64(n) => Some(n.to_native().into()),
            Self::I64(n) => Some(n.to_native().into()),
            Self::F64(n) => Number::from_f64(n.to_native()),
            _ => None,
        }
    }
}

#[cold]
fn non_finite(n: f64) -> Error {
    Error::new(
        ErrorKind::Corrupt,
        format!("invalid archived json value: expected a finite number, found {n}"),
    )
}

impl Index<&str> for ArchivedJsonValue {
    type Output = ArchivedJsonValue;

    /// The member called `key`, or `Null` when absent (as `serde_json::Value` indexing).
    #[inline]
    fn index(&self, key: &str) -> &ArchivedJsonValue {
        self.get(key).unwrap_or(&NULL)
    }
}

impl Index<usize> for ArchivedJsonValue {
    type Output = ArchivedJsonValue;

    /// The element at `index`, or `Null` when absent (as `serde_json::Value` indexing).
    #[inline]
    fn index(&self, index: usize) -> &ArchivedJsonValue {
        self.get_index(index).unwrap_or(&NULL)
    }
}

impl PartialEq<Value> for ArchivedJsonValue {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Self::Null, Value::Null) => true,
            (Self::Bool(a), Value::Bool(b)) => a == b,
            (Self::String(a), Value::String(b)) => a.as_str() == b,
            (Self::Array(a), Value::Array(b)) => a.as_slice() == b.as_slice(),
            (Self::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, (key, value))| x.key.as_str() == key && x.value == *value)
            }
            (_, Value::Number(b)) => self.to_number().as_ref() == Some(b),
            _ => false,
        }
    }
}

impl PartialEq<ArchivedJsonValue> for Value {
    #[inline]
    fn eq(&self, other: &ArchivedJsonValue) -> bool {
        other == self
    }
}

impl serde::Serialize for ArchivedJsonValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::U64(n) => serializer.serialize_u64(n.to_native()),
            Self::I64(n) => serializer.serialize_i64(n.to_native()),
            Self::F64(n) => serializer.serialize_f64(n.to_native()),
            Self::String(s) => serializer.serialize_str(s.as_str()),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for entry in entries.iter() {
                    map.serialize_entry(entry.key.as_str(), &entry.value)?;
                }
                map.end()
            }
        }
    }
}

/// The resolver of an [`AsArchivedJson`] field.
///
/// Like every rkyv resolver it belongs to the value it was serialized from: resolving it with
/// another value panics.
pub struct JsonValueResolver {
    inner: Resolved,
}

impl fmt::Debug for JsonValueResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JsonValueResolver")
    }
}

/// What a node needs at resolve time besides the value itself: where its out-of-line parts
/// went (scalars are read from the value again).
enum Resolved {
    Scalar,
    String(StringResolver),
    Container(VecResolver),
}

/// One variant of [`ArchivedJsonValue`] as laid out in memory: a `repr(u8)` enum is a
/// `repr(C)` union of `repr(C)` structs, each the `u8` tag followed by the variant's fields
/// (the Rust reference, "Primitive representation of enums with fields").
#[repr(C)]
struct Variant<T> {
    tag: u8,
    value: T,
}

/// Writes `tag` into `out` and returns the place of the variant's field, of type `T`.
///
/// `T` must be the field type of the variant `tag` names, or the archive is invalid (and a
/// reader's validation rejects it); memory safety needs only that a `Variant<T>` fits inside
/// an `ArchivedJsonValue`, which is checked at compile time.
#[inline]
fn variant<T>(out: Place<ArchivedJsonValue>, tag: u8) -> Place<T> {
    const {
        assert!(size_of::<Variant<T>>() <= size_of::<ArchivedJsonValue>());
        assert!(align_of::<Variant<T>>() <= align_of::<ArchivedJsonValue>());
    }
    // SAFETY: `out` points to initialized (zeroed) bytes of an `ArchivedJsonValue`, properly
    // aligned for it; `Variant<T>` is no larger and no more aligned (asserted above), so the
    // place is valid for it too. This is the cast rkyv's derive makes for enum variants.
    let out = unsafe { out.cast_unchecked::<Variant<T>>() };
    munge!(let Variant { tag: out_tag, value } = out);
    out_tag.write(tag);
    value
}

/// `0xff` in every byte past the first `len` of a `u64` (little-endian), for `len` up to 8.
const INLINE_FILL: [u64; 16] = {
    let mut fill = [0; 16];
    let mut len = 0;
    while len < 8 {
        fill[len] = u64::MAX << (8 * len);
        len += 1;
    }
    fill
};

/// Writes `s`, at most [`INLINE_CAPACITY`] bytes long, as an inline archived string: its
/// bytes, then `0xff` in every byte it does not fill. This is the representation
/// `ArchivedString::resolve_from_str` writes for such a string (rkyv's `emplace_inline`),
/// built in a register from at most three loads rather than with a `memset` and a
/// variable-length `memcpy` call per string (most keys and many values of a JSON object are
/// that short). A unit test holds it byte for byte to rkyv's.
///
/// # Safety
///
/// `out` must be valid for writes of 8 bytes (any alignment).
#[inline(always)]
unsafe fn write_inline_str(s: &str, out: *mut ArchivedString) {
    const { assert!(INLINE_CAPACITY == 8 && size_of::<ArchivedString>() == 8) };
    let b = s.as_bytes();
    let len = b.len();
    debug_assert!(len <= INLINE_CAPACITY);
    let bytes: u64 = if let (Some(lo), Some(hi)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        // Four to eight bytes: the first four and the last four, overlapping.
        u64::from(u32::from_le_bytes(*lo)) | u64::from(u32::from_le_bytes(*hi)) << (8 * (len - 4))
    } else if let (Some(&first), Some(&last)) = (b.first(), b.last()) {
        // One to three bytes: the first, the middle and the last, overlapping.
        u64::from(first)
            | u64::from(b[len / 2]) << (8 * (len / 2))
            | u64::from(last) << (8 * (len - 1))
    } else {
        0
    };
    // `0xff` in the bytes past the string (none when it fills all eight), by table: `len` is
    // at most 8, and the mask keeps the index in bounds without a check.
    let fill = INLINE_FILL[len & (INLINE_FILL.len() - 1)];
    // SAFETY: `out` is valid for writes of 8 bytes (the caller's contract), and `[u8; 8]` has
    // no alignment requirement; an `ArchivedString` is 8 plain bytes (asserted above).
    unsafe { out.cast::<[u8; 8]>().write((bytes | fill).to_le_bytes()) };
}

#[cold]
#[inline(never)]
fn mismatched(value: &Value) -> ! {
    panic!(
        "a JsonValueResolver was resolved with a {} value it was not serialized from",
        kind_of(value)
    )
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn resolve_value(value: &Value, resolver: Resolved, out: Place<ArchivedJsonValue>) {
    match (value, resolver) {
        (Value::Null, Resolved::Scalar) => {
            variant::<()>(out, TAG_NULL);
        }
        (Value::Bool(b), Resolved::Scalar) => variant::<bool>(out, TAG_BOOL).write(*b),
        (Value::Number(n), Resolved::Scalar) => match classify(n) {
            Some(JsonNumber::U64(n)) => variant::<Archived<u64>>(out, TAG_U64).write(n.into()),
            Some(JsonNumber::I64(n)) => variant::<Archived<i64>>(out, TAG_I64).write(n.into()),
            Some(JsonNumber::F64(n)) => variant::<Archived<f64>>(out, TAG_F64).write(n.into()),
            None => mismatched(value),
        },
        (Value::String(s), Resolved::String(resolver)) => {
            ArchivedString::resolve_from_str(s, resolver, variant(out, TAG_STRING));
        }
        (Value::Array(items), Resolved::Container(resolver)) => {
            ArchivedVec::<ArchivedJsonValue>::resolve_from_len(
                items.len(),
                resolver,
                variant(out, TAG_ARRAY),
            );
        }
        (Value::Object(map), Resolved::Container(resolver)) => {
            ArchivedVec::<ArchivedJsonEntry>::resolve_from_len(
                map.len(),
                resolver,
                variant(out, TAG_OBJECT),
            );
        }
        _ => mismatched(value),
    }
}

/// A JSON number as archived.
enum JsonNumber {
    U64(u64),
    I64(i64),
    F64(f64),
}

/// How `n` is archived: `u64` if it is a non-negative integer, `i64` if a negative one, `f64`
/// if finite; `None` for what the archive cannot hold (serde_json's `arbitrary_precision`
/// numbers beyond `f64`).
#[inline]
fn classify(n: &Number) -> Option<JsonNumber> {
    if let Some(n) = n.as_u64() {
        Some(JsonNumber::U64(n))
    } else if let Some(n) = n.as_i64() {
        Some(JsonNumber::I64(n))
    } else {
        n.as_f64().filter(|f| f.is_finite()).map(JsonNumber::F64)
    }
}

/// Serializes the root `value`'s out-of-line parts (string bytes, children) and records where
/// they went in `out` (which starts as [`Resolved::Scalar`]); [`resolve_value`] writes the root
/// node itself once rkyv gives it its place.
fn serialize_node<S>(value: &Value, serializer: &mut S, out: &mut Resolved) -> Result<(), S::Error>
where
    S: Fallible + Writer + Allocator + ?Sized,
    S::Error: Source,
{
    match value {
        Value::Null | Value::Bool(_) => {}
        Value::Number(n) => {
            if classify(n).is_none() {
                return Err(S::Error::new(unrepresentable(n)));
            }
        }
        Value::String(s) => {
            *out = Resolved::String(ArchivedString::serialize_from_str(s, serializer)?);
        }
        Value::Array(items) => {
            let depth = nest(0)?;
            let children = items.iter().map(|value| NodeRef { value, depth });
            *out = Resolved::Container(serialize_children(children, serializer)?);
        }
        Value::Object(map) => {
            let depth = nest(0)?;
            let children = map
                .iter()
                .map(|(key, value)| EntryRef { key, value, depth });
            *out = Resolved::Container(serialize_children(children, serializer)?);
        }
    }
    Ok(())
}

/// The depth of a container's children, or an error past [`MAX_ENCODE_DEPTH`].
#[inline]
fn nest<E: Source>(depth: usize) -> Result<usize, E> {
    if depth < MAX_ENCODE_DEPTH {
        Ok(depth + 1)
    } else {
        Err(E::new(too_deep()))
    }
}

#[cold]
fn too_many_children(len: usize) -> Error {
    Error::new(
        ErrorKind::Encode,
        format!(
            "cannot archive json value: expected a container whose archive fits in memory, \
             found one of {len} elements"
        ),
    )
}

#[cold]
fn too_deep() -> Error {
    Error::new(
        ErrorKind::Encode,
        format!(
            "cannot archive json value: expected at most {MAX_ENCODE_DEPTH} levels of nested \
             arrays and objects, found more"
        ),
    )
}

#[cold]
fn unrepresentable(n: &Number) -> Error {
    Error::new(
        ErrorKind::Encode,
        format!("cannot archive json number {n}: expected a u64, an i64 or a finite f64"),
    )
}

/// What is left to write of a child node once its siblings' out-of-line parts are written:
/// the parts that point at out-of-line data, which need the node's final position.
enum Pending<'a> {
    /// Nothing: a scalar or an inline string, written in full on the first pass.
    Done,
    /// An out-of-line string.
    String(&'a str, StringResolver),
    /// An array of `len` items.
    Array(usize, VecResolver),
    /// An object of `len` members.
    Object(usize, VecResolver),
}

/// An element of a container while it is serialized: an array item or an object member.
trait Child<'a> {
    /// The element's archived form.
    type Archived;
    /// What is left to write once the element's final position is known.
    type Pending;

    /// Serializes the element's out-of-line parts, writes whatever of the element does not
    /// depend on its position into `out` (a zeroed slot), and initializes `pending` with
    /// the rest, first thing (so it is initialized even when an error is returned).
    ///
    /// The pending entry is written in place rather than returned: a value returned through
    /// memory and reloaded at once, wider than it was stored, stalls the CPU (store
    /// forwarding) once per node.
    fn serialize_into<S>(
        &self,
        serializer: &mut S,
        out: *mut Self::Archived,
        pending: &mut MaybeUninit<Self::Pending>,
    ) -> Result<(), S::Error>
    where
        S: Fallible + Writer + Allocator + ?Sized,
        S::Error: Source;

    /// Writes the rest of the element at its final place; `pending` is not used again.
    fn finish(pending: &Self::Pending, out: Place<Self::Archived>);
}

/// Writes what of `value` does not depend on its position into `out`, a zeroed slot, after
/// serializing its out-of-line parts; `pending` (which is [`Pending::Done`]) gets the rest.
/// `depth` is the number of containers around `value`.
#[inline(always)]
fn serialize_child_node<'a, S>(
    value: &'a Value,
    depth: usize,
    serializer: &mut S,
    out: *mut ArchivedJsonValue,
    pending: &mut Pending<'a>,
) -> Result<(), S::Error>
where
    S: Fallible + Writer + Allocator + ?Sized,
    S::Error: Source,
{
    // SAFETY: `out` is a zeroed, aligned slot for an `ArchivedJsonValue` in the container's
    // scratch slice (see `serialize_children`). Only position-free parts are written through
    // this place (a tag, a scalar, an inline string), so its position is never read; the
    // final position is given in `finish`.
    let place = unsafe { Place::new_unchecked(0, out) };
    match value {
        Value::Null => {
            variant::<()>(place, TAG_NULL);
        }
        Value::Bool(b) => variant::<bool>(place, TAG_BOOL).write(*b),
        Value::Number(n) => match classify(n) {
            Some(JsonNumber::U64(n)) => variant::<Archived<u64>>(place, TAG_U64).write(n.into()),
            Some(JsonNumber::I64(n)) => variant::<Archived<i64>>(place, TAG_I64).write(n.into()),
            Some(JsonNumber::F64(n)) => variant::<Archived<f64>>(place, TAG_F64).write(n.into()),
            None => return Err(S::Error::new(unrepresentable(n))),
        },
        Value::String(s) => {
            if s.len() <= INLINE_CAPACITY {
                let out = variant::<ArchivedString>(place, TAG_STRING);
                // SAFETY: `out` is the place of the variant's `ArchivedString`, inside the
                // node being written: valid for writes of its 8 bytes.
                unsafe { write_inline_str(s, out.ptr()) };
            } else {
                let resolver = ArchivedString::serialize_from_str(s, serializer)?;
                *pending = Pending::String(s, resolver);
            }
        }
        Value::Array(_) | Value::Object(_) => {
            serialize_container(value, depth, serializer, pending)?;
        }
    }
    Ok(())
}

/// Serializes a nested array or object: out of line, so that the scalar arms of
/// [`serialize_child_node`], which recursion would otherwise keep out of line, inline into the
/// loop over their siblings (a function call per scalar node is as much work as the node).
#[inline(never)]
fn serialize_container<'a, S>(
    value: &'a Value,
    depth: usize,
    serializer: &mut S,
    pending: &mut Pending<'a>,
) -> Result<(), S::Error>
where
    S: Fallible + Writer + Allocator + ?Sized,
    S::Error: Source,
{
    let depth = nest(depth)?;
    match value {
        Value::Array(items) => {
            let children = items.iter().map(|value| NodeRef { value, depth });
            *pending = Pending::Array(items.len(), serialize_children(children, serializer)?);
        }
        Value::Object(map) => {
            let children = map
                .iter()
                .map(|(key, value)| EntryRef { key, value, depth });
            *pending = Pending::Object(map.len(), serialize_children(children, serializer)?);
        }
        _ => {}
    }
    Ok(())
}

/// Writes the position-dependent rest of a child node at its final place.
///
/// Takes the pending entry by reference, so entries with nothing pending cost one compare
/// (not a copy of the whole entry); the resolvers are read out of it with `take_resolver`.
#[inline(always)]
fn finish_child_node(pending: &Pending<'_>, out: Place<ArchivedJsonValue>) {
    match pending {
        Pending::Done => {}
        Pending::String(s, resolver) => {
            ArchivedString::resolve_from_str(s, take_resolver(resolver), variant(out, TAG_STRING));
        }
        Pending::Array(len, resolver) => {
            ArchivedVec::<ArchivedJsonValue>::resolve_from_len(
                *len,
                take_resolver(resolver),
                variant(out, TAG_ARRAY),
            );
        }
        Pending::Object(len, resolver) => {
            ArchivedVec::<ArchivedJsonEntry>::resolve_from_len(
                *len,
                take_resolver(resolver),
                variant(out, TAG_OBJECT),
            );
        }
    }
}

/// A resolver moved out of a pending entry that is not used again: rkyv's resolvers are
/// consumed by value but are neither `Copy` nor `Clone`.
///
/// Only for [`PlainResolver`]s: positions in the output, with no ownership or drop glue, whose
/// bits may be duplicated without harm, so this is a safe function.
#[inline(always)]
fn take_resolver<R: PlainResolver>(resolver: &R) -> R {
    const { assert!(!std::mem::needs_drop::<R>()) };
    // SAFETY: `resolver` is valid for reads, and `R` is plain data (positions; the
    // `PlainResolver` impls below), so a bitwise copy is a valid, independent `R`.
    unsafe { std::ptr::read(resolver) }
}

/// Resolvers that are plain data: positions of already-written bytes, nothing owned.
trait PlainResolver {}
impl PlainResolver for StringResolver {}
impl PlainResolver for VecResolver {}

/// An array item borrowed from its `Vec` while it is serialized, with its nesting depth.
struct NodeRef<'a> {
    value: &'a Value,
    depth: usize,
}

impl<'a> Child<'a> for NodeRef<'a> {
    type Archived = ArchivedJsonValue;
    type Pending = Pending<'a>;

    #[inline(always)]
    fn serialize_into<S>(
        &self,
        serializer: &mut S,
        out: *mut ArchivedJsonValue,
        pending: &mut MaybeUninit<Pending<'a>>,
    ) -> Result<(), S::Error>
    where
        S: Fallible + Writer + Allocator + ?Sized,
        S::Error: Source,
    {
        let pending = pending.write(Pending::Done);
        serialize_child_node(self.value, self.depth, serializer, out, pending)
    }

    #[inline(always)]
    fn finish(pending: &Pending<'a>, out: Place<ArchivedJsonValue>) {
        finish_child_node(pending, out);
    }
}

/// An object member borrowed from a `serde_json::Map` while it is serialized.
struct EntryRef<'a> {
    key: &'a String,
    value: &'a Value,
    depth: usize,
}

/// What is left to write of an object member: its key, if out of line, and its value.
struct EntryPending<'a> {
    key: Option<(&'a str, StringResolver)>,
    value: Pending<'a>,
}

impl<'a> Child<'a> for EntryRef<'a> {
    type Archived = ArchivedJsonEntry;
    type Pending = EntryPending<'a>;

    #[inline(always)]
    fn serialize_into<S>(
        &self,
        serializer: &mut S,
        out: *mut ArchivedJsonEntry,
        pending: &mut MaybeUninit<EntryPending<'a>>,
    ) -> Result<(), S::Error>
    where
        S: Fallible + Writer + Allocator + ?Sized,
        S::Error: Source,
    {
        let pending = pending.write(EntryPending {
            key: None,
            value: Pending::Done,
        });
        if self.key.len() <= INLINE_CAPACITY {
            // SAFETY: `out` is an aligned, writable slot for an entry in the container's
            // scratch slice, so its `key` field is valid for writes of its 8 bytes.
            unsafe { write_inline_str(self.key, &raw mut (*out).key) };
        } else {
            let key = ArchivedString::serialize_from_str(self.key, serializer)?;
            pending.key = Some((self.key.as_str(), key));
        }
        // SAFETY: `out` points to an entry slot (above); its `value` field is inside it.
        let value = unsafe { &raw mut (*out).value };
        serialize_child_node(
            self.value,
            self.depth,
            serializer,
            value,
            &mut pending.value,
        )
    }

    #[inline(always)]
    fn finish(pending: &EntryPending<'a>, out: Place<ArchivedJsonEntry>) {
        munge!(let ArchivedJsonEntry { key, value } = out);
        if let Some((s, resolver)) = &pending.key {
            ArchivedString::resolve_from_str(s, take_resolver(resolver), key);
        }
        finish_child_node(&pending.value, value);
    }
}

/// Serializes a container's elements and writes them as one archived slice, walking the
/// container once: what `ArchivedVec::serialize_from_iter` does, arranged so the CPU does not
/// stall on it and nothing is computed twice.
///
/// rkyv resolves each element into a zeroed stack slot and copies it out at once, so the CPU
/// reloads, as one wide load, bytes it has just stored piecewise (a tag byte, a 4-byte
/// offset, ...): a store-forwarding stall per element. Here the elements are written into one
/// zeroed scratch slice from rkyv's arena (no heap allocation when the arena is warm), which
/// is written with one call. The single walk over the container serializes each element's
/// out-of-line parts and writes at once whatever of it does not depend on where the slice
/// will land (tags, numbers, booleans, inline strings: most of a typical JSON object); only
/// pointers to out-of-line strings and to nested containers wait for the slice's position,
/// and are written from a compact list of what is pending, not by walking the map again.
fn serialize_children<'a, C, I, S>(items: I, serializer: &mut S) -> Result<VecResolver, S::Error>
where
    C: Child<'a>,
    I: ExactSizeIterator<Item = C>,
    S: Fallible + Writer + Allocator + ?Sized,
    S::Error: Source,
{
    const {
        assert!(size_of::<C::Archived>() > 0 && size_of::<C::Pending>() > 0);
        assert!(!std::mem::needs_drop::<C::Pending>());
    }
    let len = items.len();
    if len == 0 {
        return Ok(VecResolver::from_pos(
            serializer.align_for::<C::Archived>()?,
        ));
    }
    // One arena block: the archived elements, then what is pending of each. A container too
    // large for its block to be addressed is refused, never a panic.
    let (layout, pending_at) = Layout::array::<C::Archived>(len)
        .and_then(|archived| archived.extend(Layout::array::<C::Pending>(len)?))
        .map_err(|_| S::Error::new(too_many_children(len)))?;
    // SAFETY: `layout` has a non-zero size (`len > 0`, both element types sized, asserted).
    let block = unsafe { serializer.push_alloc(layout)? }.cast::<u8>();
    let archived = block.as_ptr().cast::<C::Archived>();
    // SAFETY: `pending_at` is inside the block (`Layout::extend` placed the pending array
    // there, aligned for its type).
    let pending = unsafe { block.as_ptr().add(pending_at) }.cast::<MaybeUninit<C::Pending>>();
    let result = write_children(items, len, archived, pending, serializer);
    // SAFETY: the block was pushed above with this layout, and everything `write_children`
    // pushed on top of it is popped again before it returns.
    unsafe { serializer.pop_alloc(block, layout)? };
    result
}

/// [`serialize_children`]'s two passes over an arena block of `len` archived elements and
/// `len` pending entries: the walk over `items` (at most `len` of them are taken), then the
/// pending parts, once the slice's position is known.
#[inline(always)]
fn write_children<'a, C, I, S>(
    items: I,
    len: usize,
    archived: *mut C::Archived,
    pending: *mut MaybeUninit<C::Pending>,
    serializer: &mut S,
) -> Result<VecResolver, S::Error>
where
    C: Child<'a>,
    I: Iterator<Item = C>,
    S: Fallible + Writer + Allocator + ?Sized,
    S::Error: Source,
{
    let mut written = 0;
    for item in items.take(len) {
        // SAFETY: at most `len` items are taken, so `written < len` and both slots are
        // inside the block; zeroing one element's slot writes inside it.
        let (out, rest) = unsafe {
            let out = archived.add(written);
            out.write_bytes(0, 1);
            (out, &mut *pending.add(written))
        };
        item.serialize_into(serializer, out, rest)?;
        written += 1;
    }
    // An iterator that yielded fewer than it announced leaves zeroed (invalid) elements: the
    // archive is wrong, which a reader's validation rejects, but no byte is uninitialized.
    let pos = serializer.align_for::<C::Archived>()?;
    for i in 0..written {
        // SAFETY: `i < written <= len`: the element slot was zeroed and the pending entry
        // initialized by the loop above (`serialize_into` initializes it first thing). The
        // slice is written at `pos` below, so element `i` lands at the position given.
        unsafe {
            let rest = (*pending.add(i)).assume_init_ref();
            let out = Place::new_unchecked(pos + i * size_of::<C::Archived>(), archived.add(i));
            C::finish(rest, out);
        }
    }
    for i in written..len {
        // SAFETY: `i < len`: the slot is inside the block.
        unsafe { archived.add(i).write_bytes(0, 1) };
    }
    // SAFETY: the first `len` elements of the block are initialized bytes: zeroed, then
    // written only through `Place`, which never writes uninitialized bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts(archived.cast::<u8>(), len * size_of::<C::Archived>())
    };
    serializer.write(bytes)?;
    Ok(VecResolver::from_pos(pos))
}

impl ArchiveWith<Value> for AsArchivedJson {
    type Archived = ArchivedJsonValue;
    type Resolver = JsonValueResolver;

    #[inline]
    fn resolve_with(field: &Value, resolver: JsonValueResolver, out: Place<ArchivedJsonValue>) {
        resolve_value(field, resolver.inner, out);
    }
}

impl<S> SerializeWith<Value, S> for AsArchivedJson
where
    S: Fallible + Writer + Allocator + ?Sized,
    S::Error: Source,
{
    #[inline]
    fn serialize_with(field: &Value, serializer: &mut S) -> Result<JsonValueResolver, S::Error> {
        let mut inner = Resolved::Scalar;
        serialize_node(field, serializer, &mut inner)?;
        Ok(JsonValueResolver { inner })
    }
}

impl<D> DeserializeWith<ArchivedJsonValue, Value, D> for AsArchivedJson
where
    D: Fallible + ?Sized,
    D::Error: Source,
{
    fn deserialize_with(field: &ArchivedJsonValue, _: &mut D) -> Result<Value, D::Error> {
        field.to_value().map_err(D::Error::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_strings_are_written_as_rkyv_writes_them() {
        let strings = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdef",
            "abcdefg",
            "abcdefgh",
            "é",
            "día",
            "ü€",
            "\u{10FFFF}",
        ];
        for s in strings {
            let mut ours = [0u8; 8];
            // SAFETY: `ours` is 8 writable bytes.
            unsafe { write_inline_str(s, ours.as_mut_ptr().cast()) };
            // rkyv's own: an inline string archived alone is its 8-byte representation.
            let theirs = rkyv::to_bytes::<rkyv::rancor::Error>(&s.to_owned()).unwrap();
            assert_eq!(&ours[..], &theirs[theirs.len() - 8..], "{s:?}");
        }
    }

    #[test]
    fn every_node_is_sixteen_bytes() {
        assert_eq!(size_of::<ArchivedJsonValue>(), 16);
        assert_eq!(align_of::<ArchivedJsonValue>(), 8);
        assert_eq!(size_of::<ArchivedJsonEntry>(), 24);
    }
}
