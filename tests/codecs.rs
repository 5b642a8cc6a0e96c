//! JsonCodec and RkyvCodec: round trips, zero-copy access, and bad input.

mod common;

use common::*;
use zerocodec::bytes::Bytes;
use zerocodec::prelude::*;
use zerocodec::{CodecId, Error, ErrorKind};
use zerocodec_codecs::{JsonCodec, RkyvCodec};
use zerocodec_datasets::{ChatMessage, RpcMethod, RpcRequest};

fn round_trip_both<T>(value: &T)
where
    T: serde::Serialize
        + serde::de::DeserializeOwned
        + zerocodec_codecs::ZeroCopyEncode
        + zerocodec::ZeroCopyDecode
        + PartialEq
        + std::fmt::Debug,
{
    let json_codec = JsonCodec::new();
    let json = json_codec.encode(value).unwrap();
    assert_eq!(&json_codec.decode(&json).unwrap(), value);
    let rkyv_codec = RkyvCodec::new();
    let rkyv = rkyv_codec.encode(value).unwrap();
    assert_eq!(&rkyv_codec.decode(&rkyv).unwrap(), value);
    // encode_into appends after existing bytes and leaves them alone.
    let mut buf = b"prefix".to_vec();
    json_codec.encode_into(value, &mut buf).unwrap();
    assert_eq!(&buf[..6], b"prefix");
    assert_eq!(&json_codec.decode(&buf[6..]).unwrap(), value);
}

#[test]
fn round_trips_every_shape() {
    round_trip_both(&nested());
    round_trip_both(&chat());
    round_trip_both(&rpc());
    round_trip_both(&Level::Mid);
    round_trip_both(&vec![
        Shape::Point,
        Shape::Circle(-0.0),
        Shape::Rect { w: 0, h: 1 },
    ]);
    round_trip_both(&Option::<String>::None);
    round_trip_both(&Some("x".to_string()));
    round_trip_both(&String::new());
    round_trip_both(&Vec::<u64>::new());
    round_trip_both(
        &std::collections::HashMap::from([(1u8, "one".to_string())])
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<std::collections::BTreeMap<_, _>>(),
    );
    for method in [
        RpcMethod::Query,
        RpcMethod::Mutation,
        RpcMethod::Subscription,
    ] {
        round_trip_both(&RpcRequest {
            method_type: method,
            ..rpc()
        });
    }
}

#[test]
fn rpc_params_survive_every_json_shape() {
    for params in [
        serde_json::Value::Null,
        serde_json::json!(1.0e-300),
        serde_json::json!(u64::MAX),
        serde_json::json!(i64::MIN),
        serde_json::json!("short"),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!({"k": "a \"quoted\" \\ string with \u{1F600}"}),
    ] {
        round_trip_both(&RpcRequest { params, ..rpc() });
    }
}

#[test]
fn access_reads_fields_without_deserializing() {
    let codec = RkyvCodec::new();
    let msg = chat();
    let bytes = codec.encode(&msg).unwrap();
    let view = codec.access(&bytes).unwrap();
    assert_eq!(view.id, msg.id);
    assert_eq!(view.content, msg.content);
    assert_eq!(view.timestamp, msg.timestamp);
    assert_eq!(view.room_id.as_str(), "room-general");

    let codec = RkyvCodec::new();
    let req = rpc();
    let bytes = codec.encode(&req).unwrap();
    let view = codec.access(&bytes).unwrap();
    assert_eq!(view.method, "rooms.post");
    assert_eq!(
        view.method_type,
        zerocodec_datasets::ArchivedRpcMethod::Mutation
    );
    assert_eq!(view.params, req.params);
    assert_eq!(view.params.to_value().unwrap(), req.params);

    let codec = RkyvCodec::new();
    let n = nested();
    let bytes = codec.encode(&n).unwrap();
    let view = codec.access(&bytes).unwrap();
    assert_eq!(view.parent.as_ref().unwrap().name, "leaf ✓ ünïcödé");
    assert_eq!(view.tags[2], "a much longer tag than eight bytes");
    assert!(matches!(view.shapes[1], ArchivedShape::Rect { w, h } if w == 3 && h == 4));
}

