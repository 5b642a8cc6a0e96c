// Generic messages: type, const and lifetime parameters, bounds and where clauses.
#![allow(dead_code)]

use zerocodec::Message;

#[derive(Clone, Message)]
struct Chat {
    text: String,
}

#[derive(Message)]
struct Envelope<T> {
    seq: u64,
    body: T,
}

#[derive(Message)]
struct Borrowed<'a, T: Clone, const N: usize>
where
    T: Send,
{
    name: &'a str,
    items: [T; N],
}

#[derive(Message)]
enum Either<L, R> {
    Left(L),
    Right(R),
}

fn fingerprint<M: Message>() -> u64 {
    M::SCHEMA_FINGERPRINT
}

fn main() {
    assert_eq!(<Envelope<Chat>>::NAME, "Envelope");
    assert_ne!(
        fingerprint::<Envelope<Chat>>(),
        fingerprint::<Envelope<Envelope<Chat>>>()
    );
    assert_ne!(
        fingerprint::<Borrowed<'static, Chat, 1>>(),
        fingerprint::<Borrowed<'static, Chat, 2>>()
    );
    assert_ne!(
        fingerprint::<Either<Chat, Envelope<Chat>>>(),
        fingerprint::<Either<Envelope<Chat>, Chat>>()
    );
}
