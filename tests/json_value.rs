//! `AsArchivedJson`: `serde_json::Value` fields as binary JSON trees inside rkyv archives.
//!
//! Round trips of every shape (number kinds and float bits included), zero-copy reads that
//! allocate nothing, the validator's depth cap on deep nesting, and bad bytes (random,
//! truncated, mutated, hand-crafted) that give typed errors and never panic.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rkyv::util::AlignedVec;
use serde_json::{Value, json};
use zerocodec::ErrorKind;
use zerocodec::archive::DEFAULT_MAX_DEPTH;
use zerocodec::prelude::*;
use zerocodec_codecs::{ArchivedJsonValue, AsArchivedJson, JsonCodec, MAX_ENCODE_DEPTH, RkyvCodec};
use zerocodec_datasets::{Rng, RpcRequest, messages};

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Counts the current thread's allocations and reallocations.
struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the counter is a const-initialized thread local without a
// destructor, so touching it never allocates or re-enters the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this type.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this type.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the allocations it made on this thread.
fn counted<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    (result, ALLOCATIONS.with(Cell::get) - before)
}

/// A message with one binary JSON field.
#[derive(Debug, Clone, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(derive(Debug))]
struct Doc {
    id: u32,
    #[rkyv(with = AsArchivedJson)]
    value: Value,
}

fn encode(value: &Value) -> AlignedVec {
    let mut out = AlignedVec::new();
    RkyvCodec::new()
        .encode_into(
            &Doc {
                id: 7,
                value: value.clone(),
            },
            &mut out,
        )
        .unwrap();
    out
}

/// Asserts `value` survives decode and access, with number kinds and float bits kept.
fn assert_round_trip(value: &Value) {
    let bytes = encode(value);
    let back: Doc = RkyvCodec::new().decode(&bytes).unwrap();
    assert_eq!(back.value, *value);
    assert_same_numbers(&back.value, value);

    let view = RkyvCodec::<Doc>::new().access(&bytes).unwrap();
    assert_eq!(view.id, 7);
    assert_eq!(view.value, *value, "the view compares equal to the value");
    assert_eq!(view.value.to_value().unwrap(), *value);
    // The view writes the same JSON text as the value, without building a `Value`.
    assert_eq!(
        serde_json::to_string(&view.value).unwrap(),
        serde_json::to_string(value).unwrap()
    );
}

/// Number kinds (u64, i64, f64) and float bits are equal node by node.
fn assert_same_numbers(a: &Value, b: &Value) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            assert_eq!(
                (x.is_u64(), x.is_i64(), x.is_f64()),
                (y.is_u64(), y.is_i64(), y.is_f64()),
                "{x} vs {y}"
            );
            if x.is_f64() {
                assert_eq!(x.as_f64().unwrap().to_bits(), y.as_f64().unwrap().to_bits());
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).for_each(|(x, y)| assert_same_numbers(x, y));
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.len(), y.len());
            x.values()
                .zip(y.values())
                .for_each(|(x, y)| assert_same_numbers(x, y));
        }
        _ => assert_eq!(a, b),
    }
}

#[test]
fn scalars_strings_and_containers_round_trip() {
    for value in [
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(1),
        json!(-1),
        json!(i64::MIN),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(0.0),
        json!(-0.0),
        json!(1.0),
        json!(0.1),
        json!(-2.5e-8),
        json!(1.0e-300),
        json!(f64::MAX),
        json!(f64::MIN),
        json!(f64::MIN_POSITIVE),
        json!(5e-324),
        json!(std::f64::consts::PI),
        json!(""),
        json!("short"),
        json!("exactly8"),
        json!("a string longer than eight bytes, stored out of line"),
        json!("a \"quoted\" \\ string with \u{1F600} and \u{0} and \n"),
        json!([]),
        json!({}),
        json!([[]]),
        json!({"": {}}),
        json!([null, true, 1, -1, 1.5, "s", [], {}]),
        json!({"ключ": "значение", "鍵": [1, 2], "🔑": {"ünïcödé": null}, "": ""}),
        json!({"a": {"b": {"c": {"d": [1, [2, [3, [4.0, {"e": "deep"}]]]]}}}}),
    ] {
        assert_round_trip(&value);
    }
}

