//! Message types and seeded datasets shared by zerocodec's tests, benches and report.
//!
//! Everything here is generated deterministically from a seed, so every run of the benches,
//! the report and the tests sees the same data and no data files are needed.

mod seed;

pub use seed::{
    ArchivedChatMessage, ArchivedRpcMethod, ArchivedRpcRequest, ChatMessage, RpcMethod, RpcRequest,
};
