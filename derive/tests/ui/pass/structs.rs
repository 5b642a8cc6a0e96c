// Named, tuple and unit structs, with and without `#[message(...)]`.
#![allow(dead_code)]

use zerocodec::Message;

#[derive(Message)]
struct Named {
    id: u64,
    r#type: String,
}

#[derive(Message)]
#[message(name = "chat.Tuple", version = 4)]
struct Tuple(u8, pub String, Vec<(u16, Option<i64>)>);

#[derive(Message)]
struct Unit;

/// Doc comments, visibility and other derives are fine.
#[derive(Debug, Clone, Default, PartialEq, Message)]
pub struct Documented {
    /// A field.
    pub field: [u8; 4],
}

fn main() {
    assert_eq!(Named::NAME, "Named");
    assert_eq!(Named::VERSION, 0);
    assert_eq!(Tuple::NAME, "chat.Tuple");
    assert_eq!(Tuple::VERSION, 4);
    assert_eq!(Unit::NAME, "Unit");
    assert_ne!(Unit::SCHEMA_FINGERPRINT, Named::SCHEMA_FINGERPRINT);
    assert_ne!(Documented::SCHEMA_FINGERPRINT, Tuple::SCHEMA_FINGERPRINT);
}