#[test]
fn float_kinds_and_bits_survive() {
    // 1.0 stays a float and 1 stays an integer: serde_json keeps them apart.
    let bytes = encode(&json!([1.0, 1, -1, -0.0]));
    let view = RkyvCodec::<Doc>::new().access(&bytes).unwrap();
    assert!(matches!(view.value[0], ArchivedJsonValue::F64(_)));
    assert!(matches!(view.value[1], ArchivedJsonValue::U64(_)));
    assert!(matches!(view.value[2], ArchivedJsonValue::I64(_)));
    let back = view.value.to_value().unwrap();
    assert!(back[0].is_f64() && back[1].is_u64() && back[2].is_i64());
    assert_eq!(back[3].as_f64().unwrap().to_bits(), (-0.0f64).to_bits());
}

/// A random value up to `depth` levels deep, with every kind of node.
fn random_value(rng: &mut Rng, depth: usize) -> Value {
    const KEYS: [&str; 8] = [
        "id",
        "名前",
        "",
        "a much longer key than eight",
        "x",
        "ü",
        "k1",
        "k2",
    ];
    let kinds = if depth == 0 { 6 } else { 8 };
    match rng.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(0.5)),
        2 => json!(rng.next_u64()),
        3 => json!(rng.next_u64() as i64 | i64::MIN),
        4 => json!(f64::from_bits(rng.next_u64() >> 2) * if rng.chance(0.5) { 1.0 } else { -1.0 }),
        5 => Value::String(
            (0..rng.count(0, 40))
                .map(|_| *rng.pick(&['a', 'é', '€', '𝄞', '"', '\\', '\n']))
                .collect(),
        ),
        6 => Value::Array(
            (0..rng.count(0, 6))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.count(0, 6))
                .map(|_| (rng.pick(&KEYS).to_string(), random_value(rng, depth - 1)))
                .collect(),
        ),
    }
}

#[test]
fn random_values_round_trip_and_match_json() {
    let mut rng = Rng::new(0x0015_07A1);
    for _ in 0..300 {
        let value = random_value(&mut rng, 5);
        assert_round_trip(&value);
        // The same value through JSON text (float_roundtrip keeps floats exact).
        let codec = JsonCodec::new();
        let json: Value = codec.decode(&codec.encode(&value).unwrap()).unwrap();
        assert_eq!(json, value);
    }
}

#[test]
fn rpc_requests_round_trip_and_read_in_place() {
    let codec = RkyvCodec::<RpcRequest>::new();
    for req in messages::rpc_requests(3, 50) {
        let bytes = codec.encode(&req).unwrap();
        assert_eq!(codec.decode(&bytes).unwrap(), req);
        let view = codec.access(&bytes).unwrap();
        assert_eq!(view.params, req.params);
        assert_eq!(
            view.params["filter"]["status"].as_str(),
            req.params["filter"]["status"].as_str()
        );
        assert_eq!(
            view.params["filter"]["min_total"].as_f64(),
            req.params["filter"]["min_total"].as_f64()
        );
        assert_eq!(view.params["limit"].as_u64(), req.params["limit"].as_u64());
    }
}

#[test]
fn access_reads_fields_without_deserializing_or_allocating() {
    let value = json!({
        "user": {"name": "ferris", "age": 7, "tags": ["crab", "rust", "a longer tag string"]},
        "balance": -12.75,
        "id": i64::MIN,
        "ok": true,
        "none": null,
    });
    let bytes = encode(&value);
    let codec = RkyvCodec::<Doc>::new();
    codec.access(&bytes).unwrap(); // warm up

    let ((), allocations) = counted(|| {
        let view = codec.access(&bytes).unwrap();
        let v = &view.value;
        assert_eq!(v["user"]["name"].as_str(), Some("ferris"));
        assert_eq!(
            v.get("user")
                .and_then(|u| u.get("age"))
                .and_then(|a| a.as_u64()),
            Some(7)
        );
        assert_eq!(v["user"]["tags"][2].as_str(), Some("a longer tag string"));
        assert_eq!(v["user"]["tags"].as_array().map(<[_]>::len), Some(3));
        assert_eq!(v["balance"].as_f64(), Some(-12.75));
        assert_eq!(v["id"].as_i64(), Some(i64::MIN));
        assert_eq!(v["id"].as_u64(), None);
        assert_eq!(v["ok"].as_bool(), Some(true));
        assert!(v["none"].is_null() && v.get("none").is_some());
        assert!(v["absent"].is_null() && v.get("absent").is_none());
        assert!(v["user"]["tags"][9].is_null());
        assert_eq!(v["user"].type_name(), "object");
        // Members in the map's order (serde_json's default map sorts its keys).
        assert!(
            v.entries()
                .map(|(k, _)| k)
                .eq(["balance", "id", "none", "ok", "user"])
        );
        assert!(v["ok"].entries().next().is_none());
        assert_eq!(v["user"]["age"].as_str(), None);
    });
    assert_eq!(allocations, 0, "reading a view allocates nothing");
}

