//! [`Strict`]: a serializer adapter that refuses what serde_json would write wrongly or what
//! serde_json's own reader would reject.
//!
//! serde_json's serializer writes a NaN or infinite float as `null` and returns `Ok`, so an
//! `f64` field no longer decodes and an `Option<f64>` decodes as `None`; and it recurses once
//! per level of the value with no limit, so a deep enough value overflows the stack, while its
//! reader refuses anything nested deeper than its recursion limit. The adapter sits between
//! the value and serde_json's serializer and:
//!
//! - refuses non-finite `f32`/`f64` values (JSON has no representation for them);
//! - counts JSON nesting (arrays and objects, as serde_json writes them) and refuses a value
//!   nested deeper than [`MAX_JSON_DEPTH`], the most serde_json's reader accepts;
//! - counts every other nested call (`Some`, newtype structs) too and refuses past
//!   [`MAX_RECURSION`], so no value, however it nests, can exhaust the stack.
//!
//! The counters are checked on the way in, before the nested value is visited, which is what
//! bounds the recursion. serde has no hook that would let serde_json do this itself (its
//! `Formatter` sees a NaN only as `write_null`), hence the adapter.

use std::cell::Cell;
use std::fmt::Display;

use serde::ser::{self, Serialize, Serializer};

/// The deepest nesting of JSON arrays and objects that serde_json's reader accepts: its
/// recursion limit of 128 fails on the 128th open bracket.
pub(crate) const MAX_JSON_DEPTH: usize = 127;

/// The most nested serialize calls of any kind (containers, `Some`, newtype structs and
/// variants) one value may make: far beyond any real message, and small enough that the
/// recursion fits a 2 MiB thread stack in a debug build.
pub(crate) const MAX_RECURSION: usize = 512;

/// How deep the serializer currently is.
#[derive(Default)]
pub(crate) struct Depth {
    json: Cell<usize>,
    calls: Cell<usize>,
}

impl Depth {
    /// Enters a nested call that opens `json_levels` arrays or objects.
    #[inline]
    fn enter<E: ser::Error>(&self, json_levels: usize) -> Result<(), E> {
        let json = self.json.get() + json_levels;
        let calls = self.calls.get() + 1;
        if json > MAX_JSON_DEPTH {
            return Err(too_deep(format_args!(
                "nests arrays and objects deeper than the {MAX_JSON_DEPTH} levels a JSON reader \
                 accepts"
            )));
        }
        if calls > MAX_RECURSION {
            return Err(too_deep(format_args!(
                "nests deeper than {MAX_RECURSION} levels"
            )));
        }
        self.json.set(json);
        self.calls.set(calls);
        Ok(())
    }

    #[inline]
    fn leave(&self, json_levels: usize) {
        self.json.set(self.json.get() - json_levels);
        self.calls.set(self.calls.get() - 1);
    }

    /// Runs `f` one call deeper.
    #[inline]
    fn nested<R, E: ser::Error>(
        &self,
        json_levels: usize,
        f: impl FnOnce() -> Result<R, E>,
    ) -> Result<R, E> {
        self.enter(json_levels)?;
        let result = f();
        self.leave(json_levels);
        result
    }
}

#[cold]
fn too_deep<E: ser::Error>(what: impl Display) -> E {
    E::custom(format_args!("the value {what}"))
}

#[cold]
fn non_finite<E: ser::Error>(value: impl Display) -> E {
    E::custom(format_args!(
        "the float {value} has no JSON representation (serde_json would write it as null)"
    ))
}

/// Serializes `value` through `serializer` under the rules in the module docs.
#[inline]
pub(crate) fn serialize<T, S>(value: &T, serializer: S) -> Result<S::Ok, S::Error>
where
    T: Serialize + ?Sized,
    S: Serializer,
{
    let depth = Depth::default();
    value.serialize(Strict {
        inner: serializer,
        depth: &depth,
    })
}

/// The path (`items[3].price`) of the field [`serialize`] fails on, or `None` if it does not
/// fail: the value is serialized again, into nothing, with serde_path_to_error tracking where.
pub(crate) fn failing_path<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let depth = Depth::default();
    let mut sink = serde_json::Serializer::new(std::io::sink());
    let strict = Strict {
        inner: &mut sink,
        depth: &depth,
    };
    serde_path_to_error::serialize(value, strict)
        .err()
        .map(|err| err.path().to_string())
}

/// A serializer that checks, then forwards to `inner`.
struct Strict<'a, S> {
    inner: S,
    depth: &'a Depth,
}

