// A field whose type has no schema fingerprint: the error points at the field.
use zerocodec::Message;

/// Not a message: it has no `Schema`.
struct Point {
    x: f64,
    y: f64,
}

#[derive(Message)]
struct Checkin {
    user: String,
    at: Point,
}

#[derive(Message)]
enum Event {
    Moved { to: Vec<Point> },
}

fn main() {}