#[test]
fn warm_encoding_allocates_nothing() {
    let doc = Doc {
        id: 1,
        value: random_value(&mut Rng::new(5), 4),
    };
    let mut out = AlignedVec::new();
    let codec = RkyvCodec::new();
    codec.encode_into(&doc, &mut out).unwrap(); // grows the buffer and rkyv's arena
    let len = out.len();
    out.clear();
    let (result, allocations) = counted(|| codec.encode_into(&doc, &mut out));
    result.unwrap();
    assert_eq!(out.len(), len);
    assert_eq!(
        allocations, 0,
        "encoding walks the value with no per-node allocation"
    );
}

/// `depth` arrays nested in each other around `null`.
fn nested(depth: usize) -> Value {
    (0..depth).fold(Value::Null, |inner, _| Value::Array(vec![inner]))
}

#[test]
fn nesting_is_bounded_by_the_validators_depth_cap() {
    let codec = RkyvCodec::<Doc>::new();
    // The deepest value the encoder writes is read back by a reader with the default cap, with
    // room to spare for where the field sits (the archive's root is one level of the cap, each
    // nested array one more, and a long string at the bottom one more).
    let leaf = Value::String("a string too long to be stored inline".into());
    let deepest = (0..MAX_ENCODE_DEPTH).fold(leaf, |inner, _| Value::Array(vec![inner]));
    let ok = encode(&deepest);
    assert_eq!(codec.decode(&ok).unwrap().value, deepest);
    assert_eq!(codec.access(&ok).unwrap().value, deepest);
    const { assert!(MAX_ENCODE_DEPTH + 2 < DEFAULT_MAX_DEPTH) };

    // A reader with a smaller cap rejects sooner, with a short message naming the cap.
    let small = RkyvCodec::<Doc>::new().with_max_depth(16);
    assert!(small.access(&encode(&nested(14))).is_ok());
    for depth in [15, 16, 50, MAX_ENCODE_DEPTH] {
        let deep = encode(&nested(depth));
        let err = small.access(&deep).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
        assert!(
            err.message().contains("at most 15 levels of nesting")
                && err.message().contains("cap 16"),
            "{err}"
        );
        assert!(
            err.message().len() < 1_500,
            "{} bytes: {err}",
            err.message().len()
        );
        assert_eq!(small.decode(&deep).unwrap_err().kind(), ErrorKind::Corrupt);
    }

    // The encoder bounds its own recursion, and so everything it writes stays readable.
    let mut out = AlignedVec::new();
    let doc = |depth| Doc {
        id: 0,
        value: nested(depth),
    };
    assert!(codec.encode_into(&doc(MAX_ENCODE_DEPTH), &mut out).is_ok());
    out.clear();
    let err = codec
        .encode_into(&doc(MAX_ENCODE_DEPTH + 1), &mut out)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
    assert!(
        err.message()
            .contains(&format!("{MAX_ENCODE_DEPTH} levels")),
        "{err}"
    );
    assert!(
        out.is_empty(),
        "a failed encode leaves the buffer as it was"
    );

    // Objects count the same way.
    let objects = |depth| (0..depth).fold(Value::Null, |inner, _| json!({ "k": inner }));
    assert!(small.access(&encode(&objects(14))).is_ok());
    assert_eq!(
        small.access(&encode(&objects(15))).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
    let err = codec
        .encode_into(
            &Doc {
                id: 0,
                value: objects(MAX_ENCODE_DEPTH + 1),
            },
            &mut out,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
}

/// Copies `bytes` into a fresh aligned buffer (zero-copy access needs alignment).
fn aligned(bytes: &[u8]) -> AlignedVec {
    let mut out = AlignedVec::new();
    out.extend_from_slice(bytes);
    out
}

/// Reads `bytes` every way a reader can; returns whether access succeeded. Never panics.
fn read_every_way(bytes: &[u8]) -> bool {
    let codec = RkyvCodec::<Doc>::new();
    let decoded = codec.decode(bytes);
    if let Err(err) = &decoded {
        assert!(
            matches!(err.kind(), ErrorKind::Corrupt | ErrorKind::Incomplete),
            "{err}"
        );
        assert!(!err.message().is_empty());
    }
    match codec.access(bytes) {
        Ok(view) => {
            // A valid view can be walked and serialized; converting it may only fail on a
            // non-finite float, with a typed error.
            let _ = serde_json::to_string(&view.value);
            let _ = view.value.entries().count() + view.value["k"].type_name().len();
            match view.value.to_value() {
                Ok(value) => assert_eq!(decoded.unwrap().value, value),
                Err(err) => assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}"),
            }
            true
        }
        Err(err) => {
            assert!(
                matches!(err.kind(), ErrorKind::Corrupt | ErrorKind::Incomplete),
                "{err}"
            );
            false
        }
    }
}

#[test]
fn truncations_give_typed_errors() {
    let bytes = encode(&json!({"a": [1, -2, 3.5, "text longer than eight"], "b": {"c": null}}));
    assert!(read_every_way(&bytes));
    // Shorter than the root: incomplete.
    let root = size_of::<ArchivedDoc>();
    for len in 0..root {
        let err = RkyvCodec::<Doc>::new()
            .access(&aligned(&bytes[..len]))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Incomplete, "{err}");
    }
    // Longer prefixes end in bytes of some child, which rarely pass for a root; whatever they
    // are, readers give a typed error or a view that walks without panicking.
    let mut rejected = 0;
    for len in root..bytes.len() {
        rejected += usize::from(!read_every_way(&aligned(&bytes[..len])));
    }
    assert!(
        rejected > (bytes.len() - root) / 2,
        "only {rejected} prefixes were rejected"
    );
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let mut rng = Rng::new(99);
    for _ in 0..2_000 {
        let len = rng.count(0, 160);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
        read_every_way(&aligned(&bytes));
    }
    let valid = encode(&random_value(&mut Rng::new(11), 4));
    let mut accepted = 0;
    for i in 0..valid.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut bytes = aligned(&valid);
            bytes[i] ^= flip;
            accepted += usize::from(read_every_way(&bytes));
        }
    }
    // Some flips land in number or string bytes and still validate; most do not.
    assert!(accepted < 3 * valid.len(), "every mutation validated");
}

