//! The seed example types: a chat message and an RPC request.

use serde::{Deserialize, Serialize};
use zerocodec_codecs::AsJson;

/// One chat message: the per-message cost case.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(Debug))]
pub struct ChatMessage {
    /// Message id.
    pub id: String,
    /// Message text.
    pub content: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// Sender's user id.
    pub sender: String,
    /// Room the message was posted to.
    pub room_id: String,
}

/// What kind of call an [`RpcRequest`] is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(Debug, PartialEq, Eq))]
pub enum RpcMethod {
    /// A read with no side effects.
    Query,
    /// A write.
    Mutation,
    /// A long-lived stream of results.
    Subscription,
}

/// One RPC request with free-form JSON parameters.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(Debug))]
pub struct RpcRequest {
    /// Request id, echoed in the response.
    pub id: String,
    /// Method name.
    pub method: String,
    /// Parameters, stored as JSON text inside rkyv archives.
    #[rkyv(with = AsJson)]
    pub params: serde_json::Value,
    /// What kind of call this is.
    pub method_type: RpcMethod,
}

// Hand-written wire identities until `#[derive(Message)]` lands and replaces them. The
// fingerprint is FNV-1a (64-bit) of a canonical description of the shape, so it changes
// whenever the description is updated to match a changed shape.

/// FNV-1a, 64-bit, usable in constants.
const fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

impl zerocodec::Message for ChatMessage {
    const NAME: &'static str = "ChatMessage";
    const SCHEMA_FINGERPRINT: u64 = fnv1a64(
        b"ChatMessage{id:String,content:String,timestamp:u64,sender:String,room_id:String}",
    );
}

impl zerocodec::Message for RpcRequest {
    const NAME: &'static str = "RpcRequest";
    const SCHEMA_FINGERPRINT: u64 = fnv1a64(
        b"RpcRequest{id:String,method:String,params:AsJson<serde_json::Value>,\
          method_type:RpcMethod{Query,Mutation,Subscription}}",
    );
}
