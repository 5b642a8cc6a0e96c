//! Reading what a consumer delivers: [`Messages`] over a consumer's stream (pull, push or
//! ordered push), the three ways to read a payload ([`Owned`], [`Archived`], [`Batches`]), and
//! poison messages.

use std::fmt;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use async_nats::jetstream::AckKind;
use bytes::Bytes;
use futures::Stream;
use serde::de::DeserializeOwned;
use zerocodec::{Access, Decode, ErrorKind, Message, OwnedArchive, ZeroCopy, ZeroCopyDecode};
use zerocodec_codecs::{Batch, BatchCodec, HybridCodec, ZeroCopyEncode};

use crate::error::{ConsumeError, Error, Result};
use crate::headers::{self, CONTENT_TYPE, Declared};

/// How the payload of a delivered or stored message is read into a value.
///
/// [`Owned`], [`Archived`] and [`Batches`] are the three readers; implement it for a reader
/// of your own. `read` gets untrusted bytes and must return an error, never panic.
///
/// [`Messages`] applies a reader to each JetStream delivery; a core NATS subscription (no
/// acknowledgements, no stream sequence) applies it to each message itself:
/// `reader.read(&message.payload, message.headers.as_ref())`.
pub trait Reader {
    /// What a message is read as.
    type Output;

    /// Reads `payload`, whose message carried `headers`.
    ///
    /// # Errors
    ///
    /// Whatever makes the payload unreadable: a media type the reader does not read, or bytes
    /// that do not decode.
    fn read(&self, payload: &Bytes, headers: Option<&HeaderMap>)
    -> zerocodec::Result<Self::Output>;
}

/// Reads each message into an owned `T` with a [`HybridCodec`]: frames (rkyv or JSON payloads,
/// compressed or not, older versions the codec upgrades) and header-less legacy JSON.
pub struct Owned<T>(pub HybridCodec<T>);

/// Reads each message as a validated archived view, [`OwnedArchive<T>`], with a
/// [`HybridCodec`].
///
/// # Zero-copy, or one copy
///
/// async-nats reads each message into its connection's read buffer and hands the payload
/// over as a slice of that buffer, with no copy. Where the slice starts depends on what came
/// before it on the connection (the protocol line, the headers), so a frame's rkyv payload is
/// 16-byte aligned only by chance. When it is, the view shares the `Bytes`
/// ([`OwnedArchive::is_shared`] is true); when it is not, the payload is copied once (a
/// memcpy) into a pooled aligned buffer and validated there. A compressed frame is
/// decompressed into a pooled aligned buffer, which is its one copy. A JSON payload (or
/// legacy JSON) is decoded and archived once.
pub struct Archived<T>(pub HybridCodec<T>);

/// Reads each message as a whole [`Batch<T>`] with a [`BatchCodec`]: decompressed (or copied
/// once) into a pooled aligned buffer, its checksum and every message validated once, after
/// which [`Batch::get`] reads item *i* in O(1) without deserializing any other.
pub struct Batches<T>(pub BatchCodec<T>);

impl<T: Message + DeserializeOwned + ZeroCopyDecode> Reader for Owned<T> {
    type Output = T;

    fn read(&self, payload: &Bytes, headers: Option<&HeaderMap>) -> zerocodec::Result<T> {
        single_message(headers)?;
        self.0.decode(payload)
    }
}

impl<T: Message + DeserializeOwned + ZeroCopyEncode> Reader for Archived<T> {
    type Output = OwnedArchive<T>;

    fn read(
        &self,
        payload: &Bytes,
        headers: Option<&HeaderMap>,
    ) -> zerocodec::Result<OwnedArchive<T>> {
        single_message(headers)?;
        self.0.access_owned(payload.clone())
    }
}

impl<T: Message + ZeroCopy> Reader for Batches<T> {
    type Output = Batch<T>;

    fn read(&self, payload: &Bytes, headers: Option<&HeaderMap>) -> zerocodec::Result<Batch<T>> {
        match headers::declared(headers)? {
            Declared::Batch | Declared::Nothing => self.0.decode(payload),
            Declared::Frame | Declared::Json => Err(zerocodec::Error::new(
                ErrorKind::Unsupported,
                format!(
                    "expected a batch, found a single message (`{CONTENT_TYPE}` {}); read it \
                     with `Owned` or `Archived`",
                    content_type(headers)
                ),
            )),
        }
    }
}