#[test]
fn owned_archive_shares_aligned_bytes_and_copies_unaligned_once() {
    let codec = RkyvCodec::new();
    let bytes = codec.encode(&chat()).unwrap();
    let owned = codec.access_owned(bytes.clone()).unwrap();
    assert!(owned.is_shared(), "aligned Bytes must not be copied");
    assert_eq!(owned.sender, "user-1337");
    assert_eq!(owned.deserialize().unwrap(), chat());

    let (buf, range) = at_offset(&bytes, 3);
    let unaligned = Bytes::copy_from_slice(&buf[..]).slice(range);
    if !zerocodec::archive::is_aligned(&unaligned) {
        let owned = codec.access_owned(unaligned).unwrap();
        assert!(!owned.is_shared());
        assert_eq!(owned.content, chat().content);
    }
}

#[test]
fn codec_metadata() {
    let json = JsonCodec::<ChatMessage>::new();
    let rkyv = RkyvCodec::<ChatMessage>::new();
    assert_eq!(json.codec_id(), CodecId::JSON);
    assert_eq!(rkyv.codec_id(), CodecId::RKYV);
    assert_eq!(json.content_type(), "application/json");
    assert_eq!(rkyv.content_type(), "application/x-rkyv");
}

/// Every decode of `bytes` as `T` through both paths: must not panic; returns the result.
fn decode_all_ways<T>(bytes: &[u8]) -> (Result<T, Error>, Result<T, Error>)
where
    T: serde::Serialize
        + serde::de::DeserializeOwned
        + zerocodec_codecs::ZeroCopyEncode
        + zerocodec::ZeroCopyDecode,
{
    let rkyv = RkyvCodec::<T>::new();
    // access on an aligned copy, so only validation is exercised.
    let (buf, range) = at_offset(bytes, 0);
    let _ = rkyv.access(&buf[range]);
    (JsonCodec::<T>::new().decode(bytes), rkyv.decode(bytes))
}

#[test]
fn empty_input_is_a_typed_error() {
    let (json, rkyv) = decode_all_ways::<ChatMessage>(&[]);
    assert_eq!(json.unwrap_err().kind(), ErrorKind::Incomplete);
    assert_eq!(rkyv.unwrap_err().kind(), ErrorKind::Incomplete);
}

#[test]
fn every_truncation_is_a_typed_error() {
    fn check<T>(value: &T)
    where
        T: serde::Serialize
            + serde::de::DeserializeOwned
            + zerocodec_codecs::ZeroCopyEncode
            + zerocodec::ZeroCopyDecode
            + PartialEq
            + std::fmt::Debug,
    {
        let json_codec = JsonCodec::new();
        let json = json_codec.encode(value).unwrap();
        for cut in 0..json.len() {
            let err = json_codec.decode(&json[..cut]).map(|_: T| ()).unwrap_err();
            assert!(
                matches!(
                    err.kind(),
                    ErrorKind::Incomplete | ErrorKind::Corrupt | ErrorKind::TypeMismatch
                ),
                "json cut at {cut}: {err}"
            );
        }
        let rkyv_codec = RkyvCodec::new();
        let rkyv = rkyv_codec.encode(value).unwrap();
        for cut in 0..rkyv.len() {
            // A prefix of an archive is usually invalid; when it happens to validate, it must
            // still decode to *some* value without panicking.
            let (buf, range) = at_offset(&rkyv[..cut], 0);
            match rkyv_codec.decode(&buf[range]) {
                Ok(_) => {}
                Err(err) => assert!(
                    matches!(err.kind(), ErrorKind::Incomplete | ErrorKind::Corrupt),
                    "rkyv cut at {cut}: {err}"
                ),
            }
        }
    }
    check(&chat());
    check(&rpc());
    check(&nested());
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(0x5EED);
    for len in 0..512 {
        let bytes = rng.bytes(len);
        let _ = decode_all_ways::<ChatMessage>(&bytes);
        let _ = decode_all_ways::<RpcRequest>(&bytes);
        let _ = decode_all_ways::<Nested>(&bytes);
    }
}

