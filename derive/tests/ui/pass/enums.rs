// Enums: unit, tuple and struct variants, discriminants, `#[repr]`.
#![allow(dead_code)]

use zerocodec::Message;

#[derive(Message)]
enum Shape {
    Point,
    Circle(f64),
    Rect { w: u32, h: u32 },
}

#[derive(Message)]
#[message(version = 2)]
#[repr(u16)]
enum Code {
    Ok = 0,
    NotFound = 404,
    Teapot = 418,
}

#[derive(Message)]
enum Empty {}

fn main() {
    assert_eq!(Shape::NAME, "Shape");
    assert_eq!(Code::VERSION, 2);
    assert_eq!(Empty::NAME, "Empty");
    assert_ne!(Shape::SCHEMA_FINGERPRINT, Code::SCHEMA_FINGERPRINT);
}
