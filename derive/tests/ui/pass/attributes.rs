// The `message` attribute macro, the `crate` override, and serde/rkyv options passing through.
#![allow(dead_code)]

use zerocodec::{Message, message};

/// zerocodec under another path, as a crate that re-exports it would have it.
mod reexport {
    pub use zerocodec as zc;
}

#[message]
#[derive(Debug, PartialEq)]
struct Plain {
    id: u64,
}

#[message(name = "rpc.Request", version = 3)]
#[derive(Debug)]
#[serde(rename_all = "camelCase")]
#[rkyv(derive(Debug))]
struct Request {
    request_id: String,
    #[serde(default)]
    retries: u8,
}

// `#[message(...)]` lines under the attribute macro read as its arguments.
#[zerocodec::message]
#[message(version = 1, crate = "crate::reexport::zc")]
enum Method {
    Query,
    Mutation,
}

// A type that names its own rkyv crate keeps it.
#[message]
#[rkyv(crate = zerocodec::rkyv)]
struct OwnRkyvCrate {
    id: u64,
}

#[derive(Message)]
#[message(crate = "reexport::zc")]
struct Overridden(u8);

fn main() {
    assert_eq!(Plain::NAME, "Plain");
    assert_eq!(Request::NAME, "rpc.Request");
    assert_eq!(Request::VERSION, 3);
    assert_eq!(Method::VERSION, 1);
    assert_eq!(Overridden::NAME, "Overridden");
    assert_eq!(OwnRkyvCrate::NAME, "OwnRkyvCrate");

    let bytes = zerocodec::rkyv::to_bytes::<zerocodec::rkyv::rancor::Error>(&Plain { id: 9 })
        .expect("plain structs serialize");
    let back: Plain = zerocodec::rkyv::from_bytes::<Plain, zerocodec::rkyv::rancor::Error>(&bytes)
        .expect("and read back");
    assert_eq!(back, Plain { id: 9 });
}
