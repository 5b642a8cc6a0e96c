// Keys `#[message(...)]` does not know: every one is reported in the same build.
use zerocodec::Message;

#[derive(Message)]
#[message(nmae = "Chat", versoin = 2)]
struct Typos;

#[derive(Message)]
#[message(fingerprint = 7)]
enum Manual {
    A,
}

#[zerocodec::message(rename = "x")]
struct ViaAttributeMacro {
    id: u64,
}

fn main() {}
