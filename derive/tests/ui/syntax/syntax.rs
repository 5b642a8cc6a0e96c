// Malformed `#[message]` attributes, each reported at its tokens.
use zerocodec::Message;

#[derive(Message)]
#[message(name = "a" version = 1)]
struct MissingComma;

#[derive(Message)]
#[message]
struct BareAttribute;

#[derive(Message)]
#[message = "Chat"]
struct NameValueAttribute;

#[derive(Message)]
#[message(name)]
struct MissingValue;

#[derive(Message)]
#[message(name = Chat, version = "2", crate = "not a path")]
struct WrongValueTypes;

#[derive(Message)]
#[message(name = "", version = 4294967296)]
struct OutOfRange;

#[derive(Message)]
enum Misplaced {
    #[message(name = "A")]
    A {
        #[message(version = 1)]
        id: u64,
    },
}

#[derive(Message)]
struct FieldKeys {
    #[message(opaque)]
    a: u64,
    #[message(opaque = 1, name = "b")]
    b: u64,
    #[message(opaque = "")]
    c: u64,
    #[message(opaque = "x", opaque = "y")]
    d: u64,
}

#[derive(Message)]
#[message(opaque = "Chat", upgrade_from = 3)]
struct ContainerKeys;

fn main() {}
