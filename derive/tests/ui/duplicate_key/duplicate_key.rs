// A key given twice, in one attribute or across several.
use zerocodec::Message;

#[derive(Message)]
#[message(name = "a", name = "b")]
struct SameAttribute;

#[derive(Message)]
#[message(version = 1)]
#[message(version = 2)]
struct AcrossAttributes;

#[zerocodec::message(crate = "::zerocodec")]
#[message(crate = "::zerocodec")]
struct ArgumentAndAttribute;

fn main() {}