#[test]
fn bad_tags_and_non_finite_floats_are_rejected() {
    let bytes = encode(&json!(1.5));
    // `Doc` is `{ id: u32, value }`: the value's node is the last 16 bytes, tag first.
    let node = bytes.len() - 16;
    assert_eq!(bytes[node], 4, "the f64 tag");
    assert_eq!(bytes[node + 8..], 1.5f64.to_le_bytes());

    for tag in [8u8, 9, 0x7F, 0xFF] {
        let mut bad = aligned(&bytes);
        bad[node] = tag;
        let err = RkyvCodec::<Doc>::new().access(&bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    }

    // A bool other than 0 or 1.
    let bytes = encode(&json!(true));
    let mut bad = aligned(&bytes);
    bad[bytes.len() - 15] = 2;
    assert_eq!(
        RkyvCodec::<Doc>::new().access(&bad).unwrap_err().kind(),
        ErrorKind::Corrupt
    );

    // NaN and infinities validate as f64 bits, but JSON cannot hold them.
    for bits in [
        f64::NAN.to_bits(),
        f64::INFINITY.to_bits(),
        f64::NEG_INFINITY.to_bits(),
    ] {
        let mut bad = aligned(&encode(&json!(1.5)));
        bad[node + 8..].copy_from_slice(&bits.to_le_bytes());
        let view = RkyvCodec::<Doc>::new().access(&bad).unwrap();
        assert!(
            view.value.as_f64().unwrap().is_nan() || view.value.as_f64().unwrap().is_infinite()
        );
        let err = view.value.to_value().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert!(err.message().contains("finite"), "{err}");
        let err = RkyvCodec::<Doc>::new().decode(&bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    }
}

#[test]
fn a_key_named_twice_keeps_its_last_value() {
    // serde_json's map cannot hold a key twice, but an archive can: rename one key in place.
    let bytes = encode(&json!({"key_a": 1, "key_b": 2}));
    let at = bytes.windows(5).position(|w| w == b"key_b").unwrap();
    let mut twice = aligned(&bytes);
    twice[at + 4] = b'a';
    let view = RkyvCodec::<Doc>::new().access(&twice).unwrap();
    assert!(view.value.entries().map(|(k, _)| k).eq(["key_a", "key_a"]));
    assert_eq!(view.value["key_a"].as_u64(), Some(2));
    assert_eq!(view.value.to_value().unwrap(), json!({"key_a": 2}));
    assert_eq!(
        RkyvCodec::<Doc>::new().decode(&twice).unwrap().value,
        json!({"key_a": 2})
    );
}

#[test]
fn binary_and_text_forms_agree() {
    // `AsJson` (text) stays available; both carry the same value.
    #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, Debug, PartialEq)]
    struct Text {
        #[rkyv(with = zerocodec_codecs::AsJson)]
        value: Value,
    }
    let value = random_value(&mut Rng::new(21), 4);
    let codec = RkyvCodec::new();
    let text = codec
        .encode(&Text {
            value: value.clone(),
        })
        .unwrap();
    let view = codec.access(&text).unwrap();
    let binary = encode(&value);
    let binary_view = RkyvCodec::<Doc>::new().access(&binary).unwrap();
    assert_eq!(
        serde_json::to_string(&binary_view.value).unwrap(),
        view.value.as_str()
    );
}

/// `AlignedVec` and `PooledBuf` are serialized into directly (the vector moved into the
/// serializer and back, positions counted from its start) when their length is a multiple
/// of 16; `Vec<u8>`, `BytesMut` and unaligned lengths receive one copy of an archive
/// serialized into per-thread scratch space: after any number of other bytes they append the
/// same archive, and a failed encode gives the same error and leaves each buffer with exactly
/// the bytes it had.
#[test]
fn every_buffer_appends_the_same_archive_and_keeps_its_bytes_on_failure() {
    let good = Doc {
        id: 7,
        value: json!({"a": [1, "two", 3.5, {"b": null}], "c": "a string past the inline size"}),
    };
    let bad = Doc {
        id: 0,
        value: nested(MAX_ENCODE_DEPTH + 1),
    };
    // After 16 bytes `AlignedVec` takes the direct path, after 5 the scratch-copy one.
    for prefix_len in [0, 5, 16, 48] {
        appends_the_same_archive_after(&vec![0xAB; prefix_len], &good, &bad);
    }
}

fn appends_the_same_archive_after(prefix: &[u8], good: &Doc, bad: &Doc) {
    use zerocodec::bytes::BytesMut;
    use zerocodec::{BufferPool, EncodeBuf};

    let mut aligned = AlignedVec::new();
    aligned.extend_from_slice(prefix);
    let mut pooled = BufferPool::global().take();
    EncodeBuf::extend_from_slice(&mut pooled, prefix);
    let mut vec = prefix.to_vec();
    let mut bytes = BytesMut::from(prefix);

    // Each buffer gets the archive through the codec's `encode_into`; the length it appended
    // is what follows the prefix.
    let codec = RkyvCodec::<Doc>::new();
    let n = prefix.len();
    codec.encode_into(good, &mut aligned).unwrap();
    codec.encode_into(good, &mut pooled).unwrap();
    codec.encode_into(good, &mut vec).unwrap();
    codec.encode_into(good, &mut bytes).unwrap();
    let lens = [
        aligned.len() - n,
        EncodeBuf::len(&pooled) - n,
        vec.len() - n,
        bytes.len() - n,
    ];
    assert!(
        lens.iter()
            .all(|&len| len == lens[0] && len + n == vec.len()),
        "{lens:?}"
    );
    assert_eq!(aligned.as_slice(), &vec[..]);
    assert_eq!(EncodeBuf::as_slice(&pooled), &vec[..]);
    assert_eq!(&bytes[..], &vec[..]);
    let mut archive = AlignedVec::<16>::new();
    archive.extend_from_slice(&vec[n..]);
    let decoded: Doc = codec.decode(&archive).unwrap();
    assert_eq!(&decoded, good);

    let before = vec.clone();
    let errors = [
        codec.encode_into(bad, &mut aligned).unwrap_err(),
        codec.encode_into(bad, &mut pooled).unwrap_err(),
        codec.encode_into(bad, &mut vec).unwrap_err(),
        codec.encode_into(bad, &mut bytes).unwrap_err(),
    ];
    for err in &errors {
        assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
        assert_eq!(err.message(), errors[0].message());
    }
    assert_eq!(aligned.as_slice(), &before[..]);
    assert_eq!(EncodeBuf::as_slice(&pooled), &before[..]);
    assert_eq!(vec, before);
    assert_eq!(&bytes[..], &before[..]);
}
