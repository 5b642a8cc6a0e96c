use zerocodec::Message;

// A derive cannot add derives: `bitcode` is the attribute macro's.
#[derive(Message)]
#[message(bitcode)]
struct Chat {
    text: String,
}

// `bitcode` is a flag.
#[zerocodec::message(bitcode = true)]
struct Line {
    text: String,
}

fn main() {}