/// A value whose serialization goes through [`Strict`] with the shared depth.
struct Checked<'a, T: ?Sized> {
    value: &'a T,
    depth: &'a Depth,
}

impl<T: Serialize + ?Sized> Serialize for Checked<'_, T> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Strict {
            inner: serializer,
            depth: self.depth,
        })
    }
}

/// A compound serializer (sequence, map, struct, ...) whose elements go through [`Strict`];
/// it leaves its nesting level when it ends.
struct Compound<'a, C> {
    inner: C,
    depth: &'a Depth,
    json_levels: usize,
}

impl<'a, C> Compound<'a, C> {
    #[inline]
    fn checked<'v, T: ?Sized>(&self, value: &'v T) -> Checked<'v, T>
    where
        'a: 'v,
    {
        Checked {
            value,
            depth: self.depth,
        }
    }

    #[inline]
    fn end_with<R>(self, end: impl FnOnce(C) -> R) -> R {
        self.depth.leave(self.json_levels);
        end(self.inner)
    }
}

macro_rules! forward_scalars {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            #[inline]
            fn $method(self, v: $ty) -> Result<Self::Ok, Self::Error> {
                self.inner.$method(v)
            }
        )*
    };
}

impl<'a, S: Serializer> Strict<'a, S> {
    /// Opens a compound of `json_levels` levels with `open`, failing before it is opened when
    /// it would nest too deep.
    #[inline]
    fn open<C>(
        self,
        json_levels: usize,
        open: impl FnOnce(S) -> Result<C, S::Error>,
    ) -> Result<Compound<'a, C>, S::Error> {
        self.depth.enter(json_levels)?;
        match open(self.inner) {
            Ok(inner) => Ok(Compound {
                inner,
                depth: self.depth,
                json_levels,
            }),
            Err(err) => {
                self.depth.leave(json_levels);
                Err(err)
            }
        }
    }
}

impl<'a, S: Serializer> Serializer for Strict<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<'a, S::SerializeSeq>;
    type SerializeTuple = Compound<'a, S::SerializeTuple>;
    type SerializeTupleStruct = Compound<'a, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<'a, S::SerializeTupleVariant>;
    type SerializeMap = Compound<'a, S::SerializeMap>;
    type SerializeStruct = Compound<'a, S::SerializeStruct>;
    type SerializeStructVariant = Compound<'a, S::SerializeStructVariant>;

    forward_scalars!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
    );

    #[inline]
    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        if !v.is_finite() {
            return Err(non_finite(v));
        }
        self.inner.serialize_f32(v)
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        if !v.is_finite() {
            return Err(non_finite(v));
        }
        self.inner.serialize_f64(v)
    }

    #[inline]
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_none()
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let depth = self.depth;
        depth.nested(0, || self.inner.serialize_some(&Checked { value, depth }))
    }

    #[inline]
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }

    #[inline]
    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_struct(name)
    }

    #[inline]
    fn serialize_unit_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner
            .serialize_unit_variant(name, variant_index, variant)
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let depth = self.depth;
        depth.nested(0, || {
            self.inner
                .serialize_newtype_struct(name, &Checked { value, depth })
        })
    }

    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        // serde_json writes `{"variant": value}`: one object level.
        let depth = self.depth;
        depth.nested(1, || {
            self.inner.serialize_newtype_variant(
                name,
                variant_index,
                variant,
                &Checked { value, depth },
            )
        })
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.open(1, |s| s.serialize_seq(len))
    }

    #[inline]
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.open(1, |s| s.serialize_tuple(len))
    }

    #[inline]
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.open(1, |s| s.serialize_tuple_struct(name, len))
    }

    #[inline]
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        // `{"variant": [...]}`: an object and an array.
        self.open(2, |s| {
            s.serialize_tuple_variant(name, variant_index, variant, len)
        })
    }

    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.open(1, |s| s.serialize_map(len))
    }

    #[inline]
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.open(1, |s| s.serialize_struct(name, len))
    }

    #[inline]
    fn serialize_struct_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        // `{"variant": {...}}`: two objects.
        self.open(2, |s| {
            s.serialize_struct_variant(name, variant_index, variant, len)
        })
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! compound {
    ($trait:ident, $method:ident $(, $key:ident)?) => {
        compound!($trait, $method $(, $key)? ;);
    };
    ($trait:ident, $method:ident, $key:ident, skip) => {
        compound!($trait, $method, $key;
            #[inline]
            fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
                self.inner.skip_field(key)
            }
        );
    };
    ($trait:ident, $method:ident $(, $key:ident)? ; $($extra:item)*) => {
        impl<C: ser::$trait> ser::$trait for Compound<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;

            #[inline]
            fn $method<T: Serialize + ?Sized>(
                &mut self,
                $($key: &'static str,)?
                value: &T,
            ) -> Result<(), C::Error> {
                let value = self.checked(value);
                self.inner.$method($($key,)? &value)
            }

            #[inline]
            fn end(self) -> Result<C::Ok, C::Error> {
                self.end_with(C::end)
            }

            $($extra)*
        }
    };
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);
compound!(SerializeStruct, serialize_field, key, skip);
compound!(SerializeStructVariant, serialize_field, key, skip);