/// Refuses a message that declares itself a batch, where a single message is read.
fn single_message(headers: Option<&HeaderMap>) -> zerocodec::Result<()> {
    match headers::declared(headers)? {
        Declared::Batch => Err(zerocodec::Error::new(
            ErrorKind::Unsupported,
            format!(
                "expected a single message, found a batch (`{CONTENT_TYPE}` {}); read it with \
                 `Batches`",
                content_type(headers)
            ),
        )),
        _ => Ok(()),
    }
}

/// The message's `Content-Type` as an error message quotes it (escaped and cut).
fn content_type(headers: Option<&HeaderMap>) -> String {
    headers
        .and_then(|h| h.get(CONTENT_TYPE))
        .map_or_else(String::new, |v| headers::shown(v.as_str()))
}

/// A delivered JetStream message and its place in the stream, which the caller acknowledges.
///
/// Every acknowledgement is explicit: dropping a delivery without one leaves the message to
/// be redelivered once the consumer's ack wait has passed (with the default
/// `AckPolicy::Explicit`).
pub struct Delivery {
    message: jetstream::Message,
    stream_sequence: u64,
    consumer_sequence: u64,
    delivered: i64,
    pending: u64,
}

impl Delivery {
    /// Reads the JetStream metadata of `message` (its acknowledgement subject).
    ///
    /// # Errors
    ///
    /// [`Error::Metadata`] if the message has none: it did not come from a JetStream
    /// consumer.
    pub fn new(message: jetstream::Message) -> Result<Self> {
        let info = match message.info() {
            Ok(info) => (
                info.stream_sequence,
                info.consumer_sequence,
                info.delivered,
                info.pending,
            ),
            Err(source) => {
                return Err(Error::Metadata {
                    subject: message.subject.to_string(),
                    source,
                });
            }
        };
        Ok(Self {
            message,
            stream_sequence: info.0,
            consumer_sequence: info.1,
            delivered: info.2,
            pending: info.3,
        })
    }

    /// The message's sequence in its stream: its place in the stream, the same on every
    /// delivery and for every consumer.
    pub fn stream_sequence(&self) -> u64 {
        self.stream_sequence
    }

    /// The message's sequence for this consumer (a redelivery gets a new one).
    pub fn consumer_sequence(&self) -> u64 {
        self.consumer_sequence
    }

    /// How many times the message has been delivered, this time included (1 the first time).
    pub fn delivered(&self) -> i64 {
        self.delivered
    }

    /// Messages the server had still to deliver to this consumer when it sent this one.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// The subject the message was published to.
    pub fn subject(&self) -> &str {
        self.message.subject.as_str()
    }

    /// The message's headers, if it had any.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.message.headers.as_ref()
    }

    /// The message's payload, as delivered.
    pub fn payload(&self) -> &Bytes {
        &self.message.payload
    }

    /// The async-nats message itself.
    pub fn message(&self) -> &jetstream::Message {
        &self.message
    }

    /// Acknowledges the message as processed (fire and forget: the server does not confirm).
    ///
    /// # Errors
    ///
    /// [`Error::Ack`] if the acknowledgement could not be sent.
    pub async fn ack(&self) -> Result<()> {
        self.ack_with(AckKind::Ack).await
    }

    /// Acknowledges the message as processed and waits for the server to confirm it: once
    /// this returns `Ok`, the message will not be delivered to this consumer again.
    ///
    /// # Errors
    ///
    /// [`Error::Ack`] if the acknowledgement could not be sent or was not confirmed (the
    /// message may then be redelivered).
    pub async fn double_ack(&self) -> Result<()> {
        self.message
            .double_ack()
            .await
            .map_err(|source| self.ack_error(source))
    }

    /// Terminates the message: it is never redelivered, and not counted as processed.
    ///
    /// # Errors
    ///
    /// [`Error::Ack`] if the termination could not be sent.
    pub async fn term(&self) -> Result<()> {
        self.ack_with(AckKind::Term).await
    }

    /// Refuses the message for now: it is redelivered after `delay` (at once with `None`).
    ///
    /// # Errors
    ///
    /// [`Error::Ack`] if the refusal could not be sent.
    pub async fn nak(&self, delay: Option<Duration>) -> Result<()> {
        self.ack_with(AckKind::Nak(delay)).await
    }

    /// Tells the server work on the message goes on, restarting its ack wait.
    ///
    /// # Errors
    ///
    /// [`Error::Ack`] if the notice could not be sent.
    pub async fn in_progress(&self) -> Result<()> {
        self.ack_with(AckKind::Progress).await
    }

    async fn ack_with(&self, kind: AckKind) -> Result<()> {
        self.message
            .ack_with(kind)
            .await
            .map_err(|source| self.ack_error(source))
    }

    #[cold]
    fn ack_error(&self, source: async_nats::Error) -> Error {
        Error::Ack {
            sequence: self.stream_sequence,
            source,
        }
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("subject", &self.subject())
            .field("stream_sequence", &self.stream_sequence)
            .field("consumer_sequence", &self.consumer_sequence)
            .field("delivered", &self.delivered)
            .field("payload_len", &self.message.payload.len())
            .finish()
    }
}

