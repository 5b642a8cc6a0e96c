// Deep fingerprints: opaque fields, recursive types, `upgrade_from` chains.
#![allow(dead_code)]

use zerocodec::{Message, Schema, Versioned};

/// A type from elsewhere, without a fingerprint.
struct Point(f64, f64);

#[derive(Message)]
struct Checkin {
    user: String,
    #[message(opaque = "geo.Point/1")]
    at: Point,
}

#[zerocodec::message]
struct Tagged {
    #[message(opaque = "tags/1")]
    tags: Vec<String>,
}

#[derive(Message)]
struct Tree {
    label: String,
    children: Vec<Tree>,
    parent: Option<Box<Self>>,
}

#[derive(Message)]
enum List<T> {
    Nil,
    Cons(T, Box<List<T>>),
}

#[derive(Message)]
#[message(name = "Ping", version = 1)]
struct PingV1 {
    seq: u32,
}

#[derive(Message)]
#[message(name = "Ping", version = 2, upgrade_from = PingV1)]
struct PingV2 {
    seq: u64,
}

#[derive(Message)]
#[message(name = "Ping", version = 3, upgrade_from = "PingV2")]
struct PingV3 {
    seq: u64,
    note: String,
}

impl From<PingV1> for PingV2 {
    fn from(v1: PingV1) -> Self {
        PingV2 { seq: v1.seq.into() }
    }
}

impl From<PingV2> for PingV3 {
    fn from(v2: PingV2) -> Self {
        PingV3 { seq: v2.seq, note: String::new() }
    }
}

fn older<T: Versioned>() -> usize {
    <T::Older as zerocodec::OlderVersions>::LEN
}

fn main() {
    assert_ne!(Checkin::SCHEMA_FINGERPRINT, 0);
    assert_eq!(Tagged::SCHEMA_FINGERPRINT, <Tagged as Schema>::FINGERPRINT);
    assert_ne!(Tree::SCHEMA_FINGERPRINT, 0);
    assert_ne!(<List<u8>>::SCHEMA_FINGERPRINT, <List<u16>>::SCHEMA_FINGERPRINT);
    assert_eq!(older::<PingV1>(), 0);
    assert_eq!(older::<PingV2>(), 1);
    assert_eq!(older::<PingV3>(), 2);
}
