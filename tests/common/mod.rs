//! Shared fixtures for the integration tests.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses a subset of the fixtures"
)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zerocodec_datasets::{ChatMessage, RpcMethod, RpcRequest};

/// An enum with data in every variant shape.
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
pub enum Shape {
    Point,
    Circle(f64),
    Rect { w: u32, h: u32 },
    Poly(Vec<(i32, i32)>),
}

/// A unit-only enum.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub enum Level {
    Low,
    Mid,
    High,
}

/// The struct nested inside [`Nested`].
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
pub struct Inner {
    pub name: String,
    pub shapes: Vec<Shape>,
    pub maybe: Option<u16>,
}

/// A nested struct covering Option, Vec, String, maps and enums.
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
pub struct Nested {
    pub name: String,
    pub tags: Vec<String>,
    pub parent: Option<Box<Inner>>,
    pub shapes: Vec<Shape>,
    pub level: Level,
    pub scores: BTreeMap<String, i64>,
    pub maybe: Option<u16>,
    pub bytes: Vec<u8>,
}

pub fn nested() -> Nested {
    let leaf = Inner {
        name: "leaf ✓ ünïcödé".into(),
        shapes: vec![Shape::Point],
        maybe: None,
    };
    Nested {
        name: "root".into(),
        tags: vec![
            "a".into(),
            "bb".into(),
            "a much longer tag than eight bytes".into(),
        ],
        parent: Some(Box::new(leaf)),
        shapes: vec![
            Shape::Circle(1.5),
            Shape::Rect { w: 3, h: 4 },
            Shape::Poly(vec![(0, 0), (-1, 5), (i32::MAX, i32::MIN)]),
        ],
        level: Level::High,
        scores: [("x".to_string(), -7), ("y".to_string(), i64::MAX)].into(),
        maybe: Some(65535),
        bytes: (0..=255).collect(),
    }
}

pub fn chat() -> ChatMessage {
    ChatMessage {
        id: "msg-000042".into(),
        content: "Hello from zerocodec! Shall we meet at 10:30 in room 4?".into(),
        timestamp: 1_763_700_000_123,
        sender: "user-1337".into(),
        room_id: "room-general".into(),
    }
}

pub fn rpc() -> RpcRequest {
    RpcRequest {
        id: "req-7".into(),
        method: "rooms.post".into(),
        params: serde_json::json!({
            "room": "general",
            "limit": 50,
            "ratio": 0.1,
            "flags": [true, false, null],
            "nested": {"deep": {"er": [1, 2.5, "three"]}}
        }),
        method_type: RpcMethod::Mutation,
    }
}

/// A tiny deterministic generator (xorshift64*), for random-bytes tests without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Copies `bytes` into a 16-byte aligned buffer at `offset` bytes past alignment and returns
/// the buffer and the range holding the copy.
pub fn at_offset(bytes: &[u8], offset: usize) -> (rkyv::util::AlignedVec, std::ops::Range<usize>) {
    let mut buf = rkyv::util::AlignedVec::<16>::new();
    buf.extend_from_slice(&vec![0xAA; offset]);
    buf.extend_from_slice(bytes);
    (buf, offset..offset + bytes.len())
}
