//! [`Publisher`]: typed values as hybrid frames, and whole batches, into a JetStream stream.

use std::fmt;

use async_nats::ToSubject;
use async_nats::jetstream::Context;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage as Publish;
use serde::Serialize;
use zerocodec::{Codec, Encode, Message, ZeroCopy};
use zerocodec_codecs::{Batch, BatchCodec, HybridCodec, ZeroCopyEncode};

use crate::error::{Error, Result};
use crate::headers::{self, BATCH_LEN};

/// Publishes values of `T` into JetStream: one value as one hybrid frame, or a whole
/// [`Batch`] (compressed and checksummed as a unit) as one message.
///
/// Every message carries the headers [`CONTENT_TYPE`](crate::CONTENT_TYPE) and
/// [`MESSAGE_NAME`](crate::MESSAGE_NAME) (batches also [`BATCH_LEN`]). The frames are
/// written by the [`HybridCodec`] and [`BatchCodec`] the publisher holds: set compression,
/// dictionaries, checksums or a pinned older version on them, as anywhere else.
///
/// Publishing follows async-nats: [`publish`](Self::publish) returns once the message is
/// handed to the connection, with a [`PublishAckFuture`] that resolves when the stream has
/// stored it. Await it at once for one message at a time, or keep many in flight and await
/// them later (the context bounds how many). For publishes that must not be stored twice
/// when retried, build the message with [`message`](Self::message) or
/// [`batch_message`](Self::batch_message), give it a
/// [`message_id`](async_nats::jetstream::message::PublishMessage::message_id), and [`send`](Self::send) it: the stream drops a
/// second copy within its duplicate window.
///
/// # Examples
///
/// ```no_run
/// # async fn run(context: async_nats::jetstream::Context) -> Result<(), zerocodec_nats::Error> {
/// use zerocodec_codecs::{BatchBuilder, BatchCodec, Compression};
/// use zerocodec_nats::Publisher;
///
/// #[zerocodec::message]
/// struct Event { seq: u64 }
///
/// let publisher = Publisher::new(context)
///     .with_batches(BatchCodec::new().with_compression(Compression::Lz4));
/// publisher.publish("events.one", &Event { seq: 1 }).await?.await?;
///
/// let mut builder = BatchBuilder::new();
/// for seq in 2..1_002 {
///     builder.append(&Event { seq }).map_err(zerocodec_nats::Error::Encode)?;
/// }
/// let batch = builder.finish().map_err(zerocodec_nats::Error::Encode)?;
/// publisher.publish_batch("events.batch", &batch).await?.await?;
/// # Ok(())
/// # }
/// ```
pub struct Publisher<T> {
    context: Context,
    frames: HybridCodec<T>,
    batches: BatchCodec<T>,
}

impl<T> Publisher<T> {
    /// A publisher on `context` writing plain hybrid frames ([`HybridCodec::new`]) and
    /// checksummed, uncompressed batches ([`BatchCodec::new`]).
    pub fn new(context: Context) -> Self {
        Self {
            context,
            frames: HybridCodec::new(),
            batches: BatchCodec::new(),
        }
    }

    /// Writes single values with `codec`.
    #[must_use]
    pub fn with_frames(mut self, codec: HybridCodec<T>) -> Self {
        self.frames = codec;
        self
    }

    /// Writes batches with `codec`.
    #[must_use]
    pub fn with_batches(mut self, codec: BatchCodec<T>) -> Self {
        self.batches = codec;
        self
    }

    /// The JetStream context publishes go through.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Sends a message built by [`message`](Self::message) or
    /// [`batch_message`](Self::batch_message) (with options of your own, such as a message
    /// id) to `subject`.
    ///
    /// # Errors
    ///
    /// [`Error::Publish`] if the message could not be handed to the connection in time, is
    /// larger than the server's maximum payload, or too many acknowledgements are pending.
    pub async fn send<S: ToSubject>(
        &self,
        subject: S,
        message: Publish,
    ) -> Result<PublishAckFuture> {
        Ok(self.context.send_publish(subject, message).await?)
    }
}

impl<T: Message + Serialize + ZeroCopyEncode> Publisher<T> {
    /// `value` as a message to send: its hybrid frame, with the content type and message
    /// name headers.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] if the codec refuses the value, or if `T`'s message name cannot be a
    /// NATS header value as written (a CR or LF, or whitespace around it).
    pub fn message(&self, value: &T) -> Result<Publish> {
        let frame = self.frames.encode(value).map_err(Error::Encode)?;
        Ok(Publish::build().payload(frame).headers(
            headers::for_payload(self.frames.content_type(), T::NAME).map_err(Error::Encode)?,
        ))
    }

    /// Publishes `value` to `subject` as one hybrid frame.
    ///
    /// # Errors
    ///
    /// As [`message`](Self::message) and [`send`](Self::send); the returned future reports
    /// whether the stream stored it.
    pub async fn publish<S: ToSubject>(&self, subject: S, value: &T) -> Result<PublishAckFuture> {
        let message = self.message(value)?;
        self.send(subject, message).await
    }
}

impl<T: Message + ZeroCopy> Publisher<T> {
    /// `batch` as a message to send: one batch frame (compressed and checksummed as the
    /// [`BatchCodec`] says), with the content type, message name and batch length headers.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] if the batch cannot be framed, or if `T`'s message name cannot be a
    /// NATS header value as written.
    pub fn batch_message(&self, batch: &Batch<T>) -> Result<Publish> {
        let frame = self.batches.encode(batch).map_err(Error::Encode)?;
        let mut headers =
            headers::for_payload(self.batches.content_type(), T::NAME).map_err(Error::Encode)?;
        headers.insert(BATCH_LEN, batch.len().to_string().as_str());
        Ok(Publish::build().payload(frame).headers(headers))
    }

    /// Publishes `batch` to `subject` as one message.
    ///
    /// # Errors
    ///
    /// As [`batch_message`](Self::batch_message) and [`send`](Self::send).
    pub async fn publish_batch<S: ToSubject>(
        &self,
        subject: S,
        batch: &Batch<T>,
    ) -> Result<PublishAckFuture> {
        let message = self.batch_message(batch)?;
        self.send(subject, message).await
    }
}

impl<T> Clone for Publisher<T> {
    fn clone(&self) -> Self {
        Self {
            context: self.context.clone(),
            frames: self.frames.clone(),
            batches: self.batches.clone(),
        }
    }
}

impl<T> fmt::Debug for Publisher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("frames", &self.frames)
            .field("batches", &self.batches)
            .finish_non_exhaustive()
    }
}
