//! The seed example types: a chat message and an RPC request.

use serde::{Deserialize, Serialize};
use zerocodec::Message;
use zerocodec_codecs::AsArchivedJson;

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
    Message,
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
    zerocodec::Message,
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
    Message,
)]
#[rkyv(derive(Debug))]
pub struct RpcRequest {
    /// Request id, echoed in the response.
    pub id: String,
    /// Method name.
    pub method: String,
    /// Parameters, stored as a binary JSON tree inside rkyv archives (read in place through
    /// `ArchivedJsonValue`).
    #[rkyv(with = AsArchivedJson)]
    pub params: serde_json::Value,
    /// What kind of call this is.
    pub method_type: RpcMethod,
}
