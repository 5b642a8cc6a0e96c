// A type without `Message` where one is required.
struct OrderPlaced {
    id: u64,
}

fn send<T: zerocodec::Message>(_: &T) {}

fn main() {
    send(&OrderPlaced { id: 1 });
}