/// A message read by a [`Reader`]: its value and its [`Delivery`], which is acknowledged
/// through it. Derefs to the value.
pub struct Received<V> {
    value: V,
    delivery: Delivery,
}

impl<V> Received<V> {
    /// The value read.
    pub fn value(&self) -> &V {
        &self.value
    }

    /// The value, leaving the delivery (and its acknowledgement) behind.
    pub fn into_value(self) -> V {
        self.value
    }

    /// The value and the delivery, to acknowledge after the value has been moved on.
    pub fn into_parts(self) -> (V, Delivery) {
        (self.value, self.delivery)
    }

    /// The delivery: the message's stream sequence, headers and acknowledgements.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// The message's sequence in its stream.
    pub fn stream_sequence(&self) -> u64 {
        self.delivery.stream_sequence
    }

    /// [`Delivery::ack`].
    ///
    /// # Errors
    ///
    /// As [`Delivery::ack`].
    pub async fn ack(&self) -> Result<()> {
        self.delivery.ack().await
    }

    /// [`Delivery::double_ack`].
    ///
    /// # Errors
    ///
    /// As [`Delivery::double_ack`].
    pub async fn double_ack(&self) -> Result<()> {
        self.delivery.double_ack().await
    }
}

impl<V> Deref for Received<V> {
    type Target = V;

    fn deref(&self) -> &V {
        &self.value
    }
}

impl<V: fmt::Debug> fmt::Debug for Received<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Received")
            .field("value", &self.value)
            .field("delivery", &self.delivery)
            .finish()
    }
}

/// A delivered message whose bytes do not decode, with its stream sequence and why.
///
/// It is reported as an [`Error::Poison`] item of the [`Messages`] stream, which goes on
/// delivering the messages after it. Nothing is acknowledged for the caller: terminate it
/// ([`term`](Self::term)) so it is never redelivered, acknowledge it
/// ([`ack`](Self::ack)) once it is stored elsewhere, or leave it to be redelivered after the
/// ack wait ([`nak`](Self::nak) sooner).
pub struct Poison {
    delivery: Delivery,
    error: zerocodec::Error,
}

impl Poison {
    /// The message's sequence in its stream.
    pub fn stream_sequence(&self) -> u64 {
        self.delivery.stream_sequence
    }

    /// How many times the message has been delivered, this time included.
    pub fn delivered(&self) -> i64 {
        self.delivery.delivered
    }

    /// The subject the message was published to.
    pub fn subject(&self) -> &str {
        self.delivery.subject()
    }

    /// Why it does not decode; its [`kind`](zerocodec::Error::kind) says what is wrong.
    pub fn error(&self) -> &zerocodec::Error {
        &self.error
    }

    /// The delivery: headers, payload, and every acknowledgement.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// The delivery and the error, taken apart.
    pub fn into_parts(self) -> (Delivery, zerocodec::Error) {
        (self.delivery, self.error)
    }

    /// [`Delivery::term`]: never redelivered.
    ///
    /// # Errors
    ///
    /// As [`Delivery::term`].
    pub async fn term(&self) -> Result<()> {
        self.delivery.term().await
    }

    /// [`Delivery::ack`]: counted as processed.
    ///
    /// # Errors
    ///
    /// As [`Delivery::ack`].
    pub async fn ack(&self) -> Result<()> {
        self.delivery.ack().await
    }

    /// [`Delivery::nak`]: redelivered after `delay`.
    ///
    /// # Errors
    ///
    /// As [`Delivery::nak`].
    pub async fn nak(&self, delay: Option<Duration>) -> Result<()> {
        self.delivery.nak(delay).await
    }
}