impl<C: ser::SerializeMap> ser::SerializeMap for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        let key = self.checked(key);
        self.inner.serialize_key(&key)
    }

    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let value = self.checked(value);
        self.inner.serialize_value(&value)
    }

    #[inline]
    fn serialize_entry<K, V>(&mut self, key: &K, value: &V) -> Result<(), C::Error>
    where
        K: Serialize + ?Sized,
        V: Serialize + ?Sized,
    {
        let (key, value) = (self.checked(key), self.checked(value));
        self.inner.serialize_entry(&key, &value)
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.end_with(C::end)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
        let mut out = Vec::new();
        serialize(value, &mut serde_json::Serializer::new(&mut out))?;
        Ok(String::from_utf8(out).unwrap())
    }

    fn nested_arrays(depth: usize) -> Value {
        let mut value = Value::Null;
        for _ in 0..depth {
            value = Value::Array(vec![value]);
        }
        value
    }

    #[test]
    fn max_json_depth_is_exactly_what_serde_json_reads() {
        let deepest = "[".repeat(MAX_JSON_DEPTH) + &"]".repeat(MAX_JSON_DEPTH);
        assert!(serde_json::from_str::<Value>(&deepest).is_ok());
        let deeper = "[".repeat(MAX_JSON_DEPTH + 1) + &"]".repeat(MAX_JSON_DEPTH + 1);
        assert!(serde_json::from_str::<Value>(&deeper).is_err());

        let text = to_json(&nested_arrays(MAX_JSON_DEPTH)).unwrap();
        assert_eq!(text, deepest.replacen("[]", "[null]", 1));
        let err = to_json(&nested_arrays(MAX_JSON_DEPTH + 1)).unwrap_err();
        assert!(err.to_string().contains("127 levels"), "{err}");
    }

    #[test]
    fn variants_count_the_levels_serde_json_writes() {
        #[derive(serde::Serialize)]
        enum E {
            Tuple(u8, Value),
            Struct { v: Value },
            Newtype(Value),
        }
        for (levels, make) in [
            (2, (|v| E::Tuple(0, v)) as fn(Value) -> E),
            (2, |v| E::Struct { v }),
            (1, E::Newtype),
        ] {
            let fits = make(nested_arrays(MAX_JSON_DEPTH - levels));
            let text = to_json(&fits).unwrap();
            assert!(serde_json::from_str::<Value>(&text).is_ok());
            let over = make(nested_arrays(MAX_JSON_DEPTH - levels + 1));
            assert!(to_json(&over).is_err());
            // And serde_json's reader agrees that it would not have read it.
            let text = serde_json::to_string(&over).unwrap();
            assert!(serde_json::from_str::<Value>(&text).is_err());
        }
    }

    #[test]
    fn non_finite_floats_are_refused_everywhere() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(to_json(&v).is_err());
            assert!(to_json(&Some(v)).is_err());
            assert!(to_json(&vec![1.0, v]).is_err());
            assert!(to_json(&(v as f32)).is_err());
            let map = std::collections::BTreeMap::from([(1, v)]);
            assert!(to_json(&map).is_err());
        }
        assert_eq!(to_json(&Some(1.5f64)).unwrap(), "1.5");
    }

    #[test]
    fn chains_without_json_nesting_are_bounded_too() {
        #[derive(serde::Serialize)]
        struct Chain(Option<Box<Chain>>);
        let mut chain = Chain(None);
        for _ in 0..MAX_RECURSION / 2 - 1 {
            chain = Chain(Some(Box::new(chain)));
        }
        assert_eq!(to_json(&chain).unwrap(), "null");
        let chain = Chain(Some(Box::new(chain)));
        let err = to_json(&chain).unwrap_err();
        assert!(err.to_string().contains("512 levels"), "{err}");
    }

    #[test]
    fn depth_is_restored_after_each_container() {
        // Many siblings at the deepest allowed level: a counter that leaked would refuse them.
        let wide = Value::Array(vec![nested_arrays(MAX_JSON_DEPTH - 1); 64]);
        assert!(to_json(&wide).is_ok());
    }
}
