// Unions have no single shape to fingerprint.
use zerocodec::Message;

#[derive(Message)]
union Bits {
    int: u32,
    float: f32,
}

#[zerocodec::message]
union AlsoBits {
    int: u32,
    float: f32,
}

fn main() {}