impl fmt::Debug for Poison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poison")
            .field("delivery", &self.delivery)
            .field("error", &self.error)
            .finish()
    }
}

/// Reads one delivered message with `reader`: the value, or the poison message.
///
/// # Errors
///
/// [`Error::Metadata`] for a message without JetStream metadata, [`Error::Poison`] for one
/// whose bytes do not decode.
pub fn read<R: Reader>(reader: &R, message: jetstream::Message) -> Result<Received<R::Output>> {
    let delivery = Delivery::new(message)?;
    match reader.read(&delivery.message.payload, delivery.headers()) {
        Ok(value) => Ok(Received { value, delivery }),
        Err(error) => Err(Error::Poison(Box::new(Poison { delivery, error }))),
    }
}

/// A consumer's messages, read by a [`Reader`]: a [`Stream`] of received values, poison
/// messages and consumer errors. Pull consumers (the default type parameter), push consumers
/// and ordered push consumers are read alike; their stream errors are [`ConsumeError`]s.
///
/// Each item is one of
///
/// - `Ok(Received)`: a value, to acknowledge when processed;
/// - `Err(Error::Poison(..))`: a message that does not decode, with its stream sequence, to
///   acknowledge or terminate (the stream goes on after it);
/// - `Err(Error::Consume(..))` or `Err(Error::Metadata { .. })`: the consumer's trouble (a
///   missed heartbeat while the server is away, a deleted consumer). async-nats keeps
///   pulling after a missed heartbeat and resumes when the server is back; end the loop on
///   the errors you cannot wait out.
///
/// # Examples
///
/// ```no_run
/// # async fn run(consumer: async_nats::jetstream::consumer::PullConsumer) -> Result<(), Box<dyn std::error::Error>> {
/// use futures::StreamExt;
/// use zerocodec_codecs::HybridCodec;
/// use zerocodec_nats::{Archived, Error, Messages};
///
/// #[zerocodec::message]
/// struct Event { seq: u64 }
///
/// let mut messages = Messages::new(consumer.messages().await?, Archived(HybridCodec::<Event>::new()));
/// while let Some(item) = messages.next().await {
///     match item {
///         Ok(event) => {
///             println!("event {}", event.seq); // read in place
///             event.ack().await?;
///         }
///         Err(Error::Poison(poison)) => {
///             eprintln!("{}: {}", poison.stream_sequence(), poison.error());
///             poison.term().await?;
///         }
///         Err(err) => return Err(err.into()),
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct Messages<R, S = jetstream::consumer::pull::Stream> {
    stream: S,
    reader: R,
}

impl<R, S> Messages<R, S> {
    /// `stream` read by `reader`: a pull consumer's
    /// [`messages`](jetstream::consumer::PullConsumer::messages), a push consumer's
    /// [`messages`](jetstream::consumer::PushConsumer::messages), or an ordered push
    /// consumer's.
    pub fn new(stream: S, reader: R) -> Self {
        Self { stream, reader }
    }

    /// The reader.
    pub fn reader(&self) -> &R {
        &self.reader
    }

    /// The async-nats stream and the reader, taken apart.
    pub fn into_parts(self) -> (S, R) {
        (self.stream, self.reader)
    }
}

impl<R, S, E> Stream for Messages<R, S>
where
    R: Reader + Unpin,
    S: Stream<Item = std::result::Result<jetstream::Message, E>> + Unpin,
    E: Into<ConsumeError>,
{
    type Item = Result<Received<R::Output>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_next(cx) {
            Poll::Ready(Some(Ok(message))) => Poll::Ready(Some(read(&this.reader, message))),
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(Error::Consume(err.into())))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<R, S> fmt::Debug for Messages<R, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages").finish_non_exhaustive()
    }
}

/// Fetches the message stored at `sequence` in `stream` and reads it with `reader`: with
/// [`Batches`], a stored batch whose item *i* is then read in O(1).
///
/// # Errors
///
/// [`Error::Fetch`] if there is no such message or the server does not answer;
/// [`Error::Decode`] if its bytes do not decode.
pub async fn fetch<R: Reader>(
    stream: &jetstream::stream::Stream,
    sequence: u64,
    reader: &R,
) -> Result<R::Output> {
    let message = stream
        .get_raw_message(sequence)
        .await
        .map_err(Error::Fetch)?;
    reader
        .read(&message.payload, Some(&message.headers))
        .map_err(|source| Error::Decode { sequence, source })
}