#[test]
fn another_types_encoding_is_rejected() {
    // JSON: a ChatMessage read as an RpcRequest is well-formed JSON of the wrong shape.
    let json = JsonCodec::new().encode(&chat()).unwrap();
    let err = JsonCodec::<RpcRequest>::new().decode(&json).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeMismatch, "{err}");
    assert!(err.to_string().contains("RpcRequest"), "{err}");

    // rkyv: a u64 archive is too short to be a ChatMessage.
    let small = RkyvCodec::new().encode(&7u64).unwrap();
    let err = RkyvCodec::<ChatMessage>::new().decode(&small).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Incomplete | ErrorKind::Corrupt),
        "{err}"
    );
    // A Nested archive is long enough, but does not validate as a ChatMessage.
    let other = RkyvCodec::new().encode(&nested()).unwrap();
    match RkyvCodec::<ChatMessage>::new().decode(&other) {
        Err(err) => assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}"),
        Ok(msg) => panic!("a Nested archive decoded as {msg:?}"),
    }
}

#[test]
fn unaligned_input_decodes_or_fails_clearly() {
    let codec = RkyvCodec::new();
    for value in [chat()] {
        let bytes = codec.encode(&value).unwrap();
        for offset in 1..16 {
            let (buf, range) = at_offset(&bytes, offset);
            let slice = &buf[range.clone()];
            // decode copies once and succeeds.
            assert_eq!(codec.decode(slice).unwrap(), value);
            // borrowed access refuses, with its own kind, rather than reading misaligned data.
            let err = codec.access(slice).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unaligned);
            assert!(err.to_string().contains("aligned to 16 bytes"), "{err}");
            // the owned form copies once and succeeds.
            let owned = codec.access_owned(Bytes::copy_from_slice(slice)).unwrap();
            assert_eq!(owned.deserialize().unwrap(), value);
            // JSON has no alignment needs.
            let json_codec = JsonCodec::new();
            let json = json_codec.encode(&value).unwrap();
            let (jbuf, jrange) = at_offset(&json, offset);
            assert_eq!(json_codec.decode(&jbuf[jrange]).unwrap(), value);
        }
    }
    let codec = RkyvCodec::new();
    let n = nested();
    let bytes = codec.encode(&n).unwrap();
    for offset in 1..16 {
        let (buf, range) = at_offset(&bytes, offset);
        assert_eq!(codec.decode(&buf[range]).unwrap(), n);
    }
}

#[test]
fn json_encode_failure_is_typed_and_leaves_buffer_intact() {
    // serde_json refuses maps whose keys are not strings.
    let bad: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
    let mut buf = b"keep".to_vec();
    let err = JsonCodec::new().encode_into(&bad, &mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert_eq!(buf, b"keep");
}

#[test]
fn json_recursion_is_bounded() {
    let deep = "[".repeat(100_000);
    let err = JsonCodec::<serde_json::Value>::new()
        .decode(deep.as_bytes())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("recursion limit"), "{err}");
}

#[test]
fn rkyv_depth_limit_is_enforced() {
    let n = nested(); // parent nests one Box deep, plus vectors and strings below
    let codec = RkyvCodec::new();
    let bytes = codec.encode(&n).unwrap();
    let err = codec.with_max_depth(1).decode(&bytes).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().to_lowercase().contains("depth"), "{err}");
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<JsonCodec<ChatMessage>>();
    assert_send_sync::<RkyvCodec<ChatMessage>>();
    assert_send_sync::<Error>();
    assert_send_sync::<ErrorKind>();
    assert_send_sync::<zerocodec::OwnedArchive<ChatMessage>>();
    assert_send_sync::<zerocodec_codecs::AsJson>();
    assert_eq!(size_of::<JsonCodec<ChatMessage>>(), 0);
    assert_eq!(size_of::<Error>(), size_of::<usize>());
}
