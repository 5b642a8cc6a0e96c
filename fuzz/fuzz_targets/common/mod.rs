//! What the rkyv targets check after a successful decode: that the value re-encodes.

use zerocodec::ErrorKind;
use zerocodec::prelude::*;
use zerocodec_codecs::{HybridCodec, MAX_ENCODE_DEPTH, RkyvCodec};
use zerocodec_datasets::RpcRequest;

/// Re-encodes a decoded request with rkyv and checks it decodes equal.
///
/// Readers accept what their validation cap allows (a `params` value up to 126 levels deep in
/// a request), which is more than this writer encodes ([`MAX_ENCODE_DEPTH`], 100): an archive
/// from another writer may hold such a value. rkyv then refuses it with a typed `Encode`
/// error, and the hybrid codec carries it as JSON, whose reader accepts it.
pub fn reencodes(codec: &RkyvCodec<RpcRequest>, req: &RpcRequest) {
    match codec.encode(req) {
        Ok(again) => assert_eq!(codec.decode(&again).unwrap(), *req),
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::Encode, "{err}");
            assert!(nesting(&req.params) > MAX_ENCODE_DEPTH, "{err}");
            let hybrid = HybridCodec::<RpcRequest>::new();
            let frame = hybrid.encode(req).expect("the hybrid falls back to JSON");
            assert_eq!(hybrid.decode(&frame).unwrap(), *req);
        }
    }
}

/// Levels of nested arrays and objects in `value` (a validated value is shallow enough to
/// walk recursively).
fn nesting(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        serde_json::Value::Object(map) => 1 + map.values().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}
